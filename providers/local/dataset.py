"""dataset: a local CSV or parquet file; its content hash is its version.

read() answers what the catalog recorded at the last create/update; plan() answers what the
file holds now. So a changed file shows up as a diff on `version` (and rows/columns) and an
update records the new facts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops_decl.provider import Attributes

from .base import CatalogHandler
from .stores.files import FileFacts, detect_format, project_relative, resolve_uri


class DatasetHandler(CatalogHandler):
    kind = "dataset"

    def facts(self, attrs: Attributes) -> FileFacts:
        """Inspect the file `attrs` point at; ConfigError on field uri/format when it cannot."""
        path = resolve_uri(str(attrs.get("uri", "")), self.env.project_dir)
        fmt = detect_format(path, attrs.get("format"))
        return self.env.inspector.inspect(path, fmt)

    def plan_computed(self, attrs: Attributes, prior: Attributes | None) -> None:
        # `path` is where this machine found the file: recorded at apply, never diffed, so two
        # checkouts in different directories sharing one state do not fight over it.
        facts = computed_from(self.facts(attrs), self.env.project_dir)
        facts.pop("path")
        attrs.update(facts)

    def build(self, id: str, attrs: Attributes, prior: Attributes | None) -> Attributes:
        attrs.update(computed_from(self.facts(attrs), self.env.project_dir))
        return attrs


def computed_from(facts: FileFacts, project_dir: Path) -> dict[str, Any]:
    # `format` stays as configured (None means "from the suffix"), so it never diffs.
    return {
        "version": facts.version,
        "rows": facts.rows,
        "columns": list(facts.columns),
        "path": project_relative(facts.path, project_dir),
    }
