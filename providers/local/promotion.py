"""Approvals, gate evaluation and promotion on the local MLflow registry.

Approvals are model-version tags (`mlops_decl.approval.<name>`), so they live with the
version; promotion moves an MLflow alias, and only when every gate passes.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlops_decl.provider import Attributes, ProviderError, RuntimeContext

from . import gates as g
from .base import LocalEnv

APPROVAL = "mlops_decl.approval."


def _mlflow(env: LocalEnv) -> Any:
    import mlflow

    env.registry.client()  # opens (and migrates) the store first
    mlflow.set_tracking_uri(env.registry.uri)
    mlflow.set_registry_uri(env.registry.uri)
    return mlflow


def versions(env: LocalEnv, name: str) -> dict[int, Any]:
    found = env.registry.call(f"model {name}", lambda c: c.search_model_versions(f"name='{name}'"))
    return {int(v.version): v for v in found}


def aliases(env: LocalEnv, name: str) -> dict[str, int]:
    rm = env.registry.call(f"model {name}", lambda c: c.get_registered_model(name))
    return {a: int(v) for a, v in (rm.aliases or {}).items()}


def _version(env: LocalEnv, name: str, version: int) -> Any:
    known = versions(env, name)
    if int(version) not in known:
        shown = ", ".join(str(v) for v in sorted(known)) or "none yet"
        raise ProviderError(f"model `{name}` has no version {version} (versions: {shown})")
    return known[int(version)]


def approvals(mv: Any) -> list[str]:
    return sorted(k[len(APPROVAL) :] for k in (mv.tags or {}) if k.startswith(APPROVAL))


def approve(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, version: int, by: str
) -> dict[str, Any]:
    name = str(attrs.get("name") or id)
    _version(env, name, version)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    env.registry.call("approval", lambda c: c.set_model_version_tag(name, str(version), APPROVAL + by, now))
    return {
        "model": name,
        "version": int(version),
        "by": by,
        "approvals": approvals(_version(env, name, version)),
    }


def run_of(env: LocalEnv, mv: Any) -> Any:
    return env.registry.call(f"run {mv.run_id}", lambda c: c.get_run(mv.run_id))


def eval_frame(env: LocalEnv, mv: Any) -> Any | None:
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = env.registry.call(
                "evaluation split", lambda c: c.download_artifacts(mv.run_id, "evaluation/eval.parquet", tmp)
            )
        except ProviderError:
            return None
        return pd.read_parquet(Path(path))


def load_model(env: LocalEnv, name: str, version: int) -> Any:
    cache: dict[tuple[str, int], Any] = env.__dict__.setdefault("_models", {})
    key = (name, int(version))
    if key not in cache:
        with env.registry._lock:
            _mlflow(env)
            import mlflow.sklearn

            cache[key] = mlflow.sklearn.load_model(f"models:/{name}/{version}")
    return cache[key]


def _champion_metric(env: LocalEnv, name: str, champion: int, frame: Any, metric: str) -> float:
    """The champion's metric on the candidate's evaluation split (same rows for both)."""
    model = load_model(env, name, champion)
    X = frame[[c for c in frame.columns if not c.startswith("__")]]
    pred = model.predict(X)
    score = None
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        score = proba[:, 1] if proba.shape[1] == 2 else proba
    return g.metric_on(frame, metric, pred, score)


def evaluate_gates(
    env: LocalEnv,
    id: str,
    attrs: Attributes,
    rt: RuntimeContext,
    policy: dict[str, Any],
    version: int | None = None,
) -> dict[str, Any]:
    name = str(attrs.get("name") or id)
    alias = str(policy.get("promote_to") or "champion")
    held = aliases(env, name)
    champion = held.get(alias)
    if version is None:
        candidates = [v for v in sorted(versions(env, name), reverse=True) if v != champion]
        if not candidates:
            return {
                "model": name,
                "version": None,
                "alias": alias,
                "champion": champion,
                "gates": [],
                "passed": False,
            }
        version = candidates[0]
    mv = _version(env, name, int(version))
    metrics = dict(run_of(env, mv).data.metrics)
    frame = None
    results = []
    for gate in policy.get("gates") or []:
        kind = gate["type"]
        if kind == "metric_threshold":
            ok, evidence = g.metric_threshold(gate, metrics)
        elif kind == "champion_comparison":
            if champion is None or champion == int(version):
                ok, evidence = True, "no champion yet" if champion is None else "this version is the champion"
            else:
                frame = frame if frame is not None else eval_frame(env, mv)
                if frame is not None:
                    mine = g.metric_on(frame, gate["metric"], frame["__pred__"], frame.get("__score__"))
                    theirs = _champion_metric(env, name, champion, frame, gate["metric"])
                else:  # no evaluation split: compare what the runs logged
                    mine = metrics.get(gate["metric"], float("nan"))
                    theirs = dict(run_of(env, _version(env, name, champion)).data.metrics).get(
                        gate["metric"], float("nan")
                    )
                ok, evidence = g.champion_comparison(gate, mine, theirs, champion)
        elif kind == "bias":
            frame = frame if frame is not None else eval_frame(env, mv)
            ok, evidence = (
                (False, "the run kept no evaluation split") if frame is None else g.bias(gate, frame)
            )
        else:
            ok, evidence = g.manual_approval(gate, approvals(mv))
        results.append({"type": kind, "gate": g.label(gate), "evidence": evidence, "passed": bool(ok)})
    return {
        "model": name,
        "version": int(version),
        "alias": alias,
        "champion": champion,
        "gates": results,
        "passed": all(r["passed"] for r in results),
    }


def promote(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, policy: dict[str, Any] | None, version: int
) -> dict[str, Any]:
    name = str(attrs.get("name") or id)
    result = evaluate_gates(env, id, attrs, rt, policy or {"promote_to": "champion", "gates": []}, version)
    result["previous"] = result.get("champion")
    result["promoted"] = False
    if result["passed"] or not result["gates"]:
        env.registry.call(
            "alias", lambda c: c.set_registered_model_alias(name, result["alias"], str(version))
        )
        result["promoted"] = True
        result["passed"] = True
    return result


def version_info(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, version: int
) -> dict[str, Any]:
    name = str(attrs.get("name") or id)
    mv = _version(env, name, version)
    run = run_of(env, mv)
    tags = dict(run.data.tags)
    return {
        "version": int(version),
        "run_id": mv.run_id,
        "metrics": dict(run.data.metrics),
        "params": dict(run.data.params),
        "dataset_versions": {
            k.split(".", 1)[1]: v for k, v in tags.items() if k.startswith("dataset_version.")
        },
        "config_hash": tags.get("config_hash"),
        "git_commit": tags.get("git_commit") or None,
        "inputs": tags.get("mlops_decl.pipeline"),
        "created": datetime.fromtimestamp(mv.creation_timestamp / 1000, timezone.utc).isoformat(
            timespec="seconds"
        ),
        "aliases": sorted(a for a, v in aliases(env, name).items() if v == int(version)),
        "approvals": approvals(mv),
    }
