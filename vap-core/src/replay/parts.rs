//! The product and anchor replays, the promotions, and the phrase statistics
//! both use.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::figure::{ratio, Estimate, Figure, History, Source};
use super::headline::{flow_sum, paid_in, union_ms, SessionDigest, CLICK_METRICS, VIEW_METRICS};
use super::ReplayOptions;
use crate::align::{fold, Question, QuestionKind, BUILTIN};
use crate::attribute::Decomposition;
use crate::schema::{Ms, OrderStatus, PromotionKind, SegmentKind, SessionData, ShiftRole};

/// How a phrase of the anchor's went with orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhraseStat {
    /// The phrase as listed in the lexicon.
    pub phrase: String,
    /// Its group ("urgency", "price", "answer").
    pub group: String,
    /// Utterances that used it (the support).
    pub uses: usize,
    /// Mean orders in the `follow` window after a use.
    pub orders_after: f64,
    /// `orders_after` ÷ the mean orders of any window of that length in the
    /// same scope (1 = no different); `None` when the scope has no orders.
    pub lift: Option<f64>,
    /// Lower end of the 95 % interval of the lift (normal, from the uses'
    /// spread); `None` with fewer than two uses.
    pub low: Option<f64>,
    /// Upper end.
    pub high: Option<f64>,
    /// Fewer than `min_support` uses: read it as a hint, not a finding.
    pub weak: bool,
}

/// What the orders after a phrase's uses say: their mean, the lift against
/// `base` (the mean orders of any window of that length in the scope) with a
/// normal 95 % interval from the uses' spread, and whether the support is
/// below `min_support`.
pub(super) struct Lift {
    pub(super) mean: f64,
    pub(super) lift: Option<f64>,
    pub(super) low: Option<f64>,
    pub(super) high: Option<f64>,
    pub(super) weak: bool,
}

impl Lift {
    /// The statistics of the orders after each use, `after`.
    pub(super) fn of(after: &[f64], base: f64, min_support: usize) -> Lift {
        let n = after.len() as f64;
        let mean = after.iter().sum::<f64>() / n;
        let (low, high) = if after.len() >= 2 && base > 0.0 {
            let var = after.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
            let half = 1.96 * (var / n).sqrt();
            (
                Some(((mean - half) / base).max(0.0)),
                Some((mean + half) / base),
            )
        } else {
            (None, None)
        };
        Lift {
            mean,
            lift: (base > 0.0).then(|| mean / base),
            low,
            high,
            weak: after.len() < min_support,
        }
    }
}

