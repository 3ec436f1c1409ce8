"""botocore's model of SageMaker: the shapes requests are checked against."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def _model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("sagemaker")


def operation(action: str) -> Any:
    """botocore's OperationModel of `action` (CreateEndpoint), None when SageMaker has none."""
    from botocore.model import OperationNotFoundError

    try:
        return _model().operation_model(action)
    except OperationNotFoundError:
        return None
