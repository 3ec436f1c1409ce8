"""Scoring rows with the model version an endpoint's alias points at, for `predict` and the
HTTP server (actions/serving.py): rows in, typed and scored in chunks, predictions and scores
out, each batch handed to the capture sink.

`predict` resolves the version on every call; the server whenever the registry database has
changed, so a promotion reaches a running server on its next request. Loaded models are
cached by (model, version) (models.py).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from mlops_decl.provider import Attributes, ProviderError, RuntimeContext

from ..client import LocalEnv
from ..endpoint import resolve_version as live_version
from ..stores.capture import Batch
from ..stores.versions import model_version, versions
from .models import load_model

CHUNK_ROWS = 1000  # rows the model scores at once


class PendingModel(ProviderError):
    """The endpoint's alias points at no version yet: train, then promote."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


def address(rt: RuntimeContext | None, kind: str, id: str) -> str:
    found = rt.find(kind, id) if rt is not None else None
    return found[0] if found else f"{kind}.{id}"


def resolve_version(env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext | None) -> int:
    """The version the endpoint serves now, or an error saying what to run first."""
    name, wanted = str(attrs["model"]), attrs.get("version", "champion")
    number = live_version(env, name, wanted)
    if number is not None:
        return number
    if isinstance(wanted, int) or str(wanted).isdigit():
        model_version(env, name, wanted)  # raises, naming the versions that exist
    model = address(rt, "model", name)
    known = sorted(versions(env, name))
    if known:  # trained but never promoted
        hint = f"run `mlops-decl promote {model} --version {known[-1]}`"
    else:
        pipeline = next(
            (
                address
                for address, (kind, _, a) in (rt.resources.items() if rt is not None else [])
                if kind == "training_pipeline" and a.get("registers") == name
            ),
            None,
        )
        first = f"mlops-decl run {pipeline}" if pipeline else "mlops-decl run training_pipeline.NAME"
        hint = f"run `{first}` then `mlops-decl promote {model} --version N`"
    if str(wanted).lower() == "latest":
        message = f"pending_model: model `{name}` has no versions yet"
    else:
        message = f"pending_model: no version of model `{name}` holds alias `{wanted}` yet"
    raise PendingModel(message, hint)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _predictions(raw: Any) -> list[Any]:
    """Model output as JSON-able values: a scalar per row (a list when the model gives several)."""
    import numpy as np

    out = np.asarray(raw)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.dtype != object:
        return list(out.tolist())  # Python scalars, in C
    return [_plain(v) if out.ndim == 1 else [_plain(x) for x in v] for v in out]


def _frame(rows: Any) -> Any:
    """The rows as a DataFrame: a list of column: value objects, or a DataFrame already."""
    import pandas as pd

    if isinstance(rows, pd.DataFrame):
        if rows.empty:
            raise ProviderError("no rows to score")
        return rows
    if not isinstance(rows, list) or not rows:
        raise ProviderError("no rows to score")
    bad = next((i for i, r in enumerate(rows) if not isinstance(r, dict)), None)
    if bad is not None:
        raise ProviderError(f"row {bad} is not an object of column: value pairs ({type(rows[bad]).__name__})")
    return pd.DataFrame.from_records(rows)


def _numeric_inputs(model: Any) -> set[str]:
    """Columns the model reads as numbers: those its ColumnTransformer sends anywhere but to an
    encoder (training.pipeline_for one-hot encodes strings and passes numbers through)."""
    steps = getattr(model, "steps", None)
    pre = steps[0][1] if steps else None
    numeric: set[str] = set()
    for _, transformer, columns in getattr(pre, "transformers_", []):
        if isinstance(transformer, str) and transformer == "drop":
            continue
        if type(transformer).__name__.endswith("Encoder") or not isinstance(columns, (list, tuple)):
            continue
        numeric.update(c for c in columns if isinstance(c, str))
    return numeric


