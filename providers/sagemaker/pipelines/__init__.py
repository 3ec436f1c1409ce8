"""SageMaker Pipelines as the provider writes them: the definition JSON (definition.py)."""
