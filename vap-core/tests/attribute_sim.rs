//! Attribution on synthetic rooms with known contributions.
//!
//! Run with `--nocapture` to see the figures quoted in the README.

use vap_core::align::{
    estimate_transcript_offset, AlignOptions, ColumnKind, ColumnMeta, OffsetOptions, Timeline,
};
use vap_core::attribute::{
    self, AttributeOptions, CarryoverKind, Estimator, FactorSpec, Form, RoomModel, Sign,
};
use vap_core::detect::{moments as scan_moments, DetectOptions};
use vap_core::sim::{simulate, Cause, SimConfig, SimRoom};
use vap_core::Store;

use rand::SeedableRng;
use rand_distr::{Distribution, Normal, Poisson};

/// A 4-hour room with the full-scale room's traffic (130 entries/s), its
/// transcript clock offset estimated and applied.
fn room(seed: u64, hours: f64) -> SimRoom {
    let mut r = simulate(&SimConfig {
        seed,
        hours,
        entries_per_second: 130.0,
        ..Default::default()
    })
    .unwrap();
    let off = estimate_transcript_offset(&r.data, &OffsetOptions::default()).unwrap();
    off.apply_to_transcript(&mut r.data).unwrap();
    r
}

fn column_of(truth: &str) -> String {
    match truth {
        "explain" => "explain:any".into(),
        "flash_sale" => "promo:flash_sale".into(),
        "coupon" => "promo:coupon".into(),
        "pitch" => "speech:urgency".into(),
        "answer" => "answers".into(),
        a => a.replace("anchor:", "host:"),
    }
}

fn plain(column: &str, sign: Sign) -> FactorSpec {
    FactorSpec {
        name: column.into(),
        column: column.into(),
        carryover_ms: vec![0],
        carryover_kind: CarryoverKind::Adstock,
        saturation: None,
        sign: Some(sign),
    }
}

/// The default factors with the simulator's reference anchor (a1) as the
/// reference (the default picks the anchor on air the longest).
fn factors(tl: &Timeline) -> Vec<FactorSpec> {
    let mut f: Vec<FactorSpec> = attribute::default_factors(tl)
        .into_iter()
        .filter(|f| !f.column.starts_with("host:"))
        .collect();
    f.push(plain("host:a2", Sign::Free));
    f.push(plain("host:a3", Sign::Free));
    f
}

