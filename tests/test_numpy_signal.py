"""numpy's signal and polynomial functions on Values (autodiff/ops/signal.py and
autodiff/ops/polynomials.py): numpy's results (values, shapes, dtypes) for the argument
forms numpy takes, gradients against finite differences (second order, complex where
numpy takes complex data), the documented choices (interp at its knots, constant knots,
polymul's trimming), and clear errors for bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from autodiff import Value
from autodiff.ops import signal
from autodiff.ops.table import TABLE
from autodiff.testing import check_grad

RNG = np.random.default_rng(7)


def random(shape, dtype=np.float64):
    x = RNG.uniform(-2, 2, shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * RNG.uniform(-2, 2, shape)
    return np.asarray(x, dtype=dtype)


def as_value(x):
    """A Value for float and complex arrays; anything else (lists, ints, numbers) as is."""
    if isinstance(x, np.ndarray) and x.dtype.kind in "fc":
        return Value(x)
    return x


def assert_matches(got, expected):
    """A Value with numpy's result: the same shape, the same dtype, the same numbers."""
    expected = np.asarray(expected)
    assert isinstance(got, Value), f"got {type(got).__name__}, not a Value"
    assert got.shape == expected.shape, f"shape {got.shape}, numpy {expected.shape}"
    assert got.dtype == expected.dtype, f"dtype {got.dtype}, numpy {expected.dtype}"
    tol = 1e-5 if expected.dtype in (np.float32, np.complex64) else 1e-12
    np.testing.assert_allclose(np.asarray(got.data), expected, rtol=tol, atol=tol)


def grad_of(f, *xs):
    """The gradients of Σ f(xs) (real part) with respect to each x."""
    values = [Value(np.array(x, dtype=np.result_type(x, float))) for x in xs]
    out = f(*values)
    total = out.sum()
    (total.real() if np.iscomplexobj(total.data) else total).backward()
    return [np.zeros(v.shape) if v.grad is None else np.asarray(v.grad) for v in values]


DTYPES = [np.float64, np.float32, np.complex128]


def test_the_entries_are_declared():
    expected = {"convolve": True, "correlate": True, "interp": False, "gradient": True,
                "polyval": True, "polyadd": True, "polysub": True, "polymul": False,
                "polyder": True, "polyint": True}
    for name, lazy in expected.items():
        entry = TABLE[name]
        assert entry.dask is lazy, name
        assert "complex128" in entry.dtypes, name
        assert entry.cases is not None and entry.torch is None, name
        assert getattr(np, name) in entry.numpy, name


# --------------------------------------------------------------------------- convolve


@pytest.mark.parametrize("function", [np.convolve, np.correlate])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_convolve_and_correlate_match_numpy_in_every_mode_and_length(function, dtype):
    for n, m in itertools.product(range(1, 6), range(1, 6)):
        a, v = random(n, dtype), random(m, dtype)
        for mode in ("full", "same", "valid", 0, 1, 2):
            assert_matches(function(Value(a), Value(v), mode), function(a, v, mode))
            assert_matches(function(Value(a), v, mode=mode), function(a, v, mode=mode))
            assert_matches(function(a, Value(v), mode), function(a, v, mode))


def test_default_modes_are_numpys():
    a, v = random(5), random(3)
    assert_matches(np.convolve(Value(a), Value(v)), np.convolve(a, v))  # full
    assert_matches(np.correlate(Value(a), Value(v)), np.correlate(a, v))  # valid
    assert np.correlate(Value(a), Value(v)).shape == (3,)


def test_correlate_conjugates_v_for_complex_input():
    a, v = random(4, complex), random(3, complex)
    assert_matches(np.correlate(Value(a), Value(v), "full"), np.correlate(a, v, "full"))
    naive = np.convolve(a, v[::-1], "full")  # without conjugation: differs
    assert not np.allclose(np.correlate(Value(a), Value(v), "full").data, naive)


