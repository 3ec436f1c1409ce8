"""A drift check's report on disk: JSON for machines, one self-contained HTML page for people.

The HTML has no script and loads nothing: a table of features (method, score, threshold,
verdict) with a small inline-SVG histogram per feature, reference beside current, so the file
can be mailed, attached to a ticket or opened offline years later.
"""

from __future__ import annotations

import html
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

REF_COLOUR = "#4c78a8"
CUR_COLOUR = "#f58518"
MAX_CATEGORIES = 12  # more than this and the rest are drawn as one "other" bar
SVG_W, SVG_H, PAD = 360, 120, 18


def _reserve(directory: Path, stem: str) -> str:
    """A stem no other check has used: two checks in the same second get -2, -3, ..."""
    directory.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        candidate = stem if n == 1 else f"{stem}-{n}"
        try:
            with open(directory / f"{candidate}.json", "x"):
                return candidate
        except FileExistsError:
            continue
    raise OSError(f"too many reports named {stem} in {directory}")


def _shares(counts: Any) -> list[float]:
    values = [float(c) for c in counts]
    total = sum(values) or 1.0
    return [v / total for v in values]


def _plain_histogram(hist: dict[str, Any] | None) -> dict[str, Any] | None:
    """The histogram as JSON: bin edges or category keys, and each side's shares."""
    if hist is None:
        return None
    out: dict[str, Any] = {"type": hist["type"]}
    if hist["type"] == "numeric":
        out["edges"] = [float(e) for e in hist["edges"]]
    else:
        out["keys"] = list(hist["keys"])
    out["reference"] = [round(v, 6) for v in _shares(hist["reference"])]
    out["current"] = [round(v, 6) for v in _shares(hist["current"])]
    return out


def _bars(hist: dict[str, Any]) -> tuple[list[str], list[float], list[float]]:
    """Labels and both sides' shares, the long tail of categories folded into "other"."""
    ref, cur = hist["reference"], hist["current"]
    if hist["type"] == "numeric":
        edges = hist["edges"]
        labels = [f"[{edges[i]:.4g}, {edges[i + 1]:.4g})" for i in range(len(ref))]
        return labels, list(ref), list(cur)
    keys = list(hist["keys"])
    if len(keys) <= MAX_CATEGORIES:
        return keys, list(ref), list(cur)
    order = sorted(range(len(keys)), key=lambda i: -(ref[i] + cur[i]))
    keep, rest = order[: MAX_CATEGORIES - 1], order[MAX_CATEGORIES - 1 :]
    labels = [keys[i] for i in keep] + [f"other ({len(rest)})"]
    return (
        labels,
        [ref[i] for i in keep] + [sum(ref[i] for i in rest)],
        [cur[i] for i in keep] + [sum(cur[i] for i in rest)],
    )


