//! The importers on fixtures that follow the platforms' and the capture
//! tools' formats (tests/fixtures/imports, written by
//! scripts/import-fixtures.py): what is mapped, dropped, counted and checked.

use std::collections::HashSet;
use std::path::PathBuf;

use vap_core::ingest::sources::{
    detect_format, read_compass_sessions, read_sources, FieldUse, SourceFile, SourceFormat,
    SourceOptions,
};
use vap_core::schema::{Fact, MetricKind, OrderStatus};
use vap_core::ErrorKind;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/imports")
        .join(name)
}

fn json(name: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(fixture(name)).unwrap()).unwrap()
}

/// 2026-11-25 20:00 in Shanghai.
const START: i64 = 1_795_608_000_000;
const HOUR: i64 = 3_600_000;

#[test]
fn formats_are_detected_from_the_content() {
    for (f, want) in [
        ("compass_sessions.csv", SourceFormat::CompassSessions),
        ("compass_sessions_utf8.csv", SourceFormat::CompassSessions),
        ("compass_sessions.xlsx", SourceFormat::CompassSessions),
        ("compass_trend.json", SourceFormat::CompassTrend),
        ("compass_trend_grouped.json", SourceFormat::CompassTrend),
        ("compass_orders.json", SourceFormat::CompassOrders),
        ("compass_traffic.json", SourceFormat::CompassTraffic),
        ("douyin_capture.jsonl", SourceFormat::DouyinCapture),
        ("tiktok_capture.jsonl", SourceFormat::TiktokCapture),
        ("tiktok_shop_session.json", SourceFormat::TiktokShopSession),
        ("tiktok_shop_minutes.json", SourceFormat::TiktokShopMinutes),
        (
            "tiktok_shop_minutes_alt.json",
            SourceFormat::TiktokShopMinutes,
        ),
    ] {
        assert_eq!(detect_format(fixture(f)).unwrap(), want, "{f}");
    }
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("x.json");
    std::fs::write(&other, r#"{"hello": [1, 2]}"#).unwrap();
    let e = detect_format(&other).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
    assert!(e.to_string().contains("douyin_capture"), "{e}");
}

#[test]
fn the_session_list_reads_alike_from_gb18030_csv_utf8_csv_and_xlsx() {
    let opts = SourceOptions::default();
    let (csv, report) = read_compass_sessions(fixture("compass_sessions.csv"), &opts).unwrap();
    let (utf8, _) = read_compass_sessions(fixture("compass_sessions_utf8.csv"), &opts).unwrap();
    let (xlsx, _) = read_compass_sessions(fixture("compass_sessions.xlsx"), &opts).unwrap();
    assert_eq!(csv.len(), 3);
    for rows in [&utf8, &xlsx] {
        assert_eq!(rows.len(), 3);
        for (a, b) in csv.iter().zip(rows.iter()) {
            assert_eq!((a.start_ms, a.end_ms), (b.start_ms, b.end_ms));
            let ga = a.facts["gmv"].as_f64().unwrap();
            let gb = b.facts["gmv"].as_f64().unwrap();
            assert!((ga - gb).abs() < 0.01, "{ga} {gb}");
        }
    }
    let last = &csv[2];
    assert_eq!((last.start_ms, last.end_ms), (START, START + 2 * HOUR));
    // "15.7万", "-" and rates as ratios or "12.3%".
    assert_eq!(last.facts["exposure_viewers"], Fact::Number(157_000.0));
    assert!(
        !last.facts.contains_key("coupon_gmv"),
        "'-' is missing, not 0"
    );
    assert!((csv[1].facts["returning_fan_share"].as_f64().unwrap() - 0.274).abs() < 1e-12);
    assert!(last.facts["exposure_click_rate"].as_f64().unwrap() < 1.0);
    // Unknown columns are kept under their header; text stays text.
    assert!(
        matches!(last.facts.get("直播间名称"), Some(Fact::Text(_))),
        "{:?}",
        last.facts.keys()
    );
    assert!(report.fields.iter().any(|f| f.field == "直播间成交金额"
        && f.used == FieldUse::Mapped
        && f.target == "fact:gmv"));
    assert!(report
        .fields
        .iter()
        .any(|f| f.field == "直播间名称" && f.used == FieldUse::Kept));
    // The UTF-8 file lacks a column: said, not an error.
    let (_, r2) = read_compass_sessions(fixture("compass_sessions_utf8.csv"), &opts).unwrap();
    assert!(
        r2.notes.iter().any(|n| n.contains("消费券引导支付金额")),
        "{:?}",
        r2.notes
    );
}

#[test]
fn a_compass_session_merges_trend_orders_list_and_traffic_and_checks_the_totals() {
    let files = [
        SourceFile::new(fixture("compass_trend.json")),
        SourceFile::new(fixture("compass_orders.json")),
        SourceFile::new(fixture("compass_sessions.csv")),
        SourceFile::new(fixture("compass_traffic.json")),
    ];
    let opts = SourceOptions {
        room_id: Some("acme".into()),
        ..Default::default()
    };
    let (data, report) = read_sources(&files, &opts).unwrap();
    assert_eq!(
        (data.session.start_ms, data.session.end_ms),
        (START, START + 2 * HOUR)
    );
    assert_eq!(data.session.id, "2026-11-25-2000");
    assert_eq!(data.session.timezone, "Asia/Shanghai");
    // Orders: paid ones once each, independently counted from the file.
    let items = json("compass_orders.json")["data"]["live_order_stream"]
        .as_array()
        .unwrap()
        .clone();
    let mut paid_ids = HashSet::new();
    let mut paid_sum = 0.0;
    let mut placed = HashSet::new();
    for it in &items {
        let id = it["order_id"].as_str().unwrap().to_string();
        if it["order_status"] == 3 {
            if paid_ids.insert(id) {
                paid_sum += it["pay_amount"].as_f64().unwrap();
            }
        } else {
            placed.insert(id);
        }
    }
    assert_eq!(data.orders.len(), paid_ids.len());
    assert!(data.orders.iter().all(|o| o.status == OrderStatus::Paid));
    let gross: f64 = data.orders.iter().map(|o| o.amount).sum();
    assert!((gross - paid_sum).abs() < 0.01, "{gross} {paid_sum}");
    assert_eq!(
        report
            .dropped
            .iter()
            .filter(|d| d.reason.contains("placed, not paid"))
            .count(),
        placed.len()
    );
    assert!(report.duplicates > 0);
    // Products named from the order stream.
    assert!(data.products.iter().all(|p| p.name != p.id));
    // Series with their kinds; rates ignored with the reason.
    let kind = |n: &str| data.metrics.iter().find(|m| m.name == n).map(|m| m.kind);
    assert_eq!(kind("online_viewers"), Some(MetricKind::Gauge));
    assert_eq!(kind("gmv"), Some(MetricKind::Flow));
    assert_eq!(kind("ad_spend"), Some(MetricKind::Flow));
    assert!(kind("gpm").is_none());
    assert!(report
        .fields
        .iter()
        .any(|f| f.field == "gpm" && f.used == FieldUse::Ignored && f.note.contains("recomputed")));
    // The per-minute gmv sums to the orders; the list's gmv to both.
    let gmv_series: f64 = data
        .samples
        .iter()
        .filter(|s| s.metric == "gmv")
        .map(|s| s.value)
        .sum();
    assert!(
        (gmv_series - paid_sum).abs() < 0.05,
        "{gmv_series} {paid_sum}"
    );
    assert!(!report.checks.is_empty());
    for c in &report.checks {
        assert!(c.agrees, "{c:?}");
    }
    // Session facts from the list's matching row and the traffic sources.
    assert_eq!(data.session.facts["viewers"], Fact::Number(30_101.0));
    assert!(data
        .session
        .facts
        .keys()
        .any(|k| k.starts_with("traffic.自然流量.推荐feed.")));
    assert!(data
        .session
        .facts
        .keys()
        .any(|k| k.starts_with("traffic.付费流量.")));
    // The trend's three missing minutes are a gap, not quiet minutes.
    let g: Vec<_> = report
        .gaps
        .iter()
        .filter(|g| g.source == "compass_trend")
        .collect();
    assert_eq!(g.len(), 1, "{:?}", report.gaps);
    assert_eq!(
        (g[0].start_ms, g[0].end_ms),
        (START + 95 * 60_000, START + 98 * 60_000)
    );
}

#[test]
fn a_douyin_capture_log_keeps_each_message_once_and_reports_its_gap() {
    let path = fixture("douyin_capture.jsonl");
    let (data, report) =
        read_sources(&[SourceFile::new(&path)], &SourceOptions::default()).unwrap();
    // Independent count: distinct chat msgIds among the JSON lines.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut chat = HashSet::new();
    let mut all = HashSet::new();
    let mut lines = 0;
    for l in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(l) else {
            continue;
        };
        lines += 1;
        let id = v["common"]["msgId"].as_str().unwrap().to_string();
        if v["method"] == "WebcastChatMessage" {
            chat.insert(id.clone());
        }
        all.insert(id);
    }
    assert_eq!(data.comments.len(), chat.len());
    assert_eq!(report.duplicates, lines - all.len());
    assert!(report.duplicates > 0);
    assert_eq!(data.session.room_id, "7311111111111111111");
    assert_eq!(data.room.platform.as_deref(), Some("douyin"));
    // The control message ends the session at 22:00.
    assert_eq!(data.session.end_ms, START + 2 * HOUR);
    // One reconnect gap, 20:47–20:51, kept with the session.
    assert_eq!(report.gaps.len(), 1, "{:?}", report.gaps);
    let g = &data.session.gaps[0];
    assert!((g.start_ms - (START + 47 * 60_000)).abs() < 30_000, "{g:?}");
    assert!((g.end_ms - (START + 51 * 60_000)).abs() < 30_000, "{g:?}");
    // Non-JSON log lines dropped with a reason; unknown methods ignored and named.
    assert!(report
        .dropped
        .iter()
        .any(|d| d.reason.contains("not a JSON object")));
    assert!(report
        .fields
        .iter()
        .any(|f| f.used == FieldUse::Ignored && f.field == "WebcastLiveShoppingMessage"));
    // Explain segments from the product changes, on products the room sells.
    // The eight explains the generator planted (tests/fixtures/imports/README.md).
    let planted = [
        ("3612479806231930048", 1795608095, 1795608757),
        ("3612185818511229064", 1795608846, 1795609600),
        ("3612784312308800055", 1795609671, 1795610456),
        ("3612944256849515843", 1795610527, 1795611302),
        ("3612620056268391426", 1795611348, 1795612013),
        ("3612489837639911019", 1795612080, 1795612829),
        ("3612745648108580125", 1795612885, 1795613705),
        ("3612268093703445191", 1795613774, 1795614549),
    ];
    let got: Vec<(&str, i64, i64)> = data
        .segments
        .iter()
        .map(|s| (s.product_id.as_str(), s.start_ms / 1000, s.end_ms / 1000))
        .collect();
    assert_eq!(got, planted);
    // Rounded running totals ("1.9万" after 19,316) are not counter resets.
    let views: f64 = data
        .samples
        .iter()
        .filter(|s| s.metric == "total_views")
        .map(|s| s.value)
        .sum();
    let last_pv = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["method"] == "WebcastRoomUserSeqMessage")
        .filter_map(|v| {
            v["totalPvForAnchor"]
                .as_str()
                .and_then(|x| x.parse::<f64>().ok())
        })
        .fold(0.0, f64::max);
    assert!(
        views <= last_pv,
        "{views} > {last_pv}: rounded totals read as resets"
    );
    let kind = |n: &str| data.metrics.iter().find(|m| m.name == n).map(|m| m.kind);
    assert_eq!(kind("online_viewers"), Some(MetricKind::Gauge));
    assert_eq!(kind("entries"), Some(MetricKind::Flow));
    assert_eq!(
        kind("likes"),
        Some(MetricKind::Flow),
        "cumulative likes are differenced"
    );
}

