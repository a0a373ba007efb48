"""The official SDK's own README examples, run with the official SDK and with only the imports swapped.

Every Python example of the installed codat-platform README (its METADATA) that makes a CodatPlatform is
taken as it is, pointed at the token operation (the README's examples call companies.list; here they call
companies.get_access_token with the same arguments around it), at the stand-in server and at a test key, then
run in a fresh interpreter twice: as written (codat_platform) and with `codat_platform` replaced by
`codat_platform_c.sdk` in the imports. The two runs must print the same thing. A few examples of our own
cover what the README shows only in prose (timeouts, the async client, debug logging, the deprecated
connection-management group) and two small web applications, FastAPI and Flask, that return and catch SDK
objects. Where the output differs on purpose, the example is listed in EXPECTED_DIFFERENCES with the name of
the deliberate difference (docs/sdk_facade.md) and an assertion on what differs.
"""
from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("codat_platform")

from codat_platform_c.testing import Reply, StandInServer  # noqa: E402

AUTH = "Basic c2VjcmV0LWtleQ=="
CID = "8a210b68-6988-11ed-a1eb-0242ac120002"
TOKEN = {"accessToken": "tok-fixed-company", "expiresIn": 86400, "tokenType": "Bearer"}
ERROR = {"statusCode": 404, "service": "PublicApi", "error": "Could not find company.",
         "correlationId": "0123456789abcdef0123456789abcdef", "validation": {"errors": [], "warnings": []},
         "canBeRetried": "Unknown", "detailedErrorCode": 0}


def readme_examples() -> list:
    """(title, code) for every python block of the official README that makes a CodatPlatform; the title is
    the heading above it and its number under that heading."""
    text = importlib.metadata.metadata("codat-platform").get_payload()  # the long description
    out, title, count, block = [], "?", 0, None
    for line in text.splitlines(keepends=True):
        if block is not None:
            if line.startswith("```"):
                count += 1
                if "CodatPlatform(" in "".join(block):
                    out.append((f"{title}#{count}", "".join(block)))
                block = None
            else:
                block.append(line)
        elif line.startswith("```python"):
            block = []
        elif line.startswith("#"):
            title, count = line.lstrip("# ").strip(), 0
    return out


def to_token_operation(code: str) -> str:
    """The README's companies.list call becomes the token call; the key and server become the test ones."""
    code = re.sub(r"companies\.list(_async)?\(request=\{.*?\}(, retries=)",
                  lambda m: f"companies.get_access_token{m.group(1) or ''}(request={{'company_id': {CID!r}}}"
                            f"{m.group(2)}", code, flags=re.S)
    code = re.sub(r"companies\.list(_async)?\(request=\{.*?\}\)",
                  lambda m: f"companies.get_access_token{m.group(1) or ''}(request={{'company_id': {CID!r}}})",
                  code, flags=re.S)
    code = code.replace('"Basic BASE_64_ENCODED(API_KEY)"', repr(AUTH))
    code = code.replace('server_url="https://api.codat.io"', "server_url=SERVER_URL")
    code = re.sub(r"CodatPlatform\((?!\s*server_url)", "CodatPlatform(server_url=SERVER_URL, ", code)
    return code


