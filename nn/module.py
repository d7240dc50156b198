"""`Module`: the base of every layer and model, and the model file format.

A module holds its parameters (`autodiff.Value` objects) and sub-modules as ordinary
attributes, or in lists/tuples kept as attributes. Nothing has to be registered:
`named_parameters()` walks the attributes in the order they were assigned and yields each
parameter once, under its dotted path (`layers.0.W`). Every Value held this way is a
parameter: one with `requires_grad=False` is saved and loaded with the rest, and an
optimiser skips it (it never gets a gradient). Modules or Values assigned inside a dict or
set, or inside a list/tuple/dict held in a list or tuple, are refused (TypeError): they
would be invisible to `parameters()`.

Parameter names. Every time a module, a parameter, or a list/tuple holding them is
assigned as an attribute, the module that received it renames every parameter below
itself to its dotted path from there (`Value.name = "layers.0.W"`). Models are built
inside-out (layers first, then the model that holds them), so after construction every
parameter's `.name` is its path from the outermost module, which is what graph drawings
show. After replacing a parameter deep inside an already-built model, call
`model.name_parameters()` to refresh the names.

Model files are `.npz` archives of `state_dict()` (name → array): one uncompressed
`NAME.npy` member per array, readable by `np.load`, written and read without pickle. Any
str name round-trips (`file`, `allow_pickle`, dots, slashes, unicode; not NUL, which a zip
member name cannot hold). `save` writes a temporary file beside the target (beside the
link's target, for a symbolic link, which stays a link), flushes it to disk and renames it
into place, so an interrupted save never leaves a half-written model. Loading reads every
member's .npy header first and checks it (shape × itemsize must match the member's size;
`Module.load` also checks names, shapes and dtypes against the model) before reading any
array data, so a small file cannot make a load allocate a huge array. Every file handle is
closed, whichever way a save or load ends.
"""

from __future__ import annotations

import math
import os
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from autodiff import Value

__all__ = ["Module", "load_state", "save_state"]

_ZIP_MAGIC = b"PK\x03\x04"  # a zip archive's first local file header
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"  # an archive with no members: just the end record
_NPY = ".npy"
_MAX_HEADER_SIZE = 10_000  # bytes of .npy header read at most (numpy's own default)
_READ_CHUNK = 1 << 20  # array data is read in pieces of this size: no whole-member buffer
# load_state without a model refuses files whose arrays declare more than
# _LIMIT_RATIO × the file's size + _LIMIT_FLOOR bytes in all (see load_state).
_LIMIT_RATIO = 64
_LIMIT_FLOOR = 16 << 20
# What a damaged archive raises inside zipfile, zlib and numpy's .npy header parser.
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, struct.error,
    NotImplementedError, RuntimeError,
)


def _holds_state(value: Any) -> bool:
    """True for what a module tracks: Values, Modules, and lists/tuples containing them."""
    if isinstance(value, (Value, Module)):
        return True
    if isinstance(value, (list, tuple)):
        return any(isinstance(item, (Value, Module)) for item in value)
    return False


def _hidden_state(value: Any) -> tuple[str, str] | None:
    """("Modules" or "Values", container) when `value` keeps them where `named_parameters`
    does not look: in a dict or set, or in a list/tuple/dict inside a list or tuple."""
    if isinstance(value, dict):
        inner = [("dict", list(value.values()))]
    elif isinstance(value, (set, frozenset)):
        inner = [(type(value).__name__, list(value))]
    elif isinstance(value, (list, tuple)):
        inner = [(type(item).__name__, list(item.values() if isinstance(item, dict) else item))
                 for item in value if isinstance(item, (list, tuple, dict, set, frozenset))]
    else:
        return None
    for container, items in inner:
        for item in items:
            if isinstance(item, (Module, Value)):
                return ("Modules" if isinstance(item, Module) else "Values"), container
    return None


