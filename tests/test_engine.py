"""The engine's contract: Values, operations, backward, errors, no_grad, memory."""

from __future__ import annotations

import gc
import math
import threading
import warnings
import weakref

import numpy as np
import pytest

import autodiff
from autodiff import Value

# --------------------------------------------------------------------------- construction


@pytest.mark.parametrize(
    ("data", "dtype", "shape"),
    [
        (3, np.float64, ()),
        (2.5, np.float64, ()),
        (True, np.float64, ()),
        ([1, 2, 3], np.float64, (3,)),
        ([[1.0, 2.0]], np.float64, (1, 2)),
        (np.arange(4), np.float64, (4,)),
        (np.array([True, False]), np.float64, (2,)),
        (np.ones(3, dtype=np.float32), np.float32, (3,)),
        (np.ones((2, 2), dtype=np.float16), np.float16, (2, 2)),
        (np.float32(1.5), np.float32, ()),
    ],
)
def test_data_is_converted_like_numpy_floats(data, dtype, shape):
    v = Value(data)
    assert v.dtype == dtype
    assert v.shape == shape
    assert v.ndim == len(shape)
    assert v.size == int(np.prod(shape))


def test_float64_scalars_are_python_floats():
    assert type(Value(3).data) is float
    assert type(Value(np.float64(2.0)).data) is float
    assert isinstance(Value(np.ones(2)).data, np.ndarray)


@pytest.mark.parametrize(
    ("data", "words"),
    [("abc", "str"), (np.array(["a"]), "<U1"), (np.array([object()]), "object"),
     ([[1], [1, 2]], "Value: data")],
)
def test_non_numeric_data_raises_type_error_saying_what_was_given(data, words):
    with pytest.raises(TypeError, match=words):
        Value(data)


def test_attributes_and_conversions():
    v = Value(np.arange(6.0).reshape(2, 3), name="v")
    assert len(v) == 2
    assert v.detach().numpy() is v.data
    assert Value([4.0]).item() == 4.0
    assert Value(np.array([[2.0]], dtype=np.float32)).item() == 2.0
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        v.item()
    with pytest.raises(TypeError, match="0-d"):
        len(Value(1.0))
    assert [row.shape for row in v] == [(3,), (3,)]
    assert v.is_leaf and v.op is None and v.name == "v"
    w = v * 2
    assert w.op == "multiply" and w.inputs == (v,) and not w.is_leaf


def test_repr_is_compact_for_large_arrays():
    big = Value(np.zeros((1000, 1000)), name="big")
    text = repr(big)
    assert len(text) < 120
    assert "(1000, 1000)" in text and "big" in text
    assert repr(Value(-4.0)) == "Value(-4.)"
    assert "grad=" in repr(_backwarded(Value(2.0)))


def _backwarded(v: Value) -> Value:
    (v * v).backward()
    return v


# --------------------------------------------------------------------------- scalar graphs


def test_micrograd_style_scalar_graph():
    # Worked by hand / by the chain rule: the expression from micrograd's README.
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.70408163265306, rel=1e-12)
    assert a.grad == pytest.approx(138.83381924198252, rel=1e-12)
    assert b.grad == pytest.approx(645.5772594752186, rel=1e-12)
    assert type(a.grad) is float


def test_issue_example_scalar_and_tensor():
    a, b = Value(-4.0), Value(2.0)
    d = a * b + b**3
    e = (a + b - d).relu() + d.tanh()
    e.backward()
    # e = tanh(d) since a + b - d < 0; de/dd = 1 - tanh(d)^2
    dd = 1 - math.tanh(0.0) ** 2
    assert a.grad == pytest.approx(dd * 2.0)
    assert b.grad == pytest.approx(dd * (-4.0 + 3 * 4.0))

    rng = np.random.default_rng(0)
    x = Value(rng.standard_normal((32, 3)), requires_grad=False)
    W, c = Value(rng.standard_normal((3, 4))), Value(np.zeros(4))
    loss = (x @ W + c).tanh().sum()
    loss.backward()
    t = np.tanh(x.data @ W.data + c.data)
    np.testing.assert_allclose(W.grad, x.data.T @ (1 - t**2), rtol=1e-12)
    np.testing.assert_allclose(c.grad, (1 - t**2).sum(axis=0), rtol=1e-12)
    assert W.grad.shape == (3, 4) and W.grad.dtype == np.float64
    assert x.grad is None


