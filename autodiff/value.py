"""`Value`: the node type. One type for Python scalars and numpy arrays, with its gradient,
its origin and its version.

A Value holds `data` (a Python float for a float64 scalar, a numpy array otherwise) and,
after a backward pass reaches it, `grad` of the same shape and dtype. A Value made by an
operation also remembers which primitive made it (`_op`), from which arguments (`_args`:
the Values and constants it was called with, kept in a tuple or, by the scalar path, in two
slots; and `_raw`: their data as the forward pass saw it), with which keyword parameters
(`_params`), and what its forward pass left for its rules (`_residuals`). A change to the
data after the node was recorded makes the graph stale (below).

Versions. Every change the library makes to a Value's data (assigning `.data`, an in-place
operator, an optimiser step) takes a fresh stamp from the same counter that numbers the
nodes, so "x was changed after node n read it" is simply "x's last stamp > n._id"; backward
refuses such a stale graph. `_writes` is None for a Value never changed, else the list
[version, last stamp, the last few stamps in a ring], the version counting the changes.

This module knows no operations: the engine (`autodiff.engine`) records graphs of Values,
the op table (`autodiff.ops`) defines what can be computed, and `autodiff.methods` gives
Value its operators and methods.
"""

from __future__ import annotations

import copy
import itertools
import numbers
import operator
import os
import weakref
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .backend import check_shape, is_duck

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from numpy.typing import ArrayLike

    # What an axis argument takes: one axis, several, or None for all of them.
    _Axis = int | tuple[int, ...] | None

__all__ = ["Value", "as_data", "raw"]

_clock = itertools.count()  # creation order of nodes and stamps of writes, one sequence
tick: Callable[[], int] = _clock.__next__

_new_value = object.__new__
_clock_origin = os.urandom(8).hex()  # with the process id: which clock stamped a Value


def _no_transform_running(value: Any, what: str) -> None:
    """Replaced by the engine (which keeps the per-thread transform state) with a check that
    refuses to turn a traced Value into a new leaf inside a transform."""


# What `Value(v)` and copies of a leaf call with a Value: `engine.refuse_traced` once the
# engine is imported (a new leaf made from a traced Value would silently cut its gradient).
refuse_traced: list[Callable[[Any, str], None]] = [_no_transform_running]


def _clock_identity() -> tuple[int, str]:
    return os.getpid(), _clock_origin

STAMPS_KEPT = 8  # write stamps a Value remembers, to name the version a stale graph saw
last_write: list[int] = [-1]  # the newest write stamp of any Value: a graph made after it is fresh


