"""Engine ML tests run on evidence from the real local provider: its fixtures, shared."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

PROVIDERS = Path(__file__).resolve().parents[1] / "providers"
sys.path.insert(0, str(PROVIDERS))  # local_versions, record_evidently

_spec = importlib.util.spec_from_file_location("provider_fixtures", PROVIDERS / "conftest.py")
assert _spec is not None and _spec.loader is not None
provider_fixtures = importlib.util.module_from_spec(_spec)
sys.modules["provider_fixtures"] = provider_fixtures
_spec.loader.exec_module(provider_fixtures)

from provider_fixtures import (  # noqa: E402, F401  (fixtures, found by name)
    local,
    local_mlflow,
    make_provider,
    mlflow_template,
    project,
    spec_fixture,
    write_csv_fixture,
)
