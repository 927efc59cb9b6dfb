"""Every kernel export, driven through wasmtime, with the edge cases named."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from extism_kernel import check_kernel, load_abi

from tests.kernel_driver import KernelInstance

PAGE = 65536
MAX_ALLOC = 0xFFFF_FFF8

Factory = Callable[..., KernelInstance]


@pytest.fixture
def k(new_kernel: Factory) -> KernelInstance:
    return new_kernel()


def test_kernel_passes_strict_check(kernel_wasm: bytes) -> None:
    report = check_kernel(kernel_wasm, strict=True)
    assert report.problems == ()


def test_kernel_imports_nothing_and_starts_with_one_page(k: KernelInstance) -> None:
    assert list(k.module.imports) == []
    assert k.pages == 1


@pytest.mark.parametrize("func", load_abi().functions, ids=lambda f: f.name)
def test_every_export_survives_zero_arguments(k: KernelInstance, func: object) -> None:
    """Calling any export with all-zero arguments on a fresh kernel neither traps nor allocates."""
    name = func.name  # type: ignore[attr-defined]
    getattr(k, name)(*[0] * len(func.sig.params))  # type: ignore[attr-defined]
    assert k.pages == 1


# --- alloc / length / free -------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, MAX_ALLOC + 1, 1 << 32, (1 << 64) - 1, (1 << 64) - 12])
def test_alloc_refuses_zero_and_absurd_sizes(k: KernelInstance, n: int) -> None:
    assert k.alloc(n) == 0
    assert k.pages == 1


@pytest.mark.parametrize("n", [1, 2, 7, 8, 9, 63, 64, 65, 4096, 65535, 65536, 65536 + 1024])
def test_alloc_length_round_trip(k: KernelInstance, n: int) -> None:
    h = k.alloc(n)
    assert h != 0
    assert h % 8 == 0
    assert k.length(h) == n
    assert k.length_unsafe(h) == n


def test_length_of_interior_pointers_is_zero(k: KernelInstance) -> None:
    h = k.alloc(100)
    for delta in (-8, -4, -1, 1, 4, 8, 99, 100):
        assert k.length(h + delta) == 0
        assert k.length_unsafe(h + delta) == 0


@pytest.mark.parametrize("handle", [0, 1, 8, 1 << 31, (1 << 32) - 8, 1 << 48, (1 << 64) - 8])
def test_length_and_free_of_out_of_range_handles(k: KernelInstance, handle: int) -> None:
    h = k.alloc(32)
    k.free(handle)
    assert k.length(handle) == 0
    assert k.length(h) == 32


def test_double_free_is_a_no_op(k: KernelInstance) -> None:
    a = k.alloc(40)
    b = k.alloc(40)
    k.free(a)
    k.free(a)
    assert k.length(a) == 0
    assert k.length(b) == 40
    c = k.alloc(40)
    assert c == a
    k.free(a)  # a is c now: this frees c, as a real double free by the plugin would
    assert k.length(b) == 40


def test_freed_block_is_reused(k: KernelInstance) -> None:
    a = k.alloc(1000)
    b = k.alloc(1000)
    k.alloc(16)  # keeps b from being the highest block
    k.free(b)
    assert k.alloc(900) == b
    assert k.length(a) == 1000


def test_freed_neighbours_coalesce(k: KernelInstance) -> None:
    a = k.alloc(1000)
    b = k.alloc(1000)
    guard = k.alloc(16)
    pages = k.pages
    k.free(a)
    k.free(b)
    merged = k.alloc(2000)
    assert merged == a
    assert k.pages == pages
    assert k.length(guard) == 16


def test_freeing_the_highest_block_gives_memory_back(k: KernelInstance) -> None:
    a = k.alloc(5000)
    k.free(a)
    b = k.alloc(6000)
    assert b == a


def test_split_remainder_is_reused(k: KernelInstance) -> None:
    big = k.alloc(10_000)
    k.alloc(16)
    k.free(big)
    first = k.alloc(100)
    second = k.alloc(100)
    assert first == big
    assert big < second < big + 10_000


def test_scribbled_header_disables_only_its_own_block(k: KernelInstance) -> None:
    a = k.alloc(64)
    b = k.alloc(64)
    c = k.alloc(64)
    k.store_u64(b - 8, 1)  # the header of b now names another table entry
    assert k.length(b) == 0
    k.free(b)  # refused: b can no longer be validated
    assert k.length(a) == 64
    assert k.length(c) == 64
    d = k.alloc(64)
    assert d >= c + 64  # nothing was handed out over a, b or c


# --- memory growth and limits ------------------------------------------------------------------


def test_memory_grows_across_many_pages(k: KernelInstance) -> None:
    handles = [k.alloc(1 << 20) for _ in range(64)]
    assert all(handles)
    assert len(set(handles)) == 64
    assert k.pages >= 64 * 16
    for i, h in enumerate(handles):
        k.store_u64(h + (1 << 20) - 8, i)
    for i, h in enumerate(handles):
        assert k.length(h) == 1 << 20
        assert k.load_u64(h + (1 << 20) - 8) == i
    assert k.memory_bytes() >= 64 << 20


def test_alloc_returns_zero_at_the_store_memory_limit(new_kernel: Factory) -> None:
    k = new_kernel(memory_limit=4 * PAGE)
    assert k.alloc(8 * PAGE) == 0
    small = k.alloc(100)
    assert small != 0
    assert k.length(small) == 100
    blocks = []
    while (h := k.alloc(PAGE // 2)) != 0:
        blocks.append(h)
    assert k.pages == 4
    assert all(k.length(h) == PAGE // 2 for h in blocks)


def test_memory_bytes_counts_the_heap(k: KernelInstance) -> None:
    before = k.memory_bytes()
    assert 0 < before < PAGE
    k.alloc(3 * PAGE)
    assert k.memory_bytes() >= before + 3 * PAGE


# --- load / store ------------------------------------------------------------------------------


def test_store_load_round_trip_little_endian(k: KernelInstance) -> None:
    h = k.alloc(16)
    k.store_u64(h, 999)
    assert k.load_u64(h) == 999
    for i in range(8):
        k.store_u8(h + 8 + i, i)
    assert k.load_u64(h + 8) == 0x0706050403020100
    assert k.read(h + 8, 8) == bytes(range(8))
    assert k.load_u8(h + 9) == 1
    k.store_u8(h, 0x1FF)  # only the low byte is stored
    assert k.load_u8(h) == 0xFF
    k.store_u64(h + 3, (1 << 64) - 1)  # unaligned
    assert k.load_u64(h + 3) == (1 << 64) - 1


def test_loads_and_stores_at_the_end_of_memory_never_trap(k: KernelInstance) -> None:
    k.alloc(8)
    end = k.pages * PAGE
    assert k.load_u8(end) == 0
    assert k.load_u64(end - 7) == 0
    k.store_u8(end, 1)
    k.store_u64(end - 7, 1)
    k.store_u64(end - 8, 42)
    assert k.load_u64(end - 8) == 42
    assert k.load_u64(0xFFFF_FFFF_FFFF) == 0
    k.store_u8(0xFFFF_FFFF_FFFF, 0)


def test_kernel_private_memory_is_not_addressable(k: KernelInstance) -> None:
    first = k.alloc(8)
    assert k.load_u64(8) == 0
    k.store_u64(8, 7)
    assert k.load_u64(8) == 0
    table_entry = first - 8 - 64  # inside the block table, just below the first block's header
    k.store_u64(table_entry, (1 << 64) - 1)
    assert k.load_u64(table_entry) == 0
    assert k.length(first) == 8


def test_a_reused_free_block_gets_its_header_back(k: KernelInstance) -> None:
    """A free block's header is ordinary heap to a plugin; reuse must not inherit a scribble."""
    freed = k.alloc(64)
    k.alloc(8)  # keeps `freed` from merging back into the unused top of the heap
    k.free(freed)
    k.store_u64(freed - 8, (1 << 64) - 1)
    again = k.alloc(64)
    assert again == freed
    assert k.length(again) == 64
    k.free(again)
    assert k.length(again) == 0


