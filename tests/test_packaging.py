"""The distributions: the wheel carries py.typed and the license, the sdist everything the
tests read. From a checkout both are built here; when the tests run from an unpacked sdist
against an installed wheel (`.ci/dist-check`), the same is checked on what is installed and
on the unpacked sdist itself."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

import autodiff
from autodiff._extras import DISTRIBUTION

ROOT = Path(__file__).resolve().parent.parent
FROM_SOURCE = (ROOT / "autodiff" / "__init__.py").is_file()  # a checkout, not a test of a wheel
IGNORED = shutil.ignore_patterns(".git", ".venv", "site", "build", "dist", "*.egg-info",
                                 "__pycache__", "*.pyc", ".pytest_cache", ".hypothesis",
                                 ".ruff_cache", "output")

# What the test suite reads besides the packages: every file of these folders, and these.
FOLDERS = ("tests", "benchmarks", "examples", "docs")
FILES = ("README.md", "LICENSE", "Makefile", "mkdocs.yml", "pyproject.toml", "MANIFEST.in",
         ".ci/run", ".ci/dist-check")


def _expected_files(root: Path) -> set[str]:
    found = set(FILES)
    for folder in FOLDERS:
        for path in (root / folder).rglob("*"):
            parts = path.relative_to(root).parts
            if path.is_file() and not any(p in ("__pycache__", ".hypothesis", ".pytest_cache")
                                          or p.endswith(".pyc") for p in parts):
                found.add("/".join(parts))
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(the wheel's file names, its METADATA, the sdist's file names), built from a copy of
    the checkout with the setuptools installed here (no network)."""
    work = tmp_path_factory.mktemp("dist")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    out = work / "out"
    for command in (
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(out), str(source)],
        [sys.executable, "-c", f"from setuptools import build_meta; "
                               f"build_meta.build_sdist({str(out)!r})"],
    ):
        result = subprocess.run(command, cwd=source, capture_output=True, text=True,
                                check=False)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        meta = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    with tarfile.open(sdist) as archive:
        top = f"{sdist.name[:-len('.tar.gz')]}/"
        sdist_names = {m.name[len(top):] for m in archive.getmembers() if m.isfile()}
    return names, meta.decode("utf-8"), sdist_names


@pytest.fixture(scope="module")
def wheel(request):
    """The wheel's file names and METADATA: built here, or the installed one's."""
    if FROM_SOURCE:
        names, meta, _ = request.getfixturevalue("built")
        return names, meta
    assert "site-packages" in Path(autodiff.__file__).parts, autodiff.__file__
    distribution = metadata.distribution(DISTRIBUTION)
    files = {str(f) for f in distribution.files or ()}
    meta = distribution.read_text("METADATA") or ""
    assert meta, f"no METADATA: {DISTRIBUTION} found as {distribution!r}, not the wheel's"
    return files, meta


def test_the_wheel_ships_py_typed_in_both_packages(wheel):
    names, _ = wheel
    assert {"autodiff/py.typed", "nn/py.typed"} <= names
    assert "autodiff/_extras.py" in names and "nn/worked_example.py" in names
    assert not any(n.startswith(("tests/", "benchmarks/", "examples/", "docs/")) for n in names)


def test_the_wheel_declares_name_version_license_and_classifiers(wheel):
    names, meta = wheel
    assert f"Name: {DISTRIBUTION}\n" in meta
    assert f"Version: {autodiff.__version__}\n" in meta
    assert "License-Expression: MIT\n" in meta and "License-File: LICENSE\n" in meta
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "Classifier: Typing :: Typed\n" in meta
    assert "Requires-Python: >=3.10\n" in meta
    assert "Provides-Extra: viz\n" in meta and "Provides-Extra: docs\n" in meta


def test_the_sdist_holds_everything_the_tests_read(request):
    expected = _expected_files(ROOT)
    assert "tests/conftest.py" in expected and "docs/first-hour.ipynb" in expected
    if FROM_SOURCE:
        names = request.getfixturevalue("built")[2]
        missing = sorted(expected - names)
        assert not missing, f"not in the sdist: {missing}"
        assert {"autodiff/py.typed", "nn/py.typed", "autodiff/__init__.py", "PKG-INFO"} <= names
    else:  # ROOT is the unpacked sdist
        assert (ROOT / "PKG-INFO").is_file()
        assert all((ROOT / name).is_file() for name in FILES)


def test_the_license_is_mit():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 the autodiff authors" in text
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
