"""np.linalg.eig and np.linalg.eigvals on Values: numpy's results (values, dtypes, the
EigResult structure, batches), gradients of losses invariant to the eigenvectors' phases
against finite differences (first and second order) and against PyTorch, the refusal of
phase-dependent losses, repeated eigenvalues, and bad input.

The op table's generic property tests cover eigvals; eig has no generic cases (a random
cotangent on the eigenvectors depends on their arbitrary phases), so its gradients are
checked here with phase-invariant losses.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import autodiff
from autodiff import Value
from autodiff.ops.linear_algebra import _in_order, _keeps_order
from autodiff.testing import check_grad

try:
    import torch
except ImportError:  # pragma: no cover - CI installs torch
    torch = None

needs_torch = pytest.mark.skipif(
    torch is None and not os.environ.get("CI"),
    reason="torch is not installed (pip install -e '.[bench]'); CI runs these",
)

EigResult = type(np.linalg.eig(np.eye(1)))


def _spectrum_matrix(eigenvalues, seed, dtype=np.float64, pair=None):
    """P D P⁻¹ with the given eigenvalues (`pair`: (a, b) adds the real block of a ± bi),
    P = 2I + small noise (well conditioned)."""
    rng = np.random.default_rng(seed)
    d = np.diag(np.asarray(eigenvalues, dtype=np.result_type(dtype, np.float64)))
    if pair is not None:
        a, b = pair
        block = np.array([[a, b], [-b, a]])
        n = d.shape[0] + 2
        full = np.zeros((n, n), dtype=d.dtype)
        full[:2, :2] = block
        full[2:, 2:] = d
        d = full
    n = d.shape[0]
    p = 2.0 * np.eye(n) + 0.4 * rng.uniform(-1, 1, (n, n))
    if np.dtype(dtype).kind == "c":
        p = p + 0.4j * rng.uniform(-1, 1, (n, n))
    a = (p @ d @ np.linalg.inv(p)).astype(dtype)
    assert _keeps_order(a, 0.02), "pick another seed: numpy's eigenvalue order jumps nearby"
    return a


REAL_SPECTRUM = _spectrum_matrix([-2.0, 0.5, 3.0], seed=1)
COMPLEX_PAIR = _spectrum_matrix([3.0], seed=2, pair=(-1.0, 1.5))  # real, eigenvalues complex
COMPLEX = _spectrum_matrix([-2.0 + 0.5j, 0.5 - 1.0j, 3.0 + 0.2j], seed=3, dtype=np.complex128)
BATCH = np.stack([REAL_SPECTRUM, COMPLEX_PAIR])                  # real data, complex results
MATRICES = {"real-spectrum": REAL_SPECTRUM, "complex-pair": COMPLEX_PAIR, "complex": COMPLEX,
            "batch": BATCH}


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("name", [*MATRICES, "float32", "batch-of-batches", "1x1"])
def test_eig_returns_numpys_result_as_values(name):
    a = {"float32": COMPLEX_PAIR.astype(np.float32),
         "batch-of-batches": np.stack([BATCH, BATCH[::-1]]),
         "1x1": np.array([[2.5]])}.get(name, MATRICES.get(name))
    expected = np.linalg.eig(a)
    got = np.linalg.eig(Value(a))
    assert type(got) is EigResult and isinstance(got, tuple) and len(got) == 2
    w, v = got  # unpacks as a pair
    assert w is got.eigenvalues and v is got.eigenvectors
    assert isinstance(w, Value) and isinstance(v, Value)
    for mine, numpys in ((w, expected.eigenvalues), (v, expected.eigenvectors)):
        assert mine.dtype == numpys.dtype and mine.shape == numpys.shape
        np.testing.assert_array_equal(mine.data, numpys)
    values = np.linalg.eigvals(Value(a))
    assert isinstance(values, Value) and values.dtype == np.linalg.eigvals(a).dtype
    np.testing.assert_array_equal(values.data, np.linalg.eigvals(a))
    np.testing.assert_array_equal(values.data, w.data)  # eig's and eigvals' order agree


@pytest.mark.parametrize(("a", "dtypes"), [
    (REAL_SPECTRUM, ("float64", "float64")),
    (COMPLEX_PAIR, ("complex128", "complex128")),
    (REAL_SPECTRUM.astype(np.float32), ("float32", "float32")),
    (COMPLEX_PAIR.astype(np.float32), ("complex64", "complex64")),
    (COMPLEX, ("complex128", "complex128")),
    (COMPLEX.astype(np.complex64), ("complex64", "complex64")),
], ids=["real", "real-pair", "float32", "float32-pair", "complex128", "complex64"])
def test_result_dtypes_follow_numpy_and_depend_on_the_data(a, dtypes):
    """A real matrix: real results when every eigenvalue is real, complex otherwise."""
    w, v = np.linalg.eig(Value(a))
    assert (str(w.dtype), str(v.dtype)) == dtypes
    assert str(np.linalg.eigvals(Value(a)).dtype) == dtypes[0]


def test_a_batch_mixing_real_and_complex_spectra_is_complex_throughout():
    w, v = np.linalg.eig(Value(BATCH))
    assert w.dtype == np.complex128 and w.shape == (2, 3) and v.shape == (2, 3, 3)
    np.testing.assert_allclose(np.imag(w.data[0]), 0.0)  # (the real spectrum, as complex)


def test_empty_matrices_give_numpys_empty_results_and_gradients():
    a = np.zeros((2, 0, 0))
    w, v = np.linalg.eig(Value(a))
    assert w.shape == (2, 0) and v.shape == (2, 0, 0)
    x = Value(a)
    np.linalg.eigvals(x).sum().backward()
    assert x.grad.shape == (2, 0, 0)


# --------------------------------------------------------------------------- gradients

X = np.array([0.3 - 0.7j, -1.1 + 0.2j, 0.8 + 0.5j])
WEIGHTS = np.arange(1.0, 10.0).reshape(3, 3) / 9


def eigenvalue_loss(a):
    """Σ |λ|² + Σ k·Re λₖ + Re(λ₀ λ̄₁)."""
    w = np.linalg.eig(a).eigenvalues
    first, second = w[..., 0], w[..., 1]
    return ((np.abs(w) ** 2).sum() + (np.real(w) * np.arange(3)).sum()
            + np.real(first * np.conj(second)).sum())


def overlap_loss(a):
    """Σⱼ wⱼ |vⱼᴴ x|²: invariant to each eigenvector's phase."""
    v = np.linalg.eig(a).eigenvectors
    overlaps = np.conj(X) @ v
    return (np.abs(overlaps) ** 2 * np.array([1.0, 2.0, -0.5])).sum()


