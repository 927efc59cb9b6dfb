//! # The extism-kernel
//!
//! The memory manager every Extism host links beside a plugin, as module `extism:host/env`:
//! an allocator addressed by 64-bit handles, the call's input and output, and an error slot.
//! The exports (names and wasm types) are those of the ABI spec, `abi.json`; `abi_check.rs`,
//! generated from it, makes a signature drift a compile error.
//!
//! ## Memory layout
//!
//! ```text
//! 0    16     __heap_base (≈280 B)                                  top          memory end
//! ├─stack┼ Root ┼─ hdr │ block table ─┼─ hdr │ data ─┼─ hdr │ data ─┼ … ┼── unused ──┤
//!   private       private (TABLE)       block          block                grows on demand
//! ```
//!
//! * Address 0 is null: every handle is ≥ `__heap_base + 8`, and 0 means "none" or "failed".
//!   The shadow stack is 16 bytes (nothing uses it), so the `Root` record's hot fields sit at
//!   addresses below 128, which keeps every access to them one LEB128 byte shorter.
//! * A **block** is an 8-byte inline header followed by its data; the handle is the data address,
//!   8-aligned. The header holds only the block's **row**: the byte offset of its entry in the
//!   **block table**.
//! * The **block table** (entries of 32 bytes: start, capacity, used length, state,
//!   address-order links prev/next, free-bin links; entry.rs) is itself a block of the heap,
//!   doubled when full. A grown table is copied into a new block and the old one is retired (a
//!   `TABLE` block until `reset`, no longer private: it holds only copies of entries); `reset`
//!   zeroes it and puts the table back at the heap start at the size it grew to. The table and
//!   the `Root` record are *private*: `store_*` into them is a no-op, `load_*` from them reads 0,
//!   and `input_set`/`output_set` ranges may not touch them.
//! * `alloc` has a **fast path** (fast.rs): a bump at `top` behind three compares (size, mapped
//!   memory, rows), writing the entry as two u64 stores. It is open only while no free block
//!   waits and the highest block is the newest row; every other case takes the slow path
//!   (allocator.rs). The links of the rows it placed are written by `fast::settle`, first thing
//!   in the next `free` or slow `alloc`: each row once.
//! * `load_u64`/`store_u64` are the plugin's hot path. Their bounds check is one compare against a
//!   cached *fast window*: from the end of the table's first home to the end of memory, or up to
//!   the table once it has moved above that point. Other addresses take the full check. The
//!   window is recomputed when a block is placed past the cached end of memory and whenever the
//!   table moves (`Root::refresh_limits`); `load_u8`/`store_u8` use the same window.
//! * Free blocks sit in 32 size-class bins (class = floor(log2(capacity))), found in O(1) through
//!   a bitmap of non-empty bins: the head of the request's class if it fits, else the head of
//!   the smallest larger class; a reused block is split when the excess is ≥ 24 bytes.
//!
//! ## Invariants
//!
//! 1. Blocks tile `[__heap_base, top)` in address order along the table's prev/next links
//!    (once settled: see fast.rs).
//! 2. No two free blocks are neighbours (freeing coalesces both sides), and the highest block is
//!    never free (freeing it lowers `top` instead), so memory is reused before it grows.
//! 3. `validate(h)` (handle.rs) is the only way a handle becomes a table row: it checks range,
//!    alignment (of the handle and of the row), and that the entry named by the header is active
//!    and starts exactly at `h`. Sizes and links are read only from the table, never from inline
//!    headers, so a bad handle or a scribbled header cannot make blocks overlap.
//! 4. Memory starts at one page and grows only when no free block fits (a retired table is not
//!    a free block: see docs/kernel.md, Costs); a refused `memory.grow` makes `alloc` return 0.
//!    `reset` zeroes exactly the memory used since the last reset.
#![no_std]

mod abi_check;
mod allocator;
mod entry;
mod fast;
mod handle;
mod layout;
mod root;