class Module:
    """Base class of layers and models: parameters and sub-modules are found automatically.

    Subclasses set parameters (`Value`s) and sub-modules as attributes in `__init__` and
    define `forward`; calling the module calls `forward`.
    """

    training: bool = True

    def __setattr__(self, name: str, value: Any) -> None:
        if ("." in name or not name) and isinstance(value, (Value, Module, list, tuple)):
            # Parameter names are dotted paths: "layers.0" would give this attribute's
            # parameters the names of item 0 of a list `layers`, and an empty name those of
            # this module's own; state_dict would keep one of each pair.
            raise ValueError(
                f"{type(self).__name__}: the attribute name {name!r} "
                f"{'contains a dot' if name else 'is empty'}; parameters are named by their "
                "dotted path (layers.0.W), so the names of parameters held under it could "
                "be another parameter's, and saving or loading would silently drop one. Use "
                "a name without dots, or hold the modules in a list"
            )
        hidden = _hidden_state(value)
        if hidden is not None:
            held, container = hidden
            raise TypeError(
                f"{type(self).__name__}: attribute {name!r} holds {held} inside a {container}; "
                "a Module finds parameters only in its attributes and in lists or tuples of "
                "them, so these would never be trained, saved or loaded. Hold them in a list, "
                "or as attributes of their own"
            )
        object.__setattr__(self, name, value)
        if _holds_state(value):
            self.name_parameters()

    # -- discovery ----------------------------------------------------------------
    def _children(self) -> Iterator[tuple[str, Value | Module]]:
        """(name, Value or Module) directly held: attributes, then items of lists/tuples."""
        for name, value in vars(self).items():
            if isinstance(value, (Value, Module)):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for index, item in enumerate(value):
                    if isinstance(item, (Value, Module)):
                        yield f"{name}.{index}", item

    def _walk(
        self, prefix: str, seen: set[int]
    ) -> Iterator[tuple[str, Value | Module]]:
        """Pre-order walk in attribute order: this module, then each child (Values included)."""
        seen.add(id(self))
        yield prefix, self
        for name, child in self._children():
            if id(child) in seen:
                continue
            path = f"{prefix}.{name}" if prefix else name
            if isinstance(child, Module):
                yield from child._walk(path, seen)
            else:
                seen.add(id(child))
                yield path, child

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(dotted path, module) for this module ("" or `prefix`) and every sub-module, once."""
        for path, item in self._walk(prefix, set()):
            if isinstance(item, Module):
                yield path, item

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """(dotted name, Value) for every parameter, each once, in attribute order."""
        for path, item in self._walk(prefix, set()):
            if isinstance(item, Value):
                yield path, item

    def parameters(self) -> list[Value]:
        """Every parameter once, in a stable order (the order of `named_parameters`)."""
        return [value for _, value in self.named_parameters()]

    def modules(self) -> list[Module]:
        """This module and every sub-module."""
        return [module for _, module in self.named_modules()]

    def name_parameters(self, prefix: str = "") -> Module:
        """Set each parameter's `.name` (and each sub-module's `_path`) to its dotted path."""
        for path, module in self.named_modules(prefix):
            object.__setattr__(module, "_path", path)
        for name, value in self.named_parameters(prefix):
            value.name = name
        return self

    # -- running --------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (sets `.grad` to None)."""
        for value in self.parameters():
            value.grad = None

    def train(self, mode: bool = True) -> Module:
        """Put this module and all sub-modules in training mode (`training = mode`)."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Put this module and all sub-modules in evaluation mode (`training = False`)."""
        return self.train(False)

    @property
    def layer_name(self) -> str:
        """How errors name this module: its class, and its dotted path inside a model."""
        path = getattr(self, "_path", "")
        return f"{type(self).__name__} '{path}'" if path else type(self).__name__

    # -- state ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """name → a copy of the parameter's data (changing it leaves the model alone)."""
        return {name: np.array(value.data, copy=True) for name, value in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> Module:
        """Copy arrays into the parameters of the same names.

        The names and shapes must match exactly; otherwise `ValueError` lists every
        difference and no parameter is changed. Arrays are converted to each parameter's
        dtype; a value the dtype cannot hold (1e300 into float32) is a ValueError too.
        """
        state = _checked_state("load_state_dict", state)
        return self._assign({name: np.asarray(array) for name, array in state.items()},
                            "load_state_dict")

    def _assign(self, arrays: dict[str, np.ndarray], caller: str) -> Module:
        """Check `arrays` against the parameters, convert them all, then assign them all."""
        own = dict(self.named_parameters())
        problems = _mismatches(
            own, {name: (array.shape, array.dtype) for name, array in arrays.items()}
        )
        if problems:
            raise ValueError(
                f"{caller}: the state does not match {type(self).__name__}; "
                + "; ".join(problems)
            )
        converted = {name: _converted(caller, name, arrays[name], value)
                     for name, value in own.items()}
        for name, value in own.items():
            value.data = converted[name]
        return self

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write `state_dict()` to `path` as an .npz archive (atomically; see `save_state`).
        TypeError unless `path` is a str or an os.PathLike."""
        _check_path(f"{type(self).__name__}.save", path)
        save_state(self.state_dict(), path)

    def load(self, path: str | os.PathLike[str]) -> Module:
        """Load parameters saved by `save`: the file's names, shapes and dtypes must match.

        Every member's .npy header is read and compared with the model before any array
        data is read, so a file for another model (or a crafted one declaring huge arrays)
        is refused without inflating it. Raises ValueError listing every difference (as
        `load_state_dict` does), or naming the damage for a truncated or corrupt file;
        FileNotFoundError if there is no file; TypeError unless `path` is a str or an
        os.PathLike. On any error no parameter is changed.
        """
        caller = f"{type(self).__name__}.load"
        _check_path(caller, path)
        own = dict(self.named_parameters())

        def check(declared: dict[str, tuple[tuple[int, ...], np.dtype]]) -> None:
            problems = _mismatches(own, declared)
            if problems:
                raise ValueError(
                    f"{caller}: model file {str(path)!r} does not match "
                    f"{type(self).__name__}; " + "; ".join(problems)
                )

        return self._assign(_read_state(path, caller, check=check, limit=None), caller)

    # -- display ------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """Shown inside the parentheses of `repr`; layers override it."""
        return ""

    def __repr__(self) -> str:
        children = [
            (name, child) for name, child in self._children() if isinstance(child, Module)
        ]
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = [f"{type(self).__name__}({extra + ',' if extra else ''}"]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"


def _check_path(caller: str, path: object) -> None:
    """TypeError, naming `caller`, unless `path` is a str or an os.PathLike (a file path)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{caller}: path must be a str or os.PathLike (such as pathlib.Path) naming the "
            f"model file; got {type(path).__name__} {path!r}"
        )


