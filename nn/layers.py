"""Layers: `Linear`, the activations, `Sequential` and the multilayer perceptron `MLP`.

Inputs are `Value`s or numpy arrays of shape `(batch, features)` (a single sample of shape
`(features,)` also works). Weights are stored as `W` of shape `(nin, nout)`, so a layer
computes `x @ W + b`, recorded as one `linear` primitive (a graph node with inputs x, W
and b, its three VJP rules beside it) rather than a matmul node and an add node.

Initialisation (biases start at zero):

* `init="he"` (He/Kaiming): W ~ Normal(0, 2 / nin). Keeps the variance of activations
  through ReLU layers, which zero half their inputs.
* `init="xavier"` (Xavier/Glorot, the default of a bare `Linear`):
  W ~ Uniform(−a, a) with a = √(6 / (nin + nout)), variance 2 / (nin + nout). Suited to
  tanh, sigmoid and linear outputs.

`MLP` uses He for the hidden layers of a ReLU network and Xavier everywhere else
(including the linear output layer).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, overload

import numpy as np

import autodiff
from autodiff import Value
from autodiff.extend import is_lazy, primitive

from ._sums import column_sums
from .module import Module

__all__ = [
    "ACTIVATIONS", "MLP", "Linear", "ReLU", "Sequential", "Sigmoid", "Tanh", "as_rng",
    "floating_dtype",
]

ACTIVATIONS = ("relu", "tanh", "sigmoid")


def floating_dtype(owner: str, dtype: Any) -> np.dtype[Any]:
    """`dtype` as a numpy dtype if it is a real floating-point type; else TypeError.

    Weights in an integer or bool dtype would be the random initial values truncated
    (all zeros, or all ones), and optimisers update only floating-point parameters.
    """
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"{owner}: dtype must be a floating-point type; got {dtype!r}"
        ) from None
    if resolved.kind != "f":
        raise TypeError(
            f"{owner}: dtype must be a floating-point type; got {resolved} (float16, "
            "float32 or float64)"
        )
    return resolved


def as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A numpy Generator from a Generator (used as is), an int seed, or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy Generator, an int seed or None; got {type(rng).__name__}")


@primitive(name="linear")
def linear(x, W, b):
    """x @ W + b  ·  ∂/∂x = g Wᵀ, ∂/∂W = xᵀ g, ∂/∂b = Σ_batch g  (one graph node per layer)"""
    out = x @ W
    if type(out) is np.ndarray and out.dtype is getattr(b, "dtype", None):
        out += b  # the product is a fresh array of b's dtype: add the bias in place
        return out
    return out + b


def _linear_vjp_weights(g, out, x, W, b):
    if x.ndim == 1:
        return x[:, None] * g[None, :]
    return x.T @ g


linear.defvjp(
    lambda g, out, x, W, b: g @ W.T,
    _linear_vjp_weights,
    lambda g, out, x, W, b: column_sums(g) if g.ndim == 2 else g,
)


class Linear(Module):
    """y = x @ W + b, with W of shape (nin, nout) and b of shape (nout,)."""

    nin: int
    nout: int
    W: Value
    b: Value | None

    def __init__(
        self,
        nin: int,
        nout: int,
        bias: bool = True,
        rng: np.random.Generator | int | None = None,
        init: str = "xavier",
        dtype: Any = np.float64,
    ) -> None:
        for label, size in (("nin", nin), ("nout", nout)):
            if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1:
                raise ValueError(f"Linear: {label} must be a positive integer; got {size!r}")
        dtype = floating_dtype("Linear", dtype)
        generator = as_rng(rng)
        if init == "he":
            weights = generator.normal(0.0, np.sqrt(2.0 / nin), size=(nin, nout))
        elif init == "xavier":
            limit = np.sqrt(6.0 / (nin + nout))
            weights = generator.uniform(-limit, limit, size=(nin, nout))
        else:
            raise ValueError(f"Linear: init must be 'he' or 'xavier'; got {init!r}")
        self.nin, self.nout = int(nin), int(nout)
        self.W = Value(weights.astype(dtype))
        self.b = Value(np.zeros(nout, dtype=dtype)) if bias else None

    def forward(self, x: Value | np.ndarray) -> Value:
        if not isinstance(x, (Value, np.ndarray)) and not is_lazy(x):  # Dask stays lazy
            try:
                x = np.asarray(x, dtype=self.W.dtype)
            except (TypeError, ValueError) as error:  # text, objects, ragged rows
                kind = TypeError if isinstance(error, TypeError) else ValueError
                raise kind(
                    f"{self.layer_name}: expected input of shape (batch, {self.nin}) holding "
                    f"real numbers (a Value, a numpy array, or equal-length rows of numbers); "
                    f"got a {type(x).__name__} that is not one ({error})"
                ) from None
        elif x.dtype.kind not in "biuf":  # complex (the output would be complex), text, ...
            what = ("a numpy array" if isinstance(x, np.ndarray) else "a Value"
                    if isinstance(x, Value) else f"a {type(x).__name__}")
            raise TypeError(
                f"{self.layer_name}: expected input of shape (batch, {self.nin}) holding real "
                f"numbers (bool, integer or floating point); got {what} of dtype {x.dtype}"
            )
        shape = x.shape
        if len(shape) not in (1, 2) or shape[-1] != self.nin:
            raise ValueError(
                f"{self.layer_name}: expected input of shape (batch, {self.nin}), "
                f"got shape {shape}"
            )
        if self.b is None:
            return x @ self.W
        return linear(x, self.W, self.b)

    def extra_repr(self) -> str:
        return f"{self.nin}, {self.nout}, bias={self.b is not None}"


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x: Value | np.ndarray) -> Value:
        return autodiff.relu(x)


class Tanh(Module):
    """tanh x, elementwise."""

    def forward(self, x: Value | np.ndarray) -> Value:
        return autodiff.tanh(x)


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e^−x), elementwise."""

    def forward(self, x: Value | np.ndarray) -> Value:
        return autodiff.sigmoid(x)


