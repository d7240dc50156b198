"""Notebook display: a Value as an HTML card, `explain` as formatted math, `draw` scaled to
the cell; and the notebook docs/first-hour.ipynb executed from top to bottom."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import requires_dot
from nbclient import NotebookClient

import autodiff
import nn.worked_example
from autodiff import Value
from autodiff.display import MAX_ELEMENTS, summary
from autodiff.viz import fit_to_width

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "first-hour.ipynb"


# --------------------------------------------------------------------------- Value


def test_a_value_shows_its_name_shape_dtype_data_gradient_and_operation():
    w = Value(np.array([[1.5, -2.0]], dtype=np.float32), name="w")
    y = (w * 3).sum()
    y.backward()
    card = w._repr_html_()
    for text in ("<b>w</b>", "shape (1, 2)", "float32", "leaf", "[[ 1.5, -2. ]]",
                 "[[3., 3.]]"):
        assert text in card, text
    result = y._repr_html_()
    assert "made by <b>sum</b>" in result and "scalar" in result and "-1.5" in result
    assert "grad" in result and ">1.<" in result


def test_a_value_without_gradient_or_requiring_none():
    assert ">None<" in Value(2.0)._repr_html_()
    constant = Value(np.ones(2), requires_grad=False)._repr_html_()
    assert "constant (requires_grad=False)" in constant and "None (constant)" in constant


def test_the_display_is_html_escaped():
    card = Value(1.0, name="<script>alert('x')</script>")._repr_html_()
    assert "<script>" not in card and "&lt;script&gt;" in card


def test_big_arrays_are_summarised():
    v = Value(np.arange(10_000.0).reshape(100, 100), name="big")
    (v * 2).sum().backward()
    card = v._repr_html_()
    assert len(card) < 3000
    assert "..." in card and "min 0, mean 4999.5, max 9999" in card and "norm" in card
    assert summary(np.ones(MAX_ELEMENTS)).count("1.") == MAX_ELEMENTS
    assert "norm" not in summary(np.ones(MAX_ELEMENTS))
    assert "min |·|" in summary(np.full(MAX_ELEMENTS + 1, 1j))


def test_a_gradient_kept_as_a_value_is_shown():
    x = Value(3.0)
    (x ** 3).backward(create_graph=True)
    assert "Value of shape ()" in x._repr_html_()
    x.grad = None


# --------------------------------------------------------------------------- explain


def test_explain_displays_as_math_and_is_still_the_text():
    values = nn.worked_example.scalar_network()
    report = autodiff.explain(values["E_total"], wrt="w5")
    assert "∂E_total/∂w5 = ∂E_total/∂net_o1 × ∂net_o1/∂w5" in report  # the text, unchanged
    math = report._repr_markdown_()
    assert r"\frac{\partial \mathit{E}_{\mathit{total}}}{\partial \mathit{w5}}" in math
    assert "0.138498562 \\times 0.593269992 = 0.082167041$" in math
    assert math.count("$") % 2 == 0 and "(leaf)" in math


def test_explain_math_of_arrays_small_numbers_and_odd_names():
    x = Value(np.array([1.0, 2.0]), name="x^{1}")
    y = (x * 1e-8).sum()
    math = autodiff.explain(y)._repr_markdown_()
    assert r"x\wedge{}\{1\}" in math and r"\times 10^{-8}" in math
    assert r"\lVert\cdot\rVert" in math and "vector-Jacobian product" in math


# --------------------------------------------------------------------------- draw


def test_svg_fits_the_cell_when_wide():
    assert fit_to_width('<?xml?><svg width="900pt" viewBox="0 0 900 10">') == (
        '<?xml?><svg width="900pt" viewBox="0 0 900 10" style="max-width: 100%; height: auto;">')
    assert fit_to_width('<svg style="color: red">') == (
        '<svg style="max-width: 100%; height: auto; color: red">')


@requires_dot
def test_a_drawn_graph_shows_scaled_to_the_cell():
    x = Value(np.ones(3), name="x")
    bundle = autodiff.draw((x * 2).sum())._repr_mimebundle_()
    svg = bundle["image/svg+xml"]
    tag = re.search(r"<svg\b[^>]*>", svg).group(0)
    assert 'style="max-width: 100%; height: auto;"' in tag and "viewBox" in tag


# --------------------------------------------------------------------------- the notebook


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    folder = tmp_path_factory.mktemp("notebook")
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


def _outputs(notebook):
    return [output for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.get("outputs", [])]


@requires_dot
def test_the_notebook_runs_without_errors(executed):
    errors = [o for o in _outputs(executed) if o.output_type == "error"]
    assert not errors, "\n".join(f"{o.ename}: {o.evalue}" for o in errors)
    assert not [o for o in _outputs(executed) if o.get("name") == "stderr"]


@requires_dot
def test_the_notebook_shows_the_rich_displays(executed):
    data = [o.get("data", {}) for o in _outputs(executed)]
    cards = [d["text/html"] for d in data if "text/html" in d]
    assert any('class="autodiff-value"' in card and "<b>a</b>" in card for card in cards)
    assert any("made by <b>sum</b>" in card for card in cards)
    maths = [d["text/markdown"] for d in data if "text/markdown" in d]
    assert any(r"\frac{\partial" in m and "0.082167041" in m for m in maths)
    svgs = [d["image/svg+xml"] for d in data if "image/svg+xml" in d]
    assert svgs and "max-width: 100%" in svgs[0]
    text = "".join(o.get("text", "") for o in _outputs(executed))
    assert "Value(0.99999997)" in text and "training accuracy" in text
