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
    Adam: a gradient whose square overflows (v would be inf)               FloatingPointError
      (with weight decay: the square of gradient + weight_decay·parameter)
    state of another shape (the parameter's data replaced since the        ValueError
      steps that made SGD's velocity or Adam's moments: make a new optimiser)

The settings (lr, momentum, betas, eps, weight_decay) are checked when the optimiser is
made: TypeError unless a real number (bool is refused), ValueError if not finite or out of
range. A parameter listed twice (the same object) is refused: it would be stepped twice.
So is a computed Value (not a leaf: stepping it would not change what it was computed from),
a single Value in place of a list, and a Module in place of `model.parameters()`.

Weight decay is the classical L2 penalty: `weight_decay · p` is added to the gradient.

float16 parameters are updated in float32 arithmetic, and rounded to float16 once, when the
new value is written: SGD's velocity and Adam's moments are kept in float32. In float16
Adam's eps (1e-8) is 0 and the square of a gradient below 2.4e-4 underflows to 0, so a zero
gradient gave 0/0 = nan weights and a small one −inf; a momentum or weight-decay term past
65,504 was inf. So no finite gradient makes a non-finite parameter, unless the new weight
itself is beyond the parameter's range. (Adam computes in float64 where eps is 0 even in
float32: eps < 1e-45.)

An array parameter is updated block by block (at most `BLOCK` elements at a time, through
a few scratch arrays of that size kept by the optimiser), so a step allocates no
full-size temporary and the optimiser keeps nothing parameter-sized beyond its state
(SGD's momentum, Adam's two moments). Every operation is elementwise, so the result is
the same, bit for bit, as the whole-array formula.

Lazy gradients (Dask arrays, as `loss.backward()` leaves them when the loss was computed
from Dask data) are computed at the step, all of them by one `dask.compute` (one pass over
the data), and then checked and applied as numpy gradients; `.grad` itself is left as it
is. Parameters hold numpy data.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from autodiff import Value, no_grad
from autodiff.extend import compute, is_lazy

from .module import Module

__all__ = ["SGD", "Adam", "Optimizer"]

BLOCK = 1 << 16  # elements per block of an array update (256 KiB of float32 scratch)
SERIAL_DOT = 8192  # OpenBLAS's dot runs on one thread up to 10,000 elements
_EAGER = (np.ndarray, float, type(None))  # gradient types that are never lazy (no Dask test)

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


