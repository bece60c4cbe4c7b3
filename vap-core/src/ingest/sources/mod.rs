//! Importers for what live rooms actually export and capture, read as the
//! platforms and the common capture tools write them.
//!
//! | format | what | becomes |
//! |---|---|---|
//! | [`SourceFormat::CompassSessions`] | Douyin E-commerce Compass (抖音电商罗盘) session list, XLSX or CSV (GB18030 or UTF-8) | per-session facts ([`SessionFacts`]; [`crate::schema::Session::facts`]) |
//! | [`SourceFormat::CompassTrend`] | the live dashboard's per-minute trend JSON (`data.trends[]` of `{point_name, horizontal, vertical}`) | metric series (gauges, flows; rates are recomputed, never averaged) |
//! | [`SourceFormat::CompassOrders`] | the dashboard's `live_order_stream` | paid orders (placed-but-unpaid ones and repeats of polled items dropped and counted) |
//! | [`SourceFormat::CompassTraffic`] | traffic sources per session (`flowChannel` × `channelName`) | facts `traffic.<flowChannel>.<channelName>.<audience\|orders\|gmv>` |
//! | [`SourceFormat::DouyinCapture`] | JSON Lines of a Douyin live capture tool (`{"method": "WebcastChatMessage", …}`) | comments, entries, likes, follows, shares, gifts, online viewers, explain segments, the end |
//! | [`SourceFormat::TiktokCapture`] | JSON Lines of TikTokLive (`{"type": "CommentEvent", "data": {…}}`) | comments, questions (as comments), entries, likes, follows, shares, gifts, online viewers |
//! | [`SourceFormat::TiktokShopSession`] | TikTok Shop LIVE per-session performance (JSON, or one session's row of the CSV / XLSX download) | facts |
//! | [`SourceFormat::TiktokShopMinutes`] | TikTok Shop LIVE per-minute performance (either shape) | metric series |
//!
//! Values are read as exports write them: "1,234.5", "12.3%" (0.123),
//! "1.2万" (12,000), "-" for missing, times as `YYYY/MM/DD HH:MM:SS` or
//! `2026年11月25日 20:00` in the session's time zone (default Asia/Shanghai),
//! Unix seconds or milliseconds, ISO 8601, Excel serial dates. JSON keys are
//! matched without regard to case or underscores (`viewer_count` =
//! `viewerCount`), and 64-bit integers written as strings are read.
//!
//! [`read_sources`] reads one or more files of one session (each format
//! detected from its content, [`detect_format`], unless given), merges them
//! on one clock and returns a validated [`SessionData`] with a
//! [`SourceReport`]: every field mapped, kept as a fact, or ignored (and
//! why), every row dropped with its reason, duplicates, capture gaps (also
//! kept in [`crate::schema::Session::gaps`], so that a reconnect reads as
//! missing data, not as quiet minutes), and cross-checks of the platform's
//! totals against what the orders and the per-minute series sum to. A file
//! that cannot be read at all is an error naming the file, row and field, with
//! every problem found.
//!
//! ```
//! use vap_core::ingest::sources::{read_sources, SourceFile, SourceOptions};
//! let dir = tempfile::tempdir().unwrap();
//! let log = dir.path().join("room.jsonl");
//! std::fs::write(&log, concat!(
//!     r#"{"method":"WebcastChatMessage","common":{"msgId":"1","roomId":"73","createTime":"1764072000000"},"user":{"id":"9","nickName":"小明"},"content":"这个多少钱"}"#, "\n",
//!     r#"{"method":"WebcastChatMessage","common":{"msgId":"1","roomId":"73","createTime":"1764072000000"},"user":{"id":"9","nickName":"小明"},"content":"这个多少钱"}"#, "\n",
//!     r#"{"method":"WebcastRoomUserSeqMessage","common":{"msgId":"2","createTime":"1764072005000"},"total":"1,204"}"#, "\n",
//!     r#"{"method":"WebcastControlMessage","common":{"msgId":"3","createTime":"1764072060000"},"status":3}"#, "\n",
//! )).unwrap();
//! let (data, report) = read_sources(&[SourceFile::new(&log)], &SourceOptions::default()).unwrap();
//! assert_eq!(data.comments.len(), 1);
//! assert_eq!(report.duplicates, 1);
//! assert_eq!(data.session.room_id, "73");
//! assert_eq!(data.session.end_ms, 1_764_072_060_000);
//! ```

