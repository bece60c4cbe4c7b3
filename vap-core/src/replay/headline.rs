//! Headline figures of a session, and the digest of a session that the
//! room-history comparison reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::figure::{ratio, Figure, Source};
use crate::align::{bin_gauge, default_staleness, Grid, Question};
use crate::schema::{Ms, OrderStatus, SegmentKind, SessionData, ShiftRole};

/// Metric names read as views (entries into the room), in order of preference.
pub const VIEW_METRICS: &[&str] = &["entries", "views", "watch_count"];
/// Metric names read as online viewers (a gauge).
pub const ONLINE_METRICS: &[&str] = &["online_viewers", "online", "concurrent_viewers"];
/// Metric names read as product clicks.
pub const CLICK_METRICS: &[&str] = &["product_clicks", "clicks"];
/// Metric names read as product exposures.
pub const EXPOSURE_METRICS: &[&str] = &["product_exposures", "exposures", "impressions"];

/// The first of `names` the session declares.
pub(crate) fn metric_named<'a>(data: &'a SessionData, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| data.metric(n).map(|m| m.name.as_str()))
}

/// Sum of a flow metric's samples in `[from, to)`; `None` when not declared.
pub(crate) fn flow_sum(data: &SessionData, names: &[&str], from: Ms, to: Ms) -> Option<f64> {
    let name = metric_named(data, names)?;
    Some(
        data.series(name)
            .filter(|s| s.ts_ms >= from && s.ts_ms < to)
            .map(|s| s.value)
            .sum(),
    )
}

/// Time-weighted mean of a gauge over `[from, to)` (last observation carried
/// forward, valid for the default staleness) and its largest sample there;
/// `None` where no sample reaches the span.
pub(crate) fn gauge_stats(
    data: &SessionData,
    names: &[&str],
    from: Ms,
    to: Ms,
) -> Option<(f64, f64)> {
    let name = metric_named(data, names)?;
    let samples: Vec<(Ms, f64)> = data.series(name).map(|s| (s.ts_ms, s.value)).collect();
    if samples.is_empty() || to <= from {
        return None;
    }
    let times: Vec<Ms> = samples.iter().map(|s| s.0).collect();
    let grid = Grid::new(from, to - from, 1).ok()?;
    let mean = bin_gauge(&grid, &samples, default_staleness(&times))[0];
    let peak = samples
        .iter()
        .filter(|s| s.0 >= from && s.0 < to)
        .map(|s| s.1)
        .fold(f64::NAN, f64::max);
    mean.is_finite().then_some((mean, peak))
}