use layout::{heap_start, memory_end, read_u64, read_u8, write_u64, write_u8, MAX_ALLOC, NIL};

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// Allocate a block of `n` bytes and return its handle.
///
/// Returns 0 when `n` is 0, larger than 4 GiB - 8, or the memory cannot grow (out of memory
/// never traps). Memory of a reused block is not zeroed. Ownership: the caller owns the block.
#[no_mangle]
pub extern "C" fn alloc(n: u64) -> u64 {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    let root = unsafe { root::peek() };
    // SAFETY: as above; the fast path checks that it is open and `n` fits.
    match unsafe { fast::try_alloc(root, n) } {
        0 => alloc_slow(root, n),
        h => h,
    }
}

/// `alloc` when the fast path cannot serve `n`.
#[inline(never)]
fn alloc_slow(root: &mut root::Root, n: u64) -> u64 {
    if n == 0 || n > MAX_ALLOC {
        return 0;
    }
    // SAFETY: `root` is the only reference to the root record (the caller's, passed on);
    // `allocator::alloc` returns a live row, below `root.fresh`.
    unsafe {
        if root.table == 0 {
            allocator::reset(root);
        }
        match allocator::alloc(root, n as u32) {
            NIL => 0,
            row => entry::entry(root, row).start as u64,
        }
    }
}

/// Release the block at handle `h`; freed neighbours coalesce.
///
/// Any `h` that is not a live handle (0, random, interior, already freed) is a no-op, and so is
/// the handle of the current error or of the block the output starts at (the runtime owns
/// them until `reset`). Freeing the input block sets the input length to 0.
#[no_mangle]
pub extern "C" fn free(h: u64) {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    let root = unsafe { root::peek() };
    let row = handle::validate(root, h);
    if row != NIL {
        // The error and the output belong to the runtime once set: their blocks stay put.
        if h == root.error || h == root.output_offset {
            return;
        }
        if h == root.input_offset {
            root.input_length = 0;
        }
        // SAFETY: `validate` returned a live row, so the root record is set up.
        unsafe { allocator::free(root, row) };
    }
}

/// The length `alloc` was asked for, for the live block at `h`; 0 for anything else. O(1).
#[no_mangle]
pub extern "C" fn length(h: u64) -> u64 {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    let root = unsafe { root::peek() };
    match handle::validate(root, h) {
        NIL => 0,
        // SAFETY: `validate` returned a live row (below `root.fresh`).
        row => unsafe { entry::entry(root, row) }.used as u64,
    }
}

/// Same as `length`: the validated lookup is already O(1), so nothing is skipped.
#[no_mangle]
pub extern "C" fn length_unsafe(h: u64) -> u64 {
    length(h)
}

/// Read the byte at `p`; 0 when `p` is outside the heap or in kernel-private memory.
#[no_mangle]
pub extern "C" fn load_u8(p: u64) -> u32 {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    if unsafe { root::peek() }.is_addressable_byte(p) {
        // SAFETY: the byte is in the heap, below the end of memory.
        unsafe { read_u8(p) as u32 }
    } else {
        0
    }
}

/// Read the little-endian u64 at `p` (unaligned allowed); 0 when any byte is out of bounds.
#[no_mangle]
pub extern "C" fn load_u64(p: u64) -> u64 {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    if unsafe { root::peek() }.is_addressable_u64(p) {
        // SAFETY: the 8 bytes are in the heap, below the end of memory.
        unsafe { read_u64(p) }
    } else {
        0
    }
}

/// Write the low byte of `x` at `p`; a no-op outside the heap or in kernel-private memory.
#[no_mangle]
pub extern "C" fn store_u8(p: u64, x: u32) {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    if unsafe { root::peek() }.is_addressable_byte(p) {
        // SAFETY: the byte is public heap (not the table or the root), below the end of memory.
        unsafe { write_u8(p, x as u8) }
    }
}

/// Write `x` little-endian at `p` (unaligned allowed); a no-op when any byte is out of bounds.
#[no_mangle]
pub extern "C" fn store_u64(p: u64, x: u64) {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    if unsafe { root::peek() }.is_addressable_u64(p) {
        // SAFETY: the 8 bytes are public heap (not the table or the root), below memory's end.
        unsafe { write_u64(p, x) }
    }
}

