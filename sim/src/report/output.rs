//! Writing outputs atomically. A report directory: everything goes into a temporary directory
//! beside the destination, which is renamed into place only when complete ([`Staging`]). One
//! file (a trace): written to a temporary file beside it, renamed into place when complete
//! ([`StagedFile`]). A command never leaves a half-written output, never replaces a non-empty
//! directory or file it did not make unless told to (`--force`), and never writes over one of
//! its own inputs, even when told to.

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
    /// The destination file exists, is not empty, and `--force` was not given.
    #[error("{}: refusing to replace an existing file (use --force to replace it)", .0.display())]
    FileExists(PathBuf),
    /// The destination file is a directory.
    #[error("{}: is a directory; expected a file name", .0.display())]
    IsADirectory(PathBuf),
    /// The destination is one of the command's inputs, or a directory that holds one.
    #[error(
        "{}: refusing to write over {}, an input of this command (choose another output)",
        dest.display(),
        if dest == input { "itself".to_string() } else { input.display().to_string() }
    )]
    IsAnInput {
        /// The destination as given.
        dest: PathBuf,
        /// The input as given.
        input: PathBuf,
    },
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

/// `path` with its symbolic links and `..` resolved; for a path that does not exist yet, its
/// parent's resolved and its name joined. `None` when not even the parent exists.
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = fs::canonicalize(path) {
        return Some(p);
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    Some(fs::canonicalize(parent).ok()?.join(path.file_name()?))
}

/// Whether `a` and `b` are the same file: the same resolved path or, through another hard
/// link, the same inode.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (fs::metadata(a), fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    resolved(a).is_some_and(|x| resolved(b).is_some_and(|y| x == y))
}

/// Refuses a destination that is one of `inputs` (a file) or holds one (a directory, which is
/// replaced whole): that would destroy what the command read.
fn refuse_inputs(dest: &Path, inputs: &[&Path], is_dir: bool) -> Result<(), OutputError> {
    let Some(dest_at) = resolved(dest) else { return Ok(()) };
    for &input in inputs {
        let hit =
            if is_dir { resolved(input).is_some_and(|i| i.starts_with(&dest_at)) } else { same_file(dest, input) };
        if hit {
            return Err(OutputError::IsAnInput { dest: dest.to_path_buf(), input: input.to_path_buf() });
        }
    }
    Ok(())
}

/// A report being written.
#[derive(Debug)]
pub struct Staging {
    dest: PathBuf,
    tmp: PathBuf,
    done: bool,
}

impl Staging {
    /// Checks that a report may be written at `dest`, without writing anything: `dest` is
    /// missing, empty, made by clipsim, or `force` is given; and it holds none of `inputs`.
    pub fn check(dest: &Path, force: bool, inputs: &[&Path]) -> Result<(), OutputError> {
        refuse_inputs(dest, inputs, true)?;
        if dest.exists() {
            if !dest.is_dir() {
                return Err(OutputError::NotADirectory(dest.to_path_buf()));
            }
            let empty = fs::read_dir(dest).map_err(io(dest))?.next().is_none();
            if !empty && !force && !dest.join(MARKER).exists() {
                return Err(OutputError::Refused(dest.to_path_buf()));
            }
        }
        Ok(())
    }

