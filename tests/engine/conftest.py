"""Fixtures for engine tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from engine_helpers import REPO, Project


@pytest.fixture
def quickstart(tmp_path: Path) -> Project:
    dest = tmp_path / "quickstart"
    shutil.copytree(REPO / "examples" / "quickstart", dest, ignore=shutil.ignore_patterns(".mlops"))
    return Project(dest)
