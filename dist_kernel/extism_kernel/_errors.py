"""The exceptions of extism_kernel: one module, one base class."""

from __future__ import annotations


class ExtismKernelError(Exception):
    """Base class of every error this package raises on purpose."""


class AbiSpecError(ExtismKernelError):
    """The ABI spec file is malformed."""


class AbiMismatchError(ExtismKernelError):
    """A module does not match the ABI spec; `problems` lists every difference."""

    def __init__(self, subject: str, problems: list[str]) -> None:
        self.subject = subject
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"`{subject}` does not match the ABI spec:\n{lines}")


class InvalidWasmError(ExtismKernelError):
    """Bytes that are not a valid WebAssembly module."""


class KernelNotBuiltError(ExtismKernelError):
    """The package has no built kernel (a source checkout that was never built)."""


class KernelIntegrityError(ExtismKernelError):
    """The kernel bytes do not match the sha256 stamped in build_info.json."""


class MissingDependencyError(ExtismKernelError):
    """An optional dependency (an extra) is needed for this feature."""


class UnreadableInputError(ExtismKernelError):
    """An input file is not what the command takes (not a spec, a wasm module or a wheel)."""


class VendoredDirError(UnreadableInputError):
    """A vendored directory, or its `extism-kernel.lock`, that is missing or malformed."""


class ManifestError(ExtismKernelError):
    """An Extism manifest (or plugin source) that cannot be loaded: the message names the key."""


class UnreadablePluginError(ManifestError, UnreadableInputError):
    """A plugin or module file that does not exist or cannot be read."""


class LinkError(ExtismKernelError):
    """A plugin import that nobody provides, or provides with another type."""


class UnsupportedFeatureError(ExtismKernelError):
    """The chosen runtime lacks a feature the plugin asked for (timeouts, WASI, ...).

    `runtime` names the runtime and `feature` the missing capability; a feature is never
    silently ignored.
    """

    def __init__(self, message: str, *, runtime: str, feature: str) -> None:
        self.runtime = runtime
        self.feature = feature
        super().__init__(message)


class UnknownRuntimeError(ExtismKernelError, ValueError):
    """A runtime name (`runtime=`, `--runtime`, `$EXTISM_KERNEL_RUNTIME`) the host does not have."""


class HostFunctionError(ExtismKernelError):
    """A host function refused its arguments; the call then fails with this message."""


class PluginError(ExtismKernelError):
    """A plugin call failed; `message` is the plugin's own error text when it set one.

    `function` is the export called, `code` the Extism return code (the export's non-zero
    result, 134 for a trap or a timeout, -1 for a host-side failure) and `kind` one of
    `error` (set by the plugin), `code`, `trap`, `timeout`, `oom`, `exit`, `host` or `missing`.
    """

    def __init__(
        self, message: str, *, function: str = "", code: int = -1, kind: str = "host"
    ) -> None:
        self.message = message
        self.function = function
        self.code = code
        self.kind = kind
        super().__init__(message)
