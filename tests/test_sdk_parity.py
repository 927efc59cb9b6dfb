"""Code written for the official `extism` Python SDK runs unchanged on this host.

Each scenario is written once against the SDK's documented API and run twice: with the official
SDK (`import extism`) and with `import extism_kernel.host as extism`. Both must give the same
result.
"""

# no `from __future__ import annotations`: the SDK infers types from live annotations

import json
import pickle
import typing
from types import ModuleType
from typing import Annotated, Any

import extism as official
import extism_kernel.host as ours
import pytest

from tests.host_plugins import plugin_wasm

SDKS = [pytest.param(official, id="official-sdk"), pytest.param(ours, id="extism-kernel")]


def test_every_public_name_of_the_sdk_is_here() -> None:
    missing = sorted(set(official.__all__) - set(dir(ours)))
    assert missing == []


@pytest.mark.parametrize("extism", SDKS)
def test_type_inferred_host_functions_with_codecs(extism: ModuleType) -> None:
    @extism.host_fn(name="to_upper")
    def as_json(data: Annotated[dict, extism.Json]) -> Annotated[dict, extism.Json]:  # type: ignore[type-arg]
        return {"keys": sorted(data), "n": len(data)}

    @extism.host_fn(name="add", namespace="host")
    def add(a: int, b: int) -> int:
        return a + b

    with extism.Plugin(plugin_wasm("host_fn"), False, None, [as_json, add]) as plugin:  # noqa: FBT003
        got = plugin.call(
            "upper", json.dumps({"b": 1, "a": 2}), parse=lambda b: json.loads(bytes(b))
        )
    assert got == {"keys": ["a", "b"], "n": 2}


@pytest.mark.parametrize("extism", SDKS)
def test_pickle_and_codec(extism: ModuleType) -> None:
    @extism.host_fn(name="to_upper")
    def unpickle(obj: Annotated[list, extism.Pickle]) -> Annotated[str, extism.Codec(str.encode)]:  # type: ignore[type-arg]
        return "|".join(reversed(obj))

    @extism.host_fn(name="add", namespace="host")
    def add(a: int, b: int) -> int:
        return a + b

    with extism.Plugin(plugin_wasm("host_fn"), functions=[unpickle, add]) as plugin:
        assert plugin.call("upper", pickle.dumps(["x", "y", "z"])) == b"z|y|x"


@pytest.mark.parametrize("extism", SDKS)
def test_explicit_signature_memory_and_host_context(extism: ModuleType) -> None:
    @extism.host_fn(
        name="to_upper", signature=([extism.ValType.PTR], [extism.ValType.PTR]), user_data=b"!"
    )
    def shout(plugin: Any, params: list[Any], results: list[Any], suffix: bytes) -> None:
        text = plugin.input_string(params[0])
        context = plugin.host_context()
        out = f"{context['prefix']}{text.upper()}".encode() + suffix
        mem = plugin.alloc(len(out))
        plugin.memory(mem)[:] = out
        results[0].value = mem.offset

    @extism.host_fn(
        name="add",
        namespace="host",
        signature=([extism.ValType.I64, extism.ValType.I64], [extism.ValType.I64]),
    )
    def add(plugin: Any, params: list[Any], results: list[Any]) -> None:
        results[0].value = params[0].value + params[1].value

    with extism.Plugin(plugin_wasm("host_fn"), functions=[shout, add]) as plugin:
        assert plugin.function_exists("upper")
        assert not plugin.function_exists("nope")
        first = plugin.call("upper", "hi", host_context={"prefix": "1:"})
        second = plugin.call("upper", b"yo", host_context={"prefix": "2:"})
        assert plugin.call("add", b"") == b"42"
    assert (bytes(first), bytes(second)) == (b"1:HI!", b"2:YO!")


@pytest.mark.parametrize("extism", SDKS)
def test_failures_raise_error(extism: ModuleType) -> None:
    with extism.Plugin(plugin_wasm("fail"), functions=[]) as plugin:
        with pytest.raises(extism.Error) as info:
            plugin.call("fail", b"")
        assert "something went wrong" in str(info.value)
        assert plugin.call("ok", b"still") == b"still"
    with pytest.raises(extism.Error):
        extism.Plugin({"invalid_manifest": True}, functions=[])


@pytest.mark.parametrize("extism", SDKS)
def test_wasi_by_position_and_manifests(extism: ModuleType) -> None:
    with extism.Plugin(plugin_wasm("wasi"), True, functions=[]) as plugin:  # noqa: FBT003
        assert plugin.call("initialized", b"") == b"1"
    manifest = {"wasm": [{"data": plugin_wasm("config")}], "config": {"k": "v"}}
    with extism.Plugin(manifest, functions=[]) as plugin:
        assert plugin.call("get_config", "k") == b"v"


@pytest.mark.parametrize("extism", SDKS)
def test_version_and_val(extism: ModuleType) -> None:
    assert isinstance(extism.extism_version(), str)
    assert extism.extism_version()
    val = extism.Val(extism.ValType.I64, 5)
    assert (val.t, val.value) == (extism.ValType.I64, 5)
    assert extism.ValType.PTR == extism.ValType.I64
    mem = extism.Memory(8, 3)
    assert (mem.offset, len(mem)) == (8, 3)


def test_custom_log_drains_the_plugins_logs() -> None:
    lines: list[str] = []
    logger = ours.set_log_custom(lines.append, "trace")
    with ours.Plugin(plugin_wasm("logger"), functions=[]) as plugin:
        plugin.call("log_all", "hello")
    logger.drain()
    assert len(lines) == 5
    assert all("hello" in line for line in lines)
    logger.drain()
    assert len(lines) == 5


def test_log_file(tmp_path: Any) -> None:
    path = tmp_path / "plugin.log"
    ours.set_log_file(str(path), "warn")
    with ours.Plugin(plugin_wasm("logger"), functions=[]) as plugin:
        plugin.call("log_all", "to the file")
    text = path.read_text(encoding="utf-8")
    assert text.count("to the file") == 2  # warn and error
    ours.set_log_custom(lambda _: None, "error")  # detach the file for later tests


def test_call_with_a_dict_is_a_clear_type_error() -> None:
    plugin = ours.Plugin(plugin_wasm("echo"), functions=[])
    with pytest.raises(TypeError, match="`data` must be bytes or str but found dict"):
        plugin.call("echo", typing.cast("Any", {"a": 1}))
