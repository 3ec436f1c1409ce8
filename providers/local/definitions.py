"""training_pipeline, registry_policy, monitor: definitions kept in the catalog.

Their runtime actions (run, promote, check) come with later issues and will live in their own
modules; here they are records the engine can create, read back, update and delete.
"""

from __future__ import annotations

from mlops_decl.provider import Attributes, ConfigError

from .base import CatalogHandler, carry
from .files import resolve_uri


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


class RegistryPolicyHandler(CatalogHandler):
    kind = "registry_policy"


class MonitorHandler(CatalogHandler):
    kind = "monitor"

    def plan_computed(self, attrs: Attributes, prior: Attributes | None) -> None:
        carry(attrs, prior, ("reference_profile",), unless=("baseline", "features", "method"))

    def build(self, id: str, attrs: Attributes, prior: Attributes | None) -> Attributes:
        # The drift issue computes the profile (sorted sample, bin edges, counts) here at apply.
        attrs["reference_profile"] = None
        return attrs
