"""Lineage of a model version: dataset (hash) -> feature group -> run -> model version ->
endpoint -> monitor, assembled from the state and the provider's `version_evidence`."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_decl.runtime import Runtime


def newest_version(rt: Runtime, address: str, recorded: Any) -> int | None:
    """The model's newest version as the registry says now: the state's `latest_version` is
    what apply saw, and runs since have registered more."""
    if rt.can(address, "list_versions"):
        listed = rt.model_actions(address).list_versions().versions
        return max((v.version for v in listed), default=None)
    return int(recorded) if recorded else None


def model_lineage(rt: Runtime, address: str, version: int | None) -> dict[str, Any]:
    model = rt.managed(address, "model")
    if version is None:
        version = newest_version(rt, address, model.attributes.get("latest_version"))
        if not version:
            from mlops_decl.diagnostics import Diagnostic, DiagnosticError

            raise DiagnosticError(
                Diagnostic(f"{address} has no versions yet", hint="run its training pipeline first")
            )
    info = rt.model_actions(address).version_evidence(int(version))
    res = rt.state.resources
    by_id: dict[tuple[str, Any], str] = {(rs.kind, rs.id): a for a, rs in res.items()}
    pipelines = [
        a
        for a, rs in res.items()
        if rs.kind == "training_pipeline" and rs.attributes.get("registers") == model.id
    ]
    features, datasets = [], []
    for p in pipelines:
        for fg_id in res[p].attributes.get("inputs") or []:
            fg = by_id.get(("feature_group", fg_id))
            if fg:
                features.append(fg)
                ds = by_id.get(("dataset", res[fg].attributes.get("source")))
                if ds and ds not in datasets:
                    datasets.append(ds)
        labels = by_id.get(("dataset", res[p].attributes.get("labels")))
        if labels and labels not in datasets:
            datasets.append(labels)
    used = info.dataset_versions
    aliases = info.aliases
    endpoints = []
    for a, rs in sorted(res.items()):
        if rs.kind == "endpoint" and rs.attributes.get("model") == model.id:
            wanted = rs.attributes.get("version")
            serving = str(wanted) == str(version) or wanted in aliases
            monitors = sorted(
                m for m, ms in res.items() if ms.kind == "monitor" and ms.attributes.get("endpoint") == rs.id
            )
            endpoints.append(
                {"address": a, "version": wanted, "serving_this_version": serving, "monitors": monitors}
            )
    return {
        "model": address,
        "version": int(version),
        "aliases": aliases,
        "run": {
            k: getattr(info, k)
            for k in ("run_id", "params", "metrics", "created", "config_hash", "git_commit")
        },
        "pipelines": pipelines,
        "feature_groups": features,
        "datasets": [
            {
                "address": d,
                "version_now": res[d].attributes.get("version"),
                "version_used": used.get(d) or used.get(res[d].id),
            }
            for d in datasets
        ],
        "endpoints": endpoints,
    }


def render_tree(lin: dict[str, Any]) -> str:
    out = []
    for d in lin["datasets"]:
        used = d.get("version_used") or d.get("version_now")
        note = (
            ""
            if not d.get("version_used") or d["version_used"] == d["version_now"]
            else f" (now {d['version_now']})"
        )
        out.append(f"{d['address']} @ {used}{note}")
    pad = "  "
    for fg in lin["feature_groups"]:
        out.append(f"{pad}-> {fg}")
    run = lin["run"]
    metrics = ", ".join(
        f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
        for k, v in sorted((run.get("metrics") or {}).items())
    )
    params = ", ".join(f"{k}={v}" for k, v in sorted((run.get("params") or {}).items()))
    for p in lin["pipelines"] or ["(run)"]:
        out.append(f"{pad * 2}-> {p} run {run.get('run_id')}")
    out.append(f"{pad * 3}   params:  {params}")
    out.append(f"{pad * 3}   metrics: {metrics}")
    aliases = f" [{', '.join(lin['aliases'])}]" if lin["aliases"] else ""
    out.append(f"{pad * 3}-> {lin['model']} version {lin['version']}{aliases}")
    for e in lin["endpoints"]:
        state = (
            "serving this version"
            if e["serving_this_version"]
            else f"serving {e['version']}, not this version"
        )
        out.append(f"{pad * 4}-> {e['address']} ({state})")
        for m in e["monitors"]:
            out.append(f"{pad * 5}-> {m}")
    return "\n".join(out) + "\n"


def openlineage_events(lin: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
    """OpenLineage RunEvents (COMPLETE) for the training run, built with openlineage-python."""
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.serde import Serde

    run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, str(lin["run"].get("run_id"))))
    inputs = [InputDataset(namespace=namespace, name=d["address"]) for d in lin["datasets"]]
    inputs += [InputDataset(namespace=namespace, name=f) for f in lin["feature_groups"]]
    outputs = [OutputDataset(namespace=namespace, name=f"{lin['model']}@{lin['version']}")]
    events = []
    for job in lin["pipelines"] or [lin["model"]]:
        ev = RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=str(lin["run"].get("created") or ""),
            run=Run(runId=run_id),
            job=Job(namespace=namespace, name=job),
            inputs=inputs,
            outputs=outputs,
            producer="https://github.com/mlops-decl/mlops-decl",
        )
        import json

        events.append(json.loads(Serde.to_json(ev)))
    return events
