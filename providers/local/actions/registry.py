"""The model actions on the local provider: version evidence and the registry primitives
promotion needs, on the local MLflow registry. The engine judges (mlops_decl/ml/promotion.py);
this module only reads and writes.

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
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

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

from ..client import LocalEnv
from ..serving.models import load_model
from ..stores.versions import (
    APPROVAL,
    SPLIT,
    aliases,
    approvals,
    created,
    model_version,
    name_of,
    run_of,
    versions,
)

_UNSAFE_TAG = re.compile(r"[^\w.\- ]")  # MLflow tag keys: alphanumerics, _ - . and space


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
        created=created(mv),
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
                created=created(mv, "milliseconds"),
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


def score(env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, version: int, rows: Any) -> Scores:
    """Predictions (and positive-class probabilities, for a binary classifier) of a version on
    raw feature rows. A model that rejects the rows is evidence (`error`), not a failure."""
    from ..training.estimators import prepare

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
