"""User host functions: the `host_fn` decorator and `CurrentPlugin`, the typed memory helper.

Runtime-neutral. Shaped like the official Python SDK so code can move between the two:

    @host_fn()
    def to_upper(text: str) -> str:          # str/bytes params are handles read from the kernel
        return text.upper()                  # str/bytes results become new blocks

    @host_fn(signature=([ValType.I64], [ValType.I64]))
    def raw(plugin: CurrentPlugin, params: list[Val], results: list[Val]) -> None:
        results[0].value = plugin.write_bytes(plugin.read_bytes(params[0].value)[::-1])

Inferred types: `bytes`/`str` -> i64 handle, `int` -> i64, `float` -> f64, `bool` -> i32, a
`tuple[...]` result -> several results; a first parameter annotated `CurrentPlugin` receives the
helper. The default namespace is the spec's user module (`extism:host/user`).
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from extism_kernel._abi import ValType, load_abi

if typing.TYPE_CHECKING:
    from extism_kernel.host._host_functions import Kernel


class CurrentPlugin:
    """The kernel as a user host function sees it: read and write blocks by handle.

    Valid only during the host function call that received it.
    """

    def __init__(self, kernel: Kernel, user_data: Any = None) -> None:  # noqa: ANN401
        self._kernel = kernel
        self.user_data = user_data

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

    def alloc(self, n: int) -> int:
        """A new block of `n` bytes (0 when n is 0 or out of memory)."""
        return self._kernel.alloc(n)

    def free(self, handle: int) -> None:
        """Release block `handle`."""
        self._kernel.free(handle)

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
    if kind is bytes:
        return plugin.write_bytes(value)
    if kind is str:
        return plugin.write_str(value)
    if kind is float:
        return float(value)
    return int(value)


HOST_FN_REGISTRY: list[HostFunction] = []


def _infer(func: Callable[..., Any]) -> tuple[bool, tuple[object, ...], tuple[object, ...]]:
    hints = typing.get_type_hints(func)
    returns = hints.pop("return", None)
    names = [n for n in func.__code__.co_varnames[: func.__code__.co_argcount] if n in hints]
    uses_plugin = bool(names) and hints[names[0]] is CurrentPlugin
    if uses_plugin:
        names = names[1:]
    params = []
    for name in names:
        if hints[name] not in _PARAM_TYPES:
            msg = f"host function `{func.__name__}`: cannot infer a wasm type for `{name}`"
            raise TypeError(msg)
        params.append(hints[name])
    if returns is None or returns is type(None):
        results: tuple[object, ...] = ()
    elif typing.get_origin(returns) is tuple:
        results = typing.get_args(returns)
    else:
        results = (returns,)
    for kind in results:
        if kind not in _PARAM_TYPES:
            msg = f"host function `{func.__name__}`: cannot infer a wasm type for its result"
            raise TypeError(msg)
    return uses_plugin, tuple(params), results


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
                tuple(_PARAM_TYPES[k] for k in params),
                tuple(_PARAM_TYPES[k] for k in results),
                func,
                user_data=extra,
                uses_plugin=uses_plugin,
                param_kinds=params,
                result_kinds=results,
            )
        HOST_FN_REGISTRY.append(fn)
        return fn

    return decorate
