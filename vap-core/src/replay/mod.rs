//! The replays (复盘): what operators, anchors and field controllers open
//! after a stream, built on the timeline, the moments and the attribution
//! model (nothing recomputed by hand).
//!
//! [`replay`] reads one session (and the digests of the room's earlier
//! sessions, for the history comparison) and returns a [`Replay`]:
//!
//! - **data quality first** ([`Quality`]): silences in the comment, order and
//!   transcript streams that their own rate (scaled by the online viewers) makes
//!   less likely than one in a million, holes in each metric series, a
//!   transcript that starts late or stops early, the transcript clock's
//!   offset (estimated, never applied), orders outside the session, the
//!   platform's GMV against the orders;
//! - **headline figures** ([`Figure`]): GMV gross / net, orders, buyers, items,
//!   views, GPM, UV value, conversion, peak and average online viewers,
//!   average watch time, comments and interaction, the exposure → click →
//!   order funnel, questions answered; each with its source (raw, derived,
//!   model), missing with a reason where the data cannot support it, and
//!   against the room's history (median and top quartile of the earlier
//!   sessions, marked when fewer than `min_history`);
//! - **curves** on a 1-minute grid and the **top moments**, each with its
//!   attributed parts and intervals (`unexplained` shown), its place in the
//!   recording, the transcript and comments around it, the product in focus,
//!   the promotions running, and a flag when it overlaps a hole in the data;
//! - the **product replay** (per product: every explain segment with GMV,
//!   orders, clicks, conversion and its carryover; GMV per explain minute
//!   against history; the model's contribution; the anchor's phrases ranked by
//!   the orders that followed; viewers' questions and how they were answered);
//! - the **anchor replay** (per anchor and shift: 单小时 GMV, GPM, UV value;
//!   the model's anchor effect with its interval; phrases; questions);
//! - the **promotions** and the **questions** (detected, typed, linked,
//!   answered; [`crate::align::questions`]).
//!
//! [`Replay::view`] gives the part one role reads (operator, anchor, field
//! controller); [`Replay::table`] every table as Arrow; [`subtitles`] the
//! comments or transcript as SRT / WebVTT on a recording's clock;
//! [`from_store`] and [`room`] read a store.
//!
//! ```
//! use vap_core::replay::{replay, ReplayOptions};
//! use vap_core::sim::{simulate, SimConfig};
//!
//! let room = simulate(&SimConfig { seed: 2, hours: 1.0, ..Default::default() }).unwrap();
//! let r = replay(&room.data, &[], &ReplayOptions::default()).unwrap();
//! let gmv = r.figure("gmv_gross").unwrap();
//! assert_eq!(gmv.value, Some(room.data.gmv().gross));
//! assert!(r.moments.iter().all(|m| m.start_ms < m.end_ms));
//! assert!(r.figure("gpm").unwrap().value.is_some());
//! ```

mod export;
mod figure;
mod headline;
mod parts;
pub(crate) mod plan;
pub(crate) mod playbook;
mod quality;

use serde::{Deserialize, Serialize};

pub(crate) use export::rows_to_batch;
pub use export::{
    plan_rows, subtitles, Rows, SubtitleFormat, SubtitleOptions, SubtitleStream, PLAN_COLUMNS,
    TABLES,
};
pub use figure::{labels, quantile, Estimate, Figure, History, Source, LABELS};
pub use headline::{digest, headline, SessionDigest};
pub use parts::{
    AnchorReplay, ExplainReplay, PhraseStat, ProductReplay, PromotionReplay, QuestionStats,
    ShiftReplay,
};
pub use quality::{NoteKind, Quality, QualityNote, QualityOptions};

use crate::align::{questions, AlignOptions, Question, QuestionKind, QuestionOptions, Timeline};
use crate::attribute::{
    fit, AttributeOptions, AttributionTimelineOptions, Decomposition, Interval, MomentAds,
    PaidTraffic,
};
use crate::detect::{moments, top_k, DetectOptions, Driver, MomentKind};
use crate::error::{Result, VapError};
use crate::options::Options;
use crate::schema::{Comment, Ms, SessionData, Utterance};
use crate::store::Store;

/// Options of [`replay`]; the nested sets are those of the steps it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReplayOptions {
    /// How many top moments (default 5).
    pub top: usize,
    /// Transcript and comments shown either side of a moment (default 60 s).
    #[serde(alias = "context", with = "crate::options::duration")]
    pub context_ms: Ms,
    /// Comments kept per moment, spread evenly over its context (default 40;
    /// the count of all of them is reported).
    pub context_comments: usize,
    /// Bin width of the curves (default 1 min).
    #[serde(alias = "curve_step", with = "crate::options::duration")]
    pub curve_step_ms: Ms,
    /// Longest carryover window after an explain segment (default 5 min,
    /// cut at the next explain).
    #[serde(alias = "carryover", with = "crate::options::duration")]
    pub carryover_ms: Ms,
    /// Window after a phrase in which orders count for it (default 60 s).
    #[serde(alias = "follow", with = "crate::options::duration")]
    pub follow_ms: Ms,
    /// Uses below which a phrase is marked weak (default 5).
    pub min_support: usize,
    /// Earlier sessions needed to compare with history (default 4: fewer
    /// has no quartiles).
    pub min_history: usize,
    /// Unanswered questions listed (default 100; all are counted).
    pub list_questions: usize,
    /// Window in which unanswered questions about one product and kind
    /// count as a backlog (default 10 min).
    #[serde(alias = "backlog_window", with = "crate::options::duration")]
    pub backlog_window_ms: Ms,
    /// Unanswered questions that make a backlog (default 5) ...
    pub min_backlog: usize,
    /// ... when at least this share of the group's questions in the window
    /// went unanswered (default 0.8: a busy product whose questions mostly
    /// get answered is not a backlog).
    pub backlog_share: f64,
    /// Fit the attribution model (default true; without it the model
    /// figures are missing).
    pub attribute: bool,
    /// A start or a length further than this from the run-sheet is a
    /// deviation (default 2 min, [`plan::PLAN_TOLERANCE_MS`]).
    #[serde(alias = "plan_tolerance", with = "crate::options::duration")]
    pub plan_tolerance_ms: Ms,
    /// Moment detection.
    pub moments: DetectOptions,
    /// The attribution timeline.
    pub timeline: AttributionTimelineOptions,
    /// The attribution model.
    pub model: AttributeOptions,
    /// Question detection and answers.
    pub questions: QuestionOptions,
    /// The data-quality scan.
    pub quality: QualityOptions,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            top: 5,
            context_ms: 60_000,
            context_comments: 40,
            curve_step_ms: 60_000,
            carryover_ms: 300_000,
            follow_ms: 60_000,
            min_support: 5,
            min_history: 4,
            list_questions: 100,
            backlog_window_ms: 600_000,
            min_backlog: 5,
            backlog_share: 0.8,
            attribute: true,
            plan_tolerance_ms: plan::PLAN_TOLERANCE_MS,
            moments: DetectOptions::default(),
            timeline: AttributionTimelineOptions::default(),
            model: AttributeOptions::default(),
            questions: QuestionOptions::default(),
            quality: QualityOptions::default(),
        }
    }
}