mod build;
pub(crate) mod capture;
mod compass;
mod json;
mod offsets;
mod tiktok_shop;
mod value;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, VapError};
use crate::schema::{DataGap, Fact, Ms, SessionData};

pub use compass::SessionFacts;
/// Spreadsheet and JSON readers the run-sheet import ([`crate::plan`]) shares.
pub(crate) use compass::{table as read_cells, Cell};
pub(crate) use json::parse as parse_json;
pub use offsets::SourceOffset;
pub(crate) use value::{excel_serial, instant, is_missing};

/// What a source file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    /// Compass session list (XLSX or CSV).
    CompassSessions,
    /// Compass live dashboard per-minute trend (JSON).
    CompassTrend,
    /// Compass live dashboard order stream (JSON).
    CompassOrders,
    /// Compass traffic sources of a session (JSON).
    CompassTraffic,
    /// Douyin live capture log (JSON Lines, `method` per line).
    DouyinCapture,
    /// TikTokLive capture log (JSON Lines, `type` and `data` per line).
    TiktokCapture,
    /// TikTok Shop LIVE per-session performance (JSON).
    TiktokShopSession,
    /// TikTok Shop LIVE per-minute performance (JSON).
    TiktokShopMinutes,
}

impl SourceFormat {
    /// The name as options and reports write it ("douyin_capture").
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::CompassSessions => "compass_sessions",
            SourceFormat::CompassTrend => "compass_trend",
            SourceFormat::CompassOrders => "compass_orders",
            SourceFormat::CompassTraffic => "compass_traffic",
            SourceFormat::DouyinCapture => "douyin_capture",
            SourceFormat::TiktokCapture => "tiktok_capture",
            SourceFormat::TiktokShopSession => "tiktok_shop_session",
            SourceFormat::TiktokShopMinutes => "tiktok_shop_minutes",
        }
    }

    /// Every format.
    pub const ALL: [SourceFormat; 8] = [
        SourceFormat::CompassSessions,
        SourceFormat::CompassTrend,
        SourceFormat::CompassOrders,
        SourceFormat::CompassTraffic,
        SourceFormat::DouyinCapture,
        SourceFormat::TiktokCapture,
        SourceFormat::TiktokShopSession,
        SourceFormat::TiktokShopMinutes,
    ];

    /// Parses a name ("douyin_capture").
    pub fn parse(s: &str) -> Option<SourceFormat> {
        SourceFormat::ALL.into_iter().find(|f| f.name() == s)
    }

    /// Parses a name, an unknown one an `InvalidArgument` listing the names.
    pub fn from_name(s: &str) -> Result<SourceFormat> {
        SourceFormat::parse(s).ok_or_else(|| {
            VapError::InvalidArgument(format!(
                "unknown source format '{s}' (one of: {})",
                SourceFormat::ALL.map(|f| f.name()).join(", ")
            ))
        })
    }

    fn platform(self) -> &'static str {
        match self {
            SourceFormat::TiktokCapture
            | SourceFormat::TiktokShopSession
            | SourceFormat::TiktokShopMinutes => "tiktok",
            _ => "douyin",
        }
    }
}

/// One file to read, with its format when known (detected otherwise).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFile {
    /// The file.
    pub path: PathBuf,
    /// Its format; `None`: detected from the content.
    pub format: Option<SourceFormat>,
}

impl SourceFile {
    /// A file and, when given, its format by name ("compass_trend").
    pub fn named(path: impl AsRef<Path>, format: Option<&str>) -> Result<Self> {
        Ok(SourceFile {
            path: path.as_ref().to_path_buf(),
            format: format.map(SourceFormat::from_name).transpose()?,
        })
    }

    /// A file whose format is detected.
    pub fn new(path: impl AsRef<Path>) -> Self {
        SourceFile {
            path: path.as_ref().to_path_buf(),
            format: None,
        }
    }

    /// A file of a given format.
    pub fn of(path: impl AsRef<Path>, format: SourceFormat) -> Self {
        SourceFile {
            path: path.as_ref().to_path_buf(),
            format: Some(format),
        }
    }
}

