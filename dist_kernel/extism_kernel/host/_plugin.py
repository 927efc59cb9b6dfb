"""`Plugin`: link the kernel beside a plugin on wasmtime and call it as Extism 1.x hosts do.

One Engine and one Store per plugin. The kernel is instantiated first and defined as module
`extism:host/env` (and, for 0.x plugins, as `env::extism_*`); the builtins of the spec and the
user host functions follow, then WASI, then the manifest's other modules, then the main module
(lazily, at the first call, as the Rust runtime does). `_call_sequence` is the whole per-call
protocol, in one place: reset -> alloc + write input -> input_set -> call -> error_get ->
output_offset/output_length -> copy the output out.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import wasmtime

from extism_kernel._abi import ValType, load_abi
from extism_kernel._errors import ExtismKernelError, PluginError
from extism_kernel._kernel import kernel_bytes
from extism_kernel._wasm import ModuleDesc, _describe
from extism_kernel.host._host_functions import BUILTINS, HostEnv
from extism_kernel.host._kernel_exports import KernelExports, bind_raw, wasm_type
from extism_kernel.host._link import check_imports, link_order, providers
from extism_kernel.host._manifest import MAIN_MODULE, WAT_PREFIXES, load_manifest
from extism_kernel.host._user_functions import HOST_FN_REGISTRY, CurrentPlugin, HostFunction

PAGE = 65536
FAR_DEADLINE = 1 << 62  # epoch ticks: "never" outside calls
TRAP_RC = 134  # what Extism reports for a trap or a timeout (EXIT_SIGNALED_SIGABRT)
HOST_RC = -1
READ_ONLY_PREFIX = "ro:"
WASI_OUTPUT_ENV = "EXTISM_ENABLE_WASI_OUTPUT"
# guest-runtime initialisers, tried as the Rust runtime does (Haskell first, then C/Rust, then WASI)
HASKELL_INIT, CTORS, REACTOR_INIT, COMMAND_START = (
    "hs_init",
    "__wasm_call_ctors",
    "_initialize",
    "_start",
)


class CancelHandle:
    """Stops the plugin's current call from any thread; a no-op between calls."""

    def __init__(self, plugin: Plugin) -> None:
        self._plugin = plugin

    def cancel(self) -> bool:
        """Interrupt the running call (it fails with `cancelled`); return whether one ran."""
        return self._plugin._interrupt(reason="cancelled")  # noqa: SLF001


_COMPILED: dict[bytes, bytes] = {}  # sha256 of wasm -> serialized module, for this process
_COMPILED_MAX = 64


def _compile(engine: wasmtime.Engine, data: bytes, origin: str) -> wasmtime.Module:
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
        if data.lstrip().startswith(WAT_PREFIXES):
            module = wasmtime.Module(engine, data.decode())
        else:
            module = wasmtime.Module(engine, data)
    except (wasmtime.WasmtimeError, UnicodeDecodeError) as exc:
        first = (str(exc).strip().splitlines() or ["invalid module"])[0]
        msg = f"`{origin}`: not a valid WebAssembly module: {first}"
        raise PluginError(msg, kind="host") from None
    if len(_COMPILED) >= _COMPILED_MAX:
        _COMPILED.pop(next(iter(_COMPILED)))
    _COMPILED[key] = module.serialize()
    return module


_DESCS: dict[bytes, ModuleDesc] = {}  # sha256 of wasm -> imports and exports


def _desc(module: wasmtime.Module, data: bytes) -> ModuleDesc:
    key = hashlib.sha256(data).digest()
    if key in _DESCS:
        return _DESCS[key]
    if len(_DESCS) >= _COMPILED_MAX:
        _DESCS.pop(next(iter(_DESCS)))
    _DESCS[key] = desc = ModuleDesc(
        imports=tuple(_describe(i.module, i.name or "", i.type) for i in module.imports),
        exports=tuple(_describe(None, e.name, e.type) for e in module.exports),
    )
    return desc


