"""Kernel benchmarks: a WAT plugin runs the loops inside wasm against a linked kernel instance.

Both kernels (ours and the official one) are driven through the same plugin, in the same run, in
the same wasmtime engine configuration. Each timed phase is one Python -> wasm crossing; the
crossing's own cost (a call to the plugin's empty `nop` export) is measured and subtracted.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import extism_kernel
import numpy as np
import wasmtime

PLUGIN_DIR = Path(__file__).resolve().parent / "plugins"
IMPORTS_MARKER = ";; @imports"
U64 = 1 << 64
LCG_A = 6364136223846793005
LCG_C = 1442695040888963407
SLOTS_MAX = 131072  # plugin memory layout: handles table capacity


def plugin_wat(name: str = "kernel_bench") -> str:
    """The plugin's WAT with the kernel imports generated from the ABI spec (abi.json)."""
    text = (PLUGIN_DIR / f"{name}.wat").read_text(encoding="utf-8")
    if IMPORTS_MARKER not in text:
        raise ValueError(f"{name}.wat: no `{IMPORTS_MARKER}` line")
    return text.replace(IMPORTS_MARKER, extism_kernel.load_abi().wat_imports(), 1)


class Lcg:
    """The plugin's size generator, mirrored in Python to check what the plugin computed."""

    def __init__(self, seed: int) -> None:
        self.state = seed % U64

    def size(self, maximum: int) -> int:
        self.state = (self.state * LCG_A + LCG_C) % U64
        return 1 + (self.state >> 33) % maximum


class Bench:
    """Compiled kernel + plugin modules; `new()` gives a fresh linked pair in a fresh store."""

    def __init__(self, kernel_wasm: bytes, engine: wasmtime.Engine | None = None) -> None:
        self.engine = engine or wasmtime.Engine()
        self.kernel_wasm = kernel_wasm
        self.kernel_module = wasmtime.Module(self.engine, kernel_wasm)
        self.plugin_module = wasmtime.Module(self.engine, bytes(wasmtime.wat2wasm(plugin_wat())))

    def new(self) -> Linked:
        return Linked(self)


class Linked:
    """One kernel instance and one plugin instance linked to it, in their own store."""

    def __init__(self, bench: Bench) -> None:
        self.store = wasmtime.Store(bench.engine)
        self.kernel = wasmtime.Instance(self.store, bench.kernel_module, [])
        linker = wasmtime.Linker(bench.engine)
        linker.define_instance(self.store, extism_kernel.load_abi().kernel_module, self.kernel)
        self.plugin = linker.instantiate(self.store, bench.plugin_module)
        self._k = self.kernel.exports(self.store)
        self._p = self.plugin.exports(self.store)
        self.kmem: wasmtime.Memory = self._k["memory"]  # type: ignore[assignment]
        self.pmem: wasmtime.Memory = self._p["memory"]  # type: ignore[assignment]

    def k(self, name: str, *args: int) -> Any:  # noqa: ANN401 - a wasm value
        """Call a kernel export from Python."""
        return self._k[name](self.store, *args)  # type: ignore[operator]

    def p(self, name: str, *args: int) -> Any:  # noqa: ANN401 - a wasm value
        """Call a plugin export from Python."""
        return self._p[name](self.store, *args)  # type: ignore[operator]

    def timed(self, name: str, *args: int) -> tuple[float, Any]:
        func = self._p[name]
        t0 = time.perf_counter()
        result = func(self.store, *args)  # type: ignore[operator]
        return time.perf_counter() - t0, result

    @property
    def pages(self) -> int:
        return self.kmem.size(self.store)

    def write_order(self, order: list[int]) -> None:
        data = np.asarray(order, dtype="<u4").tobytes()
        self.pmem.write(self.store, data, 1 << 20)


def crossing_overhead(bench: Bench, samples: int = 2000) -> float:
    """Seconds of one Python -> wasm call of an empty export (the floor of every timing)."""
    linked = bench.new()
    best = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(samples):
            linked.p("nop")
        best.append((time.perf_counter() - t0) / samples)
    return min(best)


@dataclass
class LiveResult:
    n: int
    alloc_s: float
    length_s: float  # per pass over the n blocks
    free_s: float
    reps: int
    checked: bool
    extrapolated: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def length_free_s(self) -> float:
        return self.length_s + self.free_s


