//! The people / goods / venue model of a live room.
//!
//! Every timestamp is an `i64` count of milliseconds since the Unix epoch, UTC
//! ([`Ms`]). Intervals are half-open: `[start_ms, end_ms)`. Text fields are
//! normalised on load (see [`crate::text::normalize`]).
//!
//! The types here are plain data: they serialise with serde, and the loaders in
//! [`crate::ingest`] turn session directories, Parquet files and Arrow batches into a
//! validated [`SessionData`].
//!
//! ```
//! use vap_core::schema::{OrderStatus, SessionData};
//!
//! let room = vap_core::sim::simulate(&vap_core::sim::SimConfig {
//!     seed: 1,
//!     hours: 0.25,
//!     ..Default::default()
//! })
//! .unwrap();
//! let data: &SessionData = &room.data;
//! let paid = data.orders.iter().filter(|o| o.status == OrderStatus::Paid).count();
//! assert_eq!(paid as u64, data.summary().gmv.paid_orders);
//! assert!(data.orders.iter().all(|o| o.ts_ms >= data.session.start_ms));
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The string type of [`Comment`]'s fields: up to 24 bytes kept in the
/// record itself, longer text on the heap. A 12-hour room has millions of
/// comments whose viewer ids and texts are mostly that short: one heap
/// allocation per field was a quarter of loading them. It dereferences to
/// `&str`; build one with `.into()` from a `&str` or a `String`.
pub use compact_str::CompactString;

/// Milliseconds since the Unix epoch, UTC.
pub type Ms = i64;

// ---------------------------------------------------------------- venue

/// A live room (直播间): the account a brand streams from, day after day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Room {
    /// Stable id; also the room's directory name in a [`crate::store::Store`].
    pub id: String,
    /// Display name, e.g. "品牌官方旗舰店".
    pub name: String,
    /// Platform the room streams on ("douyin", "tiktok", ...), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

/// A recording of (part of) a session, referenced rather than copied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VideoRef {
    /// Path of the recording file as given by the user (absolute, or relative to
    /// the session directory it was imported from).
    pub path: String,
    /// Session-clock time of the recording's position 0, in ms:
    /// `session_time = offset_ms + position_in_video`.
    pub offset_ms: Ms,
    /// File size in bytes, filled in when the store registers the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// Lower-case hex sha256 of the file, filled in when the store registers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Length of the recording in ms, filled in when it is probed
    /// (`media::register_recording`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<Ms>,
}

/// One broadcast of a room: `[start_ms, end_ms)` on the platform clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Stable id, unique within its room; also its directory name in a store.
    pub id: String,
    /// Id of the [`Room`] this session belongs to.
    pub room_id: String,
    /// Start of the broadcast (inclusive).
    pub start_ms: Ms,
    /// End of the broadcast (exclusive).
    pub end_ms: Ms,
    /// IANA time zone used for display only ("Asia/Shanghai"); data stay UTC.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Optional title of the broadcast.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Recordings of the session, each with its own offset to the session clock.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recordings: Vec<VideoRef>,
    /// Figures the platform reported for the whole session (an imported
    /// Compass session list or TikTok Shop summary: `gmv`, `viewers`, ...,
    /// each unknown column under its own header), kept as they were exported.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub facts: BTreeMap<String, Fact>,
    /// Spans where a source is known to have no data (a capture tool's
    /// reconnect): missing data, not quiet minutes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<DataGap>,
    /// The session's run-sheet (直播脚本), if one was attached
    /// ([`crate::plan`]): compared with what happened by the replay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<RunSheet>,
}

/// A session-level figure as a platform exported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Fact {
    /// A number (rates as ratios: "12.3%" is 0.123; "1.2万" is 12000).
    Number(f64),
    /// Anything that is not a number (a title, a date).
    Text(String),
}

impl Fact {
    /// The number, when it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Fact::Number(x) => Some(*x),
            Fact::Text(_) => None,
        }
    }
}

