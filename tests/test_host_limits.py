"""Timeouts, cancellation, memory limits, WASI and instance lifetime, on both kernels."""

from __future__ import annotations

import threading
import time

import extism
import pytest
from extism_kernel.host import (
    ManifestError,
    Plugin,
    PluginError,
    UnsupportedFeatureError,
    host_fn,
)

from tests.host_plugins import plugin_wasm

pytestmark = pytest.mark.usefixtures(
    "host_runtime", "restore_host_fn_registry"
)  # every test on each runtime


def manifest(name: str, **extra: object) -> dict[str, object]:
    return {"wasm": [{"data": plugin_wasm(name)}], **extra}


@pytest.fixture
def wasmtime_only(host_runtime: str) -> str:
    """Skip on pywasm, which lacks the feature; test_unsupported_features_fail_loudly covers it."""
    if host_runtime == "pywasm":
        pytest.skip("checked by test_unsupported_features_fail_loudly")
    return host_runtime


def test_unsupported_features_fail_loudly(kernel, host_runtime):
    """pywasm cannot interrupt a call nor mount a path read-only: asking for either fails."""
    if host_runtime != "pywasm":
        pytest.skip("wasmtime supports every feature")
    message = "runtime `pywasm`: timeouts and cancel handles not supported by this runtime"
    with pytest.raises(UnsupportedFeatureError) as info:
        Plugin(manifest("loop", timeout_ms=100), kernel=kernel)
    assert (str(info.value), info.value.runtime, info.value.feature) == (
        message,
        "pywasm",
        "interrupt",
    )
    plugin = Plugin(plugin_wasm("loop"), kernel=kernel)
    with pytest.raises(UnsupportedFeatureError, match=message):
        plugin.cancel_handle()
    with pytest.raises(UnsupportedFeatureError) as info:
        Plugin(manifest("wasi", allowed_paths={"ro:/tmp": "/data"}), kernel=kernel, wasi=True)
    assert str(info.value) == (
        "runtime `pywasm`: read-only WASI path `ro:/tmp` not supported by this runtime"
    )
    assert info.value.feature == "wasi-read-only"
    assert plugin.call("ok", b"still fine") == b"still fine"


@pytest.mark.usefixtures("wasmtime_only")
def test_timeout_stops_an_endless_plugin(kernel):
    plugin = Plugin(manifest("loop", timeout_ms=100), kernel=kernel)
    with pytest.raises(PluginError) as info:
        plugin.call("loop_forever")
    assert (info.value.message, info.value.code, info.value.kind) == ("timeout", 134, "timeout")
    assert plugin.call("ok", b"next call works") == b"next call works"
    with pytest.raises(PluginError, match="timeout"):
        plugin.call("loop_forever")


@pytest.mark.usefixtures("wasmtime_only")
def test_timeout_message_matches_official_sdk(kernel):
    endless = manifest("loop", timeout_ms=50)
    with extism.Plugin(endless, functions=[]) as theirs, pytest.raises(extism.Error) as info:
        theirs.call("loop_forever", b"")
    with pytest.raises(PluginError) as ours:
        Plugin(endless, kernel=kernel).call("loop_forever")
    assert str(ours.value) == str(info.value) == "timeout"


def _loop_in_thread(plugin: Plugin) -> tuple[threading.Thread, list[PluginError]]:
    """Start `loop_forever` in a thread; the list collects the error that ends it."""
    errors: list[PluginError] = []

    def run() -> None:
        try:
            plugin.call("loop_forever")
        except PluginError as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


@pytest.mark.usefixtures("wasmtime_only")
def test_cancel_handle_from_another_thread(kernel):
    plugin = Plugin(plugin_wasm("loop"), kernel=kernel)
    handle = plugin.cancel_handle()
    assert handle.cancel() is False  # no call running: a no-op
    thread, errors = _loop_in_thread(plugin)
    for _ in range(2000):  # wait until the call is running, then cancel it
        if handle.cancel():
            break
        time.sleep(0.005)
    thread.join(30)
    assert not thread.is_alive()
    assert [(e.message, e.kind) for e in errors] == [("cancelled", "timeout")]
    assert plugin.call("ok", b"after cancel") == b"after cancel"


