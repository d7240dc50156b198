"""Regressions of the inspection tools: each test here failed on `explain`, `draw`,
`walkthrough` or the notebook card before the inspection review was closed.

The tools must never change the engine's state (a silent wrong gradient later) and must
print only true numbers, whatever the data (complex, huge, tiny) or the names.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import requires_dot

import autodiff
from autodiff import Value
from autodiff.display import summary
from autodiff.explain import backward_steps


def _walkthrough(root, **options):
    return autodiff.walkthrough(root, **options)


TOOLS = [
    pytest.param(autodiff.explain, id="explain"),
    pytest.param(backward_steps, id="backward_steps"),
    pytest.param(_walkthrough, id="walkthrough", marks=requires_dot),
]


# --------------------------------------------------------------------------- 1. leaf guards


@pytest.mark.parametrize("tool", TOOLS)
def test_inspecting_a_pending_graph_keeps_its_leaf_arrays_read_only(tool):
    """The tools' inner backward passes made every leaf array writeable again, so a raw
    write after explain/walkthrough was accepted and the later backward was silently wrong."""
    a = np.array([1.0, 2.0, 3.0])
    x = Value(a, name="x")
    y = (x * x).sum()
    other = np.array([4.0, 5.0])  # a leaf of another graph that also waits for backward
    pending = (Value(other) * 2.0).sum()
    assert not a.flags.writeable and not other.flags.writeable
    tool(y)
    assert not a.flags.writeable and not other.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        a[0] = 100.0
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])
    assert a.flags.writeable  # backward itself still hands the array back
    pending.backward()
    assert other.flags.writeable


# --------------------------------------------------------------------------- 2. complex data


def test_explain_norms_of_complex_arrays_count_the_imaginary_parts():
    """‖·‖ of complex data was taken of the real parts only (‖z‖ 3 for [3+4j, 1j])."""
    z = Value(np.array([3 + 4j, 1j]), name="z")
    y = abs(z).sum()
    report = autodiff.explain(y)
    assert "z: shape (2,) complex128, ‖·‖ 5.099019514" in report
    assert report.rstrip().endswith("= [(2,) ‖·‖ 1.414213562]")  # ‖∂y/∂z‖ = ‖z/|z|‖
    assert "0.6]" not in report


def test_draw_summarises_complex_arrays_by_their_magnitudes_and_says_so():
    """draw's min/mean/max of complex data were those of the real parts, unlabelled."""
    z = Value(np.array([3 + 4j, 1j]), name="z")
    y = abs(z).sum()
    y.backward()
    source = autodiff.draw(y).source
    assert "data |·| min 1, mean 3, max 5" in source
    assert "grad |·| min 1, mean 1, max 1" in source


@requires_dot
def test_walkthrough_boxes_summarise_complex_arrays_by_their_magnitudes():
    """The page's boxes gave ‖·‖, min and max of the real parts of complex data."""
    z = Value(np.array([3 + 4j, 1j]), name="z")
    page = autodiff.walkthrough(abs(z).sum())
    box = next(v for v in json.loads(_script(page.html, "graph-data"))["values"].values()
               if v["label"] == "z")
    assert box["data"] == "data ‖·‖ 5.099, |·| min 1, max 5"


@pytest.mark.parametrize("tool", [
    pytest.param(lambda root: str(autodiff.explain(root)), id="explain"),
    pytest.param(lambda root: autodiff.draw(root).source, id="draw"),
    pytest.param(lambda root: autodiff.walkthrough(root, forward=True).html, id="walkthrough",
                 marks=requires_dot),
])
def test_one_element_complex_values_print_as_complex_numbers(tool):
    """A one-element complex Value crashed the tools: float() of a complex number."""
    w = Value(1 + 2j, name="w")
    assert "1+2j" in tool(abs(w))


@pytest.mark.parametrize("function", [
    pytest.param(lambda w: abs(w * w), id="holomorphic"),
    pytest.param(lambda w: abs(w.conj() * w + w * 2.0), id="with-conj"),
])
def test_explain_through_a_complex_intermediate_agrees_with_backward(function):
    """A one-element complex intermediate stopped explain: its inner backward ran without a
    seed ("backward() without grad needs a real output")."""
    w = Value(1 + 2j, name="w")
    y = function(w)
    trace = backward_steps(y)
    report = autodiff.explain(y)
    y.backward()
    for step in trace.steps:
        if step.node._op is None:
            np.testing.assert_allclose(step.gradient, step.node.grad, rtol=1e-12)
        for term in step.terms:  # every local derivative shown makes a true product
            if term.local is not None:
                np.testing.assert_allclose(term.upstream * term.local, term.value, rtol=1e-9)
    last = report.rstrip().rsplit(" = ", 1)[1]
    assert complex(last) == pytest.approx(complex(w.grad), rel=1e-8)


