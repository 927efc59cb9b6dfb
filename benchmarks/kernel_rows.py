"""Rows of the kernel benchmarks: the loops of `kernel.py` on our kernel and the official one."""

from __future__ import annotations

import argparse
import math
import statistics
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import extism_kernel
from extism_kernel import MissingDependencyError

from benchmarks import instructions
from benchmarks import kernel as kb
from benchmarks.rows import Row, gain_time

Log = Callable[[str], None]
KiB = 1024


def _sizes(args: argparse.Namespace) -> list[int]:
    """Block counts of the alloc and live-block figures."""
    return [100, 1000, 3000] if args.quick else [1000, 10_000, 100_000]


def _fit_slope(n1: int, t1: float, n2: int, t2: float) -> float:
    return math.log(t2 / t1) / math.log(n2 / n1)


def kernel_benchmarks(args: argparse.Namespace, log: Log) -> tuple[list[Row], dict[str, Any]]:
    from tooling.official_kernel import official_kernel  # noqa: PLC0415

    ours = args.kernel.read_bytes() if args.kernel else extism_kernel.kernel_bytes()
    kernels = {"ours": ours, "official": official_kernel()}
    benches = {name: kb.Bench(wasm) for name, wasm in kernels.items()}
    overhead = {name: kb.crossing_overhead(b) for name, b in benches.items()}
    raw: dict[str, Any] = {"crossing_overhead_s": overhead}
    rows = _alloc_rows(args, benches, raw, log)
    rows += _instruction_rows(kernels, raw, log)
    rows += _live_rows(args, benches, overhead, raw, log)
    rows += _churn_rows(args, benches, overhead, raw, log)
    rows += _throughput_rows(args, benches, overhead, raw, log)
    rows += _instantiation_rows(benches, raw)
    return rows, raw


def _measure_live(
    args: argparse.Namespace, benches: dict[str, kb.Bench], overhead: dict[str, float], log: Log
) -> tuple[list[int], dict[str, dict[int, kb.LiveResult]]]:
    sizes = _sizes(args)
    official_cap = sizes[-1] if args.official_full else (1000 if args.quick else 30_000)
    live: dict[str, dict[int, kb.LiveResult]] = {"ours": {}, "official": {}}
    for name, bench in benches.items():
        ns = sorted({*sizes, official_cap}) if name == "official" else sizes
        for n in ns:
            if name == "official" and n > official_cap:
                continue
            log(f"kernel: live blocks, {name}, n={n} ...")
            live[name][n] = kb.live_blocks(bench, n, overhead=overhead[name])
    measured = sorted(live["official"])
    n1, n2 = measured[-2], measured[-1]
    r1, r2 = live["official"][n1], live["official"][n2]
    for n in sizes:
        if n not in live["official"]:
            # length and free are extrapolated from the two largest measured sizes with a power
            # law (the alloc rows come from `alloc_rounds`, which runs every size)
            def extra(a: float, b: float, n: int = n) -> float:
                return float(b * (n / n2) ** _fit_slope(n1, a, n2, b))

            live["official"][n] = kb.LiveResult(
                n,
                0.0,
                extra(r1.length_s, r2.length_s),
                extra(r1.free_s, r2.free_s),
                0,
                checked=True,
                extrapolated=True,
                notes=[f"length, free extrapolated from n={n1} and n={n2} (power law); not run"],
            )
    return sizes, live


def _alloc_rows(
    args: argparse.Namespace, benches: dict[str, kb.Bench], raw: dict[str, Any], log: Log
) -> list[Row]:
    """`alloc` x n on fresh and on warm instances: medians of rounds alternating the kernels."""
    sizes = _sizes(args)
    rounds = 3 if args.quick else 9
    rows = []
    raw["alloc"] = {}
    for n in sizes:
        log(f"kernel: alloc x{n:,}, fresh and warm, {rounds} rounds ...")
        r = kb.alloc_rounds(benches, n, rounds=rounds)
        raw["alloc"][n] = asdict(r)
        for kind, label in (("fresh_s", "fresh instance"), ("warm_s", "warm (after reset)")):
            ours, official = getattr(r, kind)["ours"], getattr(r, kind)["official"]
            rows.append(
                Row(
                    "kernel",
                    f"alloc x{n:,} blocks, 1-64 B each, {label}",
                    "ms",
                    ours * 1e3,
                    official * 1e3,
                    gain_time(ours, official),
                    note=f"median of {rounds} rounds; ours {ours / n * 1e9:.1f} ns an alloc"
                    + ("" if r.checked else " RESULT CHECK FAILED"),
                )
            )
    return rows


