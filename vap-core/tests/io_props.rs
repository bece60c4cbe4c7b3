//! Property tests of session I/O: every format round-trips, input order does not
//! matter, text is normalised, and bad input never panics.

use proptest::prelude::*;
use vap_core::ingest::{self, Format, LoadOptions, Manifest};
use vap_core::sim::{simulate, SimConfig};
use vap_core::table::{self, Cell, RawTable, TableName};
use vap_core::text::Encoding;

const T0: i64 = 1_795_608_000_000;

fn manifest() -> Manifest {
    serde_json::from_value(serde_json::json!({
        "vap_format": 1,
        "room": {"id": "r", "name": "r"},
        "session": {"id": "s", "start_ms": T0, "end_ms": T0 + 3_600_000},
        "metrics": [{"name": "entries", "kind": "flow"}, {"name": "likes", "kind": "cumulative"}]
    }))
    .unwrap()
}

fn raw(source: &str, cols: &[&str], rows: Vec<Vec<Cell>>) -> RawTable {
    RawTable {
        source: source.into(),
        columns: cols.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

fn order_rows() -> impl Strategy<Value = Vec<Vec<Cell>>> {
    prop::collection::vec(
        (
            0i64..3_600_000,
            0usize..3,
            1i64..4,
            0u32..100_000,
            any::<bool>(),
            "[a-z0-9]{1,4}",
        ),
        0..40,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (dt, p, q, cents, refund, viewer))| {
                vec![
                    Cell::Str(format!("o{i}")),
                    Cell::Int(T0 + dt),
                    Cell::Str(format!("p{p}")),
                    Cell::Int(q),
                    Cell::Float(cents as f64 / 100.0),
                    Cell::Str(if refund { "refunded" } else { "paid" }.into()),
                    Cell::Str(viewer),
                ]
            })
            .collect()
    })
}

fn products() -> RawTable {
    raw(
        "products",
        &["id", "name", "price"],
        (0..3)
            .map(|i| {
                vec![
                    Cell::Str(format!("p{i}")),
                    Cell::Str(format!("商品{i}")),
                    Cell::Float(9.9),
                ]
            })
            .collect(),
    )
}

