//! A store that nothing can break: a full disk at every write step of every
//! store operation, damaged and hostile journals, bytes flipped in every file
//! of a stored session, and out-of-range requests. Each case ends with the
//! store opening and either a typed error or the data, never a panic, and
//! never a store left half-written.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

mod common;
use common::snapshot;
use vap_core::align::AlignOptions;
use vap_core::attribute::session_timeline;
use vap_core::sim::{simulate, SimConfig};
use vap_core::store::{ImportOptions, Store};
use vap_core::{ErrorKind, SessionData};

fn room(seed: u64, session: &str, hours: f64) -> SessionData {
    simulate(&SimConfig {
        seed,
        hours,
        session_id: Some(session.into()),
        ..Default::default()
    })
    .unwrap()
    .data
}

fn leftovers(root: &Path) -> Vec<PathBuf> {
    snapshot(root)
        .into_keys()
        .filter(|p| {
            let s = p.to_string_lossy();
            s.contains(".tmp-") || s.starts_with(".staging") || s.starts_with(".journal")
        })
        .collect()
}

/// A store with room `sim-room` (sessions `day`, with a derived table, a work
/// file and a model, and `other`) and room `room-b` (session `b`).
fn prepared(dir: &Path) -> Store {
    let store = Store::open(dir).unwrap();
    let day = room(2, "day", 0.1);
    store.import(&day, &ImportOptions::default()).unwrap();
    store
        .import(&room(1, "other", 0.05), &ImportOptions::default())
        .unwrap();
    let mut b = room(3, "b", 0.05);
    b.room.id = "room-b".into();
    b.session.room_id = "room-b".into();
    store.import(&b, &ImportOptions::default()).unwrap();
    let orders = store.read_table("sim-room", "day", "orders").unwrap();
    store
        .replace_table("sim-room", "day", "my_derived", &orders)
        .unwrap();
    store
        .save_work("sim-room", "day", "asr", "chunk-0.json", b"{\"done\":1}")
        .unwrap();
    store
        .save_model("sim-room", "gmv", "{\"coef\":[1,2,3]}")
        .unwrap();
    store
}

type Op = Box<dyn Fn(&Store) -> vap_core::Result<()>>;

fn boxed(f: impl Fn(&Store) -> vap_core::Result<()> + 'static) -> Op {
    Box::new(f)
}

/// The store operations that write, each with a check of its result.
fn operations() -> Vec<(&'static str, Op, Op)> {
    let replacement = room(7, "day", 0.1);
    let new_session = room(8, "evening", 0.05);
    let mut new_room = room(9, "n", 0.05);
    new_room.room.id = "room-new".into();
    new_room.session.room_id = "room-new".into();
    let (r1, r2, r3) = (replacement.clone(), new_session.clone(), new_room.clone());
    vec![
        (
            "import into a new room",
            boxed(move |s: &Store| s.import(&new_room, &ImportOptions::default())),
            boxed(move |s: &Store| {
                assert_eq!(s.load("room-new", "n")?, r3);
                Ok(())
            }),
        ),
        (
            "import into an existing room",
            boxed(move |s: &Store| s.import(&new_session, &ImportOptions::default())),
            boxed(move |s: &Store| {
                assert_eq!(s.load("sim-room", "evening")?, r2);
                Ok(())
            }),
        ),
        (
            "import replacing a session",
            boxed(move |s: &Store| {
                s.import(
                    &replacement,
                    &ImportOptions {
                        replace: true,
                        ..Default::default()
                    },
                )
            }),
            boxed(move |s: &Store| {
                assert_eq!(s.load("sim-room", "day")?, r1);
                Ok(())
            }),
        ),
        (
            "replace_table",
            boxed(|s: &Store| {
                let c = s.read_table("sim-room", "day", "comments")?;
                s.replace_table("sim-room", "day", "my_derived", &c)
            }),
            boxed(|s: &Store| {
                let a = s.read_table("sim-room", "day", "my_derived")?;
                let b = s.read_table("sim-room", "day", "comments")?;
                assert_eq!(a, b);
                Ok(())
            }),
        ),
        (
            "update_session",
            boxed(|s: &Store| {
                s.update_session("sim-room", "day", &["asr"], |d| {
                    d.utterances.truncate(2);
                    Ok(())
                })
                .map(|_| ())
            }),
            boxed(|s: &Store| {
                assert_eq!(s.load("sim-room", "day")?.utterances.len(), 2);
                Ok(())
            }),
        ),
        (
            "save_model",
            boxed(|s: &Store| s.save_model("sim-room", "gmv", "{\"coef\":[4]}")),
            boxed(|s: &Store| {
                assert_eq!(s.load_model("sim-room", "gmv")?, "{\"coef\":[4]}");
                Ok(())
            }),
        ),
        (
            "save_work (a transcription checkpoint)",
            boxed(|s: &Store| s.save_work("sim-room", "day", "asr", "chunk-0.json", b"{}")),
            boxed(|s: &Store| {
                assert_eq!(
                    s.read_work("sim-room", "day", "asr")?,
                    vec![("chunk-0.json".to_string(), b"{}".to_vec())]
                );
                Ok(())
            }),
        ),
    ]
}

