"""numpy.linalg and the contractions on Values: numpy's values, batching, keywords, and
gradients (gauge-invariant ones for the decompositions), cross-checked with PyTorch."""

from __future__ import annotations

import os

import numpy as np
import pytest

import autodiff  # (also registers every operation)
from autodiff import Value
from autodiff.testing import check_grad

RNG = np.random.default_rng(0)


def well_conditioned(*shape):
    n = shape[-1]
    return 0.3 * RNG.standard_normal(shape) + 2.0 * np.eye(shape[-2], n)


def spread(m, n):
    """A matrix with distinct singular values well away from 0."""
    base = np.zeros((m, n))
    k = min(m, n)
    base[np.arange(k), np.arange(k)] = 2.0 + 2.0 * np.arange(k)[::-1]
    return base + 0.2 * RNG.standard_normal((m, n))


def symmetric_spread(n, batch=()):
    a = 0.2 * RNG.standard_normal((*batch, n, n))
    return a + np.swapaxes(a, -1, -2) + np.diag(3.0 * np.arange(n))


def torch_or_skip():
    """torch, which CI installs: a missing torch fails there and is skipped only locally."""
    try:
        import torch
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("torch is not installed (CI installs it and runs these)")
    return torch


# --------------------------------------------------------------------------- contractions


@pytest.mark.parametrize(("spec", "shapes"), [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->ji", [(2, 2, 3)]),
    ("...ij,...jk", [(2, 1, 2, 3), (4, 3, 2)]),
    ("i...,i...->...", [(3, 2), (3, 1)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("ij->", [(2, 3)]),
    ("ijk,ik->j", [(2, 3, 4), (2, 4)]),
    ("aB", [(2, 3)]),
    ("i,i->i", [(1,), (3,)]),
])
def test_einsum_values_and_gradients(spec, shapes):
    operands = [RNG.standard_normal(s) for s in shapes]
    got = np.einsum(spec, *[Value(x) for x in operands])
    np.testing.assert_allclose(got.data, np.einsum(spec, *operands), rtol=1e-12)
    check_grad(lambda *xs: np.einsum(spec, *xs, optimize=True), *operands, order=2)


def test_einsum_interleaved_form_dtype_and_errors():
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 4))
    got = np.einsum(Value(a), [0, 1], Value(b), [1, 2], [0, 2])
    np.testing.assert_allclose(got.data, a @ b)
    got = np.einsum(Value(a), [Ellipsis, 1])
    np.testing.assert_allclose(got.data, np.einsum(a, [Ellipsis, 1]))
    assert np.einsum("ij->ji", Value(a), dtype=np.float32,
                     casting="same_kind").dtype == np.float32
    with pytest.raises(ValueError, match=r"add '\.\.\.' to the output"):
        np.einsum("...i->i", Value(a))
    with pytest.raises(ValueError, match="do not fit"):
        np.einsum("ijk->i", Value(a))
    with pytest.raises(TypeError, match="out="):
        np.einsum("ij->ji", Value(a), out=np.empty((3, 2)))


def test_einsum_complex_is_a_plain_transpose():
    a = RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3))
    b = RNG.standard_normal((3,)) + 1j * RNG.standard_normal((3,))
    check_grad(lambda x, y: np.einsum("ij,j->i", x, y), a, b, order=2)


@pytest.mark.parametrize("function", [np.dot, np.inner, np.vdot, np.outer, np.kron,
                                      lambda x, y: np.tensordot(x, y, axes=([0], [1]))])
def test_products_match_numpy_with_complex_gradients(function):
    a = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
    b = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
    np.testing.assert_allclose(function(Value(a), Value(b)).data, function(a, b), rtol=1e-12)
    check_grad(function, a, b, order=2)


def test_vdot_conjugates_its_first_argument():
    a = np.array([1 + 2j, 3 - 1j])
    b = np.array([2 - 1j, 1j])
    assert np.allclose(np.vdot(Value(a), Value(b)).data, np.vdot(a, b))
    assert not np.allclose(np.vdot(a, b), np.vdot(b, a))


def test_dot_of_stacks_and_diagonal_family():
    a, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((5, 4, 2))
    np.testing.assert_allclose(np.dot(Value(a), Value(b)).data, np.dot(a, b), rtol=1e-12)
    check_grad(np.dot, a, b)
    x = RNG.standard_normal((3, 4, 2))
    for offset in (-2, 0, 1, 5):
        np.testing.assert_allclose(np.trace(Value(x), offset, 0, 1).data,
                                   np.trace(x, offset, 0, 1))
        np.testing.assert_allclose(np.diagonal(Value(x), offset, 2, 0).data,
                                   np.diagonal(x, offset, 2, 0))
    check_grad(lambda v: np.diagonal(v, 1, -1, 0), x, order=2)
    v = RNG.standard_normal(3)
    for k in (-1, 0, 2):
        np.testing.assert_allclose(np.diag(Value(v), k).data, np.diag(v, k))
        check_grad(lambda w, k=k: np.diag(w, k), v)
    with pytest.raises(ValueError, match="1- or 2-d"):
        np.diag(Value(x))


