"""A monitor's baseline as SageMaker Model Monitor reads it: `statistics.json` and
`constraints.json` beside each other in S3, in the format a baselining job writes, built from
the summary of the engine's reference profile (mlops_decl/ml/profile.py). They describe the
baseline; SageMaker's own scheduled job compares captured data with them, while
`mlops-decl monitor check` runs the engine's drift check on the same captures.
"""

from __future__ import annotations

from typing import Any


def _type(summary: dict[str, Any]) -> str:
    if summary.get("dtype") == "string":
        return "String"
    return "Integral" if summary.get("kind") == "categorical" else "Fractional"


def statistics(profile: dict[str, Any]) -> dict[str, Any]:
    """statistics.json: per feature its type, counts and, for numbers, the moments."""
    rows = int(profile.get("rows") or 0)
    features = []
    for name, s in (profile.get("features") or {}).items():
        present = int(s.get("rows") or 0)
        common = {"num_present": present, "num_missing": max(0, rows - present)}
        entry: dict[str, Any] = {"name": name, "inferred_type": _type(s)}
        if s.get("dtype") == "string":
            entry["string_statistics"] = {"common": common, "distinct_count": s.get("categories", 0)}
        else:
            entry["numerical_statistics"] = {
                "common": common,
                "mean": s.get("mean"),
                "sum": (s.get("mean") or 0) * present,
                "std_dev": s.get("std"),
                "min": s.get("min"),
                "max": s.get("max"),
            }
        features.append(entry)
    return {"version": 0.0, "dataset": {"item_count": rows}, "features": features}


def constraints(profile: dict[str, Any]) -> dict[str, Any]:
    """constraints.json: each feature's type and completeness, SageMaker's checks enabled."""
    rows = int(profile.get("rows") or 0) or 1
    features = []
    for name, s in (profile.get("features") or {}).items():
        entry: dict[str, Any] = {
            "name": name,
            "inferred_type": _type(s),
            "completeness": round(min(1.0, int(s.get("rows") or 0) / rows), 6),
        }
        if s.get("dtype") != "string":
            entry["num_constraints"] = {"is_non_negative": (s.get("min") or 0) >= 0}
        features.append(entry)
    return {
        "version": 0.0,
        "features": features,
        "monitoring_config": {
            "evaluate_constraints": "Enabled",
            "emit_metrics": "Enabled",
            "datatype_check_threshold": 1.0,
            "domain_content_threshold": 1.0,
        },
    }
