"""The provider conformance suite (mlops_decl.testing) on the local provider."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mlops_decl.provider import ProviderContext
from mlops_decl.providers.local.provider import LocalProvider
from mlops_decl.testing import ProviderCase, Sample, conformance

INSTANCE = "local"  # the provider instance the suite and the engine use: data under .mlops/local/

SALES = "customer_id,store_id,ts,amount,label\n" + "".join(
    f"c{i},s{i % 3},2024-01-{1 + i % 28:02d},{10 + i * 1.5},{i % 2}\n" for i in range(40)
)


@functools.cache
def migrated_registry() -> Path:
    """One migrated MLflow database per test process: a migration costs seconds, a copy not."""
    root = Path(tempfile.mkdtemp(prefix="mlflow-template-"))
    atexit.register(shutil.rmtree, root, True)
    provider = LocalProvider()
    provider.configure({}, ProviderContext(project_dir=root, data_dir=root / "local"))
    provider.env.registry.client()
    provider.close()
    return provider.env.registry.db_path


@contextmanager
def registry_copy(project: Path) -> Iterator[None]:
    """The local provider's "service" is its own stores; start the registry pre-migrated."""
    data = project / ".mlops" / INSTANCE
    data.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_registry(), data / "mlflow.db")
    yield None


CASE = ProviderCase(
    provider=LocalProvider,
    server=registry_copy,
    files={"data/sales.csv": SALES},
    samples=[
        Sample("dataset", "sales", {"uri": "data/sales.csv"}, in_place={"description": "daily sales"}),
        Sample(
            "feature_group",
            "customer",
            lambda ids: {
                "source": ids["dataset"],
                "entity": ["customer_id"],
                "event_time": "ts",
                "features": [{"name": "amount", "dtype": "float"}],
            },
            in_place={"description": "per customer"},
            force_new={"entity": ["store_id"]},
            needs=("dataset",),
        ),
        Sample("model", "churn", {}, in_place={"description": "churn classifier"}),
        Sample(
            "training_pipeline",
            "train",
            lambda ids: {
                "inputs": [ids["feature_group"]],
                "label": "label",
                "estimator": "sklearn.linear_model.LogisticRegression",
                "registers": ids["model"],
            },
            in_place={"hyperparameters": {"C": 0.5}},
            needs=("feature_group", "model"),
        ),
        Sample(
            "registry_policy",
            "gate",
            lambda ids: {
                "model": ids["model"],
                "gates": [{"type": "metric_threshold", "metric": "f1", "min": 0.5}],
            },
            in_place={"promote_to": "production"},
            needs=("model",),
        ),
        Sample(
            "endpoint",
            "api",
            lambda ids: {"model": ids["model"], "local": {"port": 8081}},
            in_place={"replicas": 2},
            force_new={"model": "another"},
            needs=("model",),
        ),
        Sample(
            "monitor",
            "drift",
            lambda ids: {"baseline": ids["dataset"], "features": ["amount"]},
            in_place={"threshold": 0.2},
            needs=("dataset",),
        ),
    ],
    import_refs=lambda kind, id, attrs: [f"models:/{id}"] if kind == "model" else [],
    # `run` trains in process (seconds): the runtime tests call it, through the same typed invoke
    actions={
        ("feature_group", "materialize"): lambda handle, id, attrs: {},
        ("model", "list_versions"): lambda handle, id, attrs: {},
        ("monitor", "reference_data"): lambda handle, id, attrs: {"read": True},
    },
    bad_settings=[
        ({"delay_ms": -1}, ("delay_ms",)),
        ({"delay_ms": "fast"}, ("delay_ms",)),
        ({"regoin": "eu"}, ("regoin",)),
    ],
)

TestLocalConformance = conformance(CASE)
