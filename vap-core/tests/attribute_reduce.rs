//! The room model fitted from per-session statistics
//! (`vap_core::attribute::{RoomPlan, SessionGram}`) is the model fitted on the
//! room's stacked timeline, for the linear forms; the statistics travel as
//! bytes; bad combinations are refused with every problem named.

mod common;

use vap_core::attribute::{
    fit_room, fit_room_by_sessions, session_timeline, AttributeOptions, Estimator, FitRequest,
    Form, RoomFit, RoomModel, RoomPlan, SessionGram, SessionSummary,
};
use vap_core::store::Store;
use vap_core::ErrorKind;

/// Three stored sessions of `sim-room` (`s0`…`s2`), the last with two
/// anchors where the others have three: its timeline lacks a host column the
/// stacked room has.
fn uneven_room(dir: &std::path::Path) -> Store {
    use vap_core::sim::{simulate, SimConfig};
    use vap_core::store::ImportOptions;
    let store = common::stored_room(dir, 41, 2, 1.0);
    let r = simulate(&SimConfig {
        seed: 43,
        hours: 1.0,
        anchors: 2,
        start_ms: 1_764_072_000_000 + 2 * 86_400_000,
        session_id: Some("s2".into()),
        ..Default::default()
    })
    .unwrap();
    store.import(&r.data, &ImportOptions::default()).unwrap();
    store
}

fn request(form: Form, estimator: Estimator) -> FitRequest {
    FitRequest {
        model: AttributeOptions {
            form,
            estimator,
            bootstrap: 40,
            ..AttributeOptions::default()
        },
        ..FitRequest::default()
    }
}

/// Relative closeness of two numbers on the scale `scale`.
fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-7 * scale.max(1e-12)
}

fn same_model(a: &RoomModel, b: &RoomModel) {
    assert_eq!(a.sessions, b.sessions);
    assert_eq!(
        a.factors, b.factors,
        "the same carryovers and scales chosen"
    );
    assert_eq!(a.penalty, b.penalty, "the same penalty chosen");
    assert_eq!(a.options, b.options);
    assert_eq!(a.columns.len(), b.columns.len());
    let scale = a.columns.iter().map(|c| c.value.abs()).fold(0.0, f64::max);
    for (x, y) in a.columns.iter().zip(&b.columns) {
        assert_eq!((&x.name, x.role), (&y.name, y.role));
        assert!(
            close(x.value, y.value, scale),
            "{}: {} vs {}",
            x.name,
            x.value,
            y.value
        );
    }
    assert_eq!(a.replicates.len(), b.replicates.len());
    for (r, s) in a.replicates.iter().zip(&b.replicates) {
        for (x, y) in r.iter().zip(s) {
            assert!(close(*x, *y, scale), "replicate {x} vs {y}");
        }
    }
    match (a.price, b.price) {
        (Some(p), Some(q)) => {
            assert!(close(p.0, q.0, p.0.abs()) && close(p.1, q.1, p.0.abs()))
        }
        (p, q) => assert_eq!(p, q),
    }
}

fn timelines(store: &Store, room: &str, req: &FitRequest) -> Vec<vap_core::align::Timeline> {
    store
        .map_room(room, |d| session_timeline(&d, &req.timeline.0))
        .unwrap()
}

fn by_hand(tls: &[vap_core::align::Timeline], opts: &AttributeOptions) -> (RoomPlan, Vec<Vec<u8>>) {
    let summaries: Vec<SessionSummary> = tls
        .iter()
        .rev() // the plan orders the sessions itself
        .map(|t| {
            let s = SessionSummary::of(t, opts).unwrap();
            SessionSummary::from_json(&s.to_json().unwrap()).unwrap()
        })
        .collect();
    let plan = RoomPlan::new(&summaries, opts).unwrap();
    let plan = RoomPlan::from_json(&plan.to_json().unwrap()).unwrap();
    let grams = tls
        .iter()
        .map(|t| plan.gram(t).unwrap().to_bytes().unwrap())
        .collect();
    (plan, grams)
}

