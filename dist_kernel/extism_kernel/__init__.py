"""The Extism kernel as a Python package: the bytes, their hash, the ABI spec, and checks.

    >>> import extism_kernel
    >>> wasm = extism_kernel.kernel_bytes()        # verified against the stamped sha256
    >>> wasm3 = extism_kernel.kernel_bytes("no-reference-types")  # for engines without them
    >>> spec = extism_kernel.load_abi()            # the ABI every host links by

The reference host lives in `extism_kernel.host` (install the `host` extra).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from extism_kernel._abi import AbiSpec, FuncSig, Function, ValType, load_abi, read_spec
from extism_kernel._abi_diff import AbiChange, AbiDiff, AbiSurface, diff_abi, load_surface
from extism_kernel._check import KernelReport, Problem, check_kernel, report_schema
from extism_kernel._errors import (
    AbiMismatchError,
    AbiSpecError,
    ExtismKernelError,
    InvalidWasmError,
    KernelIntegrityError,
    KernelNotBuiltError,
    MissingDependencyError,
    UnreadableInputError,
)
from extism_kernel._kernel import (
    BuildInfo,
    KernelFile,
    UnknownVariantError,
    build_info,
    kernel_bytes,
    kernel_path,
    kernel_sha256,
    kernel_variants,
)
from extism_kernel._plugin_check import (
    KernelImport,
    PluginExport,
    PluginImport,
    PluginReport,
    check_plugin,
)

try:
    __version__ = version("extism-kernel")
except PackageNotFoundError:  # a source tree on sys.path without an install
    __version__ = "0+unknown"

__all__ = [
    "AbiChange",
    "AbiDiff",
    "AbiMismatchError",
    "AbiSpec",
    "AbiSpecError",
    "AbiSurface",
    "BuildInfo",
    "ExtismKernelError",
    "FuncSig",
    "Function",
    "InvalidWasmError",
    "KernelFile",
    "KernelImport",
    "KernelIntegrityError",
    "KernelNotBuiltError",
    "KernelReport",
    "MissingDependencyError",
    "PluginExport",
    "PluginImport",
    "PluginReport",
    "Problem",
    "UnknownVariantError",
    "UnreadableInputError",
    "ValType",
    "__version__",
    "build_info",
    "check_kernel",
    "check_plugin",
    "diff_abi",
    "kernel_bytes",
    "kernel_path",
    "kernel_sha256",
    "kernel_variants",
    "load_abi",
    "load_surface",
    "read_spec",
    "report_schema",
]
