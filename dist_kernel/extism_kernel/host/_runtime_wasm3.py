"""The wasm3 runtime: a fast C interpreter (pywasm3), for hosts where wasmtime does not run.

A wasm3 runtime holds one linear memory shared by every module loaded into it, and wasm3 links
no module to another, only host functions to a module. So every instance gets its own wasm3
runtime (the kernel, each named module, main), and a module's imports of another instance's
functions are linked as host functions that are the other instance's `wasm3.Function` objects
(called from C, with no Python code in between). The kernel is the `no-reference-types` variant:
wasm3 rejects the default kernel's externref global.

Memory limits are applied by rewriting each memory's declared maximum, which wasm3's
`memory.grow` honours, except a maximum of 0 (read as none): none is ever written, and a module
declaring no memory gets a capped one (`_wasm3_binary.cap_memories`). pywasm3 has no WASI and
cannot interrupt a call (its gas metering needs modules instrumented beforehand), so WASI,
timeouts and cancel handles raise `UnsupportedFeatureError`.
wasm3 prints a backtrace to stderr when a call traps; the binding offers no way to silence it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import wasm3  # a missing package: _runtimes.new_runtime says so

from extism_kernel._abi import FuncSig, ValType
from extism_kernel._errors import PluginError
from extism_kernel._wasm import ExternDesc, ModuleDesc, error_cause
from extism_kernel._wasm_binary import MalformedModuleError
from extism_kernel.host._manifest import WAT_PREFIXES
from extism_kernel.host._runtime_types import (
    Fault,
    Feature,
    HostCallback,
    StoreLimits,
    WasmCall,
    remember,
)
from extism_kernel.host._wasm3_binary import cap_memories, describe, strip_names

PAGE = 65536
STACK_BYTES = 1 << 20  # each wasm3 runtime's value stack
U64 = (1 << 64) - 1
_I64_SIGN = 1 << 63
_DESCS: dict[bytes, ModuleDesc] = {}  # sha256 of wasm -> imports and exports
_SIG_CHARS = {ValType.I32: "i", ValType.I64: "I", ValType.F32: "f", ValType.F64: "F"}
# wasm3's trap texts -> wasmtime's, so that messages read the same on every runtime
_TRAPS = {
    "unreachable executed": "wasm `unreachable` instruction executed",
    "stack overflow": "call stack exhausted",
}


class Wasm3Trap(Exception):  # noqa: N818  # wasm3 raises a bare RuntimeError
    """A trap inside wasm3: the message names the cause, as wasmtime's do."""


class _HostCallError(Exception):
    """Carries a host function's own exception through wasm3, unchanged."""

    def __init__(self, inner: BaseException) -> None:
        super().__init__(str(inner))
        self.inner = inner


def _trap(exc: RuntimeError) -> Wasm3Trap:
    text = str(exc).removeprefix("[trap] ")
    cause = text.split(" (", 1)[0].strip()  # drop wasm3's "(memory size: ...)" details
    return Wasm3Trap(f"wasm trap: {_TRAPS.get(cause, cause)}")


def _signature(sig: FuncSig) -> str:
    """wasm3's signature string: results then parameters, e.g. `I(Ii)`; `v` for no result."""
    results = "".join(_SIG_CHARS[t] for t in sig.results) or "v"
    return f"{results}({''.join(_SIG_CHARS[t] for t in sig.param_types)})"


class _Compiled:
    """A module's bytes (wasm3 parses a module anew for each load) and its description."""

    def __init__(self, data: bytes, desc: ModuleDesc) -> None:
        self.data = data
        self.desc = desc


