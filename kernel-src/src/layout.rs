//! Sizes, offsets and raw memory access: every magic number of the kernel lives here.

use core::arch::wasm32;

/// Bytes in a WebAssembly page.
pub const PAGE: u64 = 65_536;
/// Block addresses and capacities are multiples of this.
pub const ALIGN: u32 = 8;
/// Inline header before each block's data: the block's table index (u32) and 4 spare bytes.
pub const HEADER: u32 = 8;
/// Bytes of one block-table entry (`Entry`).
pub const ENTRY_SIZE: u32 = 32;
/// Bytes of the block table after `reset` (64 entries); it doubles when full.
pub const TABLE_INITIAL: u32 = 64 * ENTRY_SIZE;
/// Smallest data capacity worth splitting off a reused free block.
pub const MIN_SPLIT: u32 = 16;
/// Free-block size classes: class `c` holds capacities in `[2^c, 2^(c+1))`.
pub const BINS: usize = 32;
/// Index 0 of the block table means "no block".
pub const NIL: u32 = 0;
/// Largest request `alloc` accepts (a capacity rounded up to `ALIGN` must fit in a u32).
pub const MAX_ALLOC: u64 = (u32::MAX - (ALIGN - 1)) as u64;

extern "C" {
    /// First byte after the kernel's static data and shadow stack (defined by the linker).
    static __heap_base: u8;
}

/// First address the allocator manages (the table's header). wasm-ld aligns `__heap_base` to 16.
#[inline(always)]
pub fn heap_start() -> u64 {
    // SAFETY: only the address of the linker's symbol is taken; it is never read. (Newer rustc
    // knows that is safe and calls the block unnecessary; 1.63 requires it.)
    #[allow(unused_unsafe)]
    unsafe {
        core::ptr::addr_of!(__heap_base) as u64
    }
}

/// First address of the u64 fast window: the end of the block table as `init` places it.
#[inline(always)]
pub fn fast_start() -> u64 {
    heap_start() + (HEADER + TABLE_INITIAL) as u64
}

/// Round `n` up to a multiple of `ALIGN`.
#[inline(always)]
pub fn align_up(n: u64) -> u64 {
    (n + (ALIGN as u64 - 1)) & !(ALIGN as u64 - 1)
}

/// Bytes of linear memory right now.
#[inline(always)]
pub fn memory_end() -> u64 {
    wasm32::memory_size(0) as u64 * PAGE
}

/// Grow memory so that `[0, end)` is addressable; false when the runtime refuses.
pub fn ensure_memory(end: u64) -> bool {
    let have = memory_end();
    if end <= have {
        return true;
    }
    let pages = (end - have + PAGE - 1) / PAGE;
    wasm32::memory_grow(0, pages as usize) != usize::MAX
}

/// Raw little-endian memory access (unaligned allowed).
///
/// # Safety
/// The bytes touched lie in the kernel's linear memory, below its current end.
#[inline(always)]
pub unsafe fn read_u8(addr: u64) -> u8 {
    *(addr as usize as *const u8)
}

/// Raw little-endian memory access (unaligned allowed).
///
/// # Safety
/// The bytes touched lie in the kernel's linear memory, below its current end.
#[inline(always)]
pub unsafe fn write_u8(addr: u64, value: u8) {
    *(addr as usize as *mut u8) = value;
}

/// Raw little-endian memory access (unaligned allowed).
///
/// # Safety
/// The bytes touched lie in the kernel's linear memory, below its current end.
#[inline(always)]
pub unsafe fn read_u32(addr: u64) -> u32 {
    core::ptr::read_unaligned(addr as usize as *const u32)
}

/// Raw little-endian memory access (unaligned allowed).
///
/// # Safety
/// The bytes touched lie in the kernel's linear memory, below its current end.
#[inline(always)]
pub unsafe fn write_u32(addr: u64, value: u32) {
    core::ptr::write_unaligned(addr as usize as *mut u32, value);
}

/// Raw little-endian memory access (unaligned allowed).
///
/// # Safety
/// The bytes touched lie in the kernel's linear memory, below its current end.
#[inline(always)]
pub unsafe fn read_u64(addr: u64) -> u64 {
    core::ptr::read_unaligned(addr as usize as *const u64)
}

/// Raw little-endian memory access (unaligned allowed).
///
/// # Safety
/// The bytes touched lie in the kernel's linear memory, below its current end.
#[inline(always)]
pub unsafe fn write_u64(addr: u64, value: u64) {
    core::ptr::write_unaligned(addr as usize as *mut u64, value);
}

/// Zero `[start, end)`.
///
/// # Safety
/// The bytes touched lie in the kernel's linear memory, below its current end.
#[inline(always)]
pub unsafe fn zero(start: u64, end: u64) {
    if end > start {
        core::ptr::write_bytes(start as usize as *mut u8, 0, (end - start) as usize);
    }
}

/// Copy `len` bytes from `src` to `dst` (the ranges do not overlap).
///
/// # Safety
/// Both ranges lie in the kernel's linear memory, below its current end, and do not overlap.
#[inline(always)]
pub unsafe fn copy(src: u64, dst: u64, len: u64) {
    core::ptr::copy_nonoverlapping(
        src as usize as *const u8,
        dst as usize as *mut u8,
        len as usize,
    );
}
