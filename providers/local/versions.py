"""Model-version evidence and the registry primitives promotion needs, on the local MLflow
registry. The engine judges (mlops_decl/ml/promotion.py); this module only reads and writes.

Approvals are model-version tags (`mlops_decl.approval.<name>` = ISO time), so they live with
the version in the registry; the alias is an MLflow alias, moved by compare-and-set under a
per-model file lock, so a move never lands on an alias that changed since it was read.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from mlops_decl.ml.evidence import (
    AliasConflict,
    AliasMove,
    Approval,
    EvaluationRows,
    ModelVersions,
    Scores,
    VersionEvidence,
    VersionSummary,
)
from mlops_decl.provider import Attributes, ProviderError, RuntimeContext

from .base import LocalEnv

APPROVAL = "mlops_decl.approval."
SPLIT = "evaluation/eval.parquet"  # the evaluation split a training run keeps
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


def _created(mv: Any, timespec: str = "seconds") -> str:
    return datetime.fromtimestamp(mv.creation_timestamp / 1000, timezone.utc).isoformat(timespec=timespec)


def run_of(env: LocalEnv, mv: Any) -> Any | None:
    if not mv.run_id:  # a version registered from files, outside any run
        return None
    return env.registry.find(f"run {mv.run_id}", lambda c: c.get_run(mv.run_id))


def _dataset_versions(tags: dict[str, str]) -> dict[str, str]:
    """Tags like `dataset_version.<address>` (or `...dataset_versions.<address>`) by address."""
    out = {}
    for key, value in tags.items():
        m = re.match(r"^(?:.*\.)?dataset_versions?\.(.+)$", key)
        if m:
            out[m.group(1)] = value
    return out


def _split_location(env: LocalEnv, run_id: str | None) -> str | None:
    if not run_id:
        return None
    listed = env.registry.call(
        "evaluation artifacts", lambda c: c.list_artifacts(run_id, os.path.dirname(SPLIT))
    )
    return f"runs:/{run_id}/{SPLIT}" if any(f.path == SPLIT for f in listed) else None


# --- actions ---------------------------------------------------------------------------


def version_evidence(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, version: int
) -> VersionEvidence:
    name = name_of(id, attrs)
    mv = model_version(env, name, version)
    run = run_of(env, mv)
    tags = dict(run.data.tags) if run else {}
    return VersionEvidence(
        model=name,
        version=int(mv.version),
        run_id=mv.run_id or None,
        metrics={k: float(v) for k, v in (run.data.metrics if run else {}).items()},
        params=dict(run.data.params) if run else {},
        created=_created(mv),
        aliases=sorted(a for a, v in aliases(env, name).items() if v == int(mv.version)),
        approvals=approvals(mv),
        dataset_versions=_dataset_versions(tags),
        tags={k: v for k, v in tags.items() if not k.startswith("mlflow.")},
        config_hash=tags.get("config_hash") or None,
        git_commit=tags.get("git_commit") or None,
        pipeline=tags.get("mlops_decl.pipeline") or (mv.tags or {}).get("mlops_decl.pipeline"),
        source=mv.source,
        evaluation_split=_split_location(env, mv.run_id),
    )


def evaluation_rows(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, version: int
) -> EvaluationRows | None:
    """The evaluation split the training run kept, or None."""
    import pandas as pd

    mv = model_version(env, name_of(id, attrs), version)
    if not mv.run_id:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = env.registry.call(
                "evaluation split", lambda c: c.download_artifacts(mv.run_id, SPLIT, tmp)
            )
        except ProviderError:
            return None
        rows = pd.read_parquet(Path(path))
    return EvaluationRows(version=int(mv.version), rows=rows, source=f"runs:/{mv.run_id}/{SPLIT}")


def list_versions(env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext) -> ModelVersions:
    """The model's versions and aliases; without a registry database, none (no migration)."""
    name = name_of(id, attrs)
    return ModelVersions(
        model=name,
        versions=[
            VersionSummary(
                version=n,
                run_id=mv.run_id or None,
                pipeline=(mv.tags or {}).get("mlops_decl.pipeline"),
                created=_created(mv, "milliseconds"),
            )
            for n, mv in sorted(versions(env, name).items())
        ],
        aliases=aliases(env, name),
    )


