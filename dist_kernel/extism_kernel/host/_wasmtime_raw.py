"""Unchecked wasmtime calls and raw memory access, for link-time-checked kernel functions.

Every kernel function is bound once and then called through wasmtime's unchecked entry point
(`wasmtime_func_call_unchecked`) with a preallocated argument buffer: the link-time type check is
what makes that safe, and it cuts a host->kernel crossing from about 9 us (`Func.__call__`
re-reads the type and converts every value) to about 1 us.

The store context each call uses is read from a one-item list (`cell`): inside a host function
wasmtime requires the `Caller`'s context, so the runtime swaps `cell[0]` around every callback.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any, NoReturn

import wasmtime
from wasmtime import _bindings as ffi
from wasmtime import _func as _wasmtime_func
from wasmtime._extern import wrap_extern

from extism_kernel._abi import ValType
from extism_kernel._errors import PluginError

U64 = (1 << 64) - 1

# Our own handles on three C functions (`dll[...]` makes new function objects, so wasmtime-py's own
# prototypes are untouched): no argument conversion, results as plain ints.
_DLL: Any = ffi.dll  # type: ignore[attr-defined]
_CALL_UNCHECKED = _DLL["wasmtime_func_call_unchecked"]
_CALL_UNCHECKED.argtypes = None
_CALL_UNCHECKED.restype = ctypes.c_void_p
_MEMORY_DATA = _DLL["wasmtime_memory_data"]
_MEMORY_DATA.argtypes = None
_MEMORY_DATA.restype = ctypes.c_void_p
_MEMORY_SIZE = _DLL["wasmtime_memory_data_size"]
_MEMORY_SIZE.argtypes = None
_MEMORY_SIZE.restype = ctypes.c_size_t


HOST_ERROR = 1  # index in a store's cell: the exception a host function of this store raised


def take_host_error(cell: list[Any]) -> BaseException | None:
    """The exception a host function of this store raised during the failed call, if any.

    wasmtime-py keeps the last host exception in one global shared by every store and thread,
    so it is never read here: each store's host functions record theirs in the store's cell
    (`cell[HOST_ERROR]`), and the global is cleared only when it holds that same exception.
    """
    exc: BaseException | None = cell[HOST_ERROR]
    cell[HOST_ERROR] = None
    if exc is not None and _wasmtime_func.LAST_EXCEPTION is exc:
        _wasmtime_func.LAST_EXCEPTION = None
    return exc


def _raise(error: int | None, trap: ctypes.c_void_p, cell: list[Any]) -> NoReturn:
    """Raise what a failed unchecked call left: a host function's exception, an error or a trap."""
    trap_ptr, trap.value = trap.value, None
    host = take_host_error(cell)
    try:
        if host is not None:
            raise host  # the exception of this store's own host function, unchanged
    finally:
        if error:
            exc: Exception = wasmtime.WasmtimeError._from_ptr(  # noqa: SLF001
                ctypes.cast(error, ctypes.POINTER(ffi.wasmtime_error_t))
            )
        else:
            exc = wasmtime.Trap._from_ptr(  # noqa: SLF001
                ctypes.cast(trap_ptr or 0, ctypes.POINTER(ffi.wasm_trap_t))
            )
    raise exc


def bind_raw(  # noqa: C901  # specialised by arity on purpose: one Python frame a call
    func: wasmtime.Func, nparams: int, results: tuple[ValType, ...], cell: list[Any]
) -> Callable[..., int]:
    """A caller of `func` without per-call type checks: only for link-time-checked types.

    The returned function takes the integer parameters (at most two; wider functions must use
    `Func.__call__`) and returns the result as an unsigned integer (handles are u64 in the ABI),
    a signed i32, or 0 when the function has no result. It runs in the store context `cell[0]`.
    Raises `wasmtime.Trap` (or the host function's own exception).
    """
    ref = ctypes.byref(func._func)  # noqa: SLF001
    nslots = ctypes.c_size_t(max(nparams, len(results), 1))
    slots = (ffi.wasmtime_val_raw_t * nslots.value)()
    first = slots[0]
    second = slots[1] if nslots.value > 1 else first
    trap = ctypes.c_void_p()
    trap_ref = ctypes.byref(trap)
    signed = bool(results) and results[0] is ValType.I32

    def result() -> int:
        if not results:
            return 0
        return int(first.i32) if signed else first.i64 & U64

    if nparams == 0:

        def call0() -> int:
            error = _CALL_UNCHECKED(cell[0], ref, slots, nslots, trap_ref)
            if error or trap.value:
                _raise(error, trap, cell)
            return result()

        call0.__wasm_func__ = func  # type: ignore[attr-defined]  # keeps the Func alive
        return call0
    if nparams == 1:

        def call1(a: int) -> int:
            first.i64 = a
            error = _CALL_UNCHECKED(cell[0], ref, slots, nslots, trap_ref)
            if error or trap.value:
                _raise(error, trap, cell)
            return result()

        call1.__wasm_func__ = func  # type: ignore[attr-defined]
        return call1

    def call2(a: int, b: int) -> int:
        first.i64 = a
        second.i64 = b
        error = _CALL_UNCHECKED(cell[0], ref, slots, nslots, trap_ref)
        if error or trap.value:
            _raise(error, trap, cell)
        return result()

    call2.__wasm_func__ = func  # type: ignore[attr-defined]
    return call2


def export_named(context: Any, instance: wasmtime.Instance, name: str) -> object | None:  # noqa: ANN401
    """The export `name` of `instance`, or None: one lookup by name.

    `context` is the store context of the moment (a `cell[0]`): a kernel function may be bound
    for the first time inside a host function. `Instance.exports` wraps every export of the
    instance the first time it is asked for (about 8 us each); a host that needs a few of them
    pays only for those.
    """
    data = name.encode()
    item = ffi.wasmtime_extern_t()
    found = ffi.wasmtime_instance_export_get(
        context,
        ctypes.byref(instance._instance),  # noqa: SLF001
        data,
        len(data),
        ctypes.byref(item),
    )
    return wrap_extern(item) if found else None


class RawMemory:
    """Bounds-checked reads and writes of one wasmtime memory, in the store context `cell[0]`."""

    def __init__(self, memory: wasmtime.Memory, cell: list[Any]) -> None:
        self._memory = memory  # keeps the memory alive for the reference below
        self._ref = ctypes.byref(memory._memory)  # noqa: SLF001
        self._cell = cell

    def _base(self) -> tuple[int, int]:
        ctx = self._cell[0]
        return _MEMORY_DATA(ctx, self._ref) or 0, _MEMORY_SIZE(ctx, self._ref)

    def read(self, offset: int, n: int) -> bytes:
        """Copy `n` bytes at `offset`; raise `PluginError` when out of bounds."""
        if n <= 0:
            return b""
        base, size = self._base()
        if offset < 0 or offset + n > size:
            msg = f"kernel memory: range {offset}+{n} is outside the {size}-byte memory"
            raise PluginError(msg)
        return ctypes.string_at(base + offset, n)

    def write(self, offset: int, data: bytes) -> None:
        """Copy `data` to `offset`; raise `PluginError` when out of bounds."""
        n = len(data)
        if not n:
            return
        base, size = self._base()
        if offset < 0 or offset + n > size:
            msg = f"kernel memory: range {offset}+{n} is outside the {size}-byte memory"
            raise PluginError(msg)
        ctypes.memmove(base + offset, data, n)
