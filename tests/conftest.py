"""Shared fixtures: the built kernel, the official kernel, and a kernel instance factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import extism_kernel
import pytest
from extism_kernel._runtimes import RUNTIMES

from tests.host_plugins import KERNELS
from tests.kernel_driver import KernelInstance


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--bless", action="store_true", help="rewrite expected files of case directories"
    )


@pytest.fixture(scope="session")
def kernel_wasm() -> bytes:
    """Our kernel, as shipped by the installed package (built by the hatch hook)."""
    return extism_kernel.kernel_bytes()


@pytest.fixture(scope="session")
def official_kernel_wasm() -> bytes:
    """The official Extism kernel, extracted from the extism-sys wheel."""
    from tooling.official_kernel import official_kernel  # noqa: PLC0415

    return official_kernel()


@pytest.fixture(params=KERNELS)
def kernel(
    request: pytest.FixtureRequest, kernel_wasm: bytes, official_kernel_wasm: bytes
) -> bytes:
    """Each kernel in turn, as bytes: ours and the official one."""
    return kernel_wasm if request.param == "ours" else official_kernel_wasm


@pytest.fixture
def new_kernel(kernel_wasm: bytes) -> Callable[..., KernelInstance]:
    """Factory of fresh instances of our kernel."""
    return lambda **kw: KernelInstance(kernel_wasm, **kw)


# wasm3 runs the conformance suite and its own tests (test_runtime_wasm3.py), not every host test:
# many of those use timeouts, WASI or the official kernel (externref), which wasm3 lacks
HOST_TEST_RUNTIMES = tuple(r for r in RUNTIMES if r != "wasm3")


@pytest.fixture(params=HOST_TEST_RUNTIMES)
def host_runtime(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each runtime of the host in turn, as the default of every `Plugin` the test creates."""
    from extism_kernel._runtimes import RUNTIME_ENV  # noqa: PLC0415

    monkeypatch.setenv(RUNTIME_ENV, request.param)
    return str(request.param)


@pytest.fixture
def restore_host_fn_registry() -> Iterator[None]:
    """`@host_fn` registers globally (as in the official SDK): undo a test's additions."""
    from extism_kernel.host._user_functions import HOST_FN_REGISTRY  # noqa: PLC0415

    before = list(HOST_FN_REGISTRY)
    yield
    HOST_FN_REGISTRY[:] = before
