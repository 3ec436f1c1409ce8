"""Crash safety of the ML loop: SIGKILL `run` and `promote` half-way and check that the model
registry and the audit log stay consistent.

    python -m tests.stress.ml_crash_harness --trials 10 --seed 1

One project (datasets, a feature group, a model, a training pipeline, a registry policy whose
gates pass) is applied and trained once; then each trial kills either a `run` or a `promote`
at a random moment (uniform over how long an uninterrupted one takes) and checks:

  - the audit log's hash chain verifies (a torn last line would break it);
  - the registry opens, and every model version has its run, metrics and artifact source;
  - the audit log claims nothing the registry lacks: every `run` entry's version exists and
    every successful `promotion` entry's version exists;
  - the alias points at a version that exists, and is either where it was or the promoted one;
  - the next `run` registers the next number (no reuse) and the next `promote` succeeds, each
    with its audit entry.

It also counts the window a kill can leave: a version registered (or an alias moved) whose
outcome was not yet written, because the provider acts first and the engine then records. The
engine writes an `intent` entry before it calls the provider, so such a version must at least
have its trial's open intent in the log (a problem otherwise).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stress_common import cli, popen_cli  # noqa: E402

PROJECT = """\
project: loop
resources:
  dataset:
    labels: {uri: labels.csv}
    events: {uri: events.csv}
  feature_group:
    activity:
      source: ${dataset.events}
      entity: [customer_id]
      event_time: ts
      features:
        - {name: spend, dtype: float}
        - {name: group, dtype: string}
  model:
    m: {}
  training_pipeline:
    train:
      inputs: ["${feature_group.activity}"]
      labels: ${dataset.labels}
      label: churned
      estimator: sklearn.linear_model.LogisticRegression
      hyperparameters: {max_iter: 200}
      registers: ${model.m}
  registry_policy:
    gates:
      model: ${model.m}
      promote_to: champion
      gates:
        - {type: metric_threshold, metric: accuracy, min: 0.0}
