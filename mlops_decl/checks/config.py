"""What the configuration alone tells, checked by `validate` and before every plan: no
provider is called and no data is read.

- every `${` is closed; a field that names another resource references one of its kind;
- an estimator is a class path to a class with fit and predict (read from its source, never
  imported: checks/classpath.py); an entrypoint and a dataset's file are inside the project or
  under `allow_paths:` (checks/paths.py);
- registry gates name metrics the registering pipeline's task logs, and a bias gate a
  feature the model is trained on (checks/gates.py).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Any

from mlops_decl.checks.classpath import HINT, inspect_class_path
from mlops_decl.checks.gates import check_gates
from mlops_decl.checks.paths import PathRules, local_path
from mlops_decl.config.expressions import UNKNOWN, Ref, RefSyntaxError, iter_refs, parse_ref, render, unclosed
from mlops_decl.config.project import Project, ResourceConfig
from mlops_decl.diagnostics import Diagnostic
from mlops_decl.kind_rules import REFERENCES

Lookup = Callable[[Ref], Any]


def check_config(project: Project, lookup: Lookup) -> list[Diagnostic]:
    """Every problem found, in the order of the resources. `lookup` gives variables' values
    (and UNKNOWN for anything known only later)."""
    out = list(_unclosed(project))
    rules = PathRules(project.root, project.settings.allow_paths)
    for rc in project.resources.values():
        out.extend(_references(project, rc))
        if rc.kind == "dataset":
            out.extend(_path(rc, ("uri",), rules, lookup, "the dataset's file"))
        elif rc.kind == "training_pipeline":
            out.extend(_estimator(rc, lookup))
            out.extend(_path(rc, ("entrypoint",), rules, lookup, "the entrypoint"))
        elif rc.kind == "registry_policy":
            out.extend(check_gates(project, rc, lookup))
    return out


def known(rc: ResourceConfig, path: tuple[str | int, ...], lookup: Lookup) -> Any:
    """The value at `path` of the body once variables are in, or None when it is absent or
    known only later."""
    value: Any = rc.body
    for part in path:
        if isinstance(value, dict) and isinstance(part, str):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return None
    try:
        value = render(value, lookup)
    except RefSyntaxError:
        return None  # reported by the graph
    return None if value is UNKNOWN else value


_HINT_CLOSE = "close it with `}`, e.g. ${dataset.NAME}; write $${ for a literal ${"


def _unclosed(project: Project) -> Iterator[Diagnostic]:
    for rc in project.resources.values():
        for text, path in unclosed(rc.body):
            yield Diagnostic(f"{rc.address}: unterminated `${{` in {text!r}", rc.source(path), _HINT_CLOSE)
    for out in project.outputs.values():
        for text, path in unclosed(out.value):
            yield Diagnostic(
                f"output {out.name}: unterminated `${{` in {text!r}", out.value_source(path), _HINT_CLOSE
            )
    pos = project.settings_positions
    for name, body in project.settings.providers.items():
        for text, path in unclosed(body):
            yield Diagnostic(
                f"provider {name}: unterminated `${{` in {text!r}",
                pos.source(("providers", name, *path)),
                _HINT_CLOSE,
            )


def _expected(table: dict[tuple[str, ...], str], path: tuple[str | int, ...]) -> str | None:
    key = tuple("*" if isinstance(p, int) else p for p in path)
    return table.get(key)


def _references(project: Project, rc: ResourceConfig) -> Iterator[Diagnostic]:
    table = REFERENCES.get(rc.kind)
    if not table:
        return
    for text, path in iter_refs(rc.body):
        expected = _expected(table, path)
        if expected is None:
            continue
        try:
            ref = parse_ref(text)
        except RefSyntaxError:
            continue  # the graph reports it
        field = ".".join(str(p) for p in path if isinstance(p, str))
        if ref.kind == "var":
            continue  # a variable may hold the id of an object made elsewhere
        if ref.kind != expected:
            same = f"{expected}.{ref.name}"
            hint = f"did you mean `${{{same}}}`?" if same in project.resources else None
            yield Diagnostic(
                f"{rc.address}: `{field}` takes a {expected}, but `${{{text}}}` is a {ref.kind}",
                rc.source(path),
                hint or f"reference a {expected}: ${{{expected}.NAME}}" + _declared(project, expected),
            )
        elif ref.attr and ref.attr != ("id",):
            yield Diagnostic(
                f"{rc.address}: `{field}` takes the {expected} itself, not its attribute `{'.'.join(ref.attr)}`",
                rc.source(path),
                f"write ${{{ref.address}}}",
            )


def _declared(project: Project, kind: str) -> str:
    names = sorted(a for a in project.resources if a.startswith(kind + "."))
    return f" (declared: {', '.join(names)})" if names else ""


def _estimator(rc: ResourceConfig, lookup: Lookup) -> Iterator[Diagnostic]:
    path = known(rc, ("estimator",), lookup)
    if not isinstance(path, str):
        return
    info = inspect_class_path(path)
    if info.problem:
        yield Diagnostic(f"{rc.address}: estimator: {info.problem}", rc.source(("estimator",)), HINT)
        return
    given = known(rc, ("hyperparameters",), lookup)
    if info.params is None or not isinstance(given, dict):
        return
    for key in given:
        if key not in info.params:  # the class would refuse it at its first training run
            close = difflib.get_close_matches(str(key), info.params, n=1)
            yield Diagnostic(
                f"{rc.address}: hyperparameters: `{key}` is not a parameter of {path}",
                rc.source(("hyperparameters", key)),
                (f"did you mean `{close[0]}`? " if close else "")
                + f"{path.rpartition('.')[2]} takes: {', '.join(info.params)}",
            )


def _path(
    rc: ResourceConfig, field: tuple[str, ...], rules: PathRules, lookup: Lookup, what: str
) -> Iterator[Diagnostic]:
    uri = known(rc, field, lookup)
    if not isinstance(uri, str) or not uri:
        return
    path = local_path(uri, rules.root_path)
    if path is None or rules.allows(path):
        return
    real = rules.real_path(path)
    leads = f" (it leads to {real})" if real != path else ""
    yield Diagnostic(
        f"{rc.address}: {what} `{uri}` is outside the project directory{leads}",
        rc.source(field),
        "move it into the project, or allow its directory in mlops.yaml: allow_paths: [DIR]",
    )
