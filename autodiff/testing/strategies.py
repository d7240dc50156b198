"""Hypothesis strategies for property-testing gradients.

Needs hypothesis: `pip install 'autodiff-numpy[testing]'`.

* `arrays(shape, dtype, elements)`: numpy arrays, well-conditioned by default (bounded, no
  nan/inf, optionally kept away from kinks and free of ties).
* `broadcastable_shapes(n)`: n shapes that broadcast together.
* `values(shape, dtype, ...)`: `Value`s holding such arrays.
* `graphs(ops, max_depth)`: random compositions of the op table's operations over a few
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

import dataclasses
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import autodiff
from autodiff import Value
from autodiff._extras import missing_extra
from autodiff.extend import raw

try:
    from hypothesis import assume
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as error:
    raise ModuleNotFoundError(missing_extra("hypothesis", "autodiff.testing.strategies"),
                              name=error.name or "hypothesis") from error

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


def _shape_strategy(shape: ShapeLike, caller: str = "arrays") -> st.SearchStrategy[tuple[int,
                                                                                        ...]]:
    if shape is None:
        return shapes()
    if isinstance(shape, st.SearchStrategy):
        return shape.map(lambda drawn: _checked_shape(drawn, caller))
    return st.just(_checked_shape(shape, caller))


def _checked_shape(shape: Any, caller: str) -> tuple[int, ...]:
    """`shape` (an int, or a sequence of ints) as a tuple of sizes ≥ 0; anything else is a
    TypeError, a negative size a ValueError, naming `caller` (numpy would say so only inside
    the test, or not at all)."""
    def size(n: Any) -> int:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{caller}: shape must be an int or a tuple of ints; got {shape!r}")
        if n < 0:
            raise ValueError(f"{caller}: shape sizes must be at least 0; got {shape!r}")
        return int(n)

    if isinstance(shape, (int, np.integer, bool, np.bool_)):
        return (size(shape),)
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Iterable):
        raise TypeError(f"{caller}: shape must be an int or a tuple of ints; got {shape!r}")
    return tuple(size(n) for n in shape)


def _dtype_strategy(dtype: DtypeLike, kinds: str = "fc",
                   caller: str = "graphs") -> st.SearchStrategy[np.dtype]:
    """`dtype` (or a strategy of dtypes) as a strategy of dtypes of the given kinds: any
    other dtype raises ValueError naming `caller` (an integer array would be drawn by
    truncating floats, a str one by printing them)."""
    if isinstance(dtype, st.SearchStrategy):
        return dtype.map(lambda d: _checked_dtype(d, kinds, caller))
    return st.just(_checked_dtype(dtype, kinds, caller))


def _checked_dtype(dtype: Any, kinds: str, caller: str) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind not in kinds:
        wanted = "a floating" if kinds == "f" else "a floating or complex"
        hint = " (for complex data, combine two: re + 1j * im)" if dtype.kind == "c" else ""
        raise ValueError(f"{caller}: dtype must be {wanted} dtype; got {dtype}{hint}")
    return dtype


# --------------------------------------------------------------------------- arrays


def _allowed_intervals(low: float, high: float, avoid: Iterable[float], margin: float):
    """[low, high] with the open intervals (p − margin, p + margin) removed, as (a, b) pairs."""
    if not low < high:
        raise ValueError(f"arrays: need low < high, got low={low}, high={high}")
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"arrays: low and high must be finite, got low={low}, high={high}")
    if not margin >= 0:
        raise ValueError(f"arrays: margin must be at least 0, got {margin}")
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
    dtype = draw(_dtype_strategy(dtype, "f", "arrays"))
    if max(abs(low), abs(high)) > float(np.finfo(dtype).max):
        raise ValueError(f"arrays: [{low}, {high}] does not fit in {dtype} (largest "
                         f"{np.finfo(dtype).max})")
    # bounds whose distance overflows (±1e308) are drawn in units of a power of two, which
    # is exact: else the allowed length is inf, and so are the draws
    unit = 1.0
    if not math.isfinite(high - low):
        unit = math.ldexp(1.0, math.frexp(max(abs(low), abs(high)))[1] - 2)  # bounds ≤ 4
    intervals = _allowed_intervals(low / unit, high / unit, [p / unit for p in avoid],
                                   margin / unit)
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
    drawn = np.clip(_squeeze_into(t, intervals) * unit, low, high)  # (rounding at the ends)
    return drawn.reshape(shape).astype(dtype)


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
        low: elements lie in [low, high].
        high: see `low`.
        avoid: points every element stays at least `margin` away from (kinks: 0 for relu
            and abs, the bounds of a clip).
        distinct: no two elements within total_allowed_length / (2·size) of each other (no
            ties for max, min or maximum between elements).
    """
    if shape is not None and not isinstance(shape, st.SearchStrategy):
        shape = _checked_shape(shape, "arrays")  # now, not inside a test
    if elements is not None:
        return st.tuples(_shape_strategy(shape), _dtype_strategy(dtype, "f", "arrays")).flatmap(
            lambda sd: hnp.arrays(sd[1], sd[0], elements=elements)
        )
    _allowed_intervals(low, high, avoid, margin)  # fail now, not inside a test, if empty
    if not isinstance(dtype, st.SearchStrategy):  # the same for a dtype that cannot be drawn
        fitted = _checked_dtype(dtype, "f", "arrays")
        if max(abs(low), abs(high)) > float(np.finfo(fitted).max):
            raise ValueError(f"arrays: [{low}, {high}] does not fit in {fitted} (largest "
                             f"{np.finfo(fitted).max})")
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


