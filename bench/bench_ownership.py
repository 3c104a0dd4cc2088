"""Data ownership: proof size and verification time against rows, and the digest's cost.

    python bench/bench_ownership.py [--short] [--repeats N] [--rows N]

1. Proofs. For 10,000, 100,000 and 1,000,000 rows (three owners, one row in
   three each, from a 20-column float table), the size of an owner proof, a
   row-inclusion proof and a row-absence proof (bytes of JSON), and the time
   `studio.ownership.proofs.verify` takes for each (median), and the time of the
   tree part alone (a row's path to its owner's root, `root_from_path`; the rest
   of a row proof's check re-encodes the row with pandas, the same at every
   size): the row's path to its owner's subtree root and the owner's path on to
   the root. Both should grow as log16 of the rows: one more level (15 hashes)
   per 16-fold growth. Figures: the largest size against the smallest, target
   the ratio of their levels (6 / 4 = 1.5 for 1,000,000 against 10,000 rows,
   the ratio of their logarithms too).
2. The digest's cost in a real run: `studio run` of the 1,000,000-row workflow
   of bench/bench_large.py (Import CSV -> Clean Missing Data -> Normalize ->
   Split -> Logistic Regression -> Train -> Score -> Evaluate), with the CSV
   described by `studio data describe` (one owner) against the same file and
   workflow without a sidecar, each its own process, alternating, CPU and wall time
   (target: at most 1.10).

Short mode: 10,000 and 100,000 rows for the proofs, the run at 100,000 rows.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_large import FEATURES, measure, write_data, write_workflow
from report import Figure, parse_args, print_figures, write_results

from nodes.ownership.rows import RowLeaves
from nodes.ownership.sidecar import Owner, Ownership, Terms
from nodes.ownership.tree import entry_hash
from studio.cli.display import print_table
from studio.ownership.proofs import owner_proof, root_from_path, row_proofs, verify

OWNERS = ("alice", "bob", "carol")
TARGET = {"kind": "model", "name": "bench", "node": "train"}


def synthetic(rows: int) -> pd.DataFrame:
    generator = np.random.default_rng(0)
    frame = pd.DataFrame(generator.normal(size=(rows, FEATURES)),
                         columns=[f"f{i:02d}" for i in range(FEATURES)])
    frame["owner"] = np.array(OWNERS)[np.arange(rows) % 3]
    return frame


def proof_figures(rows: int, repeats: int) -> dict[str, float]:
    frame = synthetic(rows)
    terms = Terms()
    ownership = Ownership("bench", tuple(Owner(o, o, terms) for o in OWNERS), terms,
                          owner_column="owner")
    start = time.perf_counter()
    digest = RowLeaves.at_source(frame, ownership, {"dataset": "bench"}).digest()
    built = time.perf_counter() - start
    summary, root = digest.summary(), digest.root.hex()
    outsider = frame.iloc[[0]].assign(f00=123.0)
    proofs = {"owner": owner_proof(summary, "alice", TARGET),
              "row": row_proofs(digest.owners, summary, frame.iloc[[7]], TARGET)[0],
              "absent": row_proofs(digest.owners, summary, outsider, TARGET)[0]}
    figures = {"digest_s": built}
    for name, proof in proofs.items():
        assert verify(proof, root).ok, name
        figures[f"{name}_bytes"] = len(json.dumps(proof, separators=(",", ":")))
        figures[f"{name}_verify_s"] = _median_time(lambda proof=proof: verify(proof, root),
                                                   repeats)
    # The tree part alone (the rest of a row proof's check, encoding the row again with
    # pandas, takes the same time at every size): the path from a row to its owner's
    # subtree root, and from the owner's entry on to the root.
    row = proofs["row"]
    leaf, owner = bytes.fromhex(row["row"]["leaf"]), row["owner"]
    entry = entry_hash(owner["id"], int(owner["rows"]), bytes.fromhex(owner["root"]))

    def to_the_root() -> None:
        assert root_from_path(leaf, row["row_index"], owner["rows"], row["row_path"])
        assert root_from_path(entry, row["owner_index"], row["owner_count"],
                              row["owner_path"]) == digest.root

    figures["path_levels"] = len(row["row_path"]) + len(row["owner_path"])
    figures["path_verify_s"] = _median_time(to_the_root, repeats, batch=500)
    return figures


def _median_time(function, repeats: int, batch: int = 1) -> float:
    """The median time of one call, over ``repeats`` samples of ``batch`` calls each
    (a batch for calls of microseconds, which one timer reading cannot resolve)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(batch):
            function()
        times.append((time.perf_counter() - start) / batch)
    return statistics.median(times)


