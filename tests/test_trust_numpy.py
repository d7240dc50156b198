"""Regressions found by a differential sweep against numpy: each test here failed before its
fix. The sweep called numpy's statistics, contractions, linear algebra and FFT functions on
Values and on plain arrays with hostile arguments (mixed precisions, unsorted axis tuples,
non-finite and empty matrices, non-integer lengths and axes, unusual dtype= requests) and
compared the two, so every test checks the forward result against numpy itself (value,
shape, dtype, or the exception numpy raises) and the gradient against finite differences.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from autodiff import Value
from autodiff.testing import check_grad


def _sum_of_squares(y: Value) -> Value:
    """A real scalar loss of any result (its gradient reaches every input)."""
    return np.sum(y * y) if y.ndim else y * y


# --------------------------------------------------------------------------- average


@pytest.mark.parametrize("axis", [(2, 0, 1), (1, 2, 0), (3, 1, 0, 2)])
def test_average_with_an_unsorted_axis_tuple_pairs_each_weight_axis_with_its_axis(axis):
    """The weights were transposed by the inverse of numpy's permutation, the same for two
    axes but not for a cyclic order of three: np.average(a, axis=(2, 0, 1), weights=w) gave
    -0.158 where numpy gives -0.198."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 4, 5)[:max(axis) + 1])
    w = rng.random(tuple(a.shape[i] for i in axis)) + 0.1
    np.testing.assert_allclose(np.average(Value(a), axis=axis, weights=w).data,
                               np.average(a, axis=axis, weights=w), rtol=1e-13)
    check_grad(lambda a, w: np.average(a, axis=axis, weights=w), a, w)