/// The headline figures of a session (see the list: GMV, orders,
/// buyers, items, views, GPM, UV value, conversion, online viewers, watch
/// time, comments, interaction, the product funnel, questions answered).
pub fn headline(data: &SessionData, questions: &[Question]) -> Vec<Figure> {
    let (start, end) = (data.session.start_ms, data.session.end_ms);
    let gmv = data.gmv();
    let has_orders = !data.orders.is_empty();
    let paid: Vec<_> = data
        .orders
        .iter()
        .filter(|o| o.status == OrderStatus::Paid)
        .collect();
    // Where the streams cannot give a figure, the platform's own session
    // figure (an imported Compass list or TikTok Shop summary) stands in,
    // and says so; so the history compares what the platform reported.
    let fact = |k: &str| {
        data.session
            .facts
            .get(k)
            .and_then(crate::schema::Fact::as_f64)
            .filter(|v| v.is_finite())
    };
    let either =
        |own: Option<f64>, from: &'static str, k: &'static str, platform: &'static str| match own {
            Some(v) => (Some(v), from),
            None => (fact(k), platform),
        };
    let (buyers, buyers_from) = either(
        paid.iter()
            .any(|o| o.viewer_id.is_some())
            .then(|| distinct(&paid, |o| o.viewer_id.as_deref()) as f64),
        "orders: distinct buyer ids",
        "buyers",
        "platform: the session's reported buyers",
    );
    let items: f64 = paid.iter().map(|o| o.quantity as f64).sum();
    let (views, views_from) = either(
        flow_sum(data, VIEW_METRICS, start, end),
        "metric: entries",
        "views",
        "platform: the session's reported views",
    );
    let online = gauge_stats(data, ONLINE_METRICS, start, end);
    let (peak_online, peak_from) = either(
        online.map(|o| o.1),
        "metric: online viewers (largest sample)",
        "peak_online",
        "platform: the session's reported peak online",
    );
    let (avg_online, avg_from) = either(
        online.map(|o| o.0),
        "online viewers, time-weighted mean",
        "avg_online",
        "platform: the session's reported average online",
    );
    let (clicks, clicks_from) = either(
        flow_sum(data, CLICK_METRICS, start, end),
        "metric: product clicks",
        "product_clicks",
        "platform: the session's reported product clicks",
    );
    let (exposures, exposures_from) = either(
        flow_sum(data, EXPOSURE_METRICS, start, end),
        "metric: product exposures",
        "product_exposures",
        "platform: the session's reported product exposures",
    );
    let hours = (end - start) as f64 / 3_600_000.0;
    let commenters = distinct(&data.comments, |c| Some(c.viewer_id.as_str())) as f64;
    let gross = has_orders.then_some(gmv.gross);
    let no_orders = "the session has no orders";
    let no_views = "no views metric (entries) in the session";
    let no_online = "no online-viewers metric in the session";
    let answered = questions.iter().filter(|q| q.answer.is_some()).count() as f64;
    let mut latencies: Vec<f64> = questions
        .iter()
        .filter_map(|q| q.answer.as_ref().map(|a| a.latency_ms as f64 / 1000.0))
        .collect();
    latencies.sort_by(f64::total_cmp);
    let orders_or_buyers = buyers.or(has_orders.then_some(gmv.paid_orders as f64));
    vec![
        Figure::new("gmv_gross", gross, Source::Raw, "orders: paid amounts").or_missing(no_orders),
        Figure::new(
            "gmv_net",
            has_orders.then_some(gmv.net),
            Source::Derived,
            "gmv_gross − refunds",
        )
        .or_missing(no_orders),
        Figure::new(
            "refunds",
            has_orders.then_some(gmv.refunds),
            Source::Raw,
            "orders: refunded amounts",
        )
        .or_missing(no_orders),
        Figure::new(
            "paid_orders",
            has_orders.then_some(gmv.paid_orders as f64),
            Source::Raw,
            "orders",
        )
        .or_missing(no_orders),
        Figure::new(
            "refund_orders",
            has_orders.then_some(gmv.refund_orders as f64),
            Source::Raw,
            "orders",
        )
        .or_missing(no_orders),
        Figure::new("buyers", buyers, Source::Raw, buyers_from)
            .or_missing("the orders carry no buyer ids"),
        Figure::new(
            "items_sold",
            has_orders.then_some(items),
            Source::Raw,
            "orders: quantities",
        )
        .or_missing(no_orders),
        Figure::new("views", views, Source::Raw, views_from).or_missing(no_views),
        Figure::new(
            "gpm",
            ratio(gross.map(|g| g * 1000.0), views),
            Source::Derived,
            "gmv_gross ÷ views × 1000",
        )
        .or_missing(no_views),
        Figure::new(
            "uv_value",
            ratio(gross, views),
            Source::Derived,
            "gmv_gross ÷ views (entries stand in for unique viewers)",
        )
        .or_missing(no_views),
        Figure::new(
            "watch_to_order",
            ratio(orders_or_buyers, views),
            Source::Derived,
            if buyers.is_some() {
                "buyers ÷ views"
            } else {
                "paid_orders ÷ views"
            },
        )
        .or_missing(no_views),
        Figure::new("peak_online", peak_online, Source::Raw, peak_from).or_missing(no_online),
        Figure::new(
            "avg_online",
            avg_online,
            // A reported figure is raw; the mean of the stream is derived.
            if online.is_some() {
                Source::Derived
            } else {
                Source::Raw
            },
            avg_from,
        )
        .or_missing(no_online),
        match (online, fact("avg_watch_minutes")) {
            (None, Some(m)) => Figure::new(
                "avg_watch_minutes",
                Some(m),
                Source::Raw,
                "platform: the session's reported average watch time",
            ),
            _ => Figure::new(
                "avg_watch_minutes",
                ratio(avg_online.map(|o| o * hours * 60.0), views),
                Source::Derived,
                "avg_online × duration ÷ views (Little's law)",
            ),
        }
        .or_missing("needs both online viewers and views"),
        Figure::new(
            "comments",
            Some(data.comments.len() as f64),
            Source::Raw,
            "comments",
        ),
        Figure::new(
            "commenters",
            Some(commenters),
            Source::Raw,
            "comments: distinct viewers",
        ),
        Figure::new(
            "interaction_rate",
            ratio(Some(commenters), views),
            Source::Derived,
            "commenters ÷ views",
        )
        .or_missing(no_views),
        Figure::new("exposures", exposures, Source::Raw, exposures_from)
            .or_missing("no product-exposure metric in the session"),
        Figure::new("clicks", clicks, Source::Raw, clicks_from)
            .or_missing("no product-click metric in the session"),
        Figure::new(
            "exposure_to_click",
            ratio(clicks, exposures),
            Source::Derived,
            "clicks ÷ exposures",
        )
        .or_missing("needs product exposures and clicks"),
        Figure::new(
            "click_to_order",
            ratio(has_orders.then_some(gmv.paid_orders as f64), clicks),
            Source::Derived,
            "paid_orders ÷ clicks",
        )
        .or_missing("needs product clicks"),
        Figure::new(
            "questions",
            Some(questions.len() as f64),
            Source::Derived,
            "comments read as questions (align::questions)",
        ),
        Figure::new(
            "answered_share",
            ratio(Some(answered), Some(questions.len() as f64)),
            Source::Derived,
            "questions with an answer in the transcript ÷ questions",
        )
        .or_missing(if data.utterances.is_empty() {
            "the session has no transcript"
        } else {
            "no questions"
        }),
        Figure::new(
            "answer_latency_s",
            (!latencies.is_empty()).then(|| super::figure::quantile(&latencies, 0.5)),
            Source::Derived,
            "answers: median seconds after the question",
        )
        .or_missing("no answered questions"),
    ]
}

