//! The attribution timeline: a session's alignment timeline enriched with
//! what the model reads beyond it (who hosts, the price level, the answered
//! questions), and a room's
//! sessions stacked for the single-room model.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::align::{AlignOptions, ColumnKind, ColumnMeta, Grid, Timeline};
use crate::error::{Result, VapError};
use crate::schema::*;
use crate::store::Store;

/// A session's timeline for attribution: [`Timeline::build`] then [`enrich`].
pub fn session_timeline(data: &SessionData, opts: &AlignOptions) -> Result<Timeline> {
    session_timeline_with(data, opts, None)
}

/// [`session_timeline`] with the session's questions already detected with
/// the default [`crate::align::QuestionOptions`] (see [`enrich_with`]).
pub(crate) fn session_timeline_with(
    data: &SessionData,
    opts: &AlignOptions,
    questions: Option<&[crate::align::Question]>,
) -> Result<Timeline> {
    let mut tl = Timeline::build(data, opts)?;
    enrich_with(&mut tl, data, questions)?;
    Ok(tl)
}

/// A room's sessions stacked for the single-room model: each session's
/// [`session_timeline`], then [`Timeline::stack`].
pub fn room_timeline<D>(sessions: &[D], opts: &AlignOptions) -> Result<Timeline>
where
    D: std::borrow::Borrow<SessionData> + Sync,
{
    let parts: Vec<Timeline> = crate::threads::install(|| {
        sessions
            .par_iter()
            .map(|s| session_timeline(s.borrow(), opts))
            .collect::<Result<Vec<_>>>()
    })?;
    Timeline::stack(parts)
}

/// The room's stored sessions as [`room_timeline`], read session by session
/// ([`Store::map_room`]): each session's data is dropped once its timeline is
/// built, so the room's history is never in memory at once.
pub fn store_room_timeline(store: &Store, room_id: &str, opts: &AlignOptions) -> Result<Timeline> {
    let parts = store.map_room(room_id, |d| session_timeline(&d, opts))?;
    Timeline::stack(parts)
}

/// Name of the price-level column added by [`enrich`].
pub const PRICE_LEVEL: &str = "price_level";

/// Name of the answered-questions column added by [`enrich`]: per bin, the
/// anchor's utterances starting there that explicitly answer at least one
/// viewer's question asked before them ([`crate::align::questions`]: an
/// answer cue such as "这位宝宝问" with the question's topic or product; a
/// price said while explaining is not counted as an answer here).
pub const ANSWERS: &str = "answers";

/// Adds to a session's timeline what attribution uses beyond the alignment
/// columns: `host:<id>` (the share of each bin an anchor hosts; the
/// `anchor:<id>` columns count every role) and `price_level` (the listed price
/// of what is in focus: the flash-sale product while a flash sale with a
/// product runs, else the explained products, else the room's mean price;
/// share-weighted within a bin). Columns already present are left alone.
pub fn enrich(tl: &mut Timeline, data: &SessionData) -> Result<()> {
    enrich_with(tl, data, None)
}

