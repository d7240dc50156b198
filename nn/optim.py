"""Optimisers: stochastic gradient descent (with momentum) and Adam.

Both read each parameter's `.grad` (parameters without a gradient are skipped), check
that every gradient is finite before changing anything, then update `.data` (in place
when it is a writeable array, so the parameter keeps its array). A nan or
infinite gradient raises `FloatingPointError` naming the parameter, and no parameter is
changed by that step.

Weight decay is the classical L2 penalty: `weight_decay · p` is added to the gradient.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from autodiff import Value

__all__ = ["SGD", "Adam", "Optimizer"]


class Optimizer:
    """Holds the parameters; `zero_grad()` clears their gradients, `step()` updates them."""

    def __init__(self, params: Iterable[Value], lr: float, weight_decay: float = 0.0) -> None:
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty list of parameters")
        for index, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(
                    f"{type(self).__name__}: parameter {index} is a {type(p).__name__}, "
                    "not a Value"
                )
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: lr must be positive; got {lr!r}")
        if not weight_decay >= 0:
            raise ValueError(
                f"{type(self).__name__}: weight_decay must be >= 0; got {weight_decay!r}"
            )
        self.params = params
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (sets `.grad` to None)."""
        for p in self.params:
            p.grad = None

    def _gradients(self) -> list:
        """Each parameter's gradient plus weight decay (None where there is no gradient).

        Raises FloatingPointError, before anything is updated, if a gradient is not finite.
        A finite Σg² proves every element finite (nan and ±inf propagate through it); it is
        one BLAS call (`vdot`, which flattens and raises no floating-point warning) and
        no temporary. Only a non-finite sum (or one that overflowed) needs the
        element-by-element look.
        """
        grads = [p.grad for p in self.params]
        for index, g in enumerate(grads):
            if g is not None and not math.isfinite(
                np.vdot(g, g) if type(g) is np.ndarray else g
            ):
                self._check_finite(index, g)
        decay = self.weight_decay
        if decay:
            grads = [g if g is None else g + decay * p.data
                     for p, g in zip(self.params, grads, strict=True)]
        return grads

    def _check_finite(self, index: int, g: object) -> None:
        if not np.isfinite(g).all():
            p = self.params[index]
            label = p.name if p.name is not None else f"#{index} (unnamed)"
            raise FloatingPointError(
                f"{type(self).__name__}.step: the gradient of parameter {label} "
                f"(shape {p.shape}) contains nan or inf; no parameter was updated"
            )

    def step(self) -> None:
        raise NotImplementedError


def _descend(p: Value, step: object) -> None:
    """p ← p − step: in place for a writeable array (the parameter keeps its array)."""
    data = p.data
    if type(data) is np.ndarray:
        try:
            data -= step
            return
        except ValueError:  # read-only, or a step that does not fit: compute a new array
            pass
    updated = data - step
    p.data = float(updated) if type(data) is float else updated


class SGD(Optimizer):
    """p ← p − lr·v, with v ← momentum·v + g (v = g without momentum)."""

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must lie in [0, 1); got {momentum!r}")
        self.momentum = float(momentum)
        self.velocity: list[object] = [None] * len(self.params)

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        lr, momentum, velocity = self.lr, self.momentum, self.velocity
        grads = self._gradients()
        if not momentum:
            for p, g in zip(self.params, grads, strict=True):
                if g is not None:
                    _descend(p, lr * g)
            return
        for index, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            if g is None:
                continue
            previous = velocity[index]
            g = g if previous is None else momentum * previous + g
            velocity[index] = g
            _descend(p, lr * g)


class Adam(Optimizer):
    """Adam: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr·m̂ / (√v̂ + ε).

    m̂ = m / (1 − β₁ᵗ) and v̂ = v / (1 − β₂ᵗ) correct the zero start of the averages.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        beta1, beta2 = betas
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"Adam: betas must lie in [0, 1); got {betas!r}")
        if not eps > 0:
            raise ValueError(f"Adam: eps must be positive; got {eps!r}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.first: list[object] = [None] * len(self.params)
        self.second: list[object] = [None] * len(self.params)
        self.steps = [0] * len(self.params)

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        beta1, beta2 = self.beta1, self.beta2
        for index, (p, g) in enumerate(zip(self.params, self._gradients(), strict=True)):
            if g is None:
                continue
            m, v = self.first[index], self.second[index]
            if m is None:
                m = (1 - beta1) * g
                v = (1 - beta2) * (g * g)
            else:
                m = beta1 * m + (1 - beta1) * g
                v = beta2 * v + (1 - beta2) * (g * g)
            self.first[index], self.second[index] = m, v
            t = self.steps[index] = self.steps[index] + 1
            step_size = self.lr / (1 - beta1**t)
            denominator = np.sqrt(v / (1 - beta2**t)) + self.eps
            _descend(p, step_size * (m / denominator))