/// Options of the importers (the option set `sources`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceOptions {
    /// Room id; default: the capture log's room id, else "room".
    pub room_id: Option<String>,
    /// Room name; default: the room id.
    pub room_name: Option<String>,
    /// Session id; default: the session's local start, "2026-11-25-2000".
    pub session_id: Option<String>,
    /// Time zone of local times in the files and of the session (default
    /// "Asia/Shanghai", Compass's; TikTok exports carry UTC or Unix times).
    pub timezone: String,
    /// Session start (ms UTC, or ISO 8601; without an offset, UTC); default:
    /// the matching session-list row, else the earliest data.
    #[serde(alias = "start", with = "crate::options::opt_instant")]
    pub start_ms: Option<Ms>,
    /// Session end; default: the session-list row, the capture's end message,
    /// else just after the last data.
    #[serde(alias = "end", with = "crate::options::opt_instant")]
    pub end_ms: Option<Ms>,
    /// A capture log without any message for this long has a gap (a
    /// reconnect), reported and kept with the session (default 60 s: a room's
    /// viewer-count messages come every few seconds).
    #[serde(alias = "capture_gap", with = "crate::options::duration")]
    pub capture_gap_ms: Ms,
    /// Cross-checks of the platform's totals against the orders and the
    /// per-minute series warn above this relative difference (default 0.02).
    pub check_tolerance: f64,
    /// Largest clock offset between two sources searched, either way
    /// (default 2 min).
    #[serde(alias = "max_offset", with = "crate::options::duration")]
    pub max_offset_ms: Ms,
    /// Move each source whose clock offset against the platform's data is
    /// determined onto the platform's clock (default false: offsets are
    /// estimated and reported, the files' times kept).
    pub apply_offsets: bool,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            room_id: None,
            room_name: None,
            session_id: None,
            timezone: "Asia/Shanghai".into(),
            start_ms: None,
            end_ms: None,
            capture_gap_ms: 60_000,
            check_tolerance: 0.02,
            max_offset_ms: 120_000,
            apply_offsets: false,
        }
    }
}

impl crate::options::Options for SourceOptions {
    const WHAT: &'static str = "source options";

    fn check(&self) -> Result<()> {
        let mut bad = Vec::new();
        if let Err(e) = value::zone(&self.timezone) {
            bad.push(format!("option 'timezone': {e}"));
        }
        if self.capture_gap_ms <= 0 {
            bad.push("option 'capture_gap' must be positive".into());
        }
        if !(5_000..=3_600_000).contains(&self.max_offset_ms) {
            bad.push("option 'max_offset' must be between 5 s and 1 h".into());
        }
        if !(self.check_tolerance.is_finite() && self.check_tolerance >= 0.0) {
            bad.push("option 'check_tolerance' must be a number >= 0".into());
        }
        if let (Some(a), Some(b)) = (self.start_ms, self.end_ms) {
            if b <= a {
                bad.push("option 'end' must be after 'start'".into());
            }
        }
        for (k, v) in [("room_id", &self.room_id), ("session_id", &self.session_id)] {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                bad.push(format!("option '{k}' must not be empty"));
            }
        }
        if bad.is_empty() {
            Ok(())
        } else {
            Err(VapError::InvalidArgument(format!(
                "{}: {}",
                Self::WHAT,
                bad.join("; ")
            )))
        }
    }
}

/// What became of a source field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldUse {
    /// Mapped onto vap's schema (`target` says where).
    Mapped,
    /// Kept as it was, as a session fact under its own name.
    Kept,
    /// Not imported (`note` says why).
    Ignored,
}

/// One field (column, JSON index, message type) of a source and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldReport {
    /// The file.
    pub file: String,
    /// The field as the source names it ("直播间成交金额", "online_user_cnt",
    /// "WebcastChatMessage").
    pub field: String,
    /// Mapped, kept or ignored.
    pub used: FieldUse,
    /// Where it went ("metric:online_viewers (gauge)", "comments", "fact:gmv").
    pub target: String,
    /// How many values or messages.
    pub count: usize,
    /// Why, for an ignored field; how, where it matters.
    pub note: String,
}

/// A row (line, list item) that was not imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DroppedRow {
    /// The file.
    pub file: String,
    /// 1-based row (line of a JSON Lines file, item of a JSON list, data row of a table).
    pub row: usize,
    /// Why.
    pub reason: String,
}

