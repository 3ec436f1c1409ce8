"""The minimal provider's settings: `endpoint` (the service's URL) and `timeout` (seconds)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlops_decl.provider import ConfigError

KEYS = {"endpoint": "the service's URL, http(s)://host:port", "timeout": "seconds per HTTP request"}


@dataclass(frozen=True)
class Settings:
    endpoint: str
    timeout: float = 10.0


def parse(settings: dict[str, Any]) -> Settings:
    for key in settings:
        if key not in KEYS:
            raise ConfigError(
                f"unknown setting `{key}` for the minimal provider",
                field=(key,),
                hint="settings: " + ", ".join(f"{k} ({v})" for k, v in KEYS.items()),
            )
    endpoint = settings.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
        raise ConfigError(
            f"`endpoint` must be an http(s) URL, not {endpoint!r}",
            field=("endpoint",),
            hint="e.g. endpoint: http://127.0.0.1:8500",
        )
    timeout = settings.get("timeout", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ConfigError(
            f"`timeout` must be a number of seconds > 0, not {timeout!r}",
            field=("timeout",),
            hint="e.g. timeout: 10",
        )
    return Settings(endpoint.rstrip("/"), float(timeout))
