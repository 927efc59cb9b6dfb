"""`python -m benchmarks.official_runtime`: calls/s in libextism where only the kernel differs.

Two worker processes drive the official `extism` SDK: one on libextism as shipped, one on a copy
with our default kernel written over the official one (tooling/official_runtime.py). Each row
(echo and the count-vowels shape, at 10 B, 1 KiB, 64 KiB and 1 MiB) runs in rounds that
alternate between the two, the side that goes first swapping every round; the figure is the
median over rounds of ours / official calls/s. Above 1: ours is faster.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import extism_kernel
import wasmtime

from benchmarks.kernel import plugin_wat
from benchmarks.targets import OFFICIAL_RUNTIME_ECHO_1MIB, OFFICIAL_RUNTIME_FLOOR
from tests.host_plugins import wat_source
from tooling.official_runtime import install_runtime

WORKER = Path(__file__).with_name("official_runtime_worker.py")
RESULTS = Path(__file__).with_name("official_runtime.json")
SIZES = {"10 B": 10, "1 KiB": 1024, "64 KiB": 64 * 1024, "1 MiB": 1024 * 1024}
# echo: the host benchmarks' echo (benchmarks/plugins/echo.wat, a straight copy through the
# kernel); count_vowels: tests/plugins/vowels.wat (config, vars and JSON output, PDK-shaped)
PLUGINS: dict[str, tuple[Callable[[], str], str]] = {
    "echo": (lambda: plugin_wat("echo"), "echo"),
    "count_vowels": (lambda: wat_source("vowels"), "count_vowels"),
}


@dataclass
class RowResult:
    """One row: median calls/s of each side and the median of the per-round ratios."""

    plugin: str
    size: str
    official_calls_s: float
    ours_calls_s: float
    ratio: float
    ratio_min: float
    ratio_max: float
    target: float
    met: bool


class Worker:
    """One `official_runtime_worker.py` process on one libextism."""

    def __init__(self, runtime: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(runtime)}
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def time(self, wasm: Path, function: str, size: int, calls: int) -> tuple[float, int]:
        """Seconds for `calls` calls, and the output length."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(f"{wasm} {function} {size} {calls}\n")
        self.proc.stdin.flush()
        seconds, out_len = self.proc.stdout.readline().split()
        return float(seconds), int(out_len)

    def close(self) -> None:
        """End the worker."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.proc.stdout.close()


def measure(
    workers: dict[str, Worker], plugin: tuple[Path, str], size: int, rounds: int, seconds: float
) -> tuple[list[float], dict[str, list[float]]]:
    """Per-round ratios (ours / official calls/s) and each side's calls/s per round."""
    wasm, function = plugin
    for worker in workers.values():  # both instances warm (grown memory, compiled code)
        probe, _ = worker.time(wasm, function, size, 3)
    calls = max(3, int(seconds / max(probe / 3, 1e-6)))
    rates: dict[str, list[float]] = {"official": [], "ours": []}
    ratios = []
    for r in range(rounds):
        order = ("official", "ours") if r % 2 == 0 else ("ours", "official")
        lengths = {}
        for side in order:
            elapsed, lengths[side] = workers[side].time(wasm, function, size, calls)
            rates[side].append(calls / elapsed)
        if lengths["official"] != lengths["ours"]:
            msg = f"{function} at {size} B: outputs differ in length {lengths}"
            raise RuntimeError(msg)
        ratios.append(rates["ours"][-1] / rates["official"][-1])
    return ratios, rates


def run(rounds: int, seconds: float) -> list[RowResult]:
    """Every row, measured in alternating rounds."""
    results = []
    with tempfile.TemporaryDirectory(prefix="extism-kernel-bench-") as tmp:
        root = Path(tmp)
        install_runtime(root / "official")
        install_runtime(root / "ours", extism_kernel.kernel_bytes())
        workers = {side: Worker(root / side) for side in ("official", "ours")}
        try:
            for row, (wat, function) in PLUGINS.items():
                wasm = root / f"{row}.wasm"
                wasm.write_bytes(bytes(wasmtime.wat2wasm(wat())))
                for label, size in SIZES.items():
                    ratios, rates = measure(workers, (wasm, function), size, rounds, seconds)
                    target = (
                        OFFICIAL_RUNTIME_ECHO_1MIB
                        if (row, label) == ("echo", "1 MiB")
                        else OFFICIAL_RUNTIME_FLOOR
                    )
                    ratio = statistics.median(ratios)
                    results.append(
                        RowResult(
                            plugin=row,
                            size=label,
                            official_calls_s=statistics.median(rates["official"]),
                            ours_calls_s=statistics.median(rates["ours"]),
                            ratio=ratio,
                            ratio_min=min(ratios),
                            ratio_max=max(ratios),
                            target=target,
                            met=ratio >= target,
                        )
                    )
                    print(render_row(results[-1]), flush=True)
        finally:
            for worker in workers.values():
                worker.close()
    return results


HEADER = (
    f"{'plugin':<13} {'input':>6} {'official/s':>11} {'ours/s':>11} {'ratio':>6} {'range':>13}"
    f" {'target':>7}"
)


def render_row(row: RowResult) -> str:
    """One line of the table."""
    verdict = "met" if row.met else "MISSED"
    return (
        f"{row.plugin:<13} {row.size:>6} {row.official_calls_s:>11.0f} {row.ours_calls_s:>11.0f} "
        f"{row.ratio:>5.2f}x {row.ratio_min:>5.2f}-{row.ratio_max:<5.2f}x"
        f"  >={row.target:.2f} {verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table, and write benchmarks/official_runtime.json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.official_runtime")
    parser.add_argument("--rounds", type=int, default=15, help="alternating rounds per row")
    parser.add_argument("--seconds", type=float, default=0.2, help="time per side per round")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    print(HEADER)
    results = run(args.rounds, args.seconds)
    met = sum(r.met for r in results)
    print(f"{met} of {len(results)} targets met ({args.rounds} rounds, median of ours/official)")
    if not args.no_write:
        data = {
            "command": "python -m benchmarks.official_runtime",
            "rounds": args.rounds,
            "kernel_sha256": extism_kernel.kernel_sha256(),
            "rows": [asdict(r) for r in results],
        }
        RESULTS.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
