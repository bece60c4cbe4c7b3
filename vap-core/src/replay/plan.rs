//! Plan vs actual: each planned item matched with what happened, and what
//! each deviation earned or cost according to the attribution model.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::align::Timeline;
use crate::attribute::{self, AttributeOptions, Attribution, AttributionTimelineOptions};
use crate::error::{Result, VapError};
use crate::ingest::PlannedItem;
use crate::options::Options;
use crate::schema::*;

/// How far a start or a length may be from the plan and still count as on
/// plan: 2 minutes, a fifth of the shortest explain slots operators plan
/// (10 min) and less than a flash sale's usual length.
pub const PLAN_TOLERANCE_MS: Ms = 120_000;

/// Options of [`compare`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlanOptions {
    /// A start or a length further than this from the plan is a deviation
    /// (default 2 min, [`PLAN_TOLERANCE_MS`]).
    #[serde(alias = "tolerance", with = "crate::options::duration")]
    pub tolerance_ms: Ms,
    /// Value the deviations with the attribution model (default true).
    pub attribute: bool,
    /// The attribution timeline.
    pub timeline: AttributionTimelineOptions,
    /// The attribution model.
    pub model: AttributeOptions,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            tolerance_ms: PLAN_TOLERANCE_MS,
            attribute: true,
            timeline: AttributionTimelineOptions::default(),
            model: AttributeOptions::default(),
        }
    }
}

impl Options for PlanOptions {
    const WHAT: &'static str = "plan options";

    fn prepare(map: &mut serde_json::Map<String, serde_json::Value>) -> Result<()> {
        crate::options::nested::<AttributionTimelineOptions>(Self::WHAT, map, "timeline")?;
        crate::options::nested::<AttributeOptions>(Self::WHAT, map, "model")
    }

    fn check(&self) -> Result<()> {
        if self.tolerance_ms < 0 {
            return Err(VapError::InvalidArgument(format!(
                "plan options: 'tolerance' must not be negative, got {} ms",
                self.tolerance_ms
            )));
        }
        Ok(())
    }
}

/// How an item went against the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviationStatus {
    /// Start and length within the tolerance.
    OnPlan,
    /// Started later than planned.
    Late,
    /// Started earlier than planned.
    Early,
    /// Started on time, ran longer.
    Longer,
    /// Started on time, ran shorter.
    Shorter,
    /// Planned, did not happen.
    Skipped,
    /// Happened, was not planned.
    Added,
}

impl DeviationStatus {
    /// `"on_plan"`, `"late"`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            DeviationStatus::OnPlan => "on_plan",
            DeviationStatus::Late => "late",
            DeviationStatus::Early => "early",
            DeviationStatus::Longer => "longer",
            DeviationStatus::Shorter => "shorter",
            DeviationStatus::Skipped => "skipped",
            DeviationStatus::Added => "added",
        }
    }
}

/// What a deviation earned (positive) or cost (negative) in the model's
/// target: the prediction of the session as it ran minus the prediction had
/// this item gone as planned (everything else as it happened, the traffic
/// included), with a 95 % interval over the model's bootstrap replicates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanEffect {
    /// Point estimate.
    pub value: f64,
    /// Lower end of the 95 % interval (`None` without replicates).
    pub low: Option<f64>,
    /// Upper end.
    pub high: Option<f64>,
}

/// One planned item against what happened (or one unplanned item).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deviation {
    /// Shift, product slot or promotion.
    pub kind: PlanKind,
    /// How it went.
    pub status: DeviationStatus,
    /// The anchor id (shifts), the product id (product slots) or the
    /// promotion kind, with its product (`flash_sale:p03`).
    pub subject: String,
    /// A display name (the anchor's or the product's name).
    pub name: String,
    /// Planned start and end.
    pub planned: Option<(Ms, Ms)>,
    /// Actual start and end.
    pub actual: Option<(Ms, Ms)>,
    /// Actual start − planned start.
    pub start_delta_ms: Option<Ms>,
    /// Actual length − planned length.
    pub length_delta_ms: Option<Ms>,
    /// What the deviation earned or cost (on-plan items and unplanned shifts
    /// have none).
    pub effect: Option<PlanEffect>,
    /// Planned talking points said during the actual explain (product slots).
    pub points_said: Vec<String>,
    /// Planned talking points not said during it.
    pub points_missed: Vec<String>,
    /// Source row of the run-sheet.
    pub row: Option<usize>,
    /// Why there is no effect, or what else to know.
    pub note: Option<String>,
}