const ORDER_COLS: &[&str] = &[
    "id",
    "ts_ms",
    "product_id",
    "quantity",
    "amount",
    "status",
    "viewer_id",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn input_order_does_not_matter(rows in order_rows(), seed in any::<u64>()) {
        let mut shuffled = rows.clone();
        // Deterministic shuffle from the seed.
        let n = shuffled.len();
        let mut s = seed;
        for i in (1..n).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        let a = ingest::from_raw_tables(manifest(), vec![(TableName::Products, products()), (TableName::Orders, raw("orders", ORDER_COLS, rows))], &LoadOptions::default()).unwrap().0;
        let b = ingest::from_raw_tables(manifest(), vec![(TableName::Products, products()), (TableName::Orders, raw("orders", ORDER_COLS, shuffled))], &LoadOptions::default()).unwrap().0;
        prop_assert_eq!(&a, &b);
        prop_assert!(a.orders.windows(2).all(|w| w[0].ts_ms <= w[1].ts_ms));
        let g = a.gmv();
        prop_assert!((g.net - (g.gross - g.refunds)).abs() < 1e-9);
    }

    #[test]
    fn comments_round_trip_every_format(texts in prop::collection::vec("\\PC{0,12}", 1..20)) {
        let rows: Vec<Vec<Cell>> = texts.iter().enumerate().map(|(i, t)| vec![Cell::Int(T0 + i as i64), Cell::Str(format!("u{i}")), Cell::Str(format!("x{t}"))]).collect();
        let (data, _) = ingest::from_raw_tables(manifest(), vec![(TableName::Comments, raw("comments", &["ts_ms", "viewer_id", "text"], rows))], &LoadOptions::default()).unwrap();
        for c in &data.comments {
            // Normalised: idempotent, trimmed, single spaces.
            prop_assert_eq!(vap_core::text::normalize(&c.text), c.text.clone());
        }
        for (format, enc) in [(Format::Csv, Encoding::Utf8), (Format::Jsonl, Encoding::Utf8), (Format::Parquet, Encoding::Utf8)] {
            let dir = tempfile::tempdir().unwrap();
            ingest::write_dir_encoded(&data, dir.path(), format, enc).unwrap();
            let (back, _) = ingest::load_dir(dir.path(), &LoadOptions::default()).unwrap();
            prop_assert_eq!(&back, &data);
        }
    }

    #[test]
    fn cumulative_is_never_negative(values in prop::collection::vec(0u32..1000, 1..50)) {
        let rows: Vec<Vec<Cell>> = values.iter().enumerate().map(|(i, v)| vec![Cell::Str("likes".into()), Cell::Int(T0 + 1000 * i as i64), Cell::Float(*v as f64)]).collect();
        let (data, report) = ingest::from_raw_tables(manifest(), vec![(TableName::Metrics, raw("metrics", &["metric", "ts_ms", "value"], rows))], &LoadOptions::default()).unwrap();
        let flows: Vec<f64> = data.series("likes").map(|s| s.value).collect();
        prop_assert!(flows.iter().all(|v| *v >= 0.0));
        let resets = values.windows(2).filter(|w| w[1] < w[0]).count();
        prop_assert_eq!(report.differenced, vec![("likes".to_string(), resets)]);
        // The first sample is the baseline; without resets the flows sum to the
        // growth of the running total.
        prop_assert_eq!(flows[0], 0.0);
        if resets == 0 {
            prop_assert_eq!(flows.iter().sum::<f64>(), (*values.last().unwrap() - values[0]) as f64);
        }
    }

    #[test]
    fn arbitrary_cells_never_panic(cells in prop::collection::vec(prop_oneof![
        Just(Cell::Null), any::<i64>().prop_map(Cell::Int), any::<f64>().prop_map(Cell::Float),
        "\\PC{0,8}".prop_map(Cell::Str), any::<bool>().prop_map(Cell::Bool)], 7..=7), n in 1usize..5) {
        for t in TableName::ALL {
            let cols: Vec<&str> = t.columns().iter().map(|c| c.name).collect();
            let row: Vec<Cell> = cells.iter().take(cols.len()).cloned().collect();
            let _ = ingest::from_raw_tables(manifest(), vec![(t, raw(t.as_str(), &cols, vec![row; n]))], &LoadOptions::default());
        }
    }
}

#[test]
fn sim_session_round_trips_through_every_format_and_gb18030() {
    let data = simulate(&SimConfig {
        seed: 4,
        hours: 1.0,
        ..Default::default()
    })
    .unwrap()
    .data;
    for (format, enc) in [
        (Format::Csv, Encoding::Utf8),
        (Format::Csv, Encoding::Gb18030),
        (Format::Jsonl, Encoding::Gb18030),
        (Format::Parquet, Encoding::Utf8),
    ] {
        let dir = tempfile::tempdir().unwrap();
        ingest::write_dir_encoded(&data, dir.path(), format, enc).unwrap();
        let (back, report) = ingest::load_dir(dir.path(), &LoadOptions::default()).unwrap();
        assert_eq!(back, data, "{format:?} {enc:?}");
        assert!(report.sorted.is_empty());
        if format != Format::Parquet {
            // Pure-ASCII files are valid UTF-8 whatever they were written as; the
            // Chinese text of comments decides.
            let comments = report
                .files
                .iter()
                .find(|(f, _)| f.starts_with("comments"))
                .unwrap();
            assert_eq!(comments.1, Some(enc), "{:?}", report.files);
        }
    }
    // Arrow batches carry the documented schema.
    let b = table::to_record_batch(&data, TableName::Orders, true);
    assert_eq!(b.schema(), TableName::Orders.arrow_schema(true));
    assert_eq!(b.num_rows(), data.orders.len());
}

