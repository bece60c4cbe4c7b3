//! Data quality, stated before any figure: holes in each stream, the
//! transcript clock, orders outside the session, the platform's GMV against
//! the orders.

use serde::{Deserialize, Serialize};

use super::headline::ONLINE_METRICS;
use crate::align::{estimate_transcript_offset, OffsetOptions, OffsetStatus};
use crate::schema::{Ms, SessionData};

/// What kind of quality note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// A span an importer found without data (a capture tool's reconnect,
    /// kept in the session's `gaps`): missing data, not a quiet room.
    Gap,
    /// An event stream went silent for longer than its own rate allows.
    Silent,
    /// A metric series has no samples for longer than its sampling allows.
    Hole,
    /// A stream starts late or stops early.
    Truncated,
    /// A stream the replay reads is absent.
    Absent,
    /// The transcript's clock against the platform's.
    Clock,
    /// Orders stamped outside the session.
    Outside,
    /// The platform's GMV and the orders disagree.
    Mismatch,
}

/// One note on the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityNote {
    /// Which stream: `comments`, `orders`, `transcript`, `metric:<name>`, `clock`.
    pub stream: String,
    /// What is wrong.
    pub kind: NoteKind,
    /// Start of the affected span (session clock), when it is a span.
    pub start_ms: Option<Ms>,
    /// End of the affected span.
    pub end_ms: Option<Ms>,
    /// Events the stream's own rate would have put in the span.
    pub expected: Option<f64>,
    /// The note in words.
    pub message: String,
}

/// The data-quality section of a replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// Every note, streams first, in time order within a stream.
    pub notes: Vec<QualityNote>,
    /// The transcript clock offset as estimated (ms; `utterance time =
    /// platform time + offset`), when determined. Never applied by the replay.
    pub transcript_offset_ms: Option<f64>,
    /// Whether the estimate is determined (`None` without a transcript).
    pub transcript_offset_status: Option<OffsetStatus>,
    /// Orders (payments and refunds) stamped outside the session.
    pub orders_outside: usize,
}

impl Quality {
    /// Whether `[a, b)` overlaps a silent stretch or hole of a stream the
    /// metric depends on; the note's message if so.
    pub fn gap_in(&self, a: Ms, b: Ms) -> Option<&QualityNote> {
        self.notes.iter().find(|n| {
            matches!(
                n.kind,
                NoteKind::Gap | NoteKind::Silent | NoteKind::Hole | NoteKind::Truncated
            ) && n
                .start_ms
                .zip(n.end_ms)
                .is_some_and(|(s, e)| s < b && a < e)
        })
    }
}

/// Options of the quality scan (part of the replay options).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityOptions {
    /// Shortest silence worth a note (default 60 s).
    #[serde(alias = "min_gap", with = "crate::options::duration")]
    pub min_gap_ms: Ms,
    /// A silence is noted when the stream's own rate (scaled by the online
    /// viewers when known) would have put at least this many events in it
    /// (default 13.8: a silence a Poisson stream at that rate shows with
    /// probability below one in a million, so a lull in a quiet room is not
    /// called a hole).
    pub expected_events: f64,
    /// A metric series has a hole where two samples are further apart than
    /// this many times its median sampling interval (default 3, the
    /// timeline's staleness rule).
    pub hole_factor: f64,
}

impl Default for QualityOptions {
    fn default() -> Self {
        QualityOptions {
            min_gap_ms: 60_000,
            expected_events: 13.8,
            hole_factor: 3.0,
        }
    }
}

impl QualityOptions {
    pub(super) fn problems(&self, out: &mut Vec<String>) {
        if self.min_gap_ms <= 0 {
            out.push("quality.min_gap must be positive".into());
        }
        if !(self.expected_events.is_finite() && self.expected_events > 0.0) {
            out.push("quality.expected_events must be a positive number".into());
        }
        if !(self.hole_factor.is_finite() && self.hole_factor > 1.0) {
            out.push("quality.hole_factor must be a number above 1".into());
        }
    }
}

fn minutes(ms: Ms) -> String {
    format!("{:.1} min", ms as f64 / 60_000.0)
}

/// The online-viewers gauge as prefix integrals of the last observation
/// carried forward (each valid for the timeline's default staleness): the
/// time-weighted mean over any span in O(log n).
struct Gauge {
    t: Vec<Ms>,
    end: Vec<Ms>,
    v: Vec<f64>,
    integral: Vec<f64>,
    covered: Vec<f64>,
}