/// Phrase statistics over the utterances `pick` keeps, orders of `product`
/// (or all) counted in the `follow_ms` after each use, against the order rate
/// over `scope`.
pub(super) fn phrases(
    data: &SessionData,
    folded: &[String],
    scope: &[(Ms, Ms)],
    product: Option<&str>,
    pick: impl Fn(&crate::schema::Utterance) -> bool,
    opts: &ReplayOptions,
) -> Vec<PhraseStat> {
    let scope_ms = union_ms(scope) as f64;
    let (_, scope_orders) = paid_in(data, scope, product);
    let base = if scope_ms > 0.0 {
        scope_orders * opts.follow_ms as f64 / scope_ms
    } else {
        0.0
    };
    let lexicon: Vec<(&str, &str, String)> = BUILTIN
        .iter()
        .filter(|(g, _)| *g != "question")
        .flat_map(|(g, list)| list.iter().map(move |p| (*g, *p, fold(p))))
        .collect();
    let mut uses: BTreeMap<(&str, &str), Vec<f64>> = BTreeMap::new();
    for (u, text) in data.utterances.iter().zip(folded).filter(|(u, _)| pick(u)) {
        for (group, p, fp) in &lexicon {
            {
                if text.contains(fp.as_str()) {
                    let after =
                        paid_in(data, &[(u.start_ms, u.start_ms + opts.follow_ms)], product).1;
                    uses.entry((group, p)).or_default().push(after);
                }
            }
        }
    }
    let mut out: Vec<PhraseStat> = uses
        .into_iter()
        .map(|((group, phrase), v)| {
            let l = Lift::of(&v, base, opts.min_support);
            PhraseStat {
                phrase: phrase.to_string(),
                group: group.to_string(),
                uses: v.len(),
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

/// Questions asked, answered, the share and the median latency, by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct QuestionStats {
    /// Questions asked.
    pub asked: usize,
    /// Of which answered.
    pub answered: usize,
    /// `answered ÷ asked` (`None` when none were asked).
    pub share: Option<f64>,
    /// Median seconds from question to answer (`None` when none answered).
    pub median_latency_s: Option<f64>,
    /// Kind ("price", ...) → (asked, answered).
    pub by_kind: BTreeMap<String, (usize, usize)>,
}

impl QuestionStats {
    /// The statistics of `questions`: one pass, counts by kind in a fixed
    /// array, the median latency by selection (not a sort).
    pub fn of<'a>(questions: impl IntoIterator<Item = &'a Question>) -> QuestionStats {
        let mut s = QuestionStats::default();
        let mut lat: Vec<Ms> = Vec::new();
        let mut kinds = [(0usize, 0usize); QuestionKind::ALL.len()];
        for q in questions {
            s.asked += 1;
            // `ALL` lists the kinds in declaration order.
            let e = &mut kinds[q.kind as usize];
            e.0 += 1;
            if let Some(a) = &q.answer {
                s.answered += 1;
                e.1 += 1;
                lat.push(a.latency_ms);
            }
        }
        s.by_kind = QuestionKind::ALL
            .iter()
            .zip(kinds)
            .filter(|(_, n)| n.0 > 0)
            .map(|(k, n)| (k.as_str().to_string(), n))
            .collect();
        s.share = ratio(Some(s.answered as f64), Some(s.asked as f64));
        s.median_latency_s = median_s(&mut lat);
        s
    }
}

/// The median of latencies in ms, in seconds: [`quantile`]`(…, 0.5)` of the
/// sorted seconds, found by selection.
fn median_s(ms: &mut [Ms]) -> Option<f64> {
    let n = ms.len();
    if n == 0 {
        return None;
    }
    let hi = n / 2;
    let (left, &mut b, _) = ms.select_nth_unstable(hi);
    let a = if n.is_multiple_of(2) {
        left.iter().copied().max().unwrap_or(b)
    } else {
        b
    };
    let (a, b) = (a as f64 / 1000.0, b as f64 / 1000.0);
    Some(a + (b - a) * 0.5)
}

/// One explain segment of a product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplainReplay {
    /// Start.
    pub start_ms: Ms,
    /// End.
    pub end_ms: Ms,
    /// Length in minutes.
    pub minutes: f64,
    /// The product's paid GMV during it (raw).
    pub gmv: f64,
    /// The product's paid orders during it (raw).
    pub orders: f64,
    /// Product clicks during it (raw; all products: the platform's click
    /// series is room-wide), when the session has them.
    pub clicks: Option<f64>,
    /// Orders of the product ÷ views during it (derived).
    pub conversion: Option<f64>,
    /// End of the carryover window after it (the next explain's start, or
    /// `carryover` later, or the session's end, whichever comes first).
    pub carry_end_ms: Ms,
    /// The product's paid GMV in the carryover window.
    pub carry_gmv: f64,
    /// The product's paid orders in the carryover window.
    pub carry_orders: f64,
    /// `gmv ÷ minutes`.
    pub gmv_per_minute: Option<f64>,
}

/// The product replay (商品复盘) of one product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductReplay {
    /// Product id.
    pub product_id: String,
    /// Name.
    pub name: String,
    /// Listed price.
    pub price: f64,
    /// Every explain segment, in time order.
    pub segments: Vec<ExplainReplay>,
    /// Explain time in minutes (union of the segments).
    pub explain_minutes: f64,
    /// The product's paid GMV over the whole session (raw).
    pub gmv: f64,
    /// The product's paid orders over the whole session (raw).
    pub orders: f64,
    /// GMV per explain minute, with the room's history.
    pub gmv_per_explain_minute: Figure,
    /// The explain factors' contribution inside its segments (model, with
    /// interval); `None` without a fitted model or without segments.
    pub contribution: Option<Estimate>,
    /// The anchor's phrases while explaining it, ranked by the product's
    /// orders that followed.
    pub phrases: Vec<PhraseStat>,
    /// Viewers' questions about it.
    pub questions: QuestionStats,
}