def add_approval(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, version: int, by: str
) -> Approval:
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
    return Approval(
        model=name, version=int(version), by=by, approvals=approvals(model_version(env, name, version))
    )


@contextlib.contextmanager
def _alias_lock(env: LocalEnv, name: str) -> Iterator[None]:
    """Serialises read-compare-write of a model's aliases across processes: MLflow's alias call
    has no condition, so the condition is checked under this flock."""
    path = env.data_dir / "locks" / f"alias-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def set_alias(
    env: LocalEnv,
    id: str,
    attrs: Attributes,
    rt: RuntimeContext,
    alias: str,
    version: int,
    expected_current: int | None,
) -> AliasMove:
    """Point `alias` at `version`, only while it still points at `expected_current` (None: at
    no version); AliasConflict otherwise."""
    name = name_of(id, attrs)
    model_version(env, name, version)
    with _alias_lock(env, name):
        current = aliases(env, name).get(alias)
        if current != expected_current:
            raise AliasConflict(name, alias, expected_current, current)
        env.registry.call(
            f"set alias `{alias}` of model `{name}`",
            lambda c: c.set_registered_model_alias(name, alias, str(version)),
        )
    return AliasMove(model=name, alias=alias, version=int(version), previous=current)


def _local_dir(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    return Path(uri) if not parsed.scheme else None


def _load(env: LocalEnv, name: str, version: int, where: Path) -> Any:
    try:
        import mlflow.sklearn

        return mlflow.sklearn.load_model(str(where))
    except Exception:  # not a scikit-learn model: any MLflow flavour loads as pyfunc
        try:
            import mlflow.pyfunc

            return mlflow.pyfunc.load_model(str(where))
        except Exception as exc:
            raise ProviderError(f"cannot load model `{name}` version {version}: {exc}") from exc


def load_model(env: LocalEnv, name: str, version: int) -> Any:
    """The model of a version (scikit-learn flavor, else pyfunc), cached per provider: versions
    are immutable, and a server should not reload per request. Loaded from the artifact folder
    the registry names, so no process-wide MLflow URI is set."""
    with _cache_lock:
        cache: OrderedDict[tuple[str, int], Any] = env.__dict__.setdefault("_models", OrderedDict())
        key = (name, int(version))
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    uri = env.registry.call(
        f"artifacts of model `{name}` version {version}",
        lambda c: c.get_model_version_download_uri(name, str(version)),
    )
    where = _local_dir(str(uri))
    if where is not None and where.is_dir():
        model = _load(env, name, version, where)
    else:  # artifacts elsewhere: download them through the registry's own URIs
        import mlflow.artifacts

        with tempfile.TemporaryDirectory() as tmp:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=f"models:/{name}/{version}",
                dst_path=tmp,
                tracking_uri=env.registry.uri,
                registry_uri=env.registry.uri,
            )
            model = _load(env, name, version, Path(local))
    with _cache_lock:
        cache[key] = model
        while len(cache) > _MODELS_KEPT:
            cache.popitem(last=False)
    return model


def score(env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, version: int, rows: Any) -> Scores:
    """Predictions (and positive-class probabilities, for a binary classifier) of a version on
    raw feature rows. A model that rejects the rows is evidence (`error`), not a failure."""
    from .training import prepare

    name = name_of(id, attrs)
    model_version(env, name, version)
    model = load_model(env, name, version)
    try:
        X = prepare(rows)
        pred = model.predict(X)
        proba = model.predict_proba(X) if hasattr(model, "predict_proba") else None
    except Exception as exc:  # e.g. the rows lack a column this version needs
        return Scores(version=int(version), error=f"{type(exc).__name__}: {exc}")
    positive = proba[:, 1] if proba is not None and proba.shape[1] == 2 else None
    return Scores(version=int(version), predictions=pred, scores=positive)
