"""kinds_compiled.py is generated from the pydantic models in kinds.py and checked in; the
commands validate with it (kind_check.py). It must stay current and agree with the models:
the same documents accepted, the same errors at the same places, the same values filled in."""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from mlops_decl import compile_kinds, kind_check, kind_rules, kinds
from mlops_decl.config.project import Settings, VariableSpec

REPO = Path(__file__).resolve().parents[1]

VALID: dict[str, dict[str, Any]] = {
    "dataset": {"uri": "data/a.csv"},
    "feature_group": {"source": "s", "entity": ["id"], "features": [{"name": "f", "dtype": "float"}]},
    "training_pipeline": {"inputs": ["fg"], "label": "y", "registers": "m", "estimator": "x.Y"},
    "model": {},
    "registry_policy": {"model": "m", "gates": [{"type": "metric_threshold", "metric": "f1", "min": 0.5}]},
    "endpoint": {"model": "m"},
    "monitor": {"baseline": "b", "per_feature": {"f": {"method": "ks"}}, "on_drift": {"retrain": "t"}},
    "variable": {"type": "number", "default": 3},
    "project_settings": {"project": "p"},
    "resource_file": {"resources": {"dataset": {"a": {"uri": "x"}}}},
    "project_file": {"project": "p", "resources": None},
}


def _model_result(name: str, doc: Any) -> tuple[list[tuple[Any, ...]], Any]:
    model = compile_kinds.MODELS[name]
    try:
        valid = model.model_validate(doc)
    except ValidationError as exc:
        return _comparable(exc.errors(include_url=False)), None
    return [], valid.model_dump(mode="json")


def _compiled_result(name: str, doc: Any) -> tuple[list[tuple[Any, ...]], Any]:
    try:
        valid = kind_check.validate(name, doc)
    except kind_check.ValidationError as exc:
        return _comparable(exc.errors(include_url=False)), None
    return [], kind_check.to_json(name, valid)


def _comparable(errors: list[Any]) -> list[tuple[Any, ...]]:
    # A model says "a valid dictionary or instance of Split" where a typed dict says "a valid
    # dictionary"; errors.py gives both the same message.
    out = []
    for e in errors:
        if e["type"] in ("model_type", "dict_type"):
            out.append(("dict_type", e["loc"]))
        else:
            out.append((e["type"], e["loc"], e["msg"]))
    return out


def test_compiled_schemas_are_current() -> None:
    """Regenerate with `python -m mlops_decl.compile_kinds` when this fails."""
    assert compile_kinds.TARGET.read_text() == compile_kinds.generate()


def test_kind_names_and_fields_match_the_models() -> None:
    assert tuple(kinds.KINDS) == kind_rules.KIND_NAMES
    for name, model in compile_kinds.MODELS.items():
        assert kind_check.field_names(name) == tuple(model.model_fields), name
    assert [f.name for f in fields(VariableSpec)] == list(kinds.Variable.model_fields)
    assert [f.name for f in fields(Settings)] == list(kinds.ProjectSettings.model_fields)


@pytest.mark.parametrize("name", list(VALID))
def test_valid_documents_fill_in_the_same_values(name: str) -> None:
    errors, dumped = _compiled_result(name, VALID[name])
    assert errors == []
    assert dumped == _model_result(name, VALID[name])[1]


def test_any_values_dump_as_json_like_the_models() -> None:
    doc = {**VALID["training_pipeline"], "hyperparameters": {"since": datetime.date(2024, 1, 2), "n": 3}}
    assert _compiled_result("training_pipeline", doc) == _model_result("training_pipeline", doc)
    assert _compiled_result("training_pipeline", doc)[1]["hyperparameters"]["since"] == "2024-01-02"


def test_defaults_are_fresh_on_every_validation() -> None:
    first = kind_check.validate("training_pipeline", VALID["training_pipeline"])
    first["split"]["seed"] = 7
    first["lifecycle"]["ignore_changes"].append("x")
    second = kind_check.validate("training_pipeline", VALID["training_pipeline"])
    assert second["split"]["seed"] == 42 and second["lifecycle"]["ignore_changes"] == []
    defaults = kind_check.field_defaults("training_pipeline")
    defaults["tags"]["a"] = "b"
    assert kind_check.field_defaults("training_pipeline")["tags"] == {}


RULE_BREAKERS = [
    ("training_pipeline", {"inputs": ["fg"], "label": "y", "registers": "m"}),
    ("training_pipeline", {**VALID["training_pipeline"], "entrypoint": "train.py"}),
    ("registry_policy", {"model": "m", "gates": [{"type": "metric_threshold", "metric": "f1"}]}),
    ("registry_policy", {"model": "m", "gates": [{"type": "bias", "metric": "x"}, {"type": "nope"}, 3]}),
    ("project_settings", {"project": "p", "backend": {"type": 3, "bucket": "b"}}),
    ("feature_group", {"source": "s", "entity": [], "features": []}),
    ("endpoint", {"model": "m", "replicas": -1, "version": [1]}),
    ("monitor", {"baseline": "b", "drift_share": 0, "per_feature": {"f": {"method": "nope"}}, "x": 1}),
    ("training_pipeline", {**VALID["training_pipeline"], "split": {"test_size": 1.5}}),
    ("training_pipeline", {**VALID["training_pipeline"], "split": "half"}),
    ("resource_file", {"resources": {"dataset": {"a": 3}}, "project": "p"}),
    ("variable", {"type": "text"}),
]


