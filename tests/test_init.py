"""`mlops-decl init`: scaffolds what is missing, then reports each provider the project names."""

from __future__ import annotations

from pathlib import Path


def test_init_scaffolds_a_project_that_validates(tmp_path: Path, run_cli) -> None:
    root = tmp_path / "My Project"
    root.mkdir()
    rc, out, err = run_cli(["init"], root)
    assert rc == 0, out + err
    assert "Created mlops.yaml" in out and "provider local: ok" in out
    assert "project: My-Project" in (root / "mlops.yaml").read_text()
    assert ".mlops/" in (root / ".gitignore").read_text().splitlines()
    assert run_cli(["validate"], root)[0] == 0
    # A second init changes nothing it already made.
    rc, out, _ = run_cli(["init"], root)
    assert rc == 0 and "Created" not in out and "Added" not in out


def test_init_says_a_cloud_provider_is_not_written_yet(project: Path, run_cli) -> None:
    mlops = project / "mlops.yaml"
    mlops.write_text(mlops.read_text().replace("  local: {}\n", "  local: {}\n  vertex: {project: p}\n"))
    rc, out, err = run_cli(["init"], project)
    assert rc == 1
    assert "provider vertex: not written yet" in out
    assert "Error: provider(s) not installed: vertex" in err
    assert "the vertex provider is not written yet" in err and "installed providers: local" in err
    assert "Traceback" not in err
