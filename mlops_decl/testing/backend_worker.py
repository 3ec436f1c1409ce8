"""A process using a state backend through its interfaces only, for the backend contract
(mlops_decl.testing.backend_contract) and the concurrency harness:

    python -m mlops_decl.testing.backend_worker MODE ROOT SETTINGS_JSON ...

    hold ROOT SETTINGS [HOST [SECONDS [NAME]]]  take the lock (as HOST if given and not "-";
                                    NAME: a named lock), print "held ID", let go after SECONDS
                                    (default: wait to be killed)
    race ROOT SETTINGS START        at time START try the lock once; print "won ID" or
                                    "refused PID WHO ID"; release when stdin closes
    writer ROOT SETTINGS NAME K     K locked read-modify-writes of dataset.counter, plus NAME's own
    puts ROOT SETTINGS              puts and compactions forever, "ack SERIAL I" after each put
    audit ROOT SETTINGS NAME K      append K audit entries
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from mlops_decl.state import LockHeld, LockInfo, ResourceState, open_state_backend


def _rs(name: str, **attrs: object) -> ResourceState:
    return ResourceState(f"dataset.{name}", "dataset", "local", name, dict(attrs), [])


def main(argv: list[str]) -> None:
    mode, root, settings = argv[1], argv[2], argv[3]
    backend = open_state_backend(Path(root), json.loads(settings))
    store, lock = backend.store, backend.lock()
    if mode == "hold":
        host = argv[4] if len(argv) > 4 and argv[4] != "-" else None
        seconds = float(argv[5]) if len(argv) > 5 else 3600.0
        if len(argv) > 6:
            lock = backend.lock(argv[6])
        info = LockInfo.new("apply", lock.describe())
        if host:
            info.host, info.who = host, f"ci@{host}"
        lock.acquire(info)
        print(f"held {info.id}", flush=True)
        time.sleep(seconds)
        lock.release()
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
            lock.acquire(LockInfo.new("writer", store.describe()), timeout=120)
            try:
                st = store.read()
                counter = st.resources.get("dataset.counter")
                n = counter.attributes["n"] if counter else 0
                time.sleep(rng.uniform(0, 0.002))  # widen the window a lost update needs
                store.put_resource(_rs("counter", n=n + 1))
                store.put_resource(_rs(name, writes=i + 1))
                store.compact()
            finally:
                lock.release()
        print("done", flush=True)
    elif mode == "puts":
        store.read()
        for i in range(1_000_000):
            serial = store.put_resource(_rs(f"d{i % 7}", i=i, blob="x" * (i % 500)))
            print(f"ack {serial} {i}", flush=True)
            if i % 3 == 2:
                store.compact()  # often, so a kill lands in the middle of one
    elif mode == "audit":
        from mlops_decl.audit import AuditLog

        log = AuditLog(backend.audit)
        for i in range(int(argv[5])):
            log.append("run", {"writer": argv[4], "i": i})
        print("done", flush=True)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv)
