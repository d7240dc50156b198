"""The reference documentation builds with MkDocs in strict mode (every warning an error),
and its generated pages say what they should."""

from __future__ import annotations

import html
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
hooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hooks)


def _text(path: Path) -> str:
    """A page's text without its tags."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "WARNING" not in result.stderr, result.stderr[-4000:]
    return out


def test_the_site_builds_strictly_with_every_page(site):
    for page in ("index.html", "functions.html", "worked-example.html",
                 *(page.replace(".md", ".html") for page in hooks.TUTORIAL.values()),
                 *(f"reference/{module}.html" for module in hooks.REFERENCE)):
        assert (site / page).is_file(), page


def test_the_reference_is_generated_from_the_docstrings(site):
    autodiff_page = (site / "reference" / "autodiff.html").read_text(encoding="utf-8")
    for name in ("autodiff.Value.backward", "autodiff.Value.item", "autodiff.grad",
                 "autodiff.draw", "autodiff.no_grad"):
        assert f'id="{name}"' in autodiff_page, name
    import autodiff

    first_line = autodiff.grad.__doc__.strip().splitlines()[0]
    assert first_line.split("`")[0][:40] in autodiff_page
    explain_page = (site / "reference" / "autodiff.explain.html").read_text(encoding="utf-8")
    assert 'id="autodiff.explain.explain"' in explain_page
    nn_page = (site / "reference" / "nn.layers.html").read_text(encoding="utf-8")
    assert 'id="nn.layers.Linear"' in nn_page


def test_the_tutorial_is_the_readme(site):
    readme = hooks.README.read_text(encoding="utf-8")
    sections = hooks.readme_sections(readme)
    assert set(hooks.TUTORIAL) <= set(sections)
    page = _text(site / "tutorial" / "first-gradient.html")
    assert "a.grad, b.grad" in page and "A first gradient" in page
    drawing = (site / "tutorial" / "drawing.html").read_text(encoding="utf-8")
    assert 'src="../graph_grad.svg"' in drawing and 'href="backprop.html"' in drawing


def test_the_worked_example_page_is_computed(site):
    page = (site / "worked-example.html").read_text(encoding="utf-8")
    assert "0.082167041" in page and "0.35891648" in page and "✗" not in page
    from nn import worked_example

    assert page.count("✓") == len(worked_example.PUBLISHED)
    assert 'src="worked_example.svg"' in page and "∂E_total/∂w5" in page


def test_links_are_rewritten_for_the_site():
    anchors = {"performance": None, "drawing-a-graph": "tutorial/drawing.md"}
    text = ("see [functions](docs/functions.md), [there](#drawing-a-graph), "
            "[perf](#performance), [results](benchmarks/results/latest.md), "
            "[![shot](docs/walkthrough.png)](docs/walkthrough.png), [web](https://x.org)")
    assert hooks.rewrite_links(text, "tutorial/a.md", anchors) == (
        "see [functions](../functions.md), [there](../tutorial/drawing.md), perf, "
        "results (`benchmarks/results/latest.md`), "
        "[![shot](../walkthrough.png)](../walkthrough.png), [web](https://x.org)")
    assert hooks.slug("Your own primitive, property-tested") == (
        "your-own-primitive-property-tested")
    assert re.search(r"\]\(#", hooks.pages()["index.md"]) is None
