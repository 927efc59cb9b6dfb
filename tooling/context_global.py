"""Add the `extism_context` global to a built kernel: the form the official runtime links.

The official build merges a one-global module into its kernel; libextism's
`CurrentPlugin::host_context()` then stores the call's host context there. Rust 1.63 cannot emit
an externref global, so the tooling appends it to the compiled module: one entry at the end of
the global section, `(global (mut externref) (ref.null extern))`, and one export naming it. Every
other byte is copied as it is, so the rewrite is deterministic and adds 22 bytes or so.
"""

from __future__ import annotations

from extism_kernel._wasm_binary import (
    MAGIC,
    MalformedModuleError,
    Section,
    read_uleb128,
    split_sections,
    uleb128,
)

CONTEXT_GLOBAL = "extism_context"
IMPORT_SECTION, GLOBAL_SECTION, EXPORT_SECTION = 2, 6, 7
# Sections that must come after the global section, in the binary format's order.
AFTER_GLOBALS = (EXPORT_SECTION, 8, 9, 12, 10, 11)
EXTERNREF, MUTABLE, REF_NULL, END = 0x6F, 0x01, 0xD0, 0x0B
EXPORT_KIND_GLOBAL = 0x03
NULL_EXTERNREF_GLOBAL = bytes([EXTERNREF, MUTABLE, REF_NULL, EXTERNREF, END])


def _append_to_vector(payload: bytes, entry: bytes, where: str) -> tuple[bytes, int]:
    """Append `entry` to a section that is one vector; the new payload and the old count."""
    count, pos = read_uleb128(payload, 0, where)
    return uleb128(count + 1) + payload[pos:] + entry, count


def _export_names(payload: bytes) -> list[str]:
    count, pos = read_uleb128(payload, 0, "export section")
    names = []
    for _ in range(count):
        length, pos = read_uleb128(payload, pos, "export section")
        names.append(payload[pos : pos + length].decode("utf-8", "replace"))
        _, pos = read_uleb128(payload, pos + length + 1, "export section")
    return names


def add_context_global(wasm: bytes) -> bytes:
    """Return `wasm` with `extism_context` appended as a null externref global and exported.

    The module must import nothing (a kernel never does), have an export section, and not
    already export the name. Raises `MalformedModuleError` otherwise.
    """
    sections = split_sections(wasm)
    ids = [s.id for s in sections]
    if IMPORT_SECTION in ids:
        msg = "the module has an import section; a kernel imports nothing"
        raise MalformedModuleError(msg)
    if EXPORT_SECTION not in ids:
        msg = "the module has no export section"
        raise MalformedModuleError(msg)
    exports = sections[ids.index(EXPORT_SECTION)]
    if CONTEXT_GLOBAL in _export_names(exports.payload):
        msg = f"the module already exports `{CONTEXT_GLOBAL}`"
        raise MalformedModuleError(msg)
    if GLOBAL_SECTION in ids:
        index = ids.index(GLOBAL_SECTION)
        payload, global_index = _append_to_vector(
            sections[index].payload, NULL_EXTERNREF_GLOBAL, "global section"
        )
        sections[index] = Section(GLOBAL_SECTION, payload)
    else:
        index = next(i for i, s in enumerate(sections) if s.id in AFTER_GLOBALS)
        sections.insert(index, Section(GLOBAL_SECTION, uleb128(1) + NULL_EXTERNREF_GLOBAL))
        global_index = 0
    name = CONTEXT_GLOBAL.encode()
    entry = uleb128(len(name)) + name + bytes([EXPORT_KIND_GLOBAL]) + uleb128(global_index)
    payload, _ = _append_to_vector(exports.payload, entry, "export section")
    at = next(i for i, s in enumerate(sections) if s.id == EXPORT_SECTION)
    sections[at] = Section(EXPORT_SECTION, payload)
    return MAGIC + b"".join(s.encode() for s in sections)
