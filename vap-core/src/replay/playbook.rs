//! A room's playbook: what its history says about who should sell what, when
//! flash sales pay off and how long each product is explained, each
//! recommendation with its evidence, and a draft run-sheet for the next
//! session. See [`crate::plan`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::align::{ColumnKind, ColumnMeta, Timeline};
use crate::attribute::{
    self, AttributeOptions, AttributionTimelineOptions, Decomposition, FactorSpec, Sign,
};
use crate::error::{Result, VapError};
use crate::options::Options;
use crate::schema::*;
use crate::store::Store;

/// Options of [`playbook`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlaybookOptions {
    /// Sessions an effect must be seen in before it is recommended (default
    /// 3); fewer makes it weak.
    pub min_sessions: usize,
    /// Flash sales starting this long into a session or later are "late"
    /// (default 30 min).
    #[serde(alias = "late_after", with = "crate::options::duration")]
    pub late_after_ms: Ms,
    /// Window after a phrase in which the product's orders count for it
    /// (default 60 s, as the replay's `follow`).
    #[serde(alias = "follow", with = "crate::options::duration")]
    pub follow_ms: Ms,
    /// Uses below which a phrase is weak (default 5, as the replay's).
    pub min_support: usize,
    /// The attribution timeline.
    pub timeline: AttributionTimelineOptions,
    /// The room model (session fixed effects are on with several sessions).
    pub model: AttributeOptions,
}

impl Default for PlaybookOptions {
    fn default() -> Self {
        PlaybookOptions {
            min_sessions: 3,
            late_after_ms: 1_800_000,
            follow_ms: 60_000,
            min_support: 5,
            timeline: AttributionTimelineOptions::default(),
            model: AttributeOptions::default(),
        }
    }
}

impl Options for PlaybookOptions {
    const WHAT: &'static str = "playbook options";

    fn prepare(map: &mut serde_json::Map<String, serde_json::Value>) -> Result<()> {
        crate::options::nested::<AttributionTimelineOptions>(Self::WHAT, map, "timeline")?;
        crate::options::nested::<AttributeOptions>(Self::WHAT, map, "model")
    }

    fn check(&self) -> Result<()> {
        let mut p = Vec::new();
        if self.min_sessions < 1 {
            p.push("min_sessions must be at least 1".to_string());
        }
        if self.late_after_ms < 0 {
            p.push("late_after must not be negative".to_string());
        }
        if self.follow_ms <= 0 {
            p.push("follow must be positive".to_string());
        }
        crate::options::all_or_nothing(Self::WHAT, p)
    }
}

/// What the history says about one effect: its size in the model's target
/// per unit of exposure, a simultaneous interval over the model's bootstrap
/// replicates, and how much history supports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Point estimate (yuan of the target per `unit`).
    pub value: f64,
    /// Lower end of the interval (`None` without replicates).
    pub low: Option<f64>,
    /// Upper end.
    pub high: Option<f64>,
    /// `"hour"` (per hour of exposure) or `"minute"`.
    pub unit: String,
    /// Sessions where it happened.
    pub sessions: usize,
    /// Exposure: hours (or minutes, per `unit`) it was on.
    pub exposure: f64,
    /// Too little or too uncertain to act on.
    pub weak: bool,
    /// Why it is weak.
    pub why_weak: Option<String>,
}

/// An anchor's effect while hosting a category against the other anchors
/// hosting it: the model's anchor × category effect per hour minus the mean
/// of the other anchors' on the same category (the category's own effect,
/// and what all anchors share, cancel).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnchorCategory {
    /// Anchor id.
    pub anchor_id: String,
    /// Anchor name.
    pub anchor_name: String,
    /// Product category.
    pub category: String,
    /// Per hour hosting while the category is explained, against the other
    /// anchors on it (`exposure`: this anchor's hours on it).
    pub evidence: Evidence,
}

/// Early against late flash sales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlashTiming {
    /// Where late begins.
    pub late_after_ms: Ms,
    /// Flash sales starting before it, per minute running.
    pub early: Option<Evidence>,
    /// Flash sales starting at or after it, per minute running.
    pub late: Option<Evidence>,
    /// Late minus early, per minute.
    pub difference: Option<Evidence>,
    /// Median length of the room's flash sales.
    pub median_minutes: Option<f64>,
}

