"""numpy.linalg: solves, inverses, determinants, factorizations, norms; batched over leading
axes where numpy is.

The rules are the matrix derivatives of the literature, written with differentiable
operations (matmul, solve, inv, masks) so that every order differentiates:

* inv, solve, det, slogdet, pinv, lstsq: Giles 2008, "An extended collection of matrix
  derivative results for forward and reverse mode AD"; pinv: Golub & Pereyra 1973.
* cholesky: Murray 2016, "Differentiation of the Cholesky decomposition".
* eigh: Giles 2008 §3.1; Walter & Lehmann 2018 ("Algorithmic differentiation of linear
  algebra functions with application in optimum experimental design").
* eig, eigvals: Giles 2008 §3.1, with the term of numpy's unit-norm eigenvectors (see the
  eig section below).
* svd: Townsend 2016, "Differentiating the singular value decomposition"; Seeger et al.
  2017, "Auto-differentiating linear algebra".
* qr: Walter & Lehmann 2018 (square and tall), Liao et al. 2019 (wide).

Symmetric inputs (cholesky, eigh, eigvalsh): numpy reads one triangle only (the lower one
by default), so the gradient returned is the derivative of exactly that function: the
symmetric gradient Ā of the literature folded onto the triangle read (off-diagonal
entries Āᵢⱼ + Āⱼᵢ, the diagonal Āᵢᵢ, zeros in the other triangle). For any symmetric
parametrisation (A = X Xᵀ, A = B + Bᵀ, ...) this gives the same gradients as PyTorch's
symmetric convention.

Decompositions return several arrays; their primitive packs them into one array (the
engine's nodes have one output) and the public function unpacks them with getitem.
Gradients of eigh and svd exist where the eigen/singular values are distinct (and, for
svd, nonzero); they are invariant to the sign of each eigen/singular vector only for
losses that are. Those of eig's eigenvectors exist only for losses invariant to each
eigenvector's phase (others raise in backward, as PyTorch).

Complex data: solve, inv, det, slogdet, matrix_power, multi_dot and norm (except the
singular-value orders) take complex matrices; rules are plain transposes (no conjugation),
as everywhere in this library. eig and eigvals take real and complex matrices (complex
results for a real matrix with complex eigenvalues, a real gradient for it); the other
factorizations are real only.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..backend import any_, check_shape, is_dask, is_lazy, not_lazy
from ..engine import conj, primitive
from ..value import Value, raw
from .arithmetic import divide, where
from .complex import real
from .elementwise import absolute, power
from .linalg import matmul
from .reductions import _restore, max_, min_, real_dtype, sum_
from .shape import concatenate, getitem, reshape, swapaxes, transpose
from .table import ALL_DTYPES, constant, declare

__all__ = ["cholesky", "cond", "det", "eig", "eigh", "eigvals", "eigvalsh", "inv", "lstsq",
           "matrix_power", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "svd"]

_SlogdetResult = type(np.linalg.slogdet(np.eye(1)))
_EighResult = type(np.linalg.eigh(np.eye(1)))
_SVDResult = type(np.linalg.svd(np.eye(1)))
_QRResult = type(np.linalg.qr(np.eye(1)))


# --------------------------------------------------------------------------- helpers


def _mT(x: Any) -> Any:
    """The transpose of every matrix in a batch (the last two axes swapped)."""
    return swapaxes(x, -1, -2)


def _matrices(x: Any, name: str) -> tuple[int, ...]:
    shape = np.shape(raw(x))
    if len(shape) < 2:
        raise np.linalg.LinAlgError(f"{len(shape)}-dimensional array given. Array must be at "
                                    f"least two-dimensional ({name})")
    return shape


def _square(x: Any, name: str) -> int:
    shape = _matrices(x, name)
    if shape[-1] != shape[-2]:
        raise np.linalg.LinAlgError(f"Last 2 dimensions of the array must be square ({name})")
    return shape[-1]


def _expand(x: Any) -> Any:
    """A batch of numbers as a batch of 1×1 matrices (to scale matrices)."""
    return reshape(x, (*np.shape(raw(x)), 1, 1))


def _eye(n: int, dtype: Any = np.float64) -> np.ndarray:
    return np.eye(n, dtype=dtype)


def _fold(x: Any, uplo: str) -> Any:
    """The gradient of a function of a symmetric matrix that reads one triangle: Ā's
    off-diagonal pairs added onto the triangle read, its diagonal kept."""
    n = np.shape(raw(x))[-1]
    keep = np.tril(np.ones((n, n))) if uplo == "L" else np.triu(np.ones((n, n)))
    return (x + _mT(x)) * keep - x * _eye(n)


def _from_lower(a: Any) -> Any:
    """The symmetric matrix of A's lower triangle, tril(A) + tril(A, −1)ᵀ, as numpy's
    `hermitian=True` reads A (the gradient lands on the lower triangle only)."""
    n, dtype = np.shape(raw(a))[-1], np.result_type(raw(a))
    ones = np.ones((n, n), dtype=dtype)
    return a * np.tril(ones) + _mT(a * np.tril(ones, -1))


def _real_only(name: str, *xs: Any) -> None:
    for x in xs:
        if np.iscomplexobj(raw(x)):
            raise NotImplementedError(f"{name}: complex matrices are not supported on Values "
                                      "(real float64/float32 only)")


def _refuse_non_finite(name: str, *xs: Any,
                       why: str = "on which the SVD does not converge; make it finite first"
                       ) -> None:
    """LinAlgError for a matrix holding inf or nan, before LAPACK sees it: on such input its
    SVD drivers fail to converge, and with some OpenBLAS builds never return (numpy's own
    svd, pinv and lstsq hang on a matrix holding inf); its geev refuses it."""
    for x in xs:
        if not is_lazy(x) and not np.isfinite(x).all():
            raise np.linalg.LinAlgError(
                f"{name}: the matrix of shape {np.shape(x)} holds inf or nan, {why}")


def _pack(*arrays: np.ndarray) -> np.ndarray:
    """Several batched arrays flattened into one (the batch axes kept in front)."""
    batch = arrays[0].shape[:-2] if arrays[0].ndim >= 2 else arrays[0].shape[:-1]
    return np.concatenate([a.reshape((*batch, -1)) for a in arrays], axis=-1)


def _unpack(packed: Any, shapes: list[tuple[int, ...]]) -> list[Any]:
    """The arrays `_pack` joined, each reshaped to the batch axes + its shape."""
    batch = np.shape(raw(packed))[:-1]
    parts, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        piece = getitem(packed, (Ellipsis, slice(start, start + size)))
        parts.append(reshape(piece, batch + tuple(shape)))
        start += size
    return parts


def _refuse_out(name: str, out: Any) -> None:
    if out is not None:
        raise TypeError(f"{name}: out= is not supported on Values (results are new Values)")


def _well_conditioned(gen, rows, cols=None):
    """A strictly diagonally dominant (rows, cols) matrix (sides ≤ 3): full rank, well
    conditioned, far from the sign switches of Householder QR. No entry is exactly 0: at an
    exactly triangular matrix LAPACK skips a reflection and R's signs jump."""
    cols = rows if cols is None else cols
    return (0.3 * gen.array((rows, cols), "nonzero") + 2.0 * np.eye(rows, cols)).astype(
        gen.dtype)


def _invertible(gen, batch=True):
    n = gen.integer(1, 3)
    a = _well_conditioned(gen, n)
    if batch and gen.boolean():
        a = np.stack([a, _well_conditioned(gen, n)])
    return a


# --------------------------------------------------------------------------- inverses, solves


@declare("linalg.inv", dask=False, numpy=np.linalg.inv, group="linear algebra",
         cases=lambda gen: ((_invertible(gen),), {}), dtypes=ALL_DTYPES,
         domain="invertible matrices (batched)", torch="torch.linalg.inv")
@primitive(name="inv")
def inv(a: Any) -> Any:
    """A⁻¹  ·  Ā = −A⁻ᵀ Ḡ A⁻ᵀ  (Giles 2008)"""
    return np.linalg.inv(a)


inv.defvjp(lambda g, out, a: -(_mT(out) @ g @ _mT(out)))


