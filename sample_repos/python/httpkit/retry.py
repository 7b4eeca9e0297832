"""Retry policies for transient network failures."""

import random
import time

RETRYABLE_STATUS = {429, 500, 502, 503, 504}


class RetryPolicy:
    """Decide whether and when a failed request should be attempted again.

    Uses exponential backoff with full jitter, capped at ``max_delay`` seconds.
    """

    def __init__(self, max_attempts=5, base_delay=0.2, max_delay=10.0):
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay

    def should_retry(self, attempt, status=None, error=None):
        """Return True if another attempt is allowed for this status code or exception."""
        if attempt >= self.max_attempts:
            return False
        if error is not None:
            return isinstance(error, (ConnectionError, TimeoutError))
        return status in RETRYABLE_STATUS

    def backoff(self, attempt):
        """Seconds to sleep before the given attempt: exponential growth with random jitter."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** attempt))
        return random.uniform(0, ceiling)


def retry_call(func, policy, sleep=time.sleep):
    """Call ``func`` until it succeeds or the retry policy gives up.

    Exceptions that the policy does not consider transient are raised at once.
    """
    attempt = 0
    while True:
        try:
            return func()
        except Exception as exc:
            attempt += 1
            if not policy.should_retry(attempt, error=exc):
                raise
            sleep(policy.backoff(attempt))
