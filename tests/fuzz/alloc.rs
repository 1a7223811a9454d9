//! A counting global allocator: the live bytes of the whole test binary, their peak since a case
//! began and the largest single request, so a reader that allocates what a lying header claims
//! is caught (one case runs at a time). Requests over [`HARD_LIMIT`] are refused outright (the
//! process aborts, and `cargo xtask fuzz` keeps the case that did it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// No reader fed a fixture-sized file under the harness's limits needs this much at once.
pub const HARD_LIMIT: usize = 1 << 30;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

pub struct Counting;

/// A fresh allocation through `allocate`, counted; refused over [`HARD_LIMIT`].
fn counted(layout: Layout, allocate: impl FnOnce() -> *mut u8) -> *mut u8 {
    if layout.size() > HARD_LIMIT {
        return std::ptr::null_mut();
    }
    let p = allocate();
    if !p.is_null() {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        grew(layout.size());
    }
    p
}

fn grew(by: usize) {
    let live = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call is passed to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        counted(layout, || unsafe { System.alloc(layout) })
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        counted(layout, || unsafe { System.alloc_zeroed(layout) })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > HARD_LIMIT {
            return std::ptr::null_mut();
        }
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LARGEST.fetch_max(new_size, Ordering::Relaxed);
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

/// What one case allocated: its peak above the live bytes when it began, its largest request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub peak: usize,
    pub largest: usize,
}

/// Marks the start of a case; [`Case::usage`] reads what it has allocated since.
pub struct Case {
    baseline: usize,
}

impl Case {
    pub fn begin() -> Case {
        let baseline = LIVE.load(Ordering::Relaxed);
        PEAK.store(baseline, Ordering::Relaxed);
        LARGEST.store(0, Ordering::Relaxed);
        Case { baseline }
    }

    pub fn usage(&self) -> Usage {
        Usage {
            peak: PEAK.load(Ordering::Relaxed).saturating_sub(self.baseline),
            largest: LARGEST.load(Ordering::Relaxed),
        }
    }
}
