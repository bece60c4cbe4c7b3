//! Douyin E-commerce Compass (抖音电商罗盘): the session list, the live
//! dashboard's per-minute trend, its order stream and the traffic sources.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::build::Builder;
use super::{json, value, FieldUse, SourceReport};
use crate::error::Problem;
use crate::schema::{Fact, MetricKind, Ms};
use crate::text;

/// One row of a session list: a session's span and the platform's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionFacts {
    /// 1-based data row in the file.
    pub row: usize,
    /// The local start as exported ("2026/11/25 20:00:00").
    pub label: String,
    /// Start, ms UTC.
    pub start_ms: Ms,
    /// End, ms UTC.
    pub end_ms: Ms,
    /// Every other column: known ones under vap's names (`gmv`, `viewers`,
    /// ...; rates as ratios), unknown ones under their header, as exported.
    pub facts: BTreeMap<String, Fact>,
}

/// The session list's columns vap knows: header → fact name.
pub(crate) const SESSION_COLUMNS: &[(&str, &str)] = &[
    ("直播时长(分钟)", "duration_minutes"),
    ("直播间曝光人数", "exposure_viewers"),
    ("直播间曝光次数", "exposures"),
    ("直播间观看人数", "viewers"),
    ("直播间观看次数", "views"),
    ("单小时观看人数", "viewers_per_hour"),
    ("最高在线人数", "peak_online"),
    ("平均在线人数", "avg_online"),
    ("人均观看时长(分钟)", "avg_watch_minutes"),
    ("评论次数", "comments"),
    ("新增粉丝数", "new_followers"),
    ("取关粉丝数", "unfollows"),
    ("观看老粉占比", "returning_fan_share"),
    ("直播间商品曝光人数", "product_exposure_viewers"),
    ("直播间商品曝光次数", "product_exposures"),
    ("直播间商品点击人数", "product_click_viewers"),
    ("直播间商品点击次数", "product_clicks"),
    ("直播间成交订单数", "paid_orders"),
    ("直播间成交金额", "gmv"),
    ("直播间用户支付金额", "user_paid_amount"),
    ("单小时用户支付金额", "user_paid_amount_per_hour"),
    ("直播间成交件数", "items_sold"),
    ("直播间成交人数", "buyers"),
    ("直播间退款订单数", "refund_orders"),
    ("直播间退款金额", "refunds"),
    ("直播间退款人数", "refund_buyers"),
    ("商品曝光-点击率(次数)", "exposure_click_rate"),
    ("商品曝光-点击率(人数)", "exposure_click_rate_viewers"),
    ("商品点击-成交率(次数)", "click_conversion_rate"),
    ("商品点击-成交率(人数)", "click_conversion_rate_viewers"),
    ("观看-成交率(次数)", "view_conversion_rate"),
    ("观看-成交率(人数)", "view_conversion_rate_viewers"),
    ("投放消耗(店铺绑定)", "ad_spend_bound"),
    ("投放消耗(店铺被投)", "ad_spend_targeted"),
    ("净成交金额", "net_gmv"),
    ("1小时退款率", "refund_rate_1h"),
    ("消费券引导支付金额", "coupon_gmv"),
];

const START: &str = "直播开始时间";
const END: &str = "直播结束时间";

/// A cell as read from CSV text or a spreadsheet.
pub(crate) enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// An Excel serial date.
    Serial(f64),
}

impl Cell {
    pub(crate) fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Number(x) | Cell::Serial(x) => x.to_string(),
        }
    }
}

/// The rows of an XLSX/XLS/ODS workbook's first sheet, or of CSV text.
pub(crate) fn table(path: &Path, bytes: &[u8]) -> Result<Vec<Vec<Cell>>, Vec<Problem>> {
    let file = path.display().to_string();
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(vec![Problem::new(
            &file,
            None,
            None,
            "an old Excel (.xls) workbook: save it as XLSX or CSV",
        )]);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return xlsx_rows(&file, bytes);
    }
    let (text, _) = text::decode(bytes).map_err(|e| vec![Problem::new(&file, None, None, e)])?;
    let text = text.trim_start_matches('\u{feff}');
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| {
            vec![Problem::new(
                &file,
                Some(i.max(1)),
                None,
                format!("not CSV: {e}"),
            )]
        })?;
        rows.push(
            rec.iter()
                .map(|s| {
                    if s.trim().is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text(s.to_string())
                    }
                })
                .collect(),
        );
    }
    Ok(rows)
}

