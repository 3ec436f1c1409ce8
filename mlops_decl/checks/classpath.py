"""What a dotted class path (`estimator: sklearn.ensemble.GradientBoostingClassifier`) names,
found without importing it.

Importing a module runs its code (scikit-learn's takes seconds), so `validate` and `plan` read
the module's source instead: its top-level classes, functions and imports, following
re-exports and base classes from file to file. A module this Python already imported is
looked at directly. Only what the source shows for certain is reported; anything dynamic
(assignments, `__getattr__`, compiled modules) is left to training, which checks the class
again after importing it and before calling anything (`load_estimator_class`).
"""

from __future__ import annotations

import builtins
import dataclasses
import difflib
import re
import sys
import types
from dataclasses import dataclass
from functools import lru_cache
from importlib.machinery import ModuleSpec
from typing import Any

METHODS = ("fit", "predict")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_FILES = 40  # source files read for one path at most: beyond, the answer is "cannot tell"
HINT = (
    "name an estimator class (one with fit and predict), e.g. "
    "sklearn.ensemble.RandomForestClassifier; to run your own code, use `entrypoint: FILE.py`"
)


@dataclass(frozen=True)
class ClassInfo:
    """What is known of a class path. `problem` is set only when it is certainly wrong."""

    problem: str | None = None
    missing_module: str | None = None  # the module is not installed in this Python
    task: str | None = None  # classification | regression, from scikit-learn's mixins
    params: tuple[str, ...] | None = None  # the constructor's keywords, when its source is certain


def syntax_problem(path: str) -> str | None:
    parts = path.split(".")
    if len(parts) < 2 or not all(_IDENT.match(p) for p in parts):
        return f"`{path}` is not a class path"
    return None


@lru_cache(maxsize=256)
def inspect_class_path(path: str) -> ClassInfo:
    """Whether `path` names a class with fit and predict, as far as its source shows; the
    answer is reused from an earlier run while the files it came from are unchanged."""
    problem = syntax_problem(path)
    if problem:
        return ClassInfo(problem)
    module, _, name = path.rpartition(".")
    spec = None if module in sys.modules else _find_spec(module)
    origin = spec.origin if spec is not None else None
    if not origin:  # already imported, or not installed: nothing to read, nothing to keep
        return _Resolver(path).attribute(module, name)
    from mlops_decl.checks import classpath_cache as cache

    saved = cache.lookup(path, origin)
    if saved is not None:
        params = saved.get("params")
        return ClassInfo(**{**saved, "params": tuple(params) if params is not None else None})
    resolver = _Resolver(path)
    info = resolver.attribute(module, name)
    files = cache.signatures(resolver.origins) if info.missing_module is None else None
    if files is not None:
        cache.save(path, origin, dataclasses.asdict(info), files)
    return info


def task_of(names: list[str]) -> str | None:
    """scikit-learn's convention: classifiers inherit ClassifierMixin (or a ...Classifier base),
    regressors RegressorMixin."""
    classifier = any("Classifier" in n for n in names)
    regressor = any("Regressor" in n for n in names)
    if classifier != regressor:
        return "classification" if classifier else "regression"
    return None


def load_estimator_class(path: str) -> type:
    """Import `path` and return the class, after checking it is a class with fit and predict;
    raises ValueError (nothing of the class has been called)."""
    problem = syntax_problem(path)
    if problem:
        raise ValueError(problem)
    module, _, name = path.rpartition(".")
    from importlib import import_module

    obj = getattr(import_module(module), name)  # ImportError, AttributeError
    problem = _live_problem(path, obj)
    if problem:
        raise ValueError(problem)
    return obj


def _live_problem(path: str, obj: Any) -> str | None:
    if not isinstance(obj, type):
        return f"`{path}` is {_what(obj)}, not a class"
    lacking = [m for m in METHODS if not callable(getattr(obj, m, None))]
    if lacking:
        return f"`{path}` is a class without {' and '.join(f'{m}()' for m in lacking)}"
    return None


def _what(obj: Any) -> str:
    if isinstance(obj, types.ModuleType):
        return "a module"
    if callable(obj):
        return "a function"
    return f"a value of type {type(obj).__name__}"


