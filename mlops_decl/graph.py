"""The dependency graph: references plus depends_on. Edges point from a dependency to its
dependent, so a topological order is a creation order."""

from __future__ import annotations

import difflib
import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from mlops_decl import kind_check
from mlops_decl.config.expressions import RefSyntaxError, iter_refs, parse_ref
from mlops_decl.config.project import Project
from mlops_decl.diagnostics import Diagnostic, DiagnosticError, Source
from mlops_decl.kind_rules import KIND_NAMES, META_ARGUMENTS, PROVIDER_BLOCKS
from mlops_decl.provider_schema import ENGINE_COMPUTED


@dataclass
class Graph:
    """Addresses and their dependency edges.

    A few dict-of-sets rather than networkx: importing networkx costs `validate` about 60 ms,
    a fifth of its run.
    """

    succ: dict[str, set[str]] = field(default_factory=dict)  # dependency -> dependents
    pred: dict[str, set[str]] = field(default_factory=dict)  # dependent -> dependencies
    edge_sources: dict[tuple[str, str], Source] = field(default_factory=dict)
    var_users: set[str] = field(default_factory=set)  # resources whose bodies read ${var.*}

    def add_node(self, address: str) -> None:
        self.succ.setdefault(address, set())
        self.pred.setdefault(address, set())

    def add_edge(self, dependency: str, dependent: str) -> None:
        self.add_node(dependency)
        self.add_node(dependent)
        self.succ[dependency].add(dependent)
        self.pred[dependent].add(dependency)

    @property
    def nodes(self) -> list[str]:
        return sorted(self.succ)

    @property
    def edges(self) -> list[tuple[str, str]]:
        """(dependency, dependent) pairs, sorted."""
        return sorted((a, b) for a, deps in self.succ.items() for b in deps)

    def dependencies(self, address: str) -> list[str]:
        return sorted(self.pred.get(address, ()))

    def dependents(self, address: str) -> list[str]:
        return sorted(self.succ.get(address, ()))

    def order(self) -> list[str]:
        """A creation order; among nodes ready at once, the alphabetically first goes first."""
        waiting = {n: len(p) for n, p in self.pred.items()}
        ready = [n for n, k in waiting.items() if k == 0]
        heapq.heapify(ready)
        out: list[str] = []
        while ready:
            node = heapq.heappop(ready)
            out.append(node)
            for nxt in self.succ[node]:
                waiting[nxt] -= 1
                if waiting[nxt] == 0:
                    heapq.heappush(ready, nxt)
        if len(out) != len(waiting):
            raise ValueError("the graph has a cycle")
        return out

    def _reach(self, targets: list[str], table: dict[str, set[str]]) -> set[str]:
        out: set[str] = set()
        stack = list(targets)
        while stack:
            node = stack.pop()
            if node in out:
                continue
            out.add(node)
            stack.extend(table.get(node, ()))
        return out

    def with_dependencies(self, targets: list[str]) -> set[str]:
        return self._reach(targets, self.pred)

    def with_dependents(self, targets: list[str]) -> set[str]:
        return self._reach(targets, self.succ)

    def find_cycle(self) -> list[str] | None:
        """Nodes of one cycle in edge order (each node's successor follows it), or None."""
        color: dict[str, int] = {}  # 1: on the current path, 2: done
        for root in self.succ:
            if root in color:
                continue
            path: list[str] = [root]
            color[root] = 1
            stack = [iter(sorted(self.succ[root]))]
            while stack:
                nxt = next(stack[-1], None)
                if nxt is None:
                    color[path.pop()] = 2
                    stack.pop()
                elif color.get(nxt) == 1:
                    return path[path.index(nxt) :]
                elif nxt not in color:
                    color[nxt] = 1
                    path.append(nxt)
                    stack.append(iter(sorted(self.succ[nxt])))
        return None


# address -> the attributes its provider computes (ids included), or None when the provider is
# not installed (reported elsewhere; any attribute may be meant)
Computed = Callable[[str], frozenset[str] | None]


def _engine_computed(address: str) -> frozenset[str] | None:
    return frozenset(ENGINE_COMPUTED)


