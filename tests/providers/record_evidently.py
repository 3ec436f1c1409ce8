"""Record Evidently's drift numbers on seeded synthetic data, for the local provider's parity test.

Run it with the Evidently venv, never the project's interpreter (Evidently pins pandas < 3):

    python -m venv /tmp/evvenv && /tmp/evvenv/bin/pip install evidently==0.7.23 'pandas<3' numpy scipy
    /tmp/evvenv/bin/python tests/providers/record_evidently.py

It rewrites tests/providers/drift_expected.json. The data comes from `cases()`, pure numpy
(seeded Generator, no pandas), so tests/ml/test_drift.py regenerates exactly the same columns.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "drift_expected.json"

Columns = dict[str, np.ndarray]

# Evidently's display names -> ours, and how each decides (p-values drift below the threshold).
EVIDENTLY_METHODS = {
    "Wasserstein distance (normed)": ("wasserstein", "distance"),
    "Jensen-Shannon distance": ("jensen_shannon", "distance"),
    "K-S p_value": ("ks", "p_value"),
    "chi-square p_value": ("chi2", "p_value"),
    "Z-test p_value": ("z", "p_value"),
    "PSI": ("psi", "distance"),
    "jensenshannon": ("jensen_shannon", "distance"),  # a method set by name keeps its name
}


def _large(seed: int = 20261101, n_ref: int = 5000, n_cur: int = 5000) -> tuple[Columns, Columns]:
    """Reference above 1000 rows: Evidently picks Wasserstein (numeric) and Jensen-Shannon."""
    rng = np.random.default_rng(seed)
    ref: Columns = {}
    cur: Columns = {}

    def both(name: str, make_ref: Any, make_cur: Any) -> None:
        ref[name] = make_ref(n_ref)
        cur[name] = make_cur(n_cur)

    both("n_same_normal", lambda n: rng.normal(0, 1, n), lambda n: rng.normal(0, 1, n))
    both("n_same_lognorm", lambda n: rng.lognormal(0, 0.5, n), lambda n: rng.lognormal(0, 0.5, n))
    both("n_mean_small", lambda n: rng.normal(10, 2, n), lambda n: rng.normal(10.1, 2, n))
    both("n_mean_big", lambda n: rng.normal(10, 2, n), lambda n: rng.normal(11, 2, n))
    both("n_scaled", lambda n: rng.normal(0, 1, n), lambda n: rng.normal(0, 1.5, n))
    both("n_uniform_same", lambda n: rng.uniform(0, 100, n), lambda n: rng.uniform(0, 100, n))
    both("n_uniform_shift", lambda n: rng.uniform(0, 100, n), lambda n: rng.uniform(15, 115, n))
    both("n_exp_scaled", lambda n: rng.exponential(1.0, n), lambda n: rng.exponential(1.3, n))
    both("n_int_wide", lambda n: rng.binomial(200, 0.5, n), lambda n: rng.binomial(200, 0.5, n))
    both("n_int_shift", lambda n: rng.poisson(20, n), lambda n: rng.poisson(23, n))
    # numeric with few values: treated as categorical
    both(
        "d_float3",
        lambda n: rng.choice([0.5, 1.5, 2.5], n, p=[0.5, 0.3, 0.2]),
        lambda n: rng.choice([0.5, 1.5, 2.5], n, p=[0.5, 0.3, 0.2]),
    )
    both(
        "d_int8",
        lambda n: rng.choice(np.arange(8), n, p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05, 0.05]),
        lambda n: rng.choice(np.arange(8), n, p=[0.1, 0.1, 0.1, 0.1, 0.15, 0.15, 0.15, 0.15]),
    )
    cats5 = np.array(["a", "b", "c", "d", "e"])
    both(
        "c_same",
        lambda n: rng.choice(cats5, n, p=[0.3, 0.25, 0.2, 0.15, 0.1]),
        lambda n: rng.choice(cats5, n, p=[0.3, 0.25, 0.2, 0.15, 0.1]),
    )
    plans = np.array(["basic", "plus", "pro", "team"])
    both(
        "c_shift",
        lambda n: rng.choice(plans, n, p=[0.4, 0.3, 0.2, 0.1]),
        lambda n: rng.choice(plans, n, p=[0.2, 0.2, 0.3, 0.3]),
    )
    regions = np.array(["north", "south", "west", "east"])
    both(
        "c_newcat",
        lambda n: rng.choice(regions[:3], n, p=[0.5, 0.3, 0.2]),
        lambda n: rng.choice(regions, n, p=[0.45, 0.3, 0.2, 0.05]),
    )
    return ref, cur


def _small(seed: int = 7, n_ref: int = 800, n_cur: int = 600) -> tuple[Columns, Columns]:
    """Reference of 1000 rows or fewer: Evidently switches to KS, chi-square and Z p-values."""
    rng = np.random.default_rng(seed)
    ref: Columns = {}
    cur: Columns = {}

    def both(name: str, make_ref: Any, make_cur: Any) -> None:
        ref[name] = make_ref(n_ref)
        cur[name] = make_cur(n_cur)

    both("s_same", lambda n: rng.normal(0, 1, n), lambda n: rng.normal(0, 1, n))
    both("s_shift", lambda n: rng.normal(0, 1, n), lambda n: rng.normal(0.4, 1, n))
    both("s_scaled", lambda n: rng.normal(0, 1, n), lambda n: rng.normal(0, 1.6, n))
    both("s_lognorm_same", lambda n: rng.lognormal(0, 0.7, n), lambda n: rng.lognormal(0, 0.7, n))
    both("s_int", lambda n: rng.poisson(30, n), lambda n: rng.poisson(30, n))
    yn = np.array(["no", "yes"])
    both("s_bin", lambda n: rng.choice(yn, n, p=[0.7, 0.3]), lambda n: rng.choice(yn, n, p=[0.5, 0.5]))
    cats = np.array(["w", "x", "y", "z"])
    both(
        "s_cat_same",
        lambda n: rng.choice(cats, n, p=[0.4, 0.3, 0.2, 0.1]),
        lambda n: rng.choice(cats, n, p=[0.4, 0.3, 0.2, 0.1]),
    )
    both(
        "s_cat_shift",
        lambda n: rng.choice(cats, n, p=[0.4, 0.3, 0.2, 0.1]),
        lambda n: rng.choice(cats, n, p=[0.25, 0.25, 0.25, 0.25]),
    )
    both(
        "s_float3",
        lambda n: rng.choice([1.0, 2.0, 4.0], n, p=[0.6, 0.3, 0.1]),
        lambda n: rng.choice([1.0, 2.0, 4.0], n, p=[0.6, 0.3, 0.1]),
    )
    both(
        "s_int4",
        lambda n: rng.choice(np.arange(4), n, p=[0.4, 0.3, 0.2, 0.1]),
        lambda n: rng.choice(np.arange(4), n, p=[0.4, 0.3, 0.2, 0.1]),
    )
    return ref, cur


# name -> (data, our monitor settings, Evidently DataDriftPreset keyword arguments)
def cases() -> dict[str, tuple[tuple[Columns, Columns], dict[str, Any], dict[str, Any]]]:
    large = _large()
    numeric = [c for c in large[0] if c.startswith("n_")]
    return {
        "large_default": (large, {}, {}),
        "small_default": (_small(), {}, {}),
        # Jensen-Shannon on numeric columns: checks our copy of Evidently's Sturges binning.
        "large_js_numeric": (
            large,
            {"per_feature": {c: {"method": "jensen_shannon"} for c in numeric}},
            {"per_column_method": {c: "jensenshannon" for c in numeric}},
        ),
    }


def _run_evidently(ref: Columns, cur: Columns, kwargs: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    snapshot = Report([DataDriftPreset(**kwargs)]).run(
        current_data=pd.DataFrame(cur), reference_data=pd.DataFrame(ref)
    )
    features: dict[str, Any] = {}
    share = None
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith("DriftedColumnsCount"):
            share = metric["value"]["share"]
            drift_share = config["drift_share"]
            continue
        method, kind = EVIDENTLY_METHODS[config["method"]]
        score, threshold = float(metric["value"]), float(config["threshold"])
        if kind == "distance":
            drifted = score >= threshold
        elif method == "ks":
            drifted = score <= threshold  # ks_stattest.py: p_value <= threshold
        else:
            drifted = score < threshold  # chisquare and z: p_value < threshold
        features[config["column"]] = {
            "evidently_method": config["method"],
            "method": method,
            "score": score,
            "threshold": threshold,
            "drifted": drifted,
        }
    assert share is not None
    return {"features": features, "drifted_share": share, "dataset_drift": share >= drift_share}


def main() -> None:
    import evidently

    out: dict[str, Any] = {
        "evidently_version": evidently.__version__,
        "numpy_version": np.__version__,
        "recorded_with": f"{Path(sys.executable)} tests/providers/record_evidently.py",
        "cases": {},
    }
    for name, ((ref, cur), ours, kwargs) in cases().items():
        result = _run_evidently(ref, cur, kwargs)
        result["rows"] = {
            "reference": len(next(iter(ref.values()))),
            "current": len(next(iter(cur.values()))),
        }
        result["monitor"] = ours
        out["cases"][name] = result
        drifted = sorted(c for c, f in result["features"].items() if f["drifted"])
        print(f"{name}: dataset_drift={result['dataset_drift']} drifted={drifted}")
    EXPECTED.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {EXPECTED}")


if __name__ == "__main__":
    main()