impl Gauge {
    fn of(data: &SessionData) -> Option<Gauge> {
        let name = super::headline::metric_named(data, ONLINE_METRICS)?;
        let samples: Vec<(Ms, f64)> = data
            .series(name)
            .filter(|s| s.value.is_finite())
            .map(|s| (s.ts_ms, s.value))
            .collect();
        if samples.is_empty() {
            return None;
        }
        let t: Vec<Ms> = samples.iter().map(|s| s.0).collect();
        let stale = crate::align::default_staleness(&t);
        let end: Vec<Ms> = (0..t.len())
            .map(|k| {
                let next = t.get(k + 1).copied().unwrap_or(Ms::MAX);
                next.min(t[k].saturating_add(stale))
            })
            .collect();
        let v: Vec<f64> = samples.iter().map(|s| s.1).collect();
        let (mut integral, mut covered) = (vec![0.0], vec![0.0]);
        for k in 0..t.len() {
            let len = (end[k] - t[k]).max(0) as f64;
            integral.push(integral[k] + v[k] * len);
            covered.push(covered[k] + len);
        }
        Some(Gauge {
            t,
            end,
            v,
            integral,
            covered,
        })
    }

    /// (∫ value, covered length) up to `x`.
    fn upto(&self, x: Ms) -> (f64, f64) {
        let k = self.t.partition_point(|&t| t <= x);
        if k == 0 {
            return (0.0, 0.0);
        }
        let j = k - 1;
        let part = (x.min(self.end[j]) - self.t[j]).max(0) as f64;
        (self.integral[j] + self.v[j] * part, self.covered[j] + part)
    }

    /// The time-weighted mean over `[a, b)`, `None` where nothing covers it.
    fn mean(&self, a: Ms, b: Ms) -> Option<f64> {
        let (ia, ca) = self.upto(a);
        let (ib, cb) = self.upto(b);
        (cb - ca > 0.0).then(|| (ib - ia) / (cb - ca))
    }
}

/// Silences of an event stream (sorted times) inside the session.
fn silences(
    data: &SessionData,
    gauge: Option<&Gauge>,
    stream: &str,
    times: &[Ms],
    opts: &QualityOptions,
    out: &mut Vec<QualityNote>,
) {
    let (start, end) = (data.session.start_ms, data.session.end_ms);
    let inside: Vec<Ms> = times
        .iter()
        .copied()
        .filter(|t| *t >= start && *t < end)
        .collect();
    if inside.is_empty() {
        out.push(QualityNote {
            stream: stream.into(),
            kind: NoteKind::Absent,
            start_ms: Some(start),
            end_ms: Some(end),
            expected: None,
            message: format!("no {stream} in the session"),
        });
        return;
    }
    let whole = gauge.and_then(|g| g.mean(start, end));
    let total = inside.len() as f64;
    let span = (end - start) as f64;
    // Events expected in [a, b): the session's rate, scaled by the online
    // viewers there against the session's mean where they are known.
    let expected = |a: Ms, b: Ms| {
        let base = total * (b - a) as f64 / span;
        match (whole, gauge.and_then(|g| g.mean(a, b))) {
            (Some(w), Some(g)) if w > 0.0 => base * g / w,
            _ => base,
        }
    };
    let mut edges = Vec::with_capacity(inside.len() + 2);
    edges.push(start);
    edges.extend(&inside);
    edges.push(end);
    let last = edges.len() - 2;
    for (k, w) in edges.windows(2).enumerate() {
        let (a, b) = (w[0], w[1]);
        if b - a < opts.min_gap_ms {
            continue;
        }
        let e = expected(a, b);
        if e < opts.expected_events {
            continue;
        }
        let (kind, message) = if k == 0 {
            (
                NoteKind::Truncated,
                format!("{stream} start {} after the session starts", minutes(b - a)),
            )
        } else if k == last {
            (
                NoteKind::Truncated,
                format!("{stream} stop {} before the session ends", minutes(b - a)),
            )
        } else {
            (
                NoteKind::Silent,
                format!(
                    "no {stream} for {} where about {e:.0} were expected at the viewers online: a hole in the data or a stalled stream; check it before reading a drop into it",
                    minutes(b - a)
                ),
            )
        };
        out.push(QualityNote {
            stream: stream.into(),
            kind,
            start_ms: Some(a),
            end_ms: Some(b),
            expected: Some(e),
            message,
        });
    }
}

