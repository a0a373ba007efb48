"""The stand-in's other read-only Platform API endpoints (``GET /companies``, ``/companies/{id}``,
``/companies/{id}/connections``, ``/profile``), shaped as Codat's OpenAPI spec (and the official SDK's models)
describe them, so that an application that uses more of the SDK than the tokens can be tried too.

``companies`` (id -> name) is the data they serve; each company has one linked sandbox connection.  A
``status-NNN`` company id answers NNN with an ErrorMessage.  Scripted replies and the other magic ids apply to
the token endpoints only."""

from __future__ import annotations

import json as _json
import urllib.parse
from typing import Any, Dict, List, Mapping, Tuple

from .replies import MAGIC_STATUS, error_body

DEMO_COMPANIES = {"8a210b68-6988-11ed-a1eb-0242ac120002": "Toft stores",
                  "0498e921-9b53-4396-a412-4f2f5983b0a2": "Penhaligon's"}
_PROFILE = {"name": "Stand-in client", "logoUrl": "https://client.codat.io/logo.png",
            "iconUrl": "https://client.codat.io/icon.ico", "redirectUrl": "https://example.com/{companyId}",
            "whiteListUrls": ["https://example.com"], "confirmCompanyName": True}


def _connection(company_id: str) -> Dict[str, Any]:
    """The one sandbox connection every stand-in company has."""
    return {"id": f"{company_id}-sandbox", "integrationId": "a9e28ef4-2a41-4a49-8c2c-6b5e2b5a0f7b",
            "integrationKey": "gbol", "sourceId": "a9e28ef4-2a41-4a49-8c2c-6b5e2b5a0f7b",
            "sourceType": "Accounting", "platformName": "Sandbox",
            "linkUrl": f"https://link-api.codat.io/companies/{company_id}/connections/{company_id}-sandbox/start",
            "status": "Linked", "lastSync": "2024-05-01T12:00:00Z", "created": "2024-01-01T09:00:00Z",
            "dataConnectionErrors": [], "connectionInfo": None}


def _company(companies: Mapping[str, str], company_id: str) -> Dict[str, Any]:
    return {"id": company_id, "name": companies.get(company_id, company_id),
            "description": "A stand-in company", "redirect": f"https://link.codat.io/company/{company_id}",
            "lastSync": "2024-05-01T12:00:00Z", "created": "2024-01-01T09:00:00Z",
            "createdByUserName": "stand-in", "products": ["spend-insights"], "tags": {},
            "dataConnections": [_connection(company_id)]}


def _page(path: str, params: Dict[str, List[str]], items: List[Any]) -> Tuple[int, bytes]:
    try:
        page = int(params.get("page", ["1"])[-1])
        size = int(params.get("pageSize", ["100"])[-1])
    except ValueError:
        page = size = 0
    if page < 1 or not 1 <= size <= 5000:
        return 400, error_body(400, "page must be 1 or more and pageSize between 1 and 5000.")
    links = {"self": {"href": path}, "current": {"href": f"{path}?page={page}&pageSize={size}"}}
    if page * size < len(items):
        links["next"] = {"href": f"{path}?page={page + 1}&pageSize={size}"}
    if page > 1:
        links["previous"] = {"href": f"{path}?page={page - 1}&pageSize={size}"}
    return 200, _json.dumps({"results": items[(page - 1) * size:page * size], "pageNumber": page,
                             "pageSize": size, "totalResults": len(items), "_links": links}).encode()


def platform_answer(companies: Mapping[str, str], target: str) -> Tuple[int, bytes]:
    """(status, JSON body) of a GET to any path other than the token endpoints."""
    raw, _, query = target.partition("?")
    segs = [urllib.parse.unquote(seg) for seg in raw.split("/")[1:]]
    if segs == ["profile"]:
        return 200, _json.dumps(_PROFILE).encode()
    if not segs or segs[0] != "companies" or len(segs) > 3 or "" in segs:
        return 404, error_body(404)
    params = urllib.parse.parse_qs(query)
    if len(segs) == 1:
        return _page("/companies", params, [_company(companies, cid) for cid in list(companies)])
    company_id = segs[1]
    magic = MAGIC_STATUS.match(company_id)
    if magic and int(magic.group(1)) >= 400:
        return int(magic.group(1)), error_body(int(magic.group(1)))
    if company_id not in companies:
        return 404, error_body(404, f"Could not find company with ID '{company_id}'.")
    if len(segs) == 2:
        return 200, _json.dumps(_company(companies, company_id)).encode()
    if segs[2] == "connections":
        return _page(f"/companies/{company_id}/connections", params, [_connection(company_id)])
    return 404, error_body(404)