class _Instance:
    """One module loaded into its own wasm3 runtime."""

    def __init__(self, rt: Any, module: Any, desc: ModuleDesc) -> None:  # noqa: ANN401
        self.rt = rt
        self.module = module
        self._descs = {e.name: e for e in desc.exports}

    def exports(self) -> Mapping[str, ExternDesc]:
        return self._descs

    def raw(self, name: str) -> Any:  # noqa: ANN401
        """The `wasm3.Function` of export `name`."""
        try:
            return self.rt.find_function(name)
        except RuntimeError as exc:
            raise _trap(exc) from None  # a start function that trapped fails on first lookup

    def function(self, name: str, sig: FuncSig) -> WasmCall:
        func = self.raw(name)
        result = sig.results[0] if len(sig.results) == 1 else None
        signed = [t is ValType.I64 for t in sig.param_types]
        unsigned_result = result is ValType.I64

        def call(*args: int) -> int:
            values = [
                (a & U64) - ((a & _I64_SIGN) << 1) if s else a
                for a, s in zip(args, signed, strict=True)
            ]
            try:
                value = func(*values)
            except _HostCallError as exc:
                raise exc.inner from None
            except RuntimeError as exc:
                raise _trap(exc) from None
            if result is None:
                return 0
            return value & U64 if unsigned_result else value  # type: ignore[no-any-return]

        return call


class _KernelInstance(_Instance):
    """The kernel's instance: its memory is its runtime's memory."""

    def _memory(self, offset: int, n: int) -> memoryview:
        memory = self.rt.get_memory(0)  # anew each time: a grown memory moves
        size = 0 if memory is None else len(memory)
        if offset < 0 or offset + n > size:
            msg = f"kernel memory: range {offset}+{n} is outside the {size}-byte memory"
            raise PluginError(msg)
        return memory  # type: ignore[no-any-return]

    def read(self, offset: int, n: int) -> bytes:
        if n <= 0:
            return b""
        return bytes(self._memory(offset, n)[offset : offset + n])

    def write(self, offset: int, data: bytes) -> None:
        n = len(data)
        if n:
            self._memory(offset, n)[offset : offset + n] = data


class _Store:
    """The instances of one plugin instance, one wasm3 runtime each, and its import namespace."""

    def __init__(self, kernel: _Compiled, max_pages: int | None) -> None:
        self._env = wasm3.Environment()
        self._max_pages = max_pages
        # module -> name -> (signature string, callable linked into the importer)
        self._imports: dict[str, dict[str, tuple[str, Any]]] = {}
        self._instances: list[_Instance] = []  # kept alive: their functions are linked
        self.kernel = _KernelInstance(*self._load(kernel), kernel.desc)

    def _load(self, compiled: _Compiled) -> tuple[Any, Any]:
        """A new wasm3 runtime with `compiled` loaded and its imports linked."""
        data = compiled.data
        for imp in compiled.desc.imports:
            if imp.kind != "func":
                msg = (
                    f"import `{imp.module}::{imp.name}`: runtime `wasm3` links only functions"
                    f" between modules, not a {imp.kind}"
                )
                raise PluginError(msg, kind="host")
        if self._max_pages is not None:  # >= 1: the kernel's own memory needs a page
            data = cap_memories(data, self._max_pages)
        rt = self._env.new_runtime(STACK_BYTES)
        try:
            module = self._env.parse_module(data)
            rt.load(module)
        except RuntimeError as exc:
            msg = f"wasm3 cannot load the module: {exc}"
            raise Wasm3Trap(msg) from None
        for imp in compiled.desc.imports:
            found = self._imports.get(imp.module or "", {}).get(imp.name)
            if found is not None:
                module.link_function(imp.module, imp.name, found[0], found[1])
        return rt, module

    def _define(self, module: str, name: str, sig: FuncSig, func: Any) -> None:  # noqa: ANN401
        self._imports.setdefault(module, {})[name] = (_signature(sig), func)

    def define_kernel_export(self, module: str, name: str, export: str) -> None:
        desc = self.kernel.exports()[export]
        assert desc.sig is not None  # the caller linked a function export of the spec
        self._define(module, name, desc.sig, self.kernel.raw(export))

    def define_function(self, module: str, name: str, sig: FuncSig, impl: HostCallback) -> None:
        nresults = len(sig.results)
        signed = [t is ValType.I64 for t in sig.results]

        def host(*args: Any) -> Any:  # noqa: ANN401
            try:
                value = impl(*args)
            except BaseException as exc:
                raise _HostCallError(exc) from exc
            values = [] if nresults == 0 else [value] if nresults == 1 else list(value)
            out = [
                (v & U64) - ((v & _I64_SIGN) << 1) if s else v
                for v, s in zip(values, signed, strict=True)
            ]
            return None if nresults == 0 else out[0] if nresults == 1 else tuple(out)

        self._define(module, name, sig, host)

    def define_wasi(self, allowed_paths: Mapping[str, str]) -> None:  # noqa: ARG002
        """Never reached: `Session` refuses WASI on this runtime (pywasm3 has none)."""
        msg = "runtime `wasm3`: WASI not supported by this runtime"
        raise PluginError(msg, kind="host")

    def define_module(self, name: str, module: object) -> None:
        assert isinstance(module, _Compiled)
        instance = self.instantiate(module)
        for export in module.desc.exports:
            if export.kind == "func" and export.sig is not None:
                self._define(name, export.name, export.sig, instance.raw(export.name))

    def instantiate(self, module: object) -> _Instance:
        assert isinstance(module, _Compiled)
        instance = _Instance(*self._load(module), module.desc)
        self._instances.append(instance)
        return instance

    def arm(self) -> None:
        """Nothing to do: wasm3 cannot be interrupted (timeouts are refused at load)."""

    def disarm(self) -> None:
        """Nothing to do."""


