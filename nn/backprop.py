"""Classical backpropagation for a multilayer perceptron, in plain numpy (no autodiff).

The network is the one `nn.MLP` builds: layers z_l = a_{l−1} W_l + b_l with
a_l = f(z_l) for the hidden layers and a linear output z_L. The gradients come from the
delta rule, layer by layer:

    δ_L     = ∂E/∂z_L                          (from the loss, below)
    ∂E/∂W_l = a_{l−1}ᵀ δ_l                      (outer products summed over the batch)
    ∂E/∂b_l = Σ_batch δ_l
    δ_{l−1} = (δ_l W_lᵀ) ⊙ f′(z_{l−1})          (pushed back through the weights)

with f′ written from the activation's output a: relu′ = [a > 0], tanh′ = 1 − a²,
sigmoid′ = a(1 − a). Output deltas, with s = 1/count for reduction "mean" and 1 for "sum":

    mse_loss          E = s Σ (z − t)²                δ = 2s (z − t)
    cross_entropy     E = s Σᵢ (log Σⱼ e^zᵢⱼ − zᵢ,yᵢ)   δ = s (softmax(z) − onehot(y))
    binary_cross_entropy_with_logits
                      E = s Σ (log(1 + e^z) − z t)     δ = s (σ(z) − t)
    hinge_loss        E = s Σ max(0, 1 − y z)          δ = −s y [1 − y z > 0]

A single sample of shape (features,) is taken as `nn.MLP` takes it: every a_l and δ_l is
then a vector, ∂E/∂W_l = a_{l−1} ⊗ δ_l (the outer product) and ∂E/∂b_l = δ_l. Cross-entropy
needs logits of shape (batch, classes), as `nn.cross_entropy` does (ValueError otherwise).

This module deliberately imports nothing but numpy: it is the reference that the
reverse-mode engine is checked against (tests/test_backprop.py), and the hand-written
baseline of the training-throughput benchmark.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["ACTIVATIONS", "LOSSES", "forward", "loss_and_gradients", "sgd_step"]

ACTIVATIONS = ("relu", "tanh", "sigmoid")
LOSSES = ("mse_loss", "cross_entropy", "binary_cross_entropy_with_logits", "hinge_loss")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _activate(name: str, z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return _sigmoid(z)
    raise ValueError(f"backprop: activation must be one of {', '.join(ACTIVATIONS)}; got {name!r}")


def _derivative(name: str, a: np.ndarray) -> np.ndarray:
    """f′(z) written from a = f(z)."""
    if name == "relu":
        return (a > 0).astype(a.dtype)
    if name == "tanh":
        return 1 - a * a
    return a * (1 - a)


def forward(
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    X: np.ndarray,
    activation: str = "relu",
) -> list[np.ndarray]:
    """The layer outputs [a_0 = X, a_1, ..., a_{L−1}, z_L]: activations, then the logits."""
    if len(weights) != len(biases) or not weights:
        raise ValueError("backprop: give one bias per weight matrix, and at least one layer")
    outputs = [X]
    last = len(weights) - 1
    for index, (W, b) in enumerate(zip(weights, biases, strict=True)):
        z = outputs[-1] @ W + b
        outputs.append(z if index == last else _activate(activation, z))
    return outputs


def _output_delta(
    loss: str, z: np.ndarray, target: np.ndarray, reduction: str
) -> tuple[float, np.ndarray]:
    """(E, δ_L = ∂E/∂z) for the output layer's pre-activation z.

    The target is checked as the `nn` losses check it: integer labels of shape (batch,) in
    range for cross-entropy; otherwise z's shape ((n,) and (n, 1) are paired), hinge labels
    ±1 and probabilities in [0, 1]. A mean over no samples is refused.
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"backprop: reduction must be 'mean' or 'sum'; got {reduction!r}")
    if loss not in LOSSES:
        raise ValueError(f"backprop: loss must be one of {', '.join(LOSSES)}; got {loss!r}")
    target = np.asarray(target)
    if loss == "cross_entropy":
        if z.ndim != 2:  # as nn.cross_entropy: a single sample is a batch of one, (1, classes)
            raise ValueError(f"backprop: cross_entropy: logits must have shape (batch, "
                             f"classes); got shape {z.shape}")
        batch = z.shape[0]
        _check_labels(target, batch, z.shape[1])
        scale = _scale(loss, reduction, batch)
        rows = np.arange(batch)
        shifted = z - z.max(axis=1, keepdims=True)
        exponentials = np.exp(shifted)
        normaliser = exponentials.sum(axis=1, keepdims=True)
        value = scale * (np.log(normaliser).sum() - shifted[rows, target].sum())
        delta = exponentials / normaliser
        delta[rows, target] -= 1
        return float(value), delta * scale
    if target.shape != z.shape:
        if target.shape != (*z.shape, 1) and z.shape != (*target.shape, 1):
            raise ValueError(f"backprop: {loss}: predictions have shape {z.shape} but targets "
                             f"have shape {target.shape}")
        target = target.reshape(z.shape)
    scale = _scale(loss, reduction, z.size)
    if loss == "mse_loss":
        difference = z - target
        return float(scale * np.sum(difference * difference)), (2 * scale) * difference
    if loss == "binary_cross_entropy_with_logits":
        if not np.all((target >= 0) & (target <= 1)):
            raise ValueError(f"backprop: {loss}: targets must lie in [0, 1]")
        value = np.sum(np.maximum(z, 0) - z * target + np.log1p(np.exp(-np.abs(z))))
        return float(scale * value), scale * (_sigmoid(z) - target)
    wrong = (target != 1) & (target != -1)  # hinge_loss, labels ±1
    if np.any(wrong):
        raise ValueError(f"backprop: {loss}: labels must be -1 or +1; found "
                         f"{target[wrong].ravel()[0].item()!r}")
    margin = 1 - target * z
    value = np.sum(np.maximum(margin, 0))
    return float(scale * value), (-scale) * target * (margin > 0)