def _find_spec(fullname: str) -> ModuleSpec | None:
    """The module's spec, found as `import` would find it, without running any package's code."""
    loaded = sys.modules.get(fullname)
    if loaded is not None:
        return getattr(loaded, "__spec__", None)
    parent, _, _ = fullname.rpartition(".")
    search: Any = None
    if parent:
        pspec = _find_spec(parent)
        if pspec is None or pspec.submodule_search_locations is None:
            return None
        search = list(pspec.submodule_search_locations)
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        try:
            spec = find(fullname, search)
        except (ImportError, ValueError, AttributeError, TypeError):
            continue
        if spec is not None:
            return spec
    return None


@lru_cache(maxsize=128)
def _read(origin: str) -> str | None:
    try:
        with open(origin, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


@dataclass
class _Module:
    """A module's top level as its source shows it."""

    classes: dict[str, tuple[str, str]]  # name -> (bases, body)
    functions: set[str]
    imports: dict[str, tuple[str, str | None]]  # alias -> (module, name; None: the module)
    assigned: set[str]
    star: bool  # `from x import *` or a module `__getattr__`: names may come from anywhere
    text: str


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Compiled on first use: a cached answer (classpath_cache) needs none of them.

    TOP: top-level statements, lines that start at column 0 (a docstring line that looks like
    one could mislead this; it then errs towards "cannot tell", never towards a problem).
    NEXT: where a class body ends, the next line at column 0 that starts a statement.
    METHOD: a method or class attribute in a class body.
    """
    top = re.compile(r"^(class|def|async|from|import|[A-Za-z_]\w*)\b[^\n]*", re.M)
    nxt = re.compile(
        r"^(?:class|def|async|@|from|import|if|try|for|while|with|[A-Za-z_]\w*\s*[=:(\[.])", re.M
    )
    method = re.compile(r"^[ \t]+(?:async[ \t]+)?def[ \t]+(\w+)|^[ \t]+(\w+)[ \t]*=[^=]", re.M)
    return top, nxt, method


def _absolute(module: str, package: str, relative: str) -> str:
    dots = len(relative) - len(relative.lstrip("."))
    if not dots:
        return relative
    base = package.split(".")
    base = base[: len(base) - (dots - 1)] if dots > 1 else base
    rest = relative[dots:]
    return ".".join([*base, rest] if rest else base)


def _parse(module: str, text: str, is_package: bool) -> _Module:
    package = module if is_package else module.rpartition(".")[0]
    m = _Module({}, set(), {}, set(), False, text)
    statements, following, _ = _patterns()
    for found in statements.finditer(text):
        word, line = found.group(1), found.group(0)
        if word == "class":
            name, paren, rest = line[5:].partition("(")
            name, bases, end = name.split(":")[0].strip(), "", found.end()
            if paren:
                opening = found.start() + line.index("(")
                close = text.find(")", opening)
                bases = text[opening + 1 : close]
                end = text.find("\n", close)
                if close < 0 or "(" in bases or end < 0:
                    continue  # bases with calls: left unknown
            if not _IDENT.match(name):
                continue
            nxt = following.search(text, end)
            m.classes[name] = (" ".join(bases.split()), text[end : nxt.start() if nxt else len(text)])
        elif word in ("def", "async"):
            name = line.removeprefix("async").strip().removeprefix("def").strip().split("(")[0].strip()
            m.functions.add(name)
            m.star |= name == "__getattr__"
        elif word == "from":
            if line.rstrip().endswith("(") or "(" in line and ")" not in line:
                close = text.find(")", found.start())
                line = text[found.start() : close + 1] if close > 0 else line
            _imports_from(m, module, package, line)
        elif word == "import":
            for item in line[6:].split("#")[0].split(","):
                parts = item.split()
                if len(parts) == 3 and parts[1] == "as":
                    m.imports[parts[2]] = (parts[0], None)
                elif parts:
                    top = parts[0].split(".")[0]
                    m.imports[top] = (top, None)
        elif re.match(r"\w+\s*(:[^=]*)?=[^=]", line):
            m.assigned.add(word)
    return m


def _imports_from(m: _Module, module: str, package: str, statement: str) -> None:
    source_text, _, names = statement[4:].partition(" import ")
    source = _absolute(module, package, source_text.strip())
    names = re.sub(r"#[^\n]*", "", names).replace("(", " ").replace(")", " ").replace("\\", " ")
    for item in names.split(","):
        parts = item.split()
        if not parts:
            continue
        if parts[0] == "*":
            m.star = True
            continue
        alias = parts[2] if len(parts) == 3 and parts[1] == "as" else parts[0]
        m.imports[alias] = (source, parts[0])


class _Resolver:
    def __init__(self, path: str):
        self.path = path
        self.files = 0
        self.origins: list[str] = []  # every file the answer was read from

    def _seen(self, loaded: Any) -> None:
        """An imported module's file counts as read: the answer holds while it is unchanged."""
        origin = getattr(loaded, "__file__", None)
        if isinstance(origin, str) and origin not in self.origins:
            self.origins.append(origin)  # (one built into Python has none: the key's version covers it)

    def module(self, name: str) -> _Module | None | bool:
        """The parsed module; False when it is not installed; None when its source cannot be read."""
        spec = _find_spec(name)
        if spec is None:
            return False
        origin = spec.origin
        if origin and origin not in self.origins:
            self.origins.append(origin)
        if not origin or not origin.endswith(".py") or self.files >= _MAX_FILES:
            return None
        text = _read(origin)
        if text is None:
            return None
        self.files += 1
        return _parsed(name, origin, spec.submodule_search_locations is not None, text)

    def attribute(self, module: str, name: str) -> ClassInfo:
        loaded = sys.modules.get(module)
        if loaded is not None:
            self._seen(loaded)
            return self._live(loaded, name)
        parsed = self.module(module)
        if parsed is False:
            return ClassInfo(missing_module=_missing_top(module))
        if parsed is None or not isinstance(parsed, _Module):
            return ClassInfo()
        if name in parsed.classes:
            return self._class(module, parsed, name)
        if name in parsed.functions:
            return ClassInfo(f"`{self.path}` is a function, not a class")
        if name in parsed.imports:
            source, orig = parsed.imports[name]
            if orig is None:
                return ClassInfo(f"`{self.path}` is a module, not a class")
            if _find_spec(f"{source}.{orig}") is not None and sys.modules.get(source) is None:
                sub = self.module(source)
                if isinstance(sub, _Module) and orig not in sub.classes and orig not in sub.imports:
                    return ClassInfo(f"`{self.path}` is a module, not a class")
            return self.attribute(source, orig)
        if name in parsed.assigned:
            return ClassInfo()  # defined some other way: training will tell
        if _find_spec(f"{module}.{name}") is not None:
            return ClassInfo(f"`{self.path}` is a module, not a class")
        if parsed.star or re.search(rf"\b{re.escape(name)}\b", parsed.text):
            return ClassInfo()
        public = [n for n in (*parsed.classes, *parsed.imports) if not n.startswith("_")]
        close = difflib.get_close_matches(name, public, n=1)
        return ClassInfo(
            f"module `{module}` has no `{name}`" + (f"; did you mean `{module}.{close[0]}`?" if close else "")
        )

    def _live(self, loaded: Any, name: str) -> ClassInfo:
        namespace = getattr(loaded, "__dict__", {})
        if name not in namespace:
            if "__getattr__" in namespace:
                return ClassInfo()
            sub = f"{loaded.__name__}.{name}"
            if _find_spec(sub) is not None:
                return ClassInfo(f"`{self.path}` is a module, not a class")
            return ClassInfo(f"module `{loaded.__name__}` has no `{name}`")
        obj = namespace[name]
        problem = _live_problem(self.path, obj)
        names = [c.__name__ for c in obj.__mro__] if isinstance(obj, type) else []
        return ClassInfo(problem, task=task_of(names), params=_live_params(obj) if not problem else None)

    def _class(self, module: str, parsed: _Module, name: str) -> ClassInfo:
        found: set[str] = set()
        names: list[str] = []
        certain = self._walk(module, parsed, name, found, names, depth=0)
        lacking = [m for m in METHODS if m not in found]
        problem = None
        if lacking and certain:
            problem = f"`{self.path}` is a class without {' and '.join(f'{m}()' for m in lacking)}"
        params = None if problem else _init_params(parsed.classes[name][1])
        return ClassInfo(problem, task=task_of(names), params=params)

    def _walk(
        self, module: str, parsed: _Module, name: str, found: set[str], names: list[str], depth: int
    ) -> bool:
        """Collect the methods and class names of `name` and its bases into found/names;
        whether every base was followed to its end."""
        names.append(name)
        bases, body = parsed.classes[name]
        for m in _patterns()[2].finditer(body):
            found.add(m.group(1) or m.group(2))
        if depth > 12:
            return False
        certain = True
        for base in _split_bases(bases):
            certain &= self._base(module, parsed, base, found, names, depth)
        return certain

    def _base(
        self, module: str, parsed: _Module, base: str, found: set[str], names: list[str], depth: int
    ) -> bool:
        if base == "object":
            return True
        if not re.fullmatch(r"[\w.]+", base):
            return False  # Generic[T], a call: cannot follow
        head, _, rest = base.partition(".")
        if not rest and head in parsed.classes:
            return self._walk(module, parsed, head, found, names, depth + 1)
        if head in parsed.imports:
            source, orig = parsed.imports[head]
            target_module, target = (source, orig) if orig is not None and not rest else (None, None)
            if orig is None and rest:
                target_module, _, target = f"{source}.{rest}".rpartition(".")
            if target_module is None or target is None:
                return False
            return self._class_in(target_module, target, found, names, depth)
        if not rest and isinstance(getattr(builtins, head, None), type):
            names.append(head)
            found.update(m for m in METHODS if hasattr(getattr(builtins, head), m))
            return True
        return False

    def _class_in(self, module: str, name: str, found: set[str], names: list[str], depth: int) -> bool:
        loaded = sys.modules.get(module)
        if loaded is not None:
            self._seen(loaded)
            obj = getattr(loaded, "__dict__", {}).get(name)
            if not isinstance(obj, type):
                return False
            names.extend(c.__name__ for c in obj.__mro__)
            found.update(m for m in METHODS if callable(getattr(obj, m, None)))
            return True
        parsed = self.module(module)
        if not isinstance(parsed, _Module):
            return False
        if name in parsed.classes:
            return self._walk(module, parsed, name, found, names, depth + 1)
        if name in parsed.imports and parsed.imports[name][1] is not None:
            source, orig = parsed.imports[name]
            return self._class_in(source, str(orig), found, names, depth + 1)
        return False


def _init_params(body: str) -> tuple[str, ...] | None:
    """The keywords of a class's own `__init__`, as its source declares them; None when it has
    none of its own (inherited: not followed) or takes **kwargs, or the source is unclear."""
    found = re.search(r"^[ \t]+def[ \t]+__init__[ \t]*\(", body, re.M)
    if found is None:
        return None
    depth, start = 0, found.end() - 1
    for i in range(start, len(body)):
        depth += {"(": 1, ")": -1}.get(body[i], 0)
        if depth == 0:
            break
    else:
        return None
    import ast  # only when reading a class's source: a kept answer needs none of it

    try:
        tree = ast.parse(f"def f{body[start : i + 1]}: pass")
    except SyntaxError:
        return None
    args = tree.body[0].args  # type: ignore[attr-defined]
    if args.kwarg is not None:
        return None
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    return tuple(names[1:] if names[:1] == ["self"] else names)


def _live_params(obj: Any) -> tuple[str, ...] | None:
    """The keywords an imported class's constructor takes; None with **kwargs or no signature."""
    import inspect

    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return tuple(p.name for p in parameters if p.kind is not p.VAR_POSITIONAL)


@lru_cache(maxsize=256)
def _parsed(name: str, origin: str, is_package: bool, text: str) -> _Module:
    return _parse(name, text, is_package)


def _split_bases(bases: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in bases:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return [b for b in out if b and "=" not in b]


def _missing_top(module: str) -> str:
    """The first part of `module` that is not installed."""
    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        if _find_spec(".".join(parts[:i])) is None:
            return ".".join(parts[:i])
    return module
