"""What to install: one message, naming the extra and the distribution, for every optional
dependency, wherever it is imported."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

import autodiff
from autodiff import Value, viz
from autodiff._extras import DISTRIBUTION, EXTRAS, import_optional, missing_extra

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `examples` and `benchmarks` are run from the checkout


def _block(monkeypatch, *modules: str) -> None:
    """Make `import module` fail, as if it were not installed."""
    for module in modules:
        for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
            monkeypatch.setitem(sys.modules, name, None)
        monkeypatch.setitem(sys.modules, module, None)


def _names(message: str, extra: str) -> None:
    assert f"pip install '{DISTRIBUTION}[{extra}]'" in message, message


def _extras_in_pyproject() -> dict[str, str]:
    """The extras of pyproject.toml: name → the text of its list."""
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    return dict(re.findall(r"^([a-z][a-z0-9-]*) = (\[[^\]]*(?:\[[^\]]*\][^\]]*)*\])", section,
                           re.M))


def test_the_distribution_name_is_the_one_in_pyproject():
    assert re.search(rf'^name = "{re.escape(DISTRIBUTION)}"$',
                     (ROOT / "pyproject.toml").read_text(), re.M)
    assert DISTRIBUTION not in ("autodiff", "nn")  # other projects' names on the index


def test_every_extra_named_exists_and_installs_the_package():
    extras = _extras_in_pyproject()
    assert {"viz", "testing", "showcase", "browser", "dask", "docs", "dev"} <= set(extras)
    for module, (package, extra) in EXTRAS.items():
        assert extra in extras, f"{module}: no extra {extra!r} in pyproject.toml"
        assert re.search(rf'"{re.escape(package)}[\[>=<~ "]', extras[extra]), (module, extra)
    # The dev extra refers to the distribution by its own name.
    assert f'"{DISTRIBUTION}[' in extras["dev"]


def test_message_names_what_needs_it_the_package_the_extra_and_the_distribution():
    assert missing_extra("graphviz", "draw") == (
        f"draw needs graphviz: pip install '{DISTRIBUTION}[viz]'")
    assert missing_extra("sklearn.datasets", "load_digits", "It ships the images.") == (
        f"load_digits needs scikit-learn: pip install '{DISTRIBUTION}[showcase]'. "
        "It ships the images.")
    assert missing_extra("dask.array", "x") == f"x needs dask: pip install '{DISTRIBUTION}[dask]'"
    with pytest.raises(KeyError, match="numpy"):
        missing_extra("numpy", "x")


def test_import_optional_imports_or_raises_with_the_message(monkeypatch):
    assert import_optional("graphviz", "draw") is sys.modules["graphviz"]
    _block(monkeypatch, "tqdm")
    with pytest.raises(ModuleNotFoundError) as raised:
        import_optional("tqdm", "the showcase")
    assert raised.value.name == "tqdm"
    _names(str(raised.value), "showcase")


def test_draw(monkeypatch):
    monkeypatch.setattr(viz, "_classes", {})
    _block(monkeypatch, "graphviz")
    with pytest.raises(ModuleNotFoundError) as raised:
        autodiff.draw(Value(1.0).exp())
    _names(str(raised.value), "viz")
    assert str(raised.value).startswith("autodiff.draw needs graphviz")
    assert "`dot` program" in str(raised.value)


def test_testing_strategies(monkeypatch):
    import autodiff.testing.strategies  # noqa: F401

    monkeypatch.delitem(sys.modules, "autodiff.testing.strategies")
    _block(monkeypatch, "hypothesis")
    with pytest.raises(ModuleNotFoundError) as raised:
        importlib.import_module("autodiff.testing.strategies")
    assert raised.value.name == "hypothesis"
    _names(str(raised.value), "testing")


def test_nn_load_digits(monkeypatch):
    import nn

    _block(monkeypatch, "sklearn")
    with pytest.raises(ModuleNotFoundError) as raised:
        nn.data.load_digits()
    assert str(raised.value).startswith("nn.data.load_digits needs scikit-learn")
    _names(str(raised.value), "showcase")


@pytest.mark.parametrize("module", ["matplotlib", "tqdm"])
def test_showcase(monkeypatch, module):
    monkeypatch.delitem(sys.modules, "examples.showcase", raising=False)
    _block(monkeypatch, module)
    with pytest.raises(ModuleNotFoundError) as raised:
        importlib.import_module("examples.showcase")
    assert str(raised.value).startswith(f"the showcase needs {module}")
    _names(str(raised.value), "showcase")


def test_walkthrough_screenshot(monkeypatch):
    from examples import walkthrough_screenshot

    _block(monkeypatch, "selenium")
    with pytest.raises(ModuleNotFoundError) as raised:
        walkthrough_screenshot.chromium()
    _names(str(raised.value), "browser")


def test_benchmarks(monkeypatch):
    from benchmarks import common, digits

    _block(monkeypatch, "torch")
    with pytest.raises(common.Missing) as raised:
        common.require("torch.nn.functional", "torch")
    _names(str(raised.value), "bench")
    _block(monkeypatch, "sklearn")
    with pytest.raises(common.Missing) as raised:
        digits.load_digits()
    _names(str(raised.value), "showcase")


SOURCES = ["autodiff", "nn", "examples", "benchmarks"]


def test_no_other_install_advice_in_the_code():
    """Install advice comes from the helper: no `autodiff[extra]` (another project's name)
    and no `pip install -e` (which works only in a checkout) in what users run."""
    stale = re.compile(r"""autodiff\[|pip install -e|pip install (graphviz|hypothesis|selenium)""")
    found = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if stale.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_readme_installs_the_distribution():
    readme = (ROOT / "README.md").read_text()
    assert f"pip install {DISTRIBUTION}" in readme
    for extra in ("viz", "testing"):
        assert f"pip install '{DISTRIBUTION}[{extra}]'" in readme
    assert not re.search(r"pip install '?autodiff\[", readme)


def test_a_helper_message_reaches_nn_through_the_public_api():
    from autodiff import extend

    assert extend.missing_extra is missing_extra and extend.DISTRIBUTION == DISTRIBUTION
