"""Finding state backends by `backend: {type: NAME}` and checking their settings.

The backends shipped in this package (local; s3, which needs the `s3` extra) are found without
scanning entry points (reading every installed distribution's metadata costs ~8 ms a start, as
for providers in mlops_decl/provider.py); others are entry points of the group
`mlops_decl.backends`, imported only when named. A backend class may add a
`check_settings(settings)` classmethod for what its schema cannot say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_decl.state.model import StateError

if TYPE_CHECKING:
    from mlops_decl.state.backend import BackendType, StateBackend

ENTRY_POINT_GROUP = "mlops_decl.backends"

BUILTIN_BACKENDS = {
    "local": "mlops_decl.state.local_backend:LocalBackend",
    "s3": "mlops_decl.state.s3.backend:S3Backend",
}

# Backends that will ship with an extra of this package: the extra to name when missing, and
# whether that extra delivers the backend yet.
EXTRAS: dict[str, tuple[str, bool]] = {"gcs": ("vertex", False)}


@dataclass(frozen=True)
class SettingsProblem:
    path: tuple[str, ...]  # under `backend:`
    message: str
    hint: str | None = None
    key: bool = False  # the problem is the key itself (an unknown setting), not its value


class BackendMissing(StateError):
    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


def _load(value: str) -> Any:
    module, _, attr = value.partition(":")
    return getattr(import_module(module), attr)


def backend_type(name: str) -> type[BackendType]:
    """The backend class registered as name; BackendMissing says what to install."""
    if name in BUILTIN_BACKENDS:
        return _load(BUILTIN_BACKENDS[name])
    from importlib import metadata

    found = {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    if name in found:
        return found[name].load()
    installed = ", ".join(sorted({*BUILTIN_BACKENDS, *found}))
    if name in EXTRAS:
        extra, ready = EXTRAS[name]
        if not ready:
            raise BackendMissing(
                f"the `{name}` state backend is not available yet (it is planned for the `{extra}` extra)",
                hint=f"use one of the installed backends: {installed}",
            )
        raise BackendMissing(
            f"the `{name}` state backend is not installed",
            hint=f"install it with `pip install 'mlops-decl[{extra}]'`",
        )
    raise BackendMissing(
        f"unknown state backend type `{name}`",
        hint=f"installed backends: {installed}; a package adds one under the entry-point group "
        f"`{ENTRY_POINT_GROUP}`",
    )


def open_state_backend(project_dir: Path, settings: Mapping[str, Any] | None = None) -> StateBackend:
    """The backend `settings` (mlops.yaml's `backend:` mapping; local if empty) names."""
    settings = {k: v for k, v in (settings or {}).items() if v is not None}
    cls = backend_type(str(settings.pop("type", None) or "local"))
    return cls.open(Path(project_dir), settings)


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def check_settings(settings: Mapping[str, Any]) -> list[SettingsProblem]:
    """Problems with a `backend:` mapping against its backend's settings schema (the subset of
    JSON Schema backends use: an object of typed properties, `required`, `enum`, no extras)."""
    name = settings.get("type") or "local"
    if not isinstance(name, str):
        return [SettingsProblem(("type",), "`type` must be a backend name, e.g. local")]
    try:
        cls = backend_type(name)
    except BackendMissing as exc:
        return [SettingsProblem(("type",), str(exc), exc.hint)]
    schema = cls.settings_schema
    props: dict[str, Any] = schema.get("properties", {})
    problems = []
    for key, value in settings.items():
        if key == "type" or value is None:
            continue
        spec = props.get(key)
        if spec is None:
            allowed = ", ".join(sorted(props)) or "none"
            problems.append(
                SettingsProblem(
                    (key,), f"the `{name}` backend has no setting `{key}`", f"its settings: {allowed}", True
                )
            )
            continue
        problems.extend(_check_value((key,), value, spec))
    for key in schema.get("required", []):
        if settings.get(key) is None:
            about = props.get(key, {}).get("description")
            hint = f"add `{key}:` under `backend:`" + (f": {about}" if about else "")
            problems.append(SettingsProblem((), f"the `{name}` backend needs `{key}`", hint, key=True))
    more = getattr(cls, "check_settings", None)
    return problems if problems or more is None else list(more(settings))


def _check_value(path: tuple[str, ...], value: Any, spec: Mapping[str, Any]) -> list[SettingsProblem]:
    want = spec.get("type")
    types = _TYPES.get(want, (object,)) if isinstance(want, str) else (object,)
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        return [SettingsProblem(path, f"`{path[-1]}` must be a {want}, not {type(value).__name__}")]
    if "enum" in spec and value not in spec["enum"]:
        choices = ", ".join(map(str, spec["enum"]))
        return [SettingsProblem(path, f"`{path[-1]}` must be one of: {choices}")]
    return []
