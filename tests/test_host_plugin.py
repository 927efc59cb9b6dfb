"""Plugin.call round trips, failures and their messages, on our kernel and the official one."""

from __future__ import annotations

import json

import extism
import pytest
import wasmtime
from extism_kernel import check_plugin
from extism_kernel.host import LinkError, Plugin, PluginError

from tests.host_plugins import plugin_wasm

pytestmark = pytest.mark.usefixtures("host_runtime")  # every test on each runtime


def official(name: str, function: str, data: bytes) -> bytes:
    with extism.Plugin(plugin_wasm(name), functions=[]) as plugin:
        return bytes(plugin.call(function, data))


@pytest.mark.parametrize(
    ("name", "function", "data"),
    [
        ("echo", "echo", b"hello world"),
        ("echo", "echo", b""),
        ("echo", "echo", bytes(range(256)) * 3 + b"tail"),
        ("reverse", "reverse", b"hello world"),
        ("reverse", "reverse", b"x"),
        ("count_vowels", "count_vowels", b"hello world"),
        ("count_vowels", "count_vowels", b"Extism kernel AEIOU"),
        ("count_vowels", "count_vowels", b""),
    ],
)
def test_output_matches_official_sdk(kernel, name, function, data):
    with Plugin(plugin_wasm(name), kernel=kernel) as plugin:
        assert plugin.call(function, data) == official(name, function, data)


def test_count_vowels_json(kernel):
    plugin = Plugin(plugin_wasm("count_vowels"), kernel=kernel)
    assert json.loads(plugin.call("count_vowels", "hello world")) == {"count": 3}


def test_str_input_is_utf8(kernel):
    plugin = Plugin(plugin_wasm("echo"), kernel=kernel)
    assert plugin.call("echo", "héllo ☃") == "héllo ☃".encode()


def test_input_larger_than_a_page(kernel, host_runtime):
    size = 200_000 if host_runtime == "wasmtime" else 70_000  # pywasm: ~60 ms a KiB here
    data = bytes(i % 251 for i in range(size))
    plugin = Plugin(plugin_wasm("reverse"), kernel=kernel)
    assert plugin.call("reverse", data) == data[::-1]


def test_many_calls_reuse_the_kernel(kernel):
    plugin = Plugin(plugin_wasm("echo"), kernel=kernel)
    for i in range(300):
        assert plugin.call("echo", f"call {i}") == f"call {i}".encode()


@pytest.mark.parametrize(
    ("function", "message", "code", "kind"),
    [
        ("fail", "something went wrong", 1, "error"),
        ("fail_rc0", "something went wrong", 0, "error"),
        ("code", "function `code` returned non-zero exit code 7", 7, "code"),
        ("trap", "wasm trap: wasm `unreachable` instruction executed", 134, "trap"),
        ("trap_with_error", "something went wrong", -1, "error"),
    ],
)
def test_failures(kernel, function, message, code, kind):
    plugin = Plugin(plugin_wasm("fail"), kernel=kernel)
    with pytest.raises(PluginError) as info:
        plugin.call(function, b"x")
    assert (info.value.message, info.value.code, info.value.kind) == (message, code, kind)
    assert info.value.function == function
    assert plugin.call("ok", b"still usable") == b"still usable"


@pytest.mark.parametrize("function", ["fail", "fail_rc0", "trap_with_error"])
def test_plugin_error_message_matches_official_sdk(kernel, function):
    with (
        extism.Plugin(plugin_wasm("fail"), functions=[]) as theirs,
        pytest.raises(extism.Error) as info,
    ):
        theirs.call(function, b"x")
    with pytest.raises(PluginError) as ours:
        Plugin(plugin_wasm("fail"), kernel=kernel).call(function, b"x")
    assert str(ours.value) == str(info.value)


def test_unknown_function(kernel):
    plugin = Plugin(plugin_wasm("echo"), kernel=kernel)
    assert plugin.function_exists("echo")
    assert not plugin.function_exists("nope")
    assert not plugin.function_exists("memory")  # an export, but not a function
    with pytest.raises(PluginError, match="function `nope` not found") as info:
        plugin.call("nope", b"")
    assert info.value.kind == "missing"


def test_export_with_parameters_is_refused(kernel):
    wat = '(module (func (export "f") (param i32) (result i32) (local.get 0)))'
    with pytest.raises(PluginError, match=r"function `f` has type .*expected \(\) -> i32"):
        Plugin(wat.encode(), kernel=kernel).call("f", b"")


def test_export_without_result_means_success(kernel):
    wat = '(module (func (export "nothing")))'
    assert Plugin(wat.encode(), kernel=kernel).call("nothing", b"abc") == b""


