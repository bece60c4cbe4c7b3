//! Atomicity of the store: a process killed (SIGKILL) in the middle of an import,
//! or a failure injected at any write step, leaves the store exactly as before
//! (or, once the commit rename has happened, exactly as after).

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

mod common;
use common::snapshot;
use vap_core::sim::{simulate, SimConfig};
use vap_core::store::{ImportOptions, Store};
use vap_core::{ErrorKind, SessionData};

fn room(seed: u64, session: &str) -> SessionData {
    simulate(&SimConfig {
        seed,
        hours: 0.3,
        session_id: Some(session.into()),
        ..Default::default()
    })
    .unwrap()
    .data
}

/// The write steps an import goes through, in order.
fn steps_of(with_session: bool, new: &SessionData, opts: &ImportOptions) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut store = prepared_store(dir.path(), with_session);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    store.set_fault_injector(move |step| {
        s2.lock().unwrap().push(step.to_string());
        Ok(())
    });
    store.import(new, opts).unwrap();
    let v = seen.lock().unwrap().clone();
    v
}

fn prepared_store(dir: &Path, with_session: bool) -> Store {
    let store = Store::open(dir).unwrap();
    store
        .import(&room(1, "other"), &ImportOptions::default())
        .unwrap();
    if with_session {
        store
            .import(&room(2, "day"), &ImportOptions::default())
            .unwrap();
    }
    store
}

#[test]
fn injected_failure_at_every_step_leaves_the_store_as_before() {
    // (description, session exists before, replace)
    for (with_session, replace, other_room) in [
        (false, false, false),
        (false, false, true),
        (true, true, false),
    ] {
        let new = {
            let mut d = room(3, "day");
            if other_room {
                d.room.id = "room-b".into();
                d.session.room_id = "room-b".into();
            }
            d
        };
        let opts = ImportOptions {
            replace,
            ..Default::default()
        };
        let steps = steps_of(with_session, &new, &opts);
        assert!(steps.len() >= 11, "steps: {steps:?}");
        for step in &steps {
            let dir = tempfile::tempdir().unwrap();
            let mut store = prepared_store(dir.path(), with_session);
            let before = snapshot(dir.path());
            let target = step.clone();
            store.set_fault_injector(move |s| {
                if s == target {
                    Err(std::io::Error::other(format!("injected failure at {s}")))
                } else {
                    Ok(())
                }
            });
            let res = store.import(&new, &opts);
            if step == "cleanup" || step == "room_meta" {
                // After the commit point the import has succeeded; leftovers go
                // on reopen (a room.json that could not be refreshed stays as it was).
                res.unwrap();
                Store::open(dir.path()).unwrap();
                assert_eq!(
                    Store::open(dir.path())
                        .unwrap()
                        .load(&new.room.id, "day")
                        .unwrap(),
                    new
                );
                continue;
            }
            let err = res.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Io, "{step}: {err}");
            assert!(err.to_string().contains("injected failure"), "{err}");
            assert_eq!(
                snapshot(dir.path()),
                before,
                "store changed after a failure at step {step}"
            );
        }
    }
}

const CHILD_ENV: &str = "VAP_STORE_CRASH_CHILD";

/// Runs in a child process: imports and SIGKILLs itself at the given step.
#[test]
fn crash_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = spec.splitn(3, '|');
    let (root, step, replace) = (
        parts.next().unwrap(),
        parts.next().unwrap().to_string(),
        parts.next().unwrap(),
    );
    let mut store = Store::open(root).unwrap();
    store.set_fault_injector(move |s| {
        if s == step {
            // SAFETY: plain libc calls; the process dies here.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
        Ok(())
    });
    store
        .import(
            &room(3, "day"),
            &ImportOptions {
                replace: replace == "1",
                ..Default::default()
            },
        )
        .unwrap();
    // Reaching here means the step never came: exit with a code the parent checks.
    std::process::exit(3);
}

