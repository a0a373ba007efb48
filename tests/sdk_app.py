"""An application written for the official SDK (``codat-platform`` 6), used by tests/test_sdk_delegation.py.

The test runs it as it is, and again with its imports swapped to ``codat_platform_c.sdk`` (every
``codat_platform`` in the import lines below becomes ``codat_platform_c.sdk``, nothing else changes), against
the same stand-in server, and compares what it reports. It mixes the token operations (the facade's C core)
with other operations (served by the official SDK behind the facade), and catches the errors of both with
one set of ``except`` clauses.
"""
import asyncio
import re

from codat_platform import CodatPlatform
from codat_platform.models import errors, operations, shared
from codat_platform.utils import BackoffStrategy, RetryConfig

_CORRELATION_ID = re.compile(r'"correlationId": "[0-9a-f]+"')


def connect(server_url, api_key_header):
    return CodatPlatform(
        security=shared.Security(auth_header=api_key_header), server_url=server_url,
        retry_config=RetryConfig("backoff", BackoffStrategy(10, 20, 1.5, 200), False))


def token_for(codat, company_id):
    res = codat.companies.get_access_token(request={"company_id": company_id})
    return ["token", res.token_type, res.expires_in, res.access_token.startswith("tok-")]


def inventory(codat):
    rows = []
    page = codat.companies.list(request=operations.ListCompaniesRequest(page=1, page_size=10))
    rows.append(["companies", page.page_number, page.total_results, sorted(c.name for c in page.results)])
    for summary in sorted(page.results, key=lambda c: c.id):
        company = codat.companies.get(request={"company_id": summary.id})
        connections = codat.connections.list(request={"company_id": company.id, "page_size": 5})
        rows.append(["company", company.name, company.redirect, [
            [c.platform_name, c.source_type.value, c.status.value] for c in connections.results]])
        rows.append(token_for(codat, company.id))
    profile = codat.settings.get_profile()
    rows.append(["profile", profile.name, profile.redirect_url, profile.model_dump(by_alias=True)["logoUrl"]])
    return rows


def failures(codat):
    """One except clause per error class, whichever path raised it."""
    rows = []
    calls = [
        ("get company", lambda: codat.companies.get(request={"company_id": "no-such-company"})),
        ("company token", lambda: codat.companies.get_access_token(request={"company_id": "status-404"})),
        ("list connections", lambda: codat.connections.list(request={"company_id": "status-503"},
                                                            retries=RetryConfig("none"))),
        ("company token 503", lambda: codat.companies.get_access_token(request={"company_id": "status-503"},
                                                                       retries=RetryConfig("none"))),
        ("bad page", lambda: codat.companies.list(request={"page": 0})),
        ("get company 409", lambda: codat.companies.get(request={"company_id": "status-409"})),
        ("company token 409", lambda: codat.companies.get_access_token(request={"company_id": "status-409"})),
    ]
    for what, call in calls:
        try:
            call()
            rows.append([what, "no error"])
        except errors.ErrorMessage as e:
            rows.append([what, "ErrorMessage", e.status_code, e.data.status_code, e.data.error, e.data.service,
                         len(e.data.correlation_id), _CORRELATION_ID.sub("<id>", str(e))])
        except errors.SDKError as e:
            rows.append([what, "SDKError", e.status_code, _CORRELATION_ID.sub("<id>", str(e))])
        except errors.CodatPlatformError as e:
            rows.append([what, type(e).__name__, e.status_code])
    return rows


def concurrently(codat, company_ids):
    async def main():
        tokens = [codat.companies.get_access_token_async(request={"company_id": cid}) for cid in company_ids]
        listing = codat.companies.list_async(request={"page": 1})
        *tokens, page = await asyncio.gather(*tokens, listing)
        try:
            await codat.companies.get_async(request={"company_id": "status-404"})
            failed = None
        except errors.ErrorMessage as e:
            failed = e.status_code
        return [["async", [t.token_type for t in tokens], page.total_results, failed]]
    return asyncio.run(main())
