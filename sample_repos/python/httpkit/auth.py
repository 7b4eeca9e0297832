"""Request signing for APIs that use HMAC authentication."""

import base64
import hashlib
import hmac
import time


def sign_request(secret, method, path, body=b"", timestamp=None):
    """Compute an HMAC-SHA256 signature over the method, path, timestamp and body."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    message = b"\n".join([method.upper().encode(), path.encode(), str(timestamp).encode(), body])
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode(), timestamp


def verify_signature(secret, signature, method, path, body, timestamp, max_skew=300):
    """Check a request signature in constant time and reject stale timestamps."""
    if abs(time.time() - timestamp) > max_skew:
        return False
    expected, _ = sign_request(secret, method, path, body, timestamp)
    return hmac.compare_digest(expected, signature)


def basic_auth_header(user, password):
    """Build the value of an HTTP Basic Authorization header."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return "Basic " + token
