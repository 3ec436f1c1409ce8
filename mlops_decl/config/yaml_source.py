"""Parse YAML keeping where each value came from.

PyYAML's C composer builds the node tree (fast even for very large files); we turn nodes into
plain Python values and a side table of positions keyed by the value's path, so a pydantic
error's `loc` maps straight back to file:line:column.
"""

from __future__ import annotations

import re
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
# below this many possible nesting levels, libyaml's recursive composer is safe (it crashes
# somewhere past 10,000)
_CHEAP_DEPTH_BOUND = 5000
_LEAD = re.compile(r"^[ ?-]*", re.MULTILINE)  # a line's indentation and compact indicators


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


def _scalar(node: yaml.ScalarNode, file: str) -> Any:
    if node.tag == "tag:yaml.org,2002:str":
        return node.value
    if node.tag == "tag:yaml.org,2002:null":
        return None
    try:
        value = _constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError):
        # `2024-13-45` looks like a date and is not one; `!!int x`: keep the text, the models
        # say what they need. Tags outside YAML's own (`!!python/object`, `!foo`) are refused.
        std = "tag:yaml.org,2002:"
        if node.tag.startswith(std) and not node.tag.startswith(std + "python/"):
            return str(node.value)
        tag = node.tag.replace(std, "!!")
        mark = node.start_mark
        raise DiagnosticError(
            Diagnostic(
                f"unsupported YAML tag `{tag}`",
                Source(file, mark.line + 1, mark.column + 1),
                hint="remove the tag: mlops-decl reads plain YAML values (strings, numbers, true/false, lists, mappings)",
            )
        ) from None
    if not isinstance(value, (str, int, float, bool)) and value is not None:
        return str(node.value)  # dates, binary: keep the text, the models say what they need
    return value


def _convert(node: yaml.Node, path: PathKey, pos: Positions, depth: int, limit: int) -> Any:
    pos.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if len(pos.values) > limit:  # only aliases can make more values than the text has characters
        raise DiagnosticError(
            Diagnostic(
                "the YAML expands to far more values than it has characters (nested aliases)",
                pos.source(path),
                hint="write the values out instead of repeating them through anchors and aliases",
            )
        )
    if depth > _MAX_DEPTH:
        raise DiagnosticError(
            Diagnostic(
                f"the YAML nests deeper than {_MAX_DEPTH} levels",
                pos.source(path),
                hint="flatten the structure; no mlops-decl field nests this deep",
            )
        )
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node, pos.file)
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), pos, depth + 1, limit) for i, item in enumerate(node.value)]
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
            out[key] = _convert(value_node, sub, pos, depth + 1, limit)
        return out
    raise DiagnosticError(Diagnostic("unsupported YAML node", pos.source(path)))  # pragma: no cover


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, file: str) -> Diagnostic:
    """One diagnostic for a YAML syntax error, at the place the user has to fix."""
    problem = exc.problem or exc.context or "invalid YAML"
    pmark, cmark = exc.problem_mark, exc.context_mark
    if "maximum nesting depth" in problem:  # PyYAML >= 6.0.4 has a nesting limit of its own
        at = pmark or cmark
        return Diagnostic(
            f"the YAML nests deeper than {_MAX_DEPTH} levels",
            Source(file, at.line + 1, at.column + 1) if at else Source(file, 1, 1),
            hint="flatten the structure; no mlops-decl field nests this deep",
        )
    at = pmark or cmark
    line, col = (at.line, at.column) if at else (0, 0)
    lines = text.splitlines()
    context = exc.context or ""
    char = lines[line][col] if line < len(lines) and col < len(lines[line]) else ""
    if char == "\t" or "tab character" in problem:
        return Diagnostic(
            "YAML syntax error: a tab character; YAML indents with spaces only",
            Source(file, line + 1, col + 1),
            hint="replace the tab with spaces",
        )
    here = lines[line] if line < len(lines) else ""
    if char == "{" and col > 0 and here[col - 1] == "$" and context.startswith("while parsing a flow"):
        # `{model: ${model.m}}`: in flow style `{` and `}` end a plain value, so the reference breaks it
        start = col - 1
        while start > 0 and here[start - 1] not in " ,[{":
            start -= 1
        end = here.find("}", col)
        value = here[start : end + 1] if end != -1 else "${...}"
        return Diagnostic(
            "YAML syntax error: a ${...} reference inside `{...}` or `[...]` must be quoted",
            Source(file, line + 1, start + 1),
            hint=f'write it in quotes: "{value}"',
        )
    if cmark and pmark and context.startswith("while scanning a quoted scalar"):
        return Diagnostic(
            "YAML syntax error: this quoted string is never closed",
            Source(file, cmark.line + 1, cmark.column + 1),
            hint="add the closing quote",
        )
    if (
        cmark
        and pmark
        and context.startswith(("while parsing a flow mapping", "while parsing a flow sequence"))
    ):
        opener = "{" if "mapping" in context else "["
        closer = "}" if opener == "{" else "]"
        opened_on = lines[cmark.line] if cmark.line < len(lines) else ""
        # `a: {x: 1` left open on its own line, rather than a deliberately multi-line `{`
        if pmark.line > cmark.line and opened_on[cmark.column + 1 :].strip():
            return Diagnostic(
                f"YAML syntax error: this `{opener}` is not closed",
                Source(file, cmark.line + 1, cmark.column + 1),
                hint=f"add the closing `{closer}` at the end of the entry",
            )
        return Diagnostic(
            f"YAML syntax error: {problem}",
            Source(file, line + 1, col + 1),
            hint=f"separate entries with commas and close the `{opener}` with `{closer}`",
        )
    if context.startswith("expected a single document"):
        return Diagnostic(
            "YAML syntax error: a second YAML document in one file",
            Source(file, line + 1, col + 1),
            hint="keep one document per file: remove this `---` or split the file in two",
        )
    return Diagnostic(
        f"YAML syntax error: {problem}",
        Source(file, line + 1, col + 1),
        hint="check indentation, colons and quoting near this position",
    )


