"""Training runs detached from the command that started them (`run --no-wait`).

`start` spawns this module (`python -m mlops_decl.providers.local.training.worker`) in a
session of its own, begins the MLflow run tagged with the worker's pid, and hands the worker
the job on its stdin; the worker trains into that run and ends it FINISHED or FAILED. Its progress goes to
`.mlops/local/runs/<run_id>.log`. A worker that dies leaves the run RUNNING under a dead pid,
which `run_status` reports (and ends) as killed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from mlops_decl.provider import Attributes, ProviderContext, ProviderError, RuntimeContext

from ..client import LocalEnv
from .tracking import begin_run


def start(env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext) -> str:
    """Begin a run of pipeline `id` in a detached worker; its MLflow run id."""
    from .fit import _check_model, _dataset_versions

    _check_model(env, str(attrs["registers"]))  # fail here, not in the background
    versions = _dataset_versions(env, attrs, rt)
    logs = env.ctx.data_dir / "runs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"starting-{uuid.uuid4().hex}.log"
    with open(log, "ab") as out:
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=env.project_dir,
                start_new_session=True,  # a Ctrl-C or a closed terminal does not reach it
            )
        except OSError as exc:
            raise ProviderError(f"cannot start a training worker: {exc}") from exc
    assert proc.stdin is not None
    try:
        run_id = begin_run(env, id, rt, versions, pid=proc.pid)
        named = log.rename(logs / f"{run_id}.log")  # the worker's open file follows the name
        job = {
            "ctx": {
                "project_dir": str(env.ctx.project_dir),
                "data_dir": str(env.ctx.data_dir),
                "project": env.ctx.project,
            },
            "id": id,
            "attrs": attrs,
            "run_id": run_id,
            "rt": {"config_hash": rt.config_hash, "git_commit": rt.git_commit, "who": rt.who},
            "resources": {a: list(r) for a, r in rt.resources.items()},
        }
        proc.stdin.write(json.dumps(job, default=str).encode())
        proc.stdin.close()
    except BaseException:
        proc.kill()  # our own child: no run to train
        raise
    rt.emit(f"training in the background (pid {proc.pid}); progress in {named}")
    return run_id


def main() -> int:
    job: dict[str, Any] = json.load(sys.stdin)
    from .fit import train

    ctx = ProviderContext(
        project_dir=Path(job["ctx"]["project_dir"]),
        data_dir=Path(job["ctx"]["data_dir"]),
        project=job["ctx"]["project"],
    )
    env = LocalEnv(ctx)
    rt = RuntimeContext(
        project_dir=ctx.project_dir,
        config_hash=job["rt"]["config_hash"],
        git_commit=job["rt"]["git_commit"],
        who=job["rt"]["who"],
        resources={a: (k, i, at) for a, (k, i, at) in job["resources"].items()},
        emit=lambda message: print(message, flush=True),
    )
    try:
        train(env, job["id"], job["attrs"], rt, job["run_id"])
    except ProviderError as exc:  # ended FAILED with the message; the log keeps it too
        print(f"error: {exc}", flush=True)
        return 1
    finally:
        env.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
