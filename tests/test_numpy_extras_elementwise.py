"""np.sinc, np.heaviside and np.nan_to_num (autodiff/ops/ufuncs.py), np.meshgrid and the
np.unique family (autodiff/ops/arrays.py) on Values: numpy's values, dtypes and return
structure, gradients against finite differences (to second order; sinc at and near 0),
the conventions where the derivative is a choice (heaviside's step, nan_to_num's
non-finite elements, unique's first occurrences), and the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff
from autodiff import Value
from autodiff.ops.table import TABLE
from autodiff.testing import check_grad

RNG = np.random.default_rng(7)
PI = math.pi


def _same(got, expected):
    """got (a Value or numpy data) equals numpy's `expected`: values (nan where nan), shape
    and dtype."""
    data = np.asarray(got.data if isinstance(got, Value) else got)
    expected = np.asarray(expected)
    assert data.shape == expected.shape, (data.shape, expected.shape)
    assert data.dtype == expected.dtype, (data.dtype, expected.dtype)
    np.testing.assert_array_equal(data, expected)


# --------------------------------------------------------------------------- sinc

SINC_POINTS = np.array([0.0, 1e-300, 1e-12, 1e-7, -3e-4, 0.01, 0.2, 0.3183, 1 / PI, 0.3184,
                        0.5, 1.0, -1.7, 2.25, 12.5])


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_sinc_values_and_dtypes_are_numpys(dtype):
    x = SINC_POINTS.astype(dtype)
    if dtype is np.complex128:
        x = x + 0.3j * x[::-1]
    out = np.sinc(Value(x))
    assert isinstance(out, Value) and out.requires_grad
    _same(out, np.sinc(x))
    _same(np.sinc(Value(x.reshape(3, 5))), np.sinc(x.reshape(3, 5)))


def test_sinc_of_scalars_and_non_finite_values():
    assert np.sinc(Value(0.0)).item() == 1.0
    assert np.sinc(Value(0.5)).item() == np.sinc(0.5)
    _same(np.sinc(Value(np.array(0.0, dtype=np.float32))), np.sinc(np.float32(0.0)))
    x = np.array([np.inf, -np.inf, np.nan])
    with np.errstate(invalid="ignore"):
        _same(np.sinc(Value(x)), np.sinc(x))


@pytest.mark.parametrize("x0", [0.0, 1e-9, -1e-6, 1e-3, 0.05, -0.2, 0.3183, 1 / PI, 0.32, 0.45,
                                1.0, -1.3, 2.5, 7.25])
def test_sinc_gradients_match_finite_differences_at_and_near_zero(x0):
    check_grad(np.sinc, np.array([x0]), order=2, modes=("rev", "fwd"))
    check_grad(np.sinc, x0, order=2)  # a Python float: the scalar path


def test_sinc_gradients_on_arrays_and_complex_points():
    check_grad(np.sinc, SINC_POINTS.reshape(3, 5), order=2, modes=("rev", "fwd"))
    z = np.array([0.0 + 0.0j, 1e-6 - 2e-6j, 0.1 + 0.2j, -0.25 + 0.05j, 0.7 - 0.4j, 2.0 + 1.0j])
    check_grad(np.sinc, z, order=2)
    check_grad(np.sinc, SINC_POINTS.astype(np.float32), order=2)


def _sinc_derivatives_by_series(x, order):
    """dⁿ/dxⁿ sinc at small x from sinc(x) = Σ (−1)ᵏ (πx)²ᵏ / (2k+1)!, term by term."""
    total = 0.0
    for k in range(30):
        power = 2 * k
        if power < order:
            continue
        coefficient = (-1) ** k * PI ** power / math.factorial(power + 1)
        total += coefficient * math.perm(power, order) * x ** (power - order)
    return total


@pytest.mark.parametrize("x0", [0.0, 1e-12, 3e-9, -2e-6, 1e-4, -0.01, 0.1, 0.3, 0.33, 0.6])
def test_sinc_first_and_second_derivatives_are_exact_near_zero(x0):
    """The closed form (cos πx − sinc x)/x cancels near 0 (at 1e-7 it has no correct digit
    left in its second derivative); autodiff's must agree with the series to rounding."""
    first = autodiff.grad(np.sinc)(x0)
    second = autodiff.grad(autodiff.grad(np.sinc))(x0)
    for got, order in ((first, 1), (second, 2)):
        expected = _sinc_derivatives_by_series(x0, order)
        assert math.isfinite(got)
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-300), (order, got, expected)


