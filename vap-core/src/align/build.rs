//! Building a [`Timeline`] from a session, and the room view.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::grid::Grid;
use super::lexicon::{Lexicon, Matcher};
use super::timeline::{ColumnKind, ColumnMeta, Timeline};
use crate::error::{Result, VapError};
use crate::options::Options;
use crate::schema::{MetricKind, MetricSample, Ms, OrderStatus, SegmentKind, SessionData};
use crate::store::Store;

/// How flow-metric samples are put into bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowMode {
    /// A sample is what accrued since the previous sample of its series
    /// (`(previous, ts]`, the schema's meaning): its amount is spread
    /// uniformly over that span. The first sample of a series accrued over the
    /// series' median spacing. With a grid step that is a multiple of the
    /// sampling period and aligned with it, every sample lands whole in the bin
    /// it describes.
    #[default]
    Spread,
    /// A sample is a point event at its timestamp, summed into the bin holding
    /// it (pandas `resample(closed="left")`).
    Point,
}

/// Options of [`Timeline::build`]. Every field has a default, so
/// `AlignOptions { step_ms: 60_000, ..Default::default() }` is a minute grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlignOptions {
    /// Bin width in ms (default 1000).
    #[serde(alias = "step", with = "crate::options::duration")]
    pub step_ms: Ms,
    /// Start of the grid (default: the session's start).
    #[serde(alias = "start", with = "crate::options::opt_instant")]
    pub start_ms: Option<Ms>,
    /// End of the grid, exclusive (default: the session's end).
    #[serde(alias = "end", with = "crate::options::opt_instant")]
    pub end_ms: Option<Ms>,
    /// How flow metrics are binned.
    pub flow: FlowMode,
    /// How long a gauge observation stays valid, in ms. Past it the signal is
    /// unknown and bins it does not reach are missing. Default: the larger of
    /// 60 s and three times the series' median sampling interval.
    #[serde(alias = "gauge_max_staleness", with = "crate::options::opt_duration")]
    pub gauge_max_staleness_ms: Option<Ms>,
    /// Per-product columns (`gmv:<id>`, `orders:<id>`, `explain:<id>`).
    pub per_product: bool,
    /// Phrase groups for the speech and comment columns; `None` uses
    /// [`Lexicon::builtin`].
    pub lexicon: Option<Lexicon>,
    /// Add a `product:<id>` group with each product's name and aliases.
    pub product_phrases: bool,
}

impl Default for AlignOptions {
    fn default() -> Self {
        AlignOptions {
            step_ms: 1000,
            start_ms: None,
            end_ms: None,
            flow: FlowMode::Spread,
            gauge_max_staleness_ms: None,
            per_product: true,
            lexicon: None,
            product_phrases: true,
        }
    }
}

impl Options for AlignOptions {
    const WHAT: &'static str = "timeline options";
    const VERBATIM: &'static [&'static str] = &["lexicon"];

    /// The step positive, the range ordered, the staleness positive.
    fn check(&self) -> Result<()> {
        let mut problems = Vec::new();
        if self.step_ms <= 0 {
            problems.push(format!("step must be positive, got {} ms", self.step_ms));
        }
        if let (Some(a), Some(b)) = (self.start_ms, self.end_ms) {
            if b <= a {
                problems.push(format!("end ({b}) must be after start ({a})"));
            }
        }
        if let Some(st) = self.gauge_max_staleness_ms {
            if st <= 0 {
                problems.push(format!("gauge_max_staleness_ms must be positive, got {st}"));
            }
        }
        crate::options::all_or_nothing(Self::WHAT, problems)
    }
}

/// Names of the event columns every timeline has.
pub const EVENT_COLUMNS: &[&str] = &[
    "comments",
    "questions",
    "orders",
    "quantity",
    "order_gmv",
    "refunds",
    "refund_gmv",
];

/// Names of the derived rate columns.
pub const RATE_COLUMNS: &[&str] = &["gpm", "conversion", "aov"];

fn meta(
    name: impl Into<String>,
    kind: ColumnKind,
    source: impl Into<String>,
    unit: &str,
) -> ColumnMeta {
    ColumnMeta {
        name: name.into(),
        kind,
        source: source.into(),
        unit: unit.to_string(),
        has_missing: false,
    }
}

/// The median positive gap between consecutive times (the sampling
/// interval a flow's first sample is spread over).
pub(crate) fn median_gap(ts: &[Ms]) -> Option<Ms> {
    let mut gaps: Vec<Ms> = ts
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|g| *g > 0)
        .collect();
    if gaps.is_empty() {
        return None;
    }
    let mid = gaps.len() / 2;
    Some(*gaps.select_nth_unstable(mid).1)
}