def test_python_float_scalars_follow_numpy_semantics_at_singularities():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert (Value(1.0) / Value(0.0)).data == math.inf
        assert math.isnan((Value(0.0) / 0.0).data)
        assert Value(1000.0).exp().data == math.inf
        assert Value(0.0).log().data == -math.inf
        assert math.isnan(Value(-1.0).sqrt().data)
        assert math.isnan((Value(-8.0) ** (1 / 3)).data)
        assert (Value(10.0) ** 400).data == math.inf


# --------------------------------------------------------------------------- broadcasting, dtypes


def test_gradients_are_reduced_to_each_input_shape():
    a = Value(np.ones((2, 1, 3)))
    b = Value(np.ones((4, 1)))
    c = Value(np.ones(3))
    d = Value(2.0)
    ((a * b + c) * d).sum().backward()
    assert a.grad.shape == (2, 1, 3) and b.grad.shape == (4, 1) and c.grad.shape == (3,)
    np.testing.assert_array_equal(a.grad, np.full((2, 1, 3), 8.0))
    np.testing.assert_array_equal(b.grad, np.full((4, 1), 12.0))
    np.testing.assert_array_equal(c.grad, np.full(3, 16.0))
    assert d.grad == 48.0 and type(d.grad) is float


def test_float32_stays_float32_through_ops_and_gradients():
    rng = np.random.default_rng(1)
    x = Value(rng.standard_normal((5, 3)).astype(np.float32))
    W = Value(rng.standard_normal((3, 2)).astype(np.float32))
    b = Value(np.zeros(2, dtype=np.float32))
    y = ((x @ W + b).sigmoid() * 2.5 - 1).log_softmax().mean()
    assert y.dtype == np.float32
    y.backward()
    for v in (x, W, b):
        assert v.grad.dtype == np.float32
        assert v.grad.shape == v.shape
    z = Value(np.float32(2.0)) * Value(np.float32(3.0))
    z.backward()
    assert z.dtype == np.float32


def test_leaf_gradient_takes_the_leafs_dtype_when_mixed_with_float64_constants():
    w = Value(np.ones(3, dtype=np.float32))
    (w * np.arange(3.0)).sum().backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad, [0, 1, 2])


def test_reflected_operators_with_numbers_and_arrays():
    v = Value(np.array([1.0, 2.0]))
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    out = (2 * v) + (1 - v) + (6 / v) + (2**v) + (m @ v).sum() + (v @ m).sum() + (m + v).sum()
    assert isinstance(out, Value)
    out.sum().backward()
    x = v.data
    # the three scalar terms are broadcast over v's two elements, so they count twice
    expected = 2 - 1 - 6 / x**2 + np.log(2) * 2**x + 2 * (m.sum(axis=0) + m.sum(axis=1) + 2)
    np.testing.assert_allclose(v.grad, expected, rtol=1e-12)


def test_power_with_value_exponent():
    x, y = Value(3.0), Value(2.0)
    (x**y).backward()
    assert x.grad == pytest.approx(6.0)
    assert y.grad == pytest.approx(9.0 * math.log(3.0))


@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
     ((5, 2, 3), (5, 3, 4)), ((1, 2, 3), (4, 3, 2)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,))],
)
def test_matmul_gradients_for_1d_2d_and_batched(a_shape, b_shape):
    rng = np.random.default_rng(2)
    a, b = Value(rng.standard_normal(a_shape)), Value(rng.standard_normal(b_shape))
    out = a @ b
    cotangent = rng.standard_normal(out.shape)
    out.backward(cotangent if out.ndim else None)
    # d<cotangent, a@b>/da by finite differences along a random direction
    for leaf in (a, b):
        direction = rng.standard_normal(leaf.shape)
        eps = 1e-6
        base = leaf.data
        leaf.data = base + eps * direction
        up = np.sum(np.matmul(a.data, b.data) * (cotangent if out.ndim else 1.0))
        leaf.data = base - eps * direction
        down = np.sum(np.matmul(a.data, b.data) * (cotangent if out.ndim else 1.0))
        leaf.data = base
        assert np.sum(leaf.grad * direction) == pytest.approx((up - down) / (2 * eps), rel=1e-6)
        assert leaf.grad.shape == leaf.shape