/// What a session contributes to its room's history: the headline values,
/// each product's explain time and GMV while explained, each host's time on
/// air, GMV and views. Small and cheap; computed per stored session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionDigest {
    /// Session id.
    pub session_id: String,
    /// Session start.
    pub start_ms: Ms,
    /// Headline key → value (missing figures left out).
    pub headline: BTreeMap<String, f64>,
    /// Product id → (explain minutes, GMV of the product while explained).
    pub products: BTreeMap<String, (f64, f64)>,
    /// Anchor id → (hours hosting, GMV, views) over their host shifts.
    pub anchors: BTreeMap<String, (f64, f64, Option<f64>)>,
}

/// The digest of a session (see [`SessionDigest`]).
pub fn digest(data: &SessionData, questions: &[Question]) -> SessionDigest {
    digest_with(data, &headline(data, questions))
}

/// [`digest`] with the session's headline figures already computed (a
/// replay has them).
pub(crate) fn digest_with(data: &SessionData, head: &[Figure]) -> SessionDigest {
    let headline = head
        .iter()
        .filter_map(|f| f.value.map(|v| (f.key.clone(), v)))
        .collect();
    let mut products: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for p in &data.products {
        let spans: Vec<(Ms, Ms)> = data
            .segments
            .iter()
            .filter(|s| s.kind == SegmentKind::Explain && s.product_id == p.id)
            .map(|s| (s.start_ms, s.end_ms))
            .collect();
        if spans.is_empty() {
            continue;
        }
        let minutes = union_ms(&spans) as f64 / 60_000.0;
        let gmv = paid_in(data, &spans, Some(&p.id)).0;
        products.insert(p.id.clone(), (minutes, gmv));
    }
    let mut anchors: BTreeMap<String, (f64, f64, Option<f64>)> = BTreeMap::new();
    for sh in data.shifts.iter().filter(|s| s.role == ShiftRole::Host) {
        let e = anchors
            .entry(sh.anchor_id.clone())
            .or_insert((0.0, 0.0, Some(0.0)));
        e.0 += (sh.end_ms - sh.start_ms) as f64 / 3_600_000.0;
        e.1 += paid_in(data, &[(sh.start_ms, sh.end_ms)], None).0;
        e.2 = match (e.2, flow_sum(data, VIEW_METRICS, sh.start_ms, sh.end_ms)) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
    }
    SessionDigest {
        session_id: data.session.id.clone(),
        start_ms: data.session.start_ms,
        headline,
        products,
        anchors,
    }
}

