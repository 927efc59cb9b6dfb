"""The wasmtime runtime: compile (with a per-process module cache), link, call, map failures.

One Engine per plugin (epoch interruption on, so a timer or a cancel handle can stop this plugin
alone); one Store per plugin instance, with a Linker that `Session` fills from the ABI spec.
Kernel functions and main exports are called through `_wasmtime_raw.bind_raw` (unchecked, about
1 us a crossing); host functions run with the `Caller`'s context swapped into the shared cell.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

import wasmtime

from extism_kernel._abi import FuncSig, ValType, load_abi
from extism_kernel._errors import PluginError
from extism_kernel._kernel import DEFAULT_VARIANT
from extism_kernel._wasm import (
    ExternDesc,
    ModuleDesc,
    describe_compiled,
    describe_extern,
    error_cause,
)
from extism_kernel.host._manifest import READ_ONLY_PREFIX, WAT_PREFIXES
from extism_kernel.host._runtime_types import (
    Fault,
    Feature,
    HostCallback,
    StoreLimits,
    WasmCall,
    remember,
)
from extism_kernel.host._wasmtime_raw import (
    HOST_ERROR,
    RawMemory,
    bind_raw,
    export_named,
    take_host_error,
)

FAR_DEADLINE = 1 << 62  # epoch ticks: "never" outside calls
WASI_OUTPUT_ENV = "EXTISM_ENABLE_WASI_OUTPUT"
_MAX_RAW_PARAMS = 2  # bind_raw's widest specialisation
_COMPILED: dict[bytes, bytes] = {}  # sha256 of wasm -> serialized module (this process's own)
_DESCS: dict[bytes, ModuleDesc] = {}  # sha256 of wasm -> imports and exports
_VALTYPES = {
    ValType.I32: wasmtime.ValType.i32(),
    ValType.I64: wasmtime.ValType.i64(),
    ValType.F32: wasmtime.ValType.f32(),
    ValType.F64: wasmtime.ValType.f64(),
}
_U64 = (1 << 64) - 1
_INTS = (ValType.I32, ValType.I64)


def wasm_type(sig: FuncSig) -> wasmtime.FuncType:
    """The wasmtime FuncType of a spec signature (wasmtime ties it to the first engine using it)."""
    return wasmtime.FuncType(
        [_VALTYPES[t] for t in sig.param_types], [_VALTYPES[t] for t in sig.results]
    )


class _Instance:
    """A wasmtime instance seen through the runtime interface."""

    def __init__(
        self,
        store: wasmtime.Store,
        instance: wasmtime.Instance,
        cell: list[Any],
        desc: ModuleDesc | None,
    ) -> None:
        self._store = store
        self._instance = instance
        self._cell = cell
        # the module's description (cached per process) is much cheaper than asking the instance
        self._descs = None if desc is None else {e.name: e for e in desc.exports}

    def exports(self) -> Mapping[str, ExternDesc]:
        if self._descs is None:
            store = self._store
            self._descs = {
                name: describe_extern(None, name, item.type(store))  # type: ignore[call-arg]
                for name, item in self._instance.exports(store).items()
            }
        return self._descs

    def export(self, name: str) -> object | None:
        """The wasmtime extern exported as `name` (looked up alone: see `export_named`)."""
        return export_named(self._cell[0], self._instance, name)

    def function(self, name: str, sig: FuncSig) -> WasmCall:
        func = self.export(name)
        assert isinstance(func, wasmtime.Func)  # the caller checked the export's kind and type
        ints = all(t in _INTS for t in (*sig.param_types, *sig.results))
        if len(sig.params) <= _MAX_RAW_PARAMS and ints:
            return bind_raw(func, len(sig.params), sig.results, self._cell)
        store = self._store

        def call(*args: int) -> int:  # a wide function: the checked path
            result = func(store, *args)
            return int(result or 0) & _U64 if not isinstance(result, list) else 0

        return call


class _KernelInstance(_Instance):
    def __init__(
        self,
        store: wasmtime.Store,
        instance: wasmtime.Instance,
        cell: list[Any],
        desc: ModuleDesc | None,
    ) -> None:
        super().__init__(store, instance, cell, desc)
        memory = self.export(load_abi().memory.name)
        raw = RawMemory(memory, cell) if isinstance(memory, wasmtime.Memory) else None
        self._raw = raw
        if raw is not None:
            self.read = raw.read  # type: ignore[method-assign]
            self.write = raw.write  # type: ignore[method-assign]

    def read(self, offset: int, n: int) -> bytes:  # noqa: ARG002
        msg = "kernel memory: the kernel exports no memory"
        raise PluginError(msg)

    def write(self, offset: int, data: bytes) -> None:  # noqa: ARG002
        msg = "kernel memory: the kernel exports no memory"
        raise PluginError(msg)


class _Store:
    """One wasmtime Store and its Linker."""

    def __init__(
        self, runtime: WasmtimeRuntime, kernel: wasmtime.Module, limits: StoreLimits
    ) -> None:
        store = wasmtime.Store(runtime.engine)
        store.set_epoch_deadline(FAR_DEADLINE)
        store.set_limits(
            memory_size=-1 if limits.memory_bytes is None else limits.memory_bytes,
            memories=-1 if limits.memories is None else limits.memories,
            table_elements=-1 if limits.table_elements is None else limits.table_elements,
        )
        # [context of the moment, pending host exception]: see _wasmtime_raw
        self._cell: list[Any] = [store._context(), None]  # noqa: SLF001
        linker = wasmtime.Linker(runtime.engine)
        linker.allow_shadowing = True
        self._kernel_instance = instance = linker.instantiate(store, kernel)
        self._whole_kernel_in: set[str] = set()
        self.kernel = _KernelInstance(store, instance, self._cell, runtime.desc_of(kernel))
        self.store, self.linker, self.runtime = store, linker, runtime

    def define_kernel_export(self, module: str, name: str, export: str) -> None:
        if name != export:  # an alias (`env::extism_alloc`)
            self.linker.define(self.store, module, name, self.kernel.export(export))  # type: ignore[arg-type]
        elif module not in self._whole_kernel_in:
            # One crossing defines every kernel export under `module`, where defining each name
            # costs about 15 us. Imports were checked against the spec before linking, so a
            # plugin cannot reach an export the spec does not list.
            self.linker.define_instance(self.store, module, self._kernel_instance)
            self._whole_kernel_in.add(module)

    def define_function(self, module: str, name: str, sig: FuncSig, impl: HostCallback) -> None:
        cell = self._cell

        def callback(caller: wasmtime.Caller, *args: Any) -> Any:  # noqa: ANN401
            token = cell[0]
            cell[0] = caller._context()  # noqa: SLF001  # the kernel is reached through the caller
            try:
                return impl(*args)
            except BaseException as exc:
                cell[HOST_ERROR] = exc  # this store's, not wasmtime-py's global (take_host_error)
                raise
            finally:
                cell[0] = token

        types = self.runtime.func_types  # one FuncType per signature and engine
        ty = types.get(sig) or types.setdefault(sig, wasm_type(sig))
        self.linker.define_func(module, name, ty, callback, access_caller=True)

    def define_wasi(self, allowed_paths: Mapping[str, str]) -> None:
        self.linker.define_wasi()
        self.store.set_wasi(_wasi_config(allowed_paths))

    def define_module(self, name: str, module: object) -> None:
        assert isinstance(module, wasmtime.Module)
        with self._own_host_errors():
            self.linker.define_module(self.store, name, module)

    def instantiate(self, module: object) -> _Instance:
        assert isinstance(module, wasmtime.Module)
        with self._own_host_errors():
            instance = self.linker.instantiate(self.store, module)
        return _Instance(self.store, instance, self._cell, self.runtime.desc_of(module))

    @contextlib.contextmanager
    def _own_host_errors(self) -> Iterator[None]:
        """Raise this store's own host exception, never another thread's.

        Instantiation may run start functions that call host functions; wasmtime-py then raises
        from its process-wide last-exception slot, which another thread's call may have filled.
        """
        try:
            yield
        except BaseException as exc:
            own = take_host_error(self._cell)
            if own is not None and own is not exc:
                raise own from None
            if own is None and not isinstance(exc, (wasmtime.Trap, wasmtime.WasmtimeError)):
                msg = "wasm trap: a host function of another plugin failed meanwhile"
                raise wasmtime.WasmtimeError(msg) from None
            raise

    def arm(self) -> None:
        self.store.set_epoch_deadline(1)

    def disarm(self) -> None:
        self.store.set_epoch_deadline(FAR_DEADLINE)


INTERRUPT_CAUSE = "wasm trap: interrupt"


class WasmtimeRuntime:
    """wasmtime (native, fast): every feature of the runtime interface."""

    name = "wasmtime"
    kernel_variant = DEFAULT_VARIANT  # reference types are on by default
    features = frozenset(Feature)

    def __init__(self) -> None:
        config = wasmtime.Config()
        config.epoch_interruption = True
        config.wasm_multi_memory = False  # one memory a module: `max_pages` counts memories
        self.engine = wasmtime.Engine(config)
        self._described: dict[int, ModuleDesc] = {}  # id of a module of this runtime -> desc
        self.func_types: dict[FuncSig, wasmtime.FuncType] = {}

    def compile(self, data: bytes, origin: str) -> wasmtime.Module:
        """Compile `data` (wasm or WAT), reusing this process's earlier compilations.

        Every engine of the host has the same config, so a module serialized by one deserializes
        into another in ~0.1 ms instead of a ~10 ms compilation. The cache only holds artifacts
        this process produced itself. Raises `PluginError` naming `origin` for invalid bytes.
        """
        key = hashlib.sha256(data).digest()
        cached = _COMPILED.get(key)
        if cached is not None:
            return wasmtime.Module.deserialize(self.engine, cached)
        try:
            text = data.lstrip().startswith(WAT_PREFIXES)
            module = wasmtime.Module(self.engine, data.decode() if text else data)
        except (wasmtime.WasmtimeError, UnicodeDecodeError) as exc:
            msg = f"`{origin}`: not a valid WebAssembly module: {error_cause(str(exc))}"
            raise PluginError(msg, kind="host") from None
        remember(_COMPILED, key, bytes(module.serialize()))
        return module

    def describe(self, module: object, data: bytes) -> ModuleDesc:
        """The imports and exports of a compiled module, as runtime-neutral data (cached)."""
        assert isinstance(module, wasmtime.Module)
        key = hashlib.sha256(data).digest()
        desc = _DESCS.get(key)
        if desc is None:
            desc = describe_compiled(module)
            remember(_DESCS, key, desc)
        self._described[id(module)] = desc
        return desc

    def desc_of(self, module: wasmtime.Module) -> ModuleDesc | None:
        """The description `describe` gave for `module`, if it was asked for.

        The modules live as long as the plugin that holds this runtime, so their ids are not
        reused meanwhile.
        """
        return self._described.get(id(module))

    def new_store(self, kernel: object, *, limits: StoreLimits) -> _Store:
        """A Store with the kernel instantiated, within `limits`."""
        assert isinstance(kernel, wasmtime.Module)
        return _Store(self, kernel, limits)

    def interrupt(self) -> None:
        """Make the running wasm of this engine trap at its next epoch check."""
        self.engine.increment_epoch()

    def classify(self, exc: BaseException) -> Fault | None:
        """Wasmtime's exit traps, interrupts, traps and errors; None for anything else."""
        if isinstance(exc, wasmtime.ExitTrap):
            return Fault("exit", str(exc), exc.code)
        if isinstance(exc, wasmtime.Trap):
            if exc.trap_code == wasmtime.TrapCode.INTERRUPT:
                return Fault("interrupt", "interrupted")
            return Fault("trap", error_cause(exc.message))
        if isinstance(exc, wasmtime.WasmtimeError):
            cause = error_cause(str(exc))
            if cause == INTERRUPT_CAUSE:  # a start function interrupted while a module links
                return Fault("interrupt", "interrupted")
            return Fault("error", cause)
        return None


def _wasi_config(allowed_paths: Mapping[str, str]) -> wasmtime.WasiConfig:
    """WASI with no args, no env and no stdio (unless EXTISM_ENABLE_WASI_OUTPUT), paths mapped."""
    config = wasmtime.WasiConfig()
    if os.environ.get(WASI_OUTPUT_ENV):
        config.inherit_stdout()
        config.inherit_stderr()
    for host, guest in allowed_paths.items():
        read_only = host.startswith(READ_ONLY_PREFIX)
        path = host[len(READ_ONLY_PREFIX) :] if read_only else host
        config.preopen_dir(path, guest, fs_mutable=not read_only)
    return config