def test_a_late_timer_of_an_earlier_call_never_stops_the_next(kernel, wasmtime_only):
    """The timer of call 1 firing while call 2 runs (a busy machine) leaves call 2 alone."""
    plugin = Plugin(manifest("loop", timeout_ms=60_000), kernel=kernel)
    assert plugin.call("ok", b"first") == b"first"
    first_call = plugin._call_number
    thread, errors = _loop_in_thread(plugin)
    while plugin._call_number == first_call:  # until call 2 has begun
        time.sleep(0.002)
    assert plugin._interrupt(call=first_call) is False  # call 1's timer, late
    time.sleep(0.05)
    assert thread.is_alive()  # call 2 still runs
    handle = plugin.cancel_handle()
    assert handle.cancel() is True
    thread.join(30)
    assert [(e.message, e.kind) for e in errors] == [("cancelled", "timeout")]


def test_max_pages_caps_plugin_memory(kernel_wasm):
    """Two memories (the kernel's, the plugin's) share 40 pages: 20 each."""
    plugin = Plugin(manifest("hog", memory={"max_pages": 40}), kernel=kernel_wasm)
    with pytest.raises(PluginError) as info:
        plugin.call("grow")
    assert info.value.message == "out of memory after 19"  # 1 initial page + 19
    assert plugin.call("ok", b"fine") == b"fine"


def test_max_pages_caps_kernel_memory(kernel):
    plugin = Plugin(manifest("hog", memory={"max_pages": 40}), kernel=kernel)
    with pytest.raises(PluginError, match=r"^out of memory after \d+$"):
        plugin.call("kernel")
    assert plugin.call("ok", b"fine") == b"fine"


def test_max_pages_is_a_total_for_all_memories(kernel_wasm):
    """Four modules each growing their own memory, and the kernel's: together within max_pages."""
    grower = (
        '(module (memory (export "memory") 1) (func (export "grow") (result i32)'
        " (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))"
        " (memory.size)))"
    )
    main = (
        '(module (import "a" "grow" (func $a (result i32)))'
        ' (import "b" "grow" (func $b (result i32)))'
        ' (import "c" "grow" (func $c (result i32))) (memory (export "memory") 1)'
        ' (func (export "run") (result i32)'
        " (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))"
        " (i32.add (i32.add (call $a) (call $b)) (i32.add (call $c) (memory.size)))))"
    )
    wasm = [{"data": grower.encode(), "name": n} for n in "abc"] + [{"data": main.encode()}]
    plugin = Plugin({"wasm": wasm, "memory": {"max_pages": 50}}, kernel=kernel_wasm)
    with pytest.raises(PluginError) as info:
        plugin.call("run")
    assert info.value.code == 40  # five memories of 10 pages; four grew to the full share


def test_a_declared_minimum_cannot_raise_the_limit(kernel_wasm):
    """A plugin declaring 4,000 pages under `max_pages: 4` is refused: its memory would pass the
    total, and it must not lift the kernel's cap either."""
    wat = '(module (memory (export "memory") 4000) (func (export "run") (result i32) i32.const 0))'
    with pytest.raises(ManifestError, match=r"`main` declares 4000 pages"):
        Plugin({"wasm": [{"data": wat.encode()}], "memory": {"max_pages": 4}}, kernel=kernel_wasm)


def test_tables_are_limited(kernel_wasm):
    wat = (
        '(module (table $t 1 funcref) (func (export "run") (result i32)'
        " (table.grow $t (ref.null func) (i32.const 100000000))))"
    )
    plugin = Plugin({"wasm": [{"data": wat.encode()}]}, kernel=kernel_wasm)
    with pytest.raises(PluginError) as info:
        plugin.call("run")
    assert info.value.code == -1  # table.grow refused: the plugin returns its -1


