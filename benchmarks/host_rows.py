"""Rows of the host and build benchmarks, from the figures `host.py` and `build.py` measure."""

from __future__ import annotations

from typing import Any

from benchmarks.rows import Row, gain_rate, gain_time


def build_rows(build: dict[str, Any]) -> list[Row]:
    rows = []
    for key, label in (
        ("build_cold_s", "python -m build (sdist + wheel), cold"),
        ("build_warm_s", "python -m build (sdist + wheel), warm"),
        ("kernel_cold_s", "kernel alone: python -m tooling build, cold"),
        ("kernel_warm_s", "kernel alone: python -m tooling build, warm"),
    ):
        if key in build:
            rows.append(Row("build", label, "s", build[key], None))
    rows.extend(
        Row("build", key, "", None, None, note=build[key].splitlines()[0])
        for key in ("build_error", "kernel_error")
        if key in build
    )
    return rows


def host_rows(host: dict[str, Any]) -> list[Row]:
    rows = []
    ours, official = host.get("ours", {}), host.get("official", {})
    note = "; ".join(
        f"{side}: {d['skipped']}"
        for side, d in (("ours", ours), ("official", official))
        if "skipped" in d
    )
    for k, label in enumerate(host.get("sizes", {})):
        o = ours.get("calls_per_s", {}).get(label)
        f = official.get("calls_per_s", {}).get(label)
        rows.append(
            Row(
                "host",
                f"echo {label}: calls/s",
                "calls/s",
                o,
                f,
                gain_rate(o, f),
                note="" if k else note,
            )
        )
    pywasm = host.get("pywasm", {})
    py = pywasm.get("calls_per_s", {}).get("10 B")
    if py:
        f = pywasm.get("official_kernel_calls_per_s", {}).get("10 B")
        label = "echo 10 B: calls/s, pywasm runtime (official: its kernel on this host)"
        rows.append(Row("host", label, "calls/s", py, f, gain_rate(py, f)))
    w3 = host.get("wasm3", {})
    rate = w3.get("calls_per_s", {}).get("10 B")
    if rate or "skipped" in w3:
        label = "echo 10 B: calls/s, wasm3 runtime"
        rows.append(Row("host", label, "calls/s", rate, None, note=w3.get("skipped", "")))
    o, f = ours.get("load_s"), official.get("load_s")
    gain = gain_time(o, f)
    rows.append(
        Row(
            "host",
            "plugin load (new Plugin)",
            "ms",
            o * 1e3 if o else None,
            f * 1e3 if f else None,
            gain,
        )
    )
    return rows