/// A span where a source had no data, `[start_ms, end_ms)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataGap {
    /// Which source ("douyin_capture", "compass_trend", ...).
    pub source: String,
    /// First instant without data.
    pub start_ms: Ms,
    /// First instant with data again.
    pub end_ms: Ms,
    /// Why ("no message for 240 s: a reconnect").
    pub reason: String,
    /// The streams it leaves unknown: metric names, `comments`, `orders`
    /// (empty: every measured stream). The timeline reads their bins in the
    /// gap as missing, not as zero.
    #[serde(default)]
    pub streams: Vec<String>,
}

fn default_timezone() -> String {
    "UTC".to_string()
}

impl Session {
    /// Length of the session in milliseconds.
    pub fn duration_ms(&self) -> Ms {
        self.end_ms - self.start_ms
    }
}

// ---------------------------------------------------------------- people

/// An anchor (主播): a person who presents on camera.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anchor {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// What an anchor does during a [`Shift`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShiftRole {
    /// Main presenter (主播).
    Host,
    /// Second presenter beside the host (副播).
    CoHost,
    /// Field control (场控): runs the room, talks off-camera or briefly.
    FieldControl,
}

/// An interval during which an anchor is on camera in a role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shift {
    /// Id of the [`Anchor`].
    pub anchor_id: String,
    /// Role during the shift.
    pub role: ShiftRole,
    /// Start (inclusive).
    pub start_ms: Ms,
    /// End (exclusive).
    pub end_ms: Ms,
}

/// A viewer who commented. Ids may be pseudonymised on import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Commenter {
    /// Viewer id as exported by the platform, or its keyed hash.
    pub id: String,
    /// Number of comments the viewer wrote in the session.
    pub comments: u64,
    /// Time of the viewer's first comment.
    pub first_ms: Ms,
}

// ---------------------------------------------------------------- goods

/// A product sold in the room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// Stable id (SKU or platform product id).
    pub id: String,
    /// Name as listed.
    pub name: String,
    /// List price in the room's currency (yuan).
    pub price: f64,
    /// Category ("美妆", "apparel", ...).
    #[serde(default)]
    pub category: String,
    /// Names used in speech and comments ("1号链接", "小黑瓶"); matched by the
    /// lexicon of the alignment module.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// What a [`ProductSegment`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentKind {
    /// The anchor explains the product (讲解).
    Explain,
    /// The product card is pinned on screen (置顶).
    Pinned,
    /// The product is on the shelf (上架), i.e. can be bought.
    OnShelf,
}

/// An interval during which a product is explained, pinned or on shelf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductSegment {
    /// Id of the [`Product`].
    pub product_id: String,
    /// Kind of segment.
    pub kind: SegmentKind,
    /// Start (inclusive).
    pub start_ms: Ms,
    /// End (exclusive).
    pub end_ms: Ms,
}

// ---------------------------------------------------------------- events

/// Kind of a [`Promotion`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionKind {
    /// Flash sale (秒杀).
    FlashSale,
    /// Coupon drop (优惠券).
    Coupon,
    /// Lucky bag (福袋).
    LuckyBag,
    /// Price cut (直降).
    PriceCut,
    /// Anything else; see [`Promotion::label`].
    Custom,
}

/// A promotion running over an interval, optionally tied to one product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    /// Stable id.
    pub id: String,
    /// Kind of promotion.
    pub kind: PromotionKind,
    /// Free-text label (required in spirit for [`PromotionKind::Custom`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Product the promotion applies to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Start (inclusive).
    pub start_ms: Ms,
    /// End (exclusive).
    pub end_ms: Ms,
}

/// A viewer comment (弹幕 / 评论).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    /// Time the comment was posted.
    pub ts_ms: Ms,
    /// Viewer id (possibly pseudonymised).
    pub viewer_id: CompactString,
    /// Normalised text.
    pub text: CompactString,
}

