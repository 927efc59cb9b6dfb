"""The WebAssembly binary format's framing: LEB128 numbers, sections, custom sections.

The one implementation of the framing, for the byte-level edits of the tooling (adding the
context global, padding a kernel to a fixed size, finding a module inside a shared library) and
of the wasm3 runtime (capping memories, dropping the name section). Validation is wasmtime's and
wasm-tools' job, never this module's.
"""

from __future__ import annotations

from dataclasses import dataclass

MAGIC = b"\0asm\x01\0\0\0"
CUSTOM_SECTION = 0


class MalformedModuleError(ValueError):
    """The module is not in a shape this code handles; the message says what and where."""


@dataclass(frozen=True)
class Section:
    """One section: its id and its payload."""

    id: int
    payload: bytes

    def encode(self) -> bytes:
        """The section's bytes: id, payload size, payload."""
        return bytes([self.id]) + uleb128(len(self.payload)) + self.payload


def uleb128(value: int) -> bytes:
    """Minimal unsigned LEB128 encoding of `value`."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_uleb128(data: bytes, pos: int, where: str, bits: int = 32) -> tuple[int, int]:
    """Decode an unsigned LEB128 of at most `bits` bits at `pos`; the value and the next position.

    Also skips a signed LEB128 of that width (the same bytes, read as unsigned).
    """
    value = shift = 0
    while pos < len(data) and shift <= bits + 3:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
    msg = f"{where}: truncated or overlong LEB128 at byte {pos}"
    raise MalformedModuleError(msg)


def split_sections(wasm: bytes) -> list[Section]:
    """The module's sections in order; raise `MalformedModuleError` on a bad header or framing."""
    if not wasm.startswith(MAGIC):
        msg = "not a WebAssembly 1.0 module (bad magic or version)"
        raise MalformedModuleError(msg)
    sections, pos = [], len(MAGIC)
    while pos < len(wasm):
        section_id = wasm[pos]
        size, body = read_uleb128(wasm, pos + 1, f"section {section_id} at byte {pos}")
        if body + size > len(wasm):
            msg = f"section {section_id} at byte {pos} runs past the end of the module"
            raise MalformedModuleError(msg)
        sections.append(Section(section_id, wasm[body : body + size]))
        pos = body + size
    return sections


def custom_section(name: str, content: bytes) -> bytes:
    """The bytes of a custom section called `name` holding `content`."""
    encoded = name.encode()
    return Section(CUSTOM_SECTION, uleb128(len(encoded)) + encoded + content).encode()


def pad_to_size(wasm: bytes, size: int, name: str) -> bytes:
    """Append a custom section called `name`, filled with zeros, so that `wasm` is `size` bytes.

    Engines ignore custom sections, so the module behaves the same. Raises `MalformedModuleError`
    when `wasm` is already too large (or too close to `size` to hold any section).
    """
    for filler in range(size - len(wasm), -1, -1):
        padded = wasm + custom_section(name, bytes(filler))
        if len(padded) == size:
            return padded
        if len(padded) < size:
            break
    msg = f"a {len(wasm)}-byte module cannot be padded to {size} bytes with a custom section"
    raise MalformedModuleError(msg)
