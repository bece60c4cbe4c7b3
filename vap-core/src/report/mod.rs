//! The report people read: a session replay as one self-contained HTML file.
//!
//! [`html`] turns a [`Replay`] into one HTML document: no script, no
//! stylesheet or font fetched from anywhere (the CSS is inlined and the text
//! uses the reader's system fonts), so it opens offline and can be sent by
//! chat. Chinese labels by default ([`Lang::Zh`]), English on request.
//!
//! What it holds, in order:
//! * the data-quality notes, at the top (`#quality`): read them before any
//!   "drop";
//! * the operator's section (`#operator`): the headline figures with their
//!   source and the room-history comparison, the product funnel, the metric
//!   curves with the moments marked and the promotions and explain segments
//!   as bands, the model's session totals with intervals, and every top moment
//!   (`#moment-N`): its split as bars with intervals, where it is in the
//!   recording (a `<video>` seeking to the second when the file sits beside
//!   the report, else the path and position), the product in focus, the
//!   promotions running, and the transcript and comments around it;
//! * the anchor's section (`#anchor`): per anchor the 单小时 figures, the
//!   effect with its interval, the phrases that went with orders; viewers'
//!   questions, backlogs and the unanswered list;
//! * the field controller's section (`#field-control`): promotions and
//!   products (explain segments, GMV per explain minute against the room's
//!   history, contribution with interval).
//!
//! [`moment_clips`] (feature `media`) cuts the top moments out of their
//! recordings with a manifest, to send to the anchor.
//!
//! [`room_html`] / [`write_room_html`] do the same for a room (a
//! [`crate::replay::RoomReplay`]): every stored session's headline against
//! the room's median (`#sessions`), products across sessions (`#products`),
//! anchors with the room model's effect (`#anchors`).
//!
//! Every figure says where it comes from (数据 / 推算 / 模型, raw / derived /
//! model) and shows "—" with the reason where it is missing, never a zero.
//! The markup is well-formed XML as well as HTML (every element closed,
//! attributes quoted, text escaped), so it can be checked by any parser.
//!
//! ```
//! use vap_core::replay::{replay, ReplayOptions};
//! use vap_core::report::{html, ReportOptions};
//! use vap_core::options::Options;
//! use vap_core::sim::{simulate, SimConfig};
//!
//! let room = simulate(&SimConfig { hours: 1.0, ..Default::default() }).unwrap().data;
//! let r = replay(&room, &[], &ReplayOptions::from_json(r#"{"model": {"bootstrap": 20}}"#).unwrap()).unwrap();
//! let page = html(&r, &ReportOptions::default()).unwrap();
//! assert!(page.starts_with("<!DOCTYPE html>"));
//! assert!(page.contains("直播复盘"));
//! let en = html(&r, &ReportOptions::from_json(r#"{"lang": "en"}"#).unwrap()).unwrap();
//! assert!(en.contains("Session replay"));
//! ```

#[cfg(feature = "media")]
mod clips;
mod playbook;
mod room;
mod svg;

#[cfg(feature = "media")]
pub use clips::{moment_clips, ClipEntry, ClipOptions, CLIP_MANIFEST};
pub use playbook::playbook_html;
pub use room::{
    room_html, room_html_with, room_playbook, store_room_html, write_room_html,
    write_store_room_html,
};

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, VapError};
use crate::options::Options;
use crate::replay::{Estimate, Figure, MomentReplay, NoteKind, RecordingPosition, Replay, Source};
use crate::schema::Ms;

/// The language of the report's labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Chinese (the default: the users are Chinese operators).
    #[default]
    Zh,
    /// English.
    En,
}

/// Options of [`html`] and [`write_html`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportOptions {
    /// Labels in Chinese (`"zh"`, default) or English (`"en"`).
    pub lang: Lang,
    /// The curves drawn, by the replay's series names, in order (default
    /// GMV from orders, orders, online viewers, GPM); a name the replay does
    /// not have is an error that lists those it has.
    pub curves: Vec<String>,
    /// Whether the recordings sit beside the report, so that each moment
    /// gets a `<video>` seeking to its second (`file#t=…`). [`write_html`]
    /// also does this for every recording whose file is found beside the
    /// report it writes. Default `false`: the path and position as text.
    pub video_beside: bool,
    /// Transcript lines and comments shown per moment, at most (default 12
    /// each; the replay holds those around each moment).
    pub context_lines: usize,
    /// Unanswered questions listed, at most (default 30).
    pub list_questions: usize,
    /// The report's sections as one `<div class="vap-report">` with its
    /// scoped style, to show inside another page (a notebook's output, a
    /// service's template) instead of a whole document. Default `false`.
    pub fragment: bool,
    /// Each moment's still frame, embedded as a PNG (`data:` URI) when its
    /// recording can be read (vap-core's `media` feature; the file found by
    /// its absolute path, under the replay's `media_dir`, or beside the
    /// report [`write_html`] writes). Default `true`.
    pub stills: bool,
    /// Width of the stills in pixels, at most (default 320).
    pub still_width: u32,
    /// The room report ([`store_room_html`]) ends with the room's playbook
    /// (`crate::plan::store_playbook`, default options) when the room has
    /// enough sessions for one. Default `true`.
    pub playbook: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            lang: Lang::Zh,
            curves: ["order_gmv", "orders", "online_viewers", "gpm"]
                .map(String::from)
                .to_vec(),
            video_beside: false,
            context_lines: 12,
            list_questions: 30,
            fragment: false,
            stills: true,
            still_width: 320,
            playbook: true,
        }
    }
}

impl Options for ReportOptions {
    const WHAT: &'static str = "report options";

    fn check(&self) -> Result<()> {
        let mut p = Vec::new();
        if self.curves.is_empty() {
            p.push("curves must name at least one series".to_string());
        }
        if !(16..=1920).contains(&self.still_width) {
            p.push(format!(
                "still_width {} is outside 16..=1920 pixels",
                self.still_width
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for c in &self.curves {
            if !seen.insert(c) {
                p.push(format!("curves names '{c}' twice"));
            }
        }
        crate::options::all_or_nothing(Self::WHAT, p)
    }
}

/// Text of the report in its language: (Chinese, English).
fn t(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// Escapes text for HTML and XML (content and quoted attributes).
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML text.
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A number with thousands separators and `decimals` decimals.
fn grouped(x: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, x.abs());
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(a, b)| (a, b));
    let mut g = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            g.push(',');
        }
        g.push(ch);
    }
    let sign = if x < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{g}")
    } else {
        format!("{sign}{g}.{frac}")
    }
}

/// A value in its unit, as operators read it.
fn fmt_unit(unit: &str, v: f64) -> String {
    match unit {
        "yuan" => {
            let g = grouped(v, if v.abs() >= 100.0 { 0 } else { 2 });
            match g.strip_prefix('-') {
                Some(pos) => format!("-¥{pos}"),
                None => format!("¥{g}"),
            }
        }
        "ratio" => format!("{}%", grouped(v * 100.0, 1)),
        "count" | "viewers" => grouped(v, 0),
        "minutes" | "hours" | "seconds" => grouped(v, 1),
        _ => grouped(v, if v.abs() >= 100.0 { 0 } else { 2 }),
    }
}