# --------------------------------------------------------------------------- the op table

# Matrix kinds `CaseGenerator.matrix` draws.
MATRIX_KINDS = ("any", "invertible", "symmetric", "spd")

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

    def __init__(self, draw: Callable[..., Any], dtype: Any) -> None:
        self._draw = draw
        self.dtype: np.dtype[Any] = np.dtype(dtype)

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
            return np.asarray(x + 1j * angle * y * 0.5, dtype=self.dtype)  # 0-d: an array
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
        """A (rows, cols) matrix: any, invertible (well conditioned), symmetric, spd (the last
        three square).

        An invertible matrix is strictly diagonally dominant by construction, each row's
        diagonal ahead of the rest of the row by 1 + 0.2·rows (room for `graphs` to nudge
        every element by up to 0.2): ‖A⁻¹‖∞ ≤ 1 / (1 + 0.2·rows) by Varah's bound, so
        cond∞(A) < ‖A‖∞."""
        if kind not in MATRIX_KINDS:
            raise ValueError(f"CaseGenerator.matrix: unknown kind {kind!r}; choose from "
                             f"{MATRIX_KINDS}")
        cols = rows if cols is None else cols
        if kind != "any" and rows != cols:
            raise ValueError(f"CaseGenerator.matrix: a {kind} matrix is square; got rows={rows}, "
                             f"cols={cols}")
        a = self.array((rows, cols), "any")
        if kind == "any":
            return a
        if kind == "invertible":
            ahead = np.sum(np.abs(a), axis=1) + 1.0 + 0.2 * rows  # |aᵢᵢ| + off-diagonal + margin
            return (a + np.diag(ahead)).astype(self.dtype)
        b = a @ np.conj(a.T) if kind == "spd" else a + np.conj(a.T)
        if kind == "spd":
            b = b + (rows * np.eye(rows)).astype(self.dtype)
        return b.astype(self.dtype)


def op_cases(entry: Any, dtype: Any) -> st.SearchStrategy[tuple[tuple, dict]]:
    """(args, kwargs) for calling an op table entry (or the entry of that name), drawn by its
    `cases`, with arrays of `dtype`."""
    if isinstance(entry, str):
        from autodiff.ops.table import TABLE

        if entry not in TABLE:
            raise ValueError(f"op_cases: unknown op {entry!r} (not a name in "
                             "autodiff.ops.table.TABLE)")
        entry = TABLE[entry]
    if not callable(getattr(entry, "cases", None)):
        if hasattr(entry, "cases"):
            raise ValueError(f"op_cases: {getattr(entry, 'name', entry)!r} has no cases to "
                             "draw from")
        raise TypeError(f"op_cases: entry must be an op table entry or its name; got "
                        f"{type(entry).__name__} {entry!r}")
    return _op_cases(entry, np.dtype(dtype))