@pytest.mark.parametrize("axis", [[0, 1], [1], [2, 0]])
@pytest.mark.parametrize("weights", [None, "like a", "along axis"])
def test_average_accepts_an_axis_list_as_numpy(axis, weights):
    """numpy's average normalizes axis to a tuple first, so a list works; on Values it
    reached mean with the list and raised "average: mean: 'list' object cannot be
    interpreted as an integer"."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 3, 4))
    w = {None: None, "like a": rng.random(a.shape) + 0.1,
         "along axis": rng.random(tuple(a.shape[i] for i in axis)) + 0.1}[weights]
    np.testing.assert_allclose(np.average(Value(a), axis=axis, weights=w).data,
                               np.average(a, axis=axis, weights=w), rtol=1e-13)
    check_grad(lambda a: np.average(a, axis=axis, weights=w), a)


@pytest.mark.parametrize("shape, axis, w_shape", [
    ((3,), None, (3,)),
    ((2, 3), None, (2, 3)),
    ((2, 3), 0, (2, 3)),
    ((2, 3, 4), 1, (3,)),
])
@pytest.mark.parametrize("values", ["both", "data", "weights"])
def test_weighted_average_of_float64_data_with_float32_weights_is_float64_as_numpy(
        shape, axis, w_shape, values):
    """A 0-d float64 intermediate is a Python float, which float32 weights pulled down to
    float32 (numpy's weak-scalar rule): np.average([1 + 1e-9, 2, 3], weights=float32
    [1, 1, 2]) gave float32 2.25 where numpy gives float64 2.25000000025; the weights'
    sum was also accumulated in float32."""
    rng = np.random.default_rng(2)
    a = rng.standard_normal(shape)
    w = (rng.random(w_shape) + 0.1).astype(np.float32)
    a_in = Value(a) if values in ("both", "data") else a
    w_in = Value(w) if values in ("both", "weights") else w
    avg, scale = np.average(a_in, axis=axis, weights=w_in, returned=True)
    expected_avg, expected_scale = np.average(a, axis=axis, weights=w, returned=True)
    for got, expected in ((avg, expected_avg), (scale, expected_scale)):
        assert got.dtype == np.asarray(expected).dtype == np.float64
        np.testing.assert_allclose(got.data, expected, rtol=1e-13)
    _sum_of_squares(avg).backward()
    for leaf, data in ((a_in, a), (w_in, w)):
        if isinstance(leaf, Value):
            assert leaf.grad.dtype == data.dtype  # each input's gradient in its own dtype
    check_grad(lambda a, w: np.average(a, axis=axis, weights=w), a, w.astype(np.float64))


# --------------------------------------------------------------------------- cross


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")
@pytest.mark.parametrize("function, n", [(np.cross, 3), (np.cross, 2), (np.linalg.cross, 3)])
@pytest.mark.parametrize("dtypes", [(np.float64, np.float32), (np.float32, np.float64)])
@pytest.mark.parametrize("values", ["both", "the float64 one"])
def test_cross_of_float64_and_float32_vectors_is_float64_as_numpy(function, n, dtypes, values):
    """The components of a float64 vector are 0-d, stored as Python floats, which the
    float32 components pulled down to float32: np.cross of a float64 Value and a float32
    array came out float32 (and rounded), where numpy computes in float64."""
    rng = np.random.default_rng(3)
    a, b = (rng.standard_normal(n).astype(dtype) for dtype in dtypes)
    inputs = [Value(x) if values == "both" or x.dtype == np.float64 else x for x in (a, b)]
    result = function(*inputs)
    expected = function(a, b)
    assert result.dtype == expected.dtype == np.float64
    np.testing.assert_allclose(result.data, expected, rtol=1e-13)
    _sum_of_squares(result).backward()
    for leaf, data in zip(inputs, (a, b), strict=True):
        if isinstance(leaf, Value):
            assert leaf.grad.dtype == data.dtype
    check_grad(lambda a, b: function(a, b), a.astype(np.float64), b.astype(np.float64))


# --------------------------------------------------------------------------- matrix_power


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("shape, dtype", [((2, 2), np.float64), ((3, 2, 2), np.float32)])
def test_matrix_power_zero_is_numpys_identity_even_with_inf_or_nan(bad, shape, dtype):
    """matrix_power(A, 0) was A · 0 + I, so an inf or nan in A gave nan in the result (and
    in the gradient) where numpy returns the identity."""
    a = np.ones(shape, dtype=dtype)
    a[..., 0, 1] = bad
    x = Value(a)
    result = np.linalg.matrix_power(x, 0)
    expected = np.linalg.matrix_power(a, 0)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result.data, expected)
    np.sum(result).backward()
    np.testing.assert_array_equal(x.grad, np.zeros(shape, dtype=dtype))


# --------------------------------------------------------------------------- fft lengths

_FFT_1D = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
_FFT_ND = ["fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn"]


def _numpy_length(n):
    return n.data if isinstance(n, Value) else n


@pytest.mark.parametrize("name", _FFT_1D)
@pytest.mark.parametrize("n", [4.7, 4.0, np.float64(4.0), np.array(4.0), Value(3.0), "4"],
                         ids=repr)
def test_a_non_integer_fft_length_raises_type_error_as_numpy_instead_of_truncating(name, n):
    """n went through int(), so np.fft.rfft(x, n=4.7) silently used n = 4 (and n='4'
    parsed the string) where numpy raises TypeError."""
    x = np.arange(8.0)
    with pytest.raises(TypeError):
        getattr(np.fft, name)(x, n=_numpy_length(n))
    with pytest.raises(TypeError, match=rf"^{name}: .*integer"):
        getattr(np.fft, name)(Value(x), n=n)


@pytest.mark.parametrize("call", [
    lambda fft, x: fft.fft(x, n=True),
    lambda fft, x: fft.ifft(x, n=True),
    lambda fft, x: fft.irfft(x, n=True),
    lambda fft, x: fft.hfft(x, n=True),
    lambda fft, x: fft.fftn(x, s=(3, True), axes=(0, 1)),
    lambda fft, x: fft.irfftn(x, s=(3, True), axes=(0, 1)),
    lambda fft, x: fft.rfftn(x, s=(True, 3), axes=(0, 1)),
])
def test_true_as_an_fft_length_raises_where_numpy_refuses_it(call):
    """numpy refuses True as a length where the output has n points (its rfft and ihfft
    take it, writing n//2 + 1 = 1 bin); on Values True was read as n = 1 everywhere."""
    x = np.arange(12.0).reshape(3, 4)
    with pytest.raises(TypeError):
        call(np.fft, x)
    with pytest.raises(TypeError, match="integer"):
        call(np.fft, Value(x))
    assert np.fft.rfft(Value(x), n=True).shape == np.fft.rfft(x, n=True).shape  # (taken)


@pytest.mark.parametrize("name", _FFT_ND)
@pytest.mark.parametrize("s", [(3, 4.0), (3.5, 4), (3, np.float64(4.0)), (3, Value(4.0))],
                         ids=repr)
def test_a_non_integer_entry_of_s_raises_type_error_as_numpy_instead_of_truncating(name, s):
    """Each entry of s went through int(), so s=(3, 4.0) ran as (3, 4) where numpy
    raises TypeError."""
    x = np.arange(24.0).reshape(4, 6)
    with pytest.raises(TypeError):
        getattr(np.fft, name)(x, s=tuple(_numpy_length(n) for n in s), axes=(0, 1))
    with pytest.raises(TypeError, match=rf"^{name}: .*integer"):
        getattr(np.fft, name)(Value(x), s=s, axes=(0, 1))


@pytest.mark.parametrize("name, s, axes", [
    ("fftn", (None, 4), (1, 1)),
    ("ifftn", (None, 4), (1, 1)),
    ("fft2", (None, 4), (1, 1)),
    ("rfftn", (None, 4), (1, 1)),
    ("irfftn", (4, None), (1, 1)),
    ("irfft2", (4, None), (1, 1)),
    ("irfftn", (None, 4, None), (1, 1, 1)),
])
def test_none_in_s_takes_the_length_numpy_has_when_that_step_runs(name, s, axes):
    """None in s took the input's length, but numpy resolves it when its step runs, after
    earlier steps along a repeated axis resized it (the last irfft axis: 2(m − 1) of the
    current m): fftn(x, s=(None, 4), axes=(1, 1)) gave shape (2, 5), numpy's (2, 4)."""
    x = np.linspace(-1.0, 1.0, 10).reshape(2, 5)
    function = getattr(np.fft, name)
    with warnings.catch_warnings():  # (numpy deprecates None in s; it still runs it)
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = function(x, s=s, axes=axes)
    result = function(Value(x), s=s, axes=axes)
    assert result.shape == expected.shape
    np.testing.assert_allclose(result.data, expected, rtol=1e-12, atol=1e-12)
    check_grad(lambda x: function(x, s=s, axes=axes), x)


# --------------------------------------------------------------------------- cumulative axis


@pytest.mark.parametrize("function", [np.cumsum, np.cumprod])
@pytest.mark.parametrize("axis", [1.5, 1.0, np.float64(1.0), True, np.True_, "0"], ids=repr)
def test_a_non_integer_cumulative_axis_raises_type_error_as_numpy(function, axis):
    """The axis went through int(), so np.cumsum(x, axis=1.5) (or True, or '0') ran along
    a truncated axis where numpy raises TypeError."""
    x = np.arange(1.0, 7.0).reshape(2, 3)
    with pytest.raises(TypeError):
        function(x, axis=axis)
    with pytest.raises(TypeError, match=rf"^{function.__name__}: "):
        function(Value(x), axis=axis)


# --------------------------------------------------------------------------- empty norms


@pytest.mark.parametrize("function, shape, kwargs", [
    (np.linalg.norm, (0, 0), {"ord": 2}),
    (np.linalg.norm, (0, 0), {"ord": 1}),
    (np.linalg.norm, (0, 0), {"ord": np.inf}),
    (np.linalg.norm, (3, 0), {"ord": 1}),
    (np.linalg.norm, (0, 3), {"ord": np.inf}),
    (np.linalg.norm, (0, 3), {"ord": 2}),
    (np.linalg.norm, (0,), {"ord": np.inf}),
    (np.linalg.vector_norm, (3, 0), {"ord": np.inf}),
    (np.linalg.vector_norm, (3, 0), {"ord": np.inf, "axis": 1}),
    (np.linalg.vector_norm, (3, 0), {"ord": np.inf, "axis": 1, "keepdims": True}),
    (np.linalg.matrix_norm, (2, 3, 0), {"ord": 1}),
    (np.linalg.matrix_norm, (2, 0, 3), {"ord": 2}),
], ids=lambda p: getattr(p, "__name__", repr(p)))
def test_norms_of_empty_matrices_are_zero_as_numpy(function, shape, kwargs):
    """numpy takes these maxima with initial=0, so an empty matrix or vector has norm 0;
    on Values they raised "linalg.norm: max: ... zero-size array to reduction operation
    maximum which has no identity"."""
    x = Value(np.zeros(shape))
    result = function(x, **kwargs)
    expected = function(np.zeros(shape), **kwargs)
    assert result.shape == np.shape(expected) and result.dtype == expected.dtype
    np.testing.assert_array_equal(result.data, expected)
    np.sum(result).backward()
    np.testing.assert_array_equal(x.grad, np.zeros(shape))


@pytest.mark.parametrize("function, shape, kwargs", [
    (np.linalg.norm, (0, 0), {"ord": -1}),
    (np.linalg.norm, (0, 0), {"ord": -np.inf}),
    (np.linalg.norm, (0, 0), {"ord": -2}),
    (np.linalg.vector_norm, (3, 0), {"ord": -np.inf}),
    (np.linalg.matrix_norm, (2, 3, 0), {"ord": -1}),
], ids=lambda p: getattr(p, "__name__", repr(p)))
def test_norms_of_empty_matrices_raise_numpys_error_where_numpy_has_no_minimum(
        function, shape, kwargs):
    """numpy raises ValueError for these minima over nothing; Values did too, but as
    "linalg.norm: min: incompatible input shapes (1, 0): ...", blaming the shapes."""
    message = "zero-size array to reduction operation minimum which has no identity"
    with pytest.raises(ValueError, match=message):
        function(np.zeros(shape), **kwargs)
    with pytest.raises(ValueError, match=rf"^linalg\.{function.__name__}: {message}$"):
        function(Value(np.zeros(shape)), **kwargs)


# --------------------------------------------------------------------------- eigh, lstsq


@pytest.mark.parametrize("uplo", ["u", "l"])
@pytest.mark.parametrize("function", [np.linalg.eigvalsh, lambda a, UPLO: np.linalg.eigh(
    a, UPLO=UPLO).eigenvalues], ids=["eigvalsh", "eigh"])
def test_eigh_accepts_a_lower_case_uplo_as_numpy(function, uplo):
    """numpy upper-cases UPLO, so 'u' and 'l' work; on Values they raised "UPLO argument
    must be 'L' or 'U'"."""
    a = np.array([[2.0, 1.0], [5.0, 4.0]])  # not symmetric: the triangle read matters
    np.testing.assert_allclose(function(Value(a), UPLO=uplo).data, function(a, UPLO=uplo),
                               rtol=1e-13)
    check_grad(lambda a: function(a, UPLO=uplo), a)


def test_lstsq_returns_the_rank_as_numpys_integer_type():
    """The rank came back as a Python int where numpy returns numpy.int32."""
    a = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]])
    b = np.array([1.0, 0.0, 2.0])
    rank = np.linalg.lstsq(Value(a), Value(b))[2]
    expected = np.linalg.lstsq(a, b)[2]
    assert type(rank) is type(expected) and rank == expected


