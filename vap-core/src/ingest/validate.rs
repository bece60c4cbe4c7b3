//! The validation rules, shared by every loader and by the store's imports:
//! the manifest's header (ids, session bounds, metric declarations), then each
//! table (duplicate ids, negative prices, unknown product and anchor ids,
//! intervals, times outside the session, undeclared metrics). Every problem
//! is collected, in the order of the checks below.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::LoadOptions;
use crate::error::{Problem, Result, VapError};
use crate::schema::*;
use crate::table::{Origins, TableName, Tables};

/// Validates a session built in memory (from Rust, or changed after loading)
/// with the same rules as the loaders; rows are numbered by their position in
/// each table. The store runs this before every import.
pub fn validate_session(data: &SessionData, opts: &LoadOptions) -> Result<()> {
    let mut problems = Vec::new();
    check_header(&data.room, &data.session, &data.metrics, &mut problems);
    validate(
        &data.session,
        &data.metrics,
        View::of_session(data),
        &Origins::default(),
        opts,
        &mut problems,
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(VapError::Validation(problems))
    }
}

/// The table rules for tables parsed from raw tables (rows numbered by their
/// origin: file and line).
pub(super) fn check_tables(
    session: &Session,
    decls: &[MetricDecl],
    tables: &Tables,
    origins: &Origins,
    opts: &LoadOptions,
    problems: &mut Vec<Problem>,
) {
    validate(
        session,
        decls,
        View::of_tables(tables),
        origins,
        opts,
        problems,
    );
}

// ---------------------------------------------------------------- the header

/// The manifest's rules: room and session ids, session bounds, metric
/// declarations.
pub(super) fn check_header(
    room: &Room,
    session: &Session,
    metrics: &[MetricDecl],
    problems: &mut Vec<Problem>,
) {
    check_header_ids(room, session, problems);
    check_session_bounds(session, problems);
    check_metric_decls(metrics, problems);
}

/// The session's room is the manifest's room; both ids are valid ids.
fn check_header_ids(room: &Room, session: &Session, problems: &mut Vec<Problem>) {
    let m = "manifest.json";
    if session.room_id != room.id {
        problems.push(Problem::new(
            m,
            None,
            Some("session.room_id"),
            format!(
                "session.room_id '{}' differs from room.id '{}'",
                session.room_id, room.id
            ),
        ));
    }
    for (field, id) in [("room.id", &room.id), ("session.id", &session.id)] {
        if let Err(e) = crate::ids::check_id(id) {
            problems.push(Problem::new(m, None, Some(field), e));
        }
    }
}

/// Start and end lie between 2000 and 2100; the end is after the start, at
/// most [`MAX_SESSION_MS`] later.
fn check_session_bounds(session: &Session, problems: &mut Vec<Problem>) {
    let m = "manifest.json";
    for (field, t) in [
        ("session.start_ms", session.start_ms),
        ("session.end_ms", session.end_ms),
    ] {
        if !(MIN_TIME_MS..MAX_TIME_MS).contains(&t) {
            problems.push(Problem::new(
                m,
                None,
                Some(field),
                format!(
                    "time {t} is not between 2000 and 2100 (milliseconds since the epoch expected)"
                ),
            ));
        }
    }
    if session.end_ms <= session.start_ms {
        problems.push(Problem::new(
            m,
            None,
            Some("session.end_ms"),
            format!(
                "end {} is not after start {}",
                session.end_ms, session.start_ms
            ),
        ));
    } else if session.end_ms.saturating_sub(session.start_ms) > MAX_SESSION_MS {
        problems.push(Problem::new(
            m,
            None,
            Some("session.end_ms"),
            format!(
                "the session lasts more than 7 days ({} ms)",
                session.end_ms.saturating_sub(session.start_ms)
            ),
        ));
    }
    if session.timezone.parse::<chrono_tz::Tz>().is_err() {
        problems.push(Problem::new(
            m,
            None,
            Some("session.timezone"),
            format!(
                "'{}' is not an IANA time zone (such as 'Asia/Shanghai' or 'UTC')",
                session.timezone
            ),
        ));
    }
}

/// The largest money amount (a price, an order's amount) accepted: sums of
/// billions of such values stay exact enough and finite.
pub const MAX_AMOUNT: f64 = 1e12;

/// The largest metric value accepted, in absolute value.
pub const MAX_METRIC_VALUE: f64 = 1e15;