def _check_depth(text: str, file: str) -> None:
    """Refuse very deep nesting before libyaml's recursive composer sees it (it can crash).

    A level of nesting takes a flow opener (`[`, `{` not after `$`: `${` starts a plain
    scalar) or a column of a line's lead (block collections indent, compact ones add `- `/`? `),
    so text whose openers plus longest lead stay under the bound is safe; only other text is
    walked, event by event, without recursion (a second parse: ~70 ms at 10,000 resources).
    """
    flow = text.count("[") + text.count("{") - text.count("${")
    if (
        flow <= _CHEAP_DEPTH_BOUND
        and flow + max(map(len, _LEAD.findall(text)), default=0) <= _CHEAP_DEPTH_BOUND
    ):
        return
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > _MAX_DEPTH + 1:  # _convert counts the top-level collection as depth 0
                mark = event.start_mark
                line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
                raise DiagnosticError(
                    Diagnostic(
                        f"the YAML nests deeper than {_MAX_DEPTH} levels",
                        Source(file, line, col),
                        hint="flatten the structure; no mlops-decl field nests this deep",
                    )
                )
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def parse_yaml(text: str, file: str) -> tuple[Any, Positions]:
    """Parse one YAML document; raise a DiagnosticError with the position on bad input."""
    pos = Positions(file)
    try:
        _check_depth(text, file)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise DiagnosticError(_syntax_error(exc, text, file)) from None
    except yaml.YAMLError as exc:  # pragma: no cover - every composer error is marked
        raise DiagnosticError(
            Diagnostic(f"YAML error: {exc}", Source(file, 1, 1), hint="one YAML document per file")
        ) from None
    if node is None:
        return None, pos
    return _convert(node, (), pos, 0, len(text) + 64), pos


def read_text(path: Path, display: str) -> str:
    """A config file's text; unreadable files and undecodable bytes are diagnostics."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DiagnosticError(
            Diagnostic(
                f"cannot read {display}: {exc.strerror}",
                Source(display, 1, 1),
                hint="check that the file exists and is readable",
            )
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        # the column in characters, as an editor shows it
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
        raise DiagnosticError(
            Diagnostic(
                f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                Source(display, line, col),
                hint="save the file as UTF-8",
            )
        ) from None
    return text[1:] if text.startswith("\ufeff") else text  # a byte-order mark is not content


def read_yaml_file(path: Path, display: str) -> tuple[Any, Positions]:
    """Read and parse a file, reporting undecodable bytes with their position."""
    return parse_yaml(read_text(path, display), display)
