"""User host functions: the `host_fn` decorator and `CurrentPlugin`, the typed memory helper.

Runtime-neutral. Shaped like the official Python SDK so code can move between the two:

    @host_fn()
    def to_upper(text: str) -> str:          # str/bytes params are handles read from the kernel
        return text.upper()                  # str/bytes results become new blocks

    @host_fn(signature=([ValType.I64], [ValType.I64]))
    def raw(plugin: CurrentPlugin, params: list[Val], results: list[Val]) -> None:
        results[0].value = plugin.write_bytes(plugin.read_bytes(params[0].value)[::-1])

Inferred types: `bytes`/`str` -> i64 handle, `int` -> i64, `float` -> f64, `bool` -> i32,
`Annotated[T, Json]`, `Annotated[T, Pickle]` and `Annotated[T, Codec(f)]` -> i64 handle of the
encoded block, a `tuple[...]` result -> several results; a first parameter annotated
`CurrentPlugin` receives the helper. The default namespace is the spec's user module
(`extism:host/user`).
"""

from __future__ import annotations

import json
import pickle  # the official SDK's `Pickle` codec: the host's own objects
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from extism_kernel._abi import ValType, load_abi

if typing.TYPE_CHECKING:
    from extism_kernel.host._host_functions import HostEnv, Kernel

WASM_VALUE_TYPES = (ValType.I32, ValType.I64, ValType.F32, ValType.F64)


class Json:
    """Typing metadata: `Annotated[T, Json]` passes a block as JSON (decoded, or encoded)."""


class Pickle:
    """Typing metadata: `Annotated[T, Pickle]` passes a block as a pickled Python object."""


class Codec:
    """Typing metadata: `Annotated[T, Codec(f)]` passes a block through `f` (bytes in or out)."""

    def __init__(self, codec: Callable[[Any], Any]) -> None:
        self.codec = codec


class Memory(int):
    """A block of kernel memory: an int (its handle, the offset) with `offset` and `length`."""

    length: int

    def __new__(cls, offset: int, length: int) -> Memory:  # noqa: PYI034  # int subclass
        """The block at `offset` of `length` bytes."""
        obj = super().__new__(cls, offset)
        obj.length = length
        return obj

    @property
    def offset(self) -> int:
        """The block's handle: its address in kernel memory."""
        return int(self)

    def __len__(self) -> int:
        """The block's length in bytes."""
        return self.length


class KernelBuffer:
    """A window onto one block of kernel memory: slices read and write it (`buf[:] = data`)."""

    def __init__(self, kernel: Kernel, mem: Memory) -> None:
        self._kernel = kernel
        self._offset = mem.offset
        self._length = mem.length

    def __len__(self) -> int:
        """The window's length."""
        return self._length

    def __bytes__(self) -> bytes:
        """Everything in the window."""
        return self._kernel.read(self._offset, self._length)

    def _range(self, key: slice) -> range:
        return range(*key.indices(self._length))

    def __getitem__(self, key: slice | int) -> bytes | int:
        """Bytes of a slice, or one byte's value."""
        if isinstance(key, int):
            index = range(self._length)[key]
            return self._kernel.read(self._offset + index, 1)[0]
        span = self._range(key)
        if span.step != 1:
            return bytes(bytes(self)[key])
        return self._kernel.read(self._offset + span.start, len(span))

    def __setitem__(self, key: slice | int, data: bytes | int) -> None:
        """Write into the window; a slice must get exactly as many bytes as it spans."""
        if isinstance(key, int):
            index = range(self._length)[key]
            self._kernel.write(self._offset + index, bytes([int(data)]))
            return
        span = self._range(key)
        payload = bytes(data)
        if span.step != 1 or len(span) != len(payload):
            msg = f"kernel buffer: {len(payload)} bytes do not fit a slice of {len(span)}"
            raise ValueError(msg)
        self._kernel.write(self._offset + span.start, payload)