# Examples of our own, for what the README describes in prose.
OWN_EXAMPLES = {
    "timeouts": f"""
        from codat_platform import CodatPlatform
        from codat_platform.models import shared
        with CodatPlatform(security=shared.Security(auth_header={AUTH!r}), timeout_ms=1500.0) as cp_client:
            res = cp_client.companies.get_access_token(request={{"company_id": {CID!r}}}, timeout_ms=2.5 * 1000)
            print(res)
    """,
    "debug logging": f"""
        import logging
        logging.basicConfig(stream=__import__("sys").stdout)  # an application's usual setup (WARNING)
        from codat_platform import CodatPlatform
        from codat_platform.models import errors, shared
        from codat_platform.utils import RetryConfig
        cp = CodatPlatform(security=shared.Security(auth_header={AUTH!r}), debug_logger=logging.getLogger("codat"),
                           retry_config=RetryConfig("none"))
        print(cp.companies.get_access_token(request={{"company_id": {CID!r}}}).model_dump_json())
        try:
            cp.companies.get_access_token(request={{"company_id": "missing"}})
        except errors.ErrorMessage as e:
            print("raised", type(e).__name__, e.status_code)  # and nothing logged for it
    """,
    "async client": f"""
        import asyncio
        from codat_platform import CodatPlatform
        from codat_platform.models import shared, operations
        async def main():
            async with CodatPlatform(security=shared.Security(auth_header={AUTH!r})) as cp:
                got = await asyncio.gather(*(cp.companies.get_access_token_async(
                    request=operations.GetCompanyAccessTokenRequest(company_id={CID!r})) for _ in range(3)))
                print([r.model_dump(by_alias=True) for r in got])
        asyncio.run(main())
    """,
    "models": f"""
        import json
        from codat_platform import CodatPlatform
        from codat_platform.models import shared
        cp = CodatPlatform(security=shared.Security(auth_header={AUTH!r}))
        res = cp.companies.get_access_token(request={{"company_id": {CID!r}}})
        print(repr(res)); print(str(res)); print(dict(res)); print(res.model_dump(mode="json"))
        print(res.model_dump_json(by_alias=True)); print(res.to_dict(), res.to_json(), res.to_str())
        copy = res.model_copy(update={{"token_type": "bearer"}}); print(copy)
        print(shared.CompanyAccessToken.model_validate_json(res.model_dump_json()) == res)
        print(shared.CompanyAccessToken(accessToken="a", expiresIn="60", tokenType="B"))
        print(json.dumps(shared.CompanyAccessToken.model_json_schema(by_alias=True), sort_keys=True))
        td: shared.CompanyAccessTokenTypedDict = {{"access_token": "a"}}; print(td)
    """,
    "error data": f"""
        from codat_platform import CodatPlatform
        from codat_platform.models import errors, shared
        cp = CodatPlatform(security=shared.Security(auth_header={AUTH!r}))
        try:
            cp.companies.get_access_token(request={{"company_id": "missing"}})
        except errors.ErrorMessage as e:
            print(str(e)); print(repr(e.data)); print(list(e.data)); print(e.data.model_dump(by_alias=True))
            print(e.data.model_dump_json()); print(e.data.to_dict()); print(dict(e.headers)); print(e.headers["X-RATE-LIMIT-LIMIT"])
        try:
            cp.companies.get_access_token(request={{"company_id": "bad-request"}})
        except errors.SDKError as e:
            print(str(e)); print(e.status_code, e.body)
        try:
            cp.companies.get_access_token(request={{"company_id": "bad-token"}})
        except errors.ResponseValidationError as e:
            print(type(e.cause).__name__, e.cause.error_count(), e.status_code); print(str(e).splitlines()[0])
    """,
    "connection management": f"""
        from codat_platform import CodatPlatform
        from codat_platform.models import shared
        with CodatPlatform(security=shared.Security(auth_header={AUTH!r})) as cp:
            print(cp.connection_management.get(request={{"company_id": "cm"}}))
    """,
    "fastapi app": f"""
        from fastapi import FastAPI
        from fastapi.responses import JSONResponse
        import warnings
        with warnings.catch_warnings():  # (starlette's own notice about its test client's transport)
            warnings.simplefilter("ignore")
            from fastapi.testclient import TestClient
        from pydantic import BaseModel
        from codat_platform import CodatPlatform
        from codat_platform.models import errors, shared
        from codat_platform.utils import RetryConfig

        cp = CodatPlatform(security=shared.Security(auth_header={AUTH!r}), retry_config=RetryConfig("none"))
        app = FastAPI()

        class Wrapped(BaseModel):
            company: str
            token: shared.CompanyAccessToken

        @app.get("/token/{{cid}}")
        def token(cid: str):
            return cp.companies.get_access_token(request={{"company_id": cid}})

        @app.get("/typed/{{cid}}", response_model=shared.CompanyAccessToken)
        def typed(cid: str):
            return cp.companies.get_access_token(request={{"company_id": cid}})

        @app.get("/wrapped/{{cid}}")
        def wrapped(cid: str) -> Wrapped:
            return Wrapped(company=cid, token=cp.companies.get_access_token(request={{"company_id": cid}}))

        @app.exception_handler(errors.ErrorMessage)
        def on_codat_error(request, exc: errors.ErrorMessage):
            return JSONResponse(status_code=exc.status_code, content=exc.data.model_dump(mode="json", by_alias=True))

        @app.exception_handler(errors.SDKError)
        def on_sdk_error(request, exc: errors.SDKError):
            return JSONResponse(status_code=502, content={{"upstream": exc.status_code, "message": exc.message}})

        client = TestClient(app)
        for path in ("/token/{CID}", "/typed/{CID}", "/wrapped/{CID}", "/token/missing", "/token/bad-request"):
            r = client.get(path)
            print(path, r.status_code, r.text)
    """,
    "flask app": f"""
        from flask import Flask
        from codat_platform import CodatPlatform
        from codat_platform.models import errors, shared
        from codat_platform.utils import RetryConfig

        cp = CodatPlatform(security=shared.Security(auth_header={AUTH!r}), retry_config=RetryConfig("none"))
        app = Flask(__name__)

        @app.get("/token/<cid>")
        def token(cid):
            return cp.companies.get_access_token(request={{"company_id": cid}}).model_dump(by_alias=True)

        @app.errorhandler(errors.ErrorMessage)
        def on_codat_error(e):
            return e.data.to_dict(), e.status_code

        @app.errorhandler(errors.CodatPlatformError)
        def on_other(e):
            return {{"status": e.status_code, "message": e.message}}, 502

        client = app.test_client()
        for path in ("/token/{CID}", "/token/missing", "/token/bad-request"):
            r = client.get(path)
            print(path, r.status_code, r.get_data(as_text=True).strip())
    """,
}