impl Options for ReplayOptions {
    const WHAT: &'static str = "replay options";

    /// The nested option sets go through their own reading (their flat keys,
    /// defaults and checks) first.
    fn prepare(map: &mut serde_json::Map<String, serde_json::Value>) -> Result<()> {
        use crate::options::nested;
        nested::<DetectOptions>(Self::WHAT, map, "moments")?;
        nested::<AttributionTimelineOptions>(Self::WHAT, map, "timeline")?;
        nested::<AttributeOptions>(Self::WHAT, map, "model")?;
        nested::<QuestionOptions>(Self::WHAT, map, "questions")?;
        Ok(())
    }

    fn check(&self) -> Result<()> {
        let mut p = Vec::new();
        for (name, v) in [
            ("context", self.context_ms),
            ("curve_step", self.curve_step_ms),
            ("follow", self.follow_ms),
            ("backlog_window", self.backlog_window_ms),
        ] {
            if v <= 0 {
                p.push(format!("{name} must be positive, got {v} ms"));
            }
        }
        if self.carryover_ms < 0 {
            p.push("carryover must not be negative".into());
        }
        if self.plan_tolerance_ms < 0 {
            p.push("plan_tolerance must not be negative".into());
        }
        if !(self.backlog_share.is_finite() && (0.0..=1.0).contains(&self.backlog_share)) {
            p.push(format!(
                "backlog_share must be in [0, 1], got {}",
                self.backlog_share
            ));
        }
        if self.min_history < 1 {
            p.push("min_history must be at least 1".into());
        }
        // The model's parts are summed per curve step: whole model bins only.
        let model_step = self.timeline.0.step_ms;
        if self.curve_step_ms > 0 && model_step > 0 && self.curve_step_ms % model_step != 0 {
            p.push(format!(
                "curve_step ({} ms) must be a whole number of the model's timeline steps ({model_step} ms)",
                self.curve_step_ms
            ));
        }
        self.quality.problems(&mut p);
        crate::options::all_or_nothing(Self::WHAT, p)
    }
}

/// A metric curve on the replay's grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    /// Timeline column.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Raw (binned data) or derived (a rate).
    pub source: Source,
    /// One value per bin; `None` where the data do not reach.
    pub values: Vec<Option<f64>>,
}

/// The curves of a replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curves {
    /// Bin width.
    pub step_ms: Ms,
    /// Bin starts.
    pub time_ms: Vec<Ms>,
    /// The series.
    pub series: Vec<Curve>,
}

/// Where an instant falls in the session's recordings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingPosition {
    /// Index of the recording in the session's list.
    pub recording: usize,
    /// Its path as stored.
    pub path: String,
    /// Position in the file, ms.
    pub position_ms: Ms,
}

/// A top moment with everything around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MomentReplay {
    /// Rank (1 = largest).
    pub rank: usize,
    /// Metric it was found on.
    pub metric: String,
    /// Peak, drop or shift.
    pub kind: MomentKind,
    /// Traffic, conversion, both or unclear.
    pub driver: Driver,
    /// Start.
    pub start_ms: Ms,
    /// End.
    pub end_ms: Ms,
    /// Excess over the baseline in the metric's units.
    pub magnitude: f64,
    /// Robust z-score.
    pub score: f64,
    /// Share of the metric's session total.
    pub share: f64,
    /// The model's target the parts split (GMV from orders by default).
    pub target: Option<String>,
    /// The target's excess over its reference window in the moment.
    pub excess: Option<f64>,
    /// The excess split into traffic, factors, the baseline's drift and
    /// `unexplained` (last), with 95 % bootstrap intervals.
    pub parts: Vec<Estimate>,
    /// Where it is in the recording.
    pub recording: Option<RecordingPosition>,
    /// Product explained (or pinned) at its start.
    pub product_in_focus: Option<String>,
    /// Promotions running during it (ids).
    pub promotions: Vec<String>,
    /// What was said from `context` before to `context` after.
    pub transcript: Vec<Utterance>,
    /// Comments in the same span, spread evenly (`context_comments` at most).
    pub comments: Vec<Comment>,
    /// All comments in the span.
    pub comments_in_context: usize,
    /// Questions asked in the span.
    pub questions_in_context: usize,
    /// A data-quality note the moment overlaps: read it before the moment.
    pub data_gap: Option<String>,
    /// The ads inside the moment, where the session has ad spend: spend,
    /// paid entries, the part of the traffic part the ads brought, the paid
    /// viewers' GMV and its return on the spend.
    #[serde(default)]
    pub ads: Option<MomentAds>,
}

/// The attribution model's session view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// Target column.
    pub target: String,
    /// Session totals of baseline, traffic, each factor and `unexplained`.
    pub totals: Vec<Estimate>,
    /// In-sample R².
    pub r2: Option<f64>,
    /// Holdout R² (the last share of the session).
    pub holdout_r2: Option<f64>,
    /// The fit's warnings.
    pub warnings: Vec<String>,
    /// Paid and natural traffic where the session has ad spend (`None`
    /// otherwise; see [`crate::attribute::PaidTraffic`]).
    #[serde(default)]
    pub ads: Option<AdsSummary>,
    /// The same parts over time, on the curves' grid (`curves.time_ms`):
    /// baseline, traffic, each factor and `unexplained`, each step the sum of
    /// the model's bins that start in it (`curve_step` is a whole number of
    /// model steps, so the parts of a step add up to the target's actual
    /// value there); `None` where any of its bins was not fitted (a hole).
    pub over_time: Vec<Curve>,
}

