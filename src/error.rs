//! The crate's error type: one line of text that names the file, line and field where there is one,
//! and a kind that decides the process exit code.

use std::fmt;

/// What went wrong, as far as the exit code is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The user's input or options are wrong (exit code 1).
    Input,
    /// Reading or writing a file failed for a reason outside the input's content (exit code 1).
    Io,
    /// A computation failed inside the library (exit code 3).
    Internal,
}

/// An error with a one-line, user-facing message.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// Result with the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A problem with the user's input or options.
    pub fn input(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Input,
            message: message.into(),
        }
    }

    /// A failed read or write of `path`.
    pub fn io(path: &std::path::Path, action: &str, err: &std::io::Error) -> Self {
        Error {
            kind: ErrorKind::Io,
            message: format!("{}: cannot {action}: {err}", path.display()),
        }
    }

    /// A failure inside the library that no input should cause.
    pub fn internal(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Internal,
            message: message.into(),
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The one-line message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with `prefix: ` put in front of its message (for example a file name).
    pub fn context(self, prefix: impl fmt::Display) -> Self {
        Error {
            kind: self.kind,
            message: format!("{prefix}: {}", self.message),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<linfa::Error> for Error {
    fn from(err: linfa::Error) -> Self {
        Error::internal(format!("linfa: {err}"))
    }
}
