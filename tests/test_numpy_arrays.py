"""numpy's shape, joining, splitting, tiling, flipping, indexing and sorting functions on
Values (autodiff/ops/arrays.py): numpy dispatch, the gradients that accumulate (repeated
indices, tiles, padding copies), ties in sort and partition, numpy's keyword forms, and
the errors."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff  # noqa: F401  (registers every operation)
from autodiff import Value
from autodiff.testing import check_grad

RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 3, 4))
M = RNG.normal(size=(3, 4))
V = RNG.normal(size=5)
IDX = np.array([[0, 2, 1], [1, 0, 0]])

# (name, function of arrays, arrays): each called once on ndarrays, once on Values.
DISPATCH = [
    ("ravel", lambda a: np.ravel(a), (X,)),
    ("squeeze", lambda a: np.squeeze(a), (X[:, :1, None],)),
    ("squeeze axis", lambda a: np.squeeze(a, axis=-1), (X[..., :1],)),
    ("expand_dims", lambda a: np.expand_dims(a, (0, -1)), (M,)),
    ("moveaxis", lambda a: np.moveaxis(a, (0, -1), (-1, 0)), (X,)),
    ("atleast_1d", lambda a: np.atleast_1d(a), (np.array(2.0),)),
    ("atleast_2d", lambda a: np.atleast_2d(a), (V,)),
    ("atleast_3d 1-D", lambda a: np.atleast_3d(a), (V,)),
    ("atleast_3d 2-D", lambda a: np.atleast_3d(a), (M,)),
    ("hstack", lambda a, b: np.hstack([a, b]), (M, M[:, :2])),
    ("hstack 1-D", lambda a, b: np.hstack((a, b)), (V, V[:2])),
    ("vstack", lambda a, b: np.vstack([a, b]), (V, V)),
    ("dstack", lambda a, b: np.dstack([a, b]), (M, M)),
    ("column_stack", lambda a, b: np.column_stack([a, b]), (M[:, 0], M)),
    ("tile", lambda a: np.tile(a, (2, 1, 3)), (M,)),
    ("tile int", lambda a: np.tile(a, 3), (X,)),
    ("repeat", lambda a: np.repeat(a, 2), (M,)),
    ("repeat array", lambda a: np.repeat(a, [0, 2, 1], axis=0), (M,)),
    ("pad", lambda a: np.pad(a, 1), (M,)),
    ("pad constant", lambda a: np.pad(a, ((1, 0), (0, 2)), constant_values=7.0), (M,)),
    ("pad edge", lambda a: np.pad(a, (2, 1), mode="edge"), (M,)),
    ("pad wrap", lambda a: np.pad(a, 5, mode="wrap"), (M,)),
    ("pad reflect", lambda a: np.pad(a, ((1, 2),), mode="reflect"), (M,)),
    ("pad symmetric", lambda a: np.pad(a, 4, mode="symmetric"), (V,)),
    ("flip", lambda a: np.flip(a), (X,)),
    ("flip axes", lambda a: np.flip(a, (0, -1)), (X,)),
    ("fliplr", lambda a: np.fliplr(a), (M,)),
    ("flipud", lambda a: np.flipud(a), (M,)),
    ("roll", lambda a: np.roll(a, 7), (M,)),
    ("roll axes", lambda a: np.roll(a, (1, -5), axis=(0, -1)), (X,)),
    ("roll same axis twice", lambda a: np.roll(a, (1, 2), axis=(1, 1)), (M,)),
    ("rot90", lambda a: np.rot90(a), (M,)),
    ("triu", lambda a: np.triu(a, -1), (X,)),
    ("tril", lambda a: np.tril(a, 1), (M,)),
    ("tril 1-D", lambda a: np.tril(a), (V,)),
    ("take", lambda a: np.take(a, IDX), (M,)),
    ("take axis", lambda a: np.take(a, [3, -1, 3], axis=-1), (X,)),
    ("take wrap", lambda a: np.take(a, [7, -9], axis=1, mode="wrap"), (M,)),
    ("take clip", lambda a: np.take(a, [7, -9], mode="clip"), (M,)),
    ("take bool", lambda a: np.take(a, np.array([True, False, True])), (V,)),
    ("take_along_axis", lambda a: np.take_along_axis(a, np.argsort(M, 0), 0), (M,)),
    ("take_along_axis None", lambda a: np.take_along_axis(a, np.array([0, 5, 5]), None),
     (M,)),
    ("select", lambda a, b: np.select([M > 0, M < -1], [a, b], default=-3.0), (M, V[:4])),
    ("choose", lambda a, b: np.choose(IDX % 2, [a, b]), (M[:2, :3], V[:3])),
    ("choose wrap", lambda a, b: np.choose(IDX + 4, [a, b], mode="wrap"), (M[:2, :3], V[:3])),
    ("sort", lambda a: np.sort(a), (X,)),
    ("sort axis None", lambda a: np.sort(a, axis=None), (X,)),
    ("sort complex", lambda a: np.sort(a, axis=0), (M + 1j * M[::-1],)),
    ("partition", lambda a: np.partition(a, 2, axis=-2), (X,)),
    ("partition kths", lambda a: np.partition(a, (0, 3)), (V,)),
]


@pytest.mark.parametrize(("name", "function", "arrays"), DISPATCH,
                         ids=[case[0] for case in DISPATCH])
def test_numpy_dispatch_returns_a_value_with_numpys_result(name, function, arrays):
    expected = function(*arrays)
    got = function(*[Value(a, requires_grad=True) for a in arrays])
    assert isinstance(got, Value), f"{name} returned {type(got).__name__}"
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got.data, expected)
    check_grad(function, *arrays)


SPLITS = [  # (name, function, the axis it splits X along)
    ("split", lambda a: np.split(a, 2, axis=-1), 2),
    ("split indices", lambda a: np.split(a, [1, 3], axis=1), 1),
    ("array_split", lambda a: np.array_split(a, 3, axis=2), 2),
    ("array_split past the end", lambda a: np.array_split(a, [2, 9, 1], axis=-1), 2),
    ("hsplit", lambda a: np.hsplit(a, 3), 1),
    ("vsplit", lambda a: np.vsplit(a, [1]), 0),
    ("dsplit", lambda a: np.dsplit(a, 4), 2),
]


@pytest.mark.parametrize(("name", "function", "axis"), SPLITS, ids=[c[0] for c in SPLITS])
def test_split_family_returns_lists_of_values(name, function, axis):
    expected = function(X)
    x = Value(X, requires_grad=True)
    pieces = function(x)
    assert isinstance(pieces, list) and len(pieces) == len(expected)
    assert all(isinstance(p, Value) for p in pieces)
    for got, want in zip(pieces, expected, strict=True):
        np.testing.assert_array_equal(got.data, want)
    # Each piece's gradient goes back into its place (pieces that overlap add up).
    total = sum((p * (k + 1.0)).sum() for k, p in enumerate(pieces))
    total.backward()
    weights = np.zeros_like(X)
    for k, piece in enumerate(function(weights)):
        piece += k + 1.0  # numpy's pieces are views of `weights`
    np.testing.assert_array_equal(x.grad, weights)


def test_split_errors_are_numpys():
    x = Value(M, requires_grad=True)
    with pytest.raises(ValueError, match="equal division"):
        np.split(x, 3, axis=1)
    with pytest.raises(ValueError, match="larger than 0"):
        np.array_split(x, 0)
    with pytest.raises(ValueError, match="vsplit only works"):
        np.vsplit(Value(V), 1)
    with pytest.raises(ValueError, match="dsplit only works"):
        np.dsplit(x, 1)


def test_atleast_with_several_inputs_gives_a_tuple():
    a, b = Value(np.array(1.0), requires_grad=True), Value(V, requires_grad=True)
    got = np.atleast_2d(a, b)
    assert isinstance(got, tuple) and [g.shape for g in got] == [(1, 1), (1, 5)]


# --------------------------------------------------------------------------- accumulation


def test_take_with_repeated_indices_accumulates_the_gradient():
    x = Value(V, requires_grad=True)
    np.take(x, [0, 3, 3, 0, 0, -1]).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 0.0, 2.0, 1.0])
    y = Value(M, requires_grad=True)
    y.take(np.array([[1, 1], [1, 0]]), axis=-2).sum().backward()
    np.testing.assert_array_equal(y.grad, np.array([[1.0], [3.0], [0.0]]) * np.ones((3, 4)))


def test_take_along_axis_with_repeats_accumulates():
    x = Value(M, requires_grad=True)
    np.take_along_axis(x, np.zeros((3, 3), dtype=int), axis=1).sum().backward()
    expected = np.zeros((3, 4))
    expected[:, 0] = 3
    np.testing.assert_array_equal(x.grad, expected)


def test_tile_and_repeat_with_arrays_of_repeats():
    x = Value(M, requires_grad=True)
    np.tile(x, np.array([2, 1, 3])).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((3, 4), 6.0))
    y = Value(M, requires_grad=True)
    counts = np.array([0, 1, 2, 3])
    got = y.repeat(counts, axis=-1)
    np.testing.assert_array_equal(got.data, np.repeat(M, counts, axis=-1))
    got.sum().backward()
    np.testing.assert_array_equal(y.grad, np.broadcast_to(counts, (3, 4)))
    check_grad(lambda a: np.repeat(a, [2, 0, 1], axis=0) ** 2, M)
    check_grad(lambda a: np.tile(a, (2, 2)) ** 2, V, order=2)


def test_pad_gradient_drops_constants_and_adds_copies():
    x = Value(V, requires_grad=True)
    np.pad(x, (2, 3), constant_values=5.0).sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones(5))
    x = Value(V, requires_grad=True)
    np.pad(x, (2, 3), mode="edge").sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 1.0, 1.0, 1.0, 4.0])
    for mode in ("constant", "edge", "wrap", "reflect", "symmetric"):
        check_grad(lambda a, mode=mode: np.pad(a, ((1, 2), (3, 0)), mode=mode) ** 2, M,
                   order=2)


@pytest.mark.parametrize("width", [2, (1, 3), ((1, 3),), ((0, 1), (2, 0)), [[1, 2], [3, 4]],
                                   np.array([1, 0])])
def test_pad_width_forms(width):
    got = np.pad(Value(M, requires_grad=True), width)
    np.testing.assert_array_equal(got.data, np.pad(M, width))


def test_pad_refuses_what_it_cannot_differentiate():
    x = Value(M, requires_grad=True)
    with pytest.raises(NotImplementedError, match="mode='mean' is not supported"):
        np.pad(x, 1, mode="mean")
    with pytest.raises(NotImplementedError, match="reflect_type='odd'"):
        np.pad(x, 1, mode="reflect", reflect_type="odd")
    with pytest.raises(TypeError, match="constant_values= is a constant"):
        np.pad(x, 1, constant_values=Value(1.0, requires_grad=True))
    with pytest.raises(TypeError, match="integral"):
        np.pad(x, 1.5)
    with pytest.raises(ValueError, match="negative"):
        np.pad(x, -1)


# --------------------------------------------------------------------------- sorting


def test_sort_with_ties_is_stable():
    data = np.array([2.0, 1.0, 2.0, 1.0, 0.0])
    x = Value(data, requires_grad=True)
    got = np.sort(x)
    np.testing.assert_array_equal(got.data, np.sort(data))
    # Output places weighted 1..5: the first 1.0 (index 1) takes place 1, the second
    # (index 3) place 2; the first 2.0 (index 0) place 3, the second (index 2) place 4.
    (got * np.arange(5.0)).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 1.0, 4.0, 2.0, 0.0])


def test_partition_with_ties_assigns_equal_elements_in_input_order():
    data = np.array([3.0, 1.0, 3.0, 1.0, 3.0, 0.0])
    x = Value(data, requires_grad=True)
    got = np.partition(x, 2)
    expected = np.partition(data, 2)
    np.testing.assert_array_equal(got.data, expected)
    (got * np.arange(6.0)).sum().backward()
    for value in (0.0, 1.0, 3.0):  # equal elements take their places in input order
        np.testing.assert_array_equal(x.grad[data == value],
                                      np.flatnonzero(expected == value))


def test_sort_and_partition_gradients_and_methods():
    distinct = RNG.permutation(24).reshape(2, 3, 4) / 7.0
    check_grad(lambda a: np.sort(a, axis=-2) ** 2, distinct, order=2)
    check_grad(lambda a: np.partition(a, -1, axis=0) ** 2, distinct, order=2)
    check_grad(lambda a: np.sort(a, axis=None) ** 2, distinct + 1j * distinct[::-1])
    x = Value(distinct, requires_grad=True)
    np.testing.assert_array_equal(x.sort(axis=0).data, np.sort(distinct, axis=0))
    np.testing.assert_array_equal(x.partition(1).data, np.partition(distinct, 1))
    np.testing.assert_array_equal(x.data, distinct)  # methods never work in place
    with pytest.raises(TypeError, match="order="):
        np.sort(x, order="a")


# --------------------------------------------------------------------------- axes


def test_negative_axes():
    x = Value(X, requires_grad=True)
    np.testing.assert_array_equal(np.moveaxis(x, -1, -3).data, np.moveaxis(X, -1, -3))
    np.testing.assert_array_equal(np.flip(x, -2).data, np.flip(X, -2))
    np.testing.assert_array_equal(np.sort(x, axis=-3).data, np.sort(X, axis=-3))
    np.testing.assert_array_equal(np.expand_dims(x, -2).data, np.expand_dims(X, -2))
    np.testing.assert_array_equal(np.roll(x, 3, axis=-1).data, np.roll(X, 3, axis=-1))
    np.testing.assert_array_equal(np.repeat(x, 2, axis=-2).data, np.repeat(X, 2, axis=-2))
    np.testing.assert_array_equal(x[:, :1].squeeze(-2).data, X[:, 0])
    with pytest.raises(ValueError):
        np.squeeze(x, axis=-1)  # length 4: numpy's error
    with pytest.raises(np.exceptions.AxisError):
        np.flip(x, -4)


@pytest.mark.parametrize("k", [-5, -1, 0, 1, 2, 3, 6])
@pytest.mark.parametrize("axes", [(0, 1), (1, 0), (-1, 0), (2, -2)])
def test_rot90_with_k_and_axes(k, axes):
    x = Value(X, requires_grad=True)
    got = np.rot90(x, k, axes)
    np.testing.assert_array_equal(got.data, np.rot90(X, k, axes))
    check_grad(lambda a: np.rot90(a, k=k, axes=axes) * np.rot90(X, k, axes), X)


def test_rot90_errors():
    x = Value(M, requires_grad=True)
    with pytest.raises(ValueError, match="different"):
        np.rot90(x, axes=(1, 1))
    with pytest.raises(ValueError, match="len"):
        np.rot90(x, axes=(0, 1, 2))
    with pytest.raises(ValueError, match="out of range"):
        np.rot90(x, axes=(0, 3))


# --------------------------------------------------------------------------- selection


def test_select_and_choose_send_the_gradient_to_the_branch_taken():
    a, b = Value(V, requires_grad=True), Value(-V, requires_grad=True)
    conditions = [V > 0, V > -10]
    np.select(conditions, [a, b]).sum().backward()
    np.testing.assert_array_equal(a.grad, V > 0)
    np.testing.assert_array_equal(b.grad, V <= 0)
    c, d = Value(V, requires_grad=True), Value(V, requires_grad=True)
    index = np.array([0, 1, 1, 0, 1])
    np.choose(index, [c, d]).sum().backward()
    np.testing.assert_array_equal(c.grad, index == 0)
    np.testing.assert_array_equal(d.grad, index == 1)
    with pytest.raises(TypeError, match="boolean"):
        np.select([V], [a])
    with pytest.raises(ValueError, match="invalid entry"):
        np.choose(index + 1, [c, d])


def test_indices_that_are_values_are_refused():
    x = Value(V, requires_grad=True)
    with pytest.raises(TypeError, match="integer"):
        np.take(x, Value(np.array([0.0])))
    with pytest.raises(TypeError, match="integers"):
        np.take(x, np.array([0.5]))


# --------------------------------------------------------------------------- out= and r_


@pytest.mark.parametrize("call", [
    lambda x: np.take(x, [0], out=np.empty(1)),
    lambda x: np.choose(np.array([0]), [x[:1]], out=np.empty(1)),
], ids=["take", "choose"])
def test_out_is_refused(call):
    with pytest.raises(TypeError, match="out="):
        call(Value(V, requires_grad=True))


def test_ravel_refuses_other_orders():
    with pytest.raises(TypeError, match="order='C'"):
        np.ravel(Value(M, requires_grad=True), order="F")


def test_index_tricks_r_and_c_refuse_values_that_require_grad():
    """np.r_/np.c_ turn each item into an array (np.array(item, ndmin=1)), which would
    leave the graph: that is refused with a TypeError; np.concatenate, np.hstack and
    np.column_stack are the differentiable spellings."""
    x = Value(V, requires_grad=True)
    with pytest.raises(TypeError):
        np.r_[x, x]
    with pytest.raises(TypeError):
        np.c_[x, x]
    assert np.array_equal(np.hstack([x, x]).data, np.r_[V, V])
    assert np.array_equal(np.column_stack([x, x]).data, np.c_[V, V])


def test_np_copy_gives_a_value_in_memory_of_its_own():
    # was: NotImplementedError (np.copy had no rule)
    v = Value(np.array([[3.0, 1.0], [2.0, 5.0]]))
    twin = np.copy(v)
    assert isinstance(twin, Value) and twin.op == "copy"
    assert not np.shares_memory(twin.data, v.data)
    np.testing.assert_array_equal(twin.data, v.data)
    (twin * twin).sum().backward()
    np.testing.assert_array_equal(v.grad, 2 * v.data)
    with pytest.raises(TypeError, match="copy: subok=True is not supported"):
        np.copy(v, subok=True)


@pytest.mark.parametrize("params", [{}, {"n": 2}, {"axis": 0}, {"n": 0}, {"prepend": 0.5},
                                    {"prepend": 1.0, "append": 2.0, "axis": 0}])
def test_np_diff_matches_numpy_with_its_options(params):
    # was: NotImplementedError (np.diff had no rule)
    a = np.array([[3.0, 1.0, 4.0], [2.0, 5.0, 9.0]])
    np.testing.assert_array_equal(np.diff(Value(a), **params).data, np.diff(a, **params))
    check_grad(lambda v: np.diff(v, **params), a, order=2)


def test_np_diff_of_a_number_is_refused_as_numpy_refuses_it():
    with pytest.raises(ValueError, match="diff requires input that is at least one dimensional"):
        np.diff(Value(3.0))


def test_np_round_and_around_round_half_to_even_with_gradient_zero():
    # was: NotImplementedError (np.round, np.around and Value.round had no rule)
    v = Value(np.array([1.26, 2.5, -0.5]))
    rounded = np.round(v, 1)
    np.testing.assert_array_equal(rounded.data, np.round(v.data, 1))
    np.testing.assert_array_equal(np.around(v).data, [1.0, 2.0, -0.0])
    np.testing.assert_array_equal(v.round().data, np.round(v.data))
    (rounded * 3.0).sum().backward()
    np.testing.assert_array_equal(v.grad, [0.0, 0.0, 0.0])
    assert np.round(Value(2.5)).data == 2.0


@pytest.mark.parametrize("params", [{}, {"dx": 0.5}, {"axis": 0},
                                    {"x": np.array([0.0, 0.5, 2.0])},
                                    {"x": np.array([0.0, 1.5]), "axis": 0}])
def test_np_trapezoid_matches_numpy(params):
    # was: NotImplementedError (np.trapezoid had no rule)
    y = np.array([[3.0, 1.0, 4.0], [2.0, 5.0, 9.0]])
    np.testing.assert_allclose(np.trapezoid(Value(y), **params).data, np.trapezoid(y, **params),
                               rtol=1e-15)
    check_grad(lambda v: np.trapezoid(v, **params), y, order=2)


def test_np_trapezoid_differentiates_the_sample_points_too():
    y, x = np.array([3.0, 1.0, 4.0]), np.array([0.0, 0.5, 2.0])
    check_grad(lambda v, w: np.trapezoid(v, w), y, x, order=2)


def test_np_linalg_cross_matches_numpy_and_refuses_2_vectors():
    # was: NotImplementedError (np.linalg.cross had no rule; np.cross did)
    a, b = np.array([[1.0, 2.0, 3.0]]), np.array([0.5, -1.0, 2.0])
    np.testing.assert_array_equal(np.linalg.cross(Value(a), b).data, np.linalg.cross(a, b))
    check_grad(lambda u, w: np.linalg.cross(u, w), a, b, order=2)
    with pytest.raises(ValueError, match="must be \\(arrays of\\) 3-dimensional vectors"):
        np.linalg.cross(Value(np.ones(2)), np.ones(2))