def test_cross_with_axes_and_two_vectors():
    a, b = RNG.standard_normal((3, 2)), RNG.standard_normal((2, 3))
    got = np.cross(Value(a), Value(b), axisa=0, axisb=-1, axisc=0)
    np.testing.assert_allclose(got.data, np.cross(a, b, axisa=0, axisb=-1, axisc=0))
    check_grad(lambda x, y: np.cross(x, y, axisa=0, axisc=0), a, b, order=2)
    with pytest.warns(DeprecationWarning):
        expected = np.cross(a[:2, 0], b[0, :2])
    np.testing.assert_allclose(np.cross(Value(a[:2, 0]), Value(b[0, :2])).data, expected)
    with pytest.raises(ValueError, match="dimension must be 2 or 3"):
        np.cross(Value(np.ones(4)), Value(np.ones(4)))


# --------------------------------------------------------------------------- solves, inverses


def test_batched_solve_inv_det():
    a = well_conditioned(2, 3, 3)
    b_vector, b_matrix = RNG.standard_normal(3), RNG.standard_normal((2, 3, 2))
    for b in (b_vector, b_matrix, RNG.standard_normal((3, 1))):
        np.testing.assert_allclose(np.linalg.solve(Value(a), Value(b)).data,
                                   np.linalg.solve(a, b), rtol=1e-12)
        check_grad(np.linalg.solve, a, b, order=2)
    np.testing.assert_allclose(np.linalg.inv(Value(a)).data, np.linalg.inv(a), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.det(Value(a)).data, np.linalg.det(a), rtol=1e-12)
    check_grad(np.linalg.inv, a, order=2)
    check_grad(np.linalg.det, a, order=2)
    complex_a = a + 0.3j * RNG.standard_normal(a.shape)
    check_grad(np.linalg.det, complex_a, order=2)
    check_grad(np.linalg.solve, complex_a, b_vector + 1j, order=2)


def test_det_gradient_at_singular_matrices_is_the_cofactor_matrix():
    # was: the rule's A⁻¹ raised "Singular matrix" (PyTorch and JAX give cof(A))
    rank_two = RNG.standard_normal((3, 2)) @ RNG.standard_normal((2, 3))
    rank_one = np.outer(RNG.standard_normal(2) + 1j, RNG.standard_normal(2) - 2j)
    mixed = np.stack([well_conditioned(3, 3), rank_two])
    for a in (rank_two, rank_one, mixed):
        check_grad(np.linalg.det, a)
    # Exactly singular: the cofactors, as JAX's grad gives them (PyTorch 2.13 returns zeros
    # wherever det is exactly 0, even for diag(2, 3, 0), whose det moves with A[2, 2]).
    for a, expected in ((np.zeros((2, 2)), np.zeros((2, 2))), (np.zeros((1, 1)), np.ones((1, 1))),
                        (np.diag([2.0, 0.0, 0.0]), np.zeros((3, 3))),
                        (np.diag([2.0, 3.0, 0.0]), np.diag([0.0, 0.0, 6.0])),
                        (np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([[4.0, -2.0], [-2.0, 1.0]])),
                        (np.array([[1.0, 2.0], [2.0, 4.0]]) * (1 + 1j),
                         np.array([[4.0, -2.0], [-2.0, 1.0]]) * (1 - 1j))):
        v = Value(a)
        np.real(np.linalg.det(v)).backward()  # (complex: PyTorch's convention, conj(cof))
        np.testing.assert_allclose(v.grad, expected, atol=1e-15)


def test_det_second_order_at_a_singular_matrix_is_refused_by_name():
    with pytest.raises(np.linalg.LinAlgError, match=r"^backward through det: .*[Ss]ingular"):
        autodiff.grad(lambda x: autodiff.grad(np.linalg.det)(x).sum())(np.zeros((2, 2)))


