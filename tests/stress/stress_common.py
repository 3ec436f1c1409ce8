"""Shared by the stress harnesses and their small CI versions: generated local projects, the
CLI as a user runs it, and readers for what the local provider holds."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    rc: int
    out: str
    err: str
    seconds: float = 0.0

    @property
    def text(self) -> str:
        return self.out + self.err


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "NO_COLOR": "1", **(extra or {})}
    env.pop("MLOPS_LOCAL_FAULTS", None) if "MLOPS_LOCAL_FAULTS" not in (extra or {}) else None
    return env


def cli(
    root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300, stdin: str = ""
) -> Result:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mlops_decl", *args],
        cwd=root,
        env=cli_env(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - t0)


def popen_cli(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mlops_decl", *args],
        cwd=root,
        env=cli_env(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def make_project(
    root: Path,
    n: int,
    seed: int = 0,
    feature_groups: float = 0.25,
    files: int = 4,
    settings: str = "",
    models: int = 0,
) -> list[str]:
    """A local project of n resources: datasets over small CSV files and feature groups over
    them, with random depends_on chains between datasets so the graph has depth, and `models`
    of the n as registered models (MLflow). Returns the addresses."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    n_fg = int(n * feature_groups)
    n_ds = n - n_fg - models
    datasets = [f"d{i:04d}" for i in range(n_ds)]
    bodies: list[tuple[str, str, list[str]]] = []
    for i, name in enumerate(datasets):
        (root / "data" / f"{name}.csv").write_text(
            "customer_id,ts,spend,plan\n"
            + "".join(f"{c},2024-01-0{1 + c % 9},{(c * 7 + i) % 100}.5,p{c % 3}\n" for c in range(20))
        )
        lines = [f"uri: data/{name}.csv", "format: csv"]
        if i and rng.random() < 0.4:
            lines.append(f"depends_on: [dataset.{datasets[rng.randrange(i)]}]")
        bodies.append(("dataset", name, lines))
    for j in range(n_fg):
        src = datasets[rng.randrange(n_ds)]
        lines = [
            f'source: "${{dataset.{src}}}"',
            "entity: [customer_id]",
            "event_time: ts",
            "features: [{name: spend, dtype: float}, {name: plan, dtype: string}]",
        ]
        bodies.append(("feature_group", f"f{j:04d}", lines))
    for k in range(models):
        deps = f"depends_on: [dataset.{datasets[rng.randrange(n_ds)]}]"
        bodies.append(("model", f"m{k:03d}", [f"description: model {k}", deps]))
    (root / "mlops.yaml").write_text(f"project: stress\n{settings}")
    chunks: list[list[tuple[str, str, list[str]]]] = [bodies[k::files] for k in range(files)]
    for k, chunk in enumerate(chunks):
        out = ["resources:"]
        for kind in ("dataset", "feature_group", "model"):
            mine = [b for b in chunk if b[0] == kind]
            if not mine:
                continue
            out.append(f"  {kind}:")
            for _, name, lines in mine:
                out.append(f"    {name}:")
                out += [f"      {line}" for line in lines]
        (root / f"part{k}.yaml").write_text("\n".join(out) + "\n")
    return [f"{kind}.{name}" for kind, name, _ in bodies]


def catalog_rows(root: Path) -> dict[tuple[str, str], str]:
    """(kind, id) -> created, for every object in the local provider's catalog."""
    db = root / ".mlops" / "local" / "catalog.db"
    if not db.exists():
        return {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return {(k, i): c for k, i, c in conn.execute("SELECT kind, id, created FROM objects")}
    except sqlite3.OperationalError:  # killed before the table was created
        return {}
    finally:
        conn.close()


def registered_models(root: Path) -> dict[str, int]:
    """name -> creation timestamp of every model in the local MLflow registry."""
    db = root / ".mlops" / "local" / "mlflow.db"
    if not db.exists():
        return {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return {n: c for n, c in conn.execute("SELECT name, creation_time FROM registered_models")}
    finally:
        conn.close()


def store_tables(root: Path) -> set[str]:
    """Tables in the local feature store (DuckDB)."""
    db = root / ".mlops" / "local" / "features.duckdb"
    if not db.exists():
        return set()
    import duckdb

    conn = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        conn.close()


def read_state(root: Path) -> Any:
    """The state as the engine sees it (snapshot plus journal); raises if it does not parse."""
    from mlops_decl.state.local import LocalStateStore

    store = LocalStateStore(root / ".mlops" / "state.json")
    try:
        return store.read()
    finally:
        store.close()


def raw_state(root: Path) -> dict[str, Any] | None:
    path = root / ".mlops" / "state.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def plan_actions(root: Path, env: dict[str, str] | None = None) -> dict[str, list[str]]:
    res = cli(root, "plan", "--json", env=env)
    if res.rc != 0:
        raise AssertionError(f"plan failed ({res.rc}):\n{res.err[-3000:]}")
    doc = json.loads(res.out)
    return {
        rc["address"]: rc["change"]["actions"]
        for rc in doc["resource_changes"]
        if rc["change"]["actions"] != ["no-op"]
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[k]