fn ten_seconds(data: &vap_core::SessionData) -> Timeline {
    attribute::session_timeline(
        data,
        &AlignOptions {
            step_ms: 10_000,
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn per_factor_totals_and_moment_causes() {
    let (mut err_sum, mut truth_sum) = (0.0, 0.0);
    let (mut answer_est, mut answer_truth) = (0.0, 0.0);
    let (mut right, mut peaks) = (0, 0);
    let (mut det_right, mut det) = (0, 0);
    for seed in 0..10u64 {
        let r = room(seed, 4.0);
        let tl = ten_seconds(&r.data);
        let opts = AttributeOptions {
            factors: Some(factors(&tl)),
            bootstrap: 20,
            ..Default::default()
        };
        let fit = attribute::fit(&tl, &opts).unwrap();
        let totals = fit.decomposition.totals();
        let forms: Vec<String> = fit
            .model
            .factors
            .iter()
            .filter(|f| f.half_life_ms > 0 || f.saturation.is_some())
            .map(|f| {
                format!(
                    "{} {:?} {}s{}",
                    f.name,
                    f.carryover_kind,
                    f.half_life_ms / 1000,
                    f.saturation
                        .map(|(s, k, _)| format!(" hill({s},{k})"))
                        .unwrap_or_default()
                )
            })
            .collect();
        println!("seed {seed}: forms {}", forms.join(", "));
        let mut line = format!("seed {seed}: R² {:.3} ", fit.diagnostics.r2);
        for f in &r.truth.factors {
            let col = column_of(&f.name);
            let est = totals
                .iter()
                .find(|p| p.name == col)
                .map(|p| p.value)
                .expect("factor fitted");
            err_sum += (est - f.gmv).abs();
            truth_sum += f.gmv.abs();
            if f.name == "answer" {
                answer_est += est;
                answer_truth += f.gmv;
            }
            line += &format!("{}={:.0}/{:.0} ", f.name, est, f.gmv);
        }
        // Factors with no effect in the simulator count their whole estimate as error.
        for p in totals
            .iter()
            .filter(|p| p.name == "promo:lucky_bag" || p.name == "speech:price")
        {
            err_sum += p.value.abs();
            line += &format!("{}={:.0}/0 ", p.name, p.value);
        }
        println!("{line}");
        let cause = |c: Cause| match c {
            Cause::FlashSale => "promo:flash_sale",
            Cause::PitchBurst => "speech:urgency",
            Cause::TrafficWave | Cause::StreamStall => "traffic",
        };
        // Planted peaks, each window against the 20-minute reference around it.
        for m in r.truth.moments.iter().filter(|m| m.peak) {
            let a = fit
                .decomposition
                .window("order_gmv", m.start_ms, m.end_ms, None, 1_200_000)
                .unwrap();
            let sum: f64 = a.parts.iter().map(|p| p.value).sum();
            assert!((sum - a.excess).abs() <= 1e-6 * a.excess.abs().max(1.0));
            peaks += 1;
            if a.top().unwrap().name == cause(m.cause) {
                right += 1;
            }
        }
        // Detected GMV moments that overlap a planted peak.
        let moments = scan_moments(&r.data, &DetectOptions::default()).unwrap();
        for m in moments.iter().filter(|m| m.metric == "order_gmv") {
            let Some(p) = r
                .truth
                .moments
                .iter()
                .find(|p| p.peak && p.start_ms < m.end_ms && m.start_ms < p.end_ms)
            else {
                continue;
            };
            let a = fit.decomposition.moment(m, 1_200_000).unwrap();
            let sum: f64 = a.parts.iter().map(|p| p.value).sum();
            assert!((sum - m.magnitude).abs() <= 1e-6 * m.magnitude.abs().max(1.0));
            det += 1;
            if a.top().unwrap().name == cause(p.cause) {
                det_right += 1;
            }
        }
    }
    let rel = err_sum / truth_sum;
    println!(
        "per-factor session totals: Σ|error| / Σ|truth| = {rel:.3}; true cause first for {right}/{peaks} planted peaks, {det_right}/{det} detected GMV moments on a planted peak"
    );
    // Answered questions (the `answers` column: utterances that explicitly
    // answer a detected question, in place of the answer-phrase count): the
    // planted effect recovered to within 15 % over the ten rooms (0.929 when
    // measured; 0.80 with hold windows in 30 s steps).
    let answer_ratio = answer_est / answer_truth;
    println!("answered questions: estimate / truth = {answer_ratio:.3}");
    assert!(
        (0.85..=1.15).contains(&answer_ratio),
        "answers recovered at {answer_ratio:.3} of the truth"
    );
    // The same on the simulator's default, small room (12 entries/s, about
    // 1,800 viewers; a tenth of the orders, so about three times the noise):
    // 0.295 when measured; bounded loosely.
    let (mut e_small, mut t_small) = (0.0, 0.0);
    for seed in 0..10u64 {
        let mut r = simulate(&SimConfig {
            seed,
            ..Default::default()
        })
        .unwrap();
        let off = estimate_transcript_offset(&r.data, &OffsetOptions::default()).unwrap();
        off.apply_to_transcript(&mut r.data).unwrap();
        let tl = ten_seconds(&r.data);
        let fit = attribute::fit(
            &tl,
            &AttributeOptions {
                factors: Some(factors(&tl)),
                bootstrap: 0,
                ..Default::default()
            },
        )
        .unwrap();
        let totals = fit.decomposition.totals();
        for f in &r.truth.factors {
            let est = totals
                .iter()
                .find(|p| p.name == column_of(&f.name))
                .map(|p| p.value)
                .unwrap_or(0.0);
            e_small += (est - f.gmv).abs();
            t_small += f.gmv.abs();
        }
    }
    println!(
        "small room (12 entries/s): Σ|error| / Σ|truth| = {:.3}",
        e_small / t_small
    );
    assert!(e_small / t_small < 0.4, "{}", e_small / t_small);
    // 0.148 with defaults tuned to this simulator (urgency S-shaped, fixed);
    // 0.181 with the defaults chosen on both simulators (hold carryover,
    // linear or S-shaped urgency by cross-validation), which cut the second
    // simulator's error from 0.353 to about 0.23 (README, "Robustness");
    // 0.140 with the answers' holds in 10 s steps.
    assert!(rel < 0.16, "{rel}");
    assert!(right as f64 >= 0.9 * peaks as f64, "{right}/{peaks}");
    assert!(
        det > 0 && det_right as f64 >= 0.9 * det as f64,
        "{det_right}/{det}"
    );
}

#[test]
fn every_form_decomposes_exactly() {
    let r = room(3, 2.0);
    let tl = ten_seconds(&r.data);
    for (form, target, est) in [
        (Form::Exposure, "order_gmv", Estimator::Ridge),
        (Form::Exposure, "order_gmv", Estimator::ElasticNet),
        (Form::Linear, "order_gmv", Estimator::Ols),
        (Form::LogLink, "orders", Estimator::Ridge),
        (Form::LogLink, "orders", Estimator::Ols),
    ] {
        let opts = AttributeOptions {
            target: target.into(),
            form,
            estimator: est,
            bootstrap: 10,
            controls: attribute::Controls {
                trend: true,
                ..Default::default()
            },
            ..Default::default()
        };
        let fit = attribute::fit(&tl, &opts).unwrap();
        let d = &fit.decomposition;
        let mut checked = 0;
        for i in 0..d.len() {
            if !d.prediction[i].is_finite() {
                continue;
            }
            let s =
                d.baseline[i] + d.traffic[i] + d.contributions.iter().map(|c| c[i]).sum::<f64>();
            assert!(
                (s - d.prediction[i]).abs() <= 1e-9 * d.prediction[i].abs().max(1.0),
                "{form:?} bin {i}: {s} vs {}",
                d.prediction[i]
            );
            checked += 1;
        }
        assert!(checked > 600);
        // Session totals: the parts and the unexplained remainder sum to the actual.
        let t = d.totals();
        let actual: f64 = (0..d.len())
            .filter(|&i| d.prediction[i].is_finite())
            .map(|i| d.actual[i])
            .sum();
        let sum: f64 = t.iter().map(|p| p.value).sum();
        assert!((sum - actual).abs() <= 1e-6 * actual, "{form:?}");
        // Sign constraints hold.
        for c in fit
            .coefficients
            .iter()
            .filter(|c| c.name.starts_with("promo:"))
        {
            assert!(c.value >= 0.0, "{form:?} {} {}", c.name, c.value);
        }
        // Per-anchor and per-product totals cover their bins.
        let by = d.totals_by_anchor(&[&r.data]);
        assert!(!by.is_empty() && by.iter().all(|g| g.bins > 0));
        let shifts = d.totals_by_shift(&[&r.data]);
        assert!(shifts.len() >= by.len());
        let prod = d.totals_by_product(&[&r.data]);
        assert!(prod.len() > 5);
        for g in by.iter().chain(&prod).chain(&shifts) {
            let s: f64 = g.parts.iter().map(|p| p.1).sum();
            assert!((s - g.prediction).abs() <= 1e-6 * g.prediction.abs().max(1.0));
        }
    }
}

/// Draws targets from the model itself on designs taken from synthetic rooms,
/// so the true coefficients are known, and counts how often the 95 %
/// intervals cover them.
#[test]
fn interval_coverage_over_fifty_rooms() {
    let names = ["explain:any", "promo:flash_sale", "promo:coupon", "host:a2"];
    let beta_lin = [40.0, 150.0, 60.0, -30.0];
    let beta_log = [0.4, 1.2, 0.3, -0.2];
    let (mut ols_in, mut glm_in, mut ridge_in, mut total) = (0, 0, 0, 0);
    for seed in 0..50u64 {
        let r = simulate(&SimConfig {
            seed: 1000 + seed,
            hours: 3.0,
            ..Default::default()
        })
        .unwrap();
        let mut tl = attribute::session_timeline(
            &r.data,
            &AlignOptions {
                step_ms: 30_000,
                ..Default::default()
            },
        )
        .unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let cols: Vec<Vec<f64>> = names
            .iter()
            .map(|n| tl.values(n).unwrap().to_vec())
            .collect();
        let online = tl.values("online_viewers").unwrap().to_vec();
        let noise = Normal::new(0.0, 25.0).unwrap();
        let n = tl.len();
        let lin: Vec<f64> = (0..n)
            .map(|i| {
                100.0
                    + (0..4).map(|k| beta_lin[k] * cols[k][i]).sum::<f64>()
                    + noise.sample(&mut rng)
            })
            .collect();
        let cnt: Vec<f64> = (0..n)
            .map(|i| {
                let e = online[i];
                if !e.is_finite() {
                    return f64::NAN;
                }
                let mu = e * (-6.0 + (0..4).map(|k| beta_log[k] * cols[k][i]).sum::<f64>()).exp();
                Poisson::new(mu.max(1e-9)).unwrap().sample(&mut rng)
            })
            .collect();
        let meta = |name: &str| ColumnMeta {
            name: name.into(),
            kind: ColumnKind::Count,
            source: "drawn from the model".into(),
            unit: "count".into(),
            has_missing: false,
        };
        tl.push(meta("y_linear"), lin).unwrap();
        tl.push(meta("y_count"), cnt).unwrap();
        let factors: Vec<FactorSpec> = names.iter().map(|n| plain(n, Sign::Free)).collect();
        let base = AttributeOptions {
            factors: Some(factors),
            bootstrap: 0,
            estimator: Estimator::Ols,
            ..Default::default()
        };
        let ols = attribute::fit(
            &tl,
            &AttributeOptions {
                target: "y_linear".into(),
                form: Form::Linear,
                exposure: None,
                ..base.clone()
            },
        )
        .unwrap();
        let glm = attribute::fit(
            &tl,
            &AttributeOptions {
                target: "y_count".into(),
                form: Form::LogLink,
                ..base.clone()
            },
        )
        .unwrap();
        let ridge = attribute::fit(
            &tl,
            &AttributeOptions {
                target: "y_linear".into(),
                form: Form::Linear,
                exposure: None,
                estimator: Estimator::Ridge,
                bootstrap: 100,
                seed,
                ..base.clone()
            },
        )
        .unwrap();
        for k in 0..4 {
            // A short room may lack a coupon or a second anchor: the factor is left out.
            let c = |f: &attribute::Attribution| {
                f.coefficients.iter().find(|c| c.name == names[k]).cloned()
            };
            let (Some(o), Some(g), Some(rd)) = (c(&ols), c(&glm), c(&ridge)) else {
                assert!(ols
                    .diagnostics
                    .warnings
                    .iter()
                    .any(|w| w.contains(names[k])));
                continue;
            };
            assert!(o.std_error.unwrap() > 0.0 && g.std_error.unwrap() > 0.0);
            ols_in += (o.ci_low <= beta_lin[k] && beta_lin[k] <= o.ci_high) as usize;
            glm_in += (g.ci_low <= beta_log[k] && beta_log[k] <= g.ci_high) as usize;
            ridge_in += (rd.ci_low <= beta_lin[k] && beta_lin[k] <= rd.ci_high) as usize;
            total += 1;
        }
    }
    let (o, g, r) = (
        ols_in as f64 / total as f64,
        glm_in as f64 / total as f64,
        ridge_in as f64 / total as f64,
    );
    assert!(total >= 150, "{total}");
    println!("95 % interval coverage over 50 rooms ({total} coefficients): OLS {o:.3}, Poisson GLM {g:.3}, ridge (moving-block bootstrap, 100 replicates) {r:.3}");
    assert!((0.88..=0.99).contains(&o), "OLS coverage {o}");
    assert!((0.88..=0.99).contains(&g), "GLM coverage {g}");
}

#[test]
fn bootstrap_is_seeded_and_thread_invariant() {
    let r = room(5, 1.0);
    let tl = ten_seconds(&r.data);
    let opts = AttributeOptions {
        bootstrap: 40,
        seed: 7,
        ..Default::default()
    };
    vap_core::threads::set_num_threads(1).unwrap();
    let a = attribute::fit(&tl, &opts).unwrap();
    vap_core::threads::set_num_threads(2).unwrap();
    let b = attribute::fit(&tl, &opts).unwrap();
    assert_eq!(a.coefficients, b.coefficients);
    assert_eq!(a.model, b.model);
    let c = attribute::fit(
        &tl,
        &AttributeOptions {
            seed: 8,
            ..opts.clone()
        },
    )
    .unwrap();
    assert_ne!(a.model.replicates, c.model.replicates);
    assert!(a.coefficients.iter().all(|c| c.boot_low <= c.boot_high));
}

#[test]
fn room_model_is_saved_and_applied_to_a_new_session() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut sessions = Vec::new();
    for k in 0..4u64 {
        let mut r = simulate(&SimConfig {
            seed: 40 + k,
            hours: 1.5,
            entries_per_second: 40.0,
            start_ms: 1_795_608_000_000 + k as i64 * 86_400_000,
            session_id: Some(format!("day{k}")),
            ..Default::default()
        })
        .unwrap();
        let off = estimate_transcript_offset(&r.data, &OffsetOptions::default()).unwrap();
        off.apply_to_transcript(&mut r.data).unwrap();
        store.import(&r.data, &Default::default()).unwrap();
        sessions.push(r.data);
    }
    let align = AlignOptions {
        step_ms: 10_000,
        ..Default::default()
    };
    let tl = attribute::room_timeline(&sessions[..3], &align).unwrap();
    let fit = attribute::fit(
        &tl,
        &AttributeOptions {
            bootstrap: 20,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(fit.model.sessions, vec!["day0", "day1", "day2"]);
    assert_eq!(
        fit.coefficients
            .iter()
            .filter(|c| c.role == attribute::Role::Session)
            .count(),
        2
    );
    fit.model.save(&store, "gmv").unwrap();
    assert_eq!(store.models("sim-room").unwrap(), vec!["gmv"]);
    let model = RoomModel::load(&store, "sim-room", "gmv").unwrap();
    assert_eq!(model, fit.model);
    // Applied to a fitted session, it reproduces the fit's decomposition.
    let again = model.apply(&tl).unwrap();
    for i in 0..tl.len() {
        let (a, b) = (again.prediction[i], fit.decomposition.prediction[i]);
        assert!(a.is_nan() && b.is_nan() || (a - b).abs() <= 1e-9 * b.abs().max(1.0));
    }
    // A new session decomposes without refitting, exactly.
    let new = attribute::session_timeline(&sessions[3], &align).unwrap();
    let d = model.apply(&new).unwrap();
    let mut n = 0;
    for i in 0..d.len() {
        if d.prediction[i].is_finite() {
            let s =
                d.baseline[i] + d.traffic[i] + d.contributions.iter().map(|c| c[i]).sum::<f64>();
            assert!((s - d.prediction[i]).abs() <= 1e-9 * d.prediction[i].abs().max(1.0));
            n += 1;
        }
    }
    assert!(n > 400);
    let actual: f64 = d.actual.iter().filter(|v| v.is_finite()).sum();
    let pred: f64 = d.prediction.iter().filter(|v| v.is_finite()).sum();
    println!("new session: actual {actual:.0}, predicted {pred:.0}");
    assert!((pred / actual - 1.0).abs() < 0.25, "{pred} vs {actual}");
    // Errors: a missing model, another room's timeline, another step.
    assert!(RoomModel::load(&store, "sim-room", "nope").is_err());
    let coarse = attribute::session_timeline(&sessions[3], &AlignOptions::default()).unwrap();
    assert!(model
        .apply(&coarse)
        .unwrap_err()
        .to_string()
        .contains("10000 ms"));
    assert!(RoomModel::from_json("{\"format\": 1}").is_err());
}

#[test]
fn bad_options_are_reported_together() {
    let r = simulate(&SimConfig {
        hours: 0.5,
        ..Default::default()
    })
    .unwrap();
    let tl = ten_seconds(&r.data);
    let e = attribute::fit(
        &tl,
        &AttributeOptions {
            target: "nope".into(),
            exposure: Some("viewers".into()),
            factors: Some(vec![plain("missing:col", Sign::Free)]),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    for want in ["'nope'", "'viewers'", "'missing:col'"] {
        assert!(e.contains(want), "{e}");
    }
    let e = attribute::fit(
        &tl,
        &AttributeOptions {
            folds: 1,
            holdout: 2.0,
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("folds") && e.contains("holdout"), "{e}");
}

/// The unconstrained elastic net is linfa's; with a sign constraint that does
/// not bind, vap's projected coordinate descent must land on the same point.
#[test]
fn elastic_net_linfa_agrees_with_coordinate_descent() {
    let r = room(2, 1.0);
    let tl = ten_seconds(&r.data);
    let cols = [
        "explain:any",
        "promo:flash_sale",
        "promo:coupon",
        "speech:urgency",
    ];
    let with = |sign: Sign| AttributeOptions {
        estimator: Estimator::ElasticNet,
        l1_ratio: 0.3,
        penalty: Some(1e-6),
        bootstrap: 0,
        factors: Some(cols.iter().map(|c| plain(c, sign)).collect()),
        ..Default::default()
    };
    let a = attribute::fit(&tl, &with(Sign::Free)).unwrap();
    let b = attribute::fit(&tl, &with(Sign::Positive)).unwrap();
    let mut nonzero = 0;
    for (x, y) in a.coefficients.iter().zip(&b.coefficients) {
        assert!(x.value >= 0.0, "{} {}", x.name, x.value);
        nonzero += (x.value > 0.0) as usize;
        assert!(
            (x.value - y.value).abs() <= 1e-6 * x.value.abs().max(1e-9),
            "{}: linfa {} vs CD {}",
            x.name,
            x.value,
            y.value
        );
    }
    assert!(nonzero >= 3);
}

/// A room of many short sessions: folds, the holdout and bootstrap blocks are
/// cut within each session, so no training set or replicate loses a session's
/// fixed effect; the model round-trips through JSON and rejects a model whose
/// columns do not describe its design.
#[test]
fn many_short_sessions_and_defensive_apply() {
    let sessions: Vec<vap_core::SessionData> = (0..8u64)
        .map(|k| {
            simulate(&SimConfig {
                seed: 200 + k,
                hours: 0.5,
                entries_per_second: 40.0,
                start_ms: 1_795_608_000_000 + k as i64 * 86_400_000,
                session_id: Some(format!("s{k}")),
                clock_offset_ms: Some(0),
                ..Default::default()
            })
            .unwrap()
            .data
        })
        .collect();
    let align = AlignOptions {
        step_ms: 10_000,
        ..Default::default()
    };
    let tl = attribute::room_timeline(&sessions, &align).unwrap();
    let fit = attribute::fit(
        &tl,
        &AttributeOptions {
            bootstrap: 30,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        fit.model.replicates.len(),
        30,
        "{:?}",
        fit.diagnostics.warnings
    );
    assert!(fit.diagnostics.holdout_r2.is_finite());
    assert_eq!(fit.cv.len(), 30);
    let json = fit.model.to_json().unwrap();
    let model = RoomModel::from_json(&json).unwrap();
    // A session's timeline: the model gives it its own fixed effect back.
    let one = attribute::session_timeline(&sessions[3], &align).unwrap();
    let d = model.apply(&one).unwrap();
    let rows = &fit.decomposition.sessions[3].1;
    for (i, j) in rows.clone().enumerate() {
        let (a, b) = (d.prediction[i], fit.decomposition.prediction[j]);
        assert!(a.is_nan() && b.is_nan() || (a - b).abs() <= 1e-9 * b.abs().max(1.0));
    }
    // Corrupted columns are refused, not a panic.
    let mut broken = model.clone();
    broken.columns.clear();
    broken.replicates.clear();
    assert!(broken
        .apply(&one)
        .unwrap_err()
        .to_string()
        .contains("do not match"));
    // A timeline without the price level cannot be used by a price-scaled model.
    assert!(model.price.is_some());
    let plain_tl = Timeline::build(&sessions[3], &align).unwrap();
    let e = model.apply(&plain_tl).unwrap_err().to_string();
    assert!(
        e.contains("price_level") || e.contains("host:") || e.contains("answers"),
        "{e}"
    );
}

/// One missing bin in a factor with carryover drops that bin only.
#[test]
fn a_missing_factor_bin_does_not_poison_the_carryover() {
    let n = 600;
    let x: Vec<f64> = (0..n).map(|i| ((i / 7) % 3) as f64).collect();
    let mut x_gap = x.clone();
    x_gap[100] = f64::NAN;
    let y: Vec<f64> = (0..n)
        .map(|i| 5.0 + 2.0 * x[i] + ((i * 37) % 11) as f64 * 0.1)
        .collect();
    let tl = Timeline::from_columns(
        0,
        1000,
        vec![("y".into(), y), ("x".into(), x_gap)],
        ColumnKind::Flow,
    )
    .unwrap();
    let fit = attribute::fit(
        &tl,
        &AttributeOptions {
            target: "y".into(),
            form: Form::Linear,
            exposure: None,
            bootstrap: 0,
            factors: Some(vec![FactorSpec {
                carryover_ms: vec![0, 5_000, 20_000],
                ..plain("x", Sign::Free)
            }]),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(fit.diagnostics.n_dropped, 1);
    assert!(fit.decomposition.prediction[100].is_nan());
    assert!(fit.decomposition.prediction[101].is_finite());
}

/// "Choose, don't assume": a factor with `carryover_kind: auto` and
/// `saturation: auto` gets the shape the data have. Two sparse phrase-count
/// columns drive the target, one linearly with a 60 s hold, one through an
/// S-shaped Hill on a 30 s adstock; the fit keeps those forms and reports
/// them. Two columns that move together are reported as confounded.
#[test]
fn forms_are_chosen_by_cross_validation_and_confounding_is_reported() {
    use rand::{Rng, SeedableRng};
    let r = room(3, 2.0);
    let mut tl = ten_seconds(&r.data);
    let n = tl.len();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    // sparse counts: mostly 0, bursts of 1-4
    let mut counts = |p: f64| -> Vec<f64> {
        (0..n)
            .map(|_| {
                if rng.random_bool(p) {
                    rng.random_range(1..=4) as f64
                } else {
                    0.0
                }
            })
            .collect()
    };
    let (a, b) = (counts(0.08), counts(0.08));
    // a: linear, held 60 s (6 bins)
    let held: Vec<f64> = (0..n)
        .map(|t| a[t.saturating_sub(5)..=t].iter().sum())
        .collect();
    // b: 30 s adstock (3 bins half-life), then an S-shaped Hill at half the max
    let ad = vap_core::align::adstock(&b, 3.0, true);
    let max_b = b.iter().copied().fold(0.0, f64::max);
    let sat = vap_core::align::hill(&ad, 3.0, 0.5, max_b);
    let noise = Normal::new(0.0, 1.0).unwrap();
    let y: Vec<f64> = (0..n)
        .map(|t| 20.0 + 3.0 * held[t] + 40.0 * sat[t] + noise.sample(&mut rng))
        .collect();
    let twin: Vec<f64> = a
        .iter()
        .map(|v| v + 0.05 * noise.sample(&mut rng))
        .collect();
    for (name, v) in [
        ("x:a", a.clone()),
        ("x:b", b.clone()),
        ("y", y),
        ("x:twin", twin),
    ] {
        tl.add_column(name.into(), v, ColumnKind::Count, "count")
            .unwrap();
    }
    let auto = |col: &str| -> FactorSpec {
        serde_json::from_value(serde_json::json!({
            "column": col,
            "carryover": ["0s", "30s", "60s", "120s"],
            "carryover_kind": "auto",
            "saturation": "auto",
            "sign": "positive"
        }))
        .unwrap()
    };
    let opts = AttributeOptions {
        target: "y".into(),
        form: Form::Linear,
        exposure: None,
        factors: Some(vec![auto("x:a"), auto("x:b")]),
        bootstrap: 0,
        ..Default::default()
    };
    let fit = attribute::fit(&tl, &opts).unwrap();
    let f = |name: &str| {
        fit.model
            .factors
            .iter()
            .find(|f| f.name == name)
            .unwrap()
            .clone()
    };
    let (fa, fb) = (f("x:a"), f("x:b"));
    println!("chosen: {fa:?}\n        {fb:?}");
    assert_eq!(
        (fa.carryover_kind, fa.half_life_ms),
        (CarryoverKind::Hold, 60_000)
    );
    assert!(fa.saturation.is_none(), "{fa:?}");
    assert_eq!(
        (fb.carryover_kind, fb.half_life_ms),
        (CarryoverKind::Adstock, 30_000)
    );
    assert_eq!(fb.saturation.map(|(s, k, _)| (s, k)), Some((3.0, 0.5)));
    assert!(fit.diagnostics.confounded.is_empty());
    // a twin of x:a: the pair is reported, with its correlation, and warned
    let opts = AttributeOptions {
        factors: Some(vec![
            plain("x:a", Sign::Positive),
            plain("x:twin", Sign::Positive),
        ]),
        ..opts
    };
    let fit = attribute::fit(&tl, &opts).unwrap();
    let c = &fit.diagnostics.confounded;
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!((c[0].a.as_str(), c[0].b.as_str()), ("x:a", "x:twin"));
    assert!(c[0].correlation > 0.99);
    assert!(fit
        .diagnostics
        .warnings
        .iter()
        .any(|w| w.contains("x:a and x:twin move together")));
}

/// `form: auto` (the default) fits the form the target was made with: the
/// exposure form where the factors add up on conversion, the log link where
/// they multiply (so that two effects together are worth more than the sum
/// of each alone). Both forms' cross-validated errors are reported, the
/// lower one fitted, and the model keeps the concrete form it was fitted
/// with; a form asked for is fitted without the comparison.
#[test]
fn the_form_is_chosen_by_cross_validation() {
    use rand::Rng;
    let r = room(5, 2.0);
    let base = ten_seconds(&r.data);
    let e = base.values("online_viewers").unwrap().to_vec();
    let n = base.len();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    // two factors on in blocks of a minute, 40 % of the time each, often together
    let mut blocks = || -> Vec<f64> {
        let mut on = 0.0;
        (0..n)
            .map(|i| {
                if i % 6 == 0 {
                    on = if rng.random_bool(0.4) { 1.0 } else { 0.0 };
                }
                on
            })
            .collect()
    };
    let (x1, x2) = (blocks(), blocks());
    let noise = Normal::new(0.0, 2.0).unwrap();
    let additive: Vec<f64> = (0..n)
        .map(|i| {
            let e = if e[i].is_finite() { e[i] } else { 0.0 };
            (e * (0.01 + 0.02 * x1[i] + 0.02 * x2[i]) + noise.sample(&mut rng)).max(0.0)
        })
        .collect();
    let multiplicative: Vec<f64> = (0..n)
        .map(|i| {
            let e = if e[i].is_finite() { e[i] } else { 0.0 };
            let mu = e * 0.01 * (1.2 * x1[i] + 1.2 * x2[i]).exp();
            if mu > 0.0 {
                Poisson::new(mu).unwrap().sample(&mut rng)
            } else {
                0.0
            }
        })
        .collect();
    let mut tl = base.clone();
    for (name, v) in [
        ("x1", x1),
        ("x2", x2),
        ("y_add", additive),
        ("y_mul", multiplicative),
    ] {
        tl.add_column(name.into(), v, ColumnKind::Count, "count")
            .unwrap();
    }
    let opts = |target: &str, form: Form| AttributeOptions {
        target: target.into(),
        form,
        factors: Some(vec![plain("x1", Sign::Free), plain("x2", Sign::Free)]),
        bootstrap: 0,
        ..Default::default()
    };
    assert_eq!(AttributeOptions::default().form, Form::Auto);
    for (target, want) in [("y_add", "exposure"), ("y_mul", "log_link")] {
        let fit = attribute::fit(&tl, &opts(target, Form::Auto)).unwrap();
        let d = &fit.diagnostics;
        println!("{target}: {} {:?}", d.form, d.form_cv);
        assert_eq!(d.form, want, "{target}: {:?}", d.form_cv);
        assert_eq!(d.form_cv.len(), 2);
        let score = |f: &str| d.form_cv.iter().find(|(k, _)| k == f).unwrap().1;
        let other = if want == "exposure" {
            "log_link"
        } else {
            "exposure"
        };
        assert!(score(want) < score(other));
        assert_eq!(fit.model.options.form.as_str(), want);
        // the same fit as asking for that form outright
        let form = if want == "exposure" {
            Form::Exposure
        } else {
            Form::LogLink
        };
        let given = attribute::fit(&tl, &opts(target, form)).unwrap();
        assert!(given.diagnostics.form_cv.is_empty());
        assert_eq!(given.diagnostics.form, want);
        for (a, b) in fit.coefficients.iter().zip(&given.coefficients) {
            assert_eq!(a.name, b.name);
            assert!((a.value - b.value).abs() <= 1e-9 * (1.0 + b.value.abs()));
        }
    }
    // a target the log link cannot take (negative bins): the exposure form
    let mut tl2 = tl.clone();
    let neg: Vec<f64> = tl2
        .values("y_add")
        .unwrap()
        .iter()
        .map(|v| v - 300.0)
        .collect();
    tl2.add_column("y_neg".into(), neg, ColumnKind::Flow, "count")
        .unwrap();
    let fit = attribute::fit(&tl2, &opts("y_neg", Form::Auto)).unwrap();
    assert_eq!(fit.diagnostics.form, "exposure");
    assert_eq!(fit.diagnostics.form_cv.len(), 1);
}

/// A factor whose effect multiplies conversion by `1 + κ·U` (`U` the phrases
/// said over the last minute, combined multiplicatively with the rest: sim
/// 2's urgency) gets the logarithmic curve under the log link, and its total
/// comes out right; the linear column (`exp(β·U)`) gets it wrong.
#[test]
fn a_multiplicative_linear_effect_gets_the_log_curve() {
    use attribute::{Curve, SaturationSpec};
    use rand::Rng;
    let r = room(6, 3.0);
    let base = ten_seconds(&r.data);
    let e = base.values("online_viewers").unwrap().to_vec();
    let n = base.len();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    // bursts of talk: 2 minutes of 0-4 phrases a bin, about every 10 minutes
    let mut x = vec![0.0; n];
    let mut i = 0;
    while i < n {
        i += rng.random_range(30..90);
        for v in x.iter_mut().skip(i).take(12) {
            *v = rng.random_range(0..5) as f64;
        }
        i += 12;
    }
    let u: Vec<f64> = (0..n)
        .map(|t| x[t.saturating_sub(5)..=t].iter().sum())
        .collect();
    let umax = u.iter().copied().fold(0.0, f64::max);
    let kappa = 8.0 / umax;
    let mut truth = 0.0;
    let y: Vec<f64> = (0..n)
        .map(|t| {
            let e = if e[t].is_finite() { e[t] } else { 0.0 };
            truth += e * 0.02 * kappa * u[t];
            let mu = e * 0.02 * (1.0 + kappa * u[t]);
            if mu > 0.0 {
                Poisson::new(mu).unwrap().sample(&mut rng)
            } else {
                0.0
            }
        })
        .collect();
    let mut tl = base.clone();
    tl.add_column("x".into(), x, ColumnKind::Count, "count")
        .unwrap();
    tl.add_column("y".into(), y, ColumnKind::Count, "count")
        .unwrap();
    let fit_with = |saturation: Option<SaturationSpec>| {
        let f = FactorSpec {
            saturation,
            carryover_ms: vec![0, 30_000, 60_000, 120_000],
            carryover_kind: CarryoverKind::Hold,
            ..plain("x", Sign::Positive)
        };
        let opts = AttributeOptions {
            target: "y".into(),
            form: Form::LogLink,
            factors: Some(vec![f]),
            bootstrap: 0,
            ..Default::default()
        };
        let fit = attribute::fit(&tl, &opts).unwrap();
        let total = fit
            .decomposition
            .totals()
            .into_iter()
            .find(|p| p.name == "x")
            .unwrap()
            .value;
        (fit, (total / truth - 1.0).abs())
    };
    let (auto, auto_err) = fit_with(Some(SaturationSpec::Auto));
    let (_, linear_err) = fit_with(None);
    let c = auto.coefficients.iter().find(|c| c.name == "x").unwrap();
    println!(
        "log curve: {:?} {} ms, total off by {auto_err:.3}; linear: {linear_err:.3}",
        c.saturation, c.half_life_ms
    );
    assert_eq!(c.saturation.map(|s| s.curve), Some(Curve::Log));
    assert_eq!(c.half_life_ms, 60_000);
    assert!(auto_err < 0.05, "{auto_err}");
    assert!(linear_err > 2.0 * auto_err, "{linear_err} vs {auto_err}");
    // the exposure form does not search the curve
    let mut opts = auto.model.options.clone();
    opts.form = Form::Exposure;
    let exposure = attribute::fit(&tl, &opts).unwrap();
    let c = exposure
        .coefficients
        .iter()
        .find(|c| c.name == "x")
        .unwrap();
    assert_ne!(c.saturation.map(|s| s.curve), Some(Curve::Log));
    // the fitted curve is kept in the model: saved and applied, the same
    // (format version 2: a reader before the curve refuses it)
    let model = RoomModel::from_json(&auto.model.to_json().unwrap()).unwrap();
    assert_eq!(model.factors[0].saturation_curve, Curve::Log);
    assert_eq!(model.version, 2);
    assert_eq!(exposure.model.version, 1);
    let future = auto
        .model
        .to_json()
        .unwrap()
        .replace("\"version\":2", "\"version\":3");
    assert!(RoomModel::from_json(&future).is_err());
    let again = model.apply(&tl).unwrap();
    for i in 0..tl.len() {
        let (a, b) = (again.prediction[i], auto.decomposition.prediction[i]);
        assert!(a.is_nan() && b.is_nan() || (a - b).abs() <= 1e-9 * b.abs().max(1.0));
    }
    // a logarithmic curve given outright, and a bad one
    let f: FactorSpec =
        serde_json::from_str(r#"{"column": "x", "saturation": ["log", 0.4]}"#).unwrap();
    let fit = attribute::fit(
        &tl,
        &AttributeOptions {
            target: "y".into(),
            form: Form::LogLink,
            factors: Some(vec![f]),
            bootstrap: 0,
            ..Default::default()
        },
    )
    .unwrap();
    let s = fit
        .coefficients
        .iter()
        .find(|c| c.name == "x")
        .unwrap()
        .saturation;
    assert_eq!(s.map(|s| (s.curve, s.inflexion)), Some((Curve::Log, 0.4)));
    for bad in [r#"["log", 0]"#, r#"["log", -1]"#] {
        let f: FactorSpec =
            serde_json::from_str(&format!(r#"{{"column": "x", "saturation": {bad}}}"#)).unwrap();
        let err = attribute::fit(
            &tl,
            &AttributeOptions {
                target: "y".into(),
                factors: Some(vec![f]),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("logarithmic saturation needs a scale > 0"),
            "{err}"
        );
    }
    let bad = serde_json::from_str::<FactorSpec>(r#"{"column": "x", "saturation": ["exp", 1]}"#)
        .unwrap_err()
        .to_string();
    assert!(bad.contains("[\"log\", scale]"), "{bad}");
}
