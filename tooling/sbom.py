"""A CycloneDX SBOM of the kernel's build inputs, shipped in the wheel (PEP 770 dist-info/sboms).

It lists what went into `extism-kernel.wasm`: the crates of kernel-src/Cargo.lock, the rustc that
compiled them, wasm-opt when it shrank the module (wasm-tools only checks it) and the build
backend, plus the kernel file's sha256. The output is deterministic (sorted keys, no random serial
number, the timestamp only from `SOURCE_DATE_EPOCH`), so the wheel stays byte-reproducible.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from extism_kernel._kernel import BuildInfo

from tooling import CRATE_DIR
from tooling.toolchain import TARGET

SBOM_NAME = "extism-kernel.cdx.json"
SPEC_VERSION = "1.6"
LOCK_PACKAGE = re.compile(r"\[\[package\]\]\n(?P<body>(?:[^\[\n][^\n]*\n?)*)")
LOCK_FIELD = re.compile(
    r'^(?P<key>name|version|source|checksum) = "(?P<value>[^"]*)"$', re.MULTILINE
)
VERSION_WORD = re.compile(r"\d+\.\d+[\w.+-]*")


def cargo_lock_packages(lock: Path) -> list[dict[str, str]]:
    """The `[[package]]` entries of a Cargo.lock (name, version, source and checksum if set)."""
    text = lock.read_text(encoding="utf-8")
    return [
        {m["key"]: m["value"] for m in LOCK_FIELD.finditer(p["body"])}
        for p in LOCK_PACKAGE.finditer(text)
    ]


def _tool_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout  # noqa: S603
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    match = VERSION_WORD.search(out)
    return match.group(0) if match else out.strip() or "unknown"


def _tools(info: BuildInfo) -> list[dict[str, object]]:
    rustc_version = VERSION_WORD.search(info.rustc)
    tools: list[dict[str, object]] = [
        {
            "type": "application",
            "name": "rustc",
            "version": rustc_version.group(0) if rustc_version else info.rustc,
            "description": f"{info.rustc} ({info.toolchain} toolchain), target {TARGET}",
        }
    ]
    steps = info.optimizer.split("+")
    wasm_opt = shutil.which("wasm-opt")
    if "wasm-opt" in steps and wasm_opt is not None:
        version = _tool_version([wasm_opt, "--version"])
        tools.append({"type": "application", "name": "wasm-opt", "version": version})
    try:
        hatchling = metadata.version("hatchling")
    except metadata.PackageNotFoundError:
        hatchling = "unknown"
    tools.append({"type": "application", "name": "hatchling", "version": hatchling})
    return tools


def sbom(info: BuildInfo, crate_dir: Path = CRATE_DIR) -> dict[str, object]:
    """The CycloneDX document (as a dict) for a kernel build described by `info`."""
    package_ref = f"pkg:pypi/extism-kernel@{info.version}"
    crates = []
    for crate in cargo_lock_packages(crate_dir / "Cargo.lock"):
        purl = f"pkg:cargo/{crate['name']}@{crate['version']}"
        entry: dict[str, object] = {
            "type": "library",
            "bom-ref": purl,
            "name": crate["name"],
            "version": crate["version"],
            "purl": purl,
        }
        if "checksum" in crate:
            entry["hashes"] = [{"alg": "SHA-256", "content": crate["checksum"]}]
        if "source" not in crate:  # the kernel's own crate, built from the sdist's kernel-src/
            entry["description"] = "first-party crate in kernel-src/"
        crates.append(entry)
    kernels = [
        {
            "type": "file",
            "bom-ref": f"file:extism_kernel/{kernel.file}",
            "name": f"extism_kernel/{kernel.file}",
            "version": info.version,
            "hashes": [{"alg": "SHA-256", "content": kernel.sha256}],
            "properties": [
                {"name": "extism-kernel:variant", "value": variant},
                {"name": "extism-kernel:size", "value": str(kernel.size)},
                {"name": "extism-kernel:abi_version", "value": str(info.abi_version)},
                {"name": "extism-kernel:target", "value": TARGET},
                {"name": "extism-kernel:optimizer", "value": info.optimizer},
            ],
        }
        for variant, kernel in info.variants.items()
    ]
    kernel_refs = [str(k["bom-ref"]) for k in kernels]
    doc_metadata: dict[str, object] = {
        "component": {
            "type": "library",
            "bom-ref": package_ref,
            "name": "extism-kernel",
            "version": info.version,
            "purl": package_ref,
            "licenses": [{"expression": "BSD-3-Clause"}],
        },
        "tools": {"components": _tools(info)},
    }
    serial = uuid.uuid5(uuid.NAMESPACE_URL, f"{package_ref}#{info.sha256}")  # same build, same id
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        stamp = datetime.fromtimestamp(int(epoch), tz=timezone.utc)
        doc_metadata["timestamp"] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "$schema": f"http://cyclonedx.org/schema/bom-{SPEC_VERSION}.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": serial.urn,
        "version": 1,
        "metadata": doc_metadata,
        "components": [*kernels, *crates],
        "dependencies": [
            {"ref": package_ref, "dependsOn": kernel_refs},
            *({"ref": ref, "dependsOn": [c["bom-ref"] for c in crates]} for ref in kernel_refs),
        ],
    }


def write_sbom(out_dir: Path, info: BuildInfo, crate_dir: Path = CRATE_DIR) -> Path:
    """Write `extism-kernel.cdx.json` into `out_dir`; return its path."""
    path = out_dir / SBOM_NAME
    text = json.dumps(sbom(info, crate_dir), indent=2, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8")
    return path
