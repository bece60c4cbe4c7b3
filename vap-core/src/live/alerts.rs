//! Alerts of a live session: what fires, when, and the factors behind it.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::LiveSession;
use crate::align::QuestionOptions;
use crate::detect::{Moment, MomentKind};
use crate::error::Result;
use crate::ingest::PlannedItem;
use crate::options::Options;
use crate::schema::{Comment, Ms, PlanKind, SegmentKind, SessionData, ShiftRole};

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Orders per viewer fell while traffic rose: the recent window against
    /// the one before it, both changes past the moment detector's driver
    /// thresholds ([`crate::detect::DetectOptions::exposure_change`],
    /// [`crate::detect::DetectOptions::rate_change`]) and the orders
    /// significantly below what the earlier rate predicts at the new traffic.
    ConversionDrop,
    /// Viewers' questions nobody answered: at least
    /// [`AlertOptions::backlog`] questions asked in the last
    /// [`AlertOptions::backlog_window_ms`] with no answer within the
    /// question options' answer window ([`crate::align::questions`]); the
    /// alert lists them (the [`MAX_LISTED`] most recent). At most one per
    /// backlog window.
    QuestionBacklog,
    /// The product being explained has run [`AlertOptions::overrun`] times
    /// its planned length (the run-sheet's slot for it).
    ExplainOverrun,
    /// Online viewers fell after the host changed: the
    /// [`AlertOptions::anchor_window_ms`] after the change against the same
    /// length before it, by at least [`AlertOptions::anchor_drop`].
    ViewersAfterAnchorChange,
    /// A stream that was arriving (comments, orders, transcript, a metric)
    /// has been silent for [`AlertOptions::silence_ms`] or five times its
    /// usual gap, whichever is longer.
    StreamSilent,
    /// A peak or drop in the moment list, once its bins are complete (not
    /// reaching into the watermark's bin, still filling), once per moment:
    /// one that overlaps a moment alerted before on the same stream and
    /// side, its edges moved as bins arrived, is not alerted again.
    Moment,
}

impl AlertKind {
    /// The snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::ConversionDrop => "conversion_drop",
            AlertKind::QuestionBacklog => "question_backlog",
            AlertKind::ExplainOverrun => "explain_overrun",
            AlertKind::ViewersAfterAnchorChange => "viewers_after_anchor_change",
            AlertKind::StreamSilent => "stream_silent",
            AlertKind::Moment => "moment",
        }
    }
}

/// A factor behind an alert: a model contribution that changed, a stream
/// that moved, or what was on air.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertFactor {
    /// Its name: a model factor (`explain`, `speech:urgency`, `traffic`), a
    /// stream (`online_viewers`, `orders`), or what was on air
    /// (`explain:<product>`, `host:<anchor>`, `promotion:<id>`).
    pub name: String,
    /// Its value, where it has one: a contribution's change (the model
    /// target's units per minute), a stream's relative change (−0.3: 30 %
    /// down).
    pub value: Option<f64>,
    /// What the value is, in words.
    pub what: String,
}

/// An alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// What it is about.
    pub kind: AlertKind,
    /// When it fired (the watermark, ms).
    pub at_ms: Ms,
    /// The span it is about: start (ms).
    pub start_ms: Ms,
    /// The span it is about: end (ms, exclusive).
    pub end_ms: Ms,
    /// One line, in English.
    pub message: String,
    /// One line, in Chinese.
    pub message_zh: String,
    /// The stream it is on, where it is on one.
    pub metric: Option<String>,
    /// The product, where it is about one.
    pub product_id: Option<String>,
    /// The anchor, where it is about one.
    pub anchor_id: Option<String>,
    /// The factors behind it, the largest first.
    pub factors: Vec<AlertFactor>,
    /// The questions (a backlog's).
    pub questions: Vec<String>,
}