/// Bins a flow series (samples sorted by time).
pub fn bin_flow(grid: &Grid, samples: &[(Ms, f64)], mode: FlowMode) -> Vec<f64> {
    let mut out = vec![0.0; grid.n];
    match mode {
        FlowMode::Point => {
            for &(ts, v) in samples {
                if let Some(i) = grid.bin(ts) {
                    out[i] += v;
                }
            }
        }
        FlowMode::Spread => {
            let ts: Vec<Ms> = samples.iter().map(|s| s.0).collect();
            let first_span = median_gap(&ts).unwrap_or(0);
            let mut prev: Option<Ms> = None;
            for &(t, v) in samples {
                let a = prev.unwrap_or(t - first_span);
                if t > a {
                    grid.spread(a as f64, t as f64, v, &mut out);
                } else if let Some(i) = grid.bin(t - 1) {
                    // Nothing elapsed since the previous sample: the amount
                    // accrued at the instant `t`, the end of `(prev, t]`.
                    out[i] += v;
                }
                prev = Some(t);
            }
        }
    }
    out
}

/// Default staleness of a gauge series.
pub fn default_staleness(ts: &[Ms]) -> Ms {
    median_gap(ts)
        .map(|g| g.saturating_mul(3))
        .unwrap_or(0)
        .max(60_000)
}

/// Bins a gauge series (samples sorted by time, ties in input order): the
/// time-weighted mean of the last observation carried forward, each
/// observation valid for `max_staleness` ms; NaN where nothing is valid.
pub fn bin_gauge(grid: &Grid, samples: &[(Ms, f64)], max_staleness: Ms) -> Vec<f64> {
    let mut num = vec![0.0; grid.n];
    let mut den = vec![0.0; grid.n];
    for (k, &(t, v)) in samples.iter().enumerate() {
        let next = samples.get(k + 1).map(|s| s.0).unwrap_or(Ms::MAX);
        let end = next.min(t.saturating_add(max_staleness));
        if end > t {
            grid.cover(t as f64, end as f64, |i, len| {
                num[i] += v * len;
                den[i] += len;
            });
        }
    }
    num.iter()
        .zip(&den)
        .map(|(n, d)| if *d > 0.0 { n / d } else { f64::NAN })
        .collect()
}

