"""Walk a DAG with a bounded pool: a node runs once all its predecessors succeeded; everything
downstream of a failure is skipped while independent branches carry on. Knows nothing of
resources."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import networkx as nx

N = TypeVar("N", bound=Hashable)


@dataclass
class WalkResult(Generic[N]):
    done: list[N] = field(default_factory=list)
    failed: dict[N, BaseException] = field(default_factory=dict)
    skipped: dict[N, N] = field(default_factory=dict)  # node -> the failed node upstream
    cancelled: list[N] = field(default_factory=list)  # never started because the walk stopped

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped and not self.cancelled


def walk(
    graph: nx.DiGraph,
    fn: Callable[[N], None],
    parallelism: int = 10,
    stop: threading.Event | None = None,
    on_skip: Callable[[N, N], None] | None = None,
) -> WalkResult[N]:
    """Run fn on every node in dependency order. `stop` set: start nothing new, let
    in-flight calls finish (Ctrl-C)."""
    result: WalkResult[N] = WalkResult()
    waiting = {n: graph.in_degree(n) for n in graph.nodes}
    ready = deque(sorted((n for n, d in waiting.items() if d == 0), key=str))
    blocked: set[N] = set()
    running: dict[Future[None], N] = {}
    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="walk") as pool:
        while ready or running:
            while ready and len(running) < parallelism and not (stop and stop.is_set()):
                node = ready.popleft()
                running[pool.submit(fn, node)] = node
            if not running:
                break
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in finished:
                node = running.pop(fut)
                exc = fut.exception()
                if exc is not None:
                    result.failed[node] = exc
                    for down in nx.descendants(graph, node):
                        if down not in blocked:
                            blocked.add(down)
                            result.skipped[down] = node
                            if on_skip:
                                on_skip(down, node)
                    continue
                result.done.append(node)
                for succ in graph.successors(node):
                    waiting[succ] -= 1
                    if waiting[succ] == 0 and succ not in blocked:
                        ready.append(succ)
        result.cancelled = [n for n in ready if n not in blocked]
    if stop and stop.is_set():
        finished_set = set(result.done) | set(result.failed) | set(result.skipped)
        result.cancelled = sorted((n for n in graph.nodes if n not in finished_set), key=str)
    return result