/// When alerts fire (see [`AlertKind`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertOptions {
    /// Which kinds fire (default all).
    pub kinds: Option<Vec<AlertKind>>,
    /// The recent window a conversion drop is judged on (default 10 min).
    #[serde(alias = "window", with = "crate::options::duration")]
    pub window_ms: Ms,
    /// The window before it it is compared with (default 30 min).
    #[serde(alias = "baseline", with = "crate::options::duration")]
    pub baseline_ms: Ms,
    /// How far (Poisson z-score) the recent orders must fall below what the
    /// earlier rate predicts at the recent traffic (default 3).
    pub z: f64,
    /// Unanswered questions that make a backlog (default 5).
    pub backlog: usize,
    /// How far back a backlog counts questions (default 10 min).
    #[serde(alias = "backlog_window", with = "crate::options::duration")]
    pub backlog_window_ms: Ms,
    /// How to find questions and their answers.
    pub questions: QuestionOptions,
    /// An explain running this many times its planned length overruns
    /// (default 1.5).
    pub overrun: f64,
    /// The window after (and before) a host change (default 5 min).
    #[serde(alias = "anchor_window", with = "crate::options::duration")]
    pub anchor_window_ms: Ms,
    /// Relative fall of online viewers after a host change that alerts
    /// (default 0.15).
    pub anchor_drop: f64,
    /// Shortest silence of a stream that alerts (default 2 min).
    #[serde(alias = "silence", with = "crate::options::duration")]
    pub silence_ms: Ms,
    /// Items a stream must have had before its silence counts (default 10).
    pub min_items: usize,
}

impl Default for AlertOptions {
    fn default() -> Self {
        AlertOptions {
            kinds: None,
            window_ms: 10 * 60_000,
            baseline_ms: 30 * 60_000,
            z: 3.0,
            backlog: 5,
            backlog_window_ms: 10 * 60_000,
            questions: QuestionOptions::default(),
            overrun: 1.5,
            anchor_window_ms: 5 * 60_000,
            anchor_drop: 0.15,
            silence_ms: 2 * 60_000,
            min_items: 10,
        }
    }
}

impl Options for AlertOptions {
    const WHAT: &'static str = "alert options";

    fn prepare(map: &mut serde_json::Map<String, serde_json::Value>) -> Result<()> {
        crate::options::nested::<QuestionOptions>(Self::WHAT, map, "questions")
    }

    fn check(&self) -> Result<()> {
        let mut problems = Vec::new();
        for (what, v) in [
            ("window", self.window_ms),
            ("baseline", self.baseline_ms),
            ("backlog_window", self.backlog_window_ms),
            ("anchor_window", self.anchor_window_ms),
            ("silence", self.silence_ms),
        ] {
            if v <= 0 {
                problems.push(format!("{what} must be positive, got {v} ms"));
            }
        }
        for (what, v) in [("z", self.z), ("overrun", self.overrun)] {
            if !(v.is_finite() && v > 0.0) {
                problems.push(format!("{what} must be a positive number, got {v}"));
            }
        }
        if !(self.anchor_drop.is_finite() && self.anchor_drop > 0.0 && self.anchor_drop < 1.0) {
            problems.push(format!(
                "anchor_drop must be between 0 and 1, got {}",
                self.anchor_drop
            ));
        }
        if self.backlog == 0 {
            problems.push("backlog must be at least 1".into());
        }
        if let Err(e) = self.questions.check() {
            problems.push(format!("questions: {e}"));
        }
        crate::options::all_or_nothing(Self::WHAT, problems)
    }
}

/// The most questions a backlog alert lists (the most recent).
pub const MAX_LISTED: usize = 20;

/// What the alerts remember between updates.
#[derive(Debug, Default)]
pub(super) struct State {
    fired: Vec<Alert>,
    plan: Vec<PlannedItem>,
    /// Per stream: first and last arrival, items.
    streams: HashMap<String, (Ms, Ms, usize)>,
    silent: HashSet<String>,
    /// Questions asked and not yet answered or expired.
    pending: Vec<Comment>,
    alerted_questions: HashSet<(Ms, String)>,
    last_backlog: Option<Ms>,
    /// Moments alerted: metric, kind, span.
    alerted_moments: Vec<(String, MomentKind, Ms, Ms)>,
    last_backlog_check: Option<Ms>,
    conversion_active: bool,
    overruns: HashSet<(String, Ms)>,
    anchor_changes: HashSet<Ms>,
}

