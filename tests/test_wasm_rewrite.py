"""The tooling's byte-level edits: linker exports, the context global, padding to a size."""

from __future__ import annotations

import pytest
import wasmtime
from extism_kernel import kernel_bytes
from extism_kernel._wasm import describe_module
from extism_kernel._wasm_binary import (
    MalformedModuleError,
    pad_to_size,
    read_uleb128,
    split_sections,
    uleb128,
)

from tooling.context_global import add_context_global
from tooling.linker_exports import drop_linker_exports


def wat(text: str) -> bytes:
    return bytes(wasmtime.wat2wasm(text))


def exports(wasm: bytes) -> dict[str, str]:
    return {e.name: e.render_type() for e in describe_module(wasm, "test").exports}


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 16_383, 16_384, 2**32 - 1])
def test_uleb128_is_minimal_and_round_trips(value: int) -> None:
    encoded = uleb128(value)
    assert read_uleb128(encoded, 0, "test") == (value, len(encoded))
    assert len(encoded) == max(1, (value.bit_length() + 6) // 7)


def test_context_global_is_appended_after_the_existing_globals() -> None:
    module = wat('(module (global (export "g") i32 (i32.const 5)) (func (export "f")))')
    out = add_context_global(module)
    assert exports(out) == {
        "g": "global i32",
        "f": "() -> ()",
        "extism_context": "global mut externref",
    }
    store = wasmtime.Store()
    instance = wasmtime.Instance(store, wasmtime.Module(store.engine, out), [])
    context = instance.exports(store)["extism_context"]
    assert isinstance(context, wasmtime.Global)
    assert context.type(store).mutable
    context.set_value(store, wasmtime.Val.externref("host context"))  # what libextism does


def test_context_global_in_a_module_without_globals() -> None:
    out = add_context_global(wat('(module (func (export "f")))'))
    assert exports(out) == {"f": "() -> ()", "extism_context": "global mut externref"}


def test_linker_exports_are_dropped_and_nothing_else() -> None:
    module = wat(
        """(module
             (global (export "__heap_base") i32 (i32.const 1024))
             (func (export "alloc"))
             (global (export "__data_end") i32 (i32.const 1024))
             (memory (export "memory") 1))"""
    )
    out = drop_linker_exports(module)
    kept = {k: v for k, v in exports(module).items() if not k.startswith("__")}
    assert exports(out) == kept
    assert set(kept) == {"alloc", "memory"}
    assert len(out) == len(module) - len(b"\x0b__heap_base\x03\x00\x0a__data_end\x03\x01")
    assert drop_linker_exports(out) == out  # nothing left to drop: the same bytes
    wasmtime.Module(wasmtime.Engine(), out)  # still a valid module


def test_the_shipped_kernels_export_no_linker_symbols() -> None:
    for variant in ("default", "no-reference-types"):
        names = exports(kernel_bytes(variant))
        assert not {"__heap_base", "__data_end"} & names.keys()


def test_context_global_is_deterministic() -> None:
    plain = kernel_bytes("no-reference-types")
    assert add_context_global(plain) == add_context_global(plain) == kernel_bytes()


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (b"\0asm\x02\0\0\0", "bad magic or version"),
        (b"\0asm\x01\0\0\0\x07\x10\x00", "runs past the end"),
        (b"\0asm\x01\0\0\0\x07\xff\xff\xff\xff\xff\xff", "overlong LEB128"),
        ('(module (import "m" "f" (func)) (func (export "g")))', "import section"),
        ("(module (func))", "no export section"),
        (
            '(module (global (export "extism_context") (mut externref) (ref.null extern)))',
            "already exports",
        ),
    ],
)
def test_modules_the_rewrite_refuses(module: bytes | str, message: str) -> None:
    data = wat(module) if isinstance(module, str) else module
    with pytest.raises(MalformedModuleError, match=message):
        add_context_global(data)


@pytest.mark.parametrize("extra", [10, 11, 127, 128, 129, 200, 16_500])
def test_padding_reaches_the_exact_size_and_stays_valid(extra: int) -> None:
    kernel = kernel_bytes()
    padded = pad_to_size(kernel, len(kernel) + extra, "padding")
    assert len(padded) == len(kernel) + extra
    assert padded.startswith(kernel)
    assert [s.id for s in split_sections(padded)][-1] == 0
    assert exports(padded) == exports(kernel)


@pytest.mark.parametrize("extra", [-1, 0, 9])  # a section named "padding" takes 10 bytes
def test_padding_that_cannot_fit_is_refused(extra: int) -> None:
    kernel = kernel_bytes()
    with pytest.raises(MalformedModuleError, match="cannot be padded"):
        pad_to_size(kernel, len(kernel) + extra, "padding")
