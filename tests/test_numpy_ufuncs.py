"""numpy's ufuncs on Values (autodiff/ops/ufuncs.py): dispatch, constants, divmod, zero
derivatives, nan-ignoring max/min, complex derivatives, the float fast path, and the ufunc
methods (reduce, accumulate, outer) and keywords the dispatch supports or refuses."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff
from autodiff import Value
from autodiff.ops import ufuncs
from autodiff.ops.table import BY_NUMPY, CONSTANT_FUNCTIONS, TABLE
from autodiff.testing import check_grad

X = np.array([[0.3, -0.7, 0.5], [0.1, 0.8, -0.2]])
POSITIVE = np.array([[1.3, 2.7, 1.5], [1.1, 2.8, 1.2]])

UNARY = [
    (np.tan, X), (np.arcsin, X), (np.arccos, X), (np.arctan, X), (np.sinh, X), (np.cosh, X),
    (np.arcsinh, X), (np.arccosh, POSITIVE), (np.arctanh, X), (np.exp2, X), (np.expm1, X),
    (np.log2, POSITIVE), (np.log10, POSITIVE), (np.log1p, X), (np.square, X),
    (np.reciprocal, X), (np.cbrt, X), (np.positive, X), (np.fabs, X), (np.sign, X),
    (np.floor, X), (np.ceil, X), (np.trunc, X), (np.rint, X), (np.deg2rad, X),
    (np.rad2deg, X), (np.degrees, X), (np.radians, X),
]
BINARY = [np.hypot, np.arctan2, np.logaddexp, np.logaddexp2, np.mod, np.remainder, np.fmod,
          np.fmax, np.fmin, np.float_power, np.copysign]


@pytest.mark.parametrize(("ufunc", "x"), UNARY, ids=[u.__name__ for u, _ in UNARY])
def test_unary_ufuncs_dispatch_to_values(ufunc, x):
    v = Value(x)
    out = ufunc(v)
    assert isinstance(out, Value)
    assert out.requires_grad
    np.testing.assert_allclose(out.data, ufunc(x), rtol=1e-12)
    out.sum().backward()
    assert v.grad.shape == x.shape


@pytest.mark.parametrize("ufunc", BINARY, ids=[u.__name__ for u in BINARY])
def test_binary_ufuncs_dispatch_with_broadcasting(ufunc):
    x, y = Value(POSITIVE), Value(np.array([0.6, -1.3, 1.7]))
    out = ufunc(x, y)
    assert isinstance(out, Value)
    np.testing.assert_allclose(out.data, ufunc(POSITIVE, y.data), rtol=1e-12)
    out.sum().backward()
    assert x.grad.shape == (2, 3) and y.grad.shape == (3,)
    check_grad(lambda a, b: ufunc(a, b), POSITIVE, y.data, order=2)


def test_mod_is_remainder_and_percent_operator():
    assert np.mod is np.remainder
    v = Value(np.array([2.5, -1.25, 3.75]))
    out = v % 2.0
    assert isinstance(out, Value)
    np.testing.assert_array_equal(out.data, np.remainder(v.data, 2.0))
    check_grad(lambda a, b: a % b, v.data, np.array([2.0, 0.75, -1.5]), order=2)


# --------------------------------------------------------------------------- constants


def test_comparisons_return_numpy_booleans_and_record_nothing():
    v = Value(np.array([0.5, 1.0, 1.5]))
    for ufunc in (np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal):
        out = ufunc(v, 1)
        assert type(out) is np.ndarray and out.dtype == bool
        np.testing.assert_array_equal(out, ufunc(v.data, 1))
    np.testing.assert_array_equal(np.less(v, 1), [True, False, False])
    assert v.grad is None


def test_tests_and_logical_ufuncs_are_constants():
    data = np.array([0.0, -1.5, np.inf, np.nan])
    v = Value(data)
    for ufunc in (np.isfinite, np.isnan, np.isinf, np.signbit, np.logical_not):
        out = ufunc(v)
        assert type(out) is np.ndarray and out.dtype == bool
        np.testing.assert_array_equal(out, ufunc(data))
    for ufunc in (np.logical_and, np.logical_or, np.logical_xor):
        np.testing.assert_array_equal(ufunc(v, Value(data[::-1].copy())), ufunc(data, data[::-1]))
    assert np.spacing in CONSTANT_FUNCTIONS
    np.testing.assert_array_equal(np.spacing(Value(np.array([1.0, 2.0]))),
                                  np.spacing(np.array([1.0, 2.0])))


def test_floor_divide_is_a_constant():
    v = Value(np.array([2.5, -1.25, 3.75]))
    out = np.floor_divide(v, 2.0)
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, [1.0, -1.0, 1.0])
    assert np.floor_divide not in BY_NUMPY


@pytest.mark.parametrize("ufunc", [np.nextafter, np.ldexp, np.frexp, np.modf],
                         ids=lambda u: u.__name__)
def test_ufuncs_without_rules_raise_naming_them(ufunc):
    v = Value(np.array([1.5, 2.5]))
    args = {1: (v,), 2: (v, np.array([1, 2]) if ufunc is np.ldexp else 1.0)}[ufunc.nin]
    with pytest.raises(NotImplementedError, match=f"np.{ufunc.__name__}"):
        ufunc(*args)


# --------------------------------------------------------------------------- divmod


@pytest.mark.parametrize("divmod_function", [divmod, np.divmod], ids=["builtin", "np.divmod"])
def test_divmod_gives_a_constant_quotient_and_a_differentiable_remainder(divmod_function):
    data = np.array([2.5, -1.25, 3.75])
    v = Value(data)
    quotient, rest = divmod_function(v, 2.0)
    assert type(quotient) is np.ndarray and not isinstance(quotient, Value)
    assert isinstance(rest, Value)
    expected_q, expected_r = np.divmod(data, 2.0)
    np.testing.assert_array_equal(quotient, expected_q)
    np.testing.assert_array_equal(rest.data, expected_r)
    rest.sum().backward()
    np.testing.assert_array_equal(v.grad, np.ones(3))


def test_divmod_gradients_in_both_arguments():
    x, y = np.array([2.5, -1.25, 3.75]), np.array([2.0, 0.75, -1.5])
    check_grad(lambda a, b: np.divmod(a, b)[1], x, y, order=2)
    yv = Value(y)
    np.divmod(x, yv)[1].sum().backward()
    np.testing.assert_array_equal(yv.grad, -np.floor_divide(x, y))


def test_divmod_of_python_floats():
    quotient, rest = divmod(Value(7.5), 2.0)
    assert quotient == 3.0 and isinstance(rest, Value) and rest.item() == 1.5
    assert autodiff.grad(lambda y: divmod(7.5, y)[1])(2.0) == -3.0


def test_fmod_follows_the_sign_of_x_with_trunc_in_the_gradient():
    x, y = Value(np.array([-2.5, 2.5])), Value(np.array([2.0, -2.0]))
    out = np.fmod(x, y)
    np.testing.assert_array_equal(out.data, [-0.5, 0.5])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])
    np.testing.assert_array_equal(y.grad, [1.0, 1.0])  # −trunc(x/y) = −(−1)


# --------------------------------------------------------------------------- kinks


@pytest.mark.parametrize("ufunc", [np.floor, np.ceil, np.trunc, np.rint, np.sign],
                         ids=lambda u: u.__name__)
def test_rounding_has_zero_gradient_and_stays_in_the_graph(ufunc):
    v = Value(np.array([0.3, -1.7, 2.5]))
    out = ufunc(v)
    assert isinstance(out, Value) and out.op == ufunc.__name__ and out.inputs == (v,)
    out.sum().backward()
    np.testing.assert_array_equal(v.grad, np.zeros(3))  # zeros, not None (as PyTorch)
    w = Value(np.array([0.3, -1.7, 2.5]))
    (ufunc(w) + w).sum().backward()
    np.testing.assert_array_equal(w.grad, np.ones(3))
    assert autodiff.grad(lambda x: ufunc(x))(1.25) == 0.0


def test_fabs_derivative_is_the_sign_with_zero_at_zero():
    v = Value(np.array([-2.0, 0.0, 3.0]))
    np.fabs(v).sum().backward()
    np.testing.assert_array_equal(v.grad, [-1.0, 0.0, 1.0])


def test_copysign_gradient_is_the_sign_flip_and_zero_for_the_sign_source():
    x, y = Value(np.array([-2.0, 0.0, 3.0, 1.0])), Value(np.array([1.0, -1.0, -2.0, -0.0]))
    out = np.copysign(x, y)
    np.testing.assert_array_equal(out.data, [2.0, -0.0, -3.0, -1.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [-1.0, 0.0, -1.0, -1.0])
    np.testing.assert_array_equal(y.grad, np.zeros(4))


def test_hypot_and_arctan2_gradients_at_the_origin_are_zero():
    x, y = Value(np.array([0.0, 3.0])), Value(np.array([0.0, 4.0]))
    np.hypot(x, y).sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.6])
    np.testing.assert_allclose(y.grad, [0.0, 0.8])
    x, y = Value(np.array([0.0, 1.0])), Value(np.array([0.0, 1.0]))
    np.arctan2(y, x).sum().backward()
    np.testing.assert_allclose(y.grad, [0.0, 0.5])
    np.testing.assert_allclose(x.grad, [0.0, -0.5])


def test_arctan2_and_hypot_do_not_overflow():
    big = 1e200
    x, y = Value(np.array([big])), Value(np.array([big]))
    np.arctan2(y, x).sum().backward()
    np.testing.assert_allclose(y.grad, [0.5 / big], rtol=1e-12)
    np.testing.assert_allclose(x.grad, [-0.5 / big], rtol=1e-12)


def test_logaddexp_is_stable_for_large_inputs():
    x, y = Value(np.array([1000.0, 1000.0, -1000.0])), Value(np.array([1000.0, 0.0, -1000.0]))
    out = np.logaddexp(x, y)
    np.testing.assert_allclose(out.data, [1000.0 + math.log(2.0), 1000.0, -1000.0 + math.log(2)])
    out.sum().backward()
    np.testing.assert_allclose(x.grad, [0.5, 1.0, 0.5])
    np.testing.assert_allclose(y.grad, [0.5, 0.0, 0.5])
    x, y = Value(np.array([1000.0])), Value(np.array([999.0]))
    np.logaddexp2(x, y).sum().backward()
    np.testing.assert_allclose(x.grad, [2 / 3])
    np.testing.assert_allclose(y.grad, [1 / 3])


@pytest.mark.parametrize("ufunc", [np.fmax, np.fmin], ids=lambda u: u.__name__)
def test_fmax_fmin_ignore_nan_and_split_ties(ufunc):
    x = Value(np.array([1.0, np.nan, 2.0, np.nan, 3.0]))
    y = Value(np.array([np.nan, 1.0, 2.0, np.nan, 0.0]))
    out = ufunc(x, y)
    np.testing.assert_array_equal(out.data, ufunc(x.data, y.data))
    out.sum().backward()
    wins = 1.0 if ufunc is np.fmax else 0.0
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 0.5, 1.0, wins])
    np.testing.assert_array_equal(y.grad, [0.0, 1.0, 0.5, 0.0, 1.0 - wins])


# --------------------------------------------------------------------------- complex

COMPLEX = [np.tan, np.arcsin, np.arccos, np.arctan, np.sinh, np.cosh, np.arcsinh, np.arccosh,
           np.arctanh, np.exp2, np.expm1, np.log2, np.log10, np.log1p, np.square, np.reciprocal,
           np.positive]


@pytest.mark.parametrize("ufunc", COMPLEX, ids=lambda u: u.__name__)
def test_complex_gradients_of_holomorphic_ufuncs(ufunc):
    """For holomorphic f, z.grad = ḡ·f'(z) conjugated: g · conj(f'(z)) (PyTorch's
    convention), with f'(z) from a complex central difference along the real axis."""
    z = np.array([0.4 + 0.3j, -0.5 - 0.2j, 0.1 + 0.4j])
    if ufunc is np.arccosh:
        z = z + 1.6
    if ufunc in (np.log2, np.log10):
        z = z + 1.0
    assert TABLE[BY_NUMPY[ufunc].name].dtypes[-1] == "complex128"
    h = 1e-6
    derivative = (ufunc(z + h) - ufunc(z - h)) / (2 * h)
    v = Value(z)
    g = np.array([1.0 - 0.5j, 0.3 + 2.0j, -1.0 + 0.0j])
    ufunc(v).backward(g)
    np.testing.assert_allclose(v.grad, g * np.conj(derivative), rtol=1e-6)


