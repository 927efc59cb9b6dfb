"""The runtime interface: the one seam between the host and a WebAssembly engine (Protocols only).

Everything above it (manifest, linking from the ABI spec, builtins, user host functions, the call
protocol, error handling) is runtime-neutral and written once (`_session.py`, `_plugin.py`,
`_kernel_exports.py`). A runtime is a per-plugin object (`Runtime`) that compiles modules and
opens stores; a store (`Store`) holds one kernel instance, the plugin's imports and its instances.
docs/runtimes.md is the porting checklist: what each method must do, in ABI terms. The registry
of runtimes is `extism_kernel._runtimes`; the data crossing the seam is in `_runtime_types.py`.

Values cross the seam as Python ints (i32 and i64) and floats (f32, f64); handles are u64. Types
cross it as `FuncSig` and modules as `ModuleDesc` (`extism_kernel._wasm`), never as engine types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from extism_kernel._abi import FuncSig
    from extism_kernel._wasm import ExternDesc, ModuleDesc
    from extism_kernel.host._runtime_types import (
        Fault,
        Feature,
        HostCallback,
        StoreLimits,
        WasmCall,
    )


class Instance(Protocol):
    """An instantiated module: its exports, and unchecked callers of its functions."""

    def exports(self) -> Mapping[str, ExternDesc]:
        """Every export of the instance, described in runtime-neutral terms."""
        ...

    def function(self, name: str, sig: FuncSig) -> WasmCall:
        """A fast caller of function export `name`, whose type the caller has checked is `sig`.

        The caller takes ints and returns the first result: i64 as unsigned (handles are u64),
        i32 as signed, 0 for no result. Raises what the runtime raises for a trap (`classify`
        maps it) and lets a host function's own exception out unchanged.
        """
        ...


class KernelInstance(Instance, Protocol):
    """The kernel's instance, plus direct access to its exported memory."""

    def read(self, offset: int, n: int) -> bytes:
        """Copy `n` bytes of kernel memory at `offset`; `PluginError` when out of bounds."""
        ...

    def write(self, offset: int, data: bytes) -> None:
        """Copy `data` into kernel memory at `offset`; `PluginError` when out of bounds."""
        ...


class Store(Protocol):
    """One plugin instance's world: the kernel instance, the import namespace, the instances."""

    @property
    def kernel(self) -> KernelInstance:
        """The kernel's instance, created with the store."""
        ...

    def define_kernel_export(self, module: str, name: str, export: str) -> None:
        """Make the kernel's function export `export` importable as `module::name`."""
        ...

    def define_function(self, module: str, name: str, sig: FuncSig, impl: HostCallback) -> None:
        """Make `impl` importable as `module::name` with type `sig`.

        `impl` may call the kernel (through `kernel.function` callers and `read`/`write`) while
        the plugin is running: a runtime that is not re-entrant must run such calls on a fresh
        stack. `impl`'s exceptions must reach the caller of the plugin's export unchanged.
        """
        ...

    def define_wasi(self, allowed_paths: Mapping[str, str]) -> None:
        """Link WASI preview 1 (no args, no env, no stdio, `allowed_paths` preopened)."""
        ...

    def define_module(self, name: str, module: object) -> None:
        """Instantiate the compiled `module` and make its exports importable as `name::*`."""
        ...

    def instantiate(self, module: object) -> Instance:
        """Instantiate the compiled main `module` against everything defined so far."""
        ...

    def arm(self) -> None:
        """Let `Runtime.interrupt` stop the wasm that runs from now on (before a call)."""
        ...

    def disarm(self) -> None:
        """Ignore `Runtime.interrupt` again (after a call)."""
        ...


class Runtime(Protocol):
    """One plugin's engine: compiles its modules and opens its stores."""

    name: str
    features: frozenset[Feature]
    kernel_variant: str  # the variant of the spec this engine runs when no kernel is given

    def compile(self, data: bytes, origin: str) -> object:
        """Validate and compile `data` (wasm, or WAT text); `PluginError` naming `origin` if bad."""
        ...

    def describe(self, module: object, data: bytes) -> ModuleDesc:
        """The imports and exports of a compiled module (`data` is its bytes, a cache key)."""
        ...

    def new_store(self, kernel: object, *, limits: StoreLimits) -> Store:
        """A new store with the compiled `kernel` instantiated, within `limits`.

        `limits.memory_bytes` caps each memory (`memory.grow` returns -1 past it); a runtime
        that cannot count memories or table elements ignores those two.
        """
        ...

    def interrupt(self) -> None:
        """Make the running wasm of an armed store trap soon (callable from any thread)."""
        ...

    def classify(self, exc: BaseException) -> Fault | None:
        """What a runtime exception means, or None when it is not the runtime's (a host fn's)."""
        ...
