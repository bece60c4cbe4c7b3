//! Moments on synthetic rooms: precision, recall and F1 against the planted
//! moments at a ±60 s margin, the planted drivers, and PELT against the exact
//! dynamic programme.

use proptest::prelude::*;
use vap_core::detect::{self, changepoint, events, Cost, DetectOptions, Driver, Penalty};
use vap_core::sim::{self, simulate, SimConfig};

const MARGIN_MS: i64 = 60_000;

/// Segmentation covering (van den Burg & Williams 2020): the partitions of
/// `[0, n)` cut at the given points, the ground truth's segments each matched
/// to the detected segment of highest Jaccard index, weighted by length.
fn covering(truth: &[i64], found: &[i64], n: i64) -> f64 {
    let parts = |cuts: &[i64]| {
        let mut c: Vec<i64> = cuts.iter().copied().filter(|&x| x > 0 && x < n).collect();
        c.push(0);
        c.push(n);
        c.sort_unstable();
        c.dedup();
        c.windows(2).map(|w| (w[0], w[1])).collect::<Vec<_>>()
    };
    let (g, h) = (parts(truth), parts(found));
    let mut total = 0.0;
    for &(a, b) in &g {
        let best = h
            .iter()
            .map(|&(c, d)| {
                let inter = (b.min(d) - a.max(c)).max(0) as f64;
                let union = (b.max(d) - a.min(c)) as f64;
                inter / union
            })
            .fold(0.0, f64::max);
        total += (b - a) as f64 * best;
    }
    total / n as f64
}

struct Score {
    covering: f64,
    tp: usize,
    detected: usize,
    planted: usize,
    drivers_right: usize,
}

fn evaluate(seed: u64) -> (Score, Vec<String>) {
    let room = simulate(&SimConfig {
        seed,
        ..Default::default()
    })
    .unwrap();
    let moments = detect::moments(&room.data, &DetectOptions::default()).unwrap();
    let ev = events(&moments, 60_000);
    let mut used = vec![false; ev.len()];
    let t0 = room.data.session.start_ms;
    let n = (room.data.session.end_ms - t0) / 1000;
    let truth_cuts: Vec<i64> = room
        .truth
        .moments
        .iter()
        .flat_map(|m| [(m.start_ms - t0) / 1000, (m.end_ms - t0) / 1000])
        .collect();
    let found_cuts: Vec<i64> = ev
        .iter()
        .flat_map(|e| [(e.start_ms - t0) / 1000, (e.end_ms - t0) / 1000])
        .collect();
    let mut s = Score {
        covering: covering(&truth_cuts, &found_cuts, n),
        tp: 0,
        detected: ev.len(),
        planted: room.truth.moments.len(),
        drivers_right: 0,
    };
    let mut log = Vec::new();
    for p in &room.truth.moments {
        let best = ev
            .iter()
            .enumerate()
            .filter(|(i, e)| !used[*i] && (e.start_ms - p.start_ms).abs() <= MARGIN_MS)
            .min_by_key(|(_, e)| (e.start_ms - p.start_ms).abs());
        match best {
            Some((i, e)) => {
                used[i] = true;
                s.tp += 1;
                let want = match p.driver {
                    sim::Driver::Traffic => Driver::Traffic,
                    sim::Driver::Conversion => Driver::Conversion,
                };
                if e.driver == want {
                    s.drivers_right += 1;
                } else {
                    log.push(format!(
                        "seed {seed}: {:?} at {} got driver {:?}",
                        p.cause, p.start_ms, e.driver
                    ));
                }
            }
            None => log.push(format!(
                "seed {seed}: missed {:?} at {}",
                p.cause, p.start_ms
            )),
        }
    }
    for (i, e) in ev.iter().enumerate() {
        if !used[i] {
            let m: Vec<String> = e
                .members
                .iter()
                .map(|&k| {
                    format!(
                        "{}:{:?}:{:.1}",
                        moments[k].metric, moments[k].kind, moments[k].score
                    )
                })
                .collect();
            log.push(format!(
                "seed {seed}: false alarm at {} ({})",
                e.start_ms,
                m.join(" ")
            ));
        }
    }
    (s, log)
}

