"""Read a module's imports and exports from its bytes, and cap its memories (for wasm3).

wasm3's Python binding describes no module, so the wasm3 runtime reads the binary itself: the
type, import, function, memory, global and export sections, nothing else. Memory limits are
applied by rewriting the memory section's maximum, which wasm3's `memory.grow` honours.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extism_kernel._abi import FuncSig, ValType
from extism_kernel._wasm import ExternDesc, ModuleDesc
from extism_kernel._wasm_binary import (
    CUSTOM_SECTION,
    MAGIC,
    MalformedModuleError,
    Section,
    read_uleb128,
    split_sections,
    uleb128,
)

_VALTYPES = {0x7F: ValType.I32, 0x7E: ValType.I64, 0x7D: ValType.F32, 0x7C: ValType.F64}
_KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}
_MEMORY_SECTION = 5
_BEFORE_MEMORY = {1, 2, 3, 4}  # type, import, function, table: the sections a memory follows
# opcodes of constant expressions -> how their immediate is read ("" for none)
_CONST_OPS = {0x41: "s", 0x42: "s", 0x43: "4", 0x44: "8", 0x23: "u", 0xD0: "1", 0xD2: "u"}


@dataclass
class _Reader:
    data: bytes
    pos: int = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            msg = "unexpected end of module"
            raise MalformedModuleError(msg)
        self.pos += 1
        return self.data[self.pos - 1]

    def uleb(self) -> int:
        """A LEB128 number of up to 64 bits (a signed one is skipped the same way)."""
        value, self.pos = read_uleb128(self.data, self.pos, "module", bits=64)
        return value

    def skip(self, n: int) -> None:
        if self.pos + n > len(self.data):
            msg = "unexpected end of module"
            raise MalformedModuleError(msg)
        self.pos += n

    def name(self) -> str:
        n = self.uleb()
        start = self.pos
        self.skip(n)
        try:
            return self.data[start : self.pos].decode()
        except UnicodeDecodeError:
            msg = "malformed UTF-8 name"
            raise MalformedModuleError(msg) from None

    def valtype(self) -> ValType:
        return _VALTYPES.get(self.byte(), ValType.EXTERNREF)  # references: only for messages

    def limits(self) -> tuple[int, int | None]:
        flags = self.byte()
        low = self.uleb()
        return low, self.uleb() if flags & 1 else None

    def const_expr(self) -> None:
        while (op := self.byte()) != 0x0B:
            kind = _CONST_OPS.get(op, "")
            if kind in ("s", "u"):
                self.uleb()
            elif kind:
                self.skip(int(kind))


@dataclass
class _Parts:
    """What the sections read so far declare, in index order (imports first)."""

    types: list[FuncSig] = field(default_factory=list)
    funcs: list[FuncSig] = field(default_factory=list)
    mems: list[int] = field(default_factory=list)
    globs: list[tuple[ValType, bool]] = field(default_factory=list)
    imports: list[ExternDesc] = field(default_factory=list)
    exports: list[ExternDesc] = field(default_factory=list)

    def read_types(self, r: _Reader) -> None:
        for _ in range(r.uleb()):
            if r.byte() != 0x60:
                msg = "malformed function type"
                raise MalformedModuleError(msg)
            params = [r.valtype() for _ in range(r.uleb())]
            results = tuple(r.valtype() for _ in range(r.uleb()))
            self.types.append(FuncSig(tuple((f"p{i}", t) for i, t in enumerate(params)), results))

    def read_imports(self, r: _Reader) -> None:
        self.imports.extend(_import(r, self) for _ in range(r.uleb()))

    def read_funcs(self, r: _Reader) -> None:
        self.funcs.extend(_type(self.types, r.uleb()) for _ in range(r.uleb()))

    def read_mems(self, r: _Reader) -> None:
        self.mems.extend(r.limits()[0] for _ in range(r.uleb()))

    def read_globals(self, r: _Reader) -> None:
        for _ in range(r.uleb()):
            self.globs.append((r.valtype(), bool(r.byte())))
            r.const_expr()

    def read_exports(self, r: _Reader) -> None:
        self.exports.extend(_export(r, self) for _ in range(r.uleb()))


_READERS = {
    1: _Parts.read_types,
    2: _Parts.read_imports,
    3: _Parts.read_funcs,
    _MEMORY_SECTION: _Parts.read_mems,
    6: _Parts.read_globals,
    7: _Parts.read_exports,
}


def describe(data: bytes) -> ModuleDesc:
    """The imports and exports of module `data`; `MalformedModuleError` when it cannot be read."""
    parts = _Parts()
    for section in split_sections(data):
        reader = _READERS.get(section.id)
        if reader is not None:
            reader(parts, _Reader(section.payload))
    return ModuleDesc(tuple(parts.imports), tuple(parts.exports))


def _type(types: list[FuncSig], index: int) -> FuncSig:
    if index >= len(types):
        msg = f"type index {index} out of range"
        raise MalformedModuleError(msg)
    return types[index]


def _import(r: _Reader, parts: _Parts) -> ExternDesc:
    module, name, kind = r.name(), r.name(), _KINDS.get(r.byte(), "?")
    if kind == "func":
        parts.funcs.append(_type(parts.types, r.uleb()))
        return ExternDesc(module, name, kind, sig=parts.funcs[-1])
    if kind == "memory":
        parts.mems.append(r.limits()[0])
        return ExternDesc(module, name, kind, min_pages=parts.mems[-1])
    if kind == "global":
        gt, mut = r.valtype(), bool(r.byte())
        parts.globs.append((gt, mut))
        return ExternDesc(module, name, kind, global_type=gt, mutable=mut)
    if kind == "table":
        r.byte()
        r.limits()
    elif kind == "tag":
        r.byte()
        r.uleb()
    else:
        msg = "malformed import kind"
        raise MalformedModuleError(msg)
    return ExternDesc(module, name, kind)


def _export(r: _Reader, parts: _Parts) -> ExternDesc:
    name, kind, index = r.name(), _KINDS.get(r.byte(), "?"), r.uleb()
    try:
        if kind == "func":
            return ExternDesc(None, name, kind, sig=parts.funcs[index])
        if kind == "memory":
            return ExternDesc(None, name, kind, min_pages=parts.mems[index])
        if kind == "global":
            gt, mut = parts.globs[index]
            return ExternDesc(None, name, kind, global_type=gt, mutable=mut)
    except IndexError:
        msg = f"export `{name}`: {kind} index {index} out of range"
        raise MalformedModuleError(msg) from None
    return ExternDesc(None, name, kind)


def cap_memories(data: bytes, max_pages: int) -> bytes:
    """`data` with each memory it defines limited to `max_pages` (its own maximum if lower).

    wasm3 reads a maximum of 0 as no maximum, so a maximum is never written as 0 (a memory
    declared `(memory 0 0)` may grow one page) and `max_pages` must be at least 1. A module with
    no memory section gets one of 0 to `max_pages` pages: wasm3 does not validate, and would
    give a module that uses memory without declaring one an unlimited default memory.
    """
    if max_pages < 1:
        msg = "a memory limit of 0 pages (wasm3 reads a maximum of 0 as none)"
        raise ValueError(msg)
    sections = split_sections(data)
    for i, section in enumerate(sections):
        if section.id != _MEMORY_SECTION:
            continue
        r = _Reader(section.payload)
        body = bytearray()
        count = r.uleb()
        body += uleb128(count)
        for _ in range(count):
            flags = r.byte()
            low = r.uleb()
            high = r.uleb() if flags & 1 else max_pages
            body.append(flags | 1)
            body += uleb128(low) + uleb128(max(1, min(high, max_pages)))
        sections[i] = Section(_MEMORY_SECTION, bytes(body))
        return _join(sections)
    memory = Section(_MEMORY_SECTION, uleb128(1) + b"\x01" + uleb128(0) + uleb128(max_pages))
    after = [i for i, s in enumerate(sections) if s.id in _BEFORE_MEMORY]
    sections.insert(after[-1] + 1 if after else 0, memory)
    return _join(sections)


def strip_names(data: bytes) -> bytes:
    """`data` without its `name` custom section.

    wasm3 finds a function by the name the name section gives it before its export name, so an
    internal `$fail` would shadow the export `fail`: without the section, exports win.
    """
    sections = split_sections(data)
    kept = [s for s in sections if s.id != CUSTOM_SECTION or _Reader(s.payload).name() != "name"]
    return data if len(kept) == len(sections) else _join(kept)


def _join(sections: list[Section]) -> bytes:
    return MAGIC + b"".join(s.encode() for s in sections)