fn fit_bytes(plan: &RoomPlan, grams: &[Vec<u8>]) -> RoomFit {
    let g: Vec<SessionGram> = grams
        .iter()
        .map(|b| SessionGram::from_bytes(b).unwrap())
        .collect();
    plan.fit(g).unwrap()
}

#[test]
fn the_linear_forms_fitted_from_statistics_equal_the_stacked_fit() {
    let dir = tempfile::tempdir().unwrap();
    let store = uneven_room(dir.path());
    for (form, est) in [
        (Form::Exposure, Estimator::Ridge),
        (Form::Linear, Estimator::Ridge),
    ] {
        let req = request(form, est);
        let stacked = fit_room(&store, "sim-room", &req).unwrap();
        let reduced = fit_room_by_sessions(&store, "sim-room", &req).unwrap();
        same_model(&stacked.model, &reduced.model);
        assert_eq!(stacked.cv.len(), reduced.cv.len());
        for (a, b) in stacked.cv.iter().zip(&reduced.cv) {
            assert_eq!(a.penalty, b.penalty);
            assert!(close(a.error, b.error, a.error.abs()), "{a:?} vs {b:?}");
        }
        assert_eq!(stacked.diagnostics.n_bins, reduced.n_bins);
        assert_eq!(stacked.diagnostics.candidates, reduced.candidates);
        assert!(
            (stacked.diagnostics.r2 - reduced.r2).abs() < 1e-9,
            "{} vs {}",
            stacked.diagnostics.r2,
            reduced.r2
        );
        assert!(close(
            stacked.diagnostics.condition_number,
            reduced.condition_number,
            stacked.diagnostics.condition_number
        ));
        for (c, d) in stacked.coefficients.iter().zip(&reduced.coefficients) {
            assert_eq!(c.name, d.name);
            assert!(close(
                c.boot_low,
                d.boot_low,
                c.boot_se.abs() + c.value.abs()
            ));
        }
        // By hand, through the serialised forms, sessions in any order.
        let tls = timelines(&store, "sim-room", &req);
        let (plan, grams) = by_hand(&tls, &req.model);
        let mut shuffled = grams.clone();
        shuffled.rotate_left(1);
        let again = fit_bytes(&plan, &shuffled);
        same_model(&reduced.model, &again.model);
        assert_eq!(
            reduced.model, again.model,
            "bytes carry the numbers exactly"
        );
        // Every session decomposed with the model, as a fitted session.
        for t in &tls {
            let dec = again.model.apply(t).unwrap();
            assert_eq!(dec.len(), t.len());
        }
    }
}

#[test]
fn the_sessions_columns_differ_and_the_plan_fills_them_as_the_stacked_room() {
    let dir = tempfile::tempdir().unwrap();
    let store = uneven_room(dir.path());
    let req = request(Form::Exposure, Estimator::Ridge);
    let tls = timelines(&store, "sim-room", &req);
    let (plan, _) = by_hand(&tls, &req.model);
    let partial = plan
        .columns
        .iter()
        .filter(|c| tls.iter().any(|t| t.position(&c.name).is_none()))
        .count();
    assert!(partial > 0, "a column missing from some session is filled");
    assert_eq!(plan.sessions, vec!["s0", "s1", "s2"]);
}

#[test]
fn auto_is_fitted_as_the_exposure_form_and_the_log_link_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::stored_room(dir.path(), 7, 2, 1.0);
    let auto =
        fit_room_by_sessions(&store, "sim-room", &request(Form::Auto, Estimator::Ridge)).unwrap();
    let exposure = fit_room_by_sessions(
        &store,
        "sim-room",
        &request(Form::Exposure, Estimator::Ridge),
    )
    .unwrap();
    assert!(auto.warnings.iter().any(|w| w.contains("form 'auto'")));
    assert_eq!(auto.model.columns, exposure.model.columns);
    let e = fit_room_by_sessions(
        &store,
        "sim-room",
        &request(Form::LogLink, Estimator::Ridge),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("log link"), "{e}");
    // OLS and the elastic net are solved from the statistics, and say so.
    for est in [Estimator::Ols, Estimator::ElasticNet] {
        let f = fit_room_by_sessions(&store, "sim-room", &request(Form::Exposure, est)).unwrap();
        assert!(f
            .warnings
            .iter()
            .any(|w| w.contains("solved from the statistics")));
        assert!(f.model.columns.iter().all(|c| c.value.is_finite()));
    }
}

