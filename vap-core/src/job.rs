//! Progress and stopping of long calls: a [`Job`] carries a stop flag and an
//! optional progress callback into the loops of a long call (the sessions of
//! a room, bootstrap replicates, the files of an import) without a parameter
//! on every function: [`Job::run`] makes it the current job of the calling
//! thread, and the loops read [`Job::current`] before they go parallel.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use vap_core::job::Job;
//!
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let log = Arc::clone(&seen);
//! let job = Job::new(Some(Box::new(move |s: &vap_core::job::Step<'_>| {
//!     log.lock().unwrap().push((s.stage.to_string(), s.done, s.total));
//! })));
//! let out = job.run(|| -> vap_core::Result<usize> {
//!     let j = Job::current();
//!     for k in 1..=3 {
//!         j.step("work", k, 3)?; // Err(Cancelled) once stopped
//!     }
//!     Ok(3)
//! });
//! assert_eq!(out.unwrap(), 3);
//! assert_eq!(seen.lock().unwrap().last(), Some(&("work".to_string(), 3, 3)));
//!
//! job.stop();
//! assert!(job.run(|| Job::current().check()).is_err());
//! ```
//!
//! Progress is reported at most every [`REPORT_EVERY`] per job (and always
//! for the first and the last step of a stage), in order (a stage's count never goes
//! back), so a callback that crosses into Python or JavaScript costs little
//! even when the steps are microseconds apart; the callback runs under the
//! job's lock, so it must not wait for another step of the same job. The
//! stop flag is read at every step.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::{Result, VapError};

/// The shortest time between two progress reports of one job.
pub const REPORT_EVERY: Duration = Duration::from_millis(50);

/// One report: `done` of `total` items of `stage` (`"sessions"`,
/// `"bootstrap"`, `"files"`).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Step<'a> {
    /// What is being counted.
    pub stage: &'a str,
    /// Items finished (1-based count).
    pub done: usize,
    /// Items in all.
    pub total: usize,
}

/// A progress callback; it may be called from any of vap's threads.
pub type OnStep = dyn Fn(&Step<'_>) + Send + Sync;

struct Inner {
    stopped: Arc<AtomicBool>,
    on_step: Option<Box<OnStep>>,
    /// When the last report was made, and the last count reported per stage.
    last: Mutex<Reported>,
}

#[derive(Default)]
struct Reported {
    at: Option<Instant>,
    done: Vec<(String, usize)>,
}

/// A long call's stop flag and progress callback (cheap to clone: clones
/// share them). The default job never stops and reports nothing.
#[derive(Clone, Default)]
pub struct Job {
    inner: Option<Arc<Inner>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("stopped", &self.is_stopped())
            .finish()
    }
}

thread_local! {
    static CURRENT: RefCell<Job> = RefCell::new(Job::default());
}

impl Job {
    /// A job with its own stop flag and an optional progress callback.
    pub fn new(on_step: Option<Box<OnStep>>) -> Job {
        Job::with_flag(Arc::new(AtomicBool::new(false)), on_step)
    }

    /// A job whose stop flag is `stopped` (set by someone else: a signal
    /// handler, an `AbortSignal` listener).
    pub fn with_flag(stopped: Arc<AtomicBool>, on_step: Option<Box<OnStep>>) -> Job {
        Job {
            inner: Some(Arc::new(Inner {
                stopped,
                on_step,
                last: Mutex::new(Reported::default()),
            })),
        }
    }

    /// Asks the job to stop: its next step returns [`VapError::Cancelled`].
    pub fn stop(&self) {
        if let Some(i) = &self.inner {
            i.stopped.store(true, Ordering::SeqCst);
        }
    }

