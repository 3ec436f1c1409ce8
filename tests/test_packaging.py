"""pyproject.toml lists every package folder, so a wheel ships all of the engine and providers/
(installed as mlops_decl.providers), and the license file the metadata declares is there."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
tomllib = pytest.importorskip("tomllib")  # in the standard library from Python 3.11


def _setuptools() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]


def _package_folders(top: Path, name: str) -> set[str]:
    out = set()
    for init in top.rglob("__init__.py"):
        parts = init.parent.relative_to(top).parts
        if "__pycache__" not in parts:
            out.add(".".join((name, *parts)))
    return out


def test_every_package_folder_is_listed() -> None:
    cfg = _setuptools()
    assert cfg["package-dir"] == {"mlops_decl.providers": "providers"}
    # (a development checkout may link providers/ under mlops_decl/: that copy is not the engine's)
    engine = {
        p for p in _package_folders(REPO / "mlops_decl", "mlops_decl") if p.split(".")[1:2] != ["providers"]
    }
    wanted = engine | _package_folders(REPO / "providers", "mlops_decl.providers")
    assert sorted(wanted - set(cfg["packages"])) == []
    assert sorted(set(cfg["packages"]) - wanted) == []


def test_license_file_matches_the_metadata() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"text": "Apache-2.0"}
    text = (REPO / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