#[test]
fn bad_statistics_and_mismatched_sessions_are_refused_with_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::stored_room(dir.path(), 5, 3, 0.5);
    let req = request(Form::Exposure, Estimator::Ridge);
    let tls = timelines(&store, "sim-room", &req);
    let (plan, grams) = by_hand(&tls, &req.model);
    // missing and doubled sessions, named
    let g: Vec<SessionGram> = [&grams[0], &grams[0]]
        .iter()
        .map(|b| SessionGram::from_bytes(b).unwrap())
        .collect();
    let e = plan.fit(g).unwrap_err().to_string();
    assert!(e.contains("'s0' is given twice"), "{e}");
    assert!(e.contains("s1, s2"), "{e}");
    // truncated or foreign bytes
    for bad in [
        &grams[0][..grams[0].len() - 3],
        &grams[0][..20],
        b"not a gram at all".as_slice(),
    ] {
        let e = SessionGram::from_bytes(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.to_string().contains("not vap session statistics"), "{e}");
    }
    // a plan of two sessions does not take the third
    let two: Vec<SessionSummary> = tls[..2]
        .iter()
        .map(|t| SessionSummary::of(t, &req.model).unwrap())
        .collect();
    let small = RoomPlan::new(&two, &req.model).unwrap();
    let e = small.gram(&tls[2]).unwrap_err().to_string();
    assert!(
        e.contains("'s2' is not one of the plan's 2 sessions"),
        "{e}"
    );
    // a stacked timeline is not one session
    let room =
        vap_core::attribute::store_room_timeline(&store, "sim-room", &req.timeline.0).unwrap();
    assert!(SessionSummary::of(&room, &req.model).is_err());
    assert!(plan.gram(&room).is_err());
    // a summary given twice
    let s0 = SessionSummary::of(&tls[0], &req.model).unwrap();
    let e = RoomPlan::new(&[s0.clone(), s0], &req.model)
        .unwrap_err()
        .to_string();
    assert!(e.contains("'s0' is given twice"), "{e}");
}

/// An edit of a gram's header.
type Edit = dyn Fn(&mut serde_json::Value);

/// The header of a gram's bytes, edited by `edit`, the numbers kept.
fn edited(bytes: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let hl = u64::from_le_bytes(bytes[8..16].try_into().unwrap()) as usize;
    let mut head: serde_json::Value = serde_json::from_slice(&bytes[16..16 + hl]).unwrap();
    edit(&mut head);
    let text = serde_json::to_vec(&head).unwrap();
    let mut out = b"VAPGRAM1".to_vec();
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    out.extend_from_slice(&bytes[16 + hl..]);
    out
}

