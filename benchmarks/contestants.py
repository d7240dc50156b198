"""The tensor contestants: one class per system, each with the same three entry points.

* `loss_and_grads(params, x, y)` → (loss, [∂L/∂θ as numpy]) — for the correctness check.
* `trainer(params, lr)` → `step(x, y)`: one training step (forward, mean softmax
  cross-entropy, backward, SGD update) on the contestant's own copy of the parameters.
* `chain(x, ops)` → `run()`: forward and backward of the per-op chain (workload 5).

`params` is [W1, b1, W2, b2, ...] with W of shape (n_in, n_out) (see `floor.init_params`).
Constructing a contestant whose library is absent raises `Missing`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import floor
from .common import Missing, require

Params = floor.Params


class Floor:
    """Hand-written numpy backprop (benchmarks/floor.py): the floor for any numpy engine."""

    name = "numpy (floor)"
    note = "hand-written forward/backward"

    def loss_and_grads(self, params, x, y):
        return floor.loss_and_grads(params, x, y)

    def trainer(self, params, lr):
        return floor.trainer(params, lr)

    def chain(self, x, ops):
        return lambda: floor.chain_value_and_grad(x, ops)


class NnBackprop:
    """The project's own classical delta-rule backprop (`nn.backprop`, plain numpy)."""

    name = "nn.backprop (delta rule)"
    note = "the project's hand-written backprop, nn.backprop.sgd_step"

    def __init__(self) -> None:
        import nn.backprop

        self.backprop = nn.backprop

    def trainer(self, params, lr):
        weights = [p.copy() for p in params[0::2]]
        biases = [p.copy() for p in params[1::2]]

        def step(x, y):
            return self.backprop.sgd_step(weights, biases, x, y, lr)

        return step


def _nn_available() -> bool:
    try:
        import nn
    except ImportError:
        return False
    return all(hasattr(nn, name) for name in ("MLP", "cross_entropy", "SGD"))


class Autodiff:
    """This project: `nn.MLP` + `nn.cross_entropy` + `nn.SGD` when `nn` provides them,
    otherwise the engine directly (x @ W + b, relu, log_softmax, indexing)."""

    name = "autodiff"

    def __init__(self, use_nn: bool | None = None) -> None:
        import autodiff

        self.ad = autodiff
        self.use_nn = _nn_available() if use_nn is None else use_nn
        self.note = "nn.MLP + nn.cross_entropy + nn.SGD" if self.use_nn else "engine directly"

    # -- through nn ---------------------------------------------------------------------
    def _model(self, params: Params):
        import nn

        sizes = [params[0].shape[0]] + [w.shape[1] for w in params[0::2]]
        model = nn.MLP(sizes[0], sizes[1:], activation="relu", rng=0, dtype=params[0].dtype)
        load_params(model.parameters(), params)
        return model

    # -- engine directly ------------------------------------------------------------------
    def _loss(self, values, x, y):
        h = x
        n_layers = len(values) // 2
        for layer in range(n_layers):
            h = h @ values[2 * layer] + values[2 * layer + 1]
            if layer < n_layers - 1:
                h = h.relu()
        logp = h.log_softmax(axis=-1)
        return -logp[np.arange(len(y)), y].mean()

    def loss_and_grads(self, params, x, y):
        if self.use_nn:
            import nn

            model = self._model(params)
            loss = nn.cross_entropy(model(x), y)
            loss.backward()
            grads = [p.grad for p in model.parameters()]
            return float(loss.item()), unload_grads(grads, params)
        values = [self.ad.Value(p.copy()) for p in params]
        loss = self._loss(values, x, y)
        loss.backward()
        return float(loss.item()), [np.asarray(v.grad) for v in values]

    def trainer(self, params, lr):
        if self.use_nn:
            import nn

            model = self._model(params)
            optimizer = nn.SGD(model.parameters(), lr=lr)

            def step(x, y):
                loss = nn.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward(release_graph=True)  # as the README trains
                optimizer.step()
                return loss

            return step
        values = [self.ad.Value(p.copy()) for p in params]

        def step(x, y):
            loss = self._loss(values, x, y)
            for v in values:
                v.grad = None
            loss.backward()
            for v in values:
                v.data -= lr * v.grad
            return loss

        return step

    def chain(self, x, ops):
        ad = self.ad

        def run():
            v = ad.Value(x)
            floor.apply_chain(v, ops, ad.tanh, ad.sin).sum().backward()
            return v.grad

        return run


