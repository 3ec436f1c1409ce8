"""Cloud names and idempotency tokens from a resource's stable identity (project/kind.name).

A cloud name has a length limit and a character set; a project and a resource name may not
fit. `cloud_name` keeps what is readable, replaces what is not allowed, and when it must
shorten, keeps a hash of the whole identity so that two long names stay two names. The same
identity gives the same name on every apply from every machine: a create that was
interrupted finds its object again by name.
"""

from __future__ import annotations

import re


def _digest(text: str, length: int) -> str:
    import hashlib  # OpenSSL start-up that plan and validate never pay for

    return hashlib.sha256(text.encode()).hexdigest()[:length]


def cloud_name(
    identity: str,
    *,
    max_length: int = 63,
    allowed: str = "a-zA-Z0-9-",
    separator: str = "-",
    lower: bool = False,
    suffix: str = "",
    hash_length: int = 8,
) -> str:
    """A name for `identity` (`churn/endpoint.api` -> `churn-endpoint-api`) within the cloud's
    limits: characters outside `allowed` (a regex character class body) become `separator`,
    runs of it collapse, it neither starts nor ends the name; `suffix` (e.g. `-v2`) is kept
    whole. Too long, the name is cut and ends with a hash of the identity and suffix."""
    if hash_length + len(suffix) + 2 > max_length:
        raise ValueError(f"a name of at most {max_length} characters cannot hold suffix {suffix!r}")
    text = identity.lower() if lower else identity
    sep = re.escape(separator)
    name = re.sub(f"[^{allowed}]+", separator, text)
    name = re.sub(f"(?:{sep})+", separator, name).strip(separator) or "x"
    if not re.match("[a-zA-Z0-9]", name[0]):
        name = "x" + name
    if len(name) + len(suffix) <= max_length:
        return name + suffix
    keep = max_length - len(suffix) - hash_length - len(separator)
    head = name[:keep].rstrip(separator)
    return f"{head}{separator}{_digest(identity + chr(0) + suffix, hash_length)}{suffix}"


def idempotency_token(identity: str, salt: str = "", *, length: int = 32, alphabet: str = "hex") -> str:
    """A token a retried request repeats, so the API answers with the first object (SageMaker's
    ClientToken, Vertex's request_id). `salt` tells objects made afresh on purpose apart (a
    replacement: the old id). `alphabet` "uuid" gives a UUID-shaped token (36 characters)."""
    raw = _digest(f"{identity}\0{salt}", 64)
    if alphabet == "uuid":
        return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:32]}"
    if not 1 <= length <= 64:
        raise ValueError("a hex token has 1 to 64 characters")
    return raw[:length]
