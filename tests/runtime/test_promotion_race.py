"""Two `promote` commands at once, for versions 1 and 2, under a champion_comparison gate:
the per-model promotion lock and the alias's compare-and-set mean they never both pass against
the same champion (the second compares against whatever the first left)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from runtime_helpers import mlops

from mlops_decl.audit import AuditLog

PROJECT = """\
project: race
resources:
  dataset:
    rows: {uri: rows.csv}
  feature_group:
    f:
      source: ${dataset.rows}
      entity: [id]
      features:
        - {name: x, dtype: float}
        - {name: group, dtype: string}
  model:
    m: {}
  training_pipeline:
    train:
      inputs: ["${feature_group.f}"]
      labels: ${dataset.rows}
      label: y
      estimator: sklearn.linear_model.LogisticRegression
      registers: ${model.m}
  registry_policy:
    better:
      model: ${model.m}
      gates:
        - {type: champion_comparison, metric: accuracy}
        - {type: bias, metric: demographic_parity_difference, sensitive_feature: group, max: 1.0}
"""


def test_concurrent_promotions_never_both_pass_against_the_same_champion(tmp_path: Path) -> None:
    (tmp_path / "mlops.yaml").write_text(PROJECT)
    rows = "".join(f"{i},{i % 7},{'ab'[i % 2]},{int(i % 7 > 3)}\n" for i in range(80))
    (tmp_path / "rows.csv").write_text("id,x,group,y\n" + rows)
    mlops(tmp_path, "apply", "--auto-approve")
    for _ in range(2):
        mlops(tmp_path, "run", "training_pipeline.train")

    env = {**os.environ, "NO_COLOR": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mlops_decl", "promote", "model.m", "--version", str(v), "--json"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for v in (1, 2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode in (0, 1) and "Traceback" not in err, err
    results = [json.loads(out) for out, _ in outs]

    passed = [r for r in results if r["promoted"]]
    champions = [r["previous"] for r in passed]
    assert len(champions) == len(set(champions)), results  # never the same champion twice
    assert passed, results  # the first one to take the lock has no champion to beat
    # the later one compared against the version the earlier one promoted
    first, *later = sorted(results, key=lambda r: r["previous"] is not None)
    assert first["previous"] is None
    for r in later:
        assert r["champion"] == first["version"], results
        assert f"vs champion v{first['version']}" in r["gates"][0]["evidence"], r

    audited = [e["data"] for e in AuditLog(tmp_path / ".mlops" / "audit.jsonl").entries()]
    promotions = [d for d in audited if "promoted" in d and d.get("model") == "model.m"]
    assert sorted(d["version"] for d in promotions) == [1, 2]
    assert len({d["previous"] for d in promotions if d["promoted"]}) == len(passed)