def test_sinc_derivatives_at_zero_to_fourth_order():
    d = np.sinc
    values = []
    for _ in range(4):
        d = autodiff.grad(d)
        values.append(d(0.0))
    assert values[0] == 0.0 and values[2] == 0.0
    assert values[1] == pytest.approx(-PI ** 2 / 3, rel=1e-14)
    assert values[3] == pytest.approx(PI ** 4 / 5, rel=1e-14)


def test_sinc_gradient_matches_the_closed_form_away_from_zero():
    x = np.array([0.4, -0.9, 1.5, 3.3, -8.1])
    v = Value(x)
    np.sinc(v).sum().backward()
    np.testing.assert_allclose(v.grad, (np.cos(PI * x) - np.sinc(x)) / x, rtol=1e-13)
    assert Value(x.astype(np.float32)).dtype == np.float32
    w = Value(x.astype(np.float32))
    np.sinc(w).sum().backward()
    assert w.grad.dtype == np.float32


def test_sinc_complex_gradient_is_the_conjugate_derivative():
    """PyTorch's convention for holomorphic f: z.grad = g · conj(f'(z))."""
    z = np.array([1e-7 + 1e-7j, 0.2 - 0.1j, 0.9 + 0.5j])
    v = Value(z)
    g = np.array([1.0 - 0.5j, 0.3 + 2.0j, -1.0 + 0.0j])
    np.sinc(v).backward(g)
    t = PI * z
    derivative = np.where(np.abs(z) < 1e-3, -PI ** 2 * z / 3,
                          (np.cos(t) - np.sinc(z)) / np.where(z == 0, 1, z))
    np.testing.assert_allclose(v.grad, g * np.conj(derivative), rtol=1e-9)


def test_sinc_refuses_what_numpy_refuses_naming_itself():
    with pytest.raises((TypeError, ValueError), match=r"^sinc: "):  # (the engine's kind)
        TABLE["sinc"].implementation(np.array(["a", "b"]))


# --------------------------------------------------------------------------- heaviside

STEPS = np.array([[-1.5, 0.0, 2.0], [0.0, -0.0, 0.25]])


@pytest.mark.parametrize("x2", [0.5, np.array([0.1, 0.2, 0.3]), np.array([[7.0], [-3.0]])],
                         ids=["scalar", "row", "column"])
def test_heaviside_values_are_numpys(x2):
    expected = np.heaviside(STEPS, x2)
    _same(np.heaviside(Value(STEPS), x2), expected)
    _same(np.heaviside(Value(STEPS), Value(np.asarray(x2))), expected)
    _same(np.heaviside(STEPS, Value(np.asarray(x2))), expected)
    with np.errstate(invalid="ignore"):
        nan_case = np.array([np.nan, 0.0, 1.0])
        _same(np.heaviside(Value(nan_case), 0.5), np.heaviside(nan_case, 0.5))
    assert np.heaviside(Value(0.0), 0.25).item() == 0.25
    x32 = STEPS.astype(np.float32)
    _same(np.heaviside(Value(x32), np.float32(0.5)), np.heaviside(x32, np.float32(0.5)))


def test_heaviside_gradient_flows_to_x2_exactly_where_x1_is_zero():
    x1, x2 = Value(STEPS), Value(np.array([0.1, 0.2, 0.3]))
    g = np.arange(1.0, 7.0).reshape(2, 3)
    np.heaviside(x1, x2).backward(g)
    np.testing.assert_array_equal(x1.grad, np.zeros((2, 3)))
    # zeros at (0, 1), (1, 0) and (1, 1) (−0.0 is zero too): column sums of g there
    np.testing.assert_array_equal(x2.grad, [4.0, 7.0, 0.0])
    scalar = Value(0.5)
    np.heaviside(Value(STEPS), scalar).backward(g)
    assert scalar.grad == 2.0 + 4.0 + 5.0


