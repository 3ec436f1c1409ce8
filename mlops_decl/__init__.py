"""mlops-decl: Terraform for MLOps."""

__version__ = "0.1.0"
