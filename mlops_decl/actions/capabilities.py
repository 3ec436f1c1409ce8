"""What a provider lists as its runtime actions, read from its class (`actions()`), without
configuring it. Apart from the catalog (catalog.py) so that `validate` reads the lists without
building the catalog's table."""

from __future__ import annotations

from typing import Any

Capability = tuple[str, str]  # (kind, action), e.g. ("training_pipeline", "run")


def capabilities(provider: Any) -> frozenset[Capability]:
    """The (kind, action) pairs a provider class or instance lists; none without `actions()`."""
    listed = getattr(provider, "actions", None)
    return frozenset(listed()) if callable(listed) else frozenset()