# --------------------------------------------------------------------------- kinks, ties, stability


def test_conventions_at_kinks():
    x = Value(np.array([-1.0, 0.0, 2.0]))
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])
    y = Value(np.array([-1.0, 0.0, 2.0]))
    y.abs().sum().backward()
    np.testing.assert_array_equal(y.grad, [-1.0, 0.0, 1.0])
    z = Value(np.array([-2.0, -1.0, 0.5, 1.0, 3.0]))
    z.clip(-1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(z.grad, [0, 1, 1, 1, 0])
    s = Value(0.0)
    s.relu().backward()
    assert s.grad == 0.0


@pytest.mark.parametrize("reduction", ["max", "min"])
def test_ties_share_the_gradient_evenly(reduction):
    x = Value(np.array([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]]))
    getattr(x, reduction)(axis=1).sum().backward()
    if reduction == "max":
        np.testing.assert_allclose(x.grad, [[0.5, 0, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    else:
        np.testing.assert_allclose(x.grad, [[0, 1, 0], [1 / 3, 1 / 3, 1 / 3]])
    y = Value(np.array([1.0, 5.0, 5.0]))
    getattr(y, reduction)(keepdims=True).sum().backward()
    assert y.grad.sum() == pytest.approx(1.0)


def test_maximum_and_minimum_split_ties():
    a, b = Value(np.array([1.0, 2.0, 3.0])), Value(np.array([3.0, 2.0, 1.0]))
    autodiff.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0, 0.5, 1])
    np.testing.assert_array_equal(b.grad, [1, 0.5, 0])
    c = Value(np.array([1.0, 2.0]))
    autodiff.minimum(c, 1.5).sum().backward()
    np.testing.assert_array_equal(c.grad, [1, 0])


def test_softmax_family_is_finite_and_quiet_at_1000():
    data = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for op in ("sigmoid", "softmax", "log_softmax", "logsumexp"):
            x = Value(data)
            out = getattr(x, op)()
            assert np.all(np.isfinite(out.data)), op
            out.sum().backward()
            assert np.all(np.isfinite(x.grad)), op
        for value in (1000.0, -1000.0):
            s = Value(value)
            s.sigmoid().backward()
            assert math.isfinite(s.grad)
    np.testing.assert_allclose(Value(data).softmax().data.sum(axis=-1), [1.0, 1.0])
    assert Value(data).logsumexp().item() == pytest.approx(1000.0)
    np.testing.assert_allclose(
        Value(data).logsumexp(axis=1).data, [1000.0, -1000.0 + math.log(3)]
    )


# --------------------------------------------------------------------------- indexing, joining


def test_indexing_scatter_adds_repeated_indices():
    x = Value(np.arange(12.0).reshape(3, 4))
    picked = x[[0, 0, 2], [1, 1, 3]]
    np.testing.assert_array_equal(picked.data, [1.0, 1.0, 11.0])
    picked.sum().backward()
    expected = np.zeros((3, 4))
    expected[0, 1] = 2
    expected[2, 3] = 1
    np.testing.assert_array_equal(x.grad, expected)


@pytest.mark.parametrize(
    "index",
    [1, -1, slice(1, 3), (Ellipsis, 2), (None, 0), (slice(None), None, 1),
     (np.array([True, False, True]),), np.array([2, 0, 2]), (1, slice(None, None, -1))],
)
def test_indexing_forms(index):
    data = np.arange(12.0).reshape(3, 4)
    x = Value(data)
    out = x[index]
    np.testing.assert_array_equal(out.data, data[index])
    cotangent = np.arange(out.size, dtype=float).reshape(out.shape) + 1
    out.backward(cotangent)
    expected = np.zeros_like(data)
    np.add.at(expected, index, cotangent)
    np.testing.assert_array_equal(x.grad, expected)


def test_boolean_mask_from_a_comparison_and_values_as_indices():
    x = Value(np.array([1.0, -2.0, 3.0]))
    x[x > 0].sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 0, 1])
    with pytest.raises(TypeError, match=r"getitem.*Value of shape \(2,\)"):
        x[Value(np.array([0, 0]), requires_grad=False)]


