//! A room's playbook as a page (or a fragment to embed in another report):
//! the recommendations first, then the evidence behind them and the draft
//! run-sheet.

use std::fmt::Write as _;

use super::{close_page, esc, fmt_unit, open_page, t, table_head, Lang, ReportOptions};
use crate::error::Result;
use crate::options::Options;
use crate::replay::playbook::{Evidence, Playbook};
use crate::schema::{PlanKind, PlanTime};

fn evidence_text(e: &Evidence) -> String {
    let mut x = fmt_unit("yuan", e.value);
    if let (Some(l), Some(h)) = (e.low, e.high) {
        let _ = write!(x, " [{}, {}]", fmt_unit("yuan", l), fmt_unit("yuan", h));
    }
    x
}

fn weak_cell(lang: Lang, e: &Evidence) -> String {
    match &e.why_weak {
        Some(w) => format!("{} ({})", t(lang, "证据弱", "weak"), esc(w)),
        None => t(lang, "可采纳", "holds").to_string(),
    }
}

/// The playbook as one self-contained HTML document (or a fragment:
/// `fragment`), in `lang`: `#recommendations`, `#anchors`, `#flash-sales`,
/// `#products`, `#draft`.
pub fn playbook_html(p: &Playbook, opts: &ReportOptions) -> Result<String> {
    opts.check()?;
    let lang = opts.lang;
    let mut s = String::with_capacity(32 * 1024);
    let title = format!("{} · {}", t(lang, "直播间打法", "Room playbook"), p.room_id);
    open_page(&mut s, lang, &title, opts.fragment);
    let _ = write!(
        s,
        "<header><h1>{}</h1><p>{} {} {} · {} {}</p></header>",
        esc(&title),
        t(lang, "依据", "from"),
        p.sessions.len(),
        t(lang, "场历史直播", "sessions of history"),
        t(lang, "目标", "target"),
        esc(&p.target)
    );
    sections(&mut s, p, lang, "");
    close_page(&mut s, lang, opts.fragment);
    Ok(s)
}