/// A product across the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductHistory {
    /// Product id.
    pub product_id: String,
    /// Name.
    pub name: String,
    /// Category.
    pub category: String,
    /// Sessions it was explained in.
    pub sessions: usize,
    /// Median minutes explained per session.
    pub explain_minutes: f64,
    /// Median minutes into the session of its first explain.
    pub position_minutes: f64,
    /// The model's explain contribution per explain minute, all sessions.
    pub gmv_per_explain_minute: f64,
    /// Fewer sessions than `min_sessions`.
    pub weak: bool,
    /// The anchor's phrases while explaining it, pooled over the sessions:
    /// uses, mean orders of the product in the `follow` window after a use,
    /// and the lift against the product's order rate while explained (95 %
    /// interval from the uses' spread); best first, weak ones (fewer than
    /// `min_support` uses) last.
    pub phrases: Vec<ProductPhrase>,
}

/// A phrase said while a product was explained, over the room's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductPhrase {
    /// The phrase as listed in the lexicon.
    pub phrase: String,
    /// Its group ("urgency", "price", "answer").
    pub group: String,
    /// Utterances that used it.
    pub uses: usize,
    /// Sessions it was used in.
    pub sessions: usize,
    /// Mean orders of the product in the window after a use.
    pub orders_after: f64,
    /// `orders_after` ÷ the product's mean orders per window while explained.
    pub lift: Option<f64>,
    /// Lower end of the lift's 95 % interval.
    pub low: Option<f64>,
    /// Upper end.
    pub high: Option<f64>,
    /// Fewer than `min_support` uses.
    pub weak: bool,
}

/// One recommendation with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// `"anchor_category"`, `"flash_timing"`, `"product_order"` or
    /// `"not_enough_evidence"`.
    pub kind: String,
    /// In English.
    pub text: String,
    /// In Chinese.
    pub text_zh: String,
    /// The evidence, where one figure carries it.
    pub evidence: Option<Evidence>,
    /// Weak: say so before acting on it.
    pub weak: bool,
}

/// A room's playbook ([`playbook`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Playbook {
    /// Room.
    pub room_id: String,
    /// Sessions read.
    pub sessions: Vec<String>,
    /// The model's target.
    pub target: String,
    /// Every anchor × category the history has, best first.
    pub anchors: Vec<AnchorCategory>,
    /// Flash-sale timing.
    pub flash_sales: FlashTiming,
    /// Products, best explain contribution per minute first.
    pub products: Vec<ProductHistory>,
    /// What to do, strongest first; "not enough evidence" when nothing holds.
    pub recommendations: Vec<Recommendation>,
    /// A run-sheet for the next session built from the above (offsets from
    /// its start; importable back with `read_run_sheet`).
    pub draft: RunSheet,
    /// Notes.
    pub notes: Vec<String>,
}

const PAIR: &str = "playbook:host:";
const EARLY: &str = "promo:flash_sale:early";
const LATE: &str = "promo:flash_sale:late";

/// The playbook of a room from its sessions (at least two, of one room).
pub fn playbook<D>(sessions: &[D], opts: &PlaybookOptions) -> Result<Playbook>
where
    D: std::borrow::Borrow<SessionData> + Sync,
{
    let sessions: Vec<&SessionData> = sessions.iter().map(|s| s.borrow()).collect();
    opts.check()?;
    if sessions.len() < 2 {
        return Err(VapError::InvalidArgument(format!(
            "a playbook needs at least 2 sessions of a room, got {}",
            sessions.len()
        )));
    }
    let room = &sessions[0].room.id;
    if let Some(s) = sessions.iter().find(|s| &s.room.id != room) {
        return Err(VapError::InvalidArgument(format!(
            "every session must be of room '{room}'; '{}' is of '{}'",
            s.session.id, s.room.id
        )));
    }
    let cats = Catalogue::of(sessions.iter().copied());
    let parts = crate::threads::install(|| {
        use rayon::prelude::*;
        sessions
            .par_iter()
            .map(|d| session_part(d, &cats, opts))
            .collect::<Result<Vec<_>>>()
    })?;
    let facts: Vec<SessionFacts> = sessions.iter().map(|d| SessionFacts::of(d, opts)).collect();
    let room = room.clone();
    finish(&room, parts, facts, &cats, opts)
}

/// [`playbook`] of a room's stored sessions, read one at a time.
pub fn store_playbook(store: &Store, room_id: &str, opts: &PlaybookOptions) -> Result<Playbook> {
    opts.check()?;
    let read = store.map_room_as("sessions (catalogue)", room_id, |d| {
        Ok((
            SessionFacts::of(&d, opts),
            Catalogue::of(std::iter::once(&d)),
        ))
    })?;
    let mut cats = Catalogue::default();
    let mut facts = Vec::with_capacity(read.len());
    for (f, c) in read {
        cats.merge(c);
        facts.push(f);
    }
    if facts.len() < 2 {
        return Err(VapError::InvalidArgument(format!(
            "a playbook needs at least 2 stored sessions of room '{room_id}', found {}",
            facts.len()
        )));
    }
    let parts = store.map_room(room_id, |d| session_part(&d, &cats, opts))?;
    finish(room_id, parts, facts, &cats, opts)
}

