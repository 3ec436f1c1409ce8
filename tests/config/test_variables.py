"""Variable values: defaults < MLOPS_VAR_ environment < --var-file < -var.

This is deliberately Terraform's order (a flag typed on the command line wins over a forgotten
environment variable), as docs/commands.md says.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_decl.config.project import Project, load_project
from mlops_decl.config.variables import resolve_variables
from mlops_decl.diagnostics import DiagnosticError, Source

MLOPS = """\
project: t
variables:
  n: {type: number, default: 1}
  s: {type: string, default: a}
  flag: {type: bool, default: false}
  items: {type: list, default: []}
  m: {type: map, default: {}}
  anything: {default: 5}
  secret: {type: string, default: hunter2, sensitive: true}
"""


@pytest.fixture
def proj(tmp_path: Path) -> Project:
    (tmp_path / "mlops.yaml").write_text(MLOPS)
    return load_project(tmp_path)


def test_defaults(proj: Project) -> None:
    v = resolve_variables(proj, env={})
    assert v.values == {
        "n": 1,
        "s": "a",
        "flag": False,
        "items": [],
        "m": {},
        "anything": 5,
        "secret": "hunter2",
    }
    assert v.origin["n"] == "its default"


def test_precedence_default_env_file_flag(proj: Project, tmp_path: Path) -> None:
    (tmp_path / "one.vars.yaml").write_text("n: 3\ns: from-file\n")
    env = {"MLOPS_VAR_n": "2", "MLOPS_VAR_s": "from-env", "MLOPS_VAR_flag": "true"}
    v = resolve_variables(proj, env=env)
    assert (v.values["n"], v.values["s"], v.values["flag"]) == (2, "from-env", True)
    v = resolve_variables(proj, env=env, var_files=["one.vars.yaml"])
    assert (v.values["n"], v.values["s"], v.values["flag"]) == (3, "from-file", True)
    v = resolve_variables(proj, env=env, var_files=["one.vars.yaml"], cli_vars=["n=4"])
    assert (v.values["n"], v.values["s"], v.values["flag"]) == (4, "from-file", True)
    assert v.origin == {**v.origin, "n": "-var", "s": "one.vars.yaml", "flag": "$MLOPS_VAR_flag"}


def test_later_files_and_flags_win(proj: Project, tmp_path: Path) -> None:
    (tmp_path / "a.vars.yaml").write_text("n: 10\n")
    (tmp_path / "b.vars.yaml").write_text("n: 20\n")
    v = resolve_variables(proj, env={}, var_files=["a.vars.yaml", "b.vars.yaml"])
    assert v.values["n"] == 20
    v = resolve_variables(proj, env={}, cli_vars=["n=5", "n=6"])
    assert v.values["n"] == 6


def test_var_file_relative_to_cwd(proj: Project, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "x.yaml").write_text("n: 7\n")
    assert resolve_variables(proj, env={}, var_files=["x.yaml"], cwd=other).values["n"] == 7
    assert resolve_variables(proj, env={}, var_files=[str(other / "x.yaml")]).values["n"] == 7


@pytest.mark.parametrize(
    ("flag", "name", "value"),
    [
        ("n=3", "n", 3),
        ("n=0.5", "n", 0.5),
        ("n=-2", "n", -2),
        ("flag=true", "flag", True),
        ("flag=false", "flag", False),
        ("items=[a, b]", "items", ["a", "b"]),
        ('items=["x", 1]', "items", ["x", 1]),
        ("m={a: 1}", "m", {"a": 1}),
        ("s=123", "s", "123"),  # a string variable keeps the text as typed
        ("s=true", "s", "true"),
        ("s=a=b", "s", "a=b"),  # only the first = splits
        ("s=", "s", ""),
        ("anything=text", "anything", "text"),
    ],
)
def test_strings_from_flags_are_coerced_to_the_declared_type(
    proj: Project, flag: str, name: str, value: object
) -> None:
    assert resolve_variables(proj, env={}, cli_vars=[flag]).values[name] == value


def test_env_values_are_coerced_too(proj: Project) -> None:
    v = resolve_variables(proj, env={"MLOPS_VAR_n": "0.75", "MLOPS_VAR_items": "[1, 2]"})
    assert v.values["n"] == 0.75 and v.values["items"] == [1, 2]


def test_numbers_in_var_files_become_strings_for_string_variables(proj: Project, tmp_path: Path) -> None:
    (tmp_path / "x.vars.yaml").write_text("s: 42\n")
    assert resolve_variables(proj, env={}, var_files=["x.vars.yaml"]).values["s"] == "42"


@pytest.mark.parametrize(
    ("flag", "says"),
    [
        ("n=many", "`n` must be a number, got 'many' from -var"),
        ("n=true", "`n` must be a number"),
        ("flag=maybe", "`flag` must be a bool"),
        ("items=x", "`items` must be a list"),
        ("m=[1]", "`m` must be a map"),
    ],
)
def test_wrong_types_point_at_the_declaration(proj: Project, flag: str, says: str) -> None:
    with pytest.raises(DiagnosticError) as info:
        resolve_variables(proj, env={}, cli_vars=[flag])
    (diag,) = info.value.diagnostics
    assert says in diag.summary
    assert diag.source is not None and diag.source.file == "mlops.yaml"
    assert diag.hint


def test_wrong_type_in_var_file_points_into_the_file(proj: Project, tmp_path: Path) -> None:
    (tmp_path / "x.vars.yaml").write_text("s: ok\nn: lots\n")
    with pytest.raises(DiagnosticError) as info:
        resolve_variables(proj, env={}, var_files=["x.vars.yaml"])
    (diag,) = info.value.diagnostics
    assert diag.source == Source("x.vars.yaml", 2, 1)


def test_sensitive_flag(proj: Project) -> None:
    v = resolve_variables(proj, env={})
    assert v.sensitive == {"secret"}
    v = resolve_variables(proj, env={}, cli_vars=["secret=other"])
    assert v.sensitive == {"secret"} and v.values["secret"] == "other"


def test_missing_required_variable(tmp_path: Path) -> None:
    (tmp_path / "mlops.yaml").write_text("project: t\nvariables:\n  token: {type: string}\n")
    proj = load_project(tmp_path)
    with pytest.raises(DiagnosticError) as info:
        resolve_variables(proj, env={})
    (diag,) = info.value.diagnostics
    assert diag.summary == "variable `token` has no value"
    assert diag.source == Source("mlops.yaml", 3, 3)
    assert "MLOPS_VAR_token" in (diag.hint or "")
    assert resolve_variables(proj, env={"MLOPS_VAR_token": "t"}).values["token"] == "t"


def test_wrong_default_is_one_error_not_two(tmp_path: Path) -> None:
    (tmp_path / "mlops.yaml").write_text("project: t\nvariables:\n  n: {type: number, default: x}\n")
    with pytest.raises(DiagnosticError) as info:
        resolve_variables(load_project(tmp_path), env={})
    assert len(info.value.diagnostics) == 1


def test_undeclared_values(proj: Project, tmp_path: Path) -> None:
    with pytest.raises(DiagnosticError) as info:
        resolve_variables(proj, env={}, cli_vars=["nope=1"])
    assert "undeclared variable `nope`" in info.value.diagnostics[0].summary
    (tmp_path / "x.vars.yaml").write_text("n: 1\nnope: 2\n")
    with pytest.raises(DiagnosticError) as info:
        resolve_variables(proj, env={}, var_files=["x.vars.yaml"])
    assert info.value.diagnostics[0].source == Source("x.vars.yaml", 2, 1)
    # environment variables for names the project does not declare are ignored, as Terraform does
    assert resolve_variables(proj, env={"MLOPS_VAR_nope": "1"}).values["n"] == 1


def test_bad_flags_and_files(proj: Project, tmp_path: Path) -> None:
    with pytest.raises(DiagnosticError, match="not name=value"):
        resolve_variables(proj, env={}, cli_vars=["n"])
    with pytest.raises(DiagnosticError, match="does not exist"):
        resolve_variables(proj, env={}, var_files=["missing.yaml"])
    (tmp_path / "list.vars.yaml").write_text("- 1\n")
    with pytest.raises(DiagnosticError, match="mapping of name: value"):
        resolve_variables(proj, env={}, var_files=["list.vars.yaml"])
    (tmp_path / "empty.vars.yaml").write_text("")
    assert resolve_variables(proj, env={}, var_files=["empty.vars.yaml"]).values["n"] == 1