#[test]
fn planted_moments_are_found_with_their_drivers() {
    let (mut tp, mut det, mut pl, mut dr) = (0, 0, 0, 0);
    let mut cover = 0.0;
    let mut logs = Vec::new();
    for seed in 0..10 {
        let (s, log) = evaluate(seed);
        tp += s.tp;
        det += s.detected;
        pl += s.planted;
        dr += s.drivers_right;
        cover += s.covering / 10.0;
        logs.extend(log);
    }
    let precision = tp as f64 / det.max(1) as f64;
    let recall = tp as f64 / pl.max(1) as f64;
    let f1 = 2.0 * precision * recall / (precision + recall).max(1e-12);
    eprintln!("seeds 0-9: planted {pl}, detected {det}, matched {tp}; precision {precision:.3} recall {recall:.3} F1 {f1:.3}; drivers right {dr}/{tp}; mean covering {cover:.3}");
    for l in &logs {
        eprintln!("  {l}");
    }
    assert!(f1 >= 0.8, "F1 {f1:.3}");
    assert_eq!(dr, tp, "every matched planted moment's driver right");
    // a partition with no cuts scores about 0.07 here
    assert!(cover > 0.7, "covering {cover:.3}");
}

fn series() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![Just(0.0), Just(5.0), -3.0..3.0f64, 0.0..20.0f64],
        1..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// PELT finds the exact optimum: the same penalised cost as the dynamic
    /// programme, with any minimum segment length.
    #[test]
    fn pelt_is_exact(x in series(), min_size in 1usize..6, pen in 0.0..30.0f64, cost in 0u8..3) {
        let cost = [Cost::L2, Cost::NormalMeanVar, Cost::Poisson][cost as usize];
        let x: Vec<f64> = if cost == Cost::Poisson { x.iter().map(|v| v.abs().round()).collect() } else { x };
        // the normal cost keeps segments of 2+ points
        prop_assume!(x.len() >= if cost == Cost::NormalMeanVar { min_size.max(2) } else { min_size });
        let a = detect::pelt(&x, cost, Penalty::Value(pen), min_size).unwrap();
        let b = detect::dynp(&x, cost, Penalty::Value(pen), min_size).unwrap();
        prop_assert!((a.penalized_cost - b.penalized_cost).abs() <= 1e-7 * (1.0 + b.penalized_cost.abs()),
            "pelt {:?} ({}) vs dynp {:?} ({})", a.breakpoints, a.penalized_cost, b.breakpoints, b.penalized_cost);
        let recomputed = changepoint::penalized_cost(&x, cost, pen, &a.breakpoints).unwrap();
        prop_assert!((recomputed - a.penalized_cost).abs() <= 1e-7 * (1.0 + recomputed.abs()));
        let mut start = 0;
        for &e in &a.breakpoints {
            prop_assert!(e - start >= min_size);
            start = e;
        }
        prop_assert_eq!(start, x.len());
        // binary segmentation is never better than the optimum
        let c = detect::binseg(&x, cost, Penalty::Value(pen), min_size).unwrap();
        prop_assert!(c.penalized_cost >= b.penalized_cost - 1e-7 * (1.0 + b.penalized_cost.abs()));
    }
}