/// Rows and columns a session list may span (a brand's years of sessions fit
/// many times over); a sheet reaching past them is refused before anything
/// is allocated for it.
const MAX_ROWS: u32 = 200_000;
const MAX_COLS: u32 = 1_000;

/// The first sheet of an XLSX workbook, cell by cell (never a dense grid
/// sized by what the file claims).
fn xlsx_rows(file: &str, bytes: &[u8]) -> Result<Vec<Vec<Cell>>, Vec<Problem>> {
    use calamine::{DataRef, Reader};
    let bad = |m: String| vec![Problem::new(file, None, None, m)];
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec()))
            .map_err(|e| bad(format!("not a readable XLSX workbook: {e}")))?;
    let Some(name) = book.sheet_names().first().cloned() else {
        return Err(bad("the workbook has no sheet".into()));
    };
    let mut reader = book
        .worksheet_cells_reader(&name)
        .map_err(|e| bad(format!("its first sheet cannot be read: {e}")))?;
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    while let Some(c) = reader
        .next_cell()
        .map_err(|e| bad(format!("its first sheet cannot be read: {e}")))?
    {
        let (r, col) = c.get_position();
        if r >= MAX_ROWS || col >= MAX_COLS {
            return Err(bad(format!(
                "the sheet reaches row {} / column {}: more than a session list holds ({MAX_ROWS} rows, {MAX_COLS} columns)",
                r + 1,
                col + 1
            )));
        }
        let cell = match c.get_value() {
            DataRef::Empty => continue,
            DataRef::Int(i) => Cell::Number(*i as f64),
            DataRef::Float(x) => Cell::Number(*x),
            DataRef::Bool(b) => Cell::Number(f64::from(u8::from(*b))),
            DataRef::DateTime(d) => Cell::Serial(d.as_f64()),
            DataRef::SharedString(s) => Cell::Text(s.to_string()),
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
                Cell::Text(s.clone())
            }
            DataRef::Error(e) => Cell::Text(format!("#{e:?}")),
        };
        let (r, col) = (r as usize, col as usize);
        if rows.len() <= r {
            rows.resize_with(r + 1, Vec::new);
        }
        let row = &mut rows[r];
        if row.len() <= col {
            row.resize_with(col + 1, || Cell::Empty);
        }
        row[col] = cell;
    }
    Ok(rows)
}

