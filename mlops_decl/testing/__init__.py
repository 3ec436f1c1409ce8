"""Testing a provider: the conformance suite every provider passes, and fault injection.

    from mlops_decl.testing import ProviderCase, Sample, conformance

Names are imported on first use: the engine's fault injection (mlops_decl.testing.faults)
loads nothing else from here, and pytest is imported only when the suite is used
(`conformance`, `ProviderConformance`).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["ProviderCase", "ProviderConformance", "Sample", "conformance"]

_WHERE = {"ProviderCase": "case", "Sample": "case", "ProviderConformance": "suite", "conformance": "suite"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"mlops_decl.testing.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
