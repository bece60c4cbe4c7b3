//! The HTML report: self-contained, well-formed, its charts drawn from the
//! replay (one series per curve, one marker per moment on each), moments
//! linked to the recording, missing figures shown as missing, files written
//! whole.

mod common;

use vap_core::error::VapError;
use vap_core::options::Options;
use vap_core::replay::{replay, Replay, ReplayOptions};
use vap_core::report::{html, write_html, ReportOptions};
use vap_core::schema::{SessionData, VideoRef};
use vap_core::sim::{simulate, SimConfig};

fn room() -> SessionData {
    let mut data = simulate(&SimConfig {
        seed: 11,
        hours: 2.0,
        ..Default::default()
    })
    .unwrap()
    .data;
    // The recording started 5 s before the session.
    let rec: VideoRef = serde_json::from_value(serde_json::json!({
        "path": "recordings/stream.mp4",
        "offset_ms": data.session.start_ms - 5_000,
    }))
    .unwrap();
    data.session.recordings.push(rec);
    data
}

fn the_replay() -> Replay {
    let opts = ReplayOptions::from_json(r#"{"model": {"bootstrap": 30, "seed": 1}}"#).unwrap();
    replay(&room(), &[], &opts).unwrap()
}

/// Checks that `doc` is well-formed XML after its doctype: every element
/// closed in order, attributes quoted, no stray `<` or `&`. Returns the
/// number of elements.
fn well_formed(doc: &str) -> usize {
    let body = doc.strip_prefix("<!DOCTYPE html>\n").unwrap_or(doc);
    let b = body.as_bytes();
    let mut stack: Vec<String> = Vec::new();
    let mut elements = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'<' => {
                let end = body[i..].find('>').expect("tag closed") + i;
                let tag = &body[i + 1..end];
                if let Some(name) = tag.strip_prefix('/') {
                    let open = stack
                        .pop()
                        .unwrap_or_else(|| panic!("</{name}> closes nothing"));
                    assert_eq!(open, name, "</{name}> closes <{open}> at byte {i}");
                } else {
                    elements += 1;
                    let name: String = tag
                        .chars()
                        .take_while(|c| !c.is_whitespace() && *c != '/')
                        .collect();
                    assert!(
                        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
                        "bad tag <{tag}>"
                    );
                    // Attribute values quoted: an even number of quotes.
                    assert_eq!(tag.matches('"').count() % 2, 0, "unquoted <{tag}>");
                    assert!(!tag.contains('<'), "`<` inside <{tag}>");
                    if !tag.ends_with('/') {
                        stack.push(name);
                    }
                }
                i = end + 1;
            }
            b'&' => {
                let end = body[i..].find(';').expect("entity closed") + i;
                let ent = &body[i + 1..end];
                assert!(
                    matches!(ent, "amp" | "lt" | "gt" | "quot" | "#39"),
                    "unknown entity &{ent};"
                );
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    elements
}

#[test]
fn the_report_is_self_contained_well_formed_and_drawn_from_the_replay() {
    let r = the_replay();
    assert!(!r.moments.is_empty(), "the simulated room has moments");
    let opts = ReportOptions::default();
    let page = html(&r, &opts).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>\n<html"));
    assert!(well_formed(&page) > 100);
    // Nothing is fetched: no script, no stylesheet link, no remote URL.
    for banned in [
        "<script",
        "<link",
        "@import",
        "url(",
        "src=\"http",
        "href=\"http",
    ] {
        assert!(!page.contains(banned), "the report holds {banned}");
    }
    // Data quality first, then the three roles.
    let at = |id: &str| {
        page.find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("#{id}"))
    };
    assert!(at("quality") < at("operator"));
    assert!(at("operator") < at("anchor") && at("anchor") < at("field-control"));
    for id in ["quality", "operator", "anchor", "field-control"] {
        assert!(
            page.contains(&format!("href=\"#{id}\"")),
            "nav link to #{id}"
        );
    }
    // One chart per asked curve, each with one series and every moment.
    let charts: Vec<&str> = page
        .split("<svg class=\"chart\" data-chart=\"curve\"")
        .skip(1)
        .map(|c| &c[..c.find("</svg>").unwrap()])
        .collect();
    assert_eq!(charts.len(), opts.curves.len());
    for (c, name) in charts.iter().zip(&opts.curves) {
        assert!(c.contains(&format!("data-series-name=\"{name}\"")));
        assert_eq!(c.matches("class=\"series\"").count(), 1, "{name}");
        assert_eq!(
            c.matches("class=\"moment-marker\"").count(),
            r.moments.len(),
            "{name}"
        );
        let explain: usize = r.products.iter().map(|p| p.segments.len()).sum();
        assert_eq!(c.matches("class=\"band explain\"").count(), explain);
        assert_eq!(
            c.matches("class=\"band promotion\"").count(),
            r.promotions.len()
        );
    }
    // The model's parts over time: one stacked chart, one path per part,
    // every moment marked.
    let model = r.model.as_ref().expect("a model");
    let stacked = page
        .split("<svg class=\"chart\" data-chart=\"stacked\"")
        .nth(1)
        .map(|c| &c[..c.find("</svg>").unwrap()])
        .expect("the stacked chart");
    assert_eq!(
        stacked.matches("<path class=\"stack").count(),
        model.over_time.len()
    );
    for c in &model.over_time {
        assert!(stacked.contains(&format!("data-part=\"{}\"", c.name)));
    }
    assert_eq!(
        stacked.matches("class=\"moment-marker\"").count(),
        r.moments.len()
    );
    // Every moment has its article, its split and its place in the recording.
    for m in &r.moments {
        let id = format!("id=\"moment-{}\"", m.rank);
        assert!(page.contains(&id), "{id}");
        assert!(page.contains(&format!("href=\"#moment-{}\"", m.rank)));
        let rec = m
            .recording
            .as_ref()
            .expect("the recording covers the session");
        assert_eq!(rec.position_ms, m.start_ms - (r.start_ms - 5_000));
    }
    assert_eq!(
        page.matches("data-chart=\"moment-split\"").count(),
        r.moments.iter().filter(|m| !m.parts.is_empty()).count()
    );
    // Without the file beside it: the path and position as text.
    assert!(!page.contains("<video"));
    assert!(page.contains("recordings/stream.mp4"));
    // Chinese by default, English on request.
    assert!(page.contains("lang=\"zh-CN\"") && page.contains("成交金额"));
    let en = html(&r, &ReportOptions::from_json(r#"{"lang": "en"}"#).unwrap()).unwrap();
    well_formed(&en);
    assert!(en.contains("lang=\"en\"") && en.contains("GMV (gross)"));
    assert!(!en.contains("数据质量"));
    // A fragment for notebooks and templates: the same sections, scoped.
    let frag = html(
        &r,
        &ReportOptions::from_json(r#"{"fragment": true}"#).unwrap(),
    )
    .unwrap();
    assert!(frag.starts_with("<div class=\"vap-report\""));
    assert!(!frag.contains("<html") && !frag.contains("<body"));
    well_formed(&frag);
    assert_eq!(
        frag.matches("class=\"moment-marker\"").count(),
        page.matches("class=\"moment-marker\"").count()
    );
    // Every style rule is scoped to the report.
    let css = &frag[frag.find("<style>").unwrap() + 7..frag.find("</style>").unwrap()];
    for rule in css.lines().filter(|l| !l.trim().is_empty()) {
        let sel = rule.split('{').next().unwrap();
        assert!(
            sel.split(',')
                .all(|x| x.trim_start().starts_with(".vap-report")),
            "unscoped: {rule}"
        );
    }
}

#[test]
fn a_missing_figure_shows_as_missing_and_history_says_when_it_is_short() {
    let mut r = the_replay();
    let f = &mut r.headline[0];
    f.value = None;
    f.missing = Some("no orders table".into());
    let key = f.key.clone();
    let page = html(&r, &ReportOptions::default()).unwrap();
    let row_at = page.find(&format!("data-key=\"{key}\"")).unwrap();
    let row = &page[row_at..row_at + page[row_at..].find("</tr>").unwrap()];
    assert!(
        row.contains("—") && row.contains("no orders table"),
        "{row}"
    );
    // No history: every figure says the history is too short.
    assert!(page.contains("历史场次不足"));
}

#[test]
fn videos_beside_the_report_seek_to_the_moment() {
    let r = the_replay();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    // Not beside: text.
    write_html(&r, &out, &ReportOptions::default()).unwrap();
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(!page.contains("<video"));
    // Beside: a video per moment, at its second.
    std::fs::write(dir.path().join("stream.mp4"), b"not really a video").unwrap();
    write_html(&r, &out, &ReportOptions::default()).unwrap();
    let page = std::fs::read_to_string(&out).unwrap();
    well_formed(&page);
    assert_eq!(page.matches("<video").count(), r.moments.len());
    for m in &r.moments {
        let s = m.recording.as_ref().unwrap().position_ms as f64 / 1000.0;
        assert!(
            page.contains(&format!("src=\"stream.mp4#t={s:.1}\"")),
            "moment {} at {s:.1} s",
            m.rank
        );
    }
    // Nothing but the report is left behind.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["report.html", "stream.mp4"]);
}

#[test]
fn bad_options_and_paths_are_clear_errors() {
    let r = the_replay();
    let e = html(
        &r,
        &ReportOptions::from_json(r#"{"curves": ["gmv_per_hour"]}"#).unwrap(),
    )
    .unwrap_err();
    assert!(matches!(e, VapError::InvalidArgument(_)));
    let msg = e.to_string();
    assert!(
        msg.contains("gmv_per_hour") && msg.contains("order_gmv"),
        "{msg}"
    );
    let e = write_html(
        &r,
        "/nonexistent-dir/x/report.html",
        &ReportOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, VapError::Io { .. }), "{e}");
    assert!(e.to_string().contains("nonexistent-dir"));
}

/// The room's report: every stored session, product and anchor, its GMV
/// bars from the digests, each session against the room's median.
#[test]
fn the_room_report_holds_every_session_product_and_anchor() {
    use vap_core::report::{room_html, write_room_html};
    let dir = tempfile::tempdir().unwrap();
    let store = common::stored_room(&dir.path().join("store"), 40, 4, 2.0);
    let opts = ReplayOptions::from_json(r#"{"model": {"bootstrap": 20, "seed": 1}}"#).unwrap();
    let room = vap_core::replay::room(&store, "sim-room", &opts).unwrap();
    assert_eq!(room.timezone, "Asia/Shanghai");
    assert!(room.name.is_some());
    let page = room_html(&room, &ReportOptions::default()).unwrap();
    well_formed(&page);
    assert!(page.contains("直播间复盘") && page.contains("lang=\"zh-CN\""));
    for id in ["sessions", "products", "anchors"] {
        assert!(
            page.contains(&format!("id=\"{id}\"")) && page.contains(&format!("href=\"#{id}\""))
        );
    }
    assert_eq!(page.matches("<tr data-session=").count(), 4);
    assert_eq!(
        page.matches("<tr data-product=").count(),
        room.products.len()
    );
    assert_eq!(page.matches("<tr data-anchor=").count(), room.anchors.len());
    // One GMV bar per session, its value the digest's.
    let chart = page
        .split("data-chart=\"session-gmv\"")
        .nth(1)
        .map(|c| &c[..c.find("</svg>").unwrap()])
        .unwrap();
    let values: Vec<f64> = chart
        .split("data-value=\"")
        .skip(1)
        .map(|v| v[..v.find('"').unwrap()].parse().unwrap())
        .collect();
    let want: Vec<f64> = room
        .sessions
        .iter()
        .map(|d| d.headline["gmv_gross"])
        .collect();
    assert_eq!(values, want);
    // Each session's GMV against the median of the four (mean of the middle two).
    let mut sorted = want.clone();
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[1] + sorted[2]) / 2.0;
    let row = page.split("<tr data-session=\"s0\">").nth(1).unwrap();
    let last_cell = row[..row.find("</tr>").unwrap()]
        .rsplit("<td>")
        .next()
        .unwrap();
    let shown = format!("{:.1}%", want[0] / median * 100.0);
    assert!(last_cell.starts_with(&shown), "{last_cell} vs {shown}");
    // Anchor effects from the room model, as bars with intervals.
    let with_effect = room.anchors.iter().filter(|a| a.effect.is_some()).count();
    assert!(with_effect > 0, "{:?}", room.model_error);
    let effects = page.split("data-chart=\"anchor-effect\"").nth(1).unwrap();
    let effects = &effects[..effects.find("</svg>").unwrap()];
    assert_eq!(effects.matches("<rect class=\"bar").count(), with_effect);
    // English, a fragment, written whole.
    let en = room_html(
        &room,
        &ReportOptions::from_json(r#"{"lang": "en"}"#).unwrap(),
    )
    .unwrap();
    well_formed(&en);
    assert!(en.contains("Room review") && !en.contains("直播间复盘"));
    let frag = room_html(
        &room,
        &ReportOptions::from_json(r#"{"fragment": true}"#).unwrap(),
    )
    .unwrap();
    assert!(frag.starts_with("<div class=\"vap-report\"") && !frag.contains("<body"));
    let path = dir.path().join("room.html");
    write_room_html(&room, &path, &ReportOptions::default()).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), page);
    let e = write_room_html(&room, dir.path().join(".."), &ReportOptions::default()).unwrap_err();
    assert_eq!(e.kind(), vap_core::ErrorKind::InvalidArgument);
    // the stored room's report ends with its playbook (4 sessions), unless
    // asked not to
    assert!(!page.contains("id=\"playbook\""));
    let with =
        vap_core::report::store_room_html(&store, "sim-room", &opts, &ReportOptions::default())
            .unwrap();
    well_formed(&with);
    for id in [
        "playbook",
        "playbook-recommendations",
        "playbook-anchors",
        "playbook-draft",
    ] {
        assert!(with.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(with.contains("href=\"#playbook\""));
    let without = vap_core::report::store_room_html(
        &store,
        "sim-room",
        &opts,
        &ReportOptions::from_json(r#"{"playbook": false}"#).unwrap(),
    )
    .unwrap();
    assert!(!without.contains("id=\"playbook\""));
    let en_book = vap_core::report::store_room_html(
        &store,
        "sim-room",
        &opts,
        &ReportOptions::from_json(r#"{"lang": "en"}"#).unwrap(),
    )
    .unwrap();
    assert!(
        en_book.contains("(late from minute 30)"),
        "the English flash heading"
    );
}
