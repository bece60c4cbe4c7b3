//! One categorised error type for the whole crate.
//!
//! Bindings map each [`ErrorKind`] to their own exception class (Python) or
//! error `code` (Node).
//!
//! ```
//! use vap_core::{ErrorKind, Problem, VapError};
//!
//! let e = VapError::Validation(vec![
//!     Problem::new("orders.csv", Some(3), Some("amount"), "not a number: 'abc'"),
//!     Problem::new("orders.csv", Some(9), Some("ts_ms"), "before the session"),
//! ]);
//! assert_eq!(e.kind(), ErrorKind::Validation);
//! assert_eq!(e.kind().code(), "VAP_VALIDATION");
//! assert!(e.to_string().contains("orders.csv, row 3, field 'amount'"));
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem found in the input, located as precisely as possible.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    /// File (or table name for in-memory input) the problem is in.
    pub file: String,
    /// 1-based data row (header excluded), when the problem is in a row.
    pub row: Option<usize>,
    /// Field (column) name, when the problem is in a field.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// A problem at `file`, optional row and field.
    pub fn new(
        file: impl Into<String>,
        row: Option<usize>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            file: file.into(),
            row,
            field: field.map(str::to_string),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(r) = self.row {
            write!(f, ", row {r}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field '{field}'")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Error category, stable across versions; bindings map it to their types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Input data failed validation ([`VapError::Validation`]).
    Validation,
    /// A file could not be parsed at all ([`VapError::Format`]).
    Format,
    /// An operating-system I/O failure ([`VapError::Io`]).
    Io,
    /// Something asked for does not exist ([`VapError::NotFound`]).
    NotFound,
    /// Something to create exists already ([`VapError::AlreadyExists`]).
    AlreadyExists,
    /// The store or file was written by a newer vap ([`VapError::Version`]).
    Version,
    /// A bad argument or id ([`VapError::InvalidArgument`]).
    InvalidArgument,
    /// A bug in vap ([`VapError::Internal`]).
    Internal,
    /// A long call stopped on request ([`VapError::Cancelled`]).
    Cancelled,
}

impl ErrorKind {
    /// Every kind, in declaration order (the order of Node's `ERROR_CODES`
    /// and Python's `vap.ERROR_CODES`).
    pub const ALL: [ErrorKind; 9] = [
        ErrorKind::Validation,
        ErrorKind::Format,
        ErrorKind::Io,
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::Version,
        ErrorKind::InvalidArgument,
        ErrorKind::Internal,
        ErrorKind::Cancelled,
    ];

    /// The codes of [`ErrorKind::ALL`], in that order.
    pub fn codes() -> [&'static str; 9] {
        ErrorKind::ALL.map(ErrorKind::code)
    }

    /// Short stable code, used as Node's `error.code` ("VAP_VALIDATION", ...).
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Validation => "VAP_VALIDATION",
            ErrorKind::Format => "VAP_FORMAT",
            ErrorKind::Io => "VAP_IO",
            ErrorKind::NotFound => "VAP_NOT_FOUND",
            ErrorKind::AlreadyExists => "VAP_ALREADY_EXISTS",
            ErrorKind::Version => "VAP_VERSION",
            ErrorKind::InvalidArgument => "VAP_INVALID_ARGUMENT",
            ErrorKind::Internal => "VAP_INTERNAL",
            ErrorKind::Cancelled => "VAP_CANCELLED",
        }
    }
}

/// Every error vap returns.
#[derive(Debug, thiserror::Error)]
pub enum VapError {
    /// The input has problems; all of them are listed.
    #[error("{} problem(s) in the input:\n{}", .0.len(), render(.0))]
    Validation(Vec<Problem>),
    /// A file could not be parsed.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// An I/O failure on a path.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A room, session or table does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A session exists already and replacing it was not asked for.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// Written by a newer vap than this one.
    #[error("{what} has format version {found}, newer than the {supported} this vap supports; upgrade vap")]
    Version {
        /// What carries the version (a store, a manifest).
        what: String,
        /// Version found.
        found: u32,
        /// Newest version supported.
        supported: u32,
    },
    /// A bad argument (an id that would escape the store, an unknown table...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A bug: a panic caught at a boundary, a broken invariant.
    #[error("internal error: {0}")]
    Internal(String),
    /// A long call was asked to stop ([`crate::job::Job::stop`]: Ctrl-C in
    /// Python, an `AbortSignal` in Node) and did, leaving nothing half-done.
    #[error("cancelled: {0}")]
    Cancelled(String),
}

/// Problems shown in an error's message; all of them stay in `problems()`.
const SHOWN: usize = 100;