# Examples whose output differs on purpose: name -> (deliberate difference, check(sdk_run, our_run)).
EXPECTED_DIFFERENCES = {
    "Example#1 (error handling)": "raw_response",
    "Custom HTTP Client#1": "httpx_client",
    "Custom HTTP Client#2": "httpx_client",
    "connection management": "deprecation_warning_location",
}


# The resource-management example only defines its functions; run them.
RUN_DEFINED = {"Resource Management#1": "\nmain()\nimport asyncio\nasyncio.run(amain())\nprint('done')\n"}


def all_examples() -> list:
    out = [(title, to_token_operation(code)) for title, code in readme_examples()]
    # the README has two blocks titled "Example" (usage, then error handling): tell them apart
    seen: dict = {}
    named = []
    for title, code in out:
        if "except errors.CodatPlatformError" in code:
            title = f"{title} (error handling)"
            code = code.replace(repr(CID), repr("missing"))  # a company the server answers 404 for
        seen[title] = seen.get(title, 0) + 1
        named.append((title, code))
    named = [(title, code + RUN_DEFINED.get(title, "")) for title, code in named]
    named += [(name, to_token_operation(textwrap.dedent(code))) for name, code in OWN_EXAMPLES.items()]
    return named


def swap_imports(code: str) -> str:
    return re.sub(r"\b(from|import) codat_platform\b", r"\1 codat_platform_c.sdk", code)


@pytest.fixture(scope="module")
def server():
    with StandInServer(auth_header=AUTH) as srv:
        yield srv


def script_replies(srv: StandInServer) -> None:
    srv.reset()
    for _ in range(8):
        srv.script(CID, Reply(json=TOKEN))
    srv.script("missing", Reply(status=404, json=ERROR), Reply(status=404, json=ERROR))
    srv.script("bad-request", Reply(status=400, body="no such company", reason="Invalid company"),
               Reply(status=400, body="no such company", reason="Invalid company"))
    srv.script("bad-token", Reply(json={"accessToken": "t", "expiresIn": "soon"}))
    srv.script("cm", Reply(json={"accessToken": "tok-fixed-cm"}))


