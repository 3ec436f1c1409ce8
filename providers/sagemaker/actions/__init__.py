"""The SageMaker provider's runtime actions, one module per action group."""