@pytest.mark.parametrize(("name", "doc"), RULE_BREAKERS)
def test_invalid_documents_give_the_same_errors(name: str, doc: dict[str, Any]) -> None:
    compiled = _compiled_result(name, doc)
    assert compiled[0], "the document should be rejected"
    assert compiled == _model_result(name, doc)


VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-5, 5),
        st.floats(-2, 2, allow_nan=False),
        st.sampled_from(["", "x", "csv", "ks", "bias", "metric_threshold", "manual_approval", "float"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["type", "metric", "min", "name", "dtype", "seed", "k"]), inner, max_size=3
        ),
    ),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(list(VALID)))
    doc = dict(VALID[name])
    names = [*compile_kinds.MODELS[name].model_fields, "bogus"]
    for _ in range(draw(st.integers(1, 3))):
        field = draw(st.sampled_from(names))
        if draw(st.booleans()) and field in doc:
            del doc[field]
        else:
            doc[field] = draw(VALUES)
    return name, doc


@settings(
    max_examples=int(os.environ.get("MLOPS_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(mutated())
def test_models_and_compiled_schemas_agree_on_random_documents(case: tuple[str, dict[str, Any]]) -> None:
    name, doc = case
    assert _compiled_result(name, doc) == _model_result(name, doc)


def test_fields_at_follows_nesting_and_union_tags() -> None:
    assert kind_check.fields_at("registry_policy", ["gates", 0], {"type": "bias"}) == list(
        kinds.BiasGate.model_fields
    )
    assert kind_check.fields_at("monitor", ["per_feature", "f"]) == list(kinds.FeatureDrift.model_fields)
    assert kind_check.fields_at("training_pipeline", ["split"]) == list(kinds.Split.model_fields)
    assert kind_check.fields_at("dataset", ["uri"]) == []
    assert kind_check.fields_at("project_settings", ["backend"]) == list(kinds.Backend.model_fields)


def test_a_model_validator_without_a_rule_is_refused() -> None:
    class Odd(BaseModel):
        a: int = 0

        @kinds.model_validator(mode="after")
        def _no_such_rule(self) -> Odd:
            return self

    with pytest.raises(ValueError, match="kind_rules"):
        compile_kinds.compile_schema(Odd.__pydantic_core_schema__)


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_commands_do_not_import_pydantic(command: str, tmp_path: Path) -> None:
    """The point of compiling: a start pays for pydantic-core's compiled core only, not for
    pydantic (~50 ms) nor for pydantic-core's Python layer of typing declarations (~15 ms)."""
    shutil.copytree(REPO / "examples" / "churn", tmp_path / "churn")
    code = (
        "import sys\n"
        "from mlops_decl.cli.main import main\n"
        "try:\n"
        f"    main([{command!r}])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core'))\n"
        "print(loaded)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path / "churn", capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "['pydantic_core._pydantic_core']", out.stdout + out.stderr


def test_values_yaml_gives_beyond_json_dump_through_the_serializer() -> None:
    base = VALID["training_pipeline"]
    odd = {"when": datetime.date(2024, 1, 2), "pair": (1, 2), "big": float("inf"), "by_id": {1: "a"}}
    for key, value in odd.items():
        doc = {**base, "hyperparameters": {key: value, "n": [1, {"k": 2.5}]}}
        assert _compiled_result("training_pipeline", doc) == _model_result("training_pipeline", doc), key
    dumped = kind_check.to_json("training_pipeline", kind_check.validate("training_pipeline", base))
    dumped["split"]["seed"] = -1  # a copy: the validated document is not shared
    assert kind_check.validate("training_pipeline", base)["split"].get("seed") != -1


REFS = st.sampled_from(["${dataset.a.version}", "after ${model.m.latest_version}", "${endpoint.e.url}"])


@st.composite
def with_references(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A kind's valid document, perhaps with one field changed, with resource references put
    in at random fields (at the top or one level down)."""
    name = draw(st.sampled_from(kind_rules.KIND_NAMES))
    doc = dict(VALID[name])
    names = list(compile_kinds.MODELS[name].model_fields)
    if draw(st.booleans()):
        doc[draw(st.sampled_from(names))] = draw(VALUES)
    for field in draw(st.lists(st.sampled_from(names), min_size=1, max_size=3)):
        ref = draw(st.one_of(REFS, st.lists(REFS, min_size=1, max_size=2)))
        inner = doc.get(field)
        if isinstance(inner, dict) and inner and draw(st.booleans()):
            doc[field] = {**inner, draw(st.sampled_from(sorted(inner))): ref}
        else:
            doc[field] = ref
    return name, doc


@settings(
    max_examples=int(os.environ.get("MLOPS_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(with_references())
def test_the_first_check_covers_resolving_a_body_without_variables(case: tuple[str, dict[str, Any]]) -> None:
    """workspace.check_workspace resolves only bodies that read a variable (or files with `$${`
    escapes): for any other body, passing the first check (raw_check) must mean resolving it
    before apply cannot fail, or a mistake would wait until plan."""
    from mlops_decl.config.expressions import UNKNOWN
    from mlops_decl.config.project import ResourceConfig
    from mlops_decl.config.raw_check import _model_errors
    from mlops_decl.config.yaml_source import Positions
    from mlops_decl.diagnostics import DiagnosticError
    from mlops_decl.resolve import resolve_body

    name, doc = case
    if _model_errors(name, doc, ()):
        return
    rc = ResourceConfig(f"{name}.x", name, "x", doc, Positions("f.yaml"), ("resources", name, "x"))
    try:
        resolve_body(rc, lambda ref: UNKNOWN, "local")
    except DiagnosticError as exc:
        raise AssertionError(f"passed the first check, failed resolution: {exc.diagnostics}") from None