/// Anchors and categories across the history.
#[derive(Default)]
struct Catalogue {
    anchors: BTreeMap<String, String>,
    categories: BTreeSet<String>,
    products: BTreeMap<String, (String, String)>,
}

impl Catalogue {
    fn of<'a>(it: impl Iterator<Item = &'a SessionData>) -> Catalogue {
        let mut c = Catalogue::default();
        for d in it {
            c.add(d);
        }
        c
    }

    fn add(&mut self, d: &SessionData) {
        for a in &d.anchors {
            self.anchors.entry(a.id.clone()).or_insert(a.name.clone());
        }
        for p in &d.products {
            if !p.category.is_empty() {
                self.categories.insert(p.category.clone());
            }
            self.products
                .entry(p.id.clone())
                .or_insert((p.name.clone(), p.category.clone()));
        }
    }

    fn merge(&mut self, o: Catalogue) {
        for (k, v) in o.anchors {
            self.anchors.entry(k).or_insert(v);
        }
        self.categories.extend(o.categories);
        for (k, v) in o.products {
            self.products.entry(k).or_insert(v);
        }
    }

    fn pair(a: &str, c: &str) -> String {
        format!("{PAIR}{a}×{c}")
    }
}

/// What the history's plain data say about one session.
struct SessionFacts {
    id: String,
    length_ms: Ms,
    /// Hosted ms per anchor.
    hosted: BTreeMap<String, Ms>,
    /// Per product: explain ms, first explain offset.
    explains: BTreeMap<String, (Ms, Ms)>,
    /// Flash-sale lengths (ms) and whether each is late.
    flash: Vec<(Ms, bool)>,
    /// Per product: explained ms, its paid orders while explained, and per
    /// (group, phrase) the product's orders after each use.
    phrases: BTreeMap<String, ProductUses>,
}

/// A product's explained ms, its paid orders while explained, and per
/// (group, phrase) its orders after each use, in one session.
type ProductUses = (Ms, f64, BTreeMap<(String, String), Vec<f64>>);

impl SessionFacts {
    fn of(d: &SessionData, opts: &PlaybookOptions) -> SessionFacts {
        let t0 = d.session.start_ms;
        let mut hosted = BTreeMap::new();
        for s in d.shifts.iter().filter(|s| s.role == ShiftRole::Host) {
            *hosted.entry(s.anchor_id.clone()).or_insert(0) += s.end_ms - s.start_ms;
        }
        let mut explains: BTreeMap<String, (Ms, Ms)> = BTreeMap::new();
        for s in d.segments.iter().filter(|s| s.kind == SegmentKind::Explain) {
            let e = explains
                .entry(s.product_id.clone())
                .or_insert((0, s.start_ms - t0));
            e.0 += s.end_ms - s.start_ms;
            e.1 = e.1.min(s.start_ms - t0);
        }
        let flash = d
            .promotions
            .iter()
            .filter(|p| p.kind == PromotionKind::FlashSale)
            .map(|p| (p.end_ms - p.start_ms, p.start_ms - t0 >= opts.late_after_ms))
            .collect();
        SessionFacts {
            id: d.session.id.clone(),
            length_ms: d.session.end_ms - d.session.start_ms,
            hosted,
            explains,
            flash,
            phrases: phrase_uses(d, opts),
        }
    }
}

/// Each explained product's phrase uses in a session (see [`SessionFacts`]).
fn phrase_uses(d: &SessionData, opts: &PlaybookOptions) -> BTreeMap<String, ProductUses> {
    use crate::align::{fold, BUILTIN};
    let lexicon: Vec<(&str, &str, String)> = BUILTIN
        .iter()
        .filter(|(g, _)| *g != "question")
        .flat_map(|(g, list)| list.iter().map(move |p| (*g, *p, fold(p))))
        .collect();
    let mut spans: BTreeMap<&str, Vec<(Ms, Ms)>> = BTreeMap::new();
    for s in d.segments.iter().filter(|s| s.kind == SegmentKind::Explain) {
        spans
            .entry(&s.product_id)
            .or_default()
            .push((s.start_ms, s.end_ms));
    }
    let mut out = BTreeMap::new();
    for (p, sp) in spans {
        let ms = super::headline::union_ms(&sp);
        let (_, orders) = super::headline::paid_in(d, &sp, Some(p));
        let mut uses: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
        for u in d
            .utterances
            .iter()
            .filter(|u| sp.iter().any(|&(a, b)| u.start_ms >= a && u.start_ms < b))
        {
            let text = fold(&u.text);
            for (g, phrase, fp) in &lexicon {
                if text.contains(fp.as_str()) {
                    let after = super::headline::paid_in(
                        d,
                        &[(u.start_ms, u.start_ms + opts.follow_ms)],
                        Some(p),
                    )
                    .1;
                    uses.entry((g.to_string(), phrase.to_string()))
                        .or_default()
                        .push(after);
                }
            }
        }
        out.insert(p.to_string(), (ms, orders, uses));
    }
    out
}

