"""`Plugin`: run an Extism plugin on the kernel as Extism 1.x hosts do; the public API.

The engine work (compile, link, instantiate, call) is behind `_runtime_api.py`, the linking in
`_session.py`; this module holds the plugin's lifetime (manifest, host state, timeouts,
cancellation, reentrancy) and, in `_call_sequence`, the whole per-call protocol in one place:
reset -> alloc + write input -> input_set -> call -> error_get -> output_offset/output_length ->
copy the output out.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from extism_kernel._abi import load_abi
from extism_kernel._abi_match import kernel_problems
from extism_kernel._errors import AbiMismatchError, ExtismKernelError, PluginError
from extism_kernel._kernel import kernel_bytes
from extism_kernel._runtimes import new_runtime
from extism_kernel.host._host_functions import HostSettings
from extism_kernel.host._limits import store_limits
from extism_kernel.host._link import plan_link
from extism_kernel.host._manifest import MAIN_MODULE, load_manifest
from extism_kernel.host._runtime_types import Feature, require
from extism_kernel.host._session import HOST_RC, TRAP_RC, Session
from extism_kernel.host._user_functions import HOST_FN_REGISTRY, HostFunction

COMMAND_START = "_start"  # after a call to it, Extism rebuilds the store


class CancelHandle:
    """Stops the plugin's current call from any thread; a no-op between calls."""

    def __init__(self, plugin: Plugin) -> None:
        self._plugin = plugin

    def cancel(self) -> bool:
        """Interrupt the running call (it fails with `cancelled`); return whether one ran."""
        return self._plugin._interrupt(reason="cancelled")  # noqa: SLF001


