"""nn.Module: discovery of parameters and sub-modules, names, modes, state and model files."""

import os
import zipfile

import numpy as np
import pytest

import nn
from autodiff import Value


class Block(nn.Module):
    def __init__(self):
        self.scale = Value(np.ones(3))
        self.inner = nn.Linear(3, 2, rng=0)
        self.note = "not a parameter"
        self.count = 4

    def forward(self, x):
        return self.inner(x * self.scale)


class Model(nn.Module):
    def __init__(self):
        self.encoder = Block()
        self.heads = [nn.Linear(2, 1, rng=1), nn.Linear(2, 1, rng=2)]
        self.pair = (Value(1.0), Value(np.zeros(2)))

    def forward(self, x):
        hidden = self.encoder(x)
        return self.heads[0](hidden) + self.heads[1](hidden) * self.pair[0] + self.pair[1].sum()


EXPECTED_NAMES = [
    "encoder.scale", "encoder.inner.W", "encoder.inner.b",
    "heads.0.W", "heads.0.b", "heads.1.W", "heads.1.b", "pair.0", "pair.1",
]


def test_parameters_found_in_attributes_lists_and_tuples_in_assignment_order():
    model = Model()
    assert [name for name, _ in model.named_parameters()] == EXPECTED_NAMES
    assert model.parameters() == [value for _, value in model.named_parameters()]
    assert model.parameters()[1] is model.encoder.inner.W


def test_every_parameter_is_named_by_its_dotted_path():
    model = Model()
    assert [p.name for p in model.parameters()] == EXPECTED_NAMES
    mlp = nn.MLP(3, [4, 4, 2])
    assert [p.name for p in mlp.parameters()] == [
        "layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b", "layers.2.W", "layers.2.b"
    ]
    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    assert [p.name for p in seq.parameters()] == [
        "layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b"
    ]


def test_names_follow_the_outermost_module_and_can_be_refreshed():
    mlp = nn.MLP(2, [3, 1])
    assert mlp.layers[0].W.name == "layers.0.W"

    class Wrapper(nn.Module):
        def __init__(self):
            self.net = mlp

    wrapper = Wrapper()
    assert mlp.layers[0].W.name == "net.layers.0.W"
    mlp.layers[1].W = Value(np.zeros((3, 1)))  # replaced deep inside: named locally...
    assert mlp.layers[1].W.name == "W"
    wrapper.name_parameters()  # ...until the outermost module renames
    assert mlp.layers[1].W.name == "net.layers.1.W"
    assert dict(wrapper.named_parameters())["net.layers.1.W"] is mlp.layers[1].W


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2, rng=0)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(seq.parameters()) == 2
    assert [name for name, _ in seq.named_parameters()] == ["layers.0.W", "layers.0.b"]
    assert len(seq.modules()) == 3  # the Sequential, the Linear once, the ReLU


def test_named_modules_gives_paths():
    model = Model()
    paths = [path for path, _ in model.named_modules()]
    assert paths == ["", "encoder", "encoder.inner", "heads.0", "heads.1"]


def test_call_runs_forward_and_base_forward_is_abstract():
    model = Model()
    x = np.ones((5, 3))
    out = model(x)
    assert isinstance(out, Value) and out.shape == (5, 1)
    np.testing.assert_allclose(out.data, model.forward(x).data)
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(x)


