"""Reliability tests share the stress harnesses' helpers (tests/stress/stress_common.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stress"))
