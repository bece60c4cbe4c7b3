//! The live session on the full-scale 12-hour room (2 M comments, the
//! simulator's `full_scale` room) replayed as if live: its events
//! ([`vap_core::live::feed`]) grouped by the second they arrive in and
//! appended one second at a time, as a capture would deliver them, with a
//! room model (fitted on a 2-hour session of the same room) applied on every
//! append. For each append it times the whole update: the touched bins
//! rebuilt, the moments rescanned, the model applied, the alerts evaluated
//! (what "from an appended event to an updated moment list" costs); and
//! once per stream hour it reads the resident memory, to show it flat as the
//! session grows (comments and transcript beyond the 30-minute horizon are
//! dropped once binned).
//!
//! A latency distribution is the point here, so this is a plain loop, not
//! criterion: p50, p90, p99 and the maximum over every append. At the end
//! the live timeline is checked against the session's own (the batch
//! computation) and the moments against the detector's on it.
//!
//! `cargo bench -p vap-core --bench live` (`VAP_BENCH_HOURS` shortens the
//! stream, 12 by default).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use vap_core::align::AlignOptions;
use vap_core::attribute::{fit, session_timeline, AttributeOptions};
use vap_core::live::{feed, LiveEvent, LiveOptions, LiveSession};
use vap_core::sim::{simulate, SimConfig};

fn rss_mb() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / 1e6
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let hours: f64 = std::env::var("VAP_BENCH_HOURS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12.0);
    let mut cfg = SimConfig::full_scale(1);
    cfg.hours = hours;
    let room = simulate(&cfg).expect("simulate").data;
    // the room model, from an earlier session of the same room
    let history = simulate(&SimConfig {
        seed: 2,
        hours: 2.0,
        room_id: room.room.id.clone(),
        session_id: Some("earlier".into()),
        ..SimConfig::full_scale(2)
    })
    .expect("simulate history")
    .data;
    let align = AlignOptions {
        step_ms: vap_core::attribute::TIMELINE_STEP_MS,
        ..Default::default()
    };
    let model = fit(
        &session_timeline(&history, &align).expect("timeline"),
        &AttributeOptions::default(),
    )
    .expect("fit")
    .model;
    let events = feed(&room);
    let n_events = events.len();
    // one append per second of arrivals
    let mut seconds: Vec<Vec<LiveEvent>> = Vec::new();
    let mut current: Option<i64> = None;
    for e in events {
        let s = e.arrival_ms().div_euclid(1000);
        if current != Some(s) {
            seconds.push(Vec::new());
            current = Some(s);
        }
        seconds.last_mut().expect("a second").push(e);
    }
    let head = room.header();
    drop(room);
    let rss_start = rss_mb();
    let mut live =
        LiveSession::new(&head, LiveOptions::default(), Some(model)).expect("live session");
    let mut lat = Vec::with_capacity(seconds.len());
    let mut hourly: Vec<(usize, f64, usize)> = Vec::new();
    let mut alerts: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let t0 = Instant::now();
    let start = seconds
        .first()
        .and_then(|s| s.first())
        .map(|e| e.arrival_ms())
        .unwrap_or(0);
    let mut next_hour = 1;
    for batch in seconds {
        let at = batch.first().map(|e| e.arrival_ms()).unwrap_or(start);
        let t = Instant::now();
        let u = live.append(batch).expect("append");
        lat.push(t.elapsed().as_secs_f64() * 1e3);
        for a in &u.alerts {
            *alerts.entry(a.kind.as_str()).or_default() += 1;
        }
        if at - start >= next_hour * 3_600_000 {
            hourly.push((next_hour as usize, rss_mb(), live.data().comments.len()));
            next_hour += 1;
        }
    }
    let total = t0.elapsed().as_secs_f64();
    hourly.push((hours.ceil() as usize, rss_mb(), live.data().comments.len()));
    let mut sorted = lat.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "live session, {hours} h full-scale room: {n_events} events in {} one-second appends, {} bins of {} s, {} moments, alerts {alerts:?}",
        lat.len(),
        live.timeline().len(),
        live.step_ms() / 1000,
        live.moments().len()
    );
    println!(
        "latency per append (rebuild + moments + model + alerts), ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        pct(&sorted, 0.5),
        pct(&sorted, 0.9),
        pct(&sorted, 0.99),
        sorted[sorted.len() - 1]
    );
    println!(
        "whole replay {total:.1} s for {:.1} h of stream ({:.0}x real time)",
        hours,
        hours * 3600.0 / total
    );
    // the live timeline equals the session's own on the same grid (the
    // room simulated again: seeded, the same)
    let mut check = simulate(&cfg).expect("simulate").data;
    check.session.end_ms = live.data().session.end_ms;
    let batch = session_timeline(&check, live.align_options()).expect("batch timeline");
    let mut worst = 0.0f64;
    for c in batch.columns() {
        let (a, b) = (
            live.timeline().values(&c.name).expect("live column"),
            batch.values(&c.name).expect("batch column"),
        );
        for (x, y) in a.iter().zip(b) {
            if !(x.is_nan() && y.is_nan()) {
                worst = worst.max((x - y).abs() / (1.0 + y.abs()));
            }
        }
    }
    let same_moments = vap_core::detect::timeline_moments(&batch, live.detect_options(), None)
        .expect("moments")
        .iter()
        .map(|m| (m.metric.clone(), m.start_ms, m.kind))
        .eq(live
            .moments()
            .iter()
            .map(|m| (m.metric.clone(), m.start_ms, m.kind)));
    println!(
        "equal to the batch computation: {} columns, largest relative difference {worst:.1e}; moments {}",
        batch.columns().len(),
        if same_moments { "the same" } else { "DIFFER" }
    );
    println!("resident memory before the live session {rss_start:.0} MB; by stream hour:");
    for (h, mb, kept) in hourly {
        println!("  hour {h:>2}: {mb:7.0} MB resident, {kept:>7} comments kept");
    }
}