def load_params(model_params: list, params: Params) -> None:
    """Copy [W1, b1, ...] into a model's parameter Values, whatever its weight layout.

    A model may store W as (n_in, n_out) or as (n_out, n_in); the first layer (never
    square here) tells which, and the same layout is used for every layer.
    """
    if len(model_params) != len(params):
        raise ValueError(f"model has {len(model_params)} parameters, expected {len(params)}")
    transposed = model_params[0].shape == params[0].T.shape != params[0].shape
    for value, array in zip(model_params, params, strict=True):
        data = array.T if (transposed and array.ndim == 2) else array
        value.data = np.ascontiguousarray(data.reshape(value.shape)).copy()


def unload_grads(grads: list, params: Params) -> Params:
    """Model gradients back in the [W (n_in, n_out), b (n_out,)] layout of `params`."""
    out = []
    for g, p in zip(grads, params, strict=True):
        g = np.asarray(g)
        if g.shape != p.shape and g.ndim == 2 and g.T.shape == p.shape:
            g = g.T
        out.append(g.reshape(p.shape))
    return out


class HipsAutograd:
    """HIPS autograd: `value_and_grad` of a loss written with autograd.numpy."""

    name = "HIPS autograd"
    note = "autograd.value_and_grad"

    def __init__(self) -> None:
        self.ag = require("autograd")
        self.anp = require("autograd.numpy", "autograd")
        self.special = require("autograd.scipy.special", "autograd (with scipy)")

        anp, logsumexp = self.anp, self.special.logsumexp

        def loss(params, x, y):
            h = x
            n_layers = len(params) // 2
            for layer in range(n_layers):
                h = anp.dot(h, params[2 * layer]) + params[2 * layer + 1]
                if layer < n_layers - 1:
                    h = anp.maximum(h, 0.0)
            logp = h - logsumexp(h, axis=1, keepdims=True)
            return -anp.mean(logp[np.arange(len(y)), y])

        self.value_and_grad = self.ag.value_and_grad(loss)

    def loss_and_grads(self, params, x, y):
        loss, grads = self.value_and_grad([p.copy() for p in params], x, y)
        return float(loss), [np.asarray(g) for g in grads]

    def trainer(self, params, lr):
        state = [p.copy() for p in params]
        value_and_grad = self.value_and_grad

        def step(x, y):
            loss, grads = value_and_grad(state, x, y)
            state[:] = [p - lr * g for p, g in zip(state, grads, strict=True)]
            return loss

        return step

    def chain(self, x, ops):
        anp = self.anp

        def total(v):
            return anp.sum(floor.apply_chain(v, ops, anp.tanh, anp.sin))

        grad = self.ag.value_and_grad(total)
        return lambda: grad(x)