/// A short simulated session with `n` comments, `第{i}条 评论{tail}`, 100 a ms.
fn with_comments(n: usize, tail: &str) -> vap_core::schema::SessionData {
    let mut data = simulate(&SimConfig {
        hours: 0.1,
        ..Default::default()
    })
    .unwrap()
    .data;
    let t0 = data.session.start_ms;
    data.comments = (0..n)
        .map(|i| vap_core::schema::Comment {
            ts_ms: t0 + (i / 100) as i64,
            viewer_id: format!("v{i:06}").into(),
            text: format!("第{i}条 评论{tail}").into(),
        })
        .collect();
    data
}

/// A table longer than one write chunk (tables are written 65,536 rows at a
/// time) comes back whole and in order from Parquet and from CSV, and from
/// the store.
#[test]
fn tables_longer_than_a_write_chunk_round_trip() {
    let data = with_comments((1usize << 16) * 2 + 7, "");
    let dir = tempfile::tempdir().unwrap();
    for format in [Format::Parquet, Format::Csv] {
        let d = dir.path().join(format.ext());
        ingest::write_dir(&data, &d, format).unwrap();
        let (back, _) = ingest::load_dir(&d, &LoadOptions::default()).unwrap();
        assert_eq!(back.comments, data.comments, "{format:?}");
        assert_eq!(back.orders, data.orders, "{format:?}");
    }
    let store = vap_core::store::Store::open(dir.path().join("store")).unwrap();
    store
        .import(&data, &vap_core::store::ImportOptions::default())
        .unwrap();
    let back = store.load(&data.room.id, &data.session.id).unwrap();
    assert_eq!(back.comments, data.comments);
}

