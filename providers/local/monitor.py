"""monitor: a definition kept in the catalog, with its reference profile computed at apply
(from the baseline dataset, kept under `.mlops/local/profiles/`) and recomputed when the
baseline's file changes. Its data for a check is the monitoring actions' (actions/monitoring.py).
"""

from __future__ import annotations

import os
from typing import Any

from mlops_decl.provider import Attributes

from .base import CatalogHandler, carry
from .client import LocalEnv


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
        from .stores.profiles import baseline_facts

        facts = baseline_facts(self.env, str(attrs.get("baseline") or ""))
        stale = facts is not None and facts.version != profile.get("baseline_version")
        kept = self.env.project_dir / str(profile.get("path", ""))
        if stale or not kept.is_file() or kept.stat().st_size == 0:  # gone, or emptied
            attrs["reference_profile"] = UNKNOWN

    def build(self, id: str, attrs: Attributes, prior: Attributes | None) -> Attributes:
        # Computed once here, at apply, so that a check sorts only the current data.
        from mlops_decl.ml.monitor import Settings, validate_summary

        previous = (prior or {}).get("reference_profile")
        profile = _compute_profile(self.env, id, attrs, previous if isinstance(previous, dict) else None)
        validate_summary(profile["features"], Settings.of(attrs))
        attrs["reference_profile"] = profile
        return attrs

    def _delete(self, id: str, prior: Attributes) -> None:
        super()._delete(id, prior)
        from .stores.profiles import profile_path

        profile_path(self.env, id).unlink(missing_ok=True)


def _compute_profile(
    env: LocalEnv, monitor_id: str, attrs: dict[str, Any], prior: dict[str, Any] | None
) -> dict[str, Any]:
    """The `reference_profile` attribute: the engine's profile of the baseline, computed and
    saved unless the prior one still fits."""
    from mlops_decl.ml.profile import reference_profile

    from .actions.monitoring import reference_data
    from .stores.profiles import checked_baseline, profile_path

    checked_baseline(env, attrs)  # a wrong baseline or feature is the user's mistake: say so first
    path = profile_path(env, monitor_id)
    return reference_profile(
        lambda read: reference_data(env, monitor_id, attrs, None, read=read),
        attrs.get("features"),
        prior,
        path,
        os.path.relpath(path, env.project_dir),
        env.project_dir,
    )
