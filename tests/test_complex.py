"""Complex Values: real, imag, conj, angle (numpy's results, PyTorch's gradients), the
complex-type questions (constants), check_grad on complex arguments and outputs, and the
paths between real and complex numbers cross-checked against PyTorch, down to the descent
step `z -= lr * z.grad`."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

import autodiff
from autodiff import Value
from autodiff.testing import check_grad

try:
    import torch
except ImportError:  # pragma: no cover - CI installs torch
    torch = None

requires_torch = pytest.mark.skipif(
    torch is None and not os.environ.get("CI"),
    reason="torch is not installed (pip install -e '.[bench]'); CI runs these",
)

rng = np.random.default_rng(3)


def cplx(*shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


Z = np.array([1 + 2j, -1 + 0.5j, -0.5 - 2j, 2 - 0.25j])


# --------------------------------------------------------------------------- values


def test_the_functions_give_numpys_results():
    v = Value(Z)
    for function in (np.real, np.imag, np.conj, np.conjugate, np.angle):
        got = function(v)
        assert isinstance(got, Value)
        np.testing.assert_array_equal(got.data, function(Z))
    np.testing.assert_allclose(np.angle(v, deg=True).data, np.angle(Z, deg=True))
    np.testing.assert_array_equal(v.conj().data, np.conj(Z))
    np.testing.assert_array_equal(v.conjugate().data, np.conj(Z))


def test_on_real_data_they_are_numpys_too():
    x = Value(np.array([1.5, -2.0]))
    np.testing.assert_array_equal(np.real(x).data, [1.5, -2.0])
    np.testing.assert_array_equal(np.imag(x).data, [0.0, 0.0])
    np.testing.assert_array_equal(np.conj(x).data, [1.5, -2.0])
    np.testing.assert_array_equal(np.angle(x).data, [0.0, np.pi])
    (np.real(x) + np.imag(x) + np.conj(x) + np.angle(x)).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])  # real, conj: 1; imag, angle: 0


def test_complex_type_questions_are_constants():
    v, x = Value(Z), Value(np.array([1.0, 2.0]))
    assert np.iscomplexobj(v) and not np.isrealobj(v)
    assert np.isrealobj(x) and not np.iscomplexobj(x)
    np.testing.assert_array_equal(np.iscomplex(v), [True] * 4)
    np.testing.assert_array_equal(np.isreal(x), [True, True])
    assert not isinstance(np.iscomplex(v), Value)


def test_conj_refuses_out():
    with pytest.raises(TypeError, match="out="):
        np.conj(Value(Z), out=np.empty(4, complex))


# --------------------------------------------------------------------------- gradients


def test_gradients_in_pytorchs_convention():
    z = Value(Z)
    a, b = rng.standard_normal(4), rng.standard_normal(4)
    (np.real(z) * a + np.imag(z) * b).sum().backward()
    np.testing.assert_allclose(z.grad, a + 1j * b)  # ∂L/∂x + i ∂L/∂y
    z = Value(Z)
    np.angle(z).sum().backward()  # ∂θ/∂x + i ∂θ/∂y = (−y + ix)/|z|² = iz/|z|²
    np.testing.assert_allclose(z.grad, 1j * Z / abs(Z) ** 2)
    z = Value(Z)
    np.real(np.conj(z) * (2 + 1j)).sum().backward()  # Re(z̄ w) = x·Re w + y·Im w
    np.testing.assert_allclose(z.grad, np.full(4, 2 + 1j))


def test_angle_at_zero_has_a_zero_gradient():
    z = Value(np.array([0j, 1 + 1j]))
    np.angle(z, deg=True).sum().backward()
    np.testing.assert_allclose(z.grad, [0, 1j * (1 + 1j) / 2 * 180 / np.pi])


@pytest.mark.parametrize("function", [np.real, np.imag, np.conj,
                                      lambda z: np.angle(z, deg=True),
                                      lambda z: abs(z) * z, lambda z: np.exp(z) / (z * z)])
def test_check_grad_on_complex_functions(function):
    check_grad(function, Z, order=2, modes=("rev", "fwd"))
    check_grad(lambda z, w: function(z * w), Z, cplx(4), order=2, modes=("rev", "fwd"))


def test_check_grad_real_to_complex_and_back():
    x = rng.standard_normal(5)
    check_grad(lambda x: x * (1 - 2j), x, order=2, modes=("rev", "fwd"))
    check_grad(lambda x, z: abs(x * z).sum(), x, cplx(5), order=2, modes=("rev", "fwd"))
    check_grad(lambda z: np.angle(z) * np.real(z), np.array([0.5 - 1.5j]), order=2,
               modes=("rev", "fwd"))
    check_grad(lambda z: np.exp(z), 0.5 - 1.5j, order=2, modes=("rev", "fwd"))  # a number


def test_check_grad_catches_a_missing_conjugate():
    bad = autodiff.primitive(lambda z: np.abs(z), name="bad_abs")
    bad.defvjp(lambda g, out, z: g * z / out)  # should be g · z̄ / |z|
    with pytest.raises(AssertionError, match=r"argument 0.*\n.*complex128"):
        check_grad(bad, Z)


def test_check_grad_catches_a_wrong_imaginary_part_of_the_output():
    bad = autodiff.primitive(lambda x: x * (1 + 1j), name="bad_rotate")
    bad.defvjp(lambda g, out, x: g * (1 - 1j))  # should be g · (1 + i)
    with pytest.raises(AssertionError, match="reverse-mode gradient"):
        check_grad(bad, rng.standard_normal(3))


def test_zero_dimensional_complex_gradients_reached_twice():
    z = Value(np.array(1 + 2j))
    abs(z * z).backward()  # |z|², whose gradient is 2z
    np.testing.assert_allclose(z.grad, 2 + 4j)


def test_jvp_with_complex_primals():
    t = cplx(4)
    _, tangent = autodiff.jvp(lambda z: z * z, [Z], [t])
    np.testing.assert_allclose(tangent, 2 * Z * t)


# --------------------------------------------------------------------------- against PyTorch


@requires_torch
def test_real_to_complex_paths_match_pytorch():
    x0 = rng.standard_normal(6)
    w = cplx(4)
    x = Value(x0)
    spectrum = np.fft.rfft(x)
    rotated = x * 1j
    loss = abs(spectrum * w).sum() + np.real(rotated * rotated.conj() * 0.5j + rotated).sum()
    loss.backward()
    tx = torch.tensor(x0, requires_grad=True)
    tspec = torch.fft.rfft(tx)
    trot = tx * 1j
    tloss = (tspec * torch.tensor(w)).abs().sum() + torch.real(
        trot * trot.conj() * 0.5j + trot).sum()
    tloss.backward()
    np.testing.assert_allclose(float(loss), tloss.item())
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@requires_torch
def test_complex_to_real_paths_match_pytorch():
    z0 = cplx(2, 3)
    z = Value(z0)
    loss = (abs(z) ** 2 * np.real(z) + np.angle(z) * np.imag(z)).sum() + np.real(
        np.fft.ifft2(z) * np.conj(z)).sum()
    loss.backward()
    tz = torch.tensor(z0, requires_grad=True)
    tloss = (tz.abs() ** 2 * tz.real + tz.angle() * tz.imag).sum() + torch.real(
        torch.fft.ifft2(tz) * tz.conj()).sum()
    tloss.backward()
    np.testing.assert_allclose(float(loss), tloss.item())
    np.testing.assert_allclose(z.grad, tz.grad.resolve_conj().numpy(), rtol=1e-12, atol=1e-12)


@requires_torch
def test_descent_on_complex_parameters_decreases_a_real_loss_as_in_pytorch():
    # Its own generator: drawn from the module's, the points depended on which tests ran
    # before in the same worker, and a quarter of draws walk across angle's branch cut,
    # where the loss jumps up (the test failed now and then under pytest -n).
    own = np.random.default_rng(0)
    target = own.standard_normal(5) + 1j * own.standard_normal(5)
    z0 = own.standard_normal(5) + 1j * own.standard_normal(5)

    def loss_of(z, lib):
        if lib == "torch":
            return ((z - torch.tensor(target)).abs() ** 2).sum() + torch.angle(z).sum() * 0.1
        return (abs(z - target) ** 2).sum() + np.angle(z).sum() * 0.1

    z, tz = Value(z0.copy()), torch.tensor(z0.copy(), requires_grad=True)
    losses = []
    for _ in range(20):
        z.grad = None
        loss = loss_of(z, "autodiff")
        loss.backward()
        tloss = loss_of(tz, "torch")
        tz.grad = None
        tloss.backward()
        np.testing.assert_allclose(z.grad, tz.grad.numpy(), rtol=1e-10, atol=1e-12)
        losses.append(float(loss))
        with autodiff.no_grad():
            z -= 0.1 * z.grad
        with torch.no_grad():
            tz -= 0.1 * tz.grad
    assert all(b < a for a, b in itertools.pairwise(losses))
    np.testing.assert_allclose(z.data, tz.detach().numpy(), rtol=1e-10)


def test_complex_data_made_by_an_operation_from_real_data_is_conjugated_in_grad():
    # A real Value times a complex constant: the first complex data of the session appears
    # as an operation's result. Its .grad follows PyTorch's convention all the same:
    # L = Re(Σ z·c) gives z.grad = conj(c).
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from autodiff import Value\n"
        "x = Value(np.array([1.0, 2.0]))\n"
        "z = x * np.array([1j, 2j])\n"
        "c = np.array([1 + 1j, 3 - 1j])\n"
        "(z * c).real.sum().backward()\n"
        "assert np.allclose(z.grad, np.conj(c)), z.grad\n"
        "assert np.allclose(x.grad, (np.array([1j, 2j]) * c).real), x.grad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