def _instruction_rows(kernels: dict[str, bytes], raw: dict[str, Any], log: Log) -> list[Row]:
    """Instructions pywasm executes for `alloc(10)` on a warm kernel and for a 10 B echo call."""
    from benchmarks.host import echo_wasm  # noqa: PLC0415

    try:
        counts = {
            name: {
                **instructions.kernel_alloc(wasm),
                "echo 10 B call": instructions.echo_call(echo_wasm(), wasm),
            }
            for name, wasm in kernels.items()
        }
    except (ImportError, MissingDependencyError) as exc:  # pywasm is not installed
        log(f"kernel: instruction counts skipped: {exc}")
        return []
    raw["pywasm_instructions"] = counts
    return [
        Row(
            "kernel",
            f"{figure}: instructions executed (pywasm counts)",
            "instr",
            counts["ours"][figure],
            counts["official"][figure],
            gain_time(counts["ours"][figure], counts["official"][figure]),
            note="a whole call: the plugin and the kernel" if figure.startswith("echo") else "",
        )
        for figure in counts["ours"]
    ]


def _live_rows(
    args: argparse.Namespace,
    benches: dict[str, kb.Bench],
    overhead: dict[str, float],
    raw: dict[str, Any],
    log: Log,
) -> list[Row]:
    sizes, live = _measure_live(args, benches, overhead, log)
    raw["live_blocks"] = {k: {n: asdict(r) for n, r in v.items()} for k, v in live.items()}
    rows = []
    for n in sizes:
        o, f = live["ours"][n], live["official"][n]
        note = "official length/free extrapolated (not run)" if f.extrapolated else ""
        if not (o.checked and f.checked):
            note += " RESULT CHECK FAILED"
        for phase, attr in (("length", "length_s"), ("free", "free_s")):
            ot, ft = getattr(o, attr), getattr(f, attr)
            rows.append(
                Row(
                    "kernel",
                    f"{phase} x{n:,} blocks, random order",
                    "ms",
                    ot * 1e3,
                    ft * 1e3,
                    gain_time(ot, ft),
                    note=note.strip(),
                )
            )
        gain = gain_time(o.length_free_s, f.length_free_s)
        per_call = f"ours {o.length_s / n * 1e9:.1f} + {o.free_s / n * 1e9:.1f} ns a call"
        note = f"{note} {per_call}" if not f.extrapolated else f"{per_call}; {note}"
        rows.append(
            Row(
                "kernel",
                f"length+free x{n:,} live blocks",
                "ms",
                o.length_free_s * 1e3,
                f.length_free_s * 1e3,
                gain,
                note=note.strip(),
            )
        )
    # growth: log-log slope of length+free time from the middle to the largest size
    mid, top = sizes[1], sizes[-1]
    slope = {
        k: _fit_slope(mid, live[k][mid].length_free_s, top, live[k][top].length_free_s)
        for k in live
    }
    rows.append(
        Row(
            "kernel",
            f"length+free growth exponent k (t ~ n^k), random order, n={mid:,}->{top:,}",
            "k",
            slope["ours"],
            slope["official"],
            None,
            note="official from the extrapolation" if live["official"][top].extrapolated else "",
        )
    )
    # the same for ours in allocation order: the algorithm without the cache misses of a random
    # walk over a working set larger than the CPU caches
    seq = {}
    for n in sizes:
        log(f"kernel: live blocks, ours, n={n}, allocation order ...")
        seq[n] = kb.live_blocks(benches["ours"], n, overhead=overhead["ours"], shuffle=False)
    raw["live_blocks_allocation_order"] = {n: asdict(r) for n, r in seq.items()}
    for n, r in seq.items():
        if n == sizes[0]:
            continue  # plotted, not tabled
        rows.append(
            Row(
                "kernel",
                f"length+free x{n:,} live blocks, allocation order",
                "ms",
                r.length_free_s * 1e3,
                None,
                note=f"{r.length_s / n * 1e9:.1f} + {r.free_s / n * 1e9:.1f} ns a call",
            )
        )
    k_seq = _fit_slope(mid, seq[mid].length_free_s, top, seq[top].length_free_s)
    rows.append(
        Row(
            "kernel",
            f"length+free growth exponent k, allocation order, n={mid:,}->{top:,}",
            "k",
            k_seq,
            None,
            None,
            note="O(1) a call; random order adds cache misses (see docs)",
        )
    )
    return rows


def _churn_rows(
    args: argparse.Namespace,
    benches: dict[str, kb.Bench],
    overhead: dict[str, float],
    raw: dict[str, Any],
    log: Log,
) -> list[Row]:
    steps = 5000 if args.quick else 100_000
    churn = {}
    for name, bench in benches.items():
        log(f"kernel: churn, {name}, {steps} steps ...")
        churn[name] = kb.churn(bench, steps=steps, overhead=overhead[name])
    raw["churn"] = {k: asdict(v) for k, v in churn.items()}
    co, cf = churn["ours"], churn["official"]
    chk = "" if co.checked and cf.checked else "RESULT CHECK FAILED"
    same = co.peak_live_bytes == cf.peak_live_bytes
    mb_o = co.memory_bytes / co.peak_live_bytes
    pg_o = co.pages_bytes / co.peak_live_bytes
    return [
        Row(
            "kernel",
            f"churn {steps:,} alloc(1 B-4 KiB)/free, 100 live: time",
            "ms",
            co.time_s * 1e3,
            cf.time_s * 1e3,
            gain_time(co.time_s, cf.time_s),
            note=chk,
        ),
        Row(
            "kernel",
            "churn: peak live bytes",
            "KiB",
            co.peak_live_bytes / KiB,
            cf.peak_live_bytes / KiB,
            None,
            note="same sequence for both" if same else "sequences differ: an alloc failed",
        ),
        Row(
            "kernel",
            "churn: memory_bytes at the end",
            "KiB",
            co.memory_bytes / KiB,
            cf.memory_bytes / KiB,
            gain_time(co.memory_bytes, cf.memory_bytes),
        ),
        Row(
            "kernel",
            "churn: memory size at the end (pages x 64 KiB)",
            "KiB",
            co.pages_bytes / KiB,
            cf.pages_bytes / KiB,
            gain_time(co.pages_bytes, cf.pages_bytes),
            note=f"{co.pages} vs {cf.pages} pages",
        ),
        Row(
            "kernel",
            "churn: memory_bytes / peak live bytes",
            "x",
            mb_o,
            cf.memory_bytes / cf.peak_live_bytes,
            None,
        ),
        Row(
            "kernel",
            "churn: memory size / peak live bytes",
            "x",
            pg_o,
            cf.pages_bytes / cf.peak_live_bytes,
            None,
        ),
    ]


