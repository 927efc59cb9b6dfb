"""The runtime interface: the one seam between the host and a WebAssembly engine.

Everything above it (manifest, linking from the ABI spec, builtins, user host functions, the call
protocol, error handling) is runtime-neutral and written once (`_session.py`, `_plugin.py`,
`_kernel_exports.py`). A runtime is a per-plugin object (`Runtime`) that compiles modules and
opens stores; a store (`Store`) holds one kernel instance, the plugin's imports and its instances.
docs/runtimes.md is the porting checklist: what each method must do, in ABI terms.

Values cross the seam as Python ints (i32 and i64) and floats (f32, f64); handles are u64. Types
cross it as `FuncSig` and modules as `ModuleDesc` (`extism_kernel._wasm`), never as engine types.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from extism_kernel._errors import UnknownRuntimeError, UnsupportedFeatureError

if TYPE_CHECKING:
    from extism_kernel._abi import FuncSig
    from extism_kernel._wasm import ExternDesc, ModuleDesc

RuntimeName = Literal["wasmtime", "pywasm"]
RUNTIMES: tuple[RuntimeName, ...] = ("wasmtime", "pywasm")
DEFAULT_RUNTIME: RuntimeName = "wasmtime"
RUNTIME_ENV = "EXTISM_KERNEL_RUNTIME"  # the runtime of a `Plugin` created without `runtime=`
# A host function as the runtime sees it: raw wasm arguments in, None / one value / a sequence out.
HostCallback = Callable[..., Any]
# A bound wasm function: raw integer arguments in, the first result (0 when none) out.
WasmCall = Callable[..., int]


class Feature(enum.Enum):
    """An optional capability of a runtime; `Runtime.features` lists those it has."""

    INTERRUPT = "interrupt"  # stop a running call from another thread: timeouts, cancel handles
    WASI = "wasi"  # WASI preview 1 imports for the plugin
    MEMORY_LIMIT = "memory-limit"  # cap every memory of the store at a number of bytes


FEATURE_TEXT = {
    Feature.INTERRUPT: "timeouts and cancel handles",
    Feature.WASI: "WASI",
    Feature.MEMORY_LIMIT: "memory limits (`max_pages`)",
}


@dataclass(frozen=True)
class Fault:
    """What a runtime exception means: `kind` is `trap`, `interrupt`, `exit` or `error`.

    `message` is the cause on one line (no backtrace); `code` is the exit status for `exit`.
    """

    kind: Literal["trap", "interrupt", "exit", "error"]
    message: str
    code: int = 0


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

    def new_store(self, kernel: object, *, memory_cap: int | None) -> Store:
        """A new store with the compiled `kernel` instantiated; memories capped at `memory_cap`."""
        ...

    def interrupt(self) -> None:
        """Make the running wasm of an armed store trap soon (callable from any thread)."""
        ...

    def classify(self, exc: BaseException) -> Fault | None:
        """What a runtime exception means, or None when it is not the runtime's (a host fn's)."""
        ...


def require(runtime: Runtime, feature: Feature) -> None:
    """Raise `UnsupportedFeatureError` when `runtime` lacks `feature`."""
    if feature not in runtime.features:
        msg = f"runtime `{runtime.name}`: {FEATURE_TEXT[feature]} not supported by this runtime"
        raise UnsupportedFeatureError(msg, runtime=runtime.name, feature=feature.value)


def new_runtime(name: str | None = None) -> Runtime:
    """A fresh runtime object of the named implementation (imported on use).

    Without a name: `$EXTISM_KERNEL_RUNTIME` when set, else wasmtime. Raises
    `UnknownRuntimeError` (a `ValueError`) for an unknown name and `MissingDependencyError`
    when the engine's package is not installed.
    """
    name = name or os.environ.get(RUNTIME_ENV) or DEFAULT_RUNTIME
    if name == "wasmtime":
        from extism_kernel.host._runtime_wasmtime import WasmtimeRuntime  # noqa: PLC0415

        return WasmtimeRuntime()
    if name == "pywasm":
        from extism_kernel.host._runtime_pywasm import PywasmRuntime  # noqa: PLC0415

        return PywasmRuntime()
    msg = f"runtime `{name}`: expected one of {', '.join(RUNTIMES)}"
    raise UnknownRuntimeError(msg)
