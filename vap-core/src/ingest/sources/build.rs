//! Collects what the sources yield and makes one validated session of it.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::TimeZone;
use chrono_tz::Tz;

use super::compass::SessionFacts;
use super::{DroppedRow, FieldReport, FieldUse, SourceCheck, SourceOptions, SourceReport};
use crate::error::{Result, VapError};
use crate::ingest::{difference_cumulative, sort_session, validate_session, LoadOptions};
use crate::schema::{
    Comment, DataGap, Fact, MetricDecl, MetricKind, MetricSample, Ms, Order, OrderStatus, Product,
    ProductSegment, Room, SegmentKind, Session, SessionData,
};
use crate::text;

/// A product as the sources know it.
#[derive(Default)]
pub(crate) struct ProductInfo {
    pub name: Option<String>,
    pub price: Option<f64>,
}

/// A series being collected: kind, unit, samples, the source that gave it.
pub(crate) type Series = (MetricKind, String, Vec<(Ms, f64)>, String);

pub(crate) struct Builder {
    pub tz: Tz,
    pub report: SourceReport,
    pub platform: Option<&'static str>,
    pub room_id: Option<String>,
    /// An end the data state (a capture's end message).
    pub end_ms: Option<Ms>,
    pub comments: Vec<Comment>,
    pub orders: Vec<Order>,
    pub segments: Vec<ProductSegment>,
    pub products: BTreeMap<String, ProductInfo>,
    /// Series by name: kind, unit, samples, the source that gave it.
    pub series: BTreeMap<String, Series>,
    pub facts: BTreeMap<String, Fact>,
    /// Facts' sources, for the cross-checks' wording.
    pub session_row: Option<SessionFacts>,
    /// Every instant a source put data at (for the default span).
    pub first_ms: Option<Ms>,
    pub last_ms: Option<Ms>,
    /// The end of the last period a per-minute source covers (its last
    /// minute's start plus a minute): the session's default end when no
    /// data come later.
    pub period_end: Option<Ms>,
    /// Orders whose amount is missing (a stream without `pay_amount`).
    pub unpriced: Vec<usize>,
    /// Message ids seen in any capture file (a restarted tool replays its
    /// last messages into the next log).
    pub seen_messages: HashSet<String>,
    /// (order id, status) seen in any order-stream file.
    pub seen_orders: HashSet<String>,
    /// Each capture's first and last message, for gaps at the session's edges.
    pub capture_spans: Vec<(String, Ms, Ms)>,
    /// Whether some order amounts were split from the per-minute GMV (which
    /// then cannot be checked against them).
    pub amounts_from_series: bool,
}

impl Builder {
    pub fn new(tz: Tz) -> Self {
        Builder {
            tz,
            report: SourceReport::default(),
            platform: None,
            room_id: None,
            end_ms: None,
            comments: Vec::new(),
            orders: Vec::new(),
            segments: Vec::new(),
            products: BTreeMap::new(),
            series: BTreeMap::new(),
            facts: BTreeMap::new(),
            session_row: None,
            first_ms: None,
            last_ms: None,
            period_end: None,
            unpriced: Vec::new(),
            seen_messages: HashSet::new(),
            seen_orders: HashSet::new(),
            capture_spans: Vec::new(),
            amounts_from_series: false,
        }
    }

    /// Notes the end of a period a per-minute source covers.
    pub fn period(&mut self, end: Ms) {
        self.period_end = Some(self.period_end.map_or(end, |p| p.max(end)));
    }

    pub fn saw(&mut self, t: Ms) {
        self.first_ms = Some(self.first_ms.map_or(t, |f| f.min(t)));
        self.last_ms = Some(self.last_ms.map_or(t, |l| l.max(t)));
    }

    pub fn field(
        &mut self,
        file: &str,
        field: &str,
        used: FieldUse,
        target: &str,
        count: usize,
        note: &str,
    ) {
        self.report.fields.push(FieldReport {
            file: file.into(),
            field: field.into(),
            used,
            target: target.into(),
            count,
            note: note.into(),
        });
    }

    pub fn drop_row(&mut self, file: &str, row: usize, reason: impl Into<String>) {
        self.report.dropped.push(DroppedRow {
            file: file.into(),
            row,
            reason: reason.into(),
        });
    }

    /// Adds a series from a source; a name another source already gave is
    /// kept apart as `<name>_<source>` (both stay, the report says so).
    pub fn add_series(
        &mut self,
        source: &str,
        name: &str,
        kind: MetricKind,
        unit: &str,
        samples: Vec<(Ms, f64)>,
    ) -> String {
        if samples.is_empty() {
            return name.to_string();
        }
        for &(t, _) in &samples {
            self.saw(t);
        }
        let mut key = name.to_string();
        if let Some((_, _, _, from)) = self.series.get(name) {
            if from != source {
                key = format!("{name}_{source}");
                self.report.notes.push(format!(
                    "{name}: given by {from} and by {source}; {source}'s series is kept as {key}"
                ));
            }
        }
        let e = self
            .series
            .entry(key.clone())
            .or_insert_with(|| (kind, unit.to_string(), Vec::new(), source.to_string()));
        e.2.extend(samples);
        key
    }

