"""nn optimisers: the update formulas, state across steps, non-finite gradients, errors."""

import copy
import math
import re

import numpy as np
import pytest

import nn
from autodiff import Value


def parameters_with_grads(*pairs):
    values = []
    for data, grad in pairs:
        value = Value(np.array(data, dtype=float))
        value.grad = np.array(grad, dtype=float)
        values.append(value)
    return values


def test_sgd_plain_step():
    w, b = parameters_with_grads(([1.0, 2.0], [0.5, -1.0]), ([3.0], [2.0]))
    nn.SGD([w, b], lr=0.1).step()
    np.testing.assert_allclose(w.data, [0.95, 2.1])
    np.testing.assert_allclose(b.data, [2.8])


def test_sgd_momentum_and_weight_decay_over_steps():
    (w,) = parameters_with_grads(([1.0, -2.0], [0.0, 0.0]))
    optimizer = nn.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.01)
    expected, velocity = w.data.copy(), np.zeros(2)
    for gradient in ([1.0, 2.0], [0.5, -0.5], [-1.0, 0.25]):
        w.grad = np.array(gradient)
        g = np.array(gradient) + 0.01 * expected
        velocity = 0.9 * velocity + g
        expected = expected - 0.1 * velocity
        optimizer.step()
        np.testing.assert_allclose(w.data, expected, rtol=1e-14)


def test_adam_matches_its_formula_over_steps():
    (w,) = parameters_with_grads(([0.5, -1.5, 2.0], [0.0, 0.0, 0.0]))
    lr, b1, b2, eps, decay = 0.01, 0.8, 0.99, 1e-6, 0.1
    optimizer = nn.Adam([w], lr=lr, betas=(b1, b2), eps=eps, weight_decay=decay)
    expected, m, v = w.data.copy(), np.zeros(3), np.zeros(3)
    rng = np.random.default_rng(0)
    for t in range(1, 6):
        gradient = rng.normal(size=3)
        w.grad = gradient.copy()
        g = gradient + decay * expected
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        expected = expected - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        optimizer.step()
        np.testing.assert_allclose(w.data, expected, rtol=1e-13)


def test_adam_first_step_moves_each_weight_by_about_lr():
    (w,) = parameters_with_grads(([0.0, 0.0], [1e-3, -50.0]))
    nn.Adam([w], lr=0.1).step()
    np.testing.assert_allclose(w.data, [-0.1, 0.1], rtol=1e-4)


@pytest.mark.parametrize("make", [lambda ps: nn.SGD(ps, lr=0.1, momentum=0.5),
                                  lambda ps: nn.Adam(ps, lr=0.1)])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_gradient_raises_and_changes_nothing(make, bad):
    model = nn.MLP(2, [3, 2], rng=0)
    optimizer = make(model.parameters())
    nn.cross_entropy(model(np.ones((4, 2))), np.array([0, 1, 0, 1])).backward()
    optimizer.step()  # state (momentum, moments) exists now
    before = model.state_dict()
    model.layers[1].W.grad = model.layers[1].W.grad.copy()
    model.layers[1].W.grad[0, 1] = bad
    with pytest.raises(FloatingPointError) as caught:
        optimizer.step()
    assert "gradient of parameter layers.1.W (shape (3, 2)) contains nan or inf" in str(
        caught.value)
    assert "no parameter was updated" in str(caught.value)
    for name, value in model.named_parameters():  # layers.0.* come first and were not touched
        np.testing.assert_array_equal(value.data, before[name])


def test_non_finite_gradient_of_an_unnamed_parameter_gives_its_index():
    values = parameters_with_grads(([1.0], [1.0]), ([1.0], [np.nan]))
    with pytest.raises(FloatingPointError, match=r"SGD\.step: the gradient of parameter #1 "
                                                 r"\(unnamed\)"):
        nn.SGD(values, lr=0.1).step()