/// Holes of each metric series.
fn holes(data: &SessionData, opts: &QualityOptions, out: &mut Vec<QualityNote>) {
    let (start, end) = (data.session.start_ms, data.session.end_ms);
    for m in &data.metrics {
        let times: Vec<Ms> = data
            .series(&m.name)
            .map(|s| s.ts_ms)
            .filter(|t| *t >= start && *t < end)
            .collect();
        let stream = format!("metric:{}", m.name);
        if times.len() < 2 {
            out.push(QualityNote {
                stream: stream.clone(),
                kind: NoteKind::Absent,
                start_ms: Some(start),
                end_ms: Some(end),
                expected: None,
                message: format!("{} has {} sample(s) in the session", m.name, times.len()),
            });
            continue;
        }
        let mut gaps: Vec<Ms> = times.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_unstable();
        let median = gaps[gaps.len() / 2].max(1);
        let limit = ((median as f64 * opts.hole_factor) as Ms).max(opts.min_gap_ms);
        let mut edges = Vec::with_capacity(times.len() + 2);
        edges.push(start);
        edges.extend(&times);
        edges.push(end);
        for w in edges.windows(2) {
            if w[1] - w[0] > limit {
                out.push(QualityNote {
                    stream: stream.clone(),
                    kind: NoteKind::Hole,
                    start_ms: Some(w[0]),
                    end_ms: Some(w[1]),
                    expected: Some((w[1] - w[0]) as f64 / median as f64),
                    message: format!(
                        "{} has no samples for {} (sampled every {:.0} s)",
                        m.name,
                        minutes(w[1] - w[0]),
                        median as f64 / 1000.0
                    ),
                });
            }
        }
    }
}

/// The quality scan of a session.
pub fn quality(data: &SessionData, opts: &QualityOptions) -> Quality {
    // Gaps the importers found come first: they say why the streams below are silent.
    let mut notes: Vec<QualityNote> = data
        .session
        .gaps
        .iter()
        .map(|g| QualityNote {
            stream: g.source.clone(),
            kind: NoteKind::Gap,
            start_ms: Some(g.start_ms),
            end_ms: Some(g.end_ms),
            expected: None,
            message: g.reason.clone(),
        })
        .collect();
    let gauge = Gauge::of(data);
    let g = gauge.as_ref();
    let comment_times: Vec<Ms> = data.comments.iter().map(|c| c.ts_ms).collect();
    silences(data, g, "comments", &comment_times, opts, &mut notes);
    let order_times: Vec<Ms> = data.orders.iter().map(|o| o.ts_ms).collect();
    silences(data, g, "orders", &order_times, opts, &mut notes);
    let speech: Vec<Ms> = data.utterances.iter().map(|u| u.start_ms).collect();
    silences(data, g, "transcript", &speech, opts, &mut notes);
    holes(data, opts, &mut notes);
    let (start, end) = (data.session.start_ms, data.session.end_ms);
    let outside: Vec<_> = data
        .orders
        .iter()
        .filter(|o| o.ts_ms < start || o.ts_ms >= end)
        .collect();
    if !outside.is_empty() {
        notes.push(QualityNote {
            stream: "orders".into(),
            kind: NoteKind::Outside,
            start_ms: None,
            end_ms: None,
            expected: None,
            message: format!(
                "{} order row(s) worth {:.2} yuan are stamped outside the session (kept out of the per-minute figures)",
                outside.len(),
                outside.iter().map(|o| o.amount).sum::<f64>()
            ),
        });
    }
    if let Some(c) = data.cross_check_gmv() {
        if c.relative.abs() > 0.02 {
            notes.push(QualityNote {
                stream: "metric:gmv".into(),
                kind: NoteKind::Mismatch,
                start_ms: None,
                end_ms: None,
                expected: Some(c.platform),
                message: format!(
                    "the platform's GMV ({:.0}) and the orders ({:.0}) differ by {:.1} %",
                    c.platform,
                    c.orders_gross,
                    c.relative * 100.0
                ),
            });
        }
    }
    let (mut offset, mut status) = (None, None);
    if !data.utterances.is_empty() {
        match estimate_transcript_offset(data, &OffsetOptions::default()) {
            Ok(e) => {
                status = Some(e.status);
                offset = e.offset_ms;
                let message = match (e.status, e.offset_ms) {
                    (OffsetStatus::Determined, Some(o)) if o.abs() >= 5_000.0 => format!(
                        "the transcript runs {:+.1} s against the platform clock (confidence {:.3}); not applied: apply it before reading speech against sales",
                        o / 1000.0,
                        e.confidence
                    ),
                    (OffsetStatus::Determined, Some(o)) => format!(
                        "the transcript is on the platform clock within one bin ({:+.1} s)",
                        o / 1000.0
                    ),
                    _ => "the transcript's clock offset could not be determined: speech is read as recorded".to_string(),
                };
                notes.push(QualityNote {
                    stream: "clock".into(),
                    kind: NoteKind::Clock,
                    start_ms: None,
                    end_ms: None,
                    expected: None,
                    message,
                });
            }
            Err(e) => notes.push(QualityNote {
                stream: "clock".into(),
                kind: NoteKind::Clock,
                start_ms: None,
                end_ms: None,
                expected: None,
                message: format!("the transcript's clock offset was not estimated: {e}"),
            }),
        }
    }
    Quality {
        notes,
        transcript_offset_ms: offset,
        transcript_offset_status: status,
        orders_outside: outside.len(),
    }
}
