"""The ``unigrad`` command line: backends, compare, fuzz, graph, port."""

from __future__ import annotations

import contextlib
import json
import math
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import click

from unigrad import __version__, registry
from unigrad import capabilities as C


def _console():
    from rich.console import Console

    return Console()


def backend_rows(probe: bool = True) -> list[dict]:
    """One row per known backend: availability, version, where it runs, devices, capabilities."""
    rows = []
    for name, spec in registry.specs().items():
        avail = spec.availability()
        python, origin = _interpreter(name, avail.runs_in)
        row = {
            "name": name,
            "available": avail.available,
            "version": avail.version,
            "runs_in": "this process" if avail.runs_in == "process" else "worker environment",
            "where": avail.reason if avail.runs_in == "worker" else sys.executable,
            "python": python,
            "python_from": origin,
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


def _interpreter(name: str, runs_in: str) -> tuple[str, str]:
    """The program unigrad would start for a worker backend, and where that choice comes from."""
    if runs_in != "worker":
        return sys.executable, "this process"
    from unigrad.workers.interpreters import find_python

    python, origin = find_python(name)
    return (str(python) if python else ""), origin


def _devices(name: str, runs_in: str) -> tuple[list[str], str]:
    try:
        if runs_in == "worker":
            from unigrad.workers.client import probe_worker

            return probe_worker(name)["devices"], ""
        return list(registry.handle(name).impl.devices()), ""
    except Exception as exc:  # report a broken install as such; the table must still print
        return [], f"installed but broken: {type(exc).__name__}: {exc}"


class _Commands(click.Group):
    """The command group: Ctrl-C in any command is a quiet exit 130, not click's 'Aborted!'."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("interrupted (SIGINT)", err=True)
            sys.exit(130)


def _out_option(default: str, what: str, made: str) -> Callable[[Any], Any]:
    """``--out``: the folder a command writes into (a folder per run is made inside it)."""
    return click.option(
        "--out",
        default=default,
        show_default=True,
        type=click.Path(file_okay=False),
        help=f"Folder for {what} ({made} is made inside it).",
    )


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
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
        runs = (
            "this process"
            if r["runs_in"] == "this process"
            else f"worker: {r['python'] or '-'} (from {r['python_from']})"
        )
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
    from unigrad.workers.targets import resolve

    try:
        return resolve(path)
    except ValueError:
        raise click.BadParameter(
            "give the function as module:function", param_hint="FUNCTION"
        ) from None
    except ImportError as exc:
        mod_name = path.partition(":")[0]
        raise click.BadParameter(
            f"cannot import {mod_name!r}: {exc}", param_hint="FUNCTION"
        ) from exc
    except AttributeError as exc:
        raise click.BadParameter(str(exc), param_hint="FUNCTION") from exc


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

    Inputs are Python literals, e.g.: unigrad graph mymod:f 3.0 4.0 or '[1.0, 2.0]'. The
    module is looked up as `python -m` would: in the working directory first.
    """
    from unigrad.api.graph import trace_graph

    f = _load_function(function)
    args = [_parse_input(t) for t in inputs]
    g = trace_graph(f, *args)
    click.echo(g.tree())
    if dot_path:
        with open(dot_path, "w") as fh:
            fh.write(g.dot() + "\n")
        click.echo(f"wrote {dot_path}")


@cli.command()
@click.option("--backends", "backends_opt", help="Comma-separated backends  [default: all]")
@click.option(
    "--cases",
    "cases_opt",
    multiple=True,
    help="Case files or folders, case ids, or id globs (repeatable)  [default: the shipped "
    "case library]",
)
@click.option(
    "--dtype", default="both", show_default=True, type=click.Choice(["float32", "float64", "both"])
)
@_out_option("reports", "the reports", "a run folder")
@click.option(
    "--format",
    "formats",
    default="all",
    show_default=True,
    help="Report files to write: all, or a comma list of csv,json,md,html,repro.",
)
@click.option(
    "--timeout",
    default=60.0,
    show_default=True,
    type=float,
    help="Seconds per case and backend (a worker's start is not counted).",
)
@click.option(
    "--jobs", default=0, type=int, help="Workers at once  [default: 0, the number of cores]"
)
@click.option(
    "--suite",
    type=click.Choice(["cases", "ops", "all"]),
    help="cases: the case library (or the --cases files); ops: the per-op table; all: both  "
    "[default: all; cases when --cases names files]",
)
@click.option(
    "--level",
    default="quick",
    show_default=True,
    type=click.Choice(["quick", "full"]),
    help="The ops suite: quick (each op's first sample, first order) or full (every sample, "
    "first and second order).",
)
def compare(backends_opt, cases_opt, dtype, out, formats, timeout, jobs, suite, level) -> None:
    """Run the cases on every backend and report where they agree.

    Exit code 0 when every cell passes or is a declared gap, 1 on any disagreement, error or
    crash, 2 on a usage error, 130 when interrupted by Ctrl-C (143 by SIGTERM): the cells that
    finished are in the reports.
    """
    from unigrad.compare import reports

    stopper = _Stopper()
    with stopper:
        try:
            res, fmts = _start_compare(
                backends_opt,
                cases_opt,
                dtype,
                out,
                formats,
                timeout,
                jobs,
                suite,
                level,
                stopper.defer,
            )
        except KeyboardInterrupt as exc:  # before the run started (frameworks importing)
            name = getattr(exc, "signal_name", "SIGINT")
            click.echo(f"interrupted ({name}) before any cell ran", err=True)
            sys.exit(128 + getattr(signal, name))
        stopper.defer()  # (the run has done so already) the reports are written whole
        summ = reports.write(res, fmts)
        _print_summary(res, summ)
        if stopper.deferred and not res.interrupted:
            click.echo(
                f"({stopper.deferred[0]} came while the reports were written: they were "
                "finished first)",
                err=True,
            )
        sys.exit(res.exit_code)  # still deferring: a late Ctrl-C does not cut the exit short


def _comma_list(opt: str | None) -> list[str] | None:
    """A comma-list option: None when left out; an empty list when given but naming nothing;
    a name given twice kept once, in the order given."""
    if opt is None:
        return None
    return list(dict.fromkeys(n.strip() for n in opt.split(",") if n.strip()))


def _start_compare(
    backends_opt, cases_opt, dtype, out, formats, timeout, jobs, suite, level, finishing=None
) -> tuple:
    """Check the options and run the comparison: (RunResult, report formats)."""
    from unigrad.compare import reports
    from unigrad.compare.runner import run
    from unigrad.compare.selection import UsageError

    fmts = reports.FORMATS if formats == "all" else tuple(f.strip() for f in formats.split(","))
    unknown = [f for f in fmts if f not in reports.FORMATS]
    if unknown:
        raise click.UsageError(f"unknown format(s) {unknown}; use {', '.join(reports.FORMATS)}")
    missing = reports.missing_packages(fmts)
    if missing:
        raise click.UsageError(missing)
    show = _progress()
    try:
        specs = list(cases_opt) or None
        jobs = None if jobs == 0 else jobs
        backends = _comma_list(backends_opt)
        res = run(specs, backends, dtype, out, timeout, show, jobs, suite, level, finishing)
        return res, fmts
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    finally:
        show.close()


@cli.command()
@click.argument("functions", nargs=-1, required=True)
@click.option(
    "--params",
    "params_opt",
    required=True,
    help="The shared parameters: .npz, a torch state_dict (.pt, .pth), or module:attr (a "
    "pytree, a torch module, a Keras model, or a function returning one).",
)
@click.option("--inputs", "inputs_opt", help="The inputs: .npz, or module:attr.")
@click.option(
    "--layout",
    "layout_opt",
    multiple=True,
    help="FRAMEWORK:PATTERN=TRANSFORM (transpose, or a permutation such as 2,3,1,0), or "
    "module:attr naming a layout dict (repeatable).",
)
@click.option(
    "--reference", help="The framework the others are judged against  [default: the first]"
)
@click.option(
    "--dtype", help="float32, float64 or both  [default: the parameters' own]", default=None
)
@click.option("--transforms", default="value,grad", show_default=True, help="value, grad, or both.")
@_out_option("reports", "the reports", "a run folder")
@click.option(
    "--format",
    "formats",
    default="all",
    show_default=True,
    help="Report files: all, or a comma list of jsonl,json,md,html.",
)
@click.option("--no-diagnose", is_flag=True, help="Do not look for the porting mistake.")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds per run in a worker.")
def port(
    functions,
    params_opt,
    inputs_opt,
    layout_opt,
    reference,
    dtype,
    transforms,
    out,
    formats,
    no_diagnose,
    timeout,
) -> None:
    """Compare native implementations of one model, value and gradient, leaf by leaf.

    FUNCTIONS are [FRAMEWORK=]module:function, each written in its framework's API and
    called as function(params, inputs) (or a torch module or Keras model, called on the
    inputs); the framework is told from the function when it is not given. Exit code 0 when
    every leaf agrees, 1 when some leaf does not (the table says which, and the diagnosis
    names the porting mistake where it finds one), 2 on a usage error.
    """
    from unigrad.port import PortStructureError
    from unigrad.port import compare as port_compare
    from unigrad.port.files import FORMATS
    from unigrad.port.targets import TargetError, labelled, read_layout, read_value

    fmts = FORMATS if formats == "all" else tuple(f.strip() for f in formats.split(","))
    unknown = [f for f in fmts if f not in FORMATS]
    if unknown:
        raise click.UsageError(f"unknown format(s) {unknown}; use {', '.join(FORMATS)}")
    try:
        report = port_compare(
            labelled(list(functions)),
            read_value(params_opt, "params"),
            read_value(inputs_opt, "inputs") if inputs_opt else (),
            layout=read_layout(list(layout_opt)),
            transforms=[t.strip() for t in transforms.split(",")],
            dtypes=dtype,
            reference=reference,
            diagnose=not no_diagnose,
            timeout=timeout,
        )
    except (TargetError, PortStructureError, ValueError, FileNotFoundError) as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(report.table())
    if fmts:
        click.echo(f"reports: {report.write(out, fmts)}")
    sys.exit(0 if report.passed else 1)


@cli.command()
@click.option("--backends", "backends_opt", help="Comma-separated backends  [default: all]")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the programs.")
@click.option("--budget", type=float, help="Seconds to start new programs in.")
@click.option("--programs", type=int, help="Programs to run (instead of a time budget).")
@click.option("--ops", "ops_opt", help="Comma-separated ops of the per-op table  [default: all]")
@click.option(
    "--dtype", default="both", show_default=True, type=click.Choice(["float32", "float64", "both"])
)
@click.option(
    "--native",
    is_flag=True,
    help="Run each framework's own ops, differentiated its own way, against unigrad's meaning.",
)
@_out_option("fuzz-reports", "the campaign", "a campaign folder")
@click.option(
    "--resume",
    type=click.Path(file_okay=False, exists=True),
    help="A campaign folder to go on with (its seed and options).",
)
@click.option(
    "--executor",
    default="local",
    show_default=True,
    type=click.Choice(["local", "dask", "ray"]),
    help="Where shards run: this machine, or a dask cluster (ray: see the README).",
)
@click.option("--address", help="The scheduler of a running dask cluster to join.")
@click.option("--jobs", default=0, type=int, help="Requests at once  [default: the cores]")
@click.option("--shard", default=8, show_default=True, type=int, help="Programs per shard.")
@click.option("--max-ops", default=4, show_default=True, type=int, help="Ops per program at most.")
@click.option("--timeout", default=60.0, show_default=True, type=float, help="Seconds per program.")
def fuzz(
    backends_opt,
    seed,
    budget,
    programs,
    ops_opt,
    dtype,
    native,
    out,
    resume,
    executor,
    address,
    jobs,
    shard,
    max_ops,
    timeout,
) -> None:
    """Differential fuzzing: random programs of unigrad.numpy ops on every backend.

    Each program runs on every backend and is compared with the reference engine in float64
    (itself checked by finite differences), with each backend's own forward and reverse mode
    and first and second order, and across backends. Disagreements that rounding, range or a
    kink explain are filtered (and counted); the rest are shrunk, deduplicated and written to
    findings.jsonl, findings.md and findings.html, each with two repro scripts.

    Exit code 0 when nothing is found (with --native, findings are a catalogue: 0), 1 on any
    finding, 2 on a usage error, 130 on Ctrl-C (143 on SIGTERM): what was found is kept, and
    --resume goes on.
    """
    from unigrad.fuzz import reports
    from unigrad.fuzz.campaign import Campaign, Interrupted, Settings, UsageError, check, prepare
    from unigrad.fuzz.executors import check_executor, make

    if budget is None and programs is None and resume is None:
        budget = 60.0
    settings = Settings(
        backends=_comma_list(backends_opt),
        seed=seed,
        programs=programs,
        budget=budget,
        ops=_comma_list(ops_opt),
        dtype=dtype,
        native=native,
        out=out,
        executor=executor,
        address=address,
        jobs=jobs or None,
        shard=shard,
        timeout=timeout,
        max_ops=max_ops,
    )
    try:
        _check_fuzz_options(settings)  # before prepare makes the campaign folder
        if resume is None:  # a resumed campaign's settings are known once its folder is read
            check(settings)
            check_executor(settings.executor, settings.address)
        settings, run_dir = prepare(settings, resume)
        if settings.budget is None and settings.programs is None:
            settings.budget = 60.0
        names = check(settings)
        ex = make(settings.executor, settings.address, settings.jobs)
    except (UsageError, ValueError, RuntimeError) as exc:
        raise click.UsageError(str(exc)) from exc
    camp = Campaign(settings, run_dir, ex, say=lambda text: click.echo(text))
    try:
        with _signals_interrupt(Interrupted):
            try:
                camp.start(names, asked=settings.backends is not None)
            except RuntimeError as exc:
                ex.close()
                click.echo(f"error: {exc}", err=True)
                sys.exit(1)
            click.echo(f"fuzzing {', '.join(camp.backends)} (seed {settings.seed}) -> {run_dir}")
            res = camp.run()
    except KeyboardInterrupt as exc:  # before the campaign started
        ex.halt()
        ex.close()
        name = getattr(exc, "signal_name", "SIGINT")
        click.echo(f"interrupted ({name}) before any program ran", err=True)
        sys.exit(128 + getattr(signal, name))
    finally:
        ex.close()
    summ = reports.write(res, camp.store)
    _print_fuzz_summary(summ)
    if res.interrupted:
        sys.exit(128 + getattr(signal, res.interrupted))
    sys.exit(1 if summ["findings"] and not settings.native else 0)


def _check_fuzz_options(settings: Any) -> None:
    """The fuzz options ``campaign.check`` lets through: raise ``click.UsageError`` for a
    budget or timeout that is not a finite positive number (nan or inf never stops), a
    negative seed (NumPy's traceback) or an --ops or --backends naming nothing (which ran
    every op or backend)."""
    for name, value in (("--budget", settings.budget), ("--timeout", settings.timeout)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise click.UsageError(
                f"{name} must be a finite number of seconds above 0 (such as 60), not {value:g}"
            )
    if settings.seed < 0:
        raise click.UsageError(f"--seed must be an integer >= 0, not {settings.seed}")
    if settings.jobs is not None and settings.jobs < 0:
        raise click.UsageError(
            f"--jobs must be a number of requests at once >= 1 (0: one per core), not "
            f"{settings.jobs}"
        )
    for name, given, example, what in (
        ("--ops", settings.ops, "sin,matmul", "op"),
        ("--backends", settings.backends, "numpy,torch", "backend"),
    ):
        if given is not None and not given:
            raise click.UsageError(
                f"{name} names no {what}; give a comma list such as {example} (or leave the "
                f"option out for every {what})"
            )


def _print_fuzz_summary(summ: dict) -> None:
    if summ["interrupted"]:
        click.echo(
            f"interrupted ({summ['interrupted']}): what was found so far is kept; "
            f"--resume {summ['run_dir']} goes on"
        )
    ran = summ["programs_this_session"]
    earlier = f" ({summ['programs'] - ran} before this session)" if ran != summ["programs"] else ""
    click.echo(
        f"{ran} programs in {summ['wall_s']:.1f} s ({summ['programs_per_s'] or 0:.2f} "
        f"programs/s){earlier}"
    )
    for b, v in summ["per_backend"].items():
        click.echo(f"  {b}: {v['programs_per_s']} programs/s ({v['busy_s']:.1f} s busy)")
    kinds = ", ".join(f"{k} {v}" for k, v in summ["findings_by_kind"].items()) or "none"
    click.echo(f"findings: {summ['findings']} ({kinds})")
    filt = ", ".join(f"{k} {v}" for k, v in summ["filtered"].items()) or "none"
    click.echo(
        f"candidates: {summ['candidates']}; filtered: {filt}; declared gaps met: "
        f"{summ['declared_gaps']}"
    )
    for what, n in summ["native_unavailable"].items():
        click.echo(f"  native op unavailable: {what} ({n} programs)")
    click.echo(f"reports: {summ['run_dir']}")


def _print_summary(res: Any, summ: dict) -> None:
    from unigrad.compare.escape import visible

    for p in res.problems:
        click.echo(f"problem: {visible(p.error)}", err=True)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summ["counts"].items()))
    if res.interrupted:
        click.echo(
            f"interrupted ({res.interrupted}): {summ['cells']} cells finished; the reports "
            "hold those"
        )
    click.echo(
        f"{summ['cells']} cells in {summ['wall_s']:.1f} s" + (f": {counts}" if counts else "")
    )
    for b, t in summ["time_per_backend_s"].items():
        click.echo(f"  {b}: {t:.1f} s")
    for b, v in summ["backends"].items():
        if v.get("error"):
            click.echo(f"  {b}: not run: {v['error']}")
    if summ["disagreements"]:
        click.echo(f"{len(summ['disagreements'])} backend pair(s) disagree: see agreement.md")
    click.echo(f"reports: {res.run_dir}")