def magnitude_loss(a):
    """Σ W ∘ |V|² (each |vᵢⱼ|², phase-free) + Σ |λ|."""
    w, v = np.linalg.eig(a)
    return (np.abs(v) ** 2 * WEIGHTS).sum() + np.abs(w).sum()


def projector_loss(a):
    """Re Σ B ∘ v₀ v₀ᴴ (the projector's entries) times λ₀: phase-free, mixes λ and V."""
    w, v = np.linalg.eig(a)
    first = v[..., :, 0]
    outer = first[..., :, None] * np.conj(first)[..., None, :]
    return (np.real(outer * WEIGHTS) * np.real(w[..., 0:1, None])).sum()


LOSSES = {"eigenvalues": eigenvalue_loss, "overlaps": overlap_loss,
          "magnitudes": magnitude_loss, "projector": projector_loss}


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("name", list(MATRICES))
def test_phase_invariant_losses_match_finite_differences_to_second_order(name, loss):
    check_grad(LOSSES[loss], MATRICES[name], order=2)


@pytest.mark.parametrize("loss", ["overlaps", "magnitudes"])
@pytest.mark.parametrize("name", ["complex-pair", "complex"])
def test_forward_mode_matches_finite_differences(name, loss):
    check_grad(LOSSES[loss], MATRICES[name], order=2, modes=("fwd",))


@pytest.mark.parametrize("loss", list(LOSSES))
def test_float32_gradients_match_finite_differences(loss):
    check_grad(LOSSES[loss], COMPLEX_PAIR.astype(np.float32), order=2)
    check_grad(LOSSES[loss], COMPLEX.astype(np.complex64), order=1)


@pytest.mark.parametrize("name", list(MATRICES))
def test_eigvals_gradients_match_finite_differences(name):
    check_grad(np.linalg.eigvals, MATRICES[name], order=2, modes=("rev", "fwd"))


def test_real_input_with_complex_results_gets_a_real_gradient():
    """PyTorch's convention for a real input: the real part of the complex gradient (the
    derivative along real directions)."""
    for f in (overlap_loss, magnitude_loss, lambda a: np.real(np.linalg.eigvals(a)).sum()
              + np.imag(np.linalg.eigvals(a) ** 2).sum()):
        a = Value(COMPLEX_PAIR)
        f(a).backward()
        assert a.grad.dtype == np.float64
        check_grad(f, COMPLEX_PAIR)


