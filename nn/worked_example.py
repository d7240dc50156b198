"""The worked example of Matt Mazur's "A Step by Step Backpropagation Example" (2015).

Two inputs, two sigmoid hidden neurons, two sigmoid outputs, squared error, one step of
gradient descent with learning rate 0.5 (the biases are held fixed):

    net_h1 = w1·i1 + w2·i2 + b1      out_h1 = σ(net_h1)      (h2: w3, w4)
    net_o1 = w5·out_h1 + w6·out_h2 + b2   out_o1 = σ(net_o1)   (o2: w7, w8)
    E_total = ½(target_o1 − out_o1)² + ½(target_o2 − out_o2)²

The same network is built twice: from scalar `Value`s named as in the tutorial
(`scalar_network`), so a drawn graph reads like it, and as an `nn.Sequential`
(`nn_network`). `PUBLISHED` holds the tutorial's figures exactly as printed there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import autodiff
from autodiff import Value

from .layers import Linear, Sequential, Sigmoid
from .losses import mse_loss
from .optim import SGD

__all__ = [
    "BIASES", "HIDDEN_WEIGHTS", "INPUTS", "LEARNING_RATE", "OUTPUT_WEIGHTS", "PUBLISHED",
    "TARGETS", "ChainRuleStep", "chain_rule_steps", "matches_published", "nn_network",
    "nn_update", "scalar_network", "scalar_update",
]

INPUTS = {"i1": 0.05, "i2": 0.10}
TARGETS = {"o1": 0.01, "o2": 0.99}
HIDDEN_WEIGHTS = {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30}
OUTPUT_WEIGHTS = {"w5": 0.40, "w6": 0.45, "w7": 0.50, "w8": 0.55}
BIASES = {"b1": 0.35, "b2": 0.60}
LEARNING_RATE = 0.5

# The tutorial's figures, as printed (the number of decimals is the precision to check).
PUBLISHED = {
    "net_h1": "0.3775",
    "out_h1": "0.593269992",
    "out_h2": "0.596884378",
    "net_o1": "1.105905967",
    "out_o1": "0.75136507",
    "out_o2": "0.772928465",
    "E_o1": "0.274811083",
    "E_o2": "0.023560026",
    "E_total": "0.298371109",
    "dE_total/dout_o1": "0.74136507",
    "dout_o1/dnet_o1": "0.186815602",
    "dE_total/dw5": "0.082167041",
    "dE_o1/dout_h1": "0.055399425",
    "dE_total/dout_h1": "0.036350306",
    "dout_h1/dnet_h1": "0.241300709",
    "dE_total/dw1": "0.000438568",
    # after one update
    "w5": "0.35891648",
    "w6": "0.408666186",
    "w7": "0.511301270",
    "w8": "0.561370121",
    "w1": "0.149780716",
    "w2": "0.19956143",
    "w3": "0.24975114",
    "w4": "0.29950229",
}

WEIGHT_NAMES = ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8")


def matches_published(value: float, printed: str) -> bool:
    """True if `value` rounds to `printed` at its number of decimals."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return abs(value - float(printed)) <= 0.5 * 10.0**-decimals * (1 + 1e-9)


def _named(value: Value, name: str) -> Value:
    value.name = name
    return value


def scalar_network() -> dict[str, Value]:
    """Build the forward graph from scalar Values; returns every named Value by name.

    Leaves: i1 i2 (inputs), w1..w8, b1 b2, target_o1 target_o2 (the last four and the
    inputs do not require grad). Nodes: net_h1 out_h1 net_h2 out_h2 net_o1 out_o1
    net_o2 out_o2 E_o1 E_o2 E_total.
    """
    v: dict[str, Value] = {}
    for name, number in INPUTS.items():
        v[name] = Value(number, requires_grad=False, name=name)
    for name, number in {**HIDDEN_WEIGHTS, **OUTPUT_WEIGHTS}.items():
        v[name] = Value(number, name=name)
    for name, number in BIASES.items():
        v[name] = Value(number, requires_grad=False, name=name)
    for name, number in TARGETS.items():
        v[f"target_{name}"] = Value(number, requires_grad=False, name=f"target_{name}")

    i1, i2 = v["i1"], v["i2"]
    v["net_h1"] = _named(v["w1"] * i1 + v["w2"] * i2 + v["b1"], "net_h1")
    v["out_h1"] = _named(autodiff.sigmoid(v["net_h1"]), "out_h1")
    v["net_h2"] = _named(v["w3"] * i1 + v["w4"] * i2 + v["b1"], "net_h2")
    v["out_h2"] = _named(autodiff.sigmoid(v["net_h2"]), "out_h2")
    h1, h2 = v["out_h1"], v["out_h2"]
    v["net_o1"] = _named(v["w5"] * h1 + v["w6"] * h2 + v["b2"], "net_o1")
    v["out_o1"] = _named(autodiff.sigmoid(v["net_o1"]), "out_o1")
    v["net_o2"] = _named(v["w7"] * h1 + v["w8"] * h2 + v["b2"], "net_o2")
    v["out_o2"] = _named(autodiff.sigmoid(v["net_o2"]), "out_o2")
    v["E_o1"] = _named(0.5 * (v["target_o1"] - v["out_o1"]) ** 2, "E_o1")
    v["E_o2"] = _named(0.5 * (v["target_o2"] - v["out_o2"]) ** 2, "E_o2")
    v["E_total"] = _named(v["E_o1"] + v["E_o2"], "E_total")
    return v