/// Fractions of each bin covered by the union of `spans` (`[a, b)` in ms).
pub fn bin_union(grid: &Grid, spans: &mut [(Ms, Ms)]) -> Vec<f64> {
    spans.sort_unstable();
    let mut out = vec![0.0; grid.n];
    let step = grid.step_ms as f64;
    let mut cur: Option<(Ms, Ms)> = None;
    let flush = |(a, b): (Ms, Ms), out: &mut Vec<f64>| {
        grid.cover(a as f64, b as f64, |i, len| out[i] += len / step);
    };
    for &(a, b) in spans.iter() {
        if b <= a {
            continue;
        }
        cur = match cur {
            Some((ca, cb)) if a <= cb => Some((ca, cb.max(b))),
            Some(c) => {
                flush(c, &mut out);
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    if let Some(c) = cur {
        flush(c, &mut out);
    }
    for v in &mut out {
        *v = v.clamp(0.0, 1.0);
    }
    out
}

fn ratio(num: &[f64], den: &[f64], scale: f64) -> Vec<f64> {
    num.iter()
        .zip(den)
        .map(|(n, d)| {
            if *d == 0.0 || d.is_nan() || n.is_nan() {
                f64::NAN
            } else {
                scale * n / d
            }
        })
        .collect()
}

/// One chunk's lexicon matches as `(bin, group)`, and its questions' bins.
type ChunkHits = (Vec<(u32, u32)>, Vec<u32>);

/// Lexicon matches over many texts as `(bin, group)` pairs, and the bins of
/// the texts that are questions, computed in parallel over chunks (in chunk
/// order, so the result does not depend on the number of threads).
/// `place(i, position)` gives the bin of a match at a relative position in
/// text `i`; positions are only computed when `positions` is set.
fn lexicon_hits<'t, T, F>(
    matcher: &Matcher,
    n: usize,
    text: T,
    positions: bool,
    place: F,
    question_group: Option<usize>,
) -> Vec<ChunkHits>
where
    T: Fn(usize) -> &'t str + Sync,
    F: Fn(usize, f64) -> Option<usize> + Sync,
{
    const CHUNK: usize = 65_536;
    crate::threads::install(|| {
        (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let first = c * CHUNK;
                let len = CHUNK.min(n - first);
                let chunk = |k: usize| text(first + k);
                let mut hits = Vec::with_capacity(len / 4);
                let mut questions = Vec::new();
                let mut last_question = usize::MAX;
                matcher.for_each_of(len, chunk, positions, |k, m| {
                    let i = c * CHUNK + k;
                    if Some(m.group) == question_group && last_question != i {
                        last_question = i;
                        if let Some(b) = place(i, 0.0) {
                            questions.push(b as u32);
                        }
                    }
                    if let Some(b) = place(i, m.position) {
                        hits.push((b as u32, m.group as u32));
                    }
                });
                if question_group.is_none() {
                    for k in 0..len {
                        let t = chunk(k);
                        if t.contains('?') || t.contains('？') {
                            if let Some(b) = place(c * CHUNK + k, 0.0) {
                                questions.push(b as u32);
                            }
                        }
                    }
                }
                (hits, questions)
            })
            .collect()
    })
}

impl Timeline {
    /// Aligns every stream of a session on one grid (see the [module
    /// docs](super) for the columns and their semantics).
    pub fn build(data: &SessionData, opts: &AlignOptions) -> Result<Timeline> {
        // Everything, nested joins included, on vap's pool (a join on rayon's
        // global pool as well would run twice the threads there are cores).
        crate::threads::install(|| Timeline::build_on_pool(data, opts, TextScan::All, None))
    }

    /// [`Timeline::build`] without the text streams: no lexicon scan over
    /// comments and utterances, so no `questions` column and no phrase-group
    /// columns (`opts.lexicon` and `opts.product_phrases` are not read). For
    /// callers that read none of them: the replay's curves, moment detection
    /// on numeric metrics.
    pub(crate) fn build_numeric(data: &SessionData, opts: &AlignOptions) -> Result<Timeline> {
        crate::threads::install(|| Timeline::build_on_pool(data, opts, TextScan::None, None))
    }

    /// [`Timeline::build`] with the lexicon matched in utterances only: no
    /// `questions` column and no `comments:<group>` columns. For a model that
    /// reads none of them (the replay's default model).
    pub(crate) fn build_speech_only(data: &SessionData, opts: &AlignOptions) -> Result<Timeline> {
        crate::threads::install(|| Timeline::build_on_pool(data, opts, TextScan::Speech, None))
    }

    /// [`Timeline::build`] of a window of a session (`opts.start_ms` ..
    /// `opts.end_ms`, given the rows that reach into it), with each gauge's
    /// staleness pinned to what the whole session gives (`staleness`, by
    /// metric name), so that the window's bins equal the whole build's: the
    /// live session ([`crate::live`]) rebuilds only the bins new data touch.
    pub(crate) fn build_window(
        data: &SessionData,
        opts: &AlignOptions,
        staleness: &HashMap<String, Ms>,
    ) -> Result<Timeline> {
        crate::threads::install(|| {
            Timeline::build_on_pool(data, opts, TextScan::All, Some(staleness))
        })
    }

    /// The build, stage by stage; the columns come in this order. `scan`:
    /// which texts are matched against the lexicon; `staleness`: gauges'
    /// staleness by name, where not their own default.
    fn build_on_pool(
        data: &SessionData,
        opts: &AlignOptions,
        scan: TextScan,
        staleness: Option<&HashMap<String, Ms>>,
    ) -> Result<Timeline> {
        let text = scan != TextScan::None;
        opts.check()?;
        check_metric_names(data)?;
        let s = &data.session;
        let start = opts.start_ms.unwrap_or(s.start_ms);
        let end = opts.end_ms.unwrap_or(s.end_ms);
        let grid = Grid::covering(start, end, opts.step_ms)?;
        let mut lexicon = match (&opts.lexicon, text) {
            (_, false) => Lexicon::new(),
            (Some(l), true) => l.clone(),
            (None, true) => Lexicon::builtin(),
        };
        if opts.product_phrases && text {
            lexicon = lexicon.with_products(&data.products);
        }
        let matcher = lexicon.compile()?;
        let columns = planned_columns(data, matcher.groups().len());
        check_timeline_size(grid.n as u128, columns as u128)?;
        let mut tl = Timeline::empty(&data.room.id, &s.id, grid).with_timezone(&s.timezone);
        tl.reserve(columns);
        // The lexicon scan (the most work, split among the threads) beside
        // the other columns, computed on whichever thread is free, then
        // pushed in their order.
        let (hits, (metrics, events, comments, per_product, intervals)) = rayon::join(
            || text.then(|| LexiconHits::of(data, &matcher, &grid, scan == TextScan::All)),
            || {
                (
                    metric_columns(data, opts, &grid, staleness),
                    EventCounts::of(data, &grid),
                    comment_counts(data, &grid),
                    if opts.per_product {
                        per_product_columns(data, &grid)
                    } else {
                        Vec::new()
                    },
                    interval_columns(data, &grid, opts.per_product),
                )
            },
        );
        let mut metric_values: HashMap<String, Vec<f64>> = HashMap::new();
        for (m, v) in metrics {
            metric_values.insert(m.name.clone(), v.clone());
            tl.push(m, v)?;
        }
        push_events(&mut tl, &grid, comments, &events, hits.as_ref())?;
        push_rates(&mut tl, data, &metric_values, &events)?;
        for (m, v) in per_product.into_iter().chain(intervals) {
            tl.push(m, v)?;
        }
        if let Some(hits) = &hits {
            push_lexicon(&mut tl, &matcher, hits)?;
        }
        blank_gaps(&mut tl, data, &grid);
        tl.finish();
        Ok(tl)
    }
}

/// The session's declared data gaps ([`crate::schema::Session::gaps`]) as
/// missing bins: every bin a gap overlaps is missing in the columns of the
/// streams it names (a metric by name, `comments` for the comment counts,
/// `orders` for the order columns; every measured stream where it names
/// none), and in the rates there. Plan columns (explains, promotions, shifts)
/// and phrase matches are left alone: a capture's reconnect does not unplan
/// the session.
fn blank_gaps(tl: &mut Timeline, data: &SessionData, grid: &Grid) {
    if data.session.gaps.is_empty() || grid.n == 0 {
        return;
    }
    let stream_of = |m: &ColumnMeta| -> Option<String> {
        match m.kind {
            // a metric's column has the metric's name
            ColumnKind::Flow | ColumnKind::Gauge => Some(m.name.clone()),
            ColumnKind::Count | ColumnKind::Sum => match m.name.as_str() {
                "comments" | "questions" => Some("comments".into()),
                "orders" | "quantity" | "order_gmv" | "refunds" | "refund_gmv" => {
                    Some("orders".into())
                }
                // a product's own order columns
                n if n.starts_with("gmv:") || n.starts_with("orders:") => Some("orders".into()),
                _ => None,
            },
            _ => None,
        }
    };
    let columns: Vec<(usize, Option<String>, bool)> = tl
        .columns()
        .iter()
        .enumerate()
        .map(|(j, m)| (j, stream_of(m), m.kind == ColumnKind::Rate))
        .collect();
    for g in &data.session.gaps {
        if g.end_ms <= g.start_ms {
            continue;
        }
        let step = grid.step_ms;
        let first = ((g.start_ms - grid.start_ms).max(0) / step) as usize;
        let last = ((g.end_ms - grid.start_ms + step - 1).max(0) / step) as usize;
        let rows = first.min(grid.n)..last.min(grid.n);
        if rows.is_empty() {
            continue;
        }
        let mut any = false;
        for (j, stream, _) in &columns {
            if let Some(s) = stream {
                if g.streams.is_empty() || g.streams.iter().any(|x| x == s) {
                    tl.blank(*j, rows.clone());
                    any = true;
                }
            }
        }
        if any {
            for (j, _, rate) in &columns {
                if *rate {
                    tl.blank(*j, rows.clone());
                }
            }
        }
    }
}

/// Reserved names must not be taken by a metric.
fn check_metric_names(data: &SessionData) -> Result<()> {
    let mut reserved: Vec<String> = EVENT_COLUMNS
        .iter()
        .chain(RATE_COLUMNS)
        .map(|c| c.to_string())
        .collect();
    reserved.extend(["time", "speech", "room_id", "session_id"].map(String::from));
    let clashes: Vec<&str> = data
        .metrics
        .iter()
        .filter(|m| reserved.contains(&m.name) || m.name.contains(':'))
        .map(|m| m.name.as_str())
        .collect();
    if clashes.is_empty() {
        return Ok(());
    }
    Err(VapError::InvalidArgument(format!(
        "metric names clash with timeline columns (reserved: {}; ':' is reserved for derived columns): {}",
        reserved.join(", "),
        clashes.join(", ")
    )))
}

/// One column per declared metric, binned by its kind (in parallel, in the
/// declared order).
fn metric_columns(
    data: &SessionData,
    opts: &AlignOptions,
    grid: &Grid,
    pinned: Option<&HashMap<String, Ms>>,
) -> Vec<(ColumnMeta, Vec<f64>)> {
    let mut series: HashMap<&str, Vec<&MetricSample>> = HashMap::new();
    for smp in &data.samples {
        series.entry(smp.metric.as_str()).or_default().push(smp);
    }
    crate::threads::install(|| {
        data.metrics
            .par_iter()
            .map(|decl| {
                let mut pts: Vec<(Ms, f64)> = series
                    .get(decl.name.as_str())
                    .map(|v| v.iter().map(|x| (x.ts_ms, x.value)).collect())
                    .unwrap_or_default();
                // A total order, so that the result does not depend on the
                // input order: at one instant, the larger value comes last.
                pts.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
                let src = format!("metric:{}", decl.name);
                match decl.kind {
                    MetricKind::Gauge => {
                        let ts: Vec<Ms> = pts.iter().map(|p| p.0).collect();
                        let stale = opts
                            .gauge_max_staleness_ms
                            .or_else(|| pinned.and_then(|p| p.get(&decl.name).copied()))
                            .unwrap_or_else(|| default_staleness(&ts));
                        (
                            meta(
                                &decl.name,
                                ColumnKind::Gauge,
                                format!("{src} (max staleness {stale} ms)"),
                                &decl.unit,
                            ),
                            bin_gauge(grid, &pts, stale),
                        )
                    }
                    MetricKind::Flow | MetricKind::Cumulative => {
                        if decl.kind == MetricKind::Cumulative {
                            difference_in_place(&mut pts);
                        }
                        (
                            meta(&decl.name, ColumnKind::Flow, src, &decl.unit),
                            bin_flow(grid, &pts, opts.flow),
                        )
                    }
                }
            })
            .collect()
    })
}

/// A cumulative series as increments (loaders difference these; data built in
/// code may not be): the first sample is 0, a drop is a reset.
fn difference_in_place(pts: &mut [(Ms, f64)]) {
    let mut prev: Option<f64> = None;
    for p in pts.iter_mut() {
        let v = p.1;
        p.1 = match prev {
            None => 0.0,
            Some(q) if v >= q => v - q,
            Some(_) => v,
        };
        prev = Some(v);
    }
}

/// Orders and refunds per bin (sequential: sums in a fixed order).
struct EventCounts {
    orders: Vec<f64>,
    quantity: Vec<f64>,
    order_gmv: Vec<f64>,
    refunds: Vec<f64>,
    refund_gmv: Vec<f64>,
}

impl EventCounts {
    fn of(data: &SessionData, grid: &Grid) -> EventCounts {
        let mut e = EventCounts {
            orders: vec![0.0; grid.n],
            quantity: vec![0.0; grid.n],
            order_gmv: vec![0.0; grid.n],
            refunds: vec![0.0; grid.n],
            refund_gmv: vec![0.0; grid.n],
        };
        for o in &data.orders {
            let Some(i) = grid.bin(o.ts_ms) else { continue };
            match o.status {
                OrderStatus::Paid => {
                    e.orders[i] += 1.0;
                    e.quantity[i] += o.quantity as f64;
                    e.order_gmv[i] += o.amount;
                }
                OrderStatus::Refunded => {
                    e.refunds[i] += 1.0;
                    e.refund_gmv[i] += o.amount;
                }
            }
        }
        e
    }
}

/// Which texts a timeline build matches against the lexicon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextScan {
    /// Comments and utterances.
    All,
    /// Utterances only.
    Speech,
    /// Neither.
    None,
}

