"""Tests of `explain`: the backward pass as a step-by-step report, checked against the
hand-worked two-layer sigmoid network of the step-by-step backpropagation tutorial."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autodiff
import nn
import nn.worked_example
from autodiff import Value, primitive
from autodiff.explain import Explanation, format_number
from autodiff.viz import explain


def named(value: Value, name: str) -> Value:
    value.name = name
    return value


def worked_example() -> dict[str, Value]:
    """Inputs 0.05, 0.10; hidden weights 0.15..0.30, bias 0.35; output weights 0.40..0.55,
    bias 0.60; sigmoid everywhere; targets 0.01, 0.99; E = Σ ½(target − out)²."""
    v = {name: Value(x, name=name) for name, x in [
        ("i1", 0.05), ("i2", 0.10), ("w1", 0.15), ("w2", 0.20), ("w3", 0.25), ("w4", 0.30),
        ("w5", 0.40), ("w6", 0.45), ("w7", 0.50), ("w8", 0.55), ("b1", 0.35), ("b2", 0.60),
    ]}
    v["net_h1"] = named(v["w1"] * v["i1"] + v["w2"] * v["i2"] + v["b1"], "net_h1")
    v["out_h1"] = named(v["net_h1"].sigmoid(), "out_h1")
    v["net_h2"] = named(v["w3"] * v["i1"] + v["w4"] * v["i2"] + v["b1"], "net_h2")
    v["out_h2"] = named(v["net_h2"].sigmoid(), "out_h2")
    v["net_o1"] = named(v["w5"] * v["out_h1"] + v["w6"] * v["out_h2"] + v["b2"], "net_o1")
    v["out_o1"] = named(v["net_o1"].sigmoid(), "out_o1")
    v["net_o2"] = named(v["w7"] * v["out_h1"] + v["w8"] * v["out_h2"] + v["b2"], "net_o2")
    v["out_o2"] = named(v["net_o2"].sigmoid(), "out_o2")
    v["E_o1"] = named(0.5 * (0.01 - v["out_o1"]) ** 2, "E_o1")
    v["E_o2"] = named(0.5 * (0.99 - v["out_o2"]) ** 2, "E_o2")
    v["E_total"] = named(v["E_o1"] + v["E_o2"], "E_total")
    return v


def blocks(report: str) -> dict[str, list[str]]:
    """The report's paragraphs, keyed by the Value each one is about."""
    found = {}
    for paragraph in report.strip().split("\n\n")[1:]:
        lines = paragraph.splitlines()
        found[re.split(r"[ :]", lines[0], maxsplit=1)[0]] = lines
    return found


def last_number(line: str) -> float:
    return float(line.rsplit(" = ", 1)[1])


# --------------------------------------------------------------------------- the tutorial


def test_from_the_output_down_to_w5_reads_like_the_hand_worked_example():
    v = worked_example()
    report = explain(v["E_total"], wrt="w5")
    paragraphs = blocks(report)
    assert list(paragraphs) == ["E_total", "E_o1", "out_o1", "net_o1", "w5"]

    out_o1 = paragraphs["out_o1"]
    assert out_o1[0] == "out_o1 = 0.75136507   (made by sigmoid)"
    assert out_o1[-1] == ("  ∂E_total/∂out_o1 = ∂E_total/∂E_o1 × ∂E_o1/∂out_o1 = 1 × 0.74136507"
                          " = 0.74136507")

    net_o1 = paragraphs["net_o1"]
    assert "  ∂out_o1/∂net_o1 = 0.186815602   (local derivative of sigmoid)" in net_o1
    assert net_o1[-1].endswith("= 0.74136507 × 0.186815602 = 0.138498562")

    w5 = paragraphs["w5"]
    assert w5[0] == "w5 = 0.4   (leaf)"
    assert w5[1].startswith("  ∂net_o1/∂w5 = 0.593269992   (local derivative of multiply")
    assert w5[-1] == ("  ∂E_total/∂w5 = ∂E_total/∂net_o1 × ∂net_o1/∂w5"
                      " = 0.138498562 × 0.593269992 = 0.082167041")
    assert w5[-1].endswith("0.082167041")


