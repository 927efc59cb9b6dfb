"""The kernel instance's exports, bound by their ABI spec names and type-checked at link time.

This module and `_plugin.py` are the only wasmtime-specific code of the host. Every kernel
function is bound once, checked against `abi.json`, and then called through wasmtime's unchecked
entry point (`wasmtime_func_call_unchecked`) with a preallocated argument buffer: the link-time
type check is what makes that safe, and it cuts a host->kernel crossing from about 9 us
(`Func.__call__` re-reads the type and converts every value) to about 1 us.

Inside a host function the kernel must be called through the wasmtime `Caller`, not the store:
`enter(caller)` / `leave(token)` swap the context used by every method.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NoReturn

import wasmtime
from wasmtime import _bindings as ffi
from wasmtime._func import maybe_raise_last_exn

from extism_kernel._abi import AbiSpec, FuncSig, ValType, load_abi
from extism_kernel._errors import AbiMismatchError, PluginError

if TYPE_CHECKING:
    from collections.abc import Mapping

U64 = (1 << 64) - 1
# The `call_state` record: input offset, input length, output offset, output length, error.
_CALL_STATE = struct.Struct("<5Q")
_VALTYPES = {
    ValType.I32: wasmtime.ValType.i32(),
    ValType.I64: wasmtime.ValType.i64(),
    ValType.F32: wasmtime.ValType.f32(),
    ValType.F64: wasmtime.ValType.f64(),
}


def wasm_type(sig: FuncSig) -> wasmtime.FuncType:
    """The wasmtime FuncType of a spec signature (not cached: wasmtime ties types to an engine)."""
    return wasmtime.FuncType(
        [_VALTYPES[t] for t in sig.param_types], [_VALTYPES[t] for t in sig.results]
    )


def same_type(found: wasmtime.FuncType, sig: FuncSig) -> bool:
    """Whether a wasmtime FuncType equals a spec signature."""
    want = wasm_type(sig)
    return list(found.params) == list(want.params) and list(found.results) == list(want.results)


def render_type(ty: wasmtime.FuncType) -> str:
    """A wasmtime FuncType as messages show it, e.g. `(i64) -> i64`."""
    params = ", ".join(str(t) for t in ty.params)
    results = ", ".join(str(t) for t in ty.results) or "()"
    return f"({params}) -> {results}"


# Our own handles on two C functions (`dll[...]` makes new function objects, so wasmtime-py's own
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


def _raise(error: int | None, trap: ctypes.c_void_p) -> NoReturn:
    """Raise what a failed unchecked call left: a host function's exception, an error or a trap."""
    trap_ptr, trap.value = trap.value, None
    try:
        maybe_raise_last_exn()  # a Python exception raised by a host function, unchanged
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
    func: wasmtime.Func, nparams: int, results: tuple[ValType, ...]
) -> Callable[..., int]:
    """A caller of `func` without per-call type checks: only for link-time-checked types.

    The returned function takes the store context and the integer parameters, and returns the
    result as an unsigned integer (handles are u64 in the ABI), a signed i32, or 0 when the
    function has no result. Raises `wasmtime.Trap` (or the host function's own exception).
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

        def call0(ctx: object) -> int:
            error = _CALL_UNCHECKED(ctx, ref, slots, nslots, trap_ref)
            if error or trap.value:
                _raise(error, trap)
            return result()

        call0.__wasm_func__ = func  # type: ignore[attr-defined]  # keeps the Func alive
        return call0
    if nparams == 1:

        def call1(ctx: object, a: int) -> int:
            first.i64 = a
            error = _CALL_UNCHECKED(ctx, ref, slots, nslots, trap_ref)
            if error or trap.value:
                _raise(error, trap)
            return result()

        call1.__wasm_func__ = func  # type: ignore[attr-defined]
        return call1

    def call2(ctx: object, a: int, b: int) -> int:
        first.i64 = a
        second.i64 = b
        error = _CALL_UNCHECKED(ctx, ref, slots, nslots, trap_ref)
        if error or trap.value:
            _raise(error, trap)
        return result()

    call2.__wasm_func__ = func  # type: ignore[attr-defined]
    return call2


class KernelExports:
    """Every function export of the kernel, bound by spec name, with one typed method each.

    Raises `AbiMismatchError` at construction when an export the spec lists is missing or has
    another type, so a bad kernel fails at link time, never in the middle of a call.
    """

    def __init__(
        self, store: wasmtime.Store, instance: wasmtime.Instance, spec: AbiSpec | None = None
    ) -> None:
        spec = spec or load_abi()
        exports = instance.exports(store)
        names = set(exports)
        problems: list[str] = []
        funcs: dict[str, wasmtime.Func] = {}
        for func in spec.functions:
            item = exports[func.name] if func.name in names else None
            if not isinstance(item, wasmtime.Func):
                problems.append(
                    f"export `{func.name}`: expected func {func.sig} but found "
                    f"{'nothing' if item is None else type(item).__name__.lower()}"
                )
                continue
            found = item.type(store)
            if not same_type(found, func.sig):
                problems.append(
                    f"export `{func.name}`: expected {func.sig} but found {render_type(found)}"
                )
                continue
            funcs[func.name] = item
        memory = exports[spec.memory.name] if spec.memory.name in names else None
        if not isinstance(memory, wasmtime.Memory):
            problems.append(f"export `{spec.memory.name}`: expected memory but found nothing")
        extensions = {}
        for func in spec.extensions:  # ours only: used when present with the spec's type
            item = exports[func.name] if func.name in names else None
            if isinstance(item, wasmtime.Func) and same_type(item.type(store), func.sig):
                extensions[func.name] = bind_raw(item, len(func.sig.params), func.sig.results)
        if problems:
            raise AbiMismatchError("kernel", problems)
        assert isinstance(memory, wasmtime.Memory)  # for mypy; checked above
        self.funcs: Mapping[str, wasmtime.Func] = funcs
        self.memory = memory
        self._memory_ref = ctypes.byref(memory._memory)  # noqa: SLF001
        by_name = {f.name: f for f in spec.functions}
        self._fn = SimpleNamespace(
            **{
                name: bind_raw(func, len(by_name[name].sig.params), by_name[name].sig.results)
                for name, func in funcs.items()
            }
        )
        self._store = store  # the raw context pointer below is only valid while the store lives
        self._ctx: Any = store._context()  # noqa: SLF001
        # With both extensions a call costs two crossings instead of seven (see call_start).
        self._ext = SimpleNamespace(**extensions)
        self.fast_calls = len(extensions) == len(spec.extensions)
        self._state_address = self._ext.call_state(self._ctx) if self.fast_calls else 0

    # the call protocol -------------------------------------------------------------------------
    def call_start(self, n: int) -> int:
        """Reset the kernel and reserve an `n`-byte input block; its handle (0 when n is 0).

        One crossing (`begin_call`) on kernels that have the extension, else `reset`, `alloc`
        and `input_set`. Raises `PluginError` (`oom`) when the block cannot be allocated.
        """
        if self.fast_calls:
            handle = self._ext.begin_call(self._ctx, n)
        else:
            self.reset()
            handle = self.alloc(n) if n else 0
            if handle:
                self.input_set(handle, n)
        if n and not handle:
            raise PluginError("oom", kind="oom")
        return handle  # type: ignore[no-any-return]

    def call_result(self) -> tuple[int, int, int]:
        """The call's error handle, output offset and output length.

        No crossing on kernels with the `call_state` extension (40 bytes are read from the
        kernel's call-state record), else three calls to the getters.
        """
        if self.fast_calls:
            record = self.read(self._state_address, _CALL_STATE.size)
            _, _, offset, length, error = _CALL_STATE.unpack(record)
            return error, offset, length
        return self.error_get(), self.output_offset(), self.output_length()

    # context switching -------------------------------------------------------------------
    def enter(self, caller: wasmtime.Caller) -> object:
        """Call the kernel through `caller` until `leave(token)`; return the token."""
        token = self._ctx
        self._ctx = caller._context()  # noqa: SLF001
        return token

    def leave(self, token: object) -> None:
        """Restore the context that `enter` replaced."""
        self._ctx = token

    # raw memory ----------------------------------------------------------------------------
    def _base(self) -> tuple[int, int]:
        return _MEMORY_DATA(self._ctx, self._memory_ref) or 0, _MEMORY_SIZE(
            self._ctx, self._memory_ref
        )

    def read(self, offset: int, n: int) -> bytes:
        """Copy `n` bytes of kernel memory at `offset`; raise `PluginError` when out of bounds."""
        if n <= 0:
            return b""
        base, size = self._base()
        if offset < 0 or offset + n > size:
            msg = f"kernel memory: range {offset}+{n} is outside the {size}-byte memory"
            raise PluginError(msg)
        return ctypes.string_at(base + offset, n)

    def write(self, offset: int, data: bytes) -> None:
        """Copy `data` into kernel memory at `offset`; raise `PluginError` when out of bounds."""
        n = len(data)
        if not n:
            return
        base, size = self._base()
        if offset < 0 or offset + n > size:
            msg = f"kernel memory: range {offset}+{n} is outside the {size}-byte memory"
            raise PluginError(msg)
        ctypes.memmove(base + offset, data, n)

    def read_block(self, handle: int) -> bytes:
        """The bytes of the live block `handle` (empty for 0 or a handle that is no block)."""
        return self.read(handle, self.length(handle)) if handle else b""

    def new_block(self, data: bytes) -> int:
        """Allocate a block holding `data`; return its handle (0 for empty data).

        Ownership: the caller owns the new block. Raises `PluginError` (`oom`) when the kernel
        cannot allocate.
        """
        if not data:
            return 0
        handle = self.alloc(len(data))
        if not handle:
            raise PluginError("oom", kind="oom")
        self.write(handle, data)
        return handle

    # one typed method per spec export --------------------------------------------------------
    def alloc(self, n: int) -> int:
        """New block of `n` bytes; 0 when n is 0 or out of memory. The caller owns it."""
        return self._fn.alloc(self._ctx, n)  # type: ignore[no-any-return]

    def free(self, handle: int) -> None:
        """Release the block at `handle`; ends the caller's ownership."""
        self._fn.free(self._ctx, handle)

    def length(self, handle: int) -> int:
        """Used length of the live block at `handle`, 0 when it is not one."""
        return self._fn.length(self._ctx, handle)  # type: ignore[no-any-return]

    def length_unsafe(self, handle: int) -> int:
        """Used length of the block at `handle` (the reference kernel skips validation)."""
        return self._fn.length_unsafe(self._ctx, handle)  # type: ignore[no-any-return]

    def load_u8(self, addr: int) -> int:
        """The byte at `addr`, 0 when out of bounds."""
        return self._fn.load_u8(self._ctx, addr)  # type: ignore[no-any-return]

    def load_u64(self, addr: int) -> int:
        """The little-endian u64 at `addr`, 0 when out of bounds."""
        return self._fn.load_u64(self._ctx, addr)  # type: ignore[no-any-return]

    def store_u8(self, addr: int, value: int) -> None:
        """Write the low byte of `value` at `addr`; no-op when out of bounds."""
        self._fn.store_u8(self._ctx, addr, value & 0xFF)

    def store_u64(self, addr: int, value: int) -> None:
        """Write `value` as a little-endian u64 at `addr`; no-op when out of bounds."""
        self._fn.store_u64(self._ctx, addr, value & U64)

    def input_set(self, handle: int, n: int) -> None:
        """Mark block `handle` of `n` bytes as the call's input; the kernel takes ownership."""
        self._fn.input_set(self._ctx, handle, n)

    def input_load_u8(self, offset: int) -> int:
        """The input byte at `offset`, 0 past the end."""
        return self._fn.input_load_u8(self._ctx, offset)  # type: ignore[no-any-return]

    def input_load_u64(self, offset: int) -> int:
        """The input u64 at `offset`, 0 past the end."""
        return self._fn.input_load_u64(self._ctx, offset)  # type: ignore[no-any-return]

    def input_length(self) -> int:
        """Length of the call's input."""
        return self._fn.input_length(self._ctx)  # type: ignore[no-any-return]

    def input_offset(self) -> int:
        """Handle of the call's input."""
        return self._fn.input_offset(self._ctx)  # type: ignore[no-any-return]

    def output_set(self, handle: int, n: int) -> None:
        """Mark `n` bytes at `handle` as the call's output; the kernel takes ownership."""
        self._fn.output_set(self._ctx, handle, n)

    def output_length(self) -> int:
        """Length of the call's output."""
        return self._fn.output_length(self._ctx)  # type: ignore[no-any-return]

    def output_offset(self) -> int:
        """Handle of the call's output."""
        return self._fn.output_offset(self._ctx)  # type: ignore[no-any-return]

    def reset(self) -> None:
        """Forget every allocation, the input, the output and the error."""
        self._fn.reset(self._ctx)

    def error_set(self, handle: int) -> None:
        """Set the error message block (0 clears it); the kernel takes ownership."""
        self._fn.error_set(self._ctx, handle)

    def error_get(self) -> int:
        """The error message handle, 0 when none is set."""
        return self._fn.error_get(self._ctx)  # type: ignore[no-any-return]

    def memory_bytes(self) -> int:
        """Bytes managed by the kernel's allocator."""
        return self._fn.memory_bytes(self._ctx)  # type: ignore[no-any-return]
