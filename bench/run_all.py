"""Run every bench/bench_*.py and print one summary table.

    python bench/run_all.py [--short]

Each benchmark runs in its own process (so one's imports, caches and
memory do not flatter or burden the next), prints its own tables, and
hands its figures back as JSON. The summary lists figure, measured,
baseline, ratio, target and pass/MISSED. The exit code is 0 even when a
target is missed (those are printed as MISSED); it is 1 only when a
benchmark itself fails (an error, or workflow and script disagreeing).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from report import Figure, print_figures, read_results

BENCH_DIR = Path(__file__).resolve().parent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true",
                        help="pass --short to every benchmark (fewer rows and repetitions)")
    args = parser.parse_args(argv)

    scripts = sorted(BENCH_DIR.glob("bench_*.py"))
    figures: list[Figure] = []
    broken: list[str] = []
    with tempfile.TemporaryDirectory(prefix="axon-bench-results-") as folder:
        for script in scripts:
            results = Path(folder) / f"{script.stem}.json"
            command = [sys.executable, str(script), "--results", str(results)]
            if args.short:
                command.append("--short")
            print(f"=== {script.name}{' --short' if args.short else ''} ===", flush=True)
            process = subprocess.run(command, check=False)
            print(flush=True)
            if process.returncode != 0 or not results.exists():
                broken.append(f"{script.name} (exit {process.returncode})")
                continue
            figures.extend(read_results(results))

    print("=== summary ===")
    if figures:
        print_figures(figures)
    if broken:
        print(f"\nFAILED to run: {', '.join(broken)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
