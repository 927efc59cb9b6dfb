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
