"""The current-Rust check's pieces that run without downloading a toolchain.

The whole recipe (`python -m tooling rust_web_check`) runs in CI (`.ci/run`); here: its errors
name the step, and the suite runs the kernel's own rules on a kernel built from this source.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from extism_kernel import kernel_bytes
from extism_kernel._conformance import load_suite
from extism_kernel._wasm_binary import custom_section
from extism_kernel.host._conformance_runner import run_suite

from tooling import rust_web


def test_without_apt_the_error_names_the_missing_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    with pytest.raises(rust_web.RustWebError, match=r"`apt-get` not found"):
        rust_web.rust_web_toolchain(tmp_path / "root")


def test_a_prefix_without_sources_is_named(tmp_path: Path):
    with pytest.raises(rust_web.RustWebError, match=r"rust-web-src unpacked no"):
        rust_web._library_dir(tmp_path)


def test_the_wrapper_passes_the_private_sysroot(tmp_path: Path):
    (tmp_path / "prefix" / "usr" / "lib" / "aarch64-linux-gnu").mkdir(parents=True)
    wrapper = rust_web._wrapper(tmp_path, tmp_path / "prefix", tmp_path / "sysroot")
    text = wrapper.read_text(encoding="utf-8")
    assert f'--sysroot "{tmp_path / "sysroot"}"' in text
    assert f'exec "{tmp_path / "prefix"}/usr/bin/rustc" "$@"' in text
    assert f'LD_LIBRARY_PATH="{tmp_path / "prefix/usr/lib/aarch64-linux-gnu"}' in text
    assert wrapper.stat().st_mode & 0o111


def test_a_build_of_this_source_runs_the_rules_beyond_the_reference():
    """Other bytes (a custom section added) are another kernel unless declared built from here."""
    rebuilt = kernel_bytes() + custom_section("rebuilt", b"elsewhere")
    beyond = sum(c.beyond_reference for c in load_suite().cases)
    assert beyond > 0
    foreign = run_suite(rebuilt, kernel_name="rebuilt", select="hostile/")
    ours = run_suite(rebuilt, kernel_name="rebuilt", select="hostile/", built_from_source=True)
    assert sum(r.skipped for r in foreign.results) >= 1
    assert sum(r.skipped for r in ours.results) == 0
    assert ours.ok
