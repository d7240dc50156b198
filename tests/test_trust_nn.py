"""Regressions for nn: each test here failed before the trust review of nn was closed.

A silent wrong number is the worst defect nn can have, then an internal crash in place of
a clear error, then a lost model; every way the review found to get one is pinned down by
name.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import nn
from autodiff import Value

# --------------------------------------------------------------------------- 1. layers


@pytest.mark.parametrize("dtype", [np.int64, np.int32, bool, np.complex128, "U3"])
def test_linear_refuses_a_dtype_that_is_not_floating_point(dtype):
    # integer weights were Xavier numbers truncated to all zeros; bool ones all ones
    with pytest.raises(TypeError, match=r"Linear: dtype must be a floating-point type; got"):
        nn.Linear(3, 4, rng=0, dtype=dtype)


def test_mlp_refuses_a_dtype_that_is_not_floating_point():
    with pytest.raises(TypeError, match=r"dtype must be a floating-point type; got int64"):
        nn.MLP(2, [3, 1], rng=0, dtype=np.int64)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, "float32"])
def test_linear_keeps_every_floating_point_dtype(dtype):
    layer = nn.Linear(3, 4, rng=0, dtype=dtype)
    assert layer.W.dtype == np.dtype(dtype) and layer.b.dtype == np.dtype(dtype)
    assert np.count_nonzero(layer.W.data) == 12


@pytest.mark.parametrize("size", [True, False])
def test_linear_refuses_bool_sizes(size):
    with pytest.raises(ValueError, match=r"Linear: nin must be a positive integer; got"):
        nn.Linear(size, 2, rng=0)


def test_mlp_with_a_single_output_size_instead_of_a_list_says_so():
    # was: TypeError: 'int' object is not iterable
    with pytest.raises(TypeError, match=r"MLP: sizes must be a sequence of layer widths "
                                        r"such as \[16, 1\]; got 1"):
        nn.MLP(2, 1)


# --------------------------------------------------------------------------- 2. losses

# each elementwise loss, and what it calls its first argument
ELEMENTWISE_LOSSES = [(nn.mse_loss, "predictions"),
                      (nn.binary_cross_entropy_with_logits, "logits"),
                      (nn.hinge_loss, "scores")]


@pytest.mark.parametrize(("loss", "what"), ELEMENTWISE_LOSSES,
                         ids=[loss.__name__ for loss, _ in ELEMENTWISE_LOSSES])
@pytest.mark.parametrize("wrap", [np.asarray, Value], ids=["array", "Value"])
def test_losses_refuse_complex_predictions(loss, what, wrap):
    # an array lost its imaginary part (mse_loss gave 1.0 for 1+1j against 1, with only a
    # ComplexWarning); a Value gave a complex "loss" Σ d·d, e.g. 2j for d = 1+1j
    predictions = wrap(np.array([1.0 + 1.0j, -1.0]))
    with pytest.raises(TypeError, match=rf"{loss.__name__}: {what} must hold real numbers; "
                                        r"got dtype complex128"):
        loss(predictions, np.array([1.0, 1.0]))


@pytest.mark.parametrize("loss", [nn.mse_loss, nn.binary_cross_entropy_with_logits],
                         ids=lambda f: f.__name__)
def test_losses_refuse_complex_targets(loss):
    with pytest.raises(TypeError, match=rf"{loss.__name__}: targets must hold real numbers; "
                                        r"got dtype complex128"):
        loss(Value(np.array([0.5, 0.5])), np.array([0.0 + 1.0j, 1.0]))


def test_cross_entropy_refuses_complex_logits():
    with pytest.raises(TypeError, match=r"cross_entropy: logits must hold real numbers; got "
                                        r"dtype complex128"):
        nn.cross_entropy(np.array([[1.0 + 1.0j, 0.0]]), np.array([0]))


def test_mse_loss_refuses_text_targets():
    # np.asarray(["1", "2"]).astype(float) parsed them: a loss of text
    with pytest.raises(TypeError, match=r"mse_loss: targets must hold real numbers; got "
                                        r"dtype <U1"):
        nn.mse_loss(Value(np.zeros(2)), np.array(["1", "2"]))


def test_cross_entropy_without_classes_says_so():
    # was: "labels must lie in 0..-1", or for an empty batch an internal numpy message
    # ("zero-size array to reduction operation maximum which has no identity")
    for batch in (0, 2):
        with pytest.raises(ValueError, match=rf"cross_entropy: logits have shape \({batch}, 0\):"
                                             r" there must be at least one class"):
            nn.cross_entropy(np.zeros((batch, 0)), np.zeros(batch, dtype=int), reduction="sum")


# --------------------------------------------------------------------------- 3. optimisers


@pytest.mark.parametrize("optimizer_class", [nn.SGD, nn.Adam])
def test_optimizer_given_one_value_instead_of_a_list_says_so(optimizer_class):
    # was accepted: iterating the Value gave its rows, computed Values the step updated
    # while the weight itself never moved
    weight = Value(np.ones((2, 3)))
    with pytest.raises(TypeError, match=rf"{optimizer_class.__name__}: params must be an "
                                        r"iterable of Values .* got a single Value of shape "
                                        r"\(2, 3\); pass \[value\]"):
        optimizer_class(weight, lr=0.1)


@pytest.mark.parametrize("optimizer_class", [nn.SGD, nn.Adam])
def test_optimizer_given_a_model_instead_of_its_parameters_says_so(optimizer_class):
    # was: TypeError: 'MLP' object is not iterable
    model = nn.MLP(2, [3, 1], rng=0)
    with pytest.raises(TypeError, match=rf"{optimizer_class.__name__}: params must be an "
                                        r"iterable of Values .* got a Module \(MLP\); pass "
                                        r"model.parameters\(\)"):
        optimizer_class(model, lr=0.1)


@pytest.mark.parametrize("optimizer_class", [nn.SGD, nn.Adam])
def test_optimizer_refuses_a_computed_value(optimizer_class):
    # was accepted: its step changed the computed numbers, never the leaf they came from
    leaf = Value(np.ones(3), name="w")
    doubled = leaf * 2
    with pytest.raises(ValueError, match=rf"{optimizer_class.__name__}: parameter #1 "
                                         r"\(unnamed\) is computed \(by multiply\), not a leaf"):
        optimizer_class([leaf, doubled], lr=0.1)


# --------------------------------------------------------------------------- 4. model state


def test_load_state_dict_of_values_says_a_state_holds_arrays():
    # was: "a numpy array was requested from a Value that requires grad ..." from inside
    model, other = nn.MLP(2, [3, 1], rng=0), nn.MLP(2, [3, 1], rng=1)
    before = model.state_dict()
    with pytest.raises(TypeError, match=r"load_state_dict: layers\.0\.W is an autodiff Value; "
                                        r"a state maps names to numpy arrays"):
        model.load_state_dict(dict(other.named_parameters()))
    for name, value in model.named_parameters():
        np.testing.assert_array_equal(value.data, before[name])


@pytest.mark.parametrize("state", [[("W", np.ones(2))], None, "model.npz"])
def test_load_state_dict_of_something_else_than_a_mapping_says_so(state):
    # was: AttributeError: 'list' object has no attribute 'items'
    with pytest.raises(TypeError, match=r"load_state_dict: the state must be a mapping of "
                                        r"names to arrays, such as state_dict\(\) gives; got"):
        nn.Linear(1, 2).load_state_dict(state)


def test_loading_values_beyond_float32_into_a_float32_model_is_refused():
    # was: the weights silently became inf (numpy's overflow warning the only sign)
    model = nn.MLP(2, [3, 1], rng=0, dtype=np.float32)
    before = model.state_dict()
    state = {name: array.astype(np.float64) for name, array in before.items()}
    state["layers.1.W"][0, 0] = 1e300
    with pytest.raises(ValueError, match=r"load_state_dict: layers\.1\.W holds 1e\+300, beyond "
                                         r"the range of float32"):
        model.load_state_dict(state)
    for name, value in model.named_parameters():
        np.testing.assert_array_equal(value.data, before[name])


def test_loading_a_float64_file_into_a_float32_model_still_rounds(tmp_path):
    model = nn.MLP(2, [3, 1], rng=0)
    model.save(tmp_path / "model.npz")
    small = nn.MLP(2, [3, 1], rng=1, dtype=np.float32).load(tmp_path / "model.npz")
    for (name, value), expected in zip(small.named_parameters(), model.parameters(),
                                       strict=True):
        assert value.dtype == np.float32, name
        np.testing.assert_array_equal(value.data, expected.data.astype(np.float32))


def test_save_state_of_values_says_a_state_holds_arrays(tmp_path):
    model = nn.MLP(2, [3, 1], rng=0)
    with pytest.raises(TypeError, match=r"save_state: layers\.0\.W is an autodiff Value; a "
                                        r"state maps names to numpy arrays"):
        nn.save_state(dict(model.named_parameters()), tmp_path / "model.npz")
    assert not list(tmp_path.iterdir())


def test_save_state_of_something_else_than_a_mapping_says_so(tmp_path):
    with pytest.raises(TypeError, match=r"save_state: the state must be a mapping of names to "
                                        r"arrays, such as state_dict\(\) gives; got list"):
        nn.save_state([np.ones(2)], tmp_path / "model.npz")


# --------------------------------------------------------------------------- 5. model files


def test_saving_into_a_missing_directory_names_the_directory(tmp_path):
    # was: FileNotFoundError naming a hidden temporary file ('.../nope/.model.npz.x1y2.tmp')
    target = tmp_path / "nope" / "model.npz"
    with pytest.raises(FileNotFoundError, match=r"save_state: cannot save to '.*model\.npz': "
                                                r"the directory '.*nope' does not exist"):
        nn.Linear(2, 1).save(target)


@pytest.mark.parametrize("where", ["folder", ""])
def test_saving_onto_a_directory_says_so(tmp_path, monkeypatch, where):
    # was: IsADirectoryError: '/tmp/.folder.x1y2.tmp' -> '/tmp/folder', the temporary file's
    # name first ("" saved onto the working directory's own name)
    monkeypatch.chdir(tmp_path)
    if where:
        (tmp_path / where).mkdir()
    with pytest.raises(IsADirectoryError, match=rf"save_state: cannot save to '{where}': it is "
                                                r"a directory"):
        nn.Linear(2, 1).save(where)
    assert sorted(path.name for path in tmp_path.iterdir()) == ([where] if where else [])


def test_saving_over_a_read_only_file_is_refused_and_keeps_it(tmp_path):
    # was: the rename replaced the write-protected model without a word
    target = tmp_path / "model.npz"
    nn.Linear(2, 1, rng=0).save(target)
    target.chmod(0o444)
    old = target.read_bytes()
    with pytest.raises(PermissionError, match=r"save_state: cannot save to '.*model\.npz': "
                                              r"the file is read-only"):
        nn.Linear(2, 1, rng=1).save(target)
    assert target.read_bytes() == old
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.npz"]


# --------------------------------------------------------------------------- 6. data


@pytest.mark.parametrize(("n", "test_fraction"), [(2, 0.9), (10, 0.99)])
def test_train_test_split_refuses_to_leave_no_training_samples(n, test_fraction):
    # was: an empty training set, without a word
    X, y = np.zeros((n, 2)), np.zeros(n, dtype=int)
    with pytest.raises(ValueError, match=rf"train_test_split: .* of {n} samples .* leaves "
                                         r"none to train on"):
        nn.data.train_test_split(X, y, test_fraction=test_fraction, rng=0)


@pytest.mark.parametrize("n", [0, 1])
def test_train_test_split_refuses_fewer_than_two_samples(n):
    # was: an empty training set (n = 1), or four empty arrays (n = 0)
    with pytest.raises(ValueError, match=rf"train_test_split: needs at least 2 samples to "
                                         rf"split; got {n}"):
        nn.data.train_test_split(np.zeros((n, 2)), np.zeros(n, dtype=int))


@pytest.mark.parametrize("test_fraction", ["0.2", None, True])
def test_train_test_split_refuses_a_test_fraction_that_is_not_a_number(test_fraction):
    # was: TypeError: '<' not supported between instances of 'int' and 'str'
    with pytest.raises(TypeError, match=r"train_test_split: test_fraction must be a real "
                                        r"number; got"):
        nn.data.train_test_split(np.zeros((5, 2)), np.zeros(5), test_fraction=test_fraction)


@pytest.mark.parametrize("make", [nn.data.make_moons, nn.data.make_spirals],
                         ids=lambda f: f.__name__)
def test_generators_refuse_infinite_noise(make):
    # make_moons(noise=inf) gave points at ±inf
    with pytest.raises(ValueError, match=rf"{make.__name__}: noise must be finite; got inf"):
        make(8, noise=float("inf"), rng=0)


@pytest.mark.parametrize("make", [nn.data.make_moons, nn.data.make_spirals],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("noise", ["0.1", None])
def test_generators_refuse_noise_that_is_not_a_number(make, noise):
    # was: TypeError: '>=' not supported between instances of 'str' and 'int'
    with pytest.raises(TypeError, match=rf"{make.__name__}: noise must be a real number; got"):
        make(8, noise=noise, rng=0)


@pytest.mark.parametrize(("turns", "message"), [(float("nan"), "must be finite; got nan"),
                                                (float("inf"), "must be finite; got inf"),
                                                ("1", "must be a real number; got '1'")])
def test_make_spirals_refuses_turns_that_are_not_a_finite_number(turns, message):
    # nan gave every point as nan; "1" an internal UFuncTypeError
    error = TypeError if isinstance(turns, str) else ValueError
    with pytest.raises(error, match=rf"make_spirals: turns {message}"):
        nn.data.make_spirals(8, turns=turns, rng=0)


# ----------------------------------------------------------------- 7. the backprop reference


def _network(rng=0):
    generator = np.random.default_rng(rng)
    weights = [generator.normal(size=(2, 3)), generator.normal(size=(3, 2))]
    return weights, [np.zeros(3), np.zeros(2)], generator.normal(size=(4, 2))


@pytest.mark.parametrize("target_shape", [(8,), (2, 4), (4,), (4, 2, 2)])
@pytest.mark.parametrize("loss", ["mse_loss", "binary_cross_entropy_with_logits"])
def test_backprop_reference_refuses_targets_of_another_shape(loss, target_shape):
    # (8,) and (2, 4) were reshaped to the output's (4, 2): a wrong loss, without a word;
    # (4,) and (4, 2, 2) gave numpy's "cannot reshape array of size ..."
    weights, biases, X = _network()
    with pytest.raises(ValueError, match=rf"backprop: {loss}: predictions have shape \(4, 2\) "
                                         r"but targets have shape"):
        nn.backprop.loss_and_gradients(weights, biases, X, np.zeros(target_shape), loss=loss)


def test_backprop_reference_pairs_one_output_column_with_flat_targets():
    generator = np.random.default_rng(0)
    weights, biases = [generator.normal(size=(2, 1))], [np.zeros(1)]
    X, target = generator.normal(size=(4, 2)), generator.normal(size=4)
    flat = nn.backprop.loss_and_gradients(weights, biases, X, target, loss="mse_loss")
    column = nn.backprop.loss_and_gradients(weights, biases, X, target[:, None],
                                            loss="mse_loss")
    assert flat[0] == column[0]
    np.testing.assert_array_equal(flat[1][0], column[1][0])


@pytest.mark.parametrize(("labels", "message"), [
    ([0, 1, 0, -1], r"label -1 at position 3 is out of range for 2 classes"),  # was: class 1
    ([0, 1, 0, 2], r"label 2 at position 3 is out of range for 2 classes"),  # was: IndexError
    ([[0], [1], [0], [1]], r"labels must have shape \(4,\); got \(4, 1\)"),  # was: broadcast
])
def test_backprop_reference_refuses_labels_it_cannot_use(labels, message):
    weights, biases, X = _network()
    with pytest.raises(ValueError, match=rf"backprop: cross_entropy: {message}"):
        nn.backprop.loss_and_gradients(weights, biases, X, np.array(labels))


def test_backprop_reference_refuses_float_labels():
    # was: IndexError: arrays used as indices must be of integer (or boolean) type
    weights, biases, X = _network()
    with pytest.raises(TypeError, match=r"backprop: cross_entropy: labels must be integer "
                                        r"class indices; got an array of dtype float64"):
        nn.backprop.loss_and_gradients(weights, biases, X, np.array([0.0, 1.0, 0.0, 1.0]))


@pytest.mark.parametrize(("loss", "bad", "message"), [
    ("hinge_loss", 0.0, "labels must be -1 or \\+1; found 0.0"),
    ("binary_cross_entropy_with_logits", 2.0, "targets must lie in \\[0, 1\\]"),
])
def test_backprop_reference_checks_target_values_as_the_losses_do(loss, bad, message):
    weights, biases, X = _network()
    target = np.ones((4, 2))
    target[1, 1] = bad
    with pytest.raises(ValueError, match=rf"backprop: {loss}: {message}"):
        nn.backprop.loss_and_gradients(weights, biases, X, target, loss=loss)


def test_backprop_reference_refuses_the_mean_of_an_empty_batch():
    # was: ZeroDivisionError: float division by zero
    weights, biases, X = _network()
    with pytest.raises(ValueError, match=r"backprop: cross_entropy: cannot average over an "
                                         r"empty batch"):
        nn.backprop.loss_and_gradients(weights, biases, X[:0], np.zeros(0, dtype=int))


# --------------------------------------------------------------------------- 8. modules


class _Heads(nn.Module):
    def __init__(self, heads):
        self.heads = heads

    def forward(self, x):
        return sum(head(x) for head in self.heads.values())


@pytest.mark.parametrize("held", [
    lambda: {"a": nn.Linear(2, 1, rng=0), "b": nn.Linear(2, 1, rng=1)},
    lambda: {"scale": Value(np.ones(2))},
    lambda: [[nn.Linear(2, 1, rng=0)]],
    lambda: ({"a": nn.Linear(2, 1, rng=0)},),
], ids=["dict of modules", "dict of values", "list of lists", "tuple of dicts"])
def test_a_module_refuses_parameters_in_containers_it_cannot_see(held):
    # was accepted, and parameters() found nothing there: never trained, saved or loaded
    with pytest.raises(TypeError, match=r"_Heads: attribute 'heads' holds (Modules|Values) "
                                        r"inside a (dict|list)"):
        _Heads(held())


def test_a_module_still_takes_dicts_without_parameters():
    module = _Heads({})
    module.heads["later"] = 1.0
    module.notes = {"epochs": 3, "data": [np.ones(2)]}
    assert module.parameters() == []


# --------------------------------------------------------------------------- 9. Adam's moments


@pytest.mark.parametrize(("dtype", "huge"), [(np.float32, 1e30), (np.float64, 1e200)])
def test_adam_refuses_a_gradient_whose_square_overflows_its_second_moment(dtype, huge):
    # was: v became inf, so every later step moved the weight by lr·m / inf = 0: training
    # of that weight stopped for good, with only numpy's overflow warning
    weight = Value(np.ones(3, dtype=dtype), name="w")
    optimizer = nn.Adam([weight], lr=0.1)
    weight.grad = np.ones(3, dtype=dtype)
    optimizer.step()
    before, moments = weight.data.copy(), (optimizer.first[0].copy(), optimizer.second[0].copy())
    weight.grad = np.array([1.0, huge, 1.0], dtype=dtype)
    with pytest.raises(FloatingPointError, match=rf"Adam.step: the gradient of parameter w "
                                                 rf"holds {re.escape(f'{huge:g}')}, whose square "
                                                 rf"overflows "
                                                 rf"{np.dtype(dtype)} in Adam's second moment"):
        optimizer.step()
    np.testing.assert_array_equal(weight.data, before)
    np.testing.assert_array_equal(optimizer.first[0], moments[0])
    np.testing.assert_array_equal(optimizer.second[0], moments[1])
    assert optimizer.steps == [1]


@pytest.mark.parametrize("size", [nn.optim.SERIAL_DOT + 8, nn.optim.BLOCK])
def test_adam_refuses_an_overflowing_square_in_a_mid_size_transposed_gradient(size):
    # gradients of SERIAL_DOT..BLOCK elements are screened in chunks; a transposed one
    # was screened by Σg, whose ±1e200 cancel, so the overflowing square went unseen
    weight = Value(np.ones((size // 2, 2)), name="w")
    grad = np.ones((2, size // 2))
    grad[0, 0], grad[1, 0] = 1e200, -1e200
    weight.grad = grad.T
    optimizer = nn.Adam([weight], lr=0.1)
    with pytest.raises(FloatingPointError, match="whose square overflows float64"):
        optimizer.step()
    assert not (weight.data != 1.0).any() and optimizer.steps == [0]


def test_adam_refuses_a_scalar_gradient_whose_square_overflows():
    weight = Value(1.0, name="w")
    weight.grad = 1e200
    with pytest.raises(FloatingPointError, match=r"Adam.step: the gradient of parameter w "
                                                 r"holds 1e\+200, whose square overflows"):
        nn.Adam([weight], lr=0.1).step()
    assert weight.data == 1.0


def test_adam_with_weight_decay_refuses_a_decayed_gradient_whose_square_overflows():
    # was: the moments see g + weight_decay·p, and only g was checked; (1e20)² overflowed
    # float32, v became inf and that weight never moved again, with only numpy's warning
    weight = Value(np.array([1.0, 1e22, 1.0], dtype=np.float32), name="w")
    optimizer = nn.Adam([weight], lr=0.1, weight_decay=0.01)
    weight.grad = np.ones(3, dtype=np.float32)
    with pytest.raises(FloatingPointError, match=r"Adam.step: the gradient of parameter w plus "
                                                 r"weight_decay × the parameter holds 1e\+20, "
                                                 r"whose square overflows float32"):
        optimizer.step()
    np.testing.assert_array_equal(weight.data, np.array([1.0, 1e22, 1.0], dtype=np.float32))
    assert optimizer.steps == [0] and optimizer.second == [None]


def test_adam_with_weight_decay_refuses_a_decayed_scalar_gradient_whose_square_overflows():
    weight = Value(1e200, name="s")
    weight.grad = 1.0
    with pytest.raises(FloatingPointError, match=r"parameter s plus weight_decay × the "
                                                 r"parameter holds 5e\+199"):
        nn.Adam([weight], lr=0.1, weight_decay=0.5).step()
    assert weight.data == 1e200


def test_adam_with_weight_decay_takes_a_gradient_that_cancels_the_decay():
    # max|g| + weight_decay·max|p| is past float32's limit, but g + weight_decay·p is 0
    weight = Value(np.array([1e21, 2.0], dtype=np.float32))
    weight.grad = np.array([-1e19, 0.0], dtype=np.float32)
    optimizer = nn.Adam([weight], lr=0.1, weight_decay=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizer.step()
    assert optimizer.steps == [1] and np.isfinite(optimizer.second[0]).all()
    assert weight.data[1] < 2.0


def test_sgd_still_takes_huge_finite_gradients():
    weight = Value(np.ones(2, dtype=np.float32))
    weight.grad = np.full(2, 1e30, dtype=np.float32)
    nn.SGD([weight], lr=1e-30).step()
    np.testing.assert_allclose(weight.data, [0.0, 0.0], atol=1e-6)


# ------------------------------------------------------- 10. optimiser state, names, 1-d input


def _optimiser_state(optimizer):
    """Copies of everything a step may change in an optimiser's own state."""
    if isinstance(optimizer, nn.Adam):
        return ([None if m is None else np.copy(m) for m in optimizer.first],
                [None if v is None else np.copy(v) for v in optimizer.second],
                list(optimizer.steps))
    return ([None if v is None else np.copy(v) for v in optimizer.velocity],)


