"""Hatchling build hook: build and check the kernel, then ship it in the sdist and the wheel.

Wiring only: the work is in tooling.kernel_build. A failure stops the build with the error
(the previous kernel in the source tree is left as it was).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# hatchling loads this file by path, in a build environment where nothing of ours is installed:
# the one place that puts the repository (tooling/) and the package source on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "dist_kernel"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from extism_kernel._kernel import BUILD_INFO_FILE

from tooling import PACKAGE_DIR, REPO
from tooling.kernel_build import build_kernel
from tooling.sbom import write_sbom


class KernelBuildHook(BuildHookInterface):  # type: ignore[misc]  # hatchling ships no types
    """Build the kernel into dist_kernel/extism_kernel/ before files are collected."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Build the kernel; mark the generated files as artifacts of this build."""
        info = build_kernel(PACKAGE_DIR)
        for kernel in info.variants.values():
            self.app.display_info(f"{kernel.file}: {kernel.size} bytes, sha256 {kernel.sha256}")
        names = [k.file for k in info.variants.values()] + [BUILD_INFO_FILE]
        generated = [str((PACKAGE_DIR / name).relative_to(REPO)) for name in names]
        build_data.setdefault("artifacts", []).extend(generated)
        if self.target_name == "wheel":  # PEP 770: .dist-info/sboms/extism-kernel.cdx.json
            self._sbom_dir = tempfile.mkdtemp(prefix="extism-kernel-sbom-")
            build_data["sbom_files"].append(str(write_sbom(Path(self._sbom_dir), info)))
        del version

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the temp dir of the SBOM once the wheel holds it."""
        sbom_dir = getattr(self, "_sbom_dir", None)
        if sbom_dir is not None:
            shutil.rmtree(sbom_dir, ignore_errors=True)
        del version, build_data, artifact_path
