"""Nested attribute paths: which ones changed, which force replacement, and whether what a
provider returned keeps what the plan promised (Terraform's plans/objchange).

A path is a tuple of keys and list indexes, ("sagemaker", "image_uri"); shown dotted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from mlops_decl.config.expressions import UNKNOWN
from mlops_decl.diff import same

AttrPath = tuple[str | int, ...]


def dotted(path: Iterable[str | int]) -> str:
    return ".".join(str(p) for p in path)


def get_path(value: Any, path: AttrPath) -> tuple[bool, Any]:
    """(found, value at path)."""
    for part in path:
        in_dict = isinstance(value, dict) and part in value
        if in_dict or isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return False, None
    return True, value


def set_unknown(attrs: dict[str, Any], path: AttrPath) -> None:
    """Make the value at path UNKNOWN, creating the dicts on the way."""
    if not path:
        return
    node: Any = attrs
    for part in path[:-1]:
        if isinstance(node, dict):
            node = node.setdefault(part, {})
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return
    if isinstance(node, dict) or isinstance(node, list) and isinstance(path[-1], int) and path[-1] < len(node):
        node[path[-1]] = UNKNOWN  # type: ignore[index]


def differs_under(desired: Any, prior: Any, path: AttrPath) -> bool:
    """Whether the value at path differs (a path missing on one side only differs too)."""
    found_d, d = get_path(desired, path)
    found_p, p = get_path(prior, path)
    if found_d != found_p:
        return not (_empty(d) and _empty(p))
    return not same(d, p)


def _empty(value: Any) -> bool:
    return value is None or value == {} or value == []


def broken_promises(planned: Any, got: Any, path: AttrPath = ()) -> Iterator[AttrPath]:
    """Paths where `planned` held a known value and `got` holds another one. UNKNOWN planned
    values may become anything; a known dict is compared key by key."""
    if planned is UNKNOWN:
        return
    if isinstance(planned, dict) and isinstance(got, dict):
        for key, value in planned.items():
            if key in got:
                yield from broken_promises(value, got[key], (*path, key))
            elif not _empty(value) and value is not UNKNOWN:
                yield (*path, key)
        return
    if isinstance(planned, list) and isinstance(got, list) and len(planned) == len(got):
        for i, (a, b) in enumerate(zip(planned, got, strict=True)):
            yield from broken_promises(a, b, (*path, i))
        return
    if not same(planned, got) and not (_empty(planned) and _empty(got)):
        yield path
