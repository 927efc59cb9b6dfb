"""Toolchain discovery: the documented order and the error that says what to install."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tooling import toolchain
from tooling.toolchain import INSTALL_HELP, ToolchainNotFoundError, find_toolchain


def _fake_rustc(root: Path, *, with_target: bool) -> Path:
    """A rustc script whose sysroot has (or lacks) a wasm32 libcore."""
    sysroot = root / "sysroot"
    libdir = sysroot / "lib" / "rustlib" / toolchain.TARGET / "lib"
    libdir.mkdir(parents=True)
    if with_target:
        (libdir / "libcore-0123.rlib").write_bytes(b"")
    bindir = root / "bin"
    bindir.mkdir()
    rustc = bindir / "rustc"
    rustc.write_text(f"#!/bin/sh\necho {sysroot}\n")
    rustc.chmod(0o755)
    (bindir / "cargo").write_text("#!/bin/sh\n")
    (bindir / "cargo").chmod(0o755)
    return rustc


def test_target_detection_looks_for_libcore(tmp_path: Path) -> None:
    assert toolchain.has_wasm_target(str(_fake_rustc(tmp_path / "a", with_target=True)))
    assert not toolchain.has_wasm_target(str(_fake_rustc(tmp_path / "b", with_target=False)))
    assert not toolchain.has_wasm_target(str(tmp_path / "missing-rustc"))


def test_override_comes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rustc = _fake_rustc(tmp_path, with_target=True)
    monkeypatch.setenv("EXTISM_KERNEL_CARGO", str(rustc.with_name("cargo")))
    monkeypatch.delenv("EXTISM_KERNEL_RUSTC", raising=False)
    found = find_toolchain()
    assert found.name == "override"
    assert found.rustc == str(rustc)
    assert found.env["RUSTC"] == str(rustc)


def test_override_without_target_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rustc = _fake_rustc(tmp_path, with_target=False)
    monkeypatch.setenv("EXTISM_KERNEL_CARGO", str(rustc.with_name("cargo")))
    with pytest.raises(ToolchainNotFoundError, match=r"EXTISM_KERNEL_CARGO=.*has no `wasm32"):
        find_toolchain()


def test_system_toolchain_is_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rustc = _fake_rustc(tmp_path, with_target=True)
    monkeypatch.delenv("EXTISM_KERNEL_CARGO", raising=False)
    monkeypatch.setattr(toolchain, "_from_rustup", lambda: None)
    monkeypatch.setattr(toolchain, "SYSTEM_PREFIX", tmp_path)
    found = toolchain._from_system(tmp_path)
    assert found is not None
    assert found.name == "system"
    assert found.env == {"RUSTC": str(rustc)}


def test_no_toolchain_gives_both_install_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EXTISM_KERNEL_CARGO", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no rustup
    monkeypatch.setattr(toolchain, "_from_system", lambda: None)
    with pytest.raises(ToolchainNotFoundError) as info:
        find_toolchain()
    message = str(info.value)
    assert message == INSTALL_HELP
    assert "rustup target add wasm32-unknown-unknown" in message
    assert "apt-get install -y rustc cargo libstd-rust-dev-wasm32 lld" in message


def test_this_machine_has_a_toolchain() -> None:
    found = find_toolchain()
    assert toolchain.has_wasm_target(found.rustc, {**os.environ, **found.env})
    assert found.rustc_version().startswith("rustc ")
