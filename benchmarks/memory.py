"""Workload 6, memory, measured in a fresh child process per contestant.

`python -m benchmarks.memory peak KEY STEPS`: peak resident memory over STEPS training
steps of workload 4 (784-1024-1024-10, batch 256, float32). The high-water mark is reset
once the model and data exist (Linux), so the peak is that of training, not of building
the contestant's model (which may go through float64 arrays on its way to float32).
`python -m benchmarks.memory growth KEY STEPS`: resident memory after a warm-up and then
at four checkpoints over STEPS steps of workload 3 (64-128-128-10, batch 64, float64);
a graph or cache that leaks shows up as growth.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from . import contestants, floor
from .common import current_rss_bytes, peak_rss_bytes, run_as_child

KEYS = {
    "floor": contestants.Floor, "autodiff": contestants.Autodiff,
    "autograd": contestants.HipsAutograd, "torch": contestants.TorchEager,
    "jax": contestants.JaxEager,
}
MB = 1024 * 1024
LR = 1e-3


def _peak(kind: type, steps: int) -> dict[str, Any]:
    contestant = kind()
    params = floor.init_params([784, 1024, 1024, 10], np.float32)
    x, y = floor.make_batch(784, 10, 256, np.float32)
    step = contestant.trainer(params, LR)
    del params
    peak_covers = "steps" if _reset_peak_rss() else "setup and steps"
    baseline = current_rss_bytes()
    for _ in range(steps):
        step(x, y)
    return {"baseline_mb": baseline / MB, "peak_mb": peak_rss_bytes() / MB,
            "end_mb": current_rss_bytes() / MB, "peak_covers": peak_covers}


def _reset_peak_rss() -> bool:
    """Reset this process's resident-memory high-water mark (VmHWM) to its resident memory
    now; False where that is not possible (not Linux, or /proc refuses)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def _growth(kind: type, steps: int) -> dict[str, Any]:
    contestant = kind()
    params = floor.init_params([64, 128, 128, 10], np.float64)
    x, y = floor.make_batch(64, 10, 64, np.float64)
    step = contestant.trainer(params, LR)
    for _ in range(100):  # warm-up: allocator pools and caches settle
        step(x, y)
    checkpoints = [current_rss_bytes() / MB]
    for quarter in range(4):
        for _ in range(steps // 4 if quarter < 3 else steps - 3 * (steps // 4)):
            step(x, y)
        checkpoints.append(current_rss_bytes() / MB)
    return {"rss_mb": checkpoints, "growth_mb": checkpoints[-1] - checkpoints[0]}


def run_child(mode: str, key: str, steps: int, timeout: float = 900) -> dict[str, Any]:
    """Run one measurement in a child process; a missing peer or a crash becomes a record."""
    root = Path(__file__).resolve().parent.parent
    try:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.memory", mode, key, str(steps)], cwd=root,
            capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": "failed", "reason": f"timed out after {timeout:.0f} s"}
    if done.returncode == 0:
        return {"status": "ok", **json.loads(done.stdout.strip().splitlines()[-1])}
    lines = done.stderr.strip().splitlines()
    last = lines[-1] if lines else f"exit status {done.returncode}"
    if done.returncode == 3:
        return {"status": "missing", "reason": last.split(":", 1)[-1].strip()}
    return {"status": "failed", "reason": last[:300]}


def main(argv: list[str]) -> int:
    mode, key, steps = argv[0], argv[1], int(argv[2])
    measure = {"peak": _peak, "growth": _growth}[mode]
    print(json.dumps(measure(KEYS[key], steps)))
    return 0


if __name__ == "__main__":
    run_as_child(main)
