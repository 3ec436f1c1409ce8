"""Approvals, gate evaluation and promotion on the local MLflow registry.

Approvals are model-version tags (`mlops_decl.approval.<name>` = ISO time), so they live with
the version in the registry; promotion moves an MLflow alias, and only when every gate passes.
"""

from __future__ import annotations

import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlops_decl.provider import Attributes, ProviderError, RuntimeContext

from . import gates as g
from .base import LocalEnv

APPROVAL = "mlops_decl.approval."
DEFAULT_ALIAS = "champion"
_UNSAFE_TAG = re.compile(r"[^\w.\- ]")  # MLflow tag keys: alphanumerics, _ - . and space
_MODELS_KEPT = 4  # loaded models cached per provider: the serving version plus a few recent
_cache_lock = threading.Lock()


def name_of(id: str, attrs: Attributes) -> str:
    return str(attrs.get("name") or id)


def registered(env: LocalEnv, name: str) -> Any | None:
    """The registered model, or None; never creates the registry database just to ask."""
    if not env.registry.exists():
        return None
    return env.registry.find(f"get registered model `{name}`", lambda c: c.get_registered_model(name))


def aliases(env: LocalEnv, name: str) -> dict[str, int]:
    rm = registered(env, name)
    return {a: int(v) for a, v in ((rm.aliases if rm else None) or {}).items()}


def versions(env: LocalEnv, name: str) -> dict[int, Any]:
    if not env.registry.exists():
        return {}
    found = env.registry.call(
        f"versions of model `{name}`", lambda c: c.search_model_versions(f"name='{name}'")
    )
    return {int(v.version): v for v in found}


def model_version(env: LocalEnv, name: str, version: int | str) -> Any:
    """The MLflow ModelVersion, or a ProviderError naming the versions that exist."""
    known = versions(env, name)
    if str(version).isdigit() and int(version) in known:
        return known[int(version)]
    shown = ", ".join(str(v) for v in sorted(known)) or "none yet"
    err = ProviderError(f"model `{name}` has no version {version} (versions: {shown})")
    err.hint = (  # type: ignore[attr-defined]
        "pick one of those versions" if known else "run the training pipeline that registers it first"
    )
    raise err


def approvals(mv: Any) -> list[str]:
    """Distinct approvers of a version. A name MLflow refuses in a tag key (an e-mail address)
    is kept in the value, as "<time> by <name>"."""
    names = set()
    for key, value in (mv.tags or {}).items():
        if key.startswith(APPROVAL):
            names.add(value.split(" by ", 1)[1] if " by " in value else key[len(APPROVAL) :])
    return sorted(names)


def approve(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, version: int, by: str
) -> dict[str, Any]:
    name, by = name_of(id, attrs), str(by or "").strip()
    if not by:
        raise ProviderError("an approval needs a name (--by NAME)")
    model_version(env, name, version)
    safe = _UNSAFE_TAG.sub("_", by)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    value = now if safe == by else f"{now} by {by}"
    env.registry.call(
        f"approve version {version} of model `{name}`",
        lambda c: c.set_model_version_tag(name, str(version), APPROVAL + safe, value),
    )
    return {
        "model": name,
        "version": int(version),
        "by": by,
        "approvals": approvals(model_version(env, name, version)),
    }


def run_of(env: LocalEnv, mv: Any) -> Any | None:
    if not mv.run_id:  # a version registered from files, outside any run
        return None
    return env.registry.find(f"run {mv.run_id}", lambda c: c.get_run(mv.run_id))


def eval_frame(env: LocalEnv, mv: Any) -> Any | None:
    """The evaluation split the training run kept (evaluation/eval.parquet), or None."""
    import pandas as pd

    if not mv.run_id:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = env.registry.call(
                "evaluation split",
                lambda c: c.download_artifacts(mv.run_id, "evaluation/eval.parquet", tmp),
            )
        except ProviderError:
            return None
        return pd.read_parquet(Path(path))