def test_concatenate_stack_where():
    a, b = Value(np.ones((2, 3))), Value(np.full((1, 3), 2.0))
    joined = autodiff.concatenate([a, b], axis=0)
    assert joined.shape == (3, 3)
    (joined * np.arange(3.0)[:, None]).sum().backward()
    np.testing.assert_array_equal(a.grad, [[0, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(b.grad, [[2, 2, 2]])

    p, q = Value(np.array([1.0, 2.0])), Value(np.array([3.0, 4.0]))
    stacked = autodiff.stack([p, q], axis=1)
    assert stacked.shape == (2, 2)
    (stacked * np.array([[1.0, 10.0], [1.0, 10.0]])).sum().backward()
    np.testing.assert_array_equal(p.grad, [1, 1])
    np.testing.assert_array_equal(q.grad, [10, 10])

    u, w = Value(np.array([1.0, 2.0, 3.0])), Value(5.0)
    chosen = autodiff.where(u.data > 1.5, u, w)
    np.testing.assert_array_equal(chosen.data, [5.0, 2.0, 3.0])
    chosen.sum().backward()
    np.testing.assert_array_equal(u.grad, [0, 1, 1])
    assert w.grad == 1.0


def test_reshape_transpose_and_T():
    x = Value(np.arange(6.0).reshape(2, 3))
    assert x.reshape(3, 2).shape == (3, 2) and x.reshape((6,)).shape == (6,)
    assert x.T.shape == (3, 2)
    y = Value(np.ones((2, 3, 4)))
    assert y.transpose(2, 0, 1).shape == (4, 2, 3)
    (y.transpose(2, 0, 1) * np.arange(4.0)[:, None, None]).sum().backward()
    np.testing.assert_array_equal(y.grad[0, 0], [0, 1, 2, 3])


# --------------------------------------------------------------------------- comparisons, identity


def test_comparisons_return_numpy_booleans_and_record_nothing():
    v = Value(np.array([1.0, 2.0, 3.0]))
    mask = v > 1.5
    assert isinstance(mask, np.ndarray) and mask.dtype == bool
    assert isinstance(Value(1.0) < Value(2.0), np.bool_)
    assert (v >= 2.0).tolist() == [False, True, True]
    assert (v <= v).all() and not (v < 1.0).any()


def test_values_hash_and_compare_by_identity():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a
    assert len({a, b, a}) == 2
    table = {a: "a", b: "b"}
    assert table[a] == "a"


# --------------------------------------------------------------------------- backward


def test_non_scalar_backward_needs_grad_and_names_the_shape():
    v = Value(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"one-element.*\(3, 4\)"):
        (v * 2).backward()
    with pytest.raises(ValueError, match=r"\(2,\).*\(3, 4\)"):
        (v * 2).backward(np.ones(2))
    w = Value(np.ones((1, 1)))
    (w * 3).backward()
    np.testing.assert_array_equal(w.grad, [[3.0]])


def test_backward_twice_doubles_leaves_without_double_counting_intermediates():
    x = Value(2.0)
    h = x * x
    y = h * 3 + h
    y.backward()
    assert x.grad == 16.0 and h.grad == 4.0
    y.backward()
    assert x.grad == 32.0
    assert h.grad == 4.0  # intermediates hold this pass's gradient
    assert y.grad == 1.0


def test_every_value_on_the_way_gets_its_grad():
    x = Value(np.array([1.0, 2.0]))
    h = x.exp()
    s = h.sum()
    s.backward()
    np.testing.assert_allclose(h.grad, [1.0, 1.0])
    np.testing.assert_allclose(x.grad, np.exp([1.0, 2.0]))


def test_constants_detach_and_backward_on_constants():
    c = Value(3.0, requires_grad=False)
    x = Value(2.0)
    (c * x).backward()
    assert c.grad is None and x.grad == 3.0
    d = x.detach()
    assert d.data is x.data and not d.requires_grad
    (d * x).backward()
    assert x.grad == 5.0
    with pytest.raises(RuntimeError, match="does not require grad"):
        (c * 2).backward()


def test_no_grad_context_decorator_and_threads():
    x = Value(1.0)
    with autodiff.no_grad():
        y = x * 2
        assert not autodiff.is_grad_enabled()
    assert autodiff.is_grad_enabled()
    assert not y.requires_grad and y.inputs == ()

    @autodiff.no_grad()
    def double(v):
        return v * 2

    assert not double(x).requires_grad

    seen = {}
    ready, release = threading.Event(), threading.Event()

    def other_thread():
        ready.wait()
        seen["other"] = (x * 3).requires_grad
        release.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with autodiff.no_grad():
        ready.set()
        release.wait(5)
        seen["here"] = (x * 3).requires_grad
    thread.join()
    assert seen == {"other": True, "here": False}


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: Value(np.ones(3)) + Value(np.ones(4)), r"add.*\(3,\).*\(4,\)"),
        (lambda: Value(np.ones(3)) * np.ones((2, 2)), r"multiply.*\(3,\).*\(2, 2\)"),
        (lambda: Value(np.ones((3, 2))) @ Value(np.ones((3, 2))), r"matmul.*\(3, 2\).*\(3, 2\)"),
        (lambda: Value(2.0) @ Value(np.ones(2)), "matmul"),
        (lambda: Value(np.ones(6)).reshape(4, 2), r"reshape.*\(6,\)"),
        (lambda: autodiff.concatenate([Value(np.ones((2, 2))), Value(np.ones((2, 3)))]),
         r"concatenate.*\(2, 2\).*\(2, 3\)"),
        (lambda: autodiff.where(np.ones(2, bool), Value(np.ones(3)), 0.0), "where"),
        (lambda: Value(np.ones(2)).clip(), "clip"),
    ],
)
def test_bad_shapes_raise_at_the_forward_call_naming_op_and_shapes(make, words):
    with pytest.raises(ValueError, match=words):
        make()