#[test]
fn a_tiktok_capture_log_reads_snake_and_camel_fields() {
    let (data, report) = read_sources(
        &[SourceFile::new(fixture("tiktok_capture.jsonl"))],
        &SourceOptions {
            timezone: "UTC".into(),
            ..Default::default()
        },
    )
    .unwrap();
    // The generator's 422 distinct comments, and the viewers' questions kept as comments.
    let questions = std::fs::read_to_string(fixture("tiktok_capture.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| l.contains(r#""type":"QuestionNewEvent""#))
        .count();
    assert!(questions > 0);
    assert_eq!(data.comments.len(), 422 + questions);
    assert_eq!(data.room.platform.as_deref(), Some("tiktok"));
    assert!(report.duplicates > 0);
    assert_eq!(report.gaps.len(), 1, "{:?}", report.gaps);
    let viewers: Vec<f64> = data
        .samples
        .iter()
        .filter(|s| s.metric == "online_viewers")
        .map(|s| s.value)
        .collect();
    assert!(viewers.len() > 50 && viewers.iter().all(|v| *v > 0.0));
    assert!(report
        .fields
        .iter()
        .any(|f| f.field == "QuestionNewEvent" && f.used == FieldUse::Mapped));
}

#[test]
fn tiktok_shop_minutes_read_alike_in_both_shapes() {
    let opts = SourceOptions {
        timezone: "UTC".into(),
        ..Default::default()
    };
    let (a, _) = read_sources(
        &[
            SourceFile::new(fixture("tiktok_shop_minutes.json")),
            SourceFile::new(fixture("tiktok_shop_session.json")),
        ],
        &opts,
    )
    .unwrap();
    let (b, _) = read_sources(
        &[SourceFile::new(fixture("tiktok_shop_minutes_alt.json"))],
        &opts,
    )
    .unwrap();
    let sum = |d: &vap_core::SessionData, m: &str| {
        d.samples
            .iter()
            .filter(|s| s.metric == m)
            .map(|s| s.value)
            .sum::<f64>()
    };
    assert!(sum(&a, "gmv") > 0.0);
    assert!((sum(&a, "gmv") - sum(&b, "gmv")).abs() < 0.01);
    assert!((sum(&a, "paid_orders") - sum(&b, "paid_orders")).abs() < 0.5);
    assert_eq!(a.session.start_ms, b.session.start_ms);
    // The last minute's end, not the instant after its stamp.
    assert_eq!(b.session.end_ms - b.session.start_ms, 30 * 60_000);
    assert_eq!(a.session.facts["peak_online"], Fact::Number(518.0));
    assert!((a.session.facts["click_conversion_rate"].as_f64().unwrap() - 0.056).abs() < 1e-12);
}

#[test]
fn bad_files_name_the_file_row_and_field_and_list_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("orders.json");
    std::fs::write(
        &p,
        r#"{"data": {"live_order_stream": [
            {"order_id": "1", "order_status": 3, "order_ts": "soon", "product_id": "p", "item_num": 1, "pay_amount": 5},
            {"order_id": "2", "order_status": 3, "order_ts": 1795608001, "product_id": "p", "item_num": 0, "pay_amount": 5},
            {"order_id": "3", "order_status": 3, "order_ts": 1795608002, "product_id": "p", "item_num": 1, "pay_amount": "abc"}
        ]}}"#,
    )
    .unwrap();
    let e = read_sources(&[SourceFile::new(&p)], &SourceOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let fields: Vec<(Option<usize>, Option<&str>)> = e
        .problems()
        .iter()
        .map(|p| (p.row, p.field.as_deref()))
        .collect();
    assert_eq!(
        fields,
        vec![
            (Some(1), Some("order_ts")),
            (Some(2), Some("item_num")),
            (Some(3), Some("pay_amount"))
        ]
    );
    assert!(e.problems().iter().all(|q| q.file.ends_with("orders.json")));
    // A session list with a bad time and a bad number: both named.
    let csv = dir.path().join("list.csv");
    std::fs::write(&csv, "直播开始时间,直播结束时间,直播间成交金额\n2026/11/25 20:00:00,2026/11/25 22:00:00,12元x\nyesterday,2026/11/25 22:00:00,5\n").unwrap();
    let e = read_compass_sessions(&csv, &SourceOptions::default()).unwrap_err();
    let fields: Vec<(Option<usize>, Option<&str>)> = e
        .problems()
        .iter()
        .map(|p| (p.row, p.field.as_deref()))
        .collect();
    assert_eq!(
        fields,
        vec![
            (Some(1), Some("直播间成交金额")),
            (Some(2), Some("直播开始时间"))
        ]
    );
    // Options are checked before any work.
    let e = read_sources(
        &[SourceFile::new(&p)],
        &SourceOptions {
            timezone: "Mars/Base".into(),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn an_order_stream_as_a_bare_list_with_placed_then_paid_orders() {
    // oba-live-tool's shape: `{data: [items], msg}`, no amounts; an order seen
    // placed (0) and later paid (3) is one paid order.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("stream.json");
    std::fs::write(
        &p,
        r#"{"msg": "", "data": [
            {"order_id": "9", "order_status": 0, "order_ts": 1795608001, "product_id": "p1", "product_title": "羊绒围巾", "item_num": 2, "nick_name": "小***"},
            {"order_id": "9", "order_status": 3, "order_ts": 1795608010, "product_id": "p1", "product_title": "羊绒围巾", "item_num": 2, "nick_name": "小***"},
            {"order_id": "9", "order_status": 3, "order_ts": 1795608010, "product_id": "p1", "product_title": "羊绒围巾", "item_num": 2, "nick_name": "小***"},
            {"order_id": "7", "order_status": 0, "order_ts": 1795608020, "product_id": "p1", "product_title": "羊绒围巾", "item_num": 1, "nick_name": "大***"}
        ]}"#,
    )
    .unwrap();
    assert_eq!(detect_format(&p).unwrap(), SourceFormat::CompassOrders);
    let (data, report) = read_sources(&[SourceFile::new(&p)], &SourceOptions::default()).unwrap();
    assert_eq!(data.orders.len(), 1);
    assert_eq!(data.orders[0].quantity, 2);
    assert_eq!(report.duplicates, 1);
    assert!(report
        .dropped
        .iter()
        .any(|d| d.reason.contains("paid later")));
    assert!(report
        .dropped
        .iter()
        .any(|d| d.reason.contains("placed, not paid")));
    assert!(
        report.notes.iter().any(|n| n.contains("carry no amount")),
        "{:?}",
        report.notes
    );
    assert_eq!(data.products[0].name, "羊绒围巾");
}

#[test]
fn an_imported_session_replays_and_its_capture_gap_is_read_as_missing_data() {
    use vap_core::replay::{replay, NoteKind, ReplayOptions};
    let files = [
        SourceFile::new(fixture("compass_trend.json")),
        SourceFile::new(fixture("compass_orders.json")),
        SourceFile::new(fixture("compass_sessions.xlsx")),
        SourceFile::new(fixture("douyin_capture.jsonl")),
    ];
    let (data, report) = read_sources(&files, &SourceOptions::default()).unwrap();
    // The capture's online viewers keep the name, the trend's are kept apart, said so.
    assert!(data
        .metrics
        .iter()
        .any(|m| m.name == "online_viewers_compass"));
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("online_viewers_compass")),
        "{:?}",
        report.notes
    );
    // The list counts comments the capture lost in its gap: the check says so.
    let c = report
        .checks
        .iter()
        .find(|c| c.what.starts_with("comments"))
        .unwrap();
    assert!(c.summed < c.reported, "{c:?}");
    let r = replay(&data, &[], &ReplayOptions::default()).unwrap();
    let first = &r.quality.notes[0];
    assert_eq!(first.kind, NoteKind::Gap);
    assert_eq!(first.stream, "douyin_capture");
    assert_eq!(first.start_ms, Some(data.session.gaps[0].start_ms));
    assert!(r
        .quality
        .gap_in(START + 48 * 60_000, START + 49 * 60_000)
        .is_some());
}

