"""The built kernel shipped in this package: its bytes, a path to them, and its build info."""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from extism_kernel._errors import KernelIntegrityError, KernelNotBuiltError

if TYPE_CHECKING:
    from importlib.abc import Traversable

KERNEL_FILE = "extism-kernel.wasm"
BUILD_INFO_FILE = "build_info.json"

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


@dataclass(frozen=True)
class BuildInfo:
    """What the build stamped beside the kernel (`build_info.json`)."""

    version: str
    sha256: str
    size: int
    abi_version: int
    rustc: str
    toolchain: str
    optimizer: str

    def to_dict(self) -> dict[str, object]:
        """The fields as a JSON-ready dict."""
        return dict(self.__dict__)


def _resource(name: str) -> Traversable:
    return resources.files("extism_kernel").joinpath(name)


def _read_resource(name: str) -> bytes:
    try:
        data: bytes = _resource(name).read_bytes()
    except FileNotFoundError:
        msg = (
            f"`{name}` is missing from the extism_kernel package: this is a source checkout "
            "whose kernel was never built (run `python -m tooling build`)"
        )
        raise KernelNotBuiltError(msg) from None
    return data


@cache
def build_info() -> BuildInfo:
    """The stamped build info of the shipped kernel."""
    data = json.loads(_read_resource(BUILD_INFO_FILE))
    return BuildInfo(**{k: data[k] for k in BuildInfo.__dataclass_fields__})


@cache
def kernel_bytes() -> bytes:
    """The kernel module's bytes, verified against the sha256 in the build info.

    Raises `KernelIntegrityError` when they differ and `KernelNotBuiltError` when absent.
    """
    wasm = _read_resource(KERNEL_FILE)
    digest = hashlib.sha256(wasm).hexdigest()
    if digest != build_info().sha256:
        msg = (
            f"`{KERNEL_FILE}`: sha256 is {digest} but {BUILD_INFO_FILE} records "
            f"{build_info().sha256}"
        )
        raise KernelIntegrityError(msg)
    return wasm


def kernel_sha256() -> str:
    """Hex sha256 of the kernel (verified against the bytes)."""
    kernel_bytes()
    return build_info().sha256


def kernel_path() -> Path:
    """A filesystem path to the kernel module (extracted once when the package is zipped)."""
    kernel_bytes()
    resource = _resource(KERNEL_FILE)
    if isinstance(resource, Path):
        return resource
    return _extracted.enter_context(resources.as_file(resource))
