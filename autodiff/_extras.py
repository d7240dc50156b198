"""The distribution's name and its extras: the one place that says what to install.

`import_optional(module, needed_by)` imports an optional dependency or raises
`ModuleNotFoundError` whose message names the package, the extra that installs it and the
distribution (`missing_extra` writes that message):

    >>> missing_extra("graphviz", "draw")
    "draw needs graphviz: pip install 'autodiff-numpy[viz]'"

This module imports nothing from autodiff: every layer may use it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["DISTRIBUTION", "EXTRAS", "import_optional", "missing_extra"]

#: The name on the package index. The import packages are `autodiff` and `nn`.
DISTRIBUTION = "autodiff-numpy"

#: Top-level module of each optional dependency → (its name on the package index, the extra).
EXTRAS: dict[str, tuple[str, str]] = {
    "graphviz": ("graphviz", "viz"),
    "hypothesis": ("hypothesis", "testing"),
    "sklearn": ("scikit-learn", "showcase"),
    "tqdm": ("tqdm", "showcase"),
    "matplotlib": ("matplotlib", "showcase"),
    "dask": ("dask", "dask"),
    "selenium": ("selenium", "browser"),
    "torch": ("torch", "bench"),
    "micrograd": ("micrograd", "bench"),
    "autograd": ("autograd", "bench"),
    "psutil": ("psutil", "bench"),
    "threadpoolctl": ("threadpoolctl", "bench"),
    "jax": ("jax", "bench-jax"),
}


def missing_extra(module: str, needed_by: str, note: str = "") -> str:
    """The message for a missing optional dependency: what needs it and what to install.

    `module` is the import name (`"sklearn"`, or a submodule such as `"hypothesis.extra"`);
    `needed_by` what needs it (`"draw"`, `"nn.data.load_digits"`); `note`, if given, is
    added after a full stop.
    """
    top = module.split(".")[0]
    if top not in EXTRAS:
        raise KeyError(f"{top!r} is not an optional dependency of {DISTRIBUTION}")
    package, extra = EXTRAS[top]
    message = f"{needed_by} needs {package}: pip install '{DISTRIBUTION}[{extra}]'"
    return f"{message}. {note}" if note else message


def import_optional(module: str, needed_by: str, note: str = "") -> ModuleType:
    """Import `module`, or raise ModuleNotFoundError with `missing_extra`'s message.

    The error's `name` is the module that is missing, as Python's own error has it.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        missing = getattr(error, "name", None) or module
        raise ModuleNotFoundError(missing_extra(module, needed_by, note), name=missing) from error