def _typed(frame: Any, numeric: set[str], what: str) -> Any:
    """The model's input columns with numbers where it reads numbers; a value of the wrong type
    is an error naming its column and row, not a NaN scored silently."""
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        values = out[column]
        is_number = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if column in numeric and not is_number:
            coerced = pd.to_numeric(values, errors="coerce")
            wrong = coerced.isna() & values.notna()
            if wrong.any():
                row = int(wrong.to_numpy().argmax())
                err = ProviderError(f"column `{column}` takes numbers, row {row} has {values.iloc[row]!r}")
                err.hint = f"{what} reads `{column}` as a number"  # type: ignore[attr-defined]
                raise err
            out[column] = coerced
        elif values.dtype == object:
            nested = values.map(lambda v: isinstance(v, (dict, list)))
            if nested.any():
                row = int(nested.to_numpy().argmax())
                raise ProviderError(
                    f"column `{column}` takes a number or a string, row {row} has a "
                    f"{type(values.iloc[row]).__name__}"
                )
    return out


def _outputs(model: Any, X: Any) -> tuple[Any, Any]:
    """The model's predictions and, for a binary classifier, the positive class's probability,
    as arrays. A Pipeline's transforms run once for both (Pipeline.predict and predict_proba
    would each run them)."""
    import numpy as np

    final, Xt = model, X
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and len(steps) > 1 and hasattr(model, "named_steps"):
        for _, step in steps[:-1]:
            if step is not None and step != "passthrough":
                Xt = step.transform(Xt)
        final = steps[-1][1]
    preds = np.asarray(final.predict(Xt))
    if preds.ndim == 2 and preds.shape[1] == 1:
        preds = preds[:, 0]
    scores = None
    if hasattr(final, "predict_proba"):
        proba = final.predict_proba(Xt)
        if proba.shape[1] == 2:  # binary: the positive class's probability
            scores = np.asarray(proba[:, 1], dtype=np.float64)
    return preds, scores


def _capturable(chunks: list[Any]) -> Any:
    """The predictions as the capture store takes them: one array when the model gives a value
    per row (the writer makes it a column as is: no Python objects), else JSON-able lists. Floats
    are float64, the type the JSON answer's values have."""
    import numpy as np

    out = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
    if out.ndim != 1:
        return _predictions(out)
    return out.astype(np.float64) if out.dtype.kind == "f" and out.dtype != np.float64 else out


def _inputs(model: Any, frame: Any, what: str, version: int) -> Any:
    """The model's input columns of `frame`, typed as it reads them. A scikit-learn Pipeline
    fitted on a DataFrame knows its input columns: select them, so extra columns are ignored
    and missing ones are named."""
    expected = [str(c) for c in getattr(model, "feature_names_in_", [])]
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        err = ProviderError(f"the rows lack column(s) {', '.join(missing)} that {what} needs")
        err.hint = f"version {version} takes: {', '.join(expected)}"  # type: ignore[attr-defined]
        raise err
    return _typed(frame[expected], _numeric_inputs(model), what) if expected else frame


def _prepared(model: Any, X: Any) -> Any:
    """X in the plain dtypes training gave the model (training.estimators.prepare)."""
    from ..training.estimators import prepare

    return prepare(X) if len(getattr(model, "feature_names_in_", [])) else X


def _answer(
    rt: RuntimeContext | None, id: str, name: str, version: int, preds: list[Any], scores: Any
) -> dict[str, Any]:
    return {
        "endpoint": address(rt, "endpoint", id),
        "model": name,
        "version": version,
        "predictions": preds,
        "scores": None if scores is None else scores.tolist(),
    }


