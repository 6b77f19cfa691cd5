//! Standard output for the command line, every write checked: `println!` panics when a write
//! fails, so a full disk (`> /dev/full`) or a closed pipe (`| head -1`) ended a command with a
//! panic message and status 101. Here a failed write is an error naming standard output (exit
//! status 2), and a pipe closed by its reader ends the command quietly ([`EXIT_BROKEN_PIPE`]).

use std::fmt;
use std::io::{self, Write};

/// Exit status when standard output's reader has gone (128 + SIGPIPE, as a shell reports a
/// command that a closed pipe stopped).
pub const EXIT_BROKEN_PIPE: u8 = 141;

/// Standard output's reader closed the pipe: nothing more can be said, and nothing is wrong.
#[derive(Debug)]
pub struct BrokenPipe;

impl fmt::Display for BrokenPipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("standard output: the reader closed the pipe")
    }
}

impl std::error::Error for BrokenPipe {}

/// The error of a failed write to standard output: [`BrokenPipe`] when the reader has gone,
/// otherwise the OS's reason (`No space left on device`) with where it happened.
fn write_error(e: io::Error) -> anyhow::Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        anyhow::Error::new(BrokenPipe)
    } else {
        anyhow::anyhow!("writing to standard output: {e}")
    }
}

/// Standard output, locked. `writeln!(out, ...)?` and `write!(out, ...)?` return the command's
/// error type, so that a failed write ends the command like any other error.
pub struct Stdout(io::StdoutLock<'static>);

impl Stdout {
    /// Standard output, locked until dropped.
    pub fn lock() -> Stdout {
        Stdout(io::stdout().lock())
    }

    /// What `write!` and `writeln!` call.
    pub fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> anyhow::Result<()> {
        self.0.write_fmt(args).map_err(write_error)
    }

    /// Writes `bytes` (text generated elsewhere, such as a completion script).
    pub fn write_all(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.0.write_all(bytes).map_err(write_error)
    }

    /// Writes out what is buffered (the last line without a newline).
    pub fn flush(&mut self) -> anyhow::Result<()> {
        self.0.flush().map_err(write_error)
    }
}

/// Flushes standard output at the end of a command (an error in what was buffered is still an
/// error, not lost at exit).
pub fn flush() -> anyhow::Result<()> {
    Stdout::lock().flush()
}