/// The L2 PELT prunes functionally (a candidate keeps the means where it
/// beats every later one): on long series, where few candidates survive a
/// quiet stretch, it still finds the exact optimum (the same breakpoints as
/// the dynamic programme where the optimum is unique), with rare and
/// frequent changes, ties (integer data with long runs of equal values),
/// trends and outliers.
#[test]
fn functional_pruning_stays_exact_on_long_series() {
    use rand::{Rng, SeedableRng};
    let mut checked = 0;
    for seed in 0..8u64 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let n = 1_200 + 100 * seed as usize;
        let every = [40usize, 150, 600, 5_000][seed as usize % 4];
        let mut level = 0.0;
        let x: Vec<f64> = (0..n)
            .map(|i| {
                if i % every == 0 {
                    level = rng.random_range(-4.0..4.0);
                }
                let noise: f64 = rng.random_range(-1.0..1.0);
                match seed % 3 {
                    // counts: many exact ties
                    0 => (level + 5.0 + 2.0 * noise).round().max(0.0),
                    // a trend and outliers
                    1 => level + 0.002 * i as f64 + if i % 97 == 0 { 12.0 } else { noise },
                    _ => level + noise,
                }
            })
            .collect();
        for min_size in [1usize, 5] {
            for pen in [
                Penalty::Robust,
                Penalty::Bic,
                Penalty::Value(3.0),
                Penalty::Value(40.0),
            ] {
                let a = detect::pelt(&x, Cost::L2, pen, min_size).unwrap();
                let b = detect::dynp(&x, Cost::L2, pen, min_size).unwrap();
                assert!(
                    (a.penalized_cost - b.penalized_cost).abs()
                        <= 1e-9 * (1.0 + b.penalized_cost.abs()),
                    "seed {seed} min_size {min_size} {pen:?}: pelt {} vs dynp {}",
                    a.penalized_cost,
                    b.penalized_cost
                );
                let recomputed =
                    changepoint::penalized_cost(&x, Cost::L2, a.penalty, &a.breakpoints).unwrap();
                assert!((recomputed - a.penalized_cost).abs() <= 1e-9 * (1.0 + recomputed.abs()));
                // counts tie: several segmentations share the optimum there
                if seed % 3 != 0 {
                    assert_eq!(a.breakpoints, b.breakpoints, "seed {seed} {pen:?}");
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 64);
}

#[test]
fn moments_carry_their_video_position() {
    let mut room = simulate(&SimConfig {
        seed: 4,
        ..Default::default()
    })
    .unwrap();
    let offset = room.data.session.start_ms + 5_000;
    room.data.session.recordings.push(vap_core::VideoRef {
        path: "rec.mp4".into(),
        offset_ms: offset,
        size_bytes: None,
        sha256: None,
        duration_ms: None,
    });
    let moments = detect::moments(&room.data, &DetectOptions::default()).unwrap();
    assert!(!moments.is_empty());
    for m in &moments {
        assert_eq!(m.video_ms, Some(m.start_ms - offset));
    }
    let top = detect::top_k(&moments, Some("orders"), 3);
    assert!(top
        .windows(2)
        .all(|w| w[0].magnitude.abs() >= w[1].magnitude.abs()));
    assert!(top.iter().all(|m| m.metric == "orders"));
}

/// Stream stalls as an independent simulator plants them (issue 16): the
/// online-viewer gauge collapses to a third for 90–180 s while entries keep
/// arriving. Each is a moment on `online_viewers`, driver traffic, that
/// says the gauge moved; the rest of the scan is unchanged.
#[test]
fn a_stall_of_the_viewer_gauge_is_a_traffic_moment() {
    let mut found = 0;
    let mut planted = 0;
    for seed in 0..6u64 {
        let mut room = simulate(&SimConfig {
            seed: 40 + seed,
            ..Default::default()
        })
        .unwrap();
        let t0 = room.data.session.start_ms;
        let len = (room.data.session.end_ms - t0) / 1000;
        // two stalls, away from the planted moments and the first half hour
        let mut stalls = Vec::new();
        for k in 0..2i64 {
            let mut at = t0 + (1_800 + k * (len - 2_400) / 2 + 600 * seed as i64 % 900) * 1000;
            while room
                .truth
                .moments
                .iter()
                .any(|m| m.start_ms < at + 600_000 && at - 600_000 < m.end_ms)
            {
                at += 60_000;
            }
            let dur = 90_000 + 30_000 * ((seed as i64 + k) % 4);
            stalls.push((at, at + dur));
        }
        for s in &mut room.data.samples {
            if s.metric == "online_viewers"
                && stalls.iter().any(|(a, b)| s.ts_ms >= *a && s.ts_ms < *b)
            {
                s.value /= 3.0;
            }
        }
        let moments = detect::moments(&room.data, &DetectOptions::default()).unwrap();
        for (a, b) in &stalls {
            planted += 1;
            let hit = moments.iter().find(|m| {
                m.metric == "online_viewers"
                    && m.kind == detect::MomentKind::Drop
                    && m.start_ms < *b
                    && *a < m.end_ms
            });
            if let Some(m) = hit {
                assert_eq!(m.driver, Driver::Traffic, "seed {seed}: {m:?}");
                assert_eq!(m.moved[0].metric, "online_viewers", "{:?}", m.moved);
                assert!(m.moved[0].change < -0.3, "{:?}", m.moved);
                // entries kept arriving: they did not move down
                assert!(
                    !m.moved
                        .iter()
                        .any(|s| s.metric == "entries" && s.change < 0.0),
                    "{:?}",
                    m.moved
                );
                found += 1;
            }
        }
    }
    eprintln!("gauge stalls reported as traffic drops: {found}/{planted}");
    assert_eq!(found, planted);
}
