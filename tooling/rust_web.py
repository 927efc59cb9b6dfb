"""A current Rust for the kernel on Debian: `rustc-web` 1.96, unpacked beside the system one.

Debian ships `rustc-web` (a current rustc) but no wasm32 standard library for it, and installing
the package replaces `/usr/bin/rustc`, which breaks the 1.63 toolchain the build uses. So the
packages are fetched with `apt-get download` and unpacked into a private prefix with `dpkg -x`;
the kernel is `no_std`, so `core` and `compiler_builtins` are built for wasm32 from
`rust-web-src` into a private sysroot, and a `rustc` wrapper points cargo at both. This proves
that the kernel builds with the Rust of today (the GitHub path uses rustup stable), and the
result is checked and run like the shipped build: `python -m tooling rust_web_check`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from tooling.kernel_build import build_kernel, run_step
from tooling.toolchain import TARGET, Toolchain

PACKAGES = ("rustc-web", "cargo-web", "libstd-rust-web-dev", "rust-web-src")
RUNTIMES = ("wasmtime", "pywasm")  # the suite runs on both, as for the shipped kernel
VERSION = "1.96"  # libstd-rust-web-<version> is named after it
CACHE = Path(os.environ.get("EXTISM_KERNEL_CACHE", Path.home() / ".cache" / "extism-kernel"))


class RustWebError(RuntimeError):
    """A step of preparing the toolchain failed; the message names it and gives its output."""


def _run(step: str, cmd: list[str], **kwargs: object) -> None:
    run_step(step, cmd, error=RustWebError, **kwargs)


def _unpack(prefix: Path) -> None:
    """Download the packages (no install) and unpack them into `prefix`."""
    for tool in ("apt-get", "dpkg"):
        if shutil.which(tool) is None:
            msg = f"`{tool}` not found: the rustc-web toolchain comes from Debian's packages"
            raise RustWebError(msg)
    with tempfile.TemporaryDirectory(prefix="rust-web-debs-") as tmp:
        names = [*PACKAGES, f"libstd-rust-web-{VERSION}", _llvm_package()]
        _run("apt-get download", ["apt-get", "download", *names], cwd=tmp)
        for deb in sorted(Path(tmp).glob("*.deb")):
            _run("dpkg -x", ["dpkg", "-x", str(deb), str(prefix)])


def _llvm_package() -> str:
    """The libllvm package this rustc links (`libllvm22` for 1.96), as apt knows it."""
    proc = subprocess.run(  # noqa: S603
        ["apt-cache", "depends", f"libstd-rust-web-{VERSION}"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.findall(r"Depends: (libllvm\d+)\b", proc.stdout)
    if proc.returncode != 0 or not found:
        msg = f"apt-cache names no libllvm for libstd-rust-web-{VERSION} (run apt-get update?)"
        raise RustWebError(msg)
    return str(found[0])


def _shared_libs(prefix: Path) -> Path:
    """The unpacked `usr/lib/<multiarch>` directory (x86_64-linux-gnu, aarch64-linux-gnu, ...)."""
    found = sorted(p for p in (prefix / "usr" / "lib").glob("*-linux-gnu*") if p.is_dir())
    if len(found) != 1:
        msg = f"`{prefix}/usr/lib`: expected one multiarch directory, found {len(found)}"
        raise RustWebError(msg)
    return found[0]


def _library_dir(prefix: Path) -> Path:
    found = sorted((prefix / "usr" / "src").glob("rustc-*/library"))
    if not found:
        msg = f"`{prefix}`: rust-web-src unpacked no `usr/src/rustc-*/library`"
        raise RustWebError(msg)
    return found[-1]


def _build_sysroot(prefix: Path, sysroot: Path, env: dict[str, str]) -> None:
    """`core` and `compiler_builtins` for wasm32, from the packaged sources."""
    rustc = str(prefix / "usr" / "bin" / "rustc")
    library = _library_dir(prefix)
    libdir = sysroot / "lib" / "rustlib" / TARGET / "lib"
    libdir.mkdir(parents=True, exist_ok=True)
    common = ["--edition", "2024", "--crate-type", "rlib", "--target", TARGET]
    common += ["-O", "-C", "panic=abort"]
    env = {**env, "RUSTC_BOOTSTRAP": "1"}
    core = libdir / "libcore-rustweb.rlib"
    _run(
        "rustc core",
        [
            *(rustc, *common, "--crate-name", "core"),
            *(str(library / "core" / "src" / "lib.rs"), "-o", str(core)),
        ],
        env=env,
    )
    builtins = library / "compiler-builtins" / "compiler-builtins" / "src" / "lib.rs"
    _run(
        "rustc compiler_builtins",
        [
            *(rustc, *common, "--crate-name", "compiler_builtins", str(builtins)),
            *("--cfg", 'feature="compiler-builtins"', "--cfg", 'feature="mem"'),
            *("--extern", f"core={core}", "-L", str(libdir)),
            *("-o", str(libdir / "libcompiler_builtins-rustweb.rlib")),
        ],
        env=env,
    )


def _wrapper(root: Path, prefix: Path, sysroot: Path) -> Path:
    """A `rustc` that runs the unpacked one with its libraries and the private sysroot."""
    path = root / "rustc"
    libs = _shared_libs(prefix)
    path.write_text(
        "#!/bin/sh\n"
        f'export LD_LIBRARY_PATH="{libs}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}"\n'
        f'exec "{prefix}/usr/bin/rustc" "$@" --sysroot "{sysroot}"\n',
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path


def rust_web_toolchain(root: Path | None = None) -> Toolchain:
    """The rustc-web toolchain, prepared once under `root` (default: the cache); reused after.

    Raises `RustWebError` naming the step that failed.
    """
    root = root or CACHE / f"rust-web-{VERSION}"
    prefix, sysroot = root / "prefix", root / "sysroot"
    ready = root / "ready"
    if not ready.is_file():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        _unpack(prefix)
        _build_sysroot(prefix, sysroot, {"LD_LIBRARY_PATH": str(_shared_libs(prefix))})
        ready.write_text("ok\n", encoding="utf-8")
    env = {"LD_LIBRARY_PATH": str(_shared_libs(prefix))}
    rustc = _wrapper(root, prefix, sysroot)
    cargo = str(prefix / "usr" / "bin" / "cargo")
    return Toolchain("rust-web", cargo, str(rustc), {**env, "RUSTC": str(rustc)})


def check(work: Path) -> int:
    """Build the kernel with rustc-web into `work`, check both variants, run the suite on it.

    Prints the toolchain, each variant's size and the suite's summary on each runtime; 0 when
    every case passes on both.
    """
    from extism_kernel.host._conformance_runner import run_suite  # noqa: PLC0415

    toolchain = rust_web_toolchain()
    info = build_kernel(work / "out", toolchain=toolchain, target_dir=work / "target")
    print(f"toolchain: {info.rustc} (rustc-web, unpacked; core built from rust-web-src)")
    for name, kernel in info.variants.items():
        print(f"{name}: {kernel.file} {kernel.size} bytes, sha256 {kernel.sha256}")
    default = (work / "out" / info.variants["default"].file).read_bytes()
    ok = True
    for runtime in RUNTIMES:
        report = run_suite(
            default,
            kernel_name=f"kernel built by {info.rustc}",
            runtime=runtime,
            built_from_source=True,
        )
        print(f"{runtime}: {report.render().splitlines()[-1]}")
        ok = ok and report.ok
    return 0 if ok else 1
