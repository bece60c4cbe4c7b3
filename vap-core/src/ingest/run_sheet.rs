//! Reading run-sheets (直播脚本) and putting them on a session's clock; see
//! [`crate::plan`] for the formats.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::TimeZone;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Problem, Result, VapError};
use crate::ingest::sources::{self, Cell};
use crate::options::Options;
use crate::schema::*;

/// Options of [`read_run_sheet`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunSheetOptions {
    /// Time zone of date-times written without an offset (clock times are
    /// always read in the session's own zone). Default `Asia/Shanghai`, as
    /// the platform exports.
    pub timezone: String,
}

impl Default for RunSheetOptions {
    fn default() -> Self {
        RunSheetOptions {
            timezone: "Asia/Shanghai".into(),
        }
    }
}

impl Options for RunSheetOptions {
    const WHAT: &'static str = "run-sheet options";

    fn check(&self) -> Result<()> {
        parse_tz(&self.timezone).map(|_| ())
    }
}

fn parse_tz(name: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| {
        VapError::InvalidArgument(format!(
            "run-sheet options: 'timezone' is not an IANA time zone: {name:?}"
        ))
    })
}

/// A planned item on the session's clock ([`RunSheet::resolve`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedItem {
    /// Shift, product slot or promotion.
    pub kind: PlanKind,
    /// Planned start, ms UTC.
    pub start_ms: Ms,
    /// Planned end, ms UTC (exclusive).
    pub end_ms: Ms,
    /// The anchor's id (as written where the session does not know it).
    pub anchor_id: Option<String>,
    /// The product's id (as written where the session does not know it).
    pub product_id: Option<String>,
    /// The promotion's kind.
    pub promotion: Option<PromotionKind>,
    /// Label.
    pub label: Option<String>,
    /// Talking points.
    pub talking_points: Vec<String>,
    /// Source row.
    pub row: usize,
    /// Why the item's anchor or product is not the session's, if so.
    pub unknown: Option<String>,
}

// ---------------------------------------------------------------- reading