/// Steps after the commit point: the operation has succeeded when they fail.
const AFTER_COMMIT: &[&str] = &["cleanup", "room_meta"];

#[test]
fn a_full_disk_at_every_write_step_leaves_the_store_as_before_or_wholly_after() {
    let mut cases = 0;
    for (what, op, check) in operations() {
        // The write steps the operation goes through.
        let dir = tempfile::tempdir().unwrap();
        let mut store = prepared(dir.path());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        store.set_fault_injector(move |step| {
            s2.lock().unwrap().push(step.to_string());
            Ok(())
        });
        op(&store).unwrap_or_else(|e| panic!("{what}: {e}"));
        check(&store).unwrap();
        let steps = seen.lock().unwrap().clone();
        assert!(!steps.is_empty(), "{what}: no write step seen");
        for step in &steps {
            let dir = tempfile::tempdir().unwrap();
            let mut store = prepared(dir.path());
            let before = snapshot(dir.path());
            let target = step.clone();
            store.set_fault_injector(move |s| {
                if s == target {
                    Err(std::io::Error::from(std::io::ErrorKind::StorageFull))
                } else {
                    Ok(())
                }
            });
            let res = op(&store);
            cases += 1;
            if AFTER_COMMIT.contains(&step.as_str()) {
                res.unwrap_or_else(|e| panic!("{what} at {step}: {e}"));
                let store = Store::open(dir.path()).unwrap();
                check(&store).unwrap();
                assert!(
                    leftovers(dir.path()).is_empty(),
                    "{what} at {step}: {:?}",
                    leftovers(dir.path())
                );
                continue;
            }
            let err = res.expect_err(&format!("{what}: a full disk at {step} went unnoticed"));
            assert_eq!(err.kind(), ErrorKind::Io, "{what} at {step}: {err}");
            // As before, with no temporary file left, even before a reopen.
            assert_eq!(
                snapshot(dir.path()),
                before,
                "{what}: the store changed after a full disk at {step}"
            );
            drop(store);
            let store = Store::open(dir.path()).unwrap();
            assert!(store.recovered().is_empty(), "{:?}", store.recovered());
            assert_eq!(snapshot(dir.path()), before);
            assert!(store.check().unwrap().ok());
        }
    }
    assert!(cases >= 40, "only {cases} cases");
}

