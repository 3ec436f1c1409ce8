"""dataset: a record on the service pointing at the data's URI; the service computes its
version from the URI and format. Another URI is another dataset: `uri` forces a new one."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from mlops_decl.provider import DETACHED, NAME_KEY, Attributes, Category, Handler, Operation, ProviderError

from .client import Client

FIELDS = ("uri", "format", "description", "tags")


def attributes(obj: dict[str, Any]) -> Attributes:
    return {k: obj.get(k) for k in ("id", *FIELDS, "version", "created_at")}


class DatasetHandler(Handler):
    kind = "dataset"
    force_new = frozenset({"uri"})
    computed = frozenset({"id", "version", "created_at"})

    def __init__(self, client: Client):
        self.client = client

    def plan(self, desired: Attributes, prior: Attributes | None) -> Attributes:
        planned = {k: v for k, v in desired.items() if k != NAME_KEY}
        # the version follows uri and format; a description or tag change keeps it
        if prior and all(planned.get(k) == prior.get(k) for k in ("uri", "format")):
            planned.update(version=prior.get("version"), created_at=prior.get("created_at"))
        return planned

    def read(self, id: str, prior: Attributes, op: Operation = DETACHED) -> Attributes | None:
        status, obj = self.client.call("GET", f"/datasets/{id}", f"read dataset {id}", allow=(404,))
        return None if status == 404 else attributes(obj)

    def create(self, desired: Attributes, op: Operation = DETACHED) -> tuple[str, Attributes]:
        name = str(desired[NAME_KEY])
        body = {"name": name, **{k: desired.get(k) for k in FIELDS}}
        status, obj = self.client.call("POST", "/datasets", f"create dataset {name}", body, allow=(409,))
        if status == 409:
            # Another dataset by that name may be someone else's: refuse rather than take it.
            raise ProviderError(
                f"a dataset named `{name}` already exists on the service (id {obj.get('id')}); "
                f"import it with `mlops-decl import dataset.{name} {name}`, or rename this one",
                category=Category.CONFLICT,
            )
        op.record_id(obj["id"], attributes(obj))
        return obj["id"], attributes(obj)

    def update(self, id: str, prior: Attributes, desired: Attributes, op: Operation = DETACHED) -> Attributes:
        body = {k: desired.get(k) for k in FIELDS if k != "uri"}
        _, obj = self.client.call("PATCH", f"/datasets/{id}", f"update dataset {id}", body)
        return attributes(obj)

    def delete(self, id: str, prior: Attributes, op: Operation = DETACHED) -> None:
        self.client.call("DELETE", f"/datasets/{id}", f"delete dataset {id}", allow=(404,))

    def import_(self, ref: str, op: Operation = DETACHED) -> tuple[str, Attributes] | None:
        """By id (`ds-3`) or by name (`sales`)."""
        return find(self.client, "datasets", ref, attributes)


def find(client: Client, collection: str, ref: str, shape: Any) -> tuple[str, Attributes] | None:
    """(id, attributes) of the object whose id or name is `ref`."""
    status, obj = client.call(
        "GET", f"/{collection}/{quote(ref, safe='')}", f"read {collection} {ref}", allow=(404,)
    )
    if status != 404:
        return obj["id"], shape(obj)
    _, found = client.call(
        "GET", f"/{collection}?{urlencode({'name': ref})}", f"find {collection} named {ref}"
    )
    items = found.get("items") or []
    return (items[0]["id"], shape(items[0])) if items else None