def test_a_run_of_unnamed_operations_is_one_step_with_its_operations_listed():
    v = worked_example()
    paragraphs = blocks(explain(v["E_total"], wrt="w5"))
    # E_o1 = 0.5 * (0.01 - out_o1) ** 2: three primitives, one local derivative −(t − out)
    assert ("  ∂E_o1/∂out_o1 = 0.74136507   (local derivative of subtract → power → multiply)"
            in paragraphs["out_o1"])


def test_the_whole_report_has_the_tutorials_figures_and_engine_gradients():
    v = worked_example()
    report = explain(v["E_total"])
    paragraphs = blocks(report)
    assert set(paragraphs) == set(v)  # every named Value, nothing else
    order = list(paragraphs)
    assert order[0] == "E_total"
    assert order.index("out_o1") < order.index("net_o1") < order.index("out_h1")
    assert order.index("out_h1") < order.index("net_h1") < order.index("w1")
    assert report.startswith("Backward pass of E_total = 0.298371109")

    # the published hidden-layer figures
    out_h1 = paragraphs["out_h1"]
    assert "  ∂net_o1/∂out_h1 = 0.4   (local derivative of multiply → add → add)" in out_h1
    assert "  ∂net_o2/∂out_h1 = 0.5   (local derivative of multiply → add → add)" in out_h1
    assert out_h1[-1].endswith(
        "= 0.138498562 × 0.4 + (-0.038098237) × 0.5 = 0.036350306")
    assert "  ∂out_h1/∂net_h1 = 0.241300709   (local derivative of sigmoid)" in paragraphs[
        "net_h1"]
    assert last_number(paragraphs["w1"][-1]) == pytest.approx(0.000438568, abs=5e-10)

    # every gradient line agrees with the engine's own backward pass, to the printed digits
    v["E_total"].backward()
    for name, value in v.items():
        if name != "E_total":
            printed = last_number(paragraphs[name][-1])
            assert printed == pytest.approx(value.grad, rel=5e-9, abs=6e-10), name


def test_explain_computes_gradients_itself_and_leaves_grad_alone():
    v = worked_example()
    report = explain(v["E_total"], wrt="w5")
    assert all(value.grad is None for value in v.values())
    v["E_total"].backward()
    v["E_total"].backward()  # leaves now hold twice the gradient
    assert v["w5"].grad == pytest.approx(2 * 0.082167041, abs=1e-9)
    assert explain(v["E_total"], wrt="w5") == report  # one backward pass, whatever .grad says
    assert v["w5"].grad == pytest.approx(2 * 0.082167041, abs=1e-9)


def test_wrt_accepts_values_and_lists_and_keeps_only_the_paths_to_them():
    v = worked_example()
    by_value = explain(v["E_total"], wrt=v["w5"])
    assert by_value.splitlines()[2:] == explain(v["E_total"], wrt="w5").splitlines()[2:]
    both = blocks(explain(v["E_total"], wrt=["w5", v["w8"]]))
    assert set(both) == {"E_total", "E_o1", "E_o2", "out_o1", "out_o2", "net_o1", "net_o2",
                         "w5", "w8"}
    to_w1 = blocks(explain(v["E_total"], wrt="w1"))
    assert {"out_h1", "net_h1", "w1", "out_o1", "out_o2"} <= set(to_w1)
    assert not {"w2", "w5", "out_h2", "net_h2", "b1"} & set(to_w1)


def test_wrt_errors_name_what_is_wrong():
    v = worked_example()
    with pytest.raises(ValueError, match=r"no Value named 'w9'.*w5"):
        explain(v["E_total"], wrt="w9")
    with pytest.raises(ValueError, match="not in the graph"):
        explain(v["E_total"], wrt=Value(1.0))
    with pytest.raises(TypeError, match="wrt"):
        explain(v["E_total"], wrt=3)


# --------------------------------------------------------------------------- other graphs


