//! Records the git commit the binary was built from (`CLIPSIM_GIT_COMMIT`), so that every report
//! can name it. Reads `.git` directly (no `git` process); "unknown" outside a checkout.

use std::fs;
use std::path::{Path, PathBuf};

fn git_dir(start: &Path) -> Option<PathBuf> {
    start.ancestors().map(|d| d.join(".git")).find(|g| g.exists()).and_then(|g| {
        if g.is_dir() {
            Some(g)
        } else {
            // A worktree: ".git" is a file "gitdir: PATH".
            let text = fs::read_to_string(&g).ok()?;
            let path = text.strip_prefix("gitdir:")?.trim();
            Some(g.parent()?.join(path))
        }
    })
}

fn resolve(git: &Path, reference: &str) -> Option<String> {
    if let Ok(text) = fs::read_to_string(git.join(reference)) {
        return Some(text.trim().to_string());
    }
    let packed = fs::read_to_string(git.join("packed-refs")).ok()?;
    packed.lines().find_map(|l| {
        let (hash, name) = l.split_once(' ')?;
        (name == reference).then(|| hash.to_string())
    })
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let mut commit = "unknown".to_string();
    if let Some(git) = git_dir(&manifest) {
        let head_path = git.join("HEAD");
        println!("cargo:rerun-if-changed={}", head_path.display());
        if let Ok(head) = fs::read_to_string(&head_path) {
            let head = head.trim();
            match head.strip_prefix("ref: ") {
                Some(reference) => {
                    println!("cargo:rerun-if-changed={}", git.join(reference).display());
                    println!("cargo:rerun-if-changed={}", git.join("packed-refs").display());
                    if let Some(hash) = resolve(&git, reference) {
                        commit = hash;
                    }
                }
                None => commit = head.to_string(),
            }
        }
    }
    println!("cargo:rustc-env=CLIPSIM_GIT_COMMIT={commit}");
}
