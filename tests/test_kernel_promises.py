"""Regression tests for the kernel's central promise: a bad handle never corrupts memory.

Each test is named for the promise it protects and drives the exact sequence that a realistic
bug in `handle::validate`, the coalescing in `allocator::free`, the input bounds or the table's
privacy would get wrong (the mutation catalogue, `tooling/mutants.json`, plants those bugs).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.kernel_driver import KernelInstance

HEADER = 8  # inline header before each block's data (kernel-src/src/layout.rs)
ROOT_TABLE, ROOT_TABLE_CAP, ROOT_INPUT_OFFSET = 88, 100, 48  # offsets in `Root` (root.rs)
PAGE = 65536

Factory = Callable[..., KernelInstance]


@pytest.fixture
def k(new_kernel: Factory) -> KernelInstance:
    return new_kernel()


def u32_at(k: KernelInstance, addr: int) -> int:
    return int.from_bytes(k.read(addr, 4), "little")


def table_of(k: KernelInstance) -> tuple[int, int]:
    """The block table's address and size in bytes, read from the root record (white box)."""
    root = k.call_state() - ROOT_INPUT_OFFSET
    return u32_at(k, root + ROOT_TABLE), u32_at(k, root + ROOT_TABLE_CAP)


def heap_start(k: KernelInstance) -> int:
    return int(k.pages * PAGE - k.memory_bytes())


def three_blocks(k: KernelInstance, size: int = 96) -> tuple[int, int, int]:
    """Neighbours a < b < c; c keeps a and b away from the top of the heap."""
    a, b, c = k.alloc(size), k.alloc(size), k.alloc(size)
    assert a < b < c
    assert b - a == c - b == size + HEADER
    return a, b, c


@pytest.mark.parametrize("order", ["a-then-b", "b-then-a"])
def test_a_handle_freed_by_coalescing_stays_invalid_after_its_entry_is_reused(
    k: KernelInstance, order: str
) -> None:
    a, b, _ = three_blocks(k)
    for h in (a, b) if order == "a-then-b" else (b, a):
        k.free(h)
    absorbed = b  # whichever order, b's table entry went back to the spare list
    fresh = k.alloc(500)  # takes that released entry, for a block elsewhere
    assert fresh not in (a, b)
    assert k.length(fresh) == 500
    assert k.length(absorbed) == 0
    k.free(absorbed)  # must not free `fresh` through the reused entry
    assert k.length(fresh) == 500
    assert k.alloc(500) != fresh


@pytest.mark.parametrize("order", ["a-then-b", "b-then-a"])
def test_freed_neighbours_merge_into_exactly_both_blocks_and_the_header(
    k: KernelInstance, order: str
) -> None:
    a, b, c = three_blocks(k)
    for h in (a, b) if order == "a-then-b" else (b, a):
        k.free(h)
    merged = 96 + HEADER + 96
    assert k.alloc(merged + 1) != a  # one byte too many for the merged block
    assert k.alloc(merged) == a  # exactly fits: both blocks and the header between them
    assert k.length(a) == merged
    assert k.length(c) == 96


def test_an_excess_of_a_header_and_16_bytes_is_split_off(k: KernelInstance) -> None:
    """Reusing a 64-byte block for 40 bytes leaves exactly header + 16: that rest is reusable."""
    a = k.alloc(64)
    k.alloc(8)
    k.free(a)
    assert k.alloc(40) == a
    assert k.alloc(16) == a + 40 + HEADER
    b = k.alloc(48)
    k.alloc(8)
    k.free(b)
    assert k.alloc(40) == b  # an excess of 8 bytes is not worth a block
    assert k.alloc(8) != b + 40 + HEADER


def test_three_free_neighbours_merge_from_the_middle(k: KernelInstance) -> None:
    a, b, c = three_blocks(k)
    k.alloc(8)  # keep the top away
    k.free(a)
    k.free(c)
    k.free(b)  # merges with both sides at once
    assert k.alloc(3 * 96 + 2 * HEADER) == a


def test_a_dead_handle_cannot_be_revived_by_index_like_data_after_reset(
    k: KernelInstance,
) -> None:
    """After `reset`, table entries past the in-use ones keep their old contents; plugin data
    that spells a stale index into an old header must not bring that block back."""
    k.alloc(8)
    old = k.alloc(8)
    old_index = u32_at(k, old - HEADER)
    k.reset()
    cover = k.alloc(64)  # the first block again, now large enough to cover `old`'s header
    assert cover < old - HEADER < cover + 64
    # the next index the table would hand out is old_index: spell it where the header was
    k.store_u64(old - HEADER, old_index)
    assert k.length(old) == 0
    k.free(old)
    fresh = k.alloc(8)
    assert not cover <= fresh < cover + 64  # never inside a live block
    assert k.length(cover) == 64


@pytest.mark.parametrize("stale", range(8))
def test_index_like_data_never_validates_a_handle(k: KernelInstance, stale: int) -> None:
    """Data blocks full of small u32s (plausible indices) at every 8-aligned offset."""
    block = k.alloc(512)
    k.alloc(8)
    for off in range(0, 512, 8):
        k.store_u64(block + off, stale | (stale << 32))
    for off in range(8, 512, 8):
        assert k.length(block + off) == 0
        k.free(block + off)
    assert k.length(block) == 512