def live_blocks(  # noqa: PLR0913 - keyword-only benchmark knobs
    bench: Bench,
    n: int,
    *,
    max_size: int = 64,
    seed: int = 1,
    budget_s: float = 0.5,
    min_reps: int = 3,
    max_reps: int = 30,
    overhead: float = 0.0,
    shuffle: bool = True,
) -> LiveResult:
    """alloc n blocks (1..max_size B), `length` on each, `free` each, in a random order.

    Repeated on fresh instances until `budget_s` is spent (at least `min_reps`); the minimum of
    each phase is kept, minus the crossing overhead. `length` is repeated inside wasm so that one
    timed call lasts long enough when n is small (it does not change state); the first sample
    calibrates the repetitions and is dropped when they change. `shuffle=False` takes the blocks
    in allocation order instead of a random one. (The alloc phase is kept in the raw figures;
    the alloc rows come from `alloc_rounds`.)
    """
    if n > SLOTS_MAX:
        raise ValueError(f"n={n} exceeds the plugin's {SLOTS_MAX} slots")
    rng = random.Random(seed)
    order = list(range(n))
    if shuffle:
        rng.shuffle(order)
    lcg = Lcg(seed)
    expected = sum(lcg.size(max_size) for _ in range(n))
    times: dict[str, list[float]] = {"alloc": [], "length": [], "free": []}
    length_reps = 1
    calibration = 0.0
    checked = True
    started = time.perf_counter()
    reps = 0
    while reps < min_reps or (time.perf_counter() - started < budget_s and reps < max_reps):
        linked = bench.new()
        linked.write_order(order)
        linked.p("seed", seed)
        t, total = linked.timed("alloc_n", n, max_size)
        times["alloc"].append(t - overhead)
        checked = checked and total == expected and linked.p("failed") == 0
        reps += 1
        linked.p("permute", n)
        t, lengths = linked.timed("length_n", n, length_reps)
        checked = checked and lengths == expected * length_reps % U64
        if reps == 1 and t < 0.005:  # aim at >= 5 ms per timed length call
            calibration = t - overhead
            length_reps = max(1, min(1000, int(0.005 / max(t, 1e-7))))
        else:
            times["length"].append((t - overhead) / length_reps)
        t, _ = linked.timed("free_n", n)
        times["free"].append(t - overhead)
        checked = checked and linked.p("length_n", n, 1) == 0
        if time.perf_counter() - started > budget_s * 20:
            break
    if not times["length"]:  # only the calibration sample: keep it
        times["length"].append(calibration)
    best = {phase: min(ts) if ts else 0.0 for phase, ts in times.items()}
    return LiveResult(n, best["alloc"], best["length"], best["free"], reps, checked)


@dataclass
class AllocRounds:
    """`alloc` of n blocks (1..max_size B) per kernel: median seconds over alternating rounds, on a
    fresh instance and on the same instance after a `reset` (warm)."""

    n: int
    fresh_s: dict[str, float]
    warm_s: dict[str, float]
    rounds: int
    checked: bool


def alloc_rounds(
    benches: dict[str, Bench], n: int, *, rounds: int = 9, max_size: int = 64, seed: int = 1
) -> AllocRounds:
    """Each round runs every kernel in turn (a burst of machine noise then hits all of them): a
    timed `alloc` of n blocks on a fresh instance, then `reset` and the same again (warm).

    Each timing is less the best of three calls of the same export with n = 0, made just
    before it: a Python -> wasm call with arguments costs more than the empty `nop` the other
    figures subtract, and at a thousand blocks that difference is most of the time.
    """
    lcg = Lcg(seed)
    expected = sum(lcg.size(max_size) for _ in range(n))
    times: dict[str, dict[str, list[float]]] = {"fresh": {}, "warm": {}}
    checked = True
    for _ in range(rounds):
        for name, bench in benches.items():
            linked = bench.new()
            for kind in ("fresh", "warm"):
                if kind == "warm":
                    linked.k("reset")
                floor = min(linked.timed("alloc_n", 0, max_size)[0] for _ in range(3))
                linked.p("seed", seed)
                t, total = linked.timed("alloc_n", n, max_size)
                times[kind].setdefault(name, []).append(t - floor)
                checked = checked and total == expected and linked.p("failed") == 0
    fresh = {name: statistics.median(ts) for name, ts in times["fresh"].items()}
    warm = {name: statistics.median(ts) for name, ts in times["warm"].items()}
    return AllocRounds(n, fresh, warm, rounds, checked)


@dataclass
class ChurnResult:
    steps: int
    slots: int
    time_s: float
    peak_live_bytes: int
    end_live_bytes: int
    memory_bytes: int
    pages: int
    checked: bool
    curve: list[dict[str, int]]  # step, memory_bytes, pages*64Ki, live bytes

    @property
    def pages_bytes(self) -> int:
        return self.pages * 65536