/// A session against its run-sheet ([`compare`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanReview {
    /// The run-sheet's source.
    pub source: String,
    /// The model's target the effects are in (`order_gmv`), if valued.
    pub target: Option<String>,
    /// Planned items on plan.
    pub on_plan: usize,
    /// Planned items off plan (late, early, longer, shorter, skipped).
    pub off_plan: usize,
    /// Unplanned items.
    pub added: usize,
    /// Every item, by planned (else actual) start.
    pub items: Vec<Deviation>,
    /// What the deviations together earned or cost: the session as it ran
    /// minus the session had every item gone as planned.
    pub effect_total: Option<PlanEffect>,
    /// Why the deviations were not valued, or other notes.
    pub notes: Vec<String>,
}

/// Compares a session with its run-sheet ([`Session::plan`](crate::schema::Session::plan)), fitting the
/// attribution model to value the deviations (`opts.attribute`).
pub fn compare(data: &SessionData, opts: &PlanOptions) -> Result<PlanReview> {
    opts.check()?;
    let sheet = data.session.plan.as_ref().ok_or_else(|| {
        VapError::InvalidArgument(format!(
            "session '{}' has no run-sheet: attach one first (read_run_sheet, then with_plan)",
            data.session.id
        ))
    })?;
    let mut notes = Vec::new();
    let fitted = if opts.attribute {
        let built = attribute::session_timeline(data, &opts.timeline.0)
            .and_then(|tl| attribute::fit(&tl, &opts.model).map(|f| (tl, f)));
        match built {
            Ok(x) => Some(x),
            // A stopped call is not a model that failed: it stops the review.
            Err(e) if e.kind() == crate::ErrorKind::Cancelled => return Err(e),
            Err(e) => {
                notes.push(format!("the deviations are not valued: {e}"));
                None
            }
        }
    } else {
        None
    };
    let mut r = compare_with(
        data,
        sheet,
        fitted.as_ref().map(|(tl, f)| (tl, f)),
        &opts.timeline,
        opts.tolerance_ms,
    )?;
    r.notes.extend(notes);
    Ok(r)
}