fn render(problems: &[Problem]) -> String {
    let mut lines: Vec<String> = problems
        .iter()
        .take(SHOWN)
        .map(|p| format!("  - {p}"))
        .collect();
    if problems.len() > SHOWN {
        lines.push(format!(
            "  ... and {} more (see the error's problems)",
            problems.len() - SHOWN
        ));
    }
    lines.join("\n")
}

impl VapError {
    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            VapError::Validation(_) => ErrorKind::Validation,
            VapError::Format { .. } => ErrorKind::Format,
            VapError::Io { .. } => ErrorKind::Io,
            VapError::NotFound(_) => ErrorKind::NotFound,
            VapError::AlreadyExists(_) => ErrorKind::AlreadyExists,
            VapError::Version { .. } => ErrorKind::Version,
            VapError::InvalidArgument(_) => ErrorKind::InvalidArgument,
            VapError::Internal(_) => ErrorKind::Internal,
            VapError::Cancelled(_) => ErrorKind::Cancelled,
        }
    }

    /// The problems of a validation error (empty for other kinds).
    pub fn problems(&self) -> &[Problem] {
        match self {
            VapError::Validation(p) => p,
            _ => &[],
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        VapError::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// A format error on `path`.
    pub fn format(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        VapError::Format {
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }
}

/// The message of a caught panic's payload (`&str` or `String`), for turning a
/// panic into [`VapError::Internal`] or a problem at a boundary.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_string())
}

/// Result with [`VapError`].
pub type Result<T, E = VapError> = std::result::Result<T, E>;

/// Return early with an error: `bail!(InvalidArgument, "bad {x}")`.
#[macro_export]
macro_rules! bail {
    ($variant:ident, $($arg:tt)+) => {
        return Err($crate::error::VapError::$variant(format!($($arg)+)))
    };
}

/// Return early with an error unless a condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $variant:ident, $($arg:tt)+) => {
        if !$cond {
            $crate::bail!($variant, $($arg)+);
        }
    };
}

thread_local! {
    static IN_DECODER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs a third-party decoder (the parquet crate's page decoding), turning a
/// panic inside it into `Err` with the panic payload. While `f` runs,
/// [`in_contained_decoder`] is true on this thread, so that a panic hook (the
/// fuzz targets' wraps libFuzzer's aborting one) can let such a panic unwind.
pub fn contain_decoder_panic<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let outer = IN_DECODER.with(|d| d.replace(true));
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    IN_DECODER.with(|d| d.set(outer));
    res
}

/// Whether this thread is inside [`contain_decoder_panic`].
pub fn in_contained_decoder() -> bool {
    IN_DECODER.with(|d| d.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_lists_every_problem() {
        let e = VapError::Validation(vec![
            Problem::new("orders.csv", Some(3), Some("amount"), "negative amount -1"),
            Problem::new("orders.csv", Some(7), Some("ts_ms"), "not a timestamp"),
        ]);
        let s = e.to_string();
        assert!(s.contains("2 problem(s)"), "{s}");
        assert!(s.contains("orders.csv, row 3, field 'amount': negative amount -1"));
        assert!(s.contains("row 7"));
        assert_eq!(e.kind().code(), "VAP_VALIDATION");
        assert_eq!(e.problems().len(), 2);
    }

    #[test]
    fn every_kind_is_listed_once_with_a_distinct_code() {
        let codes = ErrorKind::codes();
        assert_eq!(codes[0], "VAP_VALIDATION");
        assert_eq!(codes[7], "VAP_INTERNAL");
        assert_eq!(codes[8], "VAP_CANCELLED");
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), ErrorKind::ALL.len());
        // Every variant's kind is in ALL (a new variant must be added there).
        for e in [
            VapError::Validation(vec![]),
            VapError::format("f", "m"),
            VapError::io("f", std::io::Error::other("x")),
            VapError::NotFound("x".into()),
            VapError::AlreadyExists("x".into()),
            VapError::Version {
                what: "x".into(),
                found: 2,
                supported: 1,
            },
            VapError::InvalidArgument("x".into()),
            VapError::Internal("x".into()),
            VapError::Cancelled("x".into()),
        ] {
            assert!(ErrorKind::ALL.contains(&e.kind()), "{e:?}");
        }
    }

    #[test]
    fn macros() {
        fn f(x: i32) -> Result<i32> {
            ensure!(x > 0, InvalidArgument, "x must be positive, got {x}");
            Ok(x)
        }
        assert!(f(1).is_ok());
        assert_eq!(f(-1).unwrap_err().kind(), ErrorKind::InvalidArgument);
    }
}
