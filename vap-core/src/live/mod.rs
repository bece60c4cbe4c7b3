//! Live sessions: the timeline, the moments and a fitted room model kept up
//! to date while the stream runs, and alerts as things happen.
//!
//! A [`LiveSession`] starts from a session's header (room, session start,
//! products, anchors, declared metrics, the run-sheet if there is one) and
//! takes [`LiveEvent`]s as they arrive: comments, orders, metric samples,
//! transcript lines, and the intervals (explains, shifts, promotions) opened
//! and closed as they happen. Events may arrive out of order up to
//! [`LiveOptions::lateness_ms`] behind the newest time seen (the
//! *watermark*); older ones are refused and counted.
//!
//! **What is incremental.** Each [`LiveSession::append`] rebuilds only the
//! bins the new events touch (from the earliest of them, with the context
//! the columns need: the previous sample of a metric series, the last gauge
//! reading, the comments and transcript of the minutes before for the
//! question ↔ answer columns) and splices them onto the bins already built;
//! it never re-reads the session's earlier events. The moment scan then runs
//! over the binned series (a few thousand bins for twelve hours; its robust
//! noise scale is a session-wide statistic, so any new bin can move it), and
//! the room model, when one is given, decomposes the timeline without
//! refitting ([`crate::attribute::RoomModel::apply`]).
//!
//! **What equals the batch computation.** At any point, the live timeline
//! equals [`Timeline::build`] + [`crate::attribute::enrich`] of
//! [`LiveSession::data`] (the events so far, open intervals ending at the
//! watermark, the session ending at the end of the watermark's bin), the
//! moments equal [`crate::detect::timeline_moments`] of that timeline, and
//! the decomposition equals the model's on it. The tests replay full rooms
//! in random-size batches with late events and check exactly this.
//!
//! **Memory.** Comments and transcript lines are dropped
//! [`LiveOptions::horizon_ms`] after the watermark passes them (they are
//! binned by then); orders, samples and intervals (small) are kept. A
//! product first seen after its earlier mentions were dropped counts its
//! mentions from the oldest comment still kept.
//!
//! **Alerts** ([`Alert`]) fire once per occurrence, each with the factors
//! behind it: see [`AlertKind`] and [`AlertOptions`].
//!
//! ```
//! use vap_core::live::{feed, LiveOptions, LiveSession};
//! use vap_core::sim::{simulate, SimConfig};
//!
//! let room = simulate(&SimConfig { seed: 3, hours: 0.5, ..Default::default() }).unwrap();
//! let mut live = LiveSession::new(&room.data, LiveOptions::default(), None).unwrap();
//! let events = feed(&room.data);
//! for chunk in events.chunks(500) {
//!     let update = live.append(chunk.to_vec()).unwrap();
//!     for alert in &update.alerts {
//!         println!("{} {}", alert.at_ms, alert.message);
//!     }
//! }
//! assert_eq!(live.timeline().values("orders").unwrap().iter().sum::<f64>(),
//!            room.data.orders.iter().filter(|o| o.status == vap_core::OrderStatus::Paid).count() as f64);
//! ```

mod alerts;
mod follow;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

pub use alerts::{Alert, AlertFactor, AlertKind, AlertOptions, MAX_LISTED};
pub use follow::{capture_metrics, CaptureFollower, FollowOptions};

use crate::align::{AlignOptions, Grid, Timeline};
use crate::attribute::{Decomposition, RoomModel};
use crate::detect::{DetectOptions, Moment, MomentKind};
use crate::error::{Result, VapError};
use crate::options::Options;
use crate::schema::{
    Comment, MetricKind, MetricSample, Ms, Order, OrderStatus, Product, ProductSegment, Promotion,
    PromotionKind, SegmentKind, SessionData, Shift, ShiftRole, Utterance,
};

/// Options of a [`LiveSession`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiveOptions {
    /// Bin width (default: the room model's when one is given, else the
    /// attribution timeline's 10 s).
    #[serde(alias = "step", with = "crate::options::opt_duration")]
    pub step_ms: Option<Ms>,
    /// How far behind the watermark (the newest time seen) an event may
    /// arrive and still be taken (default 2 min); older events are refused
    /// and counted in [`Update::refused_late`].
    #[serde(alias = "lateness", with = "crate::options::duration")]
    pub lateness_ms: Ms,
    /// How long comments and transcript lines are kept behind the watermark
    /// (default 30 min; `null` keeps them all). At least the lateness plus
    /// the context a rebuild reads ([`CONTEXT_MS`]).
    #[serde(alias = "horizon", with = "crate::options::opt_duration")]
    pub horizon_ms: Option<Ms>,
    /// Per-product columns (`gmv:<id>`, `orders:<id>`, `explain:<id>`;
    /// default true, as the attribution timeline has them).
    pub per_product: bool,
    /// The moment scan (its step is the live step).
    pub detect: DetectOptions,
    /// When alerts fire.
    pub alerts: AlertOptions,
}

/// How far before the first rebuilt bin a rebuild reads viewers' questions
/// and the transcript, so that a question asked then and answered in the
/// rebuilt bins is matched as in the whole session (the default answer
/// window, 3 min, and a minute more).
pub const CONTEXT_MS: Ms = 4 * 60_000;

/// How long a transcript line may run into the bins after its start and
/// still be placed there (longer lines are rare: recognisers cut at 30 s).
const UTTERANCE_REACH_MS: Ms = 5 * 60_000;

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            step_ms: None,
            lateness_ms: 2 * 60_000,
            horizon_ms: Some(30 * 60_000),
            per_product: true,
            detect: DetectOptions::default(),
            alerts: AlertOptions::default(),
        }
    }
}