def test_heaviside_gradients_match_finite_differences():
    x2 = RNG.normal(size=(2, 3))
    check_grad(lambda b: np.heaviside(STEPS, b), x2, order=2, modes=("rev", "fwd"))
    check_grad(lambda b: np.heaviside(STEPS, b), np.array([0.4, -1.0, 2.0]), order=2)
    away = np.array([[-1.5, 0.5, 2.0], [0.7, -0.6, 0.25]])  # x1 away from its step
    check_grad(np.heaviside, away, x2, order=2, modes=("rev", "fwd"))


def test_heaviside_errors_name_it():
    with pytest.raises((TypeError, ValueError), match=r"^heaviside: "):
        np.heaviside(Value(np.array([1.0 + 1j])), 0.5)
    with pytest.raises(ValueError, match=r"^heaviside: "):
        np.heaviside(Value(np.ones(3)), Value(np.ones(2)))
    with pytest.raises(TypeError, match="out="):
        np.heaviside(Value(np.ones(3)), 0.5, out=np.empty(3))


# --------------------------------------------------------------------------- nan_to_num

SPECIAL = np.array([[np.nan, 1.5, np.inf], [-np.inf, -0.5, np.nan]])
COMPLEX_SPECIAL = np.array([complex(np.nan, 1.0), complex(2.0, np.inf), 1 - 1j,
                            complex(-np.inf, np.nan)])

NAN_TO_NUM_FORMS = [
    ((), {}),
    ((), {"nan": 3.0}),
    ((), {"nan": -1, "posinf": 9.0, "neginf": -9.0}),
    ((True, 2.0, 4.0, -4.0), {}),  # positionally
    ((), {"posinf": 1e300}),
    ((), {"nan": np.array([1.0, 2.0, 3.0]), "posinf": np.array([[10.0], [20.0]])}),
]


