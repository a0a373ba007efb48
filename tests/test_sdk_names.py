"""Every public name the official SDK has for the two access-token operations has a counterpart at the same
path under codat_platform_c.sdk, or is listed in docs/sdk_facade.md ("Names not provided") with its reason.

The names come from walking the installed codat_platform package (pkgutil.walk_packages), so a new SDK
release that adds a name to these modules shows up here as a failing test.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import types as pytypes
from pathlib import Path

import pytest

codat_platform = pytest.importorskip("codat_platform")

DOCS = Path(__file__).resolve().parents[1] / "docs" / "sdk_facade.md"

# The modules the two operations live in or go through: the package and its entry points, the models and
# errors they return or raise, their request models, and the types, retries and client plumbing they take.
OPERATION_MODULES = {
    "codat_platform", "codat_platform.sdk", "codat_platform.types", "codat_platform.utils",
    "codat_platform.utils.retries", "codat_platform.httpclient", "codat_platform.companies",
    "codat_platform.connection_management", "codat_platform.models", "codat_platform.models.errors",
    "codat_platform.models.shared", "codat_platform.models.operations",
    "codat_platform.models.operations.get_company_access_token",
    "codat_platform.models.operations.get_connection_management_access_token",
    "codat_platform.models.shared.companyaccesstoken", "codat_platform.models.shared.connectionmanagementaccesstoken",
    "codat_platform.models.shared.errormessage", "codat_platform.models.shared.errorvalidation",
    "codat_platform.models.shared.errorvalidationitem", "codat_platform.models.shared.security",
}
# Where the SDK defines the request models and method groups (with every other operation of the group).
DEFINING_GROUP_MODULES = {"codat_platform.api.companies", "codat_platform.api.connection_management"}


def sdk_modules() -> list:
    walked = ["codat_platform"] + [m.name for m in pkgutil.walk_packages(codat_platform.__path__, "codat_platform.")]
    return sorted(m for m in walked if m in OPERATION_MODULES or m.startswith("codat_platform.models.errors."))


def public_names(modname: str, modules: set) -> set:
    """The names of one SDK module that belong to these operations: submodules among `modules`, classes and
    functions defined in them (or, from the group modules, the groups and the access-token requests), and
    data defined there (constants, sentinels, type aliases)."""
    mod = importlib.import_module(modname)
    exported = set(getattr(mod, "__all__", ()))
    out = set()
    for name in dir(mod):
        if name.startswith("_") or name == "TYPE_CHECKING":
            continue
        obj = getattr(mod, name)
        if isinstance(obj, pytypes.ModuleType):
            if obj.__name__ in modules:
                out.add(name)
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj) or type(obj).__name__ in ("TypeAliasType", "TypeVar"):
            home = getattr(obj, "__module__", None)
            if home in modules or (home in DEFINING_GROUP_MODULES
                                   and ("AccessToken" in name or name in ("Companies", "ConnectionManagement"))):
                out.add(name)
            elif name in exported:  # re-exported on purpose (types.BaseModel is pydantic's)
                out.add(name)
            continue
        if name.isupper() or name in exported:
            out.add(name)
    return out


def sdk_names() -> set:
    modules = set(sdk_modules())
    return {(m, n) for m in sorted(modules) for n in public_names(m, modules)} | {(m, None) for m in modules}


def documented_omissions() -> dict:
    """`codat_platform.x.y` (a module) or `codat_platform.x.y:Name` rows of the "Names not provided" table."""
    text = DOCS.read_text()
    section = text.split("### Names not provided", 1)[1].split("\n### ", 1)[0]
    rows = re.findall(r"^\| `(codat_platform[\w.]*)(?::(\w+))?` \| (.+?) \|$", section, re.M)
    return {(module, name or None): reason for module, name, reason in rows}


def counterpart(module: str, name) -> bool:
    ours = "codat_platform_c.sdk" + module[len("codat_platform"):]
    try:
        mod = importlib.import_module(ours)
    except ImportError:
        return False
    return name is None or hasattr(mod, name)


def test_every_sdk_name_has_a_counterpart_or_a_documented_reason():
    names = sdk_names()
    assert ("codat_platform.models.shared", "CompanyAccessTokenTypedDict") in names  # the walk finds them
    assert ("codat_platform.utils.retries", "RetryConfig") in names
    assert len(names) > 100
    omitted = documented_omissions()
    missing = sorted(f"{m}:{n}" if n else m for m, n in names if not counterpart(m, n) and (m, n) not in omitted)
    assert missing == [], f"no counterpart under codat_platform_c.sdk and not in docs/sdk_facade.md: {missing}"


def test_documented_omissions_are_real_and_have_reasons():
    names = sdk_names()
    for (module, name), reason in documented_omissions().items():
        assert (module, name) in names, f"docs/sdk_facade.md lists {module}:{name}, which the SDK does not have"
        assert not counterpart(module, name), f"{module}:{name} is listed as missing but exists"
        assert len(reason.split()) >= 4, f"{module}:{name}: say why"


@pytest.mark.parametrize("path", [
    "shared.CompanyAccessTokenTypedDict", "shared.SecurityTypedDict", "shared.ErrorMessageTypedDict",
    "operations.GetCompanyAccessTokenRequestTypedDict", "errors.ErrorMessageData"])
def test_issue_names_import(path):
    module, name = path.split(".")
    ours = importlib.import_module(f"codat_platform_c.sdk.models.{module}")
    theirs = importlib.import_module(f"codat_platform.models.{module}")
    assert getattr(ours, name).__name__ == getattr(theirs, name).__name__


def test_deep_module_paths_import():
    from codat_platform_c.sdk import httpclient, sdk, types, utils
    from codat_platform_c.sdk.models.errors import errormessage, sdkerror
    from codat_platform_c.sdk.models.shared import companyaccesstoken
    from codat_platform_c.sdk.utils import retries
    assert sdk.CodatPlatform.__name__ == "CodatPlatform" and retries.RetryConfig is utils.RetryConfig
    assert issubclass(companyaccesstoken.CompanyAccessToken, types.BaseModel)
    assert sdkerror.SDKError.__name__ == "SDKError" and errormessage.ErrorMessageData.__name__ == "ErrorMessage"
    assert isinstance(object(), httpclient.HttpClient) is False