def run_example(code: str, srv: StandInServer) -> subprocess.CompletedProcess:
    script_replies(srv)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
    prologue = f"SERVER_URL = {srv.url!r}\n"
    return subprocess.run([sys.executable, "-c", prologue + code], capture_output=True, text=True, env=env,
                          timeout=120)


EXAMPLES = all_examples()


def test_the_readme_has_the_examples():
    titles = [t for t, _ in readme_examples()]
    assert len(titles) >= 9, titles  # usage sync/async, retries x2, errors, server, http client x2, auth, ...
    for title, code in EXAMPLES:
        assert "companies.list" not in code, title  # every call was pointed at the token operation


@pytest.mark.parametrize("title,code", EXAMPLES, ids=[t for t, _ in EXAMPLES])
def test_swapped_example_prints_the_same(title, code, server):
    sdk = run_example(code, server)
    sdk_requests = [(r.method, r.raw_path) for r in server.requests]
    ours = run_example(swap_imports(code), server)
    our_requests = [(r.method, r.raw_path) for r in server.requests]
    difference = EXPECTED_DIFFERENCES.get(title)
    if difference is None:
        assert sdk.returncode == 0, sdk.stderr
        assert ours.returncode == 0, ours.stderr
        assert ours.stdout == sdk.stdout
        assert ours.stderr == sdk.stderr == ""
        assert our_requests == sdk_requests
        return
    # a deliberate difference: check it is exactly that
    if difference == "raw_response":
        # e.raw_response is what the error was built from: urllib3's ApiException there, the C client's
        # exception here; every other line is the same.
        assert sdk.returncode == ours.returncode == 0, (sdk.stderr, ours.stderr)
        sdk_lines, our_lines = sdk.stdout.splitlines(), ours.stdout.splitlines()
        # message, status_code, body, headers; then raw_response; then the five e.data fields
        assert sdk_lines[:4] == our_lines[:4] and sdk_lines[-5:] == our_lines[-5:] and len(our_lines) == 10
        assert sdk_lines[4] == "(404)" and sdk_lines[5] == "Reason: Not Found"
        assert our_lines[4] == "404 Could not find company. (correlation id 0123456789abcdef0123456789abcdef)"
    elif difference == "httpx_client":
        assert sdk.returncode == 0 and sdk.stdout == ""
        assert ours.returncode == 1 and "TypeError: codat_platform_c.sdk.CodatPlatform: client=" in ours.stderr
    elif difference == "deprecation_warning_location":
        assert sdk.returncode == ours.returncode == 0 and ours.stdout == sdk.stdout
        assert sdk.stderr == ""  # the SDK's warning points into its own module: hidden
        assert "DeprecationWarning" in ours.stderr and "2026-10-12" in ours.stderr  # ours: the caller's line
    else:
        raise AssertionError(f"unknown difference {difference}")


def test_expected_differences_are_documented_deliberate_differences():
    from pathlib import Path
    docs = (Path(__file__).resolve().parents[1] / "docs" / "sdk_facade.md").read_text()
    for title, name in EXPECTED_DIFFERENCES.items():
        assert title in dict(EXAMPLES), title
        assert f"| `{name}` |" in docs, name


def test_count_of_identical_examples_is_reported(server, capsys):
    """Not a check of its own: prints how many examples print the same (for the report)."""
    same = [t for t, _ in EXAMPLES if t not in EXPECTED_DIFFERENCES]
    with capsys.disabled():
        print(f"\n{len(same)} of {len(EXAMPLES)} swapped examples print the same; "
              f"deliberately different: {sorted(EXPECTED_DIFFERENCES)}")
    assert len(same) + len(EXPECTED_DIFFERENCES) == len(EXAMPLES)
