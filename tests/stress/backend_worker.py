"""A process using a state backend through its interfaces only (StateStore, Lock), for the
backend contract tests and the concurrency harness. Not a test module.

    python backend_worker.py hold ROOT SETTINGS_JSON [HOST]   take the lock (as HOST if given),
                                                              print "held ID", wait to be killed
    python backend_worker.py race ROOT SETTINGS_JSON START    at time START try the lock once;
                                                              print "won ID" or "refused PID WHO",
                                                              release when stdin closes
    python backend_worker.py writer ROOT SETTINGS_JSON NAME K K locked read-modify-writes of
                                                              dataset.counter, plus NAME's own
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from mlops_decl.state import LockHeld, LockInfo, ResourceState, open_backend


def _backend(root: str, settings: str):  # type: ignore[no-untyped-def]
    return open_backend(Path(root), json.loads(settings))


def main(argv: list[str]) -> None:
    mode, root, settings = argv[1], argv[2], argv[3]
    store, lock = _backend(root, settings)
    if mode == "hold":
        info = LockInfo.new("apply", store.describe())
        if len(argv) > 4:
            info.host = argv[4]
            info.who = f"ci@{argv[4]}"
        lock.acquire(info)
        print(f"held {info.id}", flush=True)
        time.sleep(3600)
    elif mode == "race":
        start = float(argv[4])
        while time.time() < start:
            time.sleep(0.0005)
        info = LockInfo.new("race", store.describe())
        try:
            lock.acquire(info)
        except LockHeld as exc:
            print(f"refused {exc.holder.pid} {exc.holder.who} {exc.holder.id}", flush=True)
            return
        print(f"won {info.id}", flush=True)
        sys.stdin.read()
        lock.release()
    elif mode == "writer":
        name, k = argv[4], int(argv[5])
        rng = random.Random(name)
        for i in range(k):
            info = LockInfo.new("writer", store.describe())
            while True:
                try:
                    lock.acquire(info)
                    break
                except LockHeld:
                    time.sleep(rng.uniform(0.001, 0.01))
            try:
                st = store.read()
                counter = st.resources.get("dataset.counter")
                n = counter.attributes["n"] if counter else 0
                time.sleep(rng.uniform(0, 0.002))  # widen the window a lost update needs
                store.put_resource(
                    ResourceState("dataset.counter", "dataset", "local", "counter", {"n": n + 1}, [])
                )
                store.put_resource(
                    ResourceState(f"dataset.{name}", "dataset", "local", name, {"writes": i + 1}, [])
                )
                store.compact()
            finally:
                lock.release()
        print("done", flush=True)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv)