#[test]
fn sigkill_during_import_leaves_the_store_as_before() {
    let exe = std::env::current_exe().unwrap();
    let new = room(3, "day");
    for (with_session, replace) in [(false, false), (true, true)] {
        let steps = steps_of(
            with_session,
            &new,
            &ImportOptions {
                replace,
                ..Default::default()
            },
        );
        for step in &steps {
            let dir = tempfile::tempdir().unwrap();
            drop(prepared_store(dir.path(), with_session));
            let before = snapshot(dir.path());
            let status = Command::new(&exe)
                .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
                .env(
                    CHILD_ENV,
                    format!(
                        "{}|{}|{}",
                        dir.path().display(),
                        step,
                        if replace { 1 } else { 0 }
                    ),
                )
                .status()
                .unwrap();
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(
                status.signal(),
                Some(libc::SIGKILL),
                "child was not killed at step {step}: {status:?}"
            );
            // Whatever the child left, reopening recovers.
            let store = Store::open(dir.path()).unwrap();
            if step == "cleanup" || step == "room_meta" {
                assert_eq!(
                    store.load("sim-room", "day").unwrap(),
                    new,
                    "killed after the commit"
                );
                let mut after = snapshot(dir.path());
                after.retain(|p, _| !p.starts_with(".trash") && !p.starts_with(".journal"));
                assert_eq!(after, snapshot(dir.path()), "leftovers after recovery");
            } else {
                assert_eq!(
                    snapshot(dir.path()),
                    before,
                    "store changed after a kill at step {step}"
                );
            }
        }
    }
}

#[test]
fn failures_in_delete_and_replace_table_leave_the_store_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = prepared_store(dir.path(), true);
    let before = snapshot(dir.path());
    store.set_fault_injector(|s| {
        if s == "delete" {
            Err(std::io::Error::other("no"))
        } else {
            Ok(())
        }
    });
    assert!(store.delete("sim-room", "day").is_err());
    assert_eq!(snapshot(dir.path()), before);
    let batch = vap_core::table::to_record_batch(
        &room(9, "day"),
        vap_core::table::TableName::Comments,
        false,
    );
    store.set_fault_injector(|s| {
        if s == "write:timeline" {
            Err(std::io::Error::other("no"))
        } else {
            Ok(())
        }
    });
    assert!(store
        .replace_table("sim-room", "day", "timeline", std::slice::from_ref(&batch))
        .is_err());
    assert_eq!(
        snapshot(dir.path()),
        before,
        "after a failure writing a derived table"
    );
    assert_eq!(
        store
            .read_table("sim-room", "day", "timeline")
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    // Replacing a table is one rename: afterwards the new table is visible whole.
    store.set_fault_injector(|_| Ok(()));
    store
        .replace_table("sim-room", "day", "timeline", std::slice::from_ref(&batch))
        .unwrap();
    let back = store.read_table("sim-room", "day", "timeline").unwrap();
    assert_eq!(
        back.iter().map(|b| b.num_rows()).sum::<usize>(),
        batch.num_rows()
    );
    assert_eq!(
        store
            .sessions(Some("sim-room"))
            .unwrap()
            .iter()
            .find(|s| s.session_id == "day")
            .unwrap()
            .derived,
        vec!["timeline"]
    );
}

