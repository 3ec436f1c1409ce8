"""A training run in the audit log: begun, started (its ids), followed, finished.

Write-ahead, as the state journal is: an `intent` before the provider is asked to run, a
`started` entry with the run id and job id the moment the provider knows them (it calls
`rt.started`), and an outcome naming the intent once the run is final. A run whose starter
is killed, or that was started with --no-wait, keeps an open intent with its ids; whoever
asks next (`run status`, the next `run` of the pipeline, on any machine sharing the audit
log) reads its status from the provider and records the outcome.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlops_decl.actions.results import RunHandle, RunStatus
from mlops_decl.diagnostics import Diagnostic, DiagnosticError

if TYPE_CHECKING:
    from mlops_decl.runtime import Runtime

STARTED = "started"
POLL_FIRST, POLL_MAX = 0.5, 15.0  # seconds between status calls while waiting
REPORT_EVERY = 60.0  # a "still running" line this often


def start_run(rt: Runtime, address: str, wait: bool) -> tuple[int, RunHandle]:
    """(intent seq, handle): the intent, the provider's `run`, and its ids recorded."""
    here = {"pid": os.getpid(), "host": socket.gethostname()}  # for providers that give no job id
    intent = int(rt.audit.append("intent", {"event": "run", "pipeline": address, **here})["seq"])
    recorded: list[str] = []

    def started(run_id: str, job_id: str | None) -> None:
        if run_id not in recorded:
            recorded.append(run_id)
            rt.audit.append(STARTED, {"pipeline": address, "run_id": run_id, "job_id": job_id, "of": intent})

    try:
        handle: RunHandle = rt.call(address, "run", "training_pipeline", started=started, wait=wait)
    except DiagnosticError as exc:
        ids = {"run_id": recorded[-1]} if recorded else {}
        rt.audit.append(
            "run", {"pipeline": address, **ids, "failed": exc.diagnostics[0].summary, "intent": intent}
        )
        raise
    started(handle.run_id, handle.job_id)  # for a provider that did not say so itself
    return intent, handle


def follow(rt: Runtime, address: str, run_id: str) -> RunStatus:
    """Ask for the run's status until it is final, showing progress."""
    delay, begun, reported, last = POLL_FIRST, time.monotonic(), time.monotonic(), ""
    while True:
        status: RunStatus = rt.call(address, "run_status", "training_pipeline", run_id=run_id)
        if status.final:
            return status
        now = time.monotonic()
        if status.status != last or now - reported >= REPORT_EVERY:
            rt.emit(f"run {run_id}: {status.status} ({int(now - begun)}s)")
            last, reported = status.status, now
        time.sleep(delay)
        delay = min(delay * 2, POLL_MAX)


def finish_run(
    rt: Runtime, address: str, intent: int, status: RunStatus, *, check: bool = True, recovered: bool = False
) -> None:
    """The outcome of a final run, naming its intent; with `check`, a run that did not
    succeed is then an error."""
    from mlops_decl.runtime import brief

    base = {"pipeline": address, **({"recovered": True} if recovered else {}), "intent": intent}
    if status.status == "succeeded":
        rt.audit.append("run", {**base, **brief(status), "status": status.status})
        return
    why = status.error or f"the run was {status.status}"
    rt.audit.append(
        "run",
        {**base, "run_id": status.run_id, "job_id": status.job_id, "status": status.status, "failed": why},
    )
    if check:
        raise DiagnosticError(
            Diagnostic(f"{address}: run {status.run_id} {status.status}: {why}", address=address)
        )


@dataclass(frozen=True)
class FoundRun:
    pipeline: str
    intent: int
    job_id: str | None
    open: bool  # no outcome names its intent yet


def find_run(rt: Runtime, run_id: str) -> FoundRun:
    """The run `run_id` as the audit log knows it."""
    found = None
    for entry in rt.audit.entries():
        data = entry.get("data") or {}
        if entry.get("event") == STARTED and data.get("run_id") == run_id:
            found = data
    if found is None:
        raise DiagnosticError(
            Diagnostic(
                f"no run `{run_id}` in the audit log",
                hint="`mlops-decl audit --event started` lists the runs begun here",
            )
        )
    pending = {int(e["seq"]) for e in rt.audit.pending()}
    return FoundRun(
        str(found["pipeline"]), int(found["of"]), found.get("job_id"), int(found["of"]) in pending
    )


def started_of(rt: Runtime) -> dict[int, dict[str, object]]:
    """intent seq -> the last `started` entry's data naming it."""
    out: dict[int, dict[str, object]] = {}
    for entry in rt.audit.entries():
        data = entry.get("data") or {}
        if entry.get("event") == STARTED and isinstance(data.get("of"), int):
            out[int(data["of"])] = data
    return out
