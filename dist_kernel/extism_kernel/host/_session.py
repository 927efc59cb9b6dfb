"""One plugin instance, linked from the ABI spec on any runtime; and runtime failures mapped.

Runtime-neutral (the runtime is reached only through `_runtime_api`): `Session` opens a store,
binds the kernel (`KernelExports`), makes every spec function importable as `extism:host/env`
(and `env::extism_*` for 0.x plugins), the builtins and the user host functions, WASI, and the
other manifest modules, and creates the main instance lazily at the first call, running its
guest-runtime initialiser as the Rust runtime does. `failure` turns whatever a call raised into
the `PluginError` Extism would report.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from extism_kernel._abi import AbiSpec, FuncSig, ValType
from extism_kernel._errors import PluginError
from extism_kernel.host._host_functions import BUILTINS, HostEnv, HostSettings
from extism_kernel.host._kernel_exports import KernelExports
from extism_kernel.host._link import LinkPlan
from extism_kernel.host._manifest import MAIN_MODULE
from extism_kernel.host._runtime_api import Instance, Runtime, Store
from extism_kernel.host._runtime_types import Feature, StoreLimits, WasmCall, require
from extism_kernel.host._user_functions import CurrentPlugin, HostFunction

PAGE = 65536
TRAP_RC = 134  # what Extism reports for a trap or a timeout (EXIT_SIGNALED_SIGABRT)
HOST_RC = -1
# guest-runtime initialisers, tried as the Rust runtime does (Haskell, then C/Rust, then WASI)
HASKELL_INIT, CTORS, REACTOR_INIT = "hs_init", "__wasm_call_ctors", "_initialize"
_NULLARY = FuncSig((), ())
FITS = 1 << 32  # an allocation below this fails only when memory cannot grow


def _user_callback(fn: HostFunction, kernel: KernelExports, env: HostEnv) -> Callable[..., Any]:
    def invoke(*args: Any) -> Any:  # noqa: ANN401
        return fn.invoke(CurrentPlugin(kernel, env=env), args)

    return invoke


def _link_spec(
    store: Store, spec: AbiSpec, env: HostEnv, imports: AbstractSet[tuple[str, str]]
) -> None:
    """Define the kernel's functions and the builtins that the modules import, by spec name."""
    env_module, legacy = spec.kernel_module, spec.legacy
    for func in spec.functions:
        if (env_module, func.name) in imports:
            store.define_kernel_export(env_module, func.name, func.name)
        alias = legacy.prefix + func.name
        if func.legacy and (legacy.module, alias) in imports:
            store.define_kernel_export(legacy.module, alias, func.name)
    for func in spec.host_functions:
        builtin = functools.partial(BUILTINS[func.name], env)
        if (env_module, func.name) in imports:
            store.define_function(env_module, func.name, func.sig, builtin)
        alias = legacy.prefix + func.name
        if func.legacy and (legacy.module, alias) in imports:
            store.define_function(legacy.module, alias, func.sig, builtin)