# --------------------------------------------------------------------------- var, std dtype=


@pytest.mark.parametrize("function", [np.var, np.std])
@pytest.mark.parametrize("x, dtype", [
    (np.array([1.0, 4.0, 2.5]), np.complex128),
    (np.array([1.0, 4.0, 2.5]), np.complex64),
    (np.array([1 + 2j, 3 - 1j, -2 + 0.5j]), np.complex128),
], ids=["real-complex128", "real-complex64", "complex-complex128"])
def test_var_and_std_with_a_complex_dtype_are_complex_as_numpy(function, x, dtype):
    """numpy returns var and std in a complex dtype= (a zero imaginary part); on Values
    they came out real, float64 for float64 input with dtype=complex."""
    result = function(Value(x), dtype=dtype)
    expected = function(x, dtype=dtype)
    assert result.dtype == expected.dtype
    rtol = 1e-6 if expected.dtype == np.complex64 else 1e-13
    np.testing.assert_allclose(result.data, expected, rtol=rtol)
    check_grad(lambda x: function(x, dtype=np.complex128), x)


@pytest.mark.parametrize("function", [np.var, np.std])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_var_and_std_of_complex_input_with_a_real_dtype_are_refused(function, dtype):
    """numpy takes the mean of the real parts only (with a ComplexWarning), giving 5.97 for
    this z where Values gave 4.22 (the variance of the real parts): two different numbers
    and neither the variance, so the combination is refused by name."""
    z = np.array([1 + 2j, 3 - 1j, -2 + 0.5j])
    with pytest.raises(TypeError, match=rf"^{function.__name__}: a real dtype"):
        function(Value(z), dtype=dtype)