def test_slogdet_sign_and_logabsdet():
    a = well_conditioned(2, 3, 3)
    a[1] = -a[1]  # a negative determinant
    sign, logabsdet = np.linalg.slogdet(Value(a))
    expected = np.linalg.slogdet(a)
    np.testing.assert_allclose(sign.data, expected.sign)
    np.testing.assert_allclose(logabsdet.data, expected.logabsdet, rtol=1e-12)
    check_grad(lambda x: np.linalg.slogdet(x).logabsdet, a, order=2)
    z = a + 0.4j * RNG.standard_normal(a.shape)
    check_grad(lambda x: np.linalg.slogdet(x)[1], z, order=2)
    check_grad(lambda x: np.linalg.slogdet(x)[0], z)  # e^{iθ}: θ moves with A
    np.testing.assert_allclose(np.linalg.slogdet(Value(z))[0].data, np.linalg.slogdet(z)[0])


def test_matrix_power_multi_dot_rank_cond():
    a = well_conditioned(2, 3, 3)
    for n in (-2, 0, 1, 5):
        np.testing.assert_allclose(np.linalg.matrix_power(Value(a), n).data,
                                   np.linalg.matrix_power(a, n), rtol=1e-10)
        check_grad(lambda x, n=n: np.linalg.matrix_power(x, n), a)
    arrays = [RNG.standard_normal(s) for s in [(4,), (4, 2), (2, 5), (5, 3), (3,)]]
    np.testing.assert_allclose(np.linalg.multi_dot([Value(x) for x in arrays]).data,
                               np.linalg.multi_dot(arrays), rtol=1e-12)
    check_grad(lambda *xs: np.linalg.multi_dot(list(xs)), *arrays)
    assert np.linalg.matrix_rank(Value(a[0])) == 3
    m = well_conditioned(3, 3)
    for p in (None, 1, -1, 2, -2, np.inf, -np.inf, "fro", "nuc"):
        np.testing.assert_allclose(np.linalg.cond(Value(m), p).data, np.linalg.cond(m, p))
    check_grad(lambda x: np.linalg.cond(x, 1), m)


# --------------------------------------------------------------------------- lstsq, pinv


def test_lstsq_values_and_gradients():
    a, b = spread(5, 3), RNG.standard_normal((5, 2))
    for rhs in (b, b[:, 0]):
        x, residuals, rank, s = np.linalg.lstsq(Value(a), Value(rhs))
        expected = np.linalg.lstsq(a, rhs)
        for got, want in zip((x, residuals, s), (expected[0], expected[1], expected[3]),
                             strict=True):
            np.testing.assert_allclose(got.data, want, rtol=1e-10)
        assert rank == expected[2] == 3
        check_grad(lambda p, q: np.linalg.lstsq(p, q)[0], a, rhs, order=2)
        check_grad(lambda p, q: np.linalg.lstsq(p, q)[1], a, rhs)


def test_lstsq_rcond_cuts_small_singular_values():
    u, _, vt = np.linalg.svd(RNG.standard_normal((4, 3)), full_matrices=False)
    a = u @ np.diag([3.0, 1.0, 1e-6]) @ vt
    b = RNG.standard_normal(4)
    for rcond in (None, -1, 1e-3):
        got = np.linalg.lstsq(Value(a), Value(b), rcond=rcond)
        expected = np.linalg.lstsq(a, b, rcond=rcond)
        np.testing.assert_allclose(got[0].data, expected[0], rtol=1e-6, atol=1e-9)
        assert got[2] == expected[2]
        assert np.shape(got[1].data if isinstance(got[1], Value) else got[1]) \
            == expected[1].shape
    x = np.linalg.lstsq(Value(a), Value(b), rcond=1e-3)[0]
    np.testing.assert_allclose(x.data, np.linalg.pinv(a, rcond=1e-3) @ b, atol=1e-9)


def test_pinv_wide_tall_and_rtol():
    for shape in ((2, 4), (4, 2), (2, 3, 3)):
        a = well_conditioned(*shape)
        np.testing.assert_allclose(np.linalg.pinv(Value(a)).data, np.linalg.pinv(a),
                                   rtol=1e-10)
        check_grad(np.linalg.pinv, a, order=2)
    a = well_conditioned(3, 3)
    np.testing.assert_allclose(np.linalg.pinv(Value(a), rtol=None).data,
                               np.linalg.pinv(a, rtol=None))


# --------------------------------------------------------------------------- norms


VECTOR_ORDS = [None, 2, 1, -1, 3, 0.5, -2, np.inf, -np.inf, 0]
MATRIX_ORDS = [None, "fro", "nuc", np.inf, -np.inf, 1, -1, 2, -2]


