//! Hostile session directories: table paths that escape or name what is not a
//! regular file, files that cannot be decoded cleanly, manifests with typos
//! and wrong types, and values validation must not let through. Each gives a
//! typed error naming the file (and field or row) or a load-report warning;
//! none hangs, panics or reads outside the directory.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use vap_core::ingest::{load_dir, write_dir, Format, LoadOptions, LoadReport};
use vap_core::sim::{simulate, SimConfig};
use vap_core::{ErrorKind, SessionData, VapError};

fn data() -> SessionData {
    simulate(&SimConfig {
        seed: 4,
        hours: 0.1,
        ..Default::default()
    })
    .unwrap()
    .data
}

/// A session directory written as CSV, inside its own parent (so that
/// `../` has somewhere to go).
fn session(format: Format) -> (tempfile::TempDir, PathBuf) {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("session");
    write_dir(&data(), &dir, format).unwrap();
    (parent, dir)
}

/// `load_dir` on another thread, failing the test if it does not return.
fn load(dir: &Path) -> Result<(SessionData, LoadReport), VapError> {
    let (tx, rx) = mpsc::channel();
    let d = dir.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(load_dir(&d, &LoadOptions::default()));
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("load_dir hung (more than 60 s)")
}

fn load_err(dir: &Path) -> String {
    let e = load(dir).expect_err("loading should fail");
    assert!(
        matches!(e.kind(), ErrorKind::Validation | ErrorKind::Format),
        "{e}"
    );
    e.to_string()
}

