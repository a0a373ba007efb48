"""``codat_platform.sdk``: where the SDK defines CodatPlatform."""
from ._client import CodatPlatform

__all__ = ["CodatPlatform"]
