"""python -m codat_platform_c: token, demo, serve-stand-in; exit codes and messages a shell can rely on."""
import json
import re
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from codat_platform_c.testing import Reply
from conftest import AUTH


def cli(*args, env_extra=None, timeout=60):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "codat_platform_c", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_token_prints_the_token_from_the_live_endpoint(server):
    r = cli("token", "c1", "--server-url", server.url, env_extra={"CODAT_AUTH_HEADER": AUTH})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == server.tokens_issued[-1]
    assert server.requests[-1].endpoint == "company"  # Codat retired the other one on 2026-10-12
    assert r.stderr == ""


def test_token_connection_management_on_request(server):
    r = cli("token", "c1", "--connection-management", "--server-url", server.url,
            env_extra={"CODAT_AUTH_HEADER": AUTH})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == server.tokens_issued[-1]
    assert server.requests[-1].endpoint == "connection_management"
    assert "retired" in r.stderr and "2026-10-12" in r.stderr and "DeprecationWarning" not in r.stderr
    assert cli("token", "c1", "--connection-management", "--company-token").returncode == 2


def test_token_against_codat_today():
    from codat_platform_c.testing import StandInServer
    with StandInServer(auth_header=AUTH, retired_connection_management=True) as today:
        r = cli("token", "c1", "--server-url", today.url, env_extra={"CODAT_AUTH_HEADER": AUTH})
        assert r.returncode == 0, r.stderr
        r = cli("token", "c1", "--connection-management", "--server-url", today.url,
                env_extra={"CODAT_AUTH_HEADER": AUTH})
        assert r.returncode == 1 and "404 NotFound" in r.stderr
        assert "get_company_access_token" in r.stderr


def test_company_token_json(server):
    r = cli("token", "c1", "--company-token", "--json", env_extra={"CODAT_API_KEY": "API_KEY",
                                                                   "CODAT_SERVER_URL": server.url})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"accessToken": server.tokens_issued[-1], "expiresIn": 86400, "tokenType": "Bearer"}
    assert server.requests[-1].endpoint == "company"


def test_api_error_exit_1_without_secret(server):
    server.script("missing", Reply(status=404))
    r = cli("token", "missing", "--server-url", server.url, env_extra={"CODAT_AUTH_HEADER": AUTH})
    assert r.returncode == 1
    assert r.stdout == ""
    assert "404" in r.stderr and "QVBJX0tFWQ" not in r.stderr


def test_transport_error_exit_3():
    r = cli("token", "x", "--server-url", "http://127.0.0.1:9", "--no-retries")
    assert r.returncode == 3
    assert r.stderr.startswith("error: TransportError")


def test_timeout_exit_3(server):
    server.script("slow", Reply(action="silence"))
    r = cli("token", "slow", "--server-url", server.url, "--timeout-ms", "200", "--no-retries",
            env_extra={"CODAT_AUTH_HEADER": AUTH})
    assert r.returncode == 3 and "Timeout" in r.stderr


def test_usage_errors_exit_2():
    assert cli().returncode == 2
    assert cli("token").returncode == 2
    r = cli("token", "", "--server-url", "http://127.0.0.1:9")
    assert r.returncode == 2 and "company_id must not be empty" in r.stderr
    r = cli("token", "x", "--server-url", "ftp://x")
    assert r.returncode == 2 and "server_url" in r.stderr
    r = cli("token", "x", env_extra={"CODAT_AUTH_HEADER": "Basic a\nb"})
    assert r.returncode == 2 and "auth_header" in r.stderr


def test_help_explains():
    r = cli("--help")
    assert r.returncode == 0
    for word in ["token", "demo", "serve-stand-in", "CODAT_API_KEY", "Exit codes"]:
        assert word in r.stdout
    r = cli("token", "--help")
    assert "--connection-management" in r.stdout and "retired" in r.stdout
    r = cli("serve-stand-in", "--help")
    assert "--retired-connection-management" in r.stdout


def test_demo_runs_offline():
    r = cli("demo")
    assert r.returncode == 0, r.stderr
    assert "/accessToken -> {'accessToken': 'tok-" in r.stdout and "'expiresIn': 86400" in r.stdout
    assert "the retired GET /companies/{id}/connectionManagement/accessToken -> 404 NotFound" in r.stdout
    assert "DeprecationWarning" not in r.stderr
    assert "over HTTPS" in r.stdout


def test_serve_stand_in_until_ctrl_c():
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
    p = subprocess.Popen([sys.executable, "-m", "codat_platform_c", "serve-stand-in", "--port", "0"],
                         stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = p.stdout.readline()
        assert "listening on http://127.0.0.1:" in line
        url = line.split()[-1]
        with urllib.request.urlopen(f"{url}/companies/status-200/accessToken", timeout=5) as resp:
            assert json.load(resp)["accessToken"].startswith("tok-")
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()


@pytest.mark.parametrize("command", [["codat_platform_c", "serve-stand-in"], ["codat_platform_c.testing"]])
def test_both_stand_in_command_lines_take_the_same_options(command):
    """One stand-in command line: serve-stand-in is python -m codat_platform_c.testing, --rate-limit included."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
    helps = [subprocess.run([sys.executable, "-m", *c, "--help"], capture_output=True, text=True, env=env,
                            timeout=30).stdout for c in (["codat_platform_c", "serve-stand-in"],
                                                         ["codat_platform_c.testing"])]
    options = [sorted(set(re.findall(r"--[a-z][a-z0-9-]+", h))) for h in helps]
    assert options[0] == options[1] and "--rate-limit" in options[0], options
    p = subprocess.Popen([sys.executable, "-m", *command, "--port", "0", "--rate-limit", "7",
                          "--retired-connection-management"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        url = p.stdout.readline().split()[-1]
        with urllib.request.urlopen(f"{url}/companies/c1/accessToken", timeout=5) as resp:
            assert resp.headers["X-Rate-Limit-Limit"] == "7"
            assert resp.headers["X-Rate-Limit-Remaining"] == "6"
        with pytest.raises(urllib.error.HTTPError) as retired:
            urllib.request.urlopen(f"{url}/companies/c1/connectionManagement/accessToken", timeout=5)
        assert retired.value.code == 404
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()


@pytest.mark.parametrize("module", ["codat_platform_c", "codat_platform_c.testing"])
def test_serve_stand_in_bad_port_is_one_line_exit_2(module):
    """A port already taken or out of range is the user's input: one line on stderr, exit 2, no traceback."""
    import socket
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
    command = ["serve-stand-in"] if module == "codat_platform_c" else []
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        for bad_port in (str(port), "70000"):
            r = subprocess.run([sys.executable, "-m", module, *command, "--port", bad_port],
                               capture_output=True, text=True, env=env, timeout=30)
            assert r.returncode == 2, (bad_port, r.stderr)
            assert "Traceback" not in r.stderr
            lines = r.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: cannot serve on 127.0.0.1:" + bad_port), lines
