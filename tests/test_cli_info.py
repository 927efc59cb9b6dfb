"""`extism-kernel info` and the package's public API."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

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
    assert info.version == extism_kernel.__version__
    assert info.abi_version == extism_kernel.load_abi().abi_version


def test_tampered_kernel_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    real = _kernel._read_resource

    def tampered(name: str) -> bytes:
        data = real(name)
        return data + b"\0" if name == _kernel.KERNEL_FILE else data

    _kernel.kernel_bytes.cache_clear()
    monkeypatch.setattr(_kernel, "_read_resource", tampered)
    try:
        with pytest.raises(KernelIntegrityError, match=r"extism-kernel\.wasm`: sha256 is"):
            _kernel.kernel_bytes()
    finally:
        _kernel.kernel_bytes.cache_clear()


def test_info_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["sha256"] == extism_kernel.kernel_sha256()
    assert facts["size"] == len(extism_kernel.kernel_bytes())
    assert facts["version"] == extism_kernel.__version__
    assert facts["abi_version"] == 1
    assert facts["rustc"].startswith("rustc ")


def test_info_text_through_the_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "extism_kernel", "info"], capture_output=True, text=True, check=True
    )
    assert f"sha256       {extism_kernel.kernel_sha256()}" in proc.stdout
