"""The SageMaker provider (boto3): S3 datasets, Model Package Groups, endpoints, pipelines.

Nothing here imports boto3 at module level: `validate` and `plan` read the schema only.
"""

from .provider import SageMakerProvider

__all__ = ["SageMakerProvider"]