class CurrentPlugin:
    """The kernel as a user host function sees it: read and write blocks by handle.

    Valid only during the host function call that received it.
    """

    def __init__(
        self,
        kernel: Kernel,
        user_data: Any = None,  # noqa: ANN401
        env: HostEnv | None = None,
    ) -> None:
        self._kernel = kernel
        self.user_data = user_data
        self._env = env

    def host_context(self) -> Any:  # noqa: ANN401
        """The `host_context` the running call was given (`Plugin.call(..., host_context=)`)."""
        return None if self._env is None else self._env.host_context

    def memory(self, mem: Memory) -> KernelBuffer:
        """A window onto block `mem` (from `alloc` or `memory_at_offset`): slice to read/write."""
        return KernelBuffer(self._kernel, mem)

    def memory_at_offset(self, offset: int | Val) -> Memory:
        """The live block at `offset` (a handle, or a `Val` holding one), with its length."""
        handle = int(offset.value if isinstance(offset, Val) else offset)
        return Memory(handle, self.length(handle))

    def read_bytes(self, handle: int) -> bytes:
        """The bytes of block `handle` (empty for 0 or a handle that is not a block)."""
        return self._kernel.read_block(handle)

    def read_str(self, handle: int) -> str:
        """The block `handle` decoded as UTF-8."""
        return self.read_bytes(handle).decode()

    def write_bytes(self, data: bytes) -> int:
        """A new block holding `data`; return its handle (0 for empty). The plugin owns it."""
        return self._kernel.new_block(bytes(data))

    def write_str(self, text: str) -> int:
        """A new block holding `text` as UTF-8; return its handle."""
        return self.write_bytes(text.encode())

    def alloc(self, n: int) -> Memory:
        """A new block of `n` bytes (an int handle, 0 when n is 0 or out of memory)."""
        handle = self._kernel.alloc(n)
        return Memory(handle, n if handle else 0)

    def free(self, handle: int) -> None:
        """Release block `handle` (an int or a `Memory`)."""
        self._kernel.free(int(handle))

    def length(self, handle: int) -> int:
        """Length of block `handle`, 0 when it is not a live block."""
        return self._kernel.length(handle)

    # the official SDK's spellings, for code that moves between the two
    def input_bytes(self, param: Val | int) -> bytes:
        """The bytes of the block a parameter points to."""
        return self.read_bytes(int(param.value if isinstance(param, Val) else param))

    def input_string(self, param: Val | int) -> str:
        """The text of the block a parameter points to."""
        return self.input_bytes(param).decode()

    def return_bytes(self, result: Val, data: bytes) -> None:
        """Put a new block holding `data` into `result`."""
        result.value = self.write_bytes(data)

    def return_string(self, result: Val, text: str) -> None:
        """Put a new block holding `text` into `result`."""
        result.value = self.write_str(text)


@dataclass
class Val:
    """A wasm value for explicit-signature host functions: its type and (mutable) value."""

    t: ValType
    value: int | float


_PARAM_TYPES: dict[object, ValType] = {
    bytes: ValType.I64,
    str: ValType.I64,
    int: ValType.I64,
    float: ValType.F64,
    bool: ValType.I32,
}


@dataclass(frozen=True)
class HostFunction:
    """A user host function: where it links, its wasm type and how to run it.

    `invoke(plugin, args)` takes the raw wasm arguments and returns the raw result (one value,
    a tuple, or None).
    """

    name: str
    namespace: str
    params: tuple[ValType, ...]
    results: tuple[ValType, ...]
    func: Callable[..., Any]
    explicit: bool = False
    user_data: tuple[Any, ...] = ()
    uses_plugin: bool = False
    param_kinds: tuple[object, ...] = ()
    result_kinds: tuple[object, ...] = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        """Call the decorated Python function directly."""
        return self.func(*args, **kwargs)

    def invoke(self, plugin: CurrentPlugin, args: Sequence[int | float]) -> Any:  # noqa: ANN401
        """Run the function for a wasm call; return the raw result(s)."""
        if self.explicit:
            params = [Val(t, a) for t, a in zip(self.params, args, strict=True)]
            results = [Val(t, 0) for t in self.results]
            self.func(plugin, params, results, *self.user_data)
            return _pack([r.value for r in results])
        py_args: list[Any] = [plugin] if self.uses_plugin else []
        for kind, arg in zip(self.param_kinds, args, strict=True):
            if kind is bytes:
                py_args.append(plugin.read_bytes(int(arg)))
            elif kind is str:
                py_args.append(plugin.read_str(int(arg)))
            elif isinstance(kind, Encoded):
                py_args.append(kind.decode(plugin.read_bytes(int(arg))))
            else:
                py_args.append(kind(arg))  # type: ignore[operator]
        value = self.func(*py_args, *self.user_data)
        if not self.result_kinds:  # `-> None`: a function with no wasm result
            return None
        values = value if len(self.result_kinds) > 1 else (value,)
        return _pack(
            [_to_wasm(plugin, k, v) for k, v in zip(self.result_kinds, values, strict=True)]
        )