#[test]
fn mangled_exports_are_errors_never_panics() {
    // Seeded byte mutations and truncations of every fixture, through the
    // fuzz entry point (the cargo-fuzz target `source` runs the same).
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    let names = [
        (0u8, "compass_sessions.csv"),
        (0, "compass_sessions.xlsx"),
        (1, "compass_trend_grouped.json"),
        (2, "compass_orders.json"),
        (3, "compass_traffic.json"),
        (4, "douyin_capture.jsonl"),
        (5, "tiktok_capture.jsonl"),
        (6, "tiktok_shop_session.json"),
        (7, "tiktok_shop_minutes_alt.json"),
    ];
    for (fmt, name) in names {
        let full = std::fs::read(fixture(name)).unwrap();
        let base: Vec<u8> = if name.ends_with("xlsx") {
            full
        } else {
            full[..full.len().min(8_000)].to_vec()
        };
        for _ in 0..40 {
            let mut b = base.clone();
            for _ in 0..rng.random_range(1..6) {
                let i = rng.random_range(0..b.len());
                match rng.random_range(0..3) {
                    0 => b[i] = rng.random(),
                    1 => b.truncate(i.max(1)),
                    _ => b.insert(
                        i,
                        *b"-,\"}]%\n\xe4"[rng.random_range(0..8)..].first().unwrap(),
                    ),
                }
            }
            let mut input = vec![fmt];
            input.extend(b);
            vap_core::fuzzing::source(&input);
        }
    }
}

