"""Loading client settings from files and the environment."""

import json
import os
from dataclasses import dataclass


@dataclass
class Settings:
    """Connection settings for the client."""

    base_url: str
    timeout: float = 10.0
    max_attempts: int = 5
    api_token: str = ""


def load_settings(path, env=None):
    """Read settings from a JSON file, letting HTTPKIT_* environment variables override them."""
    env = os.environ if env is None else env
    with open(path, encoding="utf-8") as fh:
        values = json.load(fh)
    for key in ("base_url", "timeout", "max_attempts", "api_token"):
        override = env.get("HTTPKIT_" + key.upper())
        if override is not None:
            values[key] = override
    return Settings(
        base_url=values["base_url"],
        timeout=float(values.get("timeout", 10.0)),
        max_attempts=int(values.get("max_attempts", 5)),
        api_token=values.get("api_token", ""),
    )


def redact_token(token):
    """Mask a secret token for logging, keeping only its last four characters."""
    if len(token) <= 4:
        return "*" * len(token)
    return "*" * (len(token) - 4) + token[-4:]