/// The session's ads: what was spent, the paid entries and viewers, the
/// paid viewers' GMV and the return on ad spend, with intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdsSummary {
    /// Total spend (yuan).
    pub spend: f64,
    /// Paid entries (`None` without an entries stream).
    pub paid_entries: Option<f64>,
    /// Paid share of the entries.
    pub paid_entries_share: Option<f64>,
    /// Paid entries per yuan, with its interval.
    pub entries_per_yuan: Option<Interval>,
    /// Paid share of the viewers online.
    pub paid_viewers_share: f64,
    /// Half-life from spend to entries (or to viewers without entries), ms.
    pub carryover_ms: Ms,
    /// The part of the session's baseline and traffic the paid viewers
    /// account for (`None` in the linear form).
    pub paid_traffic: Option<f64>,
    /// The paid viewers' predicted GMV, with its interval.
    pub paid_gmv: Option<Interval>,
    /// Return on ad spend (paid GMV per yuan), with its interval.
    pub roi: Option<Interval>,
    /// Caveats of the split.
    pub notes: Vec<String>,
}

impl AdsSummary {
    /// The summary of a fit's split.
    pub fn of(p: &PaidTraffic) -> AdsSummary {
        let fin = |x: f64| x.is_finite().then_some(x);
        AdsSummary {
            spend: p.spend,
            paid_entries: p.entries.as_ref().map(|e| e.paid),
            paid_entries_share: p.entries.as_ref().and_then(|e| fin(e.share)),
            entries_per_yuan: p.entries.as_ref().map(|e| e.per_yuan),
            paid_viewers_share: if p.viewers.share.is_finite() {
                p.viewers.share
            } else {
                0.0
            },
            carryover_ms: p
                .entries
                .as_ref()
                .map_or(p.viewers.carryover_ms, |e| e.carryover_ms),
            paid_traffic: p.paid_traffic,
            paid_gmv: p.paid_gmv,
            roi: p.roi,
            notes: p.notes.clone(),
        }
    }
}

/// Unanswered questions piling up: one product and kind, in the densest
/// `backlog_window` of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backlog {
    /// The product asked about (`None`: no product could be told).
    pub product_id: Option<String>,
    /// What was asked.
    pub kind: QuestionKind,
    /// First unanswered question of the window.
    pub start_ms: Ms,
    /// Last one.
    pub end_ms: Ms,
    /// Unanswered questions in the window.
    pub unanswered: usize,
    /// Distinct viewers who asked them.
    pub viewers: usize,
}

/// The questions section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Questions {
    /// Counts, share answered, latency, by kind.
    pub stats: QuestionStats,
    /// Backlogs of at least `min_backlog` unanswered questions, largest first.
    pub backlogs: Vec<Backlog>,
    /// Unanswered questions: one from each backlog in turn (largest first),
    /// then the others by time (`list_questions` at most).
    pub unanswered: Vec<Question>,
    /// Every question (not serialised: see [`Replay::table`]`("questions")`).
    #[serde(skip)]
    pub all: Vec<Question>,
}

/// A session replay (直播复盘) with its product and anchor replays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replay {
    /// Room id.
    pub room_id: String,
    /// Session id.
    pub session_id: String,
    /// Title.
    pub title: Option<String>,
    /// Session start.
    pub start_ms: Ms,
    /// Session end.
    pub end_ms: Ms,
    /// Display time zone.
    pub timezone: String,
    /// Earlier sessions of the room the history comparison read.
    pub history_sessions: Vec<String>,
    /// The folder a recording's relative path (one copied into the store)
    /// resolves against: the session's directory for a replay of a stored
    /// session ([`from_store`]), `None` for one of data in memory. Clips and
    /// the report's stills read recordings through it.
    #[serde(default)]
    pub media_dir: Option<String>,
    /// Data quality, to be read first.
    pub quality: Quality,
    /// Headline figures.
    pub headline: Vec<Figure>,
    /// Curves.
    pub curves: Curves,
    /// The attribution model's session view (`None` when not fitted; see
    /// `model_error`).
    pub model: Option<ModelSummary>,
    /// Why the model was not fitted.
    pub model_error: Option<String>,
    /// The top moments.
    pub moments: Vec<MomentReplay>,
    /// Product replays.
    pub products: Vec<ProductReplay>,
    /// Anchor replays.
    pub anchors: Vec<AnchorReplay>,
    /// Promotions.
    pub promotions: Vec<PromotionReplay>,
    /// Viewers' questions.
    pub questions: Questions,
    /// The session against its run-sheet ([`crate::plan`]), when one is
    /// attached ([`crate::schema::Session::plan`]); deviations valued with
    /// this replay's model.
    #[serde(default)]
    pub plan: Option<plan::PlanReview>,
    /// Why the run-sheet could not be compared (an item ending before it
    /// starts, say).
    #[serde(default)]
    pub plan_error: Option<String>,
}

/// Who reads a replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 运营: traffic, funnel, conversion, data quality.
    Operator,
    /// 主播: own speech, questions, own effect.
    Anchor,
    /// 场控: promotion timing, product order, explain lengths.
    FieldControl,
}

impl Role {
    /// The replay's sections this role reads, in order.
    pub fn sections(self) -> &'static [&'static str] {
        match self {
            Role::Operator => &[
                "quality",
                "headline",
                "curves",
                "model",
                "moments",
                "plan",
                "promotions",
                "products",
            ],
            Role::Anchor => &["quality", "anchors", "questions", "moments", "products"],
            Role::FieldControl => &[
                "quality",
                "plan",
                "promotions",
                "products",
                "moments",
                "curves",
            ],
        }
    }

    /// Reads "operator", "anchor", "field_control" (also "field-control").
    pub fn parse(s: &str) -> Result<Role> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "operator" => Ok(Role::Operator),
            "anchor" => Ok(Role::Anchor),
            "field_control" | "fieldcontrol" | "field_controller" => Ok(Role::FieldControl),
            other => Err(VapError::InvalidArgument(format!(
                "unknown role '{other}' (expected operator, anchor or field_control)"
            ))),
        }
    }
}

