"""Client-side rate limiting."""

import threading
import time


class TokenBucket:
    """A token bucket that allows ``rate`` requests per second with bursts up to ``capacity``."""

    def __init__(self, rate, capacity):
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def _refill(self):
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def try_acquire(self, tokens=1):
        """Take tokens if available without blocking; return whether it succeeded."""
        with self.lock:
            self._refill()
            if self.tokens >= tokens:
                self.tokens -= tokens
                return True
            return False

    def acquire(self, tokens=1):
        """Block until enough tokens are available, then take them."""
        while not self.try_acquire(tokens):
            time.sleep(tokens / self.rate)