def test_index_out_of_range_names_the_operation():
    with pytest.raises(IndexError, match="getitem"):
        Value(np.ones(3))[5]


# --------------------------------------------------------------------------- higher order


def test_create_graph_gives_differentiable_gradients():
    x = Value(3.0)
    y = x**3
    y.backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Value) and first.item() == pytest.approx(27.0)
    x.grad = None
    first.backward()
    assert x.grad == pytest.approx(18.0)


def test_create_graph_on_tensors_gives_hessian_vector_products():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((4, 4))
    A = A + A.T
    x = Value(rng.standard_normal(4))
    (0.5 * (x @ (A @ x))).backward(create_graph=True)
    g = x.grad
    x.grad = None
    v = rng.standard_normal(4)
    (g * v).sum().backward()
    np.testing.assert_allclose(x.grad, A @ v, rtol=1e-10)


def test_functional_transforms_on_plain_numpy():
    f = lambda x: x.tanh()
    t = math.tanh(0.5)
    assert autodiff.grad(f)(0.5) == pytest.approx(1 - t**2)
    assert autodiff.grad(autodiff.grad(f))(0.5) == pytest.approx(-2 * t * (1 - t**2))
    assert autodiff.grad(autodiff.grad(autodiff.grad(f)))(0.5) == pytest.approx(
        -2 * (1 - t**2) ** 2 + 4 * t**2 * (1 - t**2)
    )
    value, gradient = autodiff.value_and_grad(lambda x, y: (x * y).sum(), argnum=1)(
        np.array([1.0, 2.0]), np.array([3.0, 4.0])
    )
    assert value == 11.0
    np.testing.assert_array_equal(gradient, [1.0, 2.0])
    both = autodiff.grad(lambda x, y: (x * y).sum(), argnum=(0, 1))(np.ones(2), np.full(2, 3.0))
    np.testing.assert_array_equal(both[0], [3, 3])
    np.testing.assert_array_equal(both[1], [1, 1])
    with pytest.raises(ValueError, match=r"one element.*\(2,\)"):
        autodiff.grad(lambda x: x * 2)(np.ones(2))


def test_hessian_of_a_quadratic_form_is_its_matrix():
    A = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 4.0]])
    H = autodiff.hessian(lambda x: 0.5 * (x @ (A @ x)))(np.array([1.0, -2.0, 0.5]))
    np.testing.assert_allclose(H, A, atol=1e-12)
    B = np.array([[1.0, 2.0], [0.0, 1.0]])  # not symmetric: Hessian is B + Bᵀ
    np.testing.assert_allclose(autodiff.hessian(lambda x: x @ (B @ x))(np.ones(2)), B + B.T)


