//! One run of a policy at a time on a host: an advisory lock on a file
//! (`flock`), which the system releases when the process ends, however it
//! ends (SIGKILL included), so a killed run never leaves a stale lock.

use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// A held lock; released on drop.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    path: PathBuf,
}

/// Why a lock was not taken.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it (its pid, when it wrote one).
    Held {
        /// The lock file.
        path: PathBuf,
        /// The holder's process id.
        pid: Option<u32>,
    },
    /// The lock file could not be opened or locked.
    Io {
        /// The lock file.
        path: PathBuf,
        /// What failed.
        error: std::io::Error,
    },
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::Held { path, pid: Some(pid) } => {
                write!(f, "another run of this policy holds {} (pid {pid})", path.display())
            }
            LockError::Held { path, pid: None } => write!(f, "another run of this policy holds {}", path.display()),
            LockError::Io { path, error } => write!(f, "cannot lock {}: {error}", path.display()),
        }
    }
}

impl std::error::Error for LockError {}

impl RunLock {
    /// The lock file of `policy` on the cloud endpoint `scope` (the
    /// block-storage endpoint: one policy name on two clouds are two
    /// locks), in `$XDG_RUNTIME_DIR`, else the system's temporary folder.
    pub fn path_for(scope: &str, policy: &str) -> PathBuf {
        let dir = std::env::var_os("XDG_RUNTIME_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
        let scope: String =
            scope.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
        let scope = scope.trim_matches('_');
        let scope = &scope[..scope.len().min(150)];
        dir.join(format!("osbackup-{policy}-{scope}.lock"))
    }

    /// Takes the lock at `path` without waiting, and writes this process's
    /// id into it.
    ///
    /// # Errors
    ///
    /// [`LockError::Held`] when another process holds it;
    /// [`LockError::Io`] when the file cannot be opened or locked.
    pub fn acquire(path: &Path) -> Result<RunLock, LockError> {
        let io = |error| LockError::Io { path: path.to_owned(), error };
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(LockError::Held { path: path.to_owned(), pid: text.trim().parse().ok() });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(RunLock { _file: file, path: path.to_owned() })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
