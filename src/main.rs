//! `clipsim`: see `clipsim --help` and README.md. The binary is the command line (argument
//! parsing, progress bars, Ctrl-C, exit statuses); the simulation lives in the `clipsim-sim`
//! crate.

mod alloc;
mod cli;

#[global_allocator]
static ALLOC: alloc::HugePages = alloc::HugePages;

fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(test)]
mod tests {
    //! The allocator, here rather than in `alloc.rs` because the scenario bench includes that file.

    use super::alloc::{HugePages, HUGE_MIN_BYTES, HUGE_PAGE_BYTES};
    use std::alloc::{GlobalAlloc, Layout};

    /// Allocates `size` bytes through [`HugePages`], fills them, and checks them after a realloc
    /// to each of `sizes` in turn (across the huge threshold both ways).
    #[test]
    fn blocks_keep_their_bytes_across_the_threshold() {
        let a = HugePages;
        let start = HUGE_MIN_BYTES + 12_345;
        let layout = Layout::from_size_align(start, 8).unwrap();
        // SAFETY: non-zero sizes; every pointer is used within its block and freed once with the
        // layout it was last allocated or reallocated with.
        unsafe {
            let mut p = a.alloc(layout);
            assert!(!p.is_null());
            assert_eq!(p as usize % HUGE_PAGE_BYTES, 0, "large blocks are huge-page aligned");
            for i in 0..start {
                *p.add(i) = (i % 251) as u8;
            }
            let mut size = start;
            for new_size in [1000, 3 * HUGE_MIN_BYTES, HUGE_MIN_BYTES - 1, 2 * HUGE_MIN_BYTES] {
                p = a.realloc(p, Layout::from_size_align(size, 8).unwrap(), new_size);
                assert!(!p.is_null());
                let kept = size.min(new_size);
                assert!((0..kept).all(|i| *p.add(i) == (i % 251) as u8), "{size} -> {new_size}");
                for i in kept..new_size {
                    *p.add(i) = (i % 251) as u8;
                }
                size = new_size;
            }
            a.dealloc(p, Layout::from_size_align(size, 8).unwrap());
            let z = Layout::from_size_align(2 * HUGE_MIN_BYTES, 64).unwrap();
            let q = a.alloc_zeroed(z);
            assert!((0..z.size()).step_by(4093).all(|i| *q.add(i) == 0));
            a.dealloc(q, z);
        }
    }
}
