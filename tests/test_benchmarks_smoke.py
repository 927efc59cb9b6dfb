"""Smoke test of the benchmark plugins: tiny sizes, both kernels, results checked (no timings)."""

from __future__ import annotations

import pytest

from benchmarks import instructions
from benchmarks import kernel as kb
from benchmarks.host import echo_wasm

KERNELS = ["kernel_wasm", "official_kernel_wasm"]


@pytest.fixture(params=KERNELS)
def bench(request: pytest.FixtureRequest) -> kb.Bench:
    return kb.Bench(request.getfixturevalue(request.param))


def test_plugin_imports_come_from_the_spec() -> None:
    wat = kb.plugin_wat()
    assert kb.IMPORTS_MARKER not in wat
    assert '(import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))' in wat


def test_live_blocks_lengths_add_up(bench: kb.Bench) -> None:
    n, max_size = 50, 64
    linked = bench.new()
    order = list(range(n))[::-1]
    linked.write_order(order)
    linked.p("seed", 5)
    lcg = kb.Lcg(5)
    sizes = [lcg.size(max_size) for _ in range(n)]
    assert linked.p("alloc_n", n, max_size) == sum(sizes)
    assert linked.p("failed") == 0
    linked.p("permute", n)
    assert linked.p("length_n", n, 3) == 3 * sum(sizes)
    linked.p("free_n", n)
    assert linked.p("length_n", n, 1) == 0


def test_live_blocks_runner_checks(bench: kb.Bench) -> None:
    result = kb.live_blocks(bench, 200, min_reps=1, max_reps=1, budget_s=0)
    assert result.checked


def test_churn_keeps_lengths(bench: kb.Bench) -> None:
    result = kb.churn(bench, steps=300, slots=10, chunk=100)
    assert result.checked
    assert result.peak_live_bytes >= result.end_live_bytes > 0
    assert [p["step"] for p in result.curve] == [0, 100, 200, 300]


def test_alloc_rounds_check_both_kernels(kernel_wasm: bytes, official_kernel_wasm: bytes) -> None:
    benches = {"ours": kb.Bench(kernel_wasm), "official": kb.Bench(official_kernel_wasm)}
    result = kb.alloc_rounds(benches, 100, rounds=2)
    assert result.checked
    assert set(result.fresh_s) == set(result.warm_s) == {"ours", "official"}


def test_instruction_counts_are_the_interpreters(kernel_wasm: bytes) -> None:
    """Counted, not estimated: the same call counts the same, a whole call counts more than one
    `alloc`, and nothing is counted while nothing runs."""
    pytest.importorskip("pywasm")
    alloc = instructions.kernel_alloc(kernel_wasm)
    assert alloc["alloc(10), warm"] == instructions.kernel_alloc(kernel_wasm)["alloc(10), warm"]
    assert alloc["alloc(10), warm"] > 10
    echo = instructions.echo_call(echo_wasm(), kernel_wasm)
    assert echo > alloc["alloc(10), warm"]
    with instructions.counting() as counter:
        pass
    assert counter.instructions == 0


def test_throughput_round_trips(bench: kb.Bench) -> None:
    assert kb.throughput(bench, size=64 << 10, reps=1).checked


def test_echo_plugin_against_official_sdk() -> None:
    extism = pytest.importorskip("extism")
    plugin = extism.Plugin(echo_wasm())
    for size in (0, 7, 8, 1029):
        data = bytes(i % 251 for i in range(size))
        assert plugin.call("echo", data, parse=bytes) == data


def test_official_runtime_benchmark_runs_both_sides(capsys: pytest.CaptureFixture[str]) -> None:
    """One tiny round of every row: both libextism copies answer, with outputs of equal length."""
    from benchmarks import official_runtime  # noqa: PLC0415 (imports tooling and test plugins)

    assert official_runtime.main(["--rounds", "1", "--seconds", "0.001", "--no-write"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith(("echo ", "count_vowels "))]
    assert len(rows) == len(official_runtime.PLUGINS) * len(official_runtime.SIZES)
    assert out.rstrip().endswith("(1 rounds, median of ours/official)")