/// The lexicon over comments and over utterances (the two in parallel).
struct LexiconHits {
    /// `None` when comments were not scanned.
    comments: Option<Vec<ChunkHits>>,
    speech: Vec<ChunkHits>,
    /// Whether questions are the lexicon's `question` group (else a `?`).
    question_group: bool,
}

impl LexiconHits {
    fn of(data: &SessionData, matcher: &Matcher, grid: &Grid, comments: bool) -> LexiconHits {
        let question_group = matcher.groups().iter().position(|g| g == "question");
        let (comments, speech) = rayon::join(
            || {
                comments.then(|| {
                    lexicon_hits(
                        matcher,
                        data.comments.len(),
                        |i| data.comments[i].text.as_str(),
                        false,
                        |i, _| grid.bin(data.comments[i].ts_ms),
                        question_group,
                    )
                })
            },
            || {
                lexicon_hits(
                    matcher,
                    data.utterances.len(),
                    |i| data.utterances[i].text.as_str(),
                    true,
                    |i, pos| {
                        let u = &data.utterances[i];
                        let t = u.start_ms as f64 + (u.end_ms - u.start_ms) as f64 * pos;
                        grid.bin(t.floor() as Ms)
                    },
                    None,
                )
            },
        );
        LexiconHits {
            comments,
            speech,
            question_group: question_group.is_some(),
        }
    }
}

