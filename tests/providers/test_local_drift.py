"""Local drift monitoring's provider side: the profile computed at apply from the baseline
(`reference_data`), the current data (`current_data`: a file or captured inputs), and the
engine's check on them through the CLI. The methods and verdicts are tested in tests/ml/."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from drift_frames import frames

from mlops_decl.ml import monitor
from mlops_decl.ml.evidence import MonitorActions
from mlops_decl.provider import ConfigError, ProviderError, RuntimeContext


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# --- the handler and the check action ------------------------------------------------------


@pytest.fixture
def applied(local, project, spec):
    """A baseline dataset and a monitor on it, applied: (handler, monitor attributes)."""
    ref, _ = frames()
    (project / "data").mkdir()
    ref.assign(customer_id=np.arange(len(ref))).to_csv(project / "data" / "base.csv", index=False)
    local.handler("dataset").create(spec("dataset", "base", uri="data/base.csv"))
    h = local.handler("monitor")
    _, attrs = h.create(spec("monitor", "m", baseline="base", per_feature={"b": {"method": "psi"}}))
    return h, attrs


def ctx(project: Path, attrs: dict | None = None) -> RuntimeContext:
    resources = {"monitor.m": ("monitor", "m", attrs)} if attrs else {}
    return RuntimeContext(project_dir=project, config_hash="c", git_commit=None, who="t", resources=resources)


def checker(local, project):  # noqa: ANN001, ANN201 - the engine's check on this provider's data
    def check(attrs: dict, data: str | None) -> dict:
        rt = ctx(project, attrs)
        actions = MonitorActions(lambda action, **kw: local.action("monitor", action)("m", attrs, rt, **kw))
        return monitor.check(actions, "monitor.m", attrs, project, data)

    return check


def test_profile_computed_at_apply_and_check_never_rereads_the_baseline(local, project, applied):
    h, attrs = applied
    ref_profile = attrs["reference_profile"]
    assert set(ref_profile["features"]) == {"a", "b", "plan"}  # customer_id is an id
    assert ref_profile["rows"] == 3000 and (project / ref_profile["path"]).is_file()
    assert "sample" not in json.dumps(ref_profile)  # the state holds a summary only
    (project / "data" / "base.csv").unlink()
    _, cur = frames()
    cur.to_csv(project / "cur.csv", index=False)
    check = checker(local, project)
    report = check(attrs, data="cur.csv")  # relative to the project
    assert report["monitor"] == "monitor.m"
    assert set(report) >= {
        "monitor",
        "dataset_drift",
        "drift_share",
        "drifted_share",
        "features",
        "rows",
        "report_json",
        "report_html",
    }
    assert report["rows"] == {"reference": 3000, "current": 3000}
    for f in report["features"].values():
        assert set(f) >= {"method", "score", "threshold", "drifted", "kind"}
    assert report["features"]["b"]["method"] == "psi"
    assert report["features"]["plan"]["drifted"] and report["features"]["a"]["drifted"]
    assert report["dataset_drift"] is True and report["drifted_share"] == pytest.approx(2 / 3)


def test_reports_written_json_and_self_contained_html(local, project, applied):
    _, attrs = applied
    _, cur = frames()
    cur.to_parquet(project / "cur.parquet")
    check = checker(local, project)
    report = check(attrs, data=str(project / "cur.parquet"))
    json_path, html_path = Path(report["report_json"]), Path(report["report_html"])
    assert json_path.parent == project / ".mlops" / "reports" and json_path.name.startswith("m-")
    saved = json.loads(json_path.read_text())
    assert saved["features"] == report["features"] and set(saved["histograms"]) == {"a", "b", "plan"}
    page = html_path.read_text()
    assert page.count("<svg") == 3 and "<script" not in page and "http" not in page
    again = check(attrs, data=str(project / "cur.parquet"))
    assert again["report_json"] != report["report_json"]  # never overwrites a report


def test_check_errors_name_the_problem(local, project, applied):
    _, attrs = applied
    check = checker(local, project)
    with pytest.raises(ProviderError) as err:
        check(attrs, data=None)
    assert "no endpoint" in str(err.value) and "--data" in err.value.hint
    pd.DataFrame({"a": [1.0, 2.0]}).to_csv(project / "thin.csv", index=False)
    with pytest.raises(ProviderError) as err:
        check(attrs, data="thin.csv")
    assert "b, plan" in str(err.value)
    with pytest.raises(ProviderError, match="does not exist"):
        check(attrs, data="missing.csv")


def test_captured_inputs_are_the_default_data(local, project, applied, monkeypatch):
    capture = pytest.importorskip("mlops_decl.providers.local.stores.capture")
    _, attrs = applied
    _, cur = frames()
    seen = {}

    def read_inputs(env, endpoint_id):
        seen["endpoint"] = endpoint_id
        return cur

    monkeypatch.setattr(capture, "read_inputs", read_inputs)
    report = checker(local, project)({**attrs, "endpoint": "api"}, data=None)
    assert seen == {"endpoint": "api"} and report["data"] == "captured inputs of endpoint api"
    monkeypatch.setattr(capture, "read_inputs", lambda env, endpoint_id: cur.iloc[:0])
    with pytest.raises(ProviderError, match="no captured inputs"):
        checker(local, project)({**attrs, "endpoint": "api"}, data=None)


def test_profile_follows_the_baseline_version(local, project, spec, applied):
    from mlops_decl.config.expressions import UNKNOWN

    h, attrs = applied
    path = project / attrs["reference_profile"]["path"]
    stamp = path.stat().st_mtime_ns
    desired = spec("monitor", "m", baseline="base", per_feature={"b": {"method": "psi"}}, drift_share=0.3)
    # a settings-only change keeps the profile: same hash, file untouched
    assert h.plan(desired, attrs)["reference_profile"] == attrs["reference_profile"]
    updated = h.update("m", attrs, desired)
    assert updated["reference_profile"] == attrs["reference_profile"] and path.stat().st_mtime_ns == stamp
    # the baseline file changes: plan shows the profile as (known after apply), update recomputes it
    ref, _ = frames(seed=5)
    ref.to_csv(project / "data" / "base.csv", index=False)
    assert h.plan(desired, updated)["reference_profile"] is UNKNOWN
    local.handler("dataset").update("base", {}, spec("dataset", "base", uri="data/base.csv"))
    again = h.update("m", updated, desired)
    assert again["reference_profile"]["baseline_version"] != attrs["reference_profile"]["baseline_version"]
    assert again["reference_profile"]["hash"] != attrs["reference_profile"]["hash"]
    h.delete("m", again)
    assert not path.exists()


def test_baseline_must_be_a_local_dataset_with_the_features(local, project, spec, applied):
    h, _ = applied
    with pytest.raises(ConfigError) as err:
        h.create(spec("monitor", "x", baseline="nope"))
    assert err.value.field == ("baseline",)
    with pytest.raises(ConfigError) as err:
        h.create(spec("monitor", "x", baseline="base", features=["a", "zz"]))
    assert err.value.field == ("features",) and "zz" in str(err.value)


# --- through the CLI ------------------------------------------------------------------------


def test_cli_apply_check_and_baseline_change(tmp_path, run_cli):
    ref, cur = frames(n=1500)
    (tmp_path / "data").mkdir()
    ref.to_csv(tmp_path / "data" / "base.csv", index=False)
    cur.to_csv(tmp_path / "data" / "now.csv", index=False)
    (tmp_path / "mlops.yaml").write_text("project: drift\n")
    (tmp_path / "ml.yaml").write_text(
        "resources:\n"
        "  dataset:\n    base: {uri: data/base.csv}\n"
        "  monitor:\n    watch:\n"
        '      baseline: "${dataset.base}"\n'
        "      per_feature: {b: {method: psi}}\n"
    )
    rc, out, err = run_cli(["apply", "--auto-approve"], tmp_path)
    assert rc == 0, err
    rc, out, err = run_cli(
        ["monitor", "check", "monitor.watch", "--data", "data/now.csv", "--json"], tmp_path
    )
    assert rc == 0, err
    report = json.loads(out)
    assert report["dataset_drift"] is True and report["features"]["b"]["method"] == "psi"
    assert Path(report["report_html"]).is_file()
    # a new baseline file: plan recomputes the profile, apply does it, and checks use it
    cur.to_csv(tmp_path / "data" / "base.csv", index=False)
    rc, out, err = run_cli(["plan"], tmp_path)
    assert rc == 0, err
    assert "monitor.watch" in out and "reference_profile" in out
    rc, out, err = run_cli(["apply", "--auto-approve"], tmp_path)
    assert rc == 0, err
    rc, out, err = run_cli(
        ["monitor", "check", "monitor.watch", "--data", "data/now.csv", "--json"], tmp_path
    )
    assert rc == 0, err
    assert json.loads(out)["dataset_drift"] is False and not json.loads(out)["warnings"]