/// Length of the union of spans.
pub(crate) fn union_ms(spans: &[(Ms, Ms)]) -> Ms {
    let mut v: Vec<(Ms, Ms)> = spans.iter().copied().filter(|s| s.1 > s.0).collect();
    v.sort();
    let mut total = 0;
    let mut cur: Option<(Ms, Ms)> = None;
    for (a, b) in v {
        match cur {
            Some((s, e)) if a <= e => cur = Some((s, e.max(b))),
            Some((s, e)) => {
                total += e - s;
                cur = Some((a, b));
            }
            None => cur = Some((a, b)),
        }
    }
    total + cur.map(|(s, e)| e - s).unwrap_or(0)
}

/// The number of distinct keys of `items` (`None` skipped): the keys'
/// 128-bit XXH3 hashes, made in one pass over the items in their order,
/// spread into 256 buckets by their top byte, each bucket (small enough to
/// stay in cache) sorted on vap's pool and counted where its values change.
/// No key is read again after it is hashed, so the count costs one
/// sequential pass over the strings and sorts of 16-byte values, several
/// times faster on millions of comments than a hash set (whose probes miss
/// the cache) or a sort that compares the strings. The count is exact unless
/// two different keys share a 128-bit hash: for a billion distinct keys the
/// odds of one such pair are below 10⁻²⁰. The result does not depend on the
/// thread count.
pub(crate) fn distinct<T: Sync>(items: &[T], key: impl Fn(&T) -> Option<&str> + Sync) -> usize {
    use rayon::prelude::*;
    use twox_hash::XxHash3_128;
    const BITS: u32 = 8;
    let bucket = |h: u128| (h >> (128 - BITS)) as usize;
    crate::threads::install(|| {
        let hashes: Vec<u128> = items
            .par_iter()
            .filter_map(|x| key(x).map(|k| XxHash3_128::oneshot(k.as_bytes())))
            .collect();
        let mut counts = vec![0usize; 1 << BITS];
        for &h in &hashes {
            counts[bucket(h)] += 1;
        }
        let mut next: Vec<usize> = counts
            .iter()
            .scan(0, |at, &n| {
                let start = *at;
                *at += n;
                Some(start)
            })
            .collect();
        let mut spread = vec![0u128; hashes.len()];
        for &h in &hashes {
            let b = bucket(h);
            spread[next[b]] = h;
            next[b] += 1;
        }
        drop(hashes);
        let mut buckets = Vec::with_capacity(counts.len());
        let mut rest = spread.as_mut_slice();
        for &n in &counts {
            let (b, r) = rest.split_at_mut(n);
            buckets.push(b);
            rest = r;
        }
        buckets
            .into_par_iter()
            .map(|b| {
                b.sort_unstable();
                b.len() - b.windows(2).filter(|w| w[0] == w[1]).count()
            })
            .sum()
    })
}

/// Paid GMV and paid orders inside any of `spans` (of one product, or all).
pub(crate) fn paid_in(data: &SessionData, spans: &[(Ms, Ms)], product: Option<&str>) -> (f64, f64) {
    let mut gmv = 0.0;
    let mut n = 0.0;
    for (a, b) in spans {
        let lo = data.orders.partition_point(|o| o.ts_ms < *a);
        for o in data.orders[lo..].iter().take_while(|o| o.ts_ms < *b) {
            if o.status == OrderStatus::Paid && product.is_none_or(|p| o.product_id == p) {
                gmv += o.amount;
                n += 1.0;
            }
        }
    }
    (gmv, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_counts_exactly() {
        #[allow(clippy::ptr_arg)] // the key of a `String` item
        fn key(s: &String) -> Option<&str> {
            Some(s.as_str())
        }
        #[allow(clippy::ptr_arg)]
        fn odd(s: &String) -> Option<&str> {
            s.ends_with(['1', '3', '5', '7', '9']).then_some(s.as_str())
        }
        assert_eq!(distinct(&[] as &[String], key), 0);
        assert_eq!(distinct(&["a".to_string()], key), 1);
        let ids: Vec<String> = (0..10_000).map(|i| format!("v{}", i % 1234)).collect();
        assert_eq!(distinct(&ids, key), 1234);
        let set: std::collections::HashSet<&str> = ids.iter().filter_map(odd).collect();
        assert_eq!(distinct(&ids, odd), set.len());
    }

    #[test]
    fn unions_count_overlaps_once() {
        assert_eq!(union_ms(&[(0, 10), (5, 20), (30, 40)]), 30);
        assert_eq!(union_ms(&[]), 0);
    }
}