/// Whether an [`Order`] row is a payment or a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Paid at `ts_ms`.
    Paid,
    /// Refunded at `ts_ms` (the refund's own time, not the payment's).
    Refunded,
}

/// An order row. A refund is its own row, with the refund's time and the same
/// `id` as the payment it reverses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Order id; `(id, status)` is unique.
    pub id: String,
    /// Time of payment or refund.
    pub ts_ms: Ms,
    /// Id of the [`Product`] bought.
    pub product_id: String,
    /// Units.
    pub quantity: u32,
    /// Amount paid or refunded, positive, in yuan.
    pub amount: f64,
    /// Paid or refunded.
    pub status: OrderStatus,
    /// Buyer id, if exported (possibly pseudonymised).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer_id: Option<String>,
}

/// A transcript segment of what was said on stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Utterance {
    /// Start on the session clock.
    pub start_ms: Ms,
    /// End on the session clock.
    pub end_ms: Ms,
    /// Normalised text.
    pub text: String,
    /// Speaker: an anchor id when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// ASR confidence in [0, 1], if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
}

// ---------------------------------------------------------------- metrics

/// How the samples of a metric series are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// A sample is the amount accrued since the previous sample of the series,
    /// up to its timestamp (entries, product clicks).
    Flow,
    /// Running totals. The loader differences them into [`MetricKind::Flow`]
    /// samples; a drop (counter reset) is read as a restart from zero, never as a
    /// negative flow.
    Cumulative,
    /// A level observed at an instant (online viewers).
    Gauge,
}

/// Declaration of a metric series: its name, kind and unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricDecl {
    /// Series name ("entries", "online_viewers", "gmv").
    pub name: String,
    /// Kind as the source exports it.
    pub kind: MetricKind,
    /// Unit ("viewers", "yuan", "count").
    #[serde(default)]
    pub unit: String,
}

/// One sample of a named metric (long format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSample {
    /// Series name; must be declared in the manifest.
    pub metric: String,
    /// Sample time.
    pub ts_ms: Ms,
    /// Value.
    pub value: f64,
}

// ---------------------------------------------------------------- the plan

/// What a planned item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    /// A host shift: who is on camera.
    Shift,
    /// A product slot: a product explained.
    Product,
    /// A promotion (flash sale, coupon, lucky bag, ...).
    Promotion,
}

impl PlanKind {
    /// `"shift"`, `"product"`, `"promotion"`.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanKind::Shift => "shift",
            PlanKind::Product => "product",
            PlanKind::Promotion => "promotion",
        }
    }
}

/// A planned time as the run-sheet wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanTime {
    /// An instant, ms since the epoch.
    At(Ms),
    /// An offset from the session's start, ms.
    Offset(Ms),
    /// A wall-clock time in the session's time zone, ms after midnight.
    Clock(Ms),
}

/// One planned item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanItem {
    /// Shift, product slot or promotion.
    pub kind: PlanKind,
    /// Planned start.
    pub start: PlanTime,
    /// Planned end, if written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<PlanTime>,
    /// Planned length, if written (an end wins over it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<Ms>,
    /// The anchor (id or name as written): who hosts a shift, who presents a
    /// product slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    /// The product (id, name or alias as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The promotion's kind (promotion items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion: Option<PromotionKind>,
    /// A label ("开场", "福利款", a custom promotion's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Talking points planned for a product slot (话术 / 卖点).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub talking_points: Vec<String>,
    /// 1-based data row of the source file (0 when built in code).
    #[serde(default)]
    pub row: usize,
}

/// A run-sheet (直播脚本): the planned shifts, product slots and promotions of
/// a session, as [`crate::plan::read_run_sheet`] reads it (see [`crate::plan`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RunSheet {
    /// Where it was read from (a file name), for messages.
    #[serde(default)]
    pub source: String,
    /// The planned items, in the order read.
    pub items: Vec<PlanItem>,
    /// Columns of the file that were not read (by header).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
}

