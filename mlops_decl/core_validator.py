"""pydantic-core's compiled validator, loaded without the package's Python layer.

`import pydantic_core` runs pydantic_core/__init__.py, which imports core_schema.py: about a
hundred TypedDicts that exist for static typing and cost more at start-up than everything else
`validate` imports. The validator, serializer and ValidationError live in the compiled
extension, so this loads that module alone under its own name. When the package is imported
later (pydantic, for a provider's settings), it finds the same module in sys.modules, so there
is one ValidationError class either way. Any surprise in the layout falls back to the regular
import.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import TYPE_CHECKING

_NAME = "pydantic_core._pydantic_core"


def _load() -> ModuleType:
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    try:
        import importlib.machinery
        import importlib.util
        import os

        spec = importlib.util.find_spec("pydantic_core")  # finds, does not run __init__
        folders = list(spec.submodule_search_locations or []) if spec else []
        for folder in folders:
            for entry in os.listdir(folder):
                if entry.startswith("_pydantic_core.") and entry.endswith(
                    tuple(importlib.machinery.EXTENSION_SUFFIXES)
                ):
                    loader = importlib.machinery.ExtensionFileLoader(_NAME, os.path.join(folder, entry))
                    found = importlib.util.spec_from_loader(_NAME, loader)
                    if found is None:
                        break
                    module = importlib.util.module_from_spec(found)
                    loader.exec_module(module)
                    sys.modules[_NAME] = module
                    return module
    except (ImportError, OSError):
        pass
    import pydantic_core

    return sys.modules.get(_NAME) or pydantic_core


if TYPE_CHECKING:
    from pydantic_core import SchemaSerializer, SchemaValidator, ValidationError
else:
    _core = _load()
    SchemaValidator = _core.SchemaValidator
    SchemaSerializer = _core.SchemaSerializer
    ValidationError = _core.ValidationError

__all__ = ["SchemaSerializer", "SchemaValidator", "ValidationError"]