def test_u64_stores_outside_headers_cannot_reach_a_moved_table(k: KernelInstance) -> None:
    """Once the table has moved above the blocks, a u64 store at every address of memory (the
    headers of live blocks excepted) still leaves the allocator intact: the one-compare fast
    path of store_u64 stops short of the table wherever it lives."""
    handles = [k.alloc(24) for _ in range(300)]  # the table doubles twice, moving up each time
    for h in handles[::2]:
        k.free(h)
    live = handles[1::2]
    onto_header = {p for h in live for p in range(h - 15, h)}  # [p, p + 8) meets [h - 8, h)
    ones = (1 << 64) - 1
    for p in range(k.pages * PAGE - 7):
        if p not in onto_header:
            k.store_u64(p, ones)
    assert all(k.length(h) == 24 for h in live)
    more = [k.alloc(40) for _ in range(400)]  # the table grows and moves again
    assert all(k.length(h) == 24 for h in live)
    assert all(k.length(h) == 40 for h in more)
    assert len(set(more) | set(live)) == len(more) + len(live)


# --- input / output / error --------------------------------------------------------------------


def test_input_round_trip(k: KernelInstance) -> None:
    data = bytes(range(256)) * 2 + b"tail!"
    h = k.alloc(len(data))
    k.write(h, data)
    k.input_set(h, len(data))
    assert k.input_offset() == h
    assert k.input_length() == len(data)
    assert bytes(k.input_load_u8(i) for i in range(len(data))) == data
    assert k.input_load_u8(len(data)) == 0
    n = len(data)
    assert k.input_load_u64(n - 8) == int.from_bytes(data[-8:], "little")
    assert k.input_load_u64(n - 7) == 0  # a partial tail read gives 0, as the reference does
    assert k.input_load_u64((1 << 64) - 1) == 0


