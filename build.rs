//! Build-time facts for the tests: whether this machine lets a test mount a tmpfs (root with
//! `CAP_SYS_ADMIN`). The tests that need a full or a read-only file system of their own run where
//! they can and are reported as ignored, with the reason, where they cannot: never green without
//! having run.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(clipsim_can_mount)");
    println!("cargo::rerun-if-changed=build.rs");
    if can_mount() {
        println!("cargo::rustc-cfg=clipsim_can_mount");
    }
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