@pytest.mark.parametrize("function", [np.convolve, np.correlate])
def test_numbers_lists_and_mixed_dtypes_promote_as_numpy(function):
    a32 = random(4, np.float32)
    for other in ([1, 2], [0.5, 1.5], np.array([1, 2]), np.ones(2, np.float32),
                  np.ones(3), random(2, complex)):
        assert_matches(function(Value(a32), other, "full"), function(a32, other, "full"))
    # np.convolve reads numbers as length-1 signals (np.correlate refuses them)
    assert_matches(np.convolve(Value(np.float32(2.0)), np.ones(3, np.float32)),
                   np.convolve(np.float32(2.0), np.ones(3, np.float32)))
    assert_matches(np.convolve(Value(2.0), [1.0, 2.0]), np.convolve(2.0, [1.0, 2.0]))


@pytest.mark.parametrize("function", [np.convolve, np.correlate])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize(("n", "m"), [(5, 3), (3, 5), (4, 4), (1, 3), (2, 1)])
def test_convolve_and_correlate_gradients(function, mode, n, m):
    for dtype in (np.float64, np.complex128):
        check_grad(lambda a, v: function(a, v, mode), random(n, dtype), random(m, dtype),
                   order=2, modes=("rev", "fwd"))


@pytest.mark.parametrize("function", [np.convolve, np.correlate])
def test_real_signal_with_complex_kernel_gets_real_gradients(function):
    a, v = random(5), random(3, complex)
    check_grad(lambda a, v: function(a, v, "same"), a, v, order=2)
    (ga, gv) = grad_of(lambda a, v: function(a, v, "same"), a, v.real)
    assert ga.dtype == np.float64 and gv.dtype == np.float64


def test_convolution_gradient_is_the_correlation_with_the_other_signal():
    a, v = random(6), random(3)
    ga, gv = grad_of(lambda a, v: np.convolve(a, v) * np.arange(8.0), a, v)
    np.testing.assert_allclose(ga, np.correlate(np.arange(8.0), v, "valid"), rtol=1e-12)
    np.testing.assert_allclose(gv, np.correlate(np.arange(8.0), a, "valid"), rtol=1e-12)


@pytest.mark.parametrize(("n", "m"), [(5, 3), (3, 5), (1, 1), (4, 2), (2, 4), (7, 7)])
def test_the_lazy_shifted_sum_equals_the_primitive(n, m):
    """Dask data takes the shifted-sum composite: the same numbers and gradients, for every
    part of the full correlation a mode reads (padded or not, either signal longer)."""
    for dtype in (np.float64, np.complex128):
        x, w = random(n, dtype), random(m, dtype)
        parts = [(0, n + m - 1), (min(n, m) - 1, abs(n - m) + 1), (1, max(n, m) - 1),
                 (n + m - 2, 1), (max(n, m) - 1, min(n, m))]
        for start, length in [(s, k) for s, k in parts if k > 0]:
            shifted = signal._shifted_sum(Value(x), Value(w), start, length)
            primitive = signal._correlation(Value(x), Value(w), start, length)
            np.testing.assert_allclose(shifted.data, primitive.data, rtol=1e-12, atol=1e-12)
            check_grad(lambda x, w, s=start, k=length: signal._shifted_sum(x, w, s, k), x, w,
                       order=2)


def test_the_lazy_convolution_keeps_the_long_signals_chunks():
    """The Dask path built a len(output) × len(kernel) index array in the client (160 MB
    for 2·10⁶ samples and 8 taps) and one task over all of x; it now keeps x's chunks."""
    da = pytest.importorskip("dask.array")
    x = da.from_array(np.arange(40.0), chunks=10)
    kernel = np.array([0.25, 0.5, 0.25])
    result = np.convolve(Value(x), kernel, "same")
    assert isinstance(result.data, da.Array) and result.data.numblocks[0] > 1
    np.testing.assert_allclose(np.asarray(result.data), np.convolve(np.arange(40.0), kernel,
                                                                    "same"), rtol=1e-13)