@pytest.mark.parametrize(("args", "kwargs"), NAN_TO_NUM_FORMS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_nan_to_num_values_and_dtypes_are_numpys(args, kwargs, dtype):
    x = (SPECIAL if dtype is not np.complex128 else
         np.concatenate([COMPLEX_SPECIAL[:3], COMPLEX_SPECIAL[1:]]).reshape(2, 3)).astype(dtype)
    with np.errstate(over="ignore"):
        expected = np.nan_to_num(x, *args, **kwargs)
        got = np.nan_to_num(Value(x), *args, **kwargs)
    assert isinstance(got, Value)
    _same(got, expected)


def test_nan_to_num_of_scalars_and_finite_arrays():
    got = np.nan_to_num(Value(np.nan))
    assert isinstance(got, Value) and got.item() == 0.0
    assert np.nan_to_num(Value(np.inf), posinf=5.0).item() == 5.0
    x = RNG.normal(size=4)
    _same(np.nan_to_num(Value(x)), x)
    _same(np.nan_to_num(Value(np.array(-np.inf, dtype=np.float32))),
          np.nan_to_num(np.array(-np.inf, dtype=np.float32)))


def test_nan_to_num_gradient_is_one_where_finite_and_zero_elsewhere():
    v = Value(SPECIAL)
    g = np.arange(1.0, 7.0).reshape(2, 3)
    np.nan_to_num(v, nan=1.0, posinf=2.0, neginf=-2.0).backward(g)
    np.testing.assert_array_equal(v.grad, [[0.0, 2.0, 0.0], [0.0, 5.0, 0.0]])
    z = Value(COMPLEX_SPECIAL)
    np.nan_to_num(z).backward(np.array([1 + 2j, 3 + 4j, 5 + 6j, 7 + 8j]))
    # the real part passes where it is finite, the imaginary part where it is
    np.testing.assert_array_equal(z.grad, [2j, 3, 5 + 6j, 0])


def test_nan_to_num_gradients_match_finite_differences():
    def f(x):
        return np.nan_to_num(x, nan=0.5, posinf=3.0, neginf=-3.0)

    check_grad(f, SPECIAL, order=2, modes=("rev", "fwd"))
    check_grad(f, SPECIAL.astype(np.float32), order=2)
    check_grad(f, COMPLEX_SPECIAL, order=2)
    check_grad(f, RNG.normal(size=(3, 2)) + 1j * RNG.normal(size=(3, 2)), order=2,
               modes=("rev", "fwd"))


def test_nan_to_num_replacements_that_are_values_get_the_gradient_of_what_they_replace():
    def f(x, nan, posinf, neginf):
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    nan, posinf, neginf = np.array([0.5, -1.0, 2.0]), np.array([[3.0], [4.0]]), np.array(-2.0)
    check_grad(f, SPECIAL, nan, posinf, neginf, order=2, modes=("rev", "fwd"))
    check_grad(f, COMPLEX_SPECIAL, np.array(0.25), np.array(1.5), np.array(-1.5), order=2)
    x, values = Value(SPECIAL), [Value(nan), Value(posinf), Value(neginf)]
    g = np.arange(1.0, 7.0).reshape(2, 3)
    f(x, *values).backward(g)
    np.testing.assert_array_equal(values[0].grad, [1.0, 0.0, 6.0])  # nan at (0, 0), (1, 2)
    np.testing.assert_array_equal(values[1].grad, [[3.0], [0.0]])   # +inf at (0, 2)
    assert values[2].grad == 4.0                                       # −inf at (1, 0)
    # a float64 replacement of float32 x is stored as float32, as numpy casts it
    out = np.nan_to_num(Value(SPECIAL.astype(np.float32)), nan=Value(np.array(0.1)))
    assert out.dtype == np.float32
    w = Value(np.array(2.0))
    np.nan_to_num(Value(COMPLEX_SPECIAL), nan=w).backward(np.full(4, 1 + 1j))
    # the nan real part of element 0 (its cotangent's real part, 1) and the nan imaginary
    # part of element 3 (its cotangent's imaginary part, 1)
    assert w.grad == 2.0


def test_nan_to_num_errors_name_it():
    v = Value(SPECIAL)
    with pytest.raises(TypeError, match=r"nan_to_num: copy=False"):
        np.nan_to_num(v, copy=False)
    with pytest.raises(TypeError, match=r"nan_to_num: nan= must be real"):
        np.nan_to_num(v, nan=1j)
    with pytest.raises(ValueError, match=r"nan_to_num: posinf= of shape \(2, 1\)"):
        np.nan_to_num(Value(SPECIAL[:1]), posinf=np.array([[1.0], [2.0]]))
    with pytest.raises(ValueError, match=r"nan_to_num: .*shape"):
        np.nan_to_num(v, nan=Value(np.ones(4)))
    with pytest.raises(TypeError, match=r"nan_to_num: neginf= must be a number"):
        np.nan_to_num(v, neginf="low")


def test_nan_to_num_matches_torch_on_real_input():
    torch = pytest.importorskip("torch")
    x = SPECIAL.copy()
    v, t = Value(x), torch.tensor(x, requires_grad=True)
    out = np.nan_to_num(v, nan=1.0, posinf=2.0, neginf=-3.0)
    t_out = torch.nan_to_num(t, nan=1.0, posinf=2.0, neginf=-3.0)
    np.testing.assert_array_equal(out.data, t_out.detach().numpy())
    g = RNG.normal(size=x.shape)
    out.backward(g)
    t_out.backward(torch.tensor(g))
    np.testing.assert_array_equal(v.grad, t.grad.numpy())


# --------------------------------------------------------------------------- meshgrid

GRID_INPUTS = [
    (),
    (np.array([1.0, 2.0, 3.0]),),
    (np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5])),
    (np.array([1.0, 2.0]), np.array([[0.1, 0.2], [0.3, 0.4]]), np.array(7.0)),  # flattened
    (np.arange(2.0), np.arange(3.0, dtype=np.float32), np.arange(4.0) + 1j, np.ones(1)),
]