def _scale(loss: str, reduction: str, count: int) -> float:
    """1/count for "mean" (ValueError for no samples), 1 for "sum"."""
    if reduction == "sum":
        return 1.0
    if not count:
        raise ValueError(f"backprop: {loss}: cannot average over an empty batch")
    return 1.0 / count


def _check_labels(labels: np.ndarray, batch: int, classes: int) -> None:
    """Integer class indices of shape (batch,), each in 0..classes−1 (never wrapped)."""
    loss = "backprop: cross_entropy"
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{loss}: labels must be integer class indices; got an array of "
                        f"dtype {labels.dtype}")
    if labels.shape != (batch,):
        raise ValueError(f"{loss}: labels must have shape ({batch},); got {labels.shape}")
    outside = (labels < 0) | (labels >= classes)
    if np.any(outside):
        position = int(np.flatnonzero(outside)[0])
        raise ValueError(f"{loss}: label {int(labels[position])} at position {position} is "
                         f"out of range for {classes} classes")


def loss_and_gradients(
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    X: np.ndarray,
    target: np.ndarray,
    activation: str = "relu",
    loss: str = "cross_entropy",
    reduction: str = "mean",
) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
    """(E, [∂E/∂W_l], [∂E/∂b_l]) for one batch, by the delta rule: ∂E/∂W_l = a_{l−1}ᵀ δ_l,
    ∂E/∂b_l = Σ_batch δ_l (a ⊗ δ and δ itself for a single sample X of shape (features,))."""
    outputs = forward(weights, biases, X, activation)
    value, delta = _output_delta(loss, outputs[-1], target, reduction)
    weight_grads: list[np.ndarray] = [None] * len(weights)  # type: ignore[list-item]
    bias_grads: list[np.ndarray] = [None] * len(weights)  # type: ignore[list-item]
    for layer in range(len(weights) - 1, -1, -1):
        below = outputs[layer]
        if below.ndim == 1:  # one sample: the outer product, and δ itself for the bias
            weight_grads[layer] = np.outer(below, delta)
            bias_grads[layer] = delta.copy()
        else:
            weight_grads[layer] = below.T @ delta
            bias_grads[layer] = delta.sum(axis=0)
        if layer:
            delta = (delta @ weights[layer].T) * _derivative(activation, below)
    return value, weight_grads, bias_grads


def sgd_step(
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    X: np.ndarray,
    target: np.ndarray,
    lr: float,
    activation: str = "relu",
    loss: str = "cross_entropy",
    reduction: str = "mean",
) -> float:
    """One plain gradient-descent step, W ← W − lr ∂E/∂W (in place); returns E before it."""
    value, weight_grads, bias_grads = loss_and_gradients(
        weights, biases, X, target, activation, loss, reduction
    )
    for W, b, dW, db in zip(weights, biases, weight_grads, bias_grads, strict=True):
        W -= lr * dW
        b -= lr * db
    return value
