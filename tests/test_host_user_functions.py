"""User host functions: `host_fn` with inferred and explicit signatures, namespaces, errors."""

from __future__ import annotations

import extism
import pytest
from extism_kernel import ValType
from extism_kernel.host import CurrentPlugin, LinkError, Plugin, PluginError, Val, host_fn

from tests.host_plugins import plugin_wasm

pytestmark = pytest.mark.usefixtures(
    "host_runtime", "restore_host_fn_registry"
)  # every test on each runtime


@host_fn(name="to_upper")
def upper_str(text: str) -> str:
    return text.upper()


@host_fn(namespace="host")
def add(a: int, b: int) -> int:
    return a + b


def test_inferred_types(kernel):
    plugin = Plugin(plugin_wasm("host_fn"), kernel=kernel, functions=[upper_str, add])
    assert plugin.call("upper", "hello ☃") == "HELLO ☃".encode()
    assert plugin.call("add") == b"42"


def test_decorated_function_is_still_callable():
    assert upper_str("abc") == "ABC"
    assert add(1, 2) == 3


def test_explicit_signature_and_current_plugin(kernel):
    seen: list[object] = []

    @host_fn(name="to_upper", signature=([ValType.I64], [ValType.I64]), user_data="extra")
    def explicit(plugin: CurrentPlugin, params: list[Val], results: list[Val], data: str) -> None:
        seen.append(data)
        text = plugin.input_string(params[0])
        plugin.free(int(params[0].value))  # the host may free its argument
        plugin.return_string(results[0], f"<{text}>")

    plugin = Plugin(plugin_wasm("host_fn"), kernel=kernel, functions=[explicit, add])
    assert plugin.call("upper", "abc") == b"<abc>"
    assert seen == ["extra"]


def test_current_plugin_first_parameter(kernel):
    @host_fn(name="to_upper")
    def with_plugin(plugin: CurrentPlugin, handle: int) -> int:
        data = plugin.read_bytes(handle)
        assert plugin.length(handle) == len(data)
        return plugin.write_bytes(data[::-1])

    plugin = Plugin(plugin_wasm("host_fn"), kernel=kernel, functions=[with_plugin, add])
    assert plugin.call("upper", "abc") == b"cba"


def test_bytes_parameter_and_result(kernel):
    @host_fn(name="to_upper")
    def raw(data: bytes) -> bytes:
        return data + b"!"

    assert (
        Plugin(plugin_wasm("host_fn"), kernel=kernel, functions=[raw, add]).call("upper", "x")
        == b"x!"
    )


def test_matches_official_sdk(kernel):
    @extism.host_fn(name="to_upper")
    def their_upper(text: str) -> str:
        return text.upper()

    @extism.host_fn(
        name="add", namespace="host", signature=([extism.ValType.I64] * 2, [extism.ValType.I64])
    )
    def their_add(plugin, params, results):
        results[0].value = params[0].value + params[1].value

    with extism.Plugin(plugin_wasm("host_fn"), functions=[their_upper, their_add]) as theirs:
        expected = bytes(theirs.call("upper", "mixed Case")), bytes(theirs.call("add", b""))
    plugin = Plugin(plugin_wasm("host_fn"), kernel=kernel, functions=[upper_str, add])
    assert (plugin.call("upper", "mixed Case"), plugin.call("add")) == expected


def test_host_function_exception_fails_the_call(kernel):
    @host_fn(name="to_upper")
    def broken(text: str) -> str:
        msg = f"cannot shout `{text}`"
        raise ValueError(msg)

    plugin = Plugin(plugin_wasm("host_fn"), kernel=kernel, functions=[broken, add])
    with pytest.raises(PluginError, match="cannot shout `quiet`") as info:
        plugin.call("upper", "quiet")
    assert (info.value.code, info.value.kind) == (-1, "host")
    assert isinstance(info.value.__cause__, ValueError)
    assert plugin.call("add") == b"42"


def test_missing_user_function_fails_at_load(kernel):
    with pytest.raises(
        LinkError, match=r"import `host::add` of type \(i64, i64\) -> i64: not provided by the host"
    ):
        Plugin(plugin_wasm("host_fn"), kernel=kernel, functions=[upper_str])


def test_user_function_with_wrong_type_fails_at_load(kernel):
    @host_fn(namespace="host", name="add")
    def add_floats(a: float, b: float) -> float:
        return a + b

    with pytest.raises(
        LinkError, match=r"`host::add`: expected \(f64, f64\) -> f64 but found \(i64, i64\) -> i64"
    ):
        Plugin(plugin_wasm("host_fn"), kernel=kernel, functions=[upper_str, add_floats])


def test_type_that_cannot_be_inferred():
    with pytest.raises(TypeError, match="cannot infer a wasm type for `x`"):

        @host_fn()
        def bad(x: list[int]) -> None: ...


def test_manifest_module_linked_by_name(kernel):
    manifest = {
        "wasm": [{"data": plugin_wasm("lib"), "name": "lib"}, {"data": plugin_wasm("uses_lib")}]
    }
    assert Plugin(manifest, kernel=kernel, functions=[]).call("twice21") == b"42"
    with extism.Plugin(manifest, functions=[]) as theirs:
        assert bytes(theirs.call("twice21", b"")) == b"42"


def test_user_function_cannot_add_a_kernel_module_name(kernel):
    @host_fn(namespace="extism:host/env", name="no_such")
    def extra(a: int) -> int:
        return a

    wat = """(module (import "extism:host/env" "no_such" (func (param i64) (result i64)))
                     (func (export "f") (result i32) (i32.const 0)))"""
    with pytest.raises(LinkError, match=r"`extism:host/env::no_such`: not in the ABI spec"):
        Plugin(wat.encode(), kernel=kernel, functions=[extra])


def test_user_function_may_shadow_a_builtin(kernel):
    @host_fn(namespace="extism:host/env", name="config_get")
    def config_get(plugin: CurrentPlugin, key: int) -> int:
        return plugin.write_bytes(b"shadowed " + plugin.read_bytes(key))

    plugin = Plugin(plugin_wasm("config"), kernel=kernel, functions=[config_get])
    assert plugin.call("get_config", "key") == b"shadowed key"


def test_a_host_function_without_a_result_works(restore_host_fn_registry):
    calls = []

    @host_fn(name="record")
    def record(text: str) -> None:
        calls.append(text)

    wat = b"""(module
      (import "extism:host/user" "record" (func $record (param i64)))
      (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
      (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
      (func (export "run") (result i32) (local $h i64)
        (local.set $h (call $alloc (i64.const 1)))
        (call $store_u8 (local.get $h) (i32.const 104))
        (call $record (local.get $h))
        (i32.const 0)))"""
    assert Plugin(wat, functions=[record]).call("run") == b""
    assert calls == ["h"]