#[test]
fn reimport_refused_and_ids_checked() {
    let dir = tempfile::tempdir().unwrap();
    let store = prepared_store(dir.path(), true);
    let e = store
        .import(&room(5, "day"), &ImportOptions::default())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    for (r, s) in [
        ("..", "x"),
        ("a/b", "x"),
        ("ok", "../../x"),
        (".hidden", "x"),
        ("ok", "a\\b"),
        ("", "x"),
    ] {
        assert_eq!(
            store.load(r, s).unwrap_err().kind(),
            ErrorKind::InvalidArgument,
            "{r}/{s}"
        );
    }
    let mut bad = room(5, "x");
    bad.session.id = "../escape".into();
    assert_eq!(
        store
            .import(&bad, &ImportOptions::default())
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn concurrent_handles_import_into_a_new_room() {
    let dir = tempfile::tempdir().unwrap();
    let sessions: Vec<SessionData> = (0..4).map(|i| room(10 + i, &format!("s{i}"))).collect();
    std::thread::scope(|scope| {
        for d in &sessions {
            let root = dir.path().to_path_buf();
            scope.spawn(move || {
                // Each thread opens its own handle: opening recovers under the lock,
                // and never touches another handle's import in flight.
                let store = Store::open(&root).unwrap();
                store.import(d, &ImportOptions::default()).unwrap();
            });
        }
    });
    let store = Store::open(dir.path()).unwrap();
    let ids: Vec<String> = store
        .sessions(None)
        .unwrap()
        .into_iter()
        .map(|s| s.session_id)
        .collect();
    assert_eq!(ids.len(), 4, "{ids:?}");
    for d in &sessions {
        assert_eq!(&store.load(&d.room.id, &d.session.id).unwrap(), d);
    }
}

#[test]
fn import_refuses_what_load_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut d = room(1, "x");
    d.orders[0].product_id = "nope".into();
    assert_eq!(
        store
            .import(&d, &ImportOptions::default())
            .unwrap_err()
            .kind(),
        ErrorKind::Validation
    );
    let mut d = room(1, "x");
    d.session.id = "ｓ1".into(); // full-width: not in normal form
    d.room.id = "a／b".into();
    let e = store.import(&d, &ImportOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(store.sessions(None).unwrap().is_empty());
}

#[test]
fn update_session_is_atomic_and_carries_derived_tables_and_work_files() {
    let prepare = |dir: &Path| {
        let store = prepared_store(dir, true);
        // A derived table and work files in two areas ride along.
        let batches = store
            .read_table(&room(2, "day").room.id, "day", "orders")
            .unwrap();
        let rid = room(2, "day").room.id;
        store
            .replace_table(&rid, "day", "my_derived", &batches)
            .unwrap();
        store
            .save_work(&rid, "day", "asr", "c1.json", b"{\"a\":1}")
            .unwrap();
        store
            .save_work(&rid, "day", "other", "x.bin", b"xyz")
            .unwrap();
        store
    };
    let rid = room(2, "day").room.id;
    let change = |d: &mut SessionData| -> vap_core::Result<()> {
        d.utterances.truncate(3);
        d.session.title = Some("updated".into());
        Ok(())
    };
    // The steps it goes through.
    let dir = tempfile::tempdir().unwrap();
    let mut store = prepare(dir.path());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    store.set_fault_injector(move |s| {
        s2.lock().unwrap().push(s.to_string());
        Ok(())
    });
    let after = store.update_session(&rid, "day", &["asr"], change).unwrap();
    assert_eq!(after.utterances.len(), 3);
    let loaded = store.load(&rid, "day").unwrap();
    assert_eq!(loaded, after);
    assert_eq!(loaded.session.title.as_deref(), Some("updated"));
    assert_eq!(
        store.read_table(&rid, "day", "my_derived").unwrap()[0].num_rows(),
        store.read_table(&rid, "day", "orders").unwrap()[0].num_rows()
    );
    assert!(
        store.read_work(&rid, "day", "asr").unwrap().is_empty(),
        "dropped area"
    );
    assert_eq!(
        store.read_work(&rid, "day", "other").unwrap(),
        vec![("x.bin".to_string(), b"xyz".to_vec())]
    );
    let steps = seen.lock().unwrap().clone();
    assert!(steps.iter().any(|s| s == "carry:work"), "{steps:?}");
    assert!(steps.iter().any(|s| s == "commit"), "{steps:?}");
    // A failure at any step before the commit leaves the store as it was.
    for step in steps.iter().filter(|s| *s != "cleanup") {
        let dir = tempfile::tempdir().unwrap();
        let mut store = prepare(dir.path());
        let before = snapshot(dir.path());
        let target = step.clone();
        store.set_fault_injector(move |s| {
            if s == target {
                Err(std::io::Error::other(format!("injected failure at {s}")))
            } else {
                Ok(())
            }
        });
        let err = store
            .update_session(&rid, "day", &["asr"], change)
            .unwrap_err();
        assert!(
            err.to_string().contains("injected failure"),
            "{step}: {err}"
        );
        assert_eq!(
            snapshot(dir.path()),
            before,
            "store changed after a failure at {step}"
        );
    }
    // A change the loaders would refuse is refused before anything is written.
    let dir = tempfile::tempdir().unwrap();
    let store = prepare(dir.path());
    let before = snapshot(dir.path());
    let err = store
        .update_session(&rid, "day", &[], |d| {
            d.session.end_ms = d.session.start_ms - 1;
            Ok(())
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation, "{err}");
    assert_eq!(snapshot(dir.path()), before);
}