impl State {
    pub(super) fn new(plan: Vec<PlannedItem>) -> State {
        State {
            plan,
            ..Default::default()
        }
    }

    pub(super) fn fired(&self) -> &[Alert] {
        &self.fired
    }

    /// A stream's item arrived at `t`.
    pub(super) fn saw(&mut self, stream: &str, t: Ms) {
        match self.streams.get_mut(stream) {
            Some(s) => {
                s.0 = s.0.min(t);
                s.1 = s.1.max(t);
                s.2 += 1;
            }
            None => {
                self.streams.insert(stream.to_string(), (t, t, 1));
            }
        }
        self.silent.remove(stream);
    }

    /// A question arrived: kept while it may join a backlog.
    pub(super) fn question(&mut self, c: &Comment) {
        self.pending.push(c.clone());
    }
}

fn on(opts: &AlertOptions, k: AlertKind) -> bool {
    opts.kinds.as_ref().is_none_or(|ks| ks.contains(&k))
}

/// Local clock time `HH:MM` of `t` in the session's zone.
fn clock(data: &SessionData, t: Ms) -> String {
    use chrono::TimeZone as _;
    let tz: chrono_tz::Tz = data.session.timezone.parse().unwrap_or(chrono_tz::UTC);
    match tz.timestamp_millis_opt(t) {
        chrono::LocalResult::Single(d) | chrono::LocalResult::Ambiguous(d, _) => {
            d.format("%H:%M:%S").to_string()
        }
        chrono::LocalResult::None => t.to_string(),
    }
}

/// The alerts due at watermark `w`.
pub(super) fn evaluate(live: &mut LiveSession, w: Ms) -> Result<Vec<Alert>> {
    let mut st = std::mem::take(&mut live.alerts);
    let out = evaluate_with(live, &mut st, w);
    live.alerts = st;
    out
}

fn evaluate_with(live: &LiveSession, st: &mut State, w: Ms) -> Result<Vec<Alert>> {
    let opts = &live.opts.alerts;
    let mut out = Vec::new();
    if on(opts, AlertKind::Moment) {
        // one alert per episode: a moment overlapping (or within the merge
        // gap of) one alerted before on the same stream and side is the same
        // moment, its edges moved by the bins since
        let gap = live.opts.detect.merge_gap_ms;
        // the watermark's own bin is still filling: a moment reaching into
        // it waits (a half-filled bin looks like a drop)
        let filling = live.timeline().time_ms().last().copied().unwrap_or(w);
        for m in live
            .moments()
            .iter()
            .filter(|m| m.kind != MomentKind::Shift && m.end_ms <= filling)
        {
            let seen = st.alerted_moments.iter().any(|(metric, kind, a, b)| {
                *metric == m.metric
                    && *kind == m.kind
                    && m.start_ms < b + gap
                    && m.end_ms + gap > *a
            });
            if !seen {
                st.alerted_moments
                    .push((m.metric.clone(), m.kind, m.start_ms, m.end_ms));
                out.push(moment_alert(live, w, m));
            }
        }
    }
    if on(opts, AlertKind::ConversionDrop) {
        conversion(live, st, w, opts, &mut out);
    }
    if on(opts, AlertKind::QuestionBacklog) {
        backlog(live, st, w, opts, &mut out)?;
    } else {
        st.pending.clear();
    }
    if on(opts, AlertKind::ExplainOverrun) {
        overrun(live, st, w, opts, &mut out);
    }
    if on(opts, AlertKind::ViewersAfterAnchorChange) {
        anchor_change(live, st, w, opts, &mut out);
    }
    if on(opts, AlertKind::StreamSilent) {
        silence(live, st, w, opts, &mut out);
    }
    st.fired.extend(out.iter().cloned());
    Ok(out)
}

