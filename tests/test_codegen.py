"""Files generated from the ABI spec are fresh, and the Rust check really catches drift."""

from __future__ import annotations

import dataclasses

from extism_kernel import ValType, load_abi

from tooling import codegen


def test_generated_files_are_fresh() -> None:
    assert codegen.stale_files() == [], "run `python -m tooling codegen`"


def test_abi_check_names_every_function_export() -> None:
    text = codegen.render_abi_check(load_abi())
    for func in load_abi().functions:
        assert f"= crate::{func.name};" in text


def test_changed_signature_changes_the_rust_check() -> None:
    spec = load_abi()
    alloc = spec.function(spec.functions[0].name)
    changed = dataclasses.replace(alloc, sig=dataclasses.replace(alloc.sig, results=(ValType.I32,)))
    functions = tuple(changed if f is alloc else f for f in spec.functions)
    text = codegen.render_abi_check(dataclasses.replace(spec, functions=functions))
    assert f'unsafe extern "C" fn(u64) -> u32 = crate::{alloc.name};' in text


def test_readme_table_lists_every_name() -> None:
    table = codegen.render_abi_table(load_abi())
    for name in load_abi().env_imports:
        assert f"| `{name}` |" in table
