"""Fixtures of the SDK facade's tests (test_sdk_facade.py, test_sdk_delegation.py): a test module imports
them (``from sdk_fixtures import AUTH, NONE, cp, server, srv``). The stand-in server is conftest's, the one
every test uses (one definition: started once per session, reset before each test and checked for internal
errors after it), here also under the name ``srv``; ``cp`` is a facade client pointed at it without
retries."""
from __future__ import annotations

import pytest

from codat_platform_c.sdk import CodatPlatform, utils
from codat_platform_c.sdk.models import shared
from conftest import AUTH, server  # noqa: F401  (re-exported: AUTH is what the stand-in wants)

srv = server  # the facade tests' name for it
NONE = utils.RetryConfig("none")


@pytest.fixture
def cp(srv):
    with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=srv.url, retry_config=NONE) as p:
        yield p