def test_eigenvalues_through_eig_and_through_eigvals_have_the_same_gradient():
    u = np.array([0.5 - 1.0j, 2.0 + 0.3j, -0.7 + 0.1j])
    a, b = Value(COMPLEX), Value(COMPLEX)
    np.linalg.eig(a).eigenvalues.backward(u)
    np.linalg.eigvals(b).backward(u)
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-12)


def test_the_eigenvalue_gradient_is_the_left_right_eigenvector_formula():
    """∂λₖ/∂A = wₖ vₖᵀ / (wₖᵀ vₖ) for the left eigenvector wₖ (wₖᵀ A = λₖ wₖᵀ); PyTorch's
    gradient is its conjugate: Ā = V⁻ᴴ diag(λ̄) Vᴴ-style."""
    a = Value(COMPLEX)
    np.linalg.eigvals(a)[1].real.backward()  # L = Re λ₁: grad = conj(∂λ₁/∂A)
    v = np.linalg.eig(COMPLEX).eigenvectors
    left = np.linalg.inv(v)[1]  # the row wᵀ of V⁻¹, with wᵀ v₁ = 1
    np.testing.assert_allclose(a.grad, np.conj(np.outer(left, v[:, 1])), rtol=1e-10,
                               atol=1e-12)


def test_the_normalisation_term_matters():
    """The eigenvectors' gradient differs from the unnormalised formula V⁻ᵀ (E ∘ VᵀV̄) Vᵀ
    (without numpy's unit norm): a rule that drops the term fails against this."""
    a = Value(COMPLEX)
    magnitude_loss(a).backward()
    w, v = np.linalg.eig(COMPLEX)
    gap = w[None, :] - w[:, None]
    e = np.where(np.eye(3, dtype=bool), 0, 1 / np.where(np.eye(3, dtype=bool), 1, gap))
    gv = 2 * WEIGHTS * np.conj(v)  # the engine's cotangent of Σ W |V|² (2 ∂L/∂V)
    gw = np.conj(w) / np.abs(w)  # the engine's cotangent of Σ |λ| (2 ∂L/∂λ)
    unnormalised = np.linalg.solve(v.T, (np.diag(gw) + e * (v.T @ gv)) @ v.T)
    assert not np.allclose(a.grad, np.conj(unnormalised), rtol=1e-3)


def test_batched_gradients_match_finite_differences():
    stacked = np.stack([COMPLEX, COMPLEX.T.copy()])
    check_grad(overlap_loss, stacked, order=1)
    check_grad(np.linalg.eigvals, np.stack([BATCH, BATCH]), order=1)


def test_hessian_of_an_eigenvalue_loss_matches_finite_differences():
    def f(a):
        return (np.abs(np.linalg.eigvals(a)) ** 2).sum()

    hessian = autodiff.hessian(f)(REAL_SPECTRUM)
    assert hessian.shape == (3, 3, 3, 3)
    h = 1e-5
    for i, j in [(0, 0), (1, 2), (2, 1)]:
        e = np.zeros((3, 3))
        e[i, j] = h
        up, down = autodiff.grad(f)(REAL_SPECTRUM + e), autodiff.grad(f)(REAL_SPECTRUM - e)
        np.testing.assert_allclose(hessian[..., i, j], (up - down) / (2 * h), rtol=1e-5,
                                   atol=1e-6)


def test_eigenvectors_of_a_real_spectrum_are_real_and_differentiable_as_returned():
    """Real eigenvectors have no phase to lose, only a sign, locally constant: any loss."""
    def f(a):
        return (np.linalg.eig(a).eigenvectors * WEIGHTS).sum()

    check_grad(f, REAL_SPECTRUM, order=2)


# --------------------------------------------------------------------------- phase


@pytest.mark.parametrize("name", ["complex-pair", "complex", "batch"])
def test_a_loss_that_depends_on_the_phase_is_refused(name):
    a = Value(MATRICES[name])
    v = np.linalg.eig(a).eigenvectors
    loss = np.imag(v).sum() + np.real(v).sum()
    with pytest.raises(ValueError, match="phase of the eigenvectors"):
        loss.backward()


def test_the_phase_check_uses_the_cotangent_not_only_its_size():
    """A tiny phase-dependent term is refused too (the check is relative to the column's
    cotangent, not absolute as PyTorch's 1e-2)."""
    a = Value(COMPLEX)
    v = np.linalg.eig(a).eigenvectors
    loss = (np.abs(v) ** 2).sum() + 1e-4 * np.real(v[1, 0])
    with pytest.raises(ValueError, match="phase"):
        loss.backward()


