"""(to be filled: see the op table in autodiff/ops/table.py)"""

from __future__ import annotations
