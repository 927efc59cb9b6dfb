"""Find a Rust toolchain that can build for wasm32-unknown-unknown.

Order: (1) the explicit override `EXTISM_KERNEL_CARGO` (with `EXTISM_KERNEL_RUSTC`, default the
rustc beside that cargo), (2) rustup toolchains that have the target installed, the default
first, (3) the system toolchain in /usr (Debian's rustc + libstd-rust-dev-wasm32).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

TARGET = "wasm32-unknown-unknown"
SYSTEM_PREFIX = Path("/usr")

INSTALL_HELP = f"""no Rust toolchain with the `{TARGET}` target was found. Install one of:
  rustup:          rustup target add {TARGET}
  Debian/Ubuntu:   sudo apt-get install -y rustc cargo libstd-rust-dev-wasm32 lld
or point EXTISM_KERNEL_CARGO (and EXTISM_KERNEL_RUSTC) at a cargo and rustc that have it."""


class ToolchainNotFoundError(RuntimeError):
    """No usable toolchain; the message gives the commands that install one."""


@dataclass(frozen=True)
class Toolchain:
    """A cargo/rustc pair and the environment that makes cargo use that rustc."""

    name: str
    cargo: str
    rustc: str
    env: dict[str, str] = field(default_factory=dict)

    def run_env(self) -> dict[str, str]:
        """The process environment for cargo and rustc of this toolchain."""
        return {**os.environ, **self.env}

    def rustc_version(self) -> str:
        """`rustc -V` of this toolchain, e.g. `rustc 1.63.0`."""
        return _output([self.rustc, "-V"], self.run_env()).strip()


def _output(cmd: list[str], env: dict[str, str] | None = None) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout  # noqa: S603


def has_wasm_target(rustc: str, env: dict[str, str] | None = None) -> bool:
    """True when rustc's sysroot holds a wasm32 libcore (`--print target-libdir` lies otherwise)."""
    try:
        sysroot = _output([rustc, "--print", "sysroot"], env).strip()
    except (OSError, subprocess.CalledProcessError):
        return False
    libdir = Path(sysroot) / "lib" / "rustlib" / TARGET / "lib"
    return any(libdir.glob("libcore-*.rlib"))


def _from_override() -> Toolchain | None:
    cargo = os.environ.get("EXTISM_KERNEL_CARGO")
    if not cargo:
        return None
    rustc = os.environ.get("EXTISM_KERNEL_RUSTC") or str(Path(cargo).with_name("rustc"))
    env = {"RUSTC": rustc}
    if not has_wasm_target(rustc):
        msg = f"`EXTISM_KERNEL_CARGO={cargo}`: its rustc `{rustc}` has no `{TARGET}` target\n"
        raise ToolchainNotFoundError(msg + INSTALL_HELP)
    return Toolchain("override", cargo, rustc, env)


def _rustup_toolchains() -> list[str]:
    rustup = shutil.which("rustup")
    if rustup is None:
        return []
    try:
        listing = _output([rustup, "toolchain", "list"])
    except (OSError, subprocess.CalledProcessError):
        return []
    rows = [line.split() for line in listing.splitlines() if line.strip()]
    rows.sort(key=lambda row: not any("default" in word for word in row[1:]))
    return [row[0] for row in rows]


def _from_rustup() -> Toolchain | None:
    rustup = shutil.which("rustup")
    if rustup is None:
        return None
    for name in _rustup_toolchains():
        env = {"RUSTUP_TOOLCHAIN": name}
        try:
            rustc = _output([rustup, "which", "--toolchain", name, "rustc"]).strip()
            cargo = _output([rustup, "which", "--toolchain", name, "cargo"]).strip()
        except (OSError, subprocess.CalledProcessError):
            continue
        if has_wasm_target(rustc):
            return Toolchain(f"rustup:{name}", cargo, rustc, {**env, "RUSTC": rustc})
    return None


def _from_system(prefix: Path = SYSTEM_PREFIX) -> Toolchain | None:
    cargo, rustc = prefix / "bin" / "cargo", prefix / "bin" / "rustc"
    if cargo.is_file() and rustc.is_file() and has_wasm_target(str(rustc)):
        # Plain /usr/bin/cargo would pick rustup's rustc from PATH: pin RUSTC.
        return Toolchain("system", str(cargo), str(rustc), {"RUSTC": str(rustc)})
    return None


def find_toolchain() -> Toolchain:
    """The first usable toolchain in the documented order.

    Raises `ToolchainNotFoundError` with the install commands when there is none.
    """
    for finder in (_from_override, _from_rustup, _from_system):
        found = finder()
        if found is not None:
            return found
    raise ToolchainNotFoundError(INSTALL_HELP)
