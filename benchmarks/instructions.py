"""Instructions executed, counted by the pywasm interpreter: `alloc(10)` and a 10 B echo call.

pywasm reports every instruction it executes through one trace hook (`pywasm.log.debugln`, a
no-op unless tracing is on); while a count runs, that hook is replaced by a counter, so the
figure is the interpreter's own, not an estimate. Both kernels are counted in the same run.
"""

from __future__ import annotations

import contextlib
import importlib
import io
from collections.abc import Callable, Iterator
from typing import Any

from extism_kernel.host import Plugin

ECHO_INPUT = b"0123456789"
INSTRUCTION_TAG = "    "  # the first argument of the trace line pywasm writes per instruction


class Counter:
    """Instructions counted so far."""

    def __init__(self) -> None:
        self.instructions = 0


@contextlib.contextmanager
def counting() -> Iterator[Counter]:
    """Count the instructions pywasm executes inside the block."""
    log: Any = importlib.import_module("pywasm.log")
    counter = Counter()
    original = log.debugln

    def hook(*args: object) -> None:
        if args and args[0] == INSTRUCTION_TAG:
            counter.instructions += 1

    log.debugln = hook
    try:
        yield counter
    finally:
        log.debugln = original


def count(call: Callable[[], object]) -> int:
    """Instructions pywasm executes in `call()`."""
    with counting() as counter:
        call()
    return counter.instructions


def kernel_alloc(kernel: bytes) -> dict[str, int]:
    """`alloc(10)` on a kernel instance of its own: the second call (warm: the heap is set up),
    and the first after a `reset`."""
    pywasm = importlib.import_module("pywasm")
    runtime = pywasm.Runtime()
    module = runtime.instance(pywasm.ModuleDesc.from_reader(io.BytesIO(kernel)))

    def alloc() -> Any:  # noqa: ANN401 - pywasm's result list
        return runtime.invocate(module, "alloc", [10])

    alloc()
    warm = count(alloc)
    runtime.invocate(module, "reset", [])
    after_reset = count(alloc)
    return {"alloc(10), warm": warm, "alloc(10), first after reset": after_reset}


def echo_call(echo_wasm: bytes, kernel: bytes) -> int:
    """A whole 10 B echo call on the host's pywasm runtime (plugin and kernel), warm."""
    plugin = Plugin(echo_wasm, runtime="pywasm", kernel=kernel)
    for _ in range(2):
        plugin.call("echo", ECHO_INPUT)
    out: list[bytes] = []
    instructions = count(lambda: out.append(plugin.call("echo", ECHO_INPUT)))
    if out != [ECHO_INPUT]:
        msg = "pywasm: the echo plugin returned different bytes"
        raise RuntimeError(msg)
    return instructions