/// The columns a run-sheet may have; each header is matched after
/// [`header_key`].
const COLUMNS: &[(Col, &[&str])] = &[
    (
        Col::Kind,
        &["kind", "type", "itemtype", "类型", "项目类型", "环节类型"],
    ),
    (
        Col::Slot,
        &["time", "timeslot", "slot", "时间", "时间段", "时段"],
    ),
    (
        Col::Start,
        &[
            "start",
            "starttime",
            "begin",
            "from",
            "开始",
            "开始时间",
            "开播时间",
        ],
    ),
    (Col::End, &["end", "endtime", "to", "结束", "结束时间"]),
    (
        Col::Duration,
        &[
            "duration",
            "length",
            "minutes",
            "时长",
            "持续时间",
            "讲解时长",
        ],
    ),
    (
        Col::Anchor,
        &[
            "anchor",
            "anchorid",
            "host",
            "主播",
            "主讲",
            "主播id",
            "主讲人",
        ],
    ),
    (
        Col::Product,
        &[
            "product",
            "productid",
            "productname",
            "sku",
            "商品",
            "商品id",
            "商品名称",
            "产品",
            "链接",
            "商品链接",
        ],
    ),
    (
        Col::Promotion,
        &[
            "promotion",
            "promo",
            "promotionkind",
            "活动",
            "活动类型",
            "福利",
            "促销",
            "玩法",
        ],
    ),
    (
        Col::Points,
        &[
            "talkingpoints",
            "points",
            "script",
            "话术",
            "卖点",
            "讲解要点",
            "要点",
            "讲解话术",
        ],
    ),
    (
        Col::Label,
        &["label", "note", "notes", "备注", "说明", "环节", "环节名称"],
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Col {
    Kind,
    Slot,
    Start,
    End,
    Duration,
    Anchor,
    Product,
    Promotion,
    Points,
    Label,
}

impl Col {
    fn name(self) -> &'static str {
        match self {
            Col::Kind => "kind",
            Col::Slot => "time",
            Col::Start => "start",
            Col::End => "end",
            Col::Duration => "duration",
            Col::Anchor => "anchor",
            Col::Product => "product",
            Col::Promotion => "promotion",
            Col::Points => "talking_points",
            Col::Label => "label",
        }
    }
}

/// A header reduced for matching: lower case, no spaces, underscores or
/// hyphens, a unit in brackets dropped (`时长(分钟)` → `时长`).
fn header_key(h: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in h.trim().trim_start_matches('\u{feff}').chars() {
        match c {
            '(' | '（' | '[' | '【' => depth += 1,
            ')' | '）' | ']' | '】' => depth = (depth as i32 - 1).max(0) as usize,
            _ if depth > 0 => {}
            c if c.is_whitespace() || c == '_' || c == '-' => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

fn column_of(header: &str) -> Option<Col> {
    let k = header_key(header);
    COLUMNS
        .iter()
        .find(|(_, names)| names.iter().any(|n| header_key(n) == k))
        .map(|(c, _)| *c)
}

/// Reads a run-sheet file: CSV, XLSX or JSON (an array of row objects, or
/// an object holding one under `items` / `rows`). See the module docs.
pub fn read_run_sheet(path: impl AsRef<Path>, opts: &RunSheetOptions) -> Result<RunSheet> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| VapError::io(path, e))?;
    read_run_sheet_bytes(&path.display().to_string(), &bytes, opts)
}

/// [`read_run_sheet`] of a file's bytes; `name` is used in messages and
/// (its extension) to tell JSON from CSV.
pub fn read_run_sheet_bytes(name: &str, bytes: &[u8], opts: &RunSheetOptions) -> Result<RunSheet> {
    opts.check()?;
    let tz = parse_tz(&opts.timezone)?;
    let first = bytes
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
    let json = name.to_ascii_lowercase().ends_with(".json") || matches!(first, Some(b'[' | b'{'));
    let rows = if json {
        json_rows(name, bytes)
    } else {
        sources::read_cells(Path::new(name), bytes)
    }
    .map_err(VapError::Validation)?;
    parse_rows(name, rows, tz)
}

/// A JSON run-sheet as rows of cells, its keys (in first-seen order) as the
/// header row.
fn json_rows(name: &str, bytes: &[u8]) -> std::result::Result<Vec<Vec<Cell>>, Vec<Problem>> {
    let v = sources::parse_json(name, bytes)?;
    let list = match &v {
        Value::Array(a) => a,
        Value::Object(o) => match ["items", "rows", "plan", "run_sheet"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_array))
        {
            Some(a) => a,
            None => {
                return Err(vec![Problem::new(
                    name,
                    None,
                    None,
                    "expected an array of rows, or an object with one under \"items\"",
                )])
            }
        },
        _ => {
            return Err(vec![Problem::new(
                name,
                None,
                None,
                "expected an array of rows",
            )])
        }
    };
    let mut header: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    for (i, r) in list.iter().enumerate() {
        match r {
            Value::Object(o) => {
                for k in o.keys() {
                    if !header.contains(k) {
                        header.push(k.clone());
                    }
                }
            }
            _ => problems.push(Problem::new(name, Some(i + 1), None, "not an object")),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut rows = vec![header.iter().map(|h| Cell::Text(h.clone())).collect()];
    for r in list {
        let o = r.as_object().expect("checked above");
        rows.push(
            header
                .iter()
                .map(|h| match o.get(h) {
                    None | Some(Value::Null) => Cell::Empty,
                    Some(Value::Number(n)) => Cell::Number(n.as_f64().unwrap_or(f64::NAN)),
                    Some(Value::String(s)) if s.trim().is_empty() => Cell::Empty,
                    Some(Value::String(s)) => Cell::Text(s.clone()),
                    Some(Value::Array(a)) => Cell::Text(
                        a.iter()
                            .map(|x| match x {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join("\n"),
                    ),
                    Some(other) => Cell::Text(other.to_string()),
                })
                .collect(),
        );
    }
    Ok(rows)
}

fn cell_text(c: Option<&Cell>) -> Option<String> {
    match c? {
        Cell::Empty => None,
        Cell::Text(s) => {
            let t = s.trim();
            (!t.is_empty() && !sources::is_missing(t)).then(|| t.to_string())
        }
        Cell::Number(x) | Cell::Serial(x) => Some(if x.fract() == 0.0 && x.abs() < 1e15 {
            format!("{}", *x as i64)
        } else {
            x.to_string()
        }),
    }
}

/// A planned time from a cell (see the module docs).
fn plan_time(c: &Cell, tz: Tz) -> std::result::Result<PlanTime, String> {
    match c {
        Cell::Empty => Err("no time".into()),
        Cell::Serial(x) | Cell::Number(x) if (0.0..1.0).contains(x) => {
            // An Excel time of day: a fraction of a day.
            Ok(PlanTime::Clock((x * 86_400_000.0).round() as Ms))
        }
        Cell::Serial(x) => sources::excel_serial(*x, tz).map(PlanTime::At),
        Cell::Number(x) if *x < 2_958_466.0 => sources::excel_serial(*x, tz).map(PlanTime::At),
        Cell::Number(x) => sources::instant(&x.to_string(), tz).map(PlanTime::At),
        Cell::Text(s) => text_time(s.trim(), tz),
    }
}

fn text_time(s: &str, tz: Tz) -> std::result::Result<PlanTime, String> {
    if let Some(rest) = s.strip_prefix('+') {
        return duration_text(rest.trim(), true)
            .map(PlanTime::Offset)
            .map_err(|_| format!("not an offset from the session's start: {s:?}"));
    }
    if let Some(ms) = clock(s) {
        return Ok(PlanTime::Clock(ms));
    }
    sources::instant(s, tz)
        .map(PlanTime::At)
        .map_err(|_| format!("not a time: {s:?} (write \"20:15\", \"+15min\" or a date-time)"))
}

/// `"20:15"`, `"20:15:30"`, `"20点15分"`, `"20:15"` with full-width colons.
fn clock(s: &str) -> Option<Ms> {
    let s = s.replace(['：', '点'], ":").replace('分', "");
    let s = s.trim().trim_end_matches(':');
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let n: Vec<i64> = parts.iter().map(|p| p.parse().unwrap_or(99)).collect();
    let (h, m, sec) = (n[0], n[1], n.get(2).copied().unwrap_or(0));
    (h < 48 && m < 60 && sec < 60).then_some(((h * 60 + m) * 60 + sec) * 1000)
}

/// A duration: `"15"` (minutes when `bare_minutes`), `"15min"`, `"15分钟"`,
/// `"90秒"`, `"1小时"`, `"0:15"` (h:mm), `"00:15:00"`.
fn duration_text(s: &str, bare_minutes: bool) -> std::result::Result<Ms, String> {
    let bad = || format!("not a duration: {s:?}");
    let t = s.trim();
    if let Ok(x) = t.parse::<f64>() {
        return if bare_minutes && x.is_finite() && x >= 0.0 {
            Ok((x * 60_000.0).round() as Ms)
        } else {
            Err(bad())
        };
    }
    if t.contains(':') || t.contains('：') {
        let parts: Vec<&str> = t.split([':', '：']).collect();
        let n: Option<Vec<i64>> = parts.iter().map(|p| p.trim().parse::<i64>().ok()).collect();
        return match n.as_deref() {
            Some([h, m]) if *m < 60 && *h >= 0 => Ok((h * 60 + m) * 60_000),
            Some([h, m, sec]) if *m < 60 && *sec < 60 && *h >= 0 => {
                Ok(((h * 60 + m) * 60 + sec) * 1000)
            }
            _ => Err(bad()),
        };
    }
    for (unit, ms) in [
        ("小时", 3_600_000.0),
        ("分钟", 60_000.0),
        ("分", 60_000.0),
        ("秒钟", 1000.0),
        ("秒", 1000.0),
    ] {
        if let Some(num) = t.strip_suffix(unit) {
            return num
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .map(|x| (x * ms).round() as Ms)
                .ok_or_else(bad);
        }
    }
    crate::options::parse_duration_ms(t).map_err(|_| bad())
}

fn duration_cell(c: &Cell) -> std::result::Result<Ms, String> {
    match c {
        Cell::Serial(x) if (0.0..1.0).contains(x) => Ok((x * 86_400_000.0).round() as Ms),
        Cell::Number(x) | Cell::Serial(x) if x.is_finite() && *x >= 0.0 => {
            Ok((x * 60_000.0).round() as Ms)
        }
        Cell::Text(s) => duration_text(s, true),
        _ => Err("not a duration".into()),
    }
}

/// A kind cell: an item kind, or a promotion kind (which makes a promotion).
fn kind_of(s: &str) -> Option<(PlanKind, Option<PromotionKind>)> {
    let k = header_key(s);
    let item = match k.as_str() {
        "shift" | "host" | "anchor" | "主播" | "排班" | "换班" | "主播排班" => {
            Some(PlanKind::Shift)
        }
        "product" | "explain" | "slot" | "商品" | "讲解" | "产品" | "商品讲解" | "过款" => {
            Some(PlanKind::Product)
        }
        "promotion" | "promo" | "活动" | "福利" | "促销" | "玩法" => {
            Some(PlanKind::Promotion)
        }
        _ => None,
    };
    item.map(|k| (k, None))
        .or_else(|| promotion_kind(s).map(|p| (PlanKind::Promotion, Some(p))))
}

fn promotion_kind(s: &str) -> Option<PromotionKind> {
    let k = header_key(s);
    crate::table::PROMO_KINDS
        .iter()
        .find(|(name, _)| header_key(name) == k)
        .map(|(_, p)| *p)
        .or(match k.as_str() {
            "flashsale" | "flash" | "限时秒杀" => Some(PromotionKind::FlashSale),
            "luckybag" | "抽奖" => Some(PromotionKind::LuckyBag),
            "pricecut" | "降价" => Some(PromotionKind::PriceCut),
            "券" | "发券" | "优惠" => Some(PromotionKind::Coupon),
            _ => None,
        })
}

fn talking_points(s: &str) -> Vec<String> {
    s.split(['\n', ';', '；', '|', '、'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Rows of cells (the first non-empty row is the header) as a run-sheet.
fn parse_rows(name: &str, rows: Vec<Vec<Cell>>, tz: Tz) -> Result<RunSheet> {
    let mut rows = rows
        .into_iter()
        .skip_while(|r| r.iter().all(|c| matches!(c, Cell::Empty)));
    let Some(header) = rows.next() else {
        return Err(VapError::Validation(vec![Problem::new(
            name,
            None,
            None,
            "the run-sheet is empty: expected a header row (时间段, 主播, 商品, ...) and one row per item",
        )]));
    };
    let mut cols: BTreeMap<Col, usize> = BTreeMap::new();
    let mut ignored = Vec::new();
    let mut problems = Vec::new();
    for (i, h) in header.iter().enumerate() {
        let Some(text) = cell_text(Some(h)) else {
            continue;
        };
        match column_of(&text) {
            Some(c) if cols.contains_key(&c) => problems.push(Problem::new(
                name,
                None,
                Some(&text),
                format!("a second '{}' column", c.name()),
            )),
            Some(c) => {
                cols.insert(c, i);
            }
            None => ignored.push(text),
        }
    }
    if !cols.contains_key(&Col::Slot) && !cols.contains_key(&Col::Start) {
        problems.push(Problem::new(
            name,
            None,
            None,
            "no time column: expected 'time' / 时间段 (\"20:00-20:15\") or 'start' / 开始时间",
        ));
    }
    if !problems.is_empty() {
        return Err(VapError::Validation(problems));
    }
    let field = |c: Col| {
        header
            .get(cols[&c])
            .and_then(|h| cell_text(Some(h)))
            .unwrap_or_else(|| c.name().to_string())
    };
    let mut items: Vec<PlanItem> = Vec::new();
    // Slot rows without an end or a length: (their items, their start); a
    // slot lasts until the next slot starts.
    let mut open_slots: Vec<(std::ops::Range<usize>, PlanTime)> = Vec::new();
    let slots = !cols.contains_key(&Col::Kind);
    for (r, row) in rows.enumerate() {
        let row_no = r + 1;
        let get = |c: Col| cols.get(&c).and_then(|&i| row.get(i));
        let text = |c: Col| cell_text(get(c));
        if row.iter().all(|c| cell_text(Some(c)).is_none()) {
            continue;
        }
        let mut bad =
            |c: Col, m: String| problems.push(Problem::new(name, Some(row_no), Some(&field(c)), m));
        // Times.
        let (mut start, mut end) = (None, None);
        if let Some(cell) = get(Col::Slot).filter(|c| cell_text(Some(c)).is_some()) {
            match cell {
                Cell::Text(s) if range_parts(s).is_some() => {
                    let (a, b) = range_parts(s).expect("checked");
                    match (text_time(a, tz), text_time(b, tz)) {
                        (Ok(a), Ok(b)) => {
                            start = Some(a);
                            end = Some(b);
                        }
                        (Err(e), _) | (_, Err(e)) => bad(Col::Slot, e),
                    }
                }
                c => match plan_time(c, tz) {
                    Ok(t) => start = Some(t),
                    Err(e) => bad(Col::Slot, e),
                },
            }
        }
        if let Some(cell) = get(Col::Start).filter(|c| cell_text(Some(c)).is_some()) {
            match plan_time(cell, tz) {
                Ok(t) => start = Some(t),
                Err(e) => bad(Col::Start, e),
            }
        }
        if let Some(cell) = get(Col::End).filter(|c| cell_text(Some(c)).is_some()) {
            match plan_time(cell, tz) {
                Ok(t) => end = Some(t),
                Err(e) => bad(Col::End, e),
            }
        }
        let mut duration = None;
        if let Some(cell) = get(Col::Duration).filter(|c| cell_text(Some(c)).is_some()) {
            match duration_cell(cell) {
                Ok(0) => bad(Col::Duration, "a duration of 0".into()),
                Ok(d) => duration = Some(d),
                Err(e) => bad(Col::Duration, e),
            }
        }
        let timed = start.is_some();
        if !timed
            && get(Col::Slot).and_then(|c| cell_text(Some(c))).is_none()
            && get(Col::Start).and_then(|c| cell_text(Some(c))).is_none()
        {
            let c = if cols.contains_key(&Col::Start) {
                Col::Start
            } else {
                Col::Slot
            };
            bad(c, "no start time".into());
        }
        let anchor = text(Col::Anchor);
        let product = text(Col::Product);
        let label = text(Col::Label);
        let points = text(Col::Points)
            .map(|s| talking_points(&s))
            .unwrap_or_default();
        let promo_text = text(Col::Promotion);
        let promo = promo_text
            .as_deref()
            .map(|s| (promotion_kind(s), s.to_string()));
        let base = |kind| PlanItem {
            kind,
            start: start.unwrap_or(PlanTime::Offset(0)),
            end,
            duration_ms: duration,
            anchor: None,
            product: None,
            promotion: None,
            label: None,
            talking_points: vec![],
            row: row_no,
        };
        let mut new_items: Vec<PlanItem> = Vec::new();
        if let Some(k) = text(Col::Kind) {
            let Some((kind, pk)) = kind_of(&k) else {
                bad(
                    Col::Kind,
                    format!("unknown kind {k:?}: expected shift (主播), product (商品), promotion (活动) or a promotion kind (秒杀, 优惠券, 福袋, 直降)"),
                );
                continue;
            };
            let mut it = base(kind);
            it.anchor = anchor.clone();
            it.label = label.clone();
            match kind {
                PlanKind::Shift if anchor.is_none() => {
                    bad(Col::Anchor, "a shift names no anchor".into())
                }
                PlanKind::Product if product.is_none() => {
                    bad(Col::Product, "a product slot names no product".into())
                }
                _ => {}
            }
            if kind != PlanKind::Shift {
                it.product = product.clone();
            }
            if kind == PlanKind::Product {
                it.talking_points = points.clone();
            }
            if kind == PlanKind::Promotion {
                match (pk, &promo) {
                    (Some(p), _) => it.promotion = Some(p),
                    (None, Some((Some(p), _))) => it.promotion = Some(*p),
                    (None, Some((None, word))) => {
                        it.promotion = Some(PromotionKind::Custom);
                        it.label = Some(word.clone());
                    }
                    (None, None) => bad(
                        Col::Promotion,
                        "a promotion names no kind (秒杀, 优惠券, 福袋, 直降, ...)".into(),
                    ),
                }
                if end.is_none() && duration.is_none() {
                    bad(
                        Col::Duration,
                        "a promotion needs an end or a duration".into(),
                    );
                }
            }
            new_items.push(it);
        } else {
            // A slot.
            if anchor.is_none() && product.is_none() && promo.is_none() {
                problems.push(Problem::new(
                    name,
                    Some(row_no),
                    None,
                    "the row names no anchor, product or promotion",
                ));
                continue;
            }
            if let Some(p) = &product {
                let mut it = base(PlanKind::Product);
                it.product = Some(p.clone());
                it.anchor = anchor.clone();
                it.talking_points = points.clone();
                it.label = label.clone();
                new_items.push(it);
            }
            if let Some((pk, word)) = &promo {
                let mut it = base(PlanKind::Promotion);
                it.product = product.clone();
                it.promotion = Some(pk.unwrap_or(PromotionKind::Custom));
                it.label = if pk.is_none() {
                    Some(word.clone())
                } else {
                    label.clone()
                };
                new_items.push(it);
            }
            if let Some(a) = &anchor {
                let mut it = base(PlanKind::Shift);
                it.anchor = Some(a.clone());
                new_items.push(it);
            }
        }
        if timed {
            if slots {
                let at = start.expect("timed");
                if let Some((range, _)) = open_slots.last() {
                    for it in &mut items[range.clone()] {
                        it.end = Some(at);
                    }
                    open_slots.pop();
                }
                if end.is_none() && duration.is_none() {
                    open_slots.push((items.len()..items.len() + new_items.len(), at));
                }
            }
            items.extend(new_items);
        }
    }
    if !problems.is_empty() {
        return Err(VapError::Validation(problems));
    }
    if items.is_empty() {
        return Err(VapError::Validation(vec![Problem::new(
            name,
            None,
            None,
            "the run-sheet has no items",
        )]));
    }
    Ok(RunSheet {
        source: name.to_string(),
        items,
        ignored,
    })
}

/// `"20:00-20:15"`, `"20:00~20:15"`, `"20:00–20:15"`, `"20:00至20:15"` split
/// in two (a date-time's own hyphens are not a range).
fn range_parts(s: &str) -> Option<(&str, &str)> {
    for sep in ["~", "～", "–", "—", "至", "到", " - ", "-"] {
        if let Some((a, b)) = s.split_once(sep) {
            let (a, b) = (a.trim(), b.trim());
            if clock(a).is_some() || a.starts_with('+') {
                return Some((a, b));
            }
        }
    }
    None
}

// ---------------------------------------------------------------- resolving

impl SessionData {
    /// A copy with `plan` attached (`None` removes it), checked against this
    /// session first ([`RunSheet::resolve`]: an item ending before it starts
    /// is an error naming its row), so that a bad sheet is refused when
    /// attached, not at the replay.
    pub fn with_plan(&self, plan: Option<RunSheet>) -> Result<SessionData> {
        if let Some(p) = &plan {
            p.resolve(self)?;
        }
        let mut d = self.clone();
        d.session.plan = plan;
        Ok(d)
    }
}

impl RunSheet {
    /// The items on the session's clock: clock times on the session's day
    /// (the day that puts them nearest the session), offsets from its
    /// start; an item without an end or a duration ends where the next item
    /// of its kind starts (the last at the session's end); anchors and
    /// products matched by id, name or alias. An item ending before it starts
    /// is an error naming its row.
    pub fn resolve(&self, data: &SessionData) -> Result<Vec<PlannedItem>> {
        let s = &data.session;
        let tz: Tz = s.timezone.parse().unwrap_or(chrono_tz::UTC);
        let at = |t: PlanTime| -> Ms {
            match t {
                PlanTime::At(ms) => ms,
                PlanTime::Offset(ms) => s.start_ms + ms,
                PlanTime::Clock(ms) => clock_instant(ms, s.start_ms, s.end_ms, tz),
            }
        };
        let starts: Vec<Ms> = self.items.iter().map(|i| at(i.start)).collect();
        let mut problems = Vec::new();
        let mut out = Vec::with_capacity(self.items.len());
        for (k, it) in self.items.iter().enumerate() {
            let start = starts[k];
            let end = match (it.end, it.duration_ms) {
                (Some(e), _) => at(e),
                (None, Some(d)) => start + d,
                (None, None) => self
                    .items
                    .iter()
                    .zip(&starts)
                    .filter(|(o, t)| o.kind == it.kind && **t > start)
                    .map(|(_, t)| *t)
                    .min()
                    .unwrap_or(s.end_ms.max(start + 1)),
            };
            if end <= start {
                problems.push(Problem::new(
                    &self.source,
                    (it.row > 0).then_some(it.row),
                    Some("end"),
                    format!(
                        "the {} ends ({}) before it starts ({})",
                        it.kind.as_str(),
                        end,
                        start
                    ),
                ));
                continue;
            }
            let mut unknown = None;
            let anchor_id = it.anchor.as_deref().map(|a| match find_anchor(data, a) {
                Some(id) => id,
                None => {
                    unknown = Some(format!("anchor '{a}' is not among the session's anchors"));
                    a.to_string()
                }
            });
            let product_id = it.product.as_deref().map(|p| match find_product(data, p) {
                Some(id) => id,
                None => {
                    unknown = Some(format!("product '{p}' is not among the session's products"));
                    p.to_string()
                }
            });
            out.push(PlannedItem {
                kind: it.kind,
                start_ms: start,
                end_ms: end,
                anchor_id,
                product_id,
                promotion: it.promotion,
                label: it.label.clone(),
                talking_points: it.talking_points.clone(),
                row: it.row,
                unknown,
            });
        }
        if !problems.is_empty() {
            return Err(VapError::Validation(problems));
        }
        out.sort_by_key(|i| (i.start_ms, i.kind, i.row));
        // Consecutive shifts of one anchor that touch are one shift.
        let mut merged: Vec<PlannedItem> = Vec::with_capacity(out.len());
        for it in out {
            let last = merged.iter_mut().rev().find(|m| m.kind == PlanKind::Shift);
            if it.kind == PlanKind::Shift {
                if let Some(m) = last {
                    if m.anchor_id == it.anchor_id && m.end_ms >= it.start_ms {
                        m.end_ms = m.end_ms.max(it.end_ms);
                        continue;
                    }
                }
            }
            merged.push(it);
        }
        Ok(merged)
    }

    /// The run-sheet as CSV text in its own columns (`kind`, `start`, `end`,
    /// `anchor`, `product`, `promotion`, `label`, `talking_points`), times as
    /// offsets (`+1:05:00`) or wall-clock / date-times as written; reads back
    /// with [`read_run_sheet`].
    pub fn to_csv(&self) -> String {
        let time = |t: PlanTime| match t {
            PlanTime::At(ms) => ms.to_string(),
            PlanTime::Offset(ms) => format!("+{}", hms(ms)),
            PlanTime::Clock(ms) => hms(ms),
        };
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record([
            "kind",
            "start",
            "end",
            "duration",
            "anchor",
            "product",
            "promotion",
            "label",
            "talking_points",
        ]);
        for it in &self.items {
            let promo = it.promotion.map(|p| {
                crate::table::PROMO_KINDS
                    .iter()
                    .find(|(_, k)| *k == p)
                    .map(|(n, _)| n.to_string())
                    .unwrap_or_default()
            });
            let _ = w.write_record([
                it.kind.as_str().to_string(),
                time(it.start),
                it.end.map(time).unwrap_or_default(),
                it.duration_ms
                    .map(|d| format!("{}s", d / 1000))
                    .unwrap_or_default(),
                it.anchor.clone().unwrap_or_default(),
                it.product.clone().unwrap_or_default(),
                promo.unwrap_or_default(),
                it.label.clone().unwrap_or_default(),
                it.talking_points.join("; "),
            ]);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// The run-sheet as JSON text (its own form, as kept in `session.json`).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| VapError::Internal(e.to_string()))
    }
}

fn hms(ms: Ms) -> String {
    let s = ms / 1000;
    format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// A wall-clock time (ms after midnight, in `tz`) on the day that puts it
/// nearest the session `[start, end)`.
fn clock_instant(ms_of_day: Ms, start: Ms, end: Ms, tz: Tz) -> Ms {
    let local = tz
        .timestamp_millis_opt(start)
        .single()
        .map(|d| d.date_naive());
    let Some(day) = local else {
        return start + ms_of_day;
    };
    let mut best: Option<(Ms, Ms)> = None;
    for shift in [-1i64, 0, 1] {
        let Some(d) = day.checked_add_signed(chrono::Duration::days(shift)) else {
            continue;
        };
        let midnight = d.and_hms_opt(0, 0, 0).expect("midnight exists");
        let Some(m) = tz.from_local_datetime(&midnight).earliest() else {
            continue;
        };
        let t = m.timestamp_millis() + ms_of_day;
        let dist = if t < start {
            start - t
        } else if t > end {
            t - end
        } else {
            0
        };
        if best.is_none_or(|(bd, _)| dist < bd) {
            best = Some((dist, t));
        }
    }
    best.map(|(_, t)| t).unwrap_or(start + ms_of_day)
}

/// A reference folded for matching: NFKC, lower case, no spaces.
fn fold(s: &str) -> String {
    crate::text::normalize(s)
        .to_lowercase()
        .split_whitespace()
        .collect::<String>()
}

fn find_anchor(data: &SessionData, a: &str) -> Option<String> {
    let f = fold(a);
    data.anchors
        .iter()
        .find(|x| x.id == a)
        .or_else(|| data.anchors.iter().find(|x| x.name == a))
        .or_else(|| {
            data.anchors
                .iter()
                .find(|x| fold(&x.id) == f || fold(&x.name) == f)
        })
        .map(|x| x.id.clone())
}

fn find_product(data: &SessionData, p: &str) -> Option<String> {
    let f = fold(p);
    data.products
        .iter()
        .find(|x| x.id == p)
        .or_else(|| data.products.iter().find(|x| x.name == p))
        .or_else(|| {
            data.products.iter().find(|x| {
                fold(&x.id) == f || fold(&x.name) == f || x.aliases.iter().any(|a| fold(a) == f)
            })
        })
        .map(|x| x.id.clone())
}
