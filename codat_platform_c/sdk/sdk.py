"""``codat_platform.sdk``: where the SDK defines CodatPlatform."""
from ._client import CodatPlatform, Companies, ConnectionManagement
from .types import UNSET, OptionalNullable
from .utils.retries import RetryConfig

__all__ = ["CodatPlatform", "Companies", "ConnectionManagement", "UNSET", "OptionalNullable", "RetryConfig"]