@st.composite
def _op_cases(draw, entry: Any, dtype: np.dtype) -> tuple[tuple, dict]:
    return entry.cases(CaseGenerator(draw, dtype))


# --------------------------------------------------------------------------- graphs
#
# Random compositions derived from the op table: each step picks an entry, draws its
# arguments with the entry's `cases` (through a CaseGenerator that prefers the shapes of the
# values computed so far), and feeds the previous result in place of one drawn array of the
# same shape, squashed smoothly into the domain that array was drawn from (and, sometimes,
# an earlier value in place of another). When no drawn array fits, the step's result is
# combined with the previous one by broadcasting arithmetic instead.

_LARGEST = 10.0  # every intermediate stays within ±_LARGEST
_ATTEMPTS = 12   # operations tried per step before the graph stops growing


def _graph_ops() -> tuple[str, ...]:
    from autodiff.ops.table import TABLE

    return tuple(name for name, entry in TABLE.items()
                 if entry.cases is not None and "float64" in entry.dtypes)


GRAPH_OPS = _graph_ops()  # the op table's entries usable in graphs (as at import)


def _numbers(x: Any) -> str:
    """repr of numbers or nested lists of them, nan and inf spelled np.nan and np.inf."""
    return re.sub(r"\b(nan|inf)\b", r"np.\1", repr(x))


def _literal(x: Any) -> str:
    """Python source that evaluates to `x` (with `np` in scope); floats round-trip."""
    if isinstance(x, np.ndarray):
        if x.dtype == np.bool_:
            return f"np.array({x.tolist()!r})"
        return f"np.array({_numbers(x.tolist())}, dtype=np.{x.dtype})"
    if isinstance(x, (float, complex)):
        return _numbers(x)
    if isinstance(x, np.dtype):
        return f"np.dtype({str(x)!r})"
    if isinstance(x, type) and issubclass(x, np.generic):
        return f"np.{x.__name__}"
    if isinstance(x, np.generic):
        return f"np.{type(x).__name__}({_numbers(x.item())})"
    if isinstance(x, list):
        return "[" + ", ".join(_literal(item) for item in x) + "]"
    if isinstance(x, tuple):
        items = ", ".join(_literal(item) for item in x)
        return f"({items},)" if len(x) == 1 else f"({items})"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in x.items()) + "}"
    return repr(x)


@dataclass(frozen=True, eq=False)
class _Feed:
    """An earlier value `source` squashed into the domain an argument was drawn from:
    `scale · tanh(source / width) + offset`, symmetrised for symmetric matrices. For
    "distinct" and matrix domains the offset is the drawn array, only nudged."""

    source: str
    domain: str
    scale: float
    width: float
    offset: Any  # a float, or the drawn array
    symmetric: bool = False

    def __call__(self, env: dict[str, Any]) -> Value:
        t = np.tanh(env[self.source] / self.width)
        if self.symmetric:
            t = (t + t.T) / 2
        return self.scale * t + self.offset

    @property
    def text(self) -> str:
        inner = self.source if self.width == 1 else f"{self.source} / {self.width!r}"
        t = f"np.tanh({inner})"
        if self.symmetric:
            t = f"({t} + {t}.T) / 2"
        scaled = f"{self.scale!r} * {t}"
        if isinstance(self.offset, float) and self.offset == 0:
            return scaled
        return f"{scaled} + {_literal(self.offset)}"


_SYMMETRIC = ("matrix:symmetric", "matrix:spd")