/// The product replays, explained products first (by GMV), then the rest.
pub(super) fn products(
    data: &SessionData,
    folded: &[String],
    questions: &[Question],
    dec: Option<&Decomposition>,
    history: &[&SessionDigest],
    opts: &ReplayOptions,
) -> Vec<ProductReplay> {
    let end = data.session.end_ms;
    let explains: Vec<(usize, Ms, Ms)> = {
        let mut v: Vec<(usize, Ms, Ms)> = data
            .segments
            .iter()
            .filter(|s| s.kind == SegmentKind::Explain)
            .filter_map(|s| {
                data.products
                    .iter()
                    .position(|p| p.id == s.product_id)
                    .map(|i| (i, s.start_ms, s.end_ms))
            })
            .collect();
        v.sort_by_key(|x| x.1);
        v
    };
    // Paid GMV and orders per product, in one pass over the orders.
    let mut paid: rustc_hash::FxHashMap<&str, (f64, f64)> = Default::default();
    for o in data.orders.iter().filter(|o| o.status == OrderStatus::Paid) {
        let e = paid.entry(o.product_id.as_str()).or_default();
        e.0 += o.amount;
        e.1 += 1.0;
    }
    let mut by_product: rustc_hash::FxHashMap<&str, Vec<&Question>> = Default::default();
    for q in questions {
        if let Some(p) = &q.product_id {
            by_product.entry(&**p).or_default().push(q);
        }
    }
    let mut out: Vec<ProductReplay> = data
        .products
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mine: Vec<(Ms, Ms)> = explains
                .iter()
                .filter(|x| x.0 == i)
                .map(|x| (x.1, x.2))
                .collect();
            let segments: Vec<ExplainReplay> = mine
                .iter()
                .map(|&(a, b)| {
                    let next = explains
                        .iter()
                        .map(|x| x.1)
                        .find(|&s| s >= b)
                        .unwrap_or(end);
                    let carry_end = next.min(b + opts.carryover_ms).min(end).max(b);
                    let (gmv, orders) = paid_in(data, &[(a, b)], Some(&p.id));
                    let (carry_gmv, carry_orders) = paid_in(data, &[(b, carry_end)], Some(&p.id));
                    let minutes = (b - a) as f64 / 60_000.0;
                    ExplainReplay {
                        start_ms: a,
                        end_ms: b,
                        minutes,
                        gmv,
                        orders,
                        clicks: flow_sum(data, CLICK_METRICS, a, b),
                        conversion: ratio(Some(orders), flow_sum(data, VIEW_METRICS, a, b)),
                        carry_end_ms: carry_end,
                        carry_gmv,
                        carry_orders,
                        gmv_per_minute: ratio(Some(gmv), Some(minutes)),
                    }
                })
                .collect();
            let minutes = union_ms(&mine) as f64 / 60_000.0;
            let during: f64 = segments.iter().map(|s| s.gmv).sum();
            let (gmv, orders) = paid.get(p.id.as_str()).copied().unwrap_or_default();
            let per_min = ratio(Some(during), Some(minutes));
            let past: Vec<f64> = history
                .iter()
                .filter_map(|d| d.products.get(&p.id))
                .filter_map(|&(m, g)| ratio(Some(g), Some(m)))
                .collect();
            let mut fig = Figure::new(
                "gmv_per_explain_minute",
                per_min,
                Source::Derived,
                "the product's GMV while explained ÷ explain minutes",
            )
            .or_missing("the product was not explained");
            fig.history = Some(History::of(per_min, &past, opts.min_history));
            let contribution = dec.and_then(|d| {
                d.part_within(&p.id, &mine, |n| n.starts_with("explain"))
                    .map(|part| Estimate::from(&part))
            });
            let phrases = phrases(
                data,
                folded,
                &mine,
                Some(&p.id),
                |u| mine.iter().any(|&(a, b)| u.start_ms >= a && u.start_ms < b),
                opts,
            );
            let questions =
                QuestionStats::of(by_product.get(p.id.as_str()).into_iter().flatten().copied());
            ProductReplay {
                product_id: p.id.clone(),
                name: p.name.clone(),
                price: p.price,
                segments,
                explain_minutes: minutes,
                gmv,
                orders,
                gmv_per_explain_minute: fig,
                contribution,
                phrases,
                questions,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (b.explain_minutes > 0.0)
            .cmp(&(a.explain_minutes > 0.0))
            .then(b.gmv.total_cmp(&a.gmv))
            .then(a.product_id.cmp(&b.product_id))
    });
    out
}