// ---------------------------------------------------------------- whole session

/// Everything known about one session, validated and sorted by time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionData {
    /// The room.
    pub room: Room,
    /// The session.
    pub session: Session,
    /// Declared metric series. After loading, every series is either
    /// [`MetricKind::Flow`] or [`MetricKind::Gauge`].
    pub metrics: Vec<MetricDecl>,
    /// Anchors appearing in the session.
    pub anchors: Vec<Anchor>,
    /// Anchor shifts, sorted by start.
    pub shifts: Vec<Shift>,
    /// Products of the session.
    pub products: Vec<Product>,
    /// Product segments, sorted by start.
    pub segments: Vec<ProductSegment>,
    /// Promotions, sorted by start.
    pub promotions: Vec<Promotion>,
    /// Comments, sorted by time.
    pub comments: Vec<Comment>,
    /// Orders and refunds, sorted by time.
    pub orders: Vec<Order>,
    /// Transcript, sorted by start.
    pub utterances: Vec<Utterance>,
    /// Metric samples (long format), sorted by (metric, time).
    pub samples: Vec<MetricSample>,
}

/// GMV computed from orders.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Gmv {
    /// Sum of paid amounts.
    pub gross: f64,
    /// Sum of refunded amounts.
    pub refunds: f64,
    /// `gross - refunds`.
    pub net: f64,
    /// Number of paid orders.
    pub paid_orders: u64,
    /// Number of refund rows.
    pub refund_orders: u64,
}

/// Platform-reported GMV against GMV from orders.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GmvCheck {
    /// Total of the platform's `gmv` series (a flow after loading).
    pub platform: f64,
    /// Gross GMV from orders within the session.
    pub orders_gross: f64,
    /// `platform - orders_gross`.
    pub difference: f64,
    /// `|difference| / max(orders_gross, 1)`.
    pub relative: f64,
}

/// Summary of a session, as printed by the demo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// Room id.
    pub room_id: String,
    /// Session id.
    pub session_id: String,
    /// Session length in hours.
    pub hours: f64,
    /// Number of anchors.
    pub anchors: usize,
    /// Number of products.
    pub products: usize,
    /// Number of explain segments.
    pub explains: usize,
    /// Number of promotions.
    pub promotions: usize,
    /// Number of comments.
    pub comments: usize,
    /// Number of distinct commenters.
    pub commenters: usize,
    /// Number of utterances.
    pub utterances: usize,
    /// GMV from orders.
    pub gmv: Gmv,
    /// Total entries (flow metric `entries`), if present.
    pub entries: Option<f64>,
    /// Peak of the gauge `online_viewers`, if present.
    pub peak_viewers: Option<f64>,
    /// GPM = 1000 × gross GMV / entries, if entries are known and positive.
    pub gpm: Option<f64>,
    /// Top products by gross GMV: (product id, name, gross).
    pub top_products: Vec<(String, String, f64)>,
    /// Platform GMV cross-check, when a `gmv` series exists.
    pub gmv_check: Option<GmvCheck>,
}

impl SessionData {
    /// Frees the records of the large tables (comments, orders, utterances,
    /// metric samples) on vap's threads, leaving them empty: a 12-hour
    /// session holds millions of strings, and freeing them one by one on the
    /// calling thread is a fifth of a load's time. The bindings call it when
    /// a session object is dropped; a small session is freed as usual.
    ///
    /// ```
    /// use vap_core::sim::{simulate, SimConfig};
    /// let mut data = simulate(&SimConfig { hours: 0.1, ..Default::default() }).unwrap().data;
    /// data.free_large_tables();
    /// assert!(data.comments.is_empty() && data.orders.is_empty());
    /// ```
    pub fn free_large_tables(&mut self) {
        let comments = std::mem::take(&mut self.comments);
        let orders = std::mem::take(&mut self.orders);
        let utterances = std::mem::take(&mut self.utterances);
        let samples = std::mem::take(&mut self.samples);
        if comments.len() + orders.len() + utterances.len() + samples.len() < 1 << 16 {
            return;
        }
        use rayon::prelude::*;
        const RUN: usize = 1 << 14;
        crate::threads::install(|| {
            rayon::join(
                || comments.into_par_iter().with_min_len(RUN).for_each(drop),
                || {
                    orders.into_par_iter().with_min_len(RUN).for_each(drop);
                    utterances.into_par_iter().with_min_len(RUN).for_each(drop);
                    samples.into_par_iter().with_min_len(RUN).for_each(drop);
                },
            )
        });
    }

