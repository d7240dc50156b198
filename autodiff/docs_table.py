"""Writes docs/functions.md, the list of every function autodiff differentiates, from the op
table: `python -m autodiff.docs_table` (or `make docs-functions`).

One row per table entry, grouped by `entry.group`: the numpy functions it implements, the
Value method or operator, the domain and notes, the dtypes and derivative order its property
tests check, whether it runs lazily on Dask arrays, and the matching torch function; then
the operations without lazy Dask support, and the constant functions by name.
tests/test_docs_functions.py checks that the committed file is what this writes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from . import ops  # noqa: F401  (declares every operation)
from .ops.table import CONSTANT_FUNCTIONS, TABLE, OpEntry

__all__ = ["COMMAND", "OUTPUT", "numpy_name", "render", "write"]

OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "functions.md"
COMMAND = "python -m autodiff.docs_table"

# numpy's namespaces, searched in this order for a callable's public name.
_NAMESPACES = (("np", np), ("np.linalg", np.linalg), ("np.fft", np.fft))

# Python operators that call a ufunc on Values (through Value's methods or ndarray's).
_OPERATORS = {
    np.add: "x + y", np.subtract: "x - y", np.multiply: "x * y", np.true_divide: "x / y",
    np.power: "x ** y", np.matmul: "x @ y", np.negative: "-x", np.absolute: "abs(x)",
    np.remainder: "x % y", np.floor_divide: "x // y", np.divmod: "divmod(x, y)",
    np.positive: "+x",
}

# Sections in this order first; any other group follows, alphabetically.
_GROUP_ORDER = (
    "arithmetic", "powers", "exponential", "trigonometric", "hyperbolic", "activations",
    "rounding", "complex", "reductions", "statistics", "selection", "sorting", "indexing",
    "shape", "joining", "splitting", "tiling", "flipping", "contractions", "linear algebra",
    "fft",
)


def _public_names() -> dict[int, list[str]]:
    """id(callable) → its public names in numpy's namespaces (np.x, np.linalg.x, np.fft.x)."""
    names: dict[int, list[str]] = {}
    for prefix, namespace in _NAMESPACES:
        for attribute in sorted(dir(namespace)):
            if attribute.startswith("_"):
                continue
            try:
                value = getattr(namespace, attribute)
            except Exception:  # deprecated or lazily failing attributes
                continue
            if callable(value) and not isinstance(value, type):
                names.setdefault(id(value), []).append(f"{prefix}.{attribute}")
    return names


_NAMES: dict[int, list[str]] | None = None


def numpy_name(function: Any) -> str:
    """numpy's public name for a callable: np.sin, np.linalg.solve, np.fft.rfft. Of several
    aliases (np.abs, np.absolute), the one matching the function's __name__; failing that,
    the first namespace's, shortest."""
    global _NAMES
    if _NAMES is None:
        _NAMES = _public_names()
    candidates = _NAMES.get(id(function), [])
    own = getattr(function, "__name__", None)
    for name in candidates:
        if name.rsplit(".", 1)[1] == own:
            return name
    if candidates:
        return min(candidates, key=lambda n: (n.count("."), len(n), n))
    module = getattr(function, "__module__", None) or ""
    if own is None:
        return repr(function)
    return f"{module}.{own}" if module and not module.startswith("numpy") else f"np.{own}"