def test_a_header_naming_the_middle_of_an_entry_is_refused(k: KernelInstance) -> None:
    """Headers name an entry by its byte offset in the table. An offset into the middle of an
    entry would read a forged one: here its `start` is the length the plugin asked for (the
    address of `victim`), and its `used` the real entry's link down."""
    victim = k.alloc(8)
    freed = k.alloc(8)
    k.alloc(8)
    k.free(freed)  # a free block waits: the next block is placed by the slow path (links stored)
    forger = k.alloc(victim)  # its entry's `used` field holds victim's address
    assert k.length(forger) == victim
    row = u32_at(k, forger - HEADER)
    k.write(victim - HEADER, (row + 8).to_bytes(4, "little"))  # victim's header: mid-entry
    assert k.length(victim) == 0
    k.free(victim)  # refused
    assert k.length(forger) == victim


def test_every_waiting_free_block_is_reused_before_the_heap_grows(k: KernelInstance) -> None:
    """Reusing one free block must not reopen the bump path while another still waits."""
    a = k.alloc(64)
    k.alloc(8)
    b = k.alloc(64)
    k.alloc(8)  # a and b are not neighbours, and neither is the highest block
    k.free(a)
    k.free(b)
    assert {k.alloc(64), k.alloc(64)} == {a, b}


def test_released_rows_are_taken_before_the_table_grows(new_kernel: Factory) -> None:
    """Rows of freed and merged blocks go to a spare list; while it holds rows, the table must
    not grow: here growing would need memory the store refuses, and a free block fits."""
    k = new_kernel(memory_limit=PAGE)
    k.alloc(60_000)
    small = [k.alloc(8) for _ in range(60)]  # 62 of the table's 64 rows are in use
    for h in small[1:-1]:
        k.free(h)  # they merge into one free block: 57 rows go spare
    pages = k.pages
    h = k.alloc(8)
    assert small[1] <= h < small[-1]  # from the free block
    assert k.pages == pages


def test_a_retired_table_a_plugin_wrote_is_zeroed_by_reset(k: KernelInstance) -> None:
    """A table that grew leaves its old block behind as ordinary memory until `reset`; `reset`
    puts the table back there, and a later call must not read what a plugin wrote into it."""
    k.alloc(8)
    first_table = table_of(k)[0]
    for _ in range(70):
        k.alloc(8)  # the table grows and moves up: its first home is retired
    assert table_of(k)[0] != first_table
    k.store_u64(first_table + 8, 0x5EC12E7)
    assert k.load_u64(first_table + 8) == 0x5EC12E7
    k.reset()
    for _ in range(140):
        k.alloc(8)  # the (larger) table at the heap start grows and is retired again
    assert table_of(k)[0] != first_table
    assert k.load_u64(first_table + 8) == 0


def test_the_block_table_own_handle_is_not_a_block(k: KernelInstance) -> None:
    first = k.alloc(8)
    table, _ = table_of(k)
    assert table == heap_start(k) + HEADER
    assert k.length(table) == 0
    k.free(table)
    big = k.alloc(2048)
    assert not table <= big < table + 64 * 32  # the table's memory is never handed out
    assert k.length(first) == 8
    assert k.load_u8(table) == 0
    k.store_u64(table + 32, (1 << 64) - 1)  # an entry of the table: refused
    assert k.length(first) == 8


def test_a_moved_table_and_its_header_are_private(k: KernelInstance) -> None:
    handles = [k.alloc(16) for _ in range(100)]  # more than 64 entries: the table moves up
    table, size = table_of(k)
    assert size == 128 * 32  # 128 entries of 32 bytes
    assert table > handles[0]
    header = table - HEADER
    before = k.read(header, HEADER + 16)
    k.store_u8(header, 0xAA)
    k.store_u8(header + 7, 0xAA)
    k.store_u64(header - 4, (1 << 64) - 1)  # straddles the header
    k.store_u64(table, (1 << 64) - 1)
    assert k.read(header, HEADER + 16) == before
    assert k.load_u8(header) == 0
    assert k.load_u64(header) == 0
    k.input_set(header, 1)
    k.output_set(table, 8)
    assert k.input_length() == 0
    assert k.output_length() == 0
    assert all(k.length(h) == 16 for h in handles)


def test_input_loads_stop_at_the_last_input_byte(k: KernelInstance) -> None:
    data = bytes(range(1, 17))
    h = k.alloc(16)
    after = k.alloc(8)  # its header holds a non-zero index right after the input
    assert u32_at(k, after - HEADER) != 0
    k.memory.write(k.store, data, h)
    k.input_set(h, 16)
    assert [k.input_load_u8(i) for i in range(16)] == list(data)
    assert k.input_load_u8(16) == 0
    assert k.input_load_u8(17) == 0
    assert k.input_load_u64(8) == int.from_bytes(data[8:], "little")
    assert k.input_load_u64(9) == 0
    assert k.input_load_u64(16) == 0


@pytest.mark.parametrize("slot", ["error", "output"])
def test_the_runtime_owned_error_and_output_blocks_outlive_a_plugin_free(
    k: KernelInstance, slot: str
) -> None:
    """Once error_set or output_set took a block, free of it is a no-op until reset."""
    h = k.alloc(16)
    k.alloc(8)  # keeps h away from the top
    k.memory.write(k.store, b"the real message", h)
    if slot == "error":
        k.error_set(h)
    else:
        k.output_set(h, 16)
    k.free(h)
    assert k.length(h) == 16
    again = k.alloc(16)
    assert again != h
    assert k.read(h, 16) == b"the real message"
    k.reset()
    assert k.length(h) == 0


def test_a_freed_input_block_is_released_and_the_input_emptied(k: KernelInstance) -> None:
    h = k.alloc(16)
    k.alloc(8)
    k.input_set(h, 16)
    k.free(h)
    assert k.input_length() == 0
    assert k.length(h) == 0
    assert k.alloc(16) == h