@pytest.mark.parametrize("ord", VECTOR_ORDS)
@pytest.mark.parametrize("keepdims", [False, True])
def test_vector_norms(ord, keepdims):
    x = np.array([[0.7, -1.9, 1.3], [-0.4, 2.6, 1.1]])
    for axis in (None, 0, -1) if ord is None else (0, -1):
        got = np.linalg.norm(Value(x), ord, axis, keepdims)
        np.testing.assert_allclose(got.data, np.linalg.norm(x, ord, axis, keepdims),
                                   rtol=1e-12)
        if ord != 0:
            check_grad(lambda v, axis=axis: np.linalg.norm(v, ord, axis, keepdims), x,
                       order=2)
    v = x[0] + 1j * x[1]
    if ord != 0:
        check_grad(lambda z: np.linalg.norm(z, ord, keepdims=keepdims), v)


@pytest.mark.parametrize("ord", MATRIX_ORDS)
@pytest.mark.parametrize("keepdims", [False, True])
def test_matrix_norms(ord, keepdims):
    x = np.stack([spread(3, 4), 1.3 * spread(3, 4)])
    for axis in ((1, 2), (2, 1), (-1, 0)):
        got = np.linalg.norm(Value(x), ord, axis, keepdims)
        np.testing.assert_allclose(got.data, np.linalg.norm(x, ord, axis, keepdims),
                                   rtol=1e-12)
        check_grad(lambda v, axis=axis: np.linalg.norm(v, ord, axis, keepdims), x, order=2)
    np.testing.assert_allclose(np.linalg.norm(Value(x[0]), ord).data, np.linalg.norm(x[0], ord))


def test_norm_errors_and_gradient_at_zero():
    x = Value(np.zeros(3))
    np.linalg.norm(x).backward()
    assert np.array_equal(x.grad, np.zeros(3))  # PyTorch's subgradient
    with pytest.raises(ValueError, match="Invalid norm order"):
        np.linalg.norm(Value(np.ones(3)), "fro")
    with pytest.raises(ValueError, match="Improper number of dimensions"):
        np.linalg.norm(Value(np.ones((2, 2, 2))), 1)
    with pytest.raises(ValueError, match="Invalid norm order for matrices"):
        np.linalg.norm(Value(np.ones((2, 2))), 3)
    with pytest.raises(NotImplementedError, match="complex"):
        np.linalg.norm(Value(np.ones((2, 2)) * 1j), 2)


# --------------------------------------------------------------------------- decompositions


def test_cholesky_reads_one_triangle():
    a = symmetric_spread(3, (2,)) + 4 * np.eye(3)
    for upper in (False, True):
        np.testing.assert_allclose(np.linalg.cholesky(Value(a), upper=upper).data,
                                   np.linalg.cholesky(a, upper=upper), rtol=1e-12)
        check_grad(lambda x, upper=upper: np.linalg.cholesky(x, upper=upper), a, order=2)
    messy = a + np.triu(RNG.standard_normal((3, 3)), 1)  # the upper triangle is not read
    np.testing.assert_allclose(np.linalg.cholesky(Value(messy)).data, np.linalg.cholesky(a))
    check_grad(np.linalg.cholesky, messy)


def eigh_loss(w, v):
    """Depends on V only through vᵢ vᵢᵀ: invariant to the sign of each eigenvector."""
    weights = np.arange(1.0, w.shape[-1] + 1)
    return (w * weights).sum() + ((v * v) * np.linspace(-1, 1, v.shape[-1])).sum() \
        + np.einsum("...ij,j,...kj->...ik", v, weights, v)[..., 0, :].sum()


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_gauge_invariant_gradients(uplo):
    a = symmetric_spread(3, (2,))
    w, v = np.linalg.eigh(Value(a), UPLO=uplo)
    expected = np.linalg.eigh(a, UPLO=uplo)
    np.testing.assert_allclose(w.data, expected.eigenvalues, rtol=1e-12)
    np.testing.assert_allclose(np.abs(v.data), np.abs(expected.eigenvectors), atol=1e-12)
    check_grad(lambda x: eigh_loss(*np.linalg.eigh(x, UPLO=uplo)), a, order=2)
    skewed = a + (np.triu if uplo == "L" else np.tril)(RNG.standard_normal((3, 3)), 1 if
                                                       uplo == "L" else -1)
    check_grad(lambda x: np.linalg.eigvalsh(x, UPLO=uplo), skewed, order=2)


