//! Reading the store: tables vap wrote are read column by column, anything
//! else through the general path, with the same result; cached digests
//! follow the session's files.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use vap_core::ingest::{self, load_dir, Format, LoadOptions};
use vap_core::options::Options;
use vap_core::replay::{from_store, store_history, ReplayOptions};
use vap_core::sim::{simulate, SimConfig};
use vap_core::store::{ImportOptions, Store};
use vap_core::SessionData;

fn room(seed: u64, session: &str, start_ms: i64) -> SessionData {
    simulate(&SimConfig {
        seed,
        hours: 1.0,
        start_ms,
        session_id: Some(session.into()),
        ..Default::default()
    })
    .unwrap()
    .data
}

const START: i64 = 1_764_072_000_000;

#[test]
fn a_stored_session_reads_as_the_general_path_reads_it() {
    let data = room(3, "s", START);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    store.import(&data, &ImportOptions::default()).unwrap();
    let stored = store.load("sim-room", "s").unwrap();
    // The same session written as Parquet files and loaded the general way.
    let plain = dir.path().join("plain");
    ingest::write_dir(&stored, &plain, Format::Parquet).unwrap();
    let (general, _) = load_dir(
        &plain,
        &LoadOptions {
            outside_tolerance_ms: i64::MAX / 4,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(stored, general);
    assert_eq!(stored.comments, data.comments);
    assert_eq!(stored.orders, data.orders);
    assert!(!stored.comments.is_empty() && !stored.orders.is_empty());
}

#[test]
fn a_table_in_other_types_or_unnormalised_text_takes_the_general_path() {
    let data = room(4, "s", START);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.import(&data, &ImportOptions::default()).unwrap();
    // Comments rewritten by hand: times as RFC 3339 text, full-width letters
    // and doubled spaces in the text (what normalisation folds).
    let n = 3;
    let ts: Vec<String> = data.comments[..n]
        .iter()
        .map(|c| {
            chrono::DateTime::from_timestamp_millis(c.ts_ms)
                .unwrap()
                .to_rfc3339()
        })
        .collect();
    let texts = ["ＡＢＣ  多少钱", "  hi", "ok"];
    let viewers: Vec<&str> = data.comments[..n]
        .iter()
        .map(|c| c.viewer_id.as_str())
        .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("ts_ms", DataType::Utf8, false),
        Field::new("viewer_id", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(ts)),
        Arc::new(StringArray::from(viewers.clone())),
        Arc::new(StringArray::from(texts.to_vec())),
    ];
    let batch = RecordBatch::try_new(schema, cols).unwrap();
    let path = store
        .session_dir("sim-room", "s")
        .unwrap()
        .join("comments.parquet");
    std::fs::write(&path, ingest::parquet_bytes(&batch).unwrap()).unwrap();
    let back = store.load("sim-room", "s").unwrap();
    let got: Vec<&str> = back.comments.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(got, ["ABC 多少钱", "hi", "ok"]);
    let times: Vec<i64> = back.comments.iter().map(|c| c.ts_ms).collect();
    let want: Vec<i64> = data.comments[..n].iter().map(|c| c.ts_ms).collect();
    assert_eq!(times, want);

    // A required value missing: the general path names file, row and field.
    let schema = Arc::new(Schema::new(vec![
        Field::new(
            "ts_ms",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new("viewer_id", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(TimestampMillisecondArray::from(vec![Some(START), None]).with_timezone("UTC")),
        Arc::new(StringArray::from(vec!["v1", "v2"])),
        Arc::new(StringArray::from(vec!["a", "b"])),
    ];
    let batch = RecordBatch::try_new(schema, cols).unwrap();
    std::fs::write(&path, ingest::parquet_bytes(&batch).unwrap()).unwrap();
    let e = store.load("sim-room", "s").unwrap_err();
    let p = &e.problems()[0];
    assert!(p.file.ends_with("comments.parquet"), "{e}");
    assert_eq!((p.row, p.field.as_deref()), (Some(2), Some("ts_ms")), "{e}");
}

#[test]
fn cached_digests_follow_the_sessions_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let day = 86_400_000;
    store
        .import(&room(5, "s0", START), &ImportOptions::default())
        .unwrap();
    store
        .import(&room(6, "s1", START + day), &ImportOptions::default())
        .unwrap();
    let opts = ReplayOptions::from_json(r#"{"attribute": false}"#).unwrap();
    let first = store_history(&store, "sim-room", None, &opts).unwrap();
    let cache = store
        .session_dir("sim-room", "s0")
        .unwrap()
        .join(".cache-replay-digest.json");
    assert!(cache.is_file());
    // Read back from the cache: the same digests.
    assert_eq!(
        store_history(&store, "sim-room", None, &opts).unwrap(),
        first
    );
    // Other question options: not the cached value's key.
    let other =
        ReplayOptions::from_json(r#"{"attribute": false, "questions": {"answer_window": "10s"}}"#)
            .unwrap();
    let d_other = store_history(&store, "sim-room", None, &other).unwrap();
    let answered =
        |d: &[vap_core::replay::SessionDigest]| d[0].headline.get("answered_share").copied();
    assert!(answered(&d_other).unwrap() < answered(&first).unwrap());
    // Half the orders of s0 replaced: its digest is computed again.
    let s0 = store.load("sim-room", "s0").unwrap();
    let mut fewer = s0.clone();
    fewer.orders.truncate(s0.orders.len() / 2);
    let batch = vap_core::table::to_record_batch(&fewer, vap_core::table::TableName::Orders, false);
    store
        .replace_table("sim-room", "s0", "orders", &[batch])
        .unwrap();
    let after = store_history(&store, "sim-room", None, &opts).unwrap();
    let gmv = |d: &[vap_core::replay::SessionDigest]| d[0].headline["gmv_gross"];
    assert_eq!(gmv(&after), fewer.gmv().gross);
    assert!(gmv(&after) < gmv(&first));
    // The replay of s1 compares with the new digest.
    let r = from_store(&store, "sim-room", "s1", &opts).unwrap();
    assert_eq!(r.history_sessions, ["s0"]);
    // A cache file that is not JSON is ignored, and replaced.
    std::fs::write(&cache, b"not json").unwrap();
    assert_eq!(
        store_history(&store, "sim-room", None, &opts).unwrap(),
        after
    );
    assert!(std::fs::read_to_string(&cache).unwrap().starts_with('{'));
    // A read-only store reads the cache and writes none.
    std::fs::remove_file(&cache).unwrap();
    let ro = Store::open_read_only(dir.path()).unwrap();
    assert_eq!(store_history(&ro, "sim-room", None, &opts).unwrap(), after);
    assert!(!cache.exists());
}

/// A replay from the store leaves its session's digest cached, computed from
/// the replay's own headline: the same digest as computed from scratch.
#[test]
fn a_replay_caches_its_own_digest() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .import(&room(7, "s0", START), &ImportOptions::default())
        .unwrap();
    let opts = ReplayOptions::from_json(r#"{"attribute": false}"#).unwrap();
    let cache = store
        .session_dir("sim-room", "s0")
        .unwrap()
        .join(".cache-replay-digest.json");
    assert!(!cache.exists());
    from_store(&store, "sim-room", "s0", &opts).unwrap();
    assert!(cache.is_file());
    let data = store.load("sim-room", "s0").unwrap();
    let qs = vap_core::align::questions(&data, &opts.questions).unwrap();
    let fresh = vap_core::replay::digest(&data, &qs);
    assert_eq!(
        store_history(&store, "sim-room", None, &opts).unwrap(),
        [fresh]
    );
    // A read-only store's replay writes none.
    std::fs::remove_file(&cache).unwrap();
    let ro = Store::open_read_only(dir.path()).unwrap();
    from_store(&ro, "sim-room", "s0", &opts).unwrap();
    assert!(!cache.exists());
}

#[test]
fn the_same_replay_on_one_and_two_threads() {
    let data = room(7, "s", START);
    let opts = ReplayOptions::from_json(r#"{"model": {"bootstrap": 20, "seed": 3}}"#).unwrap();
    vap_core::threads::set_num_threads(1).unwrap();
    let a = vap_core::replay::replay(&data, &[], &opts).unwrap();
    vap_core::threads::set_num_threads(2).unwrap();
    let b = vap_core::replay::replay(&data, &[], &opts).unwrap();
    vap_core::threads::set_num_threads(0).unwrap();
    assert_eq!(a.to_json().unwrap(), b.to_json().unwrap());
    assert!(!a.questions.all.is_empty());
}

/// `map_room` hands over the room's sessions in order of start whatever the
/// order of import, as `load_room` returns them; the room timeline built
/// session by session from the store equals the one built from the loaded
/// sessions; a room without sessions is an error.
#[test]
fn the_room_is_read_session_by_session_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let t0 = SimConfig::default().start_ms;
    for (seed, name, day) in [(1, "c", 2), (2, "a", 0), (3, "b", 1)] {
        let d = room(seed, name, t0 + day * 86_400_000);
        store.import(&d, &ImportOptions::default()).unwrap();
    }
    let rid = room(1, "c", t0).room.id;
    let ids = store.map_room(&rid, |d| Ok(d.session.id)).unwrap();
    assert_eq!(ids, ["a", "b", "c"]);
    let loaded = store.load_room(&rid).unwrap();
    let loaded_ids: Vec<_> = loaded.iter().map(|d| d.session.id.clone()).collect();
    assert_eq!(loaded_ids, ids);
    let opts = vap_core::align::AlignOptions::default();
    let same = |a: vap_core::align::Timeline, b: vap_core::align::Timeline| {
        assert_eq!(a.spans(), b.spans());
        assert_eq!(a.time_ms(), b.time_ms());
        assert_eq!(a.columns(), b.columns());
        let bits = |t: &vap_core::align::Timeline| -> Vec<u64> {
            t.as_slice().iter().map(|v| v.to_bits()).collect()
        };
        assert_eq!(bits(&a), bits(&b));
    };
    same(
        vap_core::align::store_room_timeline(&store, &rid, &opts).unwrap(),
        vap_core::align::room_timeline(&loaded, &opts).unwrap(),
    );
    same(
        vap_core::attribute::store_room_timeline(&store, &rid, &opts).unwrap(),
        vap_core::attribute::room_timeline(&loaded, &opts).unwrap(),
    );
    assert!(store.map_room("no-such-room", |_| Ok(())).is_err());
}
