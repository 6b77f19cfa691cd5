//! Build-time facts for the tests: whether this machine lets a test mount a tmpfs (root with
//! `CAP_SYS_ADMIN`), and whether Chromium is installed (for the HTML report's browser test). The
//! tests that need them run where they can and are reported as ignored, with the reason, where
//! they cannot: never green without having run.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(clipsim_can_mount)");
    println!("cargo::rustc-check-cfg=cfg(clipsim_has_chromium)");
    println!("cargo::rustc-check-cfg=cfg(clipsim_has_groff)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=PATH");
    if can_mount() {
        println!("cargo::rustc-cfg=clipsim_can_mount");
    }
    if on_path("chromium") {
        println!("cargo::rustc-cfg=clipsim_has_chromium");
    }
    if on_path("groff") {
        println!("cargo::rustc-cfg=clipsim_has_groff");
    }
}

/// Whether an executable file `name` is in a directory of `PATH`. (Checked when the build script
/// runs: after installing Chromium into an existing build, `touch build.rs`.)
fn on_path(name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = std::env::var_os("PATH") else { return false };
    std::env::split_paths(&path)
        .any(|dir| std::fs::metadata(dir.join(name)).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// Whether the effective capabilities include `CAP_SYS_ADMIN` (bit 21), which `mount` needs.
fn can_mount() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return false };
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << 21) != 0)
}
