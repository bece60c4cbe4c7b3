//! The room's report: every stored session, product and anchor side by side
//! (a [`RoomReplay`]), in the same self-contained page as a session's.

use std::fmt::Write as _;
use std::path::Path;

use super::{close_page, esc, fmt_unit, open_page, svg, t, table_head, Clock, Lang, ReportOptions};
use crate::error::{Result, VapError};
use crate::options::Options;
use crate::replay::playbook::{Playbook, PlaybookOptions};
use crate::replay::{quantile, ReplayOptions, RoomReplay, LABELS};
use crate::store::Store;

/// The session figures the room's table shows, in order.
const SESSION_FIGURES: &[&str] = &[
    "gmv_gross",
    "paid_orders",
    "gpm",
    "uv_value",
    "peak_online",
    "avg_watch_minutes",
];

fn figure_label(lang: Lang, key: &str) -> (String, &'static str) {
    LABELS
        .iter()
        .find(|l| l.0 == key)
        .map(|l| {
            (
                match lang {
                    Lang::Zh => l.1.to_string(),
                    Lang::En => l.2.to_string(),
                },
                l.3,
            )
        })
        .unwrap_or_else(|| (key.to_string(), ""))
}

/// The report of a room (every stored session, product and anchor: a
/// [`RoomReplay`], `vap_core::replay::room`) as one self-contained HTML
/// document, or a fragment (`fragment`). Of [`ReportOptions`] it reads
/// `lang` and `fragment`. Sections: `#sessions` (each session's headline
/// figures against the room's median, GMV per session as bars), `#products`
/// (explain minutes, GMV while explained and per explain minute across the
/// sessions), `#anchors` (hours, GMV per hour, GPM and the room model's
/// anchor effect with its interval).
pub fn room_html(room: &RoomReplay, opts: &ReportOptions) -> Result<String> {
    room_html_with(room, None, opts)
}

/// [`room_html`] ending with the room's playbook (a [`Playbook`] of the same
/// room), `#playbook`: its recommendations, anchor × category effects,
/// flash-sale timing, products and draft run-sheet as
/// `#playbook-recommendations` … `#playbook-draft`.
pub fn room_html_with(
    room: &RoomReplay,
    playbook: Option<&Playbook>,
    opts: &ReportOptions,
) -> Result<String> {
    opts.check()?;
    let lang = opts.lang;
    let clock = Clock(room.timezone.parse().unwrap_or(chrono_tz::UTC));
    let mut s = String::with_capacity(64 * 1024);
    let title = format!(
        "{} · {}",
        t(lang, "直播间复盘", "Room review"),
        room.name.as_deref().unwrap_or(&room.room_id)
    );
    open_page(&mut s, lang, &title, opts.fragment);
    let span = match (room.sessions.first(), room.sessions.last()) {
        (Some(a), Some(b)) => format!(
            " · {} – {} ({})",
            clock.fmt(a.start_ms, "%Y-%m-%d"),
            clock.fmt(b.start_ms, "%Y-%m-%d"),
            room.timezone
        ),
        _ => String::new(),
    };
    let _ = write!(
        s,
        "<header><h1>{}</h1><p>{} <b>{}</b> · {} {}{}</p><nav><a href=\"#sessions\">{}</a><a href=\"#products\">{}</a><a href=\"#anchors\">{}</a>{}</nav></header>",
        esc(&title),
        t(lang, "直播间", "room"),
        esc(&room.room_id),
        room.sessions.len(),
        t(lang, "场", "sessions"),
        esc(&span),
        t(lang, "场次", "Sessions"),
        t(lang, "商品", "Products"),
        t(lang, "主播", "Anchors"),
        if playbook.is_some() {
            format!("<a href=\"#playbook\">{}</a>", t(lang, "打法", "Playbook"))
        } else {
            String::new()
        },
    );
    sessions(&mut s, room, lang, &clock);
    products(&mut s, room, lang);
    anchors(&mut s, room, lang);
    if let Some(p) = playbook {
        let _ = write!(
            s,
            "<section id=\"playbook\"><h2>{} ({} {} {})</h2>",
            t(lang, "打法", "Playbook"),
            t(lang, "依据", "from"),
            p.sessions.len(),
            t(lang, "场历史直播", "sessions")
        );
        super::playbook::sections(&mut s, p, lang, "playbook-");
        s.push_str("</section>");
    }
    close_page(&mut s, lang, opts.fragment);
    Ok(s)
}

