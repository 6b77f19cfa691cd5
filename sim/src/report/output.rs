//! Writing a report directory atomically: everything goes into a temporary directory beside the
//! destination, which is renamed into place only when complete. A run never leaves a
//! half-written report, and never overwrites a non-empty directory it did not make unless told
//! to (`--force`).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file that marks a directory as written by clipsim (so it may be replaced).
pub const MARKER: &str = ".clipsim-report";

/// An output problem, with the path.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The destination is a non-empty directory clipsim did not make.
    #[error("{}: refusing to write into a non-empty directory that clipsim did not make (use --force to replace it)", .0.display())]
    Refused(PathBuf),
    /// The destination exists and is not a directory.
    #[error("{}: exists and is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// An I/O error (permission denied, disk full, ...).
    #[error("{}: {err}", path.display())]
    Io {
        /// Where.
        path: PathBuf,
        /// What.
        err: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |err| OutputError::Io { path: path.to_path_buf(), err }
}

/// A report being written.
#[derive(Debug)]
pub struct Staging {
    dest: PathBuf,
    tmp: PathBuf,
    done: bool,
}

impl Staging {
    /// Starts writing a report that will end up at `dest`.
    pub fn begin(dest: &Path, force: bool) -> Result<Self, OutputError> {
        if dest.exists() {
            if !dest.is_dir() {
                return Err(OutputError::NotADirectory(dest.to_path_buf()));
            }
            let empty = fs::read_dir(dest).map_err(io(dest))?.next().is_none();
            if !empty && !force && !dest.join(MARKER).exists() {
                return Err(OutputError::Refused(dest.to_path_buf()));
            }
        }
        let parent = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(io(parent))?;
        let name = dest.file_name().map_or("report".into(), |n| n.to_string_lossy().into_owned());
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
        }
        fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        Ok(Staging { dest: dest.to_path_buf(), tmp, done: false })
    }

    /// Where files are written until [`Staging::commit`].
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    /// Writes one file into the staging directory (creating subdirectories), flushed to disk.
    /// Errors name the file as it will be in the destination.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), OutputError> {
        let path = self.tmp.join(rel);
        let shown = self.dest.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io(&shown))?;
        }
        let mut f = fs::File::create(&path).map_err(io(&shown))?;
        f.write_all(bytes).map_err(io(&shown))?;
        f.sync_all().map_err(io(&shown))?;
        Ok(())
    }

    /// Moves the finished report into place, replacing an earlier clipsim report.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        self.write(MARKER, b"written by clipsim; safe to replace\n")?;
        let old =
            self.tmp.with_file_name(format!("{}.old", self.tmp.file_name().expect("tmp has a name").to_string_lossy()));
        let had_old = self.dest.exists();
        if had_old {
            fs::rename(&self.dest, &old).map_err(io(&self.dest))?;
        }
        if let Err(e) = fs::rename(&self.tmp, &self.dest) {
            if had_old {
                let _ = fs::rename(&old, &self.dest);
            }
            return Err(OutputError::Io { path: self.dest.clone(), err: e });
        }
        self.done = true;
        if had_old {
            fs::remove_dir_all(&old).map_err(io(&old))?;
        }
        Ok(self.dest.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_atomically_and_replaces_only_its_own() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("run");
        let s = Staging::begin(&dest, false).unwrap();
        s.write("a/b.txt", b"x").unwrap();
        assert!(!dest.exists(), "nothing appears before commit");
        s.commit().unwrap();
        assert_eq!(fs::read(dest.join("a/b.txt")).unwrap(), b"x");
        // Replacing our own report works; the old files are gone.
        let s = Staging::begin(&dest, false).unwrap();
        s.write("c.txt", b"y").unwrap();
        s.commit().unwrap();
        assert!(!dest.join("a/b.txt").exists() && dest.join("c.txt").exists());
        // A directory we did not make is refused without --force.
        let foreign = root.path().join("foreign");
        fs::create_dir(&foreign).unwrap();
        fs::write(foreign.join("keep.txt"), b"mine").unwrap();
        assert!(matches!(Staging::begin(&foreign, false), Err(OutputError::Refused(_))));
        assert!(Staging::begin(&foreign, true).is_ok());
    }

    /// A real ENOSPC, for any user: a staged file that is /dev/full (through a link). The error
    /// names the file as it would be in the destination and the OS's reason; nothing is left.
    #[test]
    fn a_full_disk_is_a_clear_error_and_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("run");
        let s = Staging::begin(&dest, false).unwrap();
        std::os::unix::fs::symlink("/dev/full", s.dir().join("summary.json")).unwrap();
        let err = s.write("summary.json", &[b'x'; 4096]).unwrap_err().to_string();
        assert!(err.contains("No space left on device"), "{err}");
        assert!(err.contains(&dest.join("summary.json").display().to_string()), "{err}");
        drop(s);
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 0, "nothing left behind");
    }

    #[test]
    fn an_abandoned_staging_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("run");
        {
            let s = Staging::begin(&dest, false).unwrap();
            s.write("x", b"1").unwrap();
        }
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 0);
    }
}