def build_graph(project: Project, computed: Computed = _engine_computed) -> Graph:
    """Check every reference and depends_on entry, then build the graph; reject cycles.

    `computed` names the attributes a resource's provider computes, so `${endpoint.x.arn}` is
    accepted exactly where the endpoint's provider declares `arn`.
    """

    def attr_ok(address: str, kind: str, attr: tuple[str, ...]) -> bool:
        if not attr or attr[0] in kind_check.field_names(kind) or attr[0] in ENGINE_COMPUTED:
            return True
        names = computed(address)  # imports the provider (not configured): only when needed
        return names is None or attr[0] in names

    graph = Graph()
    errors: list[Diagnostic] = []
    for address in project.resources:
        graph.add_node(address)

    def check(text: str, src: Source, owner: str | None) -> str | None:
        try:
            ref = parse_ref(text)
        except RefSyntaxError:
            errors.append(
                Diagnostic(
                    f"`${{{text}}}` is not a valid reference",
                    src,
                    hint="write ${kind.name}, ${kind.name.attribute} or ${var.name}; $${ writes a literal ${",
                )
            )
            return None
        if ref.kind == "var":
            if ref.name not in project.variables:
                close = difflib.get_close_matches(ref.name, list(project.variables), n=1)
                errors.append(
                    Diagnostic(
                        f"reference to undeclared variable `var.{ref.name}`",
                        src,
                        hint=f"did you mean `var.{close[0]}`?" if close else "declare it under `variables:`",
                    )
                )
            return None
        if ref.kind not in KIND_NAMES:
            close = difflib.get_close_matches(ref.kind, list(KIND_NAMES), n=1)
            errors.append(
                Diagnostic(
                    f"`${{{text}}}` names unknown kind `{ref.kind}`",
                    src,
                    hint=f"did you mean `{close[0]}`?" if close else "kinds: " + ", ".join(KIND_NAMES),
                )
            )
            return None
        if ref.address not in project.resources:
            near = _close_name(ref.kind, ref.name, project, exclude=owner)
            errors.append(
                Diagnostic(
                    f"reference to undeclared resource `{ref.address}`",
                    src,
                    hint=f"did you mean `{near}`?"
                    if near
                    else f"declare `{ref.name}` under resources.{ref.kind}",
                )
            )
            return None
        if not attr_ok(ref.address, ref.kind, ref.attr):
            fields = sorted(
                (set(kind_check.field_names(ref.kind)) | (computed(ref.address) or frozenset()))
                - META_ARGUMENTS
                - set(PROVIDER_BLOCKS)
            )
            near_attr = difflib.get_close_matches(ref.attr[0], fields, n=1)
            errors.append(
                Diagnostic(
                    f"`{ref.address}` has no attribute `{ref.attr[0]}`",
                    src,
                    hint=(f"did you mean `{near_attr[0]}`? " if near_attr else "")
                    + f"{ref.kind} attributes: "
                    + ", ".join(fields),
                )
            )
            return None
        if owner == ref.address:
            errors.append(Diagnostic(f"{owner} refers to itself", src, hint="remove the self-reference"))
            return None
        return ref.address

    for address, rc in project.resources.items():
        for text, path in iter_refs(rc.body):
            if text.startswith("var."):
                graph.var_users.add(address)
            if path and path[0] in ("depends_on",):
                continue
            dep = check(text, rc.source(path), address)
            if dep:
                graph.edge_sources.setdefault((dep, address), rc.source(path))
                graph.add_edge(dep, address)
        for i, dep in enumerate(rc.body.get("depends_on") or []):
            src = rc.source(("depends_on", i))
            target = dep[2:-1] if isinstance(dep, str) and dep.startswith("${") and dep.endswith("}") else dep
            if target not in project.resources:
                kind, _, name = str(target).partition(".")
                close = _close_name(kind, name, project, exclude=address) if name else None
                errors.append(
                    Diagnostic(
                        f"depends_on names undeclared resource `{target}`",
                        src,
                        hint=f"did you mean `{close}`?"
                        if close
                        else "write the address of a declared resource: kind.name",
                    )
                )
                continue
            if target == address:
                errors.append(
                    Diagnostic(f"{address} depends on itself", src, hint="remove it from depends_on")
                )
                continue
            graph.edge_sources.setdefault((target, address), src)
            graph.add_edge(target, address)
    for out in project.outputs.values():
        for text, path in iter_refs(out.value):
            check(text, out.value_source(path), None)
    if errors:
        raise DiagnosticError(errors)
    cycle = graph.find_cycle()
    if cycle is None:
        return graph
    raise DiagnosticError(_cycle_error(graph, cycle))


def _cycle_error(graph: Graph, nodes: list[str]) -> Diagnostic:
    """The cycle in depends-on order (`a -> b`: a needs b), from its smallest address."""
    order = list(reversed(nodes))  # graph edges point from a dependency to its dependent
    start = order.index(min(order))
    order = order[start:] + order[:start]
    hops = list(zip(order, order[1:] + order[:1], strict=True))
    where = [graph.edge_sources.get((needed, needer)) for needer, needed in hops]
    detail = "\n  ".join(
        f"{needer} depends on {needed}" + (f" at {src}" if src else "")
        for (needer, needed), src in zip(hops, where, strict=True)
    )
    return Diagnostic(
        "dependency cycle: " + " -> ".join([*order, order[0]]),
        where[0],
        hint="break the cycle: remove one of these references or depends_on entries",
        detail=detail,
    )


def _close_name(kind: str, name: str, project: Project, exclude: str | None) -> str | None:
    """A declared address of the same kind whose name is close to `name`."""
    names = [a.split(".", 1)[1] for a in project.resources if a.startswith(kind + ".") and a != exclude]
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        return f"{kind}.{close[0]}"
    # the right name under another kind: `${model.churn_training}` for a training_pipeline
    other = sorted(a for a in project.resources if a.split(".", 1)[1] == name and a != exclude)
    return other[0] if other else None


def to_dot(graph: Graph) -> str:
    lines = ["digraph mlops {", "  rankdir = LR;"]
    for node in graph.nodes:
        lines.append(f'  "{node}" [label="{node}", shape=box];')
    for a, b in graph.edges:
        lines.append(f'  "{b}" -> "{a}";')  # Terraform draws dependent -> dependency
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(graph: Graph) -> str:
    ids = {n: f"n{i}" for i, n in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    for node, nid in ids.items():
        lines.append(f'  {nid}["{node}"]')
    for a, b in graph.edges:
        lines.append(f"  {ids[a]} --> {ids[b]}")
    return "\n".join(lines) + "\n"