/// A real full disk: a small tmpfs filled to just short of what a replace
/// needs, at several margins. Needs root (mount); skipped with a note without.
#[test]
fn a_real_full_disk_during_a_replace_leaves_an_openable_store() {
    let mnt = tempfile::tempdir().unwrap();
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16m", "tmpfs"])
        .arg(mnt.path())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(mnt.path().to_path_buf());
    let root = mnt.path().join("store");
    let store = Store::open(&root).unwrap();
    let first = room(2, "day", 0.3);
    let second = room(5, "day", 0.3);
    store.import(&first, &ImportOptions::default()).unwrap();
    let filler = mnt.path().join("filler");
    let free = || {
        let s = nix_statvfs(mnt.path());
        s.0 * s.1
    };
    let mut failures = 0;
    for margin_kb in [0u64, 4, 16, 64, 128, 256, 512, 1024] {
        let _ = std::fs::remove_file(&filler);
        let want = free().saturating_sub(margin_kb * 1024);
        let _ = std::fs::write(&filler, vec![0u8; want as usize]);
        let res = store.import(
            &second,
            &ImportOptions {
                replace: true,
                ..Default::default()
            },
        );
        std::fs::remove_file(&filler).unwrap();
        let reopened = Store::open(&root).unwrap_or_else(|e| panic!("{margin_kb} KiB: {e}"));
        let now = reopened.load("sim-room", "day").unwrap();
        match res {
            Ok(()) => assert_eq!(now, second),
            Err(e) => {
                failures += 1;
                assert_eq!(e.kind(), ErrorKind::Io, "{e}");
                assert!(now == first || now == second);
            }
        }
        assert!(leftovers(&root).is_empty(), "{:?}", leftovers(&root));
        // Back to the first for the next margin.
        reopened
            .import(
                &first,
                &ImportOptions {
                    replace: true,
                    ..Default::default()
                },
            )
            .unwrap();
    }
    assert!(failures > 0, "the disk never filled");
}

/// (block size, free blocks) of the file system holding `p`.
#[allow(clippy::unnecessary_cast)]
fn nix_statvfs(p: &Path) -> (u64, u64) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: a zeroed statvfs filled by the call; `c` outlives it.
    unsafe {
        let mut s: libc::statvfs = std::mem::zeroed();
        assert_eq!(libc::statvfs(c.as_ptr(), &mut s), 0);
        (s.f_frsize as u64, s.f_bavail as u64)
    }
}

#[test]
fn a_torn_or_hostile_journal_is_read_as_nothing_committed() {
    // A zero-byte journal (a crash between creating and writing it, as older
    // versions could leave) with no backup: nothing had been committed.
    let dir = tempfile::tempdir().unwrap();
    drop(prepared(dir.path()));
    let before = snapshot(dir.path());
    std::fs::create_dir_all(dir.path().join(".journal")).unwrap();
    std::fs::write(dir.path().join(".journal/77-1.json"), b"").unwrap();
    let store = Store::open(dir.path()).unwrap();
    let notes = store.recovered().join("\n");
    assert!(notes.contains("unreadable"), "{notes}");
    assert!(notes.contains("nothing had been committed"), "{notes}");
    assert_eq!(snapshot(dir.path()), before);
    drop(store);

    // A torn journal whose backup is in place (the session moved aside, the
    // new one not yet in): the backup's manifest says where it goes back.
    let sdir = dir.path().join("rooms/sim-room/sessions/day");
    std::fs::create_dir_all(dir.path().join(".trash")).unwrap();
    std::fs::create_dir_all(dir.path().join(".journal")).unwrap();
    std::fs::rename(&sdir, dir.path().join(".trash/78-1")).unwrap();
    std::fs::write(dir.path().join(".journal/78-1.json"), b"{\"targ").unwrap();
    let store = Store::open(dir.path()).unwrap();
    let notes = store.recovered().join("\n");
    assert!(notes.contains("its backup was used"), "{notes}");
    assert!(notes.contains("rolled back"), "{notes}");
    assert_eq!(snapshot(dir.path()), before);
    drop(store);

    // A journal naming places outside the store is not followed.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("keep.txt"), b"mine").unwrap();
    std::fs::create_dir_all(dir.path().join(".journal")).unwrap();
    let hostile = serde_json::json!({
        "target": outside.path().join("keep.txt"),
        "backup": "../../../../../../tmp",
    });
    std::fs::write(
        dir.path().join(".journal/79-1.json"),
        serde_json::to_vec(&hostile).unwrap(),
    )
    .unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(
        store.recovered().join("\n").contains("outside the store"),
        "{:?}",
        store.recovered()
    );
    assert_eq!(
        std::fs::read(outside.path().join("keep.txt")).unwrap(),
        b"mine"
    );
    assert_eq!(snapshot(dir.path()), before);
    drop(store);

    // A journal being written aside when the process stopped is ignored.
    std::fs::create_dir_all(dir.path().join(".journal")).unwrap();
    std::fs::write(dir.path().join(".journal/.80-1.json.tmp-1"), b"{").unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(snapshot(dir.path()), before);
    drop(store);

    // Bytes flipped anywhere in a real journal of an interrupted replace:
    // opening recovers or fails with a typed error, and never panics.
    let good = serde_json::to_vec(&serde_json::json!({
        "target": "rooms/sim-room/sessions/day",
        "backup": ".trash/81-1",
    }))
    .unwrap();
    for i in 0..good.len() {
        for flip in [0x01u8, 0x20, 0x80] {
            let mut bad = good.clone();
            bad[i] ^= flip;
            std::fs::create_dir_all(dir.path().join(".journal")).unwrap();
            std::fs::write(dir.path().join(".journal/81-1.json"), &bad).unwrap();
            let res = catch_unwind(AssertUnwindSafe(|| {
                Store::open(dir.path()).map(|s| s.recovered().to_vec())
            }));
            let res = res.unwrap_or_else(|_| panic!("panicked on journal byte {i} ^ {flip:#x}"));
            if let Err(e) = res {
                assert!(matches!(e.kind(), ErrorKind::Format | ErrorKind::Io), "{e}");
            }
            let _ = std::fs::remove_dir_all(dir.path().join(".journal"));
            assert!(Store::open(dir.path())
                .unwrap()
                .load("sim-room", "day")
                .is_ok());
        }
    }
}

