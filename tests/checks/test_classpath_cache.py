"""`validate` reuses what it read of an estimator's source while the files are unchanged, and
reads them again as soon as one changes: a cached answer never hides an edited class."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

RunCli = Callable[..., tuple[int, str, str]]
CHURN = Path(__file__).resolve().parents[2] / "examples" / "churn"
ESTIMATOR = "estimator: sklearn.ensemble.GradientBoostingClassifier"

GOOD = """
class Base:
    def fit(self, X, y):
        return self


class TeamModel(Base):
    def predict(self, X):
        return [0] * len(X)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "churn"
    shutil.copytree(CHURN, dest, ignore=shutil.ignore_patterns(".mlops", "__pycache__"))
    text = (dest / "ml.yaml").read_text()
    assert ESTIMATOR in text
    (dest / "ml.yaml").write_text(text.replace(ESTIMATOR, "estimator: teamlib.models.TeamModel"))
    pkg = tmp_path / "lib" / "teamlib"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "models.py").write_text(GOOD)
    return dest


def _env(project: Path) -> dict[str, str]:
    return {
        "PYTHONPATH": os.pathsep.join([str(project.parent / "lib"), os.environ.get("PYTHONPATH", "")]),
        "MLOPS_DECL_CACHE_DIR": str(project.parent / "cache"),
    }


def _cache(project: Path) -> dict[str, dict]:
    return json.loads((project.parent / "cache" / "classpaths.json").read_text())


def _entry(project: Path) -> dict:
    found = [v for k, v in _cache(project).items() if k.endswith("|teamlib.models.TeamModel")]
    assert len(found) == 1, _cache(project).keys()
    return found[0]


def test_the_answer_is_kept_with_the_files_it_was_read_from(run_cli: RunCli, project: Path) -> None:
    rc, out, err = run_cli(["validate"], project, env=_env(project))
    assert rc == 0, out + err
    entry = _entry(project)
    assert entry["answer"] == {"problem": None, "missing_module": None, "task": None, "params": None}
    read = {Path(sig[0]).name for sig in entry["files"]}
    assert read == {"models.py"}


def test_a_kept_answer_is_what_validate_reports(run_cli: RunCli, project: Path) -> None:
    env = _env(project)
    assert run_cli(["validate"], project, env=env)[0] == 0
    # Change only the kept answer: validate must take it from the cache, not re-read source.
    cache = _cache(project)
    for key, value in cache.items():
        if key.endswith("|teamlib.models.TeamModel"):
            value["answer"]["problem"] = "`teamlib.models.TeamModel` is the kept answer"
    (project.parent / "cache" / "classpaths.json").write_text(json.dumps(cache))
    rc, out, err = run_cli(["validate"], project, env=env)
    assert rc == 1 and "is the kept answer" in out + err


def test_an_edited_class_is_read_again(run_cli: RunCli, project: Path) -> None:
    env = _env(project)
    assert run_cli(["validate"], project, env=env)[0] == 0
    models = project.parent / "lib" / "teamlib" / "models.py"
    models.write_text(GOOD.replace("def predict(self, X):", "def transform(self, X):"))
    rc, out, err = run_cli(["validate"], project, env=env)
    assert rc == 1, out + err
    assert "`teamlib.models.TeamModel` is a class without predict()" in out + err
    models.write_text(GOOD)
    assert run_cli(["validate"], project, env=env)[0] == 0


def test_a_module_added_beside_the_files_read_is_seen(run_cli: RunCli, project: Path) -> None:
    # `teamlib.models.TeamModel` first names a class; a new package `teamlib/models/` does not
    # shadow a module, but a new submodule file changes what `teamlib.X` means: the folder's
    # mtime is part of what the answer was read from.
    env = _env(project)
    assert run_cli(["validate"], project, env=env)[0] == 0
    sig_before = _entry(project)["files"][0]
    (project.parent / "lib" / "teamlib" / "extra.py").write_text("X = 1\n")
    assert run_cli(["validate"], project, env=env)[0] == 0
    assert _entry(project)["files"][0][3] != sig_before[3]


def test_a_damaged_or_unwritable_cache_changes_nothing(run_cli: RunCli, project: Path) -> None:
    env = _env(project)
    cache_dir = project.parent / "cache"
    cache_dir.mkdir()
    (cache_dir / "classpaths.json").write_text("{not json")
    rc, out, err = run_cli(["validate"], project, env=env)
    assert rc == 0 and "Traceback" not in err, out + err
    blocked = project.parent / "blocked"
    blocked.write_text("a file where the cache folder would be")
    rc, out, err = run_cli(["validate"], project, env={**env, "MLOPS_DECL_CACHE_DIR": str(blocked)})
    assert rc == 0 and "Traceback" not in err, out + err
