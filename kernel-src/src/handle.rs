//! The single gate for handles that come from outside the kernel.

use crate::entry::{entry, Entry, State};
use crate::layout::{heap_start, read_u32, ALIGN, ENTRY_SIZE, HEADER, NIL};
use crate::root::Root;

/// The table
///
/// O(1): the row is read from the inline header and accepted only if the table entry at that
/// row is active and starts exactly at `handle`. A random, interior, freed, zero or
/// out-of-range handle, or a header a plugin scribbled over, can never pass. (A plain u32
/// rather than an `Option`: that would go through the shadow stack in every caller.)
#[inline(never)]
pub fn validate(root: &Root, handle: u64) -> u32 {
    if handle < heap_start() + HEADER as u64 || handle >= root.top || handle % ALIGN as u64 != 0 {
        return NIL;
    }
    // SAFETY: `handle - HEADER` is at or above the heap start and below `top`: mapped memory.
    let row = unsafe { read_u32(handle - HEADER as u64) };
    // A row is a multiple of the entry size: an unaligned one would read a forged entry
    // straddling two real ones (whose `used` a plugin chooses).
    if row == NIL || row >= root.fresh || row % ENTRY_SIZE != 0 {
        return NIL;
    }
    // SAFETY: `row` is below `root.fresh`: an entry of the table that has been written.
    let e: &Entry = unsafe { entry(root, row) };
    if e.state == State::Active && e.start as u64 == handle {
        row
    } else {
        NIL
    }
}