def _assert_same_state(optimizer, saved):
    for now, before in zip(_optimiser_state(optimizer), saved, strict=True):
        for a, b in zip(now, before, strict=True):
            if b is None or isinstance(b, int):
                assert a == b
            else:
                np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make", [lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: nn.Adam(ps, lr=0.1)],
                         ids=["sgd-momentum", "adam"])
@pytest.mark.parametrize(("old", "new"), [
    (np.zeros(3), np.zeros(4)),
    (np.zeros((2, 3)), np.zeros((3, 2))),
    (np.zeros(3), np.zeros(())),
    (np.zeros(3), 0.0),
    (0.0, np.zeros(3)),
])
def test_a_step_refuses_optimiser_state_of_another_shape_and_changes_nothing(make, old, new):
    # was: numpy's broadcasting error midway through the step, after the earlier
    # parameters were updated (and Adam's step counters moved on)
    first, second = Value(np.zeros(2)), Value(old, name="head.W")
    optimizer = make([first, second])
    first.grad, second.grad = np.ones(2), np.ones_like(old) if np.ndim(old) else 1.0
    optimizer.step()
    second.data = new  # the parameter replaced by one of another shape (a layer resized)
    first.grad = np.ones(2)
    second.grad = np.ones_like(new) if isinstance(new, np.ndarray) else 1.0
    kept, kept_second, saved = first.data.copy(), np.copy(second.data), _optimiser_state(optimizer)
    name = type(optimizer).__name__
    with pytest.raises(ValueError, match=rf"{name}.step: parameter head.W has shape "
                                         rf"{re.escape(str(np.shape(new)))} but its .*, kept "
                                         rf"from earlier steps, has shape "
                                         rf"{re.escape(str(np.shape(old)))}.*new optimi[sz]er"):
        optimizer.step()
    np.testing.assert_array_equal(first.data, kept)
    np.testing.assert_array_equal(second.data, kept_second)
    _assert_same_state(optimizer, saved)


