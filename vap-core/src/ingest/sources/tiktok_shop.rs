//! TikTok Shop LIVE analytics: the per-session performance (JSON, or the
//! CSV / XLSX download of one session's row under headers such as "GMV",
//! "SKU orders", "Avg. viewing duration") and the per-minute performance (`timestamp` with `gmv, viewers, product_clicks,
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

/// A header or key reduced for matching: lower case letters and digits only
/// ("Avg. viewing duration" and `avg_viewing_duration` meet).
fn header_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether the file is JSON (its first character past a byte-order mark and
/// blanks opens an object or an array).
fn is_json(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"PK\x03\x04") {
        return false;
    }
    crate::text::decode(bytes).is_ok_and(|(t, _)| {
        t.trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with(['{', '['])
    })
}

/// One per-session field as a fact: a known field under its fact name (a
/// problem where its value is not a number), another kept as exported (a
/// number, else its text), an empty one noted as missing. `at`: the file,
/// the row (for a table) and the field as the file names it.
fn put_fact(
    b: &mut Builder,
    at: (&str, Option<usize>, &str),
    known: Option<&str>,
    number: Result<Option<f64>, String>,
    text: Option<String>,
    problems: &mut Vec<Problem>,
) {
    let (file, row, name) = at;
    let (fact, value, used) = match (known, number, text) {
        (Some(_), Err(m), _) => {
            problems.push(Problem::new(file, row, Some(name), m));
            return;
        }
        (Some(f), Ok(Some(n)), _) => (f.to_string(), Fact::Number(n), FieldUse::Mapped),
        (None, Ok(Some(n)), _) => (name.to_string(), Fact::Number(n), FieldUse::Kept),
        (None, _, Some(t)) => (name.to_string(), Fact::Text(t), FieldUse::Kept),
        (_, _, _) => {
            b.field(file, name, FieldUse::Ignored, "", 0, "missing");
            return;
        }
    };
    let note = if used == FieldUse::Kept {
        "not a field vap knows: kept as exported"
    } else {
        ""
    };
    b.facts.insert(fact.clone(), value);
    b.field(file, name, used, &format!("fact:{fact}"), 1, note);
}

/// Reads one session's row of the per-session download (CSV or XLSX): the
/// header row is the first with a "GMV" cell; known columns become facts by
/// the names of [`SESSION_FIELDS`], others are kept as exported.
fn read_session_table(file: &str, bytes: &[u8], b: &mut Builder) -> Result<(), Vec<Problem>> {
    use super::compass::{table, Cell};
    let rows = table(std::path::Path::new(file), bytes)?;
    let Some(h) = rows
        .iter()
        .position(|r| r.iter().any(|c| header_key(&c.display()) == "gmv"))
    else {
        return Err(vec![Problem::new(
            file,
            None,
            Some("GMV"),
            "no header row with a GMV column found",
        )]);
    };
    let data: Vec<(usize, &Vec<Cell>)> = rows
        .iter()
        .enumerate()
        .skip(h + 1)
        .filter(|(_, r)| r.iter().any(|c| !c.display().trim().is_empty()))
        .collect();
    let (row_no, row) = match data.as_slice() {
        [one] => (one.0 + 1, one.1),
        [] => {
            return Err(vec![Problem::new(
                file,
                Some(h + 2),
                None,
                "the header row is not followed by a session's row",
            )])
        }
        many => {
            return Err(vec![Problem::new(
                file,
                Some(many[1].0 + 1),
                None,
                format!(
                    "{} session rows: a per-session download holds one session (keep its row)",
                    many.len()
                ),
            )])
        }
    };
    let mut problems = Vec::new();
    for (j, head) in rows[h].iter().enumerate() {
        let name = head.display().trim().to_string();
        if name.is_empty() {
            continue;
        }
        let known = SESSION_FIELDS
            .iter()
            .find(|(s, _)| header_key(s) == header_key(&name))
            .map(|f| f.1);
        let cell = row.get(j);
        let number = match cell {
            Some(Cell::Number(x)) => Ok(Some(*x)),
            Some(Cell::Text(t)) => value::number(t),
            _ => Ok(None),
        };
        let text = cell
            .map(|c| c.display().trim().to_string())
            .filter(|t| !t.is_empty());
        put_fact(
            b,
            (file, Some(row_no), &name),
            known,
            number,
            text,
            &mut problems,
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Reads the per-session performance into facts (JSON, or one session's row
/// of the CSV / XLSX download).
pub(crate) fn read_session(file: &str, bytes: &[u8], b: &mut Builder) -> Result<(), Vec<Problem>> {
    if !is_json(bytes) {
        return read_session_table(file, bytes, b);
    }
    let v = json::parse(file, bytes)?;
    let found = json::require_objects(
        &v,
        &|o| json::get(o, "gmv").is_some(),
        file,
        "gmv",
        "no per-session performance (an object with gmv) found",
    )?;
    let (o, _) = found[0];
    let mut problems = Vec::new();
    for (k, x) in o.iter() {
        let known = SESSION_FIELDS
            .iter()
            .find(|(s, _)| json::same(k, s))
            .map(|f| f.1);
        put_fact(
            b,
            (file, None, k),
            known,
            json::num(Some(x)),
            json::text(Some(x)),
            &mut problems,
        );
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
    let v = json::parse(file, bytes)?;
    let rows = json::require_objects(
        &v,
        &|o| json::get(o, "timestamp").is_some(),
        file,
        "timestamp",
        "no per-minute rows (objects with a timestamp) found",
    )?;
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
            super::build::stamp_flow(pts, step)
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
