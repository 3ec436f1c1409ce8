"""Retrying provider calls that failed with a retryable error: backoff with full jitter."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from mlops_decl.provider import ProviderError

T = TypeVar("T")

MAX_ATTEMPTS = 5
BASE_DELAY = 0.2
MAX_DELAY = 5.0


def call_with_retry(
    fn: Callable[[], T],
    *,
    attempts: int = MAX_ATTEMPTS,
    base: float = BASE_DELAY,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    rng = rng or random.Random()
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except ProviderError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            sleep(rng.uniform(0, min(MAX_DELAY, base * 2 ** (attempt - 1))))
    raise AssertionError("unreachable")  # pragma: no cover
