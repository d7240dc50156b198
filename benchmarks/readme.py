"""Write the README's performance section from a benchmark run's JSON.

    python -m benchmarks.readme [results/latest.json]

Replaces what stands between the `<!-- performance:start -->` and `<!-- performance:end -->`
markers in README.md with: the machine and date of the run, one table of every tensor
contestant's time relative to the numpy floor, the targets, and one sentence per workload.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
START, END = "<!-- performance:start -->", "<!-- performance:end -->"


def _ratios(table: list[list[str]], contestant_column: int, ratio_column: int) -> dict[str, str]:
    return {row[contestant_column]: row[ratio_column] for row in table}


def tensor_table(workloads: dict[str, Any]) -> list[str]:
    """Rows: contestants; columns: each tensor workload's time as a multiple of the floor."""
    columns: list[tuple[str, dict[str, str]]] = []
    step = workloads.get("3")
    if step:
        for batch, dtype in (("64", "float64"), ("512", "float64"), ("64", "float32"),
                             ("512", "float32")):
            rows = [r for r in step["table"] if r[0] == batch and r[1] == dtype]
            if rows:
                columns.append((f"W3 step, batch {batch} {dtype}", _ratios(rows, 2, 5)))
    for key, label, contestant_column, value_column in (
        ("4", "W4 step 784-1024-1024-10", 0, 3),
        ("5", "W5 µs per op", 0, 1),
        ("7", "digits samples/s", 0, 3),
    ):
        if key in workloads:
            columns.append((label, _ratios(workloads[key]["table"], contestant_column,
                                           value_column)))
    contestants = list(dict.fromkeys(name for _, values in columns for name in values))
    lines = ["| contestant | " + " | ".join(label for label, _ in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for name in contestants:
        cells = [values.get(name, "—") for _, values in columns]
        shown = f"**{name}**" if name == "autodiff" else name
        lines.append(f"| {shown} | " + " | ".join(cells) + " |")
    return lines


def section(results: dict[str, Any]) -> str:
    """The README's performance section (between the markers) for one run."""
    meta, workloads = results["meta"], results["workloads"]
    blas = ", ".join(f"{p.get('internal_api')} {p.get('version')} with {p.get('num_threads')} "
                     "threads" for p in meta["numpy_blas"] if p.get("user_api") == "blas")
    lines = [
        f"Measured by `python -m benchmarks` on {meta['date']} (commit {meta['commit']}): "
        f"{meta['cpu']}, {meta['logical_cpus']} logical CPUs, {meta['memory_gib']} GiB, "
        f"{meta['os']}; numpy {meta['versions'].get('numpy')} ({blas}), torch "
        f"{meta['versions'].get('torch') or 'not installed'} with the same thread count, "
        f"jax {meta['versions'].get('jax') or 'not installed'} (eager). Every contestant of "
        f"a workload runs interleaved in one process; medians of "
        f"{meta['settings'].get('repeats', '?')} repeats. Full tables, "
        "with best times and the machine's load: "
        "[benchmarks/results/latest.md](benchmarks/results/latest.md).",
        "",
        "Time of a training step relative to hand-written numpy backprop (the floor for any "
        "numpy engine; lower is better), per-op overhead, and digits training throughput:",
        "",
        *tensor_table(workloads),
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    for result in workloads.values():
        for target in result.get("targets", []):
            measured = "—" if target["measured"] is None else f"{target['measured']:.3g}"
            met = {True: "yes", False: "**no**", None: "not measured"}[target["met"]]
            lines.append(f"| {target['target']} | {measured} | {met} |")
    lines.append("")
    for key, result in sorted(workloads.items(), key=lambda item: int(item[0])):
        lines.append(f"- **W{key}, {result['title']}.** {result['summary']}")
    return "\n".join(lines)


def update(readme: Path, results: dict[str, Any]) -> str:
    """README text with its performance section replaced (raises if the markers are missing)."""
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ValueError(f"{readme.name} lacks the {START} … {END} markers")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{section(results)}\n{END}{after}"


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else RESULTS
    results = json.loads(source.read_text(encoding="utf-8"))
    readme = ROOT / "README.md"
    readme.write_text(update(readme, results), encoding="utf-8")
    print(f"README.md performance section written from {source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
