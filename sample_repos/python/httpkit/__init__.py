"""httpkit: a small HTTP client toolkit with retries, caching and rate limiting."""

from httpkit.client import HttpClient
from httpkit.retry import RetryPolicy

__all__ = ["HttpClient", "RetryPolicy"]