/// Every read API on `store`, each under `catch_unwind`; returns which failed
/// (with typed errors) and panics on a panic.
fn read_everything(store: &Store, what: &str) -> Vec<String> {
    let mut failed = Vec::new();
    let mut run = |name: &str, f: &dyn Fn() -> vap_core::Result<()>| match catch_unwind(
        AssertUnwindSafe(f),
    ) {
        Err(_) => panic!("{name} panicked with {what}"),
        Ok(Err(e)) => {
            assert_ne!(e.kind(), ErrorKind::Internal, "{name} with {what}: {e}");
            failed.push(format!("{name}: {e}"));
        }
        Ok(Ok(())) => {}
    };
    run("sessions", &|| store.sessions(None).map(|_| ()));
    run("sessions(room)", &|| {
        store.sessions(Some("sim-room")).map(|_| ())
    });
    run("rooms", &|| store.rooms().map(|_| ()));
    run("manifest", &|| {
        store.manifest("sim-room", "day").map(|_| ())
    });
    run("load", &|| store.load("sim-room", "day").map(|_| ()));
    run("load_room", &|| store.load_room("sim-room").map(|_| ()));
    for t in ["orders", "comments", "my_derived"] {
        run(&format!("read_table {t}"), &|| {
            store.read_table("sim-room", "day", t).map(|_| ())
        });
    }
    run("read_work", &|| {
        store.read_work("sim-room", "day", "asr").map(|_| ())
    });
    run("models", &|| store.models("sim-room").map(|_| ()));
    run("load_model", &|| {
        store.load_model("sim-room", "gmv").map(|_| ())
    });
    run("check", &|| store.check().map(|_| ()));
    failed
}