def test_float_power_computes_in_double_precision():
    x = Value(np.array([1.5, 2.5], dtype=np.float32))
    out = np.float_power(x, 2)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.data, np.float_power(x.data, 2))
    out.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, [3.0, 5.0])
    z = Value(np.array([1.0 + 1.0j], dtype=np.complex64))
    assert np.float_power(z, 2.0).dtype == np.complex128


# --------------------------------------------------------------------------- float fast path


@pytest.mark.parametrize(("function", "args"), [
    (ufuncs.arcsin, (2.0,)), (ufuncs.arccosh, (0.5,)), (ufuncs.arctanh, (1.0,)),
    (ufuncs.log1p, (-1.0,)), (ufuncs.log1p, (-2.0,)), (ufuncs.log2, (0.0,)),
    (ufuncs.cosh, (1000.0,)), (ufuncs.exp2, (2000.0,)), (ufuncs.expm1, (800.0,)),
    (ufuncs.reciprocal, (0.0,)), (ufuncs.remainder, (1.0, 0.0)), (ufuncs.fmod, (1.0, 0.0)),
    (ufuncs.remainder, (-7.5, 2.0)), (ufuncs.remainder, (7.5, -2)), (ufuncs.fmod, (-7.5, 2.0)),
    (ufuncs.logaddexp, (math.inf, math.inf)), (ufuncs.logaddexp, (-math.inf, 3.0)),
    (ufuncs.logaddexp2, (math.inf, 1.0)), (ufuncs.logaddexp, (2.0, 5.0)),
    (ufuncs.logaddexp2, (2.0, -5.0)), (ufuncs.hypot, (3.0, 4.0)), (ufuncs.arctan2, (1.0, -1.0)),
    (ufuncs.cbrt, (-8.0,)), (ufuncs.tan, (0.5,)), (ufuncs.floor, (-0.5,)),
    (ufuncs.ceil, (-0.5,)), (ufuncs.rint, (2.5,)), (ufuncs.sign, (-0.0,)),
    (ufuncs.copysign, (2.0, -0.0)),
], ids=lambda a: getattr(a, "name", repr(a)))
def test_python_float_path_matches_numpy(function, args):
    with np.errstate(all="ignore"):
        expected = getattr(np, function.name)(*(np.float64(a) for a in args))
        got = function(*args)
        value = function(*(Value(a) if isinstance(a, float) else a for a in args))
    assert type(got) is float
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    np.testing.assert_allclose(value.data, expected, rtol=1e-15)
    if expected == 0:
        assert math.copysign(1.0, got) == math.copysign(1.0, expected)


