//! The global allocator: the system allocator, with large blocks on transparent huge pages.
//!
//! The simulator's per-clip tables (the engine's clip records, the Zipf alias table, the per-clip
//! counters, the edge caches' indexes) are tens to hundreds of megabytes read at random, one
//! cache line per request. With 4 KiB pages nearly every such read also misses the TLB, and in a
//! virtual machine a page walk costs several memory reads of its own. Blocks of
//! [`HUGE_MIN_BYTES`] or more are therefore aligned to 2 MiB and marked `MADV_HUGEPAGE`, so that
//! Linux backs them with 2 MiB pages when it can (`/sys/kernel/mm/transparent_hugepage/enabled`
//! set to `madvise` or `always`; with `never`, or on other systems, nothing changes). Measured
//! in `docs/benchmarks.md`. The advice changes where memory lives, never what the program
//! computes.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks at least this large are advised onto huge pages.
pub const HUGE_MIN_BYTES: usize = 4 << 20;
/// The huge-page size on x86_64 and most aarch64 Linux systems.
pub const HUGE_PAGE_BYTES: usize = 2 << 20;

/// [`System`], with blocks of [`HUGE_MIN_BYTES`] or more aligned to huge pages and advised onto
/// them.
pub struct HugePages;

fn is_huge(layout: Layout) -> bool {
    layout.size() >= HUGE_MIN_BYTES
}

/// The layout a large block is really allocated with (the same size, huge-page aligned).
fn huge_layout(layout: Layout) -> Layout {
    Layout::from_size_align(layout.size(), layout.align().max(HUGE_PAGE_BYTES))
        .expect("a valid layout stays valid with a larger power-of-two alignment")
}

#[cfg(target_os = "linux")]
fn advise(ptr: *mut u8, size: usize) {
    if !ptr.is_null() {
        // SAFETY: `ptr..ptr + size` is a block this allocator just obtained, huge-page aligned.
        // MADV_HUGEPAGE only changes how the kernel backs the pages; its failure (an old kernel,
        // THP disabled) leaves the block as it was, so the result is ignored.
        unsafe {
            libc::madvise(ptr.cast(), size, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_ptr: *mut u8, _size: usize) {}

/// Allocates `layout` with `system` (`System.alloc` or `System.alloc_zeroed`): a large block
/// with [`huge_layout`], advised onto huge pages.
///
/// # Safety
/// As [`GlobalAlloc::alloc`]: `layout` has a non-zero size.
unsafe fn alloc_with(layout: Layout, system: unsafe fn(&System, Layout) -> *mut u8) -> *mut u8 {
    if is_huge(layout) {
        let p = system(&System, huge_layout(layout));
        advise(p, layout.size());
        p
    } else {
        system(&System, layout)
    }
}

// SAFETY: every block is allocated and freed by `System` with the same layout: large blocks
// always with `huge_layout` of their layout (the size decides, and it is the same at `alloc`
// and `dealloc`), small ones with their own. `realloc` moves a block between the two classes by
// allocating, copying and freeing.
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        alloc_with(layout, <System as GlobalAlloc>::alloc)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        alloc_with(layout, <System as GlobalAlloc>::alloc_zeroed)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_huge(layout) {
            System.dealloc(ptr, huge_layout(layout));
        } else {
            System.dealloc(ptr, layout);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        if !is_huge(layout) && !is_huge(new_layout) {
            return System.realloc(ptr, layout, new_size);
        }
        let new = self.alloc(new_layout);
        if !new.is_null() {
            std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        new
    }
}
