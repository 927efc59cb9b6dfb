"""Host benchmarks: the reference host (`extism_kernel.host`) vs the official Python SDK (`extism`).

Same echo plugin (plugins/echo.wat) for both, same run. Figures: calls/s of an echo of 10 B,
1 KiB, 64 KiB and 1 MiB, the time to create a `Plugin` from the wasm bytes, and the 10 B echo on
the host's pywasm runtime with each kernel. The official SDK is skipped, with the reason, when
it is not installed.
"""

from __future__ import annotations

import functools
import importlib
import statistics
import time
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import wasmtime
from extism_kernel import MissingDependencyError
from extism_kernel.host import Plugin

from benchmarks.kernel import plugin_wat

ECHO_SIZES = {"10 B": 10, "1 KiB": 1 << 10, "64 KiB": 64 << 10, "1 MiB": 1 << 20}
Factory = Callable[[bytes], Callable[[bytes], bytes]]


def echo_wasm() -> bytes:
    return bytes(wasmtime.wat2wasm(plugin_wat("echo")))


def _official_factory() -> tuple[Factory | None, str]:
    try:
        extism = importlib.import_module("extism")
    except ImportError:
        return None, "official SDK not available: pip install extism"

    def make(wasm: bytes) -> Callable[[bytes], bytes]:
        plugin = extism.Plugin(wasm, wasi=False)
        return lambda data: plugin.call("echo", data, parse=bytes)

    return make, f"extism {version('extism')}"


def _ours(wasm: bytes) -> Callable[[bytes], bytes]:
    plugin = Plugin(wasm)
    return lambda data: plugin.call("echo", data)


def _calls_per_s(call: Callable[[bytes], bytes], data: bytes, seconds: float) -> float:
    """Calls a second over one window of `seconds`."""
    n = 0
    t0 = time.perf_counter()
    while True:
        call(data)
        n += 1
        elapsed = time.perf_counter() - t0
        if elapsed > seconds:
            return n / elapsed


def _load_s(sides: dict[str, Factory], wasm: bytes, reps: int = 50) -> dict[str, float]:
    """Median seconds of a new plugin for each side, the sides alternating rep by rep."""
    times: dict[str, list[float]] = {side: [] for side in sides}
    for make in sides.values():
        make(wasm)  # warm-up (module caches)
    for _ in range(reps):
        for side, make in sides.items():
            t0 = time.perf_counter()
            make(wasm)
            times[side].append(time.perf_counter() - t0)
    return {side: statistics.median(t) for side, t in times.items()}


def _measure(
    sides: dict[str, Factory], wasm: bytes, budget_s: float, rounds: int = 3
) -> dict[str, dict[str, Any]]:
    """Both sides, interleaved: each echo size runs in rounds alternating between the sides (a
    burst of machine noise then hits both), best round kept."""
    calls = {side: make(wasm) for side, make in sides.items()}
    out: dict[str, dict[str, Any]] = {side: {"calls_per_s": {}} for side in sides}
    for label, size in ECHO_SIZES.items():
        data = bytes(i * 7 % 251 for i in range(size))
        for side, call in calls.items():
            if call(data) != data:
                raise RuntimeError(f"{side}: echo of {size} bytes returned different bytes")
            for _ in range(3):  # warm-up
                call(data)
        best = dict.fromkeys(sides, 0.0)
        for _ in range(rounds):
            for side, call in calls.items():
                best[side] = max(best[side], _calls_per_s(call, data, budget_s / rounds))
        for side in sides:
            out[side]["calls_per_s"][label] = best[side]
    for side, seconds in _load_s(sides, wasm).items():
        out[side]["load_s"] = seconds
    return out


def _pywasm_echo(wasm: bytes, budget_s: float) -> dict[str, Any]:
    """Calls/s of the 10 B echo on the host's pure-Python pywasm runtime, with our kernel and with
    the official one (the SDK cannot run there), in alternating rounds. The larger sizes take
    seconds to minutes a call there, so they are not measured."""
    from tooling.official_kernel import official_kernel  # noqa: PLC0415

    data = bytes(ECHO_SIZES["10 B"])
    calls: dict[str, Callable[[bytes], bytes]] = {}
    for side, kernel in (("ours", None), ("official kernel", official_kernel())):
        plugin = Plugin(wasm, runtime="pywasm", kernel=kernel)
        calls[side] = functools.partial(plugin.call, "echo")
        if calls[side](data) != data:
            msg = f"pywasm, {side}: echo returned different bytes"
            raise RuntimeError(msg)
    best = dict.fromkeys(calls, 0.0)
    for _ in range(3):
        for side, call in calls.items():
            best[side] = max(best[side], _calls_per_s(call, data, budget_s / 3))
    return {
        "impl": "extism_kernel.host, pywasm runtime",
        "calls_per_s": {"10 B": best["ours"]},
        "official_kernel_calls_per_s": {"10 B": best["official kernel"]},
    }


def _wasm3_echo(wasm: bytes, budget_s: float) -> dict[str, Any]:
    """Calls/s of the 10 B echo on the host's wasm3 runtime, with our kernel (its
    no-reference-types variant; wasm3 rejects the official kernel's externref global)."""
    data = bytes(ECHO_SIZES["10 B"])
    try:
        plugin = Plugin(wasm, runtime="wasm3")
    except MissingDependencyError as exc:
        return {"skipped": str(exc)}
    call = functools.partial(plugin.call, "echo")
    if call(data) != data:
        msg = "wasm3: echo returned different bytes"
        raise RuntimeError(msg)
    best = max(_calls_per_s(call, data, budget_s / 3) for _ in range(3))
    return {"impl": "extism_kernel.host, wasm3 runtime", "calls_per_s": {"10 B": best}}


def run(budget_s: float = 1.0, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure both sides; the official SDK is reported as skipped when it is not installed."""
    wasm = echo_wasm()
    result: dict[str, Any] = {"sizes": ECHO_SIZES, "ours": {"impl": "extism_kernel.host"}}
    sides: dict[str, Factory] = {"ours": _ours}
    make, info = _official_factory()
    if make is None:
        log(f"host benchmarks, official: skipped, {info}")
        result["official"] = {"skipped": info}
    else:
        sides["official"] = make
        result["official"] = {"impl": info}
    log(f"host: echo and plugin load, {' vs '.join(sides)} ...")
    for side, figures in _measure(sides, wasm, budget_s).items():
        result[side].update(figures)
    result["pywasm"] = _pywasm_echo(wasm, budget_s)
    result["wasm3"] = _wasm3_echo(wasm, budget_s)
    w3 = result["wasm3"].get("calls_per_s", {}).get("10 B")
    log(f"host: echo 10 B on wasm3: {w3:,.0f} calls/s" if w3 else f"host: wasm3 {result['wasm3']}")
    return result
