"""Every built-in operation's first and second derivatives against finite differences.

Inputs are drawn by the project's own hypothesis strategies (`autodiff.testing.strategies`)
in float64 and float32, over drawn shapes (broadcasting pairs included), and kept away from
kinks, ties and domain edges. `check_grad(order=2)` checks first derivatives and the
Hessian-vector product obtained by differentiating the gradient again.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff
from autodiff.testing import check_grad
from autodiff.testing.strategies import arrays, broadcastable_shapes, shapes

# Few examples per test (there are many tests), derandomized so CI sees the same cases.
gradient_settings = settings(
    max_examples=25, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DTYPES = [np.float64, np.float32]
dtype_param = pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
small_shapes = shapes(max_dims=3, max_side=3)


def check(f, *args, modes=("rev",)):
    """First and second derivatives of f at args against finite differences."""
    return check_grad(f, *args, order=2, modes=modes)


@st.composite
def separated_pair(draw, dtype, shape_pair=None):
    """Two arrays of broadcastable shapes with every element of one at least a margin
    away from every element of the other (no ties for maximum/minimum)."""
    shape_a, shape_b = draw(shape_pair or broadcastable_shapes(2, max_dims=3, max_side=3))
    size_a = int(np.prod(shape_a))
    joined = draw(arrays(size_a + int(np.prod(shape_b)), dtype, distinct=True))
    return joined[:size_a].reshape(shape_a), joined[size_a:].reshape(shape_b)


# --------------------------------------------------------------------------- arithmetic

BINARY = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "divide": lambda a, b: a / b,
}


@dtype_param
@pytest.mark.parametrize("name", sorted(BINARY))
@gradient_settings
@given(data=st.data())
def test_binary_arithmetic_broadcasting(name, dtype, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    a = data.draw(arrays(shape_a, dtype))
    b = data.draw(arrays(shape_b, dtype, avoid=(0.0,), margin=0.5))  # a safe denominator
    check(BINARY[name], a, b)


@dtype_param
@gradient_settings
@given(data=st.data())
def test_constants_on_either_side(dtype, data):
    shape = data.draw(small_shapes)
    x = data.draw(arrays(shape, dtype, low=0.5, high=2.0))
    constant = data.draw(arrays(shape, dtype, low=0.5, high=2.0))
    check(lambda v: 2 * v + 1 - v - (3 - v) + constant * v / 4, x)
    check(lambda v: 3 / v + constant / v - v / constant, x)
    check(lambda v: 2.0 ** v + constant ** v, x)


@dtype_param
@pytest.mark.parametrize("exponent", [2, 3, -1, 0.5, 1.5, -0.5, 0])
@gradient_settings
@given(data=st.data())
def test_power_with_number_exponent(exponent, dtype, data):
    integer = float(exponent).is_integer()
    # x ** 0 at x = 0 is covered by test_power_at_zero_base
    x = data.draw(arrays(small_shapes, dtype, low=-2.0 if integer else 0.3, high=2.0,
                         avoid=(0.0,) if exponent <= 0 else (), margin=0.3))
    check(lambda v: v ** exponent, x)


@dtype_param
@pytest.mark.parametrize("exponent", [0, 1])
def test_power_at_zero_base(exponent, dtype):
    """x ** 0 = 1 and x ** 1 = x have derivatives 0 and 1 everywhere, and second
    derivatives 0, including at x = 0 (where x^(exponent − 1) or x^(exponent − 2) is inf)."""
    x = np.array([0.0, 1.5], dtype=dtype)
    check(lambda v: v ** exponent, x)
    check(lambda v: v ** exponent, 0.0)


@gradient_settings
@given(data=st.data())
def test_mixed_float32_and_float64_operands(data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    a = data.draw(arrays(shape_a, np.float32))
    b = data.draw(arrays(shape_b, np.float64, avoid=(0.0,), margin=0.5))
    check(lambda x, y: (x * y + x / y - y).tanh(), a, b)


@dtype_param
@gradient_settings
@given(data=st.data())
def test_power_with_value_exponent_broadcasting(dtype, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    base = data.draw(arrays(shape_a, dtype, low=0.3, high=2.0))
    exponent = data.draw(arrays(shape_b, dtype))
    check(lambda a, b: a ** b, base, exponent)


@dtype_param
@gradient_settings
@given(data=st.data())
def test_negation(dtype, data):
    check(lambda v: -v * v, data.draw(arrays(small_shapes, dtype)))


# --------------------------------------------------------------------------- matmul

@st.composite
def matmul_shapes(draw):
    """Operand shapes covering 1-D, 2-D, batched and broadcast-batch products."""
    n, k, m = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["vec-vec", "mat-vec", "vec-mat", "mat-mat", "batched",
                                 "broadcast-batch", "batch-vec", "vec-batch"]))
    return {
        "vec-vec": ((k,), (k,)),
        "mat-vec": ((n, k), (k,)),
        "vec-mat": ((k,), (k, m)),
        "mat-mat": ((n, k), (k, m)),
        "batched": ((batch, n, k), (batch, k, m)),
        "broadcast-batch": ((1, n, k), (2, batch, k, m)),
        "batch-vec": ((batch, n, k), (k,)),
        "vec-batch": ((k,), (batch, k, m)),
    }[kind]


@dtype_param
@gradient_settings
@given(data=st.data())
def test_matmul_all_ranks(dtype, data):
    shape_a, shape_b = data.draw(matmul_shapes())
    a, b = data.draw(arrays(shape_a, dtype)), data.draw(arrays(shape_b, dtype))
    check(lambda x, y: x @ y, a, b, modes=("rev", "fwd"))


@dtype_param
@gradient_settings
@given(data=st.data())
def test_matmul_with_array_on_either_side(dtype, data):
    a = data.draw(arrays((2, 3), dtype))
    b = data.draw(arrays((3, 2), dtype))
    check(lambda x: a @ x, b)
    check(lambda x: x @ b, a)


# --------------------------------------------------------------------------- elementwise

ANYWHERE = ["tanh", "sigmoid", "exp", "sin", "cos"]
POSITIVE = ["log", "sqrt"]
KINKED = ["relu", "abs"]


@dtype_param
@pytest.mark.parametrize("name", ANYWHERE + POSITIVE + KINKED)
@gradient_settings
@given(data=st.data())
def test_elementwise(name, dtype, data):
    if name in POSITIVE:
        x = data.draw(arrays(small_shapes, dtype, low=0.3, high=3.0))
    elif name in KINKED:
        x = data.draw(arrays(small_shapes, dtype, avoid=(0.0,), margin=0.1))
    else:
        x = data.draw(arrays(small_shapes, dtype))
    check(lambda v: getattr(v, name)(), x, modes=("rev", "fwd"))
    # the module-level function is the same primitive
    function = autodiff.absolute if name == "abs" else getattr(autodiff, name)
    check(function, x)


@dtype_param
@gradient_settings
@given(data=st.data())
def test_clip(dtype, data):
    lo, hi = sorted(data.draw(st.lists(st.sampled_from([-1.5, -0.5, 0.0, 0.5, 1.5]),
                                       min_size=2, max_size=2, unique=True)))
    x = data.draw(arrays(small_shapes, dtype, avoid=(lo, hi), margin=0.1))
    check(lambda v: v.clip(lo, hi), x)
    check(lambda v: v.clip(lo, None), x)
    check(lambda v: v.clip(None, hi), x)


@gradient_settings
@given(data=st.data())
def test_astype_between_float32_and_float64(data):
    x32 = data.draw(arrays(small_shapes, np.float32))
    x64 = data.draw(arrays(small_shapes, np.float64))
    check(lambda v: v.astype(np.float64).sin(), x32)
    check(lambda v: v.astype(np.float32).sin(), x64)
    check(lambda v: v.astype(np.float32) * v, x32)


# --------------------------------------------------------------------------- reductions

@st.composite
def axis_for(draw, shape, allow_tuple=True):
    ndim = len(shape)
    options: list = [None, *range(ndim), *range(-ndim, 0)]
    if allow_tuple and ndim >= 2:
        options.append(tuple(sorted(draw(st.sets(st.integers(0, ndim - 1), min_size=2,
                                                  max_size=ndim)))))
    return draw(st.sampled_from(options))


@dtype_param
@pytest.mark.parametrize("name", ["sum", "mean", "logsumexp"])
@gradient_settings
@given(data=st.data())
def test_sum_mean_logsumexp(name, dtype, data):
    x = data.draw(arrays(small_shapes, dtype))
    axis = data.draw(axis_for(x.shape))
    keepdims = data.draw(st.booleans())
    check(lambda v: getattr(v, name)(axis=axis, keepdims=keepdims), x)


@dtype_param
@pytest.mark.parametrize("name", ["max", "min"])
@gradient_settings
@given(data=st.data())
def test_max_min_without_ties(name, dtype, data):
    x = data.draw(arrays(small_shapes, dtype, distinct=True))
    axis = data.draw(axis_for(x.shape))
    keepdims = data.draw(st.booleans())
    check(lambda v: getattr(v, name)(axis=axis, keepdims=keepdims) * 1.5, x)


@dtype_param
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@gradient_settings
@given(data=st.data())
def test_softmax_family(name, dtype, data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=3, max_side=3), dtype))
    axis = data.draw(axis_for(x.shape, allow_tuple=False).filter(lambda a: a is not None))
    check(lambda v: getattr(v, name)(axis=axis), x)
    check(lambda v: getattr(autodiff, name)(v, axis=axis), x)


@dtype_param
@gradient_settings
@given(data=st.data())
def test_softmax_family_at_large_inputs(dtype, data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=2, max_side=3), dtype, low=-6, high=6))
    check(lambda v: (v + 1000).log_softmax(axis=-1), x)
    check(lambda v: (v - 1000).softmax(axis=-1), x)
    check(lambda v: (v + 1000).logsumexp(axis=-1), x)


# --------------------------------------------------------------------------- shapes

@dtype_param
@gradient_settings
@given(data=st.data())
def test_reshape_transpose(dtype, data):
    x = data.draw(arrays(small_shapes, dtype))
    axes = tuple(data.draw(st.permutations(range(x.ndim))))
    check(lambda v: v.reshape(-1) * 2, x)
    check(lambda v: v.reshape(x.shape[::-1]).sin(), x)
    check(lambda v: v.reshape(1, *x.shape).sin(), x)
    check(lambda v: v.transpose(*axes).sin(), x)
    check(lambda v: v.transpose().sin(), x)
    check(lambda v: v.T.sin() * np.arange(x.size).reshape(x.shape[::-1]), x)


@st.composite
def indices(draw, shape):
    """An index for `shape`: ints, slices, None, ..., integer arrays with repeats, masks."""
    n = shape[0]
    kind = draw(st.sampled_from(["int", "negative int", "slice", "newaxis-ellipsis",
                                 "int array", "int array 2-D", "mask", "mask axis 0",
                                 "mixed"]))
    if kind == "int":
        return draw(st.integers(0, n - 1))
    if kind == "negative int":
        return draw(st.integers(-n, -1))
    if kind == "slice":
        start = draw(st.integers(0, n - 1))
        return slice(start, draw(st.integers(start + 1, n)), draw(st.integers(1, 2)))
    if kind == "newaxis-ellipsis":
        return (None, Ellipsis, slice(0, 1))
    if kind == "int array":
        picks = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))
        return np.array([*picks, picks[0]])  # a repeated index accumulates
    if kind == "int array 2-D":
        return draw(hnp.arrays(np.int64, (2, 2), elements=st.integers(-n, n - 1)))
    if kind == "mask":
        mask = draw(hnp.arrays(np.bool_, shape))
        mask.reshape(-1)[0] = True
        return mask
    if kind == "mask axis 0":
        return draw(hnp.arrays(np.bool_, (n,)))
    rows = np.array(draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=3)))
    return (rows, Ellipsis) if len(shape) == 1 else (rows, slice(None), None)


@dtype_param
@gradient_settings
@given(data=st.data())
def test_indexing(dtype, data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=3, max_side=3), dtype))
    index = data.draw(indices(x.shape))
    check(lambda v: v[index].sin() * 2, x)


@dtype_param
@gradient_settings
@given(data=st.data())
def test_indexing_with_comparison_masks(dtype, data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=2, max_side=3), dtype, avoid=(0.0,)))
    # `v > 0` gives a plain boolean array, the usual way to build a mask
    check(lambda v: v[v > 0].sum() + v[np.array([0, 0, -1])].exp().sum(), x)


@dtype_param
@pytest.mark.parametrize("join", ["concatenate", "stack"])
@gradient_settings
@given(data=st.data())
def test_concatenate_and_stack(join, dtype, data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=3))
    count = data.draw(st.integers(1, 3))
    xs = [data.draw(arrays(shape, dtype)) for _ in range(count)]
    ndim = len(shape) + (join == "stack")
    axis = data.draw(st.integers(-ndim, ndim - 1))
    weights = np.arange(1, count + 1)

    def joined(*vs):
        scaled = [v * w for v, w in zip(vs, weights, strict=True)]  # each input its own factor
        return getattr(autodiff, join)(scaled, axis=axis).sin()

    check(joined, *xs)


@dtype_param
@gradient_settings
@given(data=st.data())
def test_where_broadcasting(dtype, data):
    shape_c, shape_a, shape_b = data.draw(broadcastable_shapes(3, max_dims=3, max_side=3))
    condition = data.draw(hnp.arrays(np.bool_, shape_c))
    a, b = data.draw(arrays(shape_a, dtype)), data.draw(arrays(shape_b, dtype))
    check(lambda x, y: autodiff.where(condition, x.sin(), y * y), a, b)


@dtype_param
@pytest.mark.parametrize("name", ["maximum", "minimum"])
@gradient_settings
@given(data=st.data())
def test_maximum_minimum_broadcasting(name, dtype, data):
    a, b = data.draw(separated_pair(dtype))
    check(lambda x, y: getattr(autodiff, name)(x, y) ** 2, a, b)
    c = data.draw(arrays(small_shapes, dtype, avoid=(0.25,), margin=0.1))
    check(lambda x: getattr(autodiff, name)(x, 0.25) ** 2, c)
    check(lambda x: getattr(autodiff, name)(0.25, x) ** 2, c)
