"""An in-memory response cache with time-to-live expiry and LRU eviction."""

import time
from collections import OrderedDict


class ResponseCache:
    """Keep recent responses for ``ttl`` seconds, evicting the least recently used."""

    def __init__(self, capacity=256, ttl=60.0, clock=time.monotonic):
        self.capacity = capacity
        self.ttl = ttl
        self.clock = clock
        self._items = OrderedDict()

    def get(self, key):
        """Return the cached value for ``key``, or None if it is missing or expired."""
        entry = self._items.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires < self.clock():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    def put(self, key, value):
        """Store a value and evict the oldest entry when the cache is full."""
        self._items[key] = (value, self.clock() + self.ttl)
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def clear(self):
        """Forget every cached response."""
        self._items.clear()
