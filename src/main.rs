//! `clipsim`: see `clipsim --help` and README.md. The binary is thin: everything lives in the
//! `clipsim-sim` crate.

fn main() -> std::process::ExitCode {
    clipsim_sim::cli::main()
}
