"""Values look like numbers and arrays: format, abs, round, %, //, divmod, tolist, real,
imag, conj, and numpy's keywords on them.

The arithmetic conveniences call numpy's function on the Value, so the op table decides what
they return (np.floor_divide, say, is listed as a constant function: `x // y` gives plain
numpy). Tests of one whose numpy function (np.mod, np.floor_divide, np.divmod, np.rint,
np.real, np.imag) is in neither table are expected to fail, not skipped, until it is.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
from autodiff import Value
from autodiff.ops.table import BY_NUMPY, CONSTANT_FUNCTIONS


def needs(*functions):
    """xfail (not strict) while one of `functions` is in neither table."""
    missing = [f.__name__ for f in functions
               if f not in BY_NUMPY and f not in CONSTANT_FUNCTIONS]
    return pytest.mark.xfail(bool(missing), strict=False,
                             reason=f"not in the op table yet: {', '.join(missing)}")


# --------------------------------------------------------------------------- format


def test_format_spec_formats_the_number():
    loss = Value(0.123456)
    assert f"{loss:.4f}" == "0.1235"
    assert f"{Value(np.array(2.5, dtype=np.float32)):.2e}" == "2.50e+00"
    assert format(Value(np.array([[3.0]])).sum(), "08.3f") == "0003.000"
    assert f"{Value(np.array(1 + 2j)):.1f}" == "1.0+2.0j"


def test_empty_format_spec_is_str():
    v = Value(np.array([1.0, 2.0]), name="w")
    assert f"{v}" == str(v) == repr(v)
    assert format(v) == str(v)


def test_format_of_an_array_value_says_what_to_do():
    with pytest.raises(TypeError, match=r"shape \(2,\).*item\(\)"):
        f"{Value(np.ones(2)):.3f}"


def test_formatting_a_traced_value_inside_a_transform_is_printing():
    printed = []

    def f(x):
        y = (x * x).sum()
        printed.append(f"{y:.3f}")
        return y

    np.testing.assert_allclose(autodiff.grad(f)(np.array([1.0, 2.0])), [2.0, 4.0])
    assert printed == ["5.000"]


# --------------------------------------------------------------------------- abs, round


def test_abs_is_the_abs_operation():
    x = Value(np.array([-1.5, 2.0]))
    y = abs(x)
    assert isinstance(y, Value)
    np.testing.assert_array_equal(y.data, [1.5, 2.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [-1.0, 1.0])
    assert abs(Value(-3.0)).item() == 3.0


@needs(np.rint)
def test_round_is_a_value_with_zero_gradient():
    x = Value(np.array([0.26, 1.74, -2.49]))
    y = round(x)
    assert isinstance(y, Value)
    np.testing.assert_array_equal(y.data, np.round(x.data))
    (y * x).sum().backward()  # d/dx (round(x)·x) = round(x): round contributes nothing
    np.testing.assert_array_equal(x.grad, np.round(x.data))


@needs(np.rint)
def test_round_with_digits():
    x = Value(np.array([0.256, -1.749]))
    y = round(x, 1)
    assert isinstance(y, Value)
    np.testing.assert_array_equal(y.data, np.round(x.data, 1))
    np.testing.assert_array_equal(round(x, -1).data, np.round(x.data, -1))
    np.testing.assert_array_equal(round(Value(np.array([125.0, 135.0])), -1).data, [120, 140])
    assert round(Value(2.71828), 2).item() == np.round(2.71828, 2)


# --------------------------------------------------------------------------- %, //, divmod


@needs(np.mod)
def test_mod_matches_numpy_and_has_unit_slope():
    x = Value(np.array([2.3, -1.2, 5.6]))
    y = x % 2.0
    assert isinstance(y, Value)
    np.testing.assert_allclose(y.data, np.mod(x.data, 2.0))
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.ones(3))


@needs(np.mod)
def test_reflected_mod():
    x = Value(np.array([1.5, 2.5]))
    y = 7.0 % x
    np.testing.assert_allclose(y.data, np.mod(7.0, x.data))
    np.testing.assert_allclose((np.array([7.0, 8.0]) % x).data, np.mod([7.0, 8.0], x.data))


@needs(np.floor_divide)
def test_floor_divide_matches_numpy_and_is_flat():
    x = Value(np.array([2.3, -1.2, 5.6]))
    y = x // 2.0  # a constant (plain numpy) or a Value with zero gradient: the table says
    np.testing.assert_array_equal(autodiff.value.raw(y), np.floor_divide(x.data, 2.0))
    np.testing.assert_array_equal(autodiff.value.raw(9.0 // x), np.floor_divide(9.0, x.data))
    (y * x).sum().backward()  # d/dx (⌊x/2⌋·x) = ⌊x/2⌋
    np.testing.assert_array_equal(x.grad, np.floor_divide(x.data, 2.0))


@needs(np.divmod)
def test_divmod_is_floor_divide_and_mod():
    x = Value(np.array([7.5, -3.25]))
    raw = autodiff.value.raw
    quotient, remainder = divmod(x, 2.0)
    expected = np.divmod(x.data, 2.0)
    np.testing.assert_array_equal(raw(quotient), expected[0])
    np.testing.assert_array_equal(raw(remainder), expected[1])
    remainder.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, 1.0])
    quotient, remainder = divmod(10.0, x)
    expected = np.divmod(10.0, x.data)
    np.testing.assert_array_equal(raw(quotient), expected[0])
    np.testing.assert_allclose(raw(remainder), expected[1])


# --------------------------------------------------------------------------- tolist


def test_tolist_gives_python_numbers():
    assert Value(1.5).tolist() == 1.5
    nested = Value(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)).tolist()
    assert nested == [[1.0, 2.0], [3.0, 4.0]]
    assert all(type(x) is float for row in nested for x in row)
    assert Value(np.array(2.0)).tolist() == 2.0
    assert Value(np.array([1 + 2j])).tolist() == [1 + 2j]


# --------------------------------------------------------------------------- complex parts


@needs(np.real, np.imag)
def test_real_and_imag_of_a_complex_value():
    z = Value(np.array([1.0 + 2.0j, -3.0 + 0.5j]))
    np.testing.assert_array_equal(z.real.data, [1.0, -3.0])
    np.testing.assert_array_equal(z.imag.data, [2.0, 0.5])
    (z.real * 2 + z.imag * 3).sum().backward()
    np.testing.assert_allclose(z.grad, [2 + 3j, 2 + 3j])  # PyTorch: ∂L/∂x + i ∂L/∂y


@needs(np.real, np.imag)
def test_real_and_imag_of_a_real_value():
    x = Value(np.array([1.0, -2.0]))
    np.testing.assert_array_equal(x.real.data, x.data)
    np.testing.assert_array_equal(x.imag.data, [0.0, 0.0])


def test_conj():
    z = Value(np.array([1.0 + 2.0j]))
    np.testing.assert_array_equal(z.conj().data, [1.0 - 2.0j])
    x = Value(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(x.conj().data, x.data)
    x.conj().sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


# --------------------------------------------------------------------------- numpy keywords


def test_numpy_keywords_out_none_and_dtype_are_accepted():
    x = Value(np.array([0.5, 1.0]))
    np.testing.assert_allclose(np.sin(x, out=None).data, np.sin(x.data))
    assert np.sum(x, out=None).item() == 1.5
    assert np.exp(x, dtype=np.float32).dtype == np.float32


def test_out_array_is_refused_clearly():
    x = Value(np.array([0.5, 1.0]))
    with pytest.raises(TypeError, match="out="):
        np.sin(x, out=np.empty(2))