#[test]
fn the_platforms_session_figures_stand_in_where_the_streams_have_none() {
    use vap_core::replay::{digest, headline};
    // Orders and the session list only: no views or online-viewer series.
    let files = [
        SourceFile::new(fixture("compass_orders.json")),
        SourceFile::new(fixture("compass_sessions.csv")),
    ];
    let (data, _) = read_sources(&files, &SourceOptions::default()).unwrap();
    let head = headline(&data, &[]);
    let fig = |k: &str| head.iter().find(|f| f.key == k).unwrap();
    let views = data.session.facts["views"].as_f64().unwrap();
    assert_eq!(fig("views").value, Some(views));
    assert!(
        fig("views").from.starts_with("platform"),
        "{}",
        fig("views").from
    );
    assert_eq!(
        fig("peak_online").value,
        data.session.facts["peak_online"].as_f64()
    );
    let gross = fig("gmv_gross").value.unwrap();
    assert!((fig("gpm").value.unwrap() - gross * 1000.0 / views).abs() < 1e-9);
    // Own streams win over the platform's figure.
    let (full, _) = read_sources(
        &[
            SourceFile::new(fixture("compass_trend.json")),
            files[0].clone(),
            files[1].clone(),
        ],
        &SourceOptions::default(),
    )
    .unwrap();
    let h2 = headline(&full, &[]);
    let v2 = h2.iter().find(|f| f.key == "views").unwrap();
    assert!(v2.from.starts_with("metric"), "{}", v2.from);
    // The history compares them: the digest carries the figure.
    assert_eq!(digest(&data, &[]).headline.get("views"), Some(&views));
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn gift_streaks_count_once_and_missing_defaults_are_never_sales_or_ends() {
    let dir = tempfile::tempdir().unwrap();
    let line = |id: u32, t: i64, body: &str| {
        format!(r#"{{"method":"{body}","common":{{"msgId":"{id}","createTime":"{t}"}}"#)
    };
    let t0 = START;
    let mut log = String::new();
    // A streak of three roses (repeatCount 1, 2, 3, then 3 again), a lone gift later.
    for (k, c) in [1, 2, 3, 3].iter().enumerate() {
        log += &line(k as u32, t0 + k as i64 * 1000, "WebcastGiftMessage");
        log += &format!(
            r#","user":{{"id":"u1"}},"giftId":"5","repeatCount":"{c}","gift":{{"diamondCount":1}}}}"#
        );
        log += "\n";
    }
    log += &line(9, t0 + 60_000, "WebcastGiftMessage");
    log += r#","user":{"id":"u2"},"giftId":"5","gift":{"diamondCount":10}}"#;
    log += "\n";
    // A control message without a status (0, omitted by the dump) is not the end.
    log += &line(10, t0 + 90_000, "WebcastControlMessage");
    log += "}\n";
    log += &line(11, t0 + 120_000, "WebcastRoomUserSeqMessage");
    log += r#","total":"12"}"#;
    log += "\n";
    let p = write(dir.path(), "gifts.jsonl", &log);
    let (data, _) = read_sources(&[SourceFile::new(&p)], &SourceOptions::default()).unwrap();
    let sum = |m: &str| {
        data.samples
            .iter()
            .filter(|s| s.metric == m)
            .map(|s| s.value)
            .sum::<f64>()
    };
    assert_eq!(sum("gifts"), 4.0);
    assert_eq!(sum("gift_diamonds"), 13.0);
    assert_eq!(
        data.session.end_ms,
        t0 + 120_001,
        "no end message: after the last data"
    );
    // An order without a status is placed, not paid.
    let o = write(
        dir.path(),
        "orders.json",
        r#"{"data": [{"order_id": "1", "order_ts": 1795608001, "product_id": "p", "pay_amount": 5},
                      {"order_id": "2", "order_status": 3, "order_ts": 1795608002, "product_id": "p", "pay_amount": 7}]}"#,
    );
    let (data, report) = read_sources(&[SourceFile::new(&o)], &SourceOptions::default()).unwrap();
    assert_eq!(data.orders.len(), 1);
    assert_eq!(data.orders[0].id, "2");
    assert!(report.dropped.iter().any(|d| d.reason.contains("order 1")));
}

