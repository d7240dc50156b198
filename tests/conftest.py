"""Shared test settings."""

from __future__ import annotations

import os
import shutil

import pytest

# Rendering needs Graphviz's `dot` program. CI installs it (.ci/run), and there these tests
# must run; on a machine without it they are skipped with a note on how to install it.
WITHOUT_DOT = shutil.which("dot") is None and not os.environ.get("CI")
DOT_REASON = "Graphviz's `dot` program is not installed (apt-get install graphviz); CI runs these"
requires_dot = pytest.mark.skipif(WITHOUT_DOT, reason=DOT_REASON)
