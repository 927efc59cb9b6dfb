"""The scaling plots of `python -m benchmarks` (docs/bench_*.png), from the raw figures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

Log = Callable[[str], None]
KiB = 1024


def plots(raw: dict[str, Any], docs: Path, log: Log) -> list[str]:
    try:
        import matplotlib as mpl  # noqa: PLC0415

        mpl.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        log("plots: skipped, matplotlib not installed (pip install -e '.[bench]')")
        return []
    docs.mkdir(parents=True, exist_ok=True)
    written = []
    live = raw["live_blocks"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, style in (("ours", "o-"), ("official", "s-")):
        pts = sorted(live[name].values(), key=lambda r: r["n"])
        meas = [(r["n"], (r["length_s"] + r["free_s"]) * 1e3) for r in pts if not r["extrapolated"]]
        ax.plot(*zip(*meas, strict=True), style, label=f"{name}, random order")
        extra = [(r["n"], (r["length_s"] + r["free_s"]) * 1e3) for r in pts if r["extrapolated"]]
        if extra:
            ax.plot(
                *zip(*[meas[-1], *extra], strict=True),
                "s--",
                color="C1",
                alpha=0.6,
                label=f"{name}, random order (extrapolated)",
            )
    seq = sorted(raw.get("live_blocks_allocation_order", {}).values(), key=lambda r: r["n"])
    if seq:
        ax.plot(
            [r["n"] for r in seq],
            [(r["length_s"] + r["free_s"]) * 1e3 for r in seq],
            "o:",
            color="C0",
            alpha=0.7,
            label="ours, allocation order",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("live blocks n")
    ax.set_ylabel("length + free of every block, ms")
    ax.set_title("length + free over n live blocks, in wasm")
    ax.grid(visible=True, which="both", alpha=0.3)
    ax.legend()
    path = docs / "bench_live_blocks.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path.name)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, color in (("ours", "C0"), ("official", "C1")):
        curve = raw["churn"][name]["curve"]
        steps = [p["step"] for p in curve]
        ax.plot(
            steps,
            [p["memory_size"] / KiB for p in curve],
            "-",
            color=color,
            label=f"{name}: memory size (pages)",
        )
        ax.plot(
            steps,
            [p["memory_bytes"] / KiB for p in curve],
            ":",
            color=color,
            label=f"{name}: memory_bytes()",
        )
    curve = raw["churn"]["ours"]["curve"]
    ax.plot(
        [p["step"] for p in curve],
        [p["live_bytes"] / KiB for p in curve],
        "-",
        color="gray",
        alpha=0.5,
        label="live bytes",
    )
    ax.set_xlabel("churn steps (free + alloc of 1 B-4 KiB, 100 live blocks)")
    ax.set_ylabel("KiB")
    ax.set_title("memory vs churn steps")
    ax.grid(visible=True, alpha=0.3)
    ax.legend(fontsize="small")
    path = docs / "bench_churn_memory.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path.name)
    return written