def test_without_names_every_operation_is_a_step():
    x, y = Value(2.0), Value(3.0)
    f = x * y + x.sin()
    report = explain(f)
    paragraphs = blocks(report)
    assert list(paragraphs) == ["v5", "v4", "v3", "v2", "v1"]  # creation order reversed
    assert "Unnamed intermediate" not in report
    v1 = paragraphs["v1"]  # x: used by multiply (v3) and sin (v4)
    assert "  ∂v3/∂v1 = 3   (local derivative of multiply)" in v1
    assert f"  ∂v4/∂v1 = {format_number(np.cos(2.0))}   (local derivative of sin)" in v1
    assert last_number(v1[-1]) == pytest.approx(3 + np.cos(2.0), rel=1e-9)


def test_naming_only_parameters_keeps_every_operation_a_step():
    model = nn.MLP(2, [4, 2], activation="tanh", rng=0)
    features, labels = nn.data.make_moons(8, noise=0.1, rng=0)
    loss = nn.cross_entropy(model(features), labels)
    report = explain(loss)
    paragraphs = blocks(report)
    parameters = dict(model.named_parameters())
    assert set(parameters) <= set(paragraphs)
    assert "Unnamed intermediate" not in report
    loss.backward()
    for name, parameter in parameters.items():
        norm = format_number(np.linalg.norm(parameter.grad))
        assert paragraphs[name][-1].endswith(f"× J = [{parameter.shape} ‖·‖ {norm}]"), name
    ops = " ".join(line for lines in paragraphs.values() for line in lines)
    assert "product of tanh" in ops and "cross_entropy" in ops


def test_explain_reads_the_projects_own_worked_example():
    values = nn.worked_example.scalar_network()
    paragraphs = blocks(explain(values["E_total"], wrt="w5"))
    assert paragraphs["w5"][-1].endswith("= 0.138498562 × 0.593269992 = 0.082167041")
    assert "  ∂out_o1/∂net_o1 = 0.186815602   (local derivative of sigmoid)" in paragraphs[
        "net_o1"]


def test_long_unnamed_runs_are_one_step_and_need_no_recursion():
    x = Value(1.0, name="x")
    y = x
    for _ in range(1500):
        y = y * 1.0001
    named(y, "h")
    for _ in range(1500):
        y = y * 1.0001
    out = named(y, "out")
    paragraphs = blocks(explain(out))
    assert list(paragraphs) == ["out", "h", "x"]
    assert paragraphs["h"][1] == (f"  ∂out/∂h = {format_number(1.0001 ** 1500)}   "
                                  f"(local derivative of multiply (1500 times))")
    assert last_number(paragraphs["x"][-1]) == pytest.approx(1.0001 ** 3000, rel=1e-8)


def test_many_different_operations_are_listed_shortened():
    x = Value(0.5, name="x")
    y = named(x * 1.0, "m")
    for _ in range(3):
        y = y.sin().exp().tanh()
    paragraphs = blocks(explain(named(y, "y")))
    assert paragraphs["m"][1].endswith(
        "(local derivative of sin → exp → tanh → … 9 operations in all … → sin → exp → tanh)")


def test_local_derivatives_come_from_the_primitives_vjp_rule():
    @primitive
    def cube(x):
        return x ** 3

    cube.defvjp(lambda g, out, x: g * 42.0)  # deliberately not 3x²: the report must show it
    x = Value(2.0, name="x")
    y = named(cube(x), "y")
    paragraphs = blocks(explain(y))
    assert paragraphs["x"][1] == "  ∂y/∂x = 42   (local derivative of cube)"
    assert paragraphs["x"][-1] == "  ∂y/∂x = ∂y/∂y × ∂y/∂x = 1 × 42 = 42"


