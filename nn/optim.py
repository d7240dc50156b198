"""Optimisers: stochastic gradient descent (with momentum) and Adam.

Both read each parameter's `.grad` (parameters without a gradient are skipped) and update
`.data` in place with the in-place operator under `no_grad()` (the parameter keeps its
array, and its version moves on: a graph that read the old data refuses backward).

A step checks everything before it changes anything: every gradient must be a numpy array
of real numbers (or a real number, for a scalar parameter) with exactly its parameter's
shape, every parameter must hold floating-point data, and every gradient must be finite.
Otherwise the step raises, naming the parameter (`.name`, or `#index (unnamed)`), and
changes nothing: no parameter data, no momentum or Adam moment, no step counter.

    wrong type (a Value left by `backward(create_graph=True)`, a list, ...)  TypeError
    wrong shape (the update would broadcast or reshape the parameter)       ValueError
    nan or inf in a gradient                                                FloatingPointError

The settings (lr, momentum, betas, eps, weight_decay) are checked when the optimiser is
made: TypeError unless a real number (bool is refused), ValueError if not finite or out of
range. A parameter listed twice (the same object) is refused: it would be stepped twice.

Weight decay is the classical L2 penalty: `weight_decay · p` is added to the gradient.

Lazy gradients (Dask arrays, as `loss.backward()` leaves them when the loss was computed
from Dask data) are computed at the step, all of them by one `dask.compute` (one pass over
the data), and then checked and applied as numpy gradients; `.grad` itself is left as it
is. Parameters hold numpy data.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from autodiff import Value, no_grad
from autodiff.extend import compute, is_lazy

__all__ = ["SGD", "Adam", "Optimizer"]

# The settings' allowed ranges: (what the value must do, its range in words, the test).
_POSITIVE = ("be positive", "a finite real number > 0", lambda x: x > 0)
_NON_NEGATIVE = ("be >= 0", "a finite real number >= 0", lambda x: x >= 0)
_FRACTION = ("lie in [0, 1)", "a real number in [0, 1)", lambda x: 0 <= x < 1)


def _setting(owner: str, name: str, value: object, allowed: tuple[Any, ...],
             shown: str = "") -> float:
    """`value` as a float if it is a finite real number in range; else TypeError/ValueError.

    bool is refused although Python counts it as an int. `shown` prefixes the value in the
    message (`betas[1] = `).
    """
    rule, words, in_range = allowed
    got = f"got {shown}{value!r}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{owner}: {name} must be a real number; {got} of type {type(value).__name__} "
            f"(allowed: {words})"
        )
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"{owner}: {name} must be finite; {got} (allowed: {words})")
    if not in_range(number):
        raise ValueError(f"{owner}: {name} must {rule}; {got} (allowed: {words})")
    return number


def _label(p: Value, index: int) -> str:
    """How messages name a parameter: its `.name`, or its position when it has none."""
    return p.name if p.name is not None else f"#{index} (unnamed)"


class Optimizer:
    """Holds the parameters; `zero_grad()` clears their gradients, `step()` updates them.

    `params`: the Values to update, each once. `lr` > 0 and `weight_decay` >= 0, finite.
    """

    params: list[Value]
    lr: float
    weight_decay: float

    def __init__(self, params: Iterable[Value], lr: float, weight_decay: float = 0.0) -> None:
        owner = type(self).__name__
        params = list(params)
        if not params:
            raise ValueError(f"{owner}: got an empty list of parameters")
        positions: dict[int, list[int]] = {}
        for index, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(
                    f"{owner}: parameter {index} is a {type(p).__name__}, not a Value"
                )
            positions.setdefault(id(p), []).append(index)
        if len(positions) != len(params):
            for index, p in enumerate(params):
                where = positions[id(p)]
                if len(where) > 1:
                    raise ValueError(
                        f"{owner}: parameter {_label(p, index)} is listed {len(where)} times "
                        f"(positions {', '.join(map(str, where))}); each parameter may be "
                        f"listed only once, or every step would update it {len(where)} times"
                    )
        self.params = params
        self.lr = _setting(owner, "lr", lr, _POSITIVE)
        self.weight_decay = _setting(owner, "weight_decay", weight_decay, _NON_NEGATIVE)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (sets `.grad` to None)."""
        for p in self.params:
            p.grad = None

    def _gradients(self, given: list[Any] | None = None) -> list[Any]:
        """Each parameter's gradient plus weight decay (None where there is no gradient).

        Checks every gradient before anything is updated (see the module docstring) and
        raises TypeError, ValueError or FloatingPointError naming the first that is wrong.
        The usual case (an ndarray gradient of a floating ndarray parameter, same shape) costs
        a few attribute comparisons; anything else goes to `_check_gradient` for the details.
        Finiteness: a finite Σg² proves every element finite (nan and ±inf propagate through
        it); it is one BLAS call (`vdot`, which flattens and raises no floating-point
        warning) and no temporary. Only a non-finite sum (or one that overflowed) needs the
        element-by-element look.
        """
        params = self.params
        grads = []
        for index, p in enumerate(params):
            g = p.grad if given is None else given[index]
            grads.append(g)
            if g is None:
                continue
            if type(g) is np.ndarray:
                data = p.data
                if (type(data) is not np.ndarray or g.shape != data.shape
                        or data.dtype.kind != "f" or g.dtype.kind not in "fiu"):
                    self._check_gradient(index, g)
                finite = math.isfinite(np.vdot(g, g))
            else:
                if type(g) is not float or type(p.data) is not float:
                    self._check_gradient(index, g)
                try:
                    finite = math.isfinite(g)
                except OverflowError:  # an int beyond the float range
                    finite = False
            if not finite:
                self._check_finite(index, g)
        decay = self.weight_decay
        if decay:
            grads = [g if g is None else g + decay * p.data
                     for p, g in zip(params, grads, strict=True)]
        return grads

    def _check_gradient(self, index: int, g: object) -> None:
        """Raise a clear error unless gradient `g` fits parameter `index`; changes nothing.

        Fits: a real-number ndarray, or a real scalar (not bool), of exactly the parameter's
        shape, for a parameter holding floating-point data (float or a floating ndarray).
        """
        p = self.params[index]
        step = f"{type(self).__name__}.step"
        label = _label(p, index)
        unchanged = "; no parameter was updated"
        if isinstance(g, Value):
            raise TypeError(
                f"{step}: the gradient of parameter {label} is an autodiff Value (a graph "
                f"of shape {g.shape}), as `loss.backward(create_graph=True)` leaves it for "
                "higher derivatives; an optimiser needs plain numbers: call "
                "`loss.backward()` without create_graph, or set `p.grad = p.grad.data` "
                f"first{unchanged}"
            )
        if isinstance(g, np.ndarray):
            if g.dtype.kind not in "fiu":  # float, signed or unsigned int
                raise TypeError(
                    f"{step}: the gradient of parameter {label} has dtype {g.dtype}; a "
                    f"gradient must hold real numbers (float or int){unchanged}"
                )
            shape = g.shape
        elif isinstance(g, numbers.Real) and not isinstance(g, bool):
            shape = ()
        else:
            raise TypeError(
                f"{step}: the gradient of parameter {label} is a {type(g).__name__}; a "
                "gradient must be a numpy array of the parameter's shape (or a float, for "
                f"a scalar parameter){unchanged}"
            )
        data = p.data
        if isinstance(data, np.ndarray):
            if data.dtype.kind != "f":
                raise TypeError(
                    f"{step}: parameter {label} holds {data.dtype} data; only floating-point "
                    f"parameters can be updated{unchanged}"
                )
        elif not isinstance(data, numbers.Real) or isinstance(data, bool):
            raise TypeError(
                f"{step}: parameter {label} holds a {type(data).__name__}; only a float or "
                f"a floating-point numpy array can be updated{unchanged}"
            )
        if shape != np.shape(data):
            raise ValueError(
                f"{step}: the gradient of parameter {label} has shape {shape} but the "
                f"parameter has shape {np.shape(data)}; a gradient must have exactly its "
                f"parameter's shape (it is never broadcast){unchanged}"
            )

    def _check_finite(self, index: int, g: object) -> None:
        """Raise FloatingPointError if `g` holds nan or inf (the screen's false alarm: not)."""
        if isinstance(g, np.ndarray) and np.isfinite(g).all():
            return  # finite elements whose Σg² overflowed
        p = self.params[index]
        raise FloatingPointError(
            f"{type(self).__name__}.step: the gradient of parameter {_label(p, index)} "
            f"(shape {p.shape}) contains nan or inf; no parameter was updated"
        )

    def step(self) -> None:
        """Check every gradient (nothing changes if one is wrong), then update every
        parameter that has one, in place under no_grad()."""
        given = None
        if any(p.grad is not None and is_lazy(p.grad) for p in self.params):
            given = list(compute(*(p.grad for p in self.params)))  # one pass over the data
        grads = self._gradients(given)
        with no_grad():
            self._apply(grads)

    def _apply(self, grads: list[Any]) -> None:
        """The update rule, given the checked gradients (None: no gradient)."""
        raise NotImplementedError

    def _scratch(self, like: np.ndarray) -> np.ndarray:
        """A scratch array of `like`'s shape and dtype, kept between steps and shared by
        the parameters of that shape (so an update allocates no full-size temporary)."""
        key = (like.shape, like.dtype)
        buffers = self.__dict__.setdefault("_buffers", {})
        buffer = buffers.get(key)
        if buffer is None:
            buffer = buffers[key] = np.empty(like.shape, like.dtype)
        return buffer

    def _scaled(self, g: Any, factor: float) -> Any:
        """factor·g, written into the scratch array for an array gradient."""
        if type(g) is not np.ndarray or g.dtype.kind != "f":
            return factor * g
        return np.multiply(g, factor, out=self._scratch(g))