def test_huge_finite_gradients_are_not_mistaken_for_overflow():
    (w,) = parameters_with_grads(([0.0, 0.0], [1e308, 1e308]))  # their sum overflows
    nn.SGD([w], lr=1e-10).step()
    np.testing.assert_allclose(w.data, [-1e298, -1e298])


# Sizes that take each branch of the finiteness screen: one BLAS dot (small and large) and
# numpy's own sum between them; a transposed gradient is not C-contiguous.
SCREENED_SIZES = [7, nn.optim.SERIAL_DOT + 1, nn.optim.BLOCK, nn.optim.BLOCK + 5]


@pytest.mark.parametrize("size", SCREENED_SIZES)
@pytest.mark.parametrize("bad", [[np.nan], [np.inf], [-np.inf], [np.inf, -np.inf]])
def test_the_screen_finds_non_finite_gradients_of_every_size(size, bad):
    grad = np.ones(size)
    grad[size // 2:size // 2 + len(bad)] = bad
    (w,) = parameters_with_grads((np.zeros(size), grad))
    with pytest.raises(FloatingPointError, match="contains nan or inf"):
        nn.SGD([w], lr=0.1).step()
    assert not w.data.any()


@pytest.mark.parametrize("size", SCREENED_SIZES)
def test_the_screen_passes_huge_finite_gradients_of_every_size(size):
    w = Value(np.zeros((size, 1)))
    w.grad = np.full((1, size), 1e308).T  # its sum and its sum of squares overflow
    nn.SGD([w], lr=1e-10).step()
    np.testing.assert_allclose(w.data, -1e298)


def test_parameters_without_gradient_are_skipped():
    w, b = parameters_with_grads(([1.0], [1.0]), ([5.0], [1.0]))
    b.grad = None
    nn.SGD([w, b], lr=0.5).step()
    assert w.data[0] == 0.5 and b.data[0] == 5.0


def test_zero_grad_clears_gradients():
    values = parameters_with_grads(([1.0], [1.0]), ([2.0], [3.0]))
    optimizer = nn.Adam(values)
    optimizer.zero_grad()
    assert all(v.grad is None for v in values)


def test_scalar_parameters_stay_python_floats():
    for optimizer_class in (nn.SGD, nn.Adam):
        w = Value(2.0)
        (w * w).backward()
        optimizer_class([w], lr=0.1).step()
        assert type(w.data) is float and w.data < 2.0


def test_float32_parameters_stay_float32_and_keep_their_array():
    model = nn.MLP(3, [4, 2], dtype=np.float32, rng=0)
    arrays = [p.data for p in model.parameters()]
    optimizer = nn.Adam(model.parameters(), lr=0.01)
    nn.cross_entropy(model(np.ones((2, 3), dtype=np.float32)), np.array([0, 1])).backward()
    optimizer.step()
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert all(p.data is a for p, a in zip(model.parameters(), arrays, strict=True))


def test_read_only_parameter_data_is_replaced_not_written():
    frozen = np.ones(2)
    frozen.flags.writeable = False
    w = Value(frozen)
    w.grad = np.ones(2)
    nn.SGD([w], lr=0.5).step()
    np.testing.assert_allclose(w.data, [0.5, 0.5])
    np.testing.assert_allclose(frozen, [1.0, 1.0])


def test_training_reduces_the_loss():
    X, y = nn.data.make_moons(100, noise=0.1, rng=0)
    for optimizer_class, lr in ((nn.SGD, 0.5), (nn.Adam, 0.02)):
        model = nn.MLP(2, [16, 2], activation="tanh", rng=1)
        optimizer = optimizer_class(model.parameters(), lr=lr)
        first = None
        for _ in range(100):
            loss = nn.cross_entropy(model(X), y)
            first = loss.item() if first is None else first
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        assert loss.item() < 0.5 * first


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: nn.SGD([], lr=0.1), "SGD: got an empty list of parameters"),
        (lambda: nn.SGD([Value(1.0)], lr=0.0), "SGD: lr must be positive; got 0.0"),
        (lambda: nn.SGD([Value(1.0)], lr=0.1, momentum=1.0),
         r"SGD: momentum must lie in \[0, 1\); got 1.0"),
        (lambda: nn.SGD([Value(1.0)], lr=0.1, weight_decay=-1),
         "SGD: weight_decay must be >= 0; got -1"),
        (lambda: nn.Adam([Value(1.0)], betas=(0.9, 1.0)), r"Adam: betas must lie in \[0, 1\)"),
        (lambda: nn.Adam([Value(1.0)], eps=0), "Adam: eps must be positive; got 0"),
    ],
)
def test_bad_settings_are_rejected(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_non_values_are_rejected():
    with pytest.raises(TypeError, match="Adam: parameter 1 is a ndarray, not a Value"):
        nn.Adam([Value(1.0), np.ones(2)])


OPTIMIZERS = {
    "SGD": lambda ps: nn.SGD(ps, lr=0.1),
    "SGD momentum": lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "Adam": lambda ps: nn.Adam(ps, lr=0.1, weight_decay=0.01),
}


def optimizer_state(optimizer):
    """Copies of everything a step may change: parameter data, momentum, moments, counters."""
    state = {"data": [copy.deepcopy(p.data) for p in optimizer.params]}
    for name in ("velocity", "first", "second", "steps"):
        if hasattr(optimizer, name):
            state[name] = copy.deepcopy(getattr(optimizer, name))
    return state


def assert_same_state(before, after):
    assert before.keys() == after.keys()
    for key in before:
        for old, new in zip(before[key], after[key], strict=True):
            assert type(old) is type(new)
            if old is not None:
                np.testing.assert_array_equal(new, old)


def stepped_model(make):
    """An MLP, its optimizer after one good step (so momentum/moments exist), fresh grads."""
    model = nn.MLP(2, [3, 2], rng=0)
    optimizer = make(model.parameters())
    for _ in range(2):
        model.zero_grad()
        nn.cross_entropy(model(np.ones((4, 2))), np.array([0, 1, 0, 1])).backward()
        if _ == 0:
            optimizer.step()
    return model, optimizer


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
@pytest.mark.parametrize(
    ("grad", "shown"),
    [
        (np.ones((1, 2)), "(1, 2)"),  # would broadcast into a new (1, 2) parameter
        (np.ones(1), "(1,)"),  # would broadcast in place, silently
        (np.ones((2, 1)), "(2, 1)"),  # would broadcast into a (2, 2) parameter
        (0.5, "()"),  # a float for an array parameter
    ],
)
def test_gradient_of_the_wrong_shape_raises_before_anything_is_updated(make, grad, shown):
    model, optimizer = stepped_model(make)
    arrays = [p.data for p in model.parameters()]
    before = optimizer_state(optimizer)
    model.layers[1].b.grad = grad  # the last parameter: every other one comes first
    with pytest.raises(ValueError) as caught:
        optimizer.step()
    name = type(optimizer).__name__
    assert str(caught.value) == (
        f"{name}.step: the gradient of parameter layers.1.b has shape {shown} but the "
        "parameter has shape (2,); a gradient must have exactly its parameter's shape "
        "(it is never broadcast); no parameter was updated"
    )
    assert_same_state(before, optimizer_state(optimizer))
    assert all(p.data is a for p, a in zip(model.parameters(), arrays, strict=True))


def test_gradient_of_a_scalar_parameter_must_be_a_scalar():
    w = Value(2.0, name="w")
    w.grad = np.ones(3)
    with pytest.raises(ValueError, match=r"parameter w has shape \(3,\) but the parameter has "
                                         r"shape \(\);"):
        nn.SGD([w], lr=0.1).step()
    assert w.data == 2.0
    w.grad = np.array(1.0)  # a 0-d array fits a float parameter
    nn.SGD([w], lr=0.5).step()
    assert type(w.data) is float and w.data == 1.5


BAD_LAST_GRADIENTS = {
    "shape": lambda p: np.ones((1, *p.shape)),
    "nan": lambda p: np.full(p.shape, np.nan),
    "Value": lambda p: Value(np.ones(p.shape)),
    "list": lambda p: [1.0, 1.0],
    "complex": lambda p: np.ones(p.shape, dtype=complex),
    "bool": lambda p: np.ones(p.shape, dtype=bool),
}


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
@pytest.mark.parametrize("bad", BAD_LAST_GRADIENTS.values(), ids=BAD_LAST_GRADIENTS.keys())
def test_a_failed_step_changes_no_parameter_and_no_optimizer_state(make, bad):
    model, optimizer = stepped_model(make)
    before = optimizer_state(optimizer)
    last = model.layers[1].b
    last.grad = bad(last)
    with pytest.raises((ValueError, TypeError, FloatingPointError),
                       match=re.escape("of parameter layers.1.b ")) as caught:
        optimizer.step()
    assert "no parameter was updated" in str(caught.value)
    assert_same_state(before, optimizer_state(optimizer))
    last.grad = np.ones(2)  # once the gradient is fixed, the step goes ahead
    optimizer.step()
    assert not np.array_equal(model.layers[0].W.data, before["data"][0])


def test_a_failed_step_leaves_adam_step_counters_alone():
    w, b = parameters_with_grads(([1.0, 2.0], [0.5, -1.0]), ([3.0], [2.0]))
    optimizer = nn.Adam([w, b], lr=0.1)
    optimizer.step()
    b.grad = np.ones(3)
    with pytest.raises(ValueError):
        optimizer.step()
    assert optimizer.steps == [1, 1]


@pytest.mark.parametrize("optimizer_class", [nn.SGD, nn.Adam])
def test_gradient_left_as_a_value_by_create_graph_gives_a_clear_type_error(optimizer_class):
    w = Value(np.array([1.0, -2.0]), name="w")
    (w * w * w).sum().backward(create_graph=True)
    assert isinstance(w.grad, Value)
    optimizer = optimizer_class([w], lr=0.1)
    with pytest.raises(TypeError) as caught:
        optimizer.step()
    message = str(caught.value)
    assert message.startswith(
        f"{optimizer_class.__name__}.step: the gradient of parameter w is an autodiff Value"
    )
    assert "loss.backward(create_graph=True)" in message
    assert "without create_graph" in message and "p.grad = p.grad.data" in message
    np.testing.assert_array_equal(w.data, [1.0, -2.0])
    w.grad = w.grad.data  # the remedy the message gives
    optimizer.step()
    assert w.data[0] < 1.0


@pytest.mark.parametrize(
    ("grad", "message"),
    [
        ([1.0, 1.0], "is a list; a gradient must be a numpy array of the parameter's shape"),
        ("1", "is a str; a gradient must be a numpy array"),
        (True, "is a bool; a gradient must be a numpy array"),
        (np.ones(2, dtype=complex), "has dtype complex128; a gradient must hold real numbers"),
        (np.array([1, None]), "has dtype object; a gradient must hold real numbers"),
    ],
)
def test_gradient_of_the_wrong_type_is_refused_by_name(grad, message):
    w, b = parameters_with_grads(([1.0, 2.0], [1.0, 1.0]), ([0.0, 0.0], [1.0, 1.0]))
    b.grad = grad
    expected = "SGD.step: the gradient of parameter #1 (unnamed) " + message
    with pytest.raises(TypeError, match=re.escape(expected)):
        nn.SGD([w, b], lr=0.1, momentum=0.5).step()
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


@pytest.mark.parametrize("optimizer_class", [nn.SGD, nn.Adam])
def test_optimizers_reject_duplicate_parameters(optimizer_class):
    model = nn.Linear(2, 2, rng=0)
    with pytest.raises(ValueError) as caught:
        optimizer_class([model.W, model.b, model.W], lr=0.1)
    assert str(caught.value) == (
        f"{optimizer_class.__name__}: parameter W is listed 2 times (positions 0, 2); each "
        "parameter may be listed only once, or every step would update it 2 times"
    )
    a = Value(1.0)
    with pytest.raises(ValueError, match=r"parameter #1 \(unnamed\) is listed 3 times "
                                         r"\(positions 1, 2, 3\)"):
        optimizer_class([Value(0.0), a, a, a], lr=0.1)


def test_sgd_rejects_duplicate_parameters():
    a = Value(np.array([1.0]), name="a")
    with pytest.raises(ValueError, match=r"SGD: parameter a is listed 2 times \(positions 0, 1\)"):
        nn.SGD([a, a], lr=0.1)
    a.grad = np.array([1.0])
    nn.SGD([a], lr=0.1).step()  # listed once, it is stepped once
    np.testing.assert_allclose(a.data, [0.9])


def sgd(**settings):
    return nn.SGD([Value(1.0)], **{"lr": 0.1, **settings})


def adam(**settings):
    return nn.Adam([Value(1.0)], **settings)


POSITIVE, NON_NEGATIVE = "a finite real number > 0", "a finite real number >= 0"
FRACTION = "a real number in [0, 1)"


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: sgd(lr="0.1"), TypeError,
         f"SGD: lr must be a real number; got '0.1' of type str (allowed: {POSITIVE})"),
        (lambda: sgd(lr=True), TypeError,
         f"SGD: lr must be a real number; got True of type bool (allowed: {POSITIVE})"),
        (lambda: sgd(lr=None), TypeError, "SGD: lr must be a real number; got None"),
        (lambda: sgd(lr=-0.1), ValueError,
         f"SGD: lr must be positive; got -0.1 (allowed: {POSITIVE})"),
        (lambda: sgd(lr=math.nan), ValueError,
         f"SGD: lr must be finite; got nan (allowed: {POSITIVE})"),
        (lambda: adam(lr=math.inf), ValueError, "Adam: lr must be finite; got inf"),
        (lambda: adam(lr=10**400), ValueError, "Adam: lr must be finite; got 1000"),
        (lambda: sgd(momentum="0.9"), TypeError,
         f"SGD: momentum must be a real number; got '0.9' of type str (allowed: {FRACTION})"),
        (lambda: sgd(momentum=False), TypeError,
         "SGD: momentum must be a real number; got False of type bool"),
        (lambda: sgd(momentum=math.nan), ValueError, "SGD: momentum must be finite; got nan"),
        (lambda: sgd(momentum=-0.5), ValueError,
         f"SGD: momentum must lie in [0, 1); got -0.5 (allowed: {FRACTION})"),
        (lambda: sgd(weight_decay=math.inf), ValueError,
         f"SGD: weight_decay must be finite; got inf (allowed: {NON_NEGATIVE})"),
        (lambda: sgd(weight_decay="0"), TypeError,
         "SGD: weight_decay must be a real number; got '0' of type str"),
        (lambda: adam(weight_decay=np.nan), ValueError,
         "Adam: weight_decay must be finite; got nan"),
        (lambda: adam(betas=(0.9, math.nan)), ValueError,
         "Adam: betas must be finite; got betas[1] = nan"),
        (lambda: adam(betas=(-0.1, 0.999)), ValueError,
         f"Adam: betas must lie in [0, 1); got betas[0] = -0.1 (allowed: {FRACTION})"),
        (lambda: adam(betas=("0.9", 0.999)), TypeError,
         "Adam: betas must be a real number; got betas[0] = '0.9' of type str"),
        (lambda: adam(betas=(0.9, True)), TypeError,
         "Adam: betas must be a real number; got betas[1] = True of type bool"),
        (lambda: adam(betas=(0.9,)), TypeError,
         "Adam: betas must be a pair (beta1, beta2) of real numbers in [0, 1); got (0.9,)"),
        (lambda: adam(betas=0.9), TypeError, "Adam: betas must be a pair (beta1, beta2)"),
        (lambda: adam(eps=math.inf), ValueError, "Adam: eps must be finite; got inf"),
        (lambda: adam(eps=-1e-8), ValueError,
         f"Adam: eps must be positive; got -1e-08 (allowed: {POSITIVE})"),
        (lambda: adam(eps="1e-8"), TypeError, "Adam: eps must be a real number; got '1e-8'"),
    ],
)
def test_settings_must_be_finite_real_numbers_in_range(build, error, message):
    with pytest.raises(error, match=re.escape(message)):
        build()