class _OneOperand:
    """The mark in `_b` of a node that has one operand, `_a` (see `Value._args`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<one operand>"

    def __reduce__(self) -> str:
        return "ONE_OPERAND"  # the one instance, through copy, deepcopy and pickle


ONE_OPERAND = _OneOperand()


# --------------------------------------------------------------------------- data


def as_data(data: Any, *, caller: str = "Value") -> Any:
    """Normalise data to the engine's storage: numbers and lists → float64 (complex128 if
    complex), floating and complex arrays keep their dtype, a float64 scalar becomes a
    Python float (fast scalar arithmetic).

    Integer and bool arrays become float64; str and object data raise TypeError naming
    `caller` (the operation whose data it is). A subclass of ndarray (np.matrix, np.memmap)
    becomes a plain ndarray view of its memory; a masked array is refused. An array of
    another kind that speaks numpy's protocols (a Dask or CuPy array) is kept as it is,
    lazy: converted only in dtype (a 0-d one stays an array; a Dask array of unknown chunk
    sizes is refused).
    """
    kind = type(data)
    if kind is float:
        return data
    if kind is np.ndarray:
        dtype_kind = data.dtype.kind
        if dtype_kind == "f":
            if data.ndim == 0 and data.dtype == np.float64:
                return float(data)
            return data
    if isinstance(data, Value):
        return data._data
    if isinstance(data, (bool, int, numbers.Real)) and not isinstance(data, np.generic):
        try:
            return float(data)
        except OverflowError:
            raise OverflowError(f"{caller}: {type(data).__name__} too large for float64 "
                                f"(at most about 1.8e308)") from None
    if isinstance(data, (str, bytes)):
        raise TypeError(f"{caller}: data must be a number, list or numpy array; got str "
                        f"{data!r}")
    if kind is not np.ndarray and isinstance(data, np.ndarray):  # np.matrix: `*` is matmul
        if isinstance(data, np.ma.MaskedArray):
            raise TypeError(
                f"{caller}: masked arrays are not supported (their mask would be dropped, or "
                "change the arithmetic); fill them first (a.filled(0.0)) and use np.where or "
                "a weight for the mask"
            )
        return as_data(data.view(np.ndarray), caller=caller)
    if is_duck(data):
        return _duck_data(data, caller)
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as error:  # ragged lists and the like
        raise TypeError(f"{caller}: data must be a number, list or numpy array: {error}") \
            from None
    dtype_kind = array.dtype.kind
    if dtype_kind == "f":
        if not isinstance(data, (np.ndarray, np.generic)):
            array = array.astype(np.float64)
    elif dtype_kind in "iub":
        array = array.astype(np.float64)
    elif dtype_kind == "c":
        if array.dtype not in (np.complex64, np.complex128):
            array = array.astype(np.complex128)  # complex256 has no LAPACK or FFT
        complex_seen[0] = True
        return array
    else:
        raise TypeError(
            f"{caller}: data must be real or complex numbers; got {type(data).__name__} of "
            f"dtype {array.dtype}"
        )
    if array.ndim == 0 and array.dtype == np.float64:
        return float(array)
    return array


def _duck_data(data: Any, caller: str) -> Any:
    """A duck array (Dask, CuPy) as the engine stores it: itself, in a floating or complex
    dtype (as `as_data` converts numpy arrays), never computed."""
    check_shape(data, caller)
    dtype_kind = data.dtype.kind
    if dtype_kind == "f":
        return data
    if dtype_kind in "iub":
        return data.astype(np.float64)
    if dtype_kind == "c":
        complex_seen[0] = True
        return data if data.dtype in (np.complex64, np.complex128) else \
            data.astype(np.complex128)
    raise TypeError(f"{caller}: data must be real or complex numbers; got "
                    f"{type(data).__name__} of dtype {data.dtype}")


complex_seen: list[bool] = [False]  # set once any complex data is stored: until then, no conj


def raw(x: Any) -> Any:
    """The data of a Value; anything else unchanged (what a VJP rule uses for masks)."""
    return x._data if isinstance(x, Value) else x


def value_or_array(x: Any) -> Any:
    """An operand as an operation takes it: a Value or a duck array (Dask) as it is,
    anything else (a list, a number) as the numpy array numpy's own function makes of it."""
    return x if isinstance(x, Value) or is_duck(x) else np.asarray(x)


# --------------------------------------------------------------------------- the node


def init_node(node: Value, data: Any, requires_grad: bool, op: Any = None,
              args: tuple[Any, ...] = (), raw_args: tuple[Any, ...] | None = None,
              params: dict[str, Any] | None = None,
              residuals: Any = None) -> Value:
    """The one place a node's slots are set: leaves (`Value(...)`) and operation results
    (`autodiff.engine`) alike. `data` must already be normalised (`as_data`). (The scalar
    path, `autodiff.scalar`, and `Primitive`'s common case use `operation_node`.)

    `raw_args` is the arguments' data as the forward pass saw it, or None: "the arguments'
    data as it is now", which the scalar path uses, its Python floats being immutable (a
    Value whose data is replaced gets a new version, and a graph that read the old one is
    refused as stale)."""
    node._data = data
    node.grad = None
    node.requires_grad = requires_grad
    node._op = op
    node._inputs = args
    node._raw = raw_args
    node._params = params
    if residuals is not None:
        node._residuals = residuals
    # 0: a leaf array that no graph has guarded yet (see autodiff.engine); 1 (the class
    # default): nothing to do
    if op is None and type(data) is np.ndarray:
        node._frozen = UNGUARDED
    node._id = tick()
    return node