#[test]
fn times_out_of_range_are_errors_and_excel_serials_in_csv_are_read() {
    let dir = tempfile::tempdir().unwrap();
    // A point a billion seconds away would make a walk over its minutes: refused instead.
    let p = write(
        dir.path(),
        "trend.json",
        r#"{"data": {"trends": [{"point_name": "pay_amt", "horizontal": 1795608000, "vertical": 1},
                                 {"point_name": "pay_amt", "horizontal": 1e15, "vertical": 1}]}}"#,
    );
    let e = read_sources(&[SourceFile::new(&p)], &SourceOptions::default()).unwrap_err();
    assert_eq!(e.problems()[0].row, Some(2));
    assert_eq!(e.problems()[0].field.as_deref(), Some("horizontal"));
    let c = write(
        dir.path(),
        "capture.jsonl",
        "{\"method\":\"WebcastChatMessage\",\"common\":{\"msgId\":\"1\",\"createTime\":\"1e300\"},\"content\":\"hi\"}\n",
    );
    assert!(read_sources(&[SourceFile::new(&c)], &SourceOptions::default()).is_err());
    // A CSV re-saved from Excel: the times as serial numbers.
    let l = write(
        dir.path(),
        "list.csv",
        "直播开始时间,直播结束时间,直播间成交金额\n46351.833333333336,46351.916666666664,5\n",
    );
    let (rows, _) = read_compass_sessions(&l, &SourceOptions::default()).unwrap();
    assert_eq!(rows[0].start_ms, START);
    assert_eq!(rows[0].end_ms, START + 2 * HOUR);
}

