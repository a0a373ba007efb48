"""``codat_platform.utils``: the retry configuration (the retry loop itself runs in the C core)."""
from .retries import BackoffStrategy, Retries, RetryConfig, to_core_retries  # noqa: F401  (the facade's own)

__all__ = ["BackoffStrategy", "RetryConfig", "Retries"]
