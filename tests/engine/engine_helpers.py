"""Helpers for engine tests: small projects on the local provider, run through the CLI as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    rc: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


class Project:
    """A project directory and a way to run mlops-decl in it, as a user would."""

    def __init__(self, root: Path):
        self.root = root

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def run(
        self, *args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 120
    ) -> Result:
        full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "mlops_decl", *args],
            cwd=self.root,
            env=full_env,
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str, **kw: object) -> Result:
        res = self.run(*args, **kw)  # type: ignore[arg-type]
        assert res.rc == 0, f"mlops-decl {' '.join(args)} exited {res.rc}\n{res.out}\n{res.err}"
        return res

    def plan_json(self, *args: str) -> dict:
        return json.loads(self.ok("plan", "--json", *args).out)

    def state(self) -> dict:
        return json.loads(self.ok("state", "pull").out)

    def actions(self, *args: str) -> dict[str, list[str]]:
        return {
            rc["address"]: rc["change"]["actions"]
            for rc in self.plan_json(*args)["resource_changes"]
            if rc["change"]["actions"] != ["no-op"]
        }


DATASETS_HEAD = "project: t\n"


def dataset_project(
    root: Path, names: list[str], deps: dict[str, list[str]] | None = None, extra: str = ""
) -> Project:
    """Datasets over small CSV files; deps adds depends_on edges."""
    p = Project(root)
    lines = [DATASETS_HEAD + extra, "resources:", "  dataset:"]
    for n in names:
        p.write(f"data/{n}.csv", f"id,value\n1,{n}\n")
        lines.append(f"    {n}:")
        lines.append(f"      uri: data/{n}.csv")
        if (deps or {}).get(n):
            lines.append(f"      depends_on: [{', '.join(deps[n])}]")  # type: ignore[index]
    p.write("mlops.yaml", "\n".join(lines) + "\n")
    return p