    /// An empty session of a room.
    pub fn new(room: Room, session: Session) -> Self {
        SessionData {
            room,
            session,
            metrics: Vec::new(),
            anchors: Vec::new(),
            shifts: Vec::new(),
            products: Vec::new(),
            segments: Vec::new(),
            promotions: Vec::new(),
            comments: Vec::new(),
            orders: Vec::new(),
            utterances: Vec::new(),
            samples: Vec::new(),
        }
    }

    /// The session without its rows: room, session, declared metrics,
    /// anchors and products (what a live session starts from,
    /// [`crate::live::LiveSession::new`]).
    pub fn header(&self) -> SessionData {
        SessionData {
            metrics: self.metrics.clone(),
            anchors: self.anchors.clone(),
            products: self.products.clone(),
            ..SessionData::new(self.room.clone(), self.session.clone())
        }
    }

    /// Canonical GMV from orders: gross = paid, net = paid - refunds.
    pub fn gmv(&self) -> Gmv {
        let mut g = Gmv {
            gross: 0.0,
            refunds: 0.0,
            net: 0.0,
            paid_orders: 0,
            refund_orders: 0,
        };
        for o in &self.orders {
            match o.status {
                OrderStatus::Paid => {
                    g.gross += o.amount;
                    g.paid_orders += 1;
                }
                OrderStatus::Refunded => {
                    g.refunds += o.amount;
                    g.refund_orders += 1;
                }
            }
        }
        g.net = g.gross - g.refunds;
        g
    }