impl Options for LiveOptions {
    const WHAT: &'static str = "live options";
    /// `horizon: null` keeps every comment and transcript line.
    const NULLABLE: &'static [&'static str] = &["horizon", "horizon_ms"];

    fn prepare(map: &mut serde_json::Map<String, serde_json::Value>) -> Result<()> {
        crate::options::nested::<DetectOptions>(Self::WHAT, map, "detect")?;
        crate::options::nested::<AlertOptions>(Self::WHAT, map, "alerts")
    }

    fn check(&self) -> Result<()> {
        let mut problems = Vec::new();
        if let Some(s) = self.step_ms {
            if s <= 0 {
                problems.push(format!("step must be positive, got {s} ms"));
            }
        }
        if self.lateness_ms < 0 {
            problems.push(format!(
                "lateness must not be negative, got {} ms",
                self.lateness_ms
            ));
        }
        if let Some(h) = self.horizon_ms {
            if h < self.lateness_ms + CONTEXT_MS {
                problems.push(format!(
                    "horizon ({h} ms) must be at least the lateness plus {CONTEXT_MS} ms of context ({} ms)",
                    self.lateness_ms + CONTEXT_MS
                ));
            }
        }
        if let Err(e) = self.detect.check() {
            problems.push(format!("detect: {e}"));
        }
        if let Err(e) = self.alerts.check() {
            problems.push(format!("alerts: {e}"));
        }
        crate::options::all_or_nothing(Self::WHAT, problems)
    }
}

/// One thing that happened, as it arrives. Times are ms since the epoch
/// (session clock), read also from ISO 8601 text (a JavaScript `Date` as
/// JSON). Serialised with a `type` tag:
/// `{"type": "comment", "ts_ms": …, "viewer_id": "v1", "text": "…"}`.
///
/// An interval without an end is *open*: it runs until the same interval
/// (same product, same anchor and role, or same promotion id, and the same
/// start) arrives again with its end; until then it ends at the watermark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LiveEvent {
    /// A viewer's comment.
    Comment {
        /// When.
        #[serde(alias = "ts", with = "crate::options::instant")]
        ts_ms: Ms,
        /// Who (default `"unknown"`).
        #[serde(default = "unknown", alias = "viewer")]
        viewer_id: String,
        /// What.
        text: String,
    },
    /// An order (paid) or a refund.
    Order {
        /// When.
        #[serde(alias = "ts", with = "crate::options::instant")]
        ts_ms: Ms,
        /// Order id (default: made up from the count so far).
        #[serde(default)]
        id: Option<String>,
        /// The product.
        #[serde(alias = "product")]
        product_id: String,
        /// Amount paid (or refunded).
        amount: f64,
        /// Units (default 1).
        #[serde(default = "one")]
        quantity: u32,
        /// `paid` (default) or `refunded`.
        #[serde(default = "paid")]
        status: OrderStatus,
    },
    /// A sample of a declared metric (a flow's amount since its previous
    /// sample, a gauge's reading).
    Sample {
        /// The metric.
        metric: String,
        /// When.
        #[serde(alias = "ts", with = "crate::options::instant")]
        ts_ms: Ms,
        /// Its value.
        value: f64,
    },
    /// A transcript line (arrives when it ends).
    Utterance {
        /// Start.
        #[serde(alias = "start", with = "crate::options::instant")]
        start_ms: Ms,
        /// End.
        #[serde(alias = "end", with = "crate::options::instant")]
        end_ms: Ms,
        /// What was said.
        text: String,
        /// Who, when known.
        #[serde(default)]
        speaker: Option<String>,
    },
    /// A product explained (opened without `end_ms`, closed with it).
    Explain {
        /// The product.
        #[serde(alias = "product")]
        product_id: String,
        /// Start.
        #[serde(alias = "start", with = "crate::options::instant")]
        start_ms: Ms,
        /// End, when known.
        #[serde(default, alias = "end", with = "crate::options::opt_instant")]
        end_ms: Option<Ms>,
    },
    /// An anchor's shift.
    Shift {
        /// The anchor.
        #[serde(alias = "anchor")]
        anchor_id: String,
        /// Role (default host).
        #[serde(default = "host")]
        role: ShiftRole,
        /// Start.
        #[serde(alias = "start", with = "crate::options::instant")]
        start_ms: Ms,
        /// End, when known.
        #[serde(default, alias = "end", with = "crate::options::opt_instant")]
        end_ms: Option<Ms>,
    },
    /// A promotion.
    Promotion {
        /// Its id.
        id: String,
        /// Its kind.
        kind: PromotionKind,
        /// The product, if it is of one.
        #[serde(default, alias = "product")]
        product_id: Option<String>,
        /// Start.
        #[serde(alias = "start", with = "crate::options::instant")]
        start_ms: Ms,
        /// End, when known.
        #[serde(default, alias = "end", with = "crate::options::opt_instant")]
        end_ms: Option<Ms>,
    },
    /// No event, only time passing: moves the watermark (a heartbeat lets
    /// silences be noticed when nothing arrives).
    Tick {
        /// Now.
        #[serde(alias = "ts", with = "crate::options::instant")]
        ts_ms: Ms,
    },
}

fn unknown() -> String {
    "unknown".into()
}
fn one() -> u32 {
    1
}
fn paid() -> OrderStatus {
    OrderStatus::Paid
}
fn host() -> ShiftRole {
    ShiftRole::Host
}

impl LiveEvent {
    /// The earliest time the event changes (its start for an interval).
    pub fn time_ms(&self) -> Ms {
        match self {
            LiveEvent::Comment { ts_ms, .. }
            | LiveEvent::Order { ts_ms, .. }
            | LiveEvent::Sample { ts_ms, .. }
            | LiveEvent::Tick { ts_ms } => *ts_ms,
            LiveEvent::Utterance { start_ms, .. }
            | LiveEvent::Explain { start_ms, .. }
            | LiveEvent::Shift { start_ms, .. }
            | LiveEvent::Promotion { start_ms, .. } => *start_ms,
        }
    }

    /// When the event is known: its time, the end of a transcript line or of
    /// a closed interval.
    pub fn arrival_ms(&self) -> Ms {
        match self {
            LiveEvent::Utterance { end_ms, .. } => *end_ms,
            LiveEvent::Explain {
                end_ms: Some(e), ..
            }
            | LiveEvent::Shift {
                end_ms: Some(e), ..
            }
            | LiveEvent::Promotion {
                end_ms: Some(e), ..
            } => *e,
            other => other.time_ms(),
        }
    }