#[test]
fn a_capture_that_starts_late_has_a_gap_at_the_sessions_start() {
    let opts = SourceOptions {
        start_ms: Some(START - 10 * 60_000),
        ..Default::default()
    };
    let (data, report) =
        read_sources(&[SourceFile::new(fixture("douyin_capture.jsonl"))], &opts).unwrap();
    assert_eq!(data.session.start_ms, START - 10 * 60_000);
    let first = &report.gaps[0];
    assert_eq!(first.start_ms, START - 10 * 60_000);
    assert!(
        first.end_ms >= START && first.end_ms < START + 10_000,
        "{first:?}"
    );
    assert!(first.reason.contains("started late"), "{first:?}");
    assert_eq!(data.session.gaps, report.gaps);
}

#[test]
fn family_readers_check_their_roles_and_capture_logs_are_capture_logs() {
    use vap_core::ingest::sources::{read_capture_log, read_family};
    let e = read_family(
        "compass",
        &[("trendz".into(), fixture("compass_trend.json"))],
        &SourceOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(
        e.to_string().contains("trend, orders, sessions, traffic"),
        "{e}"
    );
    assert!(read_family("kuaishou", &[], &SourceOptions::default()).is_err());
    let (a, _) = read_family(
        "tiktok_shop",
        &[("minutes".into(), fixture("tiktok_shop_minutes.json"))],
        &SourceOptions::default(),
    )
    .unwrap();
    assert!(!a.samples.is_empty());
    let e = read_capture_log(fixture("compass_trend.json"), &SourceOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
    assert!(e.to_string().contains("compass_trend"), "{e}");
}

#[test]
fn a_restarted_capture_replaying_into_its_next_log_counts_each_message_once() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("douyin_capture.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let half = lines.len() / 2;
    // The second log starts with the first one's last 40 lines again.
    let a = write(dir.path(), "a.jsonl", &(lines[..half].join("\n") + "\n"));
    let b = write(
        dir.path(),
        "b.jsonl",
        &(lines[half - 40..].join("\n") + "\n"),
    );
    let (one, _) = read_sources(
        &[SourceFile::new(fixture("douyin_capture.jsonl"))],
        &SourceOptions::default(),
    )
    .unwrap();
    let (two, report) = read_sources(
        &[SourceFile::new(&a), SourceFile::new(&b)],
        &SourceOptions::default(),
    )
    .unwrap();
    assert_eq!(two.comments.len(), one.comments.len());
    assert!(report.duplicates >= 40);
}

#[test]
fn declared_gaps_are_missing_bins_on_the_timeline_not_quiet_ones() {
    use vap_core::align::Timeline;
    let (data, _) = read_sources(
        &[SourceFile::new(fixture("douyin_capture.jsonl"))],
        &SourceOptions::default(),
    )
    .unwrap();
    let g = data.session.gaps[0].clone();
    assert!(
        g.streams.iter().any(|s| s == "comments")
            && g.streams.iter().any(|s| s == "online_viewers"),
        "{g:?}"
    );
    let check = |data: &vap_core::SessionData, blank: &[&str], kept: &[&str]| {
        let tl = Timeline::build(data, &Default::default()).unwrap();
        let (t, step) = (tl.time_ms().to_vec(), tl.step_ms());
        let inside: Vec<usize> = (0..t.len())
            .filter(|&i| t[i] >= g.start_ms && t[i] + step <= g.end_ms)
            .collect();
        assert!(inside.len() >= 10, "{} bins inside the gap", inside.len());
        let before = inside[0] - 3;
        for col in blank {
            let v = tl.values(col).unwrap();
            let m = tl
                .missing(col)
                .unwrap_or_else(|| panic!("{col} has missing bins"));
            assert!(inside.iter().all(|&i| v[i].is_nan() && m[i]), "{col}");
            assert!(!m[before] && v[before].is_finite(), "{col} before the gap");
        }
        for col in kept {
            let v = tl.values(col).unwrap();
            assert!(inside.iter().all(|&i| v[i].is_finite()), "{col} is kept");
        }
    };
    // the capture's own streams are missing there; the plan (explains) is not
    check(&data, &["comments", "online_viewers"], &["explain:any"]);
    // a gap naming a stream no column has leaves every column alone: the
    // comments read as a quiet room again (the gauge is missing there anyway:
    // its last reading is too stale)
    let mut none = data.clone();
    none.session.gaps[0].streams = vec!["nothing".into()];
    check(&none, &[], &["comments", "explain:any"]);
    // a hand-declared gap naming no stream blanks every measured one
    let mut all = data.clone();
    all.session.gaps[0].streams.clear();
    check(&all, &["comments", "online_viewers"], &["explain:any"]);
}

#[test]
fn each_sources_clock_is_estimated_against_the_platforms_and_applied_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    // the capture's clock 20 s ahead of the platform's
    let text = std::fs::read_to_string(fixture("douyin_capture.jsonl")).unwrap();
    let mut shifted = String::new();
    for line in text.lines() {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(mut v) => {
                if let Some(t) = v["common"]["createTime"].as_str() {
                    let t: i64 = t.parse().unwrap();
                    v["common"]["createTime"] = serde_json::Value::String((t + 20_000).to_string());
                }
                shifted.push_str(&v.to_string());
            }
            Err(_) => shifted.push_str(line),
        }
        shifted.push('\n');
    }
    let late = write(dir.path(), "late_capture.jsonl", &shifted);
    let read = |capture: &std::path::Path, apply: bool| {
        let opts = SourceOptions {
            apply_offsets: apply,
            ..Default::default()
        };
        read_sources(
            &[
                SourceFile::new(fixture("compass_trend.json")),
                SourceFile::new(capture),
            ],
            &opts,
        )
        .unwrap()
    };
    let (base, report) = read(&fixture("douyin_capture.jsonl"), false);
    let o = &report.offsets[0];
    assert_eq!(
        (o.source.as_str(), o.reference.as_str()),
        ("douyin_capture", "compass")
    );
    assert!(o.channels.iter().any(|c| c.contains("comments")), "{o:?}");
    let off = o.offset_ms.expect("the shared streams tell the offset");
    assert!(
        off.abs() <= 5_000.0,
        "the fixture's sources share a clock: {off}"
    );
    let (kept, report) = read(&late, false);
    let o = &report.offsets[0];
    let off = o.offset_ms.unwrap();
    assert!((off - 20_000.0).abs() <= 5_000.0, "{o:?}");
    assert!(!o.applied);
    let diff = |a: &vap_core::SessionData, b: &vap_core::SessionData| {
        let mut d: Vec<i64> = a
            .comments
            .iter()
            .zip(&b.comments)
            .map(|(x, y)| x.ts_ms - y.ts_ms)
            .collect();
        d.sort_unstable();
        d[d.len() / 2]
    };
    assert_eq!(diff(&kept, &base), 20_000, "reported, not applied");
    let (moved, report) = read(&late, true);
    assert!(report.offsets[0].applied);
    assert!(
        diff(&moved, &base).abs() <= 5_000,
        "applied: back on the platform's clock"
    );
    assert_eq!(moved.comments.len(), base.comments.len());
    // a capture alone has nothing to be measured against
    let (_, alone) = read_sources(
        &[SourceFile::new(fixture("douyin_capture.jsonl"))],
        &SourceOptions::default(),
    )
    .unwrap();
    assert!(alone.offsets.is_empty());
}

