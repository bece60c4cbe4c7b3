//! Thread count for vap's parallel work.
//!
//! vap runs its parallel loops on its own rayon pool, sized by
//! [`set_num_threads`] (default: rayon's default, the number of CPUs, or the
//! `RAYON_NUM_THREADS` environment variable). Results never depend on the
//! thread count: parallel work is split into fixed chunks with their own seeds.
//!
//! ```
//! use vap_core::threads::{install, num_threads, set_num_threads};
//!
//! set_num_threads(2).unwrap();
//! assert_eq!(num_threads(), 2);
//! let sum: u64 = install(|| {
//!     use rayon::prelude::*;
//!     (0..1000u64).into_par_iter().sum()
//! });
//! assert_eq!(sum, 499_500);
//! set_num_threads(0).unwrap(); // back to the default
//! ```

use std::sync::{Arc, Mutex};

static POOL: Mutex<Option<(usize, Arc<rayon::ThreadPool>)>> = Mutex::new(None);

/// Most threads [`set_num_threads`] accepts.
pub const MAX_THREADS: usize = 1024;

/// Sets the number of threads vap uses (0 = rayon's default); at most
/// [`MAX_THREADS`].
pub fn set_num_threads(n: usize) -> crate::Result<()> {
    if n > MAX_THREADS {
        return Err(crate::VapError::InvalidArgument(format!(
            "thread count {n} is above the maximum of {MAX_THREADS}"
        )));
    }
    let mut g = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if g.as_ref().map(|(k, _)| *k) != Some(n) {
        *g = None;
        let _ = build(&mut g, n);
    }
    Ok(())
}

/// The number of threads vap's pool runs.
pub fn num_threads() -> usize {
    pool().current_num_threads()
}

fn build(g: &mut Option<(usize, Arc<rayon::ThreadPool>)>, n: usize) -> Arc<rayon::ThreadPool> {
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("vap-{i}"))
            .build()
            .expect("a rayon pool can be built"),
    );
    *g = Some((n, pool.clone()));
    pool
}

/// The pool vap's parallel work runs on.
pub fn pool() -> Arc<rayon::ThreadPool> {
    let mut g = POOL.lock().unwrap_or_else(|e| e.into_inner());
    match g.as_ref() {
        Some((_, p)) => p.clone(),
        None => build(&mut g, 0),
    }
}

/// Runs `f` on vap's pool, with the calling thread's current
/// [`crate::job::Job`] (progress and stopping) as the current job there.
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    let job = crate::job::Job::current();
    pool().install(move || job.run(f))
}

/// Faults in the room for the next `count` elements of `v` (reserved for
/// records about to be written; up to its capacity) on every thread, one
/// system call a thread (`MADV_POPULATE_WRITE`, Linux 5.14 and later)
/// instead of one page fault a page: memory the allocator had given back to
/// the system (after 100 ms: [`ALLOCATOR_OPTIONS`]) costs about 40 % less to
/// take again this way. Only room about to be written is asked for, never
/// what a file's header merely claims. The contents do not change (the room
/// is uninitialised anyway); below 1 MiB, elsewhere than on Linux, or where
/// the kernel refuses, nothing is done.
pub(crate) fn prefault_spare<T>(v: &mut Vec<T>, count: usize) {
    #[cfg(target_os = "linux")]
    {
        use rayon::prelude::*;
        let spare = v.spare_capacity_mut();
        let count = count.min(spare.len());
        let spare = &mut spare[..count];
        let bytes = std::mem::size_of_val(spare);
        if bytes < 1 << 20 {
            return;
        }
        // SAFETY: sysconf only reads a system setting.
        let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            p if p > 0 => p as usize,
            _ => return,
        };
        let start = spare.as_mut_ptr() as usize;
        let (a, b) = (start.next_multiple_of(page), (start + bytes) / page * page);
        if b <= a {
            return;
        }
        let n = num_threads().max(1);
        let chunk = ((b - a) / page).div_ceil(n) * page;
        install(|| {
            (0..n).into_par_iter().for_each(|k| {
                let from = a + k * chunk;
                let to = (from + chunk).min(b);
                if from < to {
                    // SAFETY: the pages lie inside `v`'s allocation, which
                    // this call borrows mutably; populating them changes no
                    // byte of it. An error (an older kernel) leaves them to
                    // be faulted in when written.
                    unsafe {
                        libc::madvise(
                            from as *mut libc::c_void,
                            to - from,
                            libc::MADV_POPULATE_WRITE,
                        )
                    };
                }
            })
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (v, count);
}

/// The options vap's Python and Node modules give their allocator, mimalloc 3,
/// when they load: `(mi_option_t value, environment variable, value)`. An
/// option set in the environment stays (mimalloc reads it itself). A Rust
/// program that links vap-core with mimalloc may set the same
/// (`mi_option_set`, or the variables):
///
/// * `purge_delay` (15) 100 ms: memory a thread frees goes back to the
///   system after 100 ms instead of 1 s (the 12-hour pipeline peaked at
///   731 MB with 1 s, 564 MB with 100 ms);
/// * `allow_thp` (43) 0: no transparent huge pages. Where the system grants
///   them on request, every first touch of a 2 MiB page zeroes all of it, and
///   memory freed, purged and used again pays it again: a room's history of
///   100 stored sessions took 12.5 s cold with them, 7.6 s without; the full
///   timeline's scan of 2 M comments is 8-20 % faster with them (README,
///   Building notes).
///
/// ```
/// let (option, env, value) = vap_core::threads::ALLOCATOR_OPTIONS[1];
/// assert_eq!((option, env, value), (43, "MIMALLOC_ALLOW_THP", 0));
/// ```
pub const ALLOCATOR_OPTIONS: [(i32, &str, i64); 2] = [
    (15, "MIMALLOC_PURGE_DELAY", 100),
    (43, "MIMALLOC_ALLOW_THP", 0),
];

/// Held by the unit tests that set the number of threads, so that they do
/// not change it under each other.
#[cfg(test)]
pub(crate) static TEST_THREADS: Mutex<()> = Mutex::new(());

#[cfg(test)]
mod tests {
    #[test]
    fn set_and_read() {
        let _threads = super::TEST_THREADS
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        super::set_num_threads(2).unwrap();
        assert_eq!(super::num_threads(), 2);
        super::set_num_threads(1).unwrap();
        assert_eq!(super::num_threads(), 1);
        assert!(super::set_num_threads(super::MAX_THREADS + 1).is_err());
        super::set_num_threads(0).unwrap();
    }
}