def load_model(env: LocalEnv, name: str, version: int) -> Any:
    """The model of a version (scikit-learn flavor, else pyfunc), cached per provider: versions
    are immutable, and a server should not reload per request."""
    with _cache_lock:
        cache: OrderedDict[tuple[str, int], Any] = env.__dict__.setdefault("_models", OrderedDict())
        key = (name, int(version))
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    with env.registry._lock:  # the fluent API reads global tracking/registry URIs
        import mlflow

        env.registry.client()
        mlflow.set_tracking_uri(env.registry.uri)
        mlflow.set_registry_uri(env.registry.uri)
        uri = f"models:/{name}/{version}"
        try:
            import mlflow.sklearn

            model = mlflow.sklearn.load_model(uri)
        except Exception:  # not a scikit-learn model: any MLflow flavour loads as pyfunc
            try:
                import mlflow.pyfunc

                model = mlflow.pyfunc.load_model(uri)
            except Exception as exc:
                raise ProviderError(f"cannot load model `{name}` version {version}: {exc}") from exc
    with _cache_lock:
        cache[key] = model
        while len(cache) > _MODELS_KEPT:
            cache.popitem(last=False)
    return model


def features_of(frame: Any) -> Any:
    from .training import prepare

    return prepare(frame[[c for c in frame.columns if not str(c).startswith("__")]])


def _champion_on_split(env: LocalEnv, name: str, champion: int, frame: Any, metric: str) -> float:
    """The champion's metric on the candidate's evaluation split: both judged on the same rows."""
    model = load_model(env, name, champion)
    X = features_of(frame)
    pred = model.predict(X)
    score = None
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        score = proba[:, 1] if proba.shape[1] == 2 else None
    return g.metric_on(frame, metric, pred, score)


def _compare(
    env: LocalEnv,
    name: str,
    gate: dict[str, Any],
    version: int,
    champion: int,
    metrics: dict[str, float],
    split: Callable[[], Any | None],
) -> tuple[bool, str]:
    metric = gate["metric"]
    frame, why = split(), "the candidate kept no evaluation split"
    if frame is not None:
        try:
            mine = g.metric_on(frame, metric, frame["__pred__"], frame.get("__score__"))
            theirs = _champion_on_split(env, name, champion, frame, metric)
            return g.champion_comparison(
                gate, mine, theirs, champion, f"on v{version}'s evaluation split ({len(frame)} rows)"
            )
        except ProviderError:
            raise
        except Exception as exc:  # e.g. the champion needs columns the candidate's split lacks
            why = f"scoring on the split failed: {type(exc).__name__}: {exc}"
    champ_run = run_of(env, model_version(env, name, champion))
    theirs_logged = dict(champ_run.data.metrics) if champ_run else {}
    if metric not in metrics:
        return False, f"v{version}'s run logged no `{metric}` ({why})"
    if metric not in theirs_logged:
        return False, f"champion v{champion}'s run logged no `{metric}` ({why})"
    return g.champion_comparison(
        gate, float(metrics[metric]), float(theirs_logged[metric]), champion, f"as logged ({why})"
    )


def evaluate_gates(
    env: LocalEnv,
    id: str,
    attrs: Attributes,
    rt: RuntimeContext,
    policy: dict[str, Any],
    version: int | None = None,
) -> dict[str, Any]:
    name = name_of(id, attrs)
    alias = str(policy.get("promote_to") or DEFAULT_ALIAS)
    champion = aliases(env, name).get(alias)
    result: dict[str, Any] = {
        "model": name,
        "version": None,
        "alias": alias,
        "champion": champion,
        "gates": [],
        "passed": False,
    }
    if version is None:
        # The newest version newer than the one holding the alias: older versions were either
        # promoted before or passed over, and plan should not keep showing them.
        waiting = [v for v in versions(env, name) if champion is None or v > champion]
        if not waiting:
            return result
        version = max(waiting)
    mv = model_version(env, name, version)
    version = int(mv.version)
    run = run_of(env, mv)
    metrics = {k: float(v) for k, v in (run.data.metrics if run else {}).items()}
    frames: list[Any] = []

    def split() -> Any | None:  # downloaded once, by the first gate that needs it
        if not frames:
            frames.append(eval_frame(env, mv))
        return frames[0]

    for gate in policy.get("gates") or []:
        kind = gate.get("type")
        try:
            if kind == "metric_threshold":
                ok, evidence = g.metric_threshold(gate, metrics)
            elif kind == "champion_comparison":
                if champion is None:
                    ok, evidence = True, "no champion yet"
                elif champion == version:
                    ok, evidence = True, f"v{version} already holds `{alias}`"
                else:
                    ok, evidence = _compare(env, name, gate, version, champion, metrics, split)
            elif kind == "bias":
                frame = split()
                ok, evidence = (
                    (False, "the run kept no evaluation split (evaluation/eval.parquet)")
                    if frame is None
                    else g.bias(gate, frame)
                )
            elif kind == "manual_approval":
                ok, evidence = g.manual_approval(gate, approvals(mv))
            else:
                ok, evidence = False, f"unknown gate type `{kind}`"
        except ProviderError:
            raise
        except Exception as exc:  # a gate that cannot be evaluated fails closed, saying why
            ok, evidence = False, f"could not evaluate: {type(exc).__name__}: {exc}"
        result["gates"].append(
            {"type": kind, "gate": g.label(gate), "evidence": evidence, "passed": bool(ok)}
        )
    result["version"] = version
    result["passed"] = all(r["passed"] for r in result["gates"])
    return result


