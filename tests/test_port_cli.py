"""Issue 13: ``unigrad port`` on the command line, and the report files it writes."""

from __future__ import annotations

import html.parser
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from unigrad import port
from unigrad.cli import cli
from unigrad.port.examples import data
from unigrad.port.targets import frameworks_used, read_function

EX = "unigrad.port.examples"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    port.save_params(tmp_path / "params.npz", data.mlp_params())
    np.savez(tmp_path / "batch.npz", **data.mlp_batch())
    return tmp_path


def run(args: list[str]):
    return CliRunner().invoke(cli, ["port", *args], catch_exceptions=False)


def test_a_passing_port_exits_0_and_writes_its_reports(files: Path):
    out = files / "reports"
    result = run(
        [
            f"{EX}.torch_models:mlp_loss",
            f"{EX}.jax_models:mlp_loss",
            f"{EX}.keras_models:mlp_loss",
            "--params",
            str(files / "params.npz"),
            "--inputs",
            str(files / "batch.npz"),
            "--layout",
            "jax:fc*.weight=transpose",
            "--layout",
            "tensorflow:fc*.weight=transpose",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("port check passed: all 14 leaves agree against torch")
    run_dir = Path(result.output.strip().splitlines()[-1].removeprefix("reports: "))
    assert (out / "latest").resolve() == run_dir.resolve()
    rows = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 14 and {r["status"] for r in rows} == {"pass"}
    assert rows[1]["path"] == "fc1.weight" and rows[1]["layout"] == "transpose"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["passed"] and summary["references"] == {"float64": "torch"}
    md = (run_dir / "agreement.md").read_text()
    assert "| grad · fc1.weight | ✓" in md


def test_a_planted_bug_exits_1_with_its_diagnosis(files: Path):
    result = run(
        [
            f"{EX}.torch_models:mlp_loss",
            f"{EX}.keras_models:mlp_loss_default_epsilon",
            "--params",
            f"{EX}.data:mlp_params",
            "--inputs",
            f"{EX}.data:mlp_batch",
            "--layout",
            f"{EX}.data:MLP_LAYOUT",
            "--dtype",
            "float32",
            "--out",
            str(files / "reports"),
            "--format",
            "md,html",
        ]
    )
    assert result.exit_code == 1, result.output
    assert "7 of 7 leaves disagree against torch (float32; value, grad)" in result.output
    assert "tensorflow has 0.001; with 1e-05 it agrees with torch" in result.output
    run_dir = Path(result.output.strip().splitlines()[-1].removeprefix("reports: "))
    assert sorted(p.name for p in run_dir.iterdir()) == ["agreement.html", "agreement.md"]
    md = (run_dir / "agreement.md").read_text()
    assert "## Diagnosis" in md and "| value · output | ✗" in md


def test_the_framework_is_told_from_the_function():
    assert read_function(f"{EX}.torch_models:mlp_loss")[0] == "torch"
    assert read_function(f"{EX}.jax_models:mlp_loss_default_gelu")[0] == "jax"
    assert read_function(f"{EX}.keras_models:cnn_loss")[0] == "tensorflow"
    assert read_function(f"{EX}.torch_models:cnn")[0] == "torch"  # a module
    assert read_function(f"jax={EX}.torch_models:mlp_loss")[0] == "jax"  # as told
    assert frameworks_used(np.linalg.norm) == set()


def test_an_mxnet_module_is_sent_to_the_worker(tmp_path: Path, monkeypatch):
    (tmp_path / "mine_mx.py").write_text(
        "import mxnet\n\ndef f(p, x):\n    return mxnet.np.tanh(mxnet.np.dot(x, p['w'])).sum()\n"
    )
    monkeypatch.chdir(tmp_path)
    try:
        import mxnet  # noqa: F401
    except ImportError:
        assert read_function("mine_mx:f") == ("mxnet", "mine_mx:f")
    else:
        assert read_function("mine_mx:f")[0] == "mxnet"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["numpy:isnan", f"{EX}.jax_models:mlp_loss"], "cannot tell which framework"),
        (["nosuchmodule:f", f"{EX}.jax_models:mlp_loss"], "cannot import 'nosuchmodule'"),
        (
            [f"{EX}.torch_models:mlp_loss", f"{EX}.jax_models:mlp_loss", "--layout", "jax=1"],
            "write FRAMEWORK:PATTERN=TRANSFORM",
        ),
        (
            [
                f"{EX}.torch_models:mlp_loss",
                f"{EX}.jax_models:mlp_loss",
                "--layout",
                "jax:fc*.weight=flip",
            ],
            "use 'transpose', a permutation",
        ),
        (
            [f"{EX}.torch_models:mlp_loss", f"{EX}.jax_models:mlp_loss", "--format", "pdf"],
            "unknown format",
        ),
        ([f"{EX}.torch_models:mlp", f"{EX}.torch_models:cnn"], "missing from the shared"),
    ],
)
def test_usage_errors_exit_2(files: Path, args: list[str], message: str):
    result = run(
        [
            *args,
            "--params",
            str(files / "params.npz"),
            "--inputs",
            str(files / "batch.npz"),
            "--out",
            str(files / "r"),
        ]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_reports_show_any_path_as_text(tmp_path: Path):
    weird = "a|b\n<script>alert(1)</script>"
    params = {weird: np.ones(2)}
    report = port.compare(
        {"torch": lambda p, x: (p[weird] * x).sum(), "jax": lambda p, x: (p[weird] * x).sum() * 2},
        params,
        np.arange(2.0),
    )
    assert not report.passed
    run_dir = report.write(tmp_path)
    md = (run_dir / "agreement.md").read_text()
    assert "<script>" not in md and "a\\|b &lt;script&gt;" in md
    page = (run_dir / "agreement.html").read_text()
    assert "<script>alert" not in page

    class Parser(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.cells: list[dict] = []

        def handle_starttag(self, tag, attrs):
            if tag == "td" and dict(attrs).get("data-k") is not None:
                self.cells.append(dict(attrs))

    p = Parser()
    p.feed(page)
    assert {c["data-framework"] for c in p.cells} == {"jax"}
    assert {c["data-status"] for c in p.cells} == {"fail"}
    assert any(c["data-leaf"] == f"grad · {weird}" for c in p.cells)


def test_the_port_page_in_headless_chromium(tmp_path: Path):
    from unigrad.port.examples import jax_models as J
    from unigrad.port.examples import torch_models as T

    from .cdp import Browser, chromium

    exe = chromium()
    if exe is None:
        pytest.skip("no chromium here (make test installs Debian's chromium where it can)")
    report = port.compare(
        {"torch": T.cnn_loss, "jax": J.cnn_loss_sum, "jax:fixed": J.cnn_loss},
        data.cnn_params(),
        data.cnn_batch(),
        layout=data.CNN_LAYOUT,
    )
    run_dir = report.write(tmp_path)
    browser = Browser(exe)
    try:
        browser.open(run_dir / "agreement.html")
        x, y = browser.evaluate(
            "(() => { const c = [...document.querySelectorAll('td[data-k]')].find("
            "td => td.dataset.leaf === 'grad · fc.bias' && td.dataset.framework === 'jax');"
            " c.scrollIntoView({block: 'center'}); const r = c.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        browser.click(x, y)
        text = browser.evaluate("document.getElementById('detail').innerText")
        assert "grad fc.bias on jax" in text and "against torch" in text
        assert "a sum where torch takes a mean" in text
        bars = browser.evaluate("document.querySelectorAll('.bar').length")
        assert bars == 2  # jax and jax:fixed
        assert not browser.errors, browser.errors
        assert all(u.startswith("file:") for u in browser.requests), browser.requests
    finally:
        browser.close()


def test_a_module_imports_its_neighbours_as_with_python_m(tmp_path: Path, monkeypatch):
    # a tester's finding: sq2.py does `from sq import P`, which python -m finds in the
    # working directory; the command must too
    (tmp_path / "sq.py").write_text("P = 3.0\n")
    (tmp_path / "sq2.py").write_text(
        "import jax.numpy as jnp\nimport torch\n\nfrom sq import P\n\n\n"
        "def t(p, b):\n    return torch.sum(torch.tanh(P * b['x'] @ p['w']))\n\n\n"
        "def j(p, b):\n    return jnp.sum(jnp.tanh(P * b['x'] @ p['w']))\n"
    )
    rng = np.random.default_rng(0)
    port.save_params(tmp_path / "p.npz", {"w": rng.standard_normal((3, 2))})
    np.savez(tmp_path / "b.npz", x=rng.standard_normal((4, 3)))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", [p for p in __import__("sys").path if p not in ("", ".")])
    for name in ("sq", "sq2"):
        monkeypatch.delitem(__import__("sys").modules, name, raising=False)
    result = run(
        ["torch=sq2:t", "jax=sq2:j", "--params", "p.npz", "--inputs", "b.npz", "--format", "md"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("port check passed: all 2 leaves agree against torch")