def _feed_for(source: str, domain: str, drawn: np.ndarray, draw: Callable[...,
              Any]) -> _Feed | None:
    """`source` squashed into `domain` (one of DOMAINS, or a matrix kind) with room to spare
    for finite differences; None for a domain this does not know."""
    if domain in ("any", "matrix:any"):
        return _Feed(source, domain, 1.9, 2.0, 0.0)          # (−1.9, 1.9)
    if domain == "positive":
        return _Feed(source, domain, 1.2, 2.0, 1.75)         # (0.55, 2.95)
    if domain == "unit":
        return _Feed(source, domain, 0.85, 1.0, 0.0)         # (−0.85, 0.85)
    if domain == "above_one":
        return _Feed(source, domain, 0.9, 2.0, 2.05)         # (1.15, 2.95)
    if domain == "nonzero":
        sign = draw(st.sampled_from([1.0, -1.0]))
        return _Feed(source, domain, 0.7 * sign, 2.0, 1.25 * sign)  # ±(0.55, 1.95)
    if domain == "smooth":  # inside one cell between half-integers, ≥ 0.15 from its ends
        cell = draw(st.sampled_from([0.0, -0.5, 0.5, -1.0, 1.0, -1.5, -2.0, 1.5]))
        return _Feed(source, domain, 0.1, 1.0, cell + 0.25)
    if domain == "distinct":  # neighbours stay at least half their smallest gap apart
        flat = np.sort(np.asarray(drawn, dtype=np.float64).reshape(-1))
        gap = float(np.min(np.diff(flat))) if flat.size > 1 else 1.0
        return _Feed(source, domain, float(f"{min(0.25 * gap, 0.5):.2g}"), 1.0, drawn)
    if domain == "matrix:invertible" or domain in _SYMMETRIC:
        if np.ndim(drawn) != 2:
            return None
        scale = 0.2 if domain == "matrix:invertible" else 0.3  # within the diagonal's margin
        return _Feed(source, domain, scale, 1.0, drawn, symmetric=domain in _SYMMETRIC)
    return None


class _GraphCaseGenerator(CaseGenerator):
    """A CaseGenerator that prefers the shapes of the values computed so far (the previous
    result's first) and records the domain of each array it returns."""

    def __init__(self, draw: Callable[..., Any], dtype: Any, preferred: list[tuple[int,
                 ...]]) -> None:
        super().__init__(draw, dtype)
        self.preferred = preferred
        self.domains: dict[int, tuple[np.ndarray, str]] = {}

    def shape(self, min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
              max_side: int = 4) -> tuple[int, ...]:
        fitting = [s for s in self.preferred if min_dims <= len(s) <= max_dims
                   and all(min_side <= n <= max_side for n in s)]
        pick = self._draw(st.integers(0, 3))
        if fitting and pick < 3:  # mostly an existing shape, the previous result's first
            return fitting[min(pick, len(fitting) - 1)]
        return super().shape(min_dims, max_dims, min_side, max_side)

    def shapes(self, n: int, min_dims: int = 0, max_dims: int = 3) -> tuple[tuple[int, ...], ...]:
        head = self.preferred[0]
        if not min_dims <= len(head) <= max_dims or max(head, default=1) > 4 \
                or self._draw(st.integers(0, 3)) == 3:
            return super().shapes(n, min_dims, max_dims)
        drawn = self._draw(hnp.mutually_broadcastable_shapes(
            num_shapes=n, base_shape=head, min_dims=min_dims, max_dims=max_dims, max_side=4))
        result = list(drawn.input_shapes)
        result[self._draw(st.integers(0, n - 1))] = head
        return tuple(result)

    def array(self, shape: tuple[int, ...] | int = (), domain: str = "any") -> np.ndarray:
        x = super().array(shape, domain)
        self.domains[id(x)] = (x, domain)
        return x

    def matrix(self, rows: int, cols: int | None = None, kind: str = "any") -> np.ndarray:
        m = super().matrix(rows, cols, kind)
        self.domains[id(m)] = (m, f"matrix:{kind}")
        return m


