"""A read's independent requests go out together and come back in order, failures included."""

from __future__ import annotations

import threading
import time

import pytest

from mlops_decl.cloud.overlap import together


def test_the_calls_overlap_and_answer_in_order() -> None:
    seen: list[str] = []
    both = threading.Barrier(2, timeout=5)  # passes only while both calls are running at once

    def first() -> str:
        both.wait()
        seen.append(threading.current_thread().name)
        return "head"

    def second() -> str:
        both.wait()
        seen.append(threading.current_thread().name)
        return "tags"

    started = time.perf_counter()
    head, tags = together(first, second)
    assert (head.get(), tags.get()) == ("head", "tags")
    assert threading.current_thread().name in seen and len(set(seen)) == 2
    assert time.perf_counter() - started < 5


def test_each_failure_is_handed_back_for_the_caller_to_judge() -> None:
    def missing() -> None:
        raise LookupError("no such object")

    gone, tags = together(lambda: None, missing)
    assert gone.get() is None  # the object is gone: its tags' error does not matter
    assert isinstance(tags.error, LookupError)
    with pytest.raises(LookupError, match="no such object"):
        tags.get()
    first, second = together(missing, lambda: 2)
    assert isinstance(first.error, LookupError) and second.get() == 2