def test_a_rust_sized_plugin_loads_when_its_share_holds_its_minimum(kernel_wasm):
    """17 pages (a common Rust plugin) under `max_pages: 40`: two memories of 20 pages each."""
    wat = '(module (memory (export "memory") 17) (func (export "run") (result i32) i32.const 0))'
    source = {"wasm": [{"data": wat.encode()}], "memory": {"max_pages": 40}}
    assert Plugin(source, kernel=kernel_wasm).call("run") == b""
    source["memory"] = {"max_pages": 20}  # 10 pages each: the minimum does not fit
    with pytest.raises(ManifestError, match=r"shared by 2 memories, 10 pages each, but `main`"):
        Plugin(source, kernel=kernel_wasm)


def test_an_imported_memory_is_not_counted_twice(kernel_wasm):
    lib = '(module (memory (export "mem") 17))'
    main = (
        '(module (import "lib" "mem" (memory 17)) (func (export "run") (result i32) i32.const 0))'
    )
    manifest = {
        "wasm": [{"data": lib.encode(), "name": "lib"}, {"data": main.encode(), "name": "main"}],
        "memory": {"max_pages": 40},  # the kernel's and lib's: 20 pages each
    }
    assert Plugin(manifest, kernel=kernel_wasm).call("run") == b""


def test_vars_are_forgotten_when_start_rebuilds_the_instance(kernel):
    plugin = Plugin(plugin_wasm("command_vars"), kernel=kernel)
    assert [plugin.call("count") for _ in range(2)] == [b"1", b"2"]
    plugin.call("_start")
    assert plugin.call("count") == b"1"


def test_input_over_max_pages_is_oom(kernel):
    plugin = Plugin(manifest("echo", memory={"max_pages": 40}), kernel=kernel)
    with pytest.raises(PluginError) as info:
        plugin.call("echo", b"x" * (2 * 1024 * 1024))
    assert (info.value.message, info.value.kind) == ("oom", "oom")
    assert plugin.call("echo", b"small") == b"small"


def test_a_trap_after_a_refused_allocation_is_oom(kernel):
    """The kernel's `alloc` → 0 (its memory could not grow), then a panic: Extism says `oom`."""
    plugin = Plugin(manifest("hog", memory={"max_pages": 40}), kernel=kernel)
    with pytest.raises(PluginError) as info:
        plugin.call("crash")
    assert info.value.kind == "oom"
    assert info.value.message.startswith(
        "oom: function `crash` trapped after the kernel refused 1 allocation within `max_pages` ("
    )
    assert "unreachable" in info.value.message
    assert plugin.call("ok", b"fine") == b"fine"


def test_a_trap_under_max_pages_without_a_refusal_stays_a_trap(kernel):
    plugin = Plugin(manifest("fail", memory={"max_pages": 40}), kernel=kernel)
    with pytest.raises(PluginError) as info:
        plugin.call("trap")
    assert info.value.kind == "trap"


def test_refusals_are_counted_per_call(kernel):
    """A refused allocation the plugin handled does not turn a later call's trap into `oom`."""
    plugin = Plugin(manifest("hog", memory={"max_pages": 40}), kernel=kernel)
    with pytest.raises(PluginError, match=r"^out of memory after \d+$") as handled:
        plugin.call("kernel")
    assert handled.value.kind == "error"
    with pytest.raises(PluginError) as info:
        plugin.call("trap")
    assert info.value.kind == "trap"


def test_without_max_pages_memory_grows(kernel, host_runtime):
    size = 3 * 1024 * 1024 if host_runtime == "wasmtime" else 300_000  # pywasm: ~30 s a MiB
    data = b"y" * size
    assert Plugin(plugin_wasm("echo"), kernel=kernel).call("echo", data) == data