/// What was on air over `[a, b)`: the products explained, the hosts, the
/// promotions running.
fn on_air(data: &SessionData, a: Ms, b: Ms) -> Vec<AlertFactor> {
    let mut out = Vec::new();
    let overlap = |s: Ms, e: Ms| s < b && e > a;
    for s in data
        .segments
        .iter()
        .filter(|s| s.kind == SegmentKind::Explain && overlap(s.start_ms, s.end_ms))
    {
        let name = data
            .products
            .iter()
            .find(|p| p.id == s.product_id)
            .map(|p| p.name.as_str())
            .unwrap_or(&s.product_id);
        push_once(
            &mut out,
            AlertFactor {
                name: format!("explain:{}", s.product_id),
                value: None,
                what: format!("{name} explained"),
            },
        );
    }
    for s in data
        .shifts
        .iter()
        .filter(|s| s.role == ShiftRole::Host && overlap(s.start_ms, s.end_ms))
    {
        push_once(
            &mut out,
            AlertFactor {
                name: format!("host:{}", s.anchor_id),
                value: None,
                what: format!("{} hosting", s.anchor_id),
            },
        );
    }
    for p in data
        .promotions
        .iter()
        .filter(|p| overlap(p.start_ms, p.end_ms))
    {
        push_once(
            &mut out,
            AlertFactor {
                name: format!("promotion:{}", p.id),
                value: None,
                what: format!("{:?} running", p.kind).to_lowercase(),
            },
        );
    }
    out
}

fn push_once(v: &mut Vec<AlertFactor>, f: AlertFactor) {
    if !v.iter().any(|x| x.name == f.name) {
        v.push(f);
    }
}

/// The model's contributions over bins `[a, b)` against `[c, d)`, per
/// minute, the largest changes first (at most `k`).
fn contribution_changes(
    live: &LiveSession,
    (a, b): (usize, usize),
    (c, d): (usize, usize),
    k: usize,
) -> Vec<AlertFactor> {
    let Some(dec) = live.decomposition() else {
        return Vec::new();
    };
    let per_min = 60_000.0 / live.step_ms() as f64;
    let mean = |v: &[f64], a: usize, b: usize| -> Option<f64> {
        let xs: Vec<f64> = v[a.min(v.len())..b.min(v.len())]
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
    };
    let mut out: Vec<AlertFactor> = std::iter::once(("traffic", &dec.traffic))
        .chain(
            dec.factors
                .iter()
                .map(|f| f.as_str())
                .zip(dec.contributions.iter()),
        )
        .filter_map(|(name, v)| {
            let delta = (mean(v, a, b)? - mean(v, c, d)?) * per_min;
            (delta.abs() > 1e-9).then(|| AlertFactor {
                name: name.to_string(),
                value: Some(delta),
                what: format!(
                    "change of the model's {name} contribution, {} per minute",
                    dec.target
                ),
            })
        })
        .collect();
    out.sort_by(|x, y| {
        y.value
            .unwrap_or(0.0)
            .abs()
            .total_cmp(&x.value.unwrap_or(0.0).abs())
    });
    out.truncate(k);
    out
}

fn moment_alert(live: &LiveSession, w: Ms, m: &Moment) -> Alert {
    let data = live.session_data();
    let up = m.kind == MomentKind::Peak;
    let mut factors: Vec<AlertFactor> = m
        .moved
        .iter()
        .map(|s| AlertFactor {
            name: s.metric.clone(),
            value: Some(s.change),
            what: "relative change against its baseline".into(),
        })
        .collect();
    factors.extend(on_air(data, m.start_ms, m.end_ms));
    let (a, b) = (clock(data, m.start_ms), clock(data, m.end_ms));
    let driver = format!("{:?}", m.driver).to_lowercase();
    Alert {
        kind: AlertKind::Moment,
        at_ms: w,
        start_ms: m.start_ms,
        end_ms: m.end_ms,
        message: format!(
            "{} {} {a}–{b} ({:+.0} against its baseline), driver: {driver}",
            m.metric,
            if up { "peak" } else { "drop" },
            m.magnitude
        ),
        message_zh: format!(
            "{} {} {a}–{b}（较基线 {:+.0}），驱动：{}",
            m.metric,
            if up { "高峰" } else { "下跌" },
            m.magnitude,
            match m.driver {
                crate::detect::Driver::Traffic => "流量",
                crate::detect::Driver::Conversion => "转化",
                crate::detect::Driver::Both => "流量与转化",
                crate::detect::Driver::Unclear => "不明",
            }
        ),
        metric: Some(m.metric.clone()),
        product_id: None,
        anchor_id: None,
        factors,
        questions: Vec::new(),
    }
}

