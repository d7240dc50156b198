"""The floor: hand-written numpy forward and backward passes, no autodiff at all.

Same math and dtype as every contestant: an MLP with ReLU hidden layers and a linear last
layer, mean softmax cross-entropy over integer labels, gradients of every weight and bias,
the loss value, and a plain SGD update. Nothing is skipped that an engine could not skip.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

Params = list[np.ndarray]  # [W1, b1, W2, b2, ...], W of shape (n_in, n_out), b of shape (n_out,)


def init_params(sizes: list[int], dtype: np.dtype | type, seed: int = 0) -> Params:
    """He-initialised weights N(0, 2/n_in) and small random biases, in `dtype`."""
    rng = np.random.default_rng(seed)
    params: Params = []
    for n_in, n_out in itertools.pairwise(sizes):
        params.append((rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(dtype))
        params.append((0.1 * rng.standard_normal(n_out)).astype(dtype))
    return params


def make_batch(n_in: int, n_classes: int, batch: int, dtype, seed: int = 1):
    """Standard-normal inputs (batch, n_in) in `dtype` and integer labels in [0, n_classes)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, n_in)).astype(dtype)
    y = rng.integers(0, n_classes, size=batch)
    return x, y


def loss_and_grads(params: Params, x: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
    """L = −(1/B) Σ_b log softmax(MLP(x))_b,y_b and ∂L/∂θ for every θ, by the delta rule."""
    n_layers = len(params) // 2
    activations = [x]  # input of each layer
    h = x
    for layer in range(n_layers):
        z = h @ params[2 * layer]
        z += params[2 * layer + 1]
        if layer < n_layers - 1:
            np.maximum(z, 0, out=z)  # z is this layer's own buffer: ReLU in place
            activations.append(z)
        h = z
    logits = h
    batch = logits.shape[0]
    rows = np.arange(batch)
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    loss = float(np.log(total[:, 0]).sum() - shifted[rows, y].sum()) / batch
    delta = exp
    delta /= total  # softmax
    delta[rows, y] -= 1
    delta /= batch  # ∂L/∂logits
    grads: Params = [None] * len(params)  # type: ignore[list-item]
    for layer in range(n_layers - 1, -1, -1):
        a = activations[layer]
        grads[2 * layer] = a.T @ delta
        grads[2 * layer + 1] = delta.sum(axis=0)
        if layer:
            delta = delta @ params[2 * layer].T
            delta *= a > 0  # ReLU'(z) from the stored activation
    return loss, grads


def trainer(params: Params, lr: float) -> Callable[[np.ndarray, np.ndarray], float]:
    """A training step on its own copy of `params`: loss, gradients, θ ← θ − lr·∂L/∂θ."""
    params = [p.copy() for p in params]

    def step(x: np.ndarray, y: np.ndarray) -> float:
        loss, grads = loss_and_grads(params, x, y)
        for p, g in zip(params, grads, strict=True):
            p -= lr * g
        return loss

    return step


# The per-op chain (workload 5): 100 small elementwise ops, cycling through these four.
CHAIN_OPS = ("mul", "add", "tanh", "sin")
CHAIN_SCALE, CHAIN_SHIFT = 0.9, 0.1


def apply_chain(h, ops: list[str], tanh: Callable, sin: Callable):
    """The chain's forward pass in any library: h through each op, with its tanh and sin."""
    for op in ops:
        if op == "mul":
            h = h * CHAIN_SCALE
        elif op == "add":
            h = h + CHAIN_SHIFT
        elif op == "tanh":
            h = tanh(h)
        else:
            h = sin(h)
    return h


def chain_ops(length: int) -> list[str]:
    """The op sequence of a chain of `length` elementwise ops."""
    return [CHAIN_OPS[i % len(CHAIN_OPS)] for i in range(length)]


def chain_value_and_grad(x: np.ndarray, ops: list[str]) -> tuple[float, np.ndarray]:
    """s = Σ f_n(…f_1(x)) and ∂s/∂x, each f a scale, shift, tanh or sin, by hand."""
    saved = []
    h = x
    for op in ops:
        out = apply_chain(h, [op], np.tanh, np.sin)
        saved.append((h, out))
        h = out
    value = float(h.sum())
    g = np.ones_like(h)
    for op, (inp, out) in zip(reversed(ops), reversed(saved), strict=True):
        if op == "mul":
            g = g * CHAIN_SCALE
        elif op == "tanh":
            g = g * (1 - out * out)
        elif op == "sin":
            g = g * np.cos(inp)
    return value, g