def test_settings_accept_ints_and_numpy_scalars():
    optimizer = nn.Adam([Value(1.0)], lr=np.float32(0.5), betas=(0, np.float64(0.5)), eps=1)
    assert (optimizer.lr, optimizer.beta1, optimizer.beta2, optimizer.eps) == (0.5, 0.0, 0.5, 1.0)
    assert all(type(x) is float for x in (optimizer.lr, optimizer.beta1, optimizer.eps))
    sgd = nn.SGD([Value(1.0)], lr=1, momentum=np.float16(0.5), weight_decay=0)
    assert (sgd.lr, sgd.momentum, sgd.weight_decay) == (1.0, 0.5, 0.0)




@pytest.mark.parametrize("make", [
    lambda ps: nn.SGD(ps, lr=0.1), lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: nn.Adam(ps, lr=0.01)])
def test_updates_allocate_no_full_size_temporaries(make):
    w = Value(np.ones((256, 256)))
    optimizer = make([w])
    w.grad = np.full((256, 256), 0.5)
    optimizer.step()  # the first step may create state (momentum, moments, scratch)
    w.grad = np.full((256, 256), 0.25)
    peak, _ = traced_step(optimizer)
    assert peak < w.data.nbytes // 4, f"a step allocated {peak} bytes at its peak"


