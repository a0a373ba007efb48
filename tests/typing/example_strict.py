"""Uses every public name of codat_platform_c; `mypy --strict` must pass on it (tests/test_typing.py)."""
import asyncio
from typing import Any

import codat_platform_c as codat
from codat_platform_c.testing import Reply, StandInServer


def use_everything(url: str, ca: str | None) -> list[Any]:
    retries = codat.RetryConfig(initial_interval_ms=100, max_interval_ms=1000, exponent=2.0,
                                max_elapsed_ms=5000, retry_connection_errors=False, status_codes=("429", 503))
    out: list[Any] = [codat.__version__, codat.USER_AGENT, codat.LIBCURL_VERSION, codat.DEFAULT_SERVER_URL]
    with codat.Client("Basic QVBJX0tFWQ==", server_url=url, timeout_ms=2000, retries=retries,
                      verify=ca or True, max_body_bytes=1 << 20) as client:
        token: dict[str, Any] = client.get_access_token("c1", timeout_ms=None, retries=None,
                                                        server_url=url, http_headers={"X-Trace": "1"})
        company = client.get_company_access_token("c1")
        expires: int = company["expiresIn"]
        batch = client.get_access_tokens(["a", "b"], concurrency=4, endpoint="company",
                                         progress=lambda done, total: None, threads=2)
        for cid, value in batch.items():
            if isinstance(value, BaseException):
                out.append((cid, repr(value)))
        rl = client.rate_limit
        if rl is not None:
            remaining: int | None = rl["remaining"]
            out.append(remaining)
        out += [token, expires, client.server_url, client.closed]

        async def both() -> tuple[dict[str, Any], dict[str, Any]]:
            return (await client.get_access_token_async("x"), await client.get_company_access_token_async("y"))

        out.append(asyncio.run(both()))
    cached = codat.Client(api_key="key", server_url=url, cache=True, cache_margin_s=30.0)
    cached.invalidate("c1")
    cached.invalidate()
    cached.close()
    try:
        codat.get_company_access_token("m1")
        codat.get_access_token("m1")
        out.append(codat.default_client())
    except codat.ErrorMessage as e:
        out += [e.status_code, e.body, e.headers, e.data, e.service, e.error, e.correlation_id, e.validation,
                e.can_be_retried, e.detailed_error_code, e.retry_after, e.attempts]
    except codat.SDKError as e:
        out += [e.status_code, e.body, e.headers, e.retry_after]
    except codat.Timeout as e:
        out.append(e.attempts)
    except codat.TransportError as e:
        out += [e.attempts, e.curl_code]
    except codat.CodatError as e:
        out.append(str(e))
    return out


def with_stand_in() -> None:
    import os
    with StandInServer(auth_header="Basic QVBJX0tFWQ==") as srv:
        os.environ["CODAT_SERVER_URL"] = srv.url
        os.environ["CODAT_AUTH_HEADER"] = "Basic QVBJX0tFWQ=="
        codat.default_client().close()  # the next use makes a fresh one from the environment above
        srv.script("m1", Reply(json={"accessToken": "t", "expiresIn": 60, "tokenType": "Bearer"}),
                   Reply(status=404))
        out = use_everything(srv.url, srv.ca_path)
        assert 404 in out  # the module-level call met the scripted ErrorMessage
        assert srv.request_count("m1") == 2
