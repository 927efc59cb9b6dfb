"""The pywasm runtime: a pure-Python interpreter, so the host runs wherever Python runs (slowly).

The kernel and the plugin share one pywasm store: the kernel instance's function exports are
registered as the plugin's `extism:host/env` imports, so a plugin's kernel calls never leave the
interpreter. pywasm is not re-entrant (a host function that calls back into the kernel would
trip its "empty stack" check), so every call from Python runs on a fresh machine stack, which
also leaves the stack clean after a trap. Memory limits are applied by lowering each memory's
declared maximum (pywasm's `memory.grow` honours it); WASI is pywasm's own preview 1. pywasm
cannot interrupt a running call (timeouts, cancel handles) nor mount a path read-only: those
raise `UnsupportedFeatureError` (see docs/runtimes.md).
"""

from __future__ import annotations

import copy
import hashlib
import io
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

import pywasm  # a missing package: _runtimes.new_runtime says so

from extism_kernel._abi import FuncSig, ValType, load_abi
from extism_kernel._errors import PluginError, UnsupportedFeatureError
from extism_kernel._kernel import DEFAULT_VARIANT
from extism_kernel._wasm import ExternDesc, ModuleDesc, error_cause
from extism_kernel.host._manifest import READ_ONLY_PREFIX, WAT_PREFIXES
from extism_kernel.host._runtime_types import (
    Fault,
    Feature,
    HostCallback,
    StoreLimits,
    WasmCall,
    remember,
)

PAGE = 65536
WASI_OUTPUT_ENV = "EXTISM_ENABLE_WASI_OUTPUT"
U64 = (1 << 64) - 1
_I64_SIGN = 1 << 63
_PARSED: dict[bytes, Any] = {}  # sha256 of wasm -> pywasm.ModuleDesc (data segments copied on use)
_VALTYPES = {0x7F: ValType.I32, 0x7E: ValType.I64, 0x7D: ValType.F32, 0x7C: ValType.F64}
_TO_PYWASM = {
    ValType.I32: pywasm.ValType.i32(),
    ValType.I64: pywasm.ValType.i64(),
    ValType.F32: pywasm.ValType.f32(),
    ValType.F64: pywasm.ValType.f64(),
}
_KINDS = {0x00: "func", 0x01: "table", 0x02: "memory", 0x03: "global"}
_MEMORY_OPS = ("load", "store", "memory.", "data.")


class PywasmTrap(Exception):  # noqa: N818  # a wasm trap, as pywasm has no trap type
    """A trap inside pywasm: the message names the cause, as wasmtime's do."""


class PywasmExit(Exception):  # noqa: N818  # WASI proc_exit, as pywasm raises a bare Exception
    """The plugin called WASI `proc_exit(code)`."""

    def __init__(self, code: int) -> None:
        super().__init__(f"exit {code}")
        self.code = code


class _HostCallError(Exception):
    """Carries a host function's own exception out of the interpreter, unchanged."""

    def __init__(self, inner: BaseException) -> None:
        super().__init__(str(inner))
        self.inner = inner


def _valtype(t: Any) -> ValType:  # noqa: ANN401
    found = _VALTYPES.get(t.data)
    if found is None:
        return ValType.EXTERNREF  # reference types: only for messages
    return found


def _sig(ft: Any) -> FuncSig:  # noqa: ANN401
    return FuncSig(
        tuple((f"p{i}", _valtype(t)) for i, t in enumerate(ft.args)),
        tuple(_valtype(t) for t in ft.rets),
    )