def test_in_place_updates_equal_the_textbook_formulas():
    rng = np.random.default_rng(3)
    start = rng.standard_normal((4, 3))
    grads = [rng.standard_normal((4, 3)) for _ in range(3)]
    w = Value(start.copy())
    adam = nn.Adam([w], lr=0.01, betas=(0.8, 0.9), eps=1e-6)
    m = v = np.zeros_like(start)
    expected = start.copy()
    for t, g in enumerate(grads, start=1):
        w.grad = g.copy()
        adam.step()
        m = 0.8 * m + 0.2 * g
        v = 0.9 * v + 0.1 * g * g
        expected = expected - 0.01 / (1 - 0.8**t) * (m / (np.sqrt(v / (1 - 0.9**t)) + 1e-6))
        assert np.allclose(w.data, expected, rtol=1e-13, atol=1e-15)
        assert np.array_equal(w.grad, g)  # the gradient is left as it was
    u = Value(start.copy())
    sgd = nn.SGD([u], lr=0.1, momentum=0.5)
    velocity, expected = None, start.copy()
    for g in grads:
        u.grad = g.copy()
        sgd.step()
        velocity = g if velocity is None else 0.5 * velocity + g
        expected = expected - 0.1 * velocity
        assert np.allclose(u.data, expected, rtol=1e-13)
        assert np.array_equal(u.grad, g)


