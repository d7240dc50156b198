"""Hypothesis strategies for property-testing gradients (needs `pip install autodiff[testing]`).

* `arrays(shape, dtype, elements)`: numpy arrays, well-conditioned by default (bounded, no
  nan/inf, optionally kept away from kinks and free of ties).
* `broadcastable_shapes(n)`: n shapes that broadcast together.
* `values(shape, dtype, ...)`: `Value`s holding such arrays.
* `graphs(ops, max_depth)`: random compositions of the built-in operations over a few
  inputs, with every operation's input kept inside its domain (`Graph` objects: call them
  on their `.args`, or hand both to `check_grad`).

    from hypothesis import given
    from autodiff.testing import check_grad
    from autodiff.testing.strategies import graphs

    @given(graphs(max_depth=4))
    def test_random_graphs(graph):
        check_grad(graph, *graph.args, order=2)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff
from autodiff import Value

__all__ = [
    "GRAPH_OPS",
    "Graph",
    "arrays",
    "broadcastable_shapes",
    "graphs",
    "shapes",
    "values",
]

ShapeLike = tuple[int, ...] | int | st.SearchStrategy | None
DtypeLike = Any


# --------------------------------------------------------------------------- shapes


def shapes(
    *, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes with `min_dims`..`max_dims` axes of `min_side`..`max_side` elements."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(
    n: int, *, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Tuples of `n` shapes that broadcast together (`np.broadcast_shapes(*shapes)` works).

    Shapes may differ in length and have 1s where the others do not, e.g. ((3, 1), (4,)).
    """
    if n < 1:
        raise ValueError(f"broadcastable_shapes: n must be at least 1, got {n}")
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
        max_side=max_side,
    ).map(lambda drawn: tuple(drawn.input_shapes))


def _shape_strategy(shape: ShapeLike) -> st.SearchStrategy[tuple[int, ...]]:
    if shape is None:
        return shapes()
    if isinstance(shape, st.SearchStrategy):
        return shape
    if isinstance(shape, int):
        return st.just((shape,))
    return st.just(tuple(shape))


def _dtype_strategy(dtype: DtypeLike) -> st.SearchStrategy[np.dtype]:
    if isinstance(dtype, st.SearchStrategy):
        return dtype.map(np.dtype)
    return st.just(np.dtype(dtype))


# --------------------------------------------------------------------------- arrays


def _allowed_intervals(low: float, high: float, avoid: Iterable[float], margin: float):
    """[low, high] with the open intervals (p − margin, p + margin) removed, as (a, b) pairs."""
    if not low < high:
        raise ValueError(f"arrays: need low < high, got low={low}, high={high}")
    intervals = [(float(low), float(high))]
    for point in sorted(float(p) for p in avoid):
        remaining = []
        for a, b in intervals:
            if point + margin <= a or point - margin >= b:
                remaining.append((a, b))
                continue
            if a < point - margin:
                remaining.append((a, point - margin))
            if point + margin < b:
                remaining.append((point + margin, b))
        intervals = remaining
    if not intervals:
        raise ValueError(
            f"arrays: nothing left of [{low}, {high}] after avoiding {tuple(avoid)} by {margin}"
        )
    return intervals


def _squeeze_into(t: np.ndarray, intervals) -> np.ndarray:
    """Map t ∈ [0, total length] monotonically onto the union of intervals (skipping gaps)."""
    starts = np.array([a for a, _ in intervals])
    lengths = np.array([b - a for a, b in intervals])
    offsets = np.concatenate([[0.0], np.cumsum(lengths)])
    piece = np.clip(np.searchsorted(offsets, t, side="right") - 1, 0, len(intervals) - 1)
    return starts[piece] + np.minimum(t - offsets[piece], lengths[piece])