/// The playbook's sections (recommendations, anchors, flash sales,
/// products, the draft run-sheet, notes), their ids prefixed with
/// `id_prefix` (the room report embeds them as `#playbook-…`).
pub(super) fn sections(s: &mut String, p: &Playbook, lang: Lang, id_prefix: &str) {
    let _ = write!(
        s,
        "<section id=\"{id_prefix}recommendations\"><h2>{}</h2><ul>",
        t(lang, "建议", "Recommendations")
    );
    for r in &p.recommendations {
        let text = match lang {
            Lang::Zh => &r.text_zh,
            _ => &r.text,
        };
        let _ = write!(
            s,
            "<li class=\"{}\" data-kind=\"{}\">{}{}</li>",
            if r.weak { "weak" } else { "strong" },
            esc(&r.kind),
            esc(text),
            if r.weak {
                format!(" <i>({})</i>", t(lang, "证据弱, 仅供参考", "weak evidence"))
            } else {
                String::new()
            }
        );
    }
    s.push_str("</ul></section>");
    let _ = write!(
        s,
        "<section id=\"{id_prefix}anchors\"><h2>{}</h2>",
        t(
            lang,
            "主播 × 品类 (与讲同品类的其他主播相比)",
            "Anchor × category (against the other anchors on it)"
        )
    );
    s.push_str(&table_head(
        "playbook-anchors",
        &[
            t(lang, "主播", "anchor"),
            t(lang, "品类", "category"),
            t(
                lang,
                "每小时 (模型, 联合 95% 区间)",
                "per hour (model, simultaneous 95 %)",
            ),
            t(lang, "小时", "hours"),
            t(lang, "场次", "sessions"),
            t(lang, "结论", "verdict"),
        ],
    ));
    for a in &p.anchors {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td></tr>",
            esc(&a.anchor_name),
            esc(&a.category),
            esc(&evidence_text(&a.evidence)),
            a.evidence.exposure,
            a.evidence.sessions,
            weak_cell(lang, &a.evidence),
        );
    }
    s.push_str("</tbody></table></section>");
    let f = &p.flash_sales;
    let minutes = f.late_after_ms / 60_000;
    let late = match lang {
        Lang::Zh => format!("开播 {minutes} 分钟后为晚场"),
        Lang::En => format!("late from minute {minutes}"),
    };
    let _ = write!(
        s,
        "<section id=\"{id_prefix}flash-sales\"><h2>{} ({late})</h2>",
        t(lang, "秒杀时机", "Flash-sale timing"),
    );
    s.push_str(&table_head(
        "playbook-flash",
        &[
            "",
            t(
                lang,
                "每分钟 (模型, 95% 区间)",
                "per minute running (model, 95 %)",
            ),
            t(lang, "场次", "sessions"),
            t(lang, "结论", "verdict"),
        ],
    ));
    for (label, e) in [
        (t(lang, "早场", "early"), &f.early),
        (t(lang, "晚场", "late"), &f.late),
        (t(lang, "晚场 − 早场", "late − early"), &f.difference),
    ] {
        match e {
            Some(e) => {
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    label,
                    esc(&evidence_text(e)),
                    e.sessions,
                    weak_cell(lang, e)
                );
            }
            None => {
                let _ = write!(s, "<tr><td>{label}</td><td>—</td><td>—</td><td>—</td></tr>");
            }
        }
    }
    s.push_str("</tbody></table></section>");
    let _ = write!(
        s,
        "<section id=\"{id_prefix}products\"><h2>{}</h2>",
        t(lang, "商品", "Products")
    );
    s.push_str(&table_head(
        "playbook-products",
        &[
            t(lang, "商品", "product"),
            t(lang, "品类", "category"),
            t(lang, "场次", "sessions"),
            t(lang, "讲解时长中位数 (分钟)", "median explain minutes"),
            t(lang, "首次讲解 (开播后分钟)", "first explained (minute)"),
            t(lang, "每讲解分钟贡献 (模型)", "per explain minute (model)"),
            t(
                lang,
                "带单话术 (提升倍数)",
                "phrases that went with orders (lift)",
            ),
        ],
    ));
    for pr in &p.products {
        let phrases = pr
            .phrases
            .iter()
            .filter(|x| !x.weak && x.low.is_some_and(|l| l > 1.0))
            .take(3)
            .map(|x| format!("{} ×{:.1}", x.phrase, x.lift.unwrap_or(0.0)))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            s,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.0}</td><td>{}</td><td>{}</td></tr>",
            if pr.weak { "weak" } else { "" },
            esc(&pr.name),
            esc(&pr.category),
            pr.sessions,
            pr.explain_minutes,
            pr.position_minutes,
            esc(&fmt_unit("yuan", pr.gmv_per_explain_minute)),
            esc(&phrases),
        );
    }
    s.push_str("</tbody></table></section>");
    let _ = write!(
        s,
        "<section id=\"{id_prefix}draft\"><h2>{}</h2>",
        t(
            lang,
            "下一场脚本草稿",
            "Draft run-sheet for the next session"
        )
    );
    s.push_str(&table_head(
        "playbook-draft",
        &[
            t(lang, "类型", "kind"),
            t(lang, "开始 (开播后)", "start (from the start)"),
            t(lang, "结束", "end"),
            t(lang, "主播", "anchor"),
            t(lang, "商品", "product"),
            t(lang, "活动", "promotion"),
        ],
    ));
    let at = |x: Option<PlanTime>| match x {
        Some(PlanTime::Offset(ms)) => format!("+{}:{:02}", ms / 3_600_000, ms / 60_000 % 60),
        Some(PlanTime::Clock(ms)) => format!("{}:{:02}", ms / 3_600_000, ms / 60_000 % 60),
        Some(PlanTime::At(ms)) => ms.to_string(),
        None => String::new(),
    };
    for it in &p.draft.items {
        let kind = match it.kind {
            PlanKind::Shift => t(lang, "主播", "host"),
            PlanKind::Product => t(lang, "商品", "product"),
            PlanKind::Promotion => t(lang, "活动", "promotion"),
        };
        let promo = it
            .promotion
            .and_then(|k| serde_json::to_value(k).ok())
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            kind,
            at(Some(it.start)),
            at(it.end),
            esc(it.anchor.as_deref().unwrap_or("")),
            esc(it.product.as_deref().unwrap_or("")),
            esc(&promo),
        );
    }
    s.push_str("</tbody></table></section>");
    for n in &p.notes {
        let _ = write!(s, "<p class=\"note\">{}</p>", esc(n));
    }
}
