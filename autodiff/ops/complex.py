"""Complex numbers: real and imaginary parts, conjugate, angle; and numpy's complex-type
tests, which are constants.

None of these is holomorphic, so their rules are the transposes under the pairing
Re(a·b) that the engine works in (see autodiff/engine.py): for w = f(z) the rule maps the
cotangent g of w to ∂w/∂x·g − i ∂w/∂y·g, and the engine turns the result into PyTorch's
convention (z.grad = ∂L/∂x + i ∂L/∂y) at the boundaries. For real input they are what
numpy gives (real(x) = x, imag(x) = 0, conj(x) = x, angle(x) = 0 or π) with those
derivatives (1, 0, 1, 0).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import any_
from ..engine import conj as _conj
from ..engine import primitive
from ..value import raw
from .arithmetic import divide, where
from .table import ALL_DTYPES, constant, declare, unary

__all__ = ["angle", "conj", "conjugate", "imag", "real"]


@primitive(name="real")
def _real(x):
    """Re z  ·  the cotangent g goes back as it is (a complex z gets g + 0i)"""
    return np.real(x) if np.iscomplexobj(x) else x


_real.defvjp(lambda g, out, x: g)


@primitive(name="imag")
def _imag(x):
    """Im z  ·  the cotangent is −i·g (0 for real x)"""
    if np.iscomplexobj(x):
        return np.imag(x)
    return 0.0 if type(x) is float else np.zeros_like(x)


_imag.defvjp(lambda g, out, x: g * -1j if np.iscomplexobj(raw(x)) else g * 0.0)


@declare("real", numpy=np.real, group="complex", cases=unary(), dtypes=ALL_DTYPES,
         domain="all complex numbers", torch="torch.real")
def real(val: Any) -> Any:
    """Re z, as np.real (x itself for real x)  ·  ∂Re z/∂x = 1, ∂Re z/∂y = 0"""
    return _real(val)


@declare("imag", numpy=np.imag, group="complex", cases=unary(), dtypes=ALL_DTYPES,
         domain="all complex numbers; 0 (and a zero gradient) for real x", torch="torch.imag")
def imag(val: Any) -> Any:
    """Im z, as np.imag (zeros for real x)  ·  ∂Im z/∂x = 0, ∂Im z/∂y = 1"""
    return _imag(val)


def _refuse(name, out, kwargs):
    if out is not None:
        raise TypeError(f"{name}: out= is not supported on Values (results are new Values)")
    for key, value in kwargs.items():
        raise TypeError(f"{name}: the keyword {key}={value!r} is not supported on Values")


@declare("conj", numpy=np.conjugate, method="conj", group="complex", cases=unary(),
         dtypes=ALL_DTYPES, domain="all complex numbers (x itself for real x)",
         torch="torch.conj")
def conj(x: Any, out: Any = None, **kwargs: Any) -> Any:
    """z̄, as np.conj / np.conjugate  ·  the cotangent is conjugated"""
    _refuse("conj", out, kwargs)
    return _conj(x)


@declare("conjugate", method="conjugate", group="complex", cases=unary(), dtypes=ALL_DTYPES,
         domain="all complex numbers (x itself for real x)", torch="torch.conj",
         notes="the same as conj (np.conjugate dispatches to conj)")
def conjugate(x: Any, out: Any = None, **kwargs: Any) -> Any:
    """z̄, as np.conjugate  ·  the cotangent is conjugated"""
    _refuse("conjugate", out, kwargs)
    return _conj(x)


@primitive(name="angle")
def _angle(z, deg=False):
    """arg z = atan2(y, x) (in degrees with deg=True)  ·  the cotangent is −i·g/z, 0 at z = 0
    and for real z"""
    return np.angle(z, deg=deg)


def _angle_vjp(g, out, z, deg=False):
    data = raw(z)
    if not np.iscomplexobj(data):
        return g * 0.0  # 0 or π: piecewise constant, a zero gradient (as PyTorch)
    scale = -1j * (180 / math.pi if deg else 1.0)
    at_zero = np.equal(data, 0)
    if not any_(at_zero):
        return divide(g * scale, z)
    return where(at_zero, 0.0, divide(g * scale, where(at_zero, 1.0, z)))


_angle.defvjp(_angle_vjp)


def _angle_cases(gen):
    x = gen.array(gen.shape(), "nonzero")  # complex: |Re| and |Im| ≥ 0.25, off the cut
    return (x,), {"deg": gen.boolean()}


@declare("angle", numpy=np.angle, group="complex", cases=_angle_cases, dtypes=ALL_DTYPES,
         domain="z ≠ 0, off the branch cut (the negative real axis, where arg jumps from π "
                "to −π); real x: 0 or π with a zero gradient; angle'(0) = 0",
         torch="torch.angle")
def angle(z: Any, deg: Any = False) -> Any:
    """arg z, as np.angle (radians, or degrees with deg=True)  ·  ∂/∂x = −y/|z|²,
    ∂/∂y = x/|z|²"""
    return _angle(z, deg=bool(deg))


# Whether data is complex: questions about the dtype, or comparisons of Im with 0.
constant(np.iscomplexobj, np.isrealobj, np.iscomplex, np.isreal)
