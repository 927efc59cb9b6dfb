"""`extism-kernel info` and the package's public API."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import extism_kernel
import pytest
from extism_kernel import KernelIntegrityError, _kernel
from extism_kernel._cli import main


def test_public_api_is_consistent() -> None:
    wasm = extism_kernel.kernel_bytes()
    assert extism_kernel.kernel_path().read_bytes() == wasm
    assert extism_kernel.kernel_sha256() == hashlib.sha256(wasm).hexdigest()
    info = extism_kernel.build_info()
    assert info.size == len(wasm)
    for name in extism_kernel.kernel_variants():
        variant = extism_kernel.kernel_bytes(name)
        assert extism_kernel.kernel_path(name).read_bytes() == variant
        assert info.variants[name].sha256 == hashlib.sha256(variant).hexdigest()
        assert info.variants[name].size == len(variant)
    assert extism_kernel.kernel_bytes("default") == wasm
    assert info.version == extism_kernel.__version__
    assert info.abi_version == extism_kernel.load_abi().abi_version


def test_unknown_variant_is_a_clear_error() -> None:
    with pytest.raises(extism_kernel.UnknownVariantError, match="no kernel variant `wasm3`"):
        extism_kernel.kernel_bytes("wasm3")


@pytest.mark.parametrize("variant", extism_kernel.kernel_variants())
def test_tampered_kernel_is_detected(monkeypatch: pytest.MonkeyPatch, variant: str) -> None:
    variant_file = _kernel.variant_file(variant).replace(".", r"\.")
    real = _kernel._read_resource

    def tampered(name: str) -> bytes:
        data = real(name)
        return data + b"\0" if name == _kernel.variant_file(variant) else data

    _kernel.kernel_bytes.cache_clear()
    monkeypatch.setattr(_kernel, "_read_resource", tampered)
    try:
        with pytest.raises(KernelIntegrityError, match=rf"{variant_file}`: sha256 is"):
            _kernel.kernel_bytes(variant)
    finally:
        _kernel.kernel_bytes.cache_clear()


def test_info_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert list(facts["variants"]) == ["default", "no-reference-types"]
    for name, variant in facts["variants"].items():
        assert variant["sha256"] == extism_kernel.kernel_sha256(name)
        assert variant["size"] == len(extism_kernel.kernel_bytes(name))
        assert Path(variant["path"]).read_bytes() == extism_kernel.kernel_bytes(name)
    assert facts["variants"]["default"]["exports"] == ["extism_context"]
    assert facts["variants"]["no-reference-types"]["exports"] == []
    assert facts["version"] == extism_kernel.__version__
    assert facts["abi_version"] == 1
    assert facts["rustc"].startswith("rustc ")


def test_info_text_through_the_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "extism_kernel", "info"], capture_output=True, text=True, check=True
    )
    for name in extism_kernel.kernel_variants():
        assert f"variant {name}" in proc.stdout
        assert f"sha256       {extism_kernel.kernel_sha256(name)}" in proc.stdout
        assert f"path         {extism_kernel.kernel_path(name)}" in proc.stdout
