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
        # The profile depends on the baseline's content and the feature list only; methods and
        # thresholds are applied at check time, so changing them keeps the profile.
        carry(attrs, prior, ("reference_profile",), unless=("baseline", "features"))
        if "reference_profile" not in attrs:
            return  # a new monitor, or baseline/features changed: computed at apply anyway
        from mlops_decl.config.expressions import UNKNOWN

        profile = attrs["reference_profile"]
        if not isinstance(profile, dict):  # recorded before profiles existed
            attrs["reference_profile"] = UNKNOWN
            return
        # `baseline` is the dataset's id, which stays put when its file changes. Compare the
        # file's version now (the inspector hashed it for the dataset's own plan already) with
        # the one the profile was computed from; when they differ, or the profile file is gone,
        # plan an update that recomputes it: an unknown value is a diff, shown as
        # (known after apply).
        from .profile import baseline_facts

        facts = baseline_facts(self.env, str(attrs.get("baseline") or ""))
        stale = facts is not None and facts.version != profile.get("baseline_version")
        if stale or not (self.env.project_dir / str(profile.get("path", ""))).is_file():
            attrs["reference_profile"] = UNKNOWN

    def build(self, id: str, attrs: Attributes, prior: Attributes | None) -> Attributes:
        # Computed once here, at apply, so that a check sorts only the current data.
        from mlops_decl.ml.monitor import Settings, validate_summary

        from .profile import compute_for_monitor

        previous = (prior or {}).get("reference_profile")
        profile = compute_for_monitor(self.env, id, attrs, previous if isinstance(previous, dict) else None)
        validate_summary(profile["features"], Settings.of(attrs))
        attrs["reference_profile"] = profile
        return attrs

    def _delete(self, id: str, prior: Attributes) -> None:
        super()._delete(id, prior)
        from .profile import profile_path

        profile_path(self.env, id).unlink(missing_ok=True)