def _with_singular_values(*values):
    rng = np.random.default_rng(0)
    u, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    v, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    return u @ np.diag(values) @ v.T


def test_pinv_and_lstsq_refuse_a_gradient_at_a_cutoff_that_truncates():
    """With σ = (2, 1, 0.3) and rcond = 0.2 the cutoff drops 0.3: the constant-rank rule
    gave −0.099 where finite differences give 0.064 (pinv), and 0.087 against 0.0019
    (lstsq), without a word."""
    a = Value(_with_singular_values(2.0, 1.0, 0.3))
    with pytest.raises(ValueError, match=r"pinv: no gradient where the cutoff drops a singular "
                                         r"value that is not zero \(σ = 0\.3"):
        np.linalg.pinv(a, rcond=0.2).sum().backward()
    with pytest.raises(ValueError, match=r"lstsq: no gradient where the cutoff drops"):
        np.linalg.lstsq(a, np.ones(3), rcond=0.2)[0].sum().backward()
    # a cutoff below the smallest singular value, and a cutoff that drops only an exact
    # zero (constant rank), keep their gradients
    check_grad(lambda m: np.linalg.pinv(m, rcond=0.1), a.data)
    check_grad(lambda m: np.linalg.lstsq(m, np.ones(3), rcond=0.1)[0], a.data)
    singular = Value(_with_singular_values(2.0, 1.0, 0.0))
    np.linalg.pinv(singular).sum().backward()
    assert np.all(np.isfinite(singular.grad))


@pytest.mark.parametrize("ord", [0.5, 1.5, 3.0, -1.0, -2.5])
@pytest.mark.parametrize("data", [[0.0, 1.0, -2.0], [0.0, 0.0, 0.0]], ids=["a-zero", "all-zero"])
def test_p_norms_have_pytorchs_zero_gradient_at_zero_entries(data, ord):
    """(Σ|x|ᵖ)^(1/p) through the plain chain rule gave nan at a zero entry for p < 1 and
    everywhere at the zero vector for p > 1; PyTorch (and the subgradient) give 0 there."""
    x = Value(np.array(data))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norm = np.linalg.norm(x, ord=ord)
        norm.backward()
    with np.errstate(all="ignore"):
        assert norm.item() == np.linalg.norm(np.array(data), ord=ord)
    expected = np.zeros(3)
    if data[1] and ord > 0:  # the nonzero entries: sign(x)|x|^(p-1) / ‖x‖^(p-1)
        magnitude = np.abs(np.array(data))
        with np.errstate(all="ignore"):
            expected = np.sign(data) * magnitude ** (ord - 1) / norm.item() ** (ord - 1)
        expected[magnitude == 0] = 0.0
    np.testing.assert_allclose(x.grad, expected, atol=1e-15)