impl Replay {
    /// The headline figure with `key`.
    pub fn figure(&self, key: &str) -> Option<&Figure> {
        self.headline.iter().find(|f| f.key == key)
    }

    /// The replay as one role reads it: the session's identity plus that
    /// role's sections ([`Role::sections`]), as JSON.
    pub fn view(&self, role: Role) -> Result<serde_json::Value> {
        let all = serde_json::to_value(self).map_err(|e| VapError::Internal(e.to_string()))?;
        let mut out = serde_json::Map::new();
        out.insert(
            "role".into(),
            serde_json::to_value(role).unwrap_or_default(),
        );
        for k in [
            "room_id",
            "session_id",
            "title",
            "start_ms",
            "end_ms",
            "timezone",
        ]
        .iter()
        .chain(role.sections())
        {
            if let Some(v) = all.get(*k) {
                out.insert((*k).to_string(), v.clone());
            }
        }
        Ok(serde_json::Value::Object(out))
    }

    /// The replay as JSON text.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| VapError::Internal(e.to_string()))
    }
}

/// The recording holding session instant `t`.
pub fn locate(data: &SessionData, t: Ms) -> Option<RecordingPosition> {
    let recs = &data.session.recordings;
    let covering = recs.iter().position(|r| match r.span() {
        Some((a, b)) => t >= a && t < b,
        None => t >= r.offset_ms,
    });
    covering.map(|i| RecordingPosition {
        recording: i,
        path: recs[i].path.clone(),
        position_ms: t - recs[i].offset_ms,
    })
}

const CURVES: &[&str] = &[
    "order_gmv",
    "orders",
    "entries",
    "online_viewers",
    "gpm",
    "conversion",
    "comments",
    "product_clicks",
];

/// The model's parts summed per curve step (see [`ModelSummary::over_time`]).
fn parts_over_time(dec: &Decomposition, curves: &Curves) -> Vec<Curve> {
    let step = curves.step_ms.max(1);
    let groups: Vec<(String, Vec<(Ms, Ms)>)> = curves
        .time_ms
        .iter()
        .map(|&t| (String::new(), vec![(t, t + step)]))
        .collect();
    let per_step = dec.totals_by(&groups);
    // A step counts only when every model bin starting in it was fitted:
    // then its parts add up to the target's actual value there.
    let bins_in = |t: Ms| {
        let a = dec.time_ms.partition_point(|x| *x < t);
        let b = dec.time_ms.partition_point(|x| *x < t + step);
        b - a
    };
    let unit = curves
        .series
        .iter()
        .find(|c| c.name == dec.target)
        .map_or_else(String::new, |c| c.unit.clone());
    let mut names: Vec<String> = per_step
        .first()
        .map(|g| g.parts.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default();
    names.push("unexplained".into());
    names
        .into_iter()
        .enumerate()
        .map(|(k, name)| Curve {
            name,
            unit: unit.clone(),
            source: Source::Model,
            values: per_step
                .iter()
                .zip(&curves.time_ms)
                .map(|(g, &t)| {
                    (g.bins > 0 && g.bins == bins_in(t)).then(|| match g.parts.get(k) {
                        Some((_, v)) => *v,
                        None => g.actual - g.prediction,
                    })
                })
                .collect(),
        })
        .collect()
}

fn curves(data: &SessionData, questions: &[Question], opts: &ReplayOptions) -> Result<Curves> {
    // The curves read no text column: questions come from the replay's own
    // detection.
    let tl = Timeline::build_numeric(
        data,
        &AlignOptions {
            step_ms: opts.curve_step_ms,
            per_product: false,
            ..Default::default()
        },
    )?;
    let mut series = Vec::new();
    for name in CURVES {
        let Ok(v) = tl.values(name) else { continue };
        let meta = tl.meta(name);
        let missing = tl.missing(name);
        series.push(Curve {
            name: (*name).to_string(),
            unit: meta.map(|m| m.unit.clone()).unwrap_or_default(),
            source: if matches!(*name, "gpm" | "conversion") {
                Source::Derived
            } else {
                Source::Raw
            },
            values: v
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    let gone = missing.is_some_and(|m| m[i]) || !x.is_finite();
                    (!gone).then_some(*x)
                })
                .collect(),
        });
    }
    let times = tl.time_ms().to_vec();
    let mut q = vec![0.0; times.len()];
    let mut a = vec![0.0; times.len()];
    for x in questions {
        let i = ((x.ts_ms - data.session.start_ms) / opts.curve_step_ms.max(1)) as usize;
        if let Some(v) = q.get_mut(i) {
            *v += 1.0;
        }
        if let Some(ans) = &x.answer {
            let j = ((ans.ts_ms - data.session.start_ms) / opts.curve_step_ms.max(1)) as usize;
            if let Some(v) = a.get_mut(j) {
                *v += 1.0;
            }
        }
    }
    for (name, v) in [("questions", q), ("answers", a)] {
        series.push(Curve {
            name: name.into(),
            unit: "count".into(),
            source: Source::Derived,
            values: v.into_iter().map(Some).collect(),
        });
    }
    Ok(Curves {
        step_ms: opts.curve_step_ms,
        time_ms: times,
        series,
    })
}