    /// Samples of one metric, in time order.
    pub fn series<'a>(&'a self, metric: &'a str) -> impl Iterator<Item = &'a MetricSample> + 'a {
        self.samples.iter().filter(move |s| s.metric == metric)
    }

    /// Declaration of a metric, if any.
    pub fn metric(&self, name: &str) -> Option<&MetricDecl> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// Compares a platform-reported `gmv` flow series with gross GMV from
    /// orders inside the session. `None` when the session has no `gmv` series.
    pub fn cross_check_gmv(&self) -> Option<GmvCheck> {
        self.metric("gmv")?;
        let platform: f64 = self.series("gmv").map(|s| s.value).sum();
        let orders_gross: f64 = self
            .orders
            .iter()
            .filter(|o| {
                o.status == OrderStatus::Paid
                    && o.ts_ms >= self.session.start_ms
                    && o.ts_ms < self.session.end_ms
            })
            .map(|o| o.amount)
            .sum();
        let difference = platform - orders_gross;
        Some(GmvCheck {
            platform,
            orders_gross,
            difference,
            relative: difference.abs() / orders_gross.max(1.0),
        })
    }

    /// Commenters derived from the comments: id, count and first comment time.
    pub fn commenters(&self) -> Vec<Commenter> {
        // Hash first, sort the distinct ids once: a tree keyed by the ids
        // compares strings on every insert (seconds for millions of comments).
        let mut map: rustc_hash::FxHashMap<&str, (u64, Ms)> =
            rustc_hash::FxHashMap::with_capacity_and_hasher(
                self.comments.len() / 2,
                Default::default(),
            );
        for c in &self.comments {
            let e = map.entry(c.viewer_id.as_str()).or_insert((0, c.ts_ms));
            e.0 += 1;
            e.1 = e.1.min(c.ts_ms);
        }
        let mut v: Vec<(&str, (u64, Ms))> = map.into_iter().collect();
        v.sort_unstable_by(|a, b| a.0.cmp(b.0));
        v.into_iter()
            .map(|(id, (comments, first_ms))| Commenter {
                id: id.to_string(),
                comments,
                first_ms,
            })
            .collect()
    }

    /// A compact summary of the session (what the demo prints).
    pub fn summary(&self) -> SessionSummary {
        let gmv = self.gmv();
        let entries = self
            .metric("entries")
            .map(|_| self.series("entries").map(|s| s.value).sum::<f64>());
        let peak_viewers = self.metric("online_viewers").and_then(|_| {
            self.series("online_viewers")
                .map(|s| s.value)
                .reduce(f64::max)
        });
        let gpm = entries.filter(|e| *e > 0.0).map(|e| 1000.0 * gmv.gross / e);
        let mut by_product: std::collections::HashMap<&str, f64> = Default::default();
        for o in self.orders.iter().filter(|o| o.status == OrderStatus::Paid) {
            *by_product.entry(o.product_id.as_str()).or_default() += o.amount;
        }
        let mut top: Vec<(String, String, f64)> = by_product
            .into_iter()
            .map(|(id, v)| {
                let name = self
                    .products
                    .iter()
                    .find(|p| p.id == id)
                    .map(|p| p.name.clone())
                    .unwrap_or_default();
                (id.to_string(), name, v)
            })
            .collect();
        top.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        top.truncate(5);
        SessionSummary {
            room_id: self.room.id.clone(),
            session_id: self.session.id.clone(),
            hours: self.session.duration_ms() as f64 / 3_600_000.0,
            anchors: self.anchors.len(),
            products: self.products.len(),
            explains: self
                .segments
                .iter()
                .filter(|s| s.kind == SegmentKind::Explain)
                .count(),
            promotions: self.promotions.len(),
            comments: self.comments.len(),
            commenters: self.commenters().len(),
            utterances: self.utterances.len(),
            gmv,
            entries,
            peak_viewers,
            gpm,
            top_products: top,
            gmv_check: self.cross_check_gmv(),
        }
    }
}

impl VideoRef {
    /// The session-clock span `[offset, offset + duration)` the recording
    /// covers, when its duration is known.
    pub fn span(&self) -> Option<(Ms, Ms)> {
        self.duration_ms
            .map(|d| (self.offset_ms, self.offset_ms + d))
    }
}

/// Earliest time vap accepts (2000-01-01 UTC): catches seconds read as ms.
pub const MIN_TIME_MS: Ms = 946_684_800_000;
/// Latest time vap accepts (2100-01-01 UTC).
pub const MAX_TIME_MS: Ms = 4_102_444_800_000;
/// Longest session vap accepts (7 days).
pub const MAX_SESSION_MS: Ms = 7 * 86_400_000;

