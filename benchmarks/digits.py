"""Issue 3's throughput figure: one epoch of MLP training on the 8x8 digits, samples/s.

The data are the 1,797 digit images (64 pixels scaled to [0, 1], 10 classes), from
`nn.data.load_digits()` when `nn` provides it, else from scikit-learn. One shuffled
permutation is cut into batches once, outside the timing, and every contestant trains on
the same batches, so only the training steps are timed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import floor
from .common import Missing, install_hint

SIZES = [64, 128, 128, 10]
BATCH = 32
DTYPE = np.float64
LR = 0.05


def load_digits() -> tuple[np.ndarray, np.ndarray, str]:
    """(images (1797, 64) in [0, 1], labels, where they came from)."""
    try:
        import nn.data

        images, labels = nn.data.load_digits()[:2]
        source = "nn.data.load_digits"
    except (ImportError, AttributeError):
        try:
            from sklearn.datasets import load_digits as sklearn_digits
        except ImportError:
            raise Missing(install_hint("sklearn", "the digits data")) from None
        data = sklearn_digits()
        images, labels = data.data, data.target
        source = "sklearn.datasets.load_digits"
    images = np.asarray(images, dtype=DTYPE).reshape(len(labels), -1)
    if images.max() > 1.5:
        images = images / 16.0
    return images, np.asarray(labels, dtype=np.int64), source


def epoch_batches(images, labels, batch: int = BATCH, seed: int = 0) -> list[tuple[Any, Any]]:
    """One shuffled epoch as a list of (x, y) batches (the last one may be shorter)."""
    order = np.random.default_rng(seed).permutation(len(labels))
    return [(np.ascontiguousarray(images[order[i:i + batch]]), labels[order[i:i + batch]])
            for i in range(0, len(labels), batch)]


def epoch_runner(contestant, batches) -> Any:
    """A callable training `contestant` for one epoch over `batches`."""
    step = contestant.trainer(floor.init_params(SIZES, DTYPE, seed=0), LR)

    def epoch():
        for x, y in batches:
            step(x, y)

    return epoch