@pytest.mark.parametrize("inputs", GRID_INPUTS, ids=lambda xs: f"{len(xs)} inputs")
@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("copy", [True, False])
def test_meshgrid_is_numpys(inputs, indexing, sparse, copy):
    expected = np.meshgrid(*inputs, indexing=indexing, sparse=sparse, copy=copy)
    values = [Value(x) for x in inputs]
    got = (np.meshgrid(*values, indexing=indexing, sparse=sparse, copy=copy) if values else
           TABLE["meshgrid"].implementation(indexing=indexing, sparse=sparse, copy=copy))
    # numpy's container: a tuple, a list for sparse views (sparse=True, copy=False)
    assert type(got) is type(expected) and len(got) == len(expected)
    assert type(got) is (list if sparse and not copy else tuple)
    for out, want in zip(got, expected, strict=True):
        assert isinstance(out, Value) and out.requires_grad
        _same(out, want)
        if copy:  # memory of its own, as numpy's copies
            assert out.data.flags.writeable
            assert not any(np.shares_memory(out.data, v.data) for v in values)


def test_meshgrid_with_constants_gives_numpy_arrays_for_them():
    x, y = np.array([1.0, 2.0, 3.0]), [4.0, 5.0]
    X, Y = np.meshgrid(Value(x), y)
    assert isinstance(X, Value) and type(Y) is np.ndarray
    _same(X, np.meshgrid(x, y)[0])
    _same(Y, np.meshgrid(x, y)[1])
    X, Y = np.meshgrid(Value(x), y, sparse=True, indexing="ij")
    _same(Y, np.meshgrid(x, y, sparse=True, indexing="ij")[1])


def test_meshgrid_gradients_sum_over_the_repeated_axes():
    x, y = Value(np.array([1.0, 2.0, 3.0])), Value(np.array([-1.0, 0.5]))
    X, Y = np.meshgrid(x, y)  # both (2, 3)
    (X * Y).sum().backward()
    np.testing.assert_allclose(x.grad, np.full(3, -0.5))
    np.testing.assert_allclose(y.grad, np.full(2, 6.0))


@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
def test_meshgrid_gradients_match_finite_differences(indexing, sparse):
    def f(a, b, c):
        A, B, C = np.meshgrid(a, b, c, indexing=indexing, sparse=sparse)
        return np.sin(A) * B ** 2 + np.tanh(C) * A

    a, b, c = RNG.normal(size=3), RNG.normal(size=(2, 1)), RNG.normal(size=4)
    check_grad(f, a, b, c, order=2, modes=("rev", "fwd"))


def test_meshgrid_errors_name_it():
    v = Value(np.arange(3.0))
    with pytest.raises(ValueError, match=r"meshgrid: indexing must be 'xy' or 'ij'"):
        np.meshgrid(v, v, indexing="yx")
    with pytest.raises(TypeError, match=r"meshgrid.*unexpected keyword"):
        np.meshgrid(v, v, order="F")  # (numpy's dispatcher refuses it first)
    with pytest.raises(TypeError, match=r"^meshgrid: .*unexpected keyword"):
        TABLE["meshgrid"].implementation(v, v, order="F")


# --------------------------------------------------------------------------- unique

# Ties, a signed zero, and (for axis=None) nans; rows 0 and 2 of ROWS are equal.
TIED = np.array([3.0, 1.0, 2.0, 1.0, 3.0, -0.0, 0.0, 5.0, 1.0])
WITH_NAN = np.array([2.0, np.nan, 1.0, np.nan, 2.0, -1.0])
ROWS = np.array([[2.0, 1.0, 0.5], [0.0, 3.0, 0.5], [2.0, 1.0, 0.5], [0.0, -3.0, 1.0]])
FLAGS = [{}, {"return_index": True}, {"return_inverse": True}, {"return_counts": True},
         {"return_index": True, "return_inverse": True, "return_counts": True},
         {"return_inverse": True, "return_counts": True}]


def _same_structure(got, expected):
    """The same return structure as numpy's: an array alone, or a tuple with the values (a
    Value) first and constant numpy arrays after; every field equal."""
    if isinstance(expected, tuple):
        assert type(got) is type(expected) and len(got) == len(expected)
        assert isinstance(got[0], Value)
        for field in got[1:]:
            assert type(field) is np.ndarray
        pairs = zip(got, expected, strict=True)
    else:
        assert isinstance(got, Value)
        pairs = [(got, expected)]
    for a, b in pairs:
        _same(a, b)