    /// Starts writing a report that will end up at `dest` (see [`Staging::check`]).
    pub fn begin(dest: &Path, force: bool, inputs: &[&Path]) -> Result<Self, OutputError> {
        Self::check(dest, force, inputs)?;
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

    /// Where the report ends up.
    pub fn dest(&self) -> &Path {
        &self.dest
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

/// The descriptor `path` names among the process's open files (`/dev/stdout`: 1,
/// `/dev/fd/3`: 3, `/proc/self/fd/1`: 1), if it names one: a stream the caller opened, written
/// directly even when it is a regular file (`--out /dev/stdout > trace.csv`), as any tool
/// writing to standard output would.
fn open_descriptor(path: &Path) -> Option<u32> {
    let p = path.to_str()?;
    match p {
        "/dev/stdout" => Some(1),
        "/dev/stderr" => Some(2),
        _ => ["/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/"]
            .iter()
            .find_map(|dir| p.strip_prefix(dir)?.parse().ok()),
    }
}

/// One output file being written: into a temporary file beside the destination, renamed into
/// place by [`StagedFile::commit`]; dropped uncommitted (an error, Ctrl-C), it leaves the
/// destination as it was and no temporary file. A destination that is not a regular file (a
/// device or a pipe: `/dev/full`, a FIFO) cannot be renamed over, and one of the process's open
/// files (`/dev/stdout`) is a stream: they are written directly.
#[derive(Debug)]
pub struct StagedFile {
    /// The destination as given (named in messages).
    dest: PathBuf,
    /// Where the bytes go: the temporary file, or `dest` when written directly.
    at: PathBuf,
    /// Where `at` is renamed to: `dest` with its links resolved (a symbolic link is kept and its
    /// target replaced). `None` when written directly.
    rename_to: Option<PathBuf>,
    /// The descriptor `dest` names among the process's open files (`/dev/stdout`: 1).
    stream: Option<u32>,
    /// Further temporary files (a writer's scratch), removed when dropped.
    scratch: Vec<PathBuf>,
    done: bool,
}

impl StagedFile {
    /// Starts writing `dest`. Refused: `dest` is one of `inputs`; it is a directory; it is a
    /// non-empty regular file and `force` is not given. Nothing is written yet.
    pub fn begin(dest: &Path, force: bool, inputs: &[&Path]) -> Result<Self, OutputError> {
        refuse_inputs(dest, inputs, false)?;
        let stream = open_descriptor(dest);
        let direct = stream.is_some()
            || match fs::metadata(dest) {
                Ok(m) if m.is_dir() => return Err(OutputError::IsADirectory(dest.to_path_buf())),
                Ok(m) if !m.is_file() => true,
                Ok(m) if m.len() > 0 && !force => return Err(OutputError::FileExists(dest.to_path_buf())),
                Ok(_) => false,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                Err(e) => return Err(io(dest)(e)),
            };
        let mut staged = StagedFile {
            dest: dest.to_path_buf(),
            at: dest.to_path_buf(),
            rename_to: None,
            stream,
            scratch: Vec::new(),
            done: false,
        };
        if !direct {
            let parent = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            fs::create_dir_all(parent).map_err(io(parent))?;
            let real = resolved(dest).ok_or_else(|| io(dest)(std::io::ErrorKind::NotFound.into()))?;
            staged.at = staged.beside(&real, "");
            staged.rename_to = Some(real);
        }
        Ok(staged)
    }

    /// `.NAME.tmp-PID` (then `suffix`) beside `real`.
    fn beside(&self, real: &Path, suffix: &str) -> PathBuf {
        let name = real.file_name().map_or("output".into(), |n| n.to_string_lossy().into_owned());
        real.with_file_name(format!(".{name}.tmp-{}{suffix}", std::process::id()))
    }

    /// The destination as given.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Where to write until [`StagedFile::commit`].
    pub fn path(&self) -> &Path {
        &self.at
    }

    /// Whether the destination is written directly (a device, a pipe or one of the process's
    /// streams: nothing to rename over).
    pub fn is_direct(&self) -> bool {
        self.rename_to.is_none()
    }

    /// Opens the file to write: the temporary file (created empty), or the destination itself: a
    /// device or a pipe opened as any tool opens it; standard output or error themselves (their
    /// descriptor copied: a regular file behind them is written on from where it stands, not
    /// truncated); another open descriptor reopened for appending.
    pub fn create(&self) -> std::io::Result<fs::File> {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            match self.stream {
                Some(1) => return Ok(fs::File::from(std::io::stdout().as_fd().try_clone_to_owned()?)),
                Some(2) => return Ok(fs::File::from(std::io::stderr().as_fd().try_clone_to_owned()?)),
                _ => {}
            }
        }
        match self.stream {
            Some(_) => fs::OpenOptions::new().append(true).open(&self.at),
            None => fs::File::create(&self.at),
        }
    }

    /// A further temporary file for a writer's intermediate data (named by `what`), removed
    /// when this is dropped: beside the destination, or in the system's temporary directory
    /// when the destination is written directly.
    pub fn scratch(&mut self, what: &str) -> PathBuf {
        let path = match &self.rename_to {
            Some(real) => self.beside(real, &format!(".{what}")),
            None => std::env::temp_dir().join(format!("clipsim-{}.{what}", std::process::id())),
        };
        self.scratch.push(path.clone());
        path
    }

    /// Flushes the written file to disk and moves it into place. Returns the destination.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        if let Some(real) = &self.rename_to {
            let f = fs::File::open(&self.at).map_err(io(&self.dest))?;
            f.sync_all().map_err(io(&self.dest))?;
            fs::rename(&self.at, real).map_err(io(&self.dest))?;
            // Make the rename itself durable (best effort: not every platform opens a directory).
            if let Some(d) = real.parent().and_then(|p| fs::File::open(p).ok()) {
                let _ = d.sync_all();
            }
        }
        self.done = true;
        Ok(self.dest.clone())
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.done && self.rename_to.is_some() {
            let _ = fs::remove_file(&self.at);
        }
        for p in &self.scratch {
            let _ = fs::remove_file(p);
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
        let s = Staging::begin(&dest, false, &[]).unwrap();
        s.write("a/b.txt", b"x").unwrap();
        assert!(!dest.exists(), "nothing appears before commit");
        s.commit().unwrap();
        assert_eq!(fs::read(dest.join("a/b.txt")).unwrap(), b"x");
        // Replacing our own report works; the old files are gone.
        let s = Staging::begin(&dest, false, &[]).unwrap();
        s.write("c.txt", b"y").unwrap();
        s.commit().unwrap();
        assert!(!dest.join("a/b.txt").exists() && dest.join("c.txt").exists());
        // A directory we did not make is refused without --force.
        let foreign = root.path().join("foreign");
        fs::create_dir(&foreign).unwrap();
        fs::write(foreign.join("keep.txt"), b"mine").unwrap();
        assert!(matches!(Staging::begin(&foreign, false, &[]), Err(OutputError::Refused(_))));
        assert!(Staging::begin(&foreign, true, &[]).is_ok());
    }

    /// A real ENOSPC, for any user: a staged file that is /dev/full (through a link). The error
    /// names the file as it would be in the destination and the OS's reason; nothing is left.
    #[test]
    fn a_full_disk_is_a_clear_error_and_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("run");
        let s = Staging::begin(&dest, false, &[]).unwrap();
        std::os::unix::fs::symlink("/dev/full", s.dir().join("summary.json")).unwrap();
        let err = s.write("summary.json", &[b'x'; 4096]).unwrap_err().to_string();
        assert!(err.contains("No space left on device"), "{err}");
        assert!(err.contains(&dest.join("summary.json").display().to_string()), "{err}");
        drop(s);
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 0, "nothing left behind");
    }

    /// A staged file appears only when committed, replaces a non-empty file only when forced,
    /// never replaces an input (however reached), and leaves nothing when abandoned.
    #[test]
    fn a_staged_file_replaces_only_what_it_may() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("t.csv");
        let f = StagedFile::begin(&dest, false, &[]).unwrap();
        fs::write(f.path(), b"new").unwrap();
        assert!(!dest.exists(), "nothing appears before commit");
        f.commit().unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"new");
        assert!(matches!(StagedFile::begin(&dest, false, &[]), Err(OutputError::FileExists(_))));
        let input = root.path().join("in.toml");
        fs::write(&input, b"input").unwrap();
        fs::hard_link(&input, root.path().join("hard")).unwrap();
        for spelling in [input.clone(), root.path().join("hard"), root.path().join(".").join("in.toml")] {
            let err = StagedFile::begin(&spelling, true, &[&input]).unwrap_err();
            assert!(matches!(err, OutputError::IsAnInput { .. }), "{spelling:?}: {err}");
        }
        {
            let mut f = StagedFile::begin(&dest, true, &[&input]).unwrap();
            fs::write(f.path(), b"abandoned").unwrap();
            fs::write(f.scratch("raw"), b"scratch").unwrap();
        }
        assert_eq!(fs::read(&dest).unwrap(), b"new", "an abandoned file leaves the old one");
        let mut left: Vec<_> = fs::read_dir(root.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        left.sort();
        assert_eq!(left, ["hard", "in.toml", "t.csv"], "no temporary or scratch file left");
    }

    #[test]
    fn an_abandoned_staging_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("run");
        {
            let s = Staging::begin(&dest, false, &[]).unwrap();
            s.write("x", b"1").unwrap();
        }
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 0);
    }
}
