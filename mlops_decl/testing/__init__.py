"""Testing a provider: the conformance suite every provider passes, and fault injection.

    from mlops_decl.testing import ProviderCase, conformance

pytest is imported only when the suite is used (`conformance`, `ProviderConformance`), so the
engine can use the fault-injection wrapper (mlops_decl.testing.faults) without it.
"""

from __future__ import annotations

from typing import Any

from mlops_decl.testing.case import ProviderCase, Sample

__all__ = ["ProviderCase", "ProviderConformance", "Sample", "conformance"]


def __getattr__(name: str) -> Any:
    if name in ("ProviderConformance", "conformance"):
        from mlops_decl.testing import suite

        return getattr(suite, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
