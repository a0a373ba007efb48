"""Fixtures of the SDK facade's tests (test_sdk_facade.py, test_sdk_delegation.py), kept once here: a test
module imports them (``from sdk_fixtures import AUTH, NONE, cp, server, srv``), which gives it its own
module-scoped stand-in server that wants the facade tests' credentials, reset before each test and checked for
internal errors after it, and a facade client ``cp`` pointed at it without retries."""
from __future__ import annotations

import pytest

from codat_platform_c.sdk import CodatPlatform, utils
from codat_platform_c.sdk.models import shared
from codat_platform_c.testing import StandInServer

AUTH = "Basic c2VjcmV0LWtleQ=="  # base64("secret-key")
NONE = utils.RetryConfig("none")


@pytest.fixture(scope="module")
def server():
    with StandInServer(auth_header=AUTH) as s:
        yield s


@pytest.fixture
def srv(server):
    server.reset()
    yield server
    assert server.errors == []


@pytest.fixture
def cp(srv):
    with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=srv.url, retry_config=NONE) as p:
        yield p
