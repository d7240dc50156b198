"""docs/functions.md is generated from the op table and up to date."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autodiff import docs_table
from autodiff.ops.table import CONSTANT_FUNCTIONS, TABLE, OpEntry

# The committed file beside these tests (docs_table.OUTPUT is where a checkout's package
# writes it; an installed package has no docs/ beside it).
COMMITTED = Path(__file__).resolve().parent.parent / "docs" / "functions.md"


def test_committed_list_is_up_to_date():
    committed = COMMITTED.read_text(encoding="utf-8")
    assert committed == docs_table.render(), (
        f"docs/functions.md is out of date with the op table: regenerate it with "
        f"`{docs_table.COMMAND}` (or `make docs-functions`) and commit the result"
    )


def test_every_entry_and_constant_is_listed():
    text = docs_table.render()
    for entry in TABLE.values():
        assert f"| `{entry.name}` |" in text
        for function in entry.numpy:
            assert f"`{docs_table.numpy_name(function)}`" in text
    for function in CONSTANT_FUNCTIONS:
        assert f"`{docs_table.numpy_name(function)}`" in text


def test_numpy_names_are_numpys_public_names():
    assert docs_table.numpy_name(np.sin) == "np.sin"
    assert docs_table.numpy_name(np.absolute) == "np.absolute"
    assert docs_table.numpy_name(np.linalg.solve) == "np.linalg.solve"
    assert docs_table.numpy_name(np.fft.rfft) == "np.fft.rfft"
    assert docs_table.numpy_name(np.sum) == "np.sum"


def test_render_copes_with_unusual_entries():
    """Entries other engineers may declare: no numpy name, no torch, pipes and newlines in
    the notes, an unknown group, no cases."""

    def odd(x):
        return x

    table = {
        "odd": OpEntry("odd", odd, numpy=(), method=None, group="zz new group",
                       domain="a | b\nc", cases=None, torch=None, notes="x|y"),
        "sin": OpEntry("sin", odd, numpy=(np.sin, None), method="sin", group="trigonometric"),
    }
    text = docs_table.render(table, constants=[np.argmax, np.linalg.matrix_rank])
    assert "## zz new group" in text and text.index("## trigonometric") < text.index("## zz")
    row = ("| `odd` | — | — | a \\| b c; x\\|y; (not property-tested) | float64, float32 | 2 "
           "| yes | — |")
    assert row in text
    assert "| `sin` | `np.sin` | `x.sin()` |" in text
    assert "`np.argmax`, `np.linalg.matrix_rank`" in text