    /// Whether the job was asked to stop.
    pub fn is_stopped(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|i| i.stopped.load(Ordering::SeqCst))
    }

    /// `Err(Cancelled)` once the job was asked to stop.
    pub fn check(&self) -> Result<()> {
        if self.is_stopped() {
            return Err(VapError::Cancelled("stopped before it finished".into()));
        }
        Ok(())
    }

    /// Reports `done` of `total` items of `stage` (throttled, see the
    /// module) and returns `Err(Cancelled)` once the job was asked to stop.
    pub fn step(&self, stage: &str, done: usize, total: usize) -> Result<()> {
        let Some(i) = &self.inner else {
            return Ok(());
        };
        if let Some(cb) = &i.on_step {
            // Reports are made under the lock, in order: a count below one
            // already reported for the stage (a step that finished earlier but
            // reached here later) is not reported.
            let now = Instant::now();
            let mut last = i.last.lock().unwrap_or_else(|e| e.into_inner());
            let seen = last
                .done
                .iter()
                .find(|(s, _)| s == stage)
                .map_or(0, |(_, d)| *d);
            // A stage's first step is reported at once (a stage that starts
            // within the interval of the one before is still announced).
            let due = done > seen
                && (done >= total || seen == 0 || last.at.is_none_or(|t| now - t >= REPORT_EVERY));
            if due {
                last.at = Some(now);
                match last.done.iter_mut().find(|(s, _)| s == stage) {
                    Some(e) => e.1 = done,
                    None => last.done.push((stage.to_string(), done)),
                }
                cb(&Step { stage, done, total });
            }
        }
        if i.stopped.load(Ordering::SeqCst) {
            return Err(VapError::Cancelled(format!(
                "stopped after {done} of {total} {stage}"
            )));
        }
        Ok(())
    }

    /// Runs `f` with this job as the calling thread's current job (the one
    /// before is restored afterwards, also when `f` panics).
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        struct Restore(Option<Job>);
        impl Drop for Restore {
            fn drop(&mut self) {
                if let Some(j) = self.0.take() {
                    CURRENT.with(|c| *c.borrow_mut() = j);
                }
            }
        }
        let before = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), self.clone()));
        let _restore = Restore(Some(before));
        f()
    }

    /// The calling thread's current job (the default job outside
    /// [`Job::run`]). Read it before going parallel: vap's worker threads
    /// have none of their own.
    pub fn current() -> Job {
        CURRENT.with(|c| c.borrow().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn steps_report_throttled_and_always_the_last() {
        let calls = Arc::new(AtomicUsize::new(0));
        let last = Arc::new(Mutex::new((0, 0)));
        let (c, l) = (Arc::clone(&calls), Arc::clone(&last));
        let job = Job::new(Some(Box::new(move |s: &Step<'_>| {
            c.fetch_add(1, Ordering::SeqCst);
            *l.lock().unwrap() = (s.done, s.total);
        })));
        for k in 1..=10_000 {
            job.step("x", k, 10_000).unwrap();
        }
        let n = calls.load(Ordering::SeqCst);
        assert!((2..100).contains(&n), "{n} reports for 10,000 fast steps");
        assert_eq!(*last.lock().unwrap(), (10_000, 10_000));
    }

    #[test]
    fn a_stage_count_never_goes_back_and_stages_count_apart() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = Arc::clone(&log);
        let job = Job::new(Some(Box::new(move |s: &Step<'_>| {
            l.lock().unwrap().push((s.stage.to_string(), s.done));
        })));
        job.step("a", 5, 5).unwrap();
        job.step("a", 3, 5).unwrap(); // finished earlier, arrived later
        job.step("b", 2, 2).unwrap();
        assert_eq!(
            *log.lock().unwrap(),
            vec![("a".to_string(), 5), ("b".to_string(), 2)]
        );
    }

    #[test]
    fn a_stopped_job_fails_its_next_step_and_check() {
        let job = Job::new(None);
        job.step("x", 1, 2).unwrap();
        job.stop();
        let e = job.step("x", 2, 2).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Cancelled);
        assert!(e.to_string().contains("2 of 2 x"), "{e}");
        assert!(job.check().is_err());
        assert!(Job::default().check().is_ok());
    }

    #[test]
    fn run_sets_and_restores_the_current_job() {
        let outer = Job::new(None);
        let inner = Job::new(None);
        inner.stop();
        outer.run(|| {
            assert!(!Job::current().is_stopped());
            inner.run(|| assert!(Job::current().is_stopped()));
            assert!(!Job::current().is_stopped());
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                inner.run(|| panic!("boom"))
            }));
            assert!(r.is_err());
            assert!(!Job::current().is_stopped(), "restored after a panic");
        });
        assert!(Job::current().inner.is_none());
    }
}