def test_freeing_the_input_zeroes_its_length(k: KernelInstance) -> None:
    h = k.alloc(10)
    k.input_set(h, 10)
    k.free(h)
    assert k.input_length() == 0
    assert k.input_load_u8(0) == 0


@pytest.mark.parametrize(
    ("offset", "length"), [(0, 0), (0, 10), (8, 8), (1 << 40, 1), ((1 << 64) - 8, 16)]
)
def test_input_and_output_set_ignore_ranges_outside_the_heap(
    k: KernelInstance, offset: int, length: int
) -> None:
    h = k.alloc(10)
    k.input_set(offset, length)
    k.output_set(offset, length)
    assert (k.input_offset(), k.input_length()) == (0, 0)
    assert (k.output_offset(), k.output_length()) == (0, 0)
    k.output_set(h, 10)
    k.output_set(h, 1 << 32)  # ignored: the earlier output stays
    assert (k.output_offset(), k.output_length()) == (h, 10)


def test_output_may_be_a_sub_range(k: KernelInstance) -> None:
    h = k.alloc(64)
    k.output_set(h + 4, 20)
    assert (k.output_offset(), k.output_length()) == (h + 4, 20)


def test_error_set_get_and_clear(k: KernelInstance) -> None:
    assert k.error_get() == 0
    h = k.alloc(512)
    k.error_set(h)
    assert k.error_get() == h
    k.error_set(h + 1)  # not a handle: ignored
    assert k.error_get() == h
    k.error_set(0)
    assert k.error_get() == 0


# --- reset -------------------------------------------------------------------------------------


def test_reset_forgets_everything_and_zeroes_memory(k: KernelInstance) -> None:
    first = k.alloc(100)
    k.write(first, b"\xaa" * 100)
    k.input_set(first, 100)
    k.output_set(first, 50)
    k.error_set(first)
    k.reset()
    assert k.length(first) == 0
    assert (k.input_length(), k.input_offset()) == (0, 0)
    assert (k.output_length(), k.output_offset()) == (0, 0)
    assert k.error_get() == 0
    again = k.alloc(100)
    assert again == first
    assert k.read(again, 100) == bytes(100)


def test_reset_after_table_growth_keeps_the_grown_table(k: KernelInstance) -> None:
    """`reset` lays the heap out again with the table at the heap start, at the size it grew to:
    the next call of a long-lived instance does not grow (and move) it again."""
    handles = [k.alloc(8) for _ in range(1000)]  # the table grows from 64 entries to 1024
    assert all(k.length(h) == 8 for h in handles)
    k.reset()
    assert all(k.length(h) == 0 for h in handles)
    again = [k.alloc(8) for _ in range(1000)]
    assert all(k.length(h) == 8 for h in again)
    # every block of the second call lies above a table with room for all of them
    assert min(again) >= handles[0] + (1024 - 64) * 32
    assert again == sorted(again)  # placed in order: the table never moved in between
    k.reset()
    assert [k.alloc(8) for _ in range(1000)] == again