def _broadcasts(*shapes_: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(*shapes_)
    except ValueError:
        return False
    return True


def _combine(result: Any, head: Any) -> Any:
    """result + ½·tanh(head) where their shapes broadcast, else result + mean(tanh(head))."""
    if _broadcasts(np.shape(result), np.shape(head)):
        return result + 0.5 * np.tanh(head)
    return result + np.mean(np.tanh(head))


_COMBINE_SOURCE = """\
    def _combine(result, head):
        try:
            np.broadcast_shapes(np.shape(result), np.shape(head))
        except ValueError:
            return result + np.mean(np.tanh(head))
        return result + 0.5 * np.tanh(head)"""


@dataclass(frozen=True, eq=False)
class _Step:
    """One line of a graph: `target = operation(arguments)`, possibly combined with the
    previous result."""

    target: str
    op: str
    args: tuple[Any, ...]  # constants, _Feeds, and lists of them
    kwargs: dict[str, Any]
    combine: str | None  # the previous result, when no argument could take it
    spelling: str        # how the program names the operation
    real: bool = False   # a complex result (fft, ...) is replaced by its real part

    @property
    def feeds(self) -> list[_Feed]:
        """The arguments computed from earlier values."""
        return [item for arg in self.args
                for item in (arg if isinstance(arg, list) else (arg,))
                if isinstance(item, _Feed)]

    @property
    def operands(self) -> tuple[str, ...]:
        """The earlier values this step reads, the previous result first."""
        names = [feed.source for feed in self.feeds]
        if self.combine:
            names.insert(0, self.combine)
        return tuple(dict.fromkeys(names))

    def arguments(self, env: dict[str, Any]) -> tuple[list, dict]:
        """The positional and keyword arguments the operation is called with."""
        def value(x: Any) -> Any:
            return x(env) if isinstance(x, _Feed) else x

        return [[value(i) for i in a] if isinstance(a, list) else value(a)
                for a in self.args], self.kwargs

    def apply(self, env: dict[str, Any]) -> Any:
        from autodiff.ops.table import TABLE

        args, kwargs = self.arguments(env)
        result = TABLE[self.op].implementation(*args, **kwargs)
        if self.real:
            result = np.real(result)
        return result if self.combine is None else _combine(result, env[self.combine])

    @property
    def text(self) -> str:
        def source(x: Any) -> str:
            if isinstance(x, _Feed):
                return x.text
            if isinstance(x, list):
                return "[" + ", ".join(source(i) for i in x) + "]"
            return _literal(x)

        parts = [source(a) for a in self.args]
        parts += [f"{key}={_literal(value)}" for key, value in self.kwargs.items()]
        call = f"{self.spelling}({', '.join(parts)})"
        if self.real:
            call = f"np.real({call})"
        return call if self.combine is None else f"_combine({call}, {self.combine})"


class Graph:
    """A random composition of the op table's operations: callable, with the point to test.

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
            env[step.target] = step.apply(env)
        return env

    def __repr__(self) -> str:
        names = ", ".join(f"x{i}" for i in range(len(self.args)))
        lines = [f"def graph({names}):"]
        if any(step.combine for step in self.steps):
            lines.append(_COMBINE_SOURCE)
        lines += [f"    {step.target} = {step.text}" for step in self.steps]
        lines.append(f"    return {self.steps[-1].target if self.steps else 'x0'}")
        lines += [f"x{i} = {_literal(x)}" for i, x in enumerate(self.args)]
        return "\n".join(lines)


def _spelling(entry: Any, value_fed: bool) -> str:
    """How the program calls `entry`: numpy's name when a Value is among the arguments (so
    numpy dispatches to the entry), else autodiff's function, else the table entry."""
    if value_fed:
        for function in entry.numpy:
            name = getattr(function, "__name__", "")
            for prefix, namespace in (("np", np), ("np.linalg", np.linalg), ("np.fft", np.fft)):
                if getattr(namespace, name, None) is function:
                    return f"{prefix}.{name}"
    if getattr(autodiff, entry.name, None) is entry.implementation:
        return f"autodiff.{entry.name}"
    return f"autodiff.ops.table.TABLE[{entry.name!r}].implementation"


