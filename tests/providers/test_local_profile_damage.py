"""A monitor's reference profile file emptied or damaged on disk: `monitor check` says which
file and what to do (exit 1, no traceback, no bare "Aborted!"), and apply computes it again."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHECK = ["monitor", "check", "monitor.churn_drift", "--data", "data/customers_shifted.csv"]


def test_an_empty_or_damaged_profile_is_one_error_naming_the_file(tmp_path: Path, run_cli) -> None:
    churn = tmp_path / "churn"
    shutil.copytree(REPO / "examples" / "churn", churn, ignore=shutil.ignore_patterns(".mlops"))
    rc, out, err = run_cli(["apply", "--auto-approve"], churn, timeout=600)
    assert rc == 0, out + err
    profile = churn / ".mlops" / "local" / "profiles" / "churn_drift.npz"
    good = profile.read_bytes()

    profile.write_bytes(b"")
    rc, out, err = run_cli(CHECK, churn, timeout=300)
    assert rc == 1, out + err
    assert f"monitor.churn_drift: the reference profile {profile} is empty" in err, err
    assert "hint: run `mlops-decl apply`: it computes it again" in err
    assert "Aborted!" not in err and "Traceback" not in err
    # as the hint says: plan sees it, apply computes it again, and the check works
    rc, out, err = run_cli(["plan", "--detailed-exitcode"], churn, timeout=300)
    assert rc == 2 and "monitor.churn_drift" in out, out + err
    rc, out, err = run_cli(["apply", "--auto-approve"], churn, timeout=600)
    assert rc == 0 and profile.stat().st_size > 0, out + err
    rc, out, err = run_cli(CHECK, churn, timeout=300)
    assert rc == 0, out + err

    profile.write_bytes(good[: len(good) // 2])  # cut short: not a zip any more
    rc, out, err = run_cli(CHECK, churn, timeout=300)
    assert rc == 1, out + err
    assert f"cannot read the reference profile {profile}" in err, err
    assert f"hint: delete {profile} and run `mlops-decl apply`" in err
    assert "Aborted!" not in err and "Traceback" not in err