/// [`compare`] with a model already fitted on the session's attribution
/// timeline `tl` (the replay's), or none (no effects).
pub fn compare_with(
    data: &SessionData,
    sheet: &RunSheet,
    fitted: Option<(&Timeline, &Attribution)>,
    timeline: &AttributionTimelineOptions,
    tolerance_ms: Ms,
) -> Result<PlanReview> {
    let planned = sheet.resolve(data)?;
    let actual = actual_items(data);
    let covered: Vec<PlanKind> = planned.iter().map(|p| p.kind).collect();
    let mut rows: Vec<Row> = Vec::new();
    for kind in [PlanKind::Shift, PlanKind::Product, PlanKind::Promotion] {
        let ps: Vec<usize> = (0..planned.len())
            .filter(|&i| planned[i].kind == kind)
            .collect();
        let acts: Vec<usize> = (0..actual.len())
            .filter(|&j| actual[j].kind == kind)
            .collect();
        // Greedy: the closest starts first, keys equal.
        let mut pairs: Vec<(Ms, usize, usize)> = Vec::new();
        for &i in &ps {
            for &j in &acts {
                if same_subject(&planned[i], &actual[j]) {
                    pairs.push(((actual[j].start - planned[i].start_ms).abs(), i, j));
                }
            }
        }
        pairs.sort_unstable();
        let (mut used_p, mut used_a) = (vec![false; planned.len()], vec![false; actual.len()]);
        for (_, i, j) in pairs {
            if !used_p[i] && !used_a[j] {
                used_p[i] = true;
                used_a[j] = true;
                rows.push(Row::Matched(i, j));
            }
        }
        rows.extend(ps.iter().filter(|&&i| !used_p[i]).map(|&i| Row::Skipped(i)));
        if covered.contains(&kind) {
            rows.extend(acts.iter().filter(|&&j| !used_a[j]).map(|&j| Row::Added(j)));
        }
    }
    let mut items: Vec<Deviation> = rows
        .iter()
        .map(|r| deviation(data, &planned, &actual, r, tolerance_ms))
        .collect();
    // Values: one counterfactual per deviation, and one for all of them.
    let mut notes = Vec::new();
    let mut effect_total = None;
    let mut target = None;
    if let Some((tl, fit)) = fitted {
        let model = &fit.model;
        target = Some(fit.decomposition.target.clone());
        let base = model.apply(tl)?.predicted_totals();
        let cf = |changes: &[&Row]| -> Result<Option<(f64, Vec<f64>)>> {
            let light = counterfactual(data, &planned, &actual, changes);
            let Some(cf_tl) = with_events(tl, &light, timeline)? else {
                return Ok(None);
            };
            Ok(Some(model.apply(&cf_tl)?.predicted_totals()))
        };
        let valued: Vec<Result<Option<PlanEffect>>> = crate::threads::install(|| {
            rows.par_iter()
                .zip(&items)
                .map(|(r, d)| {
                    if d.status == DeviationStatus::OnPlan
                        || (d.kind == PlanKind::Shift && d.status == DeviationStatus::Added)
                    {
                        return Ok(None);
                    }
                    Ok(cf(&[r])?.map(|c| effect(&base, &c)))
                })
                .collect()
        });
        for (d, v) in items.iter_mut().zip(valued) {
            d.effect = v?;
            if d.effect.is_none() && d.status != DeviationStatus::OnPlan && d.note.is_none() {
                d.note = Some(match (d.kind, d.status) {
                    (PlanKind::Shift, DeviationStatus::Added) => {
                        "an unplanned shift: no planned host to compare with".into()
                    }
                    _ => "the model has no factor for it (nothing of its kind ran in the session)"
                        .into(),
                });
            }
        }
        let all: Vec<&Row> = rows
            .iter()
            .zip(&items)
            .filter(|(_, d)| {
                d.status != DeviationStatus::OnPlan
                    && !(d.kind == PlanKind::Shift && d.status == DeviationStatus::Added)
            })
            .map(|(r, _)| r)
            .collect();
        if !all.is_empty() {
            effect_total = cf(&all)?.map(|c| effect(&base, &c));
        }
    } else {
        notes.push("no attribution model: the deviations are listed, not valued".into());
    }
    items.sort_by_key(|d| {
        (
            d.planned.or(d.actual).map(|p| p.0).unwrap_or(Ms::MAX),
            d.kind,
            d.row,
        )
    });
    let count = |f: &dyn Fn(DeviationStatus) -> bool| items.iter().filter(|d| f(d.status)).count();
    Ok(PlanReview {
        source: sheet.source.clone(),
        target,
        on_plan: count(&|s| s == DeviationStatus::OnPlan),
        off_plan: count(&|s| s != DeviationStatus::OnPlan && s != DeviationStatus::Added),
        added: count(&|s| s == DeviationStatus::Added),
        items,
        effect_total,
        notes,
    })
}

/// What happened, as plan items.
#[derive(Debug, Clone)]
struct ActualItem {
    kind: PlanKind,
    start: Ms,
    end: Ms,
    anchor: Option<String>,
    product: Option<String>,
    promotion: Option<PromotionKind>,
    /// Index into the session's shifts, segments or promotions.
    index: usize,
}

fn actual_items(data: &SessionData) -> Vec<ActualItem> {
    let mut out = Vec::new();
    for (i, s) in data.shifts.iter().enumerate() {
        if s.role == ShiftRole::Host {
            out.push(ActualItem {
                kind: PlanKind::Shift,
                start: s.start_ms,
                end: s.end_ms,
                anchor: Some(s.anchor_id.clone()),
                product: None,
                promotion: None,
                index: i,
            });
        }
    }
    for (i, s) in data.segments.iter().enumerate() {
        if s.kind == SegmentKind::Explain {
            out.push(ActualItem {
                kind: PlanKind::Product,
                start: s.start_ms,
                end: s.end_ms,
                anchor: None,
                product: Some(s.product_id.clone()),
                promotion: None,
                index: i,
            });
        }
    }
    for (i, p) in data.promotions.iter().enumerate() {
        out.push(ActualItem {
            kind: PlanKind::Promotion,
            start: p.start_ms,
            end: p.end_ms,
            anchor: None,
            product: p.product_id.clone(),
            promotion: Some(p.kind),
            index: i,
        });
    }
    out
}

