"""Prove a release installs: upload the sdist and wheel with twine, install from the index, run it.

`python -m tooling publish_check --repository-url URL` is the maintainer's command (and what
tests/test_publish_e2e.py runs against a local pypiserver):

1. take the built files from `--dist DIR` (else build them now, with `SOURCE_DATE_EPOCH` of the
   last commit);
2. `twine upload --repository-url URL` (credentials from `TWINE_USERNAME` / `TWINE_PASSWORD`;
   a local index gets dummy ones);
3. make a fresh virtual environment and `pip install --no-deps extism-kernel==X.Y.Z` from the
   index alone (pip's own configuration is ignored for this step, so nothing else can answer);
4. add the `host` extra's dependencies from pip's usual sources (the index as an extra one);
5. run `extism-kernel info --json` from the environment: its sha256 and version must be the
   wheel's, and the package must be imported from the environment's site-packages;
6. when the package has `extism_kernel.host`, call an echo plugin through the reference host
   (skipped, and said so, when that subpackage does not exist in this version).

`--local` starts pypiserver on 127.0.0.1 (a free port) in a temp dir and uses it as the index.
Errors are `PublishCheckError`, whose message names the step and gives the tool's output.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tooling import REPO

SMOKE_PLUGIN = Path(__file__).with_name("smoke_plugin.wat")
IMPORTS_MARKER = ";; @imports"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
WHEEL_NAME = re.compile(r"^extism_kernel-(?P<version>[^-]+)-py3-none-any\.whl$")

SMOKE_SCRIPT = Path(__file__).with_name("installed_smoke.py")  # runs in the fresh environment
SMOKE_PAYLOAD = "hello from the package index"


class PublishCheckError(RuntimeError):
    """A step failed; the message names the step and gives the tool's output."""


@dataclass
class PublishReport:
    """What was uploaded, where it was installed from, and what the installed package said."""

    repository_url: str
    index_url: str
    version: str
    files: dict[str, str]  # file name -> sha256
    kernel_sha256: str
    info: dict[str, object] = field(default_factory=dict)
    installed_from: str = ""
    host: str = ""

    @property
    def installed_sha256(self) -> object:
        """The default kernel's sha256 as the installed `extism-kernel info --json` reports it."""
        variants = self.info.get("variants")
        default = variants.get("default") if isinstance(variants, dict) else None
        return default.get("sha256") if isinstance(default, dict) else None

    @property
    def ok(self) -> bool:
        """True when the installed package reports the uploaded kernel and the host step passed."""
        return (
            self.installed_sha256 == self.kernel_sha256
            and self.info.get("version") == self.version
            and (self.host == "ok" or self.host.startswith("skipped"))
        )


