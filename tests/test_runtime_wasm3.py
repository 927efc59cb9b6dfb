"""The wasm3 runtime: the conformance suite, the features it lacks, its kernel, memory limits."""

from __future__ import annotations

import sys

import pytest
from extism_kernel._cli import main
from extism_kernel._conformance import load_suite
from extism_kernel._errors import ManifestError, MissingDependencyError
from extism_kernel._kernel import kernel_bytes
from extism_kernel._runtimes import new_runtime
from extism_kernel.host import Plugin, PluginError, UnsupportedFeatureError, ValType, host_fn
from extism_kernel.host._conformance_runner import run_suite
from extism_kernel.host._wasm3_binary import cap_memories

from tests.host_plugins import plugin_wasm

pytest.importorskip("wasm3")

SUITE = load_suite()
NO_REF = "no-reference-types"
GROWER = (
    '(module (memory (export "memory") 1) (func (export "grow") (result i32)'
    " (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))"
    " (memory.size)))"
)


def manifest(name: str, **extra: object) -> dict[str, object]:
    return {"wasm": [{"data": plugin_wasm(name)}], **extra}


def test_conformance_suite_passes() -> None:
    report = run_suite(runtime="wasm3")
    assert [r.name for r in report.results if not r.passed] == []
    assert [r.name for r in report.results if r.skipped] == []
    assert len(report.results) == len(SUITE.cases)
    assert report.runtime == "wasm3"


def test_cli_conformance_on_wasm3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--runtime", "wasm3", "-k", "errors/"]) == 0
    selected = sum(1 for c in SUITE.cases if "errors/" in c.name)
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == f"kernel `extism-kernel` on runtime `wasm3`: {selected} passed, 0 failed"


def test_echo_round_trip() -> None:
    plugin = Plugin(plugin_wasm("echo"), runtime="wasm3")
    assert plugin.runtime == "wasm3"
    for data in (b"", b"0123456789", bytes(range(256)) * 300):
        assert plugin.call("echo", data) == data


def test_kernel_variant_is_chosen_automatically() -> None:
    """wasm3 runs the kernel without reference types; the default kernel's externref fails."""
    runtime = new_runtime("wasm3")
    assert runtime.kernel_variant == NO_REF
    assert Plugin(plugin_wasm("echo"), runtime="wasm3").call("echo", b"hi") == b"hi"
    explicit = Plugin(plugin_wasm("echo"), runtime="wasm3", kernel=kernel_bytes(NO_REF))
    assert explicit.call("echo", b"hi") == b"hi"
    with pytest.raises(PluginError, match=r"^`kernel`: not a valid WebAssembly module: "):
        Plugin(plugin_wasm("echo"), runtime="wasm3", kernel=kernel_bytes())


def test_timeouts_and_cancel_handles_are_unsupported() -> None:
    message = "runtime `wasm3`: timeouts and cancel handles not supported by this runtime"
    with pytest.raises(UnsupportedFeatureError) as info:
        Plugin(manifest("loop", timeout_ms=100), runtime="wasm3")
    assert (str(info.value), info.value.runtime, info.value.feature) == (
        message,
        "wasm3",
        "interrupt",
    )
    plugin = Plugin(plugin_wasm("loop"), runtime="wasm3")
    with pytest.raises(UnsupportedFeatureError, match=message) as info:
        plugin.cancel_handle()
    assert info.value.feature == "interrupt"
    assert plugin.call("ok", b"still fine") == b"still fine"


def test_wasi_is_unsupported() -> None:
    with pytest.raises(UnsupportedFeatureError) as info:
        Plugin(plugin_wasm("wasi"), runtime="wasm3", wasi=True)
    assert str(info.value) == "runtime `wasm3`: WASI not supported by this runtime"
    assert (info.value.runtime, info.value.feature) == ("wasm3", "wasi")


def test_missing_wasm3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "wasm3", None)
    monkeypatch.delitem(sys.modules, "extism_kernel.host._runtime_wasm3", raising=False)
    with pytest.raises(MissingDependencyError) as info:
        Plugin(plugin_wasm("echo"), runtime="wasm3")
    assert str(info.value) == "runtime `wasm3` needs wasm3: pip install 'extism-kernel[wasm3]'"