def _cell(text: str) -> str:
    """Text safe inside one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(items: Iterable[str]) -> str:
    return ", ".join(f"`{item}`" for item in items) or "—"


def _method(entry: OpEntry) -> str:
    shown = []
    for function in entry.numpy:
        operator = _OPERATORS.get(function)
        if operator is not None:
            shown.append(operator)
    method = entry.method
    if method and not (method.startswith("__") and method.endswith("__")):
        shown.append(f"x.{method}()")
    return _code(dict.fromkeys(shown))


def _domain(entry: OpEntry) -> str:
    parts = [entry.domain] if entry.domain else []
    if entry.notes:
        parts.append(entry.notes)
    if entry.cases is None:
        parts.append("(not property-tested)")
    return _cell("; ".join(parts)) or "—"


def _row(entry: OpEntry) -> str:
    numpy_names = sorted(dict.fromkeys(numpy_name(f) for f in entry.numpy if f is not None))
    cells = [
        f"`{entry.name}`",
        _code(numpy_names),
        _method(entry),
        _domain(entry),
        _cell(", ".join(entry.dtypes)) or "—",
        str(entry.order),
        "yes" if entry.dask else "**no**",
        f"`{entry.torch}`" if entry.torch else "—",
    ]
    return "| " + " | ".join(cells) + " |"


def _anchor(group: str) -> str:
    return "-".join("".join(c for c in group.lower() if c.isalnum() or c in " -").split())


def render(table: dict[str, OpEntry] | None = None,
           constants: Iterable[Any] | None = None) -> str:
    """The text of docs/functions.md for `table` (default: the op table)."""
    table = TABLE if table is None else table
    constants = CONSTANT_FUNCTIONS if constants is None else constants
    groups: dict[str, list[OpEntry]] = {}
    for entry in table.values():
        groups.setdefault(str(entry.group or "misc"), []).append(entry)
    order = [g for g in _GROUP_ORDER if g in groups]
    order += sorted(g for g in groups if g not in _GROUP_ORDER)
    constant_names = sorted(dict.fromkeys(numpy_name(f) for f in constants))

    lines = [
        "# Functions autodiff differentiates",
        "",
        f"<!-- Generated from the op table (autodiff/ops/table.py) by `{COMMAND}`; "
        "do not edit by hand. -->",
        "",
        f"{len(table)} operations in {len(groups)} groups, and {len(constant_names)} numpy "
        "functions whose results are constants. Each operation works on Values through its "
        "numpy name (`np.sin(v)`, `np.linalg.solve(A, b)`: numpy dispatches to autodiff) and "
        "through its `autodiff` function; the method column lists the Value method or "
        "operator. *order* is the derivative order the property tests check against finite "
        "differences, in each listed dtype; *dask* says whether it runs lazily on Dask "
        "arrays, forward and backward (see [without lazy Dask support]"
        "(#without-lazy-dask-support)); *torch* is the PyTorch function whose "
        "conventions (kinks, ties, complex gradients) it follows. A numpy function in "
        "neither list raises NotImplementedError on Values.",
        "",
        "Groups: " + " · ".join(f"[{g}](#{_anchor(g)})" for g in order)
        + " · [without lazy Dask support](#without-lazy-dask-support)"
        + " · [constant functions](#constant-functions)",
        "",
    ]
    for group in order:
        lines += [f"## {group}", "",
                  "| operation | numpy | method | domain / notes | dtypes | order | dask | torch |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [_row(entry) for entry in sorted(groups[group], key=lambda e: e.name)]
        lines.append("")
    not_lazy = sorted(entry.name for entry in table.values() if not entry.dask)
    lines += [
        "## Without lazy Dask support",
        "",
        f"{len(not_lazy)} operations do not run lazily on Dask arrays: given Dask data (a Dask "
        "array, or a Value holding one) they raise NotImplementedError naming the operation, "
        "and never compute the data behind the caller's back. Compute it first (`x.compute()`, "
        "or `dask.compute`) to use them on numpy arrays. Every other operation keeps Dask "
        "arrays lazy in the forward and the backward pass.",
        "",
        _code(not_lazy),
        "",
        "## Constant functions",
        "",
        "Called on Values, these compute on the data and record nothing (indices, masks, "
        "shapes, comparisons): their results are constants, with no gradient.",
        "",
        _code(constant_names),
        "",
    ]
    return "\n".join(lines)


def write(path: Path = OUTPUT) -> Path:
    """Write `render()` to `path` (docs/functions.md) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")
    return path


if __name__ == "__main__":
    target: Path = write(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT)
    print(f"wrote {target}")
