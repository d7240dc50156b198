"""Workload 6's peak measurement: the high-water mark covers the training steps only."""

import sys
from pathlib import Path

import numpy as np
import pytest

# benchmarks/ is not an installed package: import it from the checkout, however pytest is run.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import memory
from benchmarks.common import peak_rss_bytes

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the high-water mark is reset through /proc")


@linux_only
def test_the_high_water_mark_is_reset_to_the_memory_in_use():
    spike = np.ones(64 * 1024 * 1024 // 8)  # 64 MiB, touched, then let go
    del spike
    before = peak_rss_bytes()
    assert memory._reset_peak_rss()
    assert peak_rss_bytes() < before - 32 * 1024 * 1024