def scalar_update(lr: float = LEARNING_RATE) -> tuple[dict[str, Value], dict[str, float]]:
    """Forward, `E_total.backward()`, one gradient step on w1..w8 (biases fixed).

    Returns the graph (its weights' `.grad` filled in, data as before the step) and the
    updated weights by name. Every gradient is computed before any weight changes.
    """
    values = scalar_network()
    values["E_total"].backward()
    updated = {name: values[name].data - lr * values[name].grad for name in WEIGHT_NAMES}
    return values, updated


@dataclass
class ChainRuleStep:
    """One factor or product of the chain rule, named as in the tutorial."""

    name: str
    formula: str
    value: float


def chain_rule_steps(values: dict[str, Value]) -> list[ChainRuleStep]:
    """The tutorial's chain-rule products for w5 (output layer) and w1 (hidden layer).

    The factors come from the graph's data (σ′ = out(1 − out)); the products are checked
    against the gradients reverse accumulation left in `.grad`.
    """
    d = {name: value.data for name, value in values.items()}
    de_dout_o1 = d["out_o1"] - d["target_o1"]
    dout_dnet_o1 = d["out_o1"] * (1 - d["out_o1"])
    de_dout_o2 = d["out_o2"] - d["target_o2"]
    dout_dnet_o2 = d["out_o2"] * (1 - d["out_o2"])
    de_o1_dout_h1 = de_dout_o1 * dout_dnet_o1 * d["w5"]
    de_o2_dout_h1 = de_dout_o2 * dout_dnet_o2 * d["w7"]
    dout_dnet_h1 = d["out_h1"] * (1 - d["out_h1"])
    de_dout_h1 = de_o1_dout_h1 + de_o2_dout_h1
    return [
        ChainRuleStep("dE_total/dout_o1", "out_o1 − target_o1", de_dout_o1),
        ChainRuleStep("dout_o1/dnet_o1", "out_o1 (1 − out_o1)", dout_dnet_o1),
        ChainRuleStep("dnet_o1/dw5", "out_h1", d["out_h1"]),
        ChainRuleStep(
            "dE_total/dw5", "dE_total/dout_o1 · dout_o1/dnet_o1 · dnet_o1/dw5",
            de_dout_o1 * dout_dnet_o1 * d["out_h1"],
        ),
        ChainRuleStep("dE_o1/dout_h1", "dE_o1/dnet_o1 · w5", de_o1_dout_h1),
        ChainRuleStep("dE_o2/dout_h1", "dE_o2/dnet_o2 · w7", de_o2_dout_h1),
        ChainRuleStep("dE_total/dout_h1", "dE_o1/dout_h1 + dE_o2/dout_h1", de_dout_h1),
        ChainRuleStep("dout_h1/dnet_h1", "out_h1 (1 − out_h1)", dout_dnet_h1),
        ChainRuleStep("dnet_h1/dw1", "i1", d["i1"]),
        ChainRuleStep(
            "dE_total/dw1", "dE_total/dout_h1 · dout_h1/dnet_h1 · dnet_h1/dw1",
            de_dout_h1 * dout_dnet_h1 * d["i1"],
        ),
    ]


def nn_network() -> Sequential:
    """The same network as `nn.Sequential(Linear(2, 2), Sigmoid(), Linear(2, 2), Sigmoid())`.

    With x @ W, column j of W holds the weights into neuron j: the hidden W is
    [[w1, w3], [w2, w4]] and the output W is [[w5, w7], [w6, w8]]; each bias vector repeats
    the tutorial's shared bias.
    """
    hidden, output = Linear(2, 2, rng=0), Linear(2, 2, rng=0)
    w = {**HIDDEN_WEIGHTS, **OUTPUT_WEIGHTS}
    hidden.W.data = np.array([[w["w1"], w["w3"]], [w["w2"], w["w4"]]])
    hidden.b.data = np.full(2, BIASES["b1"])
    output.W.data = np.array([[w["w5"], w["w7"]], [w["w6"], w["w8"]]])
    output.b.data = np.full(2, BIASES["b2"])
    return Sequential(hidden, Sigmoid(), output, Sigmoid())


def nn_update(
    lr: float = LEARNING_RATE, model: Sequential | None = None
) -> tuple[float, dict[str, float]]:
    """One SGD step of `model` (default: a new `nn_network()`) on the weights only.

    Returns E_total before the step and w1..w8 after it.
    E_total = Σ ½(target − out)² = ½ · mse_loss(out, target, reduction="sum").
    """
    model = nn_network() if model is None else model
    x = np.array([[INPUTS["i1"], INPUTS["i2"]]])
    target = np.array([[TARGETS["o1"], TARGETS["o2"]]])
    error = 0.5 * mse_loss(model(x), target, reduction="sum")
    weights = [model[0].W, model[2].W]
    optimizer = SGD(weights, lr=lr)
    optimizer.zero_grad()
    error.backward()
    optimizer.step()
    hidden, output = model[0].W.data, model[2].W.data
    updated = {
        "w1": hidden[0, 0], "w2": hidden[1, 0], "w3": hidden[0, 1], "w4": hidden[1, 1],
        "w5": output[0, 0], "w6": output[1, 0], "w7": output[0, 1], "w8": output[1, 1],
    }
    return error.item(), {name: float(number) for name, number in updated.items()}
