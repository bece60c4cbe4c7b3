//! whisper.cpp and GGML write their own log lines to stderr unless told
//! otherwise. vap installs its hooks before loading a model and routes the
//! lines as [`set_whisper_log`] says: silenced by default.

use std::ffi::{c_char, c_void, CStr};
use std::sync::{Arc, Once, RwLock};

use whisper_rs::whisper_rs_sys as sys;

/// Severity of a whisper.cpp / GGML log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WhisperLogLevel {
    /// Debugging detail.
    Debug,
    /// Information (model loading, timings).
    Info,
    /// Something odd that did not stop the work.
    Warn,
    /// A failure (also reported as an error by vap).
    Error,
}

type Callback = Arc<dyn Fn(WhisperLogLevel, &str) + Send + Sync>;

/// Where whisper.cpp's log lines go.
#[derive(Clone, Default)]
pub enum WhisperLog {
    /// Dropped (the default).
    #[default]
    Silent,
    /// Written to stderr, prefixed `whisper: `, from `min` up.
    Stderr {
        /// Lowest level written.
        min: WhisperLogLevel,
    },
    /// Handed to a function (from the thread that runs the model).
    Callback(Callback),
}

impl std::fmt::Debug for WhisperLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WhisperLog::Silent => write!(f, "Silent"),
            WhisperLog::Stderr { min } => write!(f, "Stderr({min:?})"),
            WhisperLog::Callback(_) => write!(f, "Callback"),
        }
    }
}

static SINK: RwLock<WhisperLog> = RwLock::new(WhisperLog::Silent);
static HOOKS: Once = Once::new();

/// Sets where whisper.cpp's and GGML's log lines go, for the whole process.
pub fn set_whisper_log(log: WhisperLog) {
    install_hooks();
    *SINK.write().unwrap_or_else(|e| e.into_inner()) = log;
}

/// Installs the trampolines (once). Called before any model is loaded.
pub(crate) fn install_hooks() {
    HOOKS.call_once(|| {
        // SAFETY: the callbacks are `extern "C"` functions with the signature
        // whisper.cpp expects; they live for the whole program.
        unsafe {
            sys::whisper_log_set(Some(trampoline), std::ptr::null_mut());
            sys::ggml_log_set(Some(trampoline), std::ptr::null_mut());
        }
    });
}

unsafe extern "C" fn trampoline(level: sys::ggml_log_level, text: *const c_char, _: *mut c_void) {
    if text.is_null() {
        return;
    }
    // Never unwind into C.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let level = match level {
            sys::ggml_log_level_GGML_LOG_LEVEL_ERROR => WhisperLogLevel::Error,
            sys::ggml_log_level_GGML_LOG_LEVEL_WARN => WhisperLogLevel::Warn,
            sys::ggml_log_level_GGML_LOG_LEVEL_INFO => WhisperLogLevel::Info,
            _ => WhisperLogLevel::Debug,
        };
        // SAFETY: whisper.cpp passes a NUL-terminated string valid for this call.
        let text = unsafe { CStr::from_ptr(text) }.to_string_lossy();
        let text = text.trim_end();
        if text.is_empty() {
            return;
        }
        let sink = SINK.read().unwrap_or_else(|e| e.into_inner()).clone();
        match sink {
            WhisperLog::Silent => {}
            WhisperLog::Stderr { min } => {
                if level >= min {
                    eprintln!("whisper: {text}");
                }
            }
            WhisperLog::Callback(f) => f(level, text),
        }
    }));
}
