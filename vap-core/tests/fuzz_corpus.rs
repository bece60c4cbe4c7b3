//! Replays the committed fuzz corpus and every crash found by fuzzing
//! (`fuzz/corpus/<target>/`, `fuzz/regressions/<target>/`) through the same
//! entry points the cargo-fuzz targets use, so a normal `cargo test` catches a
//! regression without a nightly toolchain or libFuzzer.
//!
//! `cargo test -p vap-core --test fuzz_corpus -- --ignored write_seed_corpus`
//! regenerates the seed files (`seed-*`) from the simulator and hand-written
//! edge cases.

use std::fs;
use std::path::{Path, PathBuf};

use vap_core::fuzzing;

type Target = (&'static str, fn(&[u8]));

const TARGETS: &[Target] = &[
    ("csv_table", fuzzing::csv_table),
    ("source", fuzzing::source),
    ("jsonl_table", fuzzing::jsonl_table),
    ("parquet_table", fuzzing::parquet_table),
    ("manifest", fuzzing::manifest),
    ("manifest_paths", fuzzing::manifest_paths),
    ("stored_table", fuzzing::stored_table),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Plain files of a directory, sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    out.sort();
    out
}

fn replay(target: &str, run: fn(&[u8])) -> (usize, usize) {
    let corpus = files(&fuzz_dir().join("corpus").join(target));
    let regressions = files(&fuzz_dir().join("regressions").join(target));
    for path in corpus.iter().chain(&regressions) {
        let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let outcome = std::panic::catch_unwind(|| run(&bytes));
        assert!(
            outcome.is_ok(),
            "fuzz target {target} panicked on {}",
            path.display()
        );
    }
    (corpus.len(), regressions.len())
}

#[test]
fn source_corpus() {
    let (corpus, _) = replay("source", fuzzing::source);
    assert!(corpus > 0, "fuzz/corpus/source is empty or missing");
}

#[test]
fn csv_table_corpus() {
    let (corpus, _) = replay("csv_table", fuzzing::csv_table);
    assert!(corpus > 0, "fuzz/corpus/csv_table is empty or missing");
}

#[test]
fn jsonl_table_corpus() {
    let (corpus, _) = replay("jsonl_table", fuzzing::jsonl_table);
    assert!(corpus > 0, "fuzz/corpus/jsonl_table is empty or missing");
}

#[test]
fn parquet_table_corpus() {
    let (corpus, _) = replay("parquet_table", fuzzing::parquet_table);
    assert!(corpus > 0, "fuzz/corpus/parquet_table is empty or missing");
}

#[test]
fn manifest_corpus() {
    let (corpus, _) = replay("manifest", fuzzing::manifest);
    assert!(corpus > 0, "fuzz/corpus/manifest is empty or missing");
}

#[test]
fn manifest_paths_corpus() {
    let (corpus, _) = replay("manifest_paths", fuzzing::manifest_paths);
    assert!(corpus > 0, "fuzz/corpus/manifest_paths is empty or missing");
}

#[test]
fn stored_table_corpus() {
    let (corpus, _) = replay("stored_table", fuzzing::stored_table);
    assert!(corpus > 0, "fuzz/corpus/stored_table is empty or missing");
}

#[test]
fn every_target_has_a_directory() {
    for (target, _) in TARGETS {
        assert!(
            fuzz_dir().join("corpus").join(target).is_dir(),
            "fuzz/corpus/{target} is missing"
        );
    }
}

// ---------------------------------------------------------------- seed corpus

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = fuzz_dir().join("corpus").join(target);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
}

fn with_selector(table: usize, bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![table as u8];
    v.extend_from_slice(bytes);
    v
}

