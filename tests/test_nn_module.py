"""nn.Module: discovery of parameters and sub-modules, names, modes, state and model files."""

import gc
import os
import re
import tempfile
import time
import tracemalloc
import warnings
import zipfile
from pathlib import Path

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

    def crash(file, array, **options):
        file.write(b"\x93NUMPY half of an array")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(np.lib.format, "write_array", crash)
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


# -- any name round-trips ---------------------------------------------------------------

AWKWARD_NAMES = [
    "file", "allow_pickle", "args", "kwds", "self", "", "x.npy", "allow_pickle.npy",
    "layers.0/W", "a\\b", "../up", "/absolute", " spaced ", "ünïcødé ☃ 名前", "tab\tnewline\n",
]


def test_any_parameter_name_round_trips_through_a_file(tmp_path):
    path = tmp_path / "state.npz"
    state = {name: np.full((index % 3 + 1, 2), float(index))
             for index, name in enumerate(AWKWARD_NAMES)}
    nn.save_state(state, path)
    loaded = nn.load_state(path)
    assert list(loaded) == AWKWARD_NAMES
    for name, array in state.items():
        np.testing.assert_array_equal(loaded[name], array)
    with np.load(path, allow_pickle=False) as archive:  # still an .npz that numpy reads
        assert archive.files == AWKWARD_NAMES
        np.testing.assert_array_equal(archive["allow_pickle"], state["allow_pickle"])
        np.testing.assert_array_equal(archive["file"], state["file"])