fn moment_replays(
    data: &SessionData,
    found: &[crate::detect::Moment],
    questions: &[Question],
    dec: Option<&Decomposition>,
    paid: Option<&PaidTraffic>,
    quality: &Quality,
    opts: &ReplayOptions,
) -> Vec<MomentReplay> {
    let top = top_k(found, None, opts.top);
    let window = opts.moments.window_ms;
    top.iter()
        .enumerate()
        .map(|(k, m)| {
            let (target, excess, parts, reference) = match dec {
                Some(d) => {
                    let split = if m.metric == d.target {
                        d.moment(m, window)
                    } else {
                        d.window(&d.target, m.start_ms, m.end_ms, None, window)
                    };
                    match split {
                        Ok(s) => (
                            Some(d.target.clone()),
                            Some(s.excess),
                            s.parts.iter().map(Estimate::from).collect(),
                            Some(s.reference_ms),
                        ),
                        Err(_) => (Some(d.target.clone()), None, vec![], None),
                    }
                }
                None => (None, None, vec![], None),
            };
            let reference = reference.unwrap_or((m.start_ms - window / 2, m.end_ms + window / 2));
            let ads = paid
                .zip(dec)
                .map(|(p, d)| p.moment(d, m.start_ms, m.end_ms, reference));
            let (a, b) = (m.start_ms - opts.context_ms, m.end_ms + opts.context_ms);
            let transcript: Vec<Utterance> = data
                .utterances
                .iter()
                .filter(|u| u.end_ms > a && u.start_ms < b)
                .cloned()
                .collect();
            let lo = data.comments.partition_point(|c| c.ts_ms < a);
            let hi = data.comments.partition_point(|c| c.ts_ms < b);
            let all = &data.comments[lo..hi];
            let keep = opts.context_comments.min(all.len());
            let comments: Vec<Comment> = (0..keep)
                .map(|i| all[i * all.len() / keep.max(1)].clone())
                .collect();
            let promotions = data
                .promotions
                .iter()
                .filter(|p| p.start_ms < m.end_ms && m.start_ms < p.end_ms)
                .map(|p| p.id.clone())
                .collect();
            MomentReplay {
                rank: k + 1,
                metric: m.metric.clone(),
                kind: m.kind,
                driver: m.driver,
                start_ms: m.start_ms,
                end_ms: m.end_ms,
                magnitude: m.magnitude,
                score: m.score,
                share: m.share,
                target,
                excess,
                parts,
                ads,
                recording: locate(data, m.start_ms),
                product_in_focus: crate::align::focus_at(data, m.start_ms, 0).map(str::to_string),
                promotions,
                transcript,
                comments,
                comments_in_context: all.len(),
                questions_in_context: questions
                    .iter()
                    .filter(|q| q.ts_ms >= a && q.ts_ms < b)
                    .count(),
                data_gap: quality
                    .gap_in(m.start_ms, m.end_ms)
                    .map(|n| n.message.clone()),
            }
        })
        .collect()
}

/// The backlogs of unanswered questions, and the unanswered list ordered by them.
fn backlogs(qs: &[Question], opts: &ReplayOptions) -> (Vec<Backlog>, Vec<Question>) {
    // Questions grouped by (product, kind): when each was asked, and which
    // were not answered. Grouped in a hash map, then ordered by key.
    type Key<'a> = (Option<&'a str>, QuestionKind);
    /// When each question of a key was asked; which were not answered.
    type Group = (Vec<Ms>, Vec<usize>);
    let mut by_key: rustc_hash::FxHashMap<Key, Group> = Default::default();
    for (i, q) in qs.iter().enumerate() {
        let e = by_key.entry((q.product_id.as_deref(), q.kind)).or_default();
        e.0.push(q.ts_ms);
        if q.answer.is_none() {
            e.1.push(i);
        }
    }
    let mut by_key: Vec<(Key, Group)> = by_key.into_iter().collect();
    by_key.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::new();
    for ((product, kind), (asked, idx)) in by_key.iter().filter(|(_, (_, u))| !u.is_empty()) {
        let (product, kind) = (*product, *kind);
        let (mut best, mut at) = (0usize, 0usize);
        let mut lo = 0;
        for hi in 0..idx.len() {
            while qs[idx[hi]].ts_ms - qs[idx[lo]].ts_ms > opts.backlog_window_ms {
                lo += 1;
            }
            if hi + 1 - lo > best {
                best = hi + 1 - lo;
                at = lo;
            }
        }
        let members = &idx[at..at + best.max(1)];
        let (s, e) = (qs[members[0]].ts_ms, qs[members[members.len() - 1]].ts_ms);
        let all = if asked.is_sorted() {
            asked.partition_point(|&x| x <= e) - asked.partition_point(|&x| x < s)
        } else {
            asked.iter().filter(|&&x| x >= s && x <= e).count()
        };
        if best >= opts.min_backlog.max(1) && best as f64 >= opts.backlog_share * all as f64 {
            let viewers: rustc_hash::FxHashSet<&str> =
                members.iter().map(|&i| qs[i].viewer_id.as_str()).collect();
            out.push((
                Backlog {
                    product_id: product.map(str::to_string),
                    kind,
                    start_ms: qs[members[0]].ts_ms,
                    end_ms: qs[*members.last().unwrap_or(&members[0])].ts_ms,
                    unanswered: best,
                    viewers: viewers.len(),
                },
                members.to_vec(),
            ));
        }
    }
    out.sort_by(|a, b| {
        b.0.unanswered
            .cmp(&a.0.unanswered)
            .then(a.0.start_ms.cmp(&b.0.start_ms))
    });
    // One from each backlog in turn (largest first), then the rest by time,
    // `list_questions` at most.
    let cap = opts.list_questions;
    let mut listed: Vec<usize> = Vec::new();
    let longest = out.iter().map(|(_, m)| m.len()).max().unwrap_or(0);
    for k in 0..longest {
        if listed.len() >= cap {
            break;
        }
        listed.extend(out.iter().filter_map(|(_, m)| m.get(k).copied()));
    }
    listed.truncate(cap);
    let seen: rustc_hash::FxHashSet<usize> = listed.iter().copied().collect();
    let rest = cap - listed.len();
    listed.extend(
        qs.iter()
            .enumerate()
            .filter(|(i, q)| q.answer.is_none() && !seen.contains(i))
            .map(|(i, _)| i)
            .take(rest),
    );
    let unanswered = listed.into_iter().map(|i| qs[i].clone()).collect();
    (out.into_iter().map(|(b, _)| b).collect(), unanswered)
}