    /// Events from JSON: one object or an array of them.
    pub fn from_json(text: &str) -> Result<Vec<LiveEvent>> {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| VapError::InvalidArgument(format!("live events: not JSON: {e}")))?;
        LiveEvent::from_value(v)
    }

    /// Events from a JSON value (one object or an array); every bad event is
    /// reported, by position.
    pub fn from_value(v: serde_json::Value) -> Result<Vec<LiveEvent>> {
        let items = match v {
            serde_json::Value::Array(a) => a,
            other => vec![other],
        };
        let mut out = Vec::with_capacity(items.len());
        let mut problems = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            match serde_json::from_value::<LiveEvent>(item) {
                Ok(e) => out.push(e),
                Err(e) => problems.push(crate::error::Problem::new(
                    "live events",
                    Some(i + 1),
                    None,
                    e.to_string(),
                )),
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(VapError::Validation(problems))
        }
    }
}

/// A session's rows as the events a live feed would have delivered, in
/// arrival order: points at their time, a transcript line at its end, an
/// interval opened at its start and closed at its end. Replaying them into a
/// [`LiveSession`] rebuilds the session (the replay-as-live example, the
/// tests and the latency benchmark use it).
pub fn feed(data: &SessionData) -> Vec<LiveEvent> {
    let mut out: Vec<(Ms, u8, LiveEvent)> = Vec::new();
    for c in &data.comments {
        out.push((
            c.ts_ms,
            1,
            LiveEvent::Comment {
                ts_ms: c.ts_ms,
                viewer_id: c.viewer_id.to_string(),
                text: c.text.to_string(),
            },
        ));
    }
    for o in &data.orders {
        out.push((
            o.ts_ms,
            1,
            LiveEvent::Order {
                ts_ms: o.ts_ms,
                id: Some(o.id.clone()),
                product_id: o.product_id.clone(),
                amount: o.amount,
                quantity: o.quantity,
                status: o.status,
            },
        ));
    }
    for s in &data.samples {
        out.push((
            s.ts_ms,
            1,
            LiveEvent::Sample {
                metric: s.metric.clone(),
                ts_ms: s.ts_ms,
                value: s.value,
            },
        ));
    }
    for u in &data.utterances {
        out.push((
            u.end_ms,
            1,
            LiveEvent::Utterance {
                start_ms: u.start_ms,
                end_ms: u.end_ms,
                text: u.text.clone(),
                speaker: u.speaker.clone(),
            },
        ));
    }
    for s in data
        .segments
        .iter()
        .filter(|s| s.kind == SegmentKind::Explain)
    {
        let open = |end_ms| LiveEvent::Explain {
            product_id: s.product_id.clone(),
            start_ms: s.start_ms,
            end_ms,
        };
        out.push((s.start_ms, 2, open(None)));
        out.push((s.end_ms, 0, open(Some(s.end_ms))));
    }
    for s in &data.shifts {
        let open = |end_ms| LiveEvent::Shift {
            anchor_id: s.anchor_id.clone(),
            role: s.role,
            start_ms: s.start_ms,
            end_ms,
        };
        out.push((s.start_ms, 2, open(None)));
        out.push((s.end_ms, 0, open(Some(s.end_ms))));
    }
    for p in &data.promotions {
        let open = |end_ms| LiveEvent::Promotion {
            id: p.id.clone(),
            kind: p.kind,
            product_id: p.product_id.clone(),
            start_ms: p.start_ms,
            end_ms,
        };
        out.push((p.start_ms, 2, open(None)));
        out.push((p.end_ms, 0, open(Some(p.end_ms))));
    }
    // by arrival; at one instant closings first, then points, then openings
    out.sort_by_key(|e| (e.0, e.1));
    out.into_iter().map(|e| e.2).collect()
}

/// [`feed`] in batches: the events arriving within each `every_ms` of
/// stream (from the first arrival), as a capture read once per `every_ms`
/// would deliver them; empty spans are skipped.
pub fn feed_batches(data: &SessionData, every_ms: Ms) -> Result<Vec<Vec<LiveEvent>>> {
    if every_ms <= 0 {
        return Err(VapError::InvalidArgument(format!(
            "the batch span must be positive, got {every_ms} ms"
        )));
    }
    let mut out: Vec<Vec<LiveEvent>> = Vec::new();
    let mut edge: Option<Ms> = None;
    for e in feed(data) {
        let t = e.arrival_ms();
        let first = *edge.get_or_insert(t);
        let k = (t - first).div_euclid(every_ms);
        match out.last_mut() {
            Some(b)
                if b.last()
                    .is_some_and(|x| (x.arrival_ms() - first).div_euclid(every_ms) == k) =>
            {
                b.push(e)
            }
            _ => out.push(vec![e]),
        }
    }
    Ok(out)
}

/// What one [`LiveSession::append`] changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Update {
    /// The watermark after it (ms).
    pub watermark_ms: Ms,
    /// Bins of the timeline.
    pub bins: usize,
    /// The first bin rebuilt (its start, ms), if any was.
    pub rebuilt_from_ms: Option<Ms>,
    /// Events taken.
    pub accepted: usize,
    /// Events refused as later than the lateness allows.
    pub refused_late: usize,
    /// Moments that were not in the list before.
    pub new_moments: Vec<Moment>,
    /// Alerts fired.
    pub alerts: Vec<Alert>,
}

/// An open interval: its row in the session's table and its identity.
#[derive(Debug, Clone, PartialEq)]
struct Open {
    table: IntervalTable,
    index: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IntervalTable {
    Segment,
    Shift,
    Promotion,
}

/// A callback receiving alerts as they fire.
pub type AlertCallback = Box<dyn FnMut(&Alert) + Send>;

/// A session kept up to date as events arrive (see the [module docs](self)).
pub struct LiveSession {
    opts: LiveOptions,
    align: AlignOptions,
    detect: DetectOptions,
    model: Option<RoomModel>,
    /// Everything kept: header, intervals (open ones ending at the
    /// watermark), orders, and comments / utterances within the horizon.
    data: SessionData,
    /// Samples by metric, each sorted by (time, value).
    series: BTreeMap<String, Vec<(Ms, f64)>>,
    /// Each gauge's staleness and each flow's first span as last built.
    pinned: HashMap<String, Ms>,
    open: Vec<Open>,
    watermark: Option<Ms>,
    tl: Timeline,
    moments: Vec<Moment>,
    decomposition: Option<Decomposition>,
    /// The comments that are questions (within the horizon), for the
    /// answers column's context.
    questions: Vec<Comment>,
    dropped_text: usize,
    orders_made: usize,
    alerts: alerts::State,
    callbacks: Vec<AlertCallback>,
}

impl std::fmt::Debug for LiveSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSession")
            .field("session", &self.data.session.id)
            .field("watermark", &self.watermark)
            .field("bins", &self.tl.len())
            .field("moments", &self.moments.len())
            .finish()
    }
}

