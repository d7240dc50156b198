"""The tutorial's worked example, with scalar Values and with nn, against its published figures.

Published (Mazur, "A Step by Step Backpropagation Example"): E_total = 0.298371109 before
the update; after one update with learning rate 0.5 (biases fixed) w5 = 0.35891648,
w6 = 0.408666186, w7 = 0.511301270, w8 = 0.561370121, w1 = 0.149780716,
w2 = 0.19956143, w3 = 0.24975114, w4 = 0.29950229.
"""

import numpy as np
import pytest

import nn
from nn import worked_example as example

UPDATED = {
    "w5": "0.35891648", "w6": "0.408666186", "w7": "0.511301270", "w8": "0.561370121",
    "w1": "0.149780716", "w2": "0.19956143", "w3": "0.24975114", "w4": "0.29950229",
}


def within_printed_precision(value, printed):
    decimals = len(printed.split(".")[1])
    return abs(value - float(printed)) <= 0.5 * 10.0**-decimals


def test_the_published_figures_are_those_of_the_issue():
    assert example.PUBLISHED["E_total"] == "0.298371109"
    for name, printed in UPDATED.items():
        assert example.PUBLISHED[name] == printed


def test_scalar_values_reproduce_the_tutorial():
    values, updated = example.scalar_update()
    assert within_printed_precision(values["E_total"].data, "0.298371109")
    for name, printed in UPDATED.items():
        assert within_printed_precision(updated[name], printed), (name, updated[name])


def test_nn_reproduces_the_tutorial():
    error, updated = example.nn_update()
    assert within_printed_precision(error, "0.298371109")
    for name, printed in UPDATED.items():
        assert within_printed_precision(updated[name], printed), (name, updated[name])


def test_scalar_and_nn_agree_to_rounding():
    values, scalar = example.scalar_update()
    error, vectorised = example.nn_update()
    assert error == pytest.approx(values["E_total"].data, abs=1e-15)
    for name in example.WEIGHT_NAMES:
        assert vectorised[name] == pytest.approx(scalar[name], abs=1e-15)


def test_every_published_intermediate_figure():
    values, updated = example.scalar_update()
    computed = {name: value.data for name, value in values.items()}
    computed.update({step.name: step.value for step in example.chain_rule_steps(values)})
    computed.update(updated)
    assert set(example.PUBLISHED) <= set(computed)
    for name, printed in example.PUBLISHED.items():
        assert within_printed_precision(computed[name], printed), (name, computed[name])
        assert example.matches_published(computed[name], printed)


def test_matches_published_can_say_no():
    assert example.matches_published(0.12345, "0.1235")
    assert not example.matches_published(0.12344, "0.1235")


def test_chain_rule_products_equal_reverse_accumulation():
    values, _ = example.scalar_update()
    steps = {step.name: step.value for step in example.chain_rule_steps(values)}
    assert steps["dE_total/dw5"] == pytest.approx(values["w5"].grad, rel=1e-14)
    assert steps["dE_total/dw1"] == pytest.approx(values["w1"].grad, rel=1e-14)
    assert steps["dE_total/dw5"] == pytest.approx(
        steps["dE_total/dout_o1"] * steps["dout_o1/dnet_o1"] * steps["dnet_o1/dw5"]
    )


def test_scalar_graph_is_named_like_the_tutorial():
    values = example.scalar_network()
    for name, value in values.items():
        assert value.name == name
    for name in ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"):
        assert values[name].is_leaf and values[name].requires_grad
    for name in ("i1", "i2", "b1", "b2", "target_o1", "target_o2"):
        assert not values[name].requires_grad
    assert values["out_h1"].op == "sigmoid" and values["out_h1"].inputs == (values["net_h1"],)
    assert values["E_total"].op == "add"
    assert set(values["E_total"].inputs) == {values["E_o1"], values["E_o2"]}


def test_biases_are_held_fixed():
    values, _ = example.scalar_update()
    assert values["b1"].grad is None and values["b2"].grad is None
    model = example.nn_network()
    weights_before = model[0].W.data.copy()
    example.nn_update(model=model)
    assert model[0].b.grad is not None  # computed, but not applied
    np.testing.assert_array_equal(model[0].b.data, [0.35, 0.35])
    np.testing.assert_array_equal(model[2].b.data, [0.60, 0.60])
    assert not np.array_equal(model[0].W.data, weights_before)


def test_nn_network_layout():
    model = example.nn_network()
    assert isinstance(model, nn.Sequential)
    assert [name for name, _ in model.named_parameters()] == [
        "layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b"
    ]
    np.testing.assert_array_equal(model[0].W.data, [[0.15, 0.25], [0.20, 0.30]])
    np.testing.assert_array_equal(model[2].W.data, [[0.40, 0.50], [0.45, 0.55]])
    out = model(np.array([[0.05, 0.10]])).data
    assert within_printed_precision(out[0, 0], "0.75136507")
    assert within_printed_precision(out[0, 1], "0.772928465")
