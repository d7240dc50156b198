"""What the numbers were measured on: machine, versions, threads, BLAS, environment."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from .common import package_version

PEERS = ["numpy", "micrograd", "autograd", "torch", "jax", "jaxlib", "scikit-learn", "psutil",
         "threadpoolctl"]
ENVIRONMENT = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
               "OMP_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS"]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def blas_info() -> list[dict[str, Any]]:
    """numpy's thread pools as threadpoolctl sees them (file names only, no paths)."""
    import numpy  # noqa: F401  (loads the BLAS that threadpoolctl inspects)

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"error": "threadpoolctl not installed"}]
    pools = []
    for pool in threadpool_info():
        pool = dict(pool)
        pool["filepath"] = Path(pool.get("filepath", "")).name
        pools.append(pool)
    return pools


def git_commit() -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "autodiff", "nn"],
                               cwd=root, capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (commit + ("+uncommitted changes" if dirty else "")) or None


def describe() -> dict[str, Any]:
    import autodiff

    versions = {"python": platform.python_version(), "autodiff": autodiff.__version__}
    versions.update({name: package_version(name) for name in PEERS})
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "memory_gib": memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
        "numpy_blas": blas_info(),
        "environment": {name: os.environ.get(name) for name in ENVIRONMENT},
        "commit": git_commit(),
    }