impl LiveSession {
    /// A live session of `header`'s room and session: its products, anchors,
    /// declared metrics and run-sheet are read; its rows, if any, are not
    /// (replay them with [`feed`]). `model`: a room model (fitted on the
    /// room's history) to decompose the live timeline with.
    pub fn new(header: &SessionData, opts: LiveOptions, model: Option<RoomModel>) -> Result<Self> {
        opts.check()?;
        if let Some(m) = &model {
            if m.room_id != header.room.id {
                return Err(VapError::InvalidArgument(format!(
                    "the model is of room '{}'; the live session is of room '{}'",
                    m.room_id, header.room.id
                )));
            }
            if let Some(s) = opts.step_ms {
                if s != m.step_ms {
                    return Err(VapError::InvalidArgument(format!(
                        "the model was fitted on {} ms bins; the live step is {s} ms (leave it out to use the model's)",
                        m.step_ms
                    )));
                }
            }
        }
        let step = opts
            .step_ms
            .or(model.as_ref().map(|m| m.step_ms))
            .unwrap_or(crate::attribute::TIMELINE_STEP_MS);
        let align = AlignOptions {
            step_ms: step,
            per_product: opts.per_product,
            ..Default::default()
        };
        let detect = DetectOptions {
            step_ms: step,
            ..opts.detect.clone()
        };
        let mut data = header.header();
        data.session.end_ms = data.session.start_ms;
        data.session.gaps.clear();
        let series = data
            .metrics
            .iter()
            .map(|m| (m.name.clone(), Vec::new()))
            .collect();
        let grid = Grid::new(data.session.start_ms, step, 0)?;
        let tl = Timeline::empty(&data.room.id, &data.session.id, grid)
            .with_timezone(&data.session.timezone);
        let plan = header
            .session
            .plan
            .as_ref()
            .map(|p| p.resolve(header))
            .transpose()?
            .unwrap_or_default();
        Ok(LiveSession {
            alerts: alerts::State::new(plan),
            opts,
            align,
            detect,
            model,
            data,
            series,
            pinned: HashMap::new(),
            open: Vec::new(),
            watermark: None,
            tl,
            moments: Vec::new(),
            decomposition: None,
            questions: Vec::new(),
            dropped_text: 0,
            orders_made: 0,
            callbacks: Vec::new(),
        })
    }

    /// Calls `f` with every alert as it fires (after the update that fired
    /// it is complete).
    pub fn on_alert(&mut self, f: impl FnMut(&Alert) + Send + 'static) {
        self.callbacks.push(Box::new(f));
    }

    /// The options in force.
    pub fn options(&self) -> &LiveOptions {
        &self.opts
    }

    /// The bin width.
    pub fn step_ms(&self) -> Ms {
        self.align.step_ms
    }

    /// The newest time seen.
    pub fn watermark_ms(&self) -> Option<Ms> {
        self.watermark
    }

    /// The timeline so far (enriched as for attribution).
    pub fn timeline(&self) -> &Timeline {
        &self.tl
    }

    /// The moments so far, ranked as [`crate::detect::rank`] does.
    pub fn moments(&self) -> &[Moment] {
        &self.moments
    }

    /// The room model's decomposition of the timeline so far.
    pub fn decomposition(&self) -> Option<&Decomposition> {
        self.decomposition.as_ref()
    }

    /// The alerts fired so far, in order.
    pub fn alerts(&self) -> &[Alert] {
        self.alerts.fired()
    }

    /// Comments and transcript lines dropped behind the horizon.
    pub fn dropped_text(&self) -> usize {
        self.dropped_text
    }

    /// The session as the events so far make it (what the batch computation
    /// would be given): open intervals end at the watermark, the session at
    /// the end of the watermark's bin, samples sorted by (metric, time).
    pub fn data(&self) -> SessionData {
        let mut d = self.data.clone();
        d.samples = self
            .series
            .iter()
            .flat_map(|(m, v)| {
                v.iter().map(|&(ts_ms, value)| MetricSample {
                    metric: m.clone(),
                    ts_ms,
                    value,
                })
            })
            .collect();
        d
    }

    /// The options the live timeline is built with.
    pub fn align_options(&self) -> &AlignOptions {
        &self.align
    }

    /// The moment options the live scan uses (its step the live step).
    pub fn detect_options(&self) -> &DetectOptions {
        &self.detect
    }

    /// Declares metrics the header did not (a followed capture log's,
    /// [`capture_metrics`]); ones already declared are left as they are.
    pub fn declare(&mut self, metrics: &[crate::schema::MetricDecl]) {
        for m in metrics {
            if !self.data.metrics.iter().any(|d| d.name == m.name) {
                self.data.metrics.push(m.clone());
                self.series.entry(m.name.clone()).or_default();
            }
        }
    }

    /// Reads what `follower`'s log gained since its last poll and appends
    /// it (declaring the capture's metrics first).
    pub fn follow(&mut self, follower: &mut CaptureFollower) -> Result<Update> {
        self.declare(&capture_metrics());
        let events = follower.poll()?;
        self.append(events)
    }

    /// Moves the watermark to `now_ms` without events (a heartbeat), so that
    /// silences and overruns are noticed when nothing arrives.
    pub fn advance(&mut self, now_ms: Ms) -> Result<Update> {
        self.append(vec![LiveEvent::Tick { ts_ms: now_ms }])
    }

