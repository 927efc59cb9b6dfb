"""Every target of the benchmarks, in one table: which row, what it says, how it is met.

`python -m benchmarks` applies the table to its rows (`apply_targets`); the official-runtime
benchmark reads its floor and its echo target from here too.
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from benchmarks.rows import Row

OFFICIAL_KERNEL_SIZE = 3474  # bytes: libextism embeds the kernel in place up to this size
OFFICIAL_RUNTIME_FLOOR = 0.97  # no row of the official-runtime benchmark below: the noise
OFFICIAL_RUNTIME_ECHO_1MIB = 1.2

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Target:
    """A target: the rows whose figure matches `figure`, and the test of one of their fields."""

    figure: str  # a regular expression, matched at the start of Row.figure
    text: str  # as the table shows it
    field: Literal["gain", "ours"]
    op: Literal[">=", "<=", "=="]
    value: float

    def met(self, row: Row) -> bool | None:
        """Whether `row` meets the target; None when the row has no figure to compare."""
        value = getattr(row, self.field)
        return None if value is None else _OPS[self.op](value, self.value)


TARGETS = (
    Target(r"length\+free x10,000 live blocks$", "≥ 100x", "gain", ">=", 100),
    Target(r"length\+free growth exponent k, allocation", "ours ~ 1 (linear)", "ours", "<=", 1.15),
    Target(r"churn: memory_bytes / peak live bytes", "ours ≤ 2x", "ours", "<=", 2),
    Target(r"churn: memory size / peak live bytes", "ours ≤ 2x", "ours", "<=", 2),
    Target(r"input read, input_load_u64", "≥ 1.0x", "gain", ">=", 1.0),
    Target(r"write, store_u64", "≥ 1.0x", "gain", ">=", 1.0),
    Target(r"kernel size$", "≤ 3,474 bytes", "ours", "<=", OFFICIAL_KERNEL_SIZE),
    Target(r"memory pages at instantiation$", "1 vs 16", "ours", "==", 1),
    Target(r"echo (10 B|1 MiB): calls/s$", "≥ 1.0x", "gain", ">=", 1.0),
    Target(r"plugin load", "≤ official", "gain", ">=", 1.0),
)


def apply_targets(rows: list[Row]) -> list[Row]:
    """The rows with the target of the table that matches each (the first one) filled in."""
    out = []
    for row in rows:
        target = next((t for t in TARGETS if re.match(t.figure, row.figure)), None)
        met = (
            row
            if target is None
            else dataclasses.replace(row, target=target.text, met=target.met(row))
        )
        out.append(met)
    return out
