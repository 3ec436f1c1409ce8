"""The service's answers -> ProviderError: throttling and server-side blips are retried."""

from __future__ import annotations

from mlops_decl.provider import ProviderError

RETRIED = frozenset({429, 500, 502, 503, 504})


def api_error(status: int, message: str, what: str) -> ProviderError:
    return ProviderError(f"{what}: {message} (HTTP {status})", retryable=status in RETRIED)


def unreachable(reason: object, what: str) -> ProviderError:
    return ProviderError(f"{what}: the service did not answer ({reason})", retryable=True)
