"""A row of the benchmark table, its gain, and the table as text and markdown."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Row:
    group: str
    figure: str
    unit: str
    ours: float | None
    official: float | None
    gain: float | None = None  # > 1: ours better
    target: str = ""
    met: bool | None = None
    note: str = ""


def gain_time(ours: float | None, official: float | None) -> float | None:
    return official / ours if ours and official else None


def gain_rate(ours: float | None, official: float | None) -> float | None:
    return ours / official if ours and official else None


def fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "—"
    if unit in ("bytes", "pages") or (float(x).is_integer() and abs(x) >= 100):
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    if abs(x) >= 0.1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def fmt_gain(g: float | None) -> str:
    if g is None:
        return ""
    return f"{g:,.0f}x" if g >= 100 else f"{g:.2f}x"


def show_met(m: bool | None) -> str:
    return "" if m is None else ("met" if m else "MISSED")


HEADER = ("group", "figure", "unit", "ours", "official", "gain", "target", "met", "note")


def table_cells(rows: list[Row]) -> list[tuple[str, ...]]:
    return [
        (
            r.group,
            r.figure,
            r.unit,
            fmt(r.ours, r.unit),
            fmt(r.official, r.unit),
            fmt_gain(r.gain),
            r.target,
            show_met(r.met),
            r.note,
        )
        for r in rows
    ]


def text_table(rows: list[Row]) -> str:
    cells = [HEADER, *table_cells(rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    lines = []
    for k, c in enumerate(cells):
        lines.append(
            "  ".join(
                s.ljust(w) if i < 3 or i > 5 else s.rjust(w)
                for i, (s, w) in enumerate(zip(c, widths, strict=True))
            ).rstrip()
        )
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: list[Row]) -> str:
    out = [
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join("---:" if 3 <= i <= 5 else "---" for i in range(len(HEADER))) + "|",
    ]
    out += [
        "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
        for cells in table_cells(rows)
    ]
    return "\n".join(out)