/// Mean of the finite values of `v[a..b]`, with how many there were.
fn mean_of(v: &[f64], a: usize, b: usize) -> (f64, usize) {
    let xs = v[a.min(v.len())..b.min(v.len())]
        .iter()
        .filter(|x| x.is_finite());
    let (s, n) = xs.fold((0.0, 0), |(s, n), x| (s + x, n + 1));
    (if n > 0 { s / n as f64 } else { f64::NAN }, n)
}

fn conversion(
    live: &LiveSession,
    st: &mut State,
    w: Ms,
    opts: &AlertOptions,
    out: &mut Vec<Alert>,
) {
    let tl = live.timeline();
    let n = tl.len();
    let step = live.step_ms();
    let nw = (opts.window_ms / step).max(1) as usize;
    let nb = (opts.baseline_ms / step).max(1) as usize;
    // the watermark's own bin is still filling
    if n < nw + nb + 1 {
        return;
    }
    let (b1, b0) = (n - 1, n - 1 - nw);
    let (a1, a0) = (b0, b0 - nb);
    let expo = ["online_viewers", "entries"]
        .into_iter()
        .find_map(|c| tl.values(c).ok().map(|v| (c, v)));
    let (Some((expo_name, ev)), Ok(ov)) = (expo, tl.values("orders")) else {
        return;
    };
    let (ew, kw) = mean_of(ev, b0, b1);
    let (eb, kb) = mean_of(ev, a0, a1);
    if kw * 2 < nw || kb * 2 < nb || !(ew > 0.0 && eb > 0.0) {
        return;
    }
    let ow: f64 = ov[b0..b1].iter().filter(|x| x.is_finite()).sum();
    let ob: f64 = ov[a0..a1].iter().filter(|x| x.is_finite()).sum();
    let e = (ew / eb).ln();
    let r = ((ow + 0.5) / nw as f64 / ((ob + 0.5) / nb as f64)).ln() - e;
    // what the earlier rate predicts at the recent traffic
    let expected = ob / nb as f64 * nw as f64 * ew / eb;
    let z = if expected > 0.0 {
        (ow - expected) / expected.sqrt()
    } else {
        0.0
    };
    let det = &live.opts.detect;
    let firing = e >= det.exposure_change && r <= -det.rate_change && z <= -opts.z;
    if !firing {
        st.conversion_active = false;
        return;
    }
    if st.conversion_active {
        return;
    }
    st.conversion_active = true;
    let grid_t = |i: usize| tl.time_ms()[i];
    let (start, end) = (grid_t(b0), grid_t(b1));
    let mut factors = vec![
        AlertFactor {
            name: expo_name.to_string(),
            value: Some(e.exp() - 1.0),
            what: "relative change of traffic, recent window against the one before".into(),
        },
        AlertFactor {
            name: "orders_per_viewer".into(),
            value: Some(r.exp() - 1.0),
            what: "relative change of orders per viewer".into(),
        },
    ];
    factors.extend(contribution_changes(live, (b0, b1), (a0, a1), 3));
    let data = live.session_data();
    factors.extend(on_air(data, start, end));
    let (ta, tb) = (clock(data, start), clock(data, end));
    out.push(Alert {
        kind: AlertKind::ConversionDrop,
        at_ms: w,
        start_ms: start,
        end_ms: end,
        message: format!(
            "conversion falling while traffic rises {ta}–{tb}: traffic {:+.0} %, orders per viewer {:+.0} % ({ow:.0} orders where {expected:.0} were expected)",
            (e.exp() - 1.0) * 100.0,
            (r.exp() - 1.0) * 100.0
        ),
        message_zh: format!(
            "{ta}–{tb} 流量上升而转化下降：流量 {:+.0}%，人均下单 {:+.0}%（{ow:.0} 单，按此前转化应有 {expected:.0} 单）",
            (e.exp() - 1.0) * 100.0,
            (r.exp() - 1.0) * 100.0
        ),
        metric: Some("orders".into()),
        product_id: live.explaining().map(|(p, _)| p.to_string()),
        anchor_id: None,
        factors,
        questions: Vec::new(),
    });
}

