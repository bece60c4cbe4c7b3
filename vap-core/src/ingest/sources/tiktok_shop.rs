//! TikTok Shop LIVE analytics: the per-session performance and the
//! per-minute performance (`timestamp` with `gmv, viewers, product_clicks,
//! orders`, or with `sku_orders, customers, items_sold`: both shapes read).

use serde_json::Value;

use super::build::Builder;
use super::{json, value, FieldUse};
use crate::error::Problem;
use crate::schema::{Fact, MetricKind, Ms};

/// Per-session fields: source → fact.
const SESSION_FIELDS: &[(&str, &str)] = &[
    ("gmv", "gmv"),
    ("sku_orders", "paid_orders"),
    ("customers", "buyers"),
    ("click_to_order_rate", "click_conversion_rate"),
    ("acu", "avg_online"),
    ("pcu", "peak_online"),
    ("viewers", "viewers"),
    ("views", "views"),
    ("avg_viewing_duration", "avg_watch_seconds"),
    ("comments", "comments"),
    ("new_followers", "new_followers"),
    ("product_impressions", "product_exposures"),
    ("product_clicks", "product_clicks"),
    ("click_through_rate", "exposure_click_rate"),
];

/// Per-minute fields: source → (metric, kind, unit).
const MINUTE_FIELDS: &[(&str, &str, MetricKind, &str)] = &[
    ("gmv", "gmv", MetricKind::Flow, "currency"),
    ("viewers", "online_viewers", MetricKind::Gauge, "viewers"),
    (
        "product_clicks",
        "product_clicks",
        MetricKind::Flow,
        "count",
    ),
    ("orders", "paid_orders", MetricKind::Flow, "count"),
    ("sku_orders", "paid_orders", MetricKind::Flow, "count"),
    ("customers", "buyers", MetricKind::Flow, "viewers"),
    ("items_sold", "items_sold", MetricKind::Flow, "count"),
];

fn parse(file: &str, bytes: &[u8]) -> Result<Value, Vec<Problem>> {
    let (t, _) = crate::text::decode(bytes).map_err(|e| vec![Problem::new(file, None, None, e)])?;
    serde_json::from_str(t.trim_start_matches('\u{feff}')).map_err(|e| {
        vec![Problem::new(
            file,
            Some(e.line()),
            None,
            format!("not JSON: {e}"),
        )]
    })
}

/// Reads the per-session performance into facts.
pub(crate) fn read_session(file: &str, bytes: &[u8], b: &mut Builder) -> Result<(), Vec<Problem>> {
    let v = parse(file, bytes)?;
    let mut found = Vec::new();
    json::objects(&v, &|o| json::get(o, "gmv").is_some(), &mut found, None);
    let Some((o, _)) = found.first() else {
        return Err(vec![Problem::new(
            file,
            None,
            Some("gmv"),
            "no per-session performance (an object with gmv) found",
        )]);
    };
    let mut problems = Vec::new();
    for (k, x) in o.iter() {
        let known = SESSION_FIELDS.iter().find(|(s, _)| json::same(k, s));
        match (known, json::num(Some(x))) {
            (Some((_, fact)), Ok(Some(n))) => {
                b.facts.insert(fact.to_string(), Fact::Number(n));
                b.field(file, k, FieldUse::Mapped, &format!("fact:{fact}"), 1, "");
            }
            (Some(_), Ok(None)) => b.field(file, k, FieldUse::Ignored, "", 0, "missing"),
            (Some(_), Err(m)) => problems.push(Problem::new(file, None, Some(k), m)),
            (None, Ok(Some(n))) => {
                b.facts.insert(k.clone(), Fact::Number(n));
                b.field(
                    file,
                    k,
                    FieldUse::Kept,
                    &format!("fact:{k}"),
                    1,
                    "not a field vap knows: kept as exported",
                );
            }
            (None, _) => {
                if let Some(s) = json::text(Some(x)) {
                    b.facts.insert(k.clone(), Fact::Text(s));
                    b.field(
                        file,
                        k,
                        FieldUse::Kept,
                        &format!("fact:{k}"),
                        1,
                        "not a field vap knows: kept as exported",
                    );
                } else {
                    b.field(file, k, FieldUse::Ignored, "", 1, "not a number or text");
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Reads the per-minute performance: one series per known field; flows
/// stamped at the end of their minute (a zero at its start after a hole).
pub(crate) fn read_minutes(file: &str, bytes: &[u8], b: &mut Builder) -> Result<(), Vec<Problem>> {
    let v = parse(file, bytes)?;
    let mut rows = Vec::new();
    json::objects(
        &v,
        &|o| json::get(o, "timestamp").is_some(),
        &mut rows,
        None,
    );
    if rows.is_empty() {
        return Err(vec![Problem::new(
            file,
            None,
            Some("timestamp"),
            "no per-minute rows (objects with a timestamp) found",
        )]);
    }
    let mut problems = Vec::new();
    let mut times: Vec<Ms> = Vec::new();
    let mut cols: Vec<Vec<(Ms, f64)>> = vec![Vec::new(); MINUTE_FIELDS.len()];
    for (k, (o, _)) in rows.iter().enumerate() {
        let row = k + 1;
        let t = match json::get(o, "timestamp") {
            Some(Value::Number(n)) => n
                .as_f64()
                .ok_or("not a number".to_string())
                .and_then(value::epoch),
            Some(Value::String(s)) => value::instant(s, b.tz),
            _ => Err("no time".to_string()),
        };
        let t = match t {
            Ok(t) => t,
            Err(m) => {
                problems.push(Problem::new(file, Some(row), Some("timestamp"), m));
                continue;
            }
        };
        times.push(t);
        for (j, (field, ..)) in MINUTE_FIELDS.iter().enumerate() {
            match json::num(json::get(o, field)) {
                Ok(Some(x)) => cols[j].push((t, x)),
                Ok(None) => {}
                Err(m) => problems.push(Problem::new(file, Some(row), Some(field), m)),
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let step = {
        let mut t = times.clone();
        t.sort_unstable();
        t.dedup();
        let mut gaps: Vec<Ms> = t.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_unstable();
        gaps.get(gaps.len() / 2).copied().unwrap_or(60_000).max(1)
    };
    if let Some(&last) = times.iter().max() {
        b.period(last + step);
    }
    for (j, (field, name, kind, unit)) in MINUTE_FIELDS.iter().enumerate() {
        let mut pts = std::mem::take(&mut cols[j]);
        if pts.is_empty() {
            continue;
        }
        pts.sort_by_key(|p| p.0);
        let count = pts.len();
        let samples = if *kind == MetricKind::Gauge {
            pts
        } else {
            let mut out = Vec::with_capacity(count + 4);
            let mut prev_end = None;
            for (t, x) in pts {
                if prev_end != Some(t) {
                    out.push((t, 0.0));
                }
                out.push((t + step, x));
                prev_end = Some(t + step);
            }
            out
        };
        let key = b.add_series("tiktok_shop", name, *kind, unit, samples);
        b.field(
            file,
            field,
            FieldUse::Mapped,
            &format!("metric:{key}"),
            count,
            "",
        );
    }
    Ok(())
}