    pub fn product(&mut self, id: &str, name: Option<&str>, price: Option<f64>) {
        let p = self.products.entry(id.to_string()).or_default();
        if p.name.is_none() {
            p.name = name.map(text::normalize).filter(|n| !n.is_empty());
        }
        if p.price.is_none() {
            p.price = price.filter(|x| x.is_finite() && *x >= 0.0);
        }
    }

    /// Takes the session-list row whose span overlaps the data most, its
    /// columns as the session's facts.
    pub fn match_session_row(
        &mut self,
        file: &str,
        rows: Vec<SessionFacts>,
        opts: &SourceOptions,
    ) -> Result<()> {
        let span = match (
            opts.start_ms.or(self.first_ms),
            opts.end_ms.or(self.end_ms).or(self.last_ms),
        ) {
            (Some(a), Some(b)) => Some((a, b.max(a + 1))),
            _ => None,
        };
        let best = match span {
            Some((a, b)) => rows
                .into_iter()
                .map(|r| ((r.end_ms.min(b) - r.start_ms.max(a)).max(0), r))
                .filter(|(ov, _)| *ov > 0)
                .max_by_key(|(ov, _)| *ov)
                .map(|(_, r)| r),
            None if rows.len() == 1 => rows.into_iter().next(),
            None => {
                return Err(VapError::InvalidArgument(format!(
                "{file}: a session list of {} sessions and no other data to say which one: give \
                     start and end, or read it with read_compass_sessions",
                rows.len()
            )))
            }
        };
        match best {
            Some(r) => {
                self.report.notes.push(format!(
                    "{file}: the session-list row {} ({}) describes this session",
                    r.row, r.label
                ));
                self.facts.extend(r.facts.clone());
                self.session_row = Some(r);
            }
            None => self.report.notes.push(format!(
                "{file}: no session-list row overlaps this session's data; no facts taken from it"
            )),
        }
        Ok(())
    }