@pytest.mark.parametrize(("function", "a", "v", "error", "match"), [
    (np.convolve, [], [1.0], ValueError, "convolve: a cannot be empty"),
    (np.convolve, [1.0], [], ValueError, "convolve: v cannot be empty"),
    (np.convolve, np.ones((2, 2)), [1.0], ValueError, "convolve: object too deep"),
    (np.correlate, [], [1.0], ValueError, "correlate: first array argument cannot be empty"),
    (np.correlate, 2.0, [1.0], ValueError, "correlate: object of too small depth"),
    (np.correlate, np.ones((2, 2)), [1.0], ValueError, "correlate: "),
])
def test_bad_signals_get_numpys_errors_named(function, a, v, error, match):
    with pytest.raises(error, match=match):
        function(Value(np.asarray(a, dtype=float)), Value(np.asarray(v, dtype=float)))
    with pytest.raises(error):  # and numpy refuses them too
        function(a, v)


@pytest.mark.parametrize(("mode", "error"), [("fool", ValueError), ("x", ValueError),
                                             (3, ValueError), (None, TypeError)])
def test_bad_modes_get_numpys_errors_named(mode, error):
    for function in (np.convolve, np.correlate):
        with pytest.raises(error, match=rf"^{function.__name__}: .*mode"):
            function(Value([1.0, 2.0]), [1.0], mode)
        with pytest.raises(error):
            function([1.0, 2.0], [1.0], mode)


# --------------------------------------------------------------------------- interp


XP = np.array([-1.0, 0.0, 0.5, 2.0])
FP = np.array([1.0, -0.5, 2.0, 0.25])
X = np.array([[-1.7, -0.3, 0.2], [0.9, 1.6, 2.4]])


@pytest.mark.parametrize("kwargs", [{}, {"left": 3.5}, {"right": -2.0},
                                    {"left": -1.0, "right": 7.0}, {"period": 2.5},
                                    {"period": -4}, {"period": 3, "left": 9.0}])
@pytest.mark.parametrize("fp_dtype", DTYPES, ids=str)
def test_interp_matches_numpy(kwargs, fp_dtype):
    fp = FP.astype(fp_dtype) if fp_dtype != np.complex128 else FP + 1j * FP[::-1]
    for x in (X, X[0], X.astype(np.float32), np.array(0.7), np.array(-5.0)):
        expected = np.interp(x, XP, fp, **kwargs)
        assert_matches(np.interp(Value(x), XP, Value(fp), **kwargs), expected)
        assert_matches(np.interp(Value(x), XP, fp, **kwargs), expected)
        assert_matches(np.interp(Value(x), list(XP), list(fp), **kwargs), expected)
    for x in (0.7, -5.0, np.float32(1.2), [0.1, 3.0], 1, np.arange(3)):  # numbers, lists
        assert_matches(np.interp(x, XP, Value(fp), **kwargs), np.interp(x, XP, fp, **kwargs))


def test_interp_results_are_float64_or_complex128_as_numpy():
    x32, fp32 = X.astype(np.float32), FP.astype(np.float32)
    assert np.interp(Value(x32), XP, Value(fp32)).dtype == np.float64
    assert np.interp(Value(x32), XP, Value(fp32.astype(np.complex64))).dtype == np.complex128
    assert np.interp(Value(2.0), XP, Value(FP)).shape == ()


def test_interp_at_the_knots_and_beyond_the_ends_matches_numpy():
    x = np.array([-3.0, -1.0, 0.0, 0.5, 2.0, 2.5, np.nan])
    for kwargs in ({}, {"left": 5.0, "right": 6.0}):
        assert_matches(np.interp(Value(x), XP, Value(FP), **kwargs), np.interp(x, XP, FP, **kwargs))
    # repeated knots: numpy takes the last of them
    xp, fp = [0.0, 1.0, 1.0, 2.0], np.array([0.0, 1.0, 5.0, 6.0])
    for x in (1.0, 0.5, 1.5):
        assert_matches(np.interp(Value(x), xp, Value(fp)), np.interp(x, xp, fp))
    # one knot; unsorted knots with a period
    assert_matches(np.interp(Value(np.array([-1.0, 0.0, 2.0])), [0.0], Value([4.0])),
                   np.interp([-1.0, 0.0, 2.0], [0.0], [4.0]))
    xp, fp = np.array([2.0, 0.5, 1.0]), np.array([1.0, 3.0, -1.0])
    assert_matches(np.interp(Value(X), xp, Value(fp), period=2.5),
                   np.interp(X, xp, fp, period=2.5))