fn same_subject(p: &PlannedItem, a: &ActualItem) -> bool {
    match p.kind {
        PlanKind::Shift => p.anchor_id == a.anchor,
        PlanKind::Product => p.product_id == a.product,
        PlanKind::Promotion => {
            p.promotion == a.promotion && (p.product_id.is_none() || p.product_id == a.product)
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Row {
    Matched(usize, usize),
    Skipped(usize),
    Added(usize),
}

fn subject_of(
    kind: PlanKind,
    anchor: Option<&str>,
    product: Option<&str>,
    promo: Option<PromotionKind>,
) -> String {
    match kind {
        PlanKind::Shift => anchor.unwrap_or("").to_string(),
        PlanKind::Product => product.unwrap_or("").to_string(),
        PlanKind::Promotion => {
            let k = promo
                .and_then(|p| serde_json::to_value(p).ok())
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            match product {
                Some(p) => format!("{k}:{p}"),
                None => k,
            }
        }
    }
}

fn display_name(
    data: &SessionData,
    kind: PlanKind,
    subject: &str,
    anchor: Option<&str>,
    product: Option<&str>,
) -> String {
    let product_name = |id: &str| {
        data.products
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    match kind {
        PlanKind::Shift => {
            let a = anchor.unwrap_or(subject);
            data.anchors
                .iter()
                .find(|x| x.id == a)
                .map(|x| x.name.clone())
                .unwrap_or_else(|| a.to_string())
        }
        PlanKind::Product => product_name(product.unwrap_or(subject)),
        PlanKind::Promotion => match product {
            Some(p) => format!("{subject} ({})", product_name(p)),
            None => subject.to_string(),
        },
    }
}

fn deviation(
    data: &SessionData,
    planned: &[PlannedItem],
    actual: &[ActualItem],
    r: &Row,
    tol: Ms,
) -> Deviation {
    let (p, a) = match *r {
        Row::Matched(i, j) => (Some(&planned[i]), Some(&actual[j])),
        Row::Skipped(i) => (Some(&planned[i]), None),
        Row::Added(j) => (None, Some(&actual[j])),
    };
    let kind = p.map(|p| p.kind).or(a.map(|a| a.kind)).expect("one side");
    let anchor = p
        .and_then(|p| p.anchor_id.as_deref())
        .or(a.and_then(|a| a.anchor.as_deref()));
    let product = p
        .and_then(|p| p.product_id.as_deref())
        .or(a.and_then(|a| a.product.as_deref()));
    let promo = p.and_then(|p| p.promotion).or(a.and_then(|a| a.promotion));
    let subject = subject_of(kind, anchor, product, promo);
    let name = display_name(data, kind, &subject, anchor, product);
    let planned_span = p.map(|p| (p.start_ms, p.end_ms));
    let actual_span = a.map(|a| (a.start, a.end));
    let (start_delta, length_delta) = match (planned_span, actual_span) {
        (Some(p), Some(a)) => (Some(a.0 - p.0), Some((a.1 - a.0) - (p.1 - p.0))),
        _ => (None, None),
    };
    let status = match (start_delta, length_delta, p, a) {
        (_, _, Some(_), None) => DeviationStatus::Skipped,
        (_, _, None, Some(_)) => DeviationStatus::Added,
        (Some(ds), _, _, _) if ds > tol => DeviationStatus::Late,
        (Some(ds), _, _, _) if ds < -tol => DeviationStatus::Early,
        (_, Some(dl), _, _) if dl > tol => DeviationStatus::Longer,
        (_, Some(dl), _, _) if dl < -tol => DeviationStatus::Shorter,
        _ => DeviationStatus::OnPlan,
    };
    // Talking points: said (folded text) during the actual explain.
    let (mut said, mut missed) = (vec![], vec![]);
    if let (Some(p), PlanKind::Product) = (p, kind) {
        let window = actual_span;
        for point in &p.talking_points {
            let f = crate::align::fold(point);
            let hit = window.is_some_and(|(s, e)| {
                let from = data.utterances.partition_point(|u| u.start_ms < s);
                data.utterances[from..]
                    .iter()
                    .take_while(|u| u.start_ms < e)
                    .any(|u| crate::align::fold(&u.text).contains(&f))
            });
            if hit {
                said.push(point.clone());
            } else {
                missed.push(point.clone());
            }
        }
    }
    Deviation {
        kind,
        status,
        subject,
        name,
        planned: planned_span,
        actual: actual_span,
        start_delta_ms: start_delta,
        length_delta_ms: length_delta,
        effect: None,
        points_said: said,
        points_missed: missed,
        row: p.map(|p| p.row).filter(|r| *r > 0),
        note: p.and_then(|p| p.unknown.clone()),
    }
}

/// The session's events (shifts, segments, promotions) with `changes` put
/// back to the plan, in a session without streams.
fn counterfactual(
    data: &SessionData,
    planned: &[PlannedItem],
    actual: &[ActualItem],
    changes: &[&Row],
) -> SessionData {
    let mut shifts = data.shifts.clone();
    let mut segments = data.segments.clone();
    let mut promotions = data.promotions.clone();
    let (mut drop_shift, mut drop_seg, mut drop_promo) = (
        vec![false; shifts.len()],
        vec![false; segments.len()],
        vec![false; promotions.len()],
    );
    // Planned host spans that take the camera from whoever else hosted.
    let mut host_spans: Vec<(Ms, Ms)> = Vec::new();
    for r in changes {
        let (p, a) = match **r {
            Row::Matched(i, j) => (Some(&planned[i]), Some(&actual[j])),
            Row::Skipped(i) => (Some(&planned[i]), None),
            Row::Added(j) => (None, Some(&actual[j])),
        };
        if let Some(a) = a {
            match a.kind {
                PlanKind::Shift => drop_shift[a.index] = true,
                PlanKind::Product => drop_seg[a.index] = true,
                PlanKind::Promotion => drop_promo[a.index] = true,
            }
        }
        let Some(p) = p else { continue };
        match p.kind {
            PlanKind::Shift => {
                host_spans.push((p.start_ms, p.end_ms));
                shifts.push(Shift {
                    anchor_id: p.anchor_id.clone().unwrap_or_default(),
                    role: ShiftRole::Host,
                    start_ms: p.start_ms,
                    end_ms: p.end_ms,
                });
                drop_shift.push(false);
            }
            PlanKind::Product => {
                segments.push(ProductSegment {
                    product_id: p.product_id.clone().unwrap_or_default(),
                    kind: SegmentKind::Explain,
                    start_ms: p.start_ms,
                    end_ms: p.end_ms,
                });
                drop_seg.push(false);
            }
            PlanKind::Promotion => {
                let template = a.map(|a| &data.promotions[a.index]);
                promotions.push(Promotion {
                    id: template
                        .map(|t| t.id.clone())
                        .unwrap_or_else(|| format!("plan-row-{}", p.row)),
                    kind: p.promotion.unwrap_or(PromotionKind::Custom),
                    label: p.label.clone().or(template.and_then(|t| t.label.clone())),
                    product_id: p.product_id.clone().or(a.and_then(|a| a.product.clone())),
                    start_ms: p.start_ms,
                    end_ms: p.end_ms,
                });
                drop_promo.push(false);
            }
        }
    }
    fn keep<T>(v: &mut Vec<T>, drop: &[bool]) {
        let mut k = 0;
        v.retain(|_| {
            k += 1;
            !drop[k - 1]
        });
    }
    keep(&mut shifts, &drop_shift);
    keep(&mut segments, &drop_seg);
    keep(&mut promotions, &drop_promo);
    // Other hosts leave the planned host spans.
    let n_planned = host_spans.len();
    let mut out_shifts = Vec::with_capacity(shifts.len());
    let planned_shifts: Vec<Shift> = shifts.split_off(shifts.len() - n_planned.min(shifts.len()));
    for s in shifts {
        if s.role != ShiftRole::Host {
            out_shifts.push(s);
            continue;
        }
        let mut pieces = vec![(s.start_ms, s.end_ms)];
        for &(a, b) in &host_spans {
            pieces = pieces
                .into_iter()
                .flat_map(|(x, y)| {
                    let mut v = Vec::new();
                    if x < a.min(y) {
                        v.push((x, a.min(y)));
                    }
                    if b.max(x) < y {
                        v.push((b.max(x), y));
                    }
                    v
                })
                .collect();
        }
        out_shifts.extend(pieces.into_iter().map(|(x, y)| Shift {
            start_ms: x,
            end_ms: y,
            ..s.clone()
        }));
    }
    out_shifts.extend(planned_shifts);
    let mut light = SessionData::new(data.room.clone(), data.session.clone());
    light.anchors = data.anchors.clone();
    light.products = data.products.clone();
    light.shifts = out_shifts;
    light.segments = segments;
    light.promotions = promotions;
    light.shifts.sort_by_key(|s| (s.start_ms, s.end_ms));
    light.segments.sort_by_key(|s| (s.start_ms, s.end_ms));
    light.promotions.sort_by_key(|s| (s.start_ms, s.end_ms));
    light
}

/// The event columns the counterfactual changes.
fn is_event_column(name: &str) -> bool {
    [
        "anchor:",
        "host:",
        "explain:",
        "pinned:",
        "on_shelf:",
        "promo:",
    ]
    .iter()
    .any(|p| name.starts_with(p))
        || matches!(name, "price_level" | "pinned" | "on_shelf")
}

/// `tl` with its event columns as the counterfactual session `light` has
/// them (a column the counterfactual lacks is all zeros). `None` when the
/// counterfactual has an event column the timeline lacks that the model
/// would need (a promotion of a kind that never ran).
fn with_events(
    tl: &Timeline,
    light: &SessionData,
    timeline: &AttributionTimelineOptions,
) -> Result<Option<Timeline>> {
    let mut events = Timeline::build_numeric(light, &timeline.0)?;
    attribute::enrich(&mut events, light)?;
    if events.len() != tl.len() {
        return Err(VapError::Internal(
            "the counterfactual timeline has other bins".into(),
        ));
    }
    for c in events.columns() {
        if is_event_column(&c.name)
            && tl.position(&c.name).is_none()
            && events.values(&c.name)?.iter().any(|v| *v != 0.0)
        {
            return Ok(None);
        }
    }
    let mut out = tl.clone();
    let zeros = vec![0.0; tl.len()];
    let names: Vec<String> = tl
        .columns()
        .iter()
        .map(|c| c.name.clone())
        .filter(|n| is_event_column(n))
        .collect();
    for n in names {
        match events.position(&n) {
            Some(_) => out.set_values(&n, events.values(&n)?)?,
            None => out.set_values(&n, &zeros)?,
        }
    }
    Ok(Some(out))
}

fn effect(base: &(f64, Vec<f64>), cf: &(f64, Vec<f64>)) -> PlanEffect {
    let mut d: Vec<f64> = base
        .1
        .iter()
        .zip(&cf.1)
        .map(|(a, b)| a - b)
        .filter(|v| v.is_finite())
        .collect();
    d.sort_by(f64::total_cmp);
    let (low, high) = if d.len() >= 2 {
        (
            Some(super::quantile(&d, 0.025)),
            Some(super::quantile(&d, 0.975)),
        )
    } else {
        (None, None)
    };
    PlanEffect {
        value: base.0 - cf.0,
        low,
        high,
    }
}

impl PlanReview {
    /// The items as an Arrow batch (the replay's `plan` table:
    /// [`super::PLAN_COLUMNS`], times as UTC timestamps, the deltas
    /// as ms).
    pub fn table(&self) -> Result<arrow_array::RecordBatch> {
        let rows = super::plan_rows(Some(self));
        super::rows_to_batch("plan", super::PLAN_COLUMNS, &rows)
    }

    /// The review as JSON text.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| VapError::Internal(e.to_string()))
    }
}