def test_module_with_parameters_named_like_savez_arguments_saves_and_loads(tmp_path):
    class Odd(nn.Module):
        def __init__(self, seed):
            rng = np.random.default_rng(seed)
            self.file = Value(rng.normal(size=(2, 3)))
            self.allow_pickle = Value(rng.normal(size=3))
            self.args = Value(float(seed))

    path = tmp_path / "odd.npz"
    Odd(0).save(path)
    loaded = Odd(1).load(path)
    for a, b in zip(Odd(0).parameters(), loaded.parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    assert type(loaded.args.data) is float


def test_empty_state_round_trips(tmp_path):
    nn.save_state({}, tmp_path / "empty.npz")
    assert nn.load_state(tmp_path / "empty.npz") == {}


@pytest.mark.parametrize(
    ("name", "message"),
    [("a\x00b", "contains NUL"), ("\udcff", "cannot be encoded as UTF-8"),
     ("x" * 70_000, "a zip member name holds at most")],
)
def test_names_a_zip_archive_cannot_hold_are_refused_before_writing(tmp_path, name, message):
    with pytest.raises(ValueError, match=message):
        nn.save_state({"fine": np.ones(2), name: np.ones(2)}, tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []


# -- headers are checked before any array data is read -----------------------------------


def npy_header(shape, descr="<f8"):
    """The bytes of a version 1.0 .npy header declaring `shape` and `descr`."""
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory):
    """A ~40 kB file whose member W.npy is a genuine (2000, 2500) float64 array of zeros:
    40 MB once inflated. Header and uncompressed size agree; only the shape is wrong."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("W.npy", "w", force_zip64=True) as member:
            member.write(npy_header((2000, 2500)))
            zeros = bytes(1 << 20)
            left = 2000 * 2500 * 8
            while left:
                member.write(zeros[:left])
                left -= min(left, len(zeros))
    assert path.stat().st_size < 100_000
    return path


def peak_allocation(call):
    """(the exception `call` raised, the peak bytes allocated while it ran)."""
    tracemalloc.start()
    try:
        call()
    except Exception as error:  # handed back to the test
        raised = error
    else:
        raised = None
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return raised, peak


class Tiny(nn.Module):
    def __init__(self):
        self.W = Value(np.ones((2, 3)))


def test_load_checks_shapes_before_inflating_a_compressed_bomb(zip_bomb):
    model = Tiny()
    start = time.perf_counter()
    error, peak = peak_allocation(lambda: model.load(zip_bomb))
    assert peak < 1 << 20, f"{peak:,} bytes allocated: the member was inflated"
    assert isinstance(error, ValueError)
    assert "shape of W: the model has (2, 3), the state has (2000, 2500)" in str(error)
    assert str(error).startswith(f"Tiny.load: model file {str(zip_bomb)!r} does not match Tiny")
    assert time.perf_counter() - start < 1.0
    np.testing.assert_array_equal(model.W.data, np.ones((2, 3)))


def test_load_state_refuses_a_file_that_would_inflate_far_beyond_its_size(zip_bomb):
    error, peak = peak_allocation(lambda: nn.load_state(zip_bomb))
    assert peak < 1 << 20, f"{peak:,} bytes allocated: the member was inflated"
    assert isinstance(error, ValueError)
    size = zip_bomb.stat().st_size
    assert str(error).startswith(
        f"load_state: model file {str(zip_bomb)!r} ({size:,} bytes) declares 40,000,000 bytes "
        f"of array data, more than {64 * size + (16 << 20):,} (the default limit, 64 × the "
        "file's size + 16 MiB)"
    )
    assert "Module.load" in str(error) and "max_bytes" in str(error)
    with pytest.raises(ValueError, match=r"more than 1,000 \(max_bytes\)"):
        nn.load_state(zip_bomb, max_bytes=1000)
    state = nn.load_state(zip_bomb, max_bytes=50_000_000)  # trusted: a higher limit reads it
    assert state["W"].shape == (2000, 2500) and not state["W"].any()


@pytest.mark.parametrize(("max_bytes", "error"), [(-1, ValueError), (1.5, TypeError),
                                                  (True, TypeError), ("1", TypeError)])
def test_load_state_max_bytes_must_be_a_non_negative_int(zip_bomb, max_bytes, error):
    with pytest.raises(error, match="load_state: max_bytes must be"):
        nn.load_state(zip_bomb, max_bytes=max_bytes)


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_member_whose_size_disagrees_with_its_header_is_refused_unread(tmp_path, compression):
    path = tmp_path / "liar.npz"
    header = npy_header((10**8,))  # 800 MB declared; 80 bytes present
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        archive.writestr("W.npy", header + bytes(80))
    expected = (
        f"cannot read model file {str(path)!r}: member 'W.npy' declares shape (100000000,) of "
        f"float64 (800,000,000 bytes of data after a {len(header)}-byte header) but its "
        f"uncompressed size is {len(header) + 80:,} bytes"
    )
    model = Tiny()
    for load, caller in ((lambda: nn.load_state(path), "load_state"),
                         (lambda: model.load(path), "Tiny.load")):
        error, peak = peak_allocation(load)
        assert peak < 1 << 20, f"{peak:,} bytes allocated for a declared shape"
        assert isinstance(error, ValueError)
        assert str(error) == f"{caller}: {expected}"


def test_member_compressed_with_bzip2_is_refused_before_opening(tmp_path):
    path = tmp_path / "bz.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_BZIP2) as archive:
        archive.writestr("W.npy", npy_header((2, 3)) + bytes(48))
    with pytest.raises(ValueError, match=re.escape(
            "member 'W.npy' uses zip compression method 12; model files use stored or deflate")):
        Tiny().load(path)


def test_compressed_and_fortran_order_files_written_by_numpy_still_load(tmp_path):
    path = tmp_path / "np.npz"
    W = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    np.savez_compressed(path, W=W)
    model = Tiny().load(path)
    np.testing.assert_array_equal(model.W.data, W)
    np.testing.assert_array_equal(nn.load_state(path)["W"], W)


# -- every path closes its file --------------------------------------------------------


def open_descriptors():
    return len(os.listdir("/proc/self/fd"))


def write_corrupt_file(path, kind):
    """A model file for nn.MLP(3, [4, 2]) damaged in one way (each fails at another stage)."""
    model = nn.MLP(3, [4, 2], rng=0)
    model.save(path)
    data = path.read_bytes()
    if kind == "garbage":
        path.write_bytes(b"PK\x03\x04 and then nothing like a zip archive")
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "bad CRC":  # one flipped byte inside the first array's data
        at = data.index(model.layers[0].W.data.tobytes()) + 5
        path.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:])
    elif kind == "pickled":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("layers.0.W.npy", npy_header((3, 4), descr="|O") + bytes(96))
    elif kind == "size mismatch":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("layers.0.W.npy", npy_header((3, 4)) + bytes(8))
    elif kind == "other model":
        nn.MLP(3, [5, 2], rng=0).save(path)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
@pytest.mark.parametrize(
    ("kind", "loader"),
    [(kind, loader)
     for kind in ["garbage", "truncated", "bad CRC", "pickled", "size mismatch"]
     for loader in ["load_state", "Module.load"]]
    + [("other model", "Module.load")],  # a valid file, which only a model refuses
)
def test_failed_loads_close_their_file(tmp_path, kind, loader):
    path = tmp_path / "model.npz"
    write_corrupt_file(path, kind)
    model = nn.MLP(3, [4, 2], rng=1)
    before = model.state_dict()
    load = (lambda: nn.load_state(path)) if loader == "load_state" else (lambda: model.load(path))
    opened = open_descriptors()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        try:
            load()
        except ValueError:
            still_open = open_descriptors() - opened  # counted while the error is alive
        else:
            pytest.fail("the damaged file loaded")
        gc.collect()  # an unclosed file left behind warns here, as it is collected
    assert still_open == 0, "the file was left open"
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    for name, value in model.named_parameters():
        np.testing.assert_array_equal(value.data, before[name])


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_a_failed_save_closes_its_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    nn.Linear(2, 2, rng=0).save(path)
    before = path.read_bytes()

    def refuse(*args, **kwargs):
        raise PermissionError("chmod refused")

    monkeypatch.setattr(os, "chmod", refuse)
    opened = open_descriptors()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(PermissionError):
            nn.Linear(2, 2, rng=1).save(path)
        assert open_descriptors() == opened
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]


# -- saving through a symbolic link -------------------------------------------------------


def test_saving_to_a_symlink_writes_its_target_and_keeps_the_link(tmp_path, monkeypatch):
    real, links = tmp_path / "real", tmp_path / "links"
    real.mkdir()
    links.mkdir()
    target = real / "model.npz"
    nn.Linear(2, 2, rng=0).save(target)
    target.chmod(0o640)
    link = links / "current.npz"
    link.symlink_to(target)
    folders = []
    mkstemp = tempfile.mkstemp

    def recording_mkstemp(*args, **kwargs):
        folders.append(Path(kwargs["dir"]))
        return mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", recording_mkstemp)
    model = nn.Linear(2, 2, rng=1)
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    np.testing.assert_array_equal(nn.load_state(target)["W"], model.W.data)
    np.testing.assert_array_equal(nn.Linear(2, 2).load(link).W.data, model.W.data)
    assert folders == [Path(os.path.realpath(real))]  # the temporary file sat beside the target
    assert os.listdir(links) == ["current.npz"] and os.listdir(real) == ["model.npz"]
    assert target.stat().st_mode & 0o777 == 0o640


def test_saving_to_a_relative_or_dangling_symlink(tmp_path):
    (tmp_path / "models").mkdir()
    relative = tmp_path / "latest.npz"
    relative.symlink_to(Path("models") / "v1.npz")  # dangling until the first save
    model = nn.Linear(2, 2, rng=2)
    model.save(relative)
    assert relative.is_symlink() and os.readlink(relative) == os.path.join("models", "v1.npz")
    np.testing.assert_array_equal(nn.load_state(tmp_path / "models" / "v1.npz")["W"],
                                  model.W.data)
    chained = tmp_path / "chained.npz"
    chained.symlink_to(relative)
    nn.Linear(2, 2, rng=3).save(chained)
    assert chained.is_symlink() and relative.is_symlink()
    assert os.listdir(tmp_path / "models") == ["v1.npz"]  # no temporary file left anywhere
    assert sorted(os.listdir(tmp_path)) == ["chained.npz", "latest.npz", "models"]