/// A CSV file longer than two read chunks (65,536 rows each; their cells are
/// refilled for the next chunk, and with two threads the typed records are
/// made beside the parse): the same table on one thread and on two, and the
/// problems of rows in later chunks numbered by their row in the file, with
/// a missing field in one chunk and present again in the next.
#[test]
fn csv_longer_than_a_read_chunk_loads_the_same_on_one_and_two_threads() {
    let n = (1usize << 16) * 2 + 11;
    let data = with_comments(n, " ＡＢＣ");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("csv");
    ingest::write_dir(&data, &d, Format::Csv).unwrap();
    let load = |threads| {
        vap_core::threads::set_num_threads(threads).unwrap();
        let r = ingest::load_dir(&d, &LoadOptions::default());
        vap_core::threads::set_num_threads(0).unwrap();
        r
    };
    let (one, _) = load(1).unwrap();
    let (two, _) = load(2).unwrap();
    assert_eq!(one.comments, two.comments);
    assert_eq!(one.comments.len(), n);
    assert_eq!(one.comments[n - 1].text, format!("第{}条 评论 ABC", n - 1));

    // Viewer ids emptied on rows in the second and third chunks.
    let path = d.join("comments.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let bad_rows = [70_000usize, 70_001, 131_080];
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if bad_rows.contains(&i) {
                let f: Vec<&str> = l.splitn(3, ',').collect();
                format!("{},,{}", f[0], f[2])
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let problems = |threads| match load(threads) {
        Err(vap_core::VapError::Validation(p)) => p,
        other => panic!("{other:?}"),
    };
    let p1 = problems(1);
    assert_eq!(p1, problems(2));
    let rows: Vec<Option<usize>> = p1.iter().map(|p| p.row).collect();
    assert_eq!(rows, bad_rows.map(Some).to_vec(), "{p1:?}");
    assert!(p1.iter().all(|p| p.field.as_deref() == Some("viewer_id")));
}

/// A CSV file large enough to be read in pieces on two threads, whose quoted
/// texts hold commas, quotes and line feeds (so a piece must not start inside
/// one): the same session on one thread and on two, from Parquet on one
/// thread and on two (its columns decoded side by side), and from the same
/// table in GB18030 (which the general path reads).
#[test]
fn quoted_line_feeds_load_the_same_on_every_path() {
    let n = 70_000;
    let mut data = with_comments(n, "");
    for (i, c) in data.comments.iter_mut().enumerate() {
        if i % 3 == 0 {
            c.text = format!("第{i}条,\"好\"\n下一行").into();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("csv");
    let gb = dir.path().join("gb");
    let pq = dir.path().join("parquet");
    ingest::write_dir(&data, &csv, Format::Csv).unwrap();
    ingest::write_dir_encoded(&data, &gb, Format::Csv, Encoding::Gb18030).unwrap();
    ingest::write_dir(&data, &pq, Format::Parquet).unwrap();
    assert!(std::fs::metadata(csv.join("comments.csv")).unwrap().len() > 1 << 20);
    let load = |d: &std::path::Path, threads| {
        vap_core::threads::set_num_threads(threads).unwrap();
        let r = ingest::load_dir(d, &LoadOptions::default()).unwrap();
        vap_core::threads::set_num_threads(0).unwrap();
        r
    };
    let (one, report) = load(&csv, 1);
    assert!(report.files.iter().all(|(_, e)| *e == Some(Encoding::Utf8)));
    assert_eq!(one.comments.len(), n);
    assert_eq!(one.comments[3].text, "第3条,\"好\" 下一行");
    assert_eq!(one.comments[4].text, data.comments[4].text);
    let (two, _) = load(&csv, 2);
    assert_eq!(two, one);
    let (general, report) = load(&gb, 2);
    assert!(report
        .files
        .iter()
        .any(|(_, e)| *e == Some(Encoding::Gb18030)));
    assert_eq!(general, one);
    let (pq1, _) = load(&pq, 1);
    let (pq2, _) = load(&pq, 2);
    assert_eq!(pq1, pq2);
    // Loading normalises every format alike (the line feed becomes a space).
    assert_eq!(pq1, one);
}

/// The tables' files are read side by side: problems in several files (a
/// clean UTF-8 file read on the fast path, a GB18030 file read the general
/// way after the others, a Parquet file) come back the same on one thread
/// and on two, every one of them, in table order and row order within a file.
#[test]
fn problems_in_several_files_read_side_by_side_are_listed_in_table_order() {
    let data = with_comments(5_000, "");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("mixed");
    ingest::write_dir(&data, &d, Format::Csv).unwrap();
    // Utterances in GB18030 (the general path) and metrics as Parquet.
    let gb = dir.path().join("gb");
    ingest::write_dir_encoded(&data, &gb, Format::Csv, Encoding::Gb18030).unwrap();
    std::fs::copy(gb.join("utterances.csv"), d.join("utterances.csv")).unwrap();
    let pq = dir.path().join("pq");
    ingest::write_dir(&data, &pq, Format::Parquet).unwrap();
    std::fs::remove_file(d.join("metrics.csv")).unwrap();
    std::fs::copy(pq.join("metrics.parquet"), d.join("metrics.parquet")).unwrap();
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("manifest.json")).unwrap()).unwrap();
    if let Some(tables) = manifest.get_mut("tables").and_then(|t| t.as_object_mut()) {
        tables.insert("metrics".into(), "metrics.parquet".into());
    }
    std::fs::write(d.join("manifest.json"), manifest.to_string()).unwrap();
    // A bad row in comments (fast path) and one in orders, a bad time in the
    // GB18030 utterances.
    let edit = |name: &str, rows: &[usize], f: &dyn Fn(&str) -> String| {
        let p = d.join(name);
        let bytes = std::fs::read(&p).unwrap();
        let (text, enc) = if name == "utterances.csv" {
            let (t, _, _) = encoding_rs::GB18030.decode(&bytes);
            (t.into_owned(), true)
        } else {
            (String::from_utf8(bytes).unwrap(), false)
        };
        let lines: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if rows.contains(&i) {
                    f(l)
                } else {
                    l.to_string()
                }
            })
            .collect();
        let out = lines.join("\n") + "\n";
        if enc {
            std::fs::write(&p, encoding_rs::GB18030.encode(&out).0).unwrap();
        } else {
            std::fs::write(&p, out).unwrap();
        }
    };
    let blank_second = |l: &str| {
        let f: Vec<&str> = l.splitn(3, ',').collect();
        format!("{},,{}", f[0], f[2])
    };
    edit("comments.csv", &[10, 4_000], &blank_second);
    edit("orders.csv", &[1], &|l: &str| {
        let f: Vec<&str> = l.splitn(3, ',').collect();
        format!("{},yesterday,{}", f[0], f[2])
    });
    edit("utterances.csv", &[2], &|l: &str| format!("soon{l}"));
    let problems = |threads| {
        vap_core::threads::set_num_threads(threads).unwrap();
        let r = ingest::load_dir(&d, &LoadOptions::default());
        vap_core::threads::set_num_threads(0).unwrap();
        match r {
            Err(vap_core::VapError::Validation(p)) => p,
            other => panic!("{other:?}"),
        }
    };
    let p1 = problems(1);
    assert_eq!(p1, problems(2));
    let at: Vec<(&str, Option<usize>)> = p1.iter().map(|p| (p.file.as_str(), p.row)).collect();
    assert_eq!(
        at,
        vec![
            ("comments.csv", Some(10)),
            ("comments.csv", Some(4_000)),
            ("orders.csv", Some(1)),
            ("utterances.csv", Some(2)),
        ],
        "{p1:?}"
    );
}

