"""Requests, retries and errors go to the "codat_platform_c" logger, never with secrets or tokens."""
import asyncio
import logging

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply
from conftest import AUTH, FAST_RETRIES

LOGGER = "codat_platform_c"


@pytest.fixture
def records():
    got = []

    class Keep(logging.Handler):
        def emit(self, record):
            got.append(record)

    logger = logging.getLogger(LOGGER)
    handler = Keep()
    logger.addHandler(handler)
    old = logger.level
    yield logger, got
    logger.removeHandler(handler)
    logger.setLevel(old)


def test_debug_logs_each_attempt(client, server, records):
    logger, got = records
    logger.setLevel(logging.DEBUG)
    client.get_access_token("c1")
    assert [r.levelno for r in got] == [logging.DEBUG]
    msg = got[0].getMessage()
    assert msg.startswith("GET /companies/c1/connectionManagement/accessToken -> 200 in ")
    assert "(attempt 1)" in msg


def test_info_logs_retries_with_reason_and_wait(client, server, records):
    logger, got = records
    logger.setLevel(logging.INFO)
    server.script("c1", Reply(status=503), Reply(status=429, headers={"Retry-After": "0"}))
    client.get_access_token("c1")
    infos = [r.getMessage() for r in got if r.levelno == logging.INFO]
    assert len(infos) == 2
    assert "retrying after status 503 in " in infos[0] and "(retry 1)" in infos[0]
    assert "retrying after status 429" in infos[1] and "(Retry-After)" in infos[1]
    assert not [r for r in got if r.levelno == logging.DEBUG]


def test_final_errors_log_at_debug_never_warning(client, server, records):
    # A library reports an error it raises by raising it: with the application's logging at WARNING (what
    # logging.basicConfig() sets up), a failed call logs nothing; at DEBUG its end is one line.
    logger, got = records
    logger.setLevel(logging.WARNING)
    server.script("c1", Reply(status=404))
    with pytest.raises(codat.ErrorMessage):
        client.get_access_token("c1")
    with codat.Client(server_url="http://127.0.0.1:9", retries=None) as c:
        with pytest.raises(codat.TransportError):
            c.get_access_token("x")
    assert got == []
    logger.setLevel(logging.DEBUG)
    server.script("c1", Reply(status=404))
    with pytest.raises(codat.ErrorMessage):
        client.get_access_token("c1")
    assert [r.levelno for r in got] == [logging.DEBUG, logging.DEBUG]  # the attempt, then the failure
    assert "failed after 1 attempt: ErrorMessage (status 404)" in got[-1].getMessage()
    with codat.Client(server_url="http://127.0.0.1:9", retries=None) as c:
        with pytest.raises(codat.TransportError):
            c.get_access_token("x")
    assert "TransportError" in got[-1].getMessage() and got[-1].levelno == logging.DEBUG


def test_basic_config_application_sees_no_line_for_a_raised_failure(server):
    # As an application configures logging: the root logger at WARNING with a stderr handler.
    code = ("import logging, sys\n"
            "logging.basicConfig(stream=sys.stdout)\n"
            "import codat_platform_c as codat\n"
            "from codat_platform_c.sdk import CodatPlatform, utils\n"
            f"c = codat.Client({AUTH!r}, server_url={server.url!r}, retries=None)\n"
            "for call in (lambda: c.get_company_access_token('status-404'),\n"
            "             lambda: c.get_company_access_token('status-502'),\n"
            "             lambda: codat.Client(server_url='http://127.0.0.1:9', retries=None)"
            ".get_company_access_token('x'),\n"
            f"             lambda: CodatPlatform(security={{'auth_header': {AUTH!r}}}, server_url={server.url!r}, "
            "retry_config=utils.RetryConfig('none'))"
            ".companies.get_access_token(request={'company_id': 'status-500'})):\n"
            "    try:\n"
            "        call()\n"
            "    except Exception as e:\n"
            "        print('raised', type(e).__name__)\n")
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:-1] == ["raised ErrorMessage", "raised SDKError", "raised TransportError",
                                            "raised ErrorMessage"]
    assert out.stderr == ""


def test_nothing_logged_when_level_off(client, server, records):
    logger, got = records
    logger.setLevel(logging.ERROR)
    server.script("c1", Reply(status=503), Reply(status=404))
    with pytest.raises(codat.ErrorMessage):
        client.get_access_token("c1")
    assert got == []


def test_logging_disable_is_respected(client, server, records):
    logger, got = records
    logger.setLevel(logging.DEBUG)
    logging.disable(logging.CRITICAL)
    try:
        client.get_access_token("c1")
    finally:
        logging.disable(logging.NOTSET)
    assert got == []


def test_logs_never_hold_secrets_or_tokens(server, records):
    logger, got = records
    logger.setLevel(logging.DEBUG)
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=FAST_RETRIES) as c:
        server.script("c1", Reply(status=500))
        token = c.get_access_token("c1")["accessToken"]
        c.get_access_tokens(["a", "b"])
        asyncio.run(c.get_access_token_async("z"))
        server.script("e", Reply(status=401))
        with pytest.raises(codat.ErrorMessage):
            c.get_access_token("e")
    text = "\n".join(r.getMessage() for r in got)
    assert "QVBJX0tFWQ" not in text and "Basic" not in text
    for tok in server.tokens_issued:
        assert tok not in text
    assert "/companies/a/" in text and "/companies/z/" in text  # batch and async log too


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_broken_handler_does_not_break_the_call(client, server, records, capsys):
    logger, got = records

    class Broken(logging.Handler):
        def emit(self, record):
            raise RuntimeError("handler exploded")

        def handleError(self, record):  # logging's own guard, switched off to reach ours
            raise

    logger.setLevel(logging.DEBUG)
    broken = Broken()
    logger.addHandler(broken)
    try:
        assert client.get_access_token("c1")["accessToken"]
    finally:
        logger.removeHandler(broken)