/// Comments per bin.
fn comment_counts(data: &SessionData, grid: &Grid) -> Vec<f64> {
    let mut comments = vec![0.0; grid.n];
    for c in &data.comments {
        if let Some(i) = grid.bin(c.ts_ms) {
            comments[i] += 1.0;
        }
    }
    comments
}

/// Comments (counted by [`comment_counts`]), questions, orders and refunds.
fn push_events(
    tl: &mut Timeline,
    grid: &Grid,
    comments: Vec<f64>,
    events: &EventCounts,
    hits: Option<&LexiconHits>,
) -> Result<()> {
    tl.push(
        meta("comments", ColumnKind::Count, "comments", "count"),
        comments,
    )?;
    if let Some((hits, scanned)) = hits.and_then(|h| h.comments.as_ref().map(|c| (h, c))) {
        let mut questions = vec![0.0; grid.n];
        for (_, qs) in scanned {
            for &b in qs {
                questions[b as usize] += 1.0;
            }
        }
        let source = if hits.question_group {
            "comments matching lexicon group 'question'"
        } else {
            "comments containing '?'"
        };
        tl.push(
            meta("questions", ColumnKind::Count, source, "count"),
            questions,
        )?;
    }
    let columns = [
        (
            "orders",
            ColumnKind::Count,
            "orders (paid)",
            "count",
            events.orders.clone(),
        ),
        (
            "quantity",
            ColumnKind::Sum,
            "orders.quantity (paid)",
            "items",
            events.quantity.clone(),
        ),
        (
            "order_gmv",
            ColumnKind::Sum,
            "orders.amount (paid)",
            "yuan",
            events.order_gmv.clone(),
        ),
        (
            "refunds",
            ColumnKind::Count,
            "orders (refunded)",
            "count",
            events.refunds.clone(),
        ),
        (
            "refund_gmv",
            ColumnKind::Sum,
            "orders.amount (refunded)",
            "yuan",
            events.refund_gmv.clone(),
        ),
    ];
    for (name, kind, source, unit, values) in columns {
        tl.push(meta(name, kind, source, unit), values)?;
    }
    Ok(())
}