def test_memory_grown_in_an_earlier_call_is_addressable_again(k: KernelInstance) -> None:
    """`reset` restores the bounds of a fresh heap; blocks placed in memory an earlier call grew
    must still be fully readable and writable (the cached bounds catch up)."""
    size = 3 * PAGE
    for _ in range(3):
        h = k.alloc(size)
        assert h != 0
        last = h + size - 8
        k.store_u64(last, 0x0102030405060708)
        assert k.load_u64(last) == 0x0102030405060708
        k.store_u8(h + size - 1, 0xEE)
        assert k.load_u8(h + size - 1) == 0xEE
        k.reset()
    assert k.pages == 4


# --- extensions --------------------------------------------------------------------------------


def test_begin_call_resets_and_reserves_the_input(k: KernelInstance) -> None:
    old = k.alloc(100)
    h = k.begin_call(10)
    assert h == old  # reset happened: the first handle again
    assert (k.input_offset(), k.input_length()) == (h, 10)
    assert k.length(h) == 10
    assert k.begin_call(0) == 0
    assert (k.input_offset(), k.input_length()) == (0, 0)
    assert k.length(h) == 0


def test_begin_call_out_of_memory_leaves_an_empty_input(new_kernel: Factory) -> None:
    k = new_kernel(memory_limit=2 * PAGE)
    assert k.begin_call(4 * PAGE) == 0
    assert (k.input_offset(), k.input_length()) == (0, 0)


def test_call_state_mirrors_the_getters(k: KernelInstance) -> None:
    address = k.call_state()
    h = k.begin_call(32)
    out = k.alloc(16)
    err = k.alloc(8)
    k.output_set(out, 16)
    k.error_set(err)
    record = k.read(address, 40)
    fields = [int.from_bytes(record[i : i + 8], "little") for i in range(0, 40, 8)]
    assert fields == [h, 32, out, 16, err]
    assert fields == [
        k.input_offset(),
        k.input_length(),
        k.output_offset(),
        k.output_length(),
        k.error_get(),
    ]
    k.reset()
    assert k.call_state() == address
    assert k.read(address, 40) == bytes(40)


def test_reset_zeroes_memory_the_heap_gave_back(k: KernelInstance) -> None:
    """Freeing the highest block lowers `top`; `reset` must still zero the memory above it."""
    low = k.alloc(64)
    high = k.alloc(4096)
    k.write(low, b"\xaa" * 64)
    k.write(high, b"\xbb" * 4096)
    k.free(high)
    k.reset()
    again = k.alloc(64 + 8 + 4096)  # the same memory, in one block
    assert again == low
    assert k.read(again, 64 + 8 + 4096) == bytes(64 + 8 + 4096)


def test_reset_zeroes_data_where_a_grown_table_used_to_be(k: KernelInstance) -> None:
    """After the table grows, `reset` puts the larger table where plugin data was: no byte of
    the previous call's data can be read back, whether it is now table or data."""
    handles = [k.alloc(24) for _ in range(300)]  # the table doubles twice, moving up each time
    for h in handles:
        k.write(h, b"\xaa" * 24)
    k.reset()
    fresh = [k.alloc(24) for _ in range(400)]
    assert all(b"\xaa" not in k.read(h, 24) for h in fresh)
    assert not any(k.load_u8(p) == 0xAA for p in range(min(handles), max(handles) + 24))


def test_memory_grown_by_the_host_is_not_addressed_until_the_kernel_uses_it(
    k: KernelInstance,
) -> None:
    """`load_*`/`store_*` stop at the end of the memory the kernel itself grew."""
    k.alloc(8)
    end = k.pages * PAGE
    k.memory.grow(k.store, 1)
    k.store_u64(end, 7)
    k.store_u8(end + 8, 7)
    assert k.read(end, 9) == bytes(9)
    assert k.load_u64(end) == 0
    k.write(end + 8, b"\x07")
    assert k.load_u8(end + 8) == 0
    big = k.alloc(2 * PAGE)  # the kernel grows memory and its limit follows
    k.store_u64(big + 2 * PAGE - 8, 7)
    assert k.load_u64(big + 2 * PAGE - 8) == 7