    pub fn finish(mut self, opts: &SourceOptions) -> Result<(SessionData, SourceReport)> {
        // sources' clocks first: a moved capture's end message moves too
        self.source_offsets(opts.max_offset_ms, opts.apply_offsets);
        let row = self.session_row.as_ref();
        let start = opts
            .start_ms
            .or(row.map(|r| r.start_ms))
            .or(self.first_ms)
            .ok_or_else(|| {
                VapError::InvalidArgument(
                    "the sources hold no timed data: give start and end".into(),
                )
            })?;
        let end = opts
            .end_ms
            .or(row.map(|r| r.end_ms))
            .or(self.end_ms)
            .or(self.last_ms.map(|l| match self.period_end {
                Some(p) if p >= l => p,
                _ => l + 1,
            }))
            .unwrap_or(start + 1)
            .max(start + 1);
        let room_id = opts
            .room_id
            .clone()
            .or(self.room_id.clone())
            .unwrap_or_else(|| "room".into());
        let local = self.tz.timestamp_millis_opt(start).earliest();
        let session_id = opts.session_id.clone().unwrap_or_else(|| {
            local.map_or_else(
                || start.to_string(),
                |d| d.format("%Y-%m-%d-%H%M").to_string(),
            )
        });
        // A capture that starts after the session or stops before its end
        // has gaps there too.
        for (source, first, last) in std::mem::take(&mut self.capture_spans) {
            let mut edge = |a: Ms, b: Ms, which: &str| {
                if b - a > opts.capture_gap_ms {
                    self.report.gaps.push(DataGap {
                        source: source.clone(),
                        start_ms: a,
                        end_ms: b,
                        streams: vec![],
                        reason: format!(
                            "{source}: no message in the session's first {:.0} s{which}: the capture {}",
                            (b - a) as f64 / 1000.0,
                            if which.is_empty() { "started late" } else { "stopped early" }
                        ),
                    });
                }
            };
            edge(start, first.clamp(start, end), "");
            edge((last + 1).clamp(start, end), end, " (at its end)");
        }
        // What each gap leaves unknown: the series its source gave, and the
        // comments for a capture.
        for g in &mut self.report.gaps {
            let family = match g.source.as_str() {
                "compass_trend" => "compass",
                s => s,
            };
            let mut streams: Vec<String> = self
                .series
                .iter()
                .filter(|(_, (.., from))| from == family)
                .map(|(k, _)| k.clone())
                .collect();
            if g.source.ends_with("_capture") && !self.comments.is_empty() {
                streams.push("comments".into());
            }
            if streams.is_empty() {
                // nothing measured came from it (a capture of explains only):
                // its own name, which no column has, so the timeline keeps
                // every column
                streams.push(g.source.clone());
            }
            g.streams = streams;
        }
        self.report.gaps.sort_by_key(|g| (g.start_ms, g.end_ms));
        let room = Room {
            id: text::normalize(&room_id),
            name: text::normalize(opts.room_name.as_deref().unwrap_or(&room_id)),
            platform: self.platform.map(str::to_string),
        };
        let session = Session {
            id: text::normalize(&session_id),
            room_id: room.id.clone(),
            start_ms: start,
            end_ms: end,
            timezone: opts.timezone.clone(),
            title: None,
            recordings: vec![],
            facts: std::mem::take(&mut self.facts),
            plan: None,
            gaps: self.report.gaps.clone(),
        };
        self.price_orders();
        let mut data = SessionData::new(room, session);
        // Products: every id an order or a segment names.
        for s in &self.segments {
            self.products.entry(s.product_id.clone()).or_default();
        }
        for o in &self.orders {
            self.products.entry(o.product_id.clone()).or_default();
        }
        let mut unnamed = 0;
        for (id, p) in &self.products {
            unnamed += usize::from(p.name.is_none());
            data.products.push(Product {
                id: id.clone(),
                name: p.name.clone().unwrap_or_else(|| id.clone()),
                price: p.price.unwrap_or(0.0),
                category: String::new(),
                aliases: vec![],
            });
        }
        if unnamed > 0 {
            self.report.notes.push(format!(
                "{unnamed} product(s) known only by id (the sources carry no title): named by their id, price 0; \
                 add a Compass order stream or a products table for names and prices"
            ));
        }
        data.segments = std::mem::take(&mut self.segments);
        data.comments = std::mem::take(&mut self.comments);
        data.orders = std::mem::take(&mut self.orders);
        for (name, (kind, unit, samples, _)) in std::mem::take(&mut self.series) {
            data.metrics.push(MetricDecl {
                name: name.clone(),
                kind,
                unit,
            });
            data.samples
                .extend(samples.into_iter().map(|(ts_ms, value)| MetricSample {
                    metric: name.clone(),
                    ts_ms,
                    value,
                }));
        }
        sort_session(&mut data);
        difference_cumulative(&mut data);
        self.checks(&data, opts);
        validate_session(&data, &LoadOptions::default())?;
        Ok((data, self.report))
    }

    /// Orders without an amount: their product's price when known, else
    /// the rest of their minute's `pay_amt` (after the priced orders), split
    /// over the minute's still unpriced orders by quantity.
    fn price_orders(&mut self) {
        if self.unpriced.is_empty() {
            return;
        }
        let minute = |t: Ms| t.div_euclid(60_000);
        let total = self.unpriced.len();
        let mut from_price = 0;
        let mut rest = Vec::new();
        for &i in &self.unpriced {
            let o = &mut self.orders[i];
            match self.products.get(&o.product_id).and_then(|p| p.price) {
                Some(p) => {
                    o.amount = p * f64::from(o.quantity);
                    from_price += 1;
                }
                None => rest.push(i),
            }
        }
        let pay: Option<HashMap<Ms, f64>> = self.series.get("gmv").map(|(_, _, s, _)| {
            // Flow samples stamped at the minute's end describe the minute before.
            s.iter().map(|&(t, v)| (minute(t - 1), v)).collect()
        });
        let rest_set: HashSet<usize> = rest.iter().copied().collect();
        let mut qty: HashMap<Ms, f64> = HashMap::new();
        let mut priced: HashMap<Ms, f64> = HashMap::new();
        for (i, o) in self.orders.iter().enumerate() {
            if rest_set.contains(&i) {
                *qty.entry(minute(o.ts_ms)).or_default() += f64::from(o.quantity);
            } else {
                *priced.entry(minute(o.ts_ms)).or_default() += o.amount;
            }
        }
        let (mut from_minute, mut none) = (0, 0);
        for &i in &rest {
            let o = &mut self.orders[i];
            let m = minute(o.ts_ms);
            match (pay.as_ref().and_then(|p| p.get(&m)), qty.get(&m)) {
                (Some(total), Some(q)) if *q > 0.0 => {
                    let left = (total - priced.get(&m).copied().unwrap_or(0.0)).max(0.0);
                    o.amount = left * f64::from(o.quantity) / q;
                    from_minute += 1;
                }
                _ => none += 1,
            }
        }
        self.amounts_from_series = from_minute > 0;
        self.report.notes.push(format!(
            "{total} order(s) carry no amount: {from_price} priced from their product's price, {from_minute} from \
             what their minute's pay_amt leaves after the priced orders, split by quantity, {none} left at 0 (no price known)"
        ));
    }