fn backlog(
    live: &LiveSession,
    st: &mut State,
    w: Ms,
    opts: &AlertOptions,
    out: &mut Vec<Alert>,
) -> Result<()> {
    // once per bin is enough (the pairing reads the transcript)
    let bin = w.div_euclid(live.step_ms());
    if st.last_backlog_check == Some(bin) {
        return Ok(());
    }
    st.last_backlog_check = Some(bin);
    let wait = opts.questions.answer_window_ms;
    let oldest = w - opts.backlog_window_ms - wait;
    st.pending.retain(|c| c.ts_ms >= oldest);
    if st.pending.len() < opts.backlog {
        return Ok(());
    }
    let data = live.session_data();
    let mut pending = st.pending.clone();
    pending.sort_by_key(|c| c.ts_ms);
    let from = pending[0].ts_ms;
    let u0 = data.utterances.partition_point(|u| u.start_ms < from);
    let probe = SessionData {
        room: data.room.clone(),
        session: data.session.clone(),
        metrics: Vec::new(),
        anchors: data.anchors.clone(),
        shifts: data.shifts.clone(),
        products: data.products.clone(),
        segments: data.segments.clone(),
        promotions: Vec::new(),
        comments: pending,
        orders: Vec::new(),
        utterances: data.utterances[u0..].to_vec(),
        samples: Vec::new(),
    };
    let found = crate::align::questions(&probe, &opts.questions)?;
    // answered questions are done; unanswered ones past the answer window
    // are the backlog
    let answered: HashSet<(Ms, &str)> = found
        .iter()
        .filter(|q| q.answer.is_some())
        .map(|q| (q.ts_ms, q.text.as_str()))
        .collect();
    let unanswered: Vec<&crate::align::Question> = found
        .iter()
        .filter(|q| {
            q.answer.is_none()
                && q.ts_ms + wait <= w
                && q.ts_ms >= w - opts.backlog_window_ms - wait
        })
        .collect();
    let fresh = unanswered
        .iter()
        .filter(|q| !st.alerted_questions.contains(&(q.ts_ms, q.text.clone())))
        .count();
    // the most recent ones, at most MAX_LISTED
    let texts: Vec<String> = unanswered
        .iter()
        .rev()
        .take(MAX_LISTED)
        .rev()
        .map(|q| q.text.clone())
        .collect();
    let keys: Vec<(Ms, String)> = unanswered
        .iter()
        .map(|q| (q.ts_ms, q.text.clone()))
        .collect();
    let products: Vec<String> = {
        let mut p: Vec<String> = unanswered
            .iter()
            .filter_map(|q| q.product_id.as_deref().map(String::from))
            .collect();
        p.sort();
        p.dedup();
        p
    };
    let start = unanswered.iter().map(|q| q.ts_ms).min();
    let answered_keys: Vec<(Ms, &str)> = answered.iter().map(|(t, s)| (*t, &**s)).collect();
    st.pending
        .retain(|c| !answered_keys.contains(&(c.ts_ms, c.text.as_str())));
    // at most one backlog alert per backlog window
    let cooling = st
        .last_backlog
        .is_some_and(|t| w - t < opts.backlog_window_ms);
    if unanswered.len() < opts.backlog || fresh < opts.backlog || cooling {
        return Ok(());
    }
    st.last_backlog = Some(w);
    st.alerted_questions.extend(keys);
    let start = start.unwrap_or(w);
    let mut factors: Vec<AlertFactor> = products
        .iter()
        .map(|p| AlertFactor {
            name: format!("product:{p}"),
            value: None,
            what: "a product the questions ask about".into(),
        })
        .collect();
    factors.extend(on_air(data, start, w));
    let n = unanswered.len();
    out.push(Alert {
        kind: AlertKind::QuestionBacklog,
        at_ms: w,
        start_ms: start,
        end_ms: w,
        message: format!(
            "{n} viewer questions unanswered since {}",
            clock(data, start)
        ),
        message_zh: format!("{} 以来有 {n} 个观众提问未回答", clock(data, start)),
        metric: Some("questions".into()),
        product_id: products.first().cloned(),
        anchor_id: None,
        factors,
        questions: texts,
    });
    Ok(())
}