/// No metric is declared twice.
fn check_metric_decls(metrics: &[MetricDecl], problems: &mut Vec<Problem>) {
    let mut seen = HashSet::default();
    for d in metrics {
        if !seen.insert(d.name.as_str()) {
            problems.push(Problem::new(
                "manifest.json",
                None,
                Some("metrics"),
                format!("metric '{}' declared twice", d.name),
            ));
        }
    }
}

// ---------------------------------------------------------------- the tables

/// Borrowed tables, as validated.
struct View<'a> {
    anchors: &'a [Anchor],
    shifts: &'a [Shift],
    products: &'a [Product],
    segments: &'a [ProductSegment],
    promotions: &'a [Promotion],
    comments: &'a [Comment],
    orders: &'a [Order],
    utterances: &'a [Utterance],
    samples: &'a [MetricSample],
}

impl<'a> View<'a> {
    fn of_tables(t: &'a Tables) -> Self {
        View {
            anchors: &t.anchors,
            shifts: &t.shifts,
            products: &t.products,
            segments: &t.segments,
            promotions: &t.promotions,
            comments: &t.comments,
            orders: &t.orders,
            utterances: &t.utterances,
            samples: &t.samples,
        }
    }

    fn of_session(d: &'a SessionData) -> Self {
        View {
            anchors: &d.anchors,
            shifts: &d.shifts,
            products: &d.products,
            segments: &d.segments,
            promotions: &d.promotions,
            comments: &d.comments,
            orders: &d.orders,
            utterances: &d.utterances,
            samples: &d.samples,
        }
    }
}

/// Every table rule, in a fixed order (problems come back in it).
fn validate(
    session: &Session,
    decls: &[MetricDecl],
    t: View<'_>,
    origins: &Origins,
    opts: &LoadOptions,
    problems: &mut Vec<Problem>,
) {
    let mut c = Checks {
        origins,
        session,
        tolerance_ms: opts.outside_tolerance_ms,
        lo: session.start_ms.saturating_sub(opts.outside_tolerance_ms),
        hi: session.end_ms.saturating_add(opts.outside_tolerance_ms),
        problems,
    };
    check_duplicate_ids(&mut c, &t);
    let anchors: HashSet<&str> = t.anchors.iter().map(|a| a.id.as_str()).collect();
    let products: HashSet<&str> = t.products.iter().map(|p| p.id.as_str()).collect();
    check_prices(&mut c, t.products);
    check_shifts(&mut c, t.shifts, &anchors);
    check_segments(&mut c, t.segments, &products);
    check_promotions(&mut c, t.promotions, &products);
    check_comments(&mut c, t.comments);
    check_orders(&mut c, t.orders, &products);
    check_utterances(&mut c, t.utterances);
    check_metric_samples(&mut c, t.samples, decls);
}

/// What every table rule needs: where a row came from, the session's bounds
/// widened by the tolerance, and the problems found so far.
struct Checks<'a> {
    origins: &'a Origins,
    session: &'a Session,
    tolerance_ms: Ms,
    /// Earliest time accepted.
    lo: Ms,
    /// Latest time accepted.
    hi: Ms,
    problems: &'a mut Vec<Problem>,
}