fn set_manifest(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let p = dir.join("manifest.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&p, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

fn set_table_path(dir: &Path, table: &str, path: &str) {
    set_manifest(dir, |v| {
        v["tables"][table] = serde_json::Value::String(path.into());
    });
}

/// Rewrites one CSV file line by line (line 0 is the header).
fn edit_csv(path: &Path, f: impl Fn(usize, &str) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    let out: Vec<String> = text.lines().enumerate().map(|(i, l)| f(i, l)).collect();
    std::fs::write(path, out.join("\n") + "\n").unwrap();
}

#[test]
fn a_fifo_or_device_as_a_table_is_refused_without_blocking() {
    let (_p, dir) = session(Format::Csv);
    let fifo = dir.join("c.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: plain libc call with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    std::fs::remove_file(dir.join("comments.csv")).unwrap();
    set_table_path(&dir, "comments", "c.fifo");
    let msg = load_err(&dir);
    assert!(msg.contains("c.fifo"), "{msg}");
    assert!(msg.contains("not a regular file"), "{msg}");
    // A link to /dev/zero inside the directory: outside once resolved.
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.csv")).unwrap();
    set_table_path(&dir, "comments", "zero.csv");
    let msg = load_err(&dir);
    assert!(msg.contains("zero.csv"), "{msg}");
}

#[test]
fn table_paths_outside_the_session_directory_are_refused() {
    let (parent, dir) = session(Format::Csv);
    std::fs::create_dir_all(parent.path().join("other")).unwrap();
    std::fs::copy(
        dir.join("orders.csv"),
        parent.path().join("other/orders.csv"),
    )
    .unwrap();
    for path in [
        "../other/orders.csv".to_string(),
        parent
            .path()
            .join("other/orders.csv")
            .to_string_lossy()
            .to_string(),
        "/dev/zero".to_string(),
    ] {
        set_table_path(&dir, "orders", &path);
        let msg = load_err(&dir);
        assert!(msg.contains("tables.orders"), "{path}: {msg}");
        assert!(msg.contains("manifest.json"), "{path}: {msg}");
    }
    // A symlink inside the directory that leads out of it.
    std::os::unix::fs::symlink("../other/orders.csv", dir.join("linked.csv")).unwrap();
    set_table_path(&dir, "orders", "linked.csv");
    let msg = load_err(&dir);
    assert!(msg.contains("outside"), "{msg}");
    // A symlink that stays inside is followed.
    std::fs::rename(dir.join("orders.csv"), dir.join("real-orders.csv")).unwrap();
    std::os::unix::fs::symlink("real-orders.csv", dir.join("inside.csv")).unwrap();
    set_table_path(&dir, "orders", "inside.csv");
    assert_eq!(load(&dir).unwrap().0.orders, data().orders);
}

#[test]
fn a_table_that_is_a_directory_or_a_broken_link_is_reported_not_skipped() {
    for make in ["directory", "loop", "dangling"] {
        let (_p, dir) = session(Format::Csv);
        let orders = dir.join("orders.csv");
        std::fs::remove_file(&orders).unwrap();
        match make {
            "directory" => std::fs::create_dir(&orders).unwrap(),
            "loop" => std::os::unix::fs::symlink("orders.csv", &orders).unwrap(),
            _ => std::os::unix::fs::symlink("missing.csv", &orders).unwrap(),
        }
        let msg = load_err(&dir);
        assert!(msg.contains("orders.csv"), "{make}: {msg}");
    }
}

#[test]
fn undecodable_text_is_refused_naming_the_encodings_tried() {
    // NUL bytes.
    let (_p, dir) = session(Format::Csv);
    std::fs::write(dir.join("comments.csv"), [0u8; 256]).unwrap();
    let msg = load_err(&dir);
    assert!(msg.contains("comments.csv"), "{msg}");
    assert!(msg.to_lowercase().contains("nul"), "{msg}");
    // Latin-1 that only decodes as GB18030 by accident.
    let (_p, dir) = session(Format::Csv);
    let mut bytes = b"id,name,price\np01,".to_vec();
    bytes.extend_from_slice(&[
        b'C', b'r', 0xe8, b'm', b'e', b' ', b'b', b'r', 0xfb, b'l', 0xe9, b'e',
    ]);
    bytes.extend_from_slice(b",9.9\n");
    std::fs::write(dir.join("products.csv"), &bytes).unwrap();
    let msg = load_err(&dir);
    assert!(msg.contains("products.csv"), "{msg}");
    assert!(msg.contains("Latin-1"), "{msg}");
    assert!(msg.contains("GB18030"), "{msg}");
}

#[test]
fn duplicate_columns_and_keys_are_refused() {
    let (_p, dir) = session(Format::Csv);
    edit_csv(&dir.join("orders.csv"), |i, l| {
        if i == 0 {
            format!("{l},amount")
        } else {
            format!("{l},1")
        }
    });
    let msg = load_err(&dir);
    assert!(msg.contains("amount"), "{msg}");
    assert!(msg.contains("orders.csv"), "{msg}");

    let (_p, dir) = session(Format::Jsonl);
    let p = dir.join("comments.jsonl");
    let text = std::fs::read_to_string(&p).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let first = lines[0].trim_end_matches('}').to_string();
    lines[0] = format!("{first},\"text\":\"again\"}}");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    let msg = load_err(&dir);
    assert!(msg.contains("comments.jsonl"), "{msg}");
    assert!(msg.contains("text"), "{msg}");
}

#[test]
fn manifest_errors_name_the_field_and_suggest_the_key_meant() {
    let (_p, dir) = session(Format::Csv);
    set_manifest(&dir, |v| {
        let tz = v["session"]["timezone"].take();
        v["session"].as_object_mut().unwrap().remove("timezone");
        v["session"]["timzone"] = tz;
    });
    let msg = load_err(&dir);
    assert!(msg.contains("timzone"), "{msg}");
    assert!(msg.contains("did you mean `timezone`"), "{msg}");

    let (_p, dir) = session(Format::Csv);
    set_manifest(&dir, |v| {
        let s = v["session"]["start_ms"].as_i64().unwrap();
        v["session"]["start_ms"] = serde_json::json!(s as f64 + 0.5);
    });
    let msg = load_err(&dir);
    assert!(msg.contains("session.start_ms"), "{msg}");
    assert!(msg.contains("line"), "{msg}");

    let (_p, dir) = session(Format::Csv);
    set_manifest(&dir, |v| {
        v["session"]["timezone"] = serde_json::json!("Asia/Shangai");
    });
    let msg = load_err(&dir);
    assert!(msg.contains("Asia/Shangai"), "{msg}");
}

#[test]
fn values_out_of_range_are_refused_naming_the_row() {
    let amount_col = |header: &str| header.split(',').position(|c| c == "amount").unwrap();
    let (_p, dir) = session(Format::Csv);
    let header = std::fs::read_to_string(dir.join("orders.csv")).unwrap();
    let col = amount_col(header.lines().next().unwrap());
    edit_csv(&dir.join("orders.csv"), |i, l| {
        if i == 2 {
            let mut f: Vec<&str> = l.split(',').collect();
            f[col] = "1e308";
            f.join(",")
        } else {
            l.to_string()
        }
    });
    let msg = load_err(&dir);
    assert!(msg.contains("orders.csv"), "{msg}");
    assert!(msg.contains("row 2"), "{msg}");
    assert!(msg.contains("amount"), "{msg}");

    // A negative gauge (online viewers).
    let (_p, dir) = session(Format::Csv);
    edit_csv(&dir.join("metrics.csv"), |i, l| {
        if i > 0 && l.starts_with("online_viewers,") {
            let mut f: Vec<String> = l.split(',').map(String::from).collect();
            let last = f.len() - 1;
            f[last] = "-5".into();
            return f.join(",");
        }
        l.to_string()
    });
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    assert!(text.contains(",-5"), "no gauge row to edit");
    let msg = load_err(&dir);
    assert!(msg.contains("metrics.csv"), "{msg}");
    assert!(msg.contains("negative"), "{msg}");
}

#[test]
fn a_refund_without_a_payment_is_a_load_warning() {
    let (_p, dir) = session(Format::Csv);
    let header = std::fs::read_to_string(dir.join("orders.csv")).unwrap();
    let first = header.lines().next().unwrap().to_string();
    let cols: Vec<&str> = first.split(',').collect();
    let (id, status) = (
        cols.iter().position(|c| *c == "id").unwrap(),
        cols.iter().position(|c| *c == "status").unwrap(),
    );
    edit_csv(&dir.join("orders.csv"), |i, l| {
        if i == 1 {
            let mut f: Vec<&str> = l.split(',').collect();
            f[id] = "refund-only";
            f[status] = "refunded";
            f.join(",")
        } else {
            l.to_string()
        }
    });
    let (_d, report) = load(&dir).unwrap();
    let mine: Vec<String> = report
        .warnings
        .iter()
        .map(|w| w.to_string())
        .filter(|w| w.contains("refund-only"))
        .collect();
    assert_eq!(mine.len(), 1, "{:?}", report.warnings);
    assert!(mine[0].contains("orders.csv"), "{}", mine[0]);
}