def score(
    env: LocalEnv,
    id: str,
    attrs: Attributes,
    rt: RuntimeContext | None,
    rows: Any,
    *,
    version: int | None = None,
    sink: Callable[[Batch], object] | None = None,
    turn: Callable[[], AbstractContextManager[Any]] = nullcontext,
) -> dict[str, Any]:
    """Score rows (a list of objects, or a DataFrame) with the version the endpoint points at
    now (or `version`); `sink` receives them with their outputs, for the capture store. The
    model runs on CHUNK_ROWS rows at a time; the preparing and each chunk run inside a
    `turn()` (the server's turns let a small request in between the steps of a large one)."""
    frame = _frame(rows)
    if version is None:
        version = resolve_version(env, id, attrs, rt)
    name = str(attrs["model"])
    model = load_model(env, name, version)
    what = f"model `{name}` version {version}"
    with turn():
        X = _prepared(model, _inputs(model, frame, what, version))
    raw: list[Any] = []
    raw_scores: list[Any] | None = []
    try:
        for start in range(0, len(X), CHUNK_ROWS):
            with turn():
                more, more_scores = _outputs(model, X.iloc[start : start + CHUNK_ROWS])
            raw.append(more)
            if raw_scores is not None and more_scores is not None:
                raw_scores.append(more_scores)
            else:
                raw_scores = None
    except (ValueError, TypeError, KeyError) as exc:
        raise ProviderError(f"{what} cannot score these rows: {exc}") from exc
    import numpy as np

    preds = [v for chunk in raw for v in _predictions(chunk)]
    scores = None if raw_scores is None else np.concatenate(raw_scores)
    if sink is not None:  # the arrays, not the lists: the writer makes columns of them as they are
        sink(Batch(id, version, frame, _capturable(raw), scores))
    return _answer(rt, id, name, version, preds, scores)


def _together(model: Any, inputs: list[Any]) -> list[tuple[Any, Any]]:
    """_outputs of each typed frame in `inputs` (all of the same dtypes), from one call of the
    model on all their rows. prepare() goes by each column's dtype and value, so preparing
    them together is preparing each."""
    if len(inputs) == 1:
        return [_outputs(model, _prepared(model, inputs[0]))]
    import numpy as np
    import pandas as pd

    preds, scores = _outputs(model, _prepared(model, pd.concat(inputs, ignore_index=True)))
    bounds = np.cumsum([len(x) for x in inputs])[:-1]
    split_scores = [None] * len(inputs) if scores is None else np.split(scores, bounds)
    return list(zip(np.split(preds, bounds), split_scores, strict=True))


def score_many(
    env: LocalEnv,
    id: str,
    attrs: Attributes,
    rt: RuntimeContext | None,
    frames: list[Any],
    *,
    version: int,
    sink: Callable[[Batch], object] | None = None,
) -> list[dict[str, Any] | ProviderError]:
    """Several requests' rows scored as `score` scores each, with one model call for all that
    agree in columns and types: a pipeline's transforms cost about the same for one row as for
    ten, so the server answers the small requests that queued together in one call. Each
    request keeps its own answer, capture and errors: one the model refuses in company is
    scored again alone, so its error is its own."""
    name = str(attrs["model"])
    model = load_model(env, name, version)
    what = f"model `{name}` version {version}"
    out: list[dict[str, Any] | ProviderError] = []
    groups: dict[tuple[Any, ...], list[tuple[int, Any, Any]]] = {}
    for i, rows in enumerate(frames):
        try:
            frame = _frame(rows)
            X = _inputs(model, frame, what, version)
        except ProviderError as exc:
            out.append(exc)
            continue
        out.append(ProviderError(f"{what} did not score these rows"))  # run() replaces it
        groups.setdefault((tuple(X.columns), tuple(map(str, X.dtypes))), []).append((i, frame, X))

    def run(members: list[tuple[int, Any, Any]]) -> None:
        try:
            outputs = _together(model, [x for _, _, x in members])
        except (ValueError, TypeError, KeyError) as exc:
            if len(members) == 1:
                out[members[0][0]] = ProviderError(f"{what} cannot score these rows: {exc}")
                return
            for member in members:
                run([member])
            return
        for (i, frame, _), (preds, scores) in zip(members, outputs, strict=True):
            if sink is not None:
                sink(Batch(id, version, frame, _capturable([preds]), scores))
            out[i] = _answer(rt, id, name, version, _predictions(preds), scores)

    for members in groups.values():
        run(members)
    return out
