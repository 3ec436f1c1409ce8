"""Walk a DAG with a bounded number of workers: a node runs once all its predecessors
succeeded; everything downstream of a failure is skipped while independent branches carry on.
Knows nothing of resources.

Workers are daemon threads, one per running node, so a call that never returns cannot keep
the process alive after the walk gave up on it (second Ctrl-C).
"""

from __future__ import annotations

import functools
import queue
import threading
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from mlops_decl import workers

N = TypeVar("N", bound=Hashable)


class DAG(Generic[N]):
    """Just enough of a directed graph for walking (nodes, in_degree, successors), without
    importing networkx (~80 ms, 12 MiB) on every apply; a networkx.DiGraph is accepted too."""

    def __init__(self) -> None:
        self.succ: dict[N, set[N]] = {}
        self.pred: dict[N, set[N]] = {}

    def add_node(self, n: N) -> None:
        self.succ.setdefault(n, set())
        self.pred.setdefault(n, set())

    def add_nodes_from(self, ns: Any) -> None:
        for n in ns:
            self.add_node(n)

    def add_edge(self, a: N, b: N) -> None:
        self.add_node(a)
        self.add_node(b)
        self.succ[a].add(b)
        self.pred[b].add(a)

    @property
    def nodes(self) -> list[N]:
        return list(self.succ)

    def in_degree(self, n: N) -> int:
        return len(self.pred[n])

    def successors(self, n: N) -> Any:
        return iter(self.succ[n])


def _descendants(graph: Any, node: N) -> set[N]:
    """Everything downstream of node; needs only successors(), so a networkx.DiGraph works too."""
    out: set[N] = set()
    stack = list(graph.successors(node))
    while stack:
        m = stack.pop()
        if m not in out:
            out.add(m)
            stack.extend(graph.successors(m))
    return out


class Abandoned(Exception):
    """The walk stopped waiting for this node (second Ctrl-C); its call may still finish."""


@dataclass
class WalkResult(Generic[N]):
    done: list[N] = field(default_factory=list)
    failed: dict[N, BaseException] = field(default_factory=dict)
    skipped: dict[N, N] = field(default_factory=dict)  # node -> the failed node upstream
    cancelled: list[N] = field(default_factory=list)  # never started because the walk stopped
    abandoned: list[N] = field(default_factory=list)  # running when the walk stopped waiting

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped and not self.cancelled and not self.abandoned


def walk(
    graph: DAG[N] | Any,
    fn: Callable[[N], None],
    parallelism: int = 10,
    stop: threading.Event | None = None,
    on_skip: Callable[[N, N], None] | None = None,
    abandon: threading.Event | None = None,
    poll: float = 0.1,
) -> WalkResult[N]:
    """Run fn on every node in dependency order, at most `parallelism` at a time.

    `stop` set: start nothing new, let running calls finish (first Ctrl-C). `abandon` set:
    stop waiting for running calls too (second Ctrl-C); they are listed as abandoned and
    failed, and their descendants skipped."""
    parallelism = max(1, parallelism)
    result: WalkResult[N] = WalkResult()
    waiting = {n: graph.in_degree(n) for n in graph.nodes}
    ready = deque(sorted((n for n, d in waiting.items() if d == 0), key=str))
    blocked: set[N] = set()
    running: set[N] = set()
    # queue.Queue, not SimpleQueue: the main thread waits here while Ctrl-C arrives, and the C
    # SimpleQueue.get(timeout) sometimes stayed blocked after the signal handler had run
    # (test_second_ctrl_c_...: 3 hangs in 5 runs; 0 in 16 with Queue, whose Condition wait
    # resumes with the remaining timeout).
    finished: queue.Queue[tuple[N, BaseException | None]] = queue.Queue()

    def run(node: N) -> None:
        try:
            fn(node)
        except BaseException as exc:  # reported to the walk, which decides
            finished.put((node, exc))
        else:
            finished.put((node, None))

    def fail(node: N, exc: BaseException) -> None:
        result.failed[node] = exc
        for down in _descendants(graph, node):
            if down not in blocked:
                blocked.add(down)
                result.skipped[down] = node
                if on_skip:
                    on_skip(down, node)

    while ready or running:
        while ready and len(running) < parallelism and not (stop and stop.is_set()):
            node = ready.popleft()
            running.add(node)
            workers.submit(functools.partial(run, node))
        if not running:
            break
        try:
            # A timeout keeps the main thread responsive to signals and to `abandon`.
            node, exc = finished.get(timeout=poll)
        except queue.Empty:
            if abandon is not None and abandon.is_set():
                for node in sorted(running, key=str):
                    result.abandoned.append(node)
                    fail(node, Abandoned("interrupted while running; it may still finish in the background"))
                running.clear()
                break
            continue
        running.discard(node)
        if exc is not None:
            fail(node, exc)
            continue
        result.done.append(node)
        for succ in graph.successors(node):
            waiting[succ] -= 1
            if waiting[succ] == 0 and succ not in blocked:
                ready.append(succ)
    if stop and stop.is_set() or abandon and abandon.is_set():
        seen = set(result.done) | set(result.failed) | set(result.skipped)
        result.cancelled = sorted((n for n in graph.nodes if n not in seen), key=str)
    else:
        result.cancelled = [n for n in ready if n not in blocked]
    return result