/// The report of a stored room: [`crate::replay::room`] with `replay`,
/// and, when `opts.playbook` and the room has enough sessions for one
/// ([`PlaybookOptions::min_sessions`]), its playbook
/// ([`crate::plan::store_playbook`], default options) as the last section
/// ([`room_html_with`]); a playbook that cannot be made (too few
/// comparable sessions) is left out.
pub fn store_room_html(
    store: &Store,
    room_id: &str,
    replay: &ReplayOptions,
    opts: &ReportOptions,
) -> Result<String> {
    opts.check()?;
    let room = crate::replay::room(store, room_id, replay)?;
    room_html_with(&room, room_playbook(store, &room, opts).as_ref(), opts)
}

/// The playbook [`store_room_html`] embeds in the report of `room` (a
/// replay of a room of `store`), if `opts.playbook` and one can be made.
pub fn room_playbook(store: &Store, room: &RoomReplay, opts: &ReportOptions) -> Option<Playbook> {
    let book_opts = PlaybookOptions::default();
    if opts.playbook && room.sessions.len() >= book_opts.min_sessions {
        crate::replay::playbook::store_playbook(store, &room.room_id, &book_opts).ok()
    } else {
        None
    }
}

/// Writes [`store_room_html`] to `path`, whole or not at all.
pub fn write_store_room_html(
    store: &Store,
    room_id: &str,
    path: impl AsRef<Path>,
    replay: &ReplayOptions,
    opts: &ReportOptions,
) -> Result<()> {
    write_page(path.as_ref(), || {
        store_room_html(store, room_id, replay, opts)
    })
}

/// Writes [`room_html`] to `path`, whole or not at all.
pub fn write_room_html(
    room: &RoomReplay,
    path: impl AsRef<Path>,
    opts: &ReportOptions,
) -> Result<()> {
    write_page(path.as_ref(), || room_html(room, opts))
}

/// Writes the page `page` makes to `path` (a file path), whole or not at all.
fn write_page(path: &Path, page: impl FnOnce() -> Result<String>) -> Result<()> {
    if path.file_name().is_none() {
        return Err(VapError::InvalidArgument(format!(
            "{}: not a file path",
            path.display()
        )));
    }
    crate::store::write_atomic(path, page()?.as_bytes())
}

