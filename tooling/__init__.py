"""Build-time tooling of extism-kernel: toolchain discovery, kernel build, codegen, packaging hook.

Never shipped in the wheel. May import `extism_kernel` (from `dist_kernel/`); never the reverse.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CRATE_DIR = REPO / "kernel-src"
PACKAGE_DIR = REPO / "dist_kernel" / "extism_kernel"

if str(PACKAGE_DIR.parent) not in sys.path:  # let the build use the package's spec and checks
    sys.path.insert(0, str(PACKAGE_DIR.parent))
