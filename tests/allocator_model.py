"""A Python model of what the allocator promises, for the property tests.

The model knows nothing about where blocks go; it records what the kernel handed out and
checks the promises: blocks never overlap, `length` is what was asked, bytes survive, and
anything that is not a live handle is refused.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from tests.kernel_driver import KernelInstance


@dataclass
class AllocatorModel:
    """Live blocks by handle: their requested length and the bytes the test wrote there."""

    blocks: dict[int, bytes] = field(default_factory=dict)
    freed: set[int] = field(default_factory=set)

    def check(self, kernel: KernelInstance) -> None:
        """Assert every invariant against the kernel's real state."""
        spans = sorted((h, len(data)) for h, data in self.blocks.items())
        for (start, size), (next_start, _) in itertools.pairwise(spans):
            assert start + size <= next_start, f"blocks {start}+{size} and {next_start} overlap"
        for handle, data in self.blocks.items():
            assert kernel.length(handle) == len(data), f"length of {handle}"
            assert kernel.read(handle, len(data)) == data, f"bytes of {handle} changed"
