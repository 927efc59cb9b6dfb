r"""The official Extism kernel, taken byte for byte out of the `extism-sys` wheel's shared library.

Baseline for benchmarks and for the tests that run the host and the validator against both
kernels. libextism embeds the kernel with `include_bytes!`; we find every `\\0asm` header in the
library, measure the module that follows by walking its section headers, and keep the one
whose exports are the kernel ABI. The wheel comes from PyPI (`pip download extism-sys`), cached.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path

from extism_kernel._abi import load_abi
from extism_kernel._check import check_kernel
from extism_kernel._errors import ExtismKernelError, InvalidWasmError
from extism_kernel._wasm_binary import MAGIC, MalformedModuleError, read_uleb128

CACHE_DIR = Path(os.environ.get("EXTISM_KERNEL_CACHE", Path.home() / ".cache" / "extism-kernel"))
LAST_SECTION_ID = 12  # data count; custom sections (0) may come anywhere


class OfficialKernelError(ExtismKernelError):
    """The official kernel could not be obtained; the message says which step failed."""


def module_extent(blob: bytes, start: int) -> int:
    """End offset of the module starting at `start`: sections are walked while they look valid.

    Only section ids and sizes are read (the binary format's framing); wasmtime validates the
    candidate afterwards, so a wrong guess is rejected there, never trusted.
    """
    pos = start + len(MAGIC)
    last_id = 0
    while pos < len(blob):
        section_id = blob[pos]
        if section_id > LAST_SECTION_ID or (section_id and section_id < last_id):
            break
        try:
            size, body = read_uleb128(blob, pos + 1, "section header")
        except MalformedModuleError:
            break
        if body + size > len(blob):
            break
        pos, last_id = body + size, section_id or last_id
    return pos


def find_kernels(blob: bytes) -> list[bytes]:
    """Every embedded module in `blob` whose exports satisfy the kernel ABI."""
    found = []
    start = blob.find(MAGIC)
    while start >= 0:
        module = blob[start : module_extent(blob, start)]
        try:
            if check_kernel(module, spec=load_abi()).ok:
                found.append(module)
        except InvalidWasmError:
            pass
        start = blob.find(MAGIC, start + 1)
    return found


def _download_wheel(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--dest",
        str(dest),
        "extism-sys",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    wheels = sorted(dest.glob("extism_sys-*.whl"))
    if proc.returncode != 0 or not wheels:
        msg = f"`pip download extism-sys` failed: {proc.stderr.strip().splitlines()[-1:]}"
        raise OfficialKernelError(msg)
    return wheels[-1]


@cache
def extism_sys_wheel() -> Path:
    """The `extism-sys` wheel for this platform (libextism), downloaded once into the cache."""
    cached = sorted((CACHE_DIR / "wheels").glob("extism_sys-*.whl"))
    return cached[-1] if cached else _download_wheel(CACHE_DIR / "wheels")


@cache
def official_kernel() -> bytes:
    """The official kernel's bytes (cached under ~/.cache/extism-kernel/)."""
    cached = CACHE_DIR / "official-kernel.wasm"
    if cached.is_file():
        return cached.read_bytes()
    wheel = extism_sys_wheel()
    with zipfile.ZipFile(wheel) as zf:
        libs = [
            n for n in zf.namelist() if "libextism" in n or n.endswith((".so", ".dylib", ".dll"))
        ]
        kernels = [k for name in libs for k in find_kernels(zf.read(name))]
    if not kernels:
        msg = f"`{wheel.name}`: no embedded module exports the kernel ABI"
        raise OfficialKernelError(msg)
    kernel = kernels[0]
    tmp = cached.with_suffix(".tmp")
    tmp.write_bytes(kernel)
    tmp.replace(cached)
    return kernel


def official_kernel_sha256() -> str:
    """Hex sha256 of the official kernel."""
    return hashlib.sha256(official_kernel()).hexdigest()