@st.composite
def _well_conditioned(draw, shape, dtype, low, high, avoid, margin, distinct):
    shape = draw(_shape_strategy(shape))
    dtype = draw(_dtype_strategy(dtype))
    intervals = _allowed_intervals(low, high, avoid, margin)
    total = sum(b - a for a, b in intervals)
    size = math.prod(shape)
    if distinct and size > 1:
        # one slot per element along the allowed range, shuffled, each jittered inside its
        # slot: neighbours end up at least total / (2·size) apart
        slots = np.array(draw(st.permutations(range(size))), dtype=np.float64)
        jitter = draw(hnp.arrays(np.float64, size, elements=st.floats(-0.25, 0.25)))
        t = (slots + 0.5 + jitter) * (total / size)
    else:
        t = draw(hnp.arrays(np.float64, size, elements=st.floats(0.0, total)))
    return _squeeze_into(t, intervals).reshape(shape).astype(dtype)


def arrays(
    shape: ShapeLike = None,
    dtype: DtypeLike = np.float64,
    elements: st.SearchStrategy[float] | None = None,
    *,
    low: float = -2.0,
    high: float = 2.0,
    avoid: Sequence[float] = (),
    margin: float = 0.1,
    distinct: bool = False,
) -> st.SearchStrategy[np.ndarray]:
    """Numpy arrays for gradient checks.

    Args:
        shape: a shape, an int (1-D length), a strategy of shapes, or None (0 to 3 axes of
            1 to 4 elements).
        dtype: a floating dtype or a strategy of dtypes.
        elements: a hypothesis strategy for the elements; when given, the conditioning
            keywords below are ignored and the array is built by `hypothesis.extra.numpy`.
        low, high: elements lie in [low, high].
        avoid: points every element stays at least `margin` away from (kinks: 0 for relu
            and abs, the bounds of a clip).
        distinct: no two elements within total_allowed_length / (2·size) of each other (no
            ties for max, min or maximum between elements).
    """
    if elements is not None:
        return st.tuples(_shape_strategy(shape), _dtype_strategy(dtype)).flatmap(
            lambda sd: hnp.arrays(sd[1], sd[0], elements=elements)
        )
    _allowed_intervals(low, high, avoid, margin)  # fail now, not inside a test, if empty
    return _well_conditioned(shape, dtype, low, high, tuple(avoid), margin, distinct)


def values(
    shape: ShapeLike = None,
    dtype: DtypeLike = np.float64,
    elements: st.SearchStrategy[float] | None = None,
    *,
    low: float = -2.0,
    high: float = 2.0,
    avoid: Sequence[float] = (),
    margin: float = 0.1,
    distinct: bool = False,
    requires_grad: bool = True,
) -> st.SearchStrategy[Value]:
    """`Value`s holding `arrays(...)` (same arguments); a float64 0-d array becomes a float."""
    return arrays(shape, dtype, elements, low=low, high=high, avoid=avoid, margin=margin,
                  distinct=distinct).map(lambda data: Value(data, requires_grad=requires_grad))


# --------------------------------------------------------------------------- graphs

GRAPH_OPS = (
    "add", "subtract", "multiply", "divide", "power", "power_value", "negative", "matmul",
    "relu", "tanh", "sigmoid", "exp", "log", "sqrt", "abs", "sin", "cos",
    "sum", "mean", "max", "min", "reshape", "transpose", "softmax", "log_softmax",
    "logsumexp", "clip", "getitem", "concatenate", "stack", "where", "maximum", "minimum",
    "astype",
)

_KINK_MARGIN = 0.1      # distance kept from kinks and ties
_POSITIVE_MIN = 0.3     # smallest input to log, sqrt, fractional powers, denominators
_LARGEST = 10.0         # every intermediate stays within ±_LARGEST


@dataclass(frozen=True)
class _Step:
    target: str
    op: str
    operands: tuple[str, ...]
    params: dict = field(default_factory=dict)
    text: str = ""