def _propose(draw: Callable[..., Any], entry: Any, dtype: Any, head: str, pool: dict[str,
             np.ndarray],
             target: str) -> _Step:
    """Draw `entry`'s arguments with its cases and feed earlier values into them."""
    preferred = list(dict.fromkeys([pool[head].shape, *(v.shape for v in pool.values())]))
    gen = _GraphCaseGenerator(draw, dtype, preferred)
    args, kwargs = entry.cases(gen)
    template = [list(a) if isinstance(a, list) else a for a in args]
    slots = []  # (position, index in a list argument or None, drawn array, domain)
    for position, arg in enumerate(args):
        for index, item in (enumerate(arg) if isinstance(arg, list) else [(None, arg)]):
            recorded = gen.domains.get(id(item))
            if recorded is not None and recorded[0] is item:
                slots.append((position, index, item, recorded[1]))

    def put(slot: tuple[Any, ...], feed: _Feed) -> None:
        position, index = slot[0], slot[1]
        if index is None:
            template[position] = feed
        else:
            template[position][index] = feed

    fed_head = False
    fitting = [slot for slot in slots if slot[2].shape == pool[head].shape]
    if fitting:
        slot = draw(st.sampled_from(fitting))
        feed = _feed_for(head, slot[3], slot[2], draw)
        if feed is not None:
            put(slot, feed)
            slots.remove(slot)
            fed_head = True
    for slot in slots:  # sometimes an earlier value in place of another drawn array
        others = [n for n, v in pool.items() if n != head and v.shape == slot[2].shape]
        source = draw(st.sampled_from([None, *others])) if others else None
        feed = None if source is None else _feed_for(source, slot[3], slot[2], draw)
        if feed is not None:
            put(slot, feed)
    step = _Step(target, entry.name, tuple(template), dict(kwargs),
                 None if fed_head else head, "")
    return _Step(step.target, step.op, step.args, step.kwargs, step.combine,
                 _spelling(entry, bool(step.feeds)))


def graphs(
    ops: Sequence[str] | str | None = None,
    max_depth: int = 4,
    *,
    min_depth: int = 1,
    max_inputs: int = 3,
    dtype: DtypeLike = np.float64,
    max_dims: int = 3,
    max_side: int = 3,
) -> st.SearchStrategy[Graph]:
    """Random `Graph`s: `min_depth` to `max_depth` operations of the op table drawn from `ops`
    (names of entries with `cases`; default: every one that runs in float64), over 1 to
    `max_inputs` inputs of mutually broadcastable shapes (at most `max_dims` axes of at most
    `max_side` elements), of `dtype` (a floating dtype or a strategy of them: the inputs
    are real; a single op may be given by its name).

    Each step draws its operation's arguments with the entry's `cases`, preferring the
    shapes of the values computed so far, and feeds the previous result in place of a drawn
    array of the same shape, mapped smoothly by a tanh into the domain that array was drawn
    from: positive inputs stay in (0.55, 2.95), nonzero ones ≥ 0.55 from 0, kink-sensitive
    ones ("smooth") ≥ 0.15 from every half-integer; tie-sensitive ones ("distinct") and
    invertible, symmetric or positive definite matrices are the drawn array nudged by the
    previous result (by at most a quarter of the smallest gap between elements, or
    symmetrically). Sometimes an earlier value replaces another drawn array the same way;
    the other drawn arrays are constants of the program. When no drawn array has the
    previous result's shape, the step's result is combined with it: + ½·tanh(previous)
    where the shapes broadcast, + mean(tanh(previous)) otherwise. A complex result (fft...)
    is replaced by its real part. A step whose result is not a finite Value within ±10, or
    jumps within ±0.05 of its operands (a remainder whose divisor is fed, x/y near an
    integer), is replaced by another operation; if none fits after a few tries the graph is
    shorter.
    """
    from autodiff.ops.table import TABLE

    usable = _graph_ops()
    if isinstance(ops, str):  # one op, not its letters
        ops = (ops,)
    ops = tuple(usable if ops is None else ops)
    unknown = sorted(set(ops) - set(usable))
    if unknown or not ops:
        raise ValueError(f"graphs: unknown ops {unknown}; choose from the op table's entries "
                         f"with cases: {usable}")
    if not isinstance(dtype, st.SearchStrategy):
        _graph_dtype(dtype)
    if not 1 <= min_depth <= max_depth or max_inputs < 1:
        raise ValueError(f"graphs: need 1 ≤ min_depth ≤ max_depth and max_inputs ≥ 1, got "
                         f"min_depth={min_depth}, max_depth={max_depth}, "
                         f"max_inputs={max_inputs}")
    return _graphs(tuple(TABLE[name] for name in ops), min_depth, max_depth, max_inputs,
                   dtype, max_dims, max_side)