def test_wasi_reactor_is_initialised(kernel):
    plugin = Plugin(plugin_wasm("wasi"), kernel=kernel, wasi=True)
    assert plugin.call("initialized") == b"1"


def test_wasi_random_get(kernel):
    plugin = Plugin(plugin_wasm("wasi"), kernel=kernel, wasi=True)
    first, second = plugin.call("random"), plugin.call("random")
    assert len(first) == len(second) == 16
    assert first != second


def test_wasi_fd_write_succeeds(kernel):
    assert Plugin(plugin_wasm("wasi"), kernel=kernel, wasi=True).call("hello") == b"0"


def test_wasi_exit_codes(kernel):
    plugin = Plugin(plugin_wasm("wasi"), kernel=kernel, wasi=True)
    with pytest.raises(PluginError, match="exited with i32 exit status 3") as info:
        plugin.call("exit3")
    assert (info.value.code, info.value.kind) == (3, "exit")
    assert plugin.call("exit0", b"exit 0 keeps the output") == b"exit 0 keeps the output"


def test_instance_state_persists_until_start(kernel):
    plugin = Plugin(plugin_wasm("command"), kernel=kernel)
    assert [plugin.call("bump") for _ in range(3)] == [b"1", b"2", b"3"]
    plugin.call("_start")
    assert plugin.call("bump") == b"1"  # Extism rebuilds the store after `_start`


def test_reentrant_call_is_refused(kernel):
    holder: list[Plugin] = []

    @host_fn(name="to_upper")
    def reenter(text: str) -> str:
        holder[0].call("upper", text)
        return text

    @host_fn(namespace="host")
    def add(a: int, b: int) -> int:
        return a + b

    plugin = Plugin(plugin_wasm("host_fn"), kernel=kernel, functions=[reenter, add])
    holder.append(plugin)
    with pytest.raises(PluginError, match="cannot make reentrant calls into plugin"):
        plugin.call("upper", b"x")


@pytest.fixture
def data_dir(tmp_path):
    (tmp_path / "hello.txt").write_text("hi from a file")
    return tmp_path


def test_wasi_allowed_paths(kernel, data_dir):
    plugin = Plugin(
        manifest("wasi", allowed_paths={str(data_dir): "/data"}), kernel=kernel, wasi=True
    )
    assert plugin.call("read", "hello.txt") == b"hi from a file"
    assert plugin.call("read", "missing.txt") == b"errno 44"  # noent
    assert plugin.call("write", "out.txt") == b"errno 0"
    assert (data_dir / "out.txt").read_text() == "written"


@pytest.mark.usefixtures("wasmtime_only")
def test_wasi_read_only_path(kernel, data_dir):
    read_only = manifest("wasi", allowed_paths={f"ro:{data_dir}": "/data"})
    plugin = Plugin(read_only, kernel=kernel, wasi=True)
    assert plugin.call("read", "hello.txt") == b"hi from a file"
    assert plugin.call("write", "out.txt") == b"errno 63"  # perm
    assert not (data_dir / "out.txt").exists()
    with extism.Plugin(read_only, wasi=True, functions=[]) as theirs:
        assert bytes(theirs.call("write", "out.txt")) == b"errno 63"


def test_wasi_without_allowed_paths(kernel):
    assert Plugin(plugin_wasm("wasi"), kernel=kernel, wasi=True).call("read", "x") == b"errno 8"


def test_calls_from_several_threads_are_serialised(kernel):
    plugin = Plugin(plugin_wasm("echo"), kernel=kernel)
    results: dict[int, list[bytes]] = {}

    def work(n: int) -> None:
        results[n] = [plugin.call("echo", f"thread {n} call {i}") for i in range(50)]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == {n: [f"thread {n} call {i}".encode() for i in range(50)] for n in range(4)}