#[test]
#[ignore = "writes fuzz/corpus/*/seed-*; run by hand"]
fn write_seed_corpus() {
    use vap_core::ingest::{table_bytes, Format, Manifest};
    use vap_core::sim::{simulate, SimConfig};
    use vap_core::table::TableName;
    use vap_core::text::Encoding;

    let room = simulate(&SimConfig {
        seed: 3,
        hours: 0.05,
        ..Default::default()
    })
    .unwrap();
    let mut data = room.data.clone();
    data.anchors.truncate(3);
    data.products.truncate(4);
    data.shifts.truncate(3);
    data.segments.truncate(3);
    data.promotions.truncate(3);
    data.comments.truncate(4);
    data.orders.truncate(4);
    data.utterances.truncate(3);
    data.samples.truncate(5);

    for (i, t) in TableName::ALL.into_iter().enumerate() {
        let name = t.as_str();
        let csv = table_bytes(&data, t, Format::Csv, Encoding::Utf8, false).unwrap();
        write(
            "csv_table",
            &format!("sim-{name}.csv"),
            &with_selector(i, &csv),
        );
        let jsonl = table_bytes(&data, t, Format::Jsonl, Encoding::Utf8, false).unwrap();
        write(
            "jsonl_table",
            &format!("sim-{name}.jsonl"),
            &with_selector(i, &jsonl),
        );
        let pq = table_bytes(&data, t, Format::Parquet, Encoding::Utf8, false).unwrap();
        write("parquet_table", &format!("sim-{name}.parquet"), &pq);
    }
    // GB18030 exports, keyed Parquet, pseudonymised selector (b + 9).
    for (t, i) in [(TableName::Comments, 5), (TableName::Products, 2)] {
        let gb = table_bytes(&data, t, Format::Csv, Encoding::Gb18030, false).unwrap();
        write(
            "csv_table",
            &format!("gb18030-{}.csv", t.as_str()),
            &with_selector(i, &gb),
        );
        let gb = table_bytes(&data, t, Format::Jsonl, Encoding::Gb18030, false).unwrap();
        write(
            "jsonl_table",
            &format!("gb18030-{}.jsonl", t.as_str()),
            &with_selector(i + 9, &gb),
        );
    }
    let pq = table_bytes(
        &data,
        TableName::Orders,
        Format::Parquet,
        Encoding::Utf8,
        true,
    )
    .unwrap();
    write("parquet_table", "keyed-orders.parquet", &pq);
    let empty = vap_core::SessionData::new(data.room.clone(), data.session.clone());
    let pq = table_bytes(
        &empty,
        TableName::Comments,
        Format::Parquet,
        Encoding::Utf8,
        false,
    )
    .unwrap();
    write("parquet_table", "empty-comments.parquet", &pq);

    // Hand-written CSV edge cases (selector byte: table index, +9 = pseudonymise).
    let t0 = fuzzing::SESSION_START_MS;
    let csv_cases: Vec<(&str, usize, Vec<u8>)> = vec![
        (
            "bom-comments.csv",
            5,
            format!("\u{feff}ts_ms,viewer_id,text\n{t0},u1,多少钱\n{},u2,\"有没有,大码\"\n", t0 + 5)
                .into_bytes(),
        ),
        (
            "ragged-orders.csv",
            6,
            format!("id,ts_ms,product_id,quantity,amount,status\no1,{t0},p01,1,9.9,paid\no2,{t0},p02\no3,{t0},p01,2,19.8,paid,extra\n")
                .into_bytes(),
        ),
        (
            "rfc3339-shifts.csv",
            1,
            b"anchor_id,role,start_ms,end_ms\na1,host,2026-11-25T20:00:00+08:00,2026-11-25 21:00:00.5Z\na2,\xe5\x89\xaf\xe6\x92\xad,2026-11-25T20:30:00+08:00,2026-11-25T19:00:00+08:00\na3,host,2026-11-25 20:00:00,yesterday\n".to_vec(),
        ),
        (
            "huge-numbers-orders.csv",
            15,
            format!("id,ts_ms,product_id,quantity,amount,status,viewer_id\no1,{t0},p01,99999999999999999999,1e308,paid,v1\no2,9223372036854775807,p01,4294967296,1e400,refund,v2\no3,-9223372036854775808,p01,-1,-0.0,已退款,\n")
                .into_bytes(),
        ),
        (
            "nan-metrics.csv",
            8,
            format!("metric,ts_ms,value\nentries,{t0},NaN\nlikes,{t0},inf\nlikes,{},5\nlikes,{},3\nonline_viewers,{},-1\nundeclared,{t0},1\n", t0 + 1000, t0 + 2000, t0 + 3000)
                .into_bytes(),
        ),
        (
            "products-aliases.csv",
            2,
            "id,name,price,category,aliases\np01,小黑瓶,199,美妆,小黑|黑瓶||\np01,dup,-1,,\n p02 ,ＡＢＣ　１２３,0,,a|b\n".as_bytes().to_vec(),
        ),
        (
            "promotions-enums.csv",
            4,
            format!("id,kind,label,product_id,start_ms,end_ms\npr1,秒杀,限时,p01,{t0},{}\npr2,lucky-bag,,,{t0},{t0}\npr3,nope,x,p99,{},{t0}\n", t0 + 60000, t0 + 5)
                .into_bytes(),
        ),
        (
            "utterances-confidence.csv",
            7,
            format!("start_ms,end_ms,text,speaker,confidence\n{t0},{},欢迎来到直播间,host,0.9\n{t0},{},x,,1.5\n", t0 + 900, t0 + 1)
                .into_bytes(),
        ),
        ("segments-quoted.csv", 3, b"\"product_id\",\"kind\",\"start_ms\",\"end_ms\"\n\"p01\",\"\xe8\xae\xb2\xe8\xa7\xa3\",\"1795608000000\",\"1795608060000\"\n\"p0\"\"1\",pinned,\"1795608000000\n\",1\n".to_vec()),
        ("anchors-gb18030-raw.csv", 0, [b"id,name\na1,".as_slice(), &[0xd6, 0xf7, 0xb2, 0xa5], b"\na2,\x81\x30\x81\x30\n"].concat()),
        ("empty-header-only.csv", 6, b"id,ts_ms,product_id,quantity,amount,status\n".to_vec()),
        ("crlf-anchors.csv", 0, b"id,name\r\na1,A\r\na2,\"B\r\nC\"\r\n".to_vec()),
    ];
    for (name, sel, bytes) in &csv_cases {
        write("csv_table", name, &with_selector(*sel, bytes));
    }

    // Hand-written JSON Lines edge cases.
    let jsonl_cases: Vec<(&str, usize, String)> = vec![
        (
            "mixed-types-orders.jsonl",
            6,
            format!("{{\"id\":\"o1\",\"ts_ms\":{t0},\"product_id\":\"p01\",\"quantity\":1,\"amount\":9.9,\"status\":\"paid\"}}\n\n{{\"id\":2,\"ts_ms\":\"2026-11-25T20:00:00+08:00\",\"product_id\":\"p01\",\"quantity\":2.0,\"amount\":\"19.8\",\"status\":\"已支付\",\"viewer_id\":null}}\n{{\"id\":\"o3\",\"ts_ms\":1.5,\"product_id\":[\"p01\"],\"quantity\":true,\"amount\":1e999,\"status\":\"paid\"}}\n[1,2]\n{{bad json\n"),
        ),
        (
            "aliases-products.jsonl",
            2,
            "{\"id\":\"p01\",\"name\":\"小黑瓶\",\"price\":199,\"aliases\":[\"小黑\",null,\"\"]}\n{\"id\":\"p02\",\"name\":\"x\",\"price\":1,\"aliases\":[1]}\n{\"id\":\"p03\",\"name\":{\"a\":1},\"price\":18446744073709551615}\n".to_string(),
        ),
        (
            "metrics-cumulative.jsonl",
            8,
            format!("{{\"metric\":\"likes\",\"ts_ms\":{},\"value\":10}}\n{{\"metric\":\"likes\",\"ts_ms\":{t0},\"value\":5}}\n{{\"metric\":\"likes\",\"ts_ms\":{},\"value\":2}}\n{{\"metric\":\"entries\",\"ts_ms\":{t0},\"value\":-1e-300}}\n", t0 + 2000, t0 + 3000),
        ),
        (
            "comments-pseudonymised.jsonl",
            14,
            format!("\u{feff}{{\"ts_ms\":{t0},\"viewer_id\":\"user42\",\"text\":\"ｈｏｗ　ｍｕｃｈ？\"}}\n{{\"ts_ms\":{},\"viewer_id\":7,\"text\":\"多少钱\\n\\t有没有大码\"}}\n", t0 + 1),
        ),
        (
            "shifts-far-outside.jsonl",
            1,
            "{\"anchor_id\":\"a9\",\"role\":\"场控\",\"start_ms\":-9223372036854775808,\"end_ms\":9223372036854775807}\n".to_string(),
        ),
    ];
    for (name, sel, text) in &jsonl_cases {
        write("jsonl_table", name, &with_selector(*sel, text.as_bytes()));
    }

    // Manifests.
    let m = serde_json::to_vec_pretty(&Manifest::of(&room.data)).unwrap();
    write("manifest", "sim.json", &m);
    let manifest_cases: Vec<(&str, Vec<u8>)> = vec![
        ("minimal.json", br#"{"vap_format":1,"room":{"id":"r","name":"n"},"session":{"id":"s","start_ms":0,"end_ms":1}}"#.to_vec()),
        ("future-version.json", br#"{"vap_format":4294967296,"room":{"id":"r","name":"n"},"session":{"id":"s","start_ms":0,"end_ms":1}}"#.to_vec()),
        ("bad-ids.json", br#"{"vap_format":1,"room":{"id":"../x","name":"n"},"session":{"id":".s","room_id":"other","start_ms":9223372036854775807,"end_ms":-9223372036854775808,"title":" t\u3000"},"metrics":[{"name":"m","kind":"flow"},{"name":"m","kind":"gauge"}],"tables":{"orders":"o.csv","nope":"x"}}"#.to_vec()),
        ("recordings.json", br#"{"vap_format":0,"room":{"id":"r","name":"n","platform":null},"session":{"id":"s","start_ms":1795608000000,"end_ms":1795622400000,"timezone":"Asia/Shanghai","recordings":[{"path":"a.mp4","offset_ms":-5}]},"metrics":[{"name":"likes","kind":"cumulative","unit":"count"}]}"#.to_vec()),
        ("gb18030.json", vap_core::text::encode(r#"{"vap_format":1,"room":{"id":"直播间","name":"旗舰店"},"session":{"id":"场次","start_ms":1795608000000,"end_ms":1795622400000}}"#, Encoding::Gb18030)),
        ("not-json.json", b"\xef\xbb\xbf{\"vap_format\": 1,".to_vec()),
    ];
    for (name, bytes) in &manifest_cases {
        write("manifest", name, bytes);
    }
}

#[test]
#[ignore = "writes fuzz/corpus/{manifest_paths,stored_table}/seed-*; run by hand"]
fn write_seed_corpus_paths_and_store() {
    use vap_core::store::{ImportOptions, Store};
    use vap_core::table::TableName;

    let head = r#"{"vap_format": 1,
  "room": {"id": "r", "name": "R", "platform": "douyin"},
  "session": {"id": "s", "start_ms": 1795608000000, "end_ms": 1795622400000,
              "timezone": "Asia/Shanghai"},
  "metrics": [{"name": "gmv", "kind": "flow", "unit": "yuan"}],
  "tables": "#;
    for (name, path) in [
        ("inside", "metrics.csv"),
        ("sub", "sub/metrics.csv"),
        ("link-inside", "in.csv"),
        ("parent", "../outside.csv"),
        ("absolute", "/etc/hostname"),
        ("link-out", "out.csv"),
        ("dangling", "dangling.csv"),
        ("loop", "loop.csv"),
        ("directory", "dir.csv"),
        ("nul", "nul.csv"),
        ("dev-zero", "/dev/zero"),
        ("dot", "."),
        ("empty", ""),
        ("nul-in-name", "metrics.csv\\u0000x"),
    ] {
        let json = format!("{head}{{\"metrics\": \"{path}\", \"anchors\": \"anchors.csv\"}}}}");
        write("manifest_paths", name, json.as_bytes());
    }
    write(
        "manifest_paths",
        "no-tables",
        format!("{head}{{}}}}").as_bytes(),
    );

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let data = vap_core::sim::simulate(&vap_core::sim::SimConfig {
        seed: 5,
        hours: 0.02,
        session_id: Some("s".into()),
        ..Default::default()
    })
    .unwrap()
    .data;
    store.import(&data, &ImportOptions::default()).unwrap();
    let sdir = store.session_dir(&data.room.id, "s").unwrap();
    for (i, t) in TableName::ALL.iter().enumerate() {
        let bytes = fs::read(sdir.join(format!("{}.parquet", t.as_str()))).unwrap();
        write("stored_table", t.as_str(), &with_selector(i, &bytes));
        write(
            "stored_table",
            &format!("{}-truncated", t.as_str()),
            &with_selector(i, &bytes[..bytes.len() / 2]),
        );
    }
    let orders = fs::read(sdir.join("orders.parquet")).unwrap();
    write("stored_table", "derived", &with_selector(9, &orders));
    write(
        "stored_table",
        "derived-magic-only",
        &with_selector(9, b"PAR1"),
    );
}