/// Reads a session list (see the module docs).
pub(crate) fn read_sessions(
    path: &Path,
    bytes: &[u8],
    tz: Tz,
    report: &mut SourceReport,
) -> Result<Vec<SessionFacts>, Vec<Problem>> {
    let file = path.display().to_string();
    let rows = table(path, bytes)?;
    // The header: the first row naming the start column (exports may carry a title row).
    let Some(h) = rows.iter().position(|r| {
        r.iter()
            .any(|c| matches!(c, Cell::Text(s) if text::normalize(s) == START))
    }) else {
        return Err(vec![Problem::new(
            &file,
            None,
            Some(START),
            format!("no '{START}' column: not a Compass session list"),
        )]);
    };
    let header: Vec<String> = rows[h]
        .iter()
        .map(|c| text::normalize(&c.display()))
        .collect();
    let col = |name: &str| header.iter().position(|x| x == name);
    let Some(start_col) = col(START) else {
        return Err(vec![Problem::new(
            &file,
            Some(h),
            Some(START),
            "no start column",
        )]);
    };
    let end_col = col(END);
    let mut problems = Vec::new();
    if end_col.is_none() {
        problems.push(Problem::new(
            &file,
            None,
            Some(END),
            format!("no '{END}' column"),
        ));
    }
    let known: BTreeMap<&str, &str> = SESSION_COLUMNS.iter().copied().collect();
    let mut counts = vec![0usize; header.len()];
    let mut out = Vec::new();
    let instant = |c: &Cell| -> Result<Ms, String> {
        match c {
            Cell::Serial(x) => value::excel_serial(*x, tz),
            Cell::Number(x) if *x > 1e9 => value::epoch(*x),
            Cell::Number(x) => value::excel_serial(*x, tz),
            // A CSV re-saved from Excel can hold the serial number itself.
            Cell::Text(s) => match s.trim().parse::<f64>() {
                Ok(x) if x < 3e6 => value::excel_serial(x, tz),
                _ => value::instant(s, tz),
            },
            Cell::Empty => Err("no time".into()),
        }
    };
    for (k, r) in rows.iter().enumerate().skip(h + 1) {
        let row = k - h;
        if r.iter().all(|c| matches!(c, Cell::Empty)) {
            continue;
        }
        let get = |i: usize| r.get(i).unwrap_or(&Cell::Empty);
        let start = instant(get(start_col));
        let end = end_col.map(|e| instant(get(e)));
        let (start, end) = match (start, end) {
            (Ok(s), Some(Ok(e))) if e > s => (s, e),
            (Ok(_), Some(Ok(_))) => {
                problems.push(Problem::new(
                    &file,
                    Some(row),
                    Some(END),
                    "the end is not after the start",
                ));
                continue;
            }
            (s, e) => {
                if let Err(m) = s {
                    problems.push(Problem::new(&file, Some(row), Some(START), m));
                }
                if let Some(Err(m)) = e {
                    problems.push(Problem::new(&file, Some(row), Some(END), m));
                }
                continue;
            }
        };
        let mut facts = BTreeMap::new();
        for (i, name) in header.iter().enumerate() {
            if i == start_col || Some(i) == end_col || name.is_empty() {
                continue;
            }
            let cell = get(i);
            let v = match (cell, known.get(name.as_str())) {
                (Cell::Empty, _) => None,
                (Cell::Number(x) | Cell::Serial(x), _) => Some(Fact::Number(*x)),
                (Cell::Text(s), Some(_)) => match value::number(s) {
                    Ok(x) => x.map(Fact::Number),
                    Err(m) => {
                        problems.push(Problem::new(&file, Some(row), Some(name), m));
                        None
                    }
                },
                (Cell::Text(s), None) => match value::number(s) {
                    Ok(Some(x)) => Some(Fact::Number(x)),
                    Ok(None) => None,
                    Err(_) => Some(Fact::Text(text::normalize(s))),
                },
            };
            if let Some(v) = v {
                counts[i] += 1;
                let key = known
                    .get(name.as_str())
                    .map_or(name.clone(), |k| k.to_string());
                facts.insert(key, v);
            }
        }
        out.push(SessionFacts {
            row,
            label: get(start_col).display(),
            start_ms: start,
            end_ms: end,
            facts,
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let n = out.len();
    for (i, name) in header.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        let (used, target, note) = if i == start_col {
            (
                FieldUse::Mapped,
                "session.start_ms".to_string(),
                "local time",
            )
        } else if Some(i) == end_col {
            (FieldUse::Mapped, "session.end_ms".to_string(), "local time")
        } else if let Some(k) = known.get(name.as_str()) {
            (FieldUse::Mapped, format!("fact:{k}"), "")
        } else {
            (
                FieldUse::Kept,
                format!("fact:{name}"),
                "not a column vap knows: kept as exported",
            )
        };
        let count = if i == start_col || Some(i) == end_col {
            n
        } else {
            counts[i]
        };
        report.fields.push(super::FieldReport {
            file: file.clone(),
            field: name.clone(),
            used,
            target,
            count,
            note: note.into(),
        });
    }
    for (name, key) in SESSION_COLUMNS {
        if col(name).is_none() {
            report
                .notes
                .push(format!("{file}: no '{name}' column (fact {key} absent)"));
        }
    }
    Ok(out)
}

/// The trend's indices: index → (vap's metric, kind, unit).
const TREND_SERIES: &[(&str, &str, MetricKind, &str)] = &[
    (
        "online_user_cnt",
        "online_viewers",
        MetricKind::Gauge,
        "viewers",
    ),
    ("watch_ucnt", "entries", MetricKind::Flow, "viewers"),
    ("leave_ucnt", "leaves", MetricKind::Flow, "viewers"),
    ("stat_cost", "ad_spend", MetricKind::Flow, "yuan"),
    ("comment_cnt", "comment_count", MetricKind::Flow, "count"),
    ("incr_fans_cnt", "new_followers", MetricKind::Flow, "count"),
    (
        "fans_club_ucnt",
        "fans_club_joins",
        MetricKind::Flow,
        "viewers",
    ),
    (
        "negative_feedback_cnt",
        "negative_feedback",
        MetricKind::Flow,
        "count",
    ),
    ("pay_ucnt", "buyers", MetricKind::Flow, "viewers"),
    ("pay_cnt", "paid_orders", MetricKind::Flow, "count"),
    ("pay_amt", "gmv", MetricKind::Flow, "yuan"),
    (
        "per_capita_viewing_time",
        "avg_watch_seconds",
        MetricKind::Gauge,
        "seconds",
    ),
];

/// Rates the dashboard shows per minute: recomputed from their parts on the
/// timeline, never imported and averaged.
const TREND_RATES: &[(&str, &str)] = &[
    ("viewing_rate", "exposure → view rate"),
    ("interaction_rate", "interactions per viewer"),
    ("attention_rate", "follows per viewer"),
    ("negative_feedback_rate", "negative feedback per viewer"),
    ("gpm", "gmv per 1,000 entries"),
    ("viewing_click_rate", "product clicks per viewer"),
    ("click_transaction_rate", "orders per product click"),
    ("uv_value", "gmv per viewer"),
];

const MINUTE: Ms = 60_000;

/// Reads the per-minute trend: one series per known index, flows stamped at
/// the end of their minute (with a zero at the start after a missing minute,
/// so a minute's amount is not spread over the hole), gauges at the minute.
pub(crate) fn read_trend(file: &str, bytes: &[u8], b: &mut Builder) -> Result<(), Vec<Problem>> {
    let v = json::parse(file, bytes)?;
    let points = json::require_objects(
        &v,
        &|o| json::get(o, "horizontal").is_some() && json::get(o, "vertical").is_some(),
        file,
        "horizontal",
        "no trend points ({horizontal, vertical}) found",
    )?;
    let mut problems = Vec::new();
    let mut by_index: BTreeMap<String, BTreeMap<Ms, f64>> = BTreeMap::new();
    let mut repeats = 0;
    for (k, (o, context)) in points.iter().enumerate() {
        let row = k + 1;
        let index = json::text(json::get_any(o, &["point_name", "index", "index_name"]))
            .or_else(|| context.map(str::to_string))
            .unwrap_or_default();
        let t = match json::get(o, "horizontal") {
            Some(Value::Number(n)) => n
                .as_f64()
                .ok_or_else(|| "not a number".to_string())
                .and_then(value::epoch),
            Some(Value::String(s)) => value::instant(s, b.tz),
            _ => Err("no time".into()),
        };
        let x = json::num(json::get(o, "vertical"));
        match (t, x) {
            (Ok(t), Ok(Some(x))) => {
                if by_index.entry(index).or_default().insert(t, x).is_some() {
                    repeats += 1;
                }
            }
            (Ok(_), Ok(None)) => b.drop_row(file, row, format!("{index}: no value")),
            (t, x) => {
                if let Err(m) = t {
                    problems.push(Problem::new(file, Some(row), Some("horizontal"), m));
                }
                if let Err(m) = x {
                    problems.push(Problem::new(file, Some(row), Some("vertical"), m));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    b.report.duplicates += repeats;
    let all_minutes: std::collections::BTreeSet<Ms> =
        by_index.values().flat_map(|m| m.keys().copied()).collect();
    if let Some(&last) = all_minutes.last() {
        b.period(last + MINUTE);
    }
    if let (Some(&first), Some(&last)) = (all_minutes.first(), all_minutes.last()) {
        let mut missing = Vec::new();
        let mut t = first;
        // Bounded: values are in vap's time range, and a note needs no more.
        while t <= last && missing.len() <= 100_000 {
            if !all_minutes.contains(&t) {
                missing.push(t);
            }
            t = t.saturating_add(MINUTE);
        }
        // Runs of missing minutes are gaps of the trend: missing, not quiet.
        let mut k = 0;
        while k < missing.len() {
            let mut e = k;
            while e + 1 < missing.len() && missing[e + 1] == missing[e] + MINUTE {
                e += 1;
            }
            b.report.gaps.push(crate::schema::DataGap {
                source: "compass_trend".into(),
                streams: vec![],
                start_ms: missing[k],
                end_ms: missing[e] + MINUTE,
                reason: format!(
                    "compass_trend: {} minute(s) missing from the per-minute trend",
                    e - k + 1
                ),
            });
            k = e + 1;
        }
        if !missing.is_empty() {
            b.report.notes.push(format!(
                "{file}: {} minute(s) missing from the trend (first at {}); their flows are not invented",
                missing.len(),
                missing[0]
            ));
        }
    }
    for (index, pts) in by_index {
        let count = pts.len();
        if let Some((_, name, kind, unit)) = TREND_SERIES.iter().find(|(i, ..)| *i == index) {
            let samples: Vec<(Ms, f64)> = match kind {
                MetricKind::Gauge => pts.into_iter().collect(),
                _ => super::build::stamp_flow(pts.into_iter().collect(), MINUTE),
            };
            let key = b.add_series("compass", name, *kind, unit, samples);
            let kind_name = if *kind == MetricKind::Gauge {
                "gauge"
            } else {
                "flow per minute"
            };
            b.field(
                file,
                &index,
                FieldUse::Mapped,
                &format!("metric:{key} ({kind_name})"),
                count,
                "",
            );
        } else if let Some((_, what)) = TREND_RATES.iter().find(|(i, _)| *i == index) {
            b.field(
                file,
                &index,
                FieldUse::Ignored,
                "",
                count,
                &format!(
                    "a rate ({what}): recomputed from its parts on the timeline, never averaged"
                ),
            );
        } else {
            b.field(
                file,
                &index,
                FieldUse::Ignored,
                "",
                count,
                "an index vap does not know",
            );
        }
    }
    Ok(())
}

/// Reads the dashboard's order stream: paid orders (status 3) once each;
/// placed-but-unpaid ones (status 0) and repeats of polled items dropped.
pub(crate) fn read_orders(file: &str, bytes: &[u8], b: &mut Builder) -> Result<(), Vec<Problem>> {
    let v = json::parse(file, bytes)?;
    let list = json::find_key(&v, "live_order_stream")
        .and_then(|x| x.as_array())
        .or_else(|| json::main_list(&v))
        .ok_or_else(|| {
            vec![Problem::new(
                file,
                None,
                Some("live_order_stream"),
                "no list of orders found",
            )]
        })?;
    let mut problems = Vec::new();

    // Orders paid somewhere in the stream: their placed records are the same order.
    let paid_ids: HashSet<String> = list
        .iter()
        .filter_map(|x| x.as_object())
        .filter(|o| matches!(json::num(json::get(o, "order_status")), Ok(Some(s)) if s == 3.0))
        .filter_map(|o| json::text(json::get(o, "order_id")))
        .collect();
    let (mut paid, mut placed, mut repeats, mut with_amount) = (0usize, 0usize, 0usize, 0usize);
    for (k, item) in list.iter().enumerate() {
        let row = k + 1;
        let Some(o) = item.as_object() else {
            problems.push(Problem::new(file, Some(row), None, "not an object"));
            continue;
        };
        let id = json::text(json::get(o, "order_id"));
        let status = json::num(json::get(o, "order_status"));
        let ts = json::num(json::get(o, "order_ts")).and_then(|t| t.map(value::epoch).transpose());
        let product = json::text(json::get(o, "product_id"));
        let qty = json::num(json::get(o, "item_num"));
        let amount = json::num(json::get_any(
            o,
            &["pay_amount", "order_amount", "amount", "pay_amt"],
        ));
        let mut bad =
            |field: &str, m: String| problems.push(Problem::new(file, Some(row), Some(field), m));
        let Some(id) = id else {
            bad("order_id", "no order id".into());
            continue;
        };
        let status = match status {
            Ok(Some(s)) => s as i64,
            // A dump that omits default values omits status 0 (placed): a
            // missing status is never read as paid.
            Ok(None) => 0,
            Err(m) => {
                bad("order_status", m);
                continue;
            }
        };
        let ts = match ts {
            Ok(Some(t)) => t,
            Ok(None) => {
                bad("order_ts", "no time".into());
                continue;
            }
            Err(m) => {
                bad("order_ts", m);
                continue;
            }
        };
        let qty = match qty {
            Ok(Some(q)) if q >= 1.0 && q.fract() == 0.0 && q < 1e6 => q as u32,
            Ok(None) => 1,
            Ok(Some(q)) => {
                bad("item_num", format!("not a positive whole number: {q}"));
                continue;
            }
            Err(m) => {
                bad("item_num", m);
                continue;
            }
        };
        let amount = match amount {
            Ok(a) => a,
            Err(m) => {
                bad("pay_amount", m);
                continue;
            }
        };
        let Some(product) = product else {
            bad("product_id", "no product id".into());
            continue;
        };
        // Across files too: two polls of the stream overlap.
        if !b.seen_orders.insert(format!("{id}\u{1}{status}")) {
            repeats += 1;
            continue;
        }
        if status != 3 {
            placed += 1;
            let why = if paid_ids.contains(&id) {
                format!("order {id}: status {status} (placed), paid later in the stream: counted once, as paid")
            } else {
                format!("order {id}: status {status} (placed, not paid): not GMV")
            };
            b.drop_row(file, row, why);
            continue;
        }
        paid += 1;
        with_amount += usize::from(amount.is_some());
        let title = json::text(json::get(o, "product_title"));
        let price = amount.map(|a| a / f64::from(qty));
        b.product(&product, title.as_deref(), price);
        b.order(id, ts, product, qty, amount);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    b.report.duplicates += repeats;
    b.field(file, "order_id", FieldUse::Mapped, "orders.id", paid, "");
    b.field(
        file,
        "order_ts",
        FieldUse::Mapped,
        "orders.ts_ms",
        paid,
        "Unix seconds",
    );
    b.field(
        file,
        "order_status",
        FieldUse::Mapped,
        "orders.status",
        paid + placed,
        "3 paid (imported), 0 placed (dropped)",
    );
    b.field(
        file,
        "product_id",
        FieldUse::Mapped,
        "orders.product_id",
        paid,
        "",
    );
    b.field(
        file,
        "product_title",
        FieldUse::Mapped,
        "products.name",
        paid,
        "",
    );
    b.field(
        file,
        "item_num",
        FieldUse::Mapped,
        "orders.quantity",
        paid,
        "",
    );
    b.field(
        file,
        "pay_amount",
        if with_amount > 0 {
            FieldUse::Mapped
        } else {
            FieldUse::Ignored
        },
        if with_amount > 0 { "orders.amount" } else { "" },
        with_amount,
        if with_amount > 0 {
            ""
        } else {
            "absent: amounts from the products' prices or the minute's pay_amt"
        },
    );
    b.field(
        file,
        "nick_name",
        FieldUse::Ignored,
        "",
        paid,
        "masked by the platform (\"小***\"): not an id",
    );
    Ok(())
}

/// Reads the traffic sources: facts `traffic.<flowChannel>.<channelName>.<measure>`.
pub(crate) fn read_traffic(file: &str, bytes: &[u8], b: &mut Builder) -> Result<(), Vec<Problem>> {
    let v = json::parse(file, bytes)?;
    let rows = json::require_objects(
        &v,
        &|o| json::get(o, "flowChannel").is_some() || json::get(o, "channelName").is_some(),
        file,
        "flowChannel",
        "no traffic-source rows found",
    )?;
    let mut problems = Vec::new();
    let measures = [
        ("audience", "audience"),
        ("transactionOrderNumber", "orders"),
        ("dealAmount", "gmv"),
    ];
    let mut counts = [0usize; 3];
    for (k, (o, _)) in rows.iter().enumerate() {
        let row = k + 1;
        let flow = json::text(json::get(o, "flowChannel")).unwrap_or_else(|| "整体".into());
        let channel = json::text(json::get(o, "channelName")).unwrap_or_else(|| "整体".into());
        for (j, (field, key)) in measures.iter().enumerate() {
            match json::num(json::get(o, field)) {
                Ok(Some(x)) => {
                    counts[j] += 1;
                    b.facts
                        .insert(format!("traffic.{flow}.{channel}.{key}"), Fact::Number(x));
                }
                Ok(None) => {}
                Err(m) => problems.push(Problem::new(file, Some(row), Some(field), m)),
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    for (j, (field, key)) in measures.iter().enumerate() {
        b.field(
            file,
            field,
            FieldUse::Mapped,
            &format!("fact:traffic.<flowChannel>.<channelName>.{key}"),
            counts[j],
            "",
        );
    }
    Ok(())
}
