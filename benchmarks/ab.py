"""`python -m benchmarks.ab A.wasm [B.wasm ...]`: paired A/B of kernel builds vs the official one.

For differences of a few percent on a noisy machine: rounds alternate between all the kernels
(ours as installed, the official one, and each file given), and every figure is reported as the
median of the per-round ratios against the official kernel, with their range. Figures: 16 MiB
`input_load_u64` / `store_u64` / `load_u64` throughput (`--size` to change) and, with `--live`,
`length` and `free` per call over 10k live blocks in random order.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import extism_kernel

from benchmarks import kernel as kb

FIGURES = (
    ("input_load_u64", "input_read_s"),
    ("store_u64", "store_write_s"),
    ("load_u64", "load_read_s"),
    ("store_u64 (L1)", "hot_store_s"),
)


def main(argv: list[str] | None = None) -> int:
    from tooling.official_kernel import official_kernel  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m benchmarks.ab", description=__doc__)
    parser.add_argument("kernels", nargs="*", type=Path, help="kernel .wasm files to compare")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--size", type=int, default=16 << 20, help="bytes per throughput run")
    parser.add_argument("--live", action="store_true", help="also length/free at 10k blocks")
    args = parser.parse_args(argv)
    wasm = {"installed": extism_kernel.kernel_bytes(), "official": official_kernel()}
    wasm.update({str(p): p.read_bytes() for p in args.kernels})
    benches = {name: kb.Bench(w) for name, w in wasm.items()}
    overhead = {name: kb.crossing_overhead(b) for name, b in benches.items()}
    thr: dict[str, list[kb.ThroughputResult]] = {name: [] for name in benches}
    live: dict[str, list[kb.LiveResult]] = {name: [] for name in benches if name != "official"}
    for _ in range(args.rounds):
        for name, bench in benches.items():
            thr[name].append(kb.throughput(bench, size=args.size, reps=5, overhead=overhead[name]))
            if args.live and name != "official":
                live[name].append(
                    kb.live_blocks(
                        bench, 10_000, min_reps=1, max_reps=1, budget_s=0, overhead=overhead[name]
                    )
                )
    official = thr.pop("official")
    for name, rounds in thr.items():
        print(
            f"{name} ({len(wasm[name])} bytes), {args.rounds} rounds, ratio vs official"
            " (median [min-max], above 1: ours faster):"
        )
        for label, attr in FIGURES:
            ratios = [
                getattr(f, attr) / getattr(o, attr) for o, f in zip(rounds, official, strict=True)
            ]
            print(
                f"  {label:15s} {statistics.median(ratios):.2f}x"
                f" [{min(ratios):.2f}-{max(ratios):.2f}]"
            )
        if live.get(name):
            for phase in ("length_s", "free_s"):
                ns = statistics.median(getattr(r, phase) for r in live[name]) / 10_000 * 1e9
                print(f"  {phase[:-2]:15s} {ns:.1f} ns a call (10k random, median)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
