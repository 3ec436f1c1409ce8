"""Fixtures for the SageMaker provider's tests (sagemaker_helpers.py)."""

from sagemaker_helpers import s3, server, sm

__all__ = ["s3", "server", "sm"]