def traced_step(optimizer):
    """(peak, kept): bytes a step allocated at its peak, and bytes still held after it."""
    import tracemalloc

    tracemalloc.start()
    try:
        optimizer.step()
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, kept


BLOCKED = {
    "SGD": (lambda ps: nn.SGD(ps, lr=0.1), 0),
    "SGD decay": (lambda ps: nn.SGD(ps, lr=0.1, weight_decay=0.01), 0),
    "SGD momentum decay": (lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01), 1),
    "Adam decay": (lambda ps: nn.Adam(ps, lr=0.01, weight_decay=0.01), 2),
}


@pytest.mark.parametrize(("make", "states"), BLOCKED.values(), ids=BLOCKED.keys())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_steps_allocate_and_keep_nothing_parameter_sized_beyond_the_state(make, states, dtype):
    # A parameter of 16 blocks: the step works through it a block at a time, weight decay
    # included, and keeps no scratch of its size (only momentum or the two moments; its
    # scratch is a few blocks of 2^16 elements, here 1/16 of the parameter each).
    w = Value(np.ones((1024, 1024), dtype=dtype))
    array, size = w.data, w.data.nbytes
    optimizer = make([w])
    w.grad = np.full((1024, 1024), 0.5, dtype=dtype)
    peak, kept = traced_step(optimizer)  # the first step creates the state
    assert kept < states * size + size // 4, f"the first step kept {kept} bytes"
    assert peak < states * size + size // 4, f"the first step allocated {peak} bytes"
    w.grad = np.full((1024, 1024), 0.25, dtype=dtype)
    peak, kept = traced_step(optimizer)
    assert peak < size // 4 and kept < size // 4, f"a step allocated {peak} bytes"
    assert w.data is array and w.version == 2 and w.dtype == dtype