/// A platform total checked against what the imported rows sum to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceCheck {
    /// What is compared ("gmv: session list vs paid orders").
    pub what: String,
    /// The platform's figure.
    pub reported: f64,
    /// What the imported data sum to.
    pub summed: f64,
    /// `|reported − summed| / max(|reported|, 1)`.
    pub relative: f64,
    /// Whether the two agree within `check_tolerance`.
    pub agrees: bool,
}

/// What an import did, for a person to read before trusting the session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceReport {
    /// Each file with its detected format, in the order read.
    pub files: Vec<(String, SourceFormat)>,
    /// Every field of every source: mapped, kept or ignored.
    pub fields: Vec<FieldReport>,
    /// Rows not imported, each with its reason.
    pub dropped: Vec<DroppedRow>,
    /// Repeated records dropped (the same message id or order seen twice).
    pub duplicates: usize,
    /// Spans where a capture had no data (also in the session's `gaps`).
    pub gaps: Vec<DataGap>,
    /// The platform's totals against the imported rows.
    pub checks: Vec<SourceCheck>,
    /// Anything else worth knowing (renamed series, estimated amounts).
    pub notes: Vec<String>,
    /// Each source's clock against the platform's data where both give a
    /// stream (estimated always, applied only with `apply_offsets`).
    #[serde(default)]
    pub offsets: Vec<SourceOffset>,
}

impl SourceReport {
    /// The report as lines a person reads (`vap import` prints them).
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (f, fmt) in &self.files {
            out.push(format!("{f}: {}", fmt.name()));
        }
        let count = |u: FieldUse| self.fields.iter().filter(|f| f.used == u).count();
        out.push(format!(
            "fields: {} mapped, {} kept as facts, {} ignored",
            count(FieldUse::Mapped),
            count(FieldUse::Kept),
            count(FieldUse::Ignored)
        ));
        for f in self.fields.iter().filter(|f| f.used == FieldUse::Ignored) {
            out.push(format!("  ignored {} ({}×): {}", f.field, f.count, f.note));
        }
        if !self.dropped.is_empty() || self.duplicates > 0 {
            out.push(format!(
                "rows: {} dropped, {} duplicates",
                self.dropped.len(),
                self.duplicates
            ));
        }
        for g in &self.gaps {
            out.push(format!(
                "gap: {} ({} s)",
                g.reason,
                (g.end_ms - g.start_ms) / 1000
            ));
        }
        for c in &self.checks {
            out.push(format!(
                "check {}: reported {:.2}, summed {:.2} ({})",
                c.what,
                c.reported,
                c.summed,
                if c.agrees { "agrees" } else { "DIFFERS" }
            ));
        }
        out.extend(self.notes.iter().cloned());
        out
    }
}

/// Detects a file's format from its extension and content.
pub fn detect_format(path: impl AsRef<Path>) -> Result<SourceFormat> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| VapError::io(path, e))?;
    detect_bytes(path, &bytes)
}