def _working(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """The dtype an update of data in `dtype` is computed in: float32 at least (float16 is
    widened; an integer gradient counts as float64)."""
    if dtype.kind == "f":
        return dtype if dtype.itemsize >= 4 else _SINGLE
    return _DOUBLE


_SINGLE, _DOUBLE = np.dtype(np.float32), np.dtype(np.float64)


def _widened(x: Any) -> Any:
    """`x` in float32 if it holds float16 (an array or a numpy number), else `x` itself."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype.kind == "f" and dtype.itemsize < 4:
        return x.astype(np.float32)
    return x


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
        wanted = f"{owner}: params must be an iterable of Values (such as model.parameters())"
        if isinstance(params, Value):  # iterating it would give computed rows, not itself
            raise TypeError(f"{wanted}; got a single Value of shape {params.shape}; pass "
                            "[value] to optimise one Value")
        if not isinstance(params, Iterable):
            hint = (f"a Module ({type(params).__name__}); pass model.parameters()"
                    if isinstance(params, Module) else f"a {type(params).__name__}")
            raise TypeError(f"{wanted}; got {hint}")
        params = list(params)
        if not params:
            raise ValueError(f"{owner}: got an empty list of parameters")
        positions: dict[int, list[int]] = {}
        for index, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(
                    f"{owner}: parameter {index} is a {type(p).__name__}, not a Value"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{owner}: parameter {_label(p, index)} is computed (by {p.op}), not a "
                    "leaf Value; an optimiser updates the Values a model holds, and a step "
                    "on a computed Value would not change what it was computed from"
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
        self._block_buffers: dict[tuple[np.dtype[Any], int], np.ndarray] = {}
        self._block_views: dict[tuple[np.dtype[Any], int, tuple[int, ...]], np.ndarray] = {}

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (sets `.grad` to None)."""
        for p in self.params:
            p.grad = None

    def _gradients(self, given: list[Any] | None = None) -> list[Any]:
        """Each parameter's gradient (None where there is no gradient), checked.

        Checks every gradient before anything is updated (see the module docstring) and
        raises TypeError, ValueError or FloatingPointError naming the first that is wrong.
        The usual case (an ndarray gradient of a floating ndarray parameter, same shape) costs
        a few attribute comparisons; anything else goes to `_check_gradient` for the details.
        Finiteness: a finite Σg² proves every element finite (nan and ±inf propagate through
        it); it takes BLAS dots (`_screening_sum`), with no temporary for a C-contiguous
        gradient. Only a non-finite sum (or one that overflowed) needs the element-by-element
        look. `given`: the gradients to check in place of `.grad` (lazy ones, computed).
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
                finite = math.isfinite(_screening_sum(g))
            else:
                if given is None and type(g) not in _EAGER and is_lazy(g):
                    # Lazy gradients (Dask): computed together, in one pass over the data,
                    # and checked from the start (nothing has changed yet).
                    return Optimizer._gradients(self, list(compute(*(q.grad for q in params))))
                if type(g) is not float or type(p.data) is not float:
                    self._check_gradient(index, g)
                try:
                    finite = math.isfinite(g)
                except OverflowError:  # an int beyond the float range
                    finite = False
            if not finite:
                self._check_finite(index, g)
        return grads

    def _check_state(self, index: int, what: str, state: Any, data: Any) -> None:
        """ValueError unless `state` (the velocity or first moment kept for parameter
        `index` by earlier steps) still fits its data: the same shape, and an array for an
        array parameter (a number would be updated in place as a local name only: frozen).
        The usual case, arrays of one shape, is tested by the callers without a call."""
        number_for_array = isinstance(data, np.ndarray) and not isinstance(state, np.ndarray)
        if np.shape(state) == np.shape(data) and not number_for_array:
            return
        kinds = f" ({what} a number, the parameter now an array)" if number_for_array else ""
        raise ValueError(
            f"{type(self).__name__}.step: parameter {_label(self.params[index], index)} has "
            f"shape {np.shape(data)} but its {what}, kept from earlier steps, has shape "
            f"{np.shape(state)}{kinds}: the parameter's data was replaced since. Make a new "
            "optimiser for the new parameters (it starts without state); no parameter was "
            "updated"
        )

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
        """Check every gradient (nothing changes if one is wrong; lazy ones are computed
        first, together), then update every parameter that has one, in place (recording no
        graph)."""
        grads = self._gradients()
        decay = self.weight_decay
        for index, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            if g is None:
                continue
            data = p.data
            if type(g) is np.ndarray and type(data) is np.ndarray and data.flags.writeable:
                p.data = data  # the same array, a new version: a graph that read it is stale
                self._update_array(index, data, g)  # (numpy's in-place ufuncs: no graph)
            else:  # a float, lazy data, or a read-only array: the whole-value formula
                g = _widened(g)  # float16: computed in float32 (see the module docstring)
                with no_grad():
                    self._update_number(index, p, g + decay * _widened(data) if decay else g)

    def _update_array(self, index: int, data: np.ndarray, g: np.ndarray) -> None:
        """The update rule for parameter `index`, written into its array `data` block by
        block (`g`: its checked gradient, without weight decay)."""
        raise NotImplementedError

    def _update_number(self, index: int, p: Value, g: Any) -> None:
        """The update rule as one whole-value formula, applied by the in-place operator
        (`g`: the checked gradient, weight decay included). For a float parameter, lazy
        data, and a read-only array: one the engine guards while a graph that read it
        waits for backward (given back and written), or the caller's (replaced)."""
        raise NotImplementedError

    def _gradient_dtype(self, g: np.ndarray, data: np.ndarray) -> np.dtype[Any]:
        """The dtype of g + weight_decay·p and of the optimiser's state (an integer
        gradient counts as float64, float16 as float32)."""
        dtype = g.dtype if g.dtype.kind == "f" else np.dtype(np.float64)
        return _working(np.result_type(dtype, data.dtype) if self.weight_decay else dtype)

    def _gradient_block(self, g: np.ndarray, data: np.ndarray) -> np.ndarray:
        """One block of g + weight_decay·p (g itself without weight decay), in scratch.

        Bit for bit the whole-array `g + weight_decay * p`: weight_decay·p in p's dtype,
        then the sum in the common dtype (float16 in float32: `_gradient_dtype`). An
        integer gradient is converted to float64; a float16 one without weight decay is
        returned as it is (the callers compute with it in float32).
        """
        if g.dtype.kind != "f":
            g = g.astype(np.float64)
        decay = self.weight_decay
        if not decay:
            return g
        product = _working(data.dtype)
        decayed = self._buffer(product, 1, data)
        np.multiply(data, decay, out=decayed, dtype=product)
        dtype = self._gradient_dtype(g, data)
        total = decayed if dtype == decayed.dtype else self._buffer(dtype, 2, data)
        return np.add(g, decayed, out=total, dtype=dtype)

    def _buffer(self, dtype: np.dtype[Any], slot: int, like: np.ndarray) -> np.ndarray:
        """Scratch of `like`'s shape in `dtype`: a view of the optimiser's buffer number
        `slot` of that dtype, kept between steps (never more than BLOCK elements)."""
        key = (dtype, slot, like.shape)
        view = self._block_views.get(key)  # (the view is kept: one dict lookup per block)
        if view is None:
            base_key = (dtype, slot)
            buffer = self._block_buffers.get(base_key)
            if buffer is None or buffer.size < like.size:
                buffer = self._block_buffers[base_key] = np.empty(like.size, dtype)
                self._block_views.clear()  # views of a smaller buffer would keep it alive
            view = self._block_views[key] = buffer[:like.size].reshape(like.shape)
        return view

    def _descend_block(self, data: np.ndarray, step: np.ndarray, factor: float) -> None:
        """data ← data − factor·step, for one block (factor·step in step's dtype, float16
        in float32; the difference in the wider dtype, rounded to data's)."""
        dtype = _working(step.dtype)
        scaled = self._buffer(dtype, 0, data)
        if dtype is step.dtype:
            np.multiply(step, factor, out=scaled)
        else:
            np.multiply(step, factor, out=scaled, dtype=dtype)
        np.subtract(data, scaled, out=data)


def _screening_sum(g: np.ndarray) -> Any:
    """Σg², finite only if every element of `g` is and every g² fits (nan and ±inf propagate
    through it): BLAS dots, which flatten and raise no floating-point warning, of at most
    SERIAL_DOT elements from there up to BLOCK elements (a threaded dot of that size waits
    milliseconds for a core on a busy machine to do microseconds of work)."""
    size = g.size
    if size <= SERIAL_DOT or size > BLOCK:
        return np.vdot(g, g)
    flat = g.reshape(-1)  # (a copy of at most BLOCK elements if g is not C-contiguous)
    total = 0.0
    for start in range(0, size, SERIAL_DOT):
        chunk = flat[start:start + SERIAL_DOT]
        total += float(np.vdot(chunk, chunk))  # (a Python float overflows to inf quietly)
    return total


def _blocks(*arrays: np.ndarray) -> Iterable[tuple[np.ndarray, ...]]:
    """Matching views into arrays of one shape, at most BLOCK elements each, that together
    cover every element once: flat slices when every array is C-contiguous, otherwise
    slices along the first axis (a row larger than a block is taken apart in turn)."""
    if arrays[0].size <= BLOCK:
        return (arrays,)  # one block: no generator to run for the common parameter sizes
    return _block_views(arrays)


def _block_views(arrays: tuple[np.ndarray, ...]) -> Iterator[tuple[np.ndarray, ...]]:
    first = arrays[0]
    size = first.size
    if all(a.flags.c_contiguous for a in arrays):
        flat = [a.reshape(-1) for a in arrays]  # views: no copy of a C-contiguous array
        for start in range(0, size, BLOCK):
            yield tuple(f[start:start + BLOCK] for f in flat)
        return
    rows = first.shape[0]
    rows_per_block = BLOCK // (size // rows)
    if rows_per_block:
        for start in range(0, rows, rows_per_block):
            yield from _blocks(*(a[start:start + rows_per_block] for a in arrays))
    else:
        for row in range(rows):
            yield from _blocks(*(a[row] for a in arrays))


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

    def _gradients(self, given: list[Any] | None = None) -> list[Any]:
        """The checked gradients, and with momentum: each velocity v must still have its
        parameter's shape (ValueError otherwise; nothing changes)."""
        grads = super()._gradients(given)
        if self.momentum:
            params = self.params
            for index, v in enumerate(self.velocity):
                if v is None or grads[index] is None:
                    continue
                data = params[index].data
                if type(v) is not np.ndarray or type(data) is not np.ndarray \
                        or v.shape != data.shape:
                    self._check_state(index, "velocity", v, data)
        return grads

    def _update_array(self, index: int, data: np.ndarray, g: np.ndarray) -> None:
        lr, momentum = self.lr, self.momentum
        if not momentum and not self.weight_decay and g.dtype is data.dtype \
                and data.size <= BLOCK:  # the usual case, one block: p ← p − lr·g
            self._descend_block(data, g, lr)
            return
        if not momentum:
            for block, g_block in _blocks(data, g):
                self._descend_block(block, self._gradient_block(g_block, block), lr)
            return
        velocity = self.velocity[index]
        starting = velocity is None
        if starting:  # v ← g on the first step (an array of the optimiser's own)
            velocity = self.velocity[index] = np.empty(g.shape, self._gradient_dtype(g, data))
        for block, g_block, v_block in _blocks(data, g, velocity):
            g_block = self._gradient_block(g_block, block)
            if starting:
                np.copyto(v_block, g_block)
            else:
                v_block *= momentum  # v ← momentum·v + g, in place
                v_block += g_block
            self._descend_block(block, v_block, lr)

    def _update_number(self, index: int, p: Value, g: Any) -> None:
        momentum = self.momentum
        if momentum:
            previous = self.velocity[index]
            if previous is None:
                g = self.velocity[index] = np.array(g, copy=True)  # never p.grad itself
            elif type(previous) is np.ndarray:
                previous *= momentum  # v ← momentum·v + g, in place
                previous += g
                g = previous
            else:
                g = self.velocity[index] = momentum * previous + g
        _descend(p, self.lr * g)


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

    def _gradients(self, given: list[Any] | None = None) -> list[Any]:
        """The checked gradients, and for a scalar one: its square must fit its dtype. With
        weight decay the moments see g + weight_decay·p, whose square must fit as well."""
        grads = super()._gradients(given)
        decay = self.weight_decay
        first = self.first
        for index, g in enumerate(grads):
            if g is None:
                continue
            data = self.params[index].data
            m = first[index]
            if m is not None and (type(m) is not np.ndarray or type(data) is not np.ndarray
                                  or m.shape != data.shape):
                self._check_state(index, "first moment", m, data)
            if type(g) is not np.ndarray:
                dtype = self._arithmetic_dtype(np.result_type(g))
                self._check_square(index, g, dtype)
                if decay and type(data) is float:
                    self._check_square(index, g + decay * data, dtype, decayed=True)
            elif decay and type(data) is np.ndarray and g.size:
                self._check_decayed_square(index, g, data)
        return grads

    def _check_decayed_square(self, index: int, g: np.ndarray, data: np.ndarray) -> None:
        """FloatingPointError if (g + weight_decay·p)² overflows the second moment's dtype.
        A bound first, max|g| + weight_decay·max|p|, by reductions without a temporary; the
        exact largest element only when the bound is past the limit."""
        decay, dtype = self.weight_decay, self._gradient_dtype(g, data)
        limit = math.sqrt(float(np.finfo(dtype).max))
        bound = max(float(g.max()), -float(g.min())) + decay * max(float(data.max()),
                                                                     -float(data.min()))
        if bound > limit:
            with np.errstate(over="ignore"):  # (an inf here is refused by the check)
                decayed = np.add(g, np.multiply(data, decay, dtype=_working(data.dtype)),
                                 dtype=dtype)  # (as `_gradient_block` computes it)
            self._check_square(index, decayed, dtype, decayed=True)

    def _arithmetic_dtype(self, dtype: np.dtype[Any]) -> np.dtype[Any]:
        """The dtype Adam computes in for a gradient of `dtype`: float32 at least, float64
        where eps is 0 in it (eps < 1e-45 in float32: a zero gradient would give 0/0)."""
        dtype = _working(dtype)
        return np.dtype(np.float64) if dtype.type(self.eps) == 0 else dtype

    def _gradient_dtype(self, g: np.ndarray, data: np.ndarray) -> np.dtype[Any]:
        """The dtype of g + weight_decay·p and of the moments (see `_arithmetic_dtype`)."""
        return self._arithmetic_dtype(super()._gradient_dtype(g, data))

    def _check_finite(self, index: int, g: object) -> None:
        """Also refuse an array gradient whose square overflows the second moment's dtype
        (only reached when the screen's Σg² overflowed: each g² fits when it does not)."""
        super()._check_finite(index, g)
        if isinstance(g, np.ndarray):
            self._check_square(index, g, self._gradient_dtype(g, self.params[index].data))

    def _check_square(self, index: int, g: Any, dtype: np.dtype[Any],
                      decayed: bool = False) -> None:
        """FloatingPointError if g² overflows `dtype`: v would be inf, and every later step
        of the weight lr·m̂ / inf = 0, training of it stopped for good. (`decayed`: g is
        the gradient plus weight_decay·p.)"""
        with np.errstate(over="ignore"):  # (an overflowed sum is inf: refused below)
            largest = float(np.max(np.abs(g)))
        if largest > math.sqrt(float(np.finfo(dtype).max)):
            p = self.params[index]
            what = " plus weight_decay × the parameter" if decayed else ""
            raise FloatingPointError(
                f"Adam.step: the gradient of parameter {_label(p, index)}{what} holds "
                f"{largest:g}, whose square overflows {dtype} in Adam's second moment (v "
                "would be inf and the weight would never move again); no parameter was "
                "updated"
            )

    def _update_array(self, index: int, data: np.ndarray, g: np.ndarray) -> None:
        beta1, beta2, eps = self.beta1, self.beta2, self.eps
        t = self.steps[index] = self.steps[index] + 1
        step_size = self.lr / (1 - beta1**t)
        correction = 1 - beta2**t
        m, v = self.first[index], self.second[index]
        starting = m is None
        if starting:  # the moments' own arrays, filled by the first step
            dtype = self._gradient_dtype(g, data)
            m = self.first[index] = np.empty(g.shape, dtype)
            v = self.second[index] = np.empty(g.shape, dtype)
        work = m.dtype  # the arithmetic's dtype (float32 for float16 parameters)
        for block, g_block, m_block, v_block in _blocks(data, g, m, v):
            g_block = self._gradient_block(g_block, block)
            scratch = self._buffer(work, 0, block)
            if starting:  # m ← (1−β₁)g, v ← (1−β₂)g²
                np.multiply(g_block, 1 - beta1, out=m_block, dtype=work)
                np.multiply(g_block, g_block, out=v_block, dtype=work)
                v_block *= 1 - beta2
            else:
                m_block *= beta1  # m ← β₁m + (1−β₁)g
                np.multiply(g_block, 1 - beta1, out=scratch, dtype=work)
                m_block += scratch
                v_block *= beta2  # v ← β₂v + (1−β₂)g²
                np.multiply(g_block, g_block, out=scratch, dtype=work)
                scratch *= 1 - beta2
                v_block += scratch
            np.divide(v_block, correction, out=scratch)  # step_size · m / (√v̂ + ε)
            np.sqrt(scratch, out=scratch)
            scratch += eps
            np.divide(m_block, scratch, out=scratch)
            scratch *= step_size
            np.subtract(block, scratch, out=block)  # in `work`, rounded to the parameter's

    def _update_number(self, index: int, p: Value, g: Any) -> None:
        given = np.result_type(g)
        work = self._arithmetic_dtype(given)
        if given.kind == "f" and work != given:  # float16, or eps is 0 in it
            g = np.asarray(g, dtype=work)
        beta1, beta2 = self.beta1, self.beta2
        m, v = self.first[index], self.second[index]
        t = self.steps[index] = self.steps[index] + 1
        if type(m) is np.ndarray:  # m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², in place: the
            m *= beta1  # arrays the block-by-block steps write, and keep writing
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * (g * g)
        else:
            m = (1 - beta1) * g if m is None else beta1 * m + (1 - beta1) * g
            v = (1 - beta2) * (g * g) if v is None else beta2 * v + (1 - beta2) * (g * g)
            if isinstance(m, np.generic):  # from a 0-d array: kept as a 0-d array, which
                m, v = np.array(m), np.array(v)  # a later in-place step can write
            self.first[index], self.second[index] = m, v
        step_size = self.lr / (1 - beta1**t)
        _descend(p, step_size * (m / (np.sqrt(v / (1 - beta2**t)) + self.eps)))