def test_jacobian_vjp_and_jvp_agree():
    rng = np.random.default_rng(4)
    W = rng.standard_normal((3, 4))
    f = lambda x: (W @ x).tanh()
    x0 = rng.standard_normal(4)
    J = autodiff.jacobian(f)(x0)
    expected = (1 - np.tanh(W @ x0) ** 2)[:, None] * W
    np.testing.assert_allclose(J, expected, rtol=1e-12)
    out, vjp_fn = autodiff.vjp(f, x0)
    np.testing.assert_allclose(out, np.tanh(W @ x0))
    u = rng.standard_normal(3)
    np.testing.assert_allclose(vjp_fn(u)[0], u @ J, rtol=1e-12)
    t = rng.standard_normal(4)
    out2, tangent = autodiff.jvp(f, (x0,), (t,))
    np.testing.assert_allclose(out2, out)
    np.testing.assert_allclose(tangent, J @ t, rtol=1e-12)
    with pytest.raises(ValueError, match="tangent 0"):
        autodiff.jvp(f, (x0,), (np.ones(3),))


def test_jvp_of_grad_is_a_hessian_vector_product():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    g = autodiff.grad(lambda x: 0.5 * (x @ (A @ x)) + x.sin().sum())
    x0, v = np.array([0.3, -0.2]), np.array([1.0, 2.0])
    _, hv = autodiff.jvp(g, (x0,), (v,))
    np.testing.assert_allclose(hv, A @ v - np.sin(x0) * v, rtol=1e-12)


def test_transforms_return_values_when_given_values_and_leave_grad_alone():
    x = Value(np.array([1.0, 2.0]))
    g = autodiff.grad(lambda v: (v * v).sum())(x)
    assert isinstance(g, Value)
    np.testing.assert_array_equal(g.data, [2.0, 4.0])
    assert x.grad is None


# --------------------------------------------------------------------------- custom primitives


def test_custom_primitive_works_like_a_builtin():
    @autodiff.primitive
    def cube(x):
        """x³"""
        return x**3

    cube.defvjp(lambda g, out, x: g * 3 * x**2)
    assert cube(2.0) == 8.0  # plain numbers in, plain numbers out
    x = Value(np.array([1.0, 2.0]))
    y = cube(x)
    assert y.op == "cube"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 12.0])
    assert autodiff.grad(autodiff.grad(lambda v: cube(v)))(2.0) == pytest.approx(12.0)


def test_primitive_without_rule_says_so():
    @autodiff.primitive
    def mystery(x):
        return x + 1

    x = Value(1.0)
    with pytest.raises(NotImplementedError, match="mystery"):
        mystery(x).backward()


# --------------------------------------------------------------------------- memory and depth


def test_deep_chain_of_a_million_ops_backpropagates():
    x = Value(1.0)
    h = x
    for _ in range(1_000_000):
        h = h * 1.0
    h.backward()
    assert x.grad == 1.0
    del h


def test_dropping_the_loss_frees_the_graph_without_the_cycle_collector():
    gc.collect()
    gc.disable()
    try:
        x = Value(np.ones((100, 10)))
        W = Value(np.ones((10, 10)))
        hidden = (x @ W).tanh()
        probe = weakref.ref(hidden.data)
        loss = hidden.softmax().sum()
        loss.backward()
        grad_probe = weakref.ref(hidden.grad)
        del hidden
        assert probe() is not None
        del loss
        assert probe() is None, "graph arrays outlived the last reference to the loss"
        assert grad_probe() is None
    finally:
        gc.enable()


def test_higher_order_graphs_are_freed_too():
    gc.collect()
    gc.disable()
    try:
        x = Value(np.linspace(0.1, 1.0, 5))
        inner = x.sin()
        probe = weakref.ref(inner.data)
        hvp = autodiff.grad(lambda v: (autodiff.grad(lambda w: w.sin().sum())(v) ** 2).sum())(
            x.data
        )
        assert hvp.shape == (5,)
        del inner
        assert probe() is None
    finally:
        gc.enable()