fn detect_bytes(path: &Path, bytes: &[u8]) -> Result<SourceFormat> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let tiktok_header = |rows: &[Vec<compass::Cell>]| {
        rows.iter().take(20).any(|r| {
            let keys: Vec<String> = r
                .iter()
                .map(|c| c.display().to_lowercase().replace([' ', '_', '.'], ""))
                .collect();
            keys.iter().any(|k| k == "gmv")
                && keys
                    .iter()
                    .any(|k| k == "skuorders" || k == "pcu" || k == "acu")
        })
    };
    if matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "xlsb" | "ods")
        || bytes.starts_with(b"PK\x03\x04")
    {
        if let Ok(rows) = compass::table(path, bytes) {
            let compass = rows
                .iter()
                .take(20)
                .any(|r| r.iter().any(|c| c.display().trim() == "直播开始时间"));
            if !compass && tiktok_header(&rows) {
                return Ok(SourceFormat::TiktokShopSession);
            }
        }
        return Ok(SourceFormat::CompassSessions);
    }
    let text = crate::text::decode(bytes)
        .map_err(|e| VapError::format(path, e))?
        .0;
    let text = text.trim_start_matches('\u{feff}');
    let head: String = text.chars().take(4096).collect();
    if head.contains("直播开始时间") {
        return Ok(SourceFormat::CompassSessions);
    }
    if !head.trim_start().starts_with(['{', '[']) {
        if let Ok(rows) = compass::table(path, head.as_bytes()) {
            if tiktok_header(&rows) {
                return Ok(SourceFormat::TiktokShopSession);
            }
        }
    }
    // JSON Lines: the first line that parses as an object.
    for line in text.lines().take(200) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line.trim()) else {
            continue;
        };
        if v.get("method")
            .and_then(|m| m.as_str())
            .is_some_and(|m| m.starts_with("Webcast"))
        {
            return Ok(SourceFormat::DouyinCapture);
        }
        if v.get("type")
            .and_then(|m| m.as_str())
            .is_some_and(|m| m.ends_with("Event"))
        {
            return Ok(SourceFormat::TiktokCapture);
        }
        if v.is_object()
            && text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .nth(1)
                .is_some()
        {
            break;
        }
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        let orders = |o: &serde_json::Map<String, serde_json::Value>| {
            json::get(o, "order_id").is_some() && json::get(o, "order_status").is_some()
        };
        if json::find_key(&v, "live_order_stream").is_some() || json::any_object(&v, &orders) {
            return Ok(SourceFormat::CompassOrders);
        }
        if json::find_key(&v, "flowChannel").is_some() {
            return Ok(SourceFormat::CompassTraffic);
        }
        if json::any_object(&v, &|o| {
            json::get(o, "horizontal").is_some() && json::get(o, "vertical").is_some()
        }) {
            return Ok(SourceFormat::CompassTrend);
        }
        if json::any_object(&v, &|o| {
            json::get(o, "timestamp").is_some() && json::get(o, "gmv").is_some()
        }) {
            return Ok(SourceFormat::TiktokShopMinutes);
        }
        if json::any_object(&v, &|o| {
            json::get(o, "gmv").is_some()
                && (json::get(o, "pcu").is_some() || json::get(o, "sku_orders").is_some())
        }) {
            return Ok(SourceFormat::TiktokShopSession);
        }
    }
    Err(VapError::format(
        path,
        format!(
            "not a format vap imports (one of: {}); give the format explicitly if it is one of them",
            SourceFormat::ALL.map(|f| f.name()).join(", ")
        ),
    ))
}

/// Reads one session from one or more source files (see the module docs).
pub fn read_sources(
    files: &[SourceFile],
    opts: &SourceOptions,
) -> Result<(SessionData, SourceReport)> {
    use crate::options::Options;
    opts.check()?;
    if files.is_empty() {
        return Err(VapError::InvalidArgument("no source files given".into()));
    }
    let mut loaded = Vec::with_capacity(files.len());
    for f in files {
        let bytes = std::fs::read(&f.path).map_err(|e| VapError::io(&f.path, e))?;
        let format = match f.format {
            Some(fmt) => fmt,
            None => detect_bytes(&f.path, &bytes)?,
        };
        loaded.push((f.path.display().to_string(), bytes, format));
    }
    read_loaded(loaded, opts)
}

/// [`read_sources`] on files already read: (name, bytes, format).
pub(crate) fn read_loaded(
    mut loaded: Vec<(String, Vec<u8>, SourceFormat)>,
    opts: &SourceOptions,
) -> Result<(SessionData, SourceReport)> {
    let tz = value::zone(&opts.timezone).map_err(VapError::InvalidArgument)?;
    let mut b = build::Builder::new(tz);
    let mut problems = Vec::new();
    let mut session_lists = Vec::new();
    // Capture logs first: a series two sources give (online viewers, entries)
    // keeps vap's name from the finer-grained one, the other's gets a suffix.
    loaded.sort_by_key(|(_, _, fmt)| {
        !matches!(
            fmt,
            SourceFormat::DouyinCapture | SourceFormat::TiktokCapture
        )
    });
    // Progress and stopping: one step a file (`crate::job`).
    let job = crate::job::Job::current();
    job.check()?;
    let total = loaded.len();
    for (k, (name, bytes, format)) in loaded.into_iter().enumerate() {
        b.report.files.push((name.clone(), format));
        b.platform.get_or_insert(format.platform());
        let read = match format {
            SourceFormat::CompassSessions => {
                match compass::read_sessions(Path::new(&name), &bytes, tz, &mut b.report) {
                    Ok(rows) => {
                        session_lists.push((name.clone(), rows));
                        Ok(())
                    }
                    Err(p) => Err(p),
                }
            }
            SourceFormat::CompassTrend => compass::read_trend(&name, &bytes, &mut b),
            SourceFormat::CompassOrders => compass::read_orders(&name, &bytes, &mut b),
            SourceFormat::CompassTraffic => compass::read_traffic(&name, &bytes, &mut b),
            SourceFormat::DouyinCapture => capture::read_douyin(&name, &bytes, opts, &mut b),
            SourceFormat::TiktokCapture => capture::read_tiktok(&name, &bytes, opts, &mut b),
            SourceFormat::TiktokShopSession => tiktok_shop::read_session(&name, &bytes, &mut b),
            SourceFormat::TiktokShopMinutes => tiktok_shop::read_minutes(&name, &bytes, &mut b),
        };
        if let Err(p) = read {
            problems.extend(p);
        }
        job.step("files", k + 1, total)?;
    }
    if !problems.is_empty() {
        return Err(VapError::Validation(problems));
    }
    for (name, rows) in session_lists {
        b.match_session_row(&name, rows, opts)?;
    }
    b.finish(opts)
}

