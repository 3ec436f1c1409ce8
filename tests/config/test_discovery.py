"""Project discovery: mlops.yaml plus every other YAML file below it, merged."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_decl.config.project import discover, load_project
from mlops_decl.diagnostics import DiagnosticError, Source


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


MODEL = "resources:\n  model:\n    {name}: {{}}\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    _write(
        tmp_path,
        {
            "mlops.yaml": "project: t\n",
            "a.yaml": MODEL.format(name="a"),
            "b.yml": MODEL.format(name="b"),
            "sub/deeper/c.yaml": MODEL.format(name="c"),
            "sub/d.yaml": MODEL.format(name="d"),
            ".hidden/e.yaml": MODEL.format(name="e"),
            "sub/.cache/f.yaml": MODEL.format(name="f"),
            ".mlops/g.yaml": MODEL.format(name="g"),
            ".dotfile.yaml": MODEL.format(name="h"),
            "prod.vars.yaml": "x: 1\n",
            "sub/dev.vars.yml": "x: 2\n",
            "notes.txt": "not yaml",
            "data/table.csv": "a,b\n",
        },
    )
    return tmp_path


def test_discover_is_recursive_and_skips_dot_dirs_and_var_files(tree: Path) -> None:
    found = [p.relative_to(tree).as_posix() for p in discover(tree)]
    assert found[0] == "mlops.yaml"
    assert sorted(found[1:]) == ["a.yaml", "b.yml", "sub/d.yaml", "sub/deeper/c.yaml"]


def test_load_merges_every_file(tree: Path) -> None:
    proj = load_project(tree)
    assert sorted(proj.resources) == ["model.a", "model.b", "model.c", "model.d"]
    assert sorted(proj.files) == ["a.yaml", "b.yml", "mlops.yaml", "sub/d.yaml", "sub/deeper/c.yaml"]
    rc = proj.resources["model.c"]
    assert rc.source(key=True) == Source("sub/deeper/c.yaml", 3, 5)


def test_variables_resources_and_outputs_merge_across_files(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "mlops.yaml": "project: t\nvariables:\n  a: {default: 1}\noutputs:\n  o1: ${model.m.id}\n",
            "more/vars.yaml": "variables:\n  b: {type: number, default: 2}\n",
            "more/res.yaml": "resources:\n  model:\n    m: {description: '${var.b}'}\n"
            "outputs:\n  o2: {value: '${var.a}', sensitive: true, description: d}\n",
        },
    )
    proj = load_project(tmp_path)
    assert sorted(proj.variables) == ["a", "b"]
    assert proj.variables["b"].source == Source("more/vars.yaml", 2, 3)
    assert sorted(proj.outputs) == ["o1", "o2"]
    assert proj.outputs["o2"].sensitive and proj.outputs["o2"].value == "${var.a}"
    assert proj.outputs["o2"].value_source() == Source("more/res.yaml", 5, 15)
    assert proj.outputs["o1"].value_source() == Source("mlops.yaml", 5, 7)


@pytest.mark.parametrize(
    ("first", "second", "says", "at"),
    [
        (
            "resources:\n  model:\n    m: {}\n",
            "resources:\n  model:\n    m: {}\n",
            "model.m is defined twice: first at a.yaml:3:5",
            Source("z/b.yaml", 3, 5),
        ),
        (
            "variables:\n  v: {}\n",
            "variables:\n  v: {}\n",
            "variable `v` is defined twice: first at a.yaml:2:3",
            Source("z/b.yaml", 2, 3),
        ),
        (
            "outputs:\n  o: 1\n",
            "outputs:\n  o: 2\n",
            "output `o` is defined twice: first at a.yaml:2:3",
            Source("z/b.yaml", 2, 3),
        ),
    ],
)
def test_duplicates_across_files_name_both(
    tmp_path: Path, first: str, second: str, says: str, at: Source
) -> None:
    _write(tmp_path, {"mlops.yaml": "project: t\n", "a.yaml": first, "z/b.yaml": second})
    with pytest.raises(DiagnosticError) as info:
        load_project(tmp_path)
    (diag,) = info.value.diagnostics
    assert diag.summary == says
    assert diag.source == at


def test_same_name_different_kinds_is_fine(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "mlops.yaml": "project: t\n",
            "a.yaml": "resources:\n  model:\n    churn: {}\n  dataset:\n    churn: {uri: x}\n",
        },
    )
    assert sorted(load_project(tmp_path).resources) == ["dataset.churn", "model.churn"]


def test_config_hash_follows_content(tree: Path) -> None:
    before = load_project(tree).config_hash
    assert load_project(tree).config_hash == before
    (tree / "sub" / "d.yaml").write_text(MODEL.format(name="d") + "# a comment\n")
    assert load_project(tree).config_hash != before
    (tree / ".hidden" / "e.yaml").write_text("ignored: change\n")
    (tree / "prod.vars.yaml").write_text("x: 5\n")
    after = load_project(tree).config_hash
    (tree / ".hidden" / "e.yaml").write_text("ignored: again\n")
    assert load_project(tree).config_hash == after


def test_errors_in_several_files_are_all_reported(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "mlops.yaml": "project: t\nbakend: {}\n",
            "a.yaml": "resources:\n  modle: {}\n",
            "b.yaml": "resources:\n  model:\n    m: {descripton: x}\n",
        },
    )
    with pytest.raises(DiagnosticError) as info:
        load_project(tmp_path)
    where = [str(d.source) for d in info.value.diagnostics]
    assert where == ["mlops.yaml:2:1", "a.yaml:2:3", "b.yaml:3:9"]


def test_null_resource_body_means_all_defaults(tmp_path: Path) -> None:
    _write(tmp_path, {"mlops.yaml": "project: t\n", "a.yaml": "resources:\n  model:\n    m:\n  dataset:\n"})
    proj = load_project(tmp_path)
    assert proj.resources["model.m"].body == {}


def test_no_project_file(tmp_path: Path) -> None:
    with pytest.raises(DiagnosticError) as info:
        load_project(tmp_path)
    (diag,) = info.value.diagnostics
    assert diag.summary.startswith("no mlops.yaml in") and "mlops-decl init" in (diag.hint or "")