/// The replay of one session, compared with the digests of the room's
/// earlier sessions in `history` (those of this session, or starting after
/// it, are ignored). See the module docs.
pub fn replay(
    data: &SessionData,
    history: &[SessionDigest],
    opts: &ReplayOptions,
) -> Result<Replay> {
    opts.check()?;
    let past: Vec<&SessionDigest> = history
        .iter()
        .filter(|d| d.session_id != data.session.id && d.start_ms < data.session.start_ms)
        .collect();
    // What does not read the questions runs beside their detection: the
    // model's timeline, the moments and the data quality.
    let timeline_side = || {
        opts.attribute.then(|| {
            // Comments are matched against the lexicon only when the model
            // reads a comment column (the default model does not).
            if model_reads_comments(&opts.model) {
                Timeline::build(data, &opts.timeline.0)
            } else {
                Timeline::build_speech_only(data, &opts.timeline.0)
            }
        })
    };
    let moment_side = || moments(data, &opts.moments);
    let quality_side = || quality::quality(data, &opts.quality);
    let (qs, (tl, (found, quality))) = crate::threads::install(|| {
        rayon::join(
            || questions(data, &opts.questions),
            || rayon::join(timeline_side, || rayon::join(moment_side, quality_side)),
        )
    });
    let qs = qs?;
    // The model on one side, what reads the questions on the other (under
    // the caller's job, whichever thread runs it; a stopped fit stops the
    // replay: checked below).
    let job = crate::job::Job::current();
    let model_side = || match tl {
        Some(tl) => {
            let tl = tl.and_then(|mut tl| {
                crate::attribute::enrich_with(&mut tl, data, Some(&qs))?;
                Ok(tl)
            });
            match tl.and_then(|tl| job.run(|| fit(&tl, &opts.model)).map(|f| (tl, f))) {
                Ok((tl, f)) => (Some(f), Some(tl), None),
                Err(e) => (None, None, Some(e.to_string())),
            }
        }
        None => (
            None,
            None,
            Some("not asked for (attribute = false)".to_string()),
        ),
    };
    let head_side = || {
        let mut head = headline(data, &qs);
        for f in &mut head {
            let values: Vec<f64> = past
                .iter()
                .filter_map(|d| d.headline.get(&f.key).copied())
                .collect();
            f.history = Some(History::of(f.value, &values, opts.min_history));
        }
        head
    };
    let curve_side = || curves(data, &qs, opts);
    let question_side = || {
        let folded: Vec<String> = data
            .utterances
            .iter()
            .map(|u| crate::align::fold(&u.text))
            .collect();
        let stats = QuestionStats::of(&qs);
        let (backlogs, unanswered) = backlogs(&qs, opts);
        (folded, stats, backlogs, unanswered)
    };
    // Independent parts side by side: the same result on any number of
    // threads.
    let ((fitted, model_tl, model_error), ((head, curves), q)) = crate::threads::install(|| {
        rayon::join(model_side, || {
            rayon::join(|| rayon::join(head_side, curve_side), question_side)
        })
    });
    job.check()?;
    let (curves, found) = (curves?, found?);
    let (folded, stats, backlogs, unanswered) = q;
    let dec = fitted.as_ref().map(|f| &f.decomposition);
    let model = fitted.as_ref().map(|f| {
        let fin = |x: f64| x.is_finite().then_some(x);
        ModelSummary {
            over_time: parts_over_time(&f.decomposition, &curves),
            target: f.decomposition.target.clone(),
            totals: f
                .decomposition
                .totals()
                .iter()
                .map(Estimate::from)
                .collect(),
            r2: fin(f.diagnostics.r2),
            holdout_r2: fin(f.diagnostics.holdout_r2),
            warnings: f.diagnostics.warnings.clone(),
            ads: f.paid.as_ref().map(AdsSummary::of),
        }
    });
    let paid = fitted.as_ref().and_then(|f| f.paid.as_ref());
    let (moments, (products, (anchors, promotions))) = crate::threads::install(|| {
        rayon::join(
            || moment_replays(data, &found, &qs, dec, paid, &quality, opts),
            || {
                rayon::join(
                    || parts::products(data, &folded, &qs, dec, &past, opts),
                    || {
                        (
                            parts::anchors(data, &folded, &qs, dec, &past, opts),
                            parts::promotions(data, dec),
                        )
                    },
                )
            },
        )
    });
    // The run-sheet against what ran, valued with the replay's model.
    let (plan, plan_error) = match &data.session.plan {
        None => (None, None),
        Some(sheet) => match plan::compare_with(
            data,
            sheet,
            model_tl.as_ref().zip(fitted.as_ref()),
            &opts.timeline,
            opts.plan_tolerance_ms,
        ) {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e.to_string())),
        },
    };
    Ok(Replay {
        room_id: data.room.id.clone(),
        session_id: data.session.id.clone(),
        title: data.session.title.clone(),
        start_ms: data.session.start_ms,
        end_ms: data.session.end_ms,
        timezone: data.session.timezone.clone(),
        history_sessions: past.iter().map(|d| d.session_id.clone()).collect(),
        media_dir: None,
        quality,
        headline: head,
        curves,
        model,
        model_error,
        moments,
        products,
        anchors,
        promotions,
        plan,
        plan_error,
        questions: Questions {
            stats,
            backlogs,
            unanswered,
            all: qs,
        },
    })
}

/// Whether a model with these options reads a column built from comments'
/// text (`questions`, `comments:<group>`); the default factors do not.
fn model_reads_comments(opts: &crate::attribute::AttributeOptions) -> bool {
    let text = |c: &str| c == "questions" || c.starts_with("comments:");
    text(&opts.target)
        || opts.exposure.as_deref().is_some_and(text)
        || opts
            .factors
            .as_ref()
            .is_some_and(|f| f.iter().any(|f| text(&f.column)))
}

/// The digests of a room's stored sessions that started before `before`
/// (all of them when `None`), read one session at a time.
pub fn store_history(
    store: &Store,
    room_id: &str,
    before: Option<Ms>,
    opts: &ReplayOptions,
) -> Result<Vec<SessionDigest>> {
    let infos: Vec<_> = store
        .sessions(Some(room_id))?
        .into_iter()
        .filter(|i| before.is_none_or(|b| i.start_ms < b) && i.damage.is_empty())
        .collect();
    crate::store::par_sessions(&infos, |i| {
        Ok(stored_digest(store, room_id, &i.session_id, opts, false)?.digest)
    })
}