class Value:
    """A node of a computation graph: numpy data, its gradient, and how it was made.

    `Value(data, requires_grad=True, name=None)`. Numbers and lists become float64;
    floating arrays keep their dtype (and their memory: `Value(a)` shares `a`, as
    `torch.from_numpy` does); integer and bool arrays become float64.
    """

    # Set on every node (slots); the rarely set attributes below live in a __dict__ made
    # only for the Values that need one (a name, a write, a guard, residuals): creating a
    # node sets eight attributes rather than twelve. (Read through an instance, a class
    # default costs a dictionary lookup, so what backprop reads on every node is a slot.)
    # An operation's arguments are `_inputs`, a tuple, or for the scalar path's nodes
    # (`_inputs` None) the slots `_a` and `_b`; `_args` reads either way.
    __slots__ = ("__dict__", "__weakref__", "_a", "_b", "_data", "_id", "_inputs", "_op",
                 "_params", "_raw", "grad", "requires_grad")
    name: str | None = None
    _residuals: Any = None  # what the forward pass left for the rules
    _writes: list[int] | None = None  # [version, last stamp, ring of recent stamps]
    _frozen: int = 1  # NOTHING_TO_GUARD; see the leaf guards below

    def __init_subclass__(cls, **kwargs: Any) -> None:
        raise TypeError("Value is not meant to be subclassed (the engine relies on its exact "
                        "type); wrap a Value in your own class instead")

    def __init__(self, data: Any, requires_grad: bool = True, name: str | None = None) -> None:
        if type(requires_grad) is not bool and not isinstance(requires_grad, np.bool_):
            raise TypeError(
                f"Value: requires_grad must be True or False; got {requires_grad!r}"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Value: name must be a str or None; got {type(name).__name__}")
        if type(data) is Value:
            refuse_traced[0](data, "Value")
        init_node(self, as_data(data), bool(requires_grad))
        if name is not None:
            self.name = name

    # -- copies and pickling ------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        slots = {name: getattr(self, name) for name in _STATE_SLOTS if hasattr(self, name)}
        return {"attributes": dict(self.__dict__), "slots": slots, "clock": _clock_identity()}

    def __getstate__(self) -> dict[str, Any]:
        """What pickle stores: a leaf's data, gradient, name and version. A Value computed
        by an operation is refused: it holds its graph, whose creation order and version
        stamps mean nothing to another process (copy and deepcopy do copy it)."""
        if self._op is not None:
            raise TypeError(
                f"pickle: a Value computed by an operation ({self._op.name}) holds its graph "
                "and cannot be pickled; pickle its data (v.data), v.detach(), or the leaves "
                "it was computed from"
            )
        return self._state()

    def __copy__(self) -> Value:
        if self._op is None:  # (a copy of a leaf is a new leaf)
            refuse_traced[0](self, "copy.copy")
        twin = _new_value(Value)
        twin.__setstate__(self._state())
        return twin

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        if self._op is None:
            refuse_traced[0](self, "copy.deepcopy")
        twin = _new_value(Value)
        memo[id(self)] = twin
        twin.__setstate__(copy.deepcopy(self._state(), memo))
        return twin

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A copy's state (copy, deepcopy, pickle), with the leaf guard worked out for the
        copy's own array rather than copied: a guard state copied from the original would
        leave a fresh array unguarded for good. A copy made while a graph that read the
        original waits for backward is guarded as the original is, until that backward.
        From another process (pickle), a leaf gets a creation number and write stamps of
        this process's clock, its version count kept: the old ones would read as writes
        made after this process's graphs, and refuse them as stale."""
        self.__dict__.update(state["attributes"])
        for name, value in state["slots"].items():
            setattr(self, name, value)
        guarded = self.__dict__.pop("_frozen", NOTHING_TO_GUARD) == FROZEN_BY_ENGINE
        if state["clock"] != _clock_identity() and self._op is None:
            self._id = tick()
            if self._writes is not None:
                self._writes = [self._writes[0], -1] + [-1] * STAMPS_KEPT
        data = self._data
        if self._op is None and type(data) is np.ndarray:
            self._frozen = UNGUARDED
            if guarded and data.flags.writeable:  # a fresh array, not the original's
                freeze(self)

    # -- data and its version ----------------------------------------------------------
    def _set_data(self, new: Any) -> None:
        if new is self._data and self._frozen == UNGUARDED:
            # The same leaf array, written in place (an optimiser's step): only a new
            # version (what it buys: the conversions and guard checks below, already done).
            mark_written(self)
            return
        data = as_data(new, caller="Value.data")
        thaw(self)  # the old array is the caller's again
        self._data = data
        self._frozen = UNGUARDED if self._op is None and type(data) is np.ndarray \
            else NOTHING_TO_GUARD
        mark_written(self)

    # Reading is a C-level getter (attrgetter: no Python frame per read); assigning new data
    # bumps the Value's version, so a graph that read the old data refuses backward.
    # Typed Any, as `grad` below: a float for a float64 scalar, an array otherwise, and
    # users reach straight for `.shape` and numpy functions on it.
    data: Any = property(operator.attrgetter("_data"), _set_data, doc=(
        "The numbers: a Python float for a float64 scalar, a numpy array otherwise. "
        "Assigning new data bumps the version (see `version`)."))

    @property
    def shape(self) -> tuple[int, ...]:
        data = self._data
        return () if type(data) is float else data.shape

    @property
    def ndim(self) -> int:
        data = self._data
        return 0 if type(data) is float else data.ndim

    @property
    def size(self) -> int:
        data = self._data
        return 1 if type(data) is float else data.size

    @property
    def dtype(self) -> np.dtype[Any]:
        data = self._data
        return np.dtype(np.float64) if type(data) is float else data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for Values made by the user rather than by an operation."""
        return self._op is None

    @property
    def op(self) -> str | None:
        """Name of the primitive that produced this Value (None for a leaf)."""
        return None if self._op is None else self._op.name

    @property
    def _args(self) -> Sequence[Any]:
        """The operation's arguments, Values and constants (() for a leaf).

        A scalar-path node keeps its one or two operands in the slots `_a` and `_b` rather
        than in a tuple (what it buys: one allocation fewer per scalar op, and half the
        objects the cyclic garbage collector tracks in a scalar graph)."""
        inputs = self._inputs
        if inputs is not None:
            return inputs
        b = self._b
        return (self._a,) if b is ONE_OPERAND else (self._a, b)

    @_args.setter
    def _args(self, args: Sequence[Any]) -> None:
        self._inputs = args

    @property
    def inputs(self) -> tuple[Value, ...]:
        """The Values this one was computed from (constants left out)."""
        return tuple(a for a in self._args if isinstance(a, Value))

    @property
    def version(self) -> int:
        """How many times the library has changed this Value's data in place or replaced it."""
        writes = self._writes
        return 0 if writes is None else writes[0]

    def item(self) -> Any:
        """The single element as a Python number (float, or complex for complex data), as
        PyTorch's `Tensor.item()` and numpy's `ndarray.item()`: explicitly leaves the graph.
        A Value of any other size raises ValueError (as numpy does); a lazy Dask Value is
        computed here."""
        data = self._data
        if type(data) is float:
            return data
        if data.size != 1:
            raise ValueError(f"item() needs a one-element Value; this one has shape {self.shape} "
                             f"({data.size} elements): use .tolist() or .detach().numpy()")
        if type(data) is not np.ndarray:
            data = np.asarray(data)  # a lazy array is computed here
        return data.reshape(()).item()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data as a numpy array, sharing memory with the Value for numpy arrays (a lazy
        Dask Value is computed here).

        As in PyTorch, a Value that requires grad refuses (the array would leave the graph
        silently): call `.detach().numpy()`, or `.numpy(force=True)`, which does that.
        """
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on a Value that requires grad (the array would leave the "
                "graph silently): use .detach().numpy(), or .numpy(force=True)"
            )
        return np.asarray(self._data)

    def detach(self) -> Value:
        """A constant Value sharing this one's data; nothing flows back through it."""
        return Value(self._data, requires_grad=False, name=self.name)

    def zero_grad(self) -> None:
        """Forget the gradient (sets `grad` to None)."""
        self.grad = None

    def __contains__(self, element: object) -> bool:
        """`x in v`: whether some element of v equals x, by value as in numpy (`==` between
        Values compares identity, so iteration alone would never find a number)."""
        return bool(np.any(np.asarray(self._data) == raw(element)))

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d Value")
        return self._data.shape[0]

    def __repr__(self) -> str:
        """`Value(data, name=..., grad=...)`; numbers as numpy prints them (its print options:
        8 significant digits by default, so tanh(9) shows as 0.99999997, not 1)."""
        parts = []
        if self.name is not None:
            parts.append(f"name={self.name!r}")
        data = self._data
        if type(data) is not float and is_duck(data):  # lazy: described, never computed
            parts.insert(0, _describe_lazy(data))
            if self.grad is not None:
                parts.append("grad=…")
        elif type(data) is float or data.size <= 8:
            parts.insert(0, short_repr(data))
            if self.grad is not None:
                parts.append(f"grad={short_repr(self.grad)}")
        else:
            parts.insert(0, f"shape={data.shape}")
            parts.append(f"dtype={data.dtype}")
            if self.grad is not None:
                parts.append("grad=…")
        if not self.requires_grad:
            parts.append("requires_grad=False")
        return f"Value({', '.join(parts)})"

    # `==` and hashing stay identity-based so Values can sit in sets and dicts. They answer
    # themselves (never NotImplemented), so a numpy operand on the right does not turn
    # `v == x` into numpy's elementwise comparison of the data.
    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    __hash__: ClassVar[Callable[[object], int]] = object.__hash__

    if TYPE_CHECKING:
        # For type checkers only. The slots, as every node sets them:
        #
        # `grad` is None until a backward pass reaches the Value, then a float or an array of
        # the Value's shape (a Value with create_graph=True). Typed Any on purpose, the
        # pragmatic choice: a union such as `float | np.ndarray | Value | None` would make
        # every `W.grad.shape` or `p.data -= lr * p.grad` an error until narrowed.
        grad: Any
        requires_grad: bool
        _inputs: Sequence[Any] | None  # the arguments, or None: in `_a` and `_b` (`_args`)
        _a: Any
        _b: Any
        _data: Any
        _id: int
        _op: Any  # the Primitive that made the node (autodiff.engine), None for a leaf
        _raw: Sequence[Any] | None  # the arguments' data (None: read from _args)
        _params: dict[str, Any] | None  # the operation's keyword parameters
        _repr_html_: ClassVar[Callable[[Value], str]]  # set by autodiff/__init__.py

        # Value's operators and methods, attached by autodiff.methods (setattr, from the op
        # table and autodiff.scalar) and so invisible to type checkers without these.
        def __add__(self, other: Value | ArrayLike) -> Value: ...
        def __radd__(self, other: Value | ArrayLike) -> Value: ...
        def __sub__(self, other: Value | ArrayLike) -> Value: ...
        def __rsub__(self, other: Value | ArrayLike) -> Value: ...
        def __mul__(self, other: Value | ArrayLike) -> Value: ...
        def __rmul__(self, other: Value | ArrayLike) -> Value: ...
        def __truediv__(self, other: Value | ArrayLike) -> Value: ...
        def __rtruediv__(self, other: Value | ArrayLike) -> Value: ...
        def __pow__(self, other: Value | ArrayLike) -> Value: ...
        def __rpow__(self, other: Value | ArrayLike) -> Value: ...
        def __matmul__(self, other: Value | ArrayLike) -> Value: ...
        def __rmatmul__(self, other: Value | ArrayLike) -> Value: ...
        def __mod__(self, other: Value | ArrayLike) -> Value: ...
        def __rmod__(self, other: Value | ArrayLike) -> Value: ...
        def __floordiv__(self, other: Value | ArrayLike) -> Value: ...
        def __rfloordiv__(self, other: Value | ArrayLike) -> Value: ...
        def __divmod__(self, other: Value | ArrayLike) -> tuple[Value, Value]: ...
        def __rdivmod__(self, other: Value | ArrayLike) -> tuple[Value, Value]: ...
        def __iadd__(self, other: Value | ArrayLike) -> Value: ...
        def __isub__(self, other: Value | ArrayLike) -> Value: ...
        def __imul__(self, other: Value | ArrayLike) -> Value: ...
        def __itruediv__(self, other: Value | ArrayLike) -> Value: ...
        def __neg__(self) -> Value: ...
        def __pos__(self) -> Value: ...
        def __abs__(self) -> Value: ...
        def __round__(self, ndigits: int | None = None) -> Value: ...
        def __format__(self, spec: str) -> str: ...
        def __getitem__(self, index: Any) -> Value: ...
        def __iter__(self) -> Iterator[Value]: ...
        def __float__(self) -> float: ...
        def __complex__(self) -> complex: ...
        def __int__(self) -> int: ...
        def __bool__(self) -> bool: ...
        # Comparisons look at the data and give numpy booleans (an array, or np.bool_).
        def __lt__(self, other: Value | ArrayLike) -> Any: ...
        def __le__(self, other: Value | ArrayLike) -> Any: ...
        def __gt__(self, other: Value | ArrayLike) -> Any: ...
        def __ge__(self, other: Value | ArrayLike) -> Any: ...

        @property
        def T(self) -> Value: ...
        @property
        def real(self) -> Value: ...
        @property
        def imag(self) -> Value: ...

        def backward(self, grad: Any = None, create_graph: bool = False, *,
                     intermediate_grads: bool = True) -> None: ...
        def tolist(self) -> Any: ...
        def relu(self) -> Value: ...
        def tanh(self) -> Value: ...
        def sigmoid(self) -> Value: ...
        def exp(self) -> Value: ...
        def log(self) -> Value: ...
        def sqrt(self) -> Value: ...
        def abs(self) -> Value: ...
        def sin(self) -> Value: ...
        def cos(self) -> Value: ...
        def conj(self) -> Value: ...
        def conjugate(self) -> Value: ...
        def softmax(self, axis: int = -1) -> Value: ...
        def log_softmax(self, axis: int = -1) -> Value: ...
        def logsumexp(self, axis: _Axis = None, keepdims: bool = False) -> Value: ...
        def clip(self, min: Value | ArrayLike | None = None,
                 max: Value | ArrayLike | None = None, **kwargs: Any) -> Value: ...
        def reshape(self, *shape: int | tuple[int, ...] | list[int]) -> Value: ...
        def transpose(self, *axes: int | tuple[int, ...] | list[int]) -> Value: ...
        def swapaxes(self, axis1: int, axis2: int) -> Value: ...
        def astype(self, dtype: Any, copy: bool = True) -> Value: ...
        def ravel(self, order: str = "C") -> Value: ...
        def squeeze(self, axis: _Axis = None) -> Value: ...
        def repeat(self, repeats: Any, axis: int | None = None) -> Value: ...
        def take(self, indices: Any, axis: int | None = None, out: None = None,
                 mode: str = "raise") -> Value: ...
        def sort(self, axis: int | None = -1, kind: str | None = None, order: Any = None, *,
                 stable: bool | None = None) -> Value: ...
        def partition(self, kth: Any, axis: int | None = -1, kind: str = "introselect",
                      order: Any = None) -> Value: ...
        def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Value: ...
        def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
                  out: None = None) -> Value: ...
        def sum(self, axis: _Axis = None, dtype: Any = None, out: None = None,
                keepdims: bool = False, initial: Any = None, where: Any = None) -> Value: ...
        def mean(self, axis: _Axis = None, dtype: Any = None, out: None = None,
                 keepdims: bool = False, *, where: Any = None) -> Value: ...
        def max(self, axis: _Axis = None, out: None = None, keepdims: bool = False,
                initial: Any = None, where: Any = None) -> Value: ...
        def min(self, axis: _Axis = None, out: None = None, keepdims: bool = False,
                initial: Any = None, where: Any = None) -> Value: ...
        def prod(self, axis: _Axis = None, dtype: Any = None, out: None = None,
                 keepdims: Any = ..., initial: Any = ..., where: Any = ...) -> Value: ...
        def cumsum(self, axis: int | None = None, dtype: Any = None,
                   out: None = None) -> Value: ...
        def cumprod(self, axis: int | None = None, dtype: Any = None,
                    out: None = None) -> Value: ...
        def ptp(self, axis: _Axis = None, out: None = None, keepdims: Any = ...) -> Value: ...
        def var(self, axis: _Axis = None, dtype: Any = None, out: None = None,
                ddof: float = 0, keepdims: Any = ..., *, where: Any = ..., mean: Any = ...,
                correction: Any = ...) -> Value: ...
        def std(self, axis: _Axis = None, dtype: Any = None, out: None = None,
                ddof: float = 0, keepdims: Any = ..., *, where: Any = ..., mean: Any = ...,
                correction: Any = ...) -> Value: ...