def promote(
    env: LocalEnv,
    id: str,
    attrs: Attributes,
    rt: RuntimeContext,
    policy: dict[str, Any] | None,
    version: int,
) -> dict[str, Any]:
    name = name_of(id, attrs)
    if policy is None:
        model_version(env, name, version)
        previous = aliases(env, name).get(DEFAULT_ALIAS)
        result: dict[str, Any] = {
            "model": name,
            "version": int(version),
            "alias": DEFAULT_ALIAS,
            "champion": previous,
            "gates": [],
            "passed": True,
            "note": f"no registry_policy names model `{name}`: promoted without gates",
        }
    else:
        result = evaluate_gates(env, id, attrs, rt, policy, version)
        previous = result["champion"]
    result.update(promoted=False, previous=previous)
    if result["passed"]:
        env.registry.call(
            f"set alias `{result['alias']}` of model `{name}`",
            lambda c: c.set_registered_model_alias(name, result["alias"], str(version)),
        )
        result["promoted"] = True
    return result


def _dataset_versions(tags: dict[str, str]) -> dict[str, str]:
    """Tags like `dataset_version.<address>` (or `...dataset_versions.<address>`) by address."""
    out = {}
    for key, value in tags.items():
        m = re.match(r"^(?:.*\.)?dataset_versions?\.(.+)$", key)
        if m:
            out[m.group(1)] = value
    return out


def version_info(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, version: int
) -> dict[str, Any]:
    name = name_of(id, attrs)
    mv = model_version(env, name, version)
    run = run_of(env, mv)
    tags = dict(run.data.tags) if run else {}
    datasets = _dataset_versions(tags)
    return {
        "model": name,
        "version": int(version),
        "run_id": mv.run_id or None,
        "metrics": dict(run.data.metrics) if run else {},
        "params": dict(run.data.params) if run else {},
        "tags": {k: v for k, v in tags.items() if not k.startswith("mlflow.")},
        "dataset_versions": datasets,
        "config_hash": tags.get("config_hash") or None,
        "git_commit": tags.get("git_commit") or None,
        "inputs": {"pipeline": tags.get("mlops_decl.pipeline"), "datasets": sorted(datasets)},
        "created": datetime.fromtimestamp(mv.creation_timestamp / 1000, timezone.utc).isoformat(
            timespec="seconds"
        ),
        "source": mv.source,
        "aliases": sorted(a for a, v in aliases(env, name).items() if v == int(version)),
        "approvals": approvals(mv),
    }


def registered_versions(env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext) -> dict[str, Any]:
    """The model's versions in the registry, for closing audit intents a killed run left open."""
    name = name_of(id, attrs)
    return {
        "model": name,
        "versions": [
            {
                "version": n,
                "pipeline": (mv.tags or {}).get("mlops_decl.pipeline"),
                "run_id": mv.run_id or None,
                "created": datetime.fromtimestamp(mv.creation_timestamp / 1000, timezone.utc).isoformat(
                    timespec="milliseconds"
                ),
            }
            for n, mv in sorted(versions(env, name).items())
        ],
    }