def svg_histogram(name: str, hist: dict[str, Any] | None) -> str:
    """One <svg>: grouped bars per bin or category, reference then current; hover titles give
    the exact shares."""
    if hist is None:
        return f'<svg class="hist" width="{SVG_W}" height="{SVG_H}" role="img"><title>{html.escape(name)}: no data</title></svg>'
    labels, ref, cur = _bars(hist)
    ref_s, cur_s = _shares(ref), _shares(cur)
    top = max(ref_s + cur_s) or 1.0
    plot_w, plot_h = SVG_W - 2 * PAD, SVG_H - 2 * PAD
    group = plot_w / max(len(labels), 1)
    bar = group * 0.42
    parts = [
        f'<svg class="hist" width="{SVG_W}" height="{SVG_H}" viewBox="0 0 {SVG_W} {SVG_H}" '
        f'role="img"><title>{html.escape(name)}</title>',
        f'<line x1="{PAD}" y1="{PAD + plot_h}" x2="{PAD + plot_w}" y2="{PAD + plot_h}" stroke="#999"/>',
    ]
    for i, label in enumerate(labels):
        x = PAD + i * group + group * 0.08
        for j, (share, colour) in enumerate(((ref_s[i], REF_COLOUR), (cur_s[i], CUR_COLOUR))):
            h = share / top * plot_h
            side = "reference" if j == 0 else "current"
            parts.append(
                f'<rect x="{x + j * bar:.1f}" y="{PAD + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{html.escape(str(label))} {side}: {share:.1%}</title></rect>'
            )
    if hist["type"] == "numeric":
        lo, hi = hist["edges"][0], hist["edges"][-1]
        parts.append(f'<text x="{PAD}" y="{SVG_H - 3}" font-size="10">{float(lo):.4g}</text>')
        parts.append(
            f'<text x="{PAD + plot_w}" y="{SVG_H - 3}" font-size="10" text-anchor="end">{float(hi):.4g}</text>'
        )
    elif len(labels) <= 8:
        for i, label in enumerate(labels):
            x = PAD + (i + 0.5) * group
            text = html.escape(str(label)[:10])
            parts.append(
                f'<text x="{x:.1f}" y="{SVG_H - 3}" font-size="10" text-anchor="middle">{text}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{padding:6px 10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:middle}
.drift{color:#b00;font-weight:bold}.ok{color:#070}.warn{color:#a60}
.key span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
"""


def render_html(report: dict[str, Any], histograms: dict[str, Any]) -> str:
    esc = html.escape
    verdict = "DATASET DRIFT" if report["dataset_drift"] else "no dataset drift"
    rows = report["rows"]
    head = [
        f"<h1>Drift report: {esc(str(report['monitor']))}</h1>",
        f'<p class="{"drift" if report["dataset_drift"] else "ok"}">{verdict}: '
        f"{report['drifted_share']:.0%} of features drifted (threshold {report['drift_share']:.0%})</p>",
        f"<p>reference: {rows['reference']} rows (dataset {esc(str(report['baseline'].get('dataset')))} "
        f"version {esc(str(report['baseline'].get('version')))}); current: {rows['current']} rows from "
        f"{esc(str(report['data']))}; checked {esc(report['created'])}</p>",
        f'<p class="key"><span style="background:{REF_COLOUR}"></span>reference'
        f'<span style="background:{CUR_COLOUR}"></span>current</p>',
    ]
    head += [f'<p class="warn">{esc(w)}</p>' for w in report.get("warnings", [])]
    table = [
        "<table><tr><th>feature</th><th>kind</th><th>method</th><th>score</th><th>threshold</th><th>verdict</th><th>distribution</th></tr>"
    ]
    for name, f in report["features"].items():
        score = f["score"]
        shown = "n/a" if score is None else f"{score:.4g}"
        state = "drift" if f["drifted"] else ("warn" if f.get("warning") else "ok")
        word = {"drift": "DRIFT", "warn": "warning", "ok": "ok"}[state]
        rule = "p &le;" if f["score_kind"] == "p_value" else "&ge;"
        table.append(
            f"<tr><td>{esc(name)}</td><td>{esc(f['kind'])}</td><td>{esc(f['method'])}</td><td>{shown}</td>"
            f'<td>{rule} {f["threshold"]:.4g}</td><td class="{state}">{word}</td>'
            f"<td>{svg_histogram(name, histograms.get(name))}</td></tr>"
        )
    table.append("</table>")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Drift: {esc(str(report['monitor']))}</title><style>{_CSS}</style></head><body>"
        + "\n".join(head + table)
        + "</body></html>\n"
    )


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_reports(
    report: dict[str, Any], histograms: dict[str, Any], directory: Path, monitor_id: str, when: datetime
) -> tuple[Path, Path]:
    """Write <monitor>-<UTC time>.json and .html under `directory`; return both paths."""
    stem = _reserve(directory, f"{monitor_id}-{when:%Y%m%dT%H%M%SZ}")
    json_path, html_path = directory / f"{stem}.json", directory / f"{stem}.html"
    plain = {name: _plain_histogram(h) for name, h in histograms.items()}
    full = {**report, "report_json": str(json_path), "report_html": str(html_path), "histograms": plain}
    _write(json_path, json.dumps(full, indent=1, sort_keys=True) + "\n")
    _write(html_path, render_html(report, histograms))
    return json_path, html_path