"""


@dataclass
class Trial:
    trial: int
    action: str  # run | promote
    kill_after: float
    killed: bool = False
    versions_before: int = 0
    versions_after: int = 0
    unaudited: list[int] = field(default_factory=list)  # registered, no outcome in the log
    alias_moved_unaudited: bool = False
    open_intents: list[str] = field(default_factory=list)  # begun, no outcome: the kill's mark
    log_before: int = 0  # audit entries before the trial
    runs_left_running: int = 0  # MLflow runs a kill left in RUNNING status (no version: harmless)
    ok: bool = False
    problems: list[str] = field(default_factory=list)


def make_project(root: Path, seed: int) -> None:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    labels, events = ["customer_id,ts,churned"], ["customer_id,ts,spend,group"]
    for c in range(200):
        group = "a" if c % 2 else "b"
        for month in (1, 2, 3):
            spend = rng.uniform(10, 100)
            labels.append(f"{c},2026-0{month}-10T00:00:00,{int(spend + rng.gauss(0, 20) > 55)}")
            events.append(f"{c},2026-0{month}-01T00:00:00,{spend:.2f},{group}")
    (root / "labels.csv").write_text("\n".join(labels) + "\n")
    (root / "events.csv").write_text("\n".join(events) + "\n")
    (root / "mlops.yaml").write_text(PROJECT)


class Registry:
    def __init__(self, root: Path):
        from mlflow.tracking import MlflowClient

        db = root / ".mlops" / "local" / "mlflow.db"
        self.client = MlflowClient(tracking_uri=f"sqlite:///{db}", registry_uri=f"sqlite:///{db}")

    def versions(self) -> dict[int, Any]:
        return {int(v.version): v for v in self.client.search_model_versions("name='m'")}

    def running(self) -> int:
        ids = [e.experiment_id for e in self.client.search_experiments()]
        return len(self.client.search_runs(ids, "attributes.status = 'RUNNING'")) if ids else 0

    def alias(self) -> int | None:
        rm = self.client.get_registered_model("m")
        target = (rm.aliases or {}).get("champion")
        return int(target) if target is not None else None


def audit(root: Path) -> list[dict[str, Any]]:
    path = root / ".mlops" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _open(entries: list[dict[str, Any]]) -> set[int]:
    """Sequence numbers of intents no outcome names."""
    closed = {(e.get("data") or {}).get("intent") for e in entries if e["event"] != "intent"}
    return {e["seq"] for e in entries if e["event"] == "intent"} - closed


def check(root: Path, t: Trial, alias_before: int | None, target: int | None) -> float | None:
    """The checks above; returns how long the uninterrupted retry took."""
    p = t.problems
    res = cli(root, "audit", "verify")
    if res.rc != 0:
        p.append(f"audit verify failed: {res.text[-400:]}")
    try:
        reg = Registry(root)
        versions = reg.versions()
        alias = reg.alias()
    except Exception as exc:
        p.append(f"the registry does not open: {type(exc).__name__}: {exc}")
        return None
    t.versions_after = len(versions)
    t.runs_left_running = reg.running()
    for n, mv in versions.items():
        if not mv.run_id:
            p.append(f"version {n} has no run")
            continue
        run = reg.client.get_run(mv.run_id)
        if not run.data.metrics:
            p.append(f"version {n}'s run has no metrics")
        if not mv.source:
            p.append(f"version {n} has no model source")
    entries = audit(root)
    ran = {int(e["data"]["version"]) for e in entries if e["event"] == "run" and e["data"].get("version")}
    promoted = [
        int(e["data"]["version"]) for e in entries if e["event"] == "promotion" and e["data"].get("promoted")
    ]
    if ran - set(versions):
        p.append(f"the audit log records runs of versions the registry lacks: {sorted(ran - set(versions))}")
    if set(promoted) - set(versions):
        p.append(
            f"the audit log records promotions of missing versions: {sorted(set(promoted) - set(versions))}"
        )
    t.unaudited = sorted(set(versions) - ran - {1})  # version 1 came from the set-up run
    # write-ahead: whatever has no outcome must at least have its intent in the log
    still_open = _open(entries)
    t.open_intents = [
        e["data"]["event"]
        for e in entries[t.log_before :]
        if e["event"] == "intent" and e["seq"] in still_open
    ]
    if t.unaudited and "run" not in t.open_intents:
        p.append(f"versions {t.unaudited} are in neither an outcome nor an open intent of the audit log")
    if alias is not None and alias not in versions:
        p.append(f"the alias points at version {alias}, which does not exist")
    if t.action == "promote":
        if alias not in (alias_before, target):
            p.append(f"the alias moved to {alias}: neither where it was ({alias_before}) nor {target}")
        if alias == target and alias != alias_before and (not promoted or promoted[-1] != target):
            t.alias_moved_unaudited = True
            if "promotion" not in t.open_intents:
                p.append("the alias moved with neither an outcome nor an open intent in the audit log")
    # and the loop goes on
    if t.action == "run":
        res = cli(root, "run", "training_pipeline.train", "--json", timeout=600)
        if res.rc != 0:
            p.append(f"the next run failed: {res.err[-500:]}")
            return None
        got = json.loads(res.out)["version"]
        if got != max(versions, default=0) + 1:
            p.append(f"the next run registered version {got}, expected {max(versions, default=0) + 1}")
        if not any(e["event"] == "run" and e["data"].get("version") == got for e in audit(root)):
            p.append(f"no audit entry for the next run (version {got})")
        return res.seconds
    else:
        res = cli(root, "promote", "model.m", "--version", str(target), timeout=600)
        if res.rc != 0:
            p.append(f"promoting again failed: {res.err[-500:]}")
            return None
        last = [e for e in audit(root) if e["event"] == "promotion"][-1]
        if not (last["data"]["promoted"] and last["data"]["version"] == target):
            p.append("no audit entry for promoting again")
        if Registry(root).alias() != target:
            p.append("promoting again did not move the alias")
        return res.seconds


def run(trials: int, seed: int, workdir: Path | None = None) -> dict[str, Any]:
    base = Path(workdir or tempfile.mkdtemp(prefix="mlops-mlcrash-"))
    root = base / "project"
    shutil.rmtree(root, ignore_errors=True)
    make_project(root, seed)
    t0 = time.perf_counter()
    res = cli(root, "apply", "--auto-approve", timeout=600)
    assert res.rc == 0, res.err
    first = cli(root, "run", "training_pipeline.train", "--json", timeout=600)
    assert first.rc == 0, first.err
    t_run = first.seconds
    promo = cli(root, "promote", "model.m", "--version", "1", timeout=600)
    assert promo.rc == 0, promo.err
    t_promote = promo.seconds
    print(f"uninterrupted: run {t_run:.1f}s, promote {t_promote:.1f}s", flush=True)
    rng = random.Random(seed)
    results = []
    for i in range(trials):
        action = "run" if i % 2 == 0 else "promote"
        reg = Registry(root)
        versions = reg.versions()
        alias_before = reg.alias()
        target = None
        if action == "promote":
            # promote the newest version; make one if the newest is already the champion
            if max(versions) == alias_before:
                made = cli(root, "run", "training_pipeline.train", timeout=600)
                assert made.rc == 0, made.err
                versions = Registry(root).versions()
            target = max(versions)
            args = ["promote", "model.m", "--version", str(target)]
            span = t_promote
        else:
            args = ["run", "training_pipeline.train"]
            span = t_run
        t = Trial(i, action, round(rng.uniform(0.2, 0.95 * span), 2), versions_before=len(versions))
        t.log_before = len(audit(root))
        proc = popen_cli(root, *args)
        time.sleep(t.kill_after)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            t.killed = True
        proc.communicate()
        took = check(root, t, alias_before, target)
        if took:  # how long the same action takes now (the first run pays for imports and caches)
            if action == "run":
                t_run = took
            else:
                t_promote = took
        t.ok = not t.problems
        results.append(t)
        print(
            f"trial {i:2d}: {'ok' if t.ok else 'FAIL':4s} {action:7s} killed at {t.kill_after:5.2f}s "
            f"{'(it had finished)' if not t.killed else '':17s} versions {t.versions_before}->{t.versions_after}  "
            f"unaudited {t.unaudited}  alias-moved-unaudited {t.alias_moved_unaudited}  "
            f"open intents {t.open_intents}",
            flush=True,
        )
        for problem in t.problems:
            print(f"          - {problem}", flush=True)
    # one more run and promotion close what the kills left: no open intent, no RUNNING run
    settle = [cli(root, "run", "training_pipeline.train", timeout=600)]
    settle.append(
        cli(root, "promote", "model.m", "--version", str(max(Registry(root).versions())), timeout=600)
    )
    entries = audit(root)
    settled = {
        "open_intents": len(_open(entries)),
        "mlflow_runs_running": Registry(root).running(),
        "run_exit": settle[0].rc,
    }
    summary = {
        "trials": trials,
        "seed": seed,
        "uninterrupted_run_seconds": round(t_run, 2),
        "uninterrupted_promote_seconds": round(t_promote, 2),
        "passed": sum(t.ok for t in results),
        "killed": sum(t.killed for t in results),
        "runs_registered_but_unaudited": sorted({v for t in results for v in t.unaudited}),
        "promotions_unaudited": sum(t.alias_moved_unaudited for t in results),
        "trials_leaving_an_open_intent": sum(bool(t.open_intents) for t in results),
        "mlflow_runs_left_running": max((t.runs_left_running for t in results), default=0),
        "after_one_more_run_and_promote": settled,
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "failures": [asdict(t) for t in results if not t.ok],
    }
    if settled["open_intents"] or settled["mlflow_runs_running"] or settled["run_exit"]:
        summary["failures"].append({"settle": settled, "stderr": settle[0].err[-400:]})
    if not summary["failures"]:
        shutil.rmtree(base, ignore_errors=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args(argv)
    summary = run(args.trials, args.seed, args.workdir)
    print(json.dumps(summary, indent=2))
    return 0 if summary["passed"] == summary["trials"] else 1


if __name__ == "__main__":
    sys.exit(main())
