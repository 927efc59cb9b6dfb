"""Read a module's imports and exports from its bytes, and cap its memories (for wasm3).

wasm3's Python binding describes no module, so the wasm3 runtime reads the binary itself: the
type, import, function, memory, global and export sections, nothing else. Memory limits are
applied by rewriting the memory section's maximum, which wasm3's `memory.grow` honours.
"""

from __future__ import annotations

from dataclasses import dataclass

from extism_kernel._abi import FuncSig, ValType
from extism_kernel._wasm import ExternDesc, ModuleDesc

MAGIC = b"\0asm\x01\0\0\0"
_VALTYPES = {0x7F: ValType.I32, 0x7E: ValType.I64, 0x7D: ValType.F32, 0x7C: ValType.F64}
_KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}
_MEMORY_SECTION = 5
# opcodes of constant expressions -> how their immediate is read ("" for none)
_CONST_OPS = {0x41: "s", 0x42: "s", 0x43: "4", 0x44: "8", 0x23: "u", 0xD0: "1", 0xD2: "u"}


class MalformedError(ValueError):
    """The bytes are not a WebAssembly module this reader understands."""


@dataclass
class _Reader:
    data: bytes
    pos: int = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            msg = "unexpected end of module"
            raise MalformedError(msg)
        self.pos += 1
        return self.data[self.pos - 1]

    def uleb(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result
            if shift > 70:  # noqa: PLR2004
                msg = "LEB128 number too long"
                raise MalformedError(msg)

    def skip(self, n: int) -> None:
        if self.pos + n > len(self.data):
            msg = "unexpected end of module"
            raise MalformedError(msg)
        self.pos += n

    def name(self) -> str:
        n = self.uleb()
        start = self.pos
        self.skip(n)
        try:
            return self.data[start : self.pos].decode()
        except UnicodeDecodeError:
            msg = "malformed UTF-8 name"
            raise MalformedError(msg) from None

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


def _sections(data: bytes) -> list[tuple[int, int, int, int]]:
    """(id, start of header, start of content, end) of each section."""
    if not data.startswith(MAGIC):
        msg = "not a WebAssembly module (bad magic number or version)"
        raise MalformedError(msg)
    r = _Reader(data, len(MAGIC))
    found = []
    while r.pos < len(data):
        header = r.pos
        sid = r.byte()
        size = r.uleb()
        start = r.pos
        r.skip(size)
        found.append((sid, header, start, r.pos))
    return found


def describe(data: bytes) -> ModuleDesc:
    """The imports and exports of module `data`; `MalformedError` when it cannot be read."""
    types: list[FuncSig] = []
    funcs: list[FuncSig] = []
    mems: list[int] = []
    globs: list[tuple[ValType, bool]] = []
    imports: list[ExternDesc] = []
    exports: list[ExternDesc] = []
    for sid, _, start, end in _sections(data):
        r = _Reader(data[:end], start)
        if sid == 1:
            for _ in range(r.uleb()):
                if r.byte() != 0x60:  # noqa: PLR2004
                    msg = "malformed function type"
                    raise MalformedError(msg)
                params = [r.valtype() for _ in range(r.uleb())]
                results = tuple(r.valtype() for _ in range(r.uleb()))
                types.append(FuncSig(tuple((f"p{i}", t) for i, t in enumerate(params)), results))
        elif sid == 2:  # noqa: PLR2004
            for _ in range(r.uleb()):
                imports.append(_import(r, types, funcs, mems, globs))
        elif sid == 3:  # noqa: PLR2004
            funcs += [_type(types, r.uleb()) for _ in range(r.uleb())]
        elif sid == _MEMORY_SECTION:
            mems += [r.limits()[0] for _ in range(r.uleb())]
        elif sid == 6:  # noqa: PLR2004
            for _ in range(r.uleb()):
                globs.append((r.valtype(), bool(r.byte())))
                r.const_expr()
        elif sid == 7:  # noqa: PLR2004
            for _ in range(r.uleb()):
                exports.append(_export(r, funcs, mems, globs))
    return ModuleDesc(tuple(imports), tuple(exports))


def _type(types: list[FuncSig], index: int) -> FuncSig:
    if index >= len(types):
        msg = f"type index {index} out of range"
        raise MalformedError(msg)
    return types[index]


def _import(
    r: _Reader,
    types: list[FuncSig],
    funcs: list[FuncSig],
    mems: list[int],
    globs: list[tuple[ValType, bool]],
) -> ExternDesc:
    module, name, kind = r.name(), r.name(), _KINDS.get(r.byte(), "?")
    if kind == "func":
        funcs.append(_type(types, r.uleb()))
        return ExternDesc(module, name, kind, sig=funcs[-1])
    if kind == "memory":
        mems.append(r.limits()[0])
        return ExternDesc(module, name, kind, min_pages=mems[-1])
    if kind == "global":
        globs.append((r.valtype(), bool(r.byte())))
        return ExternDesc(module, name, kind, global_type=globs[-1][0], mutable=globs[-1][1])
    if kind == "table":
        r.byte()
        r.limits()
    elif kind == "tag":
        r.byte()
        r.uleb()
    else:
        msg = "malformed import kind"
        raise MalformedError(msg)
    return ExternDesc(module, name, kind)


def _export(
    r: _Reader, funcs: list[FuncSig], mems: list[int], globs: list[tuple[ValType, bool]]
) -> ExternDesc:
    name, kind, index = r.name(), _KINDS.get(r.byte(), "?"), r.uleb()
    try:
        if kind == "func":
            return ExternDesc(None, name, kind, sig=funcs[index])
        if kind == "memory":
            return ExternDesc(None, name, kind, min_pages=mems[index])
        if kind == "global":
            gt, mut = globs[index]
            return ExternDesc(None, name, kind, global_type=gt, mutable=mut)
    except IndexError:
        msg = f"export `{name}`: {kind} index {index} out of range"
        raise MalformedError(msg) from None
    return ExternDesc(None, name, kind)


def _uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def cap_memories(data: bytes, max_pages: int) -> bytes:
    """`data` with each memory it defines limited to `max_pages` (its own maximum if lower)."""
    for sid, header, start, end in _sections(data):
        if sid != _MEMORY_SECTION:
            continue
        r = _Reader(data[:end], start)
        body = bytearray()
        count = r.uleb()
        body += _uleb(count)
        for _ in range(count):
            flags = r.byte()
            low = r.uleb()
            high = r.uleb() if flags & 1 else max_pages
            body.append(flags | 1)
            body += _uleb(low) + _uleb(min(high, max_pages))
        section = bytes([_MEMORY_SECTION]) + _uleb(len(body)) + bytes(body)
        return data[:header] + section + data[end:]
    return data


def strip_names(data: bytes) -> bytes:
    """`data` without its `name` custom section.

    wasm3 finds a function by the name the name section gives it before its export name, so an
    internal `$fail` would shadow the export `fail`: without the section, exports win.
    """
    out = bytearray()
    last = 0
    for sid, header, start, end in _sections(data):
        if sid == 0 and _Reader(data[:end], start).name() == "name":
            out += data[last:header]
            last = end
    return bytes(out + data[last:]) if last else data