class Wasm3Runtime:
    """wasm3 (C interpreter): memory limits; no WASI, no interrupts."""

    name = "wasm3"
    kernel_variant = "no-reference-types"  # wasm3 rejects the default kernel's externref global
    features = frozenset({Feature.MEMORY_LIMIT})

    def compile(self, data: bytes, origin: str) -> _Compiled:
        """Check that wasm3 parses `data` (wasm, or WAT through wasmtime's `wat2wasm`)."""
        if data.lstrip().startswith(WAT_PREFIXES):
            data = _wat2wasm(data, origin)
        key = hashlib.sha256(data).digest()
        desc = _DESCS.get(key)
        try:
            data = strip_names(data)
        except MalformedModuleError as exc:
            msg = f"`{origin}`: not a valid WebAssembly module: {exc}"
            raise PluginError(msg, kind="host") from None
        if desc is None:
            try:
                desc = describe(data)
                wasm3.Environment().parse_module(data)
            except (MalformedModuleError, RuntimeError) as exc:
                msg = f"`{origin}`: not a valid WebAssembly module: {exc}"
                raise PluginError(msg, kind="host") from None
            remember(_DESCS, key, desc)
        return _Compiled(data, desc)

    def describe(self, module: object, data: bytes) -> ModuleDesc:  # noqa: ARG002
        """The imports and exports read from the module's bytes."""
        assert isinstance(module, _Compiled)
        return module.desc

    def new_store(self, kernel: object, *, limits: StoreLimits) -> _Store:
        """wasm3 runtimes for the plugin instance, the kernel loaded; each memory capped.

        wasm3 counts neither memories nor table elements: those two limits are not applied.
        """
        assert isinstance(kernel, _Compiled)
        cap = limits.memory_bytes
        return _Store(kernel, None if cap is None else cap // PAGE)

    def interrupt(self) -> None:
        """Never reached: `Plugin` refuses timeouts and cancel handles on this runtime."""

    def classify(self, exc: BaseException) -> Fault | None:
        """A `Wasm3Trap` is a trap; anything else is not the runtime's."""
        if isinstance(exc, Wasm3Trap):
            return Fault("trap", str(exc))
        return None


def _wat2wasm(data: bytes, origin: str) -> bytes:
    try:
        import wasmtime  # noqa: PLC0415

        return bytes(wasmtime.wat2wasm(data.decode()))
    except ImportError:
        msg = f"`{origin}`: WAT needs wasmtime to compile to wasm: pip install wasmtime"
        raise PluginError(msg, kind="host") from None
    except (wasmtime.WasmtimeError, UnicodeDecodeError) as exc:
        msg = f"`{origin}`: not a valid WebAssembly module: {error_cause(str(exc))}"
        raise PluginError(msg, kind="host") from None