def _throughput_rows(
    args: argparse.Namespace,
    benches: dict[str, kb.Bench],
    overhead: dict[str, float],
    raw: dict[str, Any],
    log: Log,
) -> list[Row]:
    size = (1 << 20) if args.quick else (16 << 20)
    # Rounds alternate between the kernels so that a burst of machine noise hits both; each round
    # is the best of 5 passes (the first one also pays the page faults of fresh memory). Figures:
    # the median round; gain: the median of the per-round ratios (ours and official measured back
    # to back), steadier than best-of on a busy machine; the note adds the best round of each.
    rounds: dict[str, list[kb.ThroughputResult]] = {name: [] for name in benches}
    log(f"kernel: throughput, {size >> 20} MiB, {args.reps} alternating rounds ...")
    for _ in range(args.reps):
        for name, bench in benches.items():
            rounds[name].append(kb.throughput(bench, size=size, reps=5, overhead=overhead[name]))
    raw["throughput"] = {k: [asdict(r) for r in v] for k, v in rounds.items()}
    ours, official = rounds["ours"], rounds["official"]
    checked = all(r.checked for r in ours + official)
    rows = []
    for label, attr in (
        ("input read, input_load_u64", "input_read_s"),
        ("write, store_u64", "store_write_s"),
        ("read, load_u64", "load_read_s"),
    ):
        go = statistics.median(r.gbps(getattr(r, attr)) for r in ours)
        gf = statistics.median(r.gbps(getattr(r, attr)) for r in official)
        ratios = [getattr(f, attr) / getattr(o, attr) for o, f in zip(ours, official, strict=True)]
        gain = statistics.median(ratios)
        best_o = max(r.gbps(getattr(r, attr)) for r in ours)
        best_f = max(r.gbps(getattr(r, attr)) for r in official)
        note = (
            f"rounds {min(ratios):.2f}x-{max(ratios):.2f}x; best round {best_o:.2f} vs"
            f" {best_f:.2f} GB/s" + ("" if checked else " RESULT CHECK FAILED")
        )
        rows.append(
            Row(
                "kernel",
                f"{label} ({size >> 20} MiB)",
                "GB/s",
                go,
                gf,
                gain,
                note=note,
            )
        )
    ho = statistics.median(r.hot_store_s for r in ours)
    hf = statistics.median(r.hot_store_s for r in official)
    ratios = [f.hot_store_s / o.hot_store_s for o, f in zip(ours, official, strict=True)]
    rows.append(
        Row(
            "kernel",
            f"store_u64 a call, {kb.HOT_BLOCK // 1024} KiB block rewritten (L1-resident)",
            "ns",
            ho * 1e9,
            hf * 1e9,
            statistics.median(ratios),
            "",
            None,
            f"rounds {min(ratios):.2f}x-{max(ratios):.2f}x; the call and the bounds check alone",
        )
    )
    return rows


def _instantiation_rows(benches: dict[str, kb.Bench], raw: dict[str, Any]) -> list[Row]:
    inst = {name: kb.instantiation(bench) for name, bench in benches.items()}
    raw["instantiation"] = {k: asdict(v) for k, v in inst.items()}
    io, jf = inst["ours"], inst["official"]
    return [
        Row(
            "kernel",
            "kernel size",
            "bytes",
            io.size,
            jf.size,
            gain_time(io.size, jf.size),
        ),
        Row(
            "kernel",
            "memory pages at instantiation",
            "pages",
            io.pages,
            jf.pages,
            gain_time(io.pages, jf.pages),
        ),
        Row(
            "kernel",
            "memory_bytes at instantiation",
            "bytes",
            io.memory_bytes,
            jf.memory_bytes,
            None,
        ),
        Row(
            "kernel",
            "instantiation (kernel alone, wasmtime)",
            "µs",
            io.instantiate_s * 1e6,
            jf.instantiate_s * 1e6,
            gain_time(io.instantiate_s, jf.instantiate_s),
        ),
    ]
