"""Every command's --help is whole: a help text, a one-line summary that fits its group's
listing without being cut to "...", and a help line for each option; and every command that
takes the state lock can wait for it (-lock-timeout)."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from mlops_decl.cli.main import COMMANDS, cli

LOCKING = {"plan", "apply", "destroy", "import", "state rm", "state mv", "state push", "promote", "monitor check"}


def _walk(group: click.Group, ctx: click.Context, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        path = f"{prefix}{name}"
        out.append((path, cmd))
        if isinstance(cmd, click.Group):
            out += _walk(cmd, click.Context(cmd, info_name=name, parent=ctx), f"{path} ")
    return out


ROOT = click.Context(cli, info_name="mlops-decl")
ALL = _walk(cli, ROOT)


@pytest.mark.parametrize(("path", "cmd"), ALL, ids=[p for p, _ in ALL])
def test_every_command_has_a_whole_help_text(path: str, cmd: click.Command) -> None:
    assert (cmd.help or "").strip(), f"`{path}` has no help text"
    for param in cmd.params:
        if isinstance(param, click.Option) and not param.hidden and param.name != "help":
            assert (param.help or "").strip(), f"`{path} {param.opts[0]}` has no help"
    result = CliRunner().invoke(cli, [*path.split(), "--help"], prog_name="mlops-decl")
    assert result.exit_code == 0, result.output
    listing = result.output.partition("\nCommands:\n")[2]
    cut = [line for line in listing.splitlines() if line.rstrip().endswith("...")]
    assert not cut, f"`{path} --help` cuts a summary: {cut}"


def test_the_top_level_listing_names_every_command_with_its_summary() -> None:
    out = CliRunner().invoke(cli, ["--help"]).output
    for name, (_, _, summary) in COMMANDS.items():
        assert summary.split()[0] in out, name


@pytest.mark.parametrize("path", sorted(LOCKING))
def test_every_locking_command_takes_lock_timeout(path: str) -> None:
    cmd = dict(ALL)[path]
    opts = {o for p in cmd.params for o in getattr(p, "opts", [])}
    assert {"-lock-timeout", "--lock-timeout"} <= opts, path
