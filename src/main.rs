//! `clipsim`: see `clipsim --help` and README.md. The binary is thin: everything lives in the
//! `clipsim-sim` crate.

mod alloc;

#[global_allocator]
static ALLOC: alloc::HugePages = alloc::HugePages;

fn main() -> std::process::ExitCode {
    clipsim_sim::cli::main()
}