impl SessionData {
    /// Sorts every table by time, ties broken by the remaining fields, so that the
    /// result does not depend on the input order. Returns the names of tables that
    /// were not sorted already.
    pub fn sort_tables(&mut self) -> Vec<String> {
        let d = self;
        let mut sorted = Vec::new();
        sort_with(&mut d.anchors, "anchors", &mut sorted, |a, b| {
            a.id.cmp(&b.id)
        });
        sort_with(&mut d.products, "products", &mut sorted, |a, b| {
            a.id.cmp(&b.id)
        });
        sort_with(&mut d.shifts, "shifts", &mut sorted, |a, b| {
            (a.start_ms, a.end_ms, &a.anchor_id, a.role as u8).cmp(&(
                b.start_ms,
                b.end_ms,
                &b.anchor_id,
                b.role as u8,
            ))
        });
        sort_with(&mut d.segments, "segments", &mut sorted, |a, b| {
            (a.start_ms, a.end_ms, &a.product_id, a.kind as u8).cmp(&(
                b.start_ms,
                b.end_ms,
                &b.product_id,
                b.kind as u8,
            ))
        });
        sort_with(&mut d.promotions, "promotions", &mut sorted, |a, b| {
            (a.start_ms, a.end_ms, &a.id).cmp(&(b.start_ms, b.end_ms, &b.id))
        });
        sort_with(&mut d.comments, "comments", &mut sorted, |a, b| {
            (a.ts_ms, &a.viewer_id, &a.text).cmp(&(b.ts_ms, &b.viewer_id, &b.text))
        });
        sort_with(&mut d.orders, "orders", &mut sorted, |a, b| {
            (a.ts_ms, &a.id, a.status as u8).cmp(&(b.ts_ms, &b.id, b.status as u8))
        });
        sort_with(&mut d.utterances, "utterances", &mut sorted, |a, b| {
            (a.start_ms, a.end_ms, &a.text, &a.speaker)
                .cmp(&(b.start_ms, b.end_ms, &b.text, &b.speaker))
                .then(
                    a.confidence
                        .unwrap_or(-1.0)
                        .total_cmp(&b.confidence.unwrap_or(-1.0)),
                )
        });
        sort_with(&mut d.samples, "metrics", &mut sorted, |a, b| {
            (&a.metric, a.ts_ms)
                .cmp(&(&b.metric, b.ts_ms))
                .then(a.value.total_cmp(&b.value))
        });
        sorted
    }
}

fn sort_with<T: Send + Sync>(
    v: &mut [T],
    name: &str,
    sorted: &mut Vec<String>,
    cmp: impl Fn(&T, &T) -> std::cmp::Ordering + Sync,
) {
    // A large table (a room's comments) is checked, and sorted if need be,
    // on every thread: the sort is stable, so the order is the same on any
    // number of threads.
    if v.len() >= 1 << 16 {
        use rayon::prelude::*;
        crate::threads::install(|| {
            if !v.par_windows(2).all(|w| cmp(&w[0], &w[1]).is_le()) {
                v.par_sort_by(|a, b| cmp(a, b));
                sorted.push(name.to_string());
            }
        });
    } else if !v.windows(2).all(|w| cmp(&w[0], &w[1]).is_le()) {
        v.sort_by(|a, b| cmp(a, b));
        sorted.push(name.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_types_are_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<SessionData>();
        check::<SessionSummary>();
    }

    #[test]
    fn enums_serialise_snake_case() {
        assert_eq!(
            serde_json::to_string(&PromotionKind::FlashSale).unwrap(),
            "\"flash_sale\""
        );
        assert_eq!(
            serde_json::to_string(&ShiftRole::FieldControl).unwrap(),
            "\"field_control\""
        );
    }

    #[test]
    fn gmv_gross_and_net() {
        let mut d = SessionData::new(
            Room {
                id: "r".into(),
                name: "r".into(),
                platform: None,
            },
            Session {
                id: "s".into(),
                room_id: "r".into(),
                start_ms: 0,
                end_ms: 1000,
                timezone: "UTC".into(),
                title: None,
                recordings: vec![],
                facts: Default::default(),
                gaps: vec![],
                plan: None,
            },
        );
        for (i, (amt, st)) in [
            (10.0, OrderStatus::Paid),
            (5.0, OrderStatus::Paid),
            (5.0, OrderStatus::Refunded),
        ]
        .into_iter()
        .enumerate()
        {
            d.orders.push(Order {
                id: format!("o{}", i.min(1)),
                ts_ms: i as i64,
                product_id: "p".into(),
                quantity: 1,
                amount: amt,
                status: st,
                viewer_id: None,
            });
        }
        let g = d.gmv();
        assert_eq!((g.gross, g.refunds, g.net), (15.0, 5.0, 10.0));
        assert_eq!((g.paid_orders, g.refund_orders), (2, 1));
        assert!(d.cross_check_gmv().is_none());
    }
}