/// One shift of an anchor, with the per-hour figures anchor teams keep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShiftReplay {
    /// Role on the shift.
    pub role: ShiftRole,
    /// Start.
    pub start_ms: Ms,
    /// End.
    pub end_ms: Ms,
    /// Hours.
    pub hours: f64,
    /// Paid GMV during the shift (raw).
    pub gmv: f64,
    /// Paid orders (raw).
    pub orders: f64,
    /// Views during it (raw), when the session has them.
    pub views: Option<f64>,
    /// 单小时 GMV (derived).
    pub gmv_per_hour: Option<f64>,
    /// GPM during the shift (derived).
    pub gpm: Option<f64>,
    /// UV value during the shift (derived).
    pub uv_value: Option<f64>,
    /// The anchor's effect over this shift (model: the `host:<id>` factor,
    /// against the reference anchor, with traffic, product line-up and
    /// promotions in the model); `None` for the reference anchor and for
    /// roles other than host.
    pub effect: Option<Estimate>,
}

/// The anchor replay (主播复盘) of one anchor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnchorReplay {
    /// Anchor id.
    pub anchor_id: String,
    /// Name.
    pub name: String,
    /// Every shift, in time order.
    pub shifts: Vec<ShiftReplay>,
    /// Hours hosting.
    pub host_hours: f64,
    /// GMV per hour hosting, with the room's history.
    pub gmv_per_hour: Figure,
    /// GPM over the host shifts.
    pub gpm: Figure,
    /// UV value over the host shifts.
    pub uv_value: Figure,
    /// The anchor's effect over all host shifts (model, with interval).
    pub effect: Figure,
    /// The anchor's phrases, ranked by the orders that followed.
    pub phrases: Vec<PhraseStat>,
    /// Questions asked while the anchor hosted, and how they were answered.
    pub questions: QuestionStats,
}

/// The anchor replays, by hours hosting.
pub(super) fn anchors(
    data: &SessionData,
    folded: &[String],
    questions: &[Question],
    dec: Option<&Decomposition>,
    history: &[&SessionDigest],
    opts: &ReplayOptions,
) -> Vec<AnchorReplay> {
    let effect_of = |id: &str, spans: &[(Ms, Ms)]| {
        let name = format!("host:{id}");
        dec.and_then(|d| d.part_within(&name, spans, |n| n == name))
            .map(|p| Estimate::from(&p))
    };
    let mut out: Vec<AnchorReplay> = data
        .anchors
        .iter()
        .map(|a| {
            let mine: Vec<_> = data.shifts.iter().filter(|s| s.anchor_id == a.id).collect();
            let host: Vec<(Ms, Ms)> = mine
                .iter()
                .filter(|s| s.role == ShiftRole::Host)
                .map(|s| (s.start_ms, s.end_ms))
                .collect();
            let shifts: Vec<ShiftReplay> = mine
                .iter()
                .map(|s| {
                    let hours = (s.end_ms - s.start_ms) as f64 / 3_600_000.0;
                    let (gmv, orders) = paid_in(data, &[(s.start_ms, s.end_ms)], None);
                    let views = flow_sum(data, VIEW_METRICS, s.start_ms, s.end_ms);
                    ShiftReplay {
                        role: s.role,
                        start_ms: s.start_ms,
                        end_ms: s.end_ms,
                        hours,
                        gmv,
                        orders,
                        views,
                        gmv_per_hour: ratio(Some(gmv), Some(hours)),
                        gpm: ratio(Some(gmv * 1000.0), views),
                        uv_value: ratio(Some(gmv), views),
                        effect: (s.role == ShiftRole::Host)
                            .then(|| effect_of(&a.id, &[(s.start_ms, s.end_ms)]))
                            .flatten(),
                    }
                })
                .collect();
            let hours = union_ms(&host) as f64 / 3_600_000.0;
            let (gmv, _) = paid_in(data, &host, None);
            let views: Option<f64> = host
                .iter()
                .map(|&(s, e)| flow_sum(data, VIEW_METRICS, s, e))
                .sum();
            let per_hour = ratio(Some(gmv), Some(hours));
            let past: Vec<f64> = history
                .iter()
                .filter_map(|d| d.anchors.get(&a.id))
                .filter_map(|&(h, g, _)| ratio(Some(g), Some(h)))
                .collect();
            let mut gmv_per_hour = Figure::new(
                "gmv_per_hour",
                per_hour,
                Source::Derived,
                "GMV during host shifts ÷ hours hosting",
            )
            .or_missing("the anchor did not host");
            gmv_per_hour.history = Some(History::of(per_hour, &past, opts.min_history));
            let gpm = Figure::new(
                "gpm",
                ratio(Some(gmv * 1000.0), views),
                Source::Derived,
                "GMV ÷ views × 1000 over host shifts",
            )
            .or_missing("no views metric, or the anchor did not host");
            let uv_value = Figure::new(
                "uv_value",
                ratio(Some(gmv), views),
                Source::Derived,
                "GMV ÷ views over host shifts",
            )
            .or_missing("no views metric, or the anchor did not host");
            let est = effect_of(&a.id, &host);
            let mut effect = Figure::new(
                "effect",
                est.as_ref().map(|e| e.value),
                Source::Model,
                "attribution model: the host factor over the anchor's shifts, against the reference anchor",
            )
            .or_missing(if dec.is_none() {
                "no attribution model was fitted"
            } else if host.is_empty() {
                "the anchor did not host"
            } else {
                "the reference anchor (the one on air the longest): effects of the others are measured against this one"
            });
            if let Some(e) = &est {
                effect.low = e.low;
                effect.high = e.high;
            }
            let phrases = phrases(
                data,
                folded,
                &host,
                None,
                |u| match &u.speaker {
                    Some(s) => s == &a.id,
                    None => host.iter().any(|&(x, y)| u.start_ms >= x && u.start_ms < y),
                },
                opts,
            );
            let questions = QuestionStats::of(
                questions
                    .iter()
                    .filter(|q| host.iter().any(|&(x, y)| q.ts_ms >= x && q.ts_ms < y)),
            );
            AnchorReplay {
                anchor_id: a.id.clone(),
                name: a.name.clone(),
                shifts,
                host_hours: hours,
                gmv_per_hour,
                gpm,
                uv_value,
                effect,
                phrases,
                questions,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.host_hours
            .total_cmp(&a.host_hours)
            .then(a.anchor_id.cmp(&b.anchor_id))
    });
    out
}

/// A promotion with what happened while it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromotionReplay {
    /// Promotion id.
    pub id: String,
    /// Kind.
    pub kind: PromotionKind,
    /// Label.
    pub label: Option<String>,
    /// Product it applies to.
    pub product_id: Option<String>,
    /// Start.
    pub start_ms: Ms,
    /// End.
    pub end_ms: Ms,
    /// Minutes into the session it started.
    pub minutes_in: f64,
    /// Length in minutes.
    pub minutes: f64,
    /// Paid GMV while it ran (raw, all products).
    pub gmv: f64,
    /// Paid orders while it ran (raw).
    pub orders: f64,
    /// The `promo:<kind>` factor's contribution while it ran (model).
    pub contribution: Option<Estimate>,
}