def blas_threads() -> int | None:
    """Threads of numpy's BLAS, as threadpoolctl reports them (None if it cannot tell)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return max(counts) if counts else None


class TorchEager:
    """PyTorch eager on the CPU, with as many intra-op threads as numpy's BLAS."""

    name = "torch eager"

    def __init__(self) -> None:
        self.torch = require("torch")
        self.F = require("torch.nn.functional", "torch")
        threads = blas_threads()
        if threads:
            self.torch.set_num_threads(threads)
        self.note = f"{self.torch.get_num_threads()} threads"

    def _loss(self, tensors, x, y):
        torch, F = self.torch, self.F
        h = x
        n_layers = len(tensors) // 2
        for layer in range(n_layers):
            h = torch.addmm(tensors[2 * layer + 1], h, tensors[2 * layer])
            if layer < n_layers - 1:
                h = torch.relu(h)
        return F.cross_entropy(h, y)

    def _leaves(self, params):
        return [self.torch.tensor(p, requires_grad=True) for p in params]

    def loss_and_grads(self, params, x, y):
        tensors = self._leaves(params)
        loss = self._loss(tensors, self.torch.from_numpy(x), self.torch.from_numpy(y))
        loss.backward()
        return float(loss.item()), [t.grad.numpy() for t in tensors]

    def trainer(self, params, lr):
        torch = self.torch
        tensors = self._leaves(params)

        def step(x, y):
            loss = self._loss(tensors, torch.from_numpy(x), torch.from_numpy(y))
            for t in tensors:
                t.grad = None
            loss.backward()
            with torch.no_grad():
                for t in tensors:
                    t.sub_(t.grad, alpha=lr)
            return loss

        return step

    def chain(self, x, ops):
        torch = self.torch

        def run():
            v = torch.tensor(x, requires_grad=True)
            floor.apply_chain(v, ops, torch.tanh, torch.sin).sum().backward()
            return v.grad

        return run


class JaxEager:
    """JAX `value_and_grad` without jit (op-by-op dispatch), float64 enabled."""

    name = "jax eager"
    note = "value_and_grad, no jit"

    def __init__(self) -> None:
        self.jax = require("jax", "jax[cpu]")
        self.jax.config.update("jax_enable_x64", True)
        self.jnp = require("jax.numpy", "jax[cpu]")
        jax, jnp = self.jax, self.jnp

        def loss(params, x, y):
            h = x
            n_layers = len(params) // 2
            for layer in range(n_layers):
                h = h @ params[2 * layer] + params[2 * layer + 1]
                if layer < n_layers - 1:
                    h = jnp.maximum(h, 0)
            logp = jax.nn.log_softmax(h, axis=-1)
            return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

        self.value_and_grad = jax.value_and_grad(loss)

    def loss_and_grads(self, params, x, y):
        jnp = self.jnp
        loss, grads = self.value_and_grad(
            [jnp.asarray(p) for p in params], jnp.asarray(x), jnp.asarray(y))
        return float(loss), [np.asarray(g) for g in grads]

    def trainer(self, params, lr):
        jax, jnp = self.jax, self.jnp
        state = [jnp.asarray(p) for p in params]
        value_and_grad = self.value_and_grad

        def step(x, y):
            loss, grads = value_and_grad(state, jnp.asarray(x), jnp.asarray(y))
            state[:] = [p - lr * g for p, g in zip(state, grads, strict=True)]
            jax.block_until_ready(state)
            return loss

        return step

    def chain(self, x, ops):
        jax, jnp = self.jax, self.jnp

        def total(v):
            return jnp.sum(floor.apply_chain(v, ops, jnp.tanh, jnp.sin))

        grad = jax.value_and_grad(total)
        x = jnp.asarray(x)
        return lambda: jax.block_until_ready(grad(x))


TENSOR_CONTESTANTS: list[type] = [Floor, Autodiff, HipsAutograd, TorchEager, JaxEager]


def build(kind: type) -> Any:
    """Instantiate a contestant class (raises Missing if its library is absent)."""
    return kind()


def try_build(kind: type) -> tuple[Any | None, str]:
    """(contestant, "") or (None, reason) — a missing or broken peer never raises here."""
    try:
        return kind(), ""
    except Missing as missing:
        return None, f"missing: {missing}"
    except Exception as error:
        return None, f"failed: {type(error).__name__}: {error}"


StepFactory = Callable[[], Callable[[], Any]]