def _graph_dtype(dtype: Any) -> np.dtype:
    """A floating dtype: a graph's inputs are drawn real (by `arrays`), so a complex dtype
    is refused here, not by every draw."""
    dtype = _checked_dtype(dtype, "fc", "graphs")
    if dtype.kind == "c":
        raise ValueError(f"graphs: dtype must be a floating or complex dtype to be "
                         f"differentiated, and a graph's inputs are real: give a floating "
                         f"dtype; got {dtype}")
    return dtype


# How far a step's operands move in the jump screen (every element at once, each by ±this):
# five times the largest input move of order-2 differences with float32 steps (2 × 5e-3).
_JUMP_REACH = 0.05
# A second difference of the step's result over ±_JUMP_REACH above this is a jump, not
# curvature (|f''| up to 100 passes; the smallest jump of a remainder in a graph is 0.55).
_JUMP_SIZE = 0.25


def _jumps_nearby(step: _Step, env: dict[str, Any], result: np.ndarray) -> bool:
    """Whether the step's result jumps within ±_JUMP_REACH of its operands (every element
    moved at once, with random signs): a remainder whose divisor is fed with an earlier
    value (its dividend stays the drawn constant) can sit next to a jump, where finite
    differences would cross it. Kink-sensitive arrays are kept away by their domains; this
    catches what a domain cannot say (x/y near an integer)."""
    rng = np.random.default_rng(len(env))
    patterns = {name: rng.choice((-1.0, 1.0), size=np.shape(env[name].data))
                for name in step.operands}
    moved = []
    for direction in (1.0, -1.0):
        shifted = dict(env)
        for name, pattern in patterns.items():
            data = np.asarray(env[name].data)
            shifted[name] = Value((data + direction * _JUMP_REACH * pattern).astype(data.dtype),
                                  requires_grad=False)
        try:
            with autodiff.no_grad(), np.errstate(all="ignore"):
                value = step.apply(shifted)
        except Exception:  # refused a little way off: too close to the edge of its domain
            return True
        moved.append(np.asarray(raw(value), dtype=np.float64))
    with np.errstate(all="ignore"):
        second = np.abs(moved[0] - 2 * result + moved[1])
    return bool(second.shape != result.shape or not np.all(second <= _JUMP_SIZE))


@st.composite
def _graphs(draw, entries, min_depth, max_depth, max_inputs, dtype, max_dims, max_side) -> Graph:
    n_inputs = draw(st.integers(1, max_inputs))
    input_shapes = draw(broadcastable_shapes(n_inputs, max_dims=max_dims, max_side=max_side))
    dtype = _graph_dtype(draw(_dtype_strategy(dtype)))
    entries = [e for e in entries if dtype.name in e.dtypes] or list(entries)
    inputs = []
    for shape in input_shapes:
        positive = draw(st.booleans())
        low, avoid = (0.5, ()) if positive else (-2.0, (0.0,))
        inputs.append(draw(arrays(shape, dtype, low=low, high=2.0, avoid=avoid,
                                  margin=0.2, distinct=True)))
    pool = {f"x{i}": x.astype(np.float64) for i, x in enumerate(inputs)}
    env: dict[str, Any] = {f"x{i}": Value(x, requires_grad=False) for i, x in enumerate(inputs)}
    steps: list[_Step] = []
    head = "x0"
    for _ in range(draw(st.integers(min_depth, max_depth))):
        for _ in range(_ATTEMPTS):
            step = _propose(draw, draw(st.sampled_from(entries)), dtype, head, pool,
                            f"t{len(steps) + 1}")
            try:
                with autodiff.no_grad(), np.errstate(all="ignore"):
                    result = step.apply(env)
                    if isinstance(result, Value) and result.dtype.kind == "c":
                        step = dataclasses.replace(step, real=True)
                        result = step.apply(env)
            except Exception:  # arguments the operation refuses: try another
                continue
            if not isinstance(result, Value) or result.dtype.kind != "f":
                continue
            data = np.asarray(result.data, dtype=np.float64)
            if data.size == 0 or not np.all(np.isfinite(data)) or np.max(np.abs(data)) > _LARGEST:
                continue
            if _jumps_nearby(step, env, data):
                continue
            env[step.target] = result
            pool[step.target] = data
            steps.append(step)
            head = step.target
            break
    assume(steps)
    return Graph(tuple(inputs), tuple(steps))