def svd_loss(u, s, vh):
    """Invariant to flipping the signs of uᵢ and vᵢ together."""
    k = s.shape[-1]
    return (s * np.arange(1.0, k + 1)).sum() + ((u * u) * np.linspace(-1, 1, k)).sum() \
        + ((u * np.linspace(0.5, 2.0, k)) @ vh).sum() + (vh * vh)[..., 0, :].sum()


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4)])
def test_svd_gauge_invariant_gradients(shape):
    a = spread(*shape)
    u, s, vh = np.linalg.svd(Value(a), full_matrices=False)
    expected = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(s.data, expected.S, rtol=1e-12)
    np.testing.assert_allclose((u * s[None, :] @ vh).data, a, atol=1e-12)
    check_grad(lambda x: svd_loss(*np.linalg.svd(x, full_matrices=False)), a, order=2)
    check_grad(lambda x: np.linalg.svd(x, compute_uv=False), a, order=2)
    batched = np.stack([a, spread(*shape)])
    check_grad(lambda x: svd_loss(*np.linalg.svd(x, full_matrices=False)), batched)
    if shape[0] != shape[1]:
        with pytest.raises(NotImplementedError, match="full_matrices"):
            np.linalg.svd(Value(a))


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2)])
def test_qr_gradients(shape):
    a = well_conditioned(*shape)
    q, r = np.linalg.qr(Value(a))
    expected = np.linalg.qr(a)
    np.testing.assert_allclose(q.data, expected.Q, atol=1e-12)
    np.testing.assert_allclose(r.data, expected.R, atol=1e-12)
    check_grad(lambda x: np.linalg.qr(x).Q, a, order=2)
    check_grad(lambda x: np.linalg.qr(x).R, a, order=2)
    with pytest.raises(NotImplementedError, match="raw"):
        np.linalg.qr(Value(a), mode="raw")


# --------------------------------------------------------------------------- against PyTorch


def test_gradients_match_pytorch():
    torch = torch_or_skip()
    x = RNG.standard_normal((3, 3))
    spd_np = x @ x.T + 3 * np.eye(3)

    def ours(function):
        xv = Value(x)
        function(np, xv).backward()
        return xv.grad

    def theirs(function):
        xt = torch.tensor(x, requires_grad=True)
        function(torch, xt).backward()
        return xt.grad.numpy()

    def spd(lib, v):
        return v @ v.T + 3 * (np.eye(3) if lib is np else torch.eye(3, dtype=torch.float64))

    losses = {
        "inv": lambda lib, v: (lib.linalg.inv(v + 3 * _eye(lib)) ** 2).sum(),
        "det": lambda lib, v: lib.linalg.det(v + 3 * _eye(lib)),
        "slogdet": lambda lib, v: lib.linalg.slogdet(v + 3 * _eye(lib))[1],
        "cholesky": lambda lib, v: (lib.linalg.cholesky(spd(lib, v)) * _weights(lib)).sum(),
        "eigh": lambda lib, v: (lib.linalg.eigh(spd(lib, v))[0] * _weights(lib)[0]).sum()
        + (lib.linalg.eigh(spd(lib, v))[1] ** 2 * _weights(lib)).sum(),
        "svd": lambda lib, v: (_svd(lib, v)[0] ** 2 * _weights(lib)).sum()
        + (_svd(lib, v)[1] * _weights(lib)[0]).sum(),
        "qr": lambda lib, v: (lib.linalg.qr(v + 3 * _eye(lib))[1] * _weights(lib)).sum()
        + (lib.linalg.qr(v + 3 * _eye(lib))[0] * _weights(lib)).sum(),
        "pinv": lambda lib, v: (lib.linalg.pinv(v + 3 * _eye(lib)) * _weights(lib)).sum(),
        "norm_nuc": lambda lib, v: lib.linalg.norm(v, "nuc") if lib is np
        else torch.linalg.matrix_norm(v, "nuc"),
        "norm_2": lambda lib, v: lib.linalg.norm(v, 2) if lib is np
        else torch.linalg.matrix_norm(v, 2),
        "einsum": lambda lib, v: lib.einsum("ij,jk,kk->i", v, v, v).sum(),
    }
    assert spd_np is not None
    for name, loss in losses.items():
        np.testing.assert_allclose(ours(loss), theirs(loss), rtol=1e-8, atol=1e-10,
                                   err_msg=name)


def _eye(lib):
    if lib is np:
        return np.eye(3)
    import torch
    return torch.eye(3, dtype=torch.float64)


def _weights(lib):
    w = np.arange(9.0).reshape(3, 3) / 9 - 0.3
    if lib is np:
        return w
    import torch
    return torch.tensor(w)


def _svd(lib, v):
    if lib is np:
        u, s, _ = np.linalg.svd(v, full_matrices=False)
    else:
        u, s, _ = lib.linalg.svd(v, full_matrices=False)
    return u, s
