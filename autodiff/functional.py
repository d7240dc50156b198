"""Functional transforms over plain functions: grad, value_and_grad, vjp, jvp, jacobian,
hessian. They are thin layers over one reverse pass (`backprop`).

A function given to them is written with Value-aware code (Value methods, operators and
`autodiff` functions). Called with plain numbers or arrays they return plain numpy results;
called with Values that require grad (as happens when transforms nest, `grad(grad(f))`)
they return Values connected to those inputs, so the result can be differentiated again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import Value, _data, backprop
from .ops import stack

__all__ = ["grad", "hessian", "jacobian", "jvp", "value_and_grad", "vjp"]


def _is_traced(x: Any) -> bool:
    return isinstance(x, Value) and x.requires_grad


def _trace_inputs(args: Sequence[Any]) -> tuple[list[Value], bool]:
    """Leaves to differentiate with respect to, and whether we sit inside an outer transform."""
    nested = any(_is_traced(a) for a in args)
    return [a if _is_traced(a) else Value(a) for a in args], nested


def _zeros_like(x: Value) -> Any:
    return 0.0 if x.ndim == 0 and x.dtype == np.float64 else np.zeros(x.shape, dtype=x.dtype)


def _cotangents(out: Value, inputs: Sequence[Value], g: Any, create_graph: bool) -> list[Any]:
    """d⟨g, out⟩/d(input) for each input (zeros for inputs `out` does not depend on)."""
    if not _is_traced(out):
        return [_zeros_like(x) for x in inputs]
    grads = backprop(out, g, create_graph=create_graph)
    return [grads.get(x, _zeros_like(x)) for x in inputs]


def _as_result(x: Any, nested: bool) -> Any:
    return x if nested else _data(x)


def _vjp(f: Callable, args: Sequence[Any], create_graph: bool = False):
    inputs, nested = _trace_inputs(args)
    out = f(*inputs)
    if not isinstance(out, Value):
        out = Value(out, requires_grad=False)

    def vjp_fn(g: Any) -> tuple[Any, ...]:
        cotangents = _cotangents(out, inputs, g, create_graph=create_graph or nested)
        return tuple(_as_result(c, nested or create_graph) for c in cotangents)

    return out, inputs, nested, vjp_fn


def vjp(f: Callable, *args: Any) -> tuple[Any, Callable]:
    """(f(*args), vjp_fn) where vjp_fn(g) = gᵀ ∂f/∂args, one cotangent per argument."""
    out, _, nested, vjp_fn = _vjp(f, args)
    return _as_result(out, nested), vjp_fn


def value_and_grad(f: Callable, argnum: int | Sequence[int] = 0) -> Callable:
    """x ↦ (f(x), ∇f(x)) for a scalar-valued f; `argnum` picks the argument(s)."""

    def value_and_gradient(*args: Any) -> tuple[Any, Any]:
        out, _, nested, vjp_fn = _vjp(f, args)
        if out.size != 1:
            raise ValueError(
                f"grad: f must return one element; it returned shape {out.shape} "
                "(use jacobian or vjp for vector outputs)"
            )
        cotangents = vjp_fn(None)
        if isinstance(argnum, int):
            return _as_result(out, nested), cotangents[argnum]
        return _as_result(out, nested), tuple(cotangents[i] for i in argnum)

    return value_and_gradient


def grad(f: Callable, argnum: int | Sequence[int] = 0) -> Callable:
    """x ↦ ∇f(x) for a scalar-valued f, with the shape and dtype of x."""
    value_and_gradient = value_and_grad(f, argnum)

    def gradient(*args: Any) -> Any:
        return value_and_gradient(*args)[1]

    return gradient


def jvp(f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """(f(x), ∂f/∂x · t): forward-mode directional derivative.

    Computed by transposing the VJP, which is linear in its cotangent u:
    ∂f·t = ∂/∂u ⟨vjp(u), t⟩.
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    for i, (p, t) in enumerate(zip(primals, tangents, strict=True)):
        if np.shape(_data(p)) != np.shape(_data(t)):
            raise ValueError(
                f"jvp: tangent {i} has shape {np.shape(_data(t))} but its primal has shape "
                f"{np.shape(_data(p))}"
            )
    out, _, nested, vjp_fn = _vjp(f, primals, create_graph=True)
    u = Value(_zeros_like(out))
    cotangents = vjp_fn(u)
    pairing = sum(
        ((c * t).sum() for c, t in zip(cotangents, tangents, strict=True) if isinstance(c, Value)),
        start=Value(0.0, requires_grad=False),
    )
    (tangent_out,) = _cotangents(pairing, [u], None, create_graph=nested)
    return _as_result(out, nested), _as_result(tangent_out, nested)


def jacobian(f: Callable, argnum: int = 0) -> Callable:
    """x ↦ ∂f/∂x, of shape f(x).shape + x.shape (one reverse pass per output element)."""

    def jacobian_at(*args: Any) -> Any:
        out, inputs, nested, vjp_fn = _vjp(f, args)
        rows = []
        for k in range(out.size):
            basis = np.zeros(out.size, dtype=out.dtype)
            basis[k] = 1
            rows.append(vjp_fn(basis.reshape(out.shape))[argnum])
        x_shape = inputs[argnum].shape
        if nested:
            rows = [r if isinstance(r, Value) else Value(r, requires_grad=False) for r in rows]
            return stack(rows).reshape(out.shape + x_shape)
        return np.stack([np.asarray(r) for r in rows]).reshape(out.shape + x_shape)

    return jacobian_at


def hessian(f: Callable, argnum: int = 0) -> Callable:
    """x ↦ ∂²f/∂x², of shape x.shape + x.shape, for a scalar-valued f."""
    return jacobian(grad(f, argnum), argnum)