/// GPM and conversion (where the room reports entries) and order value.
fn push_rates(
    tl: &mut Timeline,
    data: &SessionData,
    metric_values: &HashMap<String, Vec<f64>>,
    events: &EventCounts,
) -> Result<()> {
    let gmv_name = if metric_values.contains_key("gmv") {
        "gmv"
    } else {
        "order_gmv"
    };
    let gmv = metric_values.get("gmv").unwrap_or(&events.order_gmv);
    if let Some(entries) = data
        .metrics
        .iter()
        .find(|m| m.name == "entries" && m.kind != MetricKind::Gauge)
        .and_then(|m| metric_values.get(&m.name))
    {
        tl.push(
            meta(
                "gpm",
                ColumnKind::Rate,
                format!("1000 * {gmv_name} / entries"),
                "yuan per 1000 entries",
            ),
            ratio(gmv, entries, 1000.0),
        )?;
        tl.push(
            meta(
                "conversion",
                ColumnKind::Rate,
                "orders / entries",
                "orders per entry",
            ),
            ratio(&events.orders, entries, 1.0),
        )?;
    }
    tl.push(
        meta(
            "aov",
            ColumnKind::Rate,
            format!("{gmv_name} / orders"),
            "yuan per order",
        ),
        ratio(gmv, &events.orders, 1.0),
    )
}

/// One column per product for GMV, then one per product for orders.
fn per_product_columns(data: &SessionData, grid: &Grid) -> Vec<(ColumnMeta, Vec<f64>)> {
    let mut pids: Vec<&str> = data.products.iter().map(|p| p.id.as_str()).collect();
    pids.sort_unstable();
    pids.dedup();
    let pindex: HashMap<&str, usize> = pids.iter().enumerate().map(|(k, p)| (*p, k)).collect();
    let mut gmv = vec![vec![0.0; grid.n]; pids.len()];
    let mut orders = vec![vec![0.0; grid.n]; pids.len()];
    for o in data.orders.iter().filter(|o| o.status == OrderStatus::Paid) {
        if let (Some(i), Some(&k)) = (grid.bin(o.ts_ms), pindex.get(o.product_id.as_str())) {
            gmv[k][i] += o.amount;
            orders[k][i] += 1.0;
        }
    }
    let gmv = pids.iter().zip(gmv).map(|(pid, v)| {
        let m = meta(
            format!("gmv:{pid}"),
            ColumnKind::Sum,
            format!("orders.amount (paid, product {pid})"),
            "yuan",
        );
        (m, v)
    });
    let orders = pids.iter().zip(orders).map(|(pid, v)| {
        let m = meta(
            format!("orders:{pid}"),
            ColumnKind::Count,
            format!("orders (paid, product {pid})"),
            "count",
        );
        (m, v)
    });
    gmv.chain(orders).collect()
}

