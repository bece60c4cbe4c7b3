//! A room's history: 100 stored 4-hour sessions of one room (the simulator's
//! default room, one session a day), then
//!
//! * `room, digests cold`: [`replay::room`] with the default options on a
//!   store without cached digests: every session loaded, its questions and
//!   digest computed and cached, then every session's attribution timeline
//!   (10 s bins) built session by session and stacked, and the room model
//!   (session fixed effects, cross-validated penalty, bootstrap) fitted;
//! * `room, digests cached`: the same again (digests read from the cache);
//! * `replay of the latest session`: [`replay::from_store`] of the 100th
//!   session against the 99 before it (headline and figures against the
//!   history, its own timeline, moments and attribution).
//!
//! One iteration takes seconds, so this is a plain timing loop, not
//! criterion: each figure is the median of `VAP_BENCH_REPEATS` runs (3 by
//! default; the cold run is once per fresh store). Peak resident memory of
//! the process is printed at the end (`getrusage`).
//!
//! The allocator is mimalloc with the options vap's Python and Node modules
//! set when they load (`purge_delay` 100 ms, `allow_thp` 0:
//! `vap_core::threads::ALLOCATOR_OPTIONS`), so the figures are what those
//! users get; `MIMALLOC_ALLOW_THP=1` gives mimalloc's own default (11.4-12.6 s
//! cold on the machine of the README's figures, 7.4-7.7 s with 0).
//!
//! `cargo bench -p vap-core --bench history` (`VAP_BENCH_SESSIONS` sets the
//! number of sessions, 100 by default).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use vap_core::replay::{self, ReplayOptions};
use vap_core::sim::{simulate, SimConfig};
use vap_core::store::{ImportOptions, Store};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn peak_rss_mb() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid rusage to fill.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    u.ru_maxrss as f64 / 1024.0
}

/// The options vap's Python and Node modules give mimalloc
/// ([`vap_core::threads::ALLOCATOR_OPTIONS`]; an option set in mimalloc's
/// environment stays).
fn tune_allocator() {
    for (option, env, value) in vap_core::threads::ALLOCATOR_OPTIONS {
        if std::env::var_os(env).is_none() {
            // SAFETY: sets one of mimalloc's global options; any value is valid.
            unsafe { libmimalloc_sys::mi_option_set(option, value as _) };
        }
    }
    // The modules set `allow_thp` before their heap takes its first arena;
    // here the runtime allocated before `main`, in an arena already marked
    // for huge pages. mimalloc itself, given `allow_thp` 0 at start, turns
    // them off for the process: the same.
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: a process attribute; no memory is touched.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
}

fn main() {
    tune_allocator();
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    let sessions = env("VAP_BENCH_SESSIONS", 100);
    let repeats = env("VAP_BENCH_REPEATS", 3).max(1);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let t = Instant::now();
    let mut comments = 0usize;
    let mut room_id = String::new();
    let mut last = String::new();
    for day in 0..sessions {
        let cfg = SimConfig {
            seed: day as u64,
            start_ms: SimConfig::default().start_ms + day as i64 * 86_400_000,
            session_id: Some(format!("day-{day:03}")),
            ..SimConfig::default()
        };
        let data = simulate(&cfg).unwrap().data;
        comments += data.comments.len();
        room_id = data.room.id.clone();
        last = data.session.id.clone();
        store.import(&data, &ImportOptions::default()).unwrap();
    }
    println!(
        "history: {sessions} sessions of 4 h ({comments} comments), simulated and stored in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let opts = ReplayOptions::default();

    let t = Instant::now();
    let r = replay::room(&store, &room_id, &opts).unwrap();
    let cold = t.elapsed().as_secs_f64();
    assert_eq!(r.sessions.len(), sessions);
    if let Some(e) = &r.model_error {
        panic!("the room model was not fitted: {e}");
    }
    println!("room, digests cold                      {cold:8.2} s");

    let warm: Vec<f64> = (0..repeats)
        .map(|_| {
            let t = Instant::now();
            replay::room(&store, &room_id, &opts).unwrap();
            t.elapsed().as_secs_f64()
        })
        .collect();
    println!(
        "room, digests cached (median of {repeats})       {:8.2} s",
        median(warm)
    );

    let latest: Vec<f64> = (0..repeats)
        .map(|_| {
            let t = Instant::now();
            replay::from_store(&store, &room_id, &last, &opts).unwrap();
            t.elapsed().as_secs_f64()
        })
        .collect();
    println!(
        "replay of the latest session (median of {repeats}) {:8.2} s",
        median(latest)
    );
    println!(
        "peak resident memory                    {:8.0} MB",
        peak_rss_mb()
    );
}
