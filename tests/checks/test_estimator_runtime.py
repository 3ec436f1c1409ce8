"""A config names estimator classes, never code to run: a path that reads as a class but turns
out, once imported, to be something else (here an alias of os.system, which no source reading
can rule out) is refused by training before anything of it is called."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

RunCli = Callable[..., tuple[int, str, str]]


def test_training_refuses_what_is_not_an_estimator_class(
    run_cli: RunCli, project: Path, tmp_path: Path
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "sneaky.py").write_text("import os\n\nEstimator = os.system\n")
    ml = project / "ml.yaml"
    ml.write_text(
        ml.read_text().replace(
            "estimator: sklearn.linear_model.LogisticRegression\n      hyperparameters: {max_iter: 500}",
            f"estimator: sneaky.Estimator\n      hyperparameters: {{command: 'touch {tmp_path / 'pwned'}'}}",
        )
    )
    env = {"PYTHONPATH": os.pathsep.join([str(code), os.environ.get("PYTHONPATH", "")])}
    rc, out, err = run_cli(["apply", "-auto-approve"], project, env=env)
    assert rc == 0, (out, err)  # an assignment: reading the source cannot tell what it is
    rc, out, err = run_cli(["run", "training_pipeline.churn_training"], project, env=env)
    assert rc == 1, (out, err)
    assert "Traceback" not in err
    assert "cannot use estimator `sneaky.Estimator`: `sneaky.Estimator` is a function, not a class" in err
    assert "name an estimator class (one with fit and predict)" in err
    assert not (tmp_path / "pwned").exists()
