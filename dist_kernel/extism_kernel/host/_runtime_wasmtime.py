"""The wasmtime side of the host: compile, link, instantiate, call, and map wasm failures.

With `_kernel_exports.py`, the only wasmtime-specific code (a second runtime, issue 6, replaces
these two modules). `Runtime` holds one Engine per plugin (epoch interruption on, so a timer or
a cancel handle can stop this plugin alone) and the compiled modules; `Session` is one Store:
the kernel instance linked as `extism:host/env` (and `env::extism_*` for 0.x plugins), the
builtins, WASI, the user host functions, the other manifest modules, and the main instance,
created lazily at the first call as the Rust runtime does.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import wasmtime

from extism_kernel._abi import AbiSpec, FuncSig, ValType
from extism_kernel._errors import ExtismKernelError, PluginError
from extism_kernel._wasm import ModuleDesc, _describe
from extism_kernel.host._host_functions import BUILTINS, HostEnv
from extism_kernel.host._kernel_exports import KernelExports, bind_raw, wasm_type
from extism_kernel.host._manifest import MAIN_MODULE, WAT_PREFIXES, WasmSource
from extism_kernel.host._user_functions import CurrentPlugin, HostFunction

PAGE = 65536
FAR_DEADLINE = 1 << 62  # epoch ticks: "never" outside calls
TRAP_RC = 134  # what Extism reports for a trap or a timeout (EXIT_SIGNALED_SIGABRT)
HOST_RC = -1
READ_ONLY_PREFIX = "ro:"
WASI_OUTPUT_ENV = "EXTISM_ENABLE_WASI_OUTPUT"
# guest-runtime initialisers, tried as the Rust runtime does (Haskell, then C/Rust, then WASI)
HASKELL_INIT, CTORS, REACTOR_INIT = "hs_init", "__wasm_call_ctors", "_initialize"
_CACHE_MAX = 64
_COMPILED: dict[bytes, bytes] = {}  # sha256 of wasm -> serialized module (this process's own)
_DESCS: dict[bytes, ModuleDesc] = {}  # sha256 of wasm -> imports and exports


def _remember(cache: dict[bytes, Any], key: bytes, value: object) -> None:
    if len(cache) >= _CACHE_MAX:
        cache.pop(next(iter(cache)))
    cache[key] = value


def compile_module(engine: wasmtime.Engine, data: bytes, origin: str) -> wasmtime.Module:
    """Compile `data` (wasm or WAT) for `engine`, reusing this process's earlier compilations.

    Every engine of the host has the same config, so a module serialized by one deserializes
    into another in ~0.1 ms instead of a ~10 ms compilation. The cache only holds artifacts
    this process produced itself. Raises `PluginError` naming `origin` for invalid bytes.
    """
    key = hashlib.sha256(data).digest()
    cached = _COMPILED.get(key)
    if cached is not None:
        return wasmtime.Module.deserialize(engine, cached)
    try:
        text = data.lstrip().startswith(WAT_PREFIXES)
        module = wasmtime.Module(engine, data.decode() if text else data)
    except (wasmtime.WasmtimeError, UnicodeDecodeError) as exc:
        first = (str(exc).strip().splitlines() or ["invalid module"])[0]
        msg = f"`{origin}`: not a valid WebAssembly module: {first}"
        raise PluginError(msg, kind="host") from None
    _remember(_COMPILED, key, bytes(module.serialize()))
    return module


def describe(module: wasmtime.Module, data: bytes) -> ModuleDesc:
    """The imports and exports of a compiled module, as runtime-neutral data (cached)."""
    key = hashlib.sha256(data).digest()
    desc = _DESCS.get(key)
    if desc is None:
        desc = ModuleDesc(
            imports=tuple(_describe(i.module, i.name or "", i.type) for i in module.imports),
            exports=tuple(_describe(None, e.name, e.type) for e in module.exports),
        )
        _remember(_DESCS, key, desc)
    return desc


def trap_reason(message: str) -> str:
    """The cause of a wasmtime error or trap message, without the wasm backtrace.

    wasmtime prints `error while executing at wasm backtrace: ... Caused by: 0: <cause>`;
    the first cause is kept (`wasm trap: wasm `unreachable` instruction executed`).
    """
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if "Caused by:" in lines:
        causes = lines[lines.index("Caused by:") + 1 :]
        if causes:
            first = causes[0]
            return first.split(": ", 1)[1] if first[:1].isdigit() and ": " in first else first
    return lines[0] if lines else "trap"


class Runtime:
    """One Engine and the compiled kernel and plugin modules of one plugin."""

    def __init__(self, kernel: bytes, modules: Sequence[tuple[str, WasmSource]]) -> None:
        config = wasmtime.Config()
        config.epoch_interruption = True
        self.engine = wasmtime.Engine(config)
        self.kernel_module = compile_module(self.engine, kernel, "kernel")
        self.modules = {n: compile_module(self.engine, s.data, s.origin) for n, s in modules}
        self.descs = {n: describe(self.modules[n], s.data) for n, s in modules}

    def memory_minimum(self) -> int:
        """The largest declared minimum (in pages) of any memory of the kernel or the plugin."""
        mins = [0]
        for module in (self.kernel_module, *self.modules.values()):
            types = [i.type for i in module.imports] + [e.type for e in module.exports]
            mins += [t.limits.min for t in types if isinstance(t, wasmtime.MemoryType)]
        return max(mins)

    def interrupt(self) -> None:
        """Make the running wasm of this engine trap at its next epoch check."""
        self.engine.increment_epoch()


class Session:
    """One Store: everything linked and ready; the main instance is created on first use."""

    def __init__(  # noqa: PLR0913
        self,
        runtime: Runtime,
        spec: AbiSpec,
        env: HostEnv,
        functions: Sequence[HostFunction],
        order: Sequence[str],
        *,
        wasi: bool,
        allowed_paths: Mapping[str, str] | None,
        memory_cap: int | None,
    ) -> None:
        self.runtime = runtime
        store = wasmtime.Store(runtime.engine)
        store.set_epoch_deadline(FAR_DEADLINE)
        if memory_cap is not None:
            store.set_limits(memory_size=memory_cap)
        linker = wasmtime.Linker(runtime.engine)
        linker.allow_shadowing = True
        instance = linker.instantiate(store, runtime.kernel_module)
        self.kernel = kernel = KernelExports(store, instance, spec)
        env.kernel = kernel
        linker.define_instance(store, spec.kernel_module, instance)
        legacy = spec.legacy
        for func in spec.functions:
            if func.legacy:
                name = legacy.prefix + func.name
                linker.define(store, legacy.module, name, kernel.funcs[func.name])
        for func in spec.host_functions:
            callback = self._callback(BUILTINS[func.name], env)
            ty = wasm_type(func.sig)
            linker.define_func(spec.kernel_module, func.name, ty, callback, access_caller=True)
            if func.legacy:
                name = legacy.prefix + func.name
                linker.define_func(legacy.module, name, ty, callback, access_caller=True)
        if wasi:
            linker.define_wasi()
            store.set_wasi(_wasi_config(allowed_paths or {}))
        for fn in functions:
            ty = wasm_type(
                FuncSig(tuple((f"p{i}", t) for i, t in enumerate(fn.params)), fn.results)
            )
            callback = self._callback(fn.invoke, None)
            linker.define_func(fn.namespace, fn.name, ty, callback, access_caller=True)
        for name in order:
            linker.define_module(store, name, runtime.modules[name])
        self.store, self.linker = store, linker
        self._ctx = store._context()  # noqa: SLF001  # for unchecked calls of exports
        self._instance: wasmtime.Instance | None = None

    def _callback(self, impl: Callable[..., Any], env: HostEnv | None) -> Callable[..., Any]:
        """A wasmtime callback that runs `impl` with the kernel reached through the caller."""
        kernel = self.kernel

        def callback(caller: wasmtime.Caller, *args: Any) -> Any:  # noqa: ANN401
            token = kernel.enter(caller)
            try:
                if env is None:  # a user host function
                    return impl(CurrentPlugin(kernel), args)
                return impl(env, *args)
            finally:
                kernel.leave(token)

        return callback

    def _instantiate(self) -> wasmtime.Instance:
        """Create the main instance and run its guest-runtime initialiser, as Extism does."""
        store = self.store
        instance = self.linker.instantiate(store, self.runtime.modules[MAIN_MODULE])
        exports = instance.exports(store)
        names = set(exports)

        def nullary(name: str) -> wasmtime.Func | None:
            item = exports[name] if name in names else None
            if isinstance(item, wasmtime.Func):
                ty = item.type(store)
                if not ty.params and not ty.results:
                    return item
            return None

        if HASKELL_INIT in names:
            init = nullary(REACTOR_INIT)
            if init is not None:
                init(store)
            exports[HASKELL_INIT](store, 0, 0)  # type: ignore[operator]
        elif CTORS in names:
            ctors = nullary(CTORS)
            if ctors is not None:
                ctors(store)
        elif (init := nullary(REACTOR_INIT)) is not None:
            init(store)
        return instance

    def export(self, name: str) -> Callable[[], int]:
        """A fast caller of the main module's export `name` (`() -> i32` or `() -> ()`).

        Raises `PluginError` when the export has another type; instantiation failures raise
        what wasmtime raised (map them with `failure`).
        """
        if self._instance is None:
            self._instance = self._instantiate()
        item = self._instance.exports(self.store)[name]
        assert isinstance(item, wasmtime.Func)  # the caller checked the export's kind
        ty = item.type(self.store)
        results = [str(t) for t in ty.results]
        if ty.params or results not in ([], ["i32"]):
            msg = f"function `{name}` has type {ty}, expected () -> i32 or () -> ()"
            raise PluginError(msg, function=name)
        raw = bind_raw(item, 0, (ValType.I32,) if results else ())  # type checked above
        ctx = self._ctx
        return lambda: raw(ctx)

    def close(self) -> None:
        """Drop the main instance (the store goes when the plugin does)."""
        self._instance = None

    def arm(self) -> None:
        """Let the next epoch increment interrupt the running wasm (before a call)."""
        self.store.set_epoch_deadline(1)

    def disarm(self) -> None:
        """Ignore epoch increments again (after a call)."""
        self.store.set_epoch_deadline(FAR_DEADLINE)


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


def exit_code(exc: BaseException) -> int | None:
    """The WASI exit code when `exc` is a `proc_exit`, else None."""
    return exc.code if isinstance(exc, wasmtime.ExitTrap) else None


def failure(name: str, exc: Exception, interrupt_reason: str) -> PluginError:
    """Map what a wasm call raised to the PluginError Extism would report."""
    if isinstance(exc, PluginError):
        return exc
    if isinstance(exc, wasmtime.ExitTrap):
        msg = f"function `{name}` exited with i32 exit status {exc.code}"
        return PluginError(msg, function=name, code=exc.code, kind="exit")
    if isinstance(exc, wasmtime.Trap):
        if exc.trap_code == wasmtime.TrapCode.INTERRUPT:
            return PluginError(interrupt_reason, function=name, code=TRAP_RC, kind="timeout")
        return PluginError(trap_reason(exc.message), function=name, code=TRAP_RC, kind="trap")
    if isinstance(exc, ExtismKernelError):
        message = str(exc)
    elif isinstance(exc, wasmtime.WasmtimeError):
        message = trap_reason(str(exc))
    else:  # a host function's own exception: its first line
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return PluginError(message, function=name, code=HOST_RC, kind="host")
