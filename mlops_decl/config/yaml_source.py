"""Parse YAML keeping where each value came from.

PyYAML's C composer builds the node tree (fast even for very large files); we turn nodes into
plain Python values and a side table of positions keyed by the value's path, so a pydantic
error's `loc` maps straight back to file:line:column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops_decl.diagnostics import Diagnostic, DiagnosticError, Source

try:  # the C loader is 10x faster; fall back when PyYAML was built without libyaml
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

PathKey = tuple[str | int, ...]

_MAX_DEPTH = 64


@dataclass
class Positions:
    """Where each path's value (and, for mapping entries, its key) starts in one file."""

    file: str
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def source(self, path: PathKey, *, key: bool = False) -> Source:
        """The position of `path`, or of its nearest recorded ancestor."""
        table = self.keys if key else self.values
        p = tuple(path)
        while p:
            if p in table:
                line, col = table[p]
                return Source(self.file, line, col)
            if key and p in self.values:  # no key mark (a list item): use the value's
                line, col = self.values[p]
                return Source(self.file, line, col)
            p = p[:-1]
        line, col = self.values.get((), (0, 0))
        return Source(self.file, line + 1 if line == 0 else line, col + 1 if col == 0 else col)


_constructor = yaml.SafeLoader("")  # only used to construct typed scalars (int, bool, dates)


def _scalar(node: yaml.ScalarNode) -> Any:
    if node.tag == "tag:yaml.org,2002:str":
        return node.value
    if node.tag == "tag:yaml.org,2002:null":
        return None
    value = _constructor.construct_object(node, deep=True)
    if not isinstance(value, (str, int, float, bool)) and value is not None:
        return str(node.value)  # dates, binary: keep the text, the models say what they need
    return value


def _convert(node: yaml.Node, path: PathKey, pos: Positions, depth: int) -> Any:
    pos.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if depth > _MAX_DEPTH:
        raise DiagnosticError(
            Diagnostic(
                f"the YAML nests deeper than {_MAX_DEPTH} levels",
                pos.source(path),
                hint="flatten the structure; no mlops-decl field nests this deep",
            )
        )
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), pos, depth + 1) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                raise DiagnosticError(
                    Diagnostic(
                        "a mapping key must be a plain string",
                        Source(pos.file, key_node.start_mark.line + 1, key_node.start_mark.column + 1),
                        hint="write keys as plain words; YAML anchors and merge keys are not supported",
                    )
                )
            key = str(key_node.value)
            sub = (*path, key)
            key_at = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in out:
                first = pos.keys[sub]
                raise DiagnosticError(
                    Diagnostic(
                        f"duplicate key `{key}` (first defined at line {first[0]})",
                        Source(pos.file, *key_at),
                        hint="remove one of the two entries",
                    )
                )
            pos.keys[sub] = key_at
            out[key] = _convert(value_node, sub, pos, depth + 1)
        return out
    raise DiagnosticError(Diagnostic("unsupported YAML node", pos.source(path)))  # pragma: no cover


def parse_yaml(text: str, file: str) -> tuple[Any, Positions]:
    """Parse one YAML document; raise a DiagnosticError with the position on bad input."""
    pos = Positions(file)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise DiagnosticError(
            Diagnostic(
                f"YAML syntax error: {problem}",
                Source(file, line, col),
                hint="check indentation, colons and quoting near this position",
            )
        ) from None
    except yaml.YAMLError as exc:  # e.g. several documents in one file
        raise DiagnosticError(
            Diagnostic(f"YAML error: {exc}", Source(file, 1, 1), hint="one YAML document per file")
        ) from None
    if node is None:
        return None, pos
    return _convert(node, (), pos, 0), pos


def read_yaml_file(path: Path, display: str) -> tuple[Any, Positions]:
    """Read and parse a file, reporting undecodable bytes with their position."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DiagnosticError(
            Diagnostic(f"cannot read {display}: {exc.strerror}", Source(display, 1, 1))
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise DiagnosticError(
            Diagnostic(
                f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                Source(display, line, col),
                hint="save the file as UTF-8",
            )
        ) from None
    return parse_yaml(text, display)