fn overrun(live: &LiveSession, st: &mut State, w: Ms, opts: &AlertOptions, out: &mut Vec<Alert>) {
    let Some((product, start)) = live.explaining().map(|(p, s)| (p.to_string(), s)) else {
        return;
    };
    if st.overruns.contains(&(product.clone(), start)) {
        return;
    }
    // the planned slot of the product starting nearest this explain
    let Some(slot) = st
        .plan
        .iter()
        .filter(|i| i.kind == PlanKind::Product && i.product_id.as_deref() == Some(&product))
        .min_by_key(|i| (i.start_ms - start).abs())
    else {
        return;
    };
    let planned = slot.end_ms - slot.start_ms;
    let elapsed = w - start;
    if planned <= 0 || (elapsed as f64) < opts.overrun * planned as f64 {
        return;
    }
    st.overruns.insert((product.clone(), start));
    let data = live.session_data();
    let mut factors = vec![AlertFactor {
        name: "planned_minutes".into(),
        value: Some(planned as f64 / 60_000.0),
        what: "the run-sheet's length for this slot, minutes".into(),
    }];
    if let Ok(o) = live.timeline().values(&format!("orders:{product}")) {
        let step = live.step_ms();
        let i0 = ((start - data.session.start_ms) / step).max(0) as usize;
        let sum: f64 = o[i0.min(o.len())..].iter().filter(|x| x.is_finite()).sum();
        factors.push(AlertFactor {
            name: format!("orders:{product}"),
            value: Some(sum / (elapsed as f64 / 60_000.0)),
            what: "orders of the product per minute since the explain began".into(),
        });
    }
    factors.extend(on_air(data, start, w));
    let name = data
        .products
        .iter()
        .find(|p| p.id == product)
        .map(|p| p.name.clone())
        .unwrap_or(product.clone());
    let (m, pm) = (elapsed / 60_000, planned / 60_000);
    out.push(Alert {
        kind: AlertKind::ExplainOverrun,
        at_ms: w,
        start_ms: start,
        end_ms: w,
        message: format!("{name} explained for {m} min, planned {pm} min"),
        message_zh: format!("{name} 已讲解 {m} 分钟，计划 {pm} 分钟"),
        metric: None,
        product_id: Some(product),
        anchor_id: None,
        factors,
        questions: Vec::new(),
    });
}

