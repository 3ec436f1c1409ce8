"""Closing audit intents a killed process left open, from what the provider shows.

`Runtime` writes an `intent` before a run or promotion and the outcome after. A process killed
in between leaves an intent no outcome names; the next run of the pipeline (or promotion of
the model) records the outcome, marked `recovered`.

A run whose ids were recorded (mlops_decl/runs.py) is asked about through the provider's
`run_status`, from any machine: a final status is recorded, a run still going on is left to
whoever asks later. A run without ids (its process was killed before the provider knew them,
or the provider gives none) is recovered once the process that wrote the intent is gone, from
the versions the registry shows for the pipeline.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mlops_decl.diagnostics import DiagnosticError
from mlops_decl.runs import finish_run, started_of

if TYPE_CHECKING:
    from mlops_decl.runtime import Runtime


def gone(intent: dict[str, Any]) -> bool:
    """Whether the process that wrote an intent's data has ended (it must be this host's)."""
    if intent.get("host") != socket.gethostname() or not isinstance(intent.get("pid"), int):
        return False
    try:
        os.kill(intent["pid"], 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        return False
    return False


def _abandoned(rt: Runtime, event: str, key: str, target: str) -> list[dict[str, Any]]:
    return [
        e
        for e in rt.audit.pending()
        if e["data"].get("event") == event and e["data"].get(key) == target and gone(e["data"])
    ]


def recover_runs(rt: Runtime, address: str) -> None:
    """Each open run intent of `address` gets its outcome: by its run id when it has one,
    else (once its process is gone) by the versions registered while it ran."""
    pending = [
        e
        for e in rt.audit.pending()
        if e["data"].get("event") == "run" and e["data"].get("pipeline") == address
    ]
    if not pending:
        return
    ids = started_of(rt)
    by_id = [e for e in pending if int(e["seq"]) in ids]
    if by_id and rt.can(address, "run_status"):
        for intent in by_id:
            _recover_by_id(rt, address, intent, str(ids[int(intent["seq"])]["run_id"]))
        pending = [e for e in pending if e not in by_id]
    _recover_by_time(rt, address, [e for e in pending if gone(e["data"])])


def _recover_by_id(rt: Runtime, address: str, intent: dict[str, Any], run_id: str) -> None:
    try:
        status = rt.call(address, "run_status", "training_pipeline", run_id=run_id)
    except DiagnosticError as exc:  # the provider no longer knows the run: say so, once
        rt.audit.append(
            "run",
            {"pipeline": address, "recovered": True, "intent": intent["seq"], "run_id": run_id,
             "failed": f"its status is unknown: {exc.diagnostics[0].summary}"},
        )  # fmt: skip
        return
    if not status.final:
        return  # going on: its own process, or a later `run status`, records it
    finish_run(rt, address, int(intent["seq"]), status, check=False, recovered=True)
    left = f"registered: version {status.version}" if status.version is not None else "left: no version"
    rt.emit(
        f"audit: the run of {address} begun {intent['time'][:19]} was interrupted; recorded what it "
        f"{left} (run {run_id}: {status.status})"
    )


def _recover_by_time(rt: Runtime, address: str, open_runs: list[dict[str, Any]]) -> None:
    """Each abandoned run gets the versions it registered (by the pipeline tag on the
    version, created between its intent and the next), or "no version"."""
    if not open_runs:
        return
    rs = rt.managed(address, "training_pipeline")
    model = str(rs.attributes.get("registers"))
    model_address = next(
        (a for a, m in rt.state.resources.items() if m.kind == "model" and m.id == model), None
    )
    found = (
        rt.model_actions(model_address).list_versions().versions
        if model_address and rt.can(model_address, "list_versions")
        else []
    )
    audited = {
        int(e["data"]["version"])
        for e in rt.audit.entries()
        if e["event"] == "run" and e["data"].get("model") == model and e["data"].get("version") is not None
    }
    orphans = [v for v in found if v.pipeline == rs.id and v.version not in audited]
    for i, intent in enumerate(open_runs):
        begun = datetime.fromisoformat(intent["time"])
        until = datetime.fromisoformat(open_runs[i + 1]["time"]) if i + 1 < len(open_runs) else None
        mine = [
            v
            for v in orphans
            if begun <= datetime.fromisoformat(v.created)
            and (until is None or datetime.fromisoformat(v.created) < until)
        ]
        base = {"pipeline": address, "recovered": True, "intent": intent["seq"]}
        for v in mine:
            rt.audit.append("run", {**base, "model": model, "version": v.version, "run_id": v.run_id})
        # the tracking runs it left RUNNING end as killed, so nobody waits on them
        ended = (
            rt.call(
                address,
                "end_interrupted",
                "training_pipeline",
                since=intent["time"],
                until=open_runs[i + 1]["time"] if i + 1 < len(open_runs) else None,
            ).ended
            if rt.can(address, "end_interrupted")
            else []
        )
        if not mine:
            failed = {"failed": "interrupted before it registered a version"}
            rt.audit.append("run", {**base, **failed, **({"killed_runs": ended} if ended else {})})
        left = (
            f"registered: version {', '.join(str(v.version) for v in mine)}" if mine else "left: no version"
        )
        rt.emit(
            f"audit: the run of {address} begun {intent['time'][:19]} was interrupted; recorded what it {left}"
        )


def recover_promotions(rt: Runtime, address: str, alias: str) -> None:
    """Each abandoned promotion of model `address` gets whether `alias` now points at its
    version (the promotion got as far as moving it) or not."""
    for intent in _abandoned(rt, "promotion", "model", address):
        version = int(intent["data"]["version"])
        try:
            moved = alias in rt.model_actions(address).version_evidence(version).aliases
        except DiagnosticError:  # the version is not there (any more): nothing points at it
            moved = False
        rt.audit.append(
            "promotion",
            {
                "model": address,
                "version": version,
                "promoted": moved,
                "alias": alias if moved else None,
                "reason": intent["data"].get("reason"),
                "recovered": True,
                "intent": intent["seq"],
            },
        )
        rt.emit(
            f"audit: the promotion of {address} version {version} begun {intent['time'][:19]} was "
            f"interrupted; recorded that `{alias}` {'points' if moved else 'does not point'} at it"
        )