def churn(  # noqa: PLR0913 - keyword-only benchmark knobs
    bench: Bench,
    *,
    steps: int = 100_000,
    slots: int = 100,
    max_size: int = 4096,
    seed: int = 7,
    chunk: int = 1000,
    overhead: float = 0.0,
) -> ChurnResult:
    """`steps` x (free a random one of `slots` live blocks, alloc 1..max_size B in its place)."""
    linked = bench.new()
    linked.p("seed", seed)
    linked.p("churn_fill", slots, max_size)
    curve = [_sample(linked, 0)]
    spent = 0.0
    done = 0
    while done < steps:
        todo = min(chunk, steps - done)
        t, _ = linked.timed("churn", todo, slots, max_size)
        spent += t - overhead
        done += todo
        curve.append(_sample(linked, done))
    live = linked.p("live_bytes")
    checked = linked.p("failed") == 0 and linked.p("slots_length", slots) == live
    return ChurnResult(
        steps=steps,
        slots=slots,
        time_s=spent,
        peak_live_bytes=linked.p("peak_live_bytes"),
        end_live_bytes=live,
        memory_bytes=linked.k("memory_bytes"),
        pages=linked.pages,
        checked=checked,
        curve=curve,
    )


def _sample(linked: Linked, step: int) -> dict[str, int]:
    return {
        "step": step,
        "memory_bytes": linked.k("memory_bytes"),
        "memory_size": linked.pages * 65536,
        "live_bytes": linked.p("live_bytes"),
    }


@dataclass
class ThroughputResult:
    bytes: int
    input_read_s: float
    store_write_s: float
    load_read_s: float
    checked: bool
    hot_store_s: float = 0.0  # one store_u64 call, 4 KiB block rewritten (L1-resident)

    def gbps(self, seconds: float) -> float:
        return self.bytes / seconds / 1e9

    def best_of(self, other: ThroughputResult) -> ThroughputResult:
        return ThroughputResult(
            self.bytes,
            min(self.input_read_s, other.input_read_s),
            min(self.store_write_s, other.store_write_s),
            min(self.load_read_s, other.load_read_s),
            self.checked and other.checked,
            min(self.hot_store_s, other.hot_store_s),
        )


HOT_BLOCK = 4096  # bytes rewritten by the L1-resident store figure


def throughput(
    bench: Bench, *, size: int = 16 << 20, reps: int = 5, overhead: float = 0.0
) -> ThroughputResult:
    """`input_load_u64` over a `size`-byte input; `store_u64` / `load_u64` over a block."""
    linked = bench.new()
    data = np.random.default_rng(3).integers(0, 2**63, size // 8, dtype=np.uint64)
    expected_sum = int(data.sum(dtype=np.uint64))
    h_in = linked.k("alloc", size)
    linked.kmem.write(linked.store, data.tobytes(), h_in)
    linked.k("input_set", h_in, size)
    h_out = linked.k("alloc", size)
    checked = h_in != 0 and h_out != 0

    def best(name: str, *args: int, check: Callable[[Any], bool] | None = None) -> float:
        nonlocal checked
        times = []
        for _ in range(reps):
            t, result = linked.timed(name, *args)
            times.append(t - overhead)
            if check is not None:
                checked = checked and check(result)
        return min(times)

    read_s = best("read_input", check=lambda r: r % U64 == expected_sum)  # i64 -> u64
    write_s = best("write_store", h_out, size)
    words = np.frombuffer(bytes(linked.kmem.read(linked.store, h_out, h_out + size)), dtype="<u8")
    checked = checked and bool((words == np.arange(size // 8, dtype=np.uint64)).all())
    written_sum = (size // 8) * (size // 8 - 1) // 2 % U64
    load_s = best("read_load", h_out, size, check=lambda r: r % U64 == written_sum)
    hot_calls = size // 8
    hot_s = best("write_store_hot", h_out, HOT_BLOCK, hot_calls // (HOT_BLOCK // 8)) / hot_calls
    return ThroughputResult(size, read_s, write_s, load_s, checked, hot_s)


@dataclass
class InstantiateResult:
    size: int
    pages: int
    memory_bytes: int
    instantiate_s: float


def instantiation(bench: Bench, reps: int = 50) -> InstantiateResult:
    """Kernel module size, its pages and `memory_bytes` right after instantiation."""
    times = []
    for _ in range(reps):
        store = wasmtime.Store(bench.engine)
        t0 = time.perf_counter()
        inst = wasmtime.Instance(store, bench.kernel_module, [])
        times.append(time.perf_counter() - t0)
    exports = inst.exports(store)
    mem: wasmtime.Memory = exports["memory"]  # type: ignore[assignment]
    pages = mem.size(store)
    memory_bytes = exports["memory_bytes"](store)  # type: ignore[operator]
    return InstantiateResult(len(bench.kernel_wasm), pages, memory_bytes, statistics.median(times))
