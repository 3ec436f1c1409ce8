"""The quickstart on the s3 backend through the CLI, as a team sharing a bucket runs it: apply,
a second apply at the same time refused with the holder named, a re-plan with no changes, a
killed holder's lock cleared with force-unlock, the audit log kept in the bucket."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from s3_fixtures import BUCKET, s3_settings

from mlops_decl.testing.aws import MotoServer

LOCK_KEY = "churn/state.json.lock"


def _use_s3(project: Path, **settings: object) -> None:
    path = project / "mlops.yaml"
    text = path.read_text()
    backend = json.dumps(s3_settings(**settings))  # JSON is YAML: one flow mapping
    path.write_text(re.sub(r"(?m)^backend:.*$", f"backend: {backend}", text))
    assert yaml.safe_load(path.read_text())["backend"]["type"] == "s3"


def _start(project: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mlops_decl", *args],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )


def _wait_for_lock(s3: object, p: subprocess.Popen[str], seconds: float = 60) -> bool:
    """True once the lock object exists; False if p ended first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and p.poll() is None:
        if s3.list_objects_v2(Bucket=BUCKET, Prefix=LOCK_KEY).get("KeyCount"):  # type: ignore[attr-defined]
            return True
        time.sleep(0.02)
    return False


def test_quickstart_on_s3_two_applies_one_refused_and_force_unlock(
    bucket: MotoServer, project: Path, run_cli
) -> None:
    _use_s3(project)
    s3 = bucket.client("s3")
    rc, out, err = run_cli(["validate"], project)
    assert rc == 0, err

    first = _start(project, "apply", "--auto-approve")
    try:
        assert _wait_for_lock(s3, first), first.communicate()
        rc, out, err = run_cli(["apply", "--auto-approve"], project)
        assert rc == 1, out + err
        assert "the state is locked" in err and f"(pid {first.pid}) for `apply`" in err, err
        assert "Traceback" not in err
        out, err = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    assert "Apply complete" in out

    rc, out, err = run_cli(["plan"], project)
    assert rc == 0 and "No changes" in out, out + err
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert "churn/state.json" in keys and not any(".journal/" in k for k in keys)  # compacted
    assert any(k.startswith("churn/state.json.audit/") for k in keys)
    assert LOCK_KEY not in keys
    state = json.loads(s3.get_object(Bucket=BUCKET, Key="churn/state.json")["Body"].read())
    assert len(state["resources"]) == 7
    rc, out, err = run_cli(["audit", "verify"], project)
    assert rc == 0, out + err

    # A holder killed while it holds the lock: its lock stays, named, until force-unlock.
    for _ in range(5):
        holder = _start(project, "plan")
        held = _wait_for_lock(s3, holder)
        if held:
            holder.send_signal(signal.SIGKILL)
        holder.communicate()
        if held:
            break
    assert held, "plan never held the lock long enough to be killed"
    rc, out, err = run_cli(["plan"], project)
    assert rc == 1 and f"(pid {holder.pid}) for `plan`" in err, out + err
    lock_id = re.search(r"lock id ([0-9a-f-]{36})", err)
    assert lock_id is not None, err
    rc, out, err = run_cli(["force-unlock", "--force", "not-the-id"], project)
    assert rc == 1 and "does not match" in err, out + err
    rc, out, err = run_cli(["force-unlock", "--force", lock_id.group(1)], project)
    assert rc == 0 and "successfully unlocked" in out, out + err
    rc, out, err = run_cli(["plan"], project)
    assert rc == 0 and "No changes" in out, out + err


def test_a_bucket_without_versioning_is_refused(aws: MotoServer, project: Path, run_cli) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    _use_s3(project)
    rc, out, err = run_cli(["plan"], project)
    assert rc == 1, out + err
    assert f"the bucket `{BUCKET}` does not keep versions" in err and "put-bucket-versioning" in err, err
    assert "Traceback" not in err
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0  # nothing left behind


def test_a_missing_bucket_or_table_is_one_error(aws: MotoServer, project: Path, run_cli) -> None:
    _use_s3(project)
    rc, out, err = run_cli(["plan"], project)
    assert rc == 1 and f"the bucket `{BUCKET}` does not exist" in err and "Traceback" not in err, err
    aws.client("s3").create_bucket(Bucket=BUCKET)
    _use_s3(project, lock="dynamodb")
    rc, out, err = run_cli(["plan"], project)
    assert rc == 1 and "the DynamoDB lock table `mlops-locks` does not exist" in err, err
    assert "LockID" in err and "Traceback" not in err
