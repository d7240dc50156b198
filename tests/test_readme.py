"""The README's Python examples run as written, and it opens with the two commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import DOT_REASON, WITHOUT_DOT

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_opens_with_exactly_two_commands():
    text = README.read_text(encoding="utf-8")
    first_block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert first_block is not None and text.index("```sh") < text.index("##")
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert [c for c in commands if c] == ["make showcase", "make test"]


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    code = BLOCKS[index]
    if (".render(" in code or "walkthrough(" in code) and WITHOUT_DOT:
        pytest.skip(DOT_REASON)
    namespace: dict = {"__name__": f"readme_block_{index}"}
    exec(compile(code, f"README.md python block {index}", "exec"), namespace)
    for name, value in namespace.items():
        if name.startswith("test_") and callable(value):
            value()  # the property-test example: run its hypothesis tests too


def test_readme_numbers_match_the_code():
    import numpy as np

    import autodiff

    text = README.read_text(encoding="utf-8")
    assert repr(autodiff.grad(lambda x: x.tanh())(0.5)) in text
    assert repr(autodiff.grad(autodiff.grad(lambda x: x.tanh()))(0.5)) in text
    assert "ValueError: add: incompatible input shapes (3,) and (4,)" in text
    with pytest.raises(ValueError, match=r"add: incompatible input shapes \(3,\) and \(4,\)"):
        autodiff.Value(np.ones(3)) + autodiff.Value(np.ones(4))


def test_readme_performance_section_is_generated_from_the_committed_run():
    import json
    import sys

    sys.path.insert(0, str(README.parent))
    from benchmarks import readme

    results = json.loads(readme.RESULTS.read_text(encoding="utf-8"))
    text = README.read_text(encoding="utf-8")
    assert readme.update(README, results) == text, "run: python -m benchmarks.readme"
    assert "| **autodiff** |" in text and results["meta"]["date"] in text