    /// Takes events (in any order within the lateness), rebuilds the bins
    /// they touch, rescans the moments, re-applies the model and fires the
    /// alerts that are due. Bad events (an unknown metric, an interval
    /// ending before it starts) are all reported at once and none is taken.
    pub fn append(&mut self, events: Vec<LiveEvent>) -> Result<Update> {
        self.check_events(&events, None)?;
        let floor = self.watermark.map(|w| w - self.opts.lateness_ms);
        let mut accepted = 0;
        let mut refused = 0;
        let mut dirty: Option<Ms> = None;
        // from where only the metric columns (and the rates) change: a flow
        // sample accrued since the series' previous sample
        let mut dirty_samples: Option<Ms> = None;
        let touch = |t: Ms, dirty: &mut Option<Ms>| {
            *dirty = Some(dirty.map_or(t, |d: Ms| d.min(t)));
        };
        let mut new_comments: Vec<Comment> = Vec::new();
        let mut new_questions: Vec<Comment> = Vec::new();
        let mut new_utterances: Vec<Utterance> = Vec::new();
        let mut new_orders: Vec<Order> = Vec::new();
        let mut watermark = self.watermark;
        for e in events {
            if floor.is_some_and(|f| e.arrival_ms() < f) && !matches!(e, LiveEvent::Tick { .. }) {
                refused += 1;
                continue;
            }
            accepted += 1;
            watermark = Some(watermark.map_or(e.arrival_ms(), |w| w.max(e.arrival_ms())));
            match e {
                LiveEvent::Tick { .. } => {}
                LiveEvent::Comment {
                    ts_ms,
                    viewer_id,
                    text,
                } => {
                    touch(ts_ms, &mut dirty);
                    self.alerts.saw("comments", ts_ms);
                    let c = Comment {
                        ts_ms,
                        viewer_id: viewer_id.into(),
                        text: text.into(),
                    };
                    if crate::align::question_kind(&c.text).is_some() {
                        self.alerts.question(&c);
                        new_questions.push(c.clone());
                    }
                    new_comments.push(c);
                }
                LiveEvent::Order {
                    ts_ms,
                    id,
                    product_id,
                    amount,
                    quantity,
                    status,
                } => {
                    touch(ts_ms, &mut dirty);
                    self.alerts.saw("orders", ts_ms);
                    self.orders_made += 1;
                    self.ensure_product(&product_id);
                    new_orders.push(Order {
                        id: id.unwrap_or_else(|| format!("live-{}", self.orders_made)),
                        ts_ms,
                        product_id,
                        quantity,
                        amount,
                        status,
                        viewer_id: None,
                    });
                }
                LiveEvent::Sample {
                    metric,
                    ts_ms,
                    value,
                } => {
                    self.alerts.saw(&metric, ts_ms);
                    let s = self.series.entry(metric).or_default();
                    let at = s.partition_point(|p| {
                        p.0 < ts_ms || (p.0 == ts_ms && p.1.total_cmp(&value).is_le())
                    });
                    // the bins from the previous sample on change (a flow
                    // sample accrued since it)
                    touch(ts_ms, &mut dirty);
                    touch(if at > 0 { s[at - 1].0 } else { ts_ms }, &mut dirty_samples);
                    s.insert(at, (ts_ms, value));
                }
                LiveEvent::Utterance {
                    start_ms,
                    end_ms,
                    text,
                    speaker,
                } => {
                    touch(start_ms, &mut dirty);
                    self.alerts.saw("speech", end_ms);
                    new_utterances.push(Utterance {
                        start_ms,
                        end_ms,
                        text,
                        speaker,
                        confidence: None,
                    });
                }
                LiveEvent::Explain {
                    product_id,
                    start_ms,
                    end_ms,
                } => {
                    self.ensure_product(&product_id);
                    self.interval(
                        IntervalTable::Segment,
                        &product_id,
                        start_ms,
                        end_ms,
                        &mut dirty,
                    );
                }
                LiveEvent::Shift {
                    anchor_id,
                    role,
                    start_ms,
                    end_ms,
                } => {
                    if !self.data.anchors.iter().any(|a| a.id == anchor_id) {
                        self.data.anchors.push(crate::schema::Anchor {
                            id: anchor_id.clone(),
                            name: anchor_id.clone(),
                        });
                    }
                    let key = format!("{anchor_id}\u{1}{}", role_str(role));
                    self.interval(IntervalTable::Shift, &key, start_ms, end_ms, &mut dirty);
                }
                LiveEvent::Promotion {
                    id,
                    kind,
                    product_id,
                    start_ms,
                    end_ms,
                } => {
                    if let Some(p) = &product_id {
                        self.ensure_product(p);
                    }
                    let exists = self.data.promotions.iter().any(|p| p.id == id);
                    if !exists {
                        self.data.promotions.push(Promotion {
                            id: id.clone(),
                            kind,
                            label: None,
                            product_id,
                            start_ms,
                            end_ms: start_ms,
                        });
                    }
                    self.interval(IntervalTable::Promotion, &id, start_ms, end_ms, &mut dirty);
                }
            }
        }
        merge_sorted(&mut self.data.comments, new_comments, |c| c.ts_ms);
        merge_sorted(&mut self.questions, new_questions, |c| c.ts_ms);
        merge_sorted(&mut self.data.orders, new_orders, |o| o.ts_ms);
        merge_sorted(&mut self.data.utterances, new_utterances, |u| u.start_ms);
        let old_watermark = self.watermark;
        self.watermark = watermark;
        let Some(w) = watermark else {
            return Ok(Update {
                watermark_ms: self.data.session.start_ms,
                bins: 0,
                rebuilt_from_ms: None,
                accepted,
                refused_late: refused,
                new_moments: Vec::new(),
                alerts: Vec::new(),
            });
        };
        // open intervals end at the watermark; the last bin of before grows
        self.stretch_open(w);
        if let Some(ow) = old_watermark {
            touch(ow.min(w), &mut dirty);
        }
        let rebuilt = self.rebuild(w, dirty, dirty_samples)?;
        self.trim_text(w);
        let before: std::collections::HashSet<(String, Ms, MomentKind)> = self
            .moments
            .iter()
            .map(|m| (m.metric.clone(), m.start_ms, m.kind))
            .collect();
        let video = self.data.session.recordings.first().map(|r| r.offset_ms);
        self.moments = crate::detect::timeline_moments(&self.tl, &self.detect, video)?;
        self.decomposition = match &self.model {
            Some(m) => Some(apply_model(m, &self.tl)?),
            None => None,
        };
        let new_moments: Vec<Moment> = self
            .moments
            .iter()
            .filter(|m| !before.contains(&(m.metric.clone(), m.start_ms, m.kind)))
            .cloned()
            .collect();
        let fired = alerts::evaluate(self, w)?;
        for a in &fired {
            for cb in self.callbacks.iter_mut() {
                cb(a);
            }
        }
        Ok(Update {
            watermark_ms: w,
            bins: self.tl.len(),
            rebuilt_from_ms: rebuilt,
            accepted,
            refused_late: refused,
            new_moments,
            alerts: fired,
        })
    }