impl Checks<'_> {
    /// File and row of row `i` of `table`: its origin, or the table's name and
    /// position for tables built in memory.
    fn at(&self, table: TableName, i: usize) -> (String, Option<usize>) {
        match self.origins.get(table, i) {
            Some((src, row)) => (src.to_string(), Some(row)),
            None => (table.as_str().to_string(), Some(i + 1)),
        }
    }

    /// Records a problem with row `i` of `table`.
    fn push(&mut self, table: TableName, i: usize, field: &str, message: String) {
        let (f, r) = self.at(table, i);
        self.problems.push(Problem::new(f, r, Some(field), message));
    }

    /// A time lies between 2000 and 2100 and within the session, give or take
    /// the tolerance.
    /// Whether [`Checks::time`] accepts `ts`.
    fn time_ok(&self, ts: Ms) -> bool {
        (MIN_TIME_MS..MAX_TIME_MS).contains(&ts) && (self.lo..=self.hi).contains(&ts)
    }

    fn time(&mut self, table: TableName, i: usize, field: &str, ts: Ms) {
        if !(MIN_TIME_MS..MAX_TIME_MS).contains(&ts) {
            self.push(
                table,
                i,
                field,
                format!(
                    "time {ts} is not between 2000 and 2100 (seconds instead of milliseconds?)"
                ),
            );
        } else if ts < self.lo || ts > self.hi {
            let message = format!(
                "time {ts} is more than {} s outside the session [{}, {})",
                self.tolerance_ms / 1000,
                self.session.start_ms,
                self.session.end_ms
            );
            self.push(table, i, field, message);
        }
    }

    /// An interval ends no earlier than it starts, and both ends are good
    /// times (the end checked only when the interval is not reversed).
    fn interval(&mut self, table: TableName, i: usize, s: Ms, e: Ms) {
        if e < s {
            self.push(table, i, "end_ms", format!("end {e} is before start {s}"));
        }
        self.time(table, i, "start_ms", s);
        if e >= s {
            self.time(table, i, "end_ms", e);
        }
    }

    /// An id refers to a known row of another table.
    fn known(
        &mut self,
        table: TableName,
        i: usize,
        field: &str,
        id: &str,
        known: &HashSet<&str>,
        what: &str,
    ) {
        if !known.contains(id) {
            self.push(table, i, field, format!("unknown {what} id '{id}'"));
        }
    }

    /// Every id after its first occurrence is a duplicate.
    fn unique<K>(&mut self, table: TableName, ids: impl Iterator<Item = K>)
    where
        K: std::hash::Hash + Eq + std::fmt::Display,
    {
        let mut seen = HashSet::default();
        let mut dup = Vec::new();
        for (i, id) in ids.enumerate() {
            if let Some(id) = seen.replace(id) {
                dup.push((i, id.to_string()));
            }
        }
        for (i, id) in dup {
            self.push(table, i, "id", format!("duplicate id '{id}'"));
        }
    }
}

/// Ids of anchors, products and promotions are unique; order ids are unique
/// per status (a refund repeats its order's id).
fn check_duplicate_ids(c: &mut Checks<'_>, t: &View<'_>) {
    /// An order's id with its status: "id' with status 'paid".
    #[derive(Hash, PartialEq, Eq)]
    struct OrderKey<'a>(&'a str, bool);
    impl std::fmt::Display for OrderKey<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let status = if self.1 { "paid" } else { "refunded" };
            write!(f, "{}' with status '{status}", self.0)
        }
    }
    c.unique(TableName::Anchors, t.anchors.iter().map(|a| a.id.as_str()));
    c.unique(
        TableName::Products,
        t.products.iter().map(|p| p.id.as_str()),
    );
    c.unique(
        TableName::Promotions,
        t.promotions.iter().map(|p| p.id.as_str()),
    );
    c.unique(
        TableName::Orders,
        t.orders
            .iter()
            .map(|o| OrderKey(o.id.as_str(), o.status == OrderStatus::Paid)),
    );
}

/// No product has a negative or implausibly large price.
fn check_prices(c: &mut Checks<'_>, products: &[Product]) {
    for (i, p) in products.iter().enumerate() {
        if p.price < 0.0 {
            c.push(
                TableName::Products,
                i,
                "price",
                format!("negative price {}", p.price),
            );
        } else if p.price > MAX_AMOUNT || p.price.is_nan() {
            c.push(
                TableName::Products,
                i,
                "price",
                format!(
                    "price {} is above the largest accepted, {MAX_AMOUNT:e}",
                    p.price
                ),
            );
        }
    }
}

/// Shifts name known anchors and are good intervals.
fn check_shifts(c: &mut Checks<'_>, shifts: &[Shift], anchors: &HashSet<&str>) {
    for (i, s) in shifts.iter().enumerate() {
        let t = TableName::Shifts;
        c.known(t, i, "anchor_id", &s.anchor_id, anchors, "anchor");
        c.interval(t, i, s.start_ms, s.end_ms);
    }
}

/// Product segments name known products and are good intervals.
fn check_segments(c: &mut Checks<'_>, segments: &[ProductSegment], products: &HashSet<&str>) {
    for (i, s) in segments.iter().enumerate() {
        let t = TableName::Segments;
        c.known(t, i, "product_id", &s.product_id, products, "product");
        c.interval(t, i, s.start_ms, s.end_ms);
    }
}

/// Promotions name known products (when they name one) and are good intervals.
fn check_promotions(c: &mut Checks<'_>, promotions: &[Promotion], products: &HashSet<&str>) {
    for (i, p) in promotions.iter().enumerate() {
        let t = TableName::Promotions;
        if let Some(pid) = &p.product_id {
            c.known(t, i, "product_id", pid, products, "product");
        }
        c.interval(t, i, p.start_ms, p.end_ms);
    }
}

