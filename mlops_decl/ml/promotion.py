"""Gate evaluation and promotion, on the evidence a provider's model actions supply.

`evaluate` judges a version against a registry_policy's gates; `promote` does that and then
moves the alias by compare-and-set, both under the model's promotion lock, so two promotions
at once cannot both pass a champion comparison against the same champion.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from . import gates as g
from .evidence import EvaluationRows, ModelActions, VersionEvidence

DEFAULT_ALIAS = "champion"


class _Split:
    """The candidate's evaluation rows, fetched once by the first gate that needs them."""

    def __init__(self, actions: ModelActions, version: int):
        self._actions, self._version = actions, version
        self._fetched: list[EvaluationRows | None] = []

    def __call__(self) -> EvaluationRows | None:
        if not self._fetched:
            self._fetched.append(self._actions.evaluation_rows(self._version))
        return self._fetched[0]


def _compare(
    actions: ModelActions, gate: dict[str, Any], ev: VersionEvidence, champion: int, split: _Split
) -> tuple[bool, str]:
    """The candidate against the champion, both scored on the candidate's evaluation rows; the
    logged metrics when the rows are missing or the champion cannot score them."""
    metric, version = gate["metric"], ev.version
    found, why = split(), "the candidate kept no evaluation split"
    if found is not None:
        frame = found.rows
        try:
            mine = g.metric_on(frame, metric, frame["__pred__"], frame.get("__score__"))
            features = frame[[c for c in frame.columns if not str(c).startswith("__")]]
            theirs = actions.score(champion, features)
            if theirs.error is None:
                value = g.metric_on(frame, metric, theirs.predictions, theirs.scores)
                where = f"on v{version}'s evaluation split ({len(frame)} rows)"
                return g.champion_comparison(gate, mine, value, champion, where)
            why = f"champion v{champion} could not score the split: {theirs.error}"
        except ValueError as exc:  # the metric cannot be computed there (no scores for auc)
            why = f"scoring on the split failed: {exc}"
    logged = actions.version_evidence(champion).metrics
    if metric not in ev.metrics:
        return False, f"v{version}'s run logged no `{metric}` ({why})"
    if metric not in logged:
        return False, f"champion v{champion}'s run logged no `{metric}` ({why})"
    return g.champion_comparison(
        gate, float(ev.metrics[metric]), float(logged[metric]), champion, f"as logged ({why})"
    )


def _judge(
    actions: ModelActions,
    gate: dict[str, Any],
    ev: VersionEvidence,
    alias: str,
    champion: int | None,
    split: _Split,
) -> tuple[bool, str]:
    kind = gate.get("type")
    if kind == "metric_threshold":
        return g.metric_threshold(gate, ev.metrics)
    if kind == "champion_comparison":
        if champion is None:
            return True, "no champion yet"
        if champion == ev.version:
            return True, f"v{ev.version} already holds `{alias}`"
        return _compare(actions, gate, ev, champion, split)
    if kind == "bias":
        found = split()
        if found is None:
            return False, "the run kept no evaluation split"
        return g.bias(gate, found.rows)
    if kind == "manual_approval":
        return g.manual_approval(gate, ev.approvals)
    return False, f"unknown gate type `{kind}`"


def evaluate(actions: ModelActions, policy: dict[str, Any], version: int | None = None) -> dict[str, Any]:
    """Each gate's verdict and evidence for `version` (None: the newest version newer than the
    one holding the alias, for plan; older ones were promoted before or passed over)."""
    listed = actions.list_versions()
    alias = str(policy.get("promote_to") or DEFAULT_ALIAS)
    champion = listed.aliases.get(alias)
    result: dict[str, Any] = {
        "model": listed.model,
        "version": None,
        "alias": alias,
        "champion": champion,
        "gates": [],
        "passed": False,
    }
    if version is None:
        waiting = [v.version for v in listed.versions if champion is None or v.version > champion]
        if not waiting:
            return result
        version = max(waiting)
    ev = actions.version_evidence(int(version))
    split = _Split(actions, ev.version)
    for gate in policy.get("gates") or []:
        try:
            ok, evidence = _judge(actions, gate, ev, alias, champion, split)
        except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
            # a gate that cannot be evaluated on this evidence fails closed, saying why
            ok, evidence = False, f"could not evaluate: {type(exc).__name__}: {exc}"
        result["gates"].append(
            {"type": gate.get("type"), "gate": g.label(gate), "evidence": evidence, "passed": bool(ok)}
        )
    result["version"] = ev.version
    result["passed"] = all(r["passed"] for r in result["gates"])
    return result


def promote(
    actions: ModelActions,
    policy: dict[str, Any] | None,
    version: int,
    lock: Callable[[], AbstractContextManager[object]],
) -> dict[str, Any]:
    """Evaluate the gates and, when all pass, move the alias from the champion they compared
    against to `version`, all while holding `lock()`. The move is a compare-and-set: if the
    alias moved anyway (a promotion that does not take the lock), it raises AliasConflict."""
    with lock():
        if policy is None:
            ev = actions.version_evidence(int(version))
            champion = actions.list_versions().aliases.get(DEFAULT_ALIAS)
            result: dict[str, Any] = {
                "model": ev.model,
                "version": ev.version,
                "alias": DEFAULT_ALIAS,
                "champion": champion,
                "gates": [],
                "passed": True,
                "note": f"no registry_policy names model `{ev.model}`: promoted without gates",
            }
        else:
            result = evaluate(actions, policy, version)
        result.update(promoted=False, previous=result["champion"])
        if result["passed"]:
            actions.set_alias(result["alias"], int(version), expected_current=result["champion"])
            result["promoted"] = True
    return result