/// Shares of each bin covered: anchors' shifts, product explanations (any,
/// then per product), promotions by kind, speech.
fn interval_columns(
    data: &SessionData,
    grid: &Grid,
    per_product: bool,
) -> Vec<(ColumnMeta, Vec<f64>)> {
    let mut out = Vec::new();
    let mut by_anchor: BTreeMap<&str, Vec<(Ms, Ms)>> = BTreeMap::new();
    for a in &data.anchors {
        by_anchor.insert(&a.id, Vec::new());
    }
    for sh in &data.shifts {
        by_anchor
            .entry(&sh.anchor_id)
            .or_default()
            .push((sh.start_ms, sh.end_ms));
    }
    for (a, mut spans) in by_anchor {
        out.push((
            meta(
                format!("anchor:{a}"),
                ColumnKind::Interval,
                format!("shifts of anchor {a}"),
                "share",
            ),
            bin_union(grid, &mut spans),
        ));
    }
    let mut explain_all: Vec<(Ms, Ms)> = Vec::new();
    let mut explain: BTreeMap<&str, Vec<(Ms, Ms)>> = BTreeMap::new();
    if per_product {
        for p in &data.products {
            explain.insert(&p.id, Vec::new());
        }
    }
    for sg in data
        .segments
        .iter()
        .filter(|s| s.kind == SegmentKind::Explain)
    {
        explain_all.push((sg.start_ms, sg.end_ms));
        if per_product {
            explain
                .entry(&sg.product_id)
                .or_default()
                .push((sg.start_ms, sg.end_ms));
        }
    }
    out.push((
        meta(
            "explain:any",
            ColumnKind::Interval,
            "product segments (explain), any product",
            "share",
        ),
        bin_union(grid, &mut explain_all),
    ));
    for (p, mut spans) in explain {
        out.push((
            meta(
                format!("explain:{p}"),
                ColumnKind::Interval,
                format!("product segments (explain) of {p}"),
                "share",
            ),
            bin_union(grid, &mut spans),
        ));
    }
    let mut promos: BTreeMap<String, Vec<(Ms, Ms)>> = BTreeMap::new();
    for p in &data.promotions {
        let kind = serde_json::to_value(p.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "custom".into());
        promos.entry(kind).or_default().push((p.start_ms, p.end_ms));
    }
    for (k, mut spans) in promos {
        out.push((
            meta(
                format!("promo:{k}"),
                ColumnKind::Interval,
                format!("promotions of kind {k}"),
                "share",
            ),
            bin_union(grid, &mut spans),
        ));
    }
    let mut speech: Vec<(Ms, Ms)> = data
        .utterances
        .iter()
        .map(|u| (u.start_ms, u.end_ms))
        .collect();
    out.push((
        meta(
            "speech",
            ColumnKind::Interval,
            "utterances (transcript clock)",
            "share",
        ),
        bin_union(grid, &mut speech),
    ));
    out
}

/// One column per lexicon group in speech, then in comments, filled in place
/// from the hits.
fn push_lexicon(tl: &mut Timeline, matcher: &Matcher, hits: &LexiconHits) -> Result<()> {
    for (family, hits, what) in [
        ("speech", Some(&hits.speech), "utterances"),
        ("comments", hits.comments.as_ref(), "comments"),
    ] {
        let Some(hits) = hits else { continue };
        let mut cols = Vec::with_capacity(matcher.groups().len());
        for g in matcher.groups() {
            cols.push(tl.push_zeroed(meta(
                format!("{family}:{g}"),
                ColumnKind::Lexicon,
                format!("lexicon group '{g}' in {what}"),
                "matches",
            ))?);
        }
        for (chunk, _) in hits.iter() {
            for &(b, g) in chunk {
                tl.col_mut(cols[g as usize])[b as usize] += 1.0;
            }
        }
    }
    Ok(())
}

/// The largest timeline built, in cells (bins × columns): 2 GiB of `f64`.
/// A step that would need more (`"1ms"` over a 12-hour session) is refused
/// before anything is allocated.
pub const MAX_TIMELINE_CELLS: u128 = (2u128 << 30) / 8;

/// The columns a session's timeline will have (an upper bound).
fn planned_columns(data: &SessionData, lexicon_groups: usize) -> usize {
    data.metrics.len()
        + EVENT_COLUMNS.len()
        + RATE_COLUMNS.len()
        + 3 * data.products.len()
        + data.anchors.len()
        + 8
        + 2 * lexicon_groups
}