# The slots a copy carries (not the instance dict's or weak references' own).
_STATE_SLOTS = tuple(name for name in Value.__slots__ if not name.startswith("__"))


def operation_node(data: Any, op: Any, args: tuple[Any, ...],
                   raw_args: tuple[Any, ...] | None) -> Value:
    """The node of an operation with no keyword parameters and no residuals, the common
    case of the engine's and the scalar path's hot paths: `init_node`'s slots for it, set
    without its defaults and branches (what it buys: a fraction of a microsecond per op)."""
    node = _new_value(Value)
    node._data = data
    node.grad = node._params = None
    node.requires_grad = True
    node._op = op
    node._inputs = args
    node._raw = raw_args
    node._id = tick()
    return node


def new_value() -> Value:
    """An empty Value for `init_node` to fill (skips `__init__`'s checks)."""
    return _new_value(Value)


def mark_written(value: Value) -> None:
    """Record that the library changed `value`'s data: a new version and a fresh stamp."""
    stamp = last_write[0] = tick()
    writes = value._writes
    if writes is None:
        value._writes = writes = [1, stamp] + [-1] * STAMPS_KEPT
        writes[2 + 1 % STAMPS_KEPT] = stamp
    else:
        version = writes[0] = writes[0] + 1
        writes[1] = writes[2 + version % STAMPS_KEPT] = stamp


