"""Shared fixtures: one stand-in Codat server (HTTP) and one with TLS for the whole session, reset before
each test, and a client pointed at it. The SDK facade's tests use the same server (sdk_fixtures.py
re-exports it), so every kind of test is checked the same way: reset before, no internal errors after."""
import os
import signal
import threading
import time

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import StandInServer

AUTH = "Basic QVBJX0tFWQ=="  # base64("API_KEY")
FAST_RETRIES = codat.RetryConfig(initial_interval_ms=5, max_interval_ms=20, max_elapsed_ms=5000)


@pytest.fixture(scope="session")
def _server():
    with StandInServer(auth_header=AUTH) as srv:
        yield srv


@pytest.fixture
def server(_server):
    _server.reset()
    yield _server
    assert _server.errors == [], _server.errors


@pytest.fixture(scope="session")
def _tls_server():
    with StandInServer(tls=True, auth_header=AUTH) as srv:
        yield srv


@pytest.fixture
def tls_server(_tls_server):
    _tls_server.reset()
    yield _tls_server


@pytest.fixture
def client(server):
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=FAST_RETRIES) as c:
        yield c


def interrupt_after(delay):
    """Sends this process SIGINT (as Ctrl-C would) after delay seconds, from a thread."""
    sent = []

    def fire():
        time.sleep(delay)
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    th = threading.Thread(target=fire, daemon=True)
    th.start()
    return th, sent


def settled_request_count(server, quiet_s=0.1, limit_s=2.0):
    """The server's request count once it has stopped growing for quiet_s (a client that keeps sending never
    settles: this fails after limit_s)."""
    deadline = time.monotonic() + limit_s
    count, since = server.request_count(), time.monotonic()
    while time.monotonic() - since < quiet_s:
        assert time.monotonic() < deadline, f"requests still arriving after {limit_s} s: {count}"
        time.sleep(0.02)
        now = server.request_count()
        if now != count:
            count, since = now, time.monotonic()
    return count


def assert_prompt_interrupt(call, delay=0.3):
    """call() must raise KeyboardInterrupt within 150 ms of the SIGINT sent delay seconds in."""
    th, sent = interrupt_after(delay)
    with pytest.raises(KeyboardInterrupt):
        call()
    raised = time.monotonic()
    th.join()
    latency = raised - sent[0]
    assert latency < 0.15, f"KeyboardInterrupt took {latency * 1000:.0f} ms"
    return latency
