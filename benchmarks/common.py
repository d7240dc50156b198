"""Shared pieces of the harness: optional peers, the interleaved timer, result rows."""

from __future__ import annotations

import gc
import importlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class Missing(Exception):
    """A peer library is not installed (or cannot be imported): reported, never a crash."""


def install_hint(module: str, needed_by: str) -> str:
    """What to install for `module`: autodiff's message naming the extra, where this
    autodiff has it (an older checkout compared by `benchmarks.ab` may not)."""
    try:
        from autodiff._extras import missing_extra

        return missing_extra(module, needed_by)
    except (ImportError, KeyError):
        return f"{needed_by} needs {module.split('.')[0]}"


def require(module: str, install: str | None = None) -> Any:
    """Import `module` or raise Missing naming what to install."""
    try:
        return importlib.import_module(module)
    except Exception as error:  # ImportError, or a broken install raising anything else
        hint = install or module.split(".")[0]
        raise Missing(f"{hint} not installed ({type(error).__name__}: {error}); "
                      f"{install_hint(module, 'the benchmark')}") from None


def package_version(distribution: str) -> str | None:
    """Installed version of a distribution, or None if it is absent."""
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


@dataclass
class Contestant:
    """One entry of a race: `make()` builds its state and returns the callable to time."""

    name: str
    make: Callable[[], Callable[[], Any]]


@dataclass
class Row:
    """The outcome of one contestant in one workload."""

    name: str
    status: str = "ok"  # ok | missing | failed
    seconds: float | None = None  # median time of one call
    times: list[float] = field(default_factory=list)  # per-repeat time of one call
    calls_per_repeat: int = 0
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "status": self.status, "seconds": self.seconds,
            "times": self.times, "calls_per_repeat": self.calls_per_repeat,
            "reason": self.reason, **self.extra,
        }


def _describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= 300 else text[:297] + "..."


def race(
    contestants: list[Contestant], *, repeats: int, warmup: int = 2, min_time: float = 0.2,
    mirrored: bool = False,
) -> list[Row]:
    """Time every contestant interleaved: repeat r runs them all, in an order rotated by r.

    Each repeat makes `calls` back-to-back calls, with `calls` chosen during warm-up so that
    a repeat lasts about `min_time` seconds; the time of one call is the repeat's total
    divided by `calls`, and the row's `seconds` is the median over repeats. `mirrored` runs
    each repeat's order forward and then backward (A B B A) and takes the mean of the two
    blocks, so that a machine speeding up or slowing down during a repeat cancels out of
    paired differences.
    """
    rows = {c.name: Row(c.name) for c in contestants}
    ready: list[tuple[Contestant, Callable[[], Any]]] = []
    for contestant in contestants:
        row = rows[contestant.name]
        try:
            step = contestant.make()
            start = time.perf_counter()
            for _ in range(max(1, warmup)):
                step()
            once = (time.perf_counter() - start) / max(1, warmup)
        except Missing as missing:
            row.status, row.reason = "missing", str(missing)
            continue
        except Exception as error:
            row.status, row.reason = "failed", _describe(error)
            continue
        row.calls_per_repeat = max(1, round(min_time / max(once, 1e-9)))
        ready.append((contestant, step))

    for repeat in range(repeats):
        shift = repeat % max(1, len(ready))
        order = ready[shift:] + ready[:shift]
        blocks: dict[str, list[float]] = {}
        for contestant, step in order + order[::-1] if mirrored else order:
            row = rows[contestant.name]
            if row.status != "ok":
                continue
            calls = row.calls_per_repeat
            gc.collect()
            try:
                start = time.perf_counter()
                for _ in range(calls):
                    step()
                blocks.setdefault(row.name, []).append((time.perf_counter() - start) / calls)
            except Exception as error:
                row.status, row.reason = "failed", _describe(error)
        for name, block_times in blocks.items():
            if rows[name].status == "ok":
                rows[name].times.append(statistics.fmean(block_times))
    for row in rows.values():
        if row.status == "ok" and row.times:
            row.seconds = statistics.median(row.times)
    return [rows[c.name] for c in contestants]


def current_rss_bytes() -> int:
    """Resident memory of this process now (psutil if present, else /proc)."""
    try:
        import psutil

        return psutil.Process().memory_info().rss
    except ImportError:
        import os

        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """High-water mark of this process's resident memory since it started (or exec'd).

    Linux's VmHWM is used rather than getrusage's ru_maxrss, which survives exec and so
    would report the parent's peak in a child process.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def run_as_child(main: Callable[[list[str]], int]) -> None:
    """Entry point of a child-process workload: exit 3, with a message, if a peer is missing."""
    import sys

    try:
        raise SystemExit(main(sys.argv[1:]))
    except Missing as missing:
        print(f"Missing: {missing}", file=sys.stderr)
        raise SystemExit(3) from None