/// Mark `[h, h + len)` as the call's input. Ignored unless the range lies in allocated heap.
///
/// Ownership: the runtime takes `h`; the caller must not free it.
#[no_mangle]
pub extern "C" fn input_set(h: u64, len: u64) {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    let root = unsafe { root::peek() };
    if root.is_heap_range(h, len) {
        root.input_offset = h;
        root.input_length = len;
    }
}

/// The input byte at offset `off`; 0 past the end of the input.
#[no_mangle]
pub extern "C" fn input_load_u8(off: u64) -> u32 {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    let root = unsafe { root::peek() };
    if off < root.input_length {
        // SAFETY: `input_set` accepted only heap ranges, and `off` is inside the input.
        unsafe { read_u8(root.input_offset + off) as u32 }
    } else {
        0
    }
}

/// The little-endian u64 at input offset `off`; 0 unless all 8 bytes are inside the input.
#[no_mangle]
pub extern "C" fn input_load_u64(off: u64) -> u64 {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    let root = unsafe { root::peek() };
    if off < root.input_length && root.input_length - off >= 8 {
        // SAFETY: `input_set` accepted only heap ranges, and all 8 bytes are inside the input.
        unsafe { read_u64(root.input_offset + off) }
    } else {
        0
    }
}

/// The input's length in bytes.
#[no_mangle]
pub extern "C" fn input_length() -> u64 {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    unsafe { root::peek() }.input_length
}

/// The input's handle, 0 when there is no input.
#[no_mangle]
pub extern "C" fn input_offset() -> u64 {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    unsafe { root::peek() }.input_offset
}

/// Mark `[h, h + len)` as the call's output. Ignored unless the range lies in allocated heap.
///
/// Ownership: the runtime takes `h`; the caller must not free it.
#[no_mangle]
pub extern "C" fn output_set(h: u64, len: u64) {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    let root = unsafe { root::peek() };
    if root.is_heap_range(h, len) {
        root.output_offset = h;
        root.output_length = len;
    }
}

/// The output's length in bytes.
#[no_mangle]
pub extern "C" fn output_length() -> u64 {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    unsafe { root::peek() }.output_length
}

/// The output's start address, 0 when there is no output.
#[no_mangle]
pub extern "C" fn output_offset() -> u64 {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    unsafe { root::peek() }.output_offset
}

/// Forget every block, the input, the output and the error; zero the memory used since the
/// last reset. Time is proportional to that memory; memory is never shrunk.
#[no_mangle]
pub extern "C" fn reset() {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    unsafe { allocator::reset(root::peek()) };
}

/// Set the error message to the live block `h`, or clear it when `h` is 0.
///
/// Any other `h` is ignored. Ownership: the runtime takes `h`; the caller must not free it.
#[no_mangle]
pub extern "C" fn error_set(h: u64) {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    let root = unsafe { root::peek() };
    if h == 0 || handle::validate(root, h) != NIL {
        root.error = h;
    }
}

/// The error message's handle, 0 when no error is set.
#[no_mangle]
pub extern "C" fn error_get() -> u64 {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    unsafe { root::peek() }.error
}

/// Extension: start a call in one crossing: `reset`, then allocate `n` bytes as the input.
///
/// Returns the input handle; 0 when `n` is 0 or out of memory (the input is then empty).
/// Ownership: the runtime owns the input block; every earlier handle is invalid.
#[no_mangle]
pub extern "C" fn begin_call(n: u64) -> u64 {
    reset();
    let h = alloc(n);
    if h != 0 {
        // SAFETY: the only reference to the root record during this export (see `root::peek`).
        let root = unsafe { root::peek() };
        root.input_offset = h;
        root.input_length = n;
    }
    h
}

/// Extension: address of the call-state record, fixed for the instance's life: five
/// little-endian u64s (input offset, input length, output offset, output length, error).
#[no_mangle]
pub extern "C" fn call_state() -> u64 {
    // SAFETY: the only reference to the root record during this export (see `root::peek`).
    core::ptr::addr_of!(unsafe { root::peek() }.input_offset) as u64
}

/// Bytes the allocator manages: from the start of the heap to the end of memory.
#[no_mangle]
pub extern "C" fn memory_bytes() -> u64 {
    memory_end() - heap_start()
}
