"""The whole-file CSV check at plan (DuckDB SQL) judges a value as the sampled rows' check
(Python) does, so where a bad value sits in the file does not change the verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_decl.checks.data import _fits
from mlops_decl.providers.local.support.csv_scan import FITS, scan_rest

VALUES = [
    "42", "-7", "+3", " 12 ", "42.0", "42.00", "42.5", "4e2", "1.5", ".5", "-0.25", "1e-3", "nan", "inf",
    "true", "False", " TRUE ", "1", "0", "1.0", "0.0", "yes", "t", "plus", "x", "12abc", "2026-01-01",
    "2026-01-01T00:29:31", "Jan 5", "never", "114.27", "2026/1/31", "31/01/2026", "20260131", "5 Jan 2026",
    "January 5th 2026", "2026-01-01 10:00 PM", "2026-01-01T00:29:31.5+02:00", "1700000000", "plus 5",
]  # fmt: skip


@pytest.mark.parametrize("dtype", sorted(FITS))
def test_the_sql_check_agrees_with_the_sample_check(tmp_path: Path, dtype: str) -> None:
    # one file per value, the value past the first rows, each scanned as plan scans it
    disagree = []
    for value in VALUES:
        path = tmp_path / "data.csv"
        path.write_text("id,v\n" + "".join(f"{i},{_good(dtype)}\n" for i in range(3)) + f"9,{value}\n")
        rest = scan_rest(path)
        assert rest is not None
        found = rest({"v": dtype})
        if ("v" not in found) != _fits(dtype, value):
            disagree.append(value)
        elif "v" in found:
            assert found["v"] == (5, value)
    assert not disagree, f"{dtype}: SQL and Python disagree on {disagree}"


def _good(dtype: str) -> str:
    return {"int": "1", "float": "1.5", "bool": "true", "datetime": "2026-01-01"}[dtype]