#[test]
fn flipped_bytes_in_any_stored_file_give_typed_errors_and_spare_other_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let store = prepared(dir.path());
    let other = store.load("sim-room", "other").unwrap();
    let b = store.load("room-b", "b").unwrap();
    let room_dir = dir.path().join("rooms/sim-room");
    let mut files: Vec<PathBuf> = snapshot(&room_dir.join("sessions/day"))
        .into_iter()
        .filter(|(_, h)| h != "dir")
        .map(|(p, _)| room_dir.join("sessions/day").join(p))
        .collect();
    files.push(room_dir.join("room.json"));
    files.push(room_dir.join("models/gmv.json"));
    files.push(dir.path().join("vap-store.json"));
    assert!(files.len() >= 13, "{files:?}");
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut damaged_seen = 0;
    for f in &files {
        let good = std::fs::read(f).unwrap();
        let n = good.len();
        let mut variants: Vec<(String, Vec<u8>)> = Vec::new();
        for pos in [
            0,
            1,
            4,
            n / 3,
            n / 2,
            n.saturating_sub(9),
            n.saturating_sub(5),
            n - 1,
        ] {
            let mut v = good.clone();
            v[pos.min(n - 1)] ^= 0xff;
            variants.push((format!("byte {pos} flipped"), v));
        }
        for _ in 0..4 {
            let mut v = good.clone();
            let pos = (next() as usize) % n;
            v[pos] ^= 1 << (next() % 8);
            variants.push((format!("bit flipped at {pos}"), v));
        }
        variants.push(("truncated to half".into(), good[..n / 2].to_vec()));
        variants.push(("emptied".into(), Vec::new()));
        for (how, bytes) in variants {
            std::fs::write(f, &bytes).unwrap();
            let what = format!("{} {how}", f.display());
            let opened = catch_unwind(AssertUnwindSafe(|| Store::open(dir.path())))
                .unwrap_or_else(|_| panic!("open panicked with {what}"));
            let store = match opened {
                Ok(s) => s,
                Err(e) => {
                    // Only the store's own meta file may stop it from opening.
                    assert!(f.ends_with("vap-store.json"), "{what}: {e}");
                    continue;
                }
            };
            let failed = read_everything(&store, &what);
            let check = store.check().unwrap();
            if failed.iter().any(|f| !f.starts_with("check")) {
                // What the read APIs refused, the check reports.
                assert!(!check.ok(), "{what}: {failed:?} but check found nothing");
                damaged_seen += 1;
            }
            if !check.ok() {
                let listed = store.sessions(None).unwrap();
                assert_eq!(listed.len(), 3, "{what}: {listed:?}");
            }
            // The other sessions stay readable.
            if !f.ends_with("room.json") {
                assert_eq!(store.load("sim-room", "other").unwrap(), other, "{what}");
            }
            assert_eq!(store.load("room-b", "b").unwrap(), b, "{what}");
        }
        std::fs::write(f, &good).unwrap();
    }
    assert!(
        damaged_seen > 50,
        "only {damaged_seen} damaged variants noticed"
    );
    assert!(Store::open(dir.path()).unwrap().check().unwrap().ok());
}