    fn checks(&mut self, data: &SessionData, opts: &SourceOptions) {
        let paid: f64 = data
            .orders
            .iter()
            .filter(|o| o.status == OrderStatus::Paid)
            .map(|o| o.amount)
            .sum();
        let paid_ids = {
            let mut ids: Vec<&str> = data
                .orders
                .iter()
                .filter(|o| o.status == OrderStatus::Paid)
                .map(|o| o.id.as_str())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids.len() as f64
        };
        let series_sum = |name: &str| -> Option<f64> {
            data.metrics
                .iter()
                .any(|m| m.name == name && m.kind == MetricKind::Flow)
                .then(|| {
                    data.samples
                        .iter()
                        .filter(|s| s.metric == name)
                        .map(|s| s.value)
                        .sum()
                })
        };
        let fact = |k: &str| data.session.facts.get(k).and_then(Fact::as_f64);
        let has_orders = !data.orders.is_empty();
        let mut add = |what: String, reported: f64, summed: f64| {
            let relative = (reported - summed).abs() / reported.abs().max(1.0);
            self.report.checks.push(SourceCheck {
                what,
                reported,
                summed,
                relative,
                agrees: relative <= opts.check_tolerance,
            });
        };
        if let Some(g) = fact("gmv") {
            if has_orders {
                add("gmv: session facts vs paid orders".into(), g, paid);
            }
            if let Some(s) = series_sum("gmv") {
                add("gmv: session facts vs per-minute gmv".into(), g, s);
            }
        }
        if let Some(n) = fact("paid_orders") {
            if has_orders {
                add(
                    "paid_orders: session facts vs paid orders".into(),
                    n,
                    paid_ids,
                );
            }
        }
        // Not when amounts were split from the series itself: it would agree by construction.
        if let (Some(s), true, false) = (series_sum("gmv"), has_orders, self.amounts_from_series) {
            add("gmv: per-minute gmv vs paid orders".into(), s, paid);
        }
        if let Some(c) = fact("comments") {
            if !data.comments.is_empty() {
                add(
                    "comments: session facts vs comments".into(),
                    c,
                    data.comments.len() as f64,
                );
            }
        }
    }

    /// Gaps in a capture: spans longer than `gap_ms` without any message.
    pub fn capture_gaps(&mut self, source: &str, times: &mut [Ms], gap_ms: Ms) {
        times.sort_unstable();
        for w in times.windows(2) {
            if w[1] - w[0] > gap_ms {
                let g = DataGap {
                    streams: vec![],
                    source: source.to_string(),
                    start_ms: w[0] + 1,
                    end_ms: w[1],
                    reason: format!(
                        "{source}: no message for {:.0} s (a reconnect or a stall of the capture): missing data, not a quiet room",
                        (w[1] - w[0]) as f64 / 1000.0
                    ),
                };
                self.report.gaps.push(g);
            }
        }
    }

    /// Per-source counts of records kept and repeats.
    pub fn comment(&mut self, ts_ms: Ms, viewer: String, text_raw: &str) {
        self.saw(ts_ms);
        self.comments.push(Comment {
            ts_ms,
            viewer_id: viewer.into(),
            text: text::normalize(text_raw).into(),
        });
    }

    pub fn order(
        &mut self,
        id: String,
        ts_ms: Ms,
        product_id: String,
        quantity: u32,
        amount: Option<f64>,
    ) {
        self.saw(ts_ms);
        if amount.is_none() {
            self.unpriced.push(self.orders.len());
        }
        self.orders.push(Order {
            id,
            ts_ms,
            product_id,
            quantity,
            amount: amount.unwrap_or(0.0),
            status: OrderStatus::Paid,
            viewer_id: None,
        });
    }

    pub fn segment(&mut self, product_id: String, start_ms: Ms, end_ms: Ms) {
        if end_ms > start_ms {
            self.saw(start_ms);
            self.segments.push(ProductSegment {
                product_id,
                kind: SegmentKind::Explain,
                start_ms,
                end_ms,
            });
        }
    }
}

/// A per-period flow as samples: each period's amount stamped at its end, with
/// a zero at its start where the previous period did not end there (after a
/// missing period, so its amount is not spread over the hole). `pts` are
/// `(period start, amount)` sorted by time.
pub(crate) fn stamp_flow(pts: Vec<(Ms, f64)>, period: Ms) -> Vec<(Ms, f64)> {
    let mut out = Vec::with_capacity(pts.len() + 8);
    let mut prev_end: Option<Ms> = None;
    for (t, x) in pts {
        if prev_end != Some(t) {
            out.push((t, 0.0));
        }
        out.push((t + period, x));
        prev_end = Some(t + period);
    }
    out
}