/// Refuses a timeline of `bins` × `columns` over [`MAX_TIMELINE_CELLS`],
/// naming the size it would take.
fn check_timeline_size(bins: u128, columns: u128) -> Result<()> {
    let cells = bins.saturating_mul(columns);
    if cells > MAX_TIMELINE_CELLS {
        let gb = cells as f64 * 8.0 / 1e9;
        return Err(VapError::InvalidArgument(format!(
            "a timeline of {bins} bins × {columns} columns would take {gb:.1} GB \
             (the limit is {:.1} GB): use a coarser step or a shorter range",
            MAX_TIMELINE_CELLS as f64 * 8.0 / 1e9
        )));
    }
    Ok(())
}

/// A room view uses each session's own range: `start_ms` / `end_ms` are
/// refused.
fn check_room_range(opts: &AlignOptions) -> Result<()> {
    if opts.start_ms.is_some() || opts.end_ms.is_some() {
        return Err(VapError::InvalidArgument(
            "a room view uses each session's own range; leave start_ms and end_ms unset".into(),
        ));
    }
    Ok(())
}

/// The room view: timelines of many sessions of one room, built in parallel
/// and stacked with a session key ([`Timeline::stack`]). Sessions keep the
/// order given.
pub fn room_timeline<D>(sessions: &[D], opts: &AlignOptions) -> Result<Timeline>
where
    D: std::borrow::Borrow<SessionData> + Sync,
{
    check_room_range(opts)?;
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    if let Some(first) = sessions.first() {
        let room = &first.borrow().room.id;
        for d in sessions {
            let d = d.borrow();
            if &d.room.id != room {
                problems.push(format!(
                    "session '{}' is in room '{}', not '{room}'",
                    d.session.id, d.room.id
                ));
            }
            if !seen.insert(d.session.id.as_str()) {
                problems.push(format!("session '{}' is given twice", d.session.id));
            }
        }
    }
    if !problems.is_empty() {
        return Err(VapError::InvalidArgument(format!(
            "a room view stacks distinct sessions of one room: {}",
            problems.join("; ")
        )));
    }
    // The stacked view holds every session's bins: bound it before building.
    let mut bins = 0u128;
    let mut columns = 0usize;
    for d in sessions {
        let d = d.borrow();
        let g = Grid::covering(d.session.start_ms, d.session.end_ms, opts.step_ms)?;
        bins += g.n as u128;
        columns = columns.max(planned_columns(d, 0));
    }
    check_timeline_size(bins, columns as u128)?;
    let parts = crate::threads::install(|| {
        sessions
            .par_iter()
            .map(|d| Timeline::build(d.borrow(), opts))
            .collect::<Result<Vec<_>>>()
    })?;
    Timeline::stack(parts)
}

/// The room view of every session of `room_id` in a store, in session order
/// (by start), loaded and aligned in parallel, session by session: a
/// session's data is dropped once its timeline is built
/// ([`Store::map_room`]), so the room's history is never in memory at once.
pub fn store_room_timeline(store: &Store, room_id: &str, opts: &AlignOptions) -> Result<Timeline> {
    check_room_range(opts)?;
    let parts = store.map_room(room_id, |d| Timeline::build(&d, opts))?;
    let bins: u128 = parts.iter().map(|t| t.len() as u128).sum();
    let columns = parts.iter().map(|t| t.columns().len()).max().unwrap_or(0);
    check_timeline_size(bins, columns as u128)?;
    Timeline::stack(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The builds without text have exactly the full build's other columns,
    /// with the same values.
    #[test]
    fn builds_without_text_drop_only_text_columns() {
        let room = crate::sim::simulate(&crate::sim::SimConfig {
            seed: 3,
            hours: 0.5,
            ..Default::default()
        })
        .unwrap();
        let d = &room.data;
        let opts = AlignOptions::default();
        let full = Timeline::build(d, &opts).unwrap();
        let speech = Timeline::build_speech_only(d, &opts).unwrap();
        let numeric = Timeline::build_numeric(d, &opts).unwrap();
        let comment_text = |n: &str| n == "questions" || n.starts_with("comments:");
        let speech_text = |n: &str| n.starts_with("speech:");
        for (tl, dropped) in [
            (&speech, &comment_text as &dyn Fn(&str) -> bool),
            (&numeric, &|n: &str| comment_text(n) || speech_text(n)),
        ] {
            let kept: Vec<&str> = full.names().into_iter().filter(|n| !dropped(n)).collect();
            assert_eq!(tl.names(), kept);
            // bit for bit (NaN marks a bin without data)
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            for n in kept {
                assert_eq!(
                    bits(tl.values(n).unwrap()),
                    bits(full.values(n).unwrap()),
                    "{n}"
                );
            }
        }
        assert!(full.names().iter().any(|n| n.starts_with("comments:")));
        assert!(speech.names().iter().any(|n| n.starts_with("speech:")));
    }
}