def test_interp_with_infinite_values_follows_numpy():
    x = np.array([0.25, 0.75, np.nan])
    for fp in ([np.inf, np.inf], [np.inf, 1.0], [1.0, -np.inf]):
        assert_matches(np.interp(Value(x), [0.0, 1.0], Value(np.array(fp))),
                       np.interp(x, [0.0, 1.0], fp))


@pytest.mark.parametrize("kwargs", [{}, {"period": 2.5}])
def test_interp_gradients_in_x_and_fp(kwargs):
    x = np.array([-1.5, -0.6, 0.2, 0.8, 1.7, 2.6])  # away from the knots (and mod 2.5)
    check_grad(lambda x, fp: np.interp(x, XP, fp, **kwargs), x, FP, order=2,
               modes=("rev", "fwd"))
    check_grad(lambda x, fp: np.interp(x, XP, fp, **kwargs), x, FP + 0.5j * FP[::-1],
               order=2)
    check_grad(lambda x: np.interp(x, XP, FP, **kwargs), x.astype(np.float32), order=2)


def test_interp_gradients_in_left_and_right():
    x = np.array([-1.5, 0.3, 2.6, 3.0])
    check_grad(lambda x, fp, left, right: np.interp(x, XP, fp, left, right), x, FP,
               np.array(0.4), np.array(-0.3), order=2)
    xv = Value(x, requires_grad=False)  # (numpy dispatches on x, xp and fp only)
    gl, gr = grad_of(lambda left, right: np.interp(xv, XP, FP, left, right), 0.4, -0.3)
    assert gl == 1.0 and gr == 2.0  # one x below the knots, two above


def test_interp_gradient_at_a_knot_is_the_slope_to_its_right():
    slopes = np.diff(FP) / np.diff(XP)
    x = np.array([-1.0, 0.0, 0.5, 2.0, -1.2, 2.2])
    (gx,) = grad_of(lambda x: np.interp(x, XP, FP), x)
    np.testing.assert_allclose(gx, [slopes[0], slopes[1], slopes[2], 0.0, 0.0, 0.0])
    # in fp: at a knot the result is that knot's value, all of the gradient goes there
    for k, knot in enumerate(XP):
        (gfp,) = grad_of(lambda fp, knot=knot: np.interp(knot, XP, fp), FP)
        np.testing.assert_array_equal(gfp, np.eye(len(XP))[k])


def test_interp_knots_and_period_are_constants():
    x = Value(X)
    with pytest.raises(TypeError, match="interp: xp is a constant"):
        np.interp(x, Value(XP), Value(FP))
    with pytest.raises(TypeError, match="interp: period is a constant"):
        np.interp(x, XP, Value(FP), period=Value(2.5))
    constant = Value(XP, requires_grad=False)
    assert_matches(np.interp(x, constant, Value(FP)), np.interp(X, XP, FP))
    assert_matches(np.interp(x, XP, Value(FP), period=Value(2.5, requires_grad=False)),
                   np.interp(X, XP, FP, period=2.5))


