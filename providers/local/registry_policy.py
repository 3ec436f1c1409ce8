"""registry_policy: a model's promotion gates, kept in the catalog. The engine evaluates them
(mlops_decl/ml/promotion.py) through the model's registry actions (actions/registry.py)."""

from __future__ import annotations

from .base import CatalogHandler


class RegistryPolicyHandler(CatalogHandler):
    kind = "registry_policy"