@pytest.mark.parametrize("flags", FLAGS, ids=lambda f: "-".join(f) or "values")
@pytest.mark.parametrize(("data", "axis"), [
    (TIED, None), (TIED.reshape(3, 3), None), (WITH_NAN, None), (ROWS, 0), (ROWS, -2),
    (ROWS.T, 1), (ROWS.T.copy(), -1), (np.array(4.0), None), (np.empty(0), None),
    (TIED.astype(np.float32), None), (TIED + 1j * TIED[::-1], None),
], ids=["tied", "tied-2d", "nan", "rows", "rows-neg", "columns", "columns-neg", "0d", "empty",
        "float32", "complex"])
@pytest.mark.parametrize("equal_nan", [True, False])
def test_unique_is_numpys_in_structure_and_values(flags, data, axis, equal_nan):
    expected = np.unique(data, axis=axis, equal_nan=equal_nan, **flags)
    got = np.unique(Value(data), axis=axis, equal_nan=equal_nan, **flags)
    _same_structure(got, expected)


@pytest.mark.parametrize("data", [TIED, WITH_NAN, TIED + 1j * TIED[::-1],
                                  RNG.normal(size=30).round(1) * (1 + 0.5j)],
                         ids=["tied", "nan", "complex", "complex-many"])
@pytest.mark.parametrize("equal_nan", [True, False])
def test_unique_unsorted_follows_numpys_order(data, equal_nan):
    expected = np.unique(data, sorted=False, equal_nan=equal_nan)
    _same(np.unique(Value(data), sorted=False, equal_nan=equal_nan), expected)
    values, index = np.unique(Value(data), sorted=False, return_index=True)
    expected_values, expected_index = np.unique(data, sorted=False, return_index=True)
    _same(values, expected_values)
    _same(index, expected_index)
    v = Value(data)
    out = np.unique(v, sorted=False, equal_nan=equal_nan)
    _check_first_occurrences(v, out, data, equal_nan)


def _check_first_occurrences(v, out, data, equal_nan):
    """Backward of ⟨w, out⟩: each unique value's weight lands on the first element of the
    input equal to it (nan: the first nan not yet taken, all of them with equal_nan)."""
    w = np.arange(1.0, out.shape[0] + 1)
    v.grad = None
    out.backward(w.astype(out.dtype))
    expected = np.zeros(data.size, dtype=np.result_type(data, w))
    taken = set()
    flat = data.reshape(-1)
    for j, value in enumerate(np.asarray(out.data)):
        if np.isnan(value):
            candidates = [i for i in range(flat.size) if np.isnan(flat[i]) and i not in taken]
        else:
            candidates = [i for i in range(flat.size) if flat[i] == value]
        first = candidates[0]
        taken.add(first)
        expected[first] = w[j]
    np.testing.assert_array_equal(np.asarray(v.grad).reshape(-1), expected)


@pytest.mark.parametrize("data", [TIED, TIED.reshape(3, 3), WITH_NAN])
@pytest.mark.parametrize("equal_nan", [True, False])
def test_unique_gradient_goes_to_the_first_occurrence(data, equal_nan):
    v = Value(data)
    out = np.unique(v, equal_nan=equal_nan)
    _check_first_occurrences(v, out, data, equal_nan)
    # the element return_index names
    w = Value(data)
    values, index = np.unique(w, return_index=True, equal_nan=equal_nan)
    g = RNG.normal(size=values.shape)
    values.backward(g)
    expected = np.zeros(data.size)
    expected[index] = g
    np.testing.assert_array_equal(np.asarray(w.grad).reshape(-1), expected)