def test_traps_read_as_on_wasmtime() -> None:
    plugin = Plugin(plugin_wasm("fail"), runtime="wasm3")
    with pytest.raises(PluginError) as info:
        plugin.call("trap")
    assert info.value.kind == "trap"
    assert "unreachable" in info.value.message
    assert plugin.call("ok", b"after") == b"after"


@pytest.mark.usefixtures("restore_host_fn_registry")
def test_host_function_errors_reach_the_host_unchanged() -> None:
    class BoomError(Exception):
        pass

    def boom(_plugin: object, _params: object, _results: object) -> None:
        raise BoomError("bang")

    fn = host_fn("boom", "extism:host/user", ([ValType.I64], [ValType.I64]))(boom)
    wat = (
        '(module (import "extism:host/user" "boom" (func $h (param i64) (result i64)))'
        ' (func (export "run") (result i32) (drop (call $h (i64.const 0))) (i32.const 0)))'
    )
    plugin = Plugin(wat.encode(), runtime="wasm3", functions=[fn])
    with pytest.raises(PluginError, match=r"^bang$") as info:
        plugin.call("run")
    assert info.value.kind == "host"
    assert isinstance(info.value.__cause__, BoomError)  # as on wasmtime and pywasm


def test_max_pages_caps_each_memory() -> None:
    """The kernel's memory and the plugin's share 40 pages: 20 each, as on wasmtime."""
    plugin = Plugin(manifest("hog", memory={"max_pages": 40}), runtime="wasm3")
    with pytest.raises(PluginError) as info:
        plugin.call("grow")
    assert info.value.message == "out of memory after 19"
    with pytest.raises(PluginError, match=r"^out of memory after \d+$"):
        plugin.call("kernel")
    assert plugin.call("ok", b"fine") == b"fine"
    with pytest.raises(PluginError) as oom:
        Plugin(manifest("echo", memory={"max_pages": 40}), runtime="wasm3").call(
            "echo", b"x" * (2 * 1024 * 1024)
        )
    assert oom.value.kind == "oom"


def test_named_modules_link_through_host_functions() -> None:
    """wasm3 links no module to another: main's imports of `a` forward to a's own instance."""
    main_wat = (
        '(module (import "a" "grow" (func $a (result i32))) (memory (export "memory") 1)'
        ' (func (export "run") (result i32) (call $a)))'
    )
    wasm = [{"data": GROWER.encode(), "name": "a"}, {"data": main_wat.encode()}]
    plugin = Plugin({"wasm": wasm, "memory": {"max_pages": 30}}, runtime="wasm3")
    with pytest.raises(PluginError) as info:
        plugin.call("run")
    assert info.value.code == 10  # three memories of 10 pages: a's grew to its share


GROW_UNTIL_REFUSED = (
    '(func (export "run") (result i32)'
    " (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))"
    " (memory.size))"
)


@pytest.mark.parametrize(
    ("memory", "pages"),
    [
        ("(memory 0 0)", 1),  # wasm3 reads a maximum of 0 as none: written as 1
        ("", 20),  # no memory declared (invalid, but wasm3 does not validate): one is added
        ("(memory 1)", 20),
        ("(memory 1 3)", 3),
    ],
    ids=["max-0", "no-memory", "unbounded", "own-lower-max"],
)
def test_a_plugin_cannot_grow_past_its_share(memory: str, pages: int) -> None:
    """Under max_pages 40 the kernel and the plugin get 20 pages each, whatever it declares."""
    wat = f"(module {memory} {GROW_UNTIL_REFUSED})".encode()
    plugin = Plugin({"wasm": [{"data": wat}], "memory": {"max_pages": 40}}, runtime="wasm3")
    with pytest.raises(PluginError) as info:
        plugin.call("run")
    assert info.value.code == pages  # memory.size after the refused grow is the export's rc


def test_a_limit_of_zero_pages_is_never_written() -> None:
    """wasm3 would read it as no limit; a share is at least 1 page (the kernel needs one)."""
    with pytest.raises(ValueError, match=r"limit of 0 pages"):
        cap_memories(plugin_wasm("echo"), 0)
    with pytest.raises(ManifestError, match=r"0 pages each"):
        Plugin(manifest("echo", memory={"max_pages": 1}), runtime="wasm3")