@pytest.mark.parametrize(("args", "kwargs", "error", "match"), [
    ((X, [0.0, 1.0], [1.0]), {}, ValueError, "fp and xp are not of the same length"),
    ((X, [], []), {}, ValueError, "array of sample points is empty"),
    ((X, [[0.0, 1.0]], [[0.0, 1.0]]), {}, ValueError, "interp: "),
    ((X, [0.0, 1.0], [0.0, 1.0]), {"period": 0}, ValueError, "period must be a non-zero"),
    ((X, [[0.0, 1.0]], [0.0, 1.0]), {"period": 2}, ValueError, "1-D sequences"),
    ((X + 1j, [0.0, 1.0], [0.0, 1.0]), {}, TypeError, "must be real"),
    ((X, [0.0, 1.0], [0.0, 1.0]), {"left": 1j}, TypeError, "left must be real"),
    ((X, [0.0, 1.0], [0.0, 1.0]), {"right": np.ones(2)}, TypeError, "right must be a number"),
])
def test_interp_bad_input_gets_a_clear_error(args, kwargs, error, match):
    x, xp, fp = args
    with pytest.raises(error, match=match) as info:
        np.interp(Value(x), xp, Value(np.asarray(fp, dtype=float)), **kwargs)
    assert str(info.value).startswith("interp: ")


# --------------------------------------------------------------------------- gradient


F2 = RNG.uniform(-2, 2, (4, 5))
F3 = RNG.uniform(-2, 2, (3, 4, 5))
COORDS = {4: np.array([0.0, 0.5, 1.7, 2.0]), 5: np.array([-1.0, 0.0, 0.2, 1.5, 3.0])}


def _gradient_forms(f):
    """(varargs, kwargs) pairs covering numpy's spacing and axis forms for f."""
    ndim = f.ndim
    forms = [((), {}), ((0.5,), {}), ((np.float32(2.0),), {}), ((np.array(0.25),), {})]
    forms.append((tuple(0.5 + i for i in range(ndim)), {}))
    forms.append((tuple(COORDS.get(n, np.arange(n) ** 2.0) for n in f.shape), {}))
    forms.append((tuple(np.arange(n) for n in f.shape), {}))  # integer, uniform coordinates
    forms.append(((COORDS.get(f.shape[-1], np.arange(f.shape[-1]) * 1.5),), {"axis": -1}))
    for axis in [0, -1, (0,), [ndim - 1], tuple(range(ndim))[::-1]]:
        forms.append(((), {"axis": axis}))
        count = 1 if isinstance(axis, int) else len(axis)
        forms.append(((0.3,) * count, {"axis": axis}))
    return forms