def whole_array_sgd(start, grads, lr, momentum, decay):
    p, velocity = start.copy(), None
    for g in grads:
        g = g + decay * p
        velocity = g.copy() if velocity is None else velocity * momentum + g
        p -= lr * velocity
    return p


def whole_array_adam(start, grads, lr, b1, b2, eps, decay):
    p, m, v = start.copy(), None, None
    for t, g in enumerate(grads, start=1):
        g = g + decay * p
        m = (1 - b1) * g if m is None else b1 * m + (1 - b1) * g
        v = (1 - b2) * (g * g) if v is None else b2 * v + (1 - b2) * (g * g)
        p -= lr / (1 - b1**t) * (m / (np.sqrt(v / (1 - b2**t)) + eps))
    return p


@pytest.mark.parametrize("layout", ["C", "F", "transposed"])
@pytest.mark.parametrize(("param_dtype", "grad_dtype"),
                         [(np.float32, np.float32), (np.float32, np.float64),
                          (np.float64, np.float32), (np.float64, np.float64)])
def test_block_updates_equal_the_whole_array_formulas_bit_for_bit(layout, param_dtype,
                                                                 grad_dtype):
    # 3 × 300 × 250 elements: several blocks, and (non-contiguous) rows cut at block edges.
    rng = np.random.default_rng(7)
    start = rng.standard_normal((3, 300, 250)).astype(param_dtype)
    grads = [rng.standard_normal(start.shape).astype(grad_dtype) for _ in range(3)]
    if layout == "F":
        grads = [np.asfortranarray(g) for g in grads]
    elif layout == "transposed":
        grads = [np.ascontiguousarray(g.transpose(2, 1, 0)).transpose(2, 1, 0) for g in grads]
    w, u = Value(start.copy()), Value(start.copy())
    sgd = nn.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.01)
    adam = nn.Adam([u], lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)
    for g in grads:
        w.grad = u.grad = g
        sgd.step()
        adam.step()
    np.testing.assert_array_equal(w.data, whole_array_sgd(start, grads, 0.1, 0.9, 0.01))
    np.testing.assert_array_equal(
        u.data, whole_array_adam(start, grads, 0.01, 0.8, 0.9, 1e-6, 0.1))
    assert w.dtype == u.dtype == param_dtype


def test_integer_gradients_are_stepped_as_float64_with_momentum():
    start = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    w = Value(start.copy())
    optimizer = nn.SGD([w], lr=0.1, momentum=0.5)
    grads = [np.array([1, -2, 3]), np.array([2, 0, -1])]
    for g in grads:
        w.grad = g
        optimizer.step()
    expected = whole_array_sgd(start, [g.astype(np.float64) for g in grads], 0.1, 0.5, 0.0)
    np.testing.assert_array_equal(w.data, expected)
    assert optimizer.velocity[0].dtype == np.float64