def test_a_long_training_loop_does_not_grow_memory():
    import tracemalloc

    rng = np.random.default_rng(5)
    X = rng.standard_normal((16, 4))
    y = rng.integers(0, 3, 16)
    W1, W2 = Value(rng.standard_normal((4, 8)) * 0.5), Value(rng.standard_normal((8, 3)) * 0.5)

    def step():
        logits = (X @ W1).relu() @ W2
        loss = -logits.log_softmax(axis=1)[np.arange(16), y].mean()
        W1.grad = W2.grad = None
        loss.backward()
        W1.data -= 0.1 * W1.grad
        W2.data -= 0.1 * W2.grad

    tracemalloc.start()
    try:
        for _ in range(1000):
            step()
        early, _ = tracemalloc.get_traced_memory()
        for _ in range(9000):
            step()
        late, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert late - early < 64 * 1024, f"memory grew by {late - early} bytes over 9,000 steps"


def test_rules_on_python_floats_follow_numpy_at_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for op in ("sqrt", "log"):
            v = Value(0.0)
            getattr(v, op)().backward()
            assert v.grad == math.inf, op
        num, den = Value(1.0), Value(0.0)
        (num / den).backward()
        assert num.grad == math.inf and den.grad == -math.inf


def test_a_tracked_input_that_receives_no_gradient_is_skipped():
    x = Value(np.array([1.0, -2.0]))
    condition = x * 1.0  # tracked, but where's condition carries no gradient
    autodiff.where(condition, x, 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])
    assert condition.grad is None


def test_power_with_zero_exponent_has_finite_derivatives_at_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = Value(0.0)
        (x**0).backward()
        assert x.grad == 0.0
        assert autodiff.grad(autodiff.grad(lambda v: v**1))(0.0) == 0.0
        assert autodiff.grad(autodiff.grad(autodiff.grad(lambda v: v**2)))(0.0) == 0.0


def test_release_graph_frees_activations_and_refuses_a_second_pass():
    import weakref

    rng = np.random.default_rng(0)
    w_data, x = rng.standard_normal((3, 4)), rng.standard_normal((5, 3))
    reference = Value(w_data.copy())
    (Value(x) @ reference).tanh().sum().backward()

    w = Value(w_data.copy())
    hidden = (Value(x) @ w).tanh()
    probe = weakref.ref(hidden)
    loss = hidden.sum()
    del hidden
    loss.backward(release_graph=True)
    assert probe() is None  # the activation did not outlive backward
    assert np.array_equal(w.grad, reference.grad)
    with pytest.raises(RuntimeError, match="release_graph"):
        loss.backward()
    with pytest.raises(ValueError, match="create_graph"):
        (Value(x) @ w).sum().backward(create_graph=True, release_graph=True)


def test_release_graph_on_a_scalar_graph():
    a = Value(1.5)
    loss = (a * a + 1.0).tanh()
    loss.backward(release_graph=True)
    assert a.grad == pytest.approx(2 * 1.5 * (1 - math.tanh(3.25) ** 2))
    with pytest.raises(RuntimeError, match="release_graph"):
        loss.backward()



def test_backward_reaches_a_node_only_after_everything_computed_from_it():
    # Paths of different lengths meet again: the pass (a heap of reached nodes, newest
    # first) must finish the short path's node only once the long path has added its part.
    x = Value(np.array([0.3, -0.7]))
    a = x * 2.0
    long_path = a
    for _ in range(5):
        long_path = long_path.sin()
    total = (a.tanh() + long_path + a * a).sum()
    total.backward()
    h = 1e-6
    def f(data):
        a = data * 2.0
        b = a
        for _ in range(5):
            b = np.sin(b)
        return (np.tanh(a) + b + a * a).sum()
    numeric = [(f(x.data + h * e) - f(x.data - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(x.grad, numeric, rtol=1e-6)


def test_a_stale_node_deep_in_an_array_graph_is_refused():
    x = Value(np.array([1.0, 2.0]))
    c = Value(np.array([3.0, 4.0]), requires_grad=False)
    y = (x * c).sin()
    with autodiff.no_grad():
        c += 1.0  # changes data that the first operation read
    loss = (y.tanh() * 2.0).sum()
    with pytest.raises(RuntimeError, match="changed after multiply used it"):
        loss.backward()
    assert x.grad is None
    x.data[0] = 5.0  # the leaf is writeable again after the refusal
