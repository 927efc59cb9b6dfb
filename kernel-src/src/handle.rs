//! The single gate for handles that come from outside the kernel.

use crate::allocator::{entry, Entry, ACTIVE};
use crate::layout::{heap_start, read_u32, ALIGN, HEADER, NIL};
use crate::root::Root;

/// The table index of the active block whose data starts at `handle`, or `None`.
///
/// O(1): the index is read from the inline header and accepted only if the table entry at that
/// index is active and starts exactly at `handle`. A random, interior, freed, zero or
/// out-of-range handle, or a header a plugin scribbled over, can never pass.
#[inline(never)]
pub fn validate(root: &Root, handle: u64) -> Option<u32> {
    if handle < heap_start() + HEADER as u64 || handle >= root.top || handle % ALIGN as u64 != 0 {
        return None;
    }
    let index = unsafe { read_u32(handle - HEADER as u64) };
    if index == NIL || index >= root.fresh {
        return None;
    }
    let e: &Entry = entry(root, index);
    if e.state == ACTIVE && e.start as u64 == handle {
        Some(index)
    } else {
        None
    }
}