fn sessions(s: &mut String, room: &RoomReplay, lang: Lang, clock: &Clock) {
    let _ = write!(
        s,
        "<section id=\"sessions\"><h2>{}</h2>",
        t(lang, "各场次", "Sessions")
    );
    if room.sessions.is_empty() {
        let _ = write!(
            s,
            "<p class=\"missing\">{}</p></section>",
            t(lang, "没有已存储的场次。", "No stored session.")
        );
        return;
    }
    // A session without orders has no GMV figure: no bar (not a zero one);
    // its row in the table says "—".
    let rows: Vec<(String, f64, Option<f64>, Option<f64>)> = room
        .sessions
        .iter()
        .filter_map(|d| {
            Some((
                format!("{} {}", clock.fmt(d.start_ms, "%m-%d"), d.session_id),
                *d.headline.get("gmv_gross")?,
                None,
                None,
            ))
        })
        .collect();
    s.push_str(&svg::bars(
        "session-gmv",
        t(lang, "每场成交金额", "GMV per session"),
        &rows,
        &|v| fmt_unit("yuan", v),
    ));
    // Each figure's room median, for the comparison.
    let median = |key: &str| {
        let mut v: Vec<f64> = room
            .sessions
            .iter()
            .filter_map(|d| d.headline.get(key).copied())
            .collect();
        v.sort_by(f64::total_cmp);
        Some(quantile(&v, 0.5)).filter(|m| m.is_finite())
    };
    let mut heads: Vec<String> = vec![
        t(lang, "场次", "session").into(),
        t(lang, "开始", "start").into(),
    ];
    for k in SESSION_FIGURES {
        heads.push(esc(&figure_label(lang, k).0));
    }
    heads.push(t(lang, "成交金额 / 直播间中位数", "GMV / room median").into());
    let head_refs: Vec<&str> = heads.iter().map(String::as_str).collect();
    s.push_str(&table_head("sessions", &head_refs));
    let gmv_median = median("gmv_gross");
    for d in &room.sessions {
        let _ = write!(
            s,
            "<tr data-session=\"{}\"><td>{}</td><td>{}</td>",
            esc(&d.session_id),
            esc(&d.session_id),
            esc(&clock.fmt(d.start_ms, "%Y-%m-%d %H:%M"))
        );
        for k in SESSION_FIGURES {
            let unit = figure_label(lang, k).1;
            match d.headline.get(*k) {
                Some(v) => {
                    let _ = write!(s, "<td>{}</td>", esc(&fmt_unit(unit, *v)));
                }
                None => s.push_str("<td><span class=\"missing\">—</span></td>"),
            }
        }
        match (d.headline.get("gmv_gross"), gmv_median) {
            (Some(v), Some(m)) if m > 0.0 => {
                let _ = write!(s, "<td>{}</td>", esc(&fmt_unit("ratio", v / m)));
            }
            _ => s.push_str("<td><span class=\"missing\">—</span></td>"),
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></section>");
}

fn products(s: &mut String, room: &RoomReplay, lang: Lang) {
    let _ = write!(
        s,
        "<section id=\"products\"><h2>{}</h2>",
        t(lang, "商品 (跨场次)", "Products across sessions")
    );
    if room.products.is_empty() {
        let _ = write!(
            s,
            "<p class=\"missing\">{}</p></section>",
            t(lang, "没有讲解记录。", "No explain segment recorded.")
        );
        return;
    }
    let rows: Vec<(String, f64, Option<f64>, Option<f64>)> = room
        .products
        .iter()
        .filter_map(|p| Some((p.product_id.clone(), p.gmv_per_explain_minute?, None, None)))
        .collect();
    if !rows.is_empty() {
        s.push_str(&svg::bars(
            "product-gmv-per-minute",
            t(lang, "每讲解分钟成交金额", "GMV per explain minute"),
            &rows,
            &|v| fmt_unit("yuan", v),
        ));
    }
    s.push_str(&table_head(
        "products",
        &[
            t(lang, "商品", "product"),
            t(lang, "场次", "sessions"),
            t(lang, "讲解分钟", "explain minutes"),
            t(lang, "讲解期间成交金额", "GMV while explained"),
            t(lang, "每讲解分钟成交金额", "GMV per explain minute"),
        ],
    ));
    for p in &room.products {
        let _ = write!(
            s,
            "<tr data-product=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&p.product_id),
            esc(&p.product_id),
            p.sessions,
            esc(&fmt_unit("minutes", p.explain_minutes)),
            esc(&fmt_unit("yuan", p.gmv_while_explained)),
            p.gmv_per_explain_minute.map_or_else(
                || "<span class=\"missing\">—</span>".to_string(),
                |v| esc(&fmt_unit("yuan", v))
            ),
        );
    }
    s.push_str("</tbody></table></section>");
}

fn anchors(s: &mut String, room: &RoomReplay, lang: Lang) {
    let _ = write!(
        s,
        "<section id=\"anchors\"><h2>{}</h2>",
        t(lang, "主播 (跨场次)", "Anchors across sessions")
    );
    if room.anchors.is_empty() {
        let _ = write!(
            s,
            "<p class=\"missing\">{}</p></section>",
            t(lang, "没有主播排班。", "No anchor shift recorded.")
        );
        return;
    }
    let effects: Vec<(String, f64, Option<f64>, Option<f64>)> = room
        .anchors
        .iter()
        .filter_map(|a| {
            let e = a.effect.as_ref()?;
            Some((a.anchor_id.clone(), e.value, e.low, e.high))
        })
        .collect();
    if !effects.is_empty() {
        s.push_str(&svg::bars(
            "anchor-effect",
            t(
                lang,
                "主播效应 (房间模型, 95% 区间)",
                "anchor effect (room model, 95 % intervals)",
            ),
            &effects,
            &|v| fmt_unit("yuan", v),
        ));
    } else if let Some(e) = &room.model_error {
        let _ = write!(
            s,
            "<p class=\"missing\">{}: {}</p>",
            t(lang, "未拟合房间模型", "no room model fitted"),
            esc(e)
        );
    }
    s.push_str(&table_head(
        "anchors",
        &[
            t(lang, "主播", "anchor"),
            t(lang, "场次", "sessions"),
            t(lang, "小时", "hours"),
            t(lang, "成交金额", "GMV"),
            t(lang, "单小时成交金额", "GMV per hour"),
            "GPM",
            t(lang, "主播效应 (模型)", "anchor effect (model)"),
        ],
    ));
    let dash = || "<span class=\"missing\">—</span>".to_string();
    for a in &room.anchors {
        let _ = write!(
            s,
            "<tr data-anchor=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&a.anchor_id),
            esc(&a.anchor_id),
            a.sessions,
            esc(&fmt_unit("hours", a.hours)),
            esc(&fmt_unit("yuan", a.gmv)),
            a.gmv_per_hour.map_or_else(dash, |v| esc(&fmt_unit("yuan", v))),
            a.gpm.map_or_else(dash, |v| esc(&fmt_unit("yuan", v))),
            a.effect
                .as_ref()
                .map_or_else(dash, |e| esc(&super::estimate_text(e))),
        );
    }
    s.push_str("</tbody></table></section>");
}