@needs_torch
def test_pytorch_refuses_the_same_phase_dependent_loss():
    t = torch.tensor(COMPLEX, requires_grad=True)
    v = torch.linalg.eig(t).eigenvectors
    with pytest.raises(RuntimeError, match="depends on this quantity"):
        (v.imag.sum() + v.real.sum()).backward()


# --------------------------------------------------------------------------- repeated


def _repeated_matrix():
    """diag(1, 1, 3) in another basis: a repeated, non-defective eigenvalue."""
    p = 2.0 * np.eye(3) + 0.4 * np.random.default_rng(4).uniform(-1, 1, (3, 3))
    return p @ np.diag([1.0, 1.0, 3.0]) @ np.linalg.inv(p)


def test_a_symmetric_function_of_repeated_eigenvalues_has_its_gradient():
    for a in (np.eye(3), _repeated_matrix()):
        x = Value(a)
        np.linalg.eigvals(x).sum().backward()  # the trace
        np.testing.assert_allclose(x.grad, np.eye(len(a)), atol=1e-9)
        y = Value(a)
        np.linalg.eig(y).eigenvalues.sum().backward()
        np.testing.assert_allclose(y.grad, np.eye(len(a)), atol=1e-9)


JORDAN_BLOCKS = [np.array([[1.0, 1.0], [0.0, 1.0]]), np.array([[0.0, 1.0], [0.0, 0.0]]),
                 np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 4.0], [0.0, 0.0, 5.0]])]


@pytest.mark.parametrize("a", JORDAN_BLOCKS, ids=["jordan", "nilpotent", "partly-defective"])
@pytest.mark.parametrize("loss", [lambda w: (w ** 2).sum(), lambda w: w.prod(), lambda w: w.sum()],
                         ids=["sum-of-squares", "determinant", "trace"])
def test_eigenvalues_of_a_defective_matrix_are_refused_not_differentiated_wrongly(a, loss):
    """At a Jordan block V is singular to working precision: Σλ² got 2I where the gradient
    (of trace A²) is 2Aᵀ, and the determinant I where it is adj(A)ᵀ, without a word."""
    for eigenvalues in (np.linalg.eigvals, lambda m: np.linalg.eig(m).eigenvalues):
        x = Value(a)
        with pytest.raises(np.linalg.LinAlgError, match="not diagonalizable"):
            np.real(loss(eigenvalues(x))).backward()


@pytest.mark.parametrize("a", [np.eye(3), _repeated_matrix()], ids=["identity", "similar"])
def test_a_single_repeated_eigenvalue_has_no_gradient(a):
    x = Value(a)
    with pytest.raises(np.linalg.LinAlgError, match="repeated"):
        (np.linalg.eigvals(x) * np.array([1.0, 2.0, 3.0])).sum().backward()


@pytest.mark.parametrize("a", [np.eye(3), _repeated_matrix()], ids=["identity", "similar"])
def test_eigenvectors_of_repeated_eigenvalues_have_no_gradient(a):
    x = Value(a)
    v = np.linalg.eig(x).eigenvectors
    with pytest.raises(np.linalg.LinAlgError, match="repeated eigenvalues"):
        (np.abs(v) ** 2 * WEIGHTS).sum().backward()


def test_create_graph_through_eigenvectors_at_repeated_eigenvalues_is_refused():
    x = Value(np.eye(3))
    with pytest.raises(np.linalg.LinAlgError, match="repeated"):
        np.linalg.eig(x).eigenvalues.sum().backward(create_graph=True)