def test_explain_reports_pytorchs_local_derivative_of_a_holomorphic_step():
    """explain(abs(w * w)) raised; the local derivative of w·w must be conj(2w), PyTorch's."""
    w = Value(1 + 2j, name="w")
    report = autodiff.explain(abs(w * w))
    assert "∂v2/∂w = 2-4j   (local derivative of multiply)" in report
    assert "= (-0.6+0.8j) × (2-4j) = 2+4j" in report


# --------------------------------------------------------------------------- 3. Value gradients


def test_draw_shows_gradients_kept_as_values():
    """After backward(create_graph=True) (or with grads= holding a Value) draw raised
    TypeError: a numpy array was requested from a Value that requires grad."""
    x = Value(3.0, name="x")
    y = x ** 3
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert "grad 27" in autodiff.draw(y).source
    assert "grad 27" in autodiff.draw(y, color_by="grad").source
    autodiff.draw(x.grad)
    assert "grad 2<" in autodiff.draw(y, grads={x: Value(2.0)}).source


# --------------------------------------------------------------------------- 4. formulas


def _evaluate(text, names):
    """A printed formula as Python computes it: × − ² ³ in their Python spelling."""
    for shown, python in (("×", "*"), ("−", "-"), ("²", "**2"), ("³", "**3")):
        text = text.replace(shown, python)
    return eval(text, {"sum": np.sum}, names)  # (a formula this test made the page print)


FORMULAS = {
    "x ** (a + b)": lambda v: v["x"] ** (v["a"] + v["b"]),
    "x ** (a × b)": lambda v: v["x"] ** (v["a"] * v["b"]),
    "x ** (a / b)": lambda v: v["x"] ** (v["a"] / v["b"]),
    "sum(u × (A @ p))": lambda v: (v["u"] * (v["A"] @ v["p"])).sum(),
    "sum(A @ (p × u))": lambda v: (v["A"] @ (v["p"] * v["u"])).sum(),
}


@requires_dot
@pytest.mark.parametrize("formula", FORMULAS)
def test_forward_formulas_keep_the_parentheses_their_arithmetic_needs(formula):
    """Operands were printed without needed parentheses (`x ** a + b` for x ** (a + b),
    `u × A @ v` for u × (A @ v)), so the arithmetic on the page was false."""
    values = {"x": Value(2.0, name="x"), "a": Value(3.0, name="a"), "b": Value(0.5, name="b"),
              "u": Value(np.array([1.0, 2.0]), name="u"),
              "A": Value(np.array([[1.0, 2.0], [3.0, 4.0]]), name="A"),
              "p": Value(np.array([0.5, -1.0]), name="p")}
    y = FORMULAS[formula](values)
    y.name = "y"
    z = y * 1.0
    z.name = "z"
    page = autodiff.walkthrough(z, forward=True)
    lines = page.steps[page.step_of("y", "forward")]["lines"]
    assert lines[0] == f"y = {formula}"
    data = {name: value.data for name, value in values.items()}
    assert _evaluate(lines[0].split(" = ", 1)[1], data) == pytest.approx(y.data, rel=1e-12)
    if len(lines) == 3:  # the numbers line of one-element operands
        assert _evaluate(lines[1].split(" = ", 1)[1], {}) == pytest.approx(y.data, rel=1e-8)


# --------------------------------------------------------------------------- 5. placeholders


def _script(page, element_id):
    return re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>',
                     page, flags=re.S)[1]


@requires_dot
@pytest.mark.parametrize("name", ["%SVG%", "%DATA%", "%STEPS%", "%LAST%", "%COUNT%"])
def test_the_page_puts_in_a_name_that_looks_like_a_placeholder_as_it_is(name):
    """The page was filled by chained str.replace, so a Value named "%SVG%" pasted the graph
    into <title> and <h1> and one named "%DATA%" made the steps' JSON unparseable."""
    x = Value(2.0, name="x")
    y = x * x
    y.name = name
    page = autodiff.walkthrough(y)
    text = page.html
    assert text.count('id="graph-svg"') == 1
    assert re.search(r"<title>(.*?)</title>", text)[1] == \
        f"Backpropagation step by step: {html.escape(name)}"
    assert json.loads(_script(text, "steps")) == page.steps
    assert json.loads(_script(text, "graph-data"))["root"] == name
    assert f'max="{len(page) - 1}"' in text and f"step 1 of {len(page)}<" in text


# --------------------------------------------------------------------------- 6. DOT text


