"""The pooled daemon workers behind the walk and timed provider calls: results and errors come
back, threads are reused rather than started per job, and a job that hangs neither blocks
later jobs nor keeps the process from exiting."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from mlops_decl import workers
from mlops_decl.retry import CallTimeout, call_with_timeout


def test_value_and_error_come_back() -> None:
    r = workers.call(lambda: 41 + 1)
    assert r.wait(5) and r.value() == 42

    def boom() -> None:
        raise ValueError("nope")

    e = workers.call(boom)
    assert e.wait(5)
    with pytest.raises(ValueError, match="nope"):
        e.value()


def test_threads_are_reused() -> None:
    for _ in range(5):  # warm the pool
        workers.call(lambda: None).wait(5)
    before = threading.active_count()
    for _ in range(500):
        assert call_with_timeout(lambda: 1, 5.0) == 1
    assert threading.active_count() <= before + 1, "a thread per call"


def test_a_hung_call_times_out_and_later_calls_still_run() -> None:
    release = threading.Event()
    t = time.monotonic()
    with pytest.raises(CallTimeout):
        call_with_timeout(lambda: release.wait(30), 0.2, "create dataset.x")
    assert time.monotonic() - t < 2
    assert call_with_timeout(lambda: "next", 5.0) == "next"
    release.set()


def test_a_hung_job_does_not_keep_the_process_alive() -> None:
    code = (
        "import threading, time\n"
        "from mlops_decl.retry import call_with_timeout, CallTimeout\n"
        "try:\n"
        "    call_with_timeout(lambda: threading.Event().wait(60), 0.2)\n"
        "except CallTimeout:\n"
        "    print('timed out')\n"
    )
    t = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "timed out" in out.stdout, out.stderr
    assert time.monotonic() - t < 10
