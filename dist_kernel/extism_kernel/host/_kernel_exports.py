"""The kernel instance's exports, bound by their ABI spec names and type-checked at link time.

Runtime-neutral: the runtime's `KernelInstance` (see `_runtime_api.py`) describes the exports
and hands out fast, unchecked callers of them; this class checks every export the spec lists
against `abi.json` once, so a bad kernel fails at link time, and then gives one typed method per
export plus the call protocol's two halves (`call_start`, `call_result`) and block helpers.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from extism_kernel._abi import AbiSpec, FuncSig, load_abi
from extism_kernel._abi_match import kernel_problems, sig_matches
from extism_kernel._errors import AbiMismatchError, PluginError
from extism_kernel._wasm import ModuleDesc

if TYPE_CHECKING:
    from collections.abc import Callable

    from extism_kernel.host._runtime_api import KernelInstance

U64 = (1 << 64) - 1
# The `call_state` record: input offset, input length, output offset, output length, error.
_CALL_STATE = struct.Struct("<5Q")


class _Bound:
    """Callers of checked kernel functions, bound on first use (a plugin uses a few of them).

    After the first access a caller is a plain instance attribute: no cost on the hot path.
    """

    def __init__(self, instance: KernelInstance, sigs: dict[str, FuncSig]) -> None:
        self._instance = instance
        self._sigs = sigs

    def __getattr__(self, name: str) -> Callable[..., int]:
        sig = self.__dict__["_sigs"].get(name)
        if sig is None:
            raise AttributeError(name)
        call = self._instance.function(name, sig)
        setattr(self, name, call)
        return call


class KernelExports:
    """Every function export of the kernel, bound by spec name, with one typed method each.

    Raises `AbiMismatchError` at construction when an export the spec lists is missing or has
    another type, so a bad kernel fails at link time, never in the middle of a call.
    """

    def __init__(self, instance: KernelInstance, spec: AbiSpec | None = None) -> None:
        spec = spec or load_abi()
        exports = instance.exports()
        desc = ModuleDesc(imports=(), exports=tuple(exports.values()))
        errors = [
            p.message for p in kernel_problems(desc, spec, strict=False) if p.severity == "error"
        ]
        if errors:
            raise AbiMismatchError("kernel", errors)
        fns = {func.name: func.sig for func in spec.functions}
        extensions = {  # ours only: used when present with the spec's type
            func.name: func.sig
            for func in spec.extensions
            if func.name in exports and sig_matches(exports[func.name].sig, func.sig)
        }
        self.instance = instance
        self._fn: Any = _Bound(instance, fns)
        # bound methods of the instance, stored as attributes: no extra Python frame a call
        self.read: Callable[[int, int], bytes] = instance.read
        self.write: Callable[[int, bytes], None] = instance.write
        # With both extensions a call costs two crossings instead of seven (see call_start).
        self._ext: Any = _Bound(instance, extensions)
        self.fast_calls = len(extensions) == len(spec.extensions)
        self._state_address = self._ext.call_state() if self.fast_calls else 0

    # the call protocol -------------------------------------------------------------------------
    def call_start(self, n: int) -> int:
        """Reset the kernel and reserve an `n`-byte input block; its handle (0 when n is 0).

        One crossing (`begin_call`) on kernels that have the extension, else `reset`, `alloc`
        and `input_set`. Raises `PluginError` (`oom`) when the block cannot be allocated.
        """
        if self.fast_calls:
            handle = self._ext.begin_call(n)
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

    # blocks ------------------------------------------------------------------------------------
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
        return self._fn.alloc(n)  # type: ignore[no-any-return]

    def free(self, handle: int) -> None:
        """Release the block at `handle`; ends the caller's ownership."""
        self._fn.free(handle)

    def length(self, handle: int) -> int:
        """Used length of the live block at `handle`, 0 when it is not one."""
        return self._fn.length(handle)  # type: ignore[no-any-return]

    def length_unsafe(self, handle: int) -> int:
        """Used length of the block at `handle` (the reference kernel skips validation)."""
        return self._fn.length_unsafe(handle)  # type: ignore[no-any-return]

    def load_u8(self, addr: int) -> int:
        """The byte at `addr`, 0 when out of bounds."""
        return self._fn.load_u8(addr)  # type: ignore[no-any-return]

    def load_u64(self, addr: int) -> int:
        """The little-endian u64 at `addr`, 0 when out of bounds."""
        return self._fn.load_u64(addr)  # type: ignore[no-any-return]

    def store_u8(self, addr: int, value: int) -> None:
        """Write the low byte of `value` at `addr`; no-op when out of bounds."""
        self._fn.store_u8(addr, value & 0xFF)

    def store_u64(self, addr: int, value: int) -> None:
        """Write `value` as a little-endian u64 at `addr`; no-op when out of bounds."""
        self._fn.store_u64(addr, value & U64)

    def input_set(self, handle: int, n: int) -> None:
        """Mark block `handle` of `n` bytes as the call's input; the kernel takes ownership."""
        self._fn.input_set(handle, n)

    def input_load_u8(self, offset: int) -> int:
        """The input byte at `offset`, 0 past the end."""
        return self._fn.input_load_u8(offset)  # type: ignore[no-any-return]

    def input_load_u64(self, offset: int) -> int:
        """The input u64 at `offset`, 0 past the end."""
        return self._fn.input_load_u64(offset)  # type: ignore[no-any-return]

    def input_length(self) -> int:
        """Length of the call's input."""
        return self._fn.input_length()  # type: ignore[no-any-return]

    def input_offset(self) -> int:
        """Handle of the call's input."""
        return self._fn.input_offset()  # type: ignore[no-any-return]

    def output_set(self, handle: int, n: int) -> None:
        """Mark `n` bytes at `handle` as the call's output; the kernel takes ownership."""
        self._fn.output_set(handle, n)

    def output_length(self) -> int:
        """Length of the call's output."""
        return self._fn.output_length()  # type: ignore[no-any-return]

    def output_offset(self) -> int:
        """Handle of the call's output."""
        return self._fn.output_offset()  # type: ignore[no-any-return]

    def reset(self) -> None:
        """Forget every allocation, the input, the output and the error."""
        self._fn.reset()

    def error_set(self, handle: int) -> None:
        """Set the error message block (0 clears it); the kernel takes ownership."""
        self._fn.error_set(handle)

    def error_get(self) -> int:
        """The error message handle, 0 when none is set."""
        return self._fn.error_get()  # type: ignore[no-any-return]

    def memory_bytes(self) -> int:
        """Bytes managed by the kernel's allocator."""
        return self._fn.memory_bytes()  # type: ignore[no-any-return]