/// Version of what a [`SessionDigest`] holds and how questions are found:
/// raise it when either changes, so that digests cached in a store are
/// computed again.
const DIGEST_VERSION: u32 = 1;

/// The digest of a stored session: cached beside it ([`Store::cached`]) and
/// computed again only when the session's files, the question options or
/// vap's rules changed.
fn stored_digest(
    store: &Store,
    room_id: &str,
    session_id: &str,
    opts: &ReplayOptions,
    keep_data: bool,
) -> Result<StoredDigest> {
    let key = digest_key(opts)?;
    if let Some(v) = store.cached(room_id, session_id, "replay-digest", &key)? {
        if let Ok(digest) = serde_json::from_value::<SessionDigest>(v) {
            let data = match keep_data {
                true => Some(store.load(room_id, session_id)?),
                false => None,
            };
            return Ok(StoredDigest {
                digest,
                data,
                questions: None,
            });
        }
    }
    let files = store.cache_fingerprint(room_id, session_id)?;
    let data = store.load(room_id, session_id)?;
    let qs = questions(&data, &opts.questions)?;
    let d = digest(&data, &qs);
    put_digest(store, (room_id, session_id), &d, &key, files.as_deref());
    Ok(StoredDigest {
        digest: d,
        data: keep_data.then_some(data),
        questions: Some(qs),
    })
}

/// What [`stored_digest`] read: the digest, the session's data when it was
/// asked for, and its questions when the digest was computed (not cached).
struct StoredDigest {
    digest: SessionDigest,
    data: Option<SessionData>,
    questions: Option<Vec<Question>>,
}

/// The key a cached digest was computed with.
fn digest_key(opts: &ReplayOptions) -> Result<String> {
    Ok(format!(
        "digest {DIGEST_VERSION} vap {} questions {}",
        env!("CARGO_PKG_VERSION"),
        serde_json::to_string(&opts.questions).map_err(|e| VapError::Internal(e.to_string()))?
    ))
}

/// Caches a session's digest, computed from its files as they were when
/// their fingerprint `files` was taken.
fn put_digest(
    store: &Store,
    (room_id, session_id): (&str, &str),
    d: &SessionDigest,
    key: &str,
    files: Option<&str>,
) {
    let (Some(files), Ok(v)) = (files, serde_json::to_value(d)) else {
        return;
    };
    // A cache that cannot be written (a full disk) costs time, not
    // correctness.
    let _ = store.put_cached(room_id, session_id, "replay-digest", key, v, files);
}

/// The replay of a stored session against the room's earlier stored sessions.
pub fn from_store(
    store: &Store,
    room_id: &str,
    session_id: &str,
    opts: &ReplayOptions,
) -> Result<Replay> {
    opts.check()?;
    let files = store.cache_fingerprint(room_id, session_id)?;
    let data = store.load(room_id, session_id)?;
    let history = store_history(store, room_id, Some(data.session.start_ms), opts)?;
    let mut r = replay(&data, &history, opts);
    if let Ok(r) = &mut r {
        let dir = store.session_dir(room_id, session_id)?;
        // Absolute, so that it still resolves after the caller changes folder.
        let dir = std::path::absolute(&dir).unwrap_or(dir);
        r.media_dir = Some(dir.display().to_string());
    }
    // This session's digest, from the replay's own headline: the replays of
    // later sessions read it instead of loading this one again.
    // Best effort: a digest that cannot be cached costs the next replay
    // time, never this one its result.
    if let (Ok(r), Ok(key)) = (&r, digest_key(opts)) {
        let d = headline::digest_with(&data, &r.headline);
        put_digest(store, (room_id, session_id), &d, &key, files.as_deref());
    }
    // Millions of comment strings take a while to free: on vap's pool, not
    // on the caller's time.
    crate::threads::pool().spawn(move || drop(data));
    r
}

/// A product across a room's sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomProduct {
    /// Product id.
    pub product_id: String,
    /// Sessions it was explained in.
    pub sessions: usize,
    /// Explain minutes in all.
    pub explain_minutes: f64,
    /// Its GMV while explained, in all.
    pub gmv_while_explained: f64,
    /// GMV per explain minute over the room.
    pub gmv_per_explain_minute: Option<f64>,
    /// Per session: (session id, explain minutes, GMV while explained).
    pub per_session: Vec<(String, f64, f64)>,
}

/// An anchor across a room's sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomAnchor {
    /// Anchor id.
    pub anchor_id: String,
    /// Sessions hosted.
    pub sessions: usize,
    /// Hours hosting.
    pub hours: f64,
    /// GMV during host shifts.
    pub gmv: f64,
    /// GMV per hour hosting.
    pub gmv_per_hour: Option<f64>,
    /// GPM over the host shifts (where every session has views).
    pub gpm: Option<f64>,
    /// The room model's anchor effect (the `host:<id>` factor over all the
    /// anchor's shifts, session fixed effects in the model), with interval.
    pub effect: Option<Estimate>,
}

fn utc() -> String {
    "UTC".into()
}

/// Products and anchors across a room's stored sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomReplay {
    /// Room id.
    pub room_id: String,
    /// The room's name (from its latest session).
    #[serde(default)]
    pub name: Option<String>,
    /// The time zone of its latest session (IANA name; `UTC` when unknown).
    #[serde(default = "utc")]
    pub timezone: String,
    /// Every session's digest, by start.
    pub sessions: Vec<SessionDigest>,
    /// Products, by GMV while explained.
    pub products: Vec<RoomProduct>,
    /// Anchors, by hours.
    pub anchors: Vec<RoomAnchor>,
    /// Why the room model was not fitted (anchor effects then missing).
    pub model_error: Option<String>,
}

