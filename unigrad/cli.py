"""The ``unigrad`` command line: backends, compare, graph."""

from __future__ import annotations

import json
import sys

import click

from . import capabilities as C
from . import registry
from ._version import __version__


def _console():
    from rich.console import Console

    return Console()


def backend_rows(probe: bool = True) -> list[dict]:
    """One row per known backend: availability, version, where it runs, devices, capabilities."""
    rows = []
    for name, spec in registry.specs().items():
        avail = spec.availability()
        row = {
            "name": name,
            "available": avail.available,
            "version": avail.version,
            "runs_in": "this process" if avail.runs_in == "process" else "worker environment",
            "where": avail.reason if avail.runs_in == "worker" else sys.executable,
            "devices": [],
            "capabilities": dict(spec.capabilities),
            "reason": "" if avail.available else avail.reason,
        }
        if probe and avail.available:
            row["devices"], problem = _devices(name, avail.runs_in)
            if problem:
                row["available"] = False
                row["reason"] = problem
        rows.append(row)
    return rows


def _devices(name: str, runs_in: str) -> tuple[list[str], str]:
    try:
        if runs_in == "worker":
            from .worker import probe_worker

            return probe_worker(name)["devices"], ""
        return list(registry.handle(name).impl.devices()), ""
    except Exception as exc:  # report a broken install as such; the table must still print
        return [], f"installed but broken: {type(exc).__name__}: {exc}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="unigrad")
def cli() -> None:
    """unigrad: one autodiff API over NumPy, PyTorch, JAX, TensorFlow and MXNet."""


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--no-probe", is_flag=True, help="Do not import frameworks to list devices.")
def backends(as_json: bool, no_probe: bool) -> None:
    """List every backend: available or not, version, devices, capabilities, where it runs."""
    rows = backend_rows(probe=not no_probe)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"unigrad {__version__} backends")
    for col in ("backend", "available", "version", "devices", "capabilities", "runs in"):
        table.add_column(col)
    for r in rows:
        ok = "[green]yes[/]" if r["available"] else f"[red]no[/] {r['reason']}"
        runs = r["runs_in"] + (f" ({r['where']})" if r["runs_in"] != "this process" else "")
        table.add_row(
            r["name"],
            ok,
            r["version"] or "-",
            ", ".join(r["devices"]) or "-",
            C.describe(r["capabilities"]),
            runs,
        )
    _console().print(table)


def main() -> None:
    """Console-script entry point."""
    cli()


if __name__ == "__main__":
    main()