def test_zero_grad_clears_every_gradient():
    model = Model()
    model(np.ones((2, 3))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_train_and_eval_set_the_flag_everywhere():
    model = Model()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_state_dict_holds_copies():
    model = Model()
    state = model.state_dict()
    assert list(state) == EXPECTED_NAMES
    state["encoder.inner.W"][:] = 99.0
    assert not np.any(model.encoder.inner.W.data == 99.0)
    assert state["pair.0"].shape == () and float(state["pair.0"]) == 1.0


def test_load_state_dict_copies_values_in():
    source, target = nn.MLP(3, [5, 2], rng=1), nn.MLP(3, [5, 2], rng=2)
    target.load_state_dict(source.state_dict())
    for a, b in zip(source.parameters(), target.parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data)
        assert a.data is not b.data
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_array_equal(source(x).data, target(x).data)


def test_load_state_dict_keeps_scalar_parameters_as_floats():
    model = Model()
    state = model.state_dict()
    state["pair.0"] = np.array(2.5)
    model.load_state_dict(state)
    assert type(model.pair[0].data) is float and model.pair[0].data == 2.5


def test_mismatched_state_lists_every_difference_and_changes_nothing():
    model = nn.MLP(3, [5, 2], rng=1)
    before = model.state_dict()
    state = nn.MLP(3, [4, 2], rng=2).state_dict()  # layers.0.W (3,4) vs (3,5), ...
    del state["layers.1.b"]
    state["layers.2.W"] = np.zeros((2, 2))
    with pytest.raises(ValueError) as caught:
        model.load_state_dict(state)
    message = str(caught.value)
    assert "missing: layers.1.b" in message
    assert "unexpected: layers.2.W" in message
    assert "shape of layers.0.W: the model has (3, 5), the state has (3, 4)" in message
    assert "shape of layers.0.b" in message and "shape of layers.1.W" in message
    for name, value in model.named_parameters():
        np.testing.assert_array_equal(value.data, before[name])


def test_state_with_non_numeric_arrays_is_refused():
    model = nn.Linear(2, 2)
    state = model.state_dict()
    state["W"] = np.array([["a", "b"], ["c", "d"]])
    with pytest.raises(ValueError, match="dtype of W"):
        model.load_state_dict(state)


def test_save_and_load_round_trip(tmp_path):
    model = nn.MLP(4, [8, 3], activation="tanh", rng=0)
    path = tmp_path / "model.npz"
    model.save(path)
    assert zipfile.is_zipfile(path)
    state = nn.load_state(path)
    assert list(state) == [name for name, _ in model.named_parameters()]
    fresh = nn.MLP(4, [8, 3], activation="tanh", rng=1)
    assert fresh.load(path) is fresh
    x = np.random.default_rng(1).normal(size=(6, 4))
    np.testing.assert_array_equal(fresh(x).data, model(x).data)
    assert [p.name for p in fresh.parameters()] == [p.name for p in model.parameters()]


def test_save_keeps_float32(tmp_path):
    model = nn.MLP(2, [3, 1], dtype=np.float32, rng=0)
    model.save(tmp_path / "m.npz")
    assert all(a.dtype == np.float32 for a in nn.load_state(tmp_path / "m.npz").values())
    other = nn.MLP(2, [3, 1], dtype=np.float32, rng=1).load(tmp_path / "m.npz")
    assert other.layers[0].W.dtype == np.float32


def test_save_replaces_an_existing_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "model.npz"
    nn.Linear(2, 2, rng=0).save(path)
    second = nn.Linear(2, 2, rng=1)
    second.save(path)
    np.testing.assert_array_equal(nn.load_state(path)["W"], second.W.data)
    assert os.listdir(tmp_path) == ["model.npz"]


def test_a_crash_while_saving_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    original = nn.Linear(2, 2, rng=0)
    original.save(path)
    before = path.read_bytes()

    def crash(file, **arrays):
        file.write(b"PK\x03\x04 half of an archive")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        nn.Linear(2, 2, rng=1).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]


def test_save_never_pickles(tmp_path):
    with pytest.raises(TypeError, match="only arrays are saved"):
        nn.save_state({"w": np.array([object()])}, tmp_path / "x.npz")


def test_load_refuses_pickled_objects(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, W=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="holds pickled objects"):
        nn.load_state(path)


@pytest.mark.parametrize("keep", [0.2, 0.5, 0.8, 0.95])
def test_truncated_file_gives_a_clear_error(tmp_path, keep):
    path = tmp_path / "model.npz"
    nn.MLP(8, [16, 4], rng=0).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match=r"cannot read model file .*model\.npz.* truncated"):
        nn.load_state(path)
    with pytest.raises(ValueError, match="truncated"):
        nn.MLP(8, [16, 4]).load(path)


@pytest.mark.parametrize(
    ("content", "starts"),
    [(b"not a model at all", "b'not '"), (b"", "b''"), (b"\x93NUMPY\x01\x00", "b'\\\\x93NUM'")],
)
def test_non_npz_file_gives_a_clear_error(tmp_path, content, starts):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"is not a model file \(\.npz archive\)") as caught:
        nn.load_state(path)
    assert starts.replace("\\\\", "\\") in str(caught.value)


def test_plain_npy_file_is_not_a_model(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.ones(3))
    with pytest.raises(ValueError, match="not a model file"):
        nn.load_state(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        nn.load_state(tmp_path / "absent.npz")


def test_loading_a_different_architecture_from_file_changes_nothing(tmp_path):
    path = tmp_path / "small.npz"
    nn.MLP(3, [4, 2], rng=0).save(path)
    model = nn.MLP(3, [5, 2], rng=1)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"shape of layers\.0\.W"):
        model.load(path)
    for name, value in model.named_parameters():
        np.testing.assert_array_equal(value.data, before[name])


def test_repr_shows_the_tree():
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))
    assert text == "Sequential(\n  (layers.0): Linear(2, 3, bias=True)\n  (layers.1): ReLU()\n)"
    assert repr(nn.MLP(2, [1])).startswith("MLP(activation='relu',\n  (layers.0): Linear(2, 1")


def test_saved_file_gets_ordinary_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        path = tmp_path / "model.npz"
        nn.Linear(2, 2).save(path)
        assert path.stat().st_mode & 0o777 == 0o644
        path.chmod(0o600)
        nn.Linear(2, 2).save(path)  # replacing keeps the existing file's mode
        assert path.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(previous)


def test_package_docstring_example_runs():
    import doctest

    result = doctest.testmod(nn)
    assert result.attempted >= 5 and result.failed == 0
