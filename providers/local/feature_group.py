"""feature_group: a definition in the catalog plus a table in the embedded DuckDB store.

Its columns must exist in the source dataset. At plan time the dataset may not be in the
catalog yet (created in the same apply): the check then waits for create. `source_version` is
the dataset file's version the group was defined against, so a changed dataset file shows as a
change here too, and the update materialises the new data (the `materialize` action).
"""

from __future__ import annotations

from typing import Any

from mlops_decl.provider import Attributes, ConfigError

from .base import CatalogHandler
from .errors import StoreBusy
from .stores.files import FileFacts, detect_format, project_relative, resolve_uri


class FeatureGroupHandler(CatalogHandler):
    kind = "feature_group"
    force_new = frozenset({"source", "entity"})

    def store_ref(self, table: str) -> str:
        return f"{project_relative(self.env.store.path, self.env.project_dir)}#{table}"

    def plan_computed(self, attrs: Attributes, prior: Attributes | None) -> None:
        attrs["store"] = self.store_ref(attrs["id"])
        facts = self._current_source(str(attrs.get("source", "")))
        if facts is not None:
            check_columns(attrs, list(facts.columns), str(attrs.get("source")))
            attrs["source_version"] = facts.version

    def _current_source(self, source: str) -> FileFacts | None:
        """The source dataset's file as it is now, when the catalog knows where it is and it
        reads; else None (the dataset's own plan reports a bad file)."""
        row = self.env.catalog.get("dataset", source)
        if row is None or not (row.get("uri") or row.get("path")):
            return None
        try:
            # the configured uri, against this project: a path recorded elsewhere may be stale
            path = resolve_uri(str(row.get("uri") or row["path"]), self.env.project_dir)
            return self.env.inspector.inspect(path, detect_format(path, row.get("format")))
        except ConfigError:
            return None

    def build(self, id: str, attrs: Attributes, prior: Attributes | None) -> Attributes:
        source = str(attrs.get("source", ""))
        row = self.env.catalog.get("dataset", source)
        if row is None:
            raise ConfigError(
                f"source dataset `{source}` is not in the local catalog",
                field=("source",),
                hint="reference a dataset on the local provider: source: ${dataset.NAME}",
            )
        # At apply the dataset was created or updated first, so its row holds the current file.
        check_columns(attrs, list(row.get("columns") or []), source)
        attrs["source_version"] = row.get("version")
        attrs["store"] = self.store_ref(id)
        self.env.store.create_table(id, table_columns(attrs))
        from .actions.features import materialize  # pandas only when a group is written

        materialize(self.env, id, attrs)
        return attrs

    def _read(self, id: str, prior: Attributes) -> Attributes | None:
        attrs = self.env.catalog.get(self.kind, id)
        if attrs is None:
            return None
        attrs = {**attrs, "store": self.store_ref(id)}  # where it is now, whatever was recorded
        try:
            # A group whose table was dropped behind our back is gone too; create rebuilds it.
            return attrs if self.env.store.has_table(id) else None
        except StoreBusy:
            # Another process (a running `serve`) holds the store: a refresh must not fail
            # for that, and the catalog row is the definition.
            return attrs

    def _delete(self, id: str, prior: Attributes) -> None:
        self.env.store.drop_table(id)
        self.env.store.drop_table(f"{id}__online")  # features.online_table, without pandas
        self.env.catalog.delete(self.kind, id)


def check_columns(attrs: Attributes, columns: list[str], source: str) -> None:
    """Every entity, event_time and feature name must be a column of the source."""
    have = set(columns)
    wanted: list[tuple[tuple[str | int, ...], str]] = []
    wanted += [(("entity", i), name) for i, name in enumerate(attrs.get("entity") or [])]
    if attrs.get("event_time"):
        wanted.append((("event_time",), attrs["event_time"]))
    wanted += [(("features", i, "name"), f.get("name")) for i, f in enumerate(attrs.get("features") or [])]
    for field, name in wanted:
        if name not in have:
            available = ", ".join(columns) if columns else "(none)"
            raise ConfigError(
                f"`{name}` is not a column of dataset `{source}`",
                field=field,
                hint=f"columns of `{source}`: {available}",
            )


def table_columns(attrs: Attributes) -> list[tuple[str, str]]:
    """Entity keys, event time, then features, each once. Keys are strings unless declared as
    features (an online lookup's key arrives as text); the event time is a timestamp."""
    dtypes: dict[str, Any] = {f["name"]: f["dtype"] for f in attrs.get("features") or []}
    out: dict[str, str] = {}
    for key in attrs.get("entity") or []:
        out[key] = dtypes.get(key, "string")
    if attrs.get("event_time"):
        out[attrs["event_time"]] = dtypes.get(attrs["event_time"], "datetime")
    for name, dtype in dtypes.items():
        out.setdefault(name, dtype)
    return list(out.items())