class Sequential(Module):
    """Modules applied one after another: `Sequential(Linear(2, 8), ReLU(), Linear(8, 1))`.

    Its parameters are named `layers.<index>.<name>`.
    """

    layers: list[Module]

    def __init__(self, *modules: Module) -> None:
        for index, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: argument {index} is a {type(module).__name__}, not a Module"
                )
        self.layers = list(modules)

    def forward(self, x: Value | np.ndarray) -> Value:
        for module in self.layers:
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self.layers)

    @overload
    def __getitem__(self, index: int) -> Module: ...

    @overload
    def __getitem__(self, index: slice) -> Sequential: ...

    def __getitem__(self, index: int | slice) -> Module | Sequential:
        """One module, or for a slice a Sequential of those modules (the same objects, so
        their parameters are shared), as PyTorch's Sequential does.

        Indexing has no side effects: the parameters keep their names (their paths in this
        model), so errors about them still name them as this model does.
        """
        if isinstance(index, slice):
            part = Sequential.__new__(Sequential)
            object.__setattr__(part, "layers", self.layers[index])  # (no renaming)
            return part
        return self.layers[index]


class MLP(Module):
    """A multilayer perceptron: Linear layers with `activation` between them, linear output.

    `MLP(nin, [h1, ..., nout])` has layers nin→h1→...→nout; its parameters are named
    `layers.<i>.W` and `layers.<i>.b`. The activation ("relu", "tanh" or "sigmoid") follows
    every layer but the last.
    """

    activation: str
    layers: list[Linear]

    def __init__(
        self,
        nin: int,
        sizes: Sequence[int],
        activation: str = "relu",
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float64,
    ) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"MLP: activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}"
            )
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Iterable):
            raise TypeError(
                f"MLP: sizes must be a sequence of layer widths such as [16, 1]; got {sizes!r}"
            )
        sizes = list(sizes)
        if not sizes:
            raise ValueError("MLP: sizes must list at least the output size, e.g. [16, 1]")
        dtype = floating_dtype("MLP", dtype)
        generator = as_rng(rng)
        widths = [nin, *sizes]
        hidden_init = "he" if activation == "relu" else "xavier"
        self.activation = activation
        self.layers = [
            Linear(
                widths[i], widths[i + 1], rng=generator, dtype=dtype,
                init=hidden_init if i < len(sizes) - 1 else "xavier",
            )
            for i in range(len(sizes))
        ]
        self._activate = _ACTIVATION_FUNCTIONS[activation]

    def forward(self, x: Value | np.ndarray) -> Value:
        *hidden, last = self.layers
        activate = self._activate
        for layer in hidden:
            x = activate(layer.forward(x))
        return last.forward(x)

    def extra_repr(self) -> str:
        return f"activation={self.activation!r}"


_ACTIVATION_FUNCTIONS = {"relu": autodiff.relu, "tanh": autodiff.tanh, "sigmoid": autodiff.sigmoid}