#[test]
fn tiktok_shops_per_session_download_reads_as_its_json_does() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(
        dir.path(),
        "live_performance.csv",
        "LIVE name,Start time,GMV,SKU orders,Customers,Click-to-order rate,ACU,PCU,Viewers,Views,Avg. viewing duration,Comments,New followers,Product impressions,Product clicks,Click-through rate\n\
         Winter sale,2026-11-26 20:00:00,\"2,429.31\",55,53,5.6%,399,518,4802,6579,62,452,24,\"13,025\",978,7.5%\n",
    );
    assert_eq!(
        detect_format(&csv).unwrap(),
        SourceFormat::TiktokShopSession
    );
    let read = |p: PathBuf| {
        read_sources(
            &[
                SourceFile::new(fixture("tiktok_shop_minutes.json")),
                SourceFile::new(p),
            ],
            &SourceOptions::default(),
        )
        .unwrap()
    };
    let (from_json, _) = read(fixture("tiktok_shop_session.json"));
    let (from_csv, report) = read(csv.clone());
    for (k, v) in &from_json.session.facts {
        assert_eq!(from_csv.session.facts.get(k), Some(v), "fact {k}");
    }
    // the columns the JSON has not are kept as exported
    assert_eq!(
        from_csv.session.facts.get("LIVE name"),
        Some(&Fact::Text("Winter sale".into()))
    );
    assert!(report
        .fields
        .iter()
        .any(|f| f.field == "Avg. viewing duration" && f.target == "fact:avg_watch_seconds"));
    // two sessions in one download, a bad number: errors naming file, row, field
    let two = write(dir.path(), "two.csv", "GMV,SKU orders\n1,2\n3,4\n");
    let e = read_sources(
        &[SourceFile::of(&two, SourceFormat::TiktokShopSession)],
        &SourceOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("2 session rows") && e.to_string().contains("two.csv"),
        "{e}"
    );
    let bad = write(dir.path(), "bad.csv", "GMV,SKU orders\nlots,2\n");
    let e = read_sources(
        &[SourceFile::of(&bad, SourceFormat::TiktokShopSession)],
        &SourceOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("GMV") && e.to_string().contains("bad.csv"),
        "{e}"
    );
}
