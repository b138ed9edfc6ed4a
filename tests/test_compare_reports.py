"""Reports that survive any case text, and that people can read.

One run over cases whose ids hold what breaks reports: 300 characters, a pipe and a newline,
HTML, a script opener, triple quotes and backslashes, a spreadsheet formula. Every cell fails
on purpose (a wrong exact value), so every report and every repro script is written.
"""

from __future__ import annotations

import csv
import html.parser
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from unigrad.compare import matrix, reports, runner
from unigrad.compare.escape import visible
from unigrad.compare.records import Record, RunResult, Status

ROOT = Path(__file__).resolve().parent.parent

IDS = [
    "long." + "x" * 300,
    "pipe|and\nnewline",
    "<!--<script>",
    'quote"""; import os; os.system("echo pwned") #',
    "back\\slash\\N{oops}\\x",
    '=HYPERLINK("http://example.com","click")',
    "<img src=x onerror=alert(1)>",
    "tab\tand\rcarriage",
]

WEIRD = """\
import numpy as np
import unigrad.numpy as unp
from unigrad.case import Case
from unigrad.compare.native import op

IDS = {ids!r}
X = (np.array([1.0, 2.0]),)
CASES = [
    Case(id=i, source=i, function=lambda x: unp.sum(x * x), inputs=X, expected={{"value": 99.0}})
    for i in IDS
]
CASES.append(Case(id="fine.sin", function=lambda x: unp.sum(unp.sin(x)), inputs=X))
CASES.append(
    Case(id="native.abs", function=unp.abs, inputs=(0.0,), native={{"torch": op("torch", "abs")}})
)
"""


@pytest.fixture(scope="module")
def weird_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("weird")
    (d / "weird.py").write_text(WEIRD.format(ids=IDS))
    res = runner.run([str(d / "weird.py")], ["numpy", "torch"], "float64", d / "reports")
    summ = reports.write(res)
    return res, summ


def test_repro_scripts_compile_whatever_the_id(weird_run):
    res, _ = weird_run
    scripts = sorted((res.run_dir / "repro").glob("*.py"))
    failing = [r for r in res.records if r.status != Status.PASS]
    assert len(scripts) == len({r.repro for r in failing}) == len(failing)
    for s in scripts:
        assert len(s.name.encode()) <= 120, s.name
        compile(s.read_text(), str(s), "exec")
    quote = next(r for r in failing if r.case.startswith("quote") and r.backend == "numpy")
    run = subprocess.run([sys.executable, quote.repro], capture_output=True, text=True)
    assert run.returncode == 1, run.stderr  # it shows the disagreement
    assert "pwned" not in run.stdout and "numpy float64: 5.0" in run.stdout


def test_a_repro_script_exits_1_when_it_shows_the_disagreement_and_0_when_it_agrees(
    weird_run, tmp_path
):
    """The scripts only printed, and always exited 0."""
    from unigrad.compare.repro import script

    res, _ = weird_run
    files = {c.id: c.file for c in res.cases}

    def run(rec):
        path = tmp_path / "repro.py"
        path.write_text(script(rec, files[rec.case]))
        return subprocess.run([sys.executable, str(path)], capture_output=True, text=True)

    wrong = next(r for r in res.records if r.case == IDS[1] and r.backend == "torch")
    assert wrong.status == Status.FAIL
    out = run(wrong)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "exact: 99.0" in out.stdout and "fail: vs exact value: got 5" in out.stdout
    fine = next(r for r in res.records if r.case == "fine.sin" and r.transform == "grad")
    assert fine.status == Status.PASS
    out = run(fine)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.rstrip().endswith("pass")
    native = next(r for r in res.records if r.section == "native")
    out = run(native)
    departs = "departs from unigrad's convention" in out.stdout
    assert out.returncode == (1 if departs else 0), out.stdout + out.stderr