def _descend(p: Value, step: Any) -> None:
    """p ← p − step, by the in-place operator (the caller holds no_grad()): the parameter
    keeps its array, and its version moves on, so a graph that read the old data refuses
    backward."""
    p -= step


class SGD(Optimizer):
    """p ← p − lr·v, with v ← momentum·v + g (v = g without momentum).

    lr > 0, 0 <= momentum < 1, weight_decay >= 0 (all finite real numbers).
    """

    momentum: float

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum = _setting("SGD", "momentum", momentum, _FRACTION)
        self.velocity: list[Any] = [None] * len(self.params)

    def _apply(self, grads: list[Any]) -> None:
        lr, momentum, velocity = self.lr, self.momentum, self.velocity
        for index, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            if g is None:
                continue
            if momentum:
                previous = velocity[index]
                if previous is None:
                    g = velocity[index] = np.array(g, copy=True)  # never p.grad itself
                elif type(previous) is np.ndarray:
                    previous *= momentum  # v ← momentum·v + g, in place
                    previous += g
                    g = previous
                else:
                    g = velocity[index] = momentum * previous + g
            _descend(p, self._scaled(g, lr))


class Adam(Optimizer):
    """Adam: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr·m̂ / (√v̂ + ε).

    m̂ = m / (1 − β₁ᵗ) and v̂ = v / (1 − β₂ᵗ) correct the zero start of the averages.
    lr > 0, betas = (β₁, β₂) each in [0, 1), eps > 0, weight_decay >= 0 (all finite).
    """

    beta1: float
    beta2: float
    eps: float
    steps: list[int]

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise TypeError(
                f"Adam: betas must be a pair (beta1, beta2) of real numbers in [0, 1); "
                f"got {betas!r}"
            ) from None
        self.beta1 = _setting("Adam", "betas", beta1, _FRACTION, shown="betas[0] = ")
        self.beta2 = _setting("Adam", "betas", beta2, _FRACTION, shown="betas[1] = ")
        self.eps = _setting("Adam", "eps", eps, _POSITIVE)
        self.first: list[Any] = [None] * len(self.params)
        self.second: list[Any] = [None] * len(self.params)
        self.steps = [0] * len(self.params)

    def _apply(self, grads: list[Any]) -> None:
        beta1, beta2 = self.beta1, self.beta2
        for index, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            if g is None:
                continue
            m, v = self.first[index], self.second[index]
            t = self.steps[index] = self.steps[index] + 1
            step_size = self.lr / (1 - beta1**t)
            if type(g) is not np.ndarray:  # a float parameter (or another kind of array)
                m = (1 - beta1) * g if m is None else beta1 * m + (1 - beta1) * g
                v = (1 - beta2) * (g * g) if v is None else beta2 * v + (1 - beta2) * (g * g)
                self.first[index], self.second[index] = m, v
                _descend(p, step_size * (m / (np.sqrt(v / (1 - beta2**t)) + self.eps)))
                continue
            if g.dtype.kind != "f":
                g = g.astype(np.float64)
            # In place, through one scratch array: no full-size temporary per step.
            scratch = self._scratch(g)
            if m is None:
                m = self.first[index] = (1 - beta1) * g
                v = self.second[index] = np.multiply(g, g)
                v *= 1 - beta2
            else:
                m *= beta1  # m ← β₁m + (1−β₁)g
                np.multiply(g, 1 - beta1, out=scratch)
                m += scratch
                v *= beta2  # v ← β₂v + (1−β₂)g²
                np.multiply(g, g, out=scratch)
                scratch *= 1 - beta2
                v += scratch
            np.divide(v, 1 - beta2**t, out=scratch)  # step_size · m / (√v̂ + ε)
            np.sqrt(scratch, out=scratch)
            scratch += self.eps
            np.divide(m, scratch, out=scratch)
            scratch *= step_size
            _descend(p, scratch)
