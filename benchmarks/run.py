"""`python -m benchmarks`: kernel, build and host figures, ours vs the official ones, in one run.

Prints a table of figures and ratios, and writes the same table as JSON (benchmarks/results.json)
and as markdown (docs/benchmarks.md), plus the scaling plots (docs/bench_*.png).

Ratios are all "gain" factors: above 1 means ours is better (faster, smaller, less memory).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import extism_kernel

from benchmarks.host_rows import build_rows, host_rows
from benchmarks.kernel_rows import kernel_benchmarks
from benchmarks.plots import plots
from benchmarks.report import COMMAND, git_head, machine, markdown
from benchmarks.rows import text_table
from benchmarks.targets import apply_targets

REPO = Path(__file__).resolve().parent.parent

RESULTS_JSON = REPO / "benchmarks" / "results.json"
DOCS = REPO / "docs"


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table, and write results.json, docs/benchmarks.md and the plots."""
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes, a smoke run (seconds); implies --skip-build",
    )
    parser.add_argument("--skip-build", action="store_true", help="no build timings")
    parser.add_argument("--skip-host", action="store_true", help="no host benchmarks")
    parser.add_argument(
        "--official-full",
        action="store_true",
        help="measure the official kernel at 100k live blocks (minutes)",
    )
    parser.add_argument(
        "--reps", type=int, default=15, help="alternating rounds of the throughput runs"
    )
    parser.add_argument(
        "--kernel",
        type=Path,
        help="benchmark this .wasm as ours instead of the installed kernel (try a kernel patch)",
    )
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="print only: no results.json, docs/benchmarks.md or plots",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    rows, raw = kernel_benchmarks(args, log)
    if args.skip_host:
        host = {"skipped": "--skip-host"}
    else:
        from benchmarks import host as hb  # noqa: PLC0415

        host = hb.run(0.3 if args.quick else 1.0, log)
    rows += host_rows(host)
    if args.quick or args.skip_build:
        build: dict[str, Any] = {"skipped": "--quick or --skip-build"}
    else:
        from benchmarks import build as bb  # noqa: PLC0415

        build = bb.run(log)
    rows = apply_targets(rows + build_rows(build))

    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])]),
        "duration_s": time.perf_counter() - started,
        "machine": machine(),
        "commit": git_head(),
        "kernel": str(args.kernel) if args.kernel else "extism_kernel.kernel_bytes()",
        "kernel_sha256": hashlib.sha256(
            args.kernel.read_bytes() if args.kernel else extism_kernel.kernel_bytes()
        ).hexdigest(),
    }
    print(text_table(rows))
    missed = [r.figure for r in rows if r.met is False]
    print(
        f"\ntargets: {sum(r.met is True for r in rows)} met, {len(missed)} missed"
        + (": " + "; ".join(missed) if missed else "")
    )
    if not args.no_write:
        pngs = plots(raw, DOCS, log)
        result = {
            "meta": meta,
            "rows": [asdict(r) for r in rows],
            "kernel": raw,
            "host": host,
            "build": build,
        }
        RESULTS_JSON.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
        DOCS.mkdir(exist_ok=True)
        (DOCS / "benchmarks.md").write_text(markdown(rows, meta, pngs), encoding="utf-8")
        log(
            f"wrote {RESULTS_JSON.relative_to(REPO)}, docs/benchmarks.md"
            + "".join(f", docs/{p}" for p in pngs)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
