"""Host benchmarks: the reference host (`extism_kernel.host`) vs the official Python SDK (`extism`).

Same echo plugin (plugins/echo.wat) for both, same run. Figures: calls/s of an echo of 10 B,
1 KiB, 64 KiB and 1 MiB, and the time to create a `Plugin` from the wasm bytes.

The hook: our side is used when `extism_kernel.host.Plugin` exists and accepts the plugin's wasm
bytes, with `plugin.call(name, data)` returning the output bytes (the SDK's shape). If it does
not exist yet, or its API differs, our side is skipped with a "host not available" line; the
official SDK's figures are still measured. Adapt `_our_plugin_factory` when the host's API is
settled.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import wasmtime

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


def _our_plugin_factory() -> tuple[Factory | None, str]:
    try:
        host = importlib.import_module("extism_kernel.host")
    except ImportError as exc:
        return None, f"host not available: cannot import extism_kernel.host ({exc})"
    plugin_cls = getattr(host, "Plugin", None)
    if plugin_cls is None:
        return None, "host not available: extism_kernel.host has no Plugin"

    def make(wasm: bytes) -> Callable[[bytes], bytes]:
        plugin = plugin_cls(wasm)
        return lambda data: bytes(plugin.call("echo", data))

    return make, "extism_kernel.host"


def _calls_per_s(call: Callable[[bytes], bytes], data: bytes, budget_s: float) -> float:
    if call(data) != data:
        raise RuntimeError(f"echo of {len(data)} bytes returned different bytes")
    for _ in range(3):  # warm-up
        call(data)
    best = 0.0
    for _ in range(3):
        n = 0
        t0 = time.perf_counter()
        while True:
            call(data)
            n += 1
            elapsed = time.perf_counter() - t0
            if elapsed > budget_s / 3:
                break
        best = max(best, n / elapsed)
    return best


def _load_s(make: Factory, wasm: bytes, reps: int = 30) -> float:
    make(wasm)  # warm-up (module caches)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        make(wasm)
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def _measure(make: Factory, wasm: bytes, budget_s: float) -> dict[str, Any]:
    call = make(wasm)
    calls = {}
    for label, size in ECHO_SIZES.items():
        data = bytes(i * 7 % 251 for i in range(size))
        calls[label] = _calls_per_s(call, data, budget_s)
    return {"calls_per_s": calls, "load_s": _load_s(make, wasm)}


def run(budget_s: float = 1.0, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure both sides; a side that cannot run is reported as skipped, with the reason."""
    wasm = echo_wasm()
    result: dict[str, Any] = {"sizes": ECHO_SIZES}
    for side, factory in (("ours", _our_plugin_factory), ("official", _official_factory)):
        make, info = factory()
        if make is None:
            log(f"host benchmarks, {side}: skipped, {info}")
            result[side] = {"skipped": info}
            continue
        try:
            result[side] = {"impl": info, **_measure(make, wasm, budget_s)}
        except Exception as exc:  # noqa: BLE001 - a host in progress must not stop the run
            reason = f"host not available: {type(exc).__name__}: {exc}"
            log(f"host benchmarks, {side}: skipped, {reason}")
            result[side] = {"skipped": reason}
    return result