def test_sgd_without_momentum_still_steps_a_parameter_whose_shape_changed():
    weight = Value(np.zeros(3))
    optimizer = nn.SGD([weight], lr=0.5)
    weight.grad = np.ones(3)
    optimizer.step()
    weight.data, weight.grad = np.zeros(4), np.ones(4)
    optimizer.step()
    np.testing.assert_array_equal(weight.data, np.full(4, -0.5))


def _adam_trajectory(dtype, steps, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam by hand for a 0-d parameter starting at 1 with gradient 1 at every step."""
    p, m, v, path = dtype(1.0), dtype(0.0), dtype(0.0), []
    for t in range(1, steps + 1):
        g = dtype(1.0)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * (g * g)
        p = p - (lr / (1 - beta1**t)) * (m / (np.sqrt(v / (1 - beta2**t)) + eps))
        path.append((float(p), float(m), float(v)))
    return path


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_adam_moments_of_a_zero_d_parameter_keep_moving_after_a_whole_value_step(dtype):
    # was: a step through the whole-value formula (the array read-only while a graph that
    # read it waited) turned the moments into numpy scalars; the in-place steps after it
    # updated local names only, so the moments froze and the weight moved by a stale m
    weight = Value(np.array(1.0, dtype=dtype))
    optimizer = nn.Adam([weight], lr=0.1)
    expected = _adam_trajectory(dtype, 5)
    pending = []
    for step in range(5):
        weight.grad = np.array(1.0, dtype=dtype)
        if step == 1:
            pending.append(weight * 2)  # a graph that read the weight, not yet backwarded
        optimizer.step()
        assert isinstance(optimizer.first[0], np.ndarray)
        assert isinstance(optimizer.second[0], np.ndarray)
        p, m, v = expected[step]
        tolerance = 1e-3 if dtype is np.float16 else 1e-6
        np.testing.assert_allclose(float(optimizer.first[0]), m, rtol=tolerance)
        np.testing.assert_allclose(float(optimizer.second[0]), v, rtol=tolerance)
        np.testing.assert_allclose(float(weight.data), p, rtol=tolerance)


def test_adam_on_a_zero_d_parameter_follows_the_same_path_with_or_without_a_pending_graph():
    paths = []
    for pending_at in (None, 1):
        weight = Value(np.array(1.0, dtype=np.float32))
        optimizer = nn.Adam([weight], lr=0.1)
        pending, path = [], []
        for step in range(4):
            weight.grad = np.array(1.0, dtype=np.float32)
            if step == pending_at:
                pending.append(weight * 2)
            optimizer.step()
            path.append(float(weight.data))
        paths.append(path)
    assert paths[0] == paths[1]


def test_sgd_momentum_of_a_zero_d_parameter_keeps_moving_after_a_whole_value_step():
    weight = Value(np.array(1.0, dtype=np.float32))
    optimizer = nn.SGD([weight], lr=0.1, momentum=0.5)
    pending, velocity = [], 0.0
    for step in range(4):
        weight.grad = np.array(1.0, dtype=np.float32)
        if step == 1:
            pending.append(weight * 2)
        optimizer.step()
        velocity = 0.5 * velocity + 1.0
        assert float(optimizer.velocity[0]) == pytest.approx(velocity)


def test_indexing_a_sequential_leaves_the_original_models_parameter_names_alone():
    # was: model[2:] built a Sequential of the same layers, which renamed their parameters
    # to their paths in the slice: model's second Linear became layers.0.W, like its first
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 1, rng=1))
    names = [p.name for p in model.parameters()]
    paths = [module._path for module in model.modules()[1:]]
    head = model[2:]
    model[0]
    model[-1:]
    assert [p.name for p in model.parameters()] == names == [
        "layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b"]
    assert [module._path for module in model.modules()[1:]] == paths
    assert head.parameters() == model.parameters()[2:]  # the same Values, shared
    x = np.ones((4, 3))
    np.testing.assert_array_equal(head(x).data, model.layers[2](x).data)


def test_an_optimiser_error_names_the_parameter_of_the_original_model_after_slicing():
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 1, rng=1))
    model[2:]
    optimizer = nn.SGD(model.parameters(), lr=0.1)
    for p in model.parameters():
        p.grad = np.zeros(p.shape)
    model.layers[2].W.grad = np.zeros(2)
    with pytest.raises(ValueError, match=r"the gradient of parameter layers\.2\.W has shape"):
        optimizer.step()


@pytest.mark.parametrize("labels", [[0, 1, 2, 0], (0, 1, 2, 0)], ids=["list", "tuple"])
def test_cross_entropy_of_dask_logits_takes_labels_as_a_list_or_tuple(labels):
    # was: AttributeError: 'list' object has no attribute 'dtype'
    da = pytest.importorskip("dask.array")
    logits = np.random.default_rng(0).standard_normal((4, 3))
    lazy = Value(da.from_array(logits, chunks=2))
    loss = nn.cross_entropy(lazy, labels)
    loss.backward()
    eager = Value(logits)
    expected = nn.cross_entropy(eager, np.array(labels))
    expected.backward()
    np.testing.assert_allclose(float(np.asarray(loss.data.compute())), float(expected.data),
                               rtol=1e-12)
    np.testing.assert_allclose(np.asarray(lazy.grad.compute()), eager.grad, rtol=1e-12,
                               atol=1e-15)


def test_cross_entropy_of_dask_logits_refuses_float_labels_in_a_list():
    da = pytest.importorskip("dask.array")
    lazy = Value(da.from_array(np.zeros((2, 3)), chunks=1))
    with pytest.raises(TypeError, match=r"cross_entropy: labels must be integer class indices"):
        nn.cross_entropy(lazy, [0.5, 1.0])


def _mlp_and_weights(nin, sizes, activation):
    model = nn.MLP(nin, sizes, activation=activation, rng=3)
    weights = [layer.W.data.copy() for layer in model.layers]
    biases = [layer.b.data.copy() for layer in model.layers]
    return model, weights, biases


@pytest.mark.parametrize(("loss", "target"), [
    ("mse_loss", np.array([0.5, -1.0])),
    ("binary_cross_entropy_with_logits", np.array([1.0, 0.0])),
    ("hinge_loss", np.array([1.0, -1.0])),
])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_backprop_of_a_single_one_d_sample_agrees_with_autodiff_through_mlp(
        loss, target, reduction, activation):
    # was: below.T @ delta of two 1-d arrays is a dot product, a scalar "weight gradient"
    # (or a matmul error when nin != nout), and Σ_batch δ summed the features of the bias
    model, weights, biases = _mlp_and_weights(3, [4, 2], activation)
    x = np.array([0.3, -0.7, 1.1])
    value, weight_grads, bias_grads = nn.backprop.loss_and_gradients(
        weights, biases, x, target, activation=activation, loss=loss, reduction=reduction)
    expected = getattr(nn, loss)(model(x), target, reduction=reduction)
    expected.backward()
    assert value == pytest.approx(float(expected.data), abs=1e-12)
    for layer, dW, db in zip(model.layers, weight_grads, bias_grads, strict=True):
        assert dW.shape == layer.W.shape and db.shape == layer.b.shape
        np.testing.assert_allclose(dW, layer.W.grad, rtol=0, atol=1e-12)
        np.testing.assert_allclose(db, layer.b.grad, rtol=0, atol=1e-12)


def test_backprop_sgd_step_on_a_one_d_sample_matches_the_batch_of_one():
    _, weights, biases = _mlp_and_weights(3, [3, 2], "relu")
    batch_weights, batch_biases = [w.copy() for w in weights], [b.copy() for b in biases]
    x, target = np.array([0.3, -0.7, 1.1]), np.array([0.5, -1.0])
    nn.backprop.sgd_step(weights, biases, x, target, lr=0.1, loss="mse_loss")
    nn.backprop.sgd_step(batch_weights, batch_biases, x[None, :], target[None, :], lr=0.1,
                         loss="mse_loss")
    for new, reference in zip(weights + biases, batch_weights + batch_biases, strict=True):
        np.testing.assert_allclose(new, reference, rtol=0, atol=1e-12)


def test_backprop_refuses_one_d_logits_for_cross_entropy_as_nn_does():
    _, weights, biases = _mlp_and_weights(3, [4, 2], "relu")
    with pytest.raises(ValueError, match=r"cross_entropy: logits must have shape "
                                         r"\(batch, classes\); got shape \(2,\)"):
        nn.backprop.loss_and_gradients(weights, biases, np.ones(3), np.array([1]))


@pytest.mark.parametrize("x", ["abc", [[1.0, 2.0, 3.0], [1.0, 2.0]], [object()] * 3],
                         ids=["text", "ragged", "objects"])
def test_linear_names_itself_when_its_input_cannot_be_read_as_numbers(x):
    # was: numpy's own message (could not convert string to float, inhomogeneous shape)
    model = nn.Sequential(nn.Linear(3, 2, rng=0))
    with pytest.raises((TypeError, ValueError),
                       match=r"Linear 'layers\.0': expected input of shape \(batch, 3\).* "
                             r"real numbers"):
        model(x)


@pytest.mark.parametrize("path", [3, b"model.npz", None, 2.5], ids=["int", "bytes", "none",
                                                                    "float"])
@pytest.mark.parametrize("method", ["save", "load"])
def test_save_and_load_refuse_a_path_that_is_not_a_path_naming_themselves(method, path):
    model = nn.Linear(2, 1, rng=0)
    with pytest.raises(TypeError, match=rf"Linear\.{method}: path must be a str or "
                                        rf"os\.PathLike.*got {type(path).__name__}"):
        getattr(model, method)(path)


# ------------------------------------------------- 11. float16, keys, names, inputs, chunk sizes

def _float16_sums_past_65504():
    """(loss of x, x in float16, its mean in float64): each sum of terms is past float16's
    largest number, 65,504, but the mean is not."""
    logits = np.tile(np.array([5.0, -5.0], dtype=np.float16), (20000, 1))
    return {
        "mse": (lambda x: nn.mse_loss(x, np.zeros(2000, np.float16)),
                np.full(2000, 10, np.float16), 100.0),
        "hinge": (lambda x: nn.hinge_loss(x, np.ones(20000)),
                  np.full(20000, -5, np.float16), 6.0),
        "bce": (lambda x: nn.binary_cross_entropy_with_logits(x, np.ones(20000, np.float16)),
                np.full(20000, -5, np.float16), np.log1p(np.exp(5.0))),
        "cross_entropy": (lambda x: nn.cross_entropy(x, np.ones(20000, dtype=np.int64)),
                          logits, 10.0 + np.log1p(np.exp(-10.0))),
    }


@pytest.mark.parametrize("lazy", [False, True], ids=["numpy", "dask"])
@pytest.mark.parametrize("loss", ["mse", "hinge", "bce", "cross_entropy"])
def test_float16_mean_losses_do_not_overflow_where_the_mean_fits(loss, lazy):
    """Before: the losses summed every term in float16 and then multiplied by 1/n, so the
    sum overflowed and reduction="mean" gave inf (2,000 squared errors of 100, 20,000
    hinge terms of 6, ...) where PyTorch gives the mean. The mean is now a float16 number
    computed without the overflow; its dtype and its gradient are as they were."""
    make, data, expected = _float16_sums_past_65504()[loss]
    x = Value(data)
    if lazy:
        da = pytest.importorskip("dask.array")
        x = Value(da.from_array(data, chunks=500))
    value = make(x)
    value.backward()
    result, grad = value.data, x.grad
    if lazy:
        import dask

        result, grad = dask.compute(result, grad)
    assert np.asarray(result).dtype == np.float16
    np.testing.assert_allclose(float(result), expected, rtol=1e-3)
    # the gradient: float16, the float64 loss's gradient rounded
    wide = Value(data.astype(np.float64))
    make(wide).backward()
    assert np.asarray(grad).dtype == np.float16
    np.testing.assert_allclose(np.asarray(grad, dtype=np.float64), wide.grad, rtol=2e-3)


def _float16_model_and_gradients():
    model = nn.MLP(2, [16, 2], activation="relu", rng=3, dtype=np.float16)
    X = np.abs(np.random.default_rng(0).normal(size=(4, 2))).astype(np.float16)
    nn.cross_entropy(model(X), np.array([0, 1, 0, 1])).backward()
    return model


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_adam_on_float16_parameters_computes_in_float32_and_keeps_every_weight_finite(
        weight_decay):
    """Before: in float16 Adam's eps (1e-8) is 0, so a zero gradient (a dead ReLU unit's)
    gave m / (√v + eps) = 0/0 = nan weights, and a gradient whose square underflows gave
    −inf, silently (only numpy's RuntimeWarning). The choice made: Adam does its arithmetic
    for float16 parameters in float32 (its moments are kept in float32) and rounds each new
    weight to float16 once. Refusing the step instead would make every float16 model with a
    zero gradient untrainable; a careful PyTorch user expects the step to work, as it does in
    float32 (PyTorch itself gives nan here)."""
    model = _float16_model_and_gradients()
    assert any((p.grad == 0).any() for p in model.parameters())  # a dead unit's zeros
    reference = nn.MLP(2, [16, 2], activation="relu", rng=3, dtype=np.float32)
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        q.data, q.grad = p.data.astype(np.float32), p.grad.astype(np.float32)
    optimizer = nn.Adam(model.parameters(), lr=1e-3, weight_decay=weight_decay)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizer.step()
    nn.Adam(reference.parameters(), lr=1e-3, weight_decay=weight_decay).step()
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        assert p.dtype == np.float16 and np.isfinite(p.data).all()
        np.testing.assert_allclose(p.data, q.data.astype(np.float16), rtol=1e-3, atol=1e-4)
    assert all(m.dtype == np.float32 for m in optimizer.first + optimizer.second)


@pytest.mark.parametrize("pending", [False, True], ids=["in-place", "whole-value"])
@pytest.mark.parametrize("grad", [0.0, 1e-5, 1e-3])
def test_adam_steps_a_float16_weight_with_a_zero_or_tiny_gradient_to_a_finite_value(
        grad, pending):
    """Before: 0 (eps is 0 in float16: 0/0) gave nan, and 1e-5 and 1e-3 (their squares
    underflow to 0 in float16: m / 0) gave −inf, by both the in-place block update and the
    whole-value formula (a read-only array, while a graph that read it waits)."""
    weight = Value(np.ones(3, dtype=np.float16))
    optimizer = nn.Adam([weight], lr=0.1)
    graphs = []
    for _ in range(3):
        weight.grad = np.full(3, grad, dtype=np.float16)
        if pending:
            graphs.append(weight * 2)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            optimizer.step()
    assert weight.dtype == np.float16 and np.isfinite(weight.data).all()
    expected = 1.0 if grad == 0 else 1.0 - 3 * 0.1  # Adam's step is about lr·sign(g)
    np.testing.assert_allclose(weight.data, expected, atol=0.05)


@pytest.mark.parametrize(("settings", "start", "grad", "steps"), [
    ({"lr": 1e-4, "momentum": 0.9}, 1.0, 60000.0, 30),
    ({"lr": 1e-6, "weight_decay": 1e6}, 1.0, 0.0, 1),
    ({"lr": 2.0}, 60000.0, 40000.0, 1),
], ids=["momentum", "weight-decay", "lr-times-gradient"])
@pytest.mark.parametrize("pending", [False, True], ids=["in-place", "whole-value"])
def test_sgd_on_float16_parameters_computes_its_update_in_float32(settings, start, grad, steps,
                                                                  pending):
    """Before: SGD computed in float16, so a momentum velocity past 65,504 (a steady
    gradient of 60,000 with momentum 0.9), weight_decay·p past it (1e6 · 1) or lr·g past it
    (2 · 40,000) was inf and made the weight −inf, though the new weight itself fits float16
    easily. The update is now computed in float32 (the velocity kept in float32) and rounded
    to float16 once; only a new weight beyond float16's range is inf."""
    weight = Value(np.full(3, start, dtype=np.float16))
    reference = Value(np.full(3, start))  # the same steps in float64
    optimizer, exact = nn.SGD([weight], **settings), nn.SGD([reference], **settings)
    graphs = []
    for _ in range(steps):
        weight.grad, reference.grad = np.full(3, grad, dtype=np.float16), np.full(3, grad)
        if pending:  # the whole-value formula (a read-only array while a graph waits)
            graphs.append(weight * 1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            optimizer.step()
        exact.step()
    assert weight.dtype == np.float16 and np.isfinite(weight.data).all()
    if settings.get("momentum"):
        assert optimizer.velocity[0].dtype == np.float32
    np.testing.assert_allclose(weight.data.astype(np.float64), reference.data, rtol=2e-3)


def test_adam_with_an_eps_that_is_zero_in_float32_keeps_a_float32_weight_finite():
    """Before: eps=1e-50 is 0 in float32, so a zero gradient gave 0/0 = nan weights; Adam
    now computes in float64 when its eps is 0 in the parameter's precision."""
    weight = Value(np.ones(3, dtype=np.float32))
    optimizer = nn.Adam([weight], lr=0.1, eps=1e-50)
    weight.grad = np.zeros(3, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizer.step()
    assert weight.dtype == np.float32
    np.testing.assert_array_equal(weight.data, np.ones(3))


def test_load_state_dict_lists_a_key_that_is_not_a_str_as_unexpected():
    """Before: a non-str key crashed inside str.join (TypeError: sequence item 0: expected
    str instance, int found) instead of the usual ValueError listing the difference."""
    layer = nn.Linear(2, 2, rng=0)
    before = layer.state_dict()
    with pytest.raises(ValueError, match=r"load_state_dict: the state does not match Linear; "
                                         r"unexpected: 0 \(int, not a str name\)"):
        layer.load_state_dict({"W": np.zeros((2, 2)), "b": np.zeros(2), 0: np.zeros(1)})
    for name, array in layer.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


@pytest.mark.parametrize("dtype", [np.uint8, int, bool, np.complex128, "U3"])
def test_load_digits_refuses_a_dtype_that_is_not_floating_point(dtype):
    """Before: the dtype was only used to divide by 16, so uint8, int and bool gave float64
    and complex gave complex128 (with a ComplexWarning), none of them what was asked for."""
    with pytest.raises(TypeError, match=r"load_digits: dtype must be a floating-point type"):
        nn.data.load_digits(dtype=dtype)


@pytest.mark.parametrize("name", ["layers.0", "head.W", ""])
def test_a_module_refuses_an_attribute_name_that_would_give_two_parameters_one_name(name):
    """Before: `setattr(model, "layers.0", nn.Linear(...))` named its parameters
    layers.0.W and layers.0.b, the names of the first layer in the list `layers`; state_dict
    kept one of each pair and save/load silently dropped the other (an empty name gave the
    names of the module's own parameters)."""
    model = nn.Sequential(nn.Linear(2, 2, rng=0))
    model.head = nn.Linear(2, 2, rng=1)
    names = [p_name for p_name, _ in model.named_parameters()]
    with pytest.raises(ValueError, match=r"Sequential: the attribute name .* (contains a dot|"
                                         r"is empty); parameters are named by their dotted"):
        setattr(model, name, nn.Linear(2, 2, rng=2))
    assert name not in vars(model)
    assert [p_name for p_name, _ in model.named_parameters()] == names
    assert len(model.state_dict()) == len(model.parameters()) == 4


@pytest.mark.parametrize("x", [np.ones((3, 2), dtype=np.complex128), np.array([["a", "b"]]),
                               Value(np.ones((3, 2), dtype=np.complex128))],
                         ids=["complex", "text", "complex-value"])
def test_linear_refuses_a_complex_or_text_array_naming_itself(x):
    """Before: a complex array went through and gave a complex output (a complex loss,
    complex gradients for real weights), and a text array failed inside the linear
    primitive with numpy's matmul message, naming only "linear"."""
    model = nn.Sequential(nn.Linear(2, 2, rng=0))
    with pytest.raises(TypeError, match=r"Linear 'layers\.0': expected input of shape "
                                        r"\(batch, 2\) holding real numbers.*got a (numpy "
                                        r"array|Value) of dtype"):
        model(x)


def test_batches_of_dask_arrays_with_unknown_chunk_sizes_says_so():
    """Before: after boolean indexing (shapes (nan, 2) and (nan,)) batches said "X and y
    need the same number of samples; got shapes (nan, 2) and (nan,)", which they may well
    have; the chunk sizes are unknown, and compute_chunk_sizes() makes them known."""
    da = pytest.importorskip("dask.array")
    X = da.from_array(np.arange(20.0).reshape(10, 2), chunks=3)
    y = da.from_array(np.arange(10), chunks=3)
    keep = y > 3
    with pytest.raises(ValueError, match=r"batches: the number of samples in X is unknown.*"
                                         r"chunk sizes are unknown.*"
                                         r"X\.compute_chunk_sizes\(\)"):
        nn.data.batches(X[keep], y[keep], batch_size=2)
    with pytest.raises(ValueError, match=r"in y is unknown.*y\.compute_chunk_sizes\(\)"):
        nn.data.batches(X[keep].compute_chunk_sizes(), y[keep], batch_size=2)
    batches = list(nn.data.batches(X[keep].compute_chunk_sizes(),
                                   y[keep].compute_chunk_sizes(), batch_size=2))
    assert sum(len(b) for b, _ in batches) == 6