def test_closed_plugin(kernel):
    with Plugin(plugin_wasm("echo"), kernel=kernel) as plugin:
        assert plugin.call("echo", b"a") == b"a"
    with pytest.raises(PluginError, match="plugin is closed"):
        plugin.call("echo", b"a")


def test_unprovided_import_fails_at_load(kernel):
    wat = """(module (import "extism:host/env" "no_such" (func (param i64) (result i64)))
                     (func (export "f") (result i32) (i32.const 0)))"""
    with pytest.raises(LinkError) as info:
        Plugin(wat.encode(), kernel=kernel)
    assert str(info.value) == (
        "cannot link `main`: module `main`: import `extism:host/env::no_such`: not in the ABI spec"
    )
    # the same fault in the same words as `check-plugin`
    report = check_plugin(bytes(wasmtime.wat2wasm(wat)))
    assert f"module `main`: {report.errors[0].message}" in str(info.value)


def test_mistyped_kernel_import_fails_at_load(kernel):
    wat = """(module (import "extism:host/env" "alloc" (func (param i32) (result i64)))
                     (func (export "f") (result i32) (i32.const 0)))"""
    with pytest.raises(
        LinkError,
        match=r"`extism:host/env::alloc`: expected \(i64\) -> i64 but found \(i32\) -> i64",
    ):
        Plugin(wat.encode(), kernel=kernel)


def test_kernel_memory_import_is_refused(kernel):
    wat = """(module (import "extism:host/env" "memory" (memory 1))
                     (func (export "f") (result i32) (i32.const 0)))"""
    with pytest.raises(LinkError, match="expected a function but found memory"):
        Plugin(wat.encode(), kernel=kernel)


def test_kernel_extensions_are_not_importable(kernel):
    """The host links the kernel instance whole; an export outside the spec still fails."""
    wat = """(module (import "extism:host/env" "begin_call" (func (param i64) (result i64)))
                     (func (export "f") (result i32) (i32.const 0)))"""
    with pytest.raises(LinkError, match=r"`extism:host/env::begin_call`: .* host-side extension"):
        Plugin(wat.encode(), kernel=kernel)


def test_wasi_import_without_wasi(kernel):
    with pytest.raises(LinkError, match=r"`wasi_snapshot_preview1::random_get`: needs WASI"):
        Plugin(plugin_wasm("wasi"), kernel=kernel)


def test_legacy_0x_plugin(kernel):
    plugin = Plugin(
        {"wasm": [{"data": plugin_wasm("legacy")}], "config": {"k": "v"}}, kernel=kernel
    )
    assert plugin.call("echo", b"from 0.x") == b"from 0.x"
    assert plugin.call("config", b"k") == b"v"


def test_official_sdk_cannot_load_legacy_plugin():
    """The 1.x runtime dropped the 0.x names; this host keeps them as aliases."""
    with pytest.raises(extism.Error, match="env"):
        extism.Plugin(plugin_wasm("legacy"), functions=[])


def test_start_section_runs_at_first_call(kernel):
    wat = """(module (import "extism:host/env" "output_set" (func $o (param i64 i64)))
               (global $g (mut i32) (i32.const 0))
               (func $start (global.set $g (i32.add (global.get $g) (i32.const 1))))
               (start $start)
               (func (export "starts") (result i32) (global.get $g)))"""
    plugin = Plugin(wat.encode(), kernel=kernel)
    with pytest.raises(PluginError, match="exit code 1"):
        plugin.call("starts", b"")


def test_unknown_runtime_is_refused():
    with pytest.raises(
        ValueError, match=r"^runtime `wasmer`: expected one of wasmtime, pywasm, wasm3$"
    ):
        Plugin(plugin_wasm("echo"), runtime="wasmer")


def test_plugin_names_its_runtime(host_runtime):
    with Plugin(plugin_wasm("echo")) as plugin:
        assert plugin.runtime == host_runtime


def test_each_runtime_loads_the_kernel_variant_it_names(
    host_runtime: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without `kernel=`, a Plugin links `kernel_bytes(runtime.kernel_variant)`: no setting."""
    from extism_kernel import _kernel, kernel_variants  # noqa: PLC0415
    from extism_kernel._runtimes import new_runtime  # noqa: PLC0415
    from extism_kernel.host import _plugin  # noqa: PLC0415

    variant = new_runtime(host_runtime).kernel_variant
    assert variant in kernel_variants()
    asked: list[str] = []

    def recording(name: str = _kernel.DEFAULT_VARIANT) -> bytes:
        asked.append(name)
        return _kernel.kernel_bytes(name)

    monkeypatch.setattr(_plugin, "kernel_bytes", recording)
    assert Plugin(plugin_wasm("echo"), functions=[]).call("echo", b"v") == b"v"
    assert asked == [variant]
