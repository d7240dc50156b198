"""The public API's type completeness: `pyright --verifytypes` rates each package at 95% or
more (pyright is in the `dev` extra, so CI runs this; elsewhere it is skipped without it).

`--ignoreexternal` leaves numpy's own stubs out of the score: without it pyright counts
every numpy type as partially unknown, whatever its type arguments (NDArray[Any],
np.dtype[Any], ArrayLike, DTypeLike, np.random.Generator alike). The chain starts in
typeshed's `numbers` stubs, whose operator parameters are unannotated: numbers.Real is
partially unknown, so are decimal.Decimal and fractions.Fraction, so is np.dtype (its
constructor names both), and so is every numpy type built on np.dtype. That says nothing
about this project's annotations.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WITHOUT_PYRIGHT = importlib.util.find_spec("pyright") is None and not os.environ.get("CI")

THRESHOLD = 0.95


@pytest.mark.skipif(WITHOUT_PYRIGHT, reason="pyright is not installed (pip install -e "
                    "'.[dev]'); CI runs this")
@pytest.mark.parametrize("package", ["autodiff", "nn"])
def test_type_completeness(package):
    # The package as imported here: an editable install's import hook is invisible to a
    # static checker, so its folder goes on PYTHONPATH (an installed wheel needs nothing).
    imported = importlib.import_module(package)
    folder = str(Path(imported.__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (folder, os.environ.get("PYTHONPATH")) if p))
    result = subprocess.run(
        [sys.executable, "-m", "pyright", "--pythonpath", sys.executable, "--verifytypes",
         package, "--ignoreexternal", "--outputjson"],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert package in result.stdout
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"pyright gave no report (exit {result.returncode}):\n"
                    f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    completeness = report["typeCompleteness"]
    score = completeness["completenessScore"]
    incomplete = [symbol["name"] for symbol in completeness["symbols"]
                  if symbol["isExported"] and not symbol["isTypeKnown"]]
    assert score >= THRESHOLD, (
        f"{package}: type completeness {score:.1%} < {THRESHOLD:.0%}; not fully typed: "
        + ", ".join(incomplete)
    )
