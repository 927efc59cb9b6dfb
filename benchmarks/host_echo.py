"""Calls/s of a 10-byte echo: this host (each runtime, each kernel) vs the `extism` SDK.

    python benchmarks/host_echo.py [--seconds 2] [--rounds 5]

Same plugin (tests/plugins/echo.wat, shaped like PDK output), same input, same process, on the
host's wasmtime runtime and its pure-Python pywasm runtime. Each figure is the best of several
rounds (these machines are noisy); the ratios are what to read.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

import extism  # noqa: E402
from extism_kernel.host import Plugin  # noqa: E402
from host_plugins import plugin_wasm  # noqa: E402

from tooling.official_kernel import official_kernel  # noqa: E402

PAYLOAD = b"0123456789"


def rate(call: Callable[[], object], seconds: float) -> float:
    """Calls/s of `call` over about `seconds`."""
    n, start = 0, time.perf_counter()
    deadline = start + seconds
    batch = 200
    while True:
        for _ in range(batch):
            call()
        n += batch
        batch = 200 if n / (time.perf_counter() - start) > 2000 else 10  # pywasm
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def best_rates(
    calls: dict[str, Callable[[], object]], seconds: float, rounds: int
) -> dict[str, float]:
    """Best calls/s of each contender; the rounds interleave them, so load changes hit all."""
    best = dict.fromkeys(calls, 0.0)
    for _ in range(rounds):
        for name, call in calls.items():
            best[name] = max(best[name], rate(call, seconds))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    wasm = plugin_wasm("echo")
    ours = Plugin(wasm, runtime="wasmtime")
    on_official = Plugin(wasm, kernel=official_kernel(), runtime="wasmtime")
    py_ours = Plugin(wasm, runtime="pywasm")
    py_official = Plugin(wasm, kernel=official_kernel(), runtime="pywasm")
    sdk = extism.Plugin(wasm, functions=[])
    for plugin in (ours, on_official, py_ours, py_official, sdk):
        assert bytes(plugin.call("echo", PAYLOAD)) == PAYLOAD
    results = best_rates(
        {
            "extism_kernel.host, wasmtime, our kernel": lambda: ours.call("echo", PAYLOAD),
            "extism_kernel.host, wasmtime, official kernel": lambda: on_official.call(
                "echo", PAYLOAD
            ),
            "extism_kernel.host, pywasm, our kernel": lambda: py_ours.call("echo", PAYLOAD),
            "extism_kernel.host, pywasm, official kernel": lambda: py_official.call(
                "echo", PAYLOAD
            ),
            "official extism SDK": lambda: sdk.call("echo", PAYLOAD),
        },
        args.seconds,
        args.rounds,
    )
    baseline = results["official extism SDK"]
    width = max(map(len, results))
    print(f"10-byte echo, best of {args.rounds} x {args.seconds:g} s")
    for name, value in results.items():
        per_call = 1e6 / value
        ratio = value / baseline
        figures = f"{value:>10,.0f} calls/s  {per_call:9.1f} us/call  x{ratio:.3f} vs SDK"
        print(f"{name:<{width}}  {figures}")


if __name__ == "__main__":
    main()
