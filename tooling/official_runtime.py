"""The official runtime (libextism, from the `extism-sys` wheel) with any kernel written inside it.

libextism embeds its kernel with `include_bytes!`: 3,474 bytes at one offset of the shared
library. `install_runtime(dest, kernel)` unpacks the wheel's `extism_sys` package into `dest`
and, when `kernel` is given, writes it over the official kernel at the same offset, padded to
the same length with a custom section (engines ignore those). Put `dest` first on `PYTHONPATH`
and the official `extism` SDK runs on that kernel, every other byte of the runtime unchanged.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from extism_kernel._wasm_binary import MalformedModuleError, pad_to_size

from tooling.official_kernel import OfficialKernelError, extism_sys_wheel, official_kernel

OFFICIAL_KERNEL_SIZE = 3474  # the size libextism embeds (extism/extism v1.7.0 to v1.13.0)
PACKAGE = "extism_sys"
PADDING_SECTION = "extism-kernel-padding"


class OfficialRuntimeError(OfficialKernelError):
    """The official runtime could not be prepared; the message says which step failed."""


def fit_kernel(kernel: bytes, size: int) -> bytes:
    """`kernel` padded to exactly `size` bytes; `OfficialRuntimeError` when it does not fit."""
    if len(kernel) > size:
        msg = (
            f"the kernel is {len(kernel)} bytes, but libextism embeds its kernel in {size}: "
            "it cannot be written in place (the kernel's size budget is exceeded)"
        )
        raise OfficialRuntimeError(msg)
    try:
        return pad_to_size(kernel, size, PADDING_SECTION)
    except MalformedModuleError as exc:
        raise OfficialRuntimeError(str(exc)) from None


def _library(package_dir: Path) -> Path:
    libs = sorted(p for p in package_dir.iterdir() if p.suffix in {".so", ".dylib", ".dll"})
    if len(libs) != 1:
        msg = f"`{package_dir}`: expected one shared library, found {[p.name for p in libs]}"
        raise OfficialRuntimeError(msg)
    return libs[0]


def install_runtime(dest: Path, kernel: bytes | None = None) -> Path:
    """Unpack libextism's Python package into `dest`, with `kernel` written in place if given.

    Returns the shared library's path. Raises `OfficialRuntimeError` (and leaves no package in
    `dest`) when the wheel cannot be had, the official kernel is not found exactly once in the
    library, or `kernel` is larger than the official one.
    """
    wheel = extism_sys_wheel()
    official = official_kernel()
    patched = None if kernel is None else fit_kernel(kernel, len(official))
    package_dir = dest / PACKAGE
    shutil.rmtree(package_dir, ignore_errors=True)
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.startswith(f"{PACKAGE}/"):
                zf.extract(name, dest)
    library = _library(package_dir)
    if patched is None:
        return library
    blob = library.read_bytes()
    found = blob.count(official)
    if found != 1:
        shutil.rmtree(package_dir)
        msg = f"`{library.name}`: the official kernel occurs {found} times, expected once"
        raise OfficialRuntimeError(msg)
    at = blob.index(official)
    library.write_bytes(blob[:at] + patched + blob[at + len(patched) :])
    return library