@requires_dot
@pytest.mark.parametrize("control", ["\n", "\r", "\x00"], ids=["newline", "return", "nul"])
def test_names_with_control_characters_make_valid_dot(control):
    """A name with a newline ended the DOT comment line early (a bare line: `dot` failed, and
    walkthrough raised CalledProcessError); carriage returns and NUL were written as they are."""
    x = Value(np.array([1.0, 2.0]), name=f"layer{control}1.w{control}x")
    y = (x * 2.0).sum()
    y.name = f"loss{control}(batch 1)"
    source = autodiff.draw(y).source
    assert "\r" not in source and "\x00" not in source
    assert source.splitlines()[0].startswith("// computation graph of loss")
    assert source.splitlines()[1].startswith("digraph ")
    dot = shutil.which("dot")
    assert dot is not None, "Graphviz's dot is needed here (CI installs it)"
    result = subprocess.run([dot, "-Tsvg"], input=source.encode(), capture_output=True,
                            check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stderr == b""
    autodiff.walkthrough(y)


# --------------------------------------------------------------------------- 7. range


def test_explain_norms_neither_overflow_nor_underflow():
    """‖x‖ of [1e200, 1e200] was inf and the norm of its gradient [1e-200, 1e-200] was 0."""
    x = Value(np.array([1e200, 1e200]), name="x")
    report = autodiff.explain((x * 1e-200).sum())
    assert "x: shape (2,) float64, ‖·‖ 1.41421356e+200" in report
    assert report.rstrip().endswith("= [(2,) ‖·‖ 1.41421356e-200]")


def test_draw_mean_of_huge_numbers_does_not_overflow():
    """draw gave mean inf for [1e308, 1e308], whose mean is 1e308."""
    x = Value(np.array([1e308, 1e308]), name="x")
    assert "data min 1e+308, mean 1e+308, max 1e+308" in autodiff.draw(x).source


def test_the_notebook_card_norm_and_mean_do_not_overflow():
    """The card's norm of 200 × 1e200 was inf (true 1.41e201), its mean of 1e308s inf."""
    assert "norm 1.41421e+201" in summary(np.full(200, 1e200))
    assert "mean 1e+308" in summary(np.full(200, 1e308))
    assert "norm 1.41421e-199" in summary(np.full(200, 1e-200))


# --------------------------------------------------------------------------- 8. arguments


@pytest.mark.parametrize("tool, name", [
    pytest.param(autodiff.explain, "explain", id="explain"),
    pytest.param(_walkthrough, "walkthrough", id="walkthrough", marks=requires_dot),
])
def test_an_empty_wrt_is_refused(tool, name):
    """wrt=[] gave an empty report, and a page of 0 steps whose script read steps[0]."""
    x = Value(2.0, name="x")
    with pytest.raises(ValueError, match=rf"^{name}: wrt is empty"):
        tool(x * x, wrt=[])


def test_draw_refuses_grads_that_are_not_a_mapping():
    """grads=[1, 2] raised AttributeError: 'list' object has no attribute 'get'."""
    x = Value(np.ones(3), name="x")
    with pytest.raises(TypeError, match=r"^draw: grads must be a mapping.*got list"):
        autodiff.draw((x * x).sum(), grads=[1, 2])


def test_draw_refuses_a_gradient_of_the_wrong_shape():
    """A gradient of another shape than its Value's was drawn as if it were the gradient."""
    x = Value(np.ones(3), name="x")
    with pytest.raises(ValueError, match=r"^draw: .*x of shape \(3,\).*shape \(5,\)"):
        autodiff.draw((x * x).sum(), grads={x: np.ones(5)})



def test_explain_costs_the_graph_once_not_once_per_value(monkeypatch):
    """explain (and backward_steps, walkthrough, the notebook card) runs one small backward
    pass per Value, with the other shown Values as stops, and built a new set of them for
    each: quadratic, 22 s on a 20,000-operation chain. Every pass now shares the one set,
    and the engine uses a set of stops as it is."""
    explain_module = sys.modules["autodiff.explain"]

    stop_sets = []
    real_backprop = explain_module.backprop

    def recording(*args, **kwargs):
        if kwargs.get("stop_at") is not None:
            stop_sets.append(kwargs["stop_at"])
        return real_backprop(*args, **kwargs)

    monkeypatch.setattr(explain_module, "backprop", recording)
    x = Value(np.array([0.5, 1.5]))
    y = (x * 2.0).sin()
    steps = backward_steps((y * y).sum())
    assert len(stop_sets) >= 3 and all(s is stop_sets[0] for s in stop_sets)
    assert steps.steps[-1].node is x
    np.testing.assert_allclose(steps.gradients[x],
                               4 * np.sin(2 * x.data) * np.cos(2 * x.data))