def run_cost(rows: int, repeats: int) -> tuple[dict[str, float], dict[str, float], str]:
    """Median wall and CPU times of `studio run` with and without the sidecar."""
    studio = [sys.executable, "-m", "studio.cli.main"]
    with tempfile.TemporaryDirectory(prefix="axon-bench-ownership-") as name:
        folder = Path(name)
        csv = write_data(folder, rows)
        copies = {}
        for kind in ("owned", "plain"):  # the same file twice; only one gets a sidecar
            (folder / kind).mkdir()
            copies[kind] = folder / kind / csv.name
            copies[kind].write_bytes(csv.read_bytes())
        described = measure([*studio, "data", "describe", str(copies["owned"]), "--owner",
                             "acme-lending", "--license", "CC-BY-4.0", "--json"], folder)
        root = json.loads(described["stdout"])["deposit"]["root"]
        flows = {kind: write_workflow(copies[kind].parent, copies[kind]) for kind in copies}
        samples: dict[str, list[dict[str, float]]] = {"owned": [], "plain": []}
        for index in range(repeats):
            for kind in (("plain", "owned") if index % 2 else ("owned", "plain")):
                out = folder / f"out-{kind}-{index}"
                samples[kind].append(measure([*studio, "run", str(flows[kind]), "--out",
                                              str(out), "--runs-dir", str(folder / "runs")],
                                             folder))
                record = json.loads((out / "run_record.json").read_text())
                if kind == "owned":
                    assert record["ownership"]["datasets"][0]["digest"]["root"] == root
                else:
                    assert record["ownership"] is None

    def medians(kind: str) -> dict[str, float]:
        return {key: statistics.median(s[key] for s in samples[kind])
                for key in ("wall_s", "cpu_s")}

    return medians("owned"), medians("plain"), root


def log_figures(measured: dict[int, dict[str, float]]) -> list[Figure]:
    """Proof sizes and verify times at the most rows against the fewest: O(log n) when
    they grow no more than the tree's levels do (one per 16-fold growth: 4 levels at
    10,000 rows, 6 at 1,000,000, ratio 1.5 as log n's; linear growth would be 100)."""
    small, large = min(measured), max(measured)
    target = round(measured[large]["path_levels"] / measured[small]["path_levels"], 2)
    span = f"{large:,} rows against {small:,}"
    figures = []
    for key, what, unit, scale in (("row_bytes", "row proof size", "B", 1),
                                   ("absent_bytes", "absence proof size", "B", 1),
                                   ("row_verify_s", "row proof verify time", "µs", 1e6),
                                   ("path_verify_s", "row path to the root, verify time",
                                    "µs", 1e6)):
        figures.append(Figure(f"{what}, {span}", measured[large][key] * scale,
                              measured[small][key] * scale, target, unit=unit,
                              note=f"{int(measured[small]['path_levels'])} -> "
                                   f"{int(measured[large]['path_levels'])} levels (log "
                                   f"ratio {math.log(large) / math.log(small):.2f}); target: "
                                   "the ratio of levels"))
    return figures


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], short_repeats=3, extra=[
        (("--rows",), {"type": int, "help": "rows of the run (default 1,000,000; short "
                                            "100,000)"})])
    sizes = (10_000, 100_000) if args.short else (10_000, 100_000, 1_000_000)
    table, measured = [], {}
    for rows in sizes:
        f = measured[rows] = proof_figures(rows, max(args.repeats, 5) * 4)
        table.append([f"{rows:,}", f"{f['digest_s']:.2f} s",
                      f"{f['owner_bytes']:,} B", f"{f['row_bytes']:,} B",
                      f"{f['absent_bytes']:,} B",
                      f"{f['owner_verify_s'] * 1e6:.0f} µs", f"{f['row_verify_s'] * 1e3:.2f} ms",
                      f"{f['absent_verify_s'] * 1e3:.2f} ms", f"{f['path_levels']}",
                      f"{f['path_verify_s'] * 1e6:.0f} µs"])
    print_table(["rows", "digest", "owner proof", "row proof", "absence proof",
                 "verify owner", "verify row", "verify absence", "levels", "row path"],
                table, sys.stdout)
    print()
    rows = args.rows or (100_000 if args.short else 1_000_000)
    owned, plain, root = run_cost(rows, args.repeats)
    print_table(["studio run", "wall", "cpu"],
                [["with a sidecar", f"{owned['wall_s']:.2f} s",
                  f"{owned['cpu_s']:.2f} s"],
                 ["without", f"{plain['wall_s']:.2f} s", f"{plain['cpu_s']:.2f} s"]],
                sys.stdout)
    print(f"\ndeposit root {root}\n")
    label = f"{rows:,} rows"
    figures = [*log_figures(measured),
        Figure(f"studio run with the ownership digest / without, CPU ({label})",
               owned["cpu_s"], plain["cpu_s"], 1.10),
        Figure(f"studio run with the ownership digest / without, wall ({label})",
               owned["wall_s"], plain["wall_s"], 1.10),
    ]
    print_figures(figures)
    write_results(args.results, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