/// [`enrich`] with the session's questions already detected (the replay has
/// them; detecting them again would scan every comment twice).
pub fn enrich_with(
    tl: &mut Timeline,
    data: &SessionData,
    questions: Option<&[crate::align::Question]>,
) -> Result<()> {
    let spans = tl.spans().to_vec();
    let span = spans
        .iter()
        .find(|s| s.session_id == data.session.id)
        .ok_or_else(|| {
            VapError::InvalidArgument(format!(
                "the timeline has no rows of session '{}'",
                data.session.id
            ))
        })?;
    if spans.len() != 1 {
        return Err(VapError::InvalidArgument(
            "enrich one session's timeline, then stack them (attribute::room_timeline does)".into(),
        ));
    }
    let grid: Grid = span.grid;
    let n = grid.n;
    let step = grid.step_ms as f64;
    let meta = |name: String, kind, source: &str, unit: &str| ColumnMeta {
        name,
        kind,
        source: source.into(),
        unit: unit.into(),
        has_missing: false,
    };
    let mut hosts: BTreeMap<&str, Vec<(Ms, Ms)>> = BTreeMap::new();
    for a in &data.anchors {
        hosts.insert(&a.id, Vec::new());
    }
    for sh in data.shifts.iter().filter(|s| s.role == ShiftRole::Host) {
        hosts
            .entry(&sh.anchor_id)
            .or_default()
            .push((sh.start_ms, sh.end_ms));
    }
    for (a, mut spans) in hosts {
        let name = format!("host:{a}");
        if tl.position(&name).is_none() {
            let v = crate::align::bin_union(&grid, &mut spans);
            tl.push(
                meta(
                    name,
                    ColumnKind::Interval,
                    &format!("host shifts of anchor {a}"),
                    "share",
                ),
                v,
            )?;
        }
    }
    if tl.position(ANSWERS).is_none() && !data.utterances.is_empty() && !data.comments.is_empty() {
        let own;
        let qs = match questions {
            Some(q) => q,
            None => {
                own = crate::align::questions(data, &crate::align::QuestionOptions::default())?;
                &own[..]
            }
        };
        let mut starts: Vec<Ms> = qs
            .iter()
            .filter_map(|q| q.answer.as_ref().filter(|a| a.explicit).map(|a| a.ts_ms))
            .collect();
        starts.sort_unstable();
        starts.dedup();
        let mut v = vec![0.0; n];
        for t in starts {
            if let Some(i) = grid.bin(t) {
                if i < n {
                    v[i] += 1.0;
                }
            }
        }
        tl.push(
            meta(
                ANSWERS.into(),
                ColumnKind::Count,
                "utterances explicitly answering a viewer's question (align::questions)",
                "count",
            ),
            v,
        )?;
    }
    if tl.position(PRICE_LEVEL).is_none() && !data.products.is_empty() {
        let price: BTreeMap<&str, f64> = data
            .products
            .iter()
            .map(|p| (p.id.as_str(), p.price))
            .collect();
        let mean = data.products.iter().map(|p| p.price).sum::<f64>() / data.products.len() as f64;
        let mut flash = (vec![0.0; n], vec![0.0; n]);
        let mut expl = (vec![0.0; n], vec![0.0; n]);
        let add = |acc: &mut (Vec<f64>, Vec<f64>), a: Ms, b: Ms, p: f64| {
            grid.cover(a as f64, b as f64, |i, len| {
                acc.0[i] += len / step * p;
                acc.1[i] += len / step;
            });
        };
        for pr in &data.promotions {
            if pr.kind == PromotionKind::FlashSale {
                if let Some(p) = pr.product_id.as_deref().and_then(|id| price.get(id)) {
                    add(&mut flash, pr.start_ms, pr.end_ms, *p);
                }
            }
        }
        for sg in data
            .segments
            .iter()
            .filter(|s| s.kind == SegmentKind::Explain)
        {
            if let Some(p) = price.get(sg.product_id.as_str()) {
                add(&mut expl, sg.start_ms, sg.end_ms, *p);
            }
        }
        let v: Vec<f64> = (0..n)
            .map(|i| {
                let (sum, share) = if flash.1[i] > 0.0 {
                    (flash.0[i], flash.1[i])
                } else {
                    (expl.0[i], expl.1[i])
                };
                if share <= 0.0 {
                    mean
                } else {
                    let w = share.min(1.0);
                    w * sum / share + (1.0 - w) * mean
                }
            })
            .collect();
        tl.push(
            meta(
                PRICE_LEVEL.into(),
                ColumnKind::Gauge,
                "listed price of the product in focus (flash sale, else explained), else the mean price",
                "yuan",
            ),
            v,
        )?;
    }
    Ok(())
}
