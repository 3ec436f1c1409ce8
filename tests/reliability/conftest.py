"""Reliability tests share the stress harnesses' helpers (tests/stress/stress_common.py) and
the SageMaker tests' (tests/providers/sagemaker/sagemaker_helpers.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stress"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "providers" / "sagemaker"))