def _describe(desc: Any) -> ModuleDesc:  # noqa: ANN401
    """Imports and exports of a parsed pywasm module, as runtime-neutral data."""
    funcs: list[FuncSig] = []
    mems: list[int] = []
    globs: list[tuple[ValType, bool]] = []
    imports = []
    for imp in desc.imps:
        kind = _KINDS[imp.kind]
        if kind == "func":
            funcs.append(_sig(desc.type[imp.desc]))
            imports.append(ExternDesc(imp.module, imp.name, kind, sig=funcs[-1]))
        elif kind == "memory":
            mems.append(imp.desc.limits.n)
            imports.append(ExternDesc(imp.module, imp.name, kind, min_pages=mems[-1]))
        elif kind == "global":
            globs.append((_valtype(imp.desc.type), bool(imp.desc.mut)))
            imports.append(
                ExternDesc(
                    imp.module, imp.name, kind, global_type=globs[-1][0], mutable=globs[-1][1]
                )
            )
        else:
            imports.append(ExternDesc(imp.module, imp.name, kind))
    funcs += [_sig(desc.type[f.type]) for f in desc.func]
    mems += [m.limits.n for m in desc.mems]
    globs += [(_valtype(g.type.type), bool(g.type.mut)) for g in desc.glob]
    exports = []
    for exp in desc.exps:
        kind = _KINDS[exp.kind]
        if kind == "func":
            exports.append(ExternDesc(None, exp.name, kind, sig=funcs[exp.desc]))
        elif kind == "memory":
            exports.append(ExternDesc(None, exp.name, kind, min_pages=mems[exp.desc]))
        elif kind == "global":
            gt, mut = globs[exp.desc]
            exports.append(ExternDesc(None, exp.name, kind, global_type=gt, mutable=mut))
        else:
            exports.append(ExternDesc(None, exp.name, kind))
    return ModuleDesc(tuple(imports), tuple(exports))


class _Compiled:
    """A parsed module and its runtime-neutral description."""

    def __init__(self, desc: Any, module_desc: ModuleDesc) -> None:  # noqa: ANN401
        self.desc = desc
        self.module_desc = module_desc

    def fresh(self, max_pages: int | None) -> Any:  # noqa: ANN401
        """A copy to instantiate: own data segments (`data.drop` clears them), capped memories."""
        desc = copy.copy(self.desc)
        desc.data = [copy.copy(d) for d in self.desc.data]
        for d in desc.data:
            d.init = bytearray(d.init)
        if max_pages is not None:
            desc.mems = [
                pywasm.MemType(pywasm.Limits(m.limits.n, min(m.limits.m or max_pages, max_pages)))
                for m in self.desc.mems
            ]
        return desc


def _trap_message(machine: Any, exc: BaseException) -> str:  # noqa: ANN401, PLR0911
    """The cause of a pywasm failure, from the instruction that was running."""
    labels = machine.stack.label
    if not labels or labels[-1].index == 0:
        return f"wasm trap: {type(exc).__name__}"
    label = labels[-1]
    opname = pywasm.opcode.name.get(label.instr[label.index - 1].opcode, "?")
    if opname == "unreachable":
        return "wasm trap: wasm `unreachable` instruction executed"
    if opname.startswith("call") and len(machine.stack.frame) >= 1024:
        return "wasm trap: call stack exhausted"
    if any(op in opname for op in _MEMORY_OPS):
        return "wasm trap: out of bounds memory access"
    if "div" in opname or "rem" in opname:
        return "wasm trap: integer divide by zero"
    if "trunc" in opname:
        return "wasm trap: invalid conversion to integer"
    return f"wasm trap: `{opname}` failed"


def _run(machine: Any, action: Callable[[], Any]) -> Any:  # noqa: ANN401
    """Run `action` on a fresh machine stack; map failures to the host fn's or a `PywasmTrap`."""
    saved = machine.stack
    machine.stack = pywasm.core.Stack()
    try:
        return action()
    except _HostCallError as exc:
        raise exc.inner from None
    except (PywasmTrap, PywasmExit, PluginError):
        raise
    except Exception as exc:
        if len(exc.args) == 2 and exc.args[0] is SystemExit:  # pywasm's proc_exit
            raise PywasmExit(int(exc.args[1])) from None
        raise PywasmTrap(_trap_message(machine, exc)) from exc
    finally:
        machine.stack = saved


class _NoStream:
    """Stands in for a stdio stream without a file descriptor while pywasm records stdio."""

    name = "<none>"

    def fileno(self) -> int:
        return -1


def _preview1(dirs: dict[str, str]) -> Any:  # noqa: ANN401
    """Pywasm's WASI state; it reads `sys.std*.fileno()`, which captured stdio lacks.

    Its stdio entries are replaced by pipes right after, so when the real streams have no
    descriptor, stand-ins are used for the few microseconds of the construction.
    """
    try:
        return pywasm.wasi.Preview1([], dirs, {})
    except (io.UnsupportedOperation, AttributeError, ValueError):
        saved = sys.stdin, sys.stdout, sys.stderr
        sys.stdin = sys.stdout = sys.stderr = _NoStream()
        try:
            return pywasm.wasi.Preview1([], dirs, {})
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved


class _Instance:
    """A pywasm module instance seen through the runtime interface."""

    def __init__(self, runtime: Any, inst: Any, desc: ModuleDesc) -> None:  # noqa: ANN401
        self._runtime = runtime
        self._machine = runtime.machine
        self._inst = inst
        self._externs = {e.name: e.data for e in inst.exps}
        self._descs = {e.name: e for e in desc.exports}

    def exports(self) -> Mapping[str, ExternDesc]:
        return self._descs

    def extern(self, name: str) -> Any:  # noqa: ANN401
        """The store extern of export `name` (shared as another module's import)."""
        return self._externs[name]

    def function(self, name: str, sig: FuncSig) -> WasmCall:
        machine = self._machine
        addr = self._externs[name].data
        convert: list[Callable[[int], Any]] = [
            (lambda a: pywasm.ValInst.from_u64(a & U64))
            if t is ValType.I64
            else (lambda a: pywasm.ValInst.from_u32(a & 0xFFFFFFFF))
            if t is ValType.I32
            else (lambda a, t=t: pywasm.ValInst.from_all(_TO_PYWASM[t], a))  # type: ignore[misc]
            for t in sig.param_types
        ]
        result = sig.results[0] if sig.results else None

        def call(*args: int) -> int:
            values = [c(a) for c, a in zip(convert, args, strict=True)]
            rets = _run(machine, lambda: machine.invocate(addr, values))
            if result is None:
                return 0
            if result is ValType.I64:
                return rets[0].into_u64()  # type: ignore[no-any-return]
            return rets[0].into_all()  # type: ignore[no-any-return]

        return call


class _KernelInstance(_Instance):
    def __init__(self, runtime: Any, inst: Any, desc: ModuleDesc) -> None:  # noqa: ANN401
        super().__init__(runtime, inst, desc)
        name = load_abi().memory.name
        extern = self._externs.get(name)
        self._memory = runtime.machine.store.mems[extern.data] if extern is not None else None

    def _data(self, offset: int, n: int) -> bytearray:
        data = self._memory.data if self._memory is not None else bytearray()
        if offset < 0 or offset + n > len(data):
            msg = f"kernel memory: range {offset}+{n} is outside the {len(data)}-byte memory"
            raise PluginError(msg)
        return data

    def read(self, offset: int, n: int) -> bytes:
        if n <= 0:
            return b""
        return bytes(self._data(offset, n)[offset : offset + n])

    def write(self, offset: int, data: bytes) -> None:
        n = len(data)
        if n:
            self._data(offset, n)[offset : offset + n] = data


