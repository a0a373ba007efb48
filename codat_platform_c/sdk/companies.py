"""``codat_platform.companies``: the companies method group (here: get_access_token and its async twin)."""
from ._client import Companies

__all__ = ["Companies"]