/// Comments have good times.
fn check_comments(c: &mut Checks<'_>, comments: &[Comment]) {
    // Millions of rows: the rows out of bounds are found on every thread,
    // then reported in order.
    use rayon::prelude::*;
    let checks = &*c;
    let bad: Vec<usize> = crate::threads::install(|| {
        comments
            .par_iter()
            .enumerate()
            .filter(|(_, x)| !checks.time_ok(x.ts_ms))
            .map(|(i, _)| i)
            .collect()
    });
    for i in bad {
        c.time(TableName::Comments, i, "ts_ms", comments[i].ts_ms);
    }
}

/// Orders name known products, have good times and amounts that are not
/// negative and not implausibly large (sums must stay finite).
fn check_orders(c: &mut Checks<'_>, orders: &[Order], products: &HashSet<&str>) {
    for (i, o) in orders.iter().enumerate() {
        let t = TableName::Orders;
        c.known(t, i, "product_id", &o.product_id, products, "product");
        c.time(t, i, "ts_ms", o.ts_ms);
        if o.amount < 0.0 {
            c.push(t, i, "amount", format!("negative amount {}", o.amount));
        } else if o.amount > MAX_AMOUNT || o.amount.is_nan() {
            c.push(
                t,
                i,
                "amount",
                format!(
                    "amount {} is above the largest accepted, {MAX_AMOUNT:e}",
                    o.amount
                ),
            );
        }
    }
}

/// What loading accepts but reports: a refund whose order was not paid in
/// this session (it may have been paid in an earlier one, so it is kept; it
/// lowers net GMV without a payment to match).
pub(super) fn warnings(tables: &Tables, origins: &Origins) -> Vec<Problem> {
    let mut out = Vec::new();
    let paid: HashSet<&str> = tables
        .orders
        .iter()
        .filter(|o| o.status == OrderStatus::Paid)
        .map(|o| o.id.as_str())
        .collect();
    for (i, o) in tables.orders.iter().enumerate() {
        if o.status == OrderStatus::Refunded && !paid.contains(o.id.as_str()) {
            let (file, row) = match origins.get(TableName::Orders, i) {
                Some((src, row)) => (src.to_string(), Some(row)),
                None => ("orders".to_string(), Some(i + 1)),
            };
            out.push(Problem::new(
                file,
                row,
                Some("id"),
                format!(
                    "refund of order '{}', which has no payment in this session: it lowers net GMV by {} without a payment to match",
                    o.id, o.amount
                ),
            ));
        }
    }
    out
}

/// Utterances are good intervals.
fn check_utterances(c: &mut Checks<'_>, utterances: &[Utterance]) {
    for (i, u) in utterances.iter().enumerate() {
        c.interval(TableName::Utterances, i, u.start_ms, u.end_ms);
    }
}

/// Samples are of declared metrics (reported once per metric, at its first
/// row), no value is negative or implausibly large, and times are good.
fn check_metric_samples(c: &mut Checks<'_>, samples: &[MetricSample], decls: &[MetricDecl]) {
    let declared: HashMap<&str, MetricKind> =
        decls.iter().map(|d| (d.name.as_str(), d.kind)).collect();
    let mut undeclared_reported = HashSet::default();
    for (i, s) in samples.iter().enumerate() {
        let t = TableName::Metrics;
        match declared.get(s.metric.as_str()) {
            None if undeclared_reported.insert(s.metric.clone()) => c.push(
                t,
                i,
                "metric",
                format!(
                    "metric '{}' is not declared in the manifest's \"metrics\" (first of its rows)",
                    s.metric
                ),
            ),
            None => {}
            _ if s.value.abs() > MAX_METRIC_VALUE || s.value.is_nan() => c.push(
                t,
                i,
                "value",
                format!(
                    "value {} of metric '{}' is beyond the largest accepted, {MAX_METRIC_VALUE:e}",
                    s.value, s.metric
                ),
            ),
            Some(MetricKind::Gauge) if s.value < 0.0 => c.push(
                t,
                i,
                "value",
                format!(
                    "negative value {} for a gauge metric '{}' (a level such as online viewers)",
                    s.value, s.metric
                ),
            ),
            Some(MetricKind::Flow) | Some(MetricKind::Cumulative) if s.value < 0.0 => c.push(
                t,
                i,
                "value",
                format!(
                    "negative value {} for a flow/cumulative metric '{}'",
                    s.value, s.metric
                ),
            ),
            _ => {}
        }
        c.time(t, i, "ts_ms", s.ts_ms);
    }
}
