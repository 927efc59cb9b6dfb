"""The built kernel variants shipped in this package: their bytes, paths and build info.

The spec (`abi.json`, `variants`) names each variant and its file; `default` is the form the
official runtime links (it exports `extism_context`), `no-reference-types` is the same kernel
without that global, for engines that reject reference types (wasm3).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extism_kernel._abi import load_abi
from extism_kernel._errors import ExtismKernelError, KernelIntegrityError, KernelNotBuiltError

if TYPE_CHECKING:
    from importlib.abc import Traversable

DEFAULT_VARIANT = "default"
BUILD_INFO_FILE = "build_info.json"

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


class UnknownVariantError(ExtismKernelError, ValueError):
    """A kernel variant the spec does not name."""


@dataclass(frozen=True)
class KernelFile:
    """One built variant: its file in the package, sha256 and size."""

    file: str
    sha256: str
    size: int


@dataclass(frozen=True)
class BuildInfo:
    """What the build stamped beside the kernels (`build_info.json`)."""

    version: str
    abi_version: int
    rustc: str
    toolchain: str
    optimizer: str
    variants: dict[str, KernelFile]

    @property
    def sha256(self) -> str:
        """Hex sha256 of the default variant."""
        return self.variants[DEFAULT_VARIANT].sha256

    @property
    def size(self) -> int:
        """Size in bytes of the default variant."""
        return self.variants[DEFAULT_VARIANT].size

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (the format of `build_info.json`)."""
        data: dict[str, Any] = dict(self.__dict__)
        data["variants"] = {name: dict(f.__dict__) for name, f in self.variants.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuildInfo:
        """Read the format `to_dict` writes."""
        fields = {k: data[k] for k in cls.__dataclass_fields__ if k != "variants"}
        variants = {name: KernelFile(**entry) for name, entry in data["variants"].items()}
        return cls(**fields, variants=variants)


def variant_file(variant: str = DEFAULT_VARIANT) -> str:
    """The file name of kernel `variant` in the package; `UnknownVariantError` when unknown."""
    try:
        return load_abi().variant(variant).file
    except KeyError as exc:
        raise UnknownVariantError(exc.args[0]) from None


def kernel_variants() -> tuple[str, ...]:
    """The names of the kernel variants, the default first."""
    return load_abi().variant_names


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
    """The stamped build info of the shipped kernels."""
    return BuildInfo.from_dict(json.loads(_read_resource(BUILD_INFO_FILE)))


@cache
def kernel_bytes(variant: str = DEFAULT_VARIANT) -> bytes:
    """The bytes of kernel `variant`, verified against the sha256 in the build info.

    Raises `KernelIntegrityError` when they differ, `KernelNotBuiltError` when absent and
    `UnknownVariantError` for a variant the spec does not name.
    """
    name = variant_file(variant)
    wasm = _read_resource(name)
    digest = hashlib.sha256(wasm).hexdigest()
    recorded = build_info().variants[variant].sha256
    if digest != recorded:
        msg = f"`{name}`: sha256 is {digest} but {BUILD_INFO_FILE} records {recorded}"
        raise KernelIntegrityError(msg)
    return wasm


def kernel_sha256(variant: str = DEFAULT_VARIANT) -> str:
    """Hex sha256 of kernel `variant` (verified against the bytes)."""
    kernel_bytes(variant)
    return build_info().variants[variant].sha256


def kernel_path(variant: str = DEFAULT_VARIANT) -> Path:
    """A filesystem path to kernel `variant` (extracted once when the package is zipped)."""
    kernel_bytes(variant)
    resource = _resource(variant_file(variant))
    if isinstance(resource, Path):
        return resource
    return _extracted.enter_context(resources.as_file(resource))