def _checked_state(caller: str, state: Any) -> Mapping[Any, Any]:
    """`state` if it maps names to arrays (no Values); TypeError otherwise."""
    if not isinstance(state, Mapping):
        raise TypeError(
            f"{caller}: the state must be a mapping of names to arrays, such as state_dict() "
            f"gives; got {type(state).__name__}"
        )
    for name, value in state.items():
        if isinstance(value, Value):
            raise TypeError(
                f"{caller}: {name} is an autodiff Value; a state maps names to numpy arrays "
                "(state_dict() gives one; a Value's numbers are its .data)"
            )
    return state


def _converted(caller: str, name: str, array: np.ndarray, value: Value) -> Any:
    """`array` as a copy in the parameter's dtype (a float for a float parameter);
    ValueError for a finite number the dtype cannot hold (it would become inf)."""
    if type(value.data) is float:
        return float(array)
    with np.errstate(over="ignore", invalid="ignore"):  # checked below
        new = np.array(array, dtype=value.dtype, copy=True)
    if new.dtype != array.dtype and not np.isfinite(new).all():
        lost = np.isinf(new) & np.isfinite(array)
        if lost.any():
            raise ValueError(
                f"{caller}: {name} holds {float(array[lost][0]):g}, beyond the range of "
                f"{new.dtype} (the model's dtype); no parameter was changed"
            )
    return new


