"""What to tell a user whose configuration names a provider that is not installed."""

from __future__ import annotations

from collections.abc import Iterable

# pyproject.toml has extras of these names, but the providers themselves are not written yet:
# such an extra installs only the cloud SDK. A name leaves this tuple when its provider ships.
NOT_WRITTEN_YET = ("sagemaker", "vertex", "databricks")


def missing_provider_hint(name: str, installed: Iterable[str]) -> str:
    have = ", ".join(sorted(installed)) or "none"
    if name in NOT_WRITTEN_YET:
        return f"the {name} provider is not written yet (no extra installs it); installed providers: {have}"
    return (
        f"installed providers: {have}; a third-party provider is installed as a package that "
        "registers it under the entry-point group mlops_decl.providers"
    )
