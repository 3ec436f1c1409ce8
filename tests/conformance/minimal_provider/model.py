"""model: a registered model on the service. Training registers versions; the service reports
the newest and the aliases, both computed. A create that finds its name taken adopts the
model: a repeated create (the first one's answer lost) must not fail the apply."""

from __future__ import annotations

from typing import Any

from mlops_decl.provider import DETACHED, NAME_KEY, Attributes, Handler, Operation

from .client import Client
from .dataset import find

FIELDS = ("description", "tags")


def attributes(obj: dict[str, Any]) -> Attributes:
    return {k: obj.get(k) for k in ("id", "name", *FIELDS, "latest_version", "aliases")}


class ModelHandler(Handler):
    kind = "model"
    computed = frozenset({"id", "name", "latest_version", "aliases"})

    def __init__(self, client: Client):
        self.client = client

    def plan(self, desired: Attributes, prior: Attributes | None) -> Attributes:
        planned = {k: v for k, v in desired.items() if k != NAME_KEY}
        planned["name"] = prior["name"] if prior else desired[NAME_KEY]
        if prior:  # editing the description never changes versions or aliases
            planned.update(latest_version=prior.get("latest_version"), aliases=prior.get("aliases"))
        return planned

    def read(self, id: str, prior: Attributes, op: Operation = DETACHED) -> Attributes | None:
        status, obj = self.client.call("GET", f"/models/{id}", f"read model {id}", allow=(404,))
        return None if status == 404 else attributes(obj)

    def create(self, desired: Attributes, op: Operation = DETACHED) -> tuple[str, Attributes]:
        name = str(desired[NAME_KEY])
        body = {"name": name, **{k: desired.get(k) for k in FIELDS}}
        status, obj = self.client.call("POST", "/models", f"create model {name}", body, allow=(409,))
        op.record_id(obj["id"], attributes(obj) if status != 409 else {})
        if status == 409:
            return obj["id"], self.update(obj["id"], {}, desired, op)
        return obj["id"], attributes(obj)

    def update(self, id: str, prior: Attributes, desired: Attributes, op: Operation = DETACHED) -> Attributes:
        body = {k: desired.get(k) for k in FIELDS}
        _, obj = self.client.call("PATCH", f"/models/{id}", f"update model {id}", body)
        return attributes(obj)

    def delete(self, id: str, prior: Attributes, op: Operation = DETACHED) -> None:
        self.client.call("DELETE", f"/models/{id}", f"delete model {id}", allow=(404,))

    def import_(self, ref: str, op: Operation = DETACHED) -> tuple[str, Attributes] | None:
        """By id (`m-3`) or by name (`churn`)."""
        return find(self.client, "models", ref, attributes)
