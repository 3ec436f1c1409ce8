"""The service's answers -> ProviderError with a category: the engine retries throttling
(waiting what Retry-After says) and server-side blips, and fails the rest."""

from __future__ import annotations

from mlops_decl.provider import Category, ProviderError

BY_STATUS = {
    429: Category.THROTTLED,
    409: Category.CONFLICT,
    404: Category.NOT_FOUND,
    401: Category.AUTH,
    403: Category.AUTH,
}


def api_error(status: int, message: str, what: str, retry_after: float | None = None) -> ProviderError:
    category = BY_STATUS.get(status) or (Category.TRANSIENT if status >= 500 else Category.INVALID)
    return ProviderError(f"{what}: {message} (HTTP {status})", category=category, retry_after=retry_after)


def unreachable(reason: object, what: str) -> ProviderError:
    return ProviderError(f"{what}: the service did not answer ({reason})", category=Category.TRANSIENT)
