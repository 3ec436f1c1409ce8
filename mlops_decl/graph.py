"""The dependency graph: references plus depends_on. Edges point from a dependency to its
dependent, so a topological order is a creation order."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import networkx as nx

from mlops_decl import kinds
from mlops_decl.config.expressions import RefSyntaxError, iter_refs, parse_ref
from mlops_decl.config.project import Project
from mlops_decl.diagnostics import Diagnostic, DiagnosticError, Source


@dataclass
class Graph:
    g: nx.DiGraph
    edge_sources: dict[tuple[str, str], Source] = field(default_factory=dict)

    def dependencies(self, address: str) -> list[str]:
        return sorted(self.g.predecessors(address))

    def order(self) -> list[str]:
        return list(nx.lexicographical_topological_sort(self.g))

    def with_dependencies(self, targets: list[str]) -> set[str]:
        out: set[str] = set()
        for t in targets:
            out.add(t)
            out |= nx.ancestors(self.g, t)
        return out

    def with_dependents(self, targets: list[str]) -> set[str]:
        out: set[str] = set()
        for t in targets:
            out.add(t)
            out |= nx.descendants(self.g, t)
        return out


def _attr_ok(kind: str, attr: tuple[str, ...]) -> bool:
    if not attr:
        return True
    model = kinds.KINDS[kind]
    return attr[0] in model.model_fields or attr[0] in kinds.COMPUTED[kind]


def build_graph(project: Project) -> Graph:
    """Check every reference and depends_on entry, then build the graph; reject cycles."""
    g: nx.DiGraph = nx.DiGraph()
    graph = Graph(g)
    errors: list[Diagnostic] = []
    g.add_nodes_from(project.resources)

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
        if ref.kind not in kinds.KINDS:
            close = difflib.get_close_matches(ref.kind, list(kinds.KINDS), n=1)
            errors.append(
                Diagnostic(
                    f"`${{{text}}}` names unknown kind `{ref.kind}`",
                    src,
                    hint=f"did you mean `{close[0]}`?" if close else "kinds: " + ", ".join(kinds.KINDS),
                )
            )
            return None
        if ref.address not in project.resources:
            same_kind = [a for a in project.resources if a.startswith(ref.kind + ".")]
            close = difflib.get_close_matches(ref.address, same_kind, n=1)
            errors.append(
                Diagnostic(
                    f"reference to undeclared resource `{ref.address}`",
                    src,
                    hint=f"did you mean `{close[0]}`?"
                    if close
                    else f"declare `{ref.name}` under resources.{ref.kind}",
                )
            )
            return None
        if not _attr_ok(ref.kind, ref.attr):
            fields = sorted(set(kinds.KINDS[ref.kind].model_fields) | kinds.COMPUTED[ref.kind])
            errors.append(
                Diagnostic(
                    f"`{ref.kind}` has no attribute `{ref.attr[0]}`",
                    src,
                    hint="attributes: " + ", ".join(f for f in fields if f not in kinds.META_ARGUMENTS),
                )
            )
            return None
        if owner == ref.address:
            errors.append(Diagnostic(f"{owner} refers to itself", src, hint="remove the self-reference"))
            return None
        return ref.address

    for address, rc in project.resources.items():
        for text, path in iter_refs(rc.body):
            if path and path[0] in ("depends_on",):
                continue
            dep = check(text, rc.source(path), address)
            if dep:
                graph.edge_sources.setdefault((dep, address), rc.source(path))
                g.add_edge(dep, address)
        for i, dep in enumerate(rc.body.get("depends_on") or []):
            src = rc.source(("depends_on", i))
            target = dep[2:-1] if isinstance(dep, str) and dep.startswith("${") and dep.endswith("}") else dep
            if target not in project.resources:
                close = difflib.get_close_matches(str(target), list(project.resources), n=1)
                errors.append(
                    Diagnostic(
                        f"depends_on names undeclared resource `{target}`",
                        src,
                        hint=f"did you mean `{close[0]}`?" if close else "write an address: kind.name",
                    )
                )
                continue
            if target == address:
                errors.append(
                    Diagnostic(f"{address} depends on itself", src, hint="remove it from depends_on")
                )
                continue
            graph.edge_sources.setdefault((target, address), src)
            g.add_edge(target, address)
    for name, out in project.outputs.items():
        for text, _path in iter_refs(out.value):
            check(text, out.source, None)
    if errors:
        raise DiagnosticError(errors)
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return graph
    path = [a for a, _ in cycle] + [cycle[0][0]]
    first = cycle[0]
    raise DiagnosticError(
        Diagnostic(
            "dependency cycle: " + " -> ".join(path),
            graph.edge_sources.get((first[0], first[1])),
            hint="break the cycle: remove one of these references or depends_on entries",
        )
    )


def to_dot(graph: Graph) -> str:
    lines = ["digraph mlops {", "  rankdir = LR;"]
    for node in sorted(graph.g.nodes):
        lines.append(f'  "{node}" [label="{node}", shape=box];')
    for a, b in sorted(graph.g.edges):
        lines.append(f'  "{b}" -> "{a}";')  # Terraform draws dependent -> dependency
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(graph: Graph) -> str:
    ids = {n: f"n{i}" for i, n in enumerate(sorted(graph.g.nodes))}
    lines = ["flowchart LR"]
    for node, nid in ids.items():
        lines.append(f'  {nid}["{node}"]')
    for a, b in sorted(graph.g.edges):
        lines.append(f"  {ids[a]} --> {ids[b]}")
    return "\n".join(lines) + "\n"
