"""Property test: the kernel's allocator against a Python model, hostile handles mixed in."""

from __future__ import annotations

import extism_kernel
import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.allocator_model import AllocatorModel
from tests.kernel_driver import KernelInstance

MAX_LIVE = 48
HEADER = 8  # inline header before each block's data (kernel-src/src/layout.rs)
ROOT_TABLE, ROOT_INPUT_OFFSET = 88, 48  # offsets in `Root` (kernel-src/src/root.rs)
STEPS_PER_RUN = 100
RUNS = 60
REQUIRED_OPERATIONS = 10_000


class Counter:
    """Kernel operations performed by the state machine, summed over all runs."""

    operations = 0


sizes = st.one_of(
    st.integers(1, 64),
    st.integers(65, 4096),
    st.integers(4097, 200_000),
    st.sampled_from([8, 9, 4095, 65536]),
)


class AllocatorMachine(RuleBasedStateMachine):
    handles = Bundle("handles")

    def __init__(self) -> None:
        super().__init__()
        self.kernel = KernelInstance(extism_kernel.kernel_bytes())
        self.model = AllocatorModel()

    @initialize()
    def start(self) -> None:
        self.kernel.reset()

    def _op(self) -> None:
        Counter.operations += 1

    @precondition(lambda self: len(self.model.blocks) < MAX_LIVE)
    @rule(target=handles, n=sizes, fill=st.binary(min_size=1, max_size=8))
    def alloc(self, n: int, fill: bytes) -> int:
        self._op()
        handle = self.kernel.alloc(n)
        assert handle != 0, f"alloc({n}) failed"
        assert handle not in self.model.blocks
        data = (fill * (n // len(fill) + 1))[:n]
        self.kernel.write(handle, data)
        self.model.blocks[handle] = data
        self.model.freed.discard(handle)
        return int(handle)

    @rule(handle=consumes(handles))
    def free(self, handle: int) -> None:
        self._op()
        self.kernel.free(handle)
        if handle in self.model.blocks:
            del self.model.blocks[handle]
            self.model.freed.add(handle)
        assert self.kernel.length(handle) == 0

    @rule(handle=handles, offset=st.integers(0, 1 << 20), value=st.integers(0, (1 << 64) - 1))
    def store_inside(self, handle: int, offset: int, value: int) -> None:
        """store_u64 into a live block changes exactly those 8 bytes."""
        self._op()
        data = self.model.blocks.get(handle)
        if data is None or len(data) < 8:
            return
        at = offset % (len(data) - 7)
        self.kernel.store_u64(handle + at, value)
        raw = value.to_bytes(8, "little")
        self.model.blocks[handle] = data[:at] + raw + data[at + 8 :]
        assert self.kernel.load_u64(handle + at) == value

    def _expect_refused(self, addr: int) -> None:
        """`length` and `free` of a non-handle: 0 and a no-op."""
        if addr in self.model.blocks:  # a hostile guess that hit a live handle is a real handle
            return
        self._op()
        assert self.kernel.length(addr) == 0
        assert self.kernel.length_unsafe(addr) == 0
        self._op()
        self.kernel.free(addr)

    @rule(handle=handles, delta=st.integers(-64, 64).filter(lambda d: d != 0))
    def hostile_interior(self, handle: int, delta: int) -> None:
        self._expect_refused(max(0, handle + delta))

    @rule(addr=st.one_of(st.integers(0, 1 << 22), st.integers(0, (1 << 64) - 1), st.just(0)))
    def hostile_random(self, addr: int) -> None:
        self._expect_refused(addr)

    @precondition(lambda self: bool(self.model.freed))
    @rule(data=st.data())
    def hostile_freed(self, data: st.DataObject) -> None:
        self._expect_refused(data.draw(st.sampled_from(sorted(self.model.freed))))

    @rule(addr=st.integers(0, 1 << 22), value=st.integers(0, (1 << 64) - 1))
    def hostile_store(self, addr: int, value: int) -> None:
        """A store outside every live block and its header never touches live data.

        A store onto a live block's 8-byte header is excluded: it disables that block alone
        (`test_scribbled_header_disables_only_its_own_block` pins that down).
        """
        if any(addr < h + len(d) and h - HEADER < addr + 8 for h, d in self.model.blocks.items()):
            return
        self._op()
        self.kernel.store_u64(addr, value)

    @rule(handle=handles, index=st.integers(0, 160), spread=st.booleans())
    def fill_index_like(self, handle: int, index: int, spread: bool) -> None:
        """Fill a live block with u32s that look like table indices, as if every 8-aligned word
        were a block header; then no aligned address inside it may pass as a handle."""
        data = self.model.blocks.get(handle)
        if data is None:
            return
        words = []
        for i in range(len(data) // 8):
            value = (index + i) % 161 if spread else index
            words.append(value.to_bytes(4, "little") + bytes(4))
        filled = b"".join(words) + data[len(words) * 8 :]
        self.kernel.write(handle, filled)
        self.model.blocks[handle] = filled
        for off in range(8, min(len(data), 8 * 33), 8):  # the first 32 aligned interior words
            self._expect_refused(handle + off)

    @precondition(lambda self: len(self.model.blocks) < MAX_LIVE - 3)
    @rule(
        sizes=st.tuples(st.integers(1, 300), st.integers(1, 300)),
        backwards=st.booleans(),
        then=st.integers(1, 700),
    )
    def merge_neighbours(self, sizes: tuple[int, int], backwards: bool, then: int) -> None:
        """Two neighbours freed in either order merge into exactly both blocks and the header
        between them; their handles stay dead after the merged memory and entries are reused."""
        self._op()
        a, b = self.kernel.alloc(sizes[0]), self.kernel.alloc(sizes[1])
        guard = self.kernel.alloc(8)  # keeps a and b away from the top of the heap
        caps = [-(-n // 8) * 8 for n in sizes]
        for h, n in ((a, sizes[0]), (b, sizes[1]), (guard, 8)):
            self.kernel.write(h, bytes(n))
            self.model.blocks[h] = bytes(n)
        if b != a + caps[0] + HEADER or guard != b + caps[1] + HEADER:
            return  # placed in reused memory, not side by side: nothing to merge
        for h in (b, a) if backwards else (a, b):
            self.kernel.free(h)
            del self.model.blocks[h]
            self.model.freed.add(h)
        merged = caps[0] + HEADER + caps[1]
        assert self.kernel.alloc(merged) == a, "the merged block has the wrong size"
        self.model.blocks[a] = bytes(merged)
        self.kernel.write(a, bytes(merged))
        self.model.freed.discard(a)
        other = self.kernel.alloc(then)  # takes b's released entry
        self.kernel.write(other, bytes(then))
        self.model.blocks[other] = bytes(then)
        self.model.freed.discard(other)
        self._expect_refused(b)

    @precondition(lambda self: len(self.model.blocks) < MAX_LIVE)
    @rule(count=st.integers(60, 140), keep=st.integers(0, 3))
    def table_growth(self, count: int, keep: int) -> None:
        """A burst of small blocks makes the table double and move; most are freed again."""
        burst = []
        for i in range(count):
            self._op()
            h = self.kernel.alloc(8 + i % 24)
            assert h != 0
            self.kernel.write(h, bytes([i % 251]) * (8 + i % 24))
            self.model.blocks[h] = bytes([i % 251]) * (8 + i % 24)
            self.model.freed.discard(h)
            burst.append(h)
        for h in burst[keep:]:
            self._op()
            self.kernel.free(h)
            del self.model.blocks[h]
            self.model.freed.add(h)

    @rule(value=st.integers(0, (1 << 64) - 1))
    def probe_the_table(self, value: int) -> None:
        """The table's own handle is no block, and its header (wherever the table is now) is
        private: stores there change nothing."""
        root = self.kernel.call_state() - ROOT_INPUT_OFFSET
        table = int.from_bytes(self.kernel.read(root + ROOT_TABLE, 4), "little")
        first_home = self.kernel.pages * 65536 - self.kernel.memory_bytes() + HEADER
        for handle in {table, first_home}:
            self._expect_refused(handle)
        before = self.kernel.read(table - HEADER, HEADER + 32)
        self._op()
        self.kernel.store_u64(table - HEADER, value)
        self.kernel.store_u8(table - 1, value & 0xFF)
        assert self.kernel.read(table - HEADER, HEADER + 32) == before

    @rule()
    def reset(self) -> None:
        self._op()
        old = list(self.model.blocks)
        self.kernel.reset()
        self.model.freed |= set(old)
        self.model.blocks.clear()
        for handle in old:
            assert self.kernel.length(handle) == 0
        assert self.kernel.input_length() == 0
        assert self.kernel.error_get() == 0

    @invariant()
    def model_holds(self) -> None:
        self.model.check(self.kernel)


def test_allocator_matches_model() -> None:
    Counter.operations = 0
    run_state_machine_as_test(
        AllocatorMachine,
        settings=settings(
            max_examples=RUNS,
            stateful_step_count=STEPS_PER_RUN,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    print(f"allocator property test: {Counter.operations} kernel operations")
    assert Counter.operations >= REQUIRED_OPERATIONS


def test_replay_store_onto_a_header_is_not_a_hostile_store() -> None:
    """Shrunk failure of an earlier model: a store at handle - 15 reaches the header."""
    state = AllocatorMachine()
    state.start()
    handle = state.alloc(n=1, fill=b"\x00")
    assert isinstance(handle, int)
    state.hostile_store(addr=handle - 15, value=0)
    state.model_holds()
    state.hostile_store(addr=handle - 16, value=0)  # ends just below the header: allowed
    state.model_holds()
    state.teardown()