# --------------------------------------------------------------------------- leaf guards

UNGUARDED, NOTHING_TO_GUARD, FROZEN_BY_ENGINE = 0, 1, 2  # the values of Value._frozen

_frozen_leaves: list[weakref.ref[Value]] = []  # the leaves `freeze` guarded since the last thaw
_prune_at = [4096]


def freeze(leaf: Value) -> None:
    """Make a leaf's array read-only while a graph that read it waits for backward, so that
    a raw numpy write into it (`x.data[0] = 5`) is refused instead of silently making the
    graph's gradients wrong. Operation results and Python floats need no guard."""
    if leaf._frozen:
        return  # guarded already (the same leaf twice among an operation's arguments)
    data = leaf._data
    if leaf._op is not None or type(data) is not np.ndarray or not data.flags.writeable:
        leaf._frozen = NOTHING_TO_GUARD  # until its data is replaced
        return
    data.setflags(write=False)  # (setflags: half the cost of assigning flags.writeable)
    leaf._frozen = FROZEN_BY_ENGINE
    _frozen_leaves.append(weakref.ref(leaf))
    if len(_frozen_leaves) > _prune_at[0]:  # many graphs, no backward: forget dead leaves
        _frozen_leaves[:] = [ref for ref in _frozen_leaves if ref() is not None]
        _prune_at[0] = max(4096, 2 * len(_frozen_leaves))  # amortised: linear overall