@primitive(name="solve")
def _solve(a, b):
    """A⁻¹ b  ·  b̄ = A⁻ᵀ ḡ, Ā = −b̄ xᵀ  (Giles 2008)"""
    return np.linalg.solve(a, b)


def _solve_vjp(argnums, g, out, a, b):
    if np.ndim(raw(b)) == 1:  # numpy ≥ 2: a 1-D b is a vector, anything else matrices
        gb = getitem(_solve(_mT(a), getitem(g, (Ellipsis, None))), (Ellipsis, 0))
        ga = -(getitem(gb, (Ellipsis, slice(None), None))
               * getitem(out, (Ellipsis, None, slice(None)))) if 0 in argnums else None
    else:
        gb = _solve(_mT(a), g)
        ga = -(gb @ _mT(out)) if 0 in argnums else None
    return [ga if i == 0 else gb for i in argnums]


_solve.defvjp_argnums(_solve_vjp)


def _solve_cases(gen):
    a = _invertible(gen)
    n = a.shape[-1]
    b = gen.array(gen.choice([(n,), (n, 2), (*a.shape[:-2], n, 1)]))
    return (a, b), {}


@declare("linalg.solve", dask=False, numpy=np.linalg.solve, group="linear algebra",
         cases=_solve_cases,
         dtypes=ALL_DTYPES, domain="invertible a; b of shape (M,) or (..., M, K) (numpy ≥ 2)",
         torch="torch.linalg.solve")
def solve(a: Any, b: Any) -> Any:
    """x with A x = b (batched), as np.linalg.solve  ·  b̄ = A⁻ᵀ ḡ, Ā = −b̄ xᵀ"""
    _square(a, "solve")
    return _solve(a, b)


@primitive(name="det")
def _det(a):
    """det A  ·  Ā = ḡ cof(A), cof(A) = det(A) A⁻ᵀ where A is invertible  (Giles 2008)"""
    return np.linalg.det(a)


def _det_vjp(g, out, a):
    try:
        return _expand(g * out) * _mT(inv(a))
    except np.linalg.LinAlgError:  # a singular matrix in the batch
        if isinstance(a, Value):  # create_graph: the cofactors below are not recorded
            raise
        return _expand(g) * _cofactors(a)


def _cofactors(a: np.ndarray) -> np.ndarray:
    """The cofactor matrix cof(A) = adj(A)ᵀ of every matrix in a batch, singular ones too,
    by the SVD A = U S Vᴴ: cof(A) = det(U) det(Vᴴ) · Ū diag(∏_{j≠i} s_j) V̄ᴴ (conjugates
    for complex A; real A needs none). For an invertible A it is det(A) A⁻ᵀ."""
    u, s, vh = np.linalg.svd(a)
    n = s.shape[-1]
    others = np.where(np.eye(n, dtype=bool), 1.0, s[..., None, :])  # row i: s with s_i → 1
    products = np.prod(others, axis=-1)
    phase = np.linalg.det(u) * np.linalg.det(vh)
    return phase[..., None, None] * ((np.conj(u) * products[..., None, :]) @ np.conj(vh))


_det.defvjp(_det_vjp)


@declare("linalg.det", dask=False, numpy=np.linalg.det, group="linear algebra",
         cases=lambda gen: ((_invertible(gen),), {}), dtypes=ALL_DTYPES,
         domain="square matrices; a singular one has the cofactor gradient at first order, "
                "second order needs an invertible matrix", torch="torch.linalg.det")
def det(a: Any) -> Any:
    """det A (batched), as np.linalg.det  ·  Ā = ḡ det(A) A⁻ᵀ"""
    _square(a, "det")
    return _det(a)


@primitive(name="logabsdet")
def _logabsdet(a):
    """log |det A|  ·  Ā = ḡ A⁻ᵀ"""
    return np.linalg.slogdet(a)[1]


_logabsdet.defvjp(lambda g, out, a: _expand(g) * _mT(inv(a)))


@primitive(name="sign_det")
def _sign_det(a):
    """det A / |det A|  ·  real: constant; complex: Ā = i Im(ḡ s) A⁻ᵀ"""
    return np.linalg.slogdet(a)[0]


def _sign_det_vjp(g, out, a):
    if not np.iscomplexobj(raw(a)):
        return None  # ±1: locally constant
    gs = g * out
    return _expand((gs - conj(gs)) / 2) * _mT(inv(a))


_sign_det.defvjp(_sign_det_vjp)


@declare("linalg.slogdet", dask=False, numpy=np.linalg.slogdet, group="linear algebra",
         dtypes=ALL_DTYPES,
         domain="invertible matrices", torch="torch.linalg.slogdet",
         notes="returns (sign, logabsdet): real sign is constant (no gradient); a complex "
               "sign e^{iθ} has one (i Im(ḡ s) A⁻ᵀ). Tuple output: checked in "
               "tests/test_numpy_linalg.py")
def slogdet(a: Any) -> Any:
    """(sign, log|det A|), as np.linalg.slogdet  ·  ∂ log|det A|/∂A = A⁻ᵀ"""
    _square(a, "slogdet")
    return _SlogdetResult(_sign_det(a), _logabsdet(a))


# --------------------------------------------------------------------------- cholesky


@primitive(name="cholesky")
def _cholesky(a, upper=False):
    """L with L Lᵀ = A  ·  Ā = Φ(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹), folded onto the triangle read
    (Murray 2016)"""
    return np.linalg.cholesky(a, upper=upper)


def _cholesky_vjp(g, out, a, upper=False):
    lower, g = (_mT(out), _mT(g)) if upper else (out, g)
    n = np.shape(raw(out))[-1]
    phi = np.tril(np.ones((n, n))) - 0.5 * np.eye(n)  # lower triangle, diagonal halved
    p = (_mT(lower) @ g) * phi
    x = _solve(_mT(lower), p)                      # L⁻ᵀ P
    s = _mT(_solve(_mT(lower), _mT(x)))           # L⁻ᵀ P L⁻¹
    return _fold(s, "U" if upper else "L")


_cholesky.defvjp(_cholesky_vjp)


def _spd(gen):
    n = gen.integer(1, 3)
    a = gen.matrix(n, kind="spd")
    if gen.boolean():
        a = np.stack([a, gen.matrix(n, kind="spd")])
    return a


@declare("linalg.cholesky", dask=False, numpy=np.linalg.cholesky, group="linear algebra",
         cases=lambda gen: ((_spd(gen),), {"upper": gen.boolean()}),
         domain="symmetric positive definite; reads the lower (upper=True: upper) triangle, "
                "the gradient lies on it", torch="torch.linalg.cholesky")
def cholesky(a: Any, /, *, upper: bool = False) -> Any:
    """L lower triangular with L Lᵀ = A (batched), as np.linalg.cholesky  ·  Murray 2016"""
    _square(a, "cholesky")
    _real_only("cholesky", a)
    return _cholesky(a, upper=bool(upper))


# --------------------------------------------------------------------------- eigh


@primitive(name="eigh")
def _eigh(a, uplo="L"):
    """(w, V) packed as [w; V] of shape (..., n + 1, n)  ·  Ā = V (diag w̄ + F ∘ VᵀV̄) Vᵀ,
    Fᵢⱼ = 1/(wⱼ − wᵢ) (Giles 2008, Walter & Lehmann 2018), folded onto the triangle read"""
    w, v = np.linalg.eigh(a, UPLO=uplo)
    return np.concatenate([w[..., None, :], v], axis=-2)


def _gaps(values: Any, squared: bool = False) -> Any:
    """Fᵢⱼ = 1/(vⱼ − vᵢ) off the diagonal (of squares, if asked), 0 on it."""
    n = np.shape(raw(values))[-1]
    if squared:
        values = values * values
    row = getitem(values, (Ellipsis, None, slice(None)))
    col = getitem(values, (Ellipsis, slice(None), None))
    return divide(1.0 - _eye(n), row - col + _eye(n))


def _eigh_vjp(g, out, a, uplo="L"):
    n = np.shape(raw(out))[-1]
    w, v = getitem(out, (Ellipsis, 0, slice(None))), getitem(out, (Ellipsis, slice(1, None),
                                                                     slice(None)))
    gw, gv = getitem(g, (Ellipsis, 0, slice(None))), getitem(g, (Ellipsis, slice(1, None),
                                                                   slice(None)))
    inner = getitem(gw, (Ellipsis, None, slice(None))) * _eye(n) + _gaps(w) * (_mT(v) @ gv)
    return _fold(v @ inner @ _mT(v), uplo)


