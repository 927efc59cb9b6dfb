"""KernelExports: one typed method per spec export, the link-time type check, memory helpers."""

from __future__ import annotations

import inspect

import pytest
import wasmtime
from extism_kernel import AbiMismatchError, check_kernel, load_abi
from extism_kernel._runtimes import new_runtime
from extism_kernel.host import PluginError
from extism_kernel.host._kernel_exports import KernelExports
from extism_kernel.host._runtime_types import StoreLimits

from tests.host_plugins import KERNELS

HELPERS = {
    "read_block",
    "new_block",
    "call_start",
    "call_result",
}


@pytest.fixture(params=KERNELS)
def kernel(
    request: pytest.FixtureRequest,
    kernel_wasm: bytes,
    official_kernel_wasm: bytes,
    host_runtime: str,
) -> KernelExports:
    wasm = kernel_wasm if request.param == "ours" else official_kernel_wasm
    runtime = new_runtime(host_runtime)
    return KernelExports(
        runtime.new_store(runtime.compile(wasm, "kernel"), limits=StoreLimits()).kernel
    )


def test_methods_are_the_spec_exports():
    methods = {
        n for n, _ in inspect.getmembers(KernelExports, inspect.isfunction) if not n.startswith("_")
    }
    assert methods - HELPERS == set(load_abi().function_names)


def test_fast_calls_only_on_kernels_with_the_extensions(kernel, request):
    assert kernel.fast_calls is (request.node.callspec.params["kernel"] == "ours")


def test_call_protocol_is_the_same_with_and_without_extensions(kernel):
    handle = kernel.call_start(5)
    kernel.write(handle, b"hello")
    assert (kernel.input_offset(), kernel.input_length()) == (handle, 5)
    out = kernel.new_block(b"out!")
    kernel.output_set(out, 4)
    assert kernel.call_result() == (0, out, 4)
    err = kernel.new_block(b"boom")
    kernel.error_set(err)
    assert kernel.call_result() == (err, out, 4)
    assert kernel.call_start(0) == 0
    assert kernel.call_result() == (0, 0, 0)
    assert kernel.length(handle) == 0


@pytest.mark.parametrize("func", load_abi().functions, ids=lambda f: f.name)
def test_method_arity_matches_spec(func):
    params = list(inspect.signature(getattr(KernelExports, func.name)).parameters)[1:]
    assert len(params) == len(func.sig.params)


def test_block_round_trip(kernel):
    handle = kernel.new_block(b"hello kernel")
    assert kernel.length(handle) == 12
    assert kernel.read_block(handle) == b"hello kernel"
    kernel.store_u8(handle, ord("j"))
    assert kernel.load_u8(handle) == ord("j")
    kernel.store_u64(handle, 2**64 - 1)
    assert kernel.load_u64(handle) == 2**64 - 1
    kernel.free(handle)
    assert kernel.length(handle) == 0
    assert kernel.read_block(handle) == b""
    assert kernel.new_block(b"") == 0


def test_input_output_error_slots(kernel):
    kernel.reset()
    handle = kernel.new_block(b"12345678abc")
    kernel.input_set(handle, 11)
    assert (kernel.input_offset(), kernel.input_length()) == (handle, 11)
    assert kernel.input_load_u64(0) == int.from_bytes(b"12345678", "little")
    assert kernel.input_load_u8(8) == ord("a")
    kernel.output_set(handle, 3)
    assert (kernel.output_offset(), kernel.output_length()) == (handle, 3)
    kernel.error_set(handle)
    assert kernel.error_get() == handle
    assert kernel.memory_bytes() > 0
    assert kernel.length_unsafe(handle) == 11
    kernel.reset()
    assert (kernel.error_get(), kernel.output_length(), kernel.input_length()) == (0, 0, 0)


def test_hostile_handles_are_harmless(kernel):
    for bad in (0, 1, 2**32, 2**63 + 5, 2**64 - 1):
        assert kernel.length(bad) == 0
        kernel.free(bad)
    assert kernel.alloc(2**40) == 0


def test_read_out_of_bounds_is_an_error(kernel):
    with pytest.raises(PluginError, match="kernel memory: range"):
        kernel.read(2**40, 4)


def test_kernel_missing_an_export_fails_at_link_time(host_runtime):
    wat = """(module (memory (export "memory") 1)
                       (func (export "alloc") (param i32) (result i64) (i64.const 0)))"""
    runtime = new_runtime(host_runtime)
    store = runtime.new_store(
        runtime.compile(bytes(wasmtime.wat2wasm(wat)), "kernel"), limits=StoreLimits()
    )
    with pytest.raises(AbiMismatchError) as info:
        KernelExports(store.kernel)
    assert "export `alloc`: expected (i64) -> i64 but found (i32) -> i64" in info.value.problems
    assert "missing export `free`: expected (i64) -> ()" in info.value.problems
    # the same fault in the same words as `check-kernel`: one ABI matcher answers both
    report = check_kernel(bytes(wasmtime.wat2wasm(wat)))
    assert list(info.value.problems) == [p.message for p in report.errors]
