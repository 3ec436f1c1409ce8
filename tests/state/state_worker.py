"""Subprocess helper for the state tests (not a test module): run as `python state_worker.py MODE ...`.

puts DIR SEED DURABLE  - do the ops of ops_for(SEED) forever, printing "ack SERIAL" after each returns
hold LOCKFILE          - take the lock, print "held ID", then wait to be killed
race LOCKFILE START    - at time START try the lock; print "won" or "held"; release when stdin closes
"""

from __future__ import annotations

import itertools
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlops_decl.state.local import LocalLock, LocalStateStore
from mlops_decl.state.model import ResourceState
from mlops_decl.state.store import LockHeld, LockInfo


def ops_for(seed: int) -> Iterator[tuple[str, Any]]:
    """A deterministic mix of puts, removes and outputs over a few addresses (so compaction is frequent)."""
    rnd = random.Random(seed)
    for i in itertools.count():
        address = f"dataset.d{rnd.randrange(12)}"
        r = rnd.random()
        if r < 0.75:
            attrs = {"i": i, "blob": "x" * rnd.randrange(2000)}
            yield "put", ResourceState(address, "dataset", "local", f"id-{i}", attrs, ["dataset.d0"])
        elif r < 0.9:
            yield "rm", address
        else:
            yield "outputs", {"o": {"value": i, "sensitive": False}}


def main(argv: list[str]) -> None:
    mode = argv[1]
    if mode == "puts":
        store = LocalStateStore(Path(argv[2]) / "state.json", durable=argv[4] == "1", min_compact=5)
        for op, arg in ops_for(int(argv[3])):
            if op == "put":
                serial = store.put_resource(arg)
            elif op == "rm":
                serial = store.remove_resource(arg)
            else:
                serial = store.set_outputs(arg)
            sys.stdout.write(f"ack {serial}\n")
            sys.stdout.flush()
    elif mode == "hold":
        lock = LocalLock(Path(argv[2]))
        info = LockInfo.new("apply", argv[2])
        lock.acquire(info)
        print(f"held {info.id}", flush=True)
        time.sleep(3600)
    elif mode == "race":
        lock = LocalLock(Path(argv[2]))
        info = LockInfo.new("race", argv[2])
        while time.time() < float(argv[3]):
            pass  # spin, so both racers start within microseconds
        try:
            lock.acquire(info)
        except LockHeld:
            print("held", flush=True)
            sys.stdin.read()
            return
        print("won", flush=True)
        sys.stdin.read()
        lock.release()


if __name__ == "__main__":
    main(sys.argv)
