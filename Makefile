# Two entry points: `make showcase` and `make test`. Both build a virtual
# environment inside the checkout on first use and install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: showcase test lint bench clean docs docs-functions dist-check

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

showcase: $(STAMP)
	$(BIN)/python -m examples.showcase

# The tests include building the documentation with warnings as errors
# (tests/test_docs_site.py runs `mkdocs build --strict`) and executing docs/first-hour.ipynb.
test: $(STAMP)
	$(BIN)/python -m ruff check autodiff nn tests benchmarks examples docs/hooks.py
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -n 2 -q

docs: $(STAMP)  # the reference documentation, into site/ (mkdocs.yml; `mkdocs serve` to browse)
	$(BIN)/python -m mkdocs build --strict

# Build the sdist and the wheel, and run the sdist's tests against the installed wheel.
dist-check:
	.ci/dist-check

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench,bench-jax]'
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.readme

docs-functions: $(STAMP)  # docs/functions.md from the op table
	$(BIN)/python -m autodiff.docs_table

clean:
	rm -rf $(VENV) build dist site *.egg-info
