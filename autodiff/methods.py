"""Value's operators and methods, attached above the op table: each names the primitive it
calls (`x + y` is `ops.add(x, y)`), so the node type itself knows no operation.

Also here, because they need the engine's per-thread state:

* In-place operators `+= -= *= /=`. Under `no_grad()` they change the data in place (a new
  version: graphs that read the old data refuse backward). On a leaf that requires grad,
  outside `no_grad()`, they raise, as PyTorch does. On a Value that does not require grad
  they work in place as well. On an operation's result, outside `no_grad()`, they compute
  a new Value (`y += 1` is `y = y + 1`, as for JAX arrays) and the old one is unchanged.
* Conversions to Python numbers (`float`, `int`, `bool`, `math.*`): inside a transform
  (grad, vjp, ...) a traced Value would silently leave the graph, so they raise; outside
  transforms `float(loss)` works for printing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from . import ops
from .backend import compute, is_dask, is_duck
from .engine import _not_recording, _state
from .engine import refuse_traced as _refuse_traced
from .ops.table import BY_NUMPY, CONSTANT_FUNCTIONS, TABLE
from .scalar import OPERATORS as _SCALAR_OPERATORS
from .scalar import as_operand as _as_operand
from .scalar import backward
from .value import FROZEN_BY_ENGINE, Value, as_data, mark_written, raw, thaw

__all__: list[str] = []


def _index(index: Any) -> Any:
    """Check an index: Values (which hold floats) cannot index; use numpy arrays. A list
    becomes the array numpy reads it as, a copy: the graph keeps the index for backward,
    and the caller may reuse the list."""
    if type(index) is list:
        return _index_array(index)
    if type(index) is tuple:
        if any(type(part) is list for part in index):
            index = tuple(_index_array(p) if type(p) is list else p for p in index)
    for part in index if type(index) is tuple else (index,):
        if isinstance(part, Value):
            raise TypeError(
                "getitem: index with ints, slices, None, ..., integer or boolean numpy arrays; "
                f"got a Value of shape {part.shape} (Values hold floats: pass .data.astype(int) "
                "or a comparison such as v > 0, which gives a boolean array)"
            )
        if is_duck(part):  # (it would be computed here, and its gradient could not scatter)
            raise TypeError(
                f"getitem: index with numpy arrays; got a {type(part).__module__.split('.')[0]} "
                f"array of shape {part.shape} (compute it first: idx.compute(), or "
                "np.asarray(idx))")
    return index


def _index_array(part: list[Any]) -> Any:
    """A list index as numpy reads it: an integer or boolean array (an empty one indexes
    nothing). A list holding Values is left for `_index` to refuse."""
    if any(isinstance(p, Value) for p in part):
        return part
    return np.asarray(part) if part else np.empty(0, dtype=np.intp)


# --------------------------------------------------------------------------- conversions


def _float(self: Value) -> float:
    _refuse_traced(self, "float")
    number = self.item()
    if type(number) is complex:
        raise TypeError(f"float() of a complex Value ({number!r}): take .real or abs() first")
    return float(number)  # (a longdouble's item is a numpy scalar)


def _complex(self: Value) -> complex:
    _refuse_traced(self, "complex")
    return complex(self.item())


def _int(self: Value) -> int:
    _refuse_traced(self, "int")
    return int(self.item())


def _bool(self: Value) -> bool:
    _refuse_traced(self, "bool")
    return bool(self._data)


def _iter(self: Value) -> Iterator[Value]:
    for index in range(len(self)):
        yield ops.getitem(self, index)


# --------------------------------------------------------------------------- conveniences
#
# Values look like numbers and arrays: f"{loss:.4f}", abs(v), round(v), v % 1, v.tolist(),
# v.real. The arithmetic ones call numpy's function on the Value, so the op table decides
# (and a function without a rule raises NotImplementedError naming it).


def _format(self: Value, spec: str) -> str:
    """format(v, spec): the data formatted as a float (or a 0-d array's element); an empty
    spec gives str(v). Printing, so a traced Value inside a transform formats too."""
    if not spec:
        return str(self)
    data = self._data
    if type(data) is not float:
        if data.ndim:
            raise TypeError(
                f"format spec {spec!r} on a Value of shape {data.shape}: only one-element "
                "Values format like numbers; format .item() or np.array2string(v.data)"
            )
        data = np.asarray(data)[()]  # (a lazy Dask Value is computed here: printing)
    return format(data, spec)


def _round(self: Value, ndigits: int | None = None) -> Value:
    """round(v) and round(v, n): a Value equal to np.round(v.data, n) (half to even), never
    a Python int, so nothing leaves the graph. Computed as numpy does, through np.rint, whose
    derivative is 0 (as torch.round's)."""
    if not ndigits:
        return np.rint(self)
    if ndigits > 0:
        scale = 10.0 ** ndigits
        return np.rint(self * scale) / scale
    scale = 10.0 ** -ndigits
    return np.rint(self / scale) * scale


def _tolist(self: Value) -> Any:
    """The data as (nested lists of) Python numbers, as ndarray.tolist() and PyTorch's
    Tensor.tolist(). Explicitly leaves the graph, as .item() does."""
    data = self._data
    if type(data) is float:
        return data
    return data.tolist() if type(data) is np.ndarray else np.asarray(data).tolist()  # (lazy)


# --------------------------------------------------------------------------- in-place


def _in_place(name: str, function: Any, primitive: Any) -> Any:
    def operator(self: Value, other: Any) -> Value:
        if self.requires_grad and (not _not_recording[0] or _state.recording):
            if self._op is not None:
                return primitive(self, other)  # a new Value, as `y = y op other`
            raise RuntimeError(
                f"x {name}= ... on a leaf Value that requires grad (shape {self.shape}"
                f"{', name ' + repr(self.name) if self.name else ''}) outside no_grad(): the "
                f"change would not be recorded. Write it under `with autodiff.no_grad():` (as "
                f"an optimiser step does), or `x = x {name} ...` to make a new Value."
            )
        if type(other) is Value and other.requires_grad and (
                not _not_recording[0] or _state.recording):
            return primitive(self, other)  # a tracked operand: recorded, as `x = x op other`
        update_in_place(self, function, raw(other), name)
        return self

    operator.__name__ = f"__i{function.__name__}__"
    return operator


def update_in_place(value: Value, function: Any, other: Any, name: str) -> None:
    """value.data ← function(value.data, other), in place when the array allows it, with a
    new version. Float scalars are replaced; read-only arrays the engine did not freeze
    (broadcast views, the caller's read-only arrays) are replaced by a new array."""
    data = value._data
    if type(data) is not float and type(data) is not np.ndarray and is_duck(data):
        _refuse_misfit(name, other, data.shape)
        result = function(data, other)
        if result.shape != data.shape:  # (a matrix product of another shape)
            raise ValueError(f"x {name}= y: the result has shape {result.shape}, not x's "
                             f"shape {data.shape}")
        if not np.can_cast(result.dtype, data.dtype, casting="same_kind"):
            raise TypeError(f"x {name}= y: the result is {result.dtype} and x holds "
                            f"{data.dtype}, which cannot hold it (numpy refuses the same "
                            "in-place update); convert x first")
        value._data = as_data(result.astype(data.dtype), caller=name)
        mark_written(value)  # a lazy array is never written into: a new one
        return
    if type(other) is not float and type(other) is not np.ndarray and is_dask(other):
        # numpy data updated by a lazy operand: computed here (an optimiser step)
        (other,) = compute(other)
    if type(data) is float:
        result = function(np.float64(data), other)
        if np.iscomplexobj(result):  # (numpy refuses to store it in a float64 array too)
            raise TypeError(f"x {name}= y: the result is complex and x holds float64; make "
                            "x complex first (x = x + 0j)")
        if np.shape(result) != ():
            raise ValueError(f"x {name}= y: y of shape {np.shape(other)} does not fit x of "
                             f"shape ()")
        value._data = float(result)
    else:
        _refuse_misfit(name, other, data.shape)
        if data.base is not None or (not data.flags.writeable
                                     and value._frozen != FROZEN_BY_ENGINE):
            # A view of memory that other arrays share (a slice, reshape or transpose of
            # another Value, or of the caller's array), or a read-only array: a new array,
            # so that what shares the memory, and the graphs that read it, stay as they were.
            # numpy's in-place casting rule (same_kind) still holds.
            new = np.empty_like(data)
            function(data, other, out=new)
            value.data = new  # (a new version; guarded as a leaf's own array)
            return
        if value._frozen == FROZEN_BY_ENGINE:
            thaw(value)
        function(data, other, out=data)
    mark_written(value)


def _refuse_misfit(name: str, other: Any, target: tuple[Any, ...]) -> None:
    """ValueError unless `other` broadcasts to exactly `target` (an in-place update never
    changes x's shape; for `@=` numpy's matmul checks the product's shape itself)."""
    if name == "@":
        return
    shape = getattr(other, "shape", None)
    if shape is None:
        shape = np.shape(other)
    if shape != target and shape != () and not _fits(shape, target):
        raise ValueError(f"x {name}= y: y of shape {shape} does not fit x of shape {target}")


def _fits(shape: tuple[Any, ...], target: tuple[Any, ...]) -> bool:
    """True if an operand of `shape` broadcasts to exactly `target`."""
    try:
        return np.broadcast_shapes(target, shape) == target
    except ValueError:
        return False


# --------------------------------------------------------------------------- numpy dispatch
#
# NEP 13 (`__array_ufunc__`) and NEP 18 (`__array_function__`): a numpy ufunc or function
# called with a Value among its arguments goes to the op table's entry for it; a function
# whose result is a constant (argmax, isfinite, shape, ...) runs on the data; anything
# else raises NotImplementedError naming it. Nothing turns a Value into an object array.


def _unwrap(x: Any) -> Any:
    """Values replaced by their data, inside lists, tuples and dicts too."""
    if type(x) is Value:
        return x._data
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(item) for item in x)
    if isinstance(x, dict):
        return {key: _unwrap(item) for key, item in x.items()}
    return x


def _numpy_name(function: Any) -> str:
    module = getattr(function, "__module__", None) or "numpy"
    name = getattr(function, "__name__", repr(function))
    module = module.replace("numpy._core.", "numpy.").replace("numpy.lib.", "numpy.")
    if module.startswith("numpy.") and module.count(".") > 1:
        module = "numpy." + module.split(".")[1]
    return f"{'np' if module in ('numpy', 'numpy.numeric', 'numpy.fromnumeric') else module}." \
           f"{name}"


def _no_rule(function: Any) -> NotImplementedError:
    return NotImplementedError(
        f"{_numpy_name(function)}: autodiff has no gradient rule for it, so it cannot run on "
        "Values (it is never treated as a constant). Compute it on .data if a constant is "
        "meant, or give it a rule with autodiff.extend.primitive; the functions autodiff "
        "differentiates are listed in docs/functions.md."
    )


_REDUCE = {np.add: "sum", np.multiply: "prod", np.maximum: "max", np.minimum: "min"}
_ACCUMULATE = {np.add: "cumsum", np.multiply: "cumprod"}


# `BY_NUMPY.get` bound once: an imported name's method is looked up as an attribute, which
# builds a bound method per call (about 500 instructions of the dispatch's ~1,000).
_entry_of = BY_NUMPY.get


def _array_ufunc(self: Value, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
    if any(type(x) is list or type(x) is tuple for x in inputs):
        inputs = tuple(_as_operand(x) for x in inputs)
    if not kwargs and method == "__call__":  # the common call: straight to the table
        entry = _entry_of(ufunc)
        if entry is not None:
            return entry.implementation(*inputs)
    out = kwargs.pop("out", None)
    if out is not None and any(o is not None for o in (out if isinstance(out, tuple)
                                                        else (out,))):
        raise TypeError(
            f"np.{ufunc.__name__}(..., out=...) with Values: results are new Values and are "
            "never written into an array (that would leave the graph); drop out="
        )
    if method == "__call__":
        entry = BY_NUMPY.get(ufunc)
        if entry is not None:
            return _call_entry(entry, inputs, kwargs)
        if ufunc in CONSTANT_FUNCTIONS:
            return ufunc(*_unwrap(inputs), **kwargs)
        raise _no_rule(ufunc)
    if method == "reduce" and ufunc in _REDUCE and len(inputs) == 1:
        kwargs.setdefault("axis", 0)
        return _call_entry(TABLE[_REDUCE[ufunc]], inputs, kwargs)
    if method == "accumulate" and ufunc in _ACCUMULATE and len(inputs) == 1:
        kwargs.setdefault("axis", 0)
        if kwargs["axis"] is None:
            raise ValueError(f"np.{ufunc.__name__}.accumulate: axis=None is not allowed "
                             "(accumulate does not allow multiple axes), as numpy")
        if isinstance(kwargs["axis"], tuple) and len(kwargs["axis"]) == 1:
            kwargs["axis"] = kwargs["axis"][0]
        if np.ndim(raw(inputs[0])) == 0:
            raise TypeError(f"np.{ufunc.__name__}.accumulate: cannot accumulate on a scalar, "
                            "as numpy")
        return _call_entry(TABLE[_ACCUMULATE[ufunc]], inputs, kwargs)
    if method == "outer" and len(inputs) == 2 and ufunc in BY_NUMPY:
        a, b = inputs
        b_ndim = np.ndim(raw(b))
        a = ops.reshape(a, np.shape(raw(a)) + (1,) * b_ndim) if b_ndim else a
        return _call_entry(BY_NUMPY[ufunc], (a, b), kwargs)
    if ufunc in CONSTANT_FUNCTIONS and method in ("reduce", "accumulate", "outer"):
        return getattr(ufunc, method)(*_unwrap(inputs), **kwargs)
    raise NotImplementedError(
        f"np.{ufunc.__name__}.{method} on Values: not supported (in-place `at` and the other "
        "ufunc methods would bypass the graph)"
    )


def _call_entry(entry: Any, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Call a table entry with a ufunc's keywords: dtype= is the dtype the ufunc computes
    in (the array inputs cast to it, as numpy's same_kind casting allows); where=, order=,
    casting= and subok= other than their defaults are refused."""
    dtype = kwargs.pop("dtype", None)
    for key, default in (("where", True), ("casting", "same_kind"), ("order", "K"),
                         ("subok", True), ("signature", None)):
        if key in kwargs:
            value = kwargs.pop(key)
            if value is not default and not (isinstance(value, str) and value == default):
                raise TypeError(f"{entry.name}: the keyword {key}={value!r} is not supported "
                                f"on Values")
    if dtype is not None:
        inputs = tuple(_computed_in(entry.name, x, np.dtype(dtype)) for x in inputs)
    return entry.implementation(*inputs, **kwargs)


def _computed_in(name: str, x: Any, dtype: np.dtype[Any]) -> Any:
    """An input of a ufunc called with dtype=: an array (a Value's or a constant) cast to
    `dtype`, a Python number as it is; a cast numpy's same_kind rule refuses is refused."""
    if not isinstance(x, (Value, np.ndarray, np.generic)):
        return x
    source = np.result_type(raw(x))
    if source == dtype:
        return x
    if not np.can_cast(source, dtype, "same_kind"):
        raise TypeError(f"{name}: cannot compute in {dtype} from an input of dtype {source} "
                        "(numpy's casting='same_kind' refuses it)")
    return ops.astype(x, dtype) if isinstance(x, Value) else np.asarray(x).astype(dtype)


def _array_function(self: Value, function: Any, types: Any, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
    entry = _entry_of(function)
    if entry is not None:
        return entry.implementation(*args, **kwargs)
    if function in CONSTANT_FUNCTIONS:
        return function(*_unwrap(args), **_unwrap(kwargs))
    raise _no_rule(function)


def _array(self: Value, dtype: Any = None, copy: Any = None) -> np.ndarray:
    if self.requires_grad:
        raise TypeError(
            "a numpy array was requested from a Value that requires grad (np.asarray, "
            "np.array, or a list of Values handed to numpy): that would silently leave the "
            "graph. Call numpy functions on the Values themselves (np.stack([a, b]) rather "
            "than np.array([a, b])), or take the numbers explicitly with .detach().numpy() "
            "or .data."
        )
    data = np.asarray(self._data, dtype=dtype)
    return data.copy() if copy else data


# --------------------------------------------------------------------------- attach


def _binary(primitive: Any, reflected: bool = False) -> Any:
    if reflected:
        return lambda self, other: primitive(_as_operand(other), self)
    return lambda self, other: primitive(self, _as_operand(other))


def _reduction(primitive: Any) -> Any:
    def method(self: Value, axis: Any = None, keepdims: bool = False) -> Value:
        return primitive(self, axis=axis, keepdims=keepdims)

    method.__doc__ = primitive.__doc__
    return method


def _reshape(self: Value, *shape: Any, order: str = "C", copy: Any = None,
             **keywords: Any) -> Value:
    """v.reshape(2, 3), v.reshape((2, 3)) or v.reshape(shape=(2, 3)), as ndarray.reshape."""
    if keywords.keys() - {"shape"} or (shape and keywords):
        raise TypeError(f"reshape: unexpected arguments {sorted(keywords)}; give the shape as "
                        "v.reshape(2, 3), v.reshape((2, 3)) or v.reshape(shape=(2, 3))")
    if keywords:
        shape = (keywords["shape"],)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return ops.reshape(self, shape, order=order, copy=copy)


def _transpose(self: Value, *axes: Any) -> Value:
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    elif len(axes) == 1 and axes[0] is None:  # v.transpose(None): reversed, as numpy
        axes = ()
    return ops.transpose(self, axes or None)


def _backward(self: Value, grad: Any = None, create_graph: bool = False, *,
              intermediate_grads: bool = True, release_graph: bool = False) -> None:
    backward(self, grad, create_graph, intermediate_grads=intermediate_grads,
             release_graph=release_graph)


_backward.__doc__ = backward.__doc__

_METHODS: dict[str, Any] = {
    "__add__": _binary(ops.add), "__radd__": _binary(ops.add, True),
    "__sub__": _binary(ops.subtract), "__rsub__": _binary(ops.subtract, True),
    "__mul__": _binary(ops.multiply), "__rmul__": _binary(ops.multiply, True),
    "__truediv__": _binary(ops.divide), "__rtruediv__": _binary(ops.divide, True),
    "__pow__": _binary(ops.power), "__rpow__": _binary(ops.power, True),
    "__matmul__": _binary(ops.matmul), "__rmatmul__": _binary(ops.matmul, True),
    "__iadd__": _in_place("+", np.add, ops.add),
    "__isub__": _in_place("-", np.subtract, ops.subtract),
    "__imul__": _in_place("*", np.multiply, ops.multiply),
    "__itruediv__": _in_place("/", np.true_divide, ops.divide),
    "__ipow__": _in_place("**", np.power, ops.power),
    "__imatmul__": _in_place("@", np.matmul, ops.matmul),
    "__ifloordiv__": _in_place("//", np.floor_divide, lambda x, y: np.floor_divide(x, y)),
    "__imod__": _in_place("%", np.remainder, lambda x, y: np.remainder(x, y)),
    "__mod__": lambda self, other: np.mod(self, other),
    "__rmod__": lambda self, other: np.mod(other, self),
    "__floordiv__": lambda self, other: np.floor_divide(self, other),
    "__rfloordiv__": lambda self, other: np.floor_divide(other, self),
    "__divmod__": lambda self, other: np.divmod(self, other),
    "__rdivmod__": lambda self, other: np.divmod(other, self),
    "__abs__": lambda self: ops.absolute(self),
    "__round__": _round,
    "__format__": _format,
    "tolist": _tolist,
    "real": property(lambda self: np.real(self), doc="The real part (np.real)."),
    "imag": property(lambda self: np.imag(self), doc="The imaginary part (np.imag)."),
    "__neg__": lambda self: ops.negative(self),
    "__pos__": lambda self: self,
    "__getitem__": lambda self, index: ops.getitem(self, _index(index)),
    "__iter__": _iter,
    "__float__": _float, "__complex__": _complex, "__int__": _int, "__bool__": _bool,
    # Comparisons look at the data, return plain numpy booleans and record nothing.
    "__lt__": lambda self, other: np.less(self._data, raw(other)),
    "__le__": lambda self, other: np.less_equal(self._data, raw(other)),
    "__gt__": lambda self, other: np.greater(self._data, raw(other)),
    "__ge__": lambda self, other: np.greater_equal(self._data, raw(other)),
    "relu": lambda self: ops.relu(self),
    "tanh": lambda self: ops.tanh(self),
    "sigmoid": lambda self: ops.sigmoid(self),
    "exp": lambda self: ops.exp(self),
    "log": lambda self: ops.log(self),
    "sqrt": lambda self: ops.sqrt(self),
    "abs": lambda self: ops.absolute(self),
    "sin": lambda self: ops.sin(self),
    "cos": lambda self: ops.cos(self),
    "softmax": lambda self, axis=-1: ops.softmax(self, axis=axis),
    "log_softmax": lambda self, axis=-1: ops.log_softmax(self, axis=axis),
    "clip": lambda self, min=None, max=None, **kwargs: ops.clip(self, min, max, **kwargs),
    "reshape": _reshape,
    "transpose": _transpose,
    "swapaxes": lambda self, axis1, axis2: ops.swapaxes(self, axis1, axis2),
    "astype": lambda self, dtype, copy=True: ops.astype(self, dtype),  # (always a new Value)
    "T": property(lambda self: ops.transpose(self)),
    "backward": _backward,
    "__array_ufunc__": _array_ufunc,
    "__array_function__": _array_function,
    "__array__": _array,
}

# The float64 scalar path (autodiff.scalar) takes over the operators it has a path for.
_METHODS.update(_SCALAR_OPERATORS)

for _name, _method in _METHODS.items():
    setattr(Value, _name, _method)

def _as_method(implementation: Any) -> Any:
    """A function (which binds as a method) calling `implementation` with self first."""
    if isinstance(implementation, type(_as_method)):
        return implementation

    def method(self: Value, *args: Any, **kwargs: Any) -> Any:
        return implementation(self, *args, **kwargs)

    method.__name__ = getattr(implementation, "__name__", "method")
    method.__doc__ = implementation.__doc__
    return method


for _entry in TABLE.values():  # every declared operation with a method name
    if _entry.method and _entry.method not in _METHODS:
        setattr(Value, _entry.method, _as_method(_entry.implementation))

if not hasattr(Value, "conj"):  # unless the table attaches it: the engine's conjugate
    Value.conj = lambda self: ops.conj(self)  # type: ignore[method-assign]  # declared in Value