#[test]
fn a_timeline_too_large_is_refused_with_its_size_before_allocating() {
    let d = room(1, "long", 12.0);
    let e = session_timeline(
        &d,
        &AlignOptions {
            step_ms: 1,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let msg = e.to_string();
    assert!(msg.contains("GB"), "{msg}");
    assert!(msg.contains("coarser step"), "{msg}");
    // A second's step over the same 12 hours is fine.
    let tl = session_timeline(
        &d,
        &AlignOptions {
            step_ms: 1000,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(tl.len(), 12 * 3600);
}

#[test]
fn a_corrupt_embedded_arrow_schema_is_a_format_error_for_that_session_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = prepared(dir.path());
    let p = dir
        .path()
        .join("rooms/sim-room/sessions/day/my_derived.parquet");
    let good = std::fs::read(&p).unwrap();
    let key = b"ARROW:schema";
    let at = good
        .windows(key.len())
        .position(|w| w == key)
        .expect("an embedded Arrow schema")
        + key.len();
    let mut errors = 0;
    // Rewrite characters of the base64 value after the key, one at a time,
    // with other base64 characters: the footer stays well formed, the IPC
    // schema inside does not.
    for off in 4..160 {
        for c in [b'/', b'A', b'z'] {
            let mut bad = good.clone();
            if at + off >= bad.len() || !bad[at + off].is_ascii_alphanumeric() {
                continue;
            }
            bad[at + off] = c;
            std::fs::write(&p, &bad).unwrap();
            let res = catch_unwind(AssertUnwindSafe(|| {
                store.read_table("sim-room", "day", "my_derived")
            }))
            .unwrap_or_else(|_| panic!("read_table panicked at offset {off}"));
            if let Err(e) = res {
                assert_eq!(e.kind(), ErrorKind::Format, "{e}");
                errors += 1;
            }
            assert_eq!(store.sessions(None).unwrap().len(), 3);
            assert!(store.load("sim-room", "other").is_ok());
        }
    }
    assert!(errors > 0, "no corruption was noticed");
    std::fs::write(&p, &good).unwrap();
}

#[test]
fn read_only_stores_open_for_reading_and_refuse_writers() {
    let dir = tempfile::tempdir().unwrap();
    let data = room(2, "day", 0.05);
    drop(prepared(dir.path()));
    // A read-only bind mount where the machine allows it (root); otherwise
    // the store opened read-only on purpose.
    let ro = tempfile::tempdir().unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["--bind", "-o", "ro"])
        .arg(dir.path())
        .arg(ro.path())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        && std::fs::write(ro.path().join("probe"), b"x").is_err();
    struct Unmount(Option<PathBuf>);
    impl Drop for Unmount {
        fn drop(&mut self) {
            if let Some(p) = &self.0 {
                let _ = std::process::Command::new("umount").arg(p).status();
            }
        }
    }
    let _guard = Unmount(mounted.then(|| ro.path().to_path_buf()));
    let store = if mounted {
        let s = Store::open(ro.path()).unwrap();
        assert!(s.read_only(), "a read-only mount opens read-only");
        s
    } else {
        eprintln!("no read-only mount here: using Store::open_read_only");
        Store::open_read_only(dir.path()).unwrap()
    };
    assert!(store.read_only());
    assert_eq!(store.sessions(None).unwrap().len(), 3);
    assert!(store.load("sim-room", "day").is_ok());
    assert!(store.check().unwrap().ok());
    let e = store.import(&data, &ImportOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.to_string().contains("without write access"), "{e}");
    let e = store.save_model("sim-room", "m", "{}").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    // Opening read-only a directory that is not a store is NotFound.
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(
        Store::open_read_only(empty.path()).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn replace_table_refuses_types_parquet_cannot_store() {
    use arrow_array::{ArrayRef, IntervalMonthDayNanoArray, RecordBatch};
    use arrow_schema::{DataType, Field, Schema, UnionFields, UnionMode};
    let dir = tempfile::tempdir().unwrap();
    let store = prepared(dir.path());
    let before = snapshot(dir.path());
    let interval: ArrayRef = Arc::new(IntervalMonthDayNanoArray::from(vec![
        arrow_array::types::IntervalMonthDayNano::new(1, 2, 3),
    ]));
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new(
            "gap",
            interval.data_type().clone(),
            false,
        )])),
        vec![interval],
    )
    .unwrap();
    let e = store
        .replace_table("sim-room", "day", "iv", &[batch])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(e.to_string().contains("gap"), "{e}");
    let ints: ArrayRef = Arc::new(arrow_array::Int32Array::from(vec![1]));
    let union = arrow_array::UnionArray::try_new(
        UnionFields::from_fields(vec![Field::new("i", DataType::Int32, false)]),
        vec![0i8].into(),
        None,
        vec![ints],
    )
    .unwrap();
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new(
            "u",
            DataType::Union(
                UnionFields::from_fields(vec![Field::new("i", DataType::Int32, false)]),
                UnionMode::Sparse,
            ),
            false,
        )])),
        vec![Arc::new(union)],
    )
    .unwrap();
    let e = store
        .replace_table("sim-room", "day", "un", &[batch])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert_eq!(snapshot(dir.path()), before);
}
