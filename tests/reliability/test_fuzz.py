"""Bad input, generated (docs/reliability.md, Bad input): random YAML, wrong types, broken and
circular references, deep nesting, very large files and bytes that are not UTF-8, through the
whole loading and validation path (mlops_decl.workspace.load_workspace: discovery, YAML with
positions, raw schema, merge, variables, graph, resolved-value validation).

Every example must either load or raise DiagnosticError whose every diagnostic names a file
of the project and a line >= 1. Any other exception (a traceback for the user) fails.

CI runs MLOPS_FUZZ_EXAMPLES (default 300) examples; the full run is

    MLOPS_FUZZ_EXAMPLES=10000 pytest tests/reliability/test_fuzz.py -q -s
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_decl import kinds
from mlops_decl.diagnostics import DiagnosticError
from mlops_decl.workspace import load_workspace

EXAMPLES = int(os.environ.get("MLOPS_FUZZ_EXAMPLES", "300"))
STATS: Counter[str] = Counter()

KINDS = list(kinds.KINDS)
FIELDS = sorted({f for m in kinds.KINDS.values() for f in m.model_fields})
NAMES = ["a", "b", "c", "churn", "x_1", "d-2"]
TOP = ["project", "backend", "default_provider", "providers", "variables", "resources", "outputs"]

# -- pieces -------------------------------------------------------------------------------

names = st.one_of(st.sampled_from(NAMES), st.text(min_size=0, max_size=6))
ref_part = st.one_of(
    st.sampled_from([*KINDS, "var", *NAMES, "id", "url", "version", ""]), st.text(max_size=4)
)
refs = st.one_of(
    st.lists(ref_part, min_size=0, max_size=4).map(lambda ps: "${" + ".".join(ps) + "}"),
    st.sampled_from(["${", "${}", "$${var.a}", "${var.}", "${ var.a }", "x ${var.a} y ${dataset.a.version}"]),
    st.tuples(st.sampled_from(KINDS + ["var"]), st.sampled_from(NAMES)).map(lambda t: f"${{{t[0]}.{t[1]}}}"),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    refs,
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=6)), inner, max_size=4),
    ),
    max_leaves=16,
)
bodies = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), values, max_size=6)
resources = st.dictionaries(
    st.one_of(st.sampled_from(KINDS), st.text(max_size=8)),
    st.one_of(st.dictionaries(names, st.one_of(bodies, values), max_size=4), values),
    max_size=4,
)
variables = st.dictionaries(
    names,
    st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "type": st.one_of(
                    st.sampled_from(["string", "number", "bool", "list", "map", "any"]), values
                ),
                "default": values,
                "sensitive": st.one_of(st.booleans(), values),
                "description": values,
            },
        ),
        values,
    ),
    max_size=3,
)
documents = st.fixed_dictionaries(
    {},
    optional={
        "project": st.one_of(st.sampled_from(["p", ""]), values),
        "backend": st.one_of(
            st.fixed_dictionaries(
                {}, optional={"type": st.sampled_from(["local", "s3", "gcs"]), "path": values}
            ),
            values,
        ),
        "default_provider": st.one_of(st.sampled_from(["local", "sagemaker", "nope"]), values),
        "providers": st.one_of(
            st.dictionaries(st.sampled_from(["local", "vertex", "zzz"]), values, max_size=2), values
        ),
        "variables": variables,
        "resources": resources,
        "outputs": st.dictionaries(
            names, st.one_of(values, st.fixed_dictionaries({"value": values})), max_size=3
        ),
    },
)


def dump(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10**6)


# -- project families -----------------------------------------------------------------------

Files = dict[str, bytes]


@st.composite
def structured(draw: st.DrawFn) -> Files:
    """Configs shaped like the real thing with wrong types, unknown fields and odd values."""
    files: Files = {"mlops.yaml": dump(draw(documents)).encode()}
    for i in range(draw(st.integers(0, 2))):
        doc = draw(documents)
        doc.pop("project", None) if draw(st.booleans()) else None
        files[draw(st.sampled_from([f"ml{i}.yaml", f"sub/r{i}.yml", f".hidden/x{i}.yaml"]))] = dump(
            doc
        ).encode()
    return files


@st.composite
def references(draw: st.DrawFn) -> Files:
    """Valid kinds and fields whose references dangle, are malformed or go round in circles."""
    n = draw(st.integers(1, 8))
    ds = [f"d{i}" for i in range(n)]
    lines = [
        "project: refs",
        "variables:",
        "  v: {type: string, default: x}",
        "  s: {type: string, sensitive: true}",
        "resources:",
        "  dataset:",
    ]
    for name in ds:
        lines.append(f"    {name}:")
        lines.append("      uri: data/x.csv")
        if draw(st.booleans()):
            target = draw(st.one_of(st.sampled_from(ds), st.sampled_from(["nope", "d99"])))
            attr = draw(st.sampled_from(["", ".version", ".nope.deeper", ".id"]))
            lines.append(f'      description: "pre ${{dataset.{target}{attr}}} post"')
        if draw(st.booleans()):
            deps = draw(
                st.lists(
                    st.one_of(st.sampled_from(ds), st.sampled_from(["dataset.ghost", "model.m", "x"])),
                    max_size=3,
                )
            )
            lines.append(
                f"      depends_on: [{', '.join(d if '.' in d or d == 'x' else 'dataset.' + d for d in deps)}]"
            )
        if draw(st.booleans()):
            lines.append(f'      tags: {{k: "{draw(refs).replace(chr(34), "")}"}}')
    lines.append("  feature_group:")
    lines.append("    fg:")
    lines.append(f'      source: "${{dataset.{draw(st.sampled_from(ds + ["ghost"]))}}}"')
    lines.append("      entity: [id]")
    lines.append(
        "      features: [{name: v, dtype: "
        + draw(st.sampled_from(["int", "float", "decimal", "${var.v}"]))
        + "}]"
    )
    lines.append("outputs:")
    lines.append(
        f'  o: "${{{draw(st.sampled_from(["var.v", "var.s", "var.ghost", "dataset.d0.uri", "fg", "feature_group.fg.store"]))}}}"'
    )
    return {"mlops.yaml": ("\n".join(lines) + "\n").encode()}


MUTATIONS = [
    ":",
    "- ",
    "{",
    "}",
    "[",
    "]",
    "\t",
    '"',
    "'",
    "&a ",
    "*a",
    "!!python/object:os.system ",
    "---\n",
    "%YAML 1.1\n",
    "? ",
    "|\n",
    ">-\n",
    "\n  ",
    "\n",
    "#",
    ",",
    "@",
    "`",
    "<<: *a\n",
    "\x00",
    "\ufeff",
    "\u2028",
]


@st.composite
def mutated(draw: st.DrawFn) -> Files:
    """Random YAML: a real-looking file with characters inserted, deleted and lines shuffled."""
    text = dump(draw(documents)) if draw(st.booleans()) else draw(st.text(max_size=200))
    for _ in range(draw(st.integers(1, 6))):
        if not text:
            text = draw(st.text(max_size=20))
            continue
        at = draw(st.integers(0, len(text)))
        op = draw(st.integers(0, 3))
        if op == 0:
            text = text[:at] + draw(st.sampled_from(MUTATIONS)) + text[at:]
        elif op == 1:
            text = text[:at] + text[at + draw(st.integers(1, 10)) :]
        elif op == 2:
            lines = text.splitlines(keepends=True)
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(draw(st.integers(0, len(lines))), lines[i])
            text = "".join(lines)
        else:
            text = text[:at] + draw(st.text(max_size=5)) + text[at:]
    return {"mlops.yaml": text.encode("utf-8", "surrogatepass"), "more.yaml": dump(draw(documents)).encode()}


@st.composite
def deep(draw: st.DrawFn) -> Files:
    """Nesting from a little to far past libyaml's recursion limit, flow and block style."""
    depth = draw(
        st.one_of(st.integers(1, 100), st.integers(60, 70), st.sampled_from([500, 5_000, 20_000, 60_000]))
    )
    style = draw(st.sampled_from(["flow-list", "flow-map", "block-map", "block-list", "mixed"]))
    if style == "flow-list":
        value = "[" * depth + "1" + "]" * depth
    elif style == "flow-map":
        value = "{a: " * depth + "1" + "}" * depth
    elif style == "block-map":
        value = "".join(f"\n{'  ' * (i + 3)}k{i}:" for i in range(min(depth, 3000))) + " 1"
    elif style == "block-list":
        value = "\n" + "".join(f"{'  ' * (i + 3)}-\n" for i in range(min(depth, 3000))) + "  " * 3 + "1"
    else:
        value = "[{a: " * (depth // 2) + "1" + "}]" * (depth // 2)
    where = draw(st.sampled_from(["description", "tags", "hyperparameters", "top"]))
    if where == "top":
        text = f"project: p\noutputs:\n  o: {value}\n"
    else:
        text = f"project: p\nresources:\n  dataset:\n    a:\n      uri: x.csv\n      {where}: {value}\n"
    if draw(st.booleans()):  # an unclosed one
        text = text.rstrip("]}\n") + "\n"
    return {"mlops.yaml": text.encode()}


@st.composite
def large(draw: st.DrawFn) -> Files:
    """Very large files: many resources, long strings, long lines, many files."""
    kind = draw(st.sampled_from(["many", "long-string", "long-line", "many-files", "aliases"]))
    n = draw(st.sampled_from([1_000, 5_000, 20_000]))
    if kind == "many":
        body = "".join(
            f'    d{i}: {{uri: d{i}.csv, description: "${{dataset.d{max(i - 1, 0)}.version}}"}}\n'
            for i in range(n)
        )
        text = "project: p\nresources:\n  dataset:\n" + body
        if draw(st.booleans()):
            text += (
                f"    d{draw(st.integers(0, n - 1))}: {{uri: dup.csv}}\n"  # a duplicate key, deep in the file
            )
        return {"mlops.yaml": text.encode()}
    if kind == "long-string":
        return {
            "mlops.yaml": (
                "project: p\nresources:\n  model:\n    m: {description: " + "x" * (n * 200) + "}\n"
            ).encode()
        }
    if kind == "long-line":
        return {
            "mlops.yaml": (
                "project: p\noutputs: {" + ", ".join(f"o{i}: {i}" for i in range(n)) + ",}\n"
            ).encode()
        }
    if kind == "many-files":
        files = {"mlops.yaml": b"project: p\n"}
        for i in range(min(n, 300)):
            files[f"r/{i}.yaml"] = (
                f"resources:\n  model:\n    m{i % 250}: {{}}\n".encode()
            )  # duplicates across files
        return files
    # a billion-laughs style alias bomb
    lines = ["project: p", 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]"
        for i in range(1, 10)
    ]
    return {"mlops.yaml": ("\n".join(lines) + "\n").encode()}


