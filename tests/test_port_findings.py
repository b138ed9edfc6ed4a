"""Issue 13, a tester's findings on the report: summary.json by default, notes shown, a
framework's error said once, "no known porting mistake matched", the page's legend, None in
a command-line layout, and parameters of mixed dtypes."""

from __future__ import annotations

import html.parser
import json

import jax.numpy as jnp
import numpy as np
import torch

from unigrad import port
from unigrad.port.targets import read_layout

W = {"w": np.linspace(-1.0, 1.0, 6).reshape(3, 2), "b": np.array([0.1, -0.2])}
X = np.linspace(-2.0, 2.0, 12).reshape(4, 3)


def torch_fn(p, x):
    return torch.tanh(x @ p["w"] + p["b"]).sum()


def jax_fn(p, x):
    return jnp.tanh(x @ p["w"] + p["b"]).sum()


def test_write_writes_every_report_file_by_default(tmp_path):
    report = port.compare({"torch": torch_fn, "jax": jax_fn}, W, X)
    run_dir = report.write(tmp_path)
    names = sorted(p.name for p in run_dir.iterdir())
    assert names == ["agreement.html", "agreement.md", "results.jsonl", "summary.json"]
    assert json.loads((run_dir / "summary.json").read_text())["passed"] is True


def test_an_unused_parameter_is_noted_in_the_table_and_agreement_md(tmp_path):
    def torch_no_bias(p, x):
        return torch.tanh(x @ p["w"]).sum()

    def jax_zero_bias(p, x):
        return jnp.tanh(x @ p["w"] + 0.0 * p["b"]).sum()

    report = port.compare({"torch": torch_no_bias, "jax": jax_zero_bias}, W, X, dtypes="both")
    assert report.passed
    text = str(report)
    assert text.count("note: torch computes no gradient for b: its function does not use it") == 2
    md = (report.write(tmp_path, ("md",)) / "agreement.md").read_text()
    assert "torch computes no gradient for b: its function does not use it" in md
    assert "(float64, float32)" in md


def test_a_frameworks_error_is_said_once_and_whole(tmp_path):
    fix = "fix: give the parameters as the module names them, e.g. fc1.weight."
    message = "the port failed while " + "computing something rather long " * 20 + fix

    def raises(p, x):
        raise ValueError(message)

    report = port.compare({"torch": torch_fn, "jax": raises}, W, X, dtypes="both")
    text = str(report)
    assert text.count(message) == 1
    assert f"jax float64, float32 raised: ValueError: {message}" in text
    md = (report.write(tmp_path, ("md",)) / "agreement.md").read_text()
    assert md.count("computing something rather long") == 20  # once, whole
    assert fix in md


def test_a_failure_no_known_mistake_explains_says_so():
    def jax_sin(p, x):
        return jnp.sin(x @ p["w"] + p["b"]).sum()

    report = port.compare({"torch": torch_fn, "jax": jax_sin}, W, X)
    assert not report.passed
    assert {x.diagnosis for x in report.failures} == {"no known porting mistake matched"}
    assert "diagnosis: jax (float64), every failing leaf: no known porting mistake matched" in str(
        report
    )


def test_the_pages_legend_lists_a_port_checks_statuses_only(tmp_path):
    report = port.compare({"torch": torch_fn, "jax": jax_fn}, W, X)
    page = (report.write(tmp_path, ("html",)) / "agreement.html").read_text()

    class Legend(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.inside = False
            self.items: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag == "p" and dict(attrs).get("class") == "legend":
                self.inside = True

        def handle_endtag(self, tag):
            if tag == "p":
                self.inside = False

        def handle_data(self, data):
            if self.inside and data.strip():
                self.items.append(data.strip())

    legend = Legend()
    legend.feed(page)
    assert legend.items == [
        "pass",
        "fail",
        "nan or inf in other places",
        "error",
        "unverified (nothing to judge it by)",
    ]


def test_none_in_a_command_line_layout_leaves_the_path_as_it_is():
    layout = read_layout(["jax:b=None", "jax:*=transpose"])
    assert layout == {"jax": {"b": None, "*": "transpose"}}

    def jax_t(p, x):
        return jnp.tanh(x @ p["w"].T + p["b"]).sum()

    report = port.compare({"torch": torch_fn, "jax": jax_t}, W, X, layout=layout)
    assert report.passed, report.table(only_failing=True)


def test_parameters_of_mixed_dtypes_are_noted():
    mixed = {"w": W["w"], "b": W["b"].astype("float32")}
    report = port.compare({"torch": torch_fn, "jax": jax_fn}, mixed, X)
    assert report.dtypes == ["float64"]
    assert any("b (float32) checked in float64" in n for n in report.notes), report.notes
    assert "b (float32) checked in float64" in str(report)
    same = port.compare({"torch": torch_fn, "jax": jax_fn}, mixed, X, dtypes="float32")
    assert same.notes == []


def test_a_mean_over_an_outputs_elements_is_named_on_every_leaf():
    # x (4, 3) @ w (3, 2): a mean over the output's 8 elements, no input's size; the value and
    # the 2-element b said "no known porting mistake matched" while w said "times 8"
    def torch_mean(p, x):
        return torch.tanh(x @ p["w"] + p["b"]).mean()

    report = port.compare({"torch": torch_mean, "jax": jax_fn}, W, X)
    assert not report.passed
    said = {x.diagnosis for x in report.failures}
    assert said == {
        "scale: jax is 8 times torch: a sum where torch takes a mean over 8 elements (an "
        "output's or an intermediate's)"
    }, said
