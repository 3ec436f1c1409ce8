"""Every user mistake is one clear message at the right file:line:column, exit 1, no traceback,
state untouched (docs/reliability.md, Bad input). Each case runs the real CLI in a subprocess.

Mistakes in a resource file are added as `extra.yaml` beside a copy of the quickstart, so the
rest of the project is valid; mistakes in mlops.yaml use a project of that one file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mlops_decl.state import State, open_backend

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart"

ERROR_LINE = re.compile(r"^Error: (?:(?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+): )?(?P<summary>.*)$")


@dataclass
class Mistake:
    files: dict[str, str | bytes | None]  # relative path -> content (None deletes the file)
    # expected file, line, column (None: no file involved); a line given as text is the line of
    # the quickstart file that starts with it
    at: tuple[str, int | str, int] | None
    says: tuple[str, ...]  # substrings of the Error line
    hint: str = ""  # substring of the hint line
    args: tuple[str, ...] = ("validate",)
    quickstart: bool = True  # False: a project of mlops.yaml (and the given files) only
    env: dict[str, str] = field(default_factory=dict)


MINIMAL = "project: t\n"

MISTAKES: dict[str, Mistake] = {
    # --- YAML itself -----------------------------------------------------------------------
    "yaml-unclosed-brace": Mistake(
        {"extra.yaml": "resources:\n  dataset:\n    a: {uri: x.csv\n  model:\n    m: {}\n"},
        ("extra.yaml", 3, 8),
        ("YAML syntax error", "`{` is not closed"),
        "closing `}`",
    ),
    "yaml-colon-in-value": Mistake(
        {"extra.yaml": "resources:\n  model:\n    m:\n      description: ratio: high\n"},
        ("extra.yaml", 4, 25),
        ("YAML syntax error", "mapping values are not allowed"),
        "quoting",
    ),
    "yaml-unquoted-reference-in-flow-mapping": Mistake(
        {"extra.yaml": "resources:\n  endpoint:\n    e: {model: ${model.churn}, replicas: 1}\n"},
        ("extra.yaml", 3, 16),
        ("YAML syntax error", "reference inside `{...}` or `[...]` must be quoted"),
        'write it in quotes: "${model.churn}"',
    ),
    "yaml-unclosed-quote": Mistake(
        {"extra.yaml": 'resources:\n  model:\n    m: {description: "abc}\n    n: {}\n'},
        ("extra.yaml", 3, 22),
        ("quoted string is never closed",),
        "closing quote",
    ),
    "yaml-tab-indentation": Mistake(
        {"extra.yaml": "resources:\n  model:\n\tm: {}\n"},
        ("extra.yaml", 3, 1),
        ("tab character",),
        "spaces",
    ),
    "yaml-duplicate-key": Mistake(
        {"extra.yaml": "resources:\n  dataset:\n    a: {uri: a.csv}\n    a: {uri: b.csv}\n"},
        ("extra.yaml", 4, 5),
        ("duplicate key `a`", "line 3"),
        "remove one",
    ),
    "yaml-not-utf8": Mistake(
        {"extra.yaml": b"resources:\n  model:\n    m: {description: caf\xe9}\n"},
        ("extra.yaml", 3, 25),
        ("not valid UTF-8", "0xe9"),
        "UTF-8",
    ),
    "yaml-two-documents": Mistake(
        {"extra.yaml": "resources: {}\n---\nresources: {}\n"},
        ("extra.yaml", 2, 1),
        ("second YAML document",),
        "one document per file",
    ),
    "yaml-list-for-file": Mistake(
        {"extra.yaml": "- dataset\n- model\n"},
        ("extra.yaml", 1, 1),
        ("must be a YAML mapping",),
        "resources:",
    ),
    # --- the schema --------------------------------------------------------------------------
    "unknown-top-level-key": Mistake(
        {"extra.yaml": "resource:\n  model:\n    m: {}\n"},
        ("extra.yaml", 1, 1),
        ("unknown top-level key `resource`",),
        "did you mean `resources`?",
    ),
    "unknown-kind": Mistake(
        {"extra.yaml": "resources:\n  modle:\n    m: {}\n"},
        ("extra.yaml", 2, 3),
        ("unknown resource kind `modle`",),
        "did you mean `model`?",
    ),
    "unknown-field": Mistake(
        {"extra.yaml": "resources:\n  dataset:\n    a: {uri: a.csv, fromat: csv}\n"},
        ("extra.yaml", 3, 21),
        ("unknown field `fromat`", "dataset.a"),
        "did you mean `format`?",
    ),
    "unknown-field-nested": Mistake(
        {"extra.yaml": "resources:\n  model:\n    m:\n      lifecycle: {prevent_destory: true}\n"},
        ("extra.yaml", 4, 19),
        ("unknown field `prevent_destory`", "model.m.lifecycle"),
        "did you mean `prevent_destroy`?",
    ),
    "misspelt-required-field": Mistake(
        {"extra.yaml": "resources:\n  dataset:\n    a: {ur: a.csv}\n"},
        ("extra.yaml", 3, 9),
        ("unknown field `ur`", "dataset.a"),
        "did you mean `uri`?",
    ),
    "misspelt-field-of-one-gate-type": Mistake(
        {
            "extra.yaml": "resources:\n  registry_policy:\n    p:\n      model: ${model.churn}\n"
            "      gates:\n        - {type: champion_comparison, metric: auc, min_delt: 0.1}\n"
        },
        ("extra.yaml", 6, 52),
        ("unknown field `min_delt`", "registry_policy.p.gates[0]"),
        "did you mean `min_delta`?",
    ),
    "wrong-type": Mistake(
        {"extra.yaml": "resources:\n  endpoint:\n    e:\n      model: ${model.churn}\n      replicas: two\n"},
        ("extra.yaml", 5, 17),
        ("endpoint.e", "replicas", "expected a whole number", "'two'"),
        "without quotes",
    ),
    "value-out-of-range": Mistake(
        {"extra.yaml": "resources:\n  endpoint:\n    e:\n      model: ${model.churn}\n      replicas: -1\n"},
        ("extra.yaml", 5, 17),
        ("endpoint.e", "replicas", "must be at least 0, got -1"),
        "fit the bound",
    ),
    "wrong-enum-format": Mistake(
        {"extra.yaml": "resources:\n  dataset:\n    a:\n      uri: a.xlsx\n      format: xlsx\n"},
        ("extra.yaml", 5, 15),
        ("dataset.a", "format", "'xlsx' is not one of: csv, parquet"),
        "one of the values",
    ),
    "wrong-enum-gate-type": Mistake(
        {
            "extra.yaml": "resources:\n  registry_policy:\n    p:\n      model: ${model.churn}\n"
            "      gates:\n        - {type: nope, metric: auc}\n"
        },
        ("extra.yaml", 6, 18),
        ("registry_policy.p", "gates[0]", "`type: nope` is not one of", "metric_threshold"),
        "`type:`",
    ),
    "missing-required-field": Mistake(
        {"extra.yaml": "resources:\n  dataset:\n    a:\n      format: csv\n"},
        ("extra.yaml", 3, 5),
        ("missing required field `uri`", "dataset.a"),
        "add `uri:`",
    ),
    "gate-without-bound": Mistake(
        {
            "extra.yaml": "resources:\n  registry_policy:\n    p:\n      model: ${model.churn}\n"
            "      gates:\n        - type: metric_threshold\n          metric: auc\n"
        },
        ("extra.yaml", 6, 11),
        ("registry_policy.p", "gates[0]", "needs `min` or `max`"),
        "add `min:` or `max:`",
    ),
    "list-where-mapping-expected": Mistake(
        {"extra.yaml": "resources:\n  dataset:\n    a: [data/a.csv]\n"},
        ("extra.yaml", 3, 8),
        ("dataset.a", "expected a mapping", "got a list"),
        "indentation",
    ),
    "list-of-kinds": Mistake(
        {"extra.yaml": "resources:\n  - dataset\n"},
        ("extra.yaml", 2, 3),
        ("resources", "expected a mapping", "got a list"),
        "indentation",
    ),
    "string-where-list-expected": Mistake(
        {
            "extra.yaml": "resources:\n  feature_group:\n    f:\n      source: ${dataset.customers}\n"
            "      entity: customer_id\n      features: [{name: plan, dtype: string}]\n"
        },
        ("extra.yaml", 5, 15),
        ("feature_group.f", "entity", "expected a list"),
        "indentation",
    ),
    # --- references and the graph ------------------------------------------------------------
    "dangling-reference": Mistake(
        {"extra.yaml": "resources:\n  endpoint:\n    e:\n      model: ${model.churm}\n"},
        ("extra.yaml", 4, 14),
        ("undeclared resource `model.churm`",),
        "did you mean `model.churn`?",
    ),
    "undeclared-variable": Mistake(
        {"extra.yaml": 'resources:\n  model:\n    m: {description: "floor ${var.auc_flor}"}\n'},
        ("extra.yaml", 3, 22),
        ("undeclared variable `var.auc_flor`",),
        "did you mean `var.auc_floor`?",
    ),
    "attribute-does-not-exist": Mistake(
        {"extra.yaml": 'resources:\n  model:\n    m:\n      description: "v${dataset.customers.nope}"\n'},
        ("extra.yaml", 4, 20),
        ("`dataset.customers` has no attribute `nope`",),
        "version",
    ),
    "malformed-reference": Mistake(
        {"extra.yaml": 'resources:\n  model:\n    m:\n      description: "${dataset}"\n'},
        ("extra.yaml", 4, 20),
        ("`${dataset}` is not a valid reference",),
        "${kind.name}",
    ),
    "cycle": Mistake(
        {
            "extra.yaml": "resources:\n  model:\n"
            '    a: {description: "${model.b.id}"}\n'
            "    b:\n      depends_on: [model.a]\n"
        },
        ("extra.yaml", 3, 22),
        ("dependency cycle: model.a -> model.b -> model.a",),
        "break the cycle",
    ),
    "depends-on-missing-address": Mistake(
        {"extra.yaml": "resources:\n  model:\n    m:\n      depends_on: [dataset.customer]\n"},
        ("extra.yaml", 4, 20),
        ("depends_on names undeclared resource `dataset.customer`",),
        "did you mean `dataset.customers`?",
    ),
    "output-dangling-reference": Mistake(
        {"mlops.yaml": "project: t\noutputs:\n  url: ${endpoint.api.url}\n"},
        ("mlops.yaml", 3, 8),
        ("undeclared resource `endpoint.api`",),
        "resources.endpoint",
        quickstart=False,
    ),
    "duplicate-address-across-files": Mistake(
        {"more/models.yaml": "resources:\n  model:\n    churn: {}\n"},
        ("more/models.yaml", 3, 5),
        ("model.churn is defined twice", "first at ml.yaml:"),
        "unique across all files",
    ),
    # --- variables ---------------------------------------------------------------------------
    "missing-required-variable": Mistake(
        {"mlops.yaml": "project: t\nvariables:\n  token: {type: string}\n"},
        ("mlops.yaml", 3, 3),
        ("variable `token` has no value",),
        "-var token=",
        quickstart=False,
    ),
    "missing-required-variable-plan": Mistake(
        {"mlops.yaml": "project: t\nvariables:\n  token: {type: string}\n"},
        ("mlops.yaml", 3, 3),
        ("variable `token` has no value",),
        "-var token=",
        args=("plan",),
        quickstart=False,
    ),
    "var-flag-wrong-type": Mistake(
        {},
        ("mlops.yaml", "  replicas:", 3),
        ("variable `replicas` must be a number", "'two'", "-var"),
        "number value",
        args=("validate", "-var", "replicas=two"),
    ),
    "var-flag-wrong-type-plan": Mistake(
        {},
        ("mlops.yaml", "  replicas:", 3),
        ("variable `replicas` must be a number", "'two'", "-var"),
        "number value",
        args=("plan", "-var", "replicas=two"),
    ),
    "var-env-wrong-type-plan": Mistake(
        {},
        ("mlops.yaml", "  auc_floor:", 3),
        ("variable `auc_floor` must be a number", "MLOPS_VAR_auc_floor"),
        "number value",
        args=("plan",),
        env={"MLOPS_VAR_auc_floor": "high"},
    ),
    "variable-default-wrong-type": Mistake(
        {"mlops.yaml": "project: t\nvariables:\n  n: {type: number, default: many}\n"},
        ("mlops.yaml", 3, 3),
        ("variable `n` must be a number", "'many'", "default"),
        "number value",
        quickstart=False,
    ),
    "variable-type-unknown": Mistake(
        {"mlops.yaml": "project: t\nvariables:\n  n: {type: integer}\n"},
        ("mlops.yaml", 3, 13),
        ("variables.n.type", "'integer' is not one of"),
        "one of the values",
        quickstart=False,
    ),
    # --- providers and the project file --------------------------------------------------------
    "unknown-provider-on-resource": Mistake(
        {"extra.yaml": "resources:\n  model:\n    m: {provider: sagemakr}\n"},
        ("extra.yaml", 3, 19),
        ("model.m", "unknown provider `sagemakr`"),
        "installed providers: local",
    ),
    "unknown-provider-in-providers": Mistake(
        {"mlops.yaml": "project: t\nproviders:\n  local: {}\n  awz: {region: x}\n"},
        ("mlops.yaml", 4, 3),
        ("unknown provider `awz`",),
        "installed providers",
        quickstart=False,
    ),
    "cloud-provider-on-resource-not-written-yet": Mistake(
        {"extra.yaml": "resources:\n  model:\n    m: {provider: databricks}\n"},
        ("extra.yaml", 3, 19),
        ("model.m", "provider `databricks` is not installed"),
        "the databricks provider is not written yet",
    ),
    "cloud-provider-not-written-yet": Mistake(
        {"mlops.yaml": "project: t\nproviders:\n  local: {}\n  vertex: {location: europe-west4}\n"},
        ("mlops.yaml", 4, 3),
        ("provider `vertex` is not installed",),
        "the vertex provider is not written yet; once it ships, pip install 'mlops-decl[vertex]'",
        quickstart=False,
    ),
    "project-in-resource-file": Mistake(
        {"extra.yaml": "resources:\n  model:\n    m: {}\nproject: other\n"},
        ("extra.yaml", 4, 1),
        ("`project` belongs in mlops.yaml",),
        "move it to mlops.yaml",
    ),
    "backend-in-resource-file": Mistake(
        {"extra.yaml": "backend: {type: local}\n"},
        ("extra.yaml", 1, 1),
        ("`backend` belongs in mlops.yaml",),
        "move it to mlops.yaml",
    ),
    "gcs-backend-not-available-yet": Mistake(
        {"mlops.yaml": "project: t\nbackend:\n  type: gcs\n  bucket: b\n"},
        ("mlops.yaml", 3, 9),
        ("`gcs` state backend is not available yet", "`vertex` extra"),
        "installed backends: local, s3",
        quickstart=False,
    ),
    "s3-backend-without-bucket": Mistake(
        {"mlops.yaml": "project: t\nbackend:\n  type: s3\n  key: state.json\n"},
        ("mlops.yaml", 2, 1),
        ("the `s3` backend needs `bucket`",),
        "add `bucket:` under `backend:`",
        quickstart=False,
    ),
    "s3-backend-bad-bucket-name": Mistake(
        {"mlops.yaml": "project: t\nbackend:\n  type: s3\n  key: state.json\n  bucket: Team_State\n"},
        ("mlops.yaml", 5, 11),
        ("`Team_State` is not a bucket name",),
        "lowercase letters",
        quickstart=False,
    ),
    "s3-backend-without-a-lock": Mistake(
        {"mlops.yaml": "project: t\nbackend: {type: s3, bucket: state, key: s.json, use_lockfile: false}\n"},
        ("mlops.yaml", 2, 63),
        ("the s3 backend needs a lock",),
        "dynamodb_table",
        quickstart=False,
    ),
    "backend-unknown-type": Mistake(
        {"mlops.yaml": "project: t\nbackend: {type: ftp}\n"},
        ("mlops.yaml", 2, 17),
        ("unknown state backend type `ftp`",),
        "mlops_decl.backends",
        quickstart=False,
    ),
    "backend-unknown-setting": Mistake(
        {"mlops.yaml": "project: t\nbackend:\n  type: local\n  bucket: b\n"},
        ("mlops.yaml", 4, 3),
        ("the `local` backend has no setting `bucket`",),
        "its settings: path",
        quickstart=False,
    ),
    "no-project-file": Mistake(
        {"mlops.yaml": None},
        None,
        ("no mlops.yaml in",),
        "mlops-decl init",
    ),
    "empty-project-file": Mistake(
        {"mlops.yaml": ""},
        ("mlops.yaml", 1, 1),
        ("mlops.yaml is empty",),
        "project: NAME",
    ),
    "project-file-misspelt-name": Mistake(
        {"mlops.yaml": "projet: t\n"},
        ("mlops.yaml", 1, 1),
        ("unknown top-level key `projet`",),
        "did you mean `project`?",
        quickstart=False,
    ),
    "project-file-missing-name": Mistake(
        {"mlops.yaml": "default_provider: local\n"},
        ("mlops.yaml", 1, 1),
        ("missing required field `project`",),
        "add `project:`",
        quickstart=False,
    ),
}


def _make(tmp_path: Path, quickstart_copy: Path, m: Mistake) -> Path:
    if m.quickstart:
        root = quickstart_copy
    else:
        root = tmp_path / "minimal"
        root.mkdir()
        (root / "mlops.yaml").write_text(MINIMAL)
    for rel, content in m.files.items():
        path = root / rel
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def _line_starting(path: Path, prefix: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if text.startswith(prefix))


def _state_files(root: Path) -> dict[str, bytes]:
    """The state on disk, lock files aside."""
    state_dir = root / ".mlops"
    if not state_dir.exists():
        return {}
    return {
        p.relative_to(state_dir).as_posix(): p.read_bytes()
        for p in sorted(state_dir.rglob("*"))
        if p.is_file() and ".lock" not in p.name
    }


def _check_one_error(rc: int, out: str, err: str, m: Mistake) -> re.Match[str]:
    assert rc == 1, f"exit {rc}\nstdout:\n{out}\nstderr:\n{err}"
    assert "Traceback" not in out + err, err
    error_lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, f"want exactly one error, got:\n{err}"
    match = ERROR_LINE.match(error_lines[0])
    assert match, error_lines[0]
    if m.at is None:
        assert match["file"] is None, error_lines[0]
    else:
        file, line, col = m.at
        if isinstance(line, str):
            line = _line_starting(QUICKSTART / file, line)
        got = (match["file"], int(match["line"]), int(match["col"]))
        assert got == (file, line, col), f"position {got} != {(file, line, col)}\n{err}"
    for text in m.says:
        assert text in match["summary"], f"{text!r} not in {error_lines[0]!r}"
    hints = [line.strip() for line in err.splitlines() if line.strip().startswith("hint:")]
    assert len(hints) == 1, err
    assert m.hint in hints[0], f"{m.hint!r} not in {hints[0]!r}"
    return match


@pytest.mark.parametrize("name", list(MISTAKES))
def test_mistake(name: str, tmp_path: Path, project: Path, run_cli) -> None:
    m = MISTAKES[name]
    root = _make(tmp_path, project, m)
    seeded = m.args[0] == "plan"
    if seeded:  # plan must leave an existing state exactly as it was
        store, _ = open_backend(root, {})
        store.write(State.new())
    before = _state_files(root)
    rc, out, err = run_cli(m.args, root, env=m.env)
    _check_one_error(rc, out, err, m)
    assert _state_files(root) == before
    if not seeded:
        assert not (root / ".mlops").exists(), "validate must not create .mlops/"


def test_enough_distinct_mistakes() -> None:
    assert len({m.says[0] for m in MISTAKES.values()}) >= 20


def test_plan_config_error_creates_no_state_dir(project: Path, run_cli) -> None:
    """A config mistake stops plan before it takes the lock: not even a lock file appears."""
    rc, _, err = run_cli(["plan", "-var", "replicas=two"], project)
    assert rc == 1, err
    assert not (project / ".mlops").exists()


def test_validate_json_reports_ranges(project: Path, run_cli) -> None:
    (project / "extra.yaml").write_text("resources:\n  dataset:\n    a: {uri: a.csv, fromat: csv}\n")
    rc, out, err = run_cli(["validate", "--json"], project)
    assert rc == 1, err
    doc = json.loads(out)
    assert doc["valid"] is False
    assert doc["error_count"] == 1
    (diag,) = doc["diagnostics"]
    assert diag["severity"] == "error"
    at = {"line": 3, "column": 21}
    assert diag["range"] == {"filename": "extra.yaml", "start": at, "end": at}
    assert "fromat" in diag["summary"]
    assert diag["hint"] == "did you mean `format`?"


def test_plan_json_on_a_config_error_prints_json_diagnostics(project: Path, run_cli) -> None:
    (project / "extra.yaml").write_text("resources:\n  dataset:\n    a: {uri: a.csv, fromat: csv}\n")
    rc, out, err = run_cli(["plan", "--json"], project)
    assert rc == 1, err
    doc = json.loads(out)
    assert doc["format_version"] == "1.0" and doc["valid"] is False and doc["error_count"] == 1
    (diag,) = doc["diagnostics"]
    assert diag["severity"] == "error" and "fromat" in diag["summary"]
    assert diag["range"]["filename"] == "extra.yaml"
    assert diag["range"]["start"] == {"line": 3, "column": 21}
    assert "Error: extra.yaml:3:21" in err  # a person reading the terminal still sees it


def test_validate_json_success(project: Path, run_cli) -> None:
    rc, out, err = run_cli(["validate", "-json"], project)
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["valid"] is True and doc["diagnostics"] == [] and doc["resource_count"] == 7


def test_each_mistake_in_its_own_file_is_reported_once(project: Path, run_cli) -> None:
    """Two independent mistakes: two messages, in file order, one per mistake."""
    (project / "a.yaml").write_text("resources:\n  model:\n    m: {fromat: x}\n")
    (project / "b.yaml").write_text("resources:\n  modle:\n    n: {}\n")
    rc, _, err = run_cli(["validate"], project)
    assert rc == 1
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert [e.split(": ", 2)[1] for e in errors] == ["a.yaml:3:9", "b.yaml:2:3"], err


def test_broken_project_file_does_not_cascade(tmp_path: Path, run_cli) -> None:
    """A broken mlops.yaml is one error; the other files are not taken for the project file."""
    (tmp_path / "mlops.yaml").write_text("project: t\nbackend: {type: ftp}\n")
    (tmp_path / "ml.yaml").write_text("resources:\n  model:\n    m: {}\n")
    rc, _, err = run_cli(["validate"], tmp_path)
    assert rc == 1
    assert err.count("Error:") == 1, err
    assert "mlops.yaml:2:17" in err


def test_empty_resource_file_is_allowed(project: Path, run_cli) -> None:
    """Like an empty .tf file, an empty (or comment-only) resource file declares nothing."""
    (project / "empty.yaml").write_text("")
    (project / "comments.yaml").write_text("# nothing here yet\n")
    rc, out, err = run_cli(["validate"], project)
    assert rc == 0, err
    assert "7 resources" in out


def test_chdir_reports_paths_relative_to_project(project: Path, run_cli) -> None:
    (project / "extra.yaml").write_text("resources:\n  modle: {}\n")
    rc, _, err = run_cli(["-C", str(project), "validate"], project.parent)
    assert rc == 1
    assert "Error: extra.yaml:2:3: unknown resource kind `modle`" in err