def test_results_jsonl_names_each_cells_repro_script_as_results_csv_does(weird_run):
    """results.jsonl had "repro": null in every row, results.csv the script's path."""
    res, _ = weird_run
    lines = (res.run_dir / "results.jsonl").read_text().splitlines()
    rows = [json.loads(x) for x in lines if "case" in json.loads(x)]
    with (res.run_dir / "results.csv").open(newline="") as fh:
        in_csv = [row["repro"] for row in csv.DictReader(fh)]
    assert [r["repro"] for r in rows] == [r.repro for r in res.records]
    assert [r or "" for r in in_csv] == [r.repro or "" for r in res.records]
    failing = [r for r in rows if r["status"] != "pass"]
    assert failing and all(Path(r["repro"]).is_file() for r in failing)


def test_agreement_md_escapes_ids(weird_run):
    res, _ = weird_run
    md = (res.run_dir / "agreement.md").read_text()
    assert "<script" not in md and "<img" not in md and "<!--" not in md
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| case · transform"))
    table = [line for line in lines[start:] if line.startswith("| ")]
    table = table[: next((i for i, x in enumerate(table) if x.startswith("| case |")), None)]
    header = table[0]
    width = len(re.split(r"(?<!\\)\|", header))
    for line in table:
        assert len(re.split(r"(?<!\\)\|", line)) == width, line
    assert sum("pipe\\|and newline" in line for line in table) == 2  # value and grad


class _Page(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self.tags: list[tuple[str, dict]] = []
        self._in_script: dict | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)
            self.scripts.append((self._in_script, ""))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)


def parse_page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text())
    return page


def test_agreement_html_embeds_any_id_safely(weird_run):
    res, _ = weird_run
    page = parse_page(res.run_dir / "agreement.html")
    assert not [t for t, a in page.tags if t in ("img", "link") or "src" in a]
    (data,) = [text for attrs, text in page.scripts if attrs.get("type") == "application/json"]
    for _, text in page.scripts:
        assert "<!--" not in text and "<script" not in text.lower() and "</" not in text
    payload = json.dumps(json.loads(data))
    for i in IDS:  # each id arrives whole, its control characters shown as escapes
        assert json.dumps(visible(i))[1:-1] in payload


def test_agreement_html_layout(weird_run):
    res, _ = weird_run
    page = parse_page(res.run_dir / "agreement.html")
    tags = page.tags
    groups = {a["data-group"]: a for t, a in tags if t == "details"}
    assert set(groups) == {"weird", "native catalogue"}
    assert "open" in groups["weird"]  # it holds failures
    assert any(a.get("id") == "only-bad" and a.get("type") == "checkbox" for t, a in tags)
    bars = [a for t, a in tags if "bar" in a.get("class", "").split()]
    assert {a["data-backend"] for a in bars} == {"numpy", "torch"}
    clickable = [a for t, a in tags if t == "td" and "data-k" in a]
    assert any(a.get("data-section") == "native" for a in clickable)
    # the native catalogue has no numpy column: numpy has no op of its own there
    native_heads = [a for t, a in tags if t == "th" and a.get("data-table") == "native"]
    assert {a.get("data-backend") for a in native_heads if a.get("data-backend")} == {"torch"}


