"""Drive a kernel module through wasmtime from tests: exports bound by their spec names."""

from __future__ import annotations

from typing import Any

import wasmtime
from extism_kernel import load_abi

U64 = 1 << 64


def to_signed(value: int) -> int:
    """An unsigned u64 (or i32) as the signed value wasmtime expects."""
    return value - U64 if value >= 1 << 63 else value


def to_unsigned(value: int) -> int:
    """A signed i64 result as u64 (i32 results are small and non-negative here)."""
    return value % U64


class KernelInstance:
    """One kernel instance in its own store; `k.alloc(5)` calls the export `alloc`.

    Only names the ABI spec lists as kernel functions can be called, so a test cannot drift
    from the spec. `memory_limit` caps the memory in bytes (memory.grow then returns -1).
    """

    def __init__(self, wasm: bytes, *, memory_limit: int | None = None) -> None:
        self.engine = wasmtime.Engine()
        self.store = wasmtime.Store(self.engine)
        if memory_limit is not None:
            self.store.set_limits(memory_size=memory_limit)
        self.module = wasmtime.Module(self.engine, wasm)
        self.instance = wasmtime.Instance(self.store, self.module, [])
        exports = self.instance.exports(self.store)
        spec = load_abi()
        self.memory: wasmtime.Memory = exports[spec.memory.name]  # type: ignore[assignment]
        names = [*spec.function_names, *(f.name for f in spec.extensions)]
        self._funcs = {name: exports[name] for name in names if name in exports}

    def __getattr__(self, name: str) -> Any:
        funcs = self.__dict__.get("_funcs", {})
        if name not in funcs:
            raise AttributeError(name)
        func = funcs[name]

        def call(*args: int) -> Any:
            # wasm integers are sign-agnostic; tests speak unsigned (handles, u64 values)
            result = func(self.store, *(to_signed(a) for a in args))
            return to_unsigned(result) if isinstance(result, int) else result

        return call

    @property
    def pages(self) -> int:
        """Current memory size in pages."""
        return self.memory.size(self.store)

    def read(self, addr: int, n: int) -> bytes:
        """Read `n` bytes of kernel memory at `addr` (host-side, no kernel call)."""
        return bytes(self.memory.read(self.store, addr, addr + n))

    def write(self, addr: int, data: bytes) -> None:
        """Write `data` into kernel memory at `addr` (host-side, no kernel call)."""
        self.memory.write(self.store, data, addr)