def _pack(values: list[Any]) -> Any:  # noqa: ANN401
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def _to_wasm(plugin: CurrentPlugin, kind: object, value: Any) -> int | float:  # noqa: ANN401
    if isinstance(kind, Encoded):
        return plugin.write_bytes(kind.encode(value))
    if kind is bytes:
        return plugin.write_bytes(value)
    if kind is str:
        return plugin.write_str(value)
    if kind is float:
        return float(value)
    return int(value)


HOST_FN_REGISTRY: list[HostFunction] = []


@dataclass(frozen=True)
class Encoded:
    """A parameter or result passed as a block, through a codec (`Json`, `Pickle`, `Codec`)."""

    decode: Callable[[bytes], Any]
    encode: Callable[[Any], bytes]


def _json_encode(value: Any) -> bytes:  # noqa: ANN401
    return json.dumps(value).encode()


def _kind(hint: object) -> object | None:
    """What a parameter or result annotation means for the wasm call; None when nothing."""
    if hint in _PARAM_TYPES:
        return hint
    for meta in getattr(hint, "__metadata__", ()):
        if meta is Json:
            return Encoded(json.loads, _json_encode)
        if meta is Pickle:
            return Encoded(pickle.loads, pickle.dumps)
        if isinstance(meta, Codec):
            return Encoded(meta.codec, meta.codec)
    return None


def _infer(func: Callable[..., Any]) -> tuple[bool, tuple[object, ...], tuple[object, ...]]:
    hints = typing.get_type_hints(func, include_extras=True)
    returns = hints.pop("return", None)
    names = [n for n in func.__code__.co_varnames[: func.__code__.co_argcount] if n in hints]
    uses_plugin = bool(names) and hints[names[0]] is CurrentPlugin
    if uses_plugin:
        names = names[1:]
    params = []
    for name in names:
        kind = _kind(hints[name])
        if kind is None:
            msg = f"host function `{func.__name__}`: cannot infer a wasm type for `{name}`"
            raise TypeError(msg)
        params.append(kind)
    if returns is None or returns is type(None):
        hints_out: tuple[object, ...] = ()
    elif typing.get_origin(returns) is tuple:
        hints_out = typing.get_args(returns)
    else:
        hints_out = (returns,)
    results = tuple(_kind(hint) for hint in hints_out)
    if any(kind is None for kind in results):
        msg = f"host function `{func.__name__}`: cannot infer a wasm type for its result"
        raise TypeError(msg)
    return uses_plugin, tuple(params), results


def _wasm_type(kind: object) -> ValType:
    return ValType.I64 if isinstance(kind, Encoded) else _PARAM_TYPES[kind]


def host_fn(
    name: str | None = None,
    namespace: str | None = None,
    signature: tuple[Sequence[ValType], Sequence[ValType]] | None = None,
    user_data: Any = None,  # noqa: ANN401
) -> Callable[[Callable[..., Any]], HostFunction]:
    """Declare a Python function as a host function plugins can import.

    Without `signature`, the wasm types are inferred from the annotations (see the module
    docstring). With it, the function is called as `f(current_plugin, params, results,
    *user_data)` and sets `results[i].value`. The function is also added to the registry that
    `Plugin(functions=None)` links. Raises `TypeError` when a type cannot be inferred.
    """
    extra: tuple[Any, ...]
    if user_data is None:
        extra = ()
    elif isinstance(user_data, (list, tuple)):
        extra = tuple(user_data)
    else:
        extra = (user_data,)

    def decorate(func: Callable[..., Any]) -> HostFunction:
        ns = namespace or load_abi().user_module
        if signature is not None:
            unsupported = [t for t in (*signature[0], *signature[1]) if t not in WASM_VALUE_TYPES]
            if unsupported:
                msg = f"host function `{name or func.__name__}`: `{unsupported[0]}` not supported"
                raise TypeError(msg)
            fn = HostFunction(
                name or func.__name__,
                ns,
                tuple(signature[0]),
                tuple(signature[1]),
                func,
                explicit=True,
                user_data=extra,
            )
        else:
            uses_plugin, params, results = _infer(func)
            fn = HostFunction(
                name or func.__name__,
                ns,
                tuple(_wasm_type(k) for k in params),
                tuple(_wasm_type(k) for k in results),
                func,
                user_data=extra,
                uses_plugin=uses_plugin,
                param_kinds=params,
                result_kinds=results,
            )
        HOST_FN_REGISTRY.append(fn)
        return fn

    return decorate
