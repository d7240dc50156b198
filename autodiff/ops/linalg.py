"""Matrix products (numpy.matmul semantics: 1-D, 2-D and batched)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import primitive
from ..value import raw
from .table import ALL_DTYPES, declare


def _matmul_cases(gen):
    n, k, m = gen.integer(1, 3), gen.integer(1, 3), gen.integer(1, 3)
    left = gen.choice([(k,), (n, k), (2, n, k)])
    right = gen.choice([(k,), (k, m), (2, k, m)])
    return (gen.array(left), gen.array(right)), {}


def _mT(x):
    """Swap the last two axes (the matrix transpose of every matrix in a batch)."""
    return x.T if np.ndim(raw(x)) == 2 else x.swapaxes(-1, -2)


def _matmul_vjp_left(g, out, a, b):
    a_ndim, b_ndim = np.ndim(raw(a)), np.ndim(raw(b))
    if b_ndim == 1:
        return g * b if a_ndim == 1 else g[..., None] * b      # outer product with b
    if a_ndim == 1:
        return (b @ g[..., None])[..., 0]                     # (..., k, m) @ (..., m, 1)
    return g @ _mT(b)


def _matmul_vjp_right(g, out, a, b):
    a_ndim, b_ndim = np.ndim(raw(a)), np.ndim(raw(b))
    if a_ndim == 1:
        return g * a if b_ndim == 1 else a[:, None] * g[..., None, :]
    if b_ndim == 1:
        # gᵀa, a product with the cotangent: never the (..., n, k) array g[..., None] * a
        if a_ndim == 2:
            return g @ a
        return (g[..., None, :] @ a)[..., 0, :]               # batches summed by the engine
    return _mT(a) @ g


@declare("matmul", numpy=np.matmul, group="contractions", cases=_matmul_cases,
         dtypes=ALL_DTYPES, torch="torch.matmul")
@primitive(name="matmul")
def matmul(a: Any, b: Any) -> Any:
    """a @ b  ·  ∂/∂a = g bᵀ, ∂/∂b = aᵀ g"""
    return np.matmul(a, b)


matmul.defvjp(_matmul_vjp_left, _matmul_vjp_right)