/// The unit of a curve, for its axis.
fn curve_unit(name: &str, unit: &str) -> &'static str {
    match (name, unit) {
        (n, _) if n.contains("gmv") || n == "gpm" || n == "ad_spend" => "yuan",
        ("conversion", _) => "ratio",
        ("online_viewers", _) => "viewers",
        _ => "count",
    }
}

/// Where a figure comes from, as a short tag.
fn source_tag(lang: Lang, s: Source) -> &'static str {
    match s {
        Source::Raw => t(lang, "数据", "raw"),
        Source::Derived => t(lang, "推算", "derived"),
        Source::Model => t(lang, "模型", "model"),
    }
}

/// The names of the replay's series and the moments' parts, as labels.
fn series_label(lang: Lang, name: &str) -> String {
    let zh = match name {
        "order_gmv" => "成交金额 (订单)",
        "orders" => "成交订单数",
        "entries" => "进入直播间人次",
        "online_viewers" => "在线人数",
        "gpm" => "千次观看成交金额 (GPM)",
        "conversion" => "观看-成交率",
        "questions" => "观众提问数",
        "answers" => "回答数",
        "product_clicks" => "商品点击次数",
        "comments" => "评论数",
        "ad_spend" => "投放消耗",
        "baseline" => "基线",
        "traffic" => "流量",
        "unexplained" => "未解释",
        "drift" => "基线漂移",
        _ => "",
    };
    let en = match name {
        "order_gmv" => "GMV (orders)",
        "orders" => "paid orders",
        "entries" => "entries",
        "online_viewers" => "online viewers",
        "gpm" => "GPM",
        "conversion" => "watch-to-order conversion",
        "questions" => "viewer questions",
        "answers" => "answers",
        "product_clicks" => "product clicks",
        "comments" => "comments",
        "ad_spend" => "ad spend",
        _ => "",
    };
    match lang {
        Lang::Zh if !zh.is_empty() => zh.to_string(),
        Lang::En if !en.is_empty() => en.to_string(),
        Lang::Zh => match name.split_once(':') {
            // A factor: its family in Chinese, its name as the model has it.
            Some((family, rest)) => {
                let f = match family {
                    "explain" => "讲解",
                    "promo" => "促销",
                    "speech" => "话术",
                    "host" => "主播",
                    "comments" => "评论",
                    _ => family,
                };
                format!("{f}: {rest}")
            }
            None => name.to_string(),
        },
        Lang::En => name.to_string(),
    }
}

/// Local clock time in the replay's time zone.
struct Clock(chrono_tz::Tz);

impl Clock {
    fn of(r: &Replay) -> Clock {
        Clock(r.timezone.parse().unwrap_or(chrono_tz::UTC))
    }
    fn fmt(&self, ms: Ms, pattern: &str) -> String {
        use chrono::TimeZone as _;
        match self.0.timestamp_millis_opt(ms) {
            chrono::LocalResult::Single(d) | chrono::LocalResult::Ambiguous(d, _) => {
                d.format(pattern).to_string()
            }
            chrono::LocalResult::None => ms.to_string(),
        }
    }
    fn time(&self, ms: Ms) -> String {
        self.fmt(ms, "%H:%M:%S")
    }
}

