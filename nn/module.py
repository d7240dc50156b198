"""`Module`: the base of every layer and model, and the model file format.

A module holds its parameters (`autodiff.Value` objects) and sub-modules as ordinary
attributes, or in lists/tuples kept as attributes. Nothing has to be registered:
`named_parameters()` walks the attributes in the order they were assigned and yields each
parameter once, under its dotted path (`layers.0.W`). Every Value held this way is a
parameter: one with `requires_grad=False` is saved and loaded with the rest, and an
optimiser skips it (it never gets a gradient).

Parameter names. Every time a module, a parameter, or a list/tuple holding them is
assigned as an attribute, the module that received it renames every parameter below
itself to its dotted path from there (`Value.name = "layers.0.W"`). Models are built
inside-out (layers first, then the model that holds them), so after construction every
parameter's `.name` is its path from the outermost module, which is what graph drawings
show. After replacing a parameter deep inside an already-built model, call
`model.name_parameters()` to refresh the names.

Model files are `.npz` archives of `state_dict()` (name → array), written without pickle
and read with `allow_pickle=False`. `save` writes a temporary file beside the target and
renames it into place, so an interrupted save never leaves a half-written model.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from autodiff import Value

__all__ = ["Module", "load_state", "save_state"]

_ZIP_MAGIC = b"PK\x03\x04"


def _holds_state(value: Any) -> bool:
    """True for what a module tracks: Values, Modules, and lists/tuples containing them."""
    if isinstance(value, (Value, Module)):
        return True
    if isinstance(value, (list, tuple)):
        return any(isinstance(item, (Value, Module)) for item in value)
    return False


class Module:
    """Base class of layers and models: parameters and sub-modules are found automatically.

    Subclasses set parameters (`Value`s) and sub-modules as attributes in `__init__` and
    define `forward`; calling the module calls `forward`.
    """

    training: bool = True

    def __setattr__(self, name: str, value: Any) -> None:
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

    def load_state_dict(self, state: dict[str, Any]) -> Module:
        """Copy arrays into the parameters of the same names.

        The names and shapes must match exactly; otherwise `ValueError` lists every
        difference and no parameter is changed.
        """
        own = dict(self.named_parameters())
        arrays = {name: np.asarray(array) for name, array in state.items()}
        problems = []
        missing = [name for name in own if name not in arrays]
        unexpected = [name for name in arrays if name not in own]
        if missing:
            problems.append(f"missing: {', '.join(missing)}")
        if unexpected:
            problems.append(f"unexpected: {', '.join(unexpected)}")
        for name, value in own.items():
            if name not in arrays:
                continue
            array = arrays[name]
            if array.shape != value.shape:
                problems.append(
                    f"shape of {name}: the model has {value.shape}, the state has {array.shape}"
                )
            elif array.dtype.kind not in "fiu":
                problems.append(f"dtype of {name}: {array.dtype} is not a real number type")
        if problems:
            raise ValueError(
                f"load_state_dict: the state does not match {type(self).__name__}; "
                + "; ".join(problems)
            )
        for name, value in own.items():
            array = arrays[name]
            if type(value.data) is float:
                value.data = float(array)
            else:
                value.data = np.array(array, dtype=value.dtype, copy=True)
        return self

    def save(self, path: str | os.PathLike) -> None:
        """Write `state_dict()` to `path` as an .npz archive (atomically: temp file + rename)."""
        save_state(self.state_dict(), path)

    def load(self, path: str | os.PathLike) -> Module:
        """Load parameters saved by `save` (see `load_state` and `load_state_dict`)."""
        return self.load_state_dict(load_state(path))

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


def save_state(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Write name → array to `path` as an uncompressed .npz, via a temporary file and a rename.

    The file is written next to `path`, flushed to disk, then renamed over `path`, so a
    reader sees either the old file or the complete new one.
    """
    target = Path(path)
    arrays = {str(name): np.asarray(array) for name, array in state.items()}
    for name, array in arrays.items():
        if array.dtype.hasobject:
            raise TypeError(f"save_state: {name} holds Python objects; only arrays are saved")
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent if str(target.parent) else "."
    )
    try:
        # mkstemp makes the file private (0600); give it the mode an ordinary new file gets,
        # or keep the mode of the file it replaces.
        os.chmod(temporary, target.stat().st_mode & 0o777 if target.exists() else _new_file_mode())
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


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


def load_state(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a model file written by `save`/`save_state`: name → numpy array.

    Raises FileNotFoundError if there is no file, and ValueError if the file is not an
    .npz archive or is truncated or corrupt. Pickled objects are never loaded.
    """
    source = Path(path)
    with open(source, "rb") as file:
        magic = file.read(4)
    if magic != _ZIP_MAGIC:
        raise ValueError(
            f"load_state: {str(source)!r} is not a model file (.npz archive); "
            f"it starts with {magic!r}"
        )
    try:
        with np.load(source, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError) as error:
        raise ValueError(
            f"load_state: cannot read model file {str(source)!r}: it is truncated, corrupt "
            f"or holds pickled objects ({type(error).__name__}: {error})"
        ) from error
