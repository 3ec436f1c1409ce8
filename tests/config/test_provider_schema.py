"""Provider schemas, read without configure(): settings and blocks checked at validate, computed
attributes usable in references and never reported as drift; configure() and check() failures
and missing providers give one error at mlops.yaml:line:column, never a traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from provider_helpers import WITH_PROBE, one_error, write_project

from mlops_decl.kinds import KINDS
from mlops_decl.provider_schema import ProviderSchema, check_settings, errors, schema_of


def test_local_schema_is_read_without_configure() -> None:
    from mlops_decl.providers.local import LocalProvider

    schema = schema_of(LocalProvider)  # a class, never configured
    assert isinstance(schema, ProviderSchema)
    assert set(schema.kinds) == set(KINDS)
    endpoint = schema.kind("endpoint")
    assert {"id", "url", "status", "serving_version"} <= endpoint.computed_names
    assert endpoint.block is not None and set(endpoint.block["properties"]) == {"port"}
    assert schema.kind("dataset").block is None
    assert errors(schema.settings, {"delay_ms": 5}) == []
    assert errors(schema.settings, {"delay_ms": "5"})  # strict: a quoted number is not one
    assert errors(endpoint.block, {"port": 70000})
    with pytest.raises(Exception, match="unknown setting `delay`") as exc:
        check_settings(schema.settings, {"delay": 5}, "local")
    assert getattr(exc.value, "field", None) == ("delay",)


def test_provider_schema_types_need_no_pydantic() -> None:
    """`validate` reads schemas through mlops_decl.provider_schema: pydantic stays unloaded."""
    import subprocess
    import sys

    code = (
        "import sys; from mlops_decl.providers.local import LocalProvider; "
        "from mlops_decl.provider_schema import errors; "
        "s = LocalProvider.schema(); assert errors(s.settings, {'delay_ms': -1}); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'mlflow', 'pandas', 'duckdb')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


@pytest.mark.parametrize(
    ("settings", "at", "says", "hint"),
    [
        ("{delay_ms: '5'}", (4, 21), "providers.local.delay_ms: expected a whole number", "without quotes"),
        ("{delay_ms: -1}", (4, 21), "must be at least 0", "bound"),
        ("{dealy_ms: 5}", (4, 11), "unknown field `dealy_ms` in providers.local", "did you mean `delay_ms`?"),
    ],
)
def test_validate_checks_settings_offline(tmp_path: Path, run_cli, settings, at, says, hint) -> None:
    root = write_project(tmp_path / "p", f"project: p\n\nproviders:\n  local: {settings}\n")
    rc, _, err = run_cli(["validate"], root)
    assert rc == 1
    m = one_error(err)
    assert (m["file"], int(m["line"]), int(m["col"])) == ("mlops.yaml", *at), err
    assert says in m["summary"], err
    if hint:
        assert hint in err
    assert not (root / ".mlops").exists()  # validate configures nothing


def test_settings_reading_variables_are_checked_once_rendered(tmp_path: Path, run_cli) -> None:
    root = write_project(
        tmp_path / "p",
        "project: p\nvariables:\n  d: {default: slow}\nproviders:\n  local: {delay_ms: '${var.d}'}\n",
    )
    rc, _, err = run_cli(["validate"], root)
    assert rc == 1 and "expected a whole number, got 'slow'" in err and "mlops.yaml:5:" in err, err
    rc, _, err = run_cli(["validate", "-var", "d=5"], root)
    assert rc == 1, "a -var value is a string; 5 as a number must come from a var file or default"
    (root / "n.vars.yaml").write_text("d: 5\n")
    rc, out, err = run_cli(["validate", "--var-file", "n.vars.yaml"], root)
    assert rc == 0, err


ENDPOINT = """\
resources:
  model:
    m: {{}}
  endpoint:
    api:
      model: ${{model.m}}
{block}
"""


@pytest.mark.parametrize(
    ("block", "at", "says"),
    [
        ("      local: {port: 70000}", (7, 21), "endpoint.api: local.port: must be at most 65535"),
        ("      local: {prt: 8080}", (7, 15), "endpoint.api: unknown field `prt` in local"),
    ],
)
def test_local_block_is_checked_against_its_schema(tmp_path: Path, run_cli, block, at, says) -> None:
    root = write_project(tmp_path / "p", "project: p\n", ENDPOINT.format(block=block))
    rc, _, err = run_cli(["validate"], root)
    assert rc == 1
    m = one_error(err)
    assert (m["file"], int(m["line"]), int(m["col"])) == ("ml.yaml", *at), err
    assert m["summary"].startswith(says), err


def test_block_on_a_kind_that_takes_none(tmp_path: Path, run_cli) -> None:
    root = write_project(
        tmp_path / "p", "project: p\n", "resources:\n  dataset:\n    d: {uri: d.csv, local: {x: 1}}\n"
    )
    rc, _, err = run_cli(["validate"], root)
    m = one_error(err)
    assert rc == 1 and (m["line"], m["col"]) == ("3", "21"), err
    assert "takes no `local` block on a dataset" in err and "it takes one on: endpoint" in err


def test_block_values_unknown_before_apply_are_not_judged(tmp_path: Path, run_cli) -> None:
    ml = ENDPOINT.format(block="      local: {port: '${model.m.latest_version}'}")
    root = write_project(tmp_path / "p", "project: p\n", ml)
    rc, _, err = run_cli(["validate"], root)
    assert rc == 0, err


def test_references_to_computed_attributes_follow_the_provider(tmp_path: Path, run_cli) -> None:
    mlops = (
        "project: p\nproviders:\n  local: {}\n  probe: {region: eu}\noutputs:\n"
        "  url: ${endpoint.api.url}\n  arn: ${endpoint.api.arn}\n"
    )
    root = write_project(tmp_path / "p", mlops, ENDPOINT.format(block=""))
    rc, _, err = run_cli(["validate"], root, env=WITH_PROBE)
    m = one_error(err)
    assert (m["file"], m["line"]) == ("mlops.yaml", "7") and "`endpoint.api` has no attribute `arn`" in err
    assert "url" in err  # the hint lists what the local provider computes
    probe_api = ENDPOINT.format(block="      provider: probe\n      probe: {image_uri: img}")
    (root / "ml.yaml").write_text(probe_api.replace("probe: {image_uri: img}", ""))
    (root / "mlops.yaml").write_text(mlops.replace("  url: ${endpoint.api.url}\n", ""))
    rc, _, err = run_cli(["validate"], root, env=WITH_PROBE)
    assert rc == 0, err


def test_third_party_settings_are_checked_at_their_entry(tmp_path: Path, run_cli) -> None:
    root = write_project(
        tmp_path / "p", "project: p\ndefault_provider: probe\nproviders:\n  probe: {regoin: eu}\n"
    )
    rc, _, err = run_cli(["validate"], root, env=WITH_PROBE)
    assert rc == 1 and "Traceback" not in err
    assert "mlops.yaml:4:11: unknown field `regoin` in providers.probe" in err
    assert "did you mean `region`?" in err


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("fail_configure: true", "provider `probe`: cannot reach the probe API: connection refused"),
        ("fail_check: true", "provider `probe`: the probe credentials were refused (403 AccessDenied)"),
    ],
)
def test_failing_configure_or_check_is_one_error_at_the_entry(tmp_path: Path, run_cli, setting, says) -> None:
    mlops = f"project: p\ndefault_provider: probe\nproviders:\n  probe: {{region: eu, {setting}}}\n"
    root = write_project(tmp_path / "p", mlops, "resources:\n  model:\n    m: {}\n")
    rc, _, err = run_cli(["validate"], root, env=WITH_PROBE)
    assert rc == 0, err  # offline: the settings fit the schema
    commands = [["plan"], ["apply", "--auto-approve"]]
    if "configure" in setting:  # import configures the provider too (check() is plan's)
        commands.append(["import", "model.m", "model/m"])
    for command in commands:
        rc, out, err = run_cli(command, root, env=WITH_PROBE)
        assert rc == 1, (command, out, err)
        m = one_error(err)
        assert (m["file"], m["line"], m["col"]) == ("mlops.yaml", "4", "3"), (command, err)
        assert m["summary"] == says, (command, err)


def test_provider_missing_from_the_installation(tmp_path: Path, run_cli) -> None:
    mlops = "project: p\nproviders:\n  local: {}\n  gcp_eu: {type: vertex, location: europe-west4}\n"
    root = write_project(tmp_path / "p", mlops, "resources:\n  model:\n    m: {provider: gcp_eu}\n")
    for command in (["validate"], ["plan"]):
        rc, _, err = run_cli(command, root)
        m = one_error(err)
        assert rc == 1 and (m["file"], m["line"], m["col"]) == ("mlops.yaml", "4", "3"), err
        assert "provider `gcp_eu` has type `vertex`, which is not installed" in err
        assert "pip install 'mlops-decl[vertex]'" in err


def test_provider_recorded_in_state_but_not_installed(tmp_path: Path, run_cli) -> None:
    root = write_project(tmp_path / "p", "project: p\n", "resources:\n  model:\n    m: {}\n")
    rc, _, err = run_cli(["apply", "--auto-approve"], root)
    assert rc == 0, err
    state_file = root / ".mlops" / "state.json"
    state = json.loads(state_file.read_text())
    state["resources"]["model.gone"] = {
        **state["resources"]["model.m"],
        "provider": "vertex",
        "id": "gone",
    }
    state["serial"] += 1
    state_file.write_text(json.dumps(state))
    rc, _, err = run_cli(["plan"], root)
    assert rc == 1 and "Traceback" not in err, err
    assert len(re.findall(r"^Error: ", err, re.M)) == 1, err
    assert "provider `vertex` is not installed, and the state records 1 resource (model.gone) on it" in err
    assert "pip install 'mlops-decl[vertex]'" in err


def test_computed_attributes_moving_are_not_drift(tmp_path: Path, run_cli) -> None:
    mlops = "project: p\ndefault_provider: probe\nproviders:\n  probe: {region: eu}\n"
    root = write_project(tmp_path / "p", mlops, "resources:\n  model:\n    m: {description: one}\n")
    rc, _, err = run_cli(["apply", "--auto-approve"], root, env=WITH_PROBE)
    assert rc == 0, err
    objects = root / ".mlops" / "probe" / "objects.json"
    data = json.loads(objects.read_text())
    data["model/m"]["arn"] = "arn:probe:eu:moved"  # the provider's own attribute moved
    objects.write_text(json.dumps(data))
    rc, out, err = run_cli(["plan"], root, env=WITH_PROBE)
    assert rc == 0 and "changed outside" not in out and "No changes" in out, out + err
    data["model/m"]["description"] = "edited by hand"  # a configured field: drift
    objects.write_text(json.dumps(data))
    rc, out, err = run_cli(["plan"], root, env=WITH_PROBE)
    assert rc == 0 and "changed outside" in out, out + err