fn anchor_change(
    live: &LiveSession,
    st: &mut State,
    w: Ms,
    opts: &AlertOptions,
    out: &mut Vec<Alert>,
) {
    let data = live.session_data();
    let tl = live.timeline();
    let Ok(v) = tl.values("online_viewers") else {
        return;
    };
    let step = live.step_ms();
    let s0 = data.session.start_ms;
    let hosts: Vec<&crate::schema::Shift> = {
        let mut h: Vec<_> = data
            .shifts
            .iter()
            .filter(|s| s.role == ShiftRole::Host)
            .collect();
        h.sort_by_key(|s| s.start_ms);
        h
    };
    let mut fired = Vec::new();
    for (k, sh) in hosts.iter().enumerate().skip(1) {
        let t = sh.start_ms;
        if st.anchor_changes.contains(&t) || t + opts.anchor_window_ms > w {
            continue;
        }
        let before = hosts[..k]
            .iter()
            .rev()
            .find(|p| p.anchor_id != sh.anchor_id && p.end_ms >= t - step);
        let Some(before) = before else {
            fired.push((t, None));
            continue;
        };
        let i = ((t - s0) / step) as usize;
        let nw = (opts.anchor_window_ms / step).max(1) as usize;
        if i < nw {
            fired.push((t, None));
            continue;
        }
        let (after, ka) = mean_of(v, i, i + nw);
        let (prior, kb) = mean_of(v, i - nw, i);
        let drop = 1.0 - after / prior;
        if ka * 2 < nw || kb * 2 < nw || prior.is_nan() || prior <= 0.0 || drop < opts.anchor_drop {
            fired.push((t, None));
            continue;
        }
        let (ta, tb) = (clock(data, t), clock(data, t + opts.anchor_window_ms));
        let mut factors = vec![AlertFactor {
            name: "online_viewers".into(),
            value: Some(-drop),
            what: "relative change of online viewers, after the change against before".into(),
        }];
        factors.extend(contribution_changes(live, (i, i + nw), (i - nw, i), 3));
        factors.extend(on_air(data, t, t + opts.anchor_window_ms));
        fired.push((
            t,
            Some(Alert {
                kind: AlertKind::ViewersAfterAnchorChange,
                at_ms: w,
                start_ms: t,
                end_ms: t + opts.anchor_window_ms,
                message: format!(
                    "online viewers down {:.0} % in the {} min after {} took over from {} ({ta}–{tb})",
                    drop * 100.0,
                    opts.anchor_window_ms / 60_000,
                    sh.anchor_id,
                    before.anchor_id
                ),
                message_zh: format!(
                    "{} 接替 {} 后 {} 分钟内在线人数下降 {:.0}%（{ta}–{tb}）",
                    sh.anchor_id,
                    before.anchor_id,
                    opts.anchor_window_ms / 60_000,
                    drop * 100.0
                ),
                metric: Some("online_viewers".into()),
                product_id: None,
                anchor_id: Some(sh.anchor_id.clone()),
                factors,
                questions: Vec::new(),
            }),
        ));
    }
    for (t, a) in fired {
        st.anchor_changes.insert(t);
        out.extend(a);
    }
}

fn silence(live: &LiveSession, st: &mut State, w: Ms, opts: &AlertOptions, out: &mut Vec<Alert>) {
    let mut names: Vec<(String, Ms, Ms)> = Vec::new();
    for (name, &(first, last, count)) in &st.streams {
        if count < opts.min_items || st.silent.contains(name) {
            continue;
        }
        let gap = (last - first) / (count as Ms - 1).max(1);
        let limit = opts.silence_ms.max(5 * gap);
        if w - last >= limit {
            names.push((name.clone(), last, gap));
        }
    }
    names.sort();
    let data = live.session_data();
    for (name, last, gap) in names {
        let quiet = (w - last) / 1000;
        out.push(Alert {
            kind: AlertKind::StreamSilent,
            at_ms: w,
            start_ms: last,
            end_ms: w,
            message: format!(
                "{name}: nothing for {quiet} s since {} (usually every {:.1} s)",
                clock(data, last),
                gap as f64 / 1000.0
            ),
            message_zh: format!(
                "{name}：自 {} 起 {quiet} 秒无数据（通常每 {:.1} 秒一条）",
                clock(data, last),
                gap as f64 / 1000.0
            ),
            metric: Some(name.clone()),
            product_id: None,
            anchor_id: None,
            factors: on_air(data, last, w),
            questions: Vec::new(),
        });
        st.silent.insert(name);
    }
}