@pytest.mark.parametrize("f", [np.array([1.0, 4.0, 2.0, -1.0, 0.5]), F2, F3],
                         ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_gradient_matches_numpy_in_every_form(f, edge_order, dtype):
    f = f.astype(dtype) if dtype != np.complex128 else f + 1j * f[..., ::-1]
    for varargs, kwargs in _gradient_forms(f):
        expected = np.gradient(f, *varargs, edge_order=edge_order, **kwargs)
        got = np.gradient(Value(f), *varargs, edge_order=edge_order, **kwargs)
        if isinstance(expected, tuple):
            assert isinstance(got, tuple) and len(got) == len(expected), (varargs, kwargs)
            for g, e in zip(got, expected, strict=True):
                assert_matches(g, e)
        else:
            assert_matches(got, expected)


def test_gradient_spacing_and_values_as_values_and_lists():
    f = [1.0, 4.0, 9.0, 16.0]
    x = np.array([0.0, 1.0, 2.5, 3.0])
    assert_matches(np.gradient(f, Value(x)), np.gradient(f, x))
    assert_matches(np.gradient(np.array([1, 4, 9, 16]), Value(x)), np.gradient([1, 4, 9, 16], x))
    assert_matches(np.gradient(Value(np.array(f)), list(x), edge_order=2),
                   np.gradient(f, list(x), edge_order=2))
    assert_matches(np.gradient(f, Value(np.array(0.5))), np.gradient(f, 0.5))
    # a 0-d f has no axes: numpy's empty tuple
    assert np.gradient(Value(np.array(2.0))) == ()
    assert np.gradient(Value(F2), axis=()) == ()


def test_gradient_of_a_quadratic_is_exact_with_second_order_edges():
    x = np.array([0.0, 0.4, 1.0, 1.3, 2.5])
    got = np.gradient(Value(3 * x**2 - x + 1), x, edge_order=2)
    np.testing.assert_allclose(got.data, 6 * x - 1, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_derivatives_in_f(edge_order):
    for f in (F2, F2 + 1j * F2[::-1]):
        check_grad(lambda f: np.gradient(f, axis=0, edge_order=edge_order), f, order=2,
                   modes=("rev", "fwd"))
        check_grad(lambda f: np.gradient(f, 0.5, COORDS[5], edge_order=edge_order)[1], f,
                   order=2)
        check_grad(lambda f: np.stack(np.gradient(f, edge_order=edge_order)), f, order=2)
    check_grad(lambda f: np.gradient(f, edge_order=edge_order), F2[0].astype(np.float32),
               order=2)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_derivatives_in_spacings_and_coordinates(edge_order):
    f = F2[0]
    check_grad(lambda f, x: np.gradient(f, x, edge_order=edge_order), f, COORDS[5], order=2)
    check_grad(lambda f, h: np.gradient(f, h, edge_order=edge_order), f, np.array(0.7),
               order=2)
    # dividing by a uniform step h: ∂/∂h = −(the result) / h
    (gh,) = grad_of(lambda h: np.gradient(f, h, edge_order=edge_order), 0.7)
    np.testing.assert_allclose(gh, -np.sum(np.gradient(f, 0.7, edge_order=edge_order)) / 0.7)


@pytest.mark.parametrize(("args", "kwargs", "error", "match"), [
    ((np.ones(2),), {"edge_order": 2}, ValueError, "Shape of array too small"),
    ((np.ones(1),), {}, ValueError, "Shape of array too small"),
    ((np.ones(5),), {"edge_order": 3}, ValueError, "'edge_order' greater than 2"),
    ((np.ones(5),), {"edge_order": 0}, ValueError, "edge_order must be 1 or 2"),
    ((np.ones(5), 1.0, 2.0), {}, TypeError, "invalid number of arguments"),
    ((np.ones((3, 3)), [1.0, 2.0, 3.0]), {}, TypeError, "invalid number of arguments"),
    ((np.ones(3), [1.0, 2.0]), {}, ValueError, "distances must match the length"),
    ((np.ones(3), np.ones((3, 1))), {}, ValueError, "either scalars or 1d"),
    ((np.ones((3, 3)),), {"axis": (0, 0)}, ValueError, "repeated axis"),
    ((np.ones((3, 3)),), {"axis": 2}, np.exceptions.AxisError, "out of bounds"),
])
def test_gradient_bad_input_gets_numpys_error_named(args, kwargs, error, match):
    f, *varargs = args
    with pytest.raises(error, match=match) as info:
        np.gradient(Value(f), *varargs, **kwargs)
    assert str(info.value).startswith("gradient: ")
    if "edge_order must be" not in match:
        with pytest.raises(error):
            np.gradient(f, *varargs, **kwargs)


# --------------------------------------------------------------------------- polynomials


P = np.array([0.5, -1.2, 2.0, 0.7])
Q = np.array([1.5, 0.3, -0.4])


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_polyval_matches_numpy(dtype):
    p = P.astype(dtype) if dtype != np.complex128 else P + 1j * P[::-1]
    for x in (X, X.astype(np.float32), 1.5, np.float32(0.5), 3, np.arange(3), [0.5, -1.0]):
        assert_matches(np.polyval(Value(p), as_value(x)), np.polyval(p, x))
        assert_matches(np.polyval(list(p), Value(np.asarray(x, dtype=float))),
                       np.polyval(list(p), np.asarray(x, dtype=float)))
    # rows of a 2-D p broadcast against x, as numpy's Horner loop does
    p2, x = random((3, 4), dtype), random(4, dtype)
    assert_matches(np.polyval(Value(p2), Value(x)), np.polyval(p2, x))


def test_polyval_of_no_coefficients_is_numpys_zeros():
    got = np.polyval(Value(np.zeros(0)), Value(X))
    assert_matches(got, np.polyval(np.zeros(0), X))
    assert not got.requires_grad


def test_polyval_gradients():
    check_grad(np.polyval, P, X, order=2, modes=("rev", "fwd"))
    check_grad(np.polyval, P + 1j * P[::-1], X + 0.5j, order=2)
    check_grad(np.polyval, P.astype(np.float32), X.astype(np.float32), order=2)
    (gx,) = grad_of(lambda x: np.polyval(P, x), X)
    np.testing.assert_allclose(gx, np.polyval(np.polyder(P), X), rtol=1e-12)
    (gp,) = grad_of(lambda p: np.polyval(p, 2.0), P)
    np.testing.assert_allclose(gp, [8.0, 4.0, 2.0, 1.0])


@pytest.mark.parametrize("function", [np.polyadd, np.polysub, np.polymul])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_polyadd_polysub_polymul_match_numpy(function, dtype):
    for n, m in itertools.product(range(1, 5), range(1, 5)):
        a, b = random(n, dtype), random(m, dtype)
        assert_matches(function(Value(a), Value(b)), function(a, b))
        assert_matches(function(Value(a), list(b)), function(a, list(b)))
        assert_matches(function(a, Value(b)), function(a, b))
    assert_matches(function(Value(np.ones(3, dtype)), [1, 2]), function(np.ones(3, dtype), [1, 2]))
    assert_matches(function(Value(np.float32(2.0)), Value(np.ones(2))),
                   function(np.float32(2.0), np.ones(2)))


def test_a_poly1d_argument_is_read_as_its_coefficients():
    for function in (np.polyadd, np.polysub, np.polymul):
        assert_matches(function(Value(P), np.poly1d(Q)), function(P, np.poly1d(Q)).coeffs)


def test_polyadd_and_polysub_keep_leading_zeros_polymul_trims_them():
    a, b = np.array([0.0, 0.0, 1.0, 2.0]), np.array([0.0, 3.0])
    for function in (np.polyadd, np.polysub, np.polymul):
        assert_matches(function(Value(a), Value(b)), function(a, b))
    assert np.polyadd(Value(a), Value(b)).shape == (4,)
    assert np.polymul(Value(a), Value(b)).shape == (2,)  # (x + 2)·3
    # all-zero (and empty) polynomials are [0], as np.poly1d reads them
    assert_matches(np.polymul(Value(np.zeros(3)), Value(b)), np.polymul(np.zeros(3), b))
    assert_matches(np.polymul(Value(b), []), np.polymul(b, []))
    # the trimmed coefficients take no part: no gradient
    ga, gb = grad_of(np.polymul, a, b)
    np.testing.assert_array_equal(ga[:2], 0.0)
    np.testing.assert_array_equal(gb[:1], 0.0)
    np.testing.assert_allclose(ga[2:], [3.0, 3.0])


@pytest.mark.parametrize("function", [np.polyadd, np.polysub, np.polymul])
def test_polyadd_polysub_polymul_gradients(function):
    check_grad(function, P, Q, order=2, modes=("rev", "fwd"))
    check_grad(function, Q, P + 1j * P[::-1], order=2)
    check_grad(function, P.astype(np.float32), Q.astype(np.float32), order=2)
    ga, gb = grad_of(function, P, Q)
    sign = -1.0 if function is np.polysub else 1.0
    if function is not np.polymul:
        np.testing.assert_array_equal(ga, np.ones(4))
        np.testing.assert_array_equal(gb, sign * np.ones(3))


@pytest.mark.parametrize("dtype", [*DTYPES, np.complex64], ids=str)
def test_polyder_and_polyint_match_numpy(dtype):
    p = P.astype(dtype)
    for m in range(6):
        assert_matches(np.polyder(Value(p), m), np.polyder(p, m))
        for k in (None, 0.5, [1, 2, 3, 4, 5], np.float32(2.0), random(max(m, 1), dtype)):
            assert_matches(np.polyint(Value(p), m, k), np.polyint(p, m, k))
            assert_matches(np.polyint(Value(p), m=m, k=k), np.polyint(p, m=m, k=k))
    assert np.polyder(Value(P.astype(np.float32))).dtype == np.float64  # as numpy
    assert np.polyder(Value(P), 1.7).shape == (3,)  # int(m), as numpy


def test_polyint_constants_are_differentiable_and_polyder_undoes_polyint():
    k = np.array([0.5, -1.0])
    check_grad(lambda p, k: np.polyint(p, 2, k), P, k, order=2, modes=("rev", "fwd"))
    check_grad(lambda p, k: np.polyint(p, 3, k), P + 1j, np.array([0.25j]), order=2)
    _, gk = grad_of(lambda p, k: np.polyint(p, 2, k) * np.arange(1.0, 7.0), P, k)
    np.testing.assert_allclose(gk, [5.0, 6.0])  # k[0] lands before the last, k[1] last
    back = np.polyder(np.polyint(Value(P), 3, k=Value(np.array([1.0, 2.0, 3.0]))), 3)
    np.testing.assert_allclose(back.data, P, rtol=1e-12)


def test_polyder_gradients():
    for m in range(4):
        check_grad(lambda p, m=m: np.polyder(p, m), P, order=2)
        check_grad(lambda p, m=m: np.polyder(p, m), P - 1j * P, order=2)
    (gp,) = grad_of(lambda p: np.polyder(p), P)
    np.testing.assert_array_equal(gp, [3.0, 2.0, 1.0, 0.0])


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: np.polyval(Value(2.0), 3.0), TypeError, "polyval: iteration over a 0-d array"),
    (lambda: np.polyval(Value(P), np.poly1d([1.0, 2.0])), TypeError, "polyval: .*poly1d"),
    (lambda: np.polymul(Value(np.ones((2, 2))), [1.0]), ValueError,
     "polymul: Polynomial must be 1d only"),
    (lambda: np.polyadd(Value(np.ones((2, 2))), [1.0, 2.0, 3.0]), ValueError, "polyadd: "),
    (lambda: np.polyder(Value(P), -1), ValueError, "polyder: Order of derivative must be"),
    (lambda: np.polyder(Value(2.0)), TypeError, "polyder: len.. of unsized object"),
    (lambda: np.polyint(Value(P), -1), ValueError, "polyint: Order of integral must be"),
    (lambda: np.polyint(Value(P), 3, k=[1.0, 2.0]), ValueError, "polyint: k must be a scalar"),
    (lambda: np.polyint(Value(2.0)), TypeError, "polyint: len.. of unsized object"),
])
def test_polynomial_bad_input_gets_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_polymul_and_interp_refuse_dask_data_by_name():
    da = pytest.importorskip("dask.array")
    with pytest.raises(NotImplementedError, match="polymul"):
        np.polymul(Value(da.from_array(P)), Q)
    with pytest.raises(NotImplementedError, match="interp"):
        np.interp(Value(da.from_array(X)), XP, FP)


@pytest.mark.parametrize("after", [np.inf, np.nan, -np.inf])
def test_interp_on_a_knot_before_an_infinite_value_is_that_knots_value(after):
    """numpy returns fp[j] for x exactly on knot j before trying the segment: autodiff
    computed the segment, got inf·0 = nan and returned nan where numpy gives 0."""
    xp, fp = [0.0, 1.0, 2.0], [0.0, after, 2.0]
    x = Value(np.array([0.0, 2.0]))
    got = np.interp(x, xp, Value(fp))
    np.testing.assert_array_equal(got.data, np.interp(x.data, xp, fp))


@pytest.mark.parametrize("function", [np.convolve, np.correlate])
@pytest.mark.parametrize("mode", [True, False, np.True_])
def test_a_boolean_mode_is_refused_as_numpy_refuses_it(function, mode):
    """True and False were read as modes 1 ('same') and 0 ('valid')."""
    with pytest.raises(TypeError, match="mode not understood"):
        function(Value(np.array([1.0, 2.0])), np.array([1.0, 1.0]), mode=mode)