class _Store:
    """One pywasm Runtime (store + machine) and its import namespace."""

    def __init__(self, kernel: _Compiled, max_pages: int | None) -> None:
        self._rt = pywasm.Runtime()
        self._max_pages = max_pages
        self.kernel = _KernelInstance(self._rt, self._instance_of(kernel), kernel.module_desc)

    def _instance_of(self, module: _Compiled) -> Any:  # noqa: ANN401
        desc = module.fresh(self._max_pages)
        return _run(self._rt.machine, lambda: self._rt.instance(desc))

    def _define(self, module: str, name: str, extern: Any) -> None:  # noqa: ANN401
        self._rt.imports.setdefault(module, {})[name] = extern

    def define_kernel_export(self, module: str, name: str, export: str) -> None:
        self._define(module, name, self.kernel.extern(export))

    def define_function(self, module: str, name: str, sig: FuncSig, impl: HostCallback) -> None:
        nresults = len(sig.results)
        signed = [t is ValType.I64 for t in sig.results]

        def hostcode(_machine: Any, args: list[Any]) -> list[Any]:  # noqa: ANN401
            try:
                value = impl(*args)
            except BaseException as exc:
                raise _HostCallError(exc) from exc
            values = [] if nresults == 0 else [value] if nresults == 1 else list(value)
            return [
                (v & U64) - ((v & _I64_SIGN) << 1) if s else v
                for v, s in zip(values, signed, strict=True)
            ]

        ft = pywasm.FuncType(
            [_TO_PYWASM[t] for t in sig.param_types], [_TO_PYWASM[t] for t in sig.results]
        )
        self._define(module, name, self._rt.allocate_func_host(ft, hostcode))

    def define_wasi(self, allowed_paths: Mapping[str, str]) -> None:
        """Pywasm's WASI preview 1: no args, no env, stdio discarded unless the env var is set."""
        read_only = [p for p in allowed_paths if p.startswith(READ_ONLY_PREFIX)]
        if read_only:
            path = read_only[0]
            msg = f"runtime `pywasm`: read-only WASI path `{path}` not supported by this runtime"
            raise UnsupportedFeatureError(msg, runtime="pywasm", feature="wasi-read-only")
        wasi = _preview1({guest: host for host, guest in allowed_paths.items()})
        if not os.environ.get(WASI_OUTPUT_ENV):
            for fd in wasi.fd[:3]:
                fd.pipe = io.BytesIO()  # stdin empty, stdout and stderr discarded
        else:
            wasi.fd[0].pipe = io.BytesIO()
        wasi.bind(self._rt)

    def define_module(self, name: str, module: object) -> None:
        assert isinstance(module, _Compiled)
        inst = self._instance_of(module)
        for exp in inst.exps:
            self._define(name, exp.name, exp.data)

    def instantiate(self, module: object) -> _Instance:
        assert isinstance(module, _Compiled)
        return _Instance(self._rt, self._instance_of(module), module.module_desc)

    def arm(self) -> None:
        """Nothing to do: pywasm cannot be interrupted (timeouts are refused at load)."""

    def disarm(self) -> None:
        """Nothing to do."""


class PywasmRuntime:
    """pywasm (pure Python): memory limits and WASI (no read-only paths); no interrupts."""

    name = "pywasm"
    kernel_variant = DEFAULT_VARIANT  # pywasm 2 accepts the externref global
    features = frozenset({Feature.MEMORY_LIMIT, Feature.WASI})

    def compile(self, data: bytes, origin: str) -> _Compiled:
        """Parse `data` (wasm, or WAT through wasmtime's `wat2wasm` when installed); cached."""
        if data.lstrip().startswith(WAT_PREFIXES):
            try:
                import wasmtime  # noqa: PLC0415

                data = bytes(wasmtime.wat2wasm(data.decode()))
            except ImportError:
                msg = f"`{origin}`: WAT needs wasmtime to compile to wasm: pip install wasmtime"
                raise PluginError(msg, kind="host") from None
            except (wasmtime.WasmtimeError, UnicodeDecodeError) as exc:
                msg = f"`{origin}`: not a valid WebAssembly module: {error_cause(str(exc))}"
                raise PluginError(msg, kind="host") from None
        key = hashlib.sha256(data).digest()
        desc = _PARSED.get(key)
        if desc is None:
            try:
                desc = pywasm.ModuleDesc.from_reader(io.BytesIO(data))
            except Exception as exc:  # noqa: BLE001  # pywasm fails with asserts and index errors
                why = f"{type(exc).__name__} {exc}".rstrip()
                msg = f"`{origin}`: not a valid WebAssembly module: {why}"
                raise PluginError(msg, kind="host") from None
            remember(_PARSED, key, desc)
        return _Compiled(desc, _describe(desc))

    def describe(self, module: object, data: bytes) -> ModuleDesc:  # noqa: ARG002
        """The imports and exports of a parsed module."""
        assert isinstance(module, _Compiled)
        return module.module_desc

    def new_store(self, kernel: object, *, limits: StoreLimits) -> _Store:
        """A pywasm Runtime with the kernel instantiated; each memory capped.

        pywasm counts neither memories nor table elements: those two limits are not applied.
        """
        assert isinstance(kernel, _Compiled)
        cap = limits.memory_bytes
        return _Store(kernel, None if cap is None else cap // PAGE)

    def interrupt(self) -> None:
        """Never reached: `Plugin` refuses timeouts and cancel handles on this runtime."""

    def classify(self, exc: BaseException) -> Fault | None:
        """A `PywasmTrap` is a trap, a `PywasmExit` an exit; anything else is not the runtime's."""
        if isinstance(exc, PywasmExit):
            return Fault("exit", str(exc), exc.code)
        if isinstance(exc, PywasmTrap):
            return Fault("trap", str(exc))
        return None
