"""The op table: one entry per differentiable operation, declared once beside its forward
and derivative rules, and everything else derived from it.

`declare(...)` registers an implementation (a `Primitive`, or a composite function built
from primitives, whose gradient follows from theirs) with:

* `numpy`: the numpy functions or ufuncs it stands for, so that `np.sin(v)` and
  `np.linalg.solve(A, b)` dispatch to it (`autodiff.methods` reads `BY_NUMPY`);
* `method`: the Value method that calls it (`v.sin()`), attached from `TABLE`;
* `cases`: how property tests call it (`cases(gen)` returns `(args, kwargs)` drawn through
  `gen`, a small generator of shapes and arrays implemented by `autodiff.testing`), and the
  dtypes and derivative order they check;
* `domain`: the valid input domain in words, for the generated list of functions in docs;
* `dask`: whether it runs lazily on Dask arrays, forward and backward (True, the default).
  An entry declared `dask=False` raises NotImplementedError naming it when called with Dask
  data (a Dask array, or a Value holding one), instead of computing the data behind the
  user's back; `dask_not_lazy()` lists those entries (docs/functions.md shows them).

Functions whose result does not depend smoothly on their inputs (argmax, comparisons,
shape, ...) are listed in `CONSTANT_FUNCTIONS`: called on Values they compute on the data
and record nothing. A numpy function in neither table raises NotImplementedError.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    _F = TypeVar("_F", bound=Callable[..., Any])  # an implementation, kept as it is

from ..backend import is_dask, not_lazy
from ..engine import Primitive, with_message
from ..value import Value

__all__ = ["BY_NUMPY", "CONSTANT_FUNCTIONS", "TABLE", "OpEntry", "constant", "dask_not_lazy",
           "declare"]

FLOATS = ("float64", "float32")
ALL_DTYPES = ("float64", "float32", "complex128")


@dataclass
class OpEntry:
    """One differentiable operation of the table."""

    name: str  # as the docs list it: "sin", "linalg.solve", "fft.rfft"
    implementation: Callable[..., Any]
    numpy: tuple[Any, ...] = ()  # numpy callables (functions, ufuncs) it implements
    method: str | None = None  # the Value method, if any
    group: str = "misc"  # section of the docs list
    domain: str = "all reals"
    cases: Callable[..., Any] | None = None  # gen → (args, kwargs) for property tests
    dtypes: tuple[str, ...] = FLOATS
    order: int = 2  # derivative order the property tests check
    torch: str | None = None  # the matching torch function, for cross-checks ("torch.sin")
    notes: str = ""
    aliases: tuple[str, ...] = field(default_factory=tuple)
    dask: bool = True  # runs lazily on Dask arrays (False: refuses them, naming itself)


TABLE: dict[str, OpEntry] = {}
BY_NUMPY: dict[Any, OpEntry] = {}
CONSTANT_FUNCTIONS: set[Any] = set()


def declare(name: str, *, numpy: Any = (), method: str | None = None, group: str = "misc",
            domain: str = "all reals", cases: Callable[..., Any] | None = None,
            dtypes: tuple[str, ...] = FLOATS, order: int = 2, torch: str | None = None,
            notes: str = "", dask: bool = True) -> Callable[[_F], _F]:
    """Decorator: put `implementation` in the table under `name` and return it unchanged
    (the table's entry refuses Dask data first if `dask` is False)."""
    numpy_callables = tuple(numpy) if isinstance(numpy, (tuple, list)) else (numpy,)
    if not isinstance(dask, bool):
        raise TypeError(f"declare: dask= must be True or False; got {dask!r}")

    def register(implementation: _F) -> _F:
        if name in TABLE:
            raise ValueError(f"declare: {name!r} is declared twice")
        if not isinstance(implementation, Primitive):  # (a primitive names its own errors)
            implementation = _naming_errors(name, implementation)
        called = implementation if dask else _refusing_dask(name, implementation)
        entry = OpEntry(name, called, numpy_callables, method, group, domain, cases,
                        tuple(dtypes), order, torch, notes, dask=dask)
        TABLE[name] = entry
        for function in numpy_callables:
            if function is None:
                continue
            if function in BY_NUMPY:
                raise ValueError(f"declare: {function!r} already implemented by "
                                 f"{BY_NUMPY[function].name!r}")
            BY_NUMPY[function] = entry
        return implementation

    return register


def _naming_errors(name: str, implementation: _F) -> _F:
    """A composite `implementation` whose bad-input errors (ValueError, IndexError,
    TypeError) name the operation the user called, as a primitive's do."""

    # Already named: "linalg.svd: ..." or its primitive's "svd: ...".
    prefixes = (f"{name}:", f"{name.rsplit('.', 1)[-1]}:")

    @functools.wraps(implementation)
    def named(*args: Any, **kwargs: Any) -> Any:
        try:
            return implementation(*args, **kwargs)
        except (ValueError, IndexError, TypeError) as error:
            if str(error).startswith(prefixes):
                raise
            raise _renamed(error, f"{name}: {error}") from None

    return cast("_F", named)


def _renamed(error: Exception, text: str) -> Exception:
    """`error`'s type with message `text` (its nearest built-in base if the type is built
    otherwise)."""
    renamed = with_message(error, text)
    if renamed is not None:
        return renamed
    for base in (IndexError, TypeError, ValueError):
        if isinstance(error, base):
            return base(text)
    return ValueError(text)


def _refusing_dask(name: str, implementation: Callable) -> Callable:
    """`implementation`, refusing Dask data (the error names the operation)."""

    def refusing(*args: Any, **kwargs: Any) -> Any:
        for a in (*args, *kwargs.values()):
            for item in a if isinstance(a, (list, tuple)) else (a,):
                data = item._data if type(item) is Value else item
                if is_dask(data):
                    raise not_lazy(name, data)
        return implementation(*args, **kwargs)

    refusing.__name__ = getattr(implementation, "__name__", name)
    refusing.__doc__ = implementation.__doc__
    refusing.__wrapped__ = implementation
    return refusing


def dask_not_lazy() -> list[str]:
    """The names of the table's operations that do not run lazily on Dask arrays (they
    raise NotImplementedError naming themselves when given Dask data)."""
    return sorted(name for name, entry in TABLE.items() if not entry.dask)


def constant(*functions: Any) -> None:
    """numpy functions whose results are constants (indices, masks, shapes): computed on
    the data of Values, recording nothing."""
    for function in functions:
        if function is not None:
            CONSTANT_FUNCTIONS.add(function)


# --------------------------------------------------------------------------- test cases
#
# `cases(gen)` functions describe how property tests call an operation. `gen` is provided
# by `autodiff.testing` and draws, for the dtype under test:
#   gen.shape(min_dims=0, max_dims=3, min_side=1, max_side=4)   a shape
#   gen.shapes(n, min_dims=0, max_dims=3)                        n broadcastable shapes
#   gen.array(shape, domain="any")                               an array of that dtype
#   gen.axis(ndim, none=True, several=True)                      an axis argument
#   gen.choice(options), gen.integer(low, high), gen.boolean()
#   gen.matrix(rows, cols, kind="any")     kind: any, spd, invertible, symmetric
#   gen.dtype                                                    the dtype under test
# Array domains: "any" (−2..2), "positive" (0.5..3), "unit" (−0.9..0.9), "above_one"
# (1.1..3), "nonzero" (|x| in 0.5..2), "smooth" (away from integers and half-integers:
# for floor, round, mod), "distinct" (no ties, for max/sort/median).


def unary(domain: str = "any", **kwargs: Any) -> Callable[..., Any]:
    """Cases for f(x, **kwargs): x of any shape in `domain`."""
    return lambda gen: ((gen.array(gen.shape(), domain),), dict(kwargs))


def binary(first: str = "any", second: str = "any") -> Callable[..., Any]:
    """Cases for f(x, y): x and y of broadcastable shapes, in their domains."""

    def cases(gen):
        a, b = gen.shapes(2)
        return (gen.array(a, first), gen.array(b, second)), {}

    return cases


def reduction(domain: str = "any", keepdims: bool = True, **extra: Any) -> Callable[..., Any]:
    """Cases for f(x, axis=..., keepdims=...): x of 1..3 axes, any axis argument."""

    def cases(gen):
        x = gen.array(gen.shape(min_dims=1), domain)
        kwargs = {"axis": gen.axis(x.ndim)}
        if keepdims:
            kwargs["keepdims"] = gen.boolean()
        kwargs.update({key: make(gen) if callable(make) else make
                       for key, make in extra.items()})
        return (x,), kwargs

    return cases
