"""Drop the exports wasm-ld makes of its own symbols: `__heap_base` and `__data_end`.

rustc before 1.97 asks wasm-ld to export both (two immutable i32 globals). No host reads them:
the spec lists them as optional, and they cost 27 bytes of a kernel that must fit the 3,474-byte
slot libextism embeds. Only the export entries go; the globals stay (removing them would
renumber `extism_context`), and every other byte is copied as it is.
"""

from __future__ import annotations

from extism_kernel._wasm_binary import MAGIC, Section, read_uleb128, split_sections, uleb128

LINKER_EXPORTS = frozenset({"__heap_base", "__data_end"})
EXPORT_SECTION = 7


def _without_linker_exports(payload: bytes) -> bytes:
    """The export section's payload minus the linker's entries."""
    count, pos = read_uleb128(payload, 0, "export section")
    kept = []
    for _ in range(count):
        start = pos
        length, pos = read_uleb128(payload, pos, "export section")
        name = payload[pos : pos + length].decode("utf-8", "replace")
        _, pos = read_uleb128(payload, pos + length + 1, "export section")  # kind, then index
        if name not in LINKER_EXPORTS:
            kept.append(payload[start:pos])
    return uleb128(len(kept)) + b"".join(kept)


def drop_linker_exports(wasm: bytes) -> bytes:
    """Return `wasm` without the `__heap_base` and `__data_end` exports (if it has them)."""
    sections = [
        Section(s.id, _without_linker_exports(s.payload)) if s.id == EXPORT_SECTION else s
        for s in split_sections(wasm)
    ]
    return MAGIC + b"".join(s.encode() for s in sections)