def test_results_csv_neutralises_formulas(weird_run):
    res, _ = weird_run
    with (res.run_dir / "results.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(res.records)
    for row in rows:
        for key in ("case", "source", "detail", "file", "repro"):
            assert (row[key] or " ")[0] not in "=+-@\t\r", (key, row[key])
    assert any(row["case"] == "'" + IDS[5] for row in rows)


def test_the_error_column_shows_what_failed(weird_run):
    res, _ = weird_run
    r = next(r for r in res.records if r.case == IDS[2] and r.backend == "numpy")
    assert r.status == Status.FAIL and r.against == "exact"
    assert r.max_abs == pytest.approx(94.0)  # |5 - 99|, not 0 against the reference
    md = (res.run_dir / "agreement.md").read_text()
    assert "✗ 9e+01" in md
    row = next(
        json.loads(x)
        for x in (res.run_dir / "results.jsonl").read_text().splitlines()
        if json.loads(x).get("case") == IDS[2] and json.loads(x).get("backend") == "numpy"
    )
    assert row["max_abs"] == pytest.approx(94.0) and row["against"] == "exact"


def test_detail_messages_read_as_numbers(weird_run):
    res, _ = weird_run
    for r in res.records:
        assert "np.float" not in r.detail and "array(" not in r.detail, r.detail
    r = next(r for r in res.records if r.case == IDS[2] and r.backend == "numpy")
    assert "got 5.0" in r.detail and "99.0" in r.detail


def test_no_internal_references_in_the_case_library():
    from unigrad.compare.selection import select_cases

    for c in select_cases(None).cases:
        assert not re.search(r"\bissue \d", c.source + c.notes, re.I), (c.id, c.source)


# ------------------------------------------------------------------------ marks and statuses


def _record(status, gap=None, backend="b"):
    return Record(
        case="c",
        transform="grad",
        backend=backend,
        dtype="float64",
        status=status,
        declared_gap=gap,
        file="/x/cases.py:1",
    )


def test_an_undeclared_unsupported_cell_has_its_own_mark_and_colour(tmp_path):
    gap = [_record(Status.UNSUPPORTED, "declared", "gapped")]
    undeclared = [_record(Status.UNSUPPORTED, None, "missing")]
    assert matrix.cell(gap)[2] != matrix.cell(undeclared)[2]
    assert matrix.colour_of(gap[0]) != matrix.colour_of(undeclared[0])
    res = RunResult(
        tmp_path, gap + undeclared, [], ["gapped", "missing"], ["float64"], [], [], {}, {}, 0.0
    )
    summ = reports.write(res, ("md", "html"))
    md = (tmp_path / "agreement.md").read_text()
    row = next(line for line in md.splitlines() if line.startswith("| c · grad"))
    assert row.split("|")[2].strip() != row.split("|")[3].strip()
    assert summ["counts"] == {"unsupported": 1, "unsupported (undeclared)": 1}


def test_the_summary_lists_a_backend_an_interrupt_stopped_before_it_was_ready(tmp_path):
    """summary.json listed only numpy after a Ctrl-C that came while torch's worker started."""
    info = {"numpy": {"version": "2", "python": "py", "numpy": "2", "devices": ["cpu"]}}
    res = RunResult(
        tmp_path, [], [], ["numpy", "torch"], ["float64"], [], [], info, {}, 0.0, "SIGINT"
    )
    summ = reports.summary(res)
    assert list(summ["backends"]) == ["numpy", "torch"]
    assert summ["backends"]["numpy"]["version"] == "2"
    assert "interrupted before its worker was ready" in summ["backends"]["torch"]["error"]


def test_the_readme_documents_every_status_and_mark():
    text = (ROOT / "README.md").read_text()
    statuses = text.split("**Statuses**", 1)[1].split("**Reports**", 1)[0]
    for s in Status:
        assert f"`{s.value}`" in statuses, s
    assert "undeclared" in statuses
    reading = text.split("**Reading the report**", 1)[1].split("\n\n", 1)[0]
    for mark in matrix.MARKS.values():
        assert mark in reading, mark


def test_help_shows_the_defaults():
    from click.testing import CliRunner

    from unigrad.cli import cli

    out = CliRunner().invoke(cli, ["compare", "--help"]).output
    for default in ("default: 60", "default: both", "default: reports", "default: all"):
        assert default in out, default


# --------------------------------------------------------------------- the run folder, pandas


def test_two_runs_racing_for_one_folder_both_get_their_own(tmp_path, monkeypatch):
    real_mkdir = Path.mkdir
    raced = []

    def mkdir(self, *args, **kwargs):
        if self.parent == tmp_path and not raced:
            raced.append(self)
            real_mkdir(self)  # another run takes this name between our check and our mkdir
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    run_dir = runner.new_run_dir(tmp_path)
    assert raced and run_dir != raced[0] and run_dir.is_dir()


def test_without_pandas_compare_says_so_before_any_work(tmp_path):
    script = (
        "import sys\nsys.modules['pandas'] = None\nfrom unigrad.cli import main\n"
        f"sys.argv = ['unigrad', 'compare', '--backends', 'numpy', '--out', {str(tmp_path)!r}]\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "pip install pandas" in out.stderr and "Traceback" not in out.stderr
    assert not list(tmp_path.iterdir())  # no run was started
    # a CSV-less run needs no pandas
    script = script.replace("'--out'", "'--format', 'json', '--cases', 'seed001.partials', '--out'")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_pandas_is_a_dependency_of_the_base_install():
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert any(d.startswith("pandas") for d in meta["project"]["dependencies"])


# ------------------------------------------------------------------- in a real browser


def test_agreement_html_in_headless_chromium(weird_run):
    from .cdp import Browser, chromium

    exe = chromium()
    if exe is None:
        pytest.skip("no chromium here (make test installs Debian's chromium where it can)")
    res, _ = weird_run
    browser = Browser(exe)
    try:
        browser.open(res.run_dir / "agreement.html")
        visible_rows = (
            "[...document.querySelectorAll('tr[data-row]')]"
            ".filter(r => r.getClientRects().length).length"
        )
        before = browser.evaluate(visible_rows)
        cell = next(r for r in res.records if r.case == IDS[2] and r.backend == "numpy")
        x, y = browser.evaluate(
            "(() => { const c = [...document.querySelectorAll('td[data-k]')].find("
            f"td => td.dataset.case === {json.dumps(cell.case)} && td.dataset.backend === 'numpy'"
            " && td.dataset.transform === 'value');"
            " c.scrollIntoView({block: 'center'}); const r = c.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        browser.click(x, y)
        shown = browser.evaluate(
            "(() => { const d = document.getElementById('detail');"
            " const r = d.getBoundingClientRect();"
            " return {text: d.innerText, top: r.top, bottom: r.bottom, left: r.left,"
            " right: r.right, h: window.innerHeight, w: window.innerWidth}; })()"
        )
        assert cell.case in shown["text"] and "reference" in shown["text"], shown
        assert "99" in shown["text"] and "5" in shown["text"]
        # beside the clicked cell, inside the window
        assert 0 <= shown["top"] < shown["h"] and shown["left"] < shown["w"], shown
        gap_x = max(0, shown["left"] - x, x - shown["right"])
        gap_y = max(0, shown["top"] - y, y - shown["bottom"])
        assert gap_x < 200 and gap_y < 200, (shown, x, y)
        # a native-catalogue cell opens its detail too
        x, y = browser.evaluate(
            "(() => { const c = document.querySelector('td[data-k][data-section=native]');"
            " c.scrollIntoView({block: 'center'}); const r = c.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        browser.click(x, y)
        text = browser.evaluate("document.getElementById('detail').innerText")
        assert "native.abs" in text and "torch" in text
        # the filter keeps only rows that are not a pass
        x, y = browser.evaluate(
            "(() => { const c = document.getElementById('only-bad');"
            " c.scrollIntoView({block: 'center'}); const r = c.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        browser.click(x, y)
        after = browser.evaluate(visible_rows)
        assert 0 < after < before
        still_passing = browser.evaluate(
            "[...document.querySelectorAll('tr[data-row]')].filter(r => r.getClientRects().length"
            " && r.dataset.bad === '0').length"
        )
        assert still_passing == 0
        assert not browser.errors, browser.errors
        assert all(u.startswith("file:") for u in browser.requests), browser.requests
    finally:
        browser.close()


def test_control_characters_are_found_by_one_pattern_as_by_their_unicode_category():
    import unicodedata

    from unigrad.compare import escape

    for c in range(0x10000):
        ch = chr(c)
        hidden = ch not in "\n\t" and (
            unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in escape._BIDI
        )
        assert bool(escape._HIDDEN.fullmatch(ch)) == hidden, hex(c)
    assert escape.visible("a\x1bb\u202ec\n\td\x7f") == "a\\x1bb\\u202ec\n\td\\x7f"


def test_a_shown_array_is_the_same_text_each_time():
    import numpy as np

    from unigrad.compare.records import show

    a = np.array([[0.5, np.nan], [-0.0, 1e-9]])
    assert show(a) == np.array2string(a, precision=6, separator=", ") == show(a.copy())
    assert show([a, 2.0]) == f"({show(a)}, 2)"