def test_unique_along_an_axis_sends_each_slice_to_its_first_occurrence():
    v = Value(ROWS)
    values, inverse = np.unique(v, axis=0, return_inverse=True)
    g = RNG.normal(size=values.shape)
    values.backward(g)
    expected = np.zeros_like(ROWS)
    for j, row in enumerate(values.data):
        first = next(i for i in range(len(ROWS)) if np.array_equal(ROWS[i], row))
        expected[first] = g[j]
    np.testing.assert_array_equal(v.grad, expected)
    assert not v.grad[2].any()  # row 2 repeats row 0: no gradient
    np.testing.assert_array_equal(values.data[inverse], ROWS)


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_unique_gradients_match_finite_differences_through_ties(axis):
    """Ties made inside the function from the point itself (a copy of some elements) move
    together under finite differences, so the tie holds and the derivative exists."""
    def f(x):
        if axis == 1:
            doubled = np.concatenate([x, x[:, :2]], axis=1)
        else:
            doubled = np.concatenate([x, x[:2]], axis=0)
        return np.sin(np.unique(doubled, axis=axis)) * 2.0

    x = RNG.permutation(np.linspace(-1.5, 1.5, 12)).reshape(3, 4)
    check_grad(f, x, order=2, modes=("rev", "fwd"))
    check_grad(f, x.astype(np.float32), order=2)
    check_grad(lambda z: np.unique(np.concatenate([z, z[:1]]), axis=0 if axis == 0 else None),
               x + 0.5j * x[::-1], order=2)


def test_unique_array_api_functions_are_numpys_named_tuples():
    data = np.concatenate([WITH_NAN, TIED])
    for function in (np.unique_all, np.unique_counts, np.unique_inverse):
        expected = function(data)
        v = Value(data)
        got = function(v)
        assert type(got) is type(expected)
        assert got._fields == expected._fields
        _same_structure(tuple(got), tuple(expected))
        _check_first_occurrences(v, got.values, data, equal_nan=False)
    v = Value(data)
    got = np.unique_values(v)
    _same(got, np.unique_values(data))
    _check_first_occurrences(v, got, data, equal_nan=False)
    z = RNG.normal(size=20).round(1) * (1 - 0.5j)
    _same(np.unique_values(Value(z)), np.unique_values(z))  # numpy's (hash) order
    _same(np.unique_all(Value(z)).values, np.unique_all(z).values)
    # indices of unique_all are the first occurrences the gradient goes to
    w = Value(data)
    result = np.unique_all(w)
    result.values.backward(np.ones(result.values.shape))
    expected = np.zeros(data.size)
    expected[result.indices] = 1.0
    np.testing.assert_array_equal(w.grad, expected)


def test_unique_gradients_of_the_array_api_functions_match_finite_differences():
    x = RNG.permutation(np.linspace(-1.0, 1.0, 7))
    for function in (np.unique_values, lambda z: np.unique_all(z).values,
                     lambda z: np.unique_counts(z).values, lambda z: np.unique_inverse(z)[0]):
        check_grad(lambda z, f=function: np.tanh(f(np.concatenate([z, z[3:5]]))), x, order=2)


def test_unique_errors_name_it():
    v = Value(ROWS)
    with pytest.raises(np.exceptions.AxisError, match=r"^unique: "):
        np.unique(v, axis=2)
    with pytest.raises(np.exceptions.AxisError, match=r"^unique: "):
        np.unique(Value(np.array(1.0)), axis=0)
    with pytest.raises(TypeError, match=r"^unique: "):
        TABLE["unique"].implementation(v, bogus=True)


# --------------------------------------------------------------------------- Dask


def test_meshgrid_stays_lazy_on_dask_and_the_unique_family_refuses_it():
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")

    def refuse(dsk, keys, **kwargs):
        raise AssertionError("Dask data was computed where it must stay lazy")

    x, y = np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5])
    with dask.config.set(scheduler=refuse):
        a, b = Value(da.from_array(x, chunks=2)), Value(da.from_array(y, chunks=1))
        X, Y = np.meshgrid(a, b)
        assert isinstance(X.data, da.Array) and isinstance(Y.data, da.Array)
        (X * Y * Y).sum().backward()
        assert isinstance(a.grad, da.Array) and isinstance(b.grad, da.Array)
        for function in (np.unique, np.unique_all, np.unique_counts, np.unique_inverse,
                         np.unique_values):
            with pytest.raises(NotImplementedError, match=r"Dask arrays are not supported"):
                function(a)
    X_, Y_ = np.meshgrid(x, y)
    np.testing.assert_allclose(X.data.compute(), X_)
    np.testing.assert_allclose(a.grad.compute(), (Y_ * Y_).sum(axis=0))
    np.testing.assert_allclose(b.grad.compute(), (2 * X_ * Y_).sum(axis=1))
    assert TABLE["meshgrid"].dask and not TABLE["unique"].dask