def _run(
    step: str,
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 600,
) -> str:
    try:
        proc = subprocess.run(  # noqa: S603
            cmd, capture_output=True, text=True, check=False, env=env, cwd=cwd, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        msg = f"{step}: `{' '.join(cmd)}` did not finish in {timeout:.0f} s"
        raise PublishCheckError(msg) from exc
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
        msg = f"{step} failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}"
        raise PublishCheckError(msg)
    return proc.stdout


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def find_dists(dist_dir: Path) -> tuple[Path, Path, str]:
    """The one wheel and the one sdist in `dist_dir`, and their version."""
    wheels = sorted(dist_dir.glob("extism_kernel-*-py3-none-any.whl"))
    if len(wheels) != 1:
        msg = f"`{dist_dir}`: expected one extism_kernel wheel but found {len(wheels)}"
        raise PublishCheckError(msg)
    match = WHEEL_NAME.match(wheels[0].name)
    if match is None:
        msg = f"`{wheels[0].name}`: not an extism_kernel py3-none-any wheel name"
        raise PublishCheckError(msg)
    version = match["version"]
    sdist = dist_dir / f"extism_kernel-{version}.tar.gz"
    if not sdist.is_file():
        msg = f"`{dist_dir}`: expected `{sdist.name}` beside the wheel but found none"
        raise PublishCheckError(msg)
    return wheels[0], sdist, version


def wheel_kernel_sha256(wheel: Path) -> str:
    """The sha256 of the default kernel inside the wheel (checked against its build_info.json)."""
    with zipfile.ZipFile(wheel) as zf:
        default = json.loads(zf.read("extism_kernel/build_info.json"))["variants"]["default"]
        digest = hashlib.sha256(zf.read(f"extism_kernel/{default['file']}")).hexdigest()
        stamped = default["sha256"]
    if digest != stamped:
        msg = f"`{wheel.name}`: build_info.json says sha256 {stamped} but the kernel is {digest}"
        raise PublishCheckError(msg)
    return digest


def build_dists(out_dir: Path) -> None:
    """`python -m build` of this checkout into `out_dir` (SOURCE_DATE_EPOCH of the last commit)."""
    env = dict(os.environ)
    git = shutil.which("git")
    if git is not None and (REPO / ".git").exists():
        env["SOURCE_DATE_EPOCH"] = _run(
            "git log", [git, "log", "-1", "--format=%ct"], cwd=REPO
        ).strip()
    _run("build", [sys.executable, "-m", "build", "--outdir", str(out_dir), str(REPO)], env=env)


def index_url_for(repository_url: str) -> str:
    """The simple index of an upload URL: `…/legacy/` → `…/simple/`, else `<url>/simple/`."""
    parts = urlsplit(repository_url)
    path = parts.path.rstrip("/")
    path = path.removesuffix("/legacy") + "/simple/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def upload(files: list[Path], repository_url: str) -> None:
    """`twine upload` to `repository_url`; a local index gets dummy credentials if none are set."""
    env = dict(os.environ)
    if urlsplit(repository_url).hostname in LOCAL_HOSTS:
        env.setdefault("TWINE_USERNAME", "publish-check")
        env.setdefault("TWINE_PASSWORD", "publish-check")
    cmd = [
        sys.executable,
        "-m",
        "twine",
        "upload",
        "--non-interactive",
        "--disable-progress-bar",
        "--repository-url",
        repository_url,
        *map(str, files),
    ]
    _run("twine upload", cmd, env=env)


def venv_python(env_dir: Path) -> Path:
    """The interpreter of a virtual environment, on POSIX and Windows."""
    if os.name == "nt":
        return env_dir / "Scripts" / "python.exe"
    return env_dir / "bin" / "python"


def venv_script(env_dir: Path, name: str) -> Path:
    """A console script of a virtual environment, on POSIX and Windows."""
    if os.name == "nt":
        return env_dir / "Scripts" / f"{name}.exe"
    return env_dir / "bin" / name


def _index_only_env() -> dict[str, str]:
    """The environment for pip without any configured source: only `--index-url` answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    for keep in ("PIP_CERT", "PIP_DEFAULT_TIMEOUT"):
        if keep in os.environ:
            env[keep] = os.environ[keep]
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def install(env_dir: Path, index_url: str, version: str, *, with_host: bool, attempts: int) -> None:
    """Fresh venv; extism-kernel from the index alone; then the host extra's dependencies."""
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = str(venv_python(env_dir))
    requirement = f"extism-kernel=={version}"
    cmd = [
        python,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-cache-dir",
        "--index-url",
        index_url,
        requirement,
    ]
    for attempt in range(1, attempts + 1):  # a real index may take a while to list a new upload
        try:
            _run("pip install (from the index only)", cmd, env=_index_only_env())
            break
        except PublishCheckError:
            if attempt == attempts:
                raise
            time.sleep(10)
    if with_host:
        cmd = [
            python,
            "-m",
            "pip",
            "install",
            "--extra-index-url",
            index_url,
            f"extism-kernel[host]=={version}",
        ]
        _run("pip install (the host extra's dependencies)", cmd)


def check_installed(env_dir: Path, report: PublishReport, work: Path, *, with_host: bool) -> None:
    """Run the installed command and the smoke script; fill in `report`."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    out = _run(
        "extism-kernel info --json",
        [str(venv_script(env_dir, "extism-kernel")), "info", "--json"],
        env=env,
        cwd=work,
    )
    report.info = json.loads(out)
    smoke = work / SMOKE_SCRIPT.name  # a copy: run outside this repository
    smoke.write_bytes(SMOKE_SCRIPT.read_bytes())
    out = _run(
        "host smoke call",
        [
            str(venv_python(env_dir)),
            str(smoke),
            str(SMOKE_PLUGIN),
            IMPORTS_MARKER,
            SMOKE_PAYLOAD,
            "host" if with_host else "no-host",
        ],
        env=env,
        cwd=work,
    )
    facts = json.loads(out)
    report.installed_from = facts["file"]
    report.host = facts["host"]
    purelib = Path(facts["purelib"]).resolve()
    if purelib not in Path(facts["file"]).resolve().parents:
        msg = f"installed package: expected it under `{purelib}` but found `{facts['file']}`"
        raise PublishCheckError(msg)


def publish_check(  # noqa: PLR0913 (keyword-only options of one command)
    repository_url: str,
    *,
    dist_dir: Path | None = None,
    index_url: str | None = None,
    with_host: bool = True,
    work_dir: Path | None = None,
    attempts: int = 1,
    upload_files: bool = True,
) -> PublishReport:
    """Upload, install into a fresh environment, run; the report says what the package answered.

    Raises `PublishCheckError` when a step fails or the installed kernel is not the uploaded one.
    """
    with contextlib.ExitStack() as stack:
        work = work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="publish-")))
        work.mkdir(parents=True, exist_ok=True)
        if dist_dir is None:
            dist_dir = work / "dist"
            build_dists(dist_dir)
        wheel, sdist, version = find_dists(dist_dir)
        report = PublishReport(
            repository_url=repository_url,
            index_url=index_url or index_url_for(repository_url),
            version=version,
            files={p.name: _sha256(p) for p in (sdist, wheel)},
            kernel_sha256=wheel_kernel_sha256(wheel),
        )
        if upload_files:
            upload([sdist, wheel], repository_url)
        install(work / "venv", report.index_url, version, with_host=with_host, attempts=attempts)
        check_installed(work / "venv", report, work, with_host=with_host)
        if not report.ok:
            msg = (
                f"installed extism-kernel {report.info.get('version')} reports sha256 "
                f"{report.installed_sha256} and host `{report.host}`; expected "
                f"{version} with sha256 {report.kernel_sha256}"
            )
            raise PublishCheckError(msg)
        return report


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def local_index(packages: Path, *, timeout: float = 30) -> Iterator[str]:
    """Run pypiserver on 127.0.0.1 (free port, no auth, no fallback); yield its upload URL."""
    packages.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = packages.parent / "pypiserver.log"
    cmd = [
        sys.executable,
        "-m",
        "pypiserver",
        "run",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--authenticate",
        ".",
        "--passwords",
        ".",
        "--disable-fallback",
        str(packages),
    ]
    with log.open("wb") as log_file:
        server = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            url = f"http://127.0.0.1:{port}/"
            _wait_until_up(f"{url}simple/", server, timeout, log)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_up(url: str, server: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            msg = f"pypiserver exited with {server.returncode}:\n{log.read_text(errors='replace')}"
            raise PublishCheckError(msg)
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    msg = f"pypiserver: `{url}` did not answer within {timeout:.0f} s"
    raise PublishCheckError(msg)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `python -m tooling publish_check`."""
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--repository-url", help="twine's upload URL, e.g. https://test.pypi.org/legacy/"
    )
    where.add_argument(
        "--local",
        action="store_true",
        help="start pypiserver on 127.0.0.1 in a temp dir and use it",
    )
    parser.add_argument("--index-url", help="pip's index (default: derived from the upload URL)")
    parser.add_argument(
        "--dist",
        type=Path,
        help="folder with the built sdist and wheel (default: build this checkout now)",
    )
    parser.add_argument("--work-dir", type=Path, help="keep the venv and logs here (default: temp)")
    parser.add_argument(
        "--no-host",
        action="store_true",
        help="do not install the host extra's dependencies (wasmtime)",
    )
    parser.add_argument(
        "--attempts",
        type=int,
        default=1,
        help="tries of the index install (a real index may lag behind the upload)",
    )
    parser.add_argument(
        "--no-upload",
        action="store_true",
        help="the files are already on the index (e.g. the release workflow's TestPyPI run)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    """Run the check; print the report; 0 when the installed package is the uploaded one."""
    try:
        with contextlib.ExitStack() as stack:
            url = args.repository_url
            if args.local:
                tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pypiserver-")))
                url = stack.enter_context(local_index(tmp / "packages"))
            report = publish_check(
                url,
                dist_dir=args.dist,
                index_url=args.index_url,
                with_host=not args.no_host,
                work_dir=args.work_dir,
                attempts=args.attempts,
                upload_files=not args.no_upload,
            )
    except PublishCheckError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({**asdict(report), "ok": report.ok}, indent=2))
    else:
        print(f"uploaded to {report.repository_url}, installed from {report.index_url}")
        for name, digest in report.files.items():
            print(f"  {name}  sha256 {digest}")
        print(
            f"extism-kernel info: version {report.info.get('version')}, "
            f"sha256 {report.installed_sha256} (kernel in the wheel: {report.kernel_sha256})"
        )
        print(f"installed from {report.installed_from}")
        print(f"host smoke call: {report.host}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m tooling.publish_check`: the same command without the `tooling` dispatcher."""
    parser = argparse.ArgumentParser(prog="python -m tooling publish_check")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