/// The promotions, in time order.
pub(super) fn promotions(data: &SessionData, dec: Option<&Decomposition>) -> Vec<PromotionReplay> {
    data.promotions
        .iter()
        .map(|p| {
            let (gmv, orders) = paid_in(data, &[(p.start_ms, p.end_ms)], None);
            let factor = format!(
                "promo:{}",
                serde_json::to_value(p.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            );
            PromotionReplay {
                id: p.id.clone(),
                kind: p.kind,
                label: p.label.clone(),
                product_id: p.product_id.clone(),
                start_ms: p.start_ms,
                end_ms: p.end_ms,
                minutes_in: (p.start_ms - data.session.start_ms) as f64 / 60_000.0,
                minutes: (p.end_ms - p.start_ms) as f64 / 60_000.0,
                gmv,
                orders,
                contribution: dec
                    .and_then(|d| d.part_within(&p.id, &[(p.start_ms, p.end_ms)], |n| n == factor))
                    .map(|e| Estimate::from(&e)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::figure::quantile;
    use super::*;

    #[test]
    fn kinds_index_in_declaration_order() {
        for (i, k) in QuestionKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i, "{k:?}");
        }
    }

    #[test]
    fn median_by_selection_is_the_sorted_quantile() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        assert_eq!(median_s(&mut []), None);
        for n in 1..60 {
            let mut ms: Vec<Ms> = (0..n).map(|_| rng.random_range(0..90_000)).collect();
            let mut sorted: Vec<f64> = ms.iter().map(|&x| x as f64 / 1000.0).collect();
            sorted.sort_by(f64::total_cmp);
            assert_eq!(median_s(&mut ms), Some(quantile(&sorted, 0.5)), "n = {n}");
        }
    }
}