class Plugin:
    """An Extism plugin running on the kernel (ours by default, or any `kernel=` bytes).

    `plugin` is wasm or WAT bytes, a path, a JSON manifest (text or bytes), a manifest dict or a
    `Manifest`. `config` is merged over the manifest's config. `functions` are the user host
    functions (default: every `@host_fn`). Raises `ManifestError` for a bad manifest,
    `LinkError` for an import nobody provides, `AbiMismatchError` for a kernel that does not
    match the ABI spec.
    """

    def __init__(  # noqa: PLR0913
        self,
        plugin: object,
        *,
        wasi: bool = False,
        config: dict[str, str] | None = None,
        functions: Iterable[HostFunction] | None = None,
        kernel: bytes | None = None,
        http_response_headers: bool = False,
        logger: logging.Logger | None = None,
    ) -> None:
        self.id = uuid.uuid4()
        self._spec = load_abi()
        self._manifest = load_manifest(plugin).with_config(config)
        self._wasi = wasi
        self._functions = list(HOST_FN_REGISTRY if functions is None else functions)
        cfg = wasmtime.Config()
        cfg.epoch_interruption = True
        self._engine = wasmtime.Engine(cfg)
        self._kernel_module = _compile(self._engine, kernel or kernel_bytes(), "kernel")
        named = self._manifest.named_modules()
        self._modules = {n: _compile(self._engine, src.data, src.origin) for n, src in named}
        descs = {n: _desc(self._modules[n], src.data) for n, src in named}
        user = [(f.namespace, f.name, f.params, f.results) for f in self._functions]
        provided = providers(self._spec, user, descs)
        for name, desc in descs.items():
            check_imports(name, desc, provided, spec=self._spec, wasi=wasi)
        self._order = link_order(descs, MAIN_MODULE)
        self._main_exports = {e.name: e for e in descs[MAIN_MODULE].exports}
        limits = self._manifest.memory
        self._env = HostEnv(
            kernel=None,  # type: ignore[arg-type]  # set by _build_store
            config=self._manifest.config,
            max_var_bytes=limits.var_bytes,
            allowed_hosts=self._manifest.allowed_hosts,
            max_http_response_bytes=limits.http_response_bytes,
            http_response_headers=http_response_headers,
            logger=logger or logging.getLogger("extism_kernel.plugin"),
        )
        timeout_ms = self._manifest.timeout_ms
        self._timeout_s = None if timeout_ms is None else timeout_ms / 1000
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._in_call = False
        self._interrupt_reason = "timeout"
        self._closed = False
        self._build_store()

    # linking ---------------------------------------------------------------------------------
    def _memory_cap(self) -> int | None:
        """Per-memory byte cap for `max_pages` (an approximation of Rust's store-wide budget).

        Never below a module's declared minimum, so the kernel and the plugin still instantiate.
        """
        max_pages = self._manifest.memory.max_pages
        if max_pages is None:
            return None
        mins = [0]
        for module in (self._kernel_module, *self._modules.values()):
            types = [i.type for i in module.imports] + [e.type for e in module.exports]
            mins += [t.limits.min for t in types if isinstance(t, wasmtime.MemoryType)]
        return max(max_pages, *mins) * PAGE

    def _build_store(self) -> None:
        spec = self._spec
        store = wasmtime.Store(self._engine)
        store.set_epoch_deadline(FAR_DEADLINE)
        cap = self._memory_cap()
        if cap is not None:
            store.set_limits(memory_size=cap)
        linker = wasmtime.Linker(self._engine)
        linker.allow_shadowing = True
        instance = linker.instantiate(store, self._kernel_module)
        kernel = KernelExports(store, instance, spec)
        linker.define_instance(store, spec.kernel_module, instance)
        for func in spec.functions:
            if func.legacy:
                linker.define(
                    store,
                    spec.legacy.module,
                    spec.legacy.prefix + func.name,
                    kernel.funcs[func.name],
                )
        for func in spec.host_functions:
            callback = self._builtin_callback(BUILTINS[func.name])
            linker.define_func(
                spec.kernel_module, func.name, wasm_type(func.sig), callback, access_caller=True
            )
            if func.legacy:
                linker.define_func(
                    spec.legacy.module,
                    spec.legacy.prefix + func.name,
                    wasm_type(func.sig),
                    callback,
                    access_caller=True,
                )
        if self._wasi:
            linker.define_wasi()
            store.set_wasi(self._wasi_config())
        for fn in self._functions:
            linker.define_func(
                fn.namespace, fn.name, _func_type(fn), self._user_callback(fn), access_caller=True
            )
        for name in self._order:
            linker.define_module(store, name, self._modules[name])
        self._env.kernel = kernel
        self._store, self._linker, self._kernel = store, linker, kernel
        self._store_ctx = store._context()  # noqa: SLF001  # for unchecked calls of exports
        self._instance: wasmtime.Instance | None = None
        self._exports: dict[str, Callable[..., int]] = {}
        self._needs_rebuild = False

    def _wasi_config(self) -> wasmtime.WasiConfig:
        config = wasmtime.WasiConfig()
        if os.environ.get(WASI_OUTPUT_ENV):
            config.inherit_stdout()
            config.inherit_stderr()
        for host, guest in (self._manifest.allowed_paths or {}).items():
            read_only = host.startswith(READ_ONLY_PREFIX)
            path = host[len(READ_ONLY_PREFIX) :] if read_only else host
            config.preopen_dir(path, guest, fs_mutable=not read_only)
        return config

    def _builtin_callback(self, impl: Any) -> Any:  # noqa: ANN401
        env = self._env

        def callback(caller: wasmtime.Caller, *args: int) -> Any:  # noqa: ANN401
            kernel = self._kernel
            token = kernel.enter(caller)
            try:
                return impl(env, *args)
            finally:
                kernel.leave(token)

        return callback

    def _user_callback(self, fn: HostFunction) -> Any:  # noqa: ANN401
        def callback(caller: wasmtime.Caller, *args: Any) -> Any:  # noqa: ANN401
            kernel = self._kernel
            token = kernel.enter(caller)
            try:
                return fn.invoke(CurrentPlugin(kernel), args)
            finally:
                kernel.leave(token)

        return callback

    def _instantiate(self) -> wasmtime.Instance:
        """Create the main instance and run its guest-runtime initialiser, as Extism does."""
        store = self._store
        instance = self._linker.instantiate(store, self._modules[MAIN_MODULE])
        exports = instance.exports(store)

        def nullary(name: str) -> wasmtime.Func | None:
            item = exports[name] if name in set(exports) else None
            if isinstance(item, wasmtime.Func):
                ty = item.type(store)
                if not ty.params and not ty.results:
                    return item
            return None

        if name_in(HASKELL_INIT, exports):
            init = nullary(REACTOR_INIT)
            if init is not None:
                init(store)
            exports[HASKELL_INIT](store, 0, 0)  # type: ignore[operator]
        elif name_in(CTORS, exports):
            ctors = nullary(CTORS)
            if ctors is not None:
                ctors(store)
        elif (init := nullary(REACTOR_INIT)) is not None:
            init(store)
        return instance

    # the public API ---------------------------------------------------------------------------
    def function_exists(self, name: str) -> bool:
        """Whether the main module exports a function called `name`."""
        export = self._main_exports.get(name)
        return export is not None and export.kind == "func"

    def cancel_handle(self) -> CancelHandle:
        """A handle that interrupts this plugin's running call from any thread."""
        return CancelHandle(self)

    def call(self, function_name: str, data: bytes | str = b"") -> bytes:
        """Call the export `function_name` with `data` as input; return its output bytes.

        Raises `PluginError` when the plugin sets an error, returns non-zero, traps, times out,
        exceeds its memory, or a host function fails; the plugin stays usable afterwards.
        """
        if isinstance(data, str):
            data = data.encode()
        if self._closed:
            raise PluginError("plugin is closed", function=function_name)
        if self._owner == threading.get_ident():
            msg = f"cannot make reentrant calls into plugin (`{function_name}`)"
            raise PluginError(msg, function=function_name)
        with self._lock:
            self._owner = threading.get_ident()
            try:
                export = self._export(function_name)
                output = self._call_sequence(function_name, export, bytes(data))
            finally:
                self._owner = None
                if function_name == COMMAND_START:
                    self._needs_rebuild = True  # Extism rebuilds the store after `_start`
        return output

    def close(self) -> None:
        """Release the store and the instances; later calls fail."""
        self._closed = True
        self._exports.clear()
        self._instance = None

    def __enter__(self) -> Plugin:  # noqa: PYI034  # typing.Self needs Python 3.11
        """Use the plugin as a context manager; it is closed on exit."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the plugin."""
        self.close()

    # one call -----------------------------------------------------------------------------------
    def _export(self, name: str) -> Callable[..., int]:
        if self._needs_rebuild:
            self._env.vars.clear()
            self._env.http_status, self._env.http_headers = 0, {}
            self._build_store()
        func = self._exports.get(name)
        if func is not None:
            return func
        if not self.function_exists(name):
            msg = f"function `{name}` not found in the plugin"
            raise PluginError(msg, function=name, kind="missing")
        if self._instance is None:
            self._instance = self._guard(name, self._instantiate)
        item = self._instance.exports(self._store)[name]
        assert isinstance(item, wasmtime.Func)  # function_exists checked the kind
        ty = item.type(self._store)
        if ty.params or len(ty.results) > 1 or (ty.results and str(ty.results[0]) != "i32"):
            msg = f"function `{name}` has type {ty}, expected () -> i32 or () -> ()"
            raise PluginError(msg, function=name)
        export = bind_raw(item, 0, (ValType.I32,) if ty.results else ())  # type checked above
        self._exports[name] = export
        return export

    def _call_sequence(self, name: str, export: Callable[..., int], data: bytes) -> bytes:
        """Run one call through the kernel; the only place that knows the call protocol."""
        kernel = self._kernel
        kernel.reset()
        if data:
            handle = kernel.alloc(len(data))
            if not handle:
                raise PluginError("oom", function=name, kind="oom")
            kernel.write(handle, data)
            kernel.input_set(handle, len(data))
        rc, failure = self._run(name, export)
        error = kernel.error_get()
        if error:
            message = kernel.read_block(error)
            if message:
                code = rc if failure is None else HOST_RC
                err = PluginError(
                    message.decode(errors="replace"), function=name, code=code, kind="error"
                )
                raise err from failure
        if failure is not None:
            raise failure
        if rc:
            msg = f"function `{name}` returned non-zero exit code {rc}"
            raise PluginError(msg, function=name, code=rc, kind="code")
        length = kernel.output_length()
        return kernel.read(kernel.output_offset(), length) if length else b""

    def _run(self, name: str, export: Callable[..., int]) -> tuple[int, PluginError | None]:
        """Call the export under the timeout; return (rc, failure) instead of raising."""
        store = self._store
        timer = None
        if self._timeout_s is not None:
            self._env.deadline = time.monotonic() + self._timeout_s
            timer = threading.Timer(self._timeout_s, self._interrupt)
            timer.daemon = True
            timer.start()
        self._interrupt_reason = "timeout"
        store.set_epoch_deadline(1)
        self._in_call = True
        try:
            return export(self._store_ctx), None
        except wasmtime.ExitTrap as exc:
            if exc.code == 0:  # WASI proc_exit(0): a success, the output is readable
                return 0, None
            return exc.code, self._failure(name, exc)
        except Exception as exc:  # noqa: BLE001  # a user host function may raise anything
            failure = self._failure(name, exc)
            if failure is not exc:
                failure.__cause__ = exc
            return 0, failure
        finally:
            self._in_call = False
            if timer is not None:
                timer.cancel()
            store.set_epoch_deadline(FAR_DEADLINE)
            self._env.deadline = None

    def _guard(self, name: str, step: Any) -> Any:  # noqa: ANN401
        """Run a setup step (instantiation, init) and turn its failure into a `PluginError`."""
        try:
            return step()
        except Exception as exc:
            raise self._failure(name, exc) from exc

    def _failure(self, name: str, exc: Exception) -> PluginError:
        """Map what a wasm call raised to the PluginError Extism would report."""
        if isinstance(exc, PluginError):
            return exc
        if isinstance(exc, wasmtime.ExitTrap):
            msg = f"function `{name}` exited with i32 exit status {exc.code}"
            return PluginError(msg, function=name, code=exc.code, kind="exit")
        if isinstance(exc, wasmtime.Trap):
            if exc.trap_code == wasmtime.TrapCode.INTERRUPT:
                return PluginError(
                    self._interrupt_reason, function=name, code=TRAP_RC, kind="timeout"
                )
            return PluginError(_trap_reason(exc.message), function=name, code=TRAP_RC, kind="trap")
        if isinstance(exc, ExtismKernelError):
            return PluginError(str(exc), function=name, code=HOST_RC, kind="host")
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return PluginError(first, function=name, code=HOST_RC, kind="host")

    def _interrupt(self, reason: str = "timeout") -> bool:
        if not self._in_call:
            return False
        self._interrupt_reason = reason
        self._engine.increment_epoch()
        return True


def _trap_reason(message: str) -> str:
    """The cause line of a wasmtime trap message (`wasm trap: ...`), without the backtrace."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "trap"


def name_in(name: str, exports: Any) -> bool:  # noqa: ANN401
    """Whether an instance's exports contain `name`."""
    return name in set(exports)


def _func_type(fn: HostFunction) -> wasmtime.FuncType:
    from extism_kernel._abi import FuncSig  # noqa: PLC0415

    params = tuple((f"p{i}", t) for i, t in enumerate(fn.params))
    return wasm_type(FuncSig(params, fn.results))
