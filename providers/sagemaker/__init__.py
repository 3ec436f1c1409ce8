"""The SageMaker provider: S3 datasets, Model Package Groups, endpoints, pipelines (boto3).

Nothing here imports boto3 at module level: `validate` and `plan` read the schema only.
"""