#[test]
fn statistics_of_another_plan_or_of_another_shape_are_refused_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::stored_room(dir.path(), 9, 2, 0.5);
    let req = request(Form::Exposure, Estimator::Ridge);
    let tls = timelines(&store, "sim-room", &req);
    let (plan, grams) = by_hand(&tls, &req.model);
    // another target: the same sessions, other sums
    let orders = AttributeOptions {
        target: "orders".into(),
        ..req.model.clone()
    };
    let (_, other) = by_hand(&tls, &orders);
    let mixed = vec![
        SessionGram::from_bytes(&grams[0]).unwrap(),
        SessionGram::from_bytes(&other[1]).unwrap(),
    ];
    let e = plan.fit(mixed).unwrap_err().to_string();
    assert!(
        e.contains("'s1': its statistics were built under another plan"),
        "{e}"
    );
    // headers that do not describe the plan's design
    let cases: [(&str, Box<Edit>); 4] = [
        (
            "fewer columns",
            Box::new(|h| h["nu"] = serde_json::json!(100_000)),
        ),
        (
            "usable bins of",
            Box::new(|h| h["n_valid"] = serde_json::json!(10_000_000)),
        ),
        (
            "no column of factor",
            Box::new(|h| {
                let cols = h["columns"].as_array_mut().unwrap();
                for c in cols
                    .iter_mut()
                    .filter(|c| c["factor"] == serde_json::json!(0))
                {
                    c["factor"] = serde_json::json!(1);
                }
            }),
        ),
        (
            "session effect",
            Box::new(|h| h["units"][0] = serde_json::json!(0)),
        ),
    ];
    for (want, edit) in cases {
        let bad = edited(&grams[1], |h| edit(h));
        let g = vec![
            SessionGram::from_bytes(&grams[0]).unwrap(),
            SessionGram::from_bytes(&bad).unwrap_or_else(|e| panic!("{want}: {e}")),
        ];
        let e = plan.fit(g).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.to_string().contains(want), "{want}: {e}");
    }
    // a header claiming many columns and no numbers is refused when read
    let huge = edited(&grams[0], |h| {
        let c = h["columns"][0].clone();
        h["columns"] = serde_json::Value::Array(vec![c; 50_000]);
    });
    assert!(SessionGram::from_bytes(&huge).is_err());
}

#[test]
fn a_plan_read_back_is_checked_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::stored_room(dir.path(), 9, 2, 0.5);
    let req = request(Form::Exposure, Estimator::Ridge);
    let tls = timelines(&store, "sim-room", &req);
    let (plan, _) = by_hand(&tls, &req.model);
    let mut v: serde_json::Value = serde_json::from_str(&plan.to_json().unwrap()).unwrap();
    v["sessions"] = serde_json::json!([]);
    v["step_ms"] = serde_json::json!(0);
    v["options"]["form"] = serde_json::json!("log_link");
    let e = RoomPlan::from_json(&v.to_string()).unwrap_err().to_string();
    for want in ["form 'log_link'", "step_ms 0", "no sessions"] {
        assert!(e.contains(want), "{want}: {e}");
    }
    // a bad factor is refused by the plan, before any session's statistics
    let summaries: Vec<SessionSummary> = tls
        .iter()
        .map(|t| SessionSummary::of(t, &req.model).unwrap())
        .collect();
    let bad: AttributeOptions = serde_json::from_value(serde_json::json!({
        "form": "exposure",
        "factors": [{"column": "explain:any"}, {"column": "explain:any"}, {"column": "nope"}]
    }))
    .unwrap();
    let e = RoomPlan::new(&summaries, &bad).unwrap_err().to_string();
    assert!(
        e.contains("named twice") && e.contains("no column 'nope'"),
        "{e}"
    );
}

#[test]
fn one_session_and_designs_without_a_base_or_session_effects_equal_the_stacked_fit() {
    let dir = tempfile::tempdir().unwrap();
    let store = uneven_room(dir.path());
    let mut no_base = request(Form::Linear, Estimator::Ridge);
    no_base.model.intercept = false;
    let mut no_effects = request(Form::Exposure, Estimator::Ridge);
    no_effects.model.controls.session_effects = false;
    for req in [no_base, no_effects] {
        let stacked = fit_room(&store, "sim-room", &req).unwrap();
        let reduced = fit_room_by_sessions(&store, "sim-room", &req).unwrap();
        same_model(&stacked.model, &reduced.model);
    }
    let one = tempfile::tempdir().unwrap();
    let single = common::stored_room(one.path(), 3, 1, 1.0);
    let req = request(Form::Exposure, Estimator::Ridge);
    same_model(
        &fit_room(&single, "sim-room", &req).unwrap().model,
        &fit_room_by_sessions(&single, "sim-room", &req)
            .unwrap()
            .model,
    );
}
