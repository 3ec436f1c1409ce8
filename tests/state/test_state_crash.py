"""SIGKILL a process in the middle of puts, removes and compactions; nothing acknowledged is lost."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from state_helpers import spawn
from state_worker import ops_for

from mlops_decl.state import LocalStateStore, ResourceState


def _expected(seed: int, serial: int) -> dict[str, Any]:
    """The state after the worker's ops up to `serial`, replayed in memory."""
    resources: dict[str, ResourceState] = {}
    outputs: dict[str, Any] = {}
    n = 0
    for op, arg in ops_for(seed):
        if n == serial:
            break
        if op == "put":
            resources[arg.address] = arg
        elif op == "rm":
            if arg not in resources:
                continue  # no write, no serial
            del resources[arg]
        else:
            outputs = arg
        n += 1
    return {"resources": {a: r.to_json() for a, r in sorted(resources.items())}, "outputs": outputs}


@pytest.mark.parametrize("trial", range(10))
def test_sigkill_at_random_moments_loses_no_acknowledged_put(tmp_path: Path, trial: int) -> None:
    rnd = random.Random(1000 + trial)
    seed, durable = rnd.randrange(1 << 30), trial % 2
    p = spawn("puts", str(tmp_path), str(seed), str(durable))
    acks: list[int] = []
    assert p.stdout is not None
    first = p.stdout.readline()  # started: the first put returned
    assert first.startswith("ack "), first
    acks.append(int(first.split()[1]))

    def drain() -> None:
        assert p.stdout is not None
        acks.extend(int(line.split()[1]) for line in p.stdout if line.startswith("ack "))

    reader = threading.Thread(target=drain)
    reader.start()
    time.sleep(rnd.uniform(0.0, 0.3))
    p.send_signal(signal.SIGKILL)
    p.wait()
    reader.join()
    p.stdout.close()

    store = LocalStateStore(tmp_path / "state.json")
    st = store.read()
    acked = max(acks)
    assert acked <= st.serial <= acked + 1  # at most the one in flight is extra
    data = st.to_json()
    assert {"resources": data["resources"], "outputs": data["outputs"]} == _expected(seed, st.serial)
    # And the crashed state stays writable: a torn tail does not corrupt what follows.
    store.put_resource(ResourceState("dataset.after", "dataset", "local", "i", {}, []))
    store.compact()
    again = LocalStateStore(tmp_path / "state.json").read()
    assert again.serial == st.serial + 1 and "dataset.after" in again.resources
    assert not [
        n for n in os.listdir(tmp_path) if n.endswith(".tmp")
    ]  # a killed compaction's temp file is swept