    /// [`LiveSession::append`] of events as JSON (one object or an array):
    /// every event that cannot be read and every problem of those that can
    /// are reported together, by position, and none is taken.
    pub fn append_json(&mut self, text: &str) -> Result<Update> {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| VapError::InvalidArgument(format!("live events: not JSON: {e}")))?;
        self.append_value(v)
    }

    /// [`LiveSession::append_json`] of a JSON value.
    pub fn append_value(&mut self, v: serde_json::Value) -> Result<Update> {
        let items = match v {
            serde_json::Value::Array(a) => a,
            other => vec![other],
        };
        let mut problems = Vec::new();
        let mut events = Vec::with_capacity(items.len());
        let mut rows = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            match serde_json::from_value::<LiveEvent>(item) {
                Ok(e) => {
                    events.push(e);
                    rows.push(i + 1);
                }
                Err(e) => problems.push(crate::error::Problem::new(
                    "live events",
                    Some(i + 1),
                    None,
                    e.to_string(),
                )),
            }
        }
        if let Err(VapError::Validation(p)) = self.check_events(&events, Some(&rows)) {
            problems.extend(p);
        }
        if !problems.is_empty() {
            problems.sort_by_key(|p| p.row);
            return Err(VapError::Validation(problems));
        }
        self.append(events)
    }

    /// Every problem of a batch, before any is taken (`rows`: each event's
    /// position as given, where not its index + 1).
    fn check_events(&self, events: &[LiveEvent], rows: Option<&[usize]>) -> Result<()> {
        let mut problems = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let row = Some(rows.map_or(i + 1, |r| r[i]));
            let mut bad = |field: &str, msg: String| {
                problems.push(crate::error::Problem::new(
                    "live events",
                    row,
                    Some(field),
                    msg,
                ))
            };
            match e {
                LiveEvent::Sample { metric, value, .. } => {
                    if !self.series.contains_key(metric) {
                        let known: Vec<&str> = self.series.keys().map(|k| k.as_str()).collect();
                        bad(
                            "metric",
                            format!(
                                "metric '{metric}' is not declared (declared: {})",
                                known.join(", ")
                            ),
                        );
                    }
                    if !value.is_finite() {
                        bad("value", format!("not a finite number: {value}"));
                    }
                }
                LiveEvent::Order { amount, .. } if !amount.is_finite() || *amount < 0.0 => bad(
                    "amount",
                    format!("must be a finite amount >= 0, got {amount}"),
                ),
                LiveEvent::Comment { text, .. } if text.is_empty() => {
                    bad("text", "empty comment".into())
                }
                LiveEvent::Utterance {
                    start_ms, end_ms, ..
                } if end_ms < start_ms => bad(
                    "end_ms",
                    format!("ends ({end_ms}) before it starts ({start_ms})"),
                ),
                LiveEvent::Explain {
                    start_ms,
                    end_ms: Some(e),
                    ..
                }
                | LiveEvent::Shift {
                    start_ms,
                    end_ms: Some(e),
                    ..
                }
                | LiveEvent::Promotion {
                    start_ms,
                    end_ms: Some(e),
                    ..
                } if e < start_ms => bad(
                    "end_ms",
                    format!("ends ({e}) before it starts ({start_ms})"),
                ),
                _ => {}
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(VapError::Validation(problems))
        }
    }

    fn ensure_product(&mut self, id: &str) {
        if !self.data.products.iter().any(|p| p.id == id) {
            self.data.products.push(Product {
                id: id.to_string(),
                name: id.to_string(),
                price: 0.0,
                category: String::new(),
                aliases: Vec::new(),
            });
        }
    }

    /// Opens or closes an interval of `table` with identity `key` starting
    /// at `start`.
    fn interval(
        &mut self,
        table: IntervalTable,
        key: &str,
        start: Ms,
        end: Option<Ms>,
        dirty: &mut Option<Ms>,
    ) {
        let touch = |t: Ms, dirty: &mut Option<Ms>| *dirty = Some(dirty.map_or(t, |d| d.min(t)));
        // the open interval of the same identity and start, if any
        let same = self
            .open
            .iter()
            .position(|o| o.table == table && self.start_of(o) == start && self.key_of(o) == key);
        if let Some(k) = same {
            if let Some(e) = end {
                let o = self.open.remove(k);
                touch(e.min(self.end_of(&o)), dirty);
                self.set_end(&o, e);
            }
            return;
        }
        touch(start, dirty);
        let index = match table {
            IntervalTable::Segment => {
                if end.is_some()
                    && self
                        .data
                        .segments
                        .iter()
                        .any(|s| s.product_id == key && s.start_ms == start)
                {
                    return;
                }
                self.data.segments.push(ProductSegment {
                    product_id: key.to_string(),
                    kind: SegmentKind::Explain,
                    start_ms: start,
                    end_ms: end.unwrap_or(start),
                });
                self.data.segments.len() - 1
            }
            IntervalTable::Shift => {
                let (anchor, role) = key.split_once('\u{1}').unwrap_or((key, "host"));
                let role = match role {
                    "co_host" => ShiftRole::CoHost,
                    "field_control" => ShiftRole::FieldControl,
                    _ => ShiftRole::Host,
                };
                if end.is_some()
                    && self
                        .data
                        .shifts
                        .iter()
                        .any(|s| s.anchor_id == anchor && s.role == role && s.start_ms == start)
                {
                    return;
                }
                self.data.shifts.push(Shift {
                    anchor_id: anchor.to_string(),
                    role,
                    start_ms: start,
                    end_ms: end.unwrap_or(start),
                });
                self.data.shifts.len() - 1
            }
            IntervalTable::Promotion => {
                let Some(i) = self.data.promotions.iter().position(|p| p.id == key) else {
                    return;
                };
                let p = &mut self.data.promotions[i];
                p.start_ms = start;
                p.end_ms = end.unwrap_or(start);
                i
            }
        };
        if end.is_none() {
            self.open.push(Open { table, index });
        }
    }

    fn key_of(&self, o: &Open) -> String {
        match o.table {
            IntervalTable::Segment => self.data.segments[o.index].product_id.clone(),
            IntervalTable::Shift => {
                let s = &self.data.shifts[o.index];
                format!("{}\u{1}{}", s.anchor_id, role_str(s.role))
            }
            IntervalTable::Promotion => self.data.promotions[o.index].id.clone(),
        }
    }

    fn start_of(&self, o: &Open) -> Ms {
        match o.table {
            IntervalTable::Segment => self.data.segments[o.index].start_ms,
            IntervalTable::Shift => self.data.shifts[o.index].start_ms,
            IntervalTable::Promotion => self.data.promotions[o.index].start_ms,
        }
    }

    fn end_of(&self, o: &Open) -> Ms {
        match o.table {
            IntervalTable::Segment => self.data.segments[o.index].end_ms,
            IntervalTable::Shift => self.data.shifts[o.index].end_ms,
            IntervalTable::Promotion => self.data.promotions[o.index].end_ms,
        }
    }

    fn set_end(&mut self, o: &Open, e: Ms) {
        let e = e.max(self.start_of(o));
        match o.table {
            IntervalTable::Segment => self.data.segments[o.index].end_ms = e,
            IntervalTable::Shift => self.data.shifts[o.index].end_ms = e,
            IntervalTable::Promotion => self.data.promotions[o.index].end_ms = e,
        }
    }

    fn stretch_open(&mut self, w: Ms) {
        for o in self.open.clone() {
            self.set_end(&o, w);
        }
    }

    /// The product explained now (an open explain), with its start.
    pub(crate) fn explaining(&self) -> Option<(&str, Ms)> {
        self.open
            .iter()
            .filter(|o| o.table == IntervalTable::Segment)
            .map(|o| &self.data.segments[o.index])
            .max_by_key(|s| s.start_ms)
            .map(|s| (s.product_id.as_str(), s.start_ms))
    }

    /// Rebuilds the bins from the one holding `dirty` to the watermark's,
    /// and the metric columns and rates from `dirty_samples` (or from a
    /// series' first sample where its sampling interval changed); returns
    /// the first rebuilt bin's start.
    fn rebuild(
        &mut self,
        w: Ms,
        dirty: Option<Ms>,
        dirty_samples: Option<Ms>,
    ) -> Result<Option<Ms>> {
        let start = self.data.session.start_ms;
        let step = self.align.step_ms;
        // the bins up to the watermark's (none while every event is before
        // the session's start)
        let n = ((w - start).div_euclid(step) + 1).max(0) as usize;
        let end = start + n as Ms * step;
        self.data.session.end_ms = end;
        let old = self.tl.len();
        // a series' sampling interval decides its first sample's span (a
        // flow) or every reading's staleness (a gauge): when it changes,
        // the series is rebuilt from its start
        let from = dirty.unwrap_or(end);
        let mut from_pinned = dirty_samples.unwrap_or(end);
        let mut pinned = HashMap::new();
        for decl in &self.data.metrics {
            let Some(s) = self.series.get(&decl.name) else {
                continue;
            };
            let ts: Vec<Ms> = s.iter().map(|p| p.0).collect();
            let value = match decl.kind {
                MetricKind::Gauge => crate::align::default_staleness(&ts),
                _ => crate::align::median_gap(&ts).unwrap_or(0),
            };
            let prev = self.pinned.get(&decl.name).copied();
            if prev.is_some_and(|p| p != value) {
                if let Some(&(t0, _)) = s.first() {
                    from_pinned = from_pinned.min(t0 - value.max(prev.unwrap_or(0)));
                }
            }
            pinned.insert(decl.name.clone(), value);
        }
        self.pinned = pinned.clone();
        let bin_of = |t: Ms| {
            if t >= end {
                old.min(n)
            } else {
                (((t - start).max(0) / step) as usize).min(old).min(n)
            }
        };
        // rows [kp, k) changed only in the metric columns and the rates
        // (the text of those bins may be gone behind the horizon)
        let (k, kp) = (bin_of(from), bin_of(from_pinned).min(bin_of(from)));
        if kp >= n && old == n {
            return Ok(None);
        }
        let sample_kind = |m: &crate::align::ColumnMeta| {
            matches!(
                m.kind,
                crate::align::ColumnKind::Flow
                    | crate::align::ColumnKind::Gauge
                    | crate::align::ColumnKind::Rate
            )
        };
        let w0 = start + kp as Ms * step;
        let (sub, context) = self.window(w0);
        let opts = AlignOptions {
            start_ms: Some(w0),
            end_ms: Some(end),
            ..self.align.clone()
        };
        let mut tail = Timeline::build_window(&sub, &opts, &pinned)?;
        crate::attribute::enrich(&mut tail, &context)?;
        // a column the kept bins do not have (a new product, anchor or
        // promotion kind): its earlier bins from a build of all that is kept
        let missing_before = kp > 0
            && tail
                .columns()
                .iter()
                .any(|c| self.tl.position(&c.name).is_none());
        let full = if missing_before {
            let all = self.data();
            let opts = AlignOptions {
                start_ms: Some(start),
                end_ms: Some(end),
                ..self.align.clone()
            };
            let mut f = Timeline::build_window(&all, &opts, &pinned)?;
            crate::attribute::enrich(&mut f, &all)?;
            Some(f)
        } else {
            None
        };
        let grid = Grid::new(start, step, n)?;
        let mut tl = Timeline::empty(&self.data.room.id, &self.data.session.id, grid)
            .with_timezone(&self.data.session.timezone);
        let mut names: Vec<crate::align::ColumnMeta> = self.tl.columns().to_vec();
        for c in tail.columns() {
            if self.tl.position(&c.name).is_none() {
                names.push(c.clone());
            }
        }
        tl.reserve(names.len());
        for meta in names {
            let blank = if meta.kind.absent_is_zero() {
                0.0
            } else {
                f64::NAN
            };
            let mut v = Vec::with_capacity(n);
            let tail_v = tail.values(&meta.name).ok();
            match (self.tl.values(&meta.name), &full) {
                (Ok(o), _) if sample_kind(&meta) => v.extend_from_slice(&o[..kp]),
                (Ok(o), _) => v.extend_from_slice(&o[..k]),
                (Err(_), Some(f)) => match f.values(&meta.name) {
                    Ok(fv) => v.extend_from_slice(&fv[..kp]),
                    Err(_) => v.resize(kp, blank),
                },
                (Err(_), None) => v.resize(kp, blank),
            }
            // the tail's rows from where `v` ends
            let at = v.len() - kp;
            match tail_v {
                Some(t) => v.extend_from_slice(&t[at..]),
                None => v.resize(n, blank),
            }
            let meta = tail.meta(&meta.name).cloned().unwrap_or(meta);
            tl.push(meta, v)?;
        }
        self.tl = tl;
        Ok(Some(start + k.min(kp) as Ms * step))
    }

    /// The rows a rebuild from `w0` reads, for the timeline and for
    /// [`crate::attribute::enrich`]: every interval; the comments and orders
    /// from `w0`; the transcript lines that may reach into it; each series
    /// from its last sample before it; and for the answers column, the
    /// questions and transcript from [`CONTEXT_MS`] before it.
    fn window(&self, w0: Ms) -> (SessionData, SessionData) {
        let d = &self.data;
        let c0 = d.comments.partition_point(|c| c.ts_ms < w0);
        let o0 = d.orders.partition_point(|o| o.ts_ms < w0);
        let u0 = d
            .utterances
            .partition_point(|u| u.start_ms < w0 - UTTERANCE_REACH_MS);
        let from = w0 - CONTEXT_MS;
        let q0 = self.questions.partition_point(|c| c.ts_ms < from);
        let uq = d.utterances.partition_point(|u| u.start_ms < from);
        let mut samples = Vec::new();
        for (m, s) in &self.series {
            let mut a = s.partition_point(|p| p.0 < w0);
            if a > 0 {
                let t = s[a - 1].0;
                a -= 1;
                while a > 0 && s[a - 1].0 == t {
                    a -= 1;
                }
            }
            samples.extend(s[a..].iter().map(|&(ts_ms, value)| MetricSample {
                metric: m.clone(),
                ts_ms,
                value,
            }));
        }
        let build = SessionData {
            room: d.room.clone(),
            session: d.session.clone(),
            metrics: d.metrics.clone(),
            anchors: d.anchors.clone(),
            shifts: d.shifts.clone(),
            products: d.products.clone(),
            segments: d.segments.clone(),
            promotions: d.promotions.clone(),
            comments: d.comments[c0..].to_vec(),
            orders: d.orders[o0..].to_vec(),
            utterances: d.utterances[u0.min(uq)..].to_vec(),
            samples,
        };
        let enrich = SessionData {
            comments: self.questions[q0..].to_vec(),
            utterances: d.utterances[uq..].to_vec(),
            orders: Vec::new(),
            samples: Vec::new(),
            ..build.clone()
        };
        let build = SessionData {
            utterances: d.utterances[u0..].to_vec(),
            ..build
        };
        (build, enrich)
    }

    /// Drops comments and transcript lines behind the horizon (in chunks,
    /// so that the front of the table is not moved for every event).
    fn trim_text(&mut self, w: Ms) {
        let Some(h) = self.opts.horizon_ms else {
            return;
        };
        let cut = w - h;
        let q = self.questions.partition_point(|c| c.ts_ms < cut);
        if q > 0 && q * 4 >= self.questions.len() {
            self.questions.drain(..q);
        }
        let c = self.data.comments.partition_point(|c| c.ts_ms < cut);
        if c > 0 && c * 4 >= self.data.comments.len() {
            self.data.comments.drain(..c);
            self.dropped_text += c;
        }
        let u = self.data.utterances.partition_point(|u| u.end_ms < cut);
        if u > 0 && u * 4 >= self.data.utterances.len() {
            self.data.utterances.drain(..u);
            self.dropped_text += u;
        }
    }

    pub(crate) fn session_data(&self) -> &SessionData {
        &self.data
    }
}