/// A product's phrases pooled over the sessions.
fn pooled_phrases(
    facts: &[SessionFacts],
    product: &str,
    opts: &PlaybookOptions,
) -> Vec<ProductPhrase> {
    let (mut ms, mut orders) = (0.0, 0.0);
    let mut uses: BTreeMap<(String, String), (Vec<f64>, usize)> = BTreeMap::new();
    for f in facts {
        if let Some((m, o, u)) = f.phrases.get(product) {
            ms += *m as f64;
            orders += o;
            for (k, v) in u {
                let e = uses.entry(k.clone()).or_default();
                e.0.extend(v);
                e.1 += 1;
            }
        }
    }
    let base = if ms > 0.0 {
        orders * opts.follow_ms as f64 / ms
    } else {
        0.0
    };
    let mut out: Vec<ProductPhrase> = uses
        .into_iter()
        .map(|((group, phrase), (v, sessions))| {
            let l = super::parts::Lift::of(&v, base, opts.min_support);
            ProductPhrase {
                phrase,
                group,
                uses: v.len(),
                sessions,
                orders_after: l.mean,
                lift: l.lift,
                low: l.low,
                high: l.high,
                weak: l.weak,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        a.weak
            .cmp(&b.weak)
            .then(b.lift.unwrap_or(0.0).total_cmp(&a.lift.unwrap_or(0.0)))
            .then(b.uses.cmp(&a.uses))
            .then(a.phrase.cmp(&b.phrase))
    });
    out
}

/// A session's attribution timeline with the playbook's columns: every
/// anchor × category (the anchor hosts while a product of the category is
/// explained) and the flash sales split by when they started.
fn session_part(d: &SessionData, cats: &Catalogue, opts: &PlaybookOptions) -> Result<Timeline> {
    let mut tl = attribute::session_timeline(d, &opts.timeline.0)?;
    let n = tl.len();
    let grid = *tl
        .grid()
        .ok_or_else(|| VapError::Internal("a session timeline without a grid".into()))?;
    let step = grid.step_ms as f64;
    let share = |spans: &[(Ms, Ms)]| {
        let mut v = vec![0.0; n];
        for &(a, b) in spans {
            grid.cover(a as f64, b as f64, |i, len| v[i] += len / step);
        }
        v.iter_mut().for_each(|x| *x = x.min(1.0));
        v
    };
    let meta = |name: &str, source: &str| ColumnMeta {
        name: name.to_string(),
        kind: ColumnKind::Interval,
        source: source.to_string(),
        unit: "share".into(),
        has_missing: false,
    };
    let category = |p: &str| cats.products.get(p).map(|x| x.1.as_str()).unwrap_or("");
    let mut by_cat: BTreeMap<&str, Vec<(Ms, Ms)>> = BTreeMap::new();
    for s in d.segments.iter().filter(|s| s.kind == SegmentKind::Explain) {
        by_cat
            .entry(category(&s.product_id))
            .or_default()
            .push((s.start_ms, s.end_ms));
    }
    let cat_share: BTreeMap<&str, Vec<f64>> =
        by_cat.iter().map(|(c, sp)| (*c, share(sp))).collect();
    for a in cats.anchors.keys() {
        let host = tl
            .values(&format!("host:{a}"))
            .map(<[f64]>::to_vec)
            .unwrap_or_else(|_| vec![0.0; n]);
        for c in &cats.categories {
            let v: Vec<f64> = match cat_share.get(c.as_str()) {
                Some(cs) => host.iter().zip(cs).map(|(h, x)| h * x).collect(),
                None => vec![0.0; n],
            };
            tl.push(
                meta(
                    &Catalogue::pair(a, c),
                    &format!("host {a} while {c} is explained"),
                ),
                v,
            )?;
        }
    }
    let t0 = d.session.start_ms;
    let (mut early, mut late) = (vec![], vec![]);
    for p in d
        .promotions
        .iter()
        .filter(|p| p.kind == PromotionKind::FlashSale)
    {
        if p.start_ms - t0 >= opts.late_after_ms {
            late.push((p.start_ms, p.end_ms));
        } else {
            early.push((p.start_ms, p.end_ms));
        }
    }
    tl.push(meta(EARLY, "flash sales starting early"), share(&early))?;
    tl.push(meta(LATE, "flash sales starting late"), share(&late))?;
    Ok(tl)
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// The interval at simultaneous level 95 % over `m` effects (Bonferroni:
/// quantiles `0.025 / m` and `1 − 0.025 / m` of the replicates).
fn interval(reps: &[f64], m: usize) -> (Option<f64>, Option<f64>) {
    let mut r: Vec<f64> = reps.iter().copied().filter(|v| v.is_finite()).collect();
    if r.len() < 2 {
        return (None, None);
    }
    r.sort_by(f64::total_cmp);
    let a = 0.025 / m.max(1) as f64;
    (
        Some(super::quantile(&r, a)),
        Some(super::quantile(&r, 1.0 - a)),
    )
}

#[allow(clippy::too_many_arguments)]
fn evidence(
    value: f64,
    reps: &[f64],
    per: f64,
    unit: &str,
    sessions: usize,
    m: usize,
    min_sessions: usize,
) -> Evidence {
    let scaled: Vec<f64> = reps.iter().map(|r| r / per).collect();
    let (low, high) = interval(&scaled, m);
    let why = if sessions < min_sessions {
        Some(format!(
            "seen in {sessions} session(s), fewer than {min_sessions}"
        ))
    } else if low.is_none() {
        Some("no bootstrap interval (bootstrap = 0)".into())
    } else if low.is_some_and(|l| l <= 0.0) && high.is_some_and(|h| h >= 0.0) {
        Some("its interval includes 0".into())
    } else {
        None
    };
    Evidence {
        value: value / per,
        low,
        high,
        unit: unit.into(),
        sessions,
        exposure: per,
        weak: why.is_some(),
        why_weak: why,
    }
}

fn finish(
    room: &str,
    parts: Vec<Timeline>,
    facts: Vec<SessionFacts>,
    cats: &Catalogue,
    opts: &PlaybookOptions,
) -> Result<Playbook> {
    let spans: Vec<(String, usize)> = parts
        .iter()
        .map(|t| (t.spans()[0].session_id.clone(), t.len()))
        .collect();
    let tl = Timeline::stack(parts)?;
    let step_h = tl.step_ms() as f64 / 3_600_000.0;
    // The factors: the defaults, the flash sales split, every pair seen.
    let mut factors: Vec<FactorSpec> = Vec::new();
    let defaults = opts
        .model
        .factors
        .clone()
        .unwrap_or_else(|| attribute::default_factors(&tl));
    // (The defaults read every `promo:` column, the split ones included.)
    for f in defaults {
        if f.column == "promo:flash_sale" {
            for c in [EARLY, LATE] {
                factors.push(FactorSpec {
                    name: c.into(),
                    column: c.into(),
                    ..f.clone()
                });
            }
        } else {
            factors.push(f);
        }
    }
    let mut seen = BTreeSet::new();
    factors.retain(|f| seen.insert(f.name.clone()));
    // Exposure (hours) and sessions of a column.
    let exposure = |name: &str| -> (f64, usize) {
        let Ok(v) = tl.values(name) else {
            return (0.0, 0);
        };
        let (mut sum, mut sessions, mut at) = (0.0, 0, 0);
        for (_, len) in &spans {
            let s: f64 = v[at..at + len].iter().filter(|x| x.is_finite()).sum();
            sum += s;
            sessions += usize::from(s > 0.0);
            at += len;
        }
        (sum * step_h, sessions)
    };
    let mut pairs: Vec<(String, String, String)> = Vec::new();
    for a in cats.anchors.keys() {
        for c in &cats.categories {
            let name = Catalogue::pair(a, c);
            if exposure(&name).0 > 0.0 {
                pairs.push((name, a.clone(), c.clone()));
            }
        }
    }
    for (name, _, _) in &pairs {
        factors.push(FactorSpec {
            name: name.clone(),
            column: name.clone(),
            carryover_ms: vec![],
            carryover_kind: Default::default(),
            saturation: None,
            sign: Some(Sign::Free),
        });
    }
    let has_flash = [EARLY, LATE].iter().any(|c| exposure(c).0 > 0.0);
    let factors: Vec<FactorSpec> = factors
        .into_iter()
        .filter(|f| !(f.column == EARLY || f.column == LATE) || exposure(&f.column).0 > 0.0)
        .collect();
    let mut model = opts.model.clone();
    model.factors = Some(factors);
    let fit = attribute::fit(&tl, &model)?;
    let dec: &Decomposition = &fit.decomposition;
    // Each pair per hour, then against the other anchors on the category:
    // the category's own effect and what every anchor shares cancel.
    let m = pairs.len().max(1);
    let per_hour: Vec<(f64, Vec<f64>, f64, usize)> = pairs
        .iter()
        .map(|(name, _, _)| {
            let (value, reps) = dec.factor_totals(name).unwrap_or((0.0, vec![]));
            let (hours, sessions) = exposure(name);
            (
                value / hours,
                reps.iter().map(|r| r / hours).collect(),
                hours,
                sessions,
            )
        })
        .collect();
    let mut anchors: Vec<AnchorCategory> = Vec::new();
    for (k, (_, a, c)) in pairs.iter().enumerate() {
        let others: Vec<usize> = (0..pairs.len())
            .filter(|&j| j != k && pairs[j].2 == *c)
            .collect();
        if others.is_empty() {
            continue;
        }
        let mean_of = |f: &dyn Fn(usize) -> f64| {
            others.iter().map(|&j| f(j)).sum::<f64>() / others.len() as f64
        };
        let value = per_hour[k].0 - mean_of(&|j| per_hour[j].0);
        let n_reps = per_hour[k].1.len();
        let reps: Vec<f64> = (0..n_reps)
            .map(|r| {
                per_hour[k].1[r] - mean_of(&|j| per_hour[j].1.get(r).copied().unwrap_or(f64::NAN))
            })
            .collect();
        let (hours, sessions) = (per_hour[k].2, per_hour[k].3);
        let mut ev = evidence(value, &reps, 1.0, "hour", sessions, m, opts.min_sessions);
        ev.exposure = hours;
        anchors.push(AnchorCategory {
            anchor_id: a.clone(),
            anchor_name: cats.anchors.get(a).cloned().unwrap_or_default(),
            category: c.clone(),
            evidence: ev,
        });
    }
    anchors.sort_by(|x, y| y.evidence.value.total_cmp(&x.evidence.value));
    // Flash sales: per minute running, and late minus early.
    let flash_ev = |c: &str| {
        let (value, reps) = dec.factor_totals(c)?;
        let (hours, sessions) = exposure(c);
        Some((value, reps, hours * 60.0, sessions))
    };
    let (early, late) = (flash_ev(EARLY), flash_ev(LATE));
    let difference = match (&early, &late) {
        (Some(e), Some(l)) if e.2 > 0.0 && l.2 > 0.0 => {
            let reps: Vec<f64> =
                l.1.iter()
                    .zip(&e.1)
                    .map(|(a, b)| a / l.2 - b / e.2)
                    .collect();
            Some(evidence(
                l.0 / l.2 - e.0 / e.2,
                &reps,
                1.0,
                "minute",
                l.3.min(e.3),
                1,
                opts.min_sessions,
            ))
        }
        _ => None,
    };
    let as_ev = |x: &Option<(f64, Vec<f64>, f64, usize)>| {
        x.as_ref()
            .filter(|x| x.2 > 0.0)
            .map(|(v, r, per, s)| evidence(*v, r, *per, "minute", *s, 1, opts.min_sessions))
    };
    let mut lengths: Vec<f64> = facts
        .iter()
        .flat_map(|f| f.flash.iter().map(|(ms, _)| *ms as f64 / 60_000.0))
        .collect();
    let flash_sales = FlashTiming {
        late_after_ms: opts.late_after_ms,
        early: as_ev(&early),
        late: as_ev(&late),
        difference,
        median_minutes: median(&mut lengths),
    };
    // Products.
    let explain_total: BTreeMap<String, f64> = product_explain(dec, &tl, cats)?;
    let mut products: Vec<ProductHistory> = cats
        .products
        .iter()
        .filter_map(|(id, (name, cat))| {
            let mut mins: Vec<f64> = Vec::new();
            let mut pos: Vec<f64> = Vec::new();
            for f in &facts {
                if let Some((ms, first)) = f.explains.get(id) {
                    mins.push(*ms as f64 / 60_000.0);
                    pos.push(*first as f64 / 60_000.0);
                }
            }
            if mins.is_empty() {
                return None;
            }
            let total_min: f64 = mins.iter().sum();
            Some(ProductHistory {
                product_id: id.clone(),
                name: name.clone(),
                category: cat.clone(),
                sessions: mins.len(),
                explain_minutes: median(&mut mins).unwrap_or(0.0),
                position_minutes: median(&mut pos).unwrap_or(0.0),
                gmv_per_explain_minute: explain_total.get(id).copied().unwrap_or(0.0) / total_min,
                weak: mins.len() < opts.min_sessions,
                phrases: pooled_phrases(&facts, id, opts),
            })
        })
        .collect();
    products.sort_by(|a, b| {
        a.weak.cmp(&b.weak).then(
            b.gmv_per_explain_minute
                .total_cmp(&a.gmv_per_explain_minute),
        )
    });
    let recommendations = recommend(&anchors, &flash_sales, &products, facts.len(), opts);
    let draft = draft(&anchors, &flash_sales, &products, &facts);
    let mut notes = Vec::new();
    if !has_flash {
        notes.push("no flash sale in the history: no timing to compare".into());
    }
    notes.push(format!(
        "anchor x category effects are against the other anchors on the same category, beyond each anchor's own effect; their intervals are simultaneous over {m} pairs (Bonferroni)"
    ));
    Ok(Playbook {
        room_id: room.to_string(),
        sessions: facts.iter().map(|f| f.id.clone()).collect(),
        target: dec.target.clone(),
        anchors,
        flash_sales,
        products,
        recommendations,
        draft,
        notes,
    })
}

/// Each product's share of the model's explain contribution: `explain:any`
/// split over the products explained in each bin by their explain share.
fn product_explain(
    dec: &Decomposition,
    tl: &Timeline,
    cats: &Catalogue,
) -> Result<BTreeMap<String, f64>> {
    let mut out = BTreeMap::new();
    let Some(k) = dec.factors.iter().position(|f| f == "explain:any") else {
        return Ok(out);
    };
    let contrib = &dec.contributions[k];
    let cols: Vec<(&String, &[f64])> = cats
        .products
        .keys()
        .filter_map(|id| tl.values(&format!("explain:{id}")).ok().map(|v| (id, v)))
        .collect();
    for i in 0..tl.len() {
        let c = contrib[i];
        if !c.is_finite() || c == 0.0 {
            continue;
        }
        let total: f64 = cols.iter().map(|(_, v)| v[i].max(0.0)).sum();
        if total <= 0.0 {
            continue;
        }
        for (id, v) in &cols {
            if v[i] > 0.0 {
                *out.entry((*id).clone()).or_insert(0.0) += c * v[i] / total;
            }
        }
    }
    Ok(out)
}

fn yuan(x: f64) -> String {
    format!("{}¥{:.0}", if x < 0.0 { "-" } else { "+" }, x.abs())
}

fn range(e: &Evidence) -> String {
    match (e.low, e.high) {
        (Some(l), Some(h)) => format!(" [{}, {}]", yuan(l), yuan(h)),
        _ => String::new(),
    }
}

fn recommend(
    anchors: &[AnchorCategory],
    flash: &FlashTiming,
    products: &[ProductHistory],
    n: usize,
    opts: &PlaybookOptions,
) -> Vec<Recommendation> {
    let mut out = Vec::new();
    for a in anchors
        .iter()
        .filter(|a| !a.evidence.weak && a.evidence.value > 0.0)
    {
        let e = &a.evidence;
        out.push(Recommendation {
            kind: "anchor_category".into(),
            text: format!(
                "{} ({}) should host {}: {} per hour against the other anchors on it{}, {} sessions",
                a.anchor_name, a.anchor_id, a.category, yuan(e.value), range(e), e.sessions
            ),
            text_zh: format!(
                "{} 更适合讲 {} 类: 比其他主播每小时 {}{}, 依据 {} 场",
                a.anchor_name, a.category, yuan(e.value), range(e), e.sessions
            ),
            evidence: Some(e.clone()),
            weak: false,
        });
    }
    if let Some(d) = flash.difference.as_ref().filter(|d| !d.weak) {
        let mins = flash.late_after_ms / 60_000;
        let (text, zh) = if d.value > 0.0 {
            (
                format!(
                    "flash sales from minute {mins} on pay more: {} per minute running{}",
                    yuan(d.value),
                    range(d)
                ),
                format!(
                    "开播 {mins} 分钟后再上秒杀: 每分钟多 {}{}",
                    yuan(d.value),
                    range(d)
                ),
            )
        } else {
            (
                format!(
                    "flash sales before minute {mins} pay more: {} per minute running{}",
                    yuan(-d.value),
                    range(d)
                ),
                format!(
                    "开播 {mins} 分钟内上秒杀更好: 每分钟多 {}{}",
                    yuan(-d.value),
                    range(d)
                ),
            )
        };
        out.push(Recommendation {
            kind: "flash_timing".into(),
            text,
            text_zh: zh,
            evidence: Some(d.clone()),
            weak: false,
        });
    }
    let strong: Vec<&ProductHistory> = products.iter().filter(|p| !p.weak).take(5).collect();
    if !strong.is_empty() && n >= opts.min_sessions {
        out.push(Recommendation {
            kind: "product_order".into(),
            text: format!(
                "explain first what earned most per explain minute: {}",
                strong
                    .iter()
                    .map(|p| format!(
                        "{} ({}/min over {:.0} min)",
                        p.name,
                        yuan(p.gmv_per_explain_minute),
                        p.explain_minutes
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            text_zh: format!(
                "优先讲解每讲解分钟贡献最高的商品: {}",
                strong
                    .iter()
                    .map(|p| format!(
                        "{} (每分钟 {}, 讲 {:.0} 分钟)",
                        p.name,
                        yuan(p.gmv_per_explain_minute),
                        p.explain_minutes
                    ))
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            evidence: None,
            // The model's explain split across products rests on their
            // explain shares, not on a tested difference between them.
            weak: true,
        });
    }
    if !out.iter().any(|r| !r.weak) {
        out.insert(
            0,
            Recommendation {
                kind: "not_enough_evidence".into(),
                text: format!(
                    "not enough evidence in {n} sessions: no anchor x category effect and no flash-sale timing stands out from the noise"
                ),
                text_zh: format!("{n} 场数据证据不足: 没有主播 × 品类效应或秒杀时机明显优于其他"),
                evidence: None,
                weak: true,
            },
        );
    }
    out
}

fn draft(
    anchors: &[AnchorCategory],
    flash: &FlashTiming,
    products: &[ProductHistory],
    facts: &[SessionFacts],
) -> RunSheet {
    let mut lengths: Vec<f64> = facts.iter().map(|f| f.length_ms as f64).collect();
    let length = median(&mut lengths).unwrap_or(0.0) as Ms;
    // The anchor who hosted longest, and each category's best anchor.
    let mut hosted: BTreeMap<&str, Ms> = BTreeMap::new();
    for f in facts {
        for (a, ms) in &f.hosted {
            *hosted.entry(a.as_str()).or_insert(0) += ms;
        }
    }
    let lead = hosted
        .iter()
        .max_by_key(|(a, ms)| (**ms, std::cmp::Reverse(*a)))
        .map(|(a, _)| a.to_string());
    let best: BTreeMap<&str, &str> = {
        let mut m = BTreeMap::new();
        for a in anchors
            .iter()
            .filter(|a| !a.evidence.weak && a.evidence.value > 0.0)
        {
            m.entry(a.category.as_str()).or_insert(a.anchor_id.as_str());
        }
        m
    };
    let offset = |ms: Ms| PlanTime::Offset(ms);
    let mut items = Vec::new();
    let mut t: Ms = 0;
    let mut row = 0;
    for p in products.iter().filter(|p| p.explain_minutes > 0.0) {
        let len = ((p.explain_minutes.round().clamp(3.0, 15.0)) * 60_000.0) as Ms;
        if t + len > length {
            break;
        }
        row += 1;
        items.push(PlanItem {
            kind: PlanKind::Product,
            start: offset(t),
            end: Some(offset(t + len)),
            duration_ms: None,
            anchor: best
                .get(p.category.as_str())
                .map(|a| a.to_string())
                .or(lead.clone()),
            product: Some(p.product_id.clone()),
            promotion: None,
            label: Some(format!("{}/min", yuan(p.gmv_per_explain_minute))),
            talking_points: vec![],
            row,
        });
        t += len;
    }
    // Hosts follow the product slots: one shift per run of one anchor.
    let mut shifts: Vec<PlanItem> = Vec::new();
    for it in &items {
        match shifts.last_mut() {
            Some(s) if s.anchor == it.anchor => s.end = it.end,
            _ => shifts.push(PlanItem {
                kind: PlanKind::Shift,
                product: None,
                label: None,
                ..it.clone()
            }),
        }
    }
    // One flash sale where the history says it pays, on the top product.
    if let (Some(top), Some(mins)) = (products.first(), flash.median_minutes) {
        let late = flash.difference.as_ref().map(|d| !d.weak && d.value > 0.0);
        let at = match late {
            Some(true) => flash.late_after_ms,
            _ => flash.late_after_ms.min(length / 4),
        };
        let len = (mins.max(1.0) * 60_000.0) as Ms;
        if at + len <= length {
            row += 1;
            items.push(PlanItem {
                kind: PlanKind::Promotion,
                start: offset(at),
                end: Some(offset(at + len)),
                duration_ms: None,
                anchor: None,
                product: Some(top.product_id.clone()),
                promotion: Some(PromotionKind::FlashSale),
                label: None,
                talking_points: vec![],
                row,
            });
        }
    }
    for s in &mut shifts {
        row += 1;
        s.row = row;
    }
    items.extend(shifts.into_iter().filter(|s| s.anchor.is_some()));
    RunSheet {
        source: "playbook draft".into(),
        items,
        ignored: vec![],
    }
}
