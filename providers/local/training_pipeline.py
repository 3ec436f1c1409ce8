"""training_pipeline: a definition kept in the catalog. Its runs are the `run` action
(actions/training.py); here it is a record the engine creates, reads back, updates and deletes,
whose entrypoint file is checked at plan time.
"""

from __future__ import annotations

from mlops_decl.provider import Attributes, ConfigError

from .base import CatalogHandler
from .stores.files import resolve_uri


class TrainingPipelineHandler(CatalogHandler):
    kind = "training_pipeline"

    def plan_computed(self, attrs: Attributes, prior: Attributes | None) -> None:
        self.check_entrypoint(attrs)

    def build(self, id: str, attrs: Attributes, prior: Attributes | None) -> Attributes:
        self.check_entrypoint(attrs)
        return attrs

    def check_entrypoint(self, attrs: Attributes) -> None:
        """A training script must exist before a run needs it: say so at plan time."""
        entrypoint = attrs.get("entrypoint")
        if not entrypoint:
            return
        try:
            path = resolve_uri(str(entrypoint), self.env.project_dir)
        except ConfigError as exc:
            raise ConfigError(str(exc), field=("entrypoint",), hint=exc.hint) from None
        if not path.is_file():
            raise ConfigError(
                f"training entrypoint {path} does not exist",
                field=("entrypoint",),
                hint="give a Python file relative to the project directory that defines train()",
            )
