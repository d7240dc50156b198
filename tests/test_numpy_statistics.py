"""numpy's reductions and statistics on Values (autodiff/ops/statistics.py): numpy's
keywords, exact gradients at zeros, order statistics, the nan-functions, weighted averages,
and the functions whose results are constants."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autodiff
from autodiff import Value
from autodiff.testing import check_grad

X = np.array([[0.5, -1.2, 2.0, 0.7], [1.5, 0.3, -0.4, 1.1], [-0.9, 0.8, 1.3, -1.7]])


def grad_of(f, x):
    v = Value(np.array(x, dtype=float))
    f(v).sum().backward()
    return v.grad


# --------------------------------------------------------------------------- keywords


@pytest.mark.parametrize("function", [np.prod, np.var, np.std, np.ptp, np.nansum, np.nanmean,
                                      np.nanmax, np.nanmin, np.median])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1), (-1, 0)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_axes_and_keepdims_match_numpy(function, axis, keepdims):
    got = function(Value(X), axis=axis, keepdims=keepdims)
    expected = function(X, axis=axis, keepdims=keepdims)
    assert isinstance(got, Value)
    assert np.shape(got.data) == np.shape(expected)
    np.testing.assert_allclose(got.data, expected, rtol=1e-12)


@pytest.mark.parametrize("function", [np.var, np.std])
@pytest.mark.parametrize("ddof", [0, 1, 2])
def test_ddof_and_correction(function, ddof):
    np.testing.assert_allclose(function(Value(X), axis=1, ddof=ddof).data,
                               function(X, axis=1, ddof=ddof))
    np.testing.assert_allclose(function(Value(X), axis=1, correction=ddof).data,
                               function(X, axis=1, correction=ddof))
    check_grad(lambda v: function(v, axis=(0, 1), ddof=ddof), X, order=2)


def test_ddof_as_large_as_the_count_gives_numpys_inf_with_its_warning():
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"):
        got = np.var(Value(X), axis=0, ddof=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(got.data, np.var(X, axis=0, ddof=3))


@pytest.mark.parametrize("function", [np.var, np.std, np.prod, np.nansum, np.nanmean])
def test_where_is_a_constant_mask(function):
    mask = X > -0.5
    kwargs = {"ddof": 1} if function in (np.var, np.std) else {}
    got = function(Value(X), axis=1, where=mask, **kwargs)
    np.testing.assert_allclose(got.data, function(X, axis=1, where=mask, **kwargs))
    g = grad_of(lambda v: function(v, axis=1, where=mask, **kwargs), X)
    assert np.all(g[~mask] == 0)
    check_grad(lambda v: function(v, axis=1, where=mask, **kwargs), X, order=2)


def test_refused_keywords_say_so():
    v = Value(X)
    with pytest.raises(TypeError, match="out="):
        np.prod(v, out=np.empty(()))
    with pytest.raises(TypeError, match="mean="):
        np.var(v, mean=np.mean(X))
    with pytest.raises(TypeError, match="where="):
        np.nanmax(v, where=X > 0)
    with pytest.raises(TypeError, match="boolean"):
        np.var(v, where=np.ones_like(X))
    with pytest.raises(NotImplementedError, match="method='linear'"):
        np.quantile(v, 0.5, method="nearest")
    with pytest.raises(TypeError, match="axis must be an int"):
        np.cumsum(v, axis=(0, 1))


def test_methods_and_ufunc_reduce_accumulate():
    v = Value(X)
    np.testing.assert_allclose(v.prod(axis=0).data, X.prod(axis=0))
    np.testing.assert_allclose(v.var(ddof=1).data, X.var(ddof=1))
    np.testing.assert_allclose(v.std(axis=-1, keepdims=True).data, X.std(axis=-1, keepdims=True))
    np.testing.assert_allclose(v.cumsum().data, X.cumsum())
    np.testing.assert_allclose(v.cumprod(axis=1).data, X.cumprod(axis=1))
    np.testing.assert_allclose(v.ptp(axis=0).data, np.ptp(X, axis=0))
    np.testing.assert_allclose(np.multiply.reduce(v, axis=1).data, np.multiply.reduce(X, axis=1))
    np.testing.assert_allclose(np.add.accumulate(v).data, np.add.accumulate(X))
    np.testing.assert_allclose(np.multiply.accumulate(v, axis=1).data,
                               np.multiply.accumulate(X, axis=1))


def test_float32_stays_float32():
    v = Value(X.astype(np.float32))
    for result in (np.prod(v), np.var(v, axis=0), np.std(v), np.nanmean(v, axis=1),
                   np.median(v), np.quantile(v, [0.2, 0.8]), np.cumprod(v), np.average(v)):
        assert result.dtype == np.float32


# --------------------------------------------------------------------------- prod, cumprod


def test_prod_with_one_zero_gradient_is_the_product_of_the_others():
    x = np.array([2.0, 0.0, 3.0, -1.5])
    np.testing.assert_array_equal(grad_of(np.prod, x), [0.0, 2.0 * 3.0 * -1.5, 0.0, 0.0])
    check_grad(np.prod, x, order=2)


def test_prod_with_two_zeros_gradient_is_zero_and_hessian_exact():
    x = np.array([2.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(grad_of(np.prod, x), np.zeros(4))
    hessian = np.asarray(autodiff.hessian(np.prod)(x))
    expected = np.zeros((4, 4))
    expected[1, 3] = expected[3, 1] = 6.0  # ∂²/∂x₁∂x₃ = x₀ x₂
    np.testing.assert_array_equal(hessian, expected)


def test_prod_with_zeros_over_several_axes():
    x = np.array([[[1.0, 0.0], [2.0, 3.0]], [[4.0, 5.0], [0.0, 6.0]]])
    g = grad_of(lambda v: np.prod(v, axis=(0, 2)), x)
    np.testing.assert_array_equal(g, [[[0.0, 20.0], [0.0, 0.0]], [[0.0, 0.0], [36.0, 0.0]]])
    check_grad(lambda v: np.prod(v, axis=(0, -1), keepdims=True), x, order=2)


def test_prod_dtype_and_initial():
    np.testing.assert_allclose(np.prod(Value(X), axis=0, initial=2.0).data,
                               np.prod(X, axis=0, initial=2.0))
    assert np.prod(Value(X), dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("x", [[2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 1.5, -2.0], [1.5, -2.0, 0.0]])
def test_cumprod_with_zeros_is_exact_to_second_order(x):
    x = np.array(x)
    check_grad(np.cumprod, x, order=2)
    g = grad_of(np.cumprod, x)
    expected = [sum(np.prod(np.delete(x[:i + 1], j)) for i in range(j, len(x)))
                for j in range(len(x))]
    np.testing.assert_allclose(g, expected)


def test_cumsum_and_cumprod_flatten_when_axis_is_none():
    assert np.cumsum(Value(X)).shape == (X.size,)
    check_grad(np.cumsum, X, order=2)
    check_grad(lambda v: np.cumprod(v, axis=-2), X, order=2)


# --------------------------------------------------------------------------- var, std


def test_std_at_zero_variance_has_zero_gradient_as_pytorch():
    v = Value(np.full(4, 1.5))
    np.std(v).backward()
    np.testing.assert_array_equal(v.grad, np.zeros(4))


def test_complex_variance_is_the_mean_squared_modulus():
    z = X[0] + 1j * X[1]
    got = np.var(Value(z))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got.data, np.var(z))
    np.testing.assert_allclose(np.std(Value(z), ddof=1).data, np.std(z, ddof=1))


# --------------------------------------------------------------------------- order statistics


def test_median_odd_count_gradient_goes_to_the_middle():
    x = np.array([3.0, -1.0, 2.0, 5.0, 0.0])
    assert np.median(Value(x)).data == 2.0
    np.testing.assert_array_equal(grad_of(np.median, x), [0, 0, 1, 0, 0])


def test_median_even_count_is_numpys_mean_of_the_two_middle_values():
    x = np.array([3.0, -1.0, 2.0, 5.0])
    assert np.median(Value(x)).data == 2.5
    np.testing.assert_array_equal(grad_of(np.median, x), [0.5, 0, 0.5, 0])


def test_median_ties_go_to_the_element_a_stable_sort_puts_there():
    np.testing.assert_array_equal(grad_of(np.median, [2.0, 1.0, 2.0]), [1, 0, 0])
    np.testing.assert_array_equal(grad_of(np.median, [1.0, 2.0, 2.0, 3.0]), [0, 0.5, 0.5, 0])
    # the gradient sums to 1 however ties are broken
    assert grad_of(np.median, [4.0, 4.0, 4.0, 4.0]).sum() == 1.0


def test_median_over_axes_and_with_nan():
    check_grad(lambda v: np.median(v, axis=(0, 1)), X, order=2)
    check_grad(lambda v: np.median(v, axis=0, keepdims=True), X, order=2)
    x = np.array([[1.0, np.nan, 3.0], [1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(np.median(Value(x), axis=1).data, np.median(x, axis=1))


@pytest.mark.parametrize("q", [0.0, 0.35, 0.5, 1.0, [0.1, 0.9], np.array([[0.25], [0.6]])])
@pytest.mark.parametrize("axis", [None, 1, (0, -1)])
def test_quantile_and_percentile_match_numpy(q, axis):
    for keepdims in (False, True):
        got = np.quantile(Value(X), q, axis=axis, keepdims=keepdims)
        expected = np.quantile(X, q, axis=axis, keepdims=keepdims)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got.data, expected, rtol=1e-12)
        p = np.asarray(q) * 100
        got = np.percentile(Value(X), p, axis=axis, keepdims=keepdims)
        np.testing.assert_allclose(got.data, np.percentile(X, p, axis=axis, keepdims=keepdims))
    check_grad(lambda v: np.quantile(v, q, axis=axis), X, order=2)


def test_quantile_gradient_interpolates_between_the_sorted_neighbours():
    x = np.array([4.0, 1.0, 3.0, 2.0])  # sorted: 1 2 3 4; q = 0.4 → index 1.2
    np.testing.assert_allclose(grad_of(lambda v: np.quantile(v, 0.4), x), [0, 0, 0.2, 0.8])


def test_quantile_q_is_a_checked_constant():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        np.quantile(Value(X), 1.5)
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        np.percentile(Value(X), -1)
    with pytest.raises(TypeError, match="q is a constant"):
        np.quantile(Value(X), Value(0.5))


# --------------------------------------------------------------------------- nan-functions


NAN_X = np.array([[1.0, np.nan, -2.0], [0.5, 3.0, np.nan]])


@pytest.mark.parametrize("function", [np.nansum, np.nanmean, np.nanmax, np.nanmin])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_nan_functions_ignore_nan(function, axis):
    got = function(Value(NAN_X), axis=axis)
    np.testing.assert_allclose(got.data, function(NAN_X, axis=axis))
    g = grad_of(lambda v: function(v, axis=axis), NAN_X)
    assert np.all(g[np.isnan(NAN_X)] == 0) and np.all(np.isfinite(g))


def test_nan_function_gradients():
    np.testing.assert_array_equal(grad_of(np.nansum, NAN_X), [[1, 0, 1], [1, 1, 0]])
    np.testing.assert_array_equal(grad_of(lambda v: np.nanmean(v, axis=1), NAN_X),
                                  [[0.5, 0, 0.5], [0.5, 0.5, 0]])
    np.testing.assert_array_equal(grad_of(np.nanmax, NAN_X), [[0, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(grad_of(np.nanmin, NAN_X), [[0, 0, 1], [0, 0, 0]])


def test_all_nan_slices_give_numpys_nan_and_warning():
    x = np.array([[np.nan, np.nan], [1.0, 2.0]])
    with pytest.warns(RuntimeWarning, match="All-NaN"):
        got = np.nanmax(Value(x), axis=1)
    np.testing.assert_array_equal(got.data, [np.nan, 2.0])
    with pytest.warns(RuntimeWarning, match="empty slice"):
        got = np.nanmean(Value(x), axis=1)
    np.testing.assert_array_equal(got.data, [np.nan, 1.5])
    v = Value(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.nanmean(v, axis=1)[1].backward()
    np.testing.assert_array_equal(v.grad, [[0, 0], [0.5, 0.5]])


# --------------------------------------------------------------------------- average


def test_average_is_differentiable_in_data_and_weights():
    w = np.array([[1.0, 2.0, 0.5, 1.0], [0.3, 1.0, 2.0, 1.0], [1.0, 1.0, 1.0, 4.0]])
    for axis in (None, 0, 1, (0, 1)):
        np.testing.assert_allclose(np.average(Value(X), axis=axis, weights=Value(w)).data,
                                   np.average(X, axis=axis, weights=w))
        check_grad(lambda a, b, axis=axis: np.average(a, axis=axis, weights=b), X, w, order=2)


def test_average_with_one_dimensional_weights_and_returned():
    w = np.array([1.0, 3.0, 2.0])
    avg, total = np.average(Value(X), axis=0, weights=Value(w), returned=True)
    expected_avg, expected_total = np.average(X, axis=0, weights=w, returned=True)
    np.testing.assert_allclose(avg.data, expected_avg)
    np.testing.assert_allclose(total.data, expected_total)
    check_grad(lambda a, b: np.average(a, axis=0, weights=b), X, w, order=2)
    with pytest.raises(ZeroDivisionError):
        np.average(Value(X), axis=0, weights=np.array([1.0, -1.0, 0.0]))
    with pytest.raises(TypeError, match="axis must be specified"):
        np.average(Value(X), weights=w)


# --------------------------------------------------------------------------- constants


def test_constant_functions_return_plain_numpy():
    v = Value(X)
    for function, args in [
        (np.argmax, ()), (np.argmin, ()), (np.nanargmax, ()), (np.nanargmin, ()),
        (np.argsort, ()), (np.argpartition, (1,)), (np.nonzero, ()), (np.flatnonzero, ()),
        (np.argwhere, ()), (np.count_nonzero, ()), (np.shape, ()), (np.ndim, ()),
        (np.size, ()), (np.zeros_like, ()), (np.ones_like, ()), (np.full_like, (7.0,)),
        (np.isclose, (X,)), (np.allclose, (X,)), (np.array_equal, (X,)),
        (np.array_equiv, (X,)), (np.digitize, (np.array([0.0, 1.0]),)),
    ]:
        got, expected = function(v, *args), function(X, *args)
        assert not isinstance(got, Value), function
        for a, b in zip(got if isinstance(got, tuple) else (got,),
                        expected if isinstance(expected, tuple) else (expected,), strict=True):
            np.testing.assert_array_equal(a, b)
    assert np.empty_like(v).shape == X.shape and not isinstance(np.empty_like(v), Value)
    assert np.searchsorted(Value(np.sort(X[0])), 0.6) == np.searchsorted(np.sort(X[0]), 0.6)
    assert np.shape(v) == (3, 4) and np.ndim(v) == 2 and np.size(v) == 12


def test_data_dependent_functions_are_not_constants():
    # histogram's bin edges move with the data: treating it as a constant would silently
    # drop gradients (unique has its own rule: its values are a gather of the data)
    with pytest.raises(NotImplementedError, match="no gradient rule"):
        np.histogram(Value(X))


def test_a_list_of_values_handed_to_numpy_raises_the_clear_error():
    x = Value(X)
    with pytest.raises(TypeError, match="list of Values handed to numpy"):
        np.mean([x, x + 2])


@pytest.mark.parametrize("convert", [
    lambda v, s: np.asarray(v), lambda v, s: np.array([v, v]), lambda v, s: np.array([s, s]),
    lambda v, s: np.asarray([s, 2.0]), lambda v, s: np.array(v, dtype=np.float32),
], ids=["asarray", "array-of-arrays", "array-of-scalars", "mixed-list", "array-dtype"])
def test_numpy_conversion_of_a_value_that_requires_grad_is_refused_never_an_object_array(
        convert):
    """np.asarray(v) and np.array([v1, v2]) would leave the graph (an object array, or the
    numbers without their gradient): refused with what to call instead."""
    with pytest.raises(TypeError, match=r"requires grad .*detach\(\)\.numpy\(\)"):
        convert(Value(X), Value(3.0))
    constant = Value(X, requires_grad=False)
    assert np.asarray(constant).dtype == np.float64  # a constant converts as its data


@pytest.mark.parametrize("function", [np.sum, np.mean])
@pytest.mark.parametrize("params", [{}, {"axis": 0}, {"axis": 1, "keepdims": True}])
def test_sum_and_mean_take_a_where_mask_as_numpy_does(function, params):
    # was: TypeError "where= is not supported on Values" (var, std and prod took it)
    a = np.array([[3.0, 1.0, 4.0], [2.0, 5.0, 9.0]])
    mask = np.array([[True, False, True], [False, True, True]])
    np.testing.assert_allclose(function(Value(a), where=mask, **params).data,
                               function(a, where=mask, **params), rtol=1e-15)
    check_grad(lambda v: function(v, where=mask, **params), a, order=2)
    v = Value(a)
    function(v, where=mask, **params).sum().backward()
    assert (v.grad[~mask] == 0).all() and (v.grad[mask] > 0).all()


@pytest.mark.parametrize("params", [{}, {"bias": True}, {"ddof": 2}, {"rowvar": False}])
def test_np_cov_and_corrcoef_match_numpy(params):
    # was: NotImplementedError (np.cov and np.corrcoef had no rule)
    m = np.random.default_rng(0).standard_normal((3, 5))
    a = m.T if params.get("rowvar") is False else m
    np.testing.assert_allclose(np.cov(Value(a), **params).data, np.cov(a, **params), rtol=1e-13)
    check_grad(lambda v: np.cov(v, **params), a, order=2)
    rowvar = params.get("rowvar", True)
    np.testing.assert_allclose(np.corrcoef(Value(a), rowvar=rowvar).data,
                               np.corrcoef(a, rowvar=rowvar), rtol=1e-13)
    check_grad(lambda v: np.corrcoef(v, rowvar=rowvar), a, order=2)


def test_np_cov_of_two_variables_and_of_complex_data():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(5), rng.standard_normal(5)
    np.testing.assert_allclose(np.cov(Value(x), y).data, np.cov(x, y), rtol=1e-13)
    check_grad(lambda u, w: np.cov(u, w), x, y, order=2)
    z = rng.standard_normal((2, 4)) + 1j * rng.standard_normal((2, 4))
    np.testing.assert_allclose(np.cov(Value(z)).data, np.cov(z), rtol=1e-13)
    check_grad(np.cov, z)
    with pytest.raises(TypeError, match="cov: fweights= and aweights= are not supported"):
        np.cov(Value(x), fweights=np.ones(5, dtype=int))
