"""Build-time tooling of extism-kernel: toolchain discovery, kernel build, codegen, packaging hook.

Never shipped in the wheel. May import `extism_kernel` (installed, or `dist_kernel/` on the path:
the build hook puts it there); never the reverse.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CRATE_DIR = REPO / "kernel-src"
PACKAGE_DIR = REPO / "dist_kernel" / "extism_kernel"