/// [`RoomModel::apply`] on a live timeline: a factor column the stream has
/// not had yet (a promotion kind that has not run) is all zeros.
pub(crate) fn apply_model(model: &RoomModel, tl: &Timeline) -> Result<Decomposition> {
    let missing: Vec<&str> = model
        .factors
        .iter()
        .map(|f| f.column.as_str())
        .filter(|c| tl.position(c).is_none())
        .collect();
    if missing.is_empty() {
        return model.apply(tl);
    }
    let mut full = tl.clone();
    for c in missing {
        let meta = crate::align::ColumnMeta {
            name: c.to_string(),
            kind: crate::align::ColumnKind::Interval,
            source: "not in the stream yet".into(),
            unit: String::new(),
            has_missing: false,
        };
        full.push(meta, vec![0.0; tl.len()])?;
    }
    model.apply(&full)
}

fn role_str(r: ShiftRole) -> &'static str {
    match r {
        ShiftRole::Host => "host",
        ShiftRole::CoHost => "co_host",
        ShiftRole::FieldControl => "field_control",
    }
}

/// Merges `new` into the sorted `v` (stable: at one time, rows already
/// there first, then the new ones in their order).
fn merge_sorted<T>(v: &mut Vec<T>, mut new: Vec<T>, key: impl Fn(&T) -> Ms) {
    if new.is_empty() {
        return;
    }
    new.sort_by_key(|x| key(x));
    let first = key(&new[0]);
    let at = v.partition_point(|x| key(x) <= first);
    if at == v.len() {
        v.extend(new);
        return;
    }
    let tail: Vec<T> = v.drain(at..).collect();
    let mut a = tail.into_iter().peekable();
    let mut b = new.into_iter().peekable();
    loop {
        match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => {
                if key(x) <= key(y) {
                    v.push(a.next().unwrap_or_else(|| unreachable!()));
                } else {
                    v.push(b.next().unwrap_or_else(|| unreachable!()));
                }
            }
            (Some(_), None) => v.extend(a.by_ref()),
            (None, Some(_)) => v.extend(b.by_ref()),
            (None, None) => break,
        }
    }
}