class Plugin:
    """An Extism plugin running on the kernel (ours by default, or any `kernel=` bytes).

    `plugin` is wasm or WAT bytes, a path, a JSON manifest (text or bytes), a manifest dict or a
    `Manifest`. `config` is merged over the manifest's config. `functions` are the user host
    functions (default: every `@host_fn`). Raises `ManifestError` for a bad manifest,
    `LinkError` for an import nobody provides, `AbiMismatchError` for a kernel that does not
    match the ABI spec. `runtime` is `wasmtime` (default, or `$EXTISM_KERNEL_RUNTIME`),
    `pywasm` (pure Python, slow) or `wasm3` (a C interpreter); a feature the runtime lacks (a
    timeout, WASI, a cancel handle) raises `UnsupportedFeatureError`, and an unknown runtime name
    `UnknownRuntimeError`.
    """

    def __init__(  # noqa: PLR0913
        self,
        plugin: object,
        wasi: bool = False,  # positional, as in the official SDK
        config: dict[str, str] | None = None,
        functions: Iterable[HostFunction] | None = None,
        *,
        kernel: bytes | None = None,
        http_response_headers: bool = False,
        logger: logging.Logger | None = None,
        runtime: str | None = None,
    ) -> None:
        self.id = uuid.uuid4()
        spec = load_abi()
        self._manifest = manifest = load_manifest(plugin).with_config(config)
        self._functions = list(HOST_FN_REGISTRY if functions is None else functions)
        self._runtime = rt = new_runtime(runtime)
        if manifest.timeout_ms is not None:
            require(rt, Feature.INTERRUPT)
        named = manifest.named_modules()
        compiled = {n: rt.compile(s.data, s.origin) for n, s in named}
        descs = {n: rt.describe(compiled[n], s.data) for n, s in named}
        kernel = kernel or kernel_bytes(rt.kernel_variant)
        compiled[""] = rt.compile(kernel, "kernel")
        kernel_desc = rt.describe(compiled[""], kernel)
        errors = [
            p.message
            for p in kernel_problems(kernel_desc, spec, strict=False)
            if p.severity == "error"
        ]
        if errors:  # before anything is instantiated: a plugin given as the kernel, say
            raise AbiMismatchError("kernel", errors)
        self._plan = plan_link(
            spec,
            compiled,
            descs,
            kernel_desc,
            [(f.namespace, f.name, f.params, f.results) for f in self._functions],
            main=MAIN_MODULE,
            wasi=wasi,
            allowed_paths=manifest.allowed_paths,
        )
        limits = manifest.memory
        self._settings = HostSettings(
            config=manifest.config,
            max_var_bytes=limits.var_bytes,
            allowed_hosts=manifest.allowed_hosts,
            max_http_response_bytes=limits.http_response_bytes,
            http_response_headers=http_response_headers,
            logger=logger or logging.getLogger("extism_kernel.plugin"),
        )
        self._spec = spec
        self._limits = store_limits(manifest.memory.max_pages, self._plan.memory_minimums)
        timeout_ms = manifest.timeout_ms
        self._timeout_s = None if timeout_ms is None else timeout_ms / 1000
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._in_call = False
        self._call_number = 0  # which call a timer belongs to: a late one never stops the next
        self._interrupt_lock = threading.Lock()  # the call's end and an interrupt, one at a time
        self._interrupt_reason = "timeout"
        self._closed = False
        self._needs_rebuild = False
        self._session = self._new_session()

    def _new_session(self) -> Session:
        """A fresh instance with everything linked (at creation, and after a call to `_start`)."""
        self._exports: dict[str, Callable[[], int]] = {}
        return Session(
            self._runtime,
            self._spec,
            self._plan,
            self._settings,
            self._functions,
            limits=self._limits,
        )

    # the public API ---------------------------------------------------------------------------
    def function_exists(self, name: str) -> bool:
        """Whether the main module exports a function called `name`."""
        export = self._plan.main_exports.get(name)
        return export is not None and export.kind == "func"

    def cancel_handle(self) -> CancelHandle:
        """A handle that interrupts this plugin's running call from any thread.

        Raises `UnsupportedFeatureError` on a runtime that cannot interrupt a call.
        """
        require(self._runtime, Feature.INTERRUPT)
        return CancelHandle(self)

    @property
    def runtime(self) -> str:
        """The name of the runtime this plugin runs on (`wasmtime`, `pywasm` or `wasm3`)."""
        return self._runtime.name

    def call(
        self,
        function_name: str,
        data: bytes | str = b"",
        parse: Callable[[bytes], Any] | None = None,
        host_context: Any = None,  # noqa: ANN401
    ) -> Any:  # noqa: ANN401
        """Call the export `function_name` with `data` as input; return its output bytes.

        With `parse`, return `parse(output)` instead (the official SDK's hook). `host_context`
        is any Python object the call's host functions get from `CurrentPlugin.host_context()`.
        Raises `PluginError` when the plugin sets an error, returns non-zero, traps, times out,
        exceeds its memory, or a host function fails; the plugin stays usable afterwards, and
        `TypeError` when `data` is neither bytes nor str.
        """
        if isinstance(data, str):
            data = data.encode()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            msg = f"`data` must be bytes or str but found {type(data).__name__}"
            raise TypeError(msg)
        if self._closed:
            raise PluginError("plugin is closed", function=function_name)
        if self._owner == threading.get_ident():
            msg = f"cannot make reentrant calls into plugin (`{function_name}`)"
            raise PluginError(msg, function=function_name)
        with self._lock:
            self._owner = threading.get_ident()
            try:
                if not self.function_exists(function_name):
                    msg = f"function `{function_name}` not found in the plugin"
                    raise PluginError(msg, function=function_name, kind="missing")
                if self._needs_rebuild:  # a new instance, with new builtins' state (vars)
                    self._session = self._new_session()
                    self._needs_rebuild = False
                self._session.env.host_context = host_context
                output = self._call_sequence(function_name, bytes(data))
            finally:
                self._session.env.host_context = None
                self._owner = None
                if function_name == COMMAND_START:
                    self._needs_rebuild = True  # Extism rebuilds the store after `_start`
        return output if parse is None else parse(output)

    def close(self) -> None:
        """Release the store and the instances; later calls fail."""
        self._closed = True
        self._exports.clear()
        self._session.close()

    def __enter__(self) -> Plugin:  # noqa: PYI034  # typing.Self needs Python 3.11
        """Use the plugin as a context manager; it is closed on exit."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the plugin."""
        self.close()

    # one call -----------------------------------------------------------------------------------
    def _call_sequence(self, name: str, data: bytes) -> bytes:
        """Run one call through the kernel; the only place that knows the call protocol.

        Everything plugin code may run in (instantiation with its start functions, then the
        export) happens inside `_guarded`, under the call's timeout and cancel handle.
        """
        kernel = self._session.kernel
        rc, failed, started = self._guarded(name, data)
        if not started:  # failed before the input was set: the kernel holds no result of ours
            msg = f"function `{name}`: the plugin exited while it was being instantiated"
            raise failed or PluginError(msg, function=name, kind="exit")
        error, offset, length = kernel.call_result()
        if error:
            message = kernel.read_block(error)
            if message:
                code = rc if failed is None else HOST_RC
                text = message.decode(errors="replace")
                raise PluginError(text, function=name, code=code, kind="error") from failed
        if failed is not None:
            raise failed
        if rc:
            msg = f"function `{name}` returned non-zero exit code {rc}"
            raise PluginError(msg, function=name, code=rc, kind="code")
        return kernel.read(offset, length) if length else b""

    def _guarded(self, name: str, data: bytes) -> tuple[int, PluginError | None, bool]:
        """Instantiate if needed, set the input, call the export: (rc, failure, input set).

        The deadline is armed first and the timer started last, so a timer that fires at once
        (`timeout_ms: 0`, a busy machine) still stops the call.
        """
        session = self._session
        env = session.env
        started = False
        session.arm()
        session.refused_allocs = 0
        with self._interrupt_lock:
            self._interrupt_reason = "timeout"
            self._in_call = True
            self._call_number += 1
        timer = None
        if self._timeout_s is not None:
            env.deadline = time.monotonic() + self._timeout_s
            timer = threading.Timer(
                self._timeout_s, self._interrupt, kwargs={"call": self._call_number}
            )
            timer.daemon = True
            timer.start()
        try:
            export = self._exports.get(name)
            if export is None:
                export = self._exports[name] = session.export(name)  # runs start functions
            kernel = session.kernel
            try:
                handle = kernel.call_start(len(data))
            except PluginError:
                return 0, PluginError("oom", function=name, kind="oom"), False
            kernel.write(handle, data)
            started = True
            rc = export()
        except Exception as exc:  # noqa: BLE001  # a user host function may raise anything
            rc, failed = self._outcome(name, exc)
            if failed is not None and failed.kind == "trap" and session.refused_allocs:
                failed = self._out_of_memory(name, failed)
            return rc, failed, started
        finally:
            with self._interrupt_lock:  # an interrupt lands before this or not at all
                self._in_call = False
            if timer is not None:
                timer.cancel()
            session.disarm()
            env.deadline = None
        return rc, None, started

    def _outcome(self, name: str, exc: Exception) -> tuple[int, PluginError | None]:
        """What a wasm call's exception means, classified once: (rc, the error Extism reports).

        A WASI `proc_exit(0)` is a success (0, None); another exit code is the rc.
        """
        if isinstance(exc, PluginError):
            return 0, exc
        fault = self._runtime.classify(exc)
        kind = None if fault is None else fault.kind
        if fault is not None and kind == "exit":
            if fault.code == 0:
                return 0, None
            msg = f"function `{name}` exited with i32 exit status {fault.code}"
            return fault.code, PluginError(msg, function=name, code=fault.code, kind="exit")
        if kind == "interrupt":
            failed = PluginError(
                self._interrupt_reason, function=name, code=TRAP_RC, kind="timeout"
            )
        elif fault is not None and kind == "trap":
            failed = PluginError(fault.message, function=name, code=TRAP_RC, kind="trap")
        else:
            if isinstance(exc, ExtismKernelError):
                message = str(exc)
            elif fault is not None:
                message = fault.message
            else:  # a host function's own exception: its first line
                message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            failed = PluginError(message, function=name, code=HOST_RC, kind="host")
        failed.__cause__ = exc
        return 0, failed

    def _out_of_memory(self, name: str, trap: PluginError) -> PluginError:
        """The trap of a call in which the kernel refused an allocation: `oom`, as Extism says."""
        refused = self._session.refused_allocs
        msg = (
            f"oom: function `{name}` trapped after the kernel refused {refused} allocation"
            f"{'s' if refused > 1 else ''} within `max_pages` ({trap.message})"
        )
        oom = PluginError(msg, function=name, code=TRAP_RC, kind="oom")
        oom.__cause__ = trap.__cause__
        return oom

    def _interrupt(self, reason: str = "timeout", call: int | None = None) -> bool:
        """Stop the running call (`call`: only if it is still that one, for a call's timer)."""
        with self._interrupt_lock:
            if not self._in_call or (call is not None and call != self._call_number):
                return False
            self._interrupt_reason = reason
            self._runtime.interrupt()
            return True
