//! The `vap` command line as a user runs it (the built binary): import,
//! sessions, replay with its report and clips, the room's report, and the
//! exit codes scripts rely on.
#![cfg(feature = "media")]

use std::path::Path;
use std::process::{Command, Output};

use vap_core::ingest::{self, Format};
use vap_core::sim::{simulate, SimConfig};

fn vap(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vap"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the vap binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn import_list_replay_and_report_with_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for k in 0..2i64 {
        let r = simulate(&SimConfig {
            seed: 70 + k as u64,
            hours: 1.0,
            start_ms: 1_764_072_000_000 + k * 86_400_000,
            session_id: Some(format!("s{k}")),
            ..Default::default()
        })
        .unwrap();
        ingest::write_dir(&r.data, d.join(format!("dir{k}")), Format::Csv).unwrap();
    }
    // A directory with a broken orders file: bad data, named.
    let r = simulate(&SimConfig {
        seed: 79,
        hours: 0.5,
        session_id: Some("bad".into()),
        ..Default::default()
    })
    .unwrap();
    ingest::write_dir(&r.data, d.join("bad"), Format::Csv).unwrap();
    let orders = d.join("bad/orders.csv");
    let mut body = std::fs::read_to_string(&orders).unwrap();
    body.push_str("o-x,not-a-time,v1,p1,1,abc,paid\n");
    std::fs::write(&orders, body).unwrap();

    let o = vap(&["import", "dir0", "dir1", "--store", "st"], d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("imported sim-room/s0"));
    assert!(text(&o.stderr).contains("[2/2] dir1"));
    // Again without --replace: a conflict (6); with it: done.
    let o = vap(&["import", "dir0", "--store", "st", "--quiet"], d);
    assert_eq!(o.status.code(), Some(6), "{}", text(&o.stderr));
    assert!(!o.stderr.is_empty() && !text(&o.stderr).contains("[1/1]"));
    let o = vap(&["import", "dir0", "--store", "st", "--replace"], d);
    assert_eq!(o.status.code(), Some(0));
    let o = vap(&["import", "no-such-dir", "--store", "st"], d);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let o = vap(&["import", "bad", "--store", "st"], d);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("orders.csv"),
        "{}",
        text(&o.stderr)
    );

    let o = vap(&["sessions", "st"], d);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        text(&o.stdout).contains("2 session(s)"),
        "{}",
        text(&o.stdout)
    );
    let o = vap(&["sessions", "st", "--json"], d);
    let lines: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["session_id"], "s1");

    let o = vap(
        &[
            "replay",
            "st",
            "sim-room",
            "s1",
            "--html",
            "s1.html",
            "--json",
            "s1.json",
            "--bootstrap",
            "10",
            "--lang",
            "en",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("top moments and their top causes") && out.contains("report: s1.html"),
        "{out}"
    );
    let page = std::fs::read_to_string(d.join("s1.html")).unwrap();
    assert!(page.contains("Session replay"));
    let rep: vap_core::replay::Replay =
        serde_json::from_str(&std::fs::read_to_string(d.join("s1.json")).unwrap()).unwrap();
    assert_eq!(rep.history_sessions, vec!["s0".to_string()]);
    for m in &rep.moments {
        assert!(out.contains(&format!("#{} ", m.rank)), "{out}");
    }
    // Clips of a session without a recording: not found (3), clearly.
    let o = vap(
        &[
            "replay",
            "st",
            "sim-room",
            "s1",
            "--clips",
            "2",
            "--bootstrap",
            "10",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("no recording"),
        "{}",
        text(&o.stderr)
    );

    let o = vap(&["room", "st", "sim-room", "--html", "room.html"], d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(std::fs::read_to_string(d.join("room.html"))
        .unwrap()
        .contains("直播间复盘"));

    // Not found: no store, no room, no session.
    for args in [
        &["replay", "nostore", "sim-room", "s1"][..],
        &["replay", "st", "sim-room", "s9"],
        &["room", "st", "no-room", "--html", "x.html"],
        &["sessions", "nostore"],
    ] {
        let o = vap(args, d);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", text(&o.stderr));
    }
    assert!(!d.join("nostore").exists(), "no store is created by a read");
    // Transcribing a session without a recording: a clear error (2).
    let o = vap(
        &[
            "transcribe",
            "st",
            "sim-room",
            "s1",
            "--model",
            "no-model.bin",
            "--quiet",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("no recordings"),
        "{}",
        text(&o.stderr)
    );
    // Usage: 2, with the command's help.
    let o = vap(&["replay", "st", "sim-room"], d);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("Usage: vap replay"));
    let o = vap(&["replay", "--help"], d);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).contains("Example:"));
}
