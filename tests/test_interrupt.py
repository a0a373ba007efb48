"""Ctrl-C mid-call raises KeyboardInterrupt promptly, and the client stays usable."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply
from conftest import AUTH, assert_prompt_interrupt


def test_ctrl_c_on_a_silent_server(client, server):
    server.script("c1", Reply(action="silence"))
    assert_prompt_interrupt(lambda: client.get_access_token("c1"))
    assert client.get_access_token("c2")["accessToken"]  # still usable


def test_ctrl_c_during_backoff_sleep(server):
    server.script("c1", Reply(status=429, headers={"Retry-After": "30"}))
    with codat.Client(auth_header=AUTH, server_url=server.url) as c:
        assert_prompt_interrupt(lambda: c.get_access_token("c1"))
        assert c.get_access_token("c2")["accessToken"]


def test_ctrl_c_during_batch(client, server):
    for i in range(20):
        server.script(f"b{i}", Reply(action="silence"))
    assert_prompt_interrupt(lambda: client.get_access_tokens([f"b{i}" for i in range(20)], concurrency=4))
    assert client.get_access_tokens(["x", "y"]).keys() == {"x", "y"}


def test_other_signal_handlers_run_during_a_call(client, server):
    # A Python-level handler for SIGUSR1 runs mid-call; the call then carries on to its answer.
    server.script("c1", Reply(delay_s=0.5))
    seen = []
    old = signal.signal(signal.SIGUSR1, lambda *a: seen.append(time.monotonic()))
    try:
        threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        t = time.monotonic()
        assert client.get_access_token("c1")["accessToken"]
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert seen and seen[0] - t < 0.3


def test_handler_exception_aborts_the_call(client, server):
    server.script("c1", Reply(action="silence"))

    class Boom(Exception):
        pass

    def handler(*a):
        raise Boom()

    old = signal.signal(signal.SIGUSR1, handler)
    try:
        threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        with pytest.raises(Boom):
            client.get_access_token("c1")
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert client.get_access_token("c2")["accessToken"]


def test_ctrl_c_in_a_real_process(server):
    # As a user would: a script blocked in a call gets SIGINT from outside and exits with the traceback.
    script = textwrap.dedent(f"""
        import sys, time, codat_platform_c as codat
        c = codat.Client(auth_header={AUTH!r}, server_url={server.url!r})
        print("ready", flush=True)
        t = None
        try:
            c.get_access_token("silence")
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            print(c.get_access_token("after")["accessToken"][:4], flush=True)
    """)
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=10)
    assert out.split() == ["interrupted", "tok-"]
    assert p.returncode == 0