def thaw(leaf: Value) -> None:
    """Give back write access to a leaf array the engine made read-only."""
    if leaf._frozen == FROZEN_BY_ENGINE:
        try:
            leaf._data.setflags(write=True)
        except ValueError:  # its base became read-only meanwhile: leave it so
            pass
        leaf._frozen = UNGUARDED


def thaw_all() -> None:
    """After a backward pass: every leaf array the engine froze is writeable again."""
    if _frozen_leaves:
        refs = _frozen_leaves[:]
        del _frozen_leaves[:len(refs)]
        for ref in refs:
            leaf = ref()
            if leaf is not None:
                thaw(leaf)


def short_repr(x: Any) -> str:
    """Numbers or a small array as numpy prints them, under numpy's print options
    (`np.set_printoptions`, `np.printoptions`): `0.99999997`, `[1., 2.]`; a lazy array
    described without computing it."""
    if isinstance(x, Value):
        return "Value(...)"
    if type(x) is not float and is_duck(x):
        return _describe_lazy(x)
    return np.array2string(np.asarray(x), separator=", ", threshold=8)


def _describe_lazy(x: Any) -> str:
    """A duck array's shape, dtype and chunks (a Dask array's), without computing it."""
    chunks = getattr(x, "chunksize", None)
    parts = [f"shape={x.shape}", f"dtype={x.dtype}"]
    if chunks is not None:
        parts.append(f"chunksize={chunks}")
    return f"{type(x).__module__.split('.')[0]}.array<{', '.join(parts)}>"
