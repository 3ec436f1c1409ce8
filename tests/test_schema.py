"""schemas/ is generated from the pydantic models and checked in; it must stay current, accept
every example, allow a `${...}` reference in place of any value, and reject wrong types."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from mlops_decl import schema
from mlops_decl.config.raw_check import check_file
from mlops_decl.config.yaml_source import parse_yaml
from mlops_decl.diagnostics import DiagnosticError

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "schemas"
EXAMPLES = REPO / "examples"


def _validator(name: str) -> Draft202012Validator:
    doc = json.loads((SCHEMAS / name).read_text())
    Draft202012Validator.check_schema(doc)
    return Draft202012Validator(doc)


PROJECT = _validator("project.schema.json")
RESOURCES = _validator("resources.schema.json")


def test_schemas_are_current() -> None:
    """Regenerate with `python -m mlops_decl.schema schemas/` when this fails."""
    generated = schema.generate()
    on_disk = {p.relative_to(SCHEMAS).as_posix(): p.read_text() for p in SCHEMAS.rglob("*.json")}
    assert sorted(on_disk) == sorted(generated), "schemas/ holds other files than generate() writes"
    stale = [name for name, text in generated.items() if on_disk[name] != text]
    assert not stale, f"schemas/ is stale: {stale}; run `python -m mlops_decl.schema schemas/`"


def test_schemas_declare_draft_2020_12() -> None:
    for path in SCHEMAS.rglob("*.json"):
        assert json.loads(path.read_text())["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_local_provider_schema_describes_its_settings_blocks_and_computed_attributes() -> None:
    doc = _validator("providers/local.schema.json").schema
    settings = Draft202012Validator(doc["properties"]["settings"])
    assert settings.is_valid({"delay_ms": 5}) and not settings.is_valid({"delay_ms": "5"})
    kinds = doc["properties"]["kinds"]["properties"]
    endpoint = kinds["endpoint"]["properties"]
    block = Draft202012Validator(endpoint["block"])
    assert block.is_valid({"port": 8080}) and not block.is_valid({"port": 0}) and not block.is_valid({"prt": 1})
    assert {"id", "url", "status", "serving_version"} <= set(endpoint["computed"]["properties"])
    assert not Draft202012Validator(kinds["dataset"]["properties"]["block"]).is_valid({})  # takes none
    for path in _example_files():  # every example's local settings fit
        data = yaml.safe_load(path.read_text()) or {}
        for name, body in (data.get("providers") or {}).items():
            if (body or {}).get("type", name) == "local":
                own = {k: v for k, v in (body or {}).items() if k != "type"}
                assert settings.is_valid(own), (path, name)


def _example_files() -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(EXAMPLES):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for fn in filenames:
            if fn.endswith((".yaml", ".yml")) and not fn.endswith((".vars.yaml", ".vars.yml")):
                found.append(Path(dirpath) / fn)
    return sorted(found)


def test_there_are_examples() -> None:
    assert any(p.name == "mlops.yaml" for p in _example_files())


@pytest.mark.parametrize("path", _example_files(), ids=lambda p: p.relative_to(EXAMPLES).as_posix())
def test_example_validates_against_checked_in_schema(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    if data is None:
        return
    validator = PROJECT if path.name == "mlops.yaml" else RESOURCES
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def _res(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"resources": {kind: {"x": body}}}


ENDPOINT = {"model": "${model.m}"}
GATES = {"model": "${model.m}"}
FEATURES = [{"name": "f", "dtype": "int"}]

# (sample, should the raw schema accept it)
SAMPLES: dict[str, tuple[dict[str, Any], bool]] = {
    "number-field-reference": (_res("endpoint", {**ENDPOINT, "replicas": "${var.replicas}"}), True),
    "float-field-reference": (_res("monitor", {"baseline": "${dataset.d}", "drift_share": "${var.s}"}), True),
    "enum-field-reference": (_res("dataset", {"uri": "a.csv", "format": "${var.fmt}"}), True),
    "list-field-reference": (
        _res("monitor", {"baseline": "${dataset.d}", "features": "${var.features}"}),
        True,
    ),
    "bool-field-reference": (
        _res(
            "feature_group",
            {"source": "${dataset.d}", "entity": ["k"], "features": FEATURES, "online": "${var.o}"},
        ),
        True,
    ),
    "gate-bound-reference": (
        _res(
            "registry_policy",
            {**GATES, "gates": [{"type": "metric_threshold", "metric": "auc", "min": "${var.f}"}]},
        ),
        True,
    ),
    "plain-number": (_res("endpoint", {**ENDPOINT, "replicas": 2}), True),
    "provider-block": (_res("endpoint", {**ENDPOINT, "sagemaker": {"image_uri": "x"}}), True),
    "number-as-word": (_res("endpoint", {**ENDPOINT, "replicas": "two"}), False),
    "number-as-list": (_res("endpoint", {**ENDPOINT, "replicas": [1]}), False),
    "bool-as-word": (
        _res(
            "feature_group",
            {"source": "${dataset.d}", "entity": ["k"], "features": FEATURES, "online": "sure"},
        ),
        False,
    ),
    "enum-value": (_res("dataset", {"uri": "a.xlsx", "format": "xlsx"}), False),
    "gate-type": (_res("registry_policy", {**GATES, "gates": [{"type": "nope", "metric": "auc"}]}), False),
    "unknown-field": (_res("dataset", {"uri": "a.csv", "fromat": "csv"}), False),
    "missing-required": (_res("dataset", {"format": "csv"}), False),
    "unknown-kind": ({"resources": {"modle": {"m": {}}}}, False),
    "list-for-mapping": ({"resources": ["dataset"]}, False),
    "body-as-list": (_res("dataset", ["a.csv"]), False),  # type: ignore[arg-type]
    "string-for-list": (
        _res("feature_group", {"source": "${dataset.d}", "entity": "k", "features": FEATURES}),
        False,
    ),
    "project-key-in-resource-file": ({"project": "p"}, False),
    # constraints bind literal values, and a reference still stands in for the whole value
    "empty-list-where-one-is-needed": (
        _res("feature_group", {"source": "${dataset.d}", "entity": [], "features": FEATURES}),
        False,
    ),
    "list-constraint-reference": (
        _res("feature_group", {"source": "${dataset.d}", "entity": "${var.keys}", "features": FEATURES}),
        True,
    ),
    "number-below-minimum": (_res("endpoint", {**ENDPOINT, "replicas": -1}), False),
    "fraction-out-of-range": (
        _res(
            "training_pipeline",
            {
                "inputs": ["${feature_group.f}"],
                "label": "y",
                "registers": "${model.m}",
                "estimator": "x.Y",
                "split": {"test_size": 1.5},
            },
        ),
        False,
    ),
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_json_schema_accepts_references_and_rejects_wrong_types(name: str) -> None:
    data, ok = SAMPLES[name]
    errors = list(RESOURCES.iter_errors(data))
    assert (not errors) == ok, [e.message for e in errors]


@pytest.mark.parametrize("name", list(SAMPLES))
def test_raw_check_agrees_with_json_schema(name: str) -> None:
    """The first check `validate` runs and the JSON Schema (what editors run) agree."""
    data, ok = SAMPLES[name]
    parsed, positions = parse_yaml(yaml.safe_dump(data), "r.yaml")
    try:
        check_file(parsed, positions, is_project=False)
        accepted = True
    except DiagnosticError:
        accepted = False
    assert accepted == ok


@pytest.mark.parametrize("name", list(SAMPLES))
def test_raw_models_agree_with_json_schema(name: str) -> None:
    """The raw models the JSON Schema is generated from accept what it accepts."""
    data, ok = SAMPLES[name]
    _, resource_file = schema.file_models()
    try:
        resource_file.model_validate(data)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == ok


def test_project_schema() -> None:
    good = {
        "project": "p",
        "backend": {"type": "local", "path": "envs/prod.json"},
        "providers": {"local": {}, "sagemaker": {"region": "${var.region}"}},
        "variables": {"n": {"type": "number", "default": 1}},
        "outputs": {"u": "${endpoint.e.url}", "v": {"value": 1, "sensitive": True}},
    }
    assert not list(PROJECT.iter_errors(good))
    assert list(PROJECT.iter_errors({"backend": {"type": "local"}}))  # no project
    assert list(PROJECT.iter_errors({"project": "p", "backend": {"type": 3}}))
    assert list(PROJECT.iter_errors({"project": "p", "variables": {"n": {"type": "integer"}}}))
    assert list(PROJECT.iter_errors({"project": "p", "bakend": {}}))