def test_the_eigenvector_of_a_simple_eigenvalue_beside_a_repeated_pair_has_its_gradient():
    a = _repeated_matrix()
    x = Value(a)
    w, v = np.linalg.eig(x)
    (k,) = np.flatnonzero(np.abs(w.data - 3.0) < 1e-6)
    loss = (np.abs(np.conj(X) @ v[:, k]) ** 2 + w[k].real)
    loss.backward()
    assert np.all(np.isfinite(x.grad))
    # against a one-sided look at the simple eigenpair, which stays in place nearby
    h = 1e-6
    for i, j in [(0, 1), (2, 0)]:
        e = np.zeros((3, 3))
        e[i, j] = h
        values = []
        for sign in (1, -1):
            ws, vs = np.linalg.eig(a + sign * e)
            m = int(np.argmin(np.abs(ws - 3.0)))
            values.append(abs(np.conj(X) @ vs[:, m]) ** 2 + ws[m].real)
        np.testing.assert_allclose(x.grad[i, j], (values[0] - values[1]) / (2 * h),
                                   rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- PyTorch


def _torch_order(ours, theirs):
    """Indices putting torch's eigenvalues in numpy's order (nearest, per matrix)."""
    return np.argmin(np.abs(ours[..., :, None] - theirs[..., None, :]), axis=-1)


def _gathered(t, index, axis):
    index = torch.as_tensor(index)
    if axis == -1:
        return torch.take_along_dim(t, index, dim=-1)
    return torch.take_along_dim(t, index[..., None, :].expand(t.shape), dim=-1)


@needs_torch
@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("name", list(MATRICES))
def test_gradients_match_torch_linalg_eig(name, loss):
    a = MATRICES[name]
    t = torch.tensor(a, requires_grad=True)
    tw, tv = torch.linalg.eig(t)
    order = _torch_order(np.linalg.eigvals(a), tw.detach().numpy())
    tw, tv = _gathered(tw, order, -1), _gathered(tv, order, -2)

    def torch_loss():
        if loss == "eigenvalues":
            return ((tw.abs() ** 2).sum() + (tw.real * torch.arange(3.0)).sum()
                    + (tw[..., 0] * tw[..., 1].conj()).real.sum())
        if loss == "overlaps":
            overlaps = torch.tensor(np.conj(X)) @ tv
            return (overlaps.abs() ** 2 * torch.tensor([1.0, 2.0, -0.5])).sum()
        if loss == "magnitudes":
            return (tv.abs() ** 2 * torch.tensor(WEIGHTS)).sum() + tw.abs().sum()
        first = tv[..., :, 0]
        outer = first[..., :, None] * first.conj()[..., None, :]
        return ((outer * torch.tensor(WEIGHTS)).real * tw[..., 0:1, None].real).sum()

    torch_loss().backward()
    x = Value(a)
    LOSSES[loss](x).backward()
    assert x.grad.dtype == a.dtype
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-9, atol=1e-10)


EIGVALS_CASES = [(name, dtype) for name, a in MATRICES.items()
                 for dtype in (["complex128", "complex64"] if np.iscomplexobj(a)
                               else ["float64", "float32", "complex128"])]


@needs_torch
@pytest.mark.parametrize(("name", "dtype"), EIGVALS_CASES,
                         ids=[f"{n}-{d}" for n, d in EIGVALS_CASES])
def test_gradients_match_torch_linalg_eigvals(name, dtype):
    a = MATRICES[name].astype(dtype)
    x = Value(a)
    out = np.linalg.eigvals(x)
    rng = np.random.default_rng(0)
    u = rng.standard_normal(out.shape)
    if np.iscomplexobj(out.data):
        u = u + 1j * rng.standard_normal(out.shape)
    out.backward(u.astype(out.dtype))
    t = torch.tensor(a, requires_grad=True)
    tw = torch.linalg.eigvals(t)  # always complex: a real u pairs as u + 0i
    order = _torch_order(out.data, tw.detach().numpy())
    tw = _gathered(tw, order, -1)
    np.testing.assert_allclose(tw.detach().numpy(), out.data, rtol=1e-4, atol=1e-5)
    tw.backward(torch.tensor(u.astype(tw.detach().numpy().dtype)))
    rtol, atol = (1e-3, 1e-4) if dtype in ("float32", "complex64") else (1e-9, 1e-10)
    assert x.grad.dtype == a.dtype
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("function", [np.linalg.eig, np.linalg.eigvals],
                         ids=["eig", "eigvals"])
def test_bad_input_is_refused_naming_the_operation(function):
    name = function.__name__
    with pytest.raises(np.linalg.LinAlgError, match=f"linalg.{name}:.*square"):
        function(Value(np.ones((2, 3))))
    with pytest.raises(np.linalg.LinAlgError, match=f"linalg.{name}:.*two-dimensional"):
        function(Value(np.ones(3)))
    with pytest.raises(np.linalg.LinAlgError, match=f"linalg.{name}:.*two-dimensional"):
        function(Value(2.0))
    for bad in (np.inf, np.nan):
        a = np.eye(2)
        a[0, 1] = bad
        with pytest.raises(np.linalg.LinAlgError, match=f"{name}: .*inf or nan"):
            function(Value(a))


# --------------------------------------------------------------------------- helpers


def test_eigenvectors_are_put_in_eigvals_order_if_the_orders_differ():
    """eig's and eigvals' orders agree in practice; the eigvals rule reorders eig's
    eigenvectors by their eigenvalues anyway."""
    w, v = np.linalg.eig(BATCH)
    swap = np.array([2, 0, 1])
    reordered = _in_order(v[..., swap], w[..., swap], w)
    np.testing.assert_array_equal(reordered, v)
    assert _in_order(v, w, w) is v