# --------------------------------------------------------------------------- ufunc methods


def test_out_keyword_is_refused():
    v = Value(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="out="):
        np.add(v, 1, out=np.empty(2))
    with pytest.raises(TypeError, match="out="):
        np.hypot(v, 1.0, out=np.empty(2))


def test_dtype_keyword_casts_the_result():
    v = Value(np.array([0.25, 0.5]))
    out = np.arctan2(v, 1.0, dtype=np.float32)
    assert out.dtype == np.float32
    out.sum().backward()
    assert v.grad.dtype == np.float64


def test_add_reduce_is_sum():
    data = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    v = Value(data)
    out = np.add.reduce(v)
    assert isinstance(out, Value)
    np.testing.assert_array_equal(out.data, np.add.reduce(data))
    out.sum().backward()
    np.testing.assert_array_equal(v.grad, np.ones((2, 3)))
    np.testing.assert_array_equal(np.add.reduce(Value(data), axis=1).data, [6.0, 15.0])


def test_add_accumulate_is_cumsum():
    if "cumsum" not in TABLE:
        pytest.skip("cumsum is not declared in the op table yet")
    data = np.array([1.0, 2.0, 3.0])
    v = Value(data)
    out = np.add.accumulate(v)
    assert isinstance(out, Value)
    np.testing.assert_array_equal(out.data, np.cumsum(data))
    out.sum().backward()
    np.testing.assert_array_equal(v.grad, [3.0, 2.0, 1.0])


def test_multiply_outer():
    u, v = Value(np.array([1.0, 2.0])), Value(np.array([3.0, 4.0, 5.0]))
    out = np.multiply.outer(u, v)
    assert isinstance(out, Value) and out.shape == (2, 3)
    np.testing.assert_array_equal(out.data, np.multiply.outer(u.data, v.data))
    out.sum().backward()
    np.testing.assert_array_equal(u.grad, [12.0, 12.0])
    np.testing.assert_array_equal(v.grad, [3.0, 3.0, 3.0])
    hyp = np.hypot.outer(u, v)
    np.testing.assert_allclose(hyp.data, np.hypot.outer(u.data, v.data))


def test_constant_ufunc_methods_compute_on_the_data():
    v = Value(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(np.less.outer(v, v), np.less.outer(v.data, v.data))
    np.testing.assert_array_equal(np.logical_or.reduce(Value(np.array([0.0, 1.0]))), True)
