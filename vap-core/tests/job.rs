//! Progress and stopping of long calls (`vap_core::job`): a room-wide fit
//! reports its sessions and bootstrap replicates, stops when asked, and leaves
//! nothing behind.

use std::sync::{Arc, Mutex};

use vap_core::attribute::{fit_room, FitRequest};
use vap_core::job::{Job, Step};
use vap_core::sim::{simulate, SimConfig};
use vap_core::store::{ImportOptions, Store};
use vap_core::ErrorKind;

fn room_store() -> (tempfile::TempDir, Store, String) {
    let dir = tempfile::tempdir().unwrap();
    let st = Store::open(dir.path().join("store")).unwrap();
    let mut room = String::new();
    for seed in [1, 2, 3] {
        let r = simulate(&SimConfig {
            seed,
            hours: 0.5,
            ..Default::default()
        })
        .unwrap();
        room = r.data.room.id.clone();
        st.import(&r.data, &ImportOptions::default()).unwrap();
    }
    (dir, st, room)
}

type Log = Arc<Mutex<Vec<(String, usize, usize)>>>;

fn recording(stop_at: Option<&'static str>) -> (Job, Log) {
    let log: Log = Arc::default();
    let l = Arc::clone(&log);
    let stopper: Arc<Mutex<Option<Job>>> = Arc::default();
    let s = Arc::clone(&stopper);
    let job = Job::new(Some(Box::new(move |st: &Step<'_>| {
        l.lock()
            .unwrap()
            .push((st.stage.to_string(), st.done, st.total));
        if Some(st.stage) == stop_at {
            if let Some(j) = s.lock().unwrap().as_ref() {
                j.stop();
            }
        }
    })));
    *stopper.lock().unwrap() = Some(job.clone());
    (job, log)
}

#[test]
fn a_room_fit_reports_sessions_and_replicates_to_the_end() {
    let (_d, st, room) = room_store();
    let (job, log) = recording(None);
    let req = FitRequest::default();
    let fit = job.run(|| fit_room(&st, &room, &req)).unwrap();
    let plain = fit_room(&st, &room, &req).unwrap();
    assert_eq!(fit.model, plain.model, "reporting changes nothing");
    let log = log.lock().unwrap();
    assert!(log.contains(&("sessions".into(), 3, 3)), "{log:?}");
    let b = req.model.bootstrap;
    assert!(log.contains(&("bootstrap".into(), b, b)), "{log:?}");
    for w in log.windows(2) {
        if w[0].0 == w[1].0 {
            assert!(w[1].1 > w[0].1, "counts only grow within a stage: {log:?}");
        }
    }
}

#[test]
fn a_stopped_fit_is_cancelled_and_saves_nothing() {
    let (_d, st, room) = room_store();
    let req = FitRequest {
        name: Some("m".into()),
        ..Default::default()
    };
    // the carryover search reports its candidates and stops too, so a fit
    // without a bootstrap stops as soon as it is asked
    let no_bootstrap = FitRequest {
        model: vap_core::attribute::AttributeOptions {
            bootstrap: 0,
            ..Default::default()
        },
        ..Default::default()
    };
    let (job, log) = recording(Some("search (exposure)"));
    let e = job.run(|| fit_room(&st, &room, &no_bootstrap)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    assert!(log.lock().unwrap().iter().all(|(s, _, _)| s != "bootstrap"));
    // stopped in the log link's search (form auto tries it second): the
    // fit is stopped, not fitted as the exposure form and saved
    let named = FitRequest {
        name: Some("half".into()),
        ..no_bootstrap.clone()
    };
    let (job, _log) = recording(Some("search (log link)"));
    let e = job.run(|| fit_room(&st, &room, &named)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    let saved = vap_core::attribute::RoomModel::load(&st, &room, "half");
    assert_eq!(saved.unwrap_err().kind(), ErrorKind::NotFound);
    let (job, log) = recording(None);
    job.run(|| fit_room(&st, &room, &no_bootstrap)).unwrap();
    let log = log.lock().unwrap();
    let last = log
        .iter()
        .rfind(|(s, _, _)| s == "search (exposure)")
        .expect("search steps");
    assert!(last.1 == last.2 && last.2 > 1, "{log:?}");
    for stage in ["sessions", "search (exposure)", "bootstrap"] {
        let (job, _log) = recording(Some(stage));
        let e = job.run(|| fit_room(&st, &room, &req)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Cancelled, "{stage}: {e}");
        assert_eq!(e.kind().code(), "VAP_CANCELLED");
        assert!(e.to_string().contains(stage), "{e}");
        let saved = vap_core::attribute::RoomModel::load(&st, &room, "m");
        assert_eq!(saved.unwrap_err().kind(), ErrorKind::NotFound, "{stage}");
    }
    // a job stopped before the call does nothing at all
    let job = Job::new(None);
    job.stop();
    assert_eq!(
        job.run(|| fit_room(&st, &room, &req)).unwrap_err().kind(),
        ErrorKind::Cancelled
    );
    // and outside a job the same call still works
    assert!(fit_room(&st, &room, &req).is_ok());
}

#[test]
fn a_stopped_replay_is_cancelled_not_a_replay_without_its_model() {
    let (_d, st, room) = room_store();
    let opts = vap_core::replay::ReplayOptions::default();
    let (job, _log) = recording(Some("bootstrap"));
    let e = job
        .run(|| vap_core::replay::room(&st, &room, &opts))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    let (job, _log) = recording(Some("bootstrap"));
    let e = job
        .run(|| vap_core::replay::from_store(&st, &room, "sim-3", &opts))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    // unstopped, both are whole
    assert!(vap_core::replay::room(&st, &room, &opts).is_ok());
}

#[test]
fn a_playbook_names_its_two_passes_over_the_room_apart() {
    let (_d, st, room) = room_store();
    let (job, log) = recording(None);
    let opts = vap_core::plan::PlaybookOptions::default();
    job.run(|| vap_core::plan::store_playbook(&st, &room, &opts))
        .unwrap();
    let log = log.lock().unwrap();
    assert!(
        log.contains(&("sessions (catalogue)".into(), 3, 3)),
        "{log:?}"
    );
    assert!(log.contains(&("sessions".into(), 3, 3)), "{log:?}");
}

#[test]
fn reports_from_many_threads_arrive_in_order() {
    let (_d, st, room) = room_store();
    let (job, log) = recording(None);
    let req = FitRequest {
        model: vap_core::attribute::AttributeOptions {
            bootstrap: 3000,
            ..Default::default()
        },
        ..Default::default()
    };
    job.run(|| fit_room(&st, &room, &req)).unwrap();
    let log = log.lock().unwrap();
    let boot: Vec<usize> = log
        .iter()
        .filter(|(s, _, _)| s == "bootstrap")
        .map(|(_, d, _)| *d)
        .collect();
    assert!(boot.windows(2).all(|w| w[1] > w[0]), "{boot:?}");
    assert_eq!(boot.last(), Some(&3000));
}