/// A Parquet comments table of several decode batches (32,768 rows each
/// when streamed), which loading decodes and reads batch by batch on two
/// threads: the same session on one thread and on two and as from CSV, also
/// with text to normalise in a later batch (that row sends the file the
/// general way), and the same problems, with their rows, for rows missing a
/// field in later batches, the last and shortest included.
#[test]
fn parquet_comments_read_batch_by_batch_load_as_every_other_path() {
    let n = (1usize << 16) * 2 + 7;
    let mut data = with_comments(n, "");
    let dir = tempfile::tempdir().unwrap();
    let load = |d: &std::path::Path, threads| {
        vap_core::threads::set_num_threads(threads).unwrap();
        let r = ingest::load_dir(d, &LoadOptions::default());
        vap_core::threads::set_num_threads(0).unwrap();
        r
    };
    let pq = dir.path().join("pq");
    ingest::write_dir(&data, &pq, Format::Parquet).unwrap();
    let (two, _) = load(&pq, 2).unwrap();
    assert_eq!(two.comments, data.comments);
    assert_eq!(two, load(&pq, 1).unwrap().0);

    // Full-width text in the fourth batch: read the general way, normalised.
    data.comments[100_000].text = "第100000条 ＡＢＣ".into();
    let csv = dir.path().join("csv");
    ingest::write_dir(&data, &csv, Format::Csv).unwrap();
    ingest::write_dir(&data, &pq, Format::Parquet).unwrap();
    let (two, _) = load(&pq, 2).unwrap();
    assert_eq!(two.comments[100_000].text, "第100000条 ABC");
    assert_eq!(two, load(&pq, 1).unwrap().0);
    assert_eq!(two, load(&csv, 2).unwrap().0);

    // Viewer ids missing in the third, fourth and last batches.
    let bad = [70_000usize, 131_070, n - 2];
    for &i in &bad {
        data.comments[i].viewer_id = "".into();
    }
    ingest::write_dir(&data, &pq, Format::Parquet).unwrap();
    let problems = |threads| match load(&pq, threads) {
        Err(vap_core::VapError::Validation(p)) => p,
        other => panic!("{other:?}"),
    };
    let p2 = problems(2);
    assert_eq!(p2, problems(1));
    let rows: Vec<Option<usize>> = p2.iter().map(|p| p.row).collect();
    // Rows numbered from 1 after the header line of CSV: data row i is
    // row i + 1 in Parquet too.
    assert_eq!(rows, bad.map(|i| Some(i + 1)).to_vec(), "{p2:?}");
    assert!(p2.iter().all(|p| p.field.as_deref() == Some("viewer_id")));
}