/// The importers' families and their files' roles: a role's format is
/// `<family>_<role>` (`compass` + `trend` → [`SourceFormat::CompassTrend`]).
pub const FAMILIES: &[(&str, &[&str])] = &[
    ("compass", &["trend", "orders", "sessions", "traffic"]),
    ("tiktok_shop", &["minutes", "session"]),
];

/// Reads one session from a family's files by role: `compass` (`trend`,
/// `orders`, `sessions`, `traffic`) or `tiktok_shop` (`minutes`,
/// `session`); an unknown family or role is an `InvalidArgument` naming the
/// known ones.
pub fn read_family(
    family: &str,
    files: &[(String, PathBuf)],
    opts: &SourceOptions,
) -> Result<(SessionData, SourceReport)> {
    let Some((_, roles)) = FAMILIES.iter().find(|(f, _)| *f == family) else {
        return Err(VapError::InvalidArgument(format!(
            "unknown importer family '{family}' (one of: {})",
            FAMILIES.iter().map(|f| f.0).collect::<Vec<_>>().join(", ")
        )));
    };
    let mut out = Vec::with_capacity(files.len());
    for (role, path) in files {
        if !roles.contains(&role.as_str()) {
            return Err(VapError::InvalidArgument(format!(
                "{family}: unknown file role '{role}' (one of: {})",
                roles.join(", ")
            )));
        }
        out.push(SourceFile::of(
            path,
            SourceFormat::from_name(&format!("{family}_{role}"))?,
        ));
    }
    read_sources(&out, opts)
}

/// Reads one session from a live capture log (Douyin or TikTokLive JSON
/// Lines, detected); any other file is a format error saying what it is.
pub fn read_capture_log(
    path: impl AsRef<Path>,
    opts: &SourceOptions,
) -> Result<(SessionData, SourceReport)> {
    let path = path.as_ref();
    let format = detect_format(path)?;
    if !matches!(
        format,
        SourceFormat::DouyinCapture | SourceFormat::TiktokCapture
    ) {
        return Err(VapError::format(
            path,
            format!(
                "not a capture log: it reads as {} (use read_sources for it)",
                format.name()
            ),
        ));
    }
    read_sources(&[SourceFile::of(path, format)], opts)
}

/// Reads a Compass session list (XLSX or CSV): one [`SessionFacts`] per
/// session, with the report of what each column became.
pub fn read_compass_sessions(
    path: impl AsRef<Path>,
    opts: &SourceOptions,
) -> Result<(Vec<SessionFacts>, SourceReport)> {
    use crate::options::Options;
    opts.check()?;
    let path = path.as_ref();
    let tz = value::zone(&opts.timezone).map_err(VapError::InvalidArgument)?;
    let bytes = std::fs::read(path).map_err(|e| VapError::io(path, e))?;
    let mut report = SourceReport::default();
    report
        .files
        .push((path.display().to_string(), SourceFormat::CompassSessions));
    let rows =
        compass::read_sessions(path, &bytes, tz, &mut report).map_err(VapError::Validation)?;
    Ok((rows, report))
}

/// Facts by name, for tests and callers.
pub type Facts = BTreeMap<String, Fact>;
