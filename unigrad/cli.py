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

    table = Table(title=f"unigrad {__version__} backends", caption=C.LEGEND)
    for col in ("backend", "available", "version", "devices", "capabilities", "runs in"):
        table.add_column(col, overflow="fold")
    for r in rows:
        ok = "[green]yes[/]" if r["available"] else f"[red]no[/] {r['reason']}"
        runs = "this process" if r["runs_in"] == "this process" else f"worker: {r['where']}"
        table.add_row(
            r["name"],
            ok,
            r["version"] or "-",
            ", ".join(r["devices"]) or "-",
            C.short(r["capabilities"]),
            runs,
        )
    _console().print(table)


def _load_function(path: str):
    import importlib

    mod_name, _, attr = path.partition(":")
    if not attr:
        raise click.BadParameter("give the function as module:function", param_hint="FUNCTION")
    try:
        obj = importlib.import_module(mod_name)
    except ImportError as exc:
        raise click.BadParameter(
            f"cannot import {mod_name!r}: {exc}", param_hint="FUNCTION"
        ) from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise click.BadParameter(f"{mod_name!r} has no {attr!r}", param_hint="FUNCTION")
        obj = getattr(obj, part)
    return obj


def _parse_input(text: str):
    import ast

    import numpy as np

    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise click.BadParameter(
            f"{text!r} is not a number or a (nested) list of numbers", param_hint="INPUTS"
        ) from exc
    return np.asarray(value, dtype=float)


@cli.command()
@click.argument("function")
@click.argument("inputs", nargs=-1)
@click.option("--dot", "dot_path", type=click.Path(dir_okay=False), help="Also write DOT here.")
def graph(function: str, inputs: tuple[str, ...], dot_path: str | None) -> None:
    """Show the graph the reference engine records for FUNCTION (module:function) at INPUTS.

    Inputs are Python literals, e.g.: unigrad graph mymod:f 3.0 4.0 or '[1.0, 2.0]'.
    """
    import sys as _sys

    _sys.path.insert(0, ".")
    from .graph import trace_graph

    f = _load_function(function)
    args = [_parse_input(t) for t in inputs]
    g = trace_graph(f, *args)
    click.echo(g.tree())
    if dot_path:
        with open(dot_path, "w") as fh:
            fh.write(g.dot() + "\n")
        click.echo(f"wrote {dot_path}")


def main() -> None:
    """Console-script entry point."""
    cli()


if __name__ == "__main__":
    main()