BAD_BYTES = [
    b"\xff",
    b"\xfe",
    b"\xc3",
    b"\xc3\x28",
    b"\xa0\xa1",
    b"\xe2\x28\xa1",
    b"\xed\xa0\x80",
    b"\xf0\x28\x8c\xbc",
    b"\xf8\xa1\xa1\xa1\xa1",
    b"\xc0\xaf",
    b"\x80",
    b"\xef\xbb",
]


@st.composite
def not_utf8(draw: st.DrawFn) -> Files:
    """Bytes that are not UTF-8, anywhere in any file (also other encodings' text)."""
    files = draw(st.one_of(structured(), references()))
    name = draw(st.sampled_from(sorted(files)))
    data = files[name]
    if draw(st.booleans()):
        data = (
            data.decode().encode("utf-16") if draw(st.booleans()) else "project: café ñ ü\n".encode("latin-1")
        )
    else:
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.sampled_from(BAD_BYTES)) + data[at:]
    files[name] = data
    return files


projects = st.one_of(
    structured().map(lambda f: ("structured", f)),
    references().map(lambda f: ("references", f)),
    mutated().map(lambda f: ("random-yaml", f)),
    deep().map(lambda f: ("deep", f)),
    large().map(lambda f: ("large", f)),
    not_utf8().map(lambda f: ("not-utf8", f)),
)