def test_tensor_graphs_show_shapes_and_norms_not_elements():
    rng = np.random.default_rng(1)
    x = Value(rng.normal(size=(5, 3)), requires_grad=False, name="x")
    w = Value(rng.normal(size=(3, 2)), name="W")
    h = named((x @ w).tanh(), "h")
    loss = named((h * h).sum(), "loss")
    report = explain(loss)
    paragraphs = blocks(report)
    assert list(paragraphs) == ["loss", "h", "W"]
    loss.backward()
    h_norm = format_number(np.linalg.norm(2 * h.data))
    w_norm = format_number(np.linalg.norm(w.grad))
    assert paragraphs["h"][0].startswith(f"h: shape (5, 2) float64, ‖·‖ "
                                         f"{format_number(np.linalg.norm(h.data))}")
    assert paragraphs["h"][-1].endswith(f"= 1 × [(5, 2) ‖·‖ {h_norm}] = [(5, 2) ‖·‖ {h_norm}]")
    assert paragraphs["W"][1] == "  ∂h/∂W: vector-Jacobian product of matmul → tanh"
    assert paragraphs["W"][-1] == (f"  ∂loss/∂W = ∂loss/∂h × ∂h/∂W = [(5, 2) ‖·‖ {h_norm}] × J"
                                   f" = [(3, 2) ‖·‖ {w_norm}]")
    assert "[[" not in report  # no array printed element by element


def test_zero_gradients_are_shown_as_zero():
    x = Value(np.array([1.0, -2.0]), name="x")
    y = named(autodiff.maximum(x, 5.0).sum(), "y")  # both below 5: the gradient is 0
    expected = "  ∂y/∂x = ∂y/∂v2 × ∂v2/∂x = [(2,) ‖·‖ 1.414213562] × J = [(2,) ‖·‖ 0]"
    assert blocks(explain(y))["x"][-1] == expected
    z = Value(2.0, name="z")
    gated = named(autodiff.where(np.array(False), z * 1.0, 1.0), "gated")
    paragraphs = blocks(explain(gated))
    assert paragraphs["v2"][-1] == "  ∂gated/∂v2 = ∂gated/∂gated × ∂gated/∂v2 = 1 × 0 = 0"
    assert paragraphs["z"][-1] == "  ∂gated/∂z = ∂gated/∂v2 × ∂v2/∂z = 0 × 1 = 0"


def test_an_input_whose_rule_gives_no_gradient_says_so():
    @primitive
    def scaled(x, factor):
        return x * factor

    scaled.defvjp(lambda g, out, x, factor: g * factor, None)  # factor: not differentiable
    x, factor = Value(3.0, name="x"), Value(2.0, name="factor")
    y = named(scaled(x, factor), "y")
    paragraphs = blocks(explain(y))
    assert paragraphs["x"][-1] == "  ∂y/∂x = ∂y/∂y × ∂y/∂x = 1 × 2 = 2"
    assert paragraphs["factor"] == ["factor = 2   (leaf)",
                                    "  ∂y/∂factor: no gradient reaches this Value"]


def test_bad_roots_are_refused():
    with pytest.raises(ValueError, match=r"one element.*shape \(3,\)"):
        explain(Value(np.ones(3)) * 2.0)
    with pytest.raises(ValueError, match="does not require grad"):
        explain(Value(1.0, requires_grad=False) * 2.0)
    with pytest.raises(TypeError, match="autodiff Value"):
        explain(1.0)
    with pytest.raises(ValueError, match="digits"):
        explain(Value(1.0) * 2.0, digits=0)


# --------------------------------------------------------------------------- presentation


def test_the_report_is_a_string_that_notebooks_show_as_math():
    v = worked_example()
    report = explain(v["E_total"], wrt="w5")
    assert isinstance(report, str) and isinstance(report, Explanation)
    markdown = report._repr_markdown_()
    assert markdown == report.markdown and r"\frac{\partial" in markdown
    assert markdown.count("\n\n") == str(report).count("\n\n")  # one paragraph per step
    assert repr(report) == str(report)
    assert Explanation("plain")._repr_markdown_() == "```text\nplain\n```"


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (0.08216704056423078, "0.082167041"),
        (0.7413650695523157, "0.74136507"),
        (-0.03809823651803844, "-0.038098237"),
        (1.0, "1"),
        (0.0, "0"),
        (0.000438567734, "0.000438567734"),
        (1.2345678912e-7, "1.23456789e-07"),
        (123456789.0, "1.23456789e+08"),
        (float("inf"), "inf"),
    ],
)
def test_format_number(x, text):
    assert format_number(x) == text


def test_digits_sets_the_precision():
    v = worked_example()
    report = explain(v["E_total"], wrt="w5", digits=4)
    assert blocks(report)["w5"][-1].endswith("= 0.1385 × 0.5933 = 0.0822")