def _mismatches(
    own: dict[str, Value], declared: dict[str, tuple[tuple[int, ...], np.dtype]]
) -> list[str]:
    """Every difference between a model's parameters and a state's (shape, dtype) by name."""
    problems = []
    missing = [name for name in own if name not in declared]
    # A key that is not a str (a state's keys are whatever the caller put there) is shown
    # by its repr, with its type: it can never match a parameter's name.
    unexpected = [name if isinstance(name, str) else f"{name!r} ({type(name).__name__}, "
                  "not a str name)" for name in declared if name not in own]
    if missing:
        problems.append(f"missing: {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected: {', '.join(unexpected)}")
    for name, value in own.items():
        if name not in declared:
            continue
        shape, dtype = declared[name]
        if shape != value.shape:
            problems.append(
                f"shape of {name}: the model has {value.shape}, the state has {shape}"
            )
        elif dtype.kind not in "fiu":
            problems.append(f"dtype of {name}: {dtype} is not a real number type")
    return problems


# --------------------------------------------------------------------------- saving


def save_state(state: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write name → array to `path` as an uncompressed .npz, via a temporary file and a rename.

    Each array becomes the member `NAME.npy` (written by `np.lib.format.write_array`, no
    pickle), so `np.load` reads the file too; names are never passed as keyword arguments,
    so any str name is kept exactly (TypeError for an array of Python objects; ValueError
    for two keys with the same str, or a name a zip archive cannot hold: one containing
    NUL, not encodable as UTF-8, or over 65,531 bytes). The file is written next to
    `path` — next to the final target when `path` is a symbolic link, which is left in
    place — flushed to disk, then renamed over it, so a reader sees either the old file or
    the complete new one, and a failed save leaves the old file as it was. A directory, a
    path in a missing directory and a read-only file are refused before anything is written
    (IsADirectoryError, FileNotFoundError, PermissionError), naming `path`.
    """
    _check_path("save_state", path)
    arrays: dict[str, np.ndarray] = {}
    for key, value in _checked_state("save_state", state).items():
        name = str(key)
        if name in arrays:
            raise ValueError(f"save_state: two names in the state are both {name!r} as str")
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise TypeError(f"save_state: {name} holds Python objects; only arrays are saved")
        _check_member_name(name)
        arrays[name] = array
    # A link is followed to its final target: the new file replaces the target, the link
    # stays (os.replace over the link itself would turn it into a regular file).
    target = Path(os.path.realpath(path))
    source = os.fspath(path)
    _check_target(source, target)
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
    except OSError as error:  # it would name the temporary file, not the caller's
        raise type(error)(
            f"save_state: cannot save to {source!r}: cannot create a file in "
            f"{str(target.parent)!r} ({error.strerror})"
        ) from error
    try:
        with os.fdopen(handle, "wb") as file:
            # mkstemp makes the file private (0600); give it the mode an ordinary new file
            # gets, or keep the mode of the file it replaces.
            os.chmod(temporary, target.stat().st_mode & 0o777 if target.exists()
                     else _new_file_mode())
            _write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def _check_target(source: str, target: Path) -> None:
    """Refuse, naming `source`, a target that a save cannot or must not replace: a
    directory, a path in a missing directory, a read-only file (no write permission, for
    this process or for anyone: the rename would replace it where opening would not)."""
    prefix = f"save_state: cannot save to {source!r}"
    if target.is_dir():
        raise IsADirectoryError(f"{prefix}: it is a directory")
    parent = target.parent
    if not parent.is_dir():
        if parent.exists():
            raise NotADirectoryError(f"{prefix}: {str(parent)!r} is not a directory")
        raise FileNotFoundError(f"{prefix}: the directory {str(parent)!r} does not exist")
    if target.exists() and (not os.access(target, os.W_OK)
                            or not target.stat().st_mode & 0o222):
        raise PermissionError(
            f"{prefix}: the file is read-only; make it writable to replace it, or save "
            "elsewhere"
        )


def _check_member_name(name: str) -> None:
    """Refuse a name that would not come back unchanged as a zip member name."""
    if "\x00" in name:
        raise ValueError(
            f"save_state: the name {name!r} contains NUL, which a zip member name cannot hold"
        )
    try:
        encoded = (name + _NPY).encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(
            f"save_state: the name {name!r} cannot be encoded as UTF-8 ({error.reason})"
        ) from None
    if len(encoded) > 0xFFFF:
        raise ValueError(
            f"save_state: the name {name[:40]!r}... is {len(encoded) - len(_NPY)} bytes "
            "long in UTF-8; a zip member name holds at most 65,531 plus '.npy'"
        )


def _write_npz(file: Any, arrays: dict[str, np.ndarray]) -> None:
    """Write the .npz layout `np.savez` writes: one stored `NAME.npy` member per array."""
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + _NPY, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _new_file_mode() -> int:
    """0o666 less the process umask (read without changing it, via /proc where available)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    return 0o644


# --------------------------------------------------------------------------- loading


class _Refused(ValueError):
    """A member the loader refuses for a reason it names (passed through, not re-worded)."""


class _Member(NamedTuple):
    """A member's zip entry and what its .npy header declares."""

    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype
    header_size: int  # bytes before the array data: magic, version, header
    nbytes: int  # bytes of array data: prod(shape) × itemsize


def load_state(path: str | os.PathLike[str], *,
               max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """Read a model file written by `save`/`save_state`: name → numpy array.

    Every member's .npy header is read and checked before any array data: its declared
    shape × itemsize plus the header must equal the member's uncompressed size, and in all
    the arrays may declare at most `max_bytes` bytes. The default limit is 64 × the file's
    size + 16 MiB: far above any file `save` writes (uncompressed: its arrays are smaller
    than the file) or `np.savez_compressed` writes of real weights, but it refuses a small
    compressed file that would inflate to a huge array. Loading into a model with
    `Module.load` needs no limit: it checks every shape against the model instead.

    Raises FileNotFoundError if there is no file, and ValueError if the file is not an
    .npz archive, is truncated or corrupt, holds pickled objects (never loaded), or
    declares more than the limit. The file is closed whichever way this ends.
    """
    _check_path("load_state", path)
    if max_bytes is not None:
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int):
            raise TypeError(f"load_state: max_bytes must be an int or None; got {max_bytes!r}")
        if max_bytes < 0:
            raise ValueError(f"load_state: max_bytes must be >= 0; got {max_bytes!r}")
    return _read_state(path, "load_state", check=None,
                       limit=max_bytes if max_bytes is not None else -1)


def _read_state(
    path: str | os.PathLike[str],
    caller: str,
    check: Callable[[dict[str, tuple[tuple[int, ...], np.dtype]]], None] | None,
    limit: int | None,
) -> dict[str, np.ndarray]:
    """Open, check the headers (`check(name → (shape, dtype))`, `limit`), then read arrays.

    `limit`: the most bytes of array data allowed in all; -1 for the default relative to
    the file's size (see `load_state`), None for no limit (when `check` bounds the sizes).
    """
    source = str(Path(path))
    with open(path, "rb") as file:
        magic = file.read(4)
        if magic not in (_ZIP_MAGIC, _EMPTY_ZIP_MAGIC):
            raise ValueError(
                f"{caller}: {source!r} is not a model file (.npz archive); "
                f"it starts with {magic!r}"
            )
        size = os.fstat(file.fileno()).st_size
        try:
            archive = zipfile.ZipFile(file)
        except _ARCHIVE_ERRORS as error:
            raise _damaged(caller, source, error) from error
        with archive:
            try:
                members = _read_headers(archive)
            except _Refused as error:
                raise ValueError(f"{caller}: cannot read model file {source!r}: {error}") from None
            except _ARCHIVE_ERRORS as error:
                raise _damaged(caller, source, error) from error
            if check is not None:
                check({name: (member.shape, member.dtype) for name, member in members.items()})
            if limit is not None:
                _check_total(caller, source, members, size, limit)
            try:
                return {name: _read_array(archive, member) for name, member in members.items()}
            except _ARCHIVE_ERRORS as error:
                raise _damaged(caller, source, error) from error


def _damaged(caller: str, source: str, error: BaseException) -> ValueError:
    return ValueError(
        f"{caller}: cannot read model file {source!r}: it is truncated, corrupt "
        f"or holds pickled objects ({type(error).__name__}: {error})"
    )


def _read_headers(archive: zipfile.ZipFile) -> dict[str, _Member]:
    """name → its member, from each member's .npy header only (no array data is read).

    Raises _Refused for a repeated name, a compression other than stored or deflate
    (bzip2 and lzma inflate without bound even to read a header), an object dtype
    (pickled), an unknown .npy version, or a size that disagrees with the header.
    """
    members: dict[str, _Member] = {}
    for info in archive.infolist():
        name = info.filename.removesuffix(_NPY)
        label = f"member {info.filename!r}"
        if name in members:
            raise _Refused(f"{label} appears twice (as {name!r})")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Refused(
                f"{label} uses zip compression method {info.compress_type}; model files "
                "use stored or deflate"
            )
        with archive.open(info) as stream:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                read_header = np.lib.format.read_array_header_1_0
            elif version == (2, 0):
                read_header = np.lib.format.read_array_header_2_0
            else:
                raise _Refused(f"{label} is .npy format version {version}; 1.0 and 2.0 are read")
            shape, fortran_order, dtype = read_header(stream, max_header_size=_MAX_HEADER_SIZE)
            header_size = stream.tell()
        if dtype.hasobject:
            raise _Refused(
                f"{label} holds pickled objects (dtype {dtype}), which are never loaded"
            )
        if any(length < 0 for length in shape):
            raise _Refused(f"{label} declares the impossible shape {shape}")
        nbytes = math.prod(shape) * dtype.itemsize
        if info.file_size != header_size + nbytes:
            raise _Refused(
                f"{label} declares shape {shape} of {dtype} ({nbytes:,} bytes of data after a "
                f"{header_size}-byte header) but its uncompressed size is {info.file_size:,} "
                "bytes"
            )
        members[name] = _Member(info, shape, fortran_order, dtype, header_size, nbytes)
    return members


def _check_total(
    caller: str, source: str, members: dict[str, _Member], size: int, limit: int
) -> None:
    """Refuse arrays declaring more than `limit` bytes in all (-1: the default limit)."""
    total = sum(member.nbytes for member in members.values())
    default = limit < 0
    if default:
        limit = _LIMIT_RATIO * size + _LIMIT_FLOOR
    if total > limit:
        rule = (f"the default limit, {_LIMIT_RATIO} × the file's size + "
                f"{_LIMIT_FLOOR >> 20} MiB" if default else "max_bytes")
        raise ValueError(
            f"{caller}: model file {source!r} ({size:,} bytes) declares {total:,} bytes of "
            f"array data, more than {limit:,} ({rule}); a file that inflates this much is "
            "refused before anything is read. Load it into its model with Module.load, "
            "which checks every shape first, or pass a larger max_bytes if you trust it"
        )


def _read_array(archive: zipfile.ZipFile, member: _Member) -> np.ndarray:
    """Read one member's array data (its header already checked) into a new array."""
    shape = member.shape[::-1] if member.fortran_order else member.shape
    array = np.empty(shape, dtype=member.dtype)
    with archive.open(member.info) as stream:
        stream.read(member.header_size)  # read and checked by _read_headers
        if member.nbytes:
            data = memoryview(array.reshape(-1).view(np.uint8))
            done = 0
            while done < member.nbytes:
                count = stream.readinto(data[done:done + _READ_CHUNK])
                if not count:
                    raise EOFError(
                        f"member {member.info.filename!r} ends after {done:,} of "
                        f"{member.nbytes:,} bytes of array data"
                    )
                done += count
    return array.T if member.fortran_order else array