# -- the property ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="mlops-fuzz-"))
    t0 = time.perf_counter()
    yield d
    shutil.rmtree(d, ignore_errors=True)
    if STATS:
        total = sum(v for k, v in STATS.items() if k.startswith("family:"))
        print(
            f"\n[fuzz] {total} examples in {time.perf_counter() - t0:.1f}s: "
            + ", ".join(f"{k}={v}" for k, v in sorted(STATS.items()))
        )


def _write(root: Path, files: Files) -> None:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
@given(case=projects)
def test_bad_input_is_one_clear_error_per_mistake(scratch: Path, case: tuple[str, Files]) -> None:
    family, files = case
    STATS[f"family:{family}"] += 1
    root = scratch / "p"
    _write(root, files)
    try:
        load_workspace(root, env={})
    except DiagnosticError as exc:
        STATS["errors"] += 1
        assert exc.diagnostics, "a DiagnosticError with no diagnostics"
        written = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
        for d in exc.diagnostics:
            assert d.source is not None, f"no file:line for: {d.render()}"
            assert d.source.file in written, f"names {d.source.file!r}, not a project file: {d.render()}"
            assert d.source.line >= 1 and d.source.column >= 1, d.render()
            assert d.summary.strip(), "an empty message"
    else:
        STATS["loaded"] += 1


@pytest.mark.parametrize(
    "text",
    [
        "!!python/object:os.system 0\n",  # found by this fuzzer: an unknown tag was a traceback
        "project: p\nresources:\n  dataset:\n    a: {uri: x.csv, description: 2020-13-45}\n",  # not a date
        "project: p\nresources:\n  dataset:\n    a: {uri: !!int x.csv}\n",
        "project: p\nresources:\n  dataset:\n    a: {uri: !foo x.csv}\n",
        "project: p\nresources:\n  dataset:\n    a: {uri: !!float 1e999999}\n",
        "project: p\nresources:\n  dataset:\n    a: {uri: !!binary '%%%'}\n",
    ],
)
def test_found_by_fuzzing(tmp_path: Path, text: str) -> None:
    (tmp_path / "mlops.yaml").write_text(text)
    try:
        load_workspace(tmp_path, env={})
    except DiagnosticError as exc:
        for d in exc.diagnostics:
            assert d.source is not None and d.source.file == "mlops.yaml" and d.source.line >= 1, d.render()
