"""``codat_platform.utils``: the retry configuration (the retry loop itself runs in the C core)."""
from .retries import BackoffStrategy, Retries, RetryConfig

__all__ = ["BackoffStrategy", "RetryConfig", "Retries"]
