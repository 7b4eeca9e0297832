"""The HTTP client: sessions, default headers, retries and JSON decoding."""

import json
import urllib.request

from httpkit.cache import ResponseCache
from httpkit.retry import RetryPolicy


class HttpError(Exception):
    """Raised when the server answers with an error status."""

    def __init__(self, status, body):
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body


class HttpClient:
    """A minimal HTTP client that retries failed requests and caches GET responses."""

    def __init__(self, base_url, headers=None, policy=None, cache=None, timeout=10):
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        self.policy = policy or RetryPolicy()
        self.cache = cache or ResponseCache()
        self.timeout = timeout

    def build_url(self, path, params=None):
        """Join the base URL with a path and encode query parameters."""
        from urllib.parse import urlencode

        url = f"{self.base_url}/{path.lstrip('/')}"
        if params:
            url += "?" + urlencode(sorted(params.items()))
        return url

    def request(self, method, path, body=None, params=None):
        """Send a request, retrying on connection errors and 5xx responses."""
        url = self.build_url(path, params)
        attempt = 0
        while True:
            try:
                status, payload = self._send(method, url, body)
            except (ConnectionError, TimeoutError) as exc:
                attempt += 1
                if not self.policy.should_retry(attempt, error=exc):
                    raise
                continue
            if status < 400:
                return payload
            attempt += 1
            if not self.policy.should_retry(attempt, status=status):
                raise HttpError(status, payload)

    def get_json(self, path, params=None):
        """GET a resource and decode its JSON body, serving repeated calls from the cache."""
        url = self.build_url(path, params)
        cached = self.cache.get(url)
        if cached is not None:
            return cached
        data = json.loads(self.request("GET", path, params=params))
        self.cache.put(url, data)
        return data

    def post_json(self, path, data):
        """Serialize ``data`` as JSON and POST it, returning the decoded response."""
        body = json.dumps(data).encode("utf-8")
        return json.loads(self.request("POST", path, body=body))

    def _send(self, method, url, body):
        req = urllib.request.Request(url, data=body, method=method, headers=self.headers)
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            return resp.status, resp.read()
