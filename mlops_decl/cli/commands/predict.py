"""`mlops-decl predict` and `mlops-decl serve`."""

from __future__ import annotations

import csv
import signal
from pathlib import Path
from typing import Any

import click

from mlops_decl.cli.common import runtime, var_options
from mlops_decl.cli.output import echo_json, handle_errors
from mlops_decl.diagnostics import Diagnostic, DiagnosticError


def read_rows(path: str) -> list[dict[str, Any]]:
    p = Path(path)
    if not p.is_file():
        raise DiagnosticError(
            Diagnostic(f"--data {path} does not exist", hint="give a CSV file of input rows")
        )
    if p.suffix == ".parquet":
        import pandas as pd

        records: list[dict[str, Any]] = pd.read_parquet(p).to_dict(orient="records")
        return records
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            lines = list(csv.reader(fh))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DiagnosticError(
            Diagnostic(f"--data {path} is not a CSV file ({exc})", hint="give a CSV file of input rows")
        ) from None
    header, body = (lines[0], lines[1:]) if lines else ([], [])
    for n, row in enumerate(body, 2):
        if row and len(row) != len(header):
            raise DiagnosticError(
                Diagnostic(
                    f"--data {path}:{n}: {len(row)} fields, but the header has {len(header)}",
                    hint="every row needs one value per column of the first line",
                )
            )
    return [{k: _number(v) for k, v in zip(header, row, strict=True)} for row in body if row]


def _number(v: str | None) -> Any:
    if v is None or v == "":
        return None
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return v


@click.command()
@click.argument("address")
@click.option(
    "--data", "-data", "data", required=True, type=click.Path(), help="CSV (or parquet) of rows to score."
)
@click.option("--json", "-json", "as_json", is_flag=True, help="Print the predictions as JSON.")
@click.option(
    "--capture/--no-capture",
    default=True,
    show_default=True,
    help="Record the rows in the capture store that monitors check for drift; --no-capture for ad-hoc scoring.",
)
@var_options
@handle_errors
def predict(
    address: str,
    data: str,
    as_json: bool,
    capture: bool,
    var_files: tuple[str, ...],
    cli_vars: tuple[str, ...],
) -> None:
    """Score rows through the version the endpoint's alias points at."""
    rows = read_rows(data)
    from mlops_decl.actions.results import Prediction, to_json

    rt = runtime(var_files, cli_vars)
    result: Prediction = rt.call(address, "predict", "endpoint", rows=rows, capture=capture)
    if as_json:
        echo_json(to_json(result))
        return
    scores = result.scores
    click.echo(f"# {address}: model {result.model} version {result.version}, {len(rows)} rows")
    for i, pred in enumerate(result.predictions):
        extra = f"\t{scores[i]:.4f}" if scores else ""
        click.echo(f"{pred}{extra}")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@click.command()
@click.argument("address")
@click.option(
    "--port",
    "-port",
    "port",
    type=click.IntRange(0, 65535),
    default=None,
    help="TCP port [default: the endpoint's local.port, else 8080; 0: any free port].",
)
@click.option(
    "--max-body-mb",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Largest request body in MiB; larger ones get 413 [default: local.max_body_mb, else 16].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds a connection may stay silent before it is closed [default: local.timeout, else 30].",
)
@click.option(
    "--capture/--no-capture",
    default=True,
    show_default=True,
    help="Record scored rows in the capture store that monitors check for drift.",
)
@var_options
@handle_errors
def serve(
    address: str,
    port: int | None,
    max_body_mb: float | None,
    timeout: float | None,
    capture: bool,
    var_files: tuple[str, ...],
    cli_vars: tuple[str, ...],
) -> None:
    """Serve the endpoint over HTTP on 127.0.0.1 (POST /invocations, GET /health).

    Requests: JSON rows, MLflow's dataframe_split / dataframe_records / instances, or text/csv."""
    rt = runtime(var_files, cli_vars)
    # `kill` and service managers stop with SIGTERM: stop as Ctrl-C does, writing the captures
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        rt.call(
            address, "serve", "endpoint", port=port, max_body_mb=max_body_mb, timeout=timeout, capture=capture
        )
    except KeyboardInterrupt:
        click.echo("\nstopped.", err=True)
