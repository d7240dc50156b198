"""numpy.fft on Values: numpy's results and keywords (n, axis/axes, s, norm), and gradients
at the places a transpose is easy to get wrong: padding and truncation, even and odd
lengths, the Hermitian half spectra of rfft/irfft (DC and Nyquist), repeated axes,
second order. (Every entry is also checked on drawn cases by tests/test_op_table.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from autodiff import Value
from autodiff.testing import check_grad

NORMS = [None, "backward", "ortho", "forward"]
rng = np.random.default_rng(7)


def cplx(*shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("n", [None, 3, 4, 7, 8])
def test_complex_transforms_pad_truncate_and_normalise(norm, n):
    z = cplx(2, 5)
    for transform in (np.fft.fft, np.fft.ifft):
        check_grad(lambda z, t=transform: t(z, n=n, axis=0 if n == 3 else -1, norm=norm), z,
                   order=2, modes=("rev", "fwd"))


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("n", [None, 3, 4, 7, 8])
def test_real_transforms_every_length_and_norm(norm, n):
    x = rng.standard_normal((2, 5))
    check_grad(lambda x: np.fft.rfft(x, n=n, norm=norm), x, order=2, modes=("rev", "fwd"))
    check_grad(lambda x: np.fft.ihfft(x, n=n, norm=norm), x, order=2)
    w = cplx(2, 4)
    check_grad(lambda w: np.fft.irfft(w, n=n, norm=norm), w, order=2, modes=("rev", "fwd"))
    check_grad(lambda w: np.fft.hfft(w, n=n, norm=norm), w, order=2)


@pytest.mark.parametrize("n", [6, 7])
def test_irfft_ignores_the_imaginary_part_of_dc_and_nyquist(n):
    w = Value(cplx(4))
    (np.fft.irfft(w, n=n) * rng.standard_normal(n)).sum().backward()
    assert w.grad[0].imag == 0
    if n % 2 == 0:
        assert w.grad[n // 2].imag == 0  # Nyquist
    assert np.all(w.grad[1:n // 2].imag != 0)


def test_parseval_gives_the_gradient_of_a_squared_norm():
    # Σ |fft(z, ortho)|² = Σ |z|², whose gradient (PyTorch's convention) is 2z
    z = Value(cplx(3, 4))
    (abs(np.fft.fft2(z, norm="ortho")) ** 2).sum().backward()
    np.testing.assert_allclose(z.grad, 2 * z.data)
    x = Value(rng.standard_normal(6))
    spectrum = np.fft.rfft(x, norm="ortho")  # the half spectrum: bins 1, 2 stand for two
    weights = np.array([1.0, 2.0, 2.0, 1.0])
    (abs(spectrum) ** 2 * weights).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data)


@pytest.mark.parametrize(("s", "axes"), [(None, None), ((3, 5), (0, 1)), ((2, 2), (1, 0)),
                                          ((4, 6), (0, 0)), ((3, 5, 2), (0, 1, 0))])
def test_n_dimensional_transforms(s, axes):
    z = cplx(3, 4)
    x = rng.standard_normal((3, 4))
    for transform in (np.fft.fftn, np.fft.ifftn):
        np.testing.assert_allclose(transform(Value(z), s=s, axes=axes).data,
                                   transform(z, s=s, axes=axes))
        check_grad(lambda z, t=transform: t(z, s=s, axes=axes, norm="ortho"), z, order=2)
    if axes is None or len(set(axes)) == len(axes):
        np.testing.assert_allclose(np.fft.rfftn(Value(x), s=s, axes=axes).data,
                                   np.fft.rfftn(x, s=s, axes=axes))
        check_grad(lambda x: np.fft.rfftn(x, s=s, axes=axes), x, order=2)
    np.testing.assert_allclose(np.fft.irfftn(Value(z), s=s, axes=axes).data,
                               np.fft.irfftn(z, s=s, axes=axes))
    check_grad(lambda z: np.fft.irfftn(z, s=s, axes=axes, norm="forward"), z, order=2)


def test_two_dimensional_transforms_default_to_the_last_two_axes():
    z, x = cplx(2, 3, 4), rng.standard_normal((2, 3, 4))
    for name, arg in (("fft2", z), ("ifft2", z), ("rfft2", x), ("irfft2", z)):
        transform = getattr(np.fft, name)
        got = transform(Value(arg))
        np.testing.assert_allclose(got.data, transform(arg), err_msg=name)
        check_grad(lambda a, t=transform: t(a, s=(2, 5)), arg)


def test_float32_stays_single_precision():
    x = Value(rng.standard_normal(8).astype(np.float32))
    spectrum = np.fft.rfft(x)
    assert spectrum.dtype == np.complex64
    abs(spectrum).sum().backward()
    assert x.grad.dtype == np.float32


def test_shifts_roll_and_roll_back():
    z = cplx(3, 5)
    v = Value(z)
    shifted = np.fft.fftshift(v)
    np.testing.assert_array_equal(shifted.data, np.fft.fftshift(z))
    np.testing.assert_array_equal(np.fft.ifftshift(shifted).data, z)
    np.testing.assert_array_equal(np.fft.fftshift(v, axes=1).data, np.fft.fftshift(z, axes=1))
    weights = cplx(3, 5)
    np.real(np.fft.fftshift(v, axes=(0,)) * weights).sum().backward()
    np.testing.assert_allclose(v.grad, np.conj(np.fft.ifftshift(weights, axes=(0,))))
    check_grad(lambda z: np.fft.ifftshift(z, axes=-1), z, order=2)


def test_bad_arguments():
    v = Value(rng.standard_normal(4))
    with pytest.raises(TypeError, match="out="):
        np.fft.fft(v, out=np.empty(4, complex))
    with pytest.raises(ValueError, match="norm"):
        np.fft.fft(v, norm="sideways")
    with pytest.raises(ValueError, match="FFT data points"):
        np.fft.rfft(v, n=0)
    with pytest.raises(ValueError, match="different lengths"):
        np.fft.fftn(v, s=(2, 2), axes=(0,))
    with pytest.raises(np.exceptions.AxisError):
        np.fft.fft(v, axis=3)