def _fmt(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return np.array2string(x, separator=", ", max_line_width=10_000, threshold=10_000,
                               floatmode="unique")  # digits enough to round-trip
    if isinstance(x, float):
        return f"{x:.6g}"
    return repr(x)


def _matrix_transpose_axes(ndim: int) -> tuple[int, ...]:
    return (*range(ndim - 2), ndim - 1, ndim - 2)


def _apply(step: _Step, env: dict[str, Any]) -> Any:
    a, *rest = (env[name] for name in step.operands)
    b = rest[0] if rest else None
    p = step.params
    op = step.op
    if op == "add":
        return a + b
    if op == "subtract":
        return a - b
    if op == "multiply":
        return a * b
    if op == "divide":
        return a / b
    if op in ("power", "power_value"):
        return a ** (p["exponent"] if op == "power" else b)
    if op == "negative":
        return -a
    if op == "matmul":
        return a @ (b if b.ndim == 1 else b.transpose(*_matrix_transpose_axes(b.ndim)))
    if op in ("relu", "tanh", "sigmoid", "exp", "log", "sqrt", "abs", "sin", "cos"):
        return getattr(a, op)()
    if op in ("sum", "mean", "max", "min", "logsumexp"):
        return getattr(a, op)(axis=p["axis"], keepdims=p["keepdims"])
    if op in ("softmax", "log_softmax"):
        return getattr(a, op)(axis=p["axis"])
    if op == "reshape":
        return a.reshape(*p["shape"])
    if op == "transpose":
        return a.T if p["axes"] is None else a.transpose(*p["axes"])
    if op == "getitem":
        return a[p["index"]]
    if op == "concatenate":
        return autodiff.concatenate([a, b], axis=p["axis"])
    if op == "stack":
        return autodiff.stack([a, b], axis=p["axis"])
    if op == "where":
        return autodiff.where(p["condition"], a, b)
    if op == "maximum":
        return autodiff.maximum(a, b)
    if op == "minimum":
        return autodiff.minimum(a, b)
    if op == "clip":
        return a.clip(p["lo"], p["hi"])
    if op == "astype":
        return a.astype(np.float64)
    raise ValueError(f"unknown graph op {op!r}")


class Graph:
    """A random composition of built-in operations: callable, with the point to test at.

    `graph(*graph.args)` evaluates it (with Values or arrays); `graph.args` are the drawn
    inputs (numpy arrays), `graph.ops` the operations used in order, `graph.steps` the
    program's lines, and `repr(graph)` is that program as Python source (with the inputs),
    which is what hypothesis prints for a failing example.
    """

    def __init__(self, inputs: tuple[np.ndarray, ...], steps: tuple[_Step, ...]) -> None:
        self.args = inputs
        self.steps = steps

    @property
    def ops(self) -> tuple[str, ...]:
        return tuple(step.op for step in self.steps)

    def __call__(self, *args: Any) -> Value:
        values = self.intermediates(*args)
        return values[self.steps[-1].target] if self.steps else values["x0"]

    def intermediates(self, *args: Any) -> dict[str, Value]:
        """Every named value of the program (`x0`…, `t1`…) evaluated at `args`."""
        if len(args) != len(self.args):
            raise TypeError(f"this graph takes {len(self.args)} inputs, got {len(args)}")
        env = {f"x{i}": a if isinstance(a, Value) else Value(a, requires_grad=False)
               for i, a in enumerate(args)}
        for step in self.steps:
            env[step.target] = _apply(step, env)
        return env

    def __repr__(self) -> str:
        names = ", ".join(f"x{i}" for i in range(len(self.args)))
        lines = [f"def graph({names}):"]
        lines += [f"    {step.target} = {step.text}" for step in self.steps]
        lines.append(f"    return {self.steps[-1].target if self.steps else 'x0'}")
        for i, x in enumerate(self.args):
            lines.append(f"x{i} = np.array({_fmt(x)}, dtype=np.{x.dtype})")
        return "\n".join(lines)


def _broadcasts(*shapes_: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(*shapes_)
    except ValueError:
        return False
    return True


def _axis_text(params: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


def _top_gap(x: np.ndarray, axis: Any, largest: bool) -> float:
    """Smallest distance between the extremum and the runner-up along `axis`."""
    x = np.asarray(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    elif isinstance(axis, tuple):  # gather the reduced axes into one trailing axis
        axes = [a % x.ndim for a in axis]
        x = np.moveaxis(x, axes, range(-len(axes), 0))
        x, axis = x.reshape(*x.shape[: x.ndim - len(axes)], -1), -1
    if x.shape[axis] < 2:
        return np.inf
    ordered = np.sort(x if largest else -x, axis=axis)
    top = np.take(ordered, -1, axis=axis)
    second = np.take(ordered, -2, axis=axis)
    return float(np.min(top - second))


class _Builder:
    """Proposes one step at a time, using the concrete values at the drawn inputs."""

    def __init__(self, draw, pool: dict[str, np.ndarray]) -> None:
        self.draw = draw
        self.pool = pool  # name → float64 value at the drawn inputs

    def _partner(self, name: str, accept: Callable[[np.ndarray], bool]) -> str | None:
        a = self.pool[name]
        options = [n for n, v in self.pool.items() if _broadcasts(a.shape, v.shape) and accept(v)]
        return self.draw(st.sampled_from(options)) if options else None

    def _axis(self, ndim: int, allow_none: bool = True) -> Any:
        choices: list[Any] = [None] if allow_none else []
        choices += list(range(ndim)) + [-1] * (ndim > 0)
        if ndim >= 2 and allow_none:
            choices.append((0, ndim - 1))
        return self.draw(st.sampled_from(choices))

    def propose(self, op: str, name: str) -> tuple[tuple[str, ...], dict, str] | None:
        a = self.pool[name]
        draw = self.draw
        binary = {"add": "+", "subtract": "-", "multiply": "*"}
        if op in binary:
            other = self._partner(name, lambda v: True)
            return (name, other), {}, f"{name} {binary[op]} {other}"
        if op == "divide":
            other = self._partner(name, lambda v: np.min(np.abs(v)) >= _POSITIVE_MIN)
            return None if other is None else ((name, other), {}, f"{name} / {other}")
        if op == "power":
            exponent = draw(st.sampled_from([2, 3, 0.5, 1.5, -1, -0.5]))
            if not isinstance(exponent, int) or exponent < 0:
                if np.min(a) < _POSITIVE_MIN:
                    return None
            return (name,), {"exponent": exponent}, f"{name} ** {exponent}"
        if op == "power_value":
            if np.min(a) < _POSITIVE_MIN:
                return None
            if np.max(a) > 4:
                return None
            other = self._partner(name, lambda v: np.max(np.abs(v)) <= 2)
            return None if other is None else ((name, other), {}, f"{name} ** {other}")
        if op == "negative":
            return (name,), {}, f"-{name}"
        if op == "matmul":
            if a.ndim == 0:
                return None
            same = [n for n, v in self.pool.items() if v.shape == a.shape]
            other = draw(st.sampled_from(same))
            if a.ndim == 1:
                return (name, other), {}, f"{name} @ {other}"
            if a.ndim == 2:
                return (name, other), {}, f"{name} @ {other}.T"
            axes = _matrix_transpose_axes(a.ndim)
            return (name, other), {}, f"{name} @ {other}.transpose{axes}"
        if op in ("relu", "abs"):
            if np.min(np.abs(a)) < _KINK_MARGIN:
                return None
            return (name,), {}, f"{name}.{op}()"
        if op in ("log", "sqrt"):
            if np.min(a) < _POSITIVE_MIN:
                return None
            return (name,), {}, f"{name}.{op}()"
        if op == "exp":
            if np.max(a) > 2:
                return None
            return (name,), {}, f"{name}.exp()"
        if op in ("sin", "cos") and np.max(np.abs(a)) > 5:
            return None
        if op in ("tanh", "sigmoid", "sin", "cos"):
            return (name,), {}, f"{name}.{op}()"
        if op in ("sum", "mean", "max", "min", "logsumexp"):
            params = {"axis": self._axis(a.ndim), "keepdims": draw(st.booleans())}
            if op in ("max", "min") and _top_gap(a, params["axis"], op == "max") < _KINK_MARGIN:
                return None
            return (name,), params, f"{name}.{op}({_axis_text(params)})"
        if op in ("softmax", "log_softmax"):
            if a.ndim == 0:
                return None
            params = {"axis": self._axis(a.ndim, allow_none=False)}
            return (name,), params, f"{name}.{op}({_axis_text(params)})"
        if op == "reshape":
            targets = {(a.size,), (1, *a.shape), (*a.shape, 1), a.shape[::-1]}
            shape = draw(st.sampled_from(sorted(targets)))
            return (name,), {"shape": shape}, f"{name}.reshape{shape}"
        if op == "transpose":
            if a.ndim < 2:
                return None
            axes = draw(st.one_of(st.none(), st.permutations(range(a.ndim)).map(tuple)))
            text = f"{name}.T" if axes is None else f"{name}.transpose{axes}"
            return (name,), {"axes": axes}, text
        if op == "getitem":
            if a.ndim == 0:
                return None
            index = self._index(a.shape)
            return (name,), {"index": index}, f"{name}[{_index_text(index)}]"
        if op in ("concatenate", "stack"):
            if op == "concatenate" and a.ndim == 0:
                return None
            same = [n for n, v in self.pool.items() if v.shape == a.shape]
            other = draw(st.sampled_from(same))
            axis = draw(st.integers(0, a.ndim - 1 if op == "concatenate" else a.ndim))
            return (name, other), {"axis": axis}, \
                f"autodiff.{op}([{name}, {other}], axis={axis})"
        if op == "where":
            other = self._partner(name, lambda v: True)
            shape = np.broadcast_shapes(a.shape, self.pool[other].shape)
            condition = draw(hnp.arrays(np.bool_, shape))
            return (name, other), {"condition": condition}, \
                f"autodiff.where({_fmt(condition)}, {name}, {other})"
        if op in ("maximum", "minimum"):
            other = self._partner(name, lambda v: np.min(np.abs(
                np.broadcast_to(a, np.broadcast_shapes(a.shape, v.shape)) - v)) >= _KINK_MARGIN)
            return None if other is None else ((name, other), {}, f"autodiff.{op}({name}, {other})")
        if op == "clip":
            ordered = np.unique(a)
            cuts = [float(ordered[0]) - 1.0, float(ordered[-1]) + 1.0]
            cuts += [float(lo + hi) / 2 for lo, hi in itertools.pairwise(ordered)
                     if hi - lo >= 2 * _KINK_MARGIN]
            cuts = sorted(round(c, 3) for c in cuts)
            lo = draw(st.sampled_from([None, *cuts[:-1]]))
            hi = draw(st.sampled_from([None] + [c for c in cuts if lo is None or c > lo]))
            if lo is None and hi is None:
                return None
            params = {"lo": lo, "hi": hi}
            return (name,), params, f"{name}.clip({lo!r}, {hi!r})"
        if op == "astype":
            return (name,), {}, f"{name}.astype(np.float64)"
        raise ValueError(f"graphs: unknown op {op!r}; choose from {GRAPH_OPS}")

    def _index(self, shape: tuple[int, ...]) -> Any:
        draw = self.draw
        kind = draw(st.sampled_from(["int", "slice", "none_ellipsis", "int_array", "mask"]))
        n = shape[0]
        if kind == "int":
            return draw(st.integers(-n, n - 1))
        if kind == "slice":
            start = draw(st.integers(0, n - 1))
            stop = draw(st.integers(start + 1, n))
            step = draw(st.integers(1, 2))
            return slice(start, stop, step)
        if kind == "none_ellipsis":
            return (None, Ellipsis, draw(st.integers(0, shape[-1] - 1)))
        if kind == "int_array":
            picks = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))
            return np.array(picks + picks[:1])  # at least one repeated index
        mask = draw(hnp.arrays(np.bool_, shape))
        if not mask.any():
            mask.reshape(-1)[0] = True
        return mask


def _index_text(index: Any) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    text = []
    for p in parts:
        if p is None:
            text.append("None")
        elif p is Ellipsis:
            text.append("...")
        elif isinstance(p, slice):
            text.append(f"{p.start}:{p.stop}:{p.step}")
        else:
            text.append(_fmt(p))
    return ", ".join(text)


def graphs(
    ops: Sequence[str] | None = None,
    max_depth: int = 4,
    *,
    min_depth: int = 1,
    max_inputs: int = 3,
    dtype: DtypeLike = np.float64,
    max_dims: int = 3,
    max_side: int = 3,
) -> st.SearchStrategy[Graph]:
    """Random `Graph`s: `min_depth` to `max_depth` operations drawn from `ops` (default:
    all of `GRAPH_OPS`), chained so that each consumes the previous result (and, for binary
    ops, any earlier value), over 1 to `max_inputs` inputs of mutually broadcastable shapes
    (at most `max_dims` axes of at most `max_side` elements), of `dtype` (or a strategy of
    dtypes). A step whose op cannot apply to the current values (log of a negative, say)
    is replaced by another op from `ops`; if none applies the graph is shorter.

    Domains are kept valid at the drawn inputs with room to spare for finite differences:
    log, sqrt, fractional powers and denominators see inputs ≥ 0.3; relu and abs inputs stay
    ≥ 0.1 from 0; max/min keep the winner ≥ 0.1 from the runner-up; maximum/minimum
    operands differ by ≥ 0.1; clip bounds sit ≥ 0.1 from every element; exp sees inputs
    ≤ 2, sin and cos inputs within ±5, a Value exponent bases ≤ 4 and exponents within ±2;
    every intermediate stays within ±10 (so derivatives stay moderate and finite
    differences accurate). Index arrays always repeat an index.
    """
    ops = tuple(GRAPH_OPS if ops is None else ops)
    unknown = sorted(set(ops) - set(GRAPH_OPS))
    if unknown or not ops:
        raise ValueError(f"graphs: unknown ops {unknown}; choose from {GRAPH_OPS}")
    if not 1 <= min_depth <= max_depth or max_inputs < 1:
        raise ValueError(f"graphs: need 1 ≤ min_depth ≤ max_depth and max_inputs ≥ 1, got "
                         f"min_depth={min_depth}, max_depth={max_depth}, "
                         f"max_inputs={max_inputs}")
    return _graphs(ops, min_depth, max_depth, max_inputs, dtype, max_dims, max_side)


@st.composite
def _graphs(draw, ops, min_depth, max_depth, max_inputs, dtype, max_dims, max_side) -> Graph:
    n_inputs = draw(st.integers(1, max_inputs))
    input_shapes = draw(broadcastable_shapes(n_inputs, max_dims=max_dims, max_side=max_side))
    dtype = draw(_dtype_strategy(dtype))
    inputs = []
    for shape in input_shapes:
        positive = draw(st.booleans())
        low, avoid = (0.5, ()) if positive else (-2.0, (0.0,))
        inputs.append(draw(arrays(shape, dtype, low=low, high=2.0, avoid=avoid,
                                  margin=0.2, distinct=True)))
    pool = {f"x{i}": x.astype(np.float64) for i, x in enumerate(inputs)}
    env = {f"x{i}": Value(x, requires_grad=False) for i, x in enumerate(inputs)}
    builder = _Builder(draw, pool)
    steps: list[_Step] = []
    head = "x0"
    depth = draw(st.integers(min_depth, max_depth))
    for _ in range(depth):
        # try the ops in a drawn order until one fits the current values
        for op in draw(st.permutations(ops)):
            proposal = builder.propose(op, head)
            if proposal is None:
                continue
            operands, params, text = proposal
            step = _Step(f"t{len(steps) + 1}", op, operands, params, text)
            with autodiff.no_grad():
                result = _apply(step, env)
            data = np.asarray(result.data, dtype=np.float64)
            if data.size == 0 or not np.all(np.isfinite(data)) or np.max(np.abs(data)) > _LARGEST:
                continue
            env[step.target] = result
            pool[step.target] = data
            steps.append(step)
            head = step.target
            break
    assume(steps)
    return Graph(tuple(inputs), tuple(steps))


# --------------------------------------------------------------------------- the op table

# Array domains named by the op table's `cases` (see autodiff/ops/table.py).
DOMAINS: dict[str, dict[str, Any]] = {
    "any": {"low": -2.0, "high": 2.0},
    "positive": {"low": 0.5, "high": 3.0},
    "unit": {"low": -0.9, "high": 0.9},
    "above_one": {"low": 1.1, "high": 3.0},
    "nonzero": {"low": -2.0, "high": 2.0, "avoid": (0.0,), "margin": 0.5},
    "smooth": {"low": -2.0, "high": 2.0, "avoid": tuple(np.arange(-2.0, 2.01, 0.5)),
               "margin": 0.1},
    "distinct": {"low": -2.0, "high": 2.0, "distinct": True},
}


class CaseGenerator:
    """What an op table entry's `cases(gen)` draws from: shapes, arrays of the dtype under
    test in named domains, axes, matrices (see autodiff/ops/table.py)."""

    def __init__(self, draw: Callable, dtype: Any) -> None:
        self._draw = draw
        self.dtype = np.dtype(dtype)

    def shape(self, min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
              max_side: int = 4) -> tuple[int, ...]:
        return self._draw(shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                 max_side=max_side))

    def shapes(self, n: int, min_dims: int = 0, max_dims: int = 3) -> tuple[tuple[int, ...], ...]:
        return self._draw(broadcastable_shapes(n, min_dims=min_dims, max_dims=max_dims))

    def array(self, shape: tuple[int, ...] | int = (), domain: str = "any") -> np.ndarray:
        if domain not in DOMAINS:
            raise ValueError(f"CaseGenerator.array: unknown domain {domain!r}; "
                             f"choose from {sorted(DOMAINS)}")
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        real_dtype = np.float32 if self.dtype in (np.float32, np.complex64) else np.float64
        x = self._draw(arrays(shape, real_dtype, **DOMAINS[domain]))
        if self.dtype.kind == "c":
            y = self._draw(arrays(shape, real_dtype, **DOMAINS[domain]))
            angle = np.pi / 8 if domain in ("positive", "above_one") else 1.0
            return (x + 1j * angle * y * 0.5).astype(self.dtype)
        return x

    def axis(self, ndim: int, none: bool = True, several: bool = True) -> Any:
        options = list(range(-ndim, ndim)) or [0]
        choices = [st.sampled_from(options)]
        if none:
            choices.append(st.none())
        if several and ndim >= 2:
            choices.append(st.sets(st.integers(0, ndim - 1), min_size=1, max_size=ndim)
                           .map(lambda axes: tuple(sorted(axes))))
        return self._draw(st.one_of(*choices))

    def choice(self, options: Sequence[Any]) -> Any:
        return self._draw(st.sampled_from(list(options)))

    def integer(self, low: int, high: int) -> int:
        return self._draw(st.integers(low, high))

    def boolean(self) -> bool:
        return self._draw(st.booleans())

    def matrix(self, rows: int, cols: int | None = None, kind: str = "any") -> np.ndarray:
        """A (rows, cols) matrix: any, invertible (well conditioned), symmetric, spd."""
        cols = rows if cols is None else cols
        a = self.array((rows, cols), "any")
        if kind == "any":
            return a
        if kind == "invertible":
            return a + (3.0 * np.eye(rows, cols)).astype(self.dtype)
        b = a @ np.conj(a.T) if kind == "spd" else a + np.conj(a.T)
        if kind == "spd":
            b = b + (rows * np.eye(rows)).astype(self.dtype)
        return b.astype(self.dtype)


@st.composite
def op_cases(draw, entry: Any, dtype: Any) -> tuple[tuple, dict]:
    """(args, kwargs) for calling an op table entry, drawn by its `cases`."""
    return entry.cases(CaseGenerator(draw, dtype))