class Session:
    """One instance of the plugin: its store, kernel, builtins' state, and main instance.

    Built from the plugin's `LinkPlan`; everything is linked at construction and the main
    instance is created on first use.
    """

    def __init__(  # noqa: PLR0913
        self,
        runtime: Runtime,
        spec: AbiSpec,
        plan: LinkPlan,
        settings: HostSettings,
        functions: Sequence[HostFunction],
        *,
        limits: StoreLimits,
    ) -> None:
        """Open a store with the kernel and link what the plan's modules import (only that)."""
        if limits.memory_bytes is not None:
            require(runtime, Feature.MEMORY_LIMIT)
        if plan.wasi:
            require(runtime, Feature.WASI)
        self.runtime = runtime
        self._compiled = plan.compiled
        store = runtime.new_store(plan.compiled[""], limits=limits)
        self.kernel = kernel = KernelExports(store.kernel, spec)
        self.env = HostEnv(kernel, settings)
        _link_spec(store, spec, self.env, plan.imports)
        self.refused_allocs = 0  # the kernel's `alloc` calls of the plugin that returned 0
        if limits.memory_bytes is not None:
            self._count_refused_allocs(store, spec, plan.imports)
        if plan.wasi:
            store.define_wasi(plan.allowed_paths or {})
        for fn in functions:
            if (fn.namespace, fn.name) not in plan.imports:
                continue
            sig = FuncSig(tuple((f"p{i}", t) for i, t in enumerate(fn.params)), fn.results)
            store.define_function(fn.namespace, fn.name, sig, _user_callback(fn, kernel, self.env))
        self._order = plan.order  # instantiated with the main module: their start functions run
        self.store = store  # under the first call's timeout
        self._instance: Instance | None = None

    def _count_refused_allocs(
        self, store: Store, spec: AbiSpec, imports: AbstractSet[tuple[str, str]]
    ) -> None:
        """Link the plugin's `alloc` through the host, counting the allocations the kernel refused.

        Under `max_pages` only: a refused `memory.grow` is invisible to the host, but the kernel
        answers it with `alloc` → 0, and a call that then traps is reported as `oom`. It costs
        one host crossing per `alloc` of the plugin.
        """
        alloc = spec.function(KernelExports.alloc.__name__)  # methods are named after the ABI
        kernel = self.kernel

        def counted_alloc(n: int) -> int:
            handle = kernel.alloc(n)
            if 0 < n < FITS and not handle:  # a size memory could hold: the limit refused it
                self.refused_allocs += 1
            return handle

        names = [(spec.kernel_module, alloc.name)]
        if alloc.legacy:
            names.append((spec.legacy.module, spec.legacy.prefix + alloc.name))
        for module, name in names:
            if (module, name) in imports:
                store.define_function(module, name, alloc.sig, counted_alloc)

    def _instantiate(self) -> Instance:
        """Instantiate the other modules, then main, and run main's guest-runtime initialiser.

        As Extism does; called inside the first call, under its timeout and cancel handle.
        """
        for name in self._order:
            self.store.define_module(name, self._compiled[name])
        instance = self.store.instantiate(self._compiled[MAIN_MODULE])
        exports = instance.exports()

        def nullary(name: str) -> WasmCall | None:
            item = exports.get(name)
            if item is not None and item.sig is not None and item.sig == _NULLARY:
                return instance.function(name, _NULLARY)
            return None

        if HASKELL_INIT in exports:
            init = nullary(REACTOR_INIT)
            if init is not None:
                init()
            hs = exports[HASKELL_INIT].sig
            if hs is not None and len(hs.params) <= 2:  # hs_init(argc, argv)
                instance.function(HASKELL_INIT, hs)(*(0 for _ in hs.params))
        elif CTORS in exports:
            ctors = nullary(CTORS)
            if ctors is not None:
                ctors()
        elif (init := nullary(REACTOR_INIT)) is not None:
            init()
        return instance

    def export(self, name: str) -> WasmCall:
        """A fast caller of the main module's export `name` (`() -> i32` or `() -> ()`).

        Raises `PluginError` when the export has another type; instantiation failures raise
        what the runtime raised (map them with `failure`).
        """
        if self._instance is None:
            self._instance = self._instantiate()
        sig = self._instance.exports()[name].sig
        assert sig is not None  # the caller checked the export's kind
        if sig.params or sig.results not in ((), (ValType.I32,)):
            msg = f"function `{name}` has type {sig}, expected () -> i32 or () -> ()"
            raise PluginError(msg, function=name)
        return self._instance.function(name, sig)

    def close(self) -> None:
        """Drop the main instance (the store goes when the plugin does)."""
        self._instance = None

    def arm(self) -> None:
        """Let an interrupt stop the running wasm (before a call)."""
        self.store.arm()

    def disarm(self) -> None:
        """Ignore interrupts again (after a call)."""
        self.store.disarm()