/// The report's CSS: every rule scoped to `.vap-report`, so that the report
/// shown inside a notebook does not restyle the notebook.
const STYLE: &str = r#"
.vap-report{font-family:-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei","Source Han Sans SC",sans-serif;margin:0 auto;max-width:1000px;padding:0 16px 48px;color:#1d2129;line-height:1.5}
.vap-report header{border-bottom:2px solid #fe2c55;margin-bottom:12px}
.vap-report h1{font-size:1.5em;margin:16px 0 4px}
.vap-report h2{border-left:4px solid #fe2c55;padding-left:8px;margin-top:32px}
.vap-report h3{margin:20px 0 6px}
.vap-report nav a{margin-right:14px;color:#fe2c55;text-decoration:none}
.vap-report table{border-collapse:collapse;width:100%;margin:8px 0;font-size:.92em}
.vap-report th,.vap-report td{border-bottom:1px solid #e5e6eb;padding:4px 6px;text-align:right;vertical-align:top}
.vap-report th:first-child,.vap-report td:first-child{text-align:left}
.vap-report th{background:#f7f8fa;font-weight:600}
.vap-report .tag{font-size:.75em;border-radius:3px;padding:0 4px;background:#f2f3f5;color:#4e5969}
.vap-report .tag.model{background:#e8f3ff;color:#165dff}
.vap-report .tag.derived{background:#fff7e8;color:#d25f00}
.vap-report .missing{color:#86909c}
.vap-report .weak{color:#86909c;font-style:italic}
.vap-report .notes li{margin:2px 0}
.vap-report .gap{color:#cb2634}
.vap-report .chart{width:100%;height:auto;display:block;margin:4px 0 12px}
.vap-report .series{fill:none;stroke:#fe2c55;stroke-width:1.4}
.vap-report .band.promotion{fill:#ffe4ba;opacity:.55}
.vap-report .band.explain{fill:#e8f3ff;opacity:.6}
.vap-report .stack.part-0{fill:#c9cdd4}
.vap-report .stack.part-1{fill:#86909c}
.vap-report .stack.part-2{fill:#165dff}
.vap-report .stack.part-3{fill:#ff7d00}
.vap-report .stack.part-4{fill:#00b42a}
.vap-report .stack.part-5{fill:#722ed1}
.vap-report .stack.part-6{fill:#f5319d}
.vap-report .stack.part-7{fill:#14c9c9}
.vap-report .stack.part-8{fill:#a0522d}
.vap-report .stack.part-9{fill:#fadc19}
.vap-report .stack.part-10{fill:#0e42d2}
.vap-report .stack.part-11{fill:#9fdb1d}
.vap-report .moment-marker{stroke:#165dff;stroke-width:1.2;stroke-dasharray:3 2}
.vap-report .marker-label{font-size:10px;fill:#165dff}
.vap-report .axis{stroke:#c9cdd4}
.vap-report .axis-label,.vap-report .bar-label,.vap-report .bar-value{font-size:11px;fill:#4e5969}
.vap-report .bar{fill:#fe2c55;opacity:.8}
.vap-report .bar.negative{fill:#86909c}
.vap-report .interval{stroke:#1d2129;stroke-width:1.5}
.vap-report article.moment{border:1px solid #e5e6eb;border-radius:6px;padding:8px 12px;margin:12px 0}
.vap-report .context{display:grid;grid-template-columns:1fr 1fr;gap:12px;font-size:.88em}
.vap-report .context ol{padding-left:18px;margin:4px 0}
.vap-report video{width:100%;max-height:360px;background:#000}
.vap-report img.still{display:block;max-width:100%;margin:6px 0;border-radius:4px}
.vap-report footer{margin-top:40px;font-size:.8em;color:#86909c}
"#;

/// The report of `replay` as one self-contained HTML document.
pub fn html(replay: &Replay, opts: &ReportOptions) -> Result<String> {
    opts.check()?;
    let media = Media {
        beside: &|_| opts.video_beside,
        report_dir: None,
    };
    render(replay, opts, &media)
}

/// Writes the report of `replay` to `path`, whole or not at all (a file
/// beside it, synced, then renamed). A moment's recording gets a
/// `<video>` when its file is found in the report's folder (or when
/// `video_beside` is set).
pub fn write_html(replay: &Replay, path: impl AsRef<Path>, opts: &ReportOptions) -> Result<()> {
    opts.check()?;
    let path = path.as_ref();
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let beside = |rec: &str| {
        opts.video_beside
            || Path::new(rec)
                .file_name()
                .is_some_and(|f| dir.join(f).is_file())
    };
    let media = Media {
        beside: &beside,
        report_dir: Some(dir),
    };
    let page = render(replay, opts, &media)?;
    if path.file_name().is_none() {
        return Err(VapError::InvalidArgument(format!(
            "{}: not a file path",
            path.display()
        )));
    }
    // Aside, synced, renamed: the store's own atomic write.
    crate::store::write_atomic(path, page.as_bytes())
}

/// Where the report finds the recordings.
struct Media<'a> {
    /// Whether a recording (by its stored path) sits beside the report.
    beside: &'a dyn Fn(&str) -> bool,
    /// The folder of the report being written, if any.
    #[cfg_attr(not(feature = "media"), allow(dead_code))]
    report_dir: Option<&'a Path>,
}

impl Media<'_> {
    /// The still of a moment as a `data:` URI, when its recording is found
    /// and decodes.
    #[cfg(feature = "media")]
    fn still(&self, r: &Replay, rec: &RecordingPosition, width: u32) -> Option<String> {
        let p = Path::new(&rec.path);
        let mut candidates = vec![];
        if p.is_absolute() {
            candidates.push(p.to_path_buf());
        } else if let Some(d) = &r.media_dir {
            candidates.push(Path::new(d).join(p));
        }
        if let (Some(d), Some(f)) = (self.report_dir, p.file_name()) {
            candidates.push(d.join(f));
        }
        let file = candidates.into_iter().find(|c| c.is_file())?;
        let still = crate::media::still_frame(&file, rec.position_ms, Some(width)).ok()?;
        Some(format!(
            "data:image/png;base64,{}",
            base64(&still.png().ok()?)
        ))
    }

    #[cfg(not(feature = "media"))]
    fn still(&self, _: &Replay, _: &RecordingPosition, _: u32) -> Option<String> {
        None
    }
}

/// Standard base64 with padding.
#[cfg_attr(not(feature = "media"), allow(dead_code))]
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= c.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A file name as a relative URL: every byte outside the unreserved set
/// percent-encoded.
fn url_path(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The page's start: a whole document's head, or a fragment's scoped
/// `<div>`; both with the style.
/// Closes what [`open_page`] opened, with the footer.
fn close_page(s: &mut String, lang: Lang, fragment: bool) {
    let _ = write!(
        s,
        "<footer>{} vap {}</footer></div>{}",
        t(lang, "生成工具", "Made with"),
        env!("CARGO_PKG_VERSION"),
        if fragment { "" } else { "</body></html>\n" }
    );
}

fn open_page(s: &mut String, lang: Lang, title: &str, fragment: bool) {
    if fragment {
        let _ = write!(
            s,
            "<div class=\"vap-report\" lang=\"{}\"><style>{}</style>",
            t(lang, "zh-CN", "en"),
            STYLE
        );
    } else {
        let _ = write!(
            s,
            "<!DOCTYPE html>\n<html lang=\"{}\" xmlns=\"http://www.w3.org/1999/xhtml\"><head><meta charset=\"utf-8\"/><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/><meta name=\"generator\" content=\"vap {}\"/><title>{}</title><style>{}</style></head><body><div class=\"vap-report\">",
            t(lang, "zh-CN", "en"),
            env!("CARGO_PKG_VERSION"),
            esc(title),
            STYLE
        );
    }
}

fn render(r: &Replay, opts: &ReportOptions, media: &Media) -> Result<String> {
    let names: Vec<&str> = r.curves.series.iter().map(|c| c.name.as_str()).collect();
    let unknown: Vec<&String> = opts
        .curves
        .iter()
        .filter(|c| !names.contains(&c.as_str()))
        .collect();
    if !unknown.is_empty() {
        return Err(VapError::InvalidArgument(format!(
            "report options: curves {} not in the replay (it has: {})",
            unknown
                .iter()
                .map(|c| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(", "),
            names.join(", ")
        )));
    }
    let lang = opts.lang;
    let clock = Clock::of(r);
    let mut s = String::with_capacity(256 * 1024);
    let title = format!(
        "{} · {}",
        t(lang, "直播复盘", "Session replay"),
        r.title.as_deref().unwrap_or(&r.session_id)
    );
    open_page(&mut s, lang, &title, opts.fragment);
    let _ = write!(
        s,
        "<header><h1>{}</h1><p>{} <b>{}</b> · {} <b>{}</b> · {} – {} ({})</p><nav><a href=\"#quality\">{}</a><a href=\"#operator\">{}</a><a href=\"#anchor\">{}</a><a href=\"#field-control\">{}</a></nav></header>",
        esc(&title),
        t(lang, "直播间", "room"),
        esc(&r.room_id),
        t(lang, "场次", "session"),
        esc(&r.session_id),
        esc(&clock.fmt(r.start_ms, "%Y-%m-%d %H:%M")),
        esc(&clock.fmt(r.end_ms, "%H:%M")),
        esc(&r.timezone),
        t(lang, "数据质量", "Data quality"),
        t(lang, "运营", "Operator"),
        t(lang, "主播", "Anchor"),
        t(lang, "场控", "Field control"),
    );
    quality(&mut s, r, lang, &clock);
    operator(&mut s, r, opts, &clock, media);
    anchor(&mut s, r, opts, &clock);
    field_control(&mut s, r, lang, &clock);
    let _ = write!(
        s,
        "<footer>{} vap {} · {}</footer></div>{}",
        t(lang, "生成工具", "Made with"),
        env!("CARGO_PKG_VERSION"),
        t(
            lang,
            "标注: 数据 = 原始数据, 推算 = 由原始数据计算的比率, 模型 = 归因模型估计 (含 95% 区间)",
            "tags: raw = counted from the data, derived = a rate of raw figures, model = the attribution model's estimate (with its 95 % interval)"
        ),
        if opts.fragment { "" } else { "</body></html>\n" }
    );
    Ok(s)
}

fn quality(s: &mut String, r: &Replay, lang: Lang, clock: &Clock) {
    let _ = write!(
        s,
        "<section id=\"quality\"><h2>{}</h2>",
        t(lang, "数据质量 (先读)", "Data quality (read first)")
    );
    let q = &r.quality;
    if q.notes.is_empty() {
        let _ = write!(
            s,
            "<p>{}</p>",
            t(lang, "未发现数据缺口。", "No gaps found in the data.")
        );
    } else {
        s.push_str("<ul class=\"notes\">");
        for n in &q.notes {
            let gap = matches!(
                n.kind,
                NoteKind::Gap | NoteKind::Silent | NoteKind::Hole | NoteKind::Truncated
            );
            let span = match (n.start_ms, n.end_ms) {
                (Some(a), Some(b)) => format!("{} – {} · ", clock.time(a), clock.time(b)),
                _ => String::new(),
            };
            let _ = write!(
                s,
                "<li class=\"note{}\" data-kind=\"{}\"><b>{}</b> · {}{}</li>",
                if gap { " gap" } else { "" },
                esc(&format!("{:?}", n.kind).to_lowercase()),
                esc(&n.stream),
                esc(&span),
                esc(&n.message)
            );
        }
        s.push_str("</ul>");
    }
    s.push_str("</section>");
}

/// A figure's value in its unit with its interval, or "—" with the reason
/// it is missing.
fn figure_value(f: &Figure) -> String {
    match f.value {
        Some(v) => {
            let mut x = esc(&fmt_unit(&f.unit, v));
            if let (Some(lo), Some(hi)) = (f.low, f.high) {
                let _ = write!(
                    x,
                    " <span class=\"missing\">[{} – {}]</span>",
                    esc(&fmt_unit(&f.unit, lo)),
                    esc(&fmt_unit(&f.unit, hi))
                );
            }
            x
        }
        None => format!(
            "<span class=\"missing\" title=\"{}\">—</span>",
            esc(f.missing.as_deref().unwrap_or(""))
        ),
    }
}

/// A figure's value, its source tag and the room-history cells.
fn figure_cells(lang: Lang, f: &Figure) -> String {
    let value = figure_value(f);
    let hist = match &f.history {
        Some(h) if h.enough => format!(
            "<td>{}</td><td>{}</td><td>{}</td>",
            h.median.map_or("—".into(), |v| esc(&fmt_unit(&f.unit, v))),
            h.top_quartile
                .map_or("—".into(), |v| esc(&fmt_unit(&f.unit, v))),
            h.percentile
                .map_or("—".into(), |p| format!("{:.0}%", p * 100.0)),
        ),
        Some(h) => format!(
            "<td colspan=\"3\" class=\"missing\">{} ({} {})</td>",
            t(lang, "历史场次不足", "history too short"),
            h.sessions,
            t(lang, "场", "sessions")
        ),
        None => "<td colspan=\"3\" class=\"missing\">—</td>".to_string(),
    };
    format!(
        "<td>{value} <span class=\"tag {}\">{}</span></td>{hist}",
        match f.source {
            Source::Raw => "raw",
            Source::Derived => "derived",
            Source::Model => "model",
        },
        source_tag(lang, f.source)
    )
}

fn label(lang: Lang, f: &Figure) -> &str {
    match lang {
        Lang::Zh => &f.label,
        Lang::En => &f.label_en,
    }
}

fn history_head(lang: Lang) -> String {
    format!(
        "<th>{}</th><th>{}</th><th>{}</th>",
        t(lang, "本直播间历史中位数", "room median"),
        t(lang, "历史前 25%", "room top quartile"),
        t(lang, "历史百分位", "percentile in room")
    )
}

/// The session's ads: spend, paid entries and viewers, the paid viewers' GMV
/// and the return on ad spend with their intervals.
fn ads_summary(s: &mut String, a: &crate::replay::AdsSummary, lang: Lang) {
    let iv = |x: &crate::attribute::Interval, f: &dyn Fn(f64) -> String| {
        if x.low.is_finite() && x.high.is_finite() {
            format!("{} [{}, {}]", f(x.value), f(x.low), f(x.high))
        } else {
            f(x.value)
        }
    };
    let yuan = |v: f64| esc(&fmt_unit("yuan", v));
    let ratio = |v: f64| format!("{v:.2}");
    let mut rows = vec![(t(lang, "投放消耗", "ad spend"), yuan(a.spend))];
    if let Some(e) = a.paid_entries {
        let share = a
            .paid_entries_share
            .map_or(String::new(), |x| format!(" ({:.0}%)", 100.0 * x));
        rows.push((
            t(lang, "付费进入人次", "paid entries"),
            format!("{}{share}", grouped(e, 0)),
        ));
    }
    if let Some(k) = &a.entries_per_yuan {
        rows.push((t(lang, "每元带来进入", "entries per yuan"), iv(k, &ratio)));
    }
    rows.push((
        t(lang, "付费在线占比", "paid share of viewers"),
        format!("{:.0}%", 100.0 * a.paid_viewers_share),
    ));
    rows.push((
        t(lang, "投放起效半衰期", "delivery half-life"),
        format!("{} s", a.carryover_ms / 1000),
    ));
    if let Some(g) = &a.paid_gmv {
        rows.push((
            t(lang, "付费流量成交 (模型)", "paid viewers' GMV (model)"),
            iv(g, &yuan),
        ));
    }
    if let Some(r) = &a.roi {
        rows.push((t(lang, "投产比 ROI", "return on ad spend"), iv(r, &ratio)));
    }
    let _ = write!(
        s,
        "<h3>{}</h3><table class=\"ads\"><tbody>",
        t(lang, "付费流量与自然流量", "Paid and natural traffic")
    );
    for (k, v) in rows {
        let _ = write!(s, "<tr><th>{}</th><td>{}</td></tr>", esc(k), v);
    }
    s.push_str("</tbody></table>");
    for n in &a.notes {
        let _ = write!(s, "<p class=\"note\">{}</p>", esc(n));
    }
}

fn estimate_text(e: &Estimate) -> String {
    match (e.low, e.high) {
        (Some(lo), Some(hi)) => format!(
            "{} [{} – {}]",
            fmt_unit("yuan", e.value),
            fmt_unit("yuan", lo),
            fmt_unit("yuan", hi)
        ),
        _ => fmt_unit("yuan", e.value),
    }
}

fn operator(s: &mut String, r: &Replay, opts: &ReportOptions, clock: &Clock, media: &Media) {
    let lang = opts.lang;
    let _ = write!(
        s,
        "<section id=\"operator\"><h2>{}</h2><h3>{}</h3><table class=\"headline\"><thead><tr><th>{}</th><th>{}</th>{}</tr></thead><tbody>",
        t(lang, "运营: 流量、转化与成交", "Operator: traffic, conversion, sales"),
        t(lang, "核心数据", "Headline"),
        t(lang, "指标", "figure"),
        t(lang, "本场", "this session"),
        history_head(lang)
    );
    for f in &r.headline {
        let _ = write!(
            s,
            "<tr data-key=\"{}\"><td>{}</td>{}</tr>",
            esc(&f.key),
            esc(label(lang, f)),
            figure_cells(lang, f)
        );
    }
    s.push_str("</tbody></table>");
    // The funnel, where the data has its steps.
    let funnel: Vec<(String, f64, Option<f64>, Option<f64>)> =
        ["exposures", "clicks", "paid_orders"]
            .iter()
            .filter_map(|k| r.figure(k))
            .filter_map(|f| f.value.map(|v| (label(lang, f).to_string(), v, None, None)))
            .collect();
    if funnel.len() >= 2 {
        let _ = write!(
            s,
            "<h3>{}</h3>{}",
            t(lang, "商品漏斗", "Product funnel"),
            svg::bars(
                "funnel",
                t(lang, "曝光 → 点击 → 成交", "exposure → click → order"),
                &funnel,
                &|v| fmt_unit("count", v)
            )
        );
    }
    // The curves with bands and moments.
    let span = (r.start_ms, r.end_ms);
    let mut bands: Vec<svg::Band> = r
        .promotions
        .iter()
        .map(|p| svg::Band {
            start_ms: p.start_ms,
            end_ms: p.end_ms,
            class: "promotion",
            title: format!(
                "{} {} {}–{}",
                t(lang, "促销", "promotion"),
                p.label.as_deref().unwrap_or(&p.id),
                clock.time(p.start_ms),
                clock.time(p.end_ms)
            ),
        })
        .collect();
    for p in &r.products {
        for seg in &p.segments {
            bands.push(svg::Band {
                start_ms: seg.start_ms,
                end_ms: seg.end_ms,
                class: "explain",
                title: format!(
                    "{} {} {}–{}",
                    t(lang, "讲解", "explaining"),
                    p.name,
                    clock.time(seg.start_ms),
                    clock.time(seg.end_ms)
                ),
            });
        }
    }
    let markers: Vec<svg::Marker> = r
        .moments
        .iter()
        .map(|m| svg::Marker {
            at_ms: m.start_ms,
            rank: m.rank,
            title: format!(
                "#{} {} {} {}",
                m.rank,
                clock.time(m.start_ms),
                series_label(lang, &m.metric),
                format!("{:?}", m.kind).to_lowercase()
            ),
        })
        .collect();
    let hour = 3_600_000;
    let ticks: Vec<(Ms, String)> = {
        let first = (r.start_ms + hour - 1) / hour * hour;
        let every = (((r.end_ms - r.start_ms) / hour) / 8 + 1) * hour;
        (0..)
            .map(|k| first + k * every)
            .take_while(|&t| t < r.end_ms)
            .map(|t| (t, clock.fmt(t, "%H:%M")))
            .collect()
    };
    let _ = write!(
        s,
        "<h3>{}</h3><p class=\"missing\">{}</p>",
        t(lang, "曲线", "Curves"),
        t(
            lang,
            "橙色带 = 促销, 蓝色带 = 商品讲解, 虚线 = 关键时刻 (点击跳转)",
            "orange bands: promotions; blue bands: explain segments; dashed lines: top moments (click to jump)"
        )
    );
    for name in &opts.curves {
        let Some(c) = r.curves.series.iter().find(|c| &c.name == name) else {
            continue;
        };
        let unit = curve_unit(&c.name, &c.unit);
        let _ = write!(
            s,
            "<h4>{} <span class=\"tag {}\">{}</span></h4>{}",
            esc(&series_label(lang, &c.name)),
            match c.source {
                Source::Raw => "raw",
                Source::Derived => "derived",
                Source::Model => "model",
            },
            source_tag(lang, c.source),
            svg::curve(
                &c.name,
                &series_label(lang, &c.name),
                &r.curves.time_ms,
                r.curves.step_ms,
                &c.values,
                span,
                &bands,
                &markers,
                &ticks,
                &|v| fmt_unit(unit, v),
            )
        );
    }
    // The model's session totals.
    match &r.model {
        Some(m) => {
            let rows: Vec<(String, f64, Option<f64>, Option<f64>)> = m
                .totals
                .iter()
                .map(|e| (series_label(lang, &e.name), e.value, e.low, e.high))
                .collect();
            let _ = write!(
                s,
                "<h3>{}</h3><p>{}: <b>{}</b> · R² {} · {} R² {}</p>{}",
                t(lang, "归因: 整场拆分", "Attribution: the session split"),
                t(lang, "目标", "target"),
                esc(&series_label(lang, &m.target)),
                m.r2.map_or("—".into(), |v| format!("{v:.2}")),
                t(lang, "留出", "holdout"),
                m.holdout_r2.map_or("—".into(), |v| format!("{v:.2}")),
                svg::bars(
                    "totals",
                    t(
                        lang,
                        "整场各因素贡献 (95% 区间)",
                        "session totals by factor (95 % intervals)"
                    ),
                    &rows,
                    &|v| fmt_unit("yuan", v)
                )
            );
            for w in &m.warnings {
                let _ = write!(s, "<p class=\"missing\">⚠ {}</p>", esc(w));
            }
            if let Some(a) = &m.ads {
                ads_summary(s, a, lang);
            }
            if !m.over_time.is_empty() {
                let unit = r
                    .curves
                    .series
                    .iter()
                    .find(|c| c.name == m.target)
                    .map_or("", |c| curve_unit(&c.name, &c.unit));
                let parts: Vec<(String, String, &[Option<f64>])> = m
                    .over_time
                    .iter()
                    .map(|c| (c.name.clone(), series_label(lang, &c.name), &c.values[..]))
                    .collect();
                let step = r.curves.step_ms;
                let per = match (lang, step) {
                    (Lang::Zh, 60_000) => "每分钟".to_string(),
                    (Lang::En, 60_000) => "per minute".to_string(),
                    (Lang::Zh, x) if x % 60_000 == 0 => format!("每 {} 分钟", x / 60_000),
                    (Lang::En, x) if x % 60_000 == 0 => format!("per {} min", x / 60_000),
                    (Lang::Zh, x) => format!("每 {} 秒", grouped(x as f64 / 1000.0, 1)),
                    (Lang::En, x) => format!("per {} s", grouped(x as f64 / 1000.0, 1)),
                };
                let _ = write!(
                    s,
                    "<h4>{} ({per}, {})</h4>{}",
                    t(lang, "各因素贡献随时间", "Contributions over time"),
                    t(
                        lang,
                        "叠加 = 实际值",
                        "the stack adds up to the actual value"
                    ),
                    svg::stacked(
                        t(lang, "各因素贡献随时间", "contributions over time"),
                        &r.curves.time_ms,
                        r.curves.step_ms,
                        &parts,
                        span,
                        &markers,
                        &ticks,
                        &|v| fmt_unit(unit, v),
                    )
                );
            }
        }
        None => {
            let _ = write!(
                s,
                "<h3>{}</h3><p class=\"missing\">{}: {}</p>",
                t(lang, "归因", "Attribution"),
                t(lang, "未拟合模型", "no model fitted"),
                esc(r.model_error.as_deref().unwrap_or(""))
            );
        }
    }
    // The moments.
    let _ = write!(s, "<h3>{}</h3>", t(lang, "关键时刻", "Top moments"));
    if r.moments.is_empty() {
        let _ = write!(
            s,
            "<p class=\"missing\">{}</p>",
            t(lang, "未发现显著时刻。", "No moment stood out.")
        );
    }
    for m in &r.moments {
        moment(s, r, m, opts, clock, media);
    }
    s.push_str("</section>");
}

fn moment(
    s: &mut String,
    r: &Replay,
    m: &MomentReplay,
    opts: &ReportOptions,
    clock: &Clock,
    media: &Media,
) {
    let lang = opts.lang;
    let kind = match (lang, format!("{:?}", m.kind).to_lowercase().as_str()) {
        (Lang::Zh, "peak") => "高峰".to_string(),
        (Lang::Zh, "drop") => "下跌".to_string(),
        (Lang::Zh, "shift") => "水平变化".to_string(),
        (_, k) => k.to_string(),
    };
    let _ = write!(
        s,
        "<article class=\"moment\" id=\"moment-{}\" data-rank=\"{}\"><h4>#{} · {} – {} · {} {}</h4>",
        m.rank,
        m.rank,
        m.rank,
        clock.time(m.start_ms),
        clock.time(m.end_ms),
        esc(&series_label(lang, &m.metric)),
        esc(&kind)
    );
    if let Some(g) = &m.data_gap {
        let _ = write!(
            s,
            "<p class=\"notes gap\">⚠ {}: {}</p>",
            t(lang, "此时段数据有缺口", "data gap in this span"),
            esc(g)
        );
    }
    let mut facts = Vec::new();
    if let Some(p) = &m.product_in_focus {
        let name = r
            .products
            .iter()
            .find(|x| &x.product_id == p)
            .map_or(p.as_str(), |x| x.name.as_str());
        facts.push(format!(
            "{}: {}",
            t(lang, "讲解商品", "product in focus"),
            esc(name)
        ));
    }
    if !m.promotions.is_empty() {
        facts.push(format!(
            "{}: {}",
            t(lang, "进行中的促销", "promotions running"),
            esc(&m.promotions.join(", "))
        ));
    }
    if let (Some(target), Some(x)) = (&m.target, m.excess) {
        facts.push(format!(
            "{} {}: {}",
            esc(&series_label(lang, target)),
            t(lang, "超出", "excess"),
            esc(&fmt_unit("yuan", x))
        ));
    }
    if let Some(a) = &m.ads {
        if a.spend > 0.0 || a.paid_viewers > 0.0 {
            let mut f = format!(
                "{}: {} · {} {:.0}%",
                t(lang, "投放消耗", "ad spend"),
                esc(&fmt_unit("yuan", a.spend)),
                t(lang, "付费在线占比", "paid share of viewers"),
                100.0 * a.paid_share
            );
            if let Some(e) = a.paid_entries {
                let _ = write!(
                    f,
                    " · {} {}",
                    t(lang, "付费进入", "paid entries"),
                    grouped(e, 0)
                );
            }
            if let Some(p) = a.paid_traffic {
                let _ = write!(
                    f,
                    " · {} {}",
                    t(lang, "流量部分中付费带来", "of the traffic part, from ads"),
                    esc(&fmt_unit("yuan", p))
                );
            }
            if let Some(roi) = a.roi {
                let _ = write!(f, " · ROI {:.2}", roi.value);
                if roi.low.is_finite() && roi.high.is_finite() {
                    let _ = write!(f, " [{:.2}, {:.2}]", roi.low, roi.high);
                }
            }
            facts.push(f);
        }
    }
    if !facts.is_empty() {
        let _ = write!(s, "<p>{}</p>", facts.join(" · "));
    }
    if !m.parts.is_empty() {
        let rows: Vec<(String, f64, Option<f64>, Option<f64>)> = m
            .parts
            .iter()
            .map(|e| (series_label(lang, &e.name), e.value, e.low, e.high))
            .collect();
        s.push_str(&svg::bars(
            "moment-split",
            t(
                lang,
                "本时刻的拆分 (95% 区间)",
                "the moment's split (95 % intervals)",
            ),
            &rows,
            &|v| fmt_unit("yuan", v),
        ));
    }
    if let Some(rec) = &m.recording {
        let secs = rec.position_ms as f64 / 1000.0;
        let file = Path::new(&rec.path)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| rec.path.clone());
        let still = if opts.stills {
            media.still(r, rec, opts.still_width)
        } else {
            None
        };
        if let Some(uri) = &still {
            let _ = write!(
                s,
                "<img class=\"still\" alt=\"{} {}\" src=\"{}\"/>",
                t(lang, "画面", "still at"),
                esc(&hms(rec.position_ms)),
                uri
            );
        }
        if (media.beside)(&rec.path) {
            let _ = write!(
                s,
                "<video class=\"recording\" controls=\"controls\" preload=\"none\" src=\"{}#t={:.1}\" data-seconds=\"{:.1}\"></video>",
                esc(&url_path(&file)),
                secs,
                secs
            );
        } else {
            let _ = write!(
                s,
                "<p class=\"recording\" data-seconds=\"{:.1}\">{}: <code>{}</code> @ {}</p>",
                secs,
                t(lang, "录像位置", "recording"),
                esc(&rec.path),
                esc(&hms(rec.position_ms))
            );
        }
    }
    let _ = write!(
        s,
        "<div class=\"context\"><div><b>{}</b><ol class=\"transcript\">",
        t(lang, "主播话术 (±60 秒)", "what was said (±60 s)")
    );
    for u in m.transcript.iter().take(opts.context_lines) {
        let _ = write!(
            s,
            "<li><span class=\"missing\">{}</span> {}</li>",
            clock.time(u.start_ms),
            esc(&u.text)
        );
    }
    let _ = write!(
        s,
        "</ol></div><div><b>{} ({} {})</b><ol class=\"comments\">",
        t(lang, "评论 (±60 秒)", "comments (±60 s)"),
        m.comments_in_context,
        t(lang, "条", "in all")
    );
    for c in m.comments.iter().take(opts.context_lines) {
        let _ = write!(
            s,
            "<li><span class=\"missing\">{}</span> {}</li>",
            clock.time(c.ts_ms),
            esc(&c.text)
        );
    }
    s.push_str("</ol></div></div></article>");
}

/// The opening of a table of `class` with these column heads.
fn table_head(class: &str, heads: &[&str]) -> String {
    let mut h = format!("<table class=\"{class}\"><thead><tr>");
    for x in heads {
        let _ = write!(h, "<th>{x}</th>");
    }
    h.push_str("</tr></thead><tbody>");
    h
}

/// A position in a recording as h:mm:ss.
fn hms(ms: Ms) -> String {
    let s = ms.max(0) / 1000;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn anchor(s: &mut String, r: &Replay, opts: &ReportOptions, clock: &Clock) {
    let lang = opts.lang;
    let _ = write!(
        s,
        "<section id=\"anchor\"><h2>{}</h2>{}",
        t(
            lang,
            "主播: 话术、问答与个人贡献",
            "Anchor: speech, questions, own effect"
        ),
        table_head(
            "anchors",
            &[
                t(lang, "主播", "anchor"),
                t(lang, "时长 (小时)", "hours"),
                t(lang, "单小时成交金额", "GMV per hour"),
                "GPM",
                t(lang, "UV价值", "UV value"),
                t(
                    lang,
                    "主播效应 (模型, 95% 区间)",
                    "anchor effect (model, 95 %)"
                ),
                t(lang, "问题回答率", "questions answered"),
            ],
        )
    );
    let cell = figure_value;
    for a in &r.anchors {
        let _ = write!(
            s,
            "<tr data-anchor=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&a.anchor_id),
            esc(&a.name),
            grouped(a.host_hours, 1),
            cell(&a.gmv_per_hour),
            cell(&a.gpm),
            cell(&a.uv_value),
            cell(&a.effect),
            a.questions
                .share
                .map_or("—".into(), |v| format!("{:.0}% / {}", v * 100.0, a.questions.asked)),
        );
    }
    s.push_str("</tbody></table>");
    for a in &r.anchors {
        if a.phrases.is_empty() {
            continue;
        }
        let _ = write!(
            s,
            "<h4>{} · {}</h4>{}",
            esc(&a.name),
            t(
                lang,
                "话术与随后成交",
                "phrases and the orders that followed"
            ),
            table_head(
                "phrases",
                &[
                    t(lang, "话术", "phrase"),
                    t(lang, "次数", "uses"),
                    t(lang, "随后订单", "orders after"),
                    t(lang, "提升 (95% 区间)", "lift (95 %)"),
                ],
            )
        );
        for p in a.phrases.iter().take(10) {
            let lift = match (p.lift, p.low, p.high) {
                (Some(l), Some(lo), Some(hi)) => format!("{l:.2} [{lo:.2} – {hi:.2}]"),
                (Some(l), _, _) => format!("{l:.2}"),
                _ => "—".into(),
            };
            let _ = write!(
                s,
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
                if p.weak { "weak" } else { "" },
                esc(&p.phrase),
                p.uses,
                grouped(p.orders_after, 0),
                esc(&lift),
                if p.weak {
                    t(lang, " (证据弱)", " (weak)")
                } else {
                    ""
                }
            );
        }
        s.push_str("</tbody></table>");
    }
    // Questions.
    let q = &r.questions;
    let _ = write!(
        s,
        "<h3>{}</h3><p>{} <b>{}</b> · {} <b>{}</b> · {} <b>{}</b> · {} <b>{}</b></p>",
        t(lang, "观众提问与回答", "Viewers' questions and answers"),
        t(lang, "提问", "asked"),
        q.stats.asked,
        t(lang, "已回答", "answered"),
        q.stats.answered,
        t(lang, "回答率", "share answered"),
        q.stats
            .share
            .map_or("—".into(), |v| format!("{:.0}%", v * 100.0)),
        t(lang, "回答延迟中位数", "median latency"),
        q.stats
            .median_latency_s
            .map_or("—".into(), |v| format!("{v:.0} s")),
    );
    if !q.backlogs.is_empty() {
        s.push_str(&table_head(
            "backlogs",
            &[
                t(lang, "商品", "product"),
                t(lang, "问题类型", "kind"),
                t(lang, "时段", "span"),
                t(lang, "未回答", "unanswered"),
                t(lang, "提问人数", "viewers"),
            ],
        ));
        for b in &q.backlogs {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{} – {}</td><td>{}</td><td>{}</td></tr>",
                esc(b.product_id.as_deref().unwrap_or("—")),
                b.kind.as_str(),
                clock.time(b.start_ms),
                clock.time(b.end_ms),
                b.unanswered,
                b.viewers
            );
        }
        s.push_str("</tbody></table>");
    }
    if !q.unanswered.is_empty() {
        let _ = write!(
            s,
            "<h4>{}</h4><ol class=\"unanswered\">",
            t(lang, "未回答的问题", "Unanswered questions")
        );
        for x in q.unanswered.iter().take(opts.list_questions) {
            let _ = write!(
                s,
                "<li><span class=\"missing\">{}</span> {} <span class=\"tag\">{}</span></li>",
                clock.time(x.ts_ms),
                esc(&x.text),
                x.kind.as_str()
            );
        }
        s.push_str("</ol>");
    }
    s.push_str("</section>");
}

fn field_control(s: &mut String, r: &Replay, lang: Lang, clock: &Clock) {
    let _ = write!(
        s,
        "<section id=\"field-control\"><h2>{}</h2>",
        t(
            lang,
            "场控: 促销节奏、商品顺序与讲解时长",
            "Field control: promotion timing, product order, explain lengths"
        ),
    );
    plan(s, r, lang, clock);
    let _ = write!(s, "<h3>{}</h3>", t(lang, "促销", "Promotions"));
    if r.promotions.is_empty() {
        let _ = write!(
            s,
            "<p class=\"missing\">{}</p>",
            t(lang, "本场无促销。", "No promotion ran.")
        );
    } else {
        s.push_str(&table_head(
            "promotions",
            &[
                t(lang, "促销", "promotion"),
                t(lang, "开始", "start"),
                t(lang, "时长 (分钟)", "minutes"),
                t(lang, "期间成交金额", "GMV while running"),
                t(lang, "期间订单", "orders"),
                t(lang, "贡献 (模型, 95% 区间)", "contribution (model, 95 %)"),
            ],
        ));
        for p in &r.promotions {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(p.label.as_deref().unwrap_or(&p.id)),
                clock.time(p.start_ms),
                grouped(p.minutes, 1),
                esc(&fmt_unit("yuan", p.gmv)),
                grouped(p.orders, 0),
                p.contribution
                    .as_ref()
                    .map_or("—".into(), |e| esc(&estimate_text(e))),
            );
        }
        s.push_str("</tbody></table>");
    }
    let _ = write!(
        s,
        "<h3>{}</h3><table class=\"products\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>{}<th>{}</th></tr></thead><tbody>",
        t(lang, "商品", "Products"),
        t(lang, "商品", "product"),
        t(lang, "讲解次数", "explain segments"),
        t(lang, "讲解时长 (分钟)", "explain minutes"),
        t(lang, "成交金额", "GMV"),
        t(lang, "订单", "orders"),
        t(lang, "每讲解分钟成交金额", "GMV per explain minute"),
        history_head(lang),
        t(lang, "讲解贡献 (模型, 95% 区间)", "explain contribution (model, 95 %)"),
    );
    for p in &r.products {
        let _ = write!(
            s,
            "<tr data-product=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}<td>{}</td></tr>",
            esc(&p.product_id),
            esc(&p.name),
            p.segments.len(),
            grouped(p.explain_minutes, 1),
            esc(&fmt_unit("yuan", p.gmv)),
            grouped(p.orders, 0),
            figure_cells(lang, &p.gmv_per_explain_minute),
            p.contribution
                .as_ref()
                .map_or("—".into(), |e| esc(&estimate_text(e))),
        );
    }
    s.push_str("</tbody></table></section>");
}

/// Plan vs actual (直播脚本 vs 实际), when a run-sheet is attached.
fn plan(s: &mut String, r: &Replay, lang: Lang, clock: &Clock) {
    use crate::replay::plan::DeviationStatus as D;
    use crate::schema::PlanKind;
    if r.plan.is_none() && r.plan_error.is_none() {
        return;
    }
    let _ = write!(
        s,
        "<h3 id=\"plan\">{}</h3>",
        t(
            lang,
            "计划 vs 实际 (直播脚本)",
            "Plan vs actual (run-sheet)"
        )
    );
    let Some(p) = &r.plan else {
        let _ = write!(
            s,
            "<p class=\"missing\">{} {}</p>",
            t(
                lang,
                "直播脚本无法比对:",
                "The run-sheet could not be compared:"
            ),
            esc(r.plan_error.as_deref().unwrap_or(""))
        );
        return;
    };
    let total = p.effect_total.as_ref().map_or("—".into(), |e| {
        let mut x = fmt_unit("yuan", e.value);
        if let (Some(lo), Some(hi)) = (e.low, e.high) {
            x.push_str(&format!(
                " [{}, {}]",
                fmt_unit("yuan", lo),
                fmt_unit("yuan", hi)
            ));
        }
        x
    });
    let _ =
        write!(
        s,
        "<p class=\"plan-summary\">{} <b>{}</b> · {} <b>{}</b> · {} <b>{}</b> · {} <b>{}</b></p>",
        t(lang, "按计划", "on plan"),
        p.on_plan,
        t(lang, "偏离计划", "off plan"),
        p.off_plan,
        t(lang, "计划外", "unplanned"),
        p.added,
        t(lang, "偏离合计 (模型, 95% 区间)", "what the deviations earned (model, 95 %)"),
        esc(&total),
    );
    s.push_str(&table_head(
        "plan",
        &[
            t(lang, "类型", "kind"),
            t(lang, "项目", "item"),
            t(lang, "结果", "status"),
            t(lang, "计划", "planned"),
            t(lang, "实际", "actual"),
            t(lang, "偏差 (分钟)", "off by (min)"),
            t(lang, "影响 (模型, 95% 区间)", "earned / cost (model, 95 %)"),
            t(lang, "未讲话术", "talking points not said"),
        ],
    ));
    let span = |x: Option<(Ms, Ms)>| {
        x.map_or("—".into(), |(a, b)| {
            format!("{}–{}", clock.fmt(a, "%H:%M"), clock.fmt(b, "%H:%M"))
        })
    };
    for d in &p.items {
        let kind = match d.kind {
            PlanKind::Shift => t(lang, "主播", "host"),
            PlanKind::Product => t(lang, "商品", "product"),
            PlanKind::Promotion => t(lang, "促销", "promotion"),
        };
        let status = match d.status {
            D::OnPlan => t(lang, "按计划", "on plan"),
            D::Late => t(lang, "晚于计划", "late"),
            D::Early => t(lang, "早于计划", "early"),
            D::Longer => t(lang, "超时", "longer"),
            D::Shorter => t(lang, "提前结束", "shorter"),
            D::Skipped => t(lang, "未执行", "skipped"),
            D::Added => t(lang, "计划外", "added"),
        };
        let off = match d.status {
            D::Late | D::Early => d.start_delta_ms,
            D::Longer | D::Shorter => d.length_delta_ms,
            _ => None,
        }
        .map_or(String::new(), |ms| format!("{:+.1}", ms as f64 / 60_000.0));
        let effect = d.effect.as_ref().map_or_else(
            || {
                d.note
                    .clone()
                    .map(|n| format!("— ({n})"))
                    .unwrap_or("—".into())
            },
            |e| match (e.low, e.high) {
                (Some(lo), Some(hi)) => format!(
                    "{} [{}, {}]",
                    fmt_unit("yuan", e.value),
                    fmt_unit("yuan", lo),
                    fmt_unit("yuan", hi)
                ),
                _ => fmt_unit("yuan", e.value),
            },
        );
        let _ = write!(
            s,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            d.status.as_str(),
            kind,
            esc(&d.name),
            status,
            span(d.planned),
            span(d.actual),
            off,
            esc(&effect),
            esc(&d.points_missed.join("; ")),
        );
    }
    s.push_str("</tbody></table>");
    for n in &p.notes {
        let _ = write!(s, "<p class=\"note\">{}</p>", esc(n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_url_paths() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
        assert_eq!(url_path("直播 1.mp4"), "%E7%9B%B4%E6%92%AD%201.mp4");
    }

    #[test]
    fn numbers_read_as_operators_write_them() {
        assert_eq!(grouped(1234567.0, 0), "1,234,567");
        assert_eq!(grouped(-1234.5, 1), "-1,234.5");
        assert_eq!(grouped(-0.01, 1), "0.0");
        assert_eq!(grouped(999.0, 0), "999");
        assert_eq!(fmt_unit("yuan", 12345.6), "¥12,346");
        assert_eq!(fmt_unit("yuan", -1458.2), "-¥1,458");
        assert_eq!(fmt_unit("yuan", -0.001), "¥0.00");
        assert_eq!(
            series_label(Lang::Zh, "promo:flash_sale"),
            "促销: flash_sale"
        );
        assert_eq!(
            series_label(Lang::En, "promo:flash_sale"),
            "promo:flash_sale"
        );
        assert_eq!(fmt_unit("ratio", 0.1234), "12.3%");
        assert_eq!(fmt_unit("count", 3.0), "3");
        assert_eq!(hms(3_723_000), "1:02:03");
    }

    #[test]
    fn text_is_escaped_for_html_and_xml() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(esc("a\u{0}b"), "a\u{FFFD}b");
    }

    #[test]
    fn options_are_checked() {
        assert!(ReportOptions::from_json(r#"{"lang": "fr"}"#).is_err());
        assert!(ReportOptions::from_json(r#"{"curves": []}"#).is_err());
        assert!(ReportOptions::from_json(r#"{"curves": ["gpm", "gpm"]}"#).is_err());
        assert!(ReportOptions::from_json(r#"{"colour": "red"}"#).is_err());
        let o = ReportOptions::from_camel_value(serde_json::json!({"videoBeside": true})).unwrap();
        assert!(o.video_beside);
        assert_eq!(o.lang, Lang::Zh);
    }
}
