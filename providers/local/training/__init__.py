"""Training runs: estimators, fitting and evaluation, MLflow tracking, detached workers."""
