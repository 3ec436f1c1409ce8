"""boto3's errors -> ProviderError with a category, in one place: the engine retries
throttling (on its longer schedule) and blips, and reports the rest with AWS's own message."""

from __future__ import annotations

from typing import Any

from mlops_decl.provider import Category, ProviderError

THROTTLED = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "503",  # S3 answers a HEAD over its rate with a bare 503 (SlowDown without a body)
    }
)
CONFLICT = frozenset({"ResourceInUse", "ResourceInUseException", "ConflictException", "OperationAborted"})
NOT_FOUND = frozenset(
    {"ResourceNotFound", "ResourceNotFoundException", "NoSuchKey", "NoSuchBucket", "404", "NotFound"}
)
AUTH = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "403",
    }
)
TRANSIENT = frozenset(
    {"InternalFailure", "InternalError", "ServiceUnavailable", "InternalServerError", "500", "502"}
)
# SageMaker answers a missing endpoint, config or model as a ValidationException
MISSING_PHRASES = ("could not find", "does not exist", "not found", "cannot find")


def code_of(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str((response.get("Error") or {}).get("Code") or "")


def message_of(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str((response.get("Error") or {}).get("Message") or exc)


def category_of(exc: Exception) -> Category:
    """The category of a botocore ClientError or connection error."""
    from botocore.exceptions import (
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(exc, NoCredentialsError):
        return Category.AUTH
    if isinstance(
        exc, ConnectTimeoutError | ReadTimeoutError | EndpointConnectionError | ConnectionClosedError
    ):
        return Category.TRANSIENT
    code = code_of(exc)
    status = int(
        (getattr(exc, "response", None) or {}).get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    )
    if code in THROTTLED or status == 429:
        return Category.THROTTLED
    if code in CONFLICT:
        return Category.CONFLICT
    if code in NOT_FOUND or status == 404 or is_missing(exc):
        return Category.NOT_FOUND
    if code in AUTH or status == 403:
        return Category.AUTH
    if code in TRANSIENT or status >= 500:
        return Category.TRANSIENT
    return Category.INVALID


def is_missing(exc: Exception) -> bool:
    """The error says the object does not exist (whatever code the API chose for it)."""
    code = code_of(exc)
    if code in NOT_FOUND:
        return True
    return code == "ValidationException" and any(p in message_of(exc).lower() for p in MISSING_PHRASES)


def already_exists(exc: Exception) -> bool:
    text = message_of(exc).lower()
    return code_of(exc) in {"ValidationException", "ResourceInUse"} and (
        "already exist" in text or "cannot create a duplicate" in text
    )


def provider_error(exc: Exception, what: str) -> ProviderError:
    """`what` (`create endpoint api-prod`) failed: AWS's code and message, categorised."""
    code = code_of(exc)
    headers: dict[str, Any] = (
        (getattr(exc, "response", None) or {}).get("ResponseMetadata", {}).get("HTTPHeaders", {})
    )
    retry_after = _seconds(headers.get("retry-after"))
    detail = f"{message_of(exc)} ({code})" if code else str(exc)
    return ProviderError(f"{what}: {detail}", category=category_of(exc), retry_after=retry_after)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