_eigh.defvjp(_eigh_vjp)


@declare("linalg.eigh", dask=False, numpy=np.linalg.eigh, group="linear algebra",
         domain="symmetric, distinct eigenvalues; reads the UPLO triangle",
         torch="torch.linalg.eigh",
         notes="returns (eigenvalues, eigenvectors); eigenvectors are defined up to sign, so "
               "gradients are checked with sign-invariant losses in tests/test_numpy_linalg.py")
def eigh(a: Any, UPLO: str = "L") -> Any:
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix (batched), as
    np.linalg.eigh  ·  Ā = V (diag w̄ + F ∘ VᵀV̄) Vᵀ"""
    _square(a, "eigh")
    _real_only("eigh", a)
    uplo = UPLO.upper() if isinstance(UPLO, str) else UPLO  # (either case, as numpy)
    if uplo not in ("L", "U"):
        raise ValueError("eigh: UPLO argument must be 'L' or 'U'")
    packed = _eigh(a, uplo=uplo)
    w = getitem(packed, (Ellipsis, 0, slice(None)))
    v = getitem(packed, (Ellipsis, slice(1, None), slice(None)))
    return _EighResult(w, v)


def _symmetric_spread(gen):
    """A symmetric matrix whose eigenvalues are ≥ 2 apart."""
    n = gen.integer(1, 3)
    a = 0.25 * gen.matrix(n, kind="symmetric") + np.diag(4.0 * np.arange(n))
    if gen.boolean():  # read the lower triangle only: the upper one may be anything
        a = a + np.triu(gen.array((n, n)), 1)
    return a.astype(gen.dtype)


@declare("linalg.eigvalsh", dask=False, numpy=np.linalg.eigvalsh, group="linear algebra",
         cases=lambda gen: ((_symmetric_spread(gen),), {}),
         domain="symmetric, distinct eigenvalues; reads the UPLO triangle",
         torch="torch.linalg.eigvalsh")
def eigvalsh(a: Any, UPLO: str = "L") -> Any:
    """Eigenvalues (ascending) of a symmetric matrix, as np.linalg.eigvalsh  ·  Ā = V w̄ Vᵀ"""
    return eigh(a, UPLO).eigenvalues


# --------------------------------------------------------------------------- eig, eigvals
#
# A general square matrix A = V diag(λ) V⁻¹ (real or complex). numpy returns real arrays
# for a real A whose eigenvalues all come out real (imaginary parts exactly 0), complex
# ones otherwise (complex64 for float32): data-dependent, and followed here exactly. The
# rules are written in the engine's pairing Re Σ ḡ·dout (autodiff/engine.py), in which λ
# and the eigenvectors of a diagonalizable A with distinct eigenvalues are holomorphic up
# to the normalisation; PyTorch's gradient, which the engine hands out, is the conjugate.
# With W = V⁻¹ and dC = W dV: dλ = diag(W dA V), dCᵢⱼ = (W dA V)ᵢⱼ / (λⱼ − λᵢ) (i ≠ j),
# and numpy's unit norm fixes Re(vⱼᴴ dvⱼ) = 0 while the phase Im(vⱼᴴ dvⱼ) is arbitrary.
# Hence Ā = V⁻ᵀ (diag λ̄ + E ∘ (M − VᵀV* diag Re Mⱼⱼ)) Vᵀ, M = VᵀV̄, Eᵢⱼ = 1/(λⱼ − λᵢ)
# (V̄, λ̄ the cotangents, V* the complex conjugate; Giles 2008 §3.1 for the eigenvalue part,
# the normalisation term as in PyTorch's linalg_eig_backward). A loss invariant to each
# eigenvector's phase has Im Mⱼⱼ = 0; any other has no gradient and is refused, as PyTorch.

_EigResult = type(np.linalg.eig(np.eye(1)))

# Eigenvalues closer than this many ε·n·‖A‖_F count as repeated: LAPACK's eigenvalues are
# exact for a matrix within O(n ε ‖A‖) of A, so closer ones cannot be told apart from equal.
_REPEATED = 100.0


def _finite_square(a: Any, name: str) -> int:
    """The side n of a batch of square matrices with finite entries (LinAlgError naming
    `name` otherwise: numpy's geev refuses inf and nan)."""
    n = _square(a, name)
    _refuse_non_finite(name, raw(a), why="and eigenvalues need finite entries")
    return n


def _epsilon(x: Any) -> float:
    """ε of x's precision (float32's for float32 and complex64)."""
    return float(np.finfo(np.result_type(raw(x), np.float32)).eps)


def _repeated(w: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Pairs (i, j), i ≠ j, of eigenvalues closer than 100·n·ε·‖A‖_F (boolean, (..., n, n))."""
    n = w.shape[-1]
    scale = np.linalg.norm(a, axis=(-2, -1)) if n else np.zeros(a.shape[:-2])
    gap = np.abs(w[..., None, :] - w[..., :, None])
    limit = _REPEATED * n * _epsilon(a) * scale[..., None, None]
    return (gap <= limit) & ~np.eye(n, dtype=bool)


def _refuse_defective(v: Any, a: Any, repeated: np.ndarray, name: str) -> None:
    """At repeated eigenvalues with too few independent eigenvectors (a defective matrix,
    a Jordan block) the eigenvector matrix is singular to working precision and V⁻ᵀ … Vᵀ
    gives a wrong number (2I for Σλ² at [[1, 1], [0, 1]], where the gradient is 2Aᵀ; the
    cotangents, 2 and 2, cannot tell it from twice the trace): refused. Repeated eigenvalues
    with a full set of eigenvectors, the identity say, keep the gradients of symmetric
    functions."""
    if not repeated.any():
        return
    vectors = np.asarray(raw(v))
    with np.errstate(all="ignore"):
        condition = np.linalg.cond(vectors) if vectors.shape[-1] else np.zeros(1)
    if np.any(~(condition < 1 / np.sqrt(_epsilon(a)))):
        raise np.linalg.LinAlgError(
            f"{name}: the matrix is not diagonalizable here (a repeated eigenvalue with too "
            f"few independent eigenvectors, as in a Jordan block; the eigenvector matrix has "
            f"condition number {float(np.max(condition)):.3g}): its eigenvalues have no "
            "gradient through an eigendecomposition at such a matrix")


def _values_part(w: Any, gw: Any, a: Any, repeated: np.ndarray) -> Any:
    """diag(λ̄) for the eigenvalues' cotangent, refusing unequal cotangents on repeated
    eigenvalues (only a symmetric function of them, e.g. their sum, has a gradient there)."""
    n = np.shape(raw(w))[-1]
    if repeated.any():
        c = raw(gw)
        spread = np.abs(c[..., None, :] - c[..., :, None])
        size = np.max(np.abs(c), axis=-1, initial=0.0)[..., None, None]
        unequal = spread > np.sqrt(_epsilon(a)) * size
        if np.any(repeated & unequal):
            raise np.linalg.LinAlgError(
                "the eigenvalues are repeated (equal to within 100·n·ε·‖A‖) and the loss "
                "treats them differently: a repeated eigenvalue is not differentiable, only "
                "symmetric functions of the repeated ones (their sum, say) are")
    dtype = real_dtype(w)
    return getitem(gw, (Ellipsis, None, slice(None))) * _eye(n, dtype)


def _vectors_part(w: Any, v: Any, gv: Any, a: Any, repeated: np.ndarray) -> Any:
    """E ∘ (M − VᵀV* diag Re Mⱼⱼ), M = VᵀV̄: the eigenvectors' share of Ā before the change
    of basis, refusing a loss that depends on the eigenvectors' phases or on the
    eigenvectors of repeated eigenvalues."""
    n = np.shape(raw(w))[-1]
    data = raw(gv)
    # Column j of the bracket is zero where vⱼ's cotangent is: only those columns meet Eᵢⱼ.
    # A Value cotangent (create_graph, jvp) is differentiated again: every column counts.
    needed = (np.ones((*data.shape[:-2], n), dtype=bool) if isinstance(gv, Value)
              else np.any(data != 0, axis=-2))
    if np.any(repeated & needed[..., None, :]):
        raise np.linalg.LinAlgError(
            "the eigenvectors of repeated eigenvalues (equal to within 100·n·ε·‖A‖) are not "
            "unique and have no gradient (it has terms 1/(λⱼ − λᵢ)); make the loss "
            "independent of them")
    m = _mT(v) @ gv
    index = np.arange(n)
    diagonal = getitem(m, (Ellipsis, index, index))
    _refuse_phase_dependence(raw(diagonal), data, a)
    gram = _mT(v) @ conj(v)                                  # (VᴴV)ᵀ = VᵀV*
    bracket = m - gram * getitem(real(diagonal), (Ellipsis, None, slice(None)))
    return _inverse_gaps(w, repeated) * bracket


def _refuse_phase_dependence(diagonal: np.ndarray, gv: np.ndarray, a: Any) -> None:
    """ValueError if a loss moves with the phase of an eigenvector: d/dφ L(vⱼ e^{iφ}) =
    −Im Mⱼⱼ must vanish (to √ε of the cotangent's norm ‖V̄ⱼ‖ ≥ |Mⱼⱼ|)."""
    if not np.iscomplexobj(diagonal):
        return  # real eigenvectors: their sign is locally constant
    size = np.linalg.norm(gv, axis=-2)
    if np.any(np.abs(diagonal.imag) > np.sqrt(_epsilon(a)) * size):
        raise ValueError(
            "the loss depends on the phase of the eigenvectors, which np.linalg.eig leaves "
            "arbitrary (each column may be multiplied by any e^{iφ}), so it has no "
            "gradient; use a loss invariant to it, e.g. of |vᵢⱼ|, vⱼ vⱼᴴ or the eigenvalues "
            "(PyTorch raises too)")


def _inverse_gaps(w: Any, repeated: np.ndarray) -> Any:
    """Eᵢⱼ = 1/(λⱼ − λᵢ) off the diagonal; 0 on it and at repeated pairs (whose terms the
    caller has checked to be 0)."""
    n = np.shape(raw(w))[-1]
    skip = repeated | np.eye(n, dtype=bool)
    dtype = real_dtype(w)
    row = getitem(w, (Ellipsis, None, slice(None)))
    col = getitem(w, (Ellipsis, slice(None), None))
    return divide((~skip).astype(dtype), row - col + skip.astype(dtype))


def _from_eigenbasis(inner: Any, v: Any, a: Any) -> Any:
    """V⁻ᵀ X Vᵀ, real for a real A (its gradient along real directions: the real part)."""
    grad = _solve(_mT(v), inner @ _mT(v))
    if not np.iscomplexobj(raw(a)) and np.iscomplexobj(raw(grad)):
        grad = real(grad)
    return grad


@primitive(name="eig")
def _eig(a):
    """(λ, V) packed as [λ; V] of shape (..., n + 1, n)  ·
    Ā = V⁻ᵀ (diag λ̄ + E ∘ (M − VᵀV* diag Re Mⱼⱼ)) Vᵀ, M = VᵀV̄, Eᵢⱼ = 1/(λⱼ − λᵢ)"""
    w, v = np.linalg.eig(a)
    return np.concatenate([w[..., None, :], v], axis=-2)


def _eig_vjp(g, out, a):
    w = getitem(out, (Ellipsis, 0, slice(None)))
    v = getitem(out, (Ellipsis, slice(1, None), slice(None)))
    gw = getitem(g, (Ellipsis, 0, slice(None)))
    gv = getitem(g, (Ellipsis, slice(1, None), slice(None)))
    repeated = _repeated(raw(w), raw(a))
    _refuse_defective(v, a, repeated, "eig")
    inner = _values_part(w, gw, a, repeated)
    if isinstance(gv, Value) or np.any(raw(gv) != 0):
        inner = inner + _vectors_part(w, v, gv, a, repeated)
    return _from_eigenbasis(inner, v, a)


_eig.defvjp(_eig_vjp)


@declare("linalg.eig", dask=False, numpy=np.linalg.eig, group="linear algebra",
         dtypes=ALL_DTYPES,
         domain="square matrices (batched), real or complex; gradients where the eigenvalues "
                "are distinct, of losses invariant to each eigenvector's phase; refused at "
                "a defective matrix (a Jordan block)",
         notes="returns numpy's EigResult (eigenvalues, eigenvectors), real for a real matrix "
               "whose eigenvalues are all real, complex otherwise (data-dependent, as numpy). "
               "Eigenvectors have unit norm and an arbitrary phase: a loss that depends on "
               "the phase raises ValueError in backward, as PyTorch. Eigenvalues equal to "
               "within 100·n·ε·‖A‖_F count as repeated: a cotangent on their eigenvectors, "
               "or unequal cotangents on them, raises LinAlgError (no silent inf); with "
               "create_graph any repeated pair does. The order is LAPACK's, unsorted, and "
               "can swap under a small change of A: gradients are those of the order at A. "
               "Second order: yes. No "
               "cases: the output's phase makes the generic property tests ill-posed; "
               "phase-invariant losses are checked in tests/test_numpy_eig.py. PyTorch's "
               "torch.linalg.eig always returns complex tensors (gradients cross-checked "
               "there too)")
def eig(a: Any) -> Any:
    """Eigenvalues and unit-norm right eigenvectors of a square matrix (batched), as
    np.linalg.eig  ·  Ā = V⁻ᵀ (diag λ̄ + E ∘ (M − VᵀV* diag Re Mⱼⱼ)) Vᵀ, M = VᵀV̄"""
    _finite_square(a, "eig")
    packed = _eig(a)
    w = getitem(packed, (Ellipsis, 0, slice(None)))
    v = getitem(packed, (Ellipsis, slice(1, None), slice(None)))
    return _EigResult(w, v)


@primitive(name="eigvals")
def _eigvals(a):
    """λ  ·  Ā = V⁻ᵀ diag(λ̄) Vᵀ, V the eigenvectors of eig"""
    return np.linalg.eigvals(a)


def _in_order(v: Any, of: np.ndarray, wanted: np.ndarray) -> Any:
    """V's columns reordered so that the eigenvalues `of` they belong to match `wanted`
    (eig's and eigvals' orders agree in practice; this keeps the rule right if not)."""
    if np.array_equal(of, wanted):
        return v
    n = of.shape[-1]
    flat_of, flat_wanted = of.reshape(-1, n), wanted.reshape(-1, n)
    moves = np.zeros((flat_of.shape[0], n, n), dtype=real_dtype(v))
    for k, (have, want) in enumerate(zip(flat_of, flat_wanted, strict=True)):
        distance = np.abs(have[:, None] - want[None, :])
        for _ in range(n):  # nearest pairs first
            i, j = np.unravel_index(np.argmin(distance), distance.shape)
            moves[k, i, j] = 1.0
            distance[i, :] = distance[:, j] = np.inf
    return v @ moves.reshape((*of.shape[:-1], n, n))


def _eigvals_vjp(g, out, a):
    packed = _eig(a)
    w = getitem(packed, (Ellipsis, 0, slice(None)))
    v = _in_order(getitem(packed, (Ellipsis, slice(1, None), slice(None))), raw(w), raw(out))
    repeated = _repeated(raw(out), raw(a))
    _refuse_defective(v, a, repeated, "eigvals")
    inner = _values_part(out, g, a, repeated)
    return _from_eigenbasis(inner, v, a)


_eigvals.defvjp(_eigvals_vjp)


def _separated_eigenvalues(gen, n):
    """An n×n matrix P D P⁻¹ whose eigenvalues are ≥ 2 apart (a real matrix: real ones, or
    a pair a ± bi with b ≥ 1), P well conditioned."""
    d = np.diag(3.0 * np.arange(n) - 3.0 + 0.3 * gen.array((n,), "unit"))
    if gen.dtype.kind == "f" and n >= 2 and gen.boolean():  # a complex pair
        b = 1.5 + 0.5 * float(gen.array((), "unit"))
        d[0, 1], d[1, 0], d[1, 1] = b, -b, d[0, 0]
    p = _well_conditioned(gen, n)
    return (p @ d @ np.linalg.inv(p)).astype(gen.dtype)


def _keeps_order(a: np.ndarray, reach: float) -> bool:
    """Whether numpy's eigenvalues of every matrix in `a` keep their order (each stays the
    nearest to its own) when computed in double precision (float32 data) and when the
    matrix moves by up to `reach` per element (each element alone, and fixed random
    patterns, at three scales). LAPACK's
    order is not continuous: a small change of A can swap eigenvalues (often for 3×3), and
    finite differences across a swap compare different eigenvalues."""
    wide = np.complex128 if np.iscomplexobj(a) else np.float64
    rng = np.random.default_rng(0)
    for m in a.reshape(-1, *a.shape[-2:]):
        w = np.linalg.eigvals(m)
        moved = [np.linalg.eigvals(m.astype(wide))]
        for step in (1e-6, 1e-3, reach):
            units = [np.eye(m.size)[k].reshape(m.shape) for k in range(m.size)]
            if np.iscomplexobj(m):
                units += [1j * u for u in units]
            units += [rng.uniform(-1.0, 1.0, m.shape) for _ in range(8)]
            moved += [np.linalg.eigvals(m.astype(wide) + sign * step * u)
                      for u in units for sign in (1.0, -1.0)]
        for values in moved:
            nearest = np.argmin(np.abs(w[:, None] - values[None, :]), axis=1)
            if not np.array_equal(nearest, np.arange(w.size)):
                return False
    return True


def _eigvals_cases(gen):
    """A separated spectrum whose order is stable near it; or, half the time, a 1×1 or 2×2
    matrix of the `invertible` kind whose eigenvalues stay apart and in order under a nudge
    of ±0.2 per element (Bauer–Fike: they move by at most 0.2·n·κ(V)), which random graphs
    can feed earlier values into."""
    if gen.boolean():
        shape = gen.shape(min_dims=2, max_dims=2, max_side=2)  # (graphs: a value's shape)
        n = shape[0] if shape[0] == shape[1] else gen.integer(1, 2)
        a = gen.matrix(n, kind="invertible")
        w, v = np.linalg.eig(a)
        gaps = np.where(np.eye(n, dtype=bool), np.inf, np.abs(w[:, None] - w[None, :]))
        if np.min(gaps) >= 1.0 + 0.4 * n * np.linalg.cond(v) and _keeps_order(a, 0.25):
            return (a,), {}
    n = gen.integer(1, 3)
    count = 2 if gen.boolean() else 1
    for side in (n, n, 2):  # a 3×3 near a swap: another draw, then a 2×2
        matrices = [_separated_eigenvalues(gen, side) for _ in range(count)]
        a = np.stack(matrices) if count == 2 else matrices[0]
        if _keeps_order(a, 0.02):
            return (a,), {}
    return (np.array([[1.0, 0.5], [0.25, -1.5]], dtype=gen.dtype),), {}


@declare("linalg.eigvals", dask=False, numpy=np.linalg.eigvals, group="linear algebra",
         cases=_eigvals_cases, dtypes=ALL_DTYPES, torch="torch.linalg.eigvals",
         domain="square matrices (batched), real or complex; gradients where the eigenvalues "
                "are distinct (at repeated ones, of symmetric functions of them only; "
                "refused at a defective matrix, a Jordan block)",
         notes="real for a real matrix whose eigenvalues are all real, complex otherwise "
               "(data-dependent, as numpy). The order is numpy's (LAPACK's), unsorted, and "
               "can swap under a small change of A (often for 3×3): gradients are those of "
               "the order at A; the cases keep away from swaps. torch.linalg.eigvals always "
               "returns complex tensors (and refuses a real cotangent for them): the "
               "table's cross-check runs for complex128 only, and tests/test_numpy_eig.py "
               "cross-checks real input")
def eigvals(a: Any) -> Any:
    """Eigenvalues of a square matrix (batched), as np.linalg.eigvals  ·  Ā = V⁻ᵀ diag(λ̄) Vᵀ"""
    _finite_square(a, "eigvals")
    return _eigvals(a)


# --------------------------------------------------------------------------- svd


@primitive(name="svd")
def _svd(a):
    """(U, S, Vh) of the reduced SVD packed into one array  ·  Townsend 2016"""
    _refuse_non_finite("svd", a)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return _pack(u, s[..., None], vh)


def _svd_parts(packed: Any, m: int, n: int) -> list[Any]:
    k = min(m, n)
    u, s, vh = _unpack(packed, [(m, k), (k, 1), (k, n)])
    return [u, getitem(s, (Ellipsis, 0)), vh]


def _svd_vjp(g, out, a):
    m, n = np.shape(raw(a))[-2:]
    k = min(m, n)
    u, s, vh = _svd_parts(out, m, n)
    gu, gs, gvh = _svd_parts(g, m, n)
    v, gv = _mT(vh), _mT(gvh)
    f = _gaps(s, squared=True)                       # 1/(sⱼ² − sᵢ²)
    j = f * (_mT(u) @ gu - _mT(gu) @ u)
    kk = f * (_mT(v) @ gv - _mT(gv) @ v)
    row = getitem(s, (Ellipsis, slice(None), None))
    col = getitem(s, (Ellipsis, None, slice(None)))
    inner = j * col + getitem(gs, (Ellipsis, None, slice(None))) * _eye(k) + row * kk
    grad = u @ inner @ vh
    if m > k:  # (I − UUᵀ) Ū S⁻¹ Vᵀ
        grad = grad + divide(gu - u @ (_mT(u) @ gu), col) @ vh
    if n > k:  # U S⁻¹ V̄ᵀ (I − VVᵀ)
        gvt = divide(_mT(gv), row)
        grad = grad + u @ (gvt - (gvt @ v) @ vh)
    return grad


_svd.defvjp(_svd_vjp)


def _spread_singular(gen):
    """A matrix whose singular values are distinct and ≥ 1 apart."""
    m, n = gen.integer(1, 3), gen.integer(1, 3)
    base = np.zeros((m, n))
    k = min(m, n)
    base[np.arange(k), np.arange(k)] = 2.0 + 2.0 * np.arange(k)[::-1]
    return (base + 0.2 * gen.array((m, n))).astype(gen.dtype)


@declare("linalg.svd", dask=False, numpy=np.linalg.svd, group="linear algebra",
         cases=lambda gen: ((_spread_singular(gen),), {"compute_uv": False}),
         domain="distinct nonzero singular values; gradients with full_matrices=False (or "
                "square matrices)", torch="torch.linalg.svd",
         notes="cases check the singular values (compute_uv=False); U and Vh (defined up to "
               "sign) with sign-invariant losses in tests/test_numpy_linalg.py")
def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> Any:
    """A = U diag(S) Vh (batched), as np.linalg.svd  ·  Townsend 2016"""
    m, n = _matrices(a, "svd")[-2:]
    _real_only("svd", a)
    if hermitian:
        a = _from_lower(a)
    u, s, vh = _svd_parts(_svd(a), m, n)
    if not compute_uv:
        return s
    if full_matrices and m != n:
        raise NotImplementedError("svd: full_matrices=True for a non-square matrix is not "
                                  "supported on Values (the extra columns are not unique); "
                                  "pass full_matrices=False")
    return _SVDResult(u, s, vh)


@declare("linalg.svdvals", dask=False, numpy=np.linalg.svdvals, group="linear algebra",
         cases=lambda gen: ((_spread_singular(gen),), {}), domain="distinct singular values",
         torch="torch.linalg.svdvals")
def svdvals(x: Any, /) -> Any:
    """The singular values (descending), as np.linalg.svdvals  ·  Ā = U diag(s̄) Vᵀ"""
    return svd(x, compute_uv=False)


# --------------------------------------------------------------------------- qr


@primitive(name="qr")
def _qr(a):
    """(Q, R) of the reduced QR packed into one array  ·  Walter & Lehmann 2018"""
    q, r = np.linalg.qr(a)
    return _pack(q, r)


def _copyltu(m: Any) -> Any:
    n = np.shape(raw(m))[-1]
    return m * np.tril(np.ones((n, n))) + _mT(m * np.tril(np.ones((n, n)), -1))


def _qr_square_vjp(q, r, gq, gr):
    """Ā = (Q̄ + Q copyltu(M)) R⁻ᵀ, M = R R̄ᵀ − Q̄ᵀ Q, for m ≥ n (Walter & Lehmann 2018)."""
    m_ = r @ _mT(gr) - _mT(gq) @ q
    b = gq + q @ _copyltu(m_)
    return _mT(_solve(r, _mT(b)))


def _qr_vjp(g, out, a):
    m, n = np.shape(raw(a))[-2:]
    k = min(m, n)
    q, r = _unpack(out, [(m, k), (k, n)])
    gq, gr = _unpack(g, [(m, k), (k, n)])
    if m >= n:
        return _qr_square_vjp(q, r, gq, gr)
    # wide (Liao et al. 2019): A = [X Y], X = Q U, Y = Q V
    x_index, y_index = (Ellipsis, slice(None), slice(0, m)), (Ellipsis, slice(None), slice(m, n))
    u, gu, gv = getitem(r, x_index), getitem(gr, x_index), getitem(gr, y_index)
    y = getitem(a, y_index)
    gx = _qr_square_vjp(q, u, gq + y @ _mT(gv), gu)
    gy = q @ gv
    return _concat_last(gx, gy)


def _concat_last(x: Any, y: Any) -> Any:
    return concatenate([x, y], axis=-1)


_qr.defvjp(_qr_vjp)


def _qr_cases(gen):
    m, n = gen.integer(1, 3), gen.integer(1, 3)
    return (_well_conditioned(gen, m, n),), {"mode": "r"}


@declare("linalg.qr", dask=False, numpy=np.linalg.qr, group="linear algebra", cases=_qr_cases,
         domain="full rank; mode 'reduced' (or 'complete' for m ≤ n), 'r'",
         torch="torch.linalg.qr",
         notes="cases check R (mode='r'); Q and R together in tests/test_numpy_linalg.py")
def qr(a: Any, mode: str = "reduced") -> Any:
    """A = Q R, Q orthonormal columns, R upper triangular (batched), as np.linalg.qr"""
    m, n = _matrices(a, "qr")[-2:]
    _real_only("qr", a)
    if mode not in ("reduced", "complete", "r"):
        raise NotImplementedError(f"qr: mode={mode!r} is not supported on Values")
    if mode == "complete" and m > n:
        raise NotImplementedError("qr: mode='complete' for a tall matrix is not supported on "
                                  "Values (the extra columns are not unique)")
    k = min(m, n)
    q, r = _unpack(_qr(a), [(m, k), (k, n)])
    return r if mode == "r" else _QRResult(q, r)


# --------------------------------------------------------------------------- pinv, lstsq


@primitive(name="pinv")
def _pinv(a, rcond=None, hermitian=False):
    """A⁺  ·  Golub & Pereyra 1973 (constant rank)"""
    _refuse_non_finite("pinv", a)
    return np.linalg.pinv(a, rcond=rcond, hermitian=hermitian)


def _refuse_truncating_cutoff(name: str, a: Any, rcond: Any) -> None:
    """The constant-rank rule (Golub & Pereyra) is the derivative of A⁺ only where the
    cutoff drops nothing but singular values at rounding level: where it drops a larger one,
    A⁺ is that of a truncated A, whose derivative also moves the kept subspace, and the rule
    would give a wrong number. That is refused, naming the values."""
    data = np.asarray(raw(a))
    if data.size == 0 or rcond is None:
        return
    s = np.linalg.svd(data, compute_uv=False)
    largest = np.max(s, axis=-1, keepdims=True)
    cutoff = np.asarray(rcond, dtype=np.float64)[..., None] * largest
    rounding = np.sqrt(np.finfo(np.result_type(data, np.float32)).eps) * largest
    dropped = (s <= cutoff) & (s > rounding)
    if dropped.any():
        at = tuple(int(i) for i in np.argwhere(dropped)[0])
        limit = float(cutoff[at[:-1]][0])  # (cutoff has one column per matrix)
        raise ValueError(
            f"{name}: no gradient where the cutoff drops a singular value that is not zero "
            f"(σ = {s[at]:.3g} ≤ rcond·σmax = {limit:.3g}): the derivative "
            "of a truncated pseudo-inverse also moves the kept singular vectors, which the "
            "constant-rank rule leaves out. Lower rcond below the smallest singular value "
            "kept, or differentiate through np.linalg.svd explicitly")


def _pinv_vjp(g, out, a, rcond=None, hermitian=False):
    _refuse_truncating_cutoff("pinv", a, rcond)
    x = out
    m, n = np.shape(raw(a))[-2:]
    ax, xa = a @ x, x @ a
    first = -(_mT(x) @ g @ _mT(x))
    second = (_eye(m) - ax) @ _mT(g) @ (x @ _mT(x))           # (I − A A⁺) Ḡᵀ A⁺ A⁺ᵀ
    third = (_mT(x) @ x) @ _mT(g) @ (_eye(n) - xa)            # A⁺ᵀ A⁺ Ḡᵀ (I − A⁺ A)
    return first + second + third


_pinv.defvjp(_pinv_vjp)


def _full_rank(gen):
    return _well_conditioned(gen, gen.integer(1, 3), gen.integer(1, 3))


@declare("linalg.pinv", dask=False, numpy=np.linalg.pinv, group="linear algebra",
         cases=lambda gen: ((_full_rank(gen),), {}),
         domain="gradients where the rank is constant (full rank); a cutoff that drops a "
                "nonzero singular value is refused", torch="torch.linalg.pinv")
def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = np._NoValue) -> Any:
    """The Moore–Penrose pseudo-inverse A⁺ (batched), as np.linalg.pinv  ·  Golub & Pereyra"""
    _matrices(a, "pinv")
    _real_only("pinv", a)
    if rtol is not np._NoValue:
        if rcond is not None:
            raise ValueError("pinv: pass rcond or rtol, not both")
        rcond = rtol
    if rcond is None:
        rcond = 1e-15 if rtol is np._NoValue else None
    if rcond is None:  # rtol=None: numpy's default max(M, N)·eps
        m, n = np.shape(raw(a))[-2:]
        rcond = max(m, n) * np.finfo(np.result_type(raw(a))).eps
    if hermitian:  # numpy reads the lower triangle: so does the gradient
        a = _from_lower(a)
    return _pinv(a, rcond=rcond)


@primitive(name="lstsq")
def _lstsq(a, b, rcond=None):
    """x minimising ‖A x − b‖ (the minimum-norm one)  ·  x = A⁺ b: b̄ = A⁺ᵀ ḡ, Ā from A⁺
    (called by `lstsq` only, which refuses non-finite input first)"""
    return np.linalg.lstsq(a, b, rcond=rcond)[0]


def _lstsq_vjp(argnums, g, out, a, b, rcond=None):
    cutoff = _lstsq_cutoff(a, rcond)
    _refuse_truncating_cutoff("lstsq", a, cutoff)
    x = _pinv(a, rcond=cutoff)
    result = []
    for i in argnums:
        if i == 1:
            result.append(_mT(x) @ g)
        else:
            outer = (getitem(g, (slice(None), None)) * getitem(b, (None, slice(None)))
                     if np.ndim(raw(b)) == 1 else g @ _mT(b))
            result.append(_pinv_vjp(outer, x, a))
    return result


_lstsq.defvjp_argnums(_lstsq_vjp)


def _lstsq_cutoff(a: Any, rcond: Any) -> float:
    """numpy's rcond for lstsq: None → eps·max(M, N); negative → eps."""
    eps = np.finfo(np.result_type(raw(a))).eps
    if rcond is None:
        return eps * max(np.shape(raw(a)))
    return eps if rcond < 0 else float(rcond)


@declare("linalg.lstsq", dask=False, numpy=np.linalg.lstsq, group="linear algebra",
         domain="gradients where the rank is constant (full rank); a cutoff that drops a "
                "nonzero singular value is refused", torch="torch.linalg.lstsq",
         notes="returns (x, residuals, rank, s): x, residuals and s are differentiable; tuple "
               "output, checked in tests/test_numpy_linalg.py")
def lstsq(a: Any, b: Any, rcond: Any = None) -> tuple[Any, ...]:
    """(x, residuals, rank, s) for min ‖A x − b‖, as np.linalg.lstsq  ·  x = A⁺ b"""
    if np.ndim(raw(a)) != 2 or np.ndim(raw(b)) not in (1, 2):
        raise np.linalg.LinAlgError("lstsq: a must be 2-D and b 1-D or 2-D")
    _real_only("lstsq", a, b)
    m, n = np.shape(raw(a))
    _refuse_non_finite("lstsq", raw(a), raw(b))
    _, _, numpy_rank, _ = np.linalg.lstsq(raw(a), raw(b), rcond=rcond)
    rank = int(numpy_rank)
    x = _lstsq(a, b, rcond=rcond)
    if rank == n and m > n:
        r = b - a @ x
        residuals = sum_(r * r, axis=0)
        if np.ndim(raw(b)) == 1:
            residuals = reshape(residuals, (1,))
    else:
        residuals = np.zeros((0,), dtype=np.result_type(raw(a), raw(b)))
    return x, residuals, numpy_rank, svd(a, compute_uv=False)  # (rank: numpy's integer type)


# --------------------------------------------------------------------------- norms


@primitive(name="norm2")
def _norm2(x, axis=None, keepdims=False):
    """√(Σ |x|²) over `axis`  ·  ∂/∂x = x̄ / ‖x‖ (0 at x = 0, as PyTorch)"""
    return np.sqrt(np.sum((x * np.conj(x)).real, axis=axis, keepdims=keepdims))


def _norm2_vjp(g, out, x, axis=None, keepdims=False):
    g, out = _restore(g, x, axis, keepdims), _restore(out, x, axis, keepdims)
    zero = np.equal(raw(out), 0)
    some_zero = any_(zero)
    safe = where(zero, 1.0, out) if some_zero else out
    numerator = conj(x) if np.iscomplexobj(raw(x)) else x
    return where(zero, 0.0, g * divide(numerator, safe)) if some_zero else \
        g * divide(numerator, safe)


_norm2.defvjp(_norm2_vjp)


def _singular_values_last(x: Any, axes: tuple[int, int]) -> Any:
    moved = transpose(x, tuple(i for i in range(np.ndim(raw(x))) if i not in axes) + axes)
    _real_only("norm (ord 2, -2, 'nuc')", x)
    return svd(moved, compute_uv=False)


def _kept(result: Any, shape: tuple, axes: tuple, keepdims: bool) -> Any:
    if not keepdims:
        return result
    return reshape(result, tuple(1 if i in axes else n for i, n in enumerate(shape)))


def _largest(x: Any, axis: int, keepdims: bool) -> Any:
    """max x over `axis`, 0 where the axis is empty (numpy's initial=0 for these norms of
    magnitudes, x ≥ 0): then the sum of nothing, whose gradient is empty."""
    if np.shape(raw(x))[axis] == 0:
        return sum_(x, axis=axis, keepdims=keepdims)
    return max_(x, axis=axis, keepdims=keepdims)


def _smallest(x: Any, axis: int, keepdims: bool) -> Any:
    """min x over `axis`; an empty axis raises numpy's ValueError (min has no identity)."""
    if np.shape(raw(x))[axis] == 0:
        raise ValueError("zero-size array to reduction operation minimum which has no "
                         "identity")
    return min_(x, axis=axis, keepdims=keepdims)


def _vector_norm(x: Any, ord: Any, axis: int, keepdims: bool) -> Any:
    if ord is None or ord == 2:
        return _norm2(x, axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    magnitude = absolute(x)
    if ord == np.inf:
        return _largest(magnitude, axis, keepdims)
    if ord == -np.inf:
        return _smallest(magnitude, axis, keepdims)
    if ord == 0:  # the number of nonzero elements: a constant
        count = np.sum(raw(x) != 0, axis=axis, keepdims=keepdims)
        return Value(count.astype(np.result_type(raw(magnitude))), requires_grad=False)
    if ord == 1:
        return sum_(magnitude, axis=axis, keepdims=keepdims)
    return _p_norm(magnitude, float(ord), axis, keepdims)


def _p_norm(magnitude: Any, p: float, axis: int, keepdims: bool) -> Any:
    """(Σ|xᵢ|ᵖ)^(1/p)  ·  ∂/∂xᵢ = sign(xᵢ)|xᵢ|ᵖ⁻¹/‖x‖ᵖ⁻¹, and 0 at a zero entry and at a
    zero vector (PyTorch's convention: the plain chain rule gives ∞·0 = nan there for p < 1
    and at 0 for p > 1). A zero entry with p < 0 makes the norm 0, as in numpy."""
    zero = raw(magnitude) == 0  # (constant masks: the gradient there is 0)
    safe = where(zero, 1.0, magnitude)
    terms = where(zero, 0.0 if p > 0 else np.inf, power(safe, p))
    total = sum_(terms, axis=axis, keepdims=keepdims)
    empty = raw(total) == 0
    return where(empty, 0.0, power(where(empty, 1.0, total), 1.0 / p))


def _matrix_norm(x: Any, ord: Any, axes: tuple[int, int], keepdims: bool) -> Any:
    row, col = axes
    shape = np.shape(raw(x))
    if ord is None or ord in ("fro", "f"):
        return _norm2(x, axis=axes, keepdims=keepdims)
    if ord in (2, -2, "nuc"):
        if is_dask(raw(x)):
            raise not_lazy(f"linalg.norm (ord={ord!r}: singular values)", raw(x))
        s = _singular_values_last(x, axes)
        result = (sum_(s, axis=-1) if ord == "nuc" else
                  _largest(s, -1, False) if ord == 2 else _smallest(s, -1, False))
        return _kept(result, shape, axes, keepdims)
    if ord in (1, -1, np.inf, -np.inf):
        summed, over = (row, col) if ord in (1, -1) else (col, row)
        sums = sum_(absolute(x), axis=summed, keepdims=True)
        result = (_largest(sums, over, True) if ord in (1, np.inf) else
                  _smallest(sums, over, True))
        return result if keepdims else reshape(
            result, tuple(n for i, n in enumerate(shape) if i not in axes))
    raise ValueError("Invalid norm order for matrices.")


_NOT_LAZY_SVD = ("on Dask arrays the matrix norms of ord 2, −2 and 'nuc' (singular values) "
                 "raise NotImplementedError; the others run lazily")


@declare("linalg.norm", numpy=np.linalg.norm, group="linear algebra",
         cases=lambda gen: _norm_cases(gen), dtypes=ALL_DTYPES, torch="torch.linalg.norm",
         domain="x ≠ 0 (a p-norm's gradient is 0 at zero entries and at 0, as PyTorch); "
                "ord 2, −2, 'nuc': "
                "distinct nonzero singular values, real only; inf/−inf/max: ties share",
         notes=_NOT_LAZY_SVD)
def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """Vector and matrix norms, every ord numpy accepts, as np.linalg.norm"""
    ndim = np.ndim(raw(x))
    keepdims = bool(keepdims)
    if axis is None:
        if ord is None:
            result = _norm2(x, axis=None, keepdims=keepdims)
            return result
        if ndim == 1:
            axis = 0
        elif ndim == 2:
            axis = (0, 1)
        else:
            raise ValueError("Improper number of dimensions to norm.")
    if isinstance(axis, (tuple, list)):
        axes = normalize_axis_tuple(axis, ndim)  # (AxisError out of range, as numpy)
    else:
        axes = (normalize_axis_index(axis, ndim),)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        if axes[0] == axes[1]:
            raise ValueError("Duplicate axes given.")
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError("Improper number of dimensions to norm.")


def _signs(gen, shape):
    return np.sign(gen.array(shape, "nonzero"))


def _norm_cases(gen):
    kinds = ["vector", "matrix", "flat"] + (["svd"] if gen.dtype.kind == "f" else [])
    kind = gen.choice(kinds)
    keepdims = gen.boolean()
    if kind == "flat":
        return (gen.array(gen.shape(min_dims=1), "nonzero"),), {"keepdims": keepdims}
    if kind == "vector":
        x = gen.array(gen.shape(min_dims=1), "nonzero")
        ord = gen.choice([None, 2, 1, 3, 0.5, -1, -2, 0, np.inf, -np.inf])
        if ord in (np.inf, -np.inf):  # distinct magnitudes: no ties for the extremum
            rank = np.argsort(np.argsort(gen.array(x.shape, "distinct"), axis=None))
            x = _signs(gen, x.shape) * (0.5 + 0.25 * rank.reshape(x.shape))
        return (x.astype(gen.dtype),), {"ord": ord, "axis": gen.integer(-x.ndim, x.ndim - 1),
                                        "keepdims": keepdims}
    if kind == "matrix":  # magnitudes 1 + 0.1·2ᵏ: every row sum and column sum distinct
        shape = (gen.integer(1, 3), gen.integer(1, 3))
        rank = np.argsort(np.argsort(gen.array(shape, "distinct"), axis=None)).reshape(shape)
        x = _signs(gen, shape) * (1.0 + 0.1 * 2.0 ** rank)
        axes = gen.choice([(0, 1), (1, 0), (-1, -2)])
        ord = gen.choice([None, "fro", 1, -1, np.inf, -np.inf])
        return (x.astype(gen.dtype),), {"ord": ord, "axis": axes, "keepdims": keepdims}
    x = _spread_singular(gen)
    return (x,), {"ord": gen.choice([2, -2, "nuc"]), "keepdims": keepdims}


# --------------------------------------------------------------------------- powers, chains


def _matrix_power_cases(gen):
    return (_invertible(gen),), {"n": gen.integer(-2, 3)}


@declare("linalg.matrix_power", dask=False, numpy=np.linalg.matrix_power, group="linear algebra",
         cases=_matrix_power_cases, dtypes=ALL_DTYPES,
         domain="any square matrix; invertible for n < 0", torch="torch.linalg.matrix_power")
def matrix_power(a: Any, n: int) -> Any:
    """Aⁿ by repeated squaring (A⁻¹ for n < 0; the identity for n = 0), batched"""
    size = _square(a, "matrix_power")
    n = operator.index(n)
    if n == 0:  # numpy's identity, even where a has inf or nan (a · 0 would give nan)
        shape = np.shape(raw(a))
        identity = np.broadcast_to(_eye(size, np.result_type(raw(a))), shape)
        return where(np.zeros(shape, dtype=bool), a, identity)
    if n < 0:
        a, n = inv(a), -n
    result, base = None, a
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


def _chain_order(dims: list[int]) -> list[list[int]]:
    """Where to split each chain (i, j): the cheapest parenthesization (numpy's order)."""
    count = len(dims) - 1
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = np.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _multiply_chain(arrays: list, split: list[list[int]], i: int, j: int) -> Any:
    if i == j:
        return arrays[i]
    k = split[i][j]
    return matmul(_multiply_chain(arrays, split, i, k),
                  _multiply_chain(arrays, split, k + 1, j))


@declare("linalg.multi_dot", numpy=np.linalg.multi_dot, group="linear algebra",
         cases=lambda gen: _multi_dot_cases(gen), dtypes=ALL_DTYPES,
         torch="torch.linalg.multi_dot")
def multi_dot(arrays: Any, *, out: Any = None) -> Any:
    """A₁ A₂ ⋯ Aₙ in the cheapest order (first and last may be vectors), as
    np.linalg.multi_dot"""
    _refuse_out("multi_dot", out)
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    first_vector = np.ndim(raw(arrays[0])) == 1
    last_vector = np.ndim(raw(arrays[-1])) == 1
    if first_vector:
        arrays[0] = reshape(arrays[0], (1, -1))
    if last_vector:
        arrays[-1] = reshape(arrays[-1], (-1, 1))
    for x in arrays:
        if np.ndim(raw(x)) != 2:
            raise ValueError("multi_dot: the arrays must be 2-D (the first and last may be "
                             "1-D)")
        check_shape(raw(x), "linalg.multi_dot")  # (the order needs every side)
    dims = [np.shape(raw(arrays[0]))[0]] + [np.shape(raw(x))[1] for x in arrays]
    result = _multiply_chain(arrays, _chain_order(dims), 0, len(arrays) - 1)
    if first_vector and last_vector:
        return reshape(result, ())
    if first_vector or last_vector:
        return reshape(result, (-1,))
    return result


def _multi_dot_cases(gen):
    count = gen.integer(2, 4)
    dims = [gen.integer(1, 3) for _ in range(count + 1)]
    shapes = [(dims[i], dims[i + 1]) for i in range(count)]
    if gen.boolean():
        shapes[0] = shapes[0][1:]
    if gen.boolean():
        shapes[-1] = shapes[-1][:1]
    return ([gen.array(s) for s in shapes],), {}


@declare("linalg.cond", dask=False, numpy=np.linalg.cond, group="linear algebra",
         cases=lambda gen: ((_spread_singular_square(gen),),
                            {"p": gen.choice([None, 2, -2, "fro", "nuc"])}),
         domain="invertible; distinct singular values for p = None, ±2, 'nuc'; p = ±1, ±inf: "
                "no ties among the row/column sums of |A| and |A⁻¹|, no zero entries",
         torch="torch.linalg.cond")
def cond(x: Any, p: Any = None) -> Any:
    """The condition number ‖A‖ ‖A⁻¹‖ (σ_max/σ_min for p = None, 2), as np.linalg.cond"""
    _square(x, "cond")
    if p in (None, 2, -2):
        s = svd(x, compute_uv=False)
        big, small = getitem(s, (Ellipsis, 0)), getitem(s, (Ellipsis, -1))
        return big / small if p != -2 else small / big
    return norm(x, p, axis=(-2, -1)) * norm(inv(x), p, axis=(-2, -1))


def _spread_singular_square(gen):
    n = gen.integer(1, 3)
    base = np.diag(2.0 + 2.0 * np.arange(n)[::-1])
    return (base + 0.2 * gen.array((n, n))).astype(gen.dtype)


@declare("linalg.vector_norm", numpy=np.linalg.vector_norm, group="linear algebra",
         cases=lambda gen: ((gen.array(gen.shape(min_dims=1), "nonzero"),),
                            {"ord": gen.choice([2, 1, 3]), "keepdims": gen.boolean()}),
         dtypes=ALL_DTYPES, torch="torch.linalg.vector_norm")
def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Any:
    """‖x‖_ord over `axis` (all axes flattened by default), as np.linalg.vector_norm"""
    shape = np.shape(raw(x))
    if axis is None:
        result = _vector_norm(reshape(x, (-1,)), ord, 0, False)
        return reshape(result, (1,) * len(shape)) if keepdims else result
    if isinstance(axis, (tuple, list)) and len(axis) != 1:
        axes = normalize_axis_tuple(axis, len(shape))
        rest = tuple(i for i in range(len(shape)) if i not in axes)
        moved = transpose(x, rest + axes)
        flat = reshape(moved, (*tuple(shape[i] for i in rest), -1))
        result = _vector_norm(flat, ord, -1, False)
        return _kept(result, shape, axes, keepdims)
    axis = axis[0] if isinstance(axis, (tuple, list)) else axis
    return _vector_norm(x, ord, operator.index(axis), keepdims)


@declare("linalg.matrix_norm", numpy=np.linalg.matrix_norm, group="linear algebra",
         cases=lambda gen: ((gen.array(gen.shape(min_dims=2), "nonzero"),),
                            {"ord": "fro", "keepdims": gen.boolean()}),
         dtypes=ALL_DTYPES, torch="torch.linalg.matrix_norm", notes=_NOT_LAZY_SVD)
def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Any:
    """The matrix norm of each matrix in a batch (the last two axes), as
    np.linalg.matrix_norm"""
    ndim = len(_matrices(x, "matrix_norm"))
    return _matrix_norm(x, ord, (ndim - 2, ndim - 1), bool(keepdims))


@declare("linalg.matmul", numpy=np.linalg.matmul, group="linear algebra",
         cases=lambda gen: ((gen.array((2, 3)), gen.array((3, 2))), {}), dtypes=ALL_DTYPES,
         torch="torch.linalg.matmul")
def linalg_matmul(x1: Any, x2: Any, /) -> Any:
    """x1 @ x2, as np.linalg.matmul"""
    return matmul(x1, x2)


constant(np.linalg.matrix_rank)