@contextlib.contextmanager
def _signals_interrupt(kind: Any = None):
    """SIGTERM stops a run as Ctrl-C does (workers stopped, finished cells reported)."""
    from unigrad.compare.runner import Interrupted

    raised = kind or Interrupted

    def on_term(signum: int, frame: Any) -> None:
        raise raised("SIGTERM")

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Stopper:
    """SIGINT and SIGTERM during ``unigrad compare``: the first stops the run (``Interrupted``,
    as Ctrl-C does); from then on, and while the results and reports are written (under a
    second), a signal is only noted, so that a second Ctrl-C cannot cut the reports short.

    A SIGINT that was ignored when the run started (a background job) stays ignored.
    """

    def __init__(self) -> None:
        self.deferring = False
        self.deferred: list[str] = []
        self._previous: dict[int, Any] = {}

    def defer(self) -> None:
        """From now on a signal is only noted."""
        self.deferring = True

    def _on_signal(self, signum: int, frame: Any) -> None:
        from unigrad.compare.runner import Interrupted

        name = signal.Signals(signum).name
        if self.deferring:
            self.deferred.append(name)
            return
        self.deferring = True
        raise Interrupted(name)

    def __enter__(self) -> _Stopper:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                if signal.getsignal(sig) is not signal.SIG_IGN:
                    self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)


class _Plain:
    """Progress as plain lines (not on a terminal): one line per backend as it finishes."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}

    def __call__(self, backend: str, done: int, total: int) -> None:
        step = max(1, total // 4)
        if done == total or done // step != self.last.get(backend, -1):
            self.last[backend] = done // step
            click.echo(f"[{backend}] {done}/{total} cells")

    def close(self) -> None:
        pass


class _Bar:
    """A rich progress bar per backend (on a terminal)."""

    def __init__(self) -> None:
        from rich.progress import Progress

        self.progress = Progress(transient=False)
        self.tasks: dict[str, Any] = {}
        self.progress.start()

    def __call__(self, backend: str, done: int, total: int) -> None:
        if backend not in self.tasks:
            self.tasks[backend] = self.progress.add_task(backend, total=total)
        self.progress.update(self.tasks[backend], completed=done)

    def close(self) -> None:
        self.progress.stop()


def _progress():
    return _Bar() if sys.stdout.isatty() else _Plain()


def main() -> None:
    """Console-script entry point."""
    cli()


if __name__ == "__main__":
    main()
