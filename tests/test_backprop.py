"""Classical backpropagation (nn.backprop, plain numpy) against reverse-mode autodiff (nn).

The same random MLPs, for every activation, every loss, several depths, batch sizes and
both reductions: the losses and every gradient must agree to 1e-10 relative in float64.
"""

import ast
import itertools
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

import autodiff
import nn
from nn import backprop

LOSSES = {
    "mse_loss": nn.mse_loss,
    "cross_entropy": nn.cross_entropy,
    "binary_cross_entropy_with_logits": nn.binary_cross_entropy_with_logits,
    "hinge_loss": nn.hinge_loss,
}
DEPTHS = {1: [3], 2: [7, 3], 3: [6, 5, 3], 4: [5, 8, 4, 3]}


def random_problem(loss, depth, batch, seed, nin=4):
    """A random MLP (with random, non-zero biases) and a batch of inputs and targets."""
    rng = np.random.default_rng(seed)
    sizes = list(DEPTHS[depth])
    if loss in ("binary_cross_entropy_with_logits", "hinge_loss") and seed % 2:
        sizes[-1] = 1  # one-output classifier, targets of shape (batch,)
    X = rng.normal(size=(batch, nin))
    nout = sizes[-1]
    if loss == "cross_entropy":
        target = rng.integers(0, nout, size=batch)
    elif loss == "mse_loss":
        target = rng.normal(size=(batch, nout))
    elif loss == "binary_cross_entropy_with_logits":
        target = rng.uniform(size=(batch, nout))
        target[::2] = np.round(target[::2])
    else:
        target = rng.choice([-1.0, 1.0], size=(batch, nout))
    if nout == 1 and loss != "cross_entropy":
        target = target[:, 0]
    return sizes, X, target, rng


def relative_error(a, b):
    a, b = np.asarray(a), np.asarray(b)
    scale = max(np.max(np.abs(b)), 1e-300)
    return float(np.max(np.abs(a - b)) / scale)


CASES = list(itertools.product(
    nn.layers.ACTIVATIONS, LOSSES, [1, 2, 3, 4], [1, 5, 32], ["mean", "sum"]
))


@pytest.mark.parametrize(("activation", "loss", "depth", "batch", "reduction"), CASES)
def test_delta_rule_equals_reverse_mode(activation, loss, depth, batch, reduction):
    seed = zlib.crc32(f"{activation} {loss} {depth} {batch} {reduction}".encode())
    sizes, X, target, rng = random_problem(loss, depth, batch, seed)
    model = nn.MLP(X.shape[1], sizes, activation=activation, rng=rng)
    for layer in model.layers:  # non-zero biases, so their gradients are exercised fully
        layer.b.data = rng.normal(scale=0.5, size=layer.b.shape)

    if loss == "hinge_loss":  # half of the margins (at least one) certainly violated
        with autodiff.no_grad():
            scores = model(X).data.reshape(target.shape)
        target[::2] = -np.where(scores[::2] >= 0, 1.0, -1.0)

    value = LOSSES[loss](model(X), target, reduction=reduction)
    value.backward()

    weights = [layer.W.data.copy() for layer in model.layers]
    biases = [layer.b.data.copy() for layer in model.layers]
    reference, weight_grads, bias_grads = backprop.loss_and_gradients(
        weights, biases, X, target, activation=activation, loss=loss, reduction=reduction
    )

    assert relative_error(value.item(), reference) <= 1e-10
    for layer, dW, db in zip(model.layers, weight_grads, bias_grads, strict=True):
        assert layer.W.grad.shape == dW.shape and layer.b.grad.shape == db.shape
        assert relative_error(layer.W.grad, dW) <= 1e-10, layer.W.name
        assert relative_error(layer.b.grad, db) <= 1e-10, layer.b.name
    # the comparison is not vacuous
    assert any(np.any(g != 0) for g in weight_grads + bias_grads)


@pytest.mark.parametrize("activation", nn.layers.ACTIVATIONS)
def test_backprop_matches_finite_differences(activation):
    """The reference itself is checked independently of the engine."""
    _, X, target, rng = random_problem("cross_entropy", 2, 4, 7)
    weights = [rng.normal(size=(4, 7)), rng.normal(size=(7, 3))]
    biases = [rng.normal(size=7), rng.normal(size=3)]
    _, weight_grads, _ = backprop.loss_and_gradients(
        weights, biases, X, target, activation=activation
    )
    step = 1e-6
    for layer, (i, j) in itertools.product(range(2), [(0, 0), (1, 2), (3, 1)]):
        shifted = [W.copy() for W in weights]
        shifted[layer][i, j] += step
        up = backprop.loss_and_gradients(shifted, biases, X, target, activation)[0]
        shifted[layer][i, j] -= 2 * step
        down = backprop.loss_and_gradients(shifted, biases, X, target, activation)[0]
        assert (up - down) / (2 * step) == pytest.approx(weight_grads[layer][i, j], abs=1e-7)


def test_sgd_step_follows_the_gradient():
    _, X, target, rng = random_problem("mse_loss", 2, 8, 3)
    weights = [rng.normal(size=(4, 7)), rng.normal(size=(7, 3))]
    biases = [np.zeros(7), np.zeros(3)]
    _, weight_grads, bias_grads = backprop.loss_and_gradients(
        weights, biases, X, target, "tanh", "mse_loss"
    )
    before = [W.copy() for W in weights]
    first = backprop.sgd_step(weights, biases, X, target, 0.01, "tanh", "mse_loss")
    np.testing.assert_allclose(weights[0], before[0] - 0.01 * weight_grads[0])
    np.testing.assert_allclose(biases[1], -0.01 * bias_grads[1])
    second = backprop.loss_and_gradients(weights, biases, X, target, "tanh", "mse_loss")[0]
    assert second < first


def test_backprop_rejects_unknown_names():
    W, b, X = [np.ones((2, 2))], [np.zeros(2)], np.ones((3, 2))
    with pytest.raises(ValueError, match="activation must be one of"):
        backprop.forward(W + W, b + b, X, activation="softplus")
    with pytest.raises(ValueError, match="loss must be one of"):
        backprop.loss_and_gradients(W, b, X, np.ones((3, 2)), loss="l1")
    with pytest.raises(ValueError, match="reduction must be"):
        backprop.loss_and_gradients(W, b, X, np.zeros(3, dtype=int), reduction="max")
    with pytest.raises(ValueError, match="one bias per weight"):
        backprop.forward(W, [], X)


SOURCE = Path(backprop.__file__)


def test_backprop_source_imports_only_numpy():
    tree = ast.parse(SOURCE.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports (they would pull in nn and autodiff)"
            imported.add(node.module.split(".")[0])
    assert imported <= {"numpy", "__future__", "collections"}, imported


def test_backprop_runs_with_autodiff_unimportable():
    """Loaded as a lone file, with `import autodiff` made to fail, it still computes."""
    program = f"""
import importlib.util, sys
import numpy as np
sys.modules["autodiff"] = None  # any import of autodiff now raises ImportError
spec = importlib.util.spec_from_file_location("lone_backprop", {str(SOURCE)!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
rng = np.random.default_rng(0)
W, b = [rng.normal(size=(3, 4)), rng.normal(size=(4, 2))], [np.zeros(4), np.zeros(2)]
value, dW, db = module.loss_and_gradients(W, b, rng.normal(size=(5, 3)), np.array([0, 1, 1, 0, 1]))
assert np.isfinite(value) and dW[0].shape == (3, 4)
assert "autodiff.engine" not in sys.modules
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