/// Products and anchors over a room's history, anchor effects from the room
/// model (every stored session stacked, session fixed effects).
pub fn room(store: &Store, room_id: &str, opts: &ReplayOptions) -> Result<RoomReplay> {
    opts.check()?;
    // One pass over the room: each session's digest (cached, or computed and
    // cached) and, for the room model, its attribution timeline and host
    // shifts, the session's data dropped once they are taken (its questions,
    // where the digest just found them, reused by the timeline).
    let reuse_questions = opts.questions == QuestionOptions::default();
    type Part = (
        SessionDigest,
        Option<(Result<Timeline>, Vec<(String, Ms, Ms)>)>,
    );
    let mut infos = store.sessions(Some(room_id))?;
    crate::store::sort_sessions(&mut infos);
    let parts: Vec<Option<Part>> = crate::store::par_sessions(&infos, |info| {
        if !info.damage.is_empty() {
            return Ok(None);
        }
        let sd = stored_digest(store, room_id, &info.session_id, opts, opts.attribute)?;
        let model = sd.data.map(|d| {
            let shifts: Vec<(String, Ms, Ms)> = d
                .shifts
                .iter()
                .filter(|s| s.role == crate::schema::ShiftRole::Host)
                .map(|s| (s.anchor_id.clone(), s.start_ms, s.end_ms))
                .collect();
            let qs = sd.questions.as_deref().filter(|_| reuse_questions);
            (
                crate::attribute::session_timeline_with(&d, &opts.timeline.0, qs),
                shifts,
            )
        });
        Ok(Some((sd.digest, model)))
    })?;
    let mut sessions = Vec::with_capacity(parts.len());
    let mut timelines = Vec::with_capacity(parts.len());
    let mut shifts = Vec::new();
    for (digest, model) in parts.into_iter().flatten() {
        sessions.push(digest);
        if let Some((tl, s)) = model {
            timelines.push(tl);
            shifts.extend(s);
        }
    }
    sessions.sort_by_key(|d| d.start_ms);
    let mut products: std::collections::BTreeMap<String, RoomProduct> = Default::default();
    let mut anchors: std::collections::BTreeMap<String, RoomAnchor> = Default::default();
    let mut views_known: std::collections::BTreeMap<String, Option<f64>> = Default::default();
    for d in &sessions {
        for (id, &(m, g)) in &d.products {
            let e = products.entry(id.clone()).or_insert_with(|| RoomProduct {
                product_id: id.clone(),
                sessions: 0,
                explain_minutes: 0.0,
                gmv_while_explained: 0.0,
                gmv_per_explain_minute: None,
                per_session: vec![],
            });
            e.sessions += 1;
            e.explain_minutes += m;
            e.gmv_while_explained += g;
            e.per_session.push((d.session_id.clone(), m, g));
        }
        for (id, &(h, g, v)) in &d.anchors {
            let e = anchors.entry(id.clone()).or_insert_with(|| RoomAnchor {
                anchor_id: id.clone(),
                sessions: 0,
                hours: 0.0,
                gmv: 0.0,
                gmv_per_hour: None,
                gpm: None,
                effect: None,
            });
            e.sessions += 1;
            e.hours += h;
            e.gmv += g;
            let known = views_known.entry(id.clone()).or_insert(Some(0.0));
            *known = match (*known, v) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
        }
    }
    let (dec, model_error) = if opts.attribute && !timelines.is_empty() {
        // A timeline that cannot be built is the model's error, not the
        // room's.
        let r = timelines
            .into_iter()
            .collect::<Result<Vec<_>>>()
            .and_then(crate::align::Timeline::stack)
            .and_then(|tl| fit(&tl, &opts.model));
        match r {
            Ok(f) => (Some((f.decomposition, shifts)), None),
            // A stopped call is not a model that failed: it stops the replay.
            Err(e) if e.kind() == crate::ErrorKind::Cancelled => return Err(e),
            Err(e) => (None, Some(e.to_string())),
        }
    } else {
        (None, Some("not asked for, or no sessions".to_string()))
    };
    let mut products: Vec<RoomProduct> = products
        .into_values()
        .map(|mut p| {
            p.gmv_per_explain_minute =
                figure::ratio(Some(p.gmv_while_explained), Some(p.explain_minutes));
            p
        })
        .collect();
    products.sort_by(|a, b| b.gmv_while_explained.total_cmp(&a.gmv_while_explained));
    let mut anchors: Vec<RoomAnchor> = anchors
        .into_values()
        .map(|mut a| {
            a.gmv_per_hour = figure::ratio(Some(a.gmv), Some(a.hours));
            a.gpm = figure::ratio(
                Some(a.gmv * 1000.0),
                views_known.get(&a.anchor_id).copied().flatten(),
            );
            if let Some((d, shifts)) = &dec {
                let spans: Vec<(Ms, Ms)> = shifts
                    .iter()
                    .filter(|s| s.0 == a.anchor_id)
                    .map(|s| (s.1, s.2))
                    .collect();
                let name = format!("host:{}", a.anchor_id);
                a.effect = d
                    .part_within(&name, &spans, |n| n == name)
                    .map(|p| Estimate::from(&p));
            }
            a
        })
        .collect();
    anchors.sort_by(|a, b| b.hours.total_cmp(&a.hours));
    let latest = sessions
        .last()
        .and_then(|d| store.manifest(room_id, &d.session_id).ok())
        .map(|m| m.manifest);
    Ok(RoomReplay {
        room_id: room_id.to_string(),
        name: latest.as_ref().map(|m| m.room.name.clone()),
        timezone: latest.map_or_else(utc, |m| m.session.timezone),
        sessions,
        products,
        anchors,
        model_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_types_are_send_sync() {
        fn ss<T: Send + Sync>() {}
        ss::<Replay>();
        ss::<ReplayOptions>();
        ss::<RoomReplay>();
        ss::<SessionDigest>();
    }

    #[test]
    fn roles_parse_and_differ() {
        assert_eq!(Role::parse("field-control").unwrap(), Role::FieldControl);
        assert!(Role::parse("boss").is_err());
        assert_ne!(Role::Operator.sections(), Role::Anchor.sections());
    }

    #[test]
    fn options_check_every_field() {
        let e = ReplayOptions::from_json(r#"{"context": "0s", "min_history": 0}"#).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("context") && msg.contains("min_history"),
            "{msg}"
        );
        let o = ReplayOptions::from_json(r#"{"moments": {"step": "1min"}, "top": 3}"#).unwrap();
        assert_eq!((o.moments.step_ms, o.top), (60_000, 3));
        assert!(ReplayOptions::from_json(r#"{"moments": {"step": "-1s"}}"#).is_err());
        assert!(ReplayOptions::from_json(r#"{"tpo": 3}"#).is_err());
    }
}
