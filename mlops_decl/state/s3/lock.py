"""The s3 backend's locks: a lock object created with If-None-Match: * (`use_lockfile`), an
item put with attribute_not_exists(LockID) in a DynamoDB table (`dynamodb_table`), or both
(taken in that order, as Terraform does while a team moves from one to the other).

Each record holds the holder's LockInfo, so the refusal names who holds it and force-unlock
can check the id. A record outlives its holder: a killed process's lock stays until
`force-unlock` (no remote store can tell that a process on some machine died). Releasing is
conditional on the record still being this holder's (the lock object's ETag, the item's
Info), so a holder that was force-unlocked never removes its successor's lock.
"""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Protocol

from mlops_decl.state.model import StateError
from mlops_decl.state.s3.remote import Precondition, Remote
from mlops_decl.state.store import LockHeld, LockInfo, WithBlock


class Record(Protocol):
    where: str

    def create(self, info: LockInfo) -> str | None:
        """Store info if no record is there; the token to delete it by, or None if taken."""
        ...

    def read(self) -> tuple[LockInfo, str] | None:
        """(holder, token) of the record there, if any."""
        ...

    def delete(self, token: str) -> bool:
        """Remove the record if it is still the one token names."""
        ...


class ObjectRecord:
    def __init__(self, remote: Remote, key: str):
        self.remote, self.key = remote, key
        self.where = f"object s3://{remote.bucket}/{key}"

    def create(self, info: LockInfo) -> str | None:
        try:
            return self.remote.put(self.key, json.dumps(info.to_json()).encode(), create=True)
        except Precondition:
            return None

    def read(self) -> tuple[LockInfo, str] | None:
        got = self.remote.get(self.key)
        return (LockInfo.parse(got.body, f"lock {self.where}"), got.etag) if got else None

    def delete(self, token: str) -> bool:
        return self.remote.delete(self.key, if_match=token)


class TableRecord:
    def __init__(self, remote: Remote, table: str, lock_id: str):
        self.remote, self.table, self.lock_id = remote, table, lock_id
        self.where = f"item {lock_id} in DynamoDB table {table}"

    def create(self, info: LockInfo) -> str | None:
        text = json.dumps(info.to_json())
        try:
            self.remote.call(
                "dynamodb",
                "put_item",
                f"take the lock {self.where}",
                TableName=self.table,
                Item={"LockID": {"S": self.lock_id}, "Info": {"S": text}},
                ConditionExpression="attribute_not_exists(LockID)",
            )
        except Precondition:
            return None
        return text

    def read(self) -> tuple[LockInfo, str] | None:
        r = self.remote.call(
            "dynamodb",
            "get_item",
            f"read the lock {self.where}",
            TableName=self.table,
            Key={"LockID": {"S": self.lock_id}},
            ConsistentRead=True,
        )
        text = ((r.get("Item") or {}).get("Info") or {}).get("S")
        return (LockInfo.parse(text, f"lock {self.where}"), text) if text else None

    def delete(self, token: str) -> bool:
        try:
            self.remote.call(
                "dynamodb",
                "delete_item",
                f"release the lock {self.where}",
                TableName=self.table,
                Key={"LockID": {"S": self.lock_id}},
                ConditionExpression="Info = :info",
                ExpressionAttributeValues={":info": {"S": token}},
            )
        except Precondition:
            return False
        return True


class RemoteLock(WithBlock):
    """Lock (mlops_decl/state/store.py) over one or two records."""

    def __init__(self, records: list[Record], name: str | None = None):
        self.records = records
        self.name = name  # of a named lock, for messages
        self._mu = threading.Lock()
        self._held: list[tuple[Record, str]] = []
        self.info: LockInfo | None = None

    def describe(self) -> str:
        return "lock " + " and ".join(r.where for r in self.records)

    def acquire(self, info: LockInfo, timeout: float = 0.0) -> None:
        # Polled with a growing, jittered pause (to 2 s: each try is a request), as Terraform's
        # -lock-timeout polls.
        deadline, pause = time.monotonic() + max(timeout, 0.0), 0.05
        with self._mu:
            if self._held:
                raise StateError(f"this process already holds the lock (id {self.info and self.info.id})")
            while True:
                holder = self._take(info)
                if holder is None:
                    self.info = info
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LockHeld(holder, timeout, self.name)
                time.sleep(min(left, pause * random.uniform(0.5, 1.5)))
                pause = min(pause * 2, 2.0)

    def _take(self, info: LockInfo) -> LockInfo | None:
        """Create every record (None), or undo and return the holder of the first that is taken."""
        for record in self.records:
            for _ in range(10):
                token = record.create(info)
                if token is not None:
                    self._held.append((record, token))
                    break
                found = record.read()
                if found is not None:
                    self._let_go()
                    return found[0]
                # released between the two calls: try again
            else:
                self._let_go()
                raise StateError(f"could not take the lock {record.where}: it keeps changing")
        return None

    def _let_go(self) -> None:
        for record, token in self._held:
            record.delete(token)
        self._held, self.info = [], None

    def holder(self) -> LockInfo | None:
        for record in self.records:
            found = record.read()
            if found is not None:
                return found[0]
        return None

    def release(self) -> None:
        with self._mu:
            self._let_go()

    def force_unlock(self, lock_id: str) -> None:
        with self._mu:
            found = [(r, f) for r in self.records if (f := r.read()) is not None]
            if not found:
                what = f"the lock `{self.name}` is not held" if self.name else "the state is not locked"
                raise StateError(f"{what} (no {self.describe()})")
            for _, (holder, _token) in found:
                if holder.id != lock_id:
                    raise StateError(
                        f"lock id {lock_id} does not match the current lock: held by {holder.who} "
                        f"for `{holder.operation}` since {holder.created}, id {holder.id}"
                    )
            for record, (_holder, token) in found:
                if not record.delete(token):
                    raise StateError(f"the lock {record.where} changed while it was removed; look again")
            if self.info is not None and self.info.id == lock_id:
                self._held, self.info = [], None
