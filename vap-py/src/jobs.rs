//! Progress bars and Ctrl-C for long calls (`vap_core::job`). The core call
//! runs on a thread of its own under a job; the calling (main) thread waits
//! with the GIL released and every [`POLL`] takes it back to check for
//! signals: Ctrl-C stops the job, the call returns cleanly (nothing
//! half-written) and `KeyboardInterrupt` is raised, noting where it stopped.
//! The job's progress callback calls the Python `progress(stage, done,
//! total)` function when one is given; an exception from it stops the call
//! too and is what the call raises.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use pyo3::prelude::*;
use vap_core::job::{Job, Step};
use vap_core::VapError;

use crate::errors;

/// How often the waiting thread checks for Ctrl-C.
const POLL: Duration = Duration::from_millis(50);

/// Runs `work` under a job that reports to `progress` and stops on Ctrl-C or
/// on an exception from `progress`.
pub(crate) fn run_job<T: Send>(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    work: impl FnOnce() -> vap_core::Result<T> + Send,
) -> PyResult<T> {
    let pending: Arc<Mutex<Option<PyErr>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let on_step: Option<Box<vap_core::job::OnStep>> = progress.map(|cb| {
        let (slot, flag) = (Arc::clone(&pending), Arc::clone(&stop));
        Box::new(move |s: &Step<'_>| {
            Python::attach(|py| {
                if let Err(e) = cb.call1(py, (s.stage, s.done, s.total)) {
                    slot.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get_or_insert(e);
                    flag.store(true, Ordering::SeqCst);
                }
            });
        }) as Box<vap_core::job::OnStep>
    });
    let job = Job::with_flag(Arc::clone(&stop), on_step);
    let finished = Arc::new((Mutex::new(false), Condvar::new()));
    let out = std::thread::scope(|scope| {
        let done = Arc::clone(&finished);
        let worker = scope.spawn(move || {
            let r = catch_unwind(AssertUnwindSafe(|| job.run(work)));
            let (m, cv) = &*done;
            *m.lock().unwrap_or_else(|e| e.into_inner()) = true;
            cv.notify_all();
            r
        });
        loop {
            let over = py.detach(|| {
                let (m, cv) = &*finished;
                let g = m.lock().unwrap_or_else(|e| e.into_inner());
                let (g, _) = cv
                    .wait_timeout_while(g, POLL, |over| !*over)
                    .unwrap_or_else(|e| e.into_inner());
                *g
            });
            if over {
                break;
            }
            if let Err(e) = py.check_signals() {
                pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(e);
                stop.store(true, Ordering::SeqCst);
            }
        }
        py.detach(|| worker.join())
    });
    let out = match out {
        Ok(Ok(r)) => r.map_err(|e| errors::to_py(py, e)),
        Ok(Err(payload)) | Err(payload) => {
            let msg = vap_core::error::panic_message(payload.as_ref());
            Err(errors::to_py(
                py,
                VapError::Internal(format!("panic in vap-core: {msg}")),
            ))
        }
    };
    let raised = pending.lock().unwrap_or_else(|e| e.into_inner()).take();
    stopped_by(py, raised, out)
}

/// The result of a call that `raised` (an exception from a callback, or
/// Ctrl-C) may have stopped: that exception, noting where the call stopped
/// (the core's error); raised also when the call finished before it read
/// the stop, so that a Ctrl-C is not lost.
pub(crate) fn stopped_by<T>(
    py: Python<'_>,
    raised: Option<PyErr>,
    out: PyResult<T>,
) -> PyResult<T> {
    match (raised, out) {
        (Some(e), Err(core)) => {
            let note = core
                .value(py)
                .str()
                .map(|s| s.to_string())
                .unwrap_or_default();
            let value = e.value(py);
            if value.hasattr("add_note").unwrap_or(false) {
                let _ = value.call_method1("add_note", (format!("vap: {note}"),));
            }
            Err(e)
        }
        (Some(e), Ok(_)) => Err(e),
        (None, out) => out,
    }
}
