//! Property tests of the alignment semantics, each against a brute-force
//! reference evaluated millisecond by millisecond.

use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use vap_core::align::{bin_flow, bin_gauge, bin_union};
use vap_core::align::{AlignOptions, FlowMode, Grid, Timeline};
use vap_core::sim::{simulate, SimConfig};

fn sorted(mut v: Vec<(i64, f64)>) -> Vec<(i64, f64)> {
    v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn point_flows_are_conserved(
        samples in prop::collection::vec((-300i64..1300, 0u32..100), 0..40),
        step in 1i64..200,
        n in 0usize..15,
    ) {
        let g = Grid::new(0, step, n).unwrap();
        let s: Vec<(i64, f64)> = sorted(samples.iter().map(|&(t, v)| (t, v as f64)).collect());
        let out = bin_flow(&g, &s, FlowMode::Point);
        let inside: f64 = s.iter().filter(|(t, _)| *t >= 0 && *t < g.end_ms()).map(|x| x.1).sum();
        prop_assert_eq!(out.iter().sum::<f64>(), inside);
        for (i, v) in out.iter().enumerate() {
            let want: f64 = s.iter().filter(|(t, _)| g.bin(*t) == Some(i)).map(|x| x.1).sum();
            prop_assert_eq!(*v, want);
        }
    }

    #[test]
    fn spread_flows_are_conserved(
        samples in prop::collection::vec((-300i64..1300, 1u32..100), 0..30),
        step in 1i64..200,
        n in 0usize..15,
    ) {
        let g = Grid::new(0, step, n).unwrap();
        let s = sorted(samples.iter().map(|&(t, v)| (t, v as f64)).collect());
        let out = bin_flow(&g, &s, FlowMode::Spread);
        // reference: each sample's accrual span, per millisecond
        let mut gaps: Vec<i64> = s.windows(2).map(|w| w[1].0 - w[0].0).filter(|d| *d > 0).collect();
        gaps.sort();
        let first = if gaps.is_empty() { 0 } else { gaps[gaps.len() / 2] };
        let mut want = vec![0.0; n];
        for (k, &(t, v)) in s.iter().enumerate() {
            let a = if k == 0 { t - first } else { s[k - 1].0 };
            if t > a {
                for ms in a..t {
                    if let Some(i) = g.bin(ms) { want[i] += v / (t - a) as f64; }
                }
            } else if let Some(i) = g.bin(t - 1) {
                want[i] += v;
            }
        }
        for (x, y) in out.iter().zip(&want) {
            prop_assert!((x - y).abs() < 1e-9 * (1.0 + y.abs()), "{:?} vs {:?}", out, want);
        }
    }

    #[test]
    fn interval_fractions_cover_the_union(
        spans in prop::collection::vec((-200i64..1200, 0i64..400), 0..12),
        step in 1i64..150,
        n in 0usize..12,
    ) {
        let g = Grid::new(0, step, n).unwrap();
        let mut sp: Vec<(i64, i64)> = spans.iter().map(|&(a, l)| (a, a + l)).collect();
        let out = bin_union(&g, &mut sp);
        let end = g.end_ms();
        let covered = |ms: i64| sp.iter().any(|&(a, b)| ms >= a && ms < b);
        let mut total = 0i64;
        for (i, f) in out.iter().enumerate() {
            prop_assert!((0.0..=1.0).contains(f));
            let lo = g.time(i);
            let c = (lo..lo + step).filter(|&ms| covered(ms)).count() as i64;
            prop_assert!((f - c as f64 / step as f64).abs() < 1e-12);
            total += c;
        }
        let union = (0..end).filter(|&ms| covered(ms)).count() as f64;
        prop_assert!((out.iter().sum::<f64>() * step as f64 - union).abs() < 1e-9);
        prop_assert_eq!(total as f64, union);
    }

    #[test]
    fn gauges_are_time_weighted_carried_forward(
        samples in prop::collection::vec((-300i64..1300, 0u32..1000), 0..25),
        step in 1i64..150,
        n in 0usize..12,
        stale in 1i64..400,
    ) {
        let g = Grid::new(0, step, n).unwrap();
        let s = sorted(samples.iter().map(|&(t, v)| (t, v as f64)).collect());
        let out = bin_gauge(&g, &s, stale);
        for (i, v) in out.iter().enumerate() {
            let lo = g.time(i);
            let mut vals = Vec::new();
            for ms in lo..lo + step {
                // last sample at or before ms (ties: the last in sorted order)
                if let Some(&(t, x)) = s.iter().rev().find(|(t, _)| *t <= ms) {
                    if ms - t < stale { vals.push(x); }
                }
            }
            if vals.is_empty() {
                prop_assert!(v.is_nan(), "bin {} = {} but nothing is valid", i, v);
            } else {
                let mean = vals.iter().sum::<f64>() / vals.len() as f64;
                prop_assert!((v - mean).abs() < 1e-9 * (1.0 + mean), "bin {}: {} vs {}", i, v, mean);
                let (mn, mx) = s.iter().fold((f64::MAX, f64::MIN), |a, x| (a.0.min(x.1), a.1.max(x.1)));
                prop_assert!(*v >= mn - 1e-9 && *v <= mx + 1e-9);
            }
        }
    }

    #[test]
    fn timelines_do_not_depend_on_input_order(seed in 0u64..1000) {
        let room = simulate(&SimConfig { seed: 4, hours: 0.2, ..Default::default() }).unwrap();
        let mut d = room.data.clone();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        d.comments.shuffle(&mut rng);
        d.orders.shuffle(&mut rng);
        d.samples.shuffle(&mut rng);
        d.segments.shuffle(&mut rng);
        d.shifts.shuffle(&mut rng);
        d.promotions.shuffle(&mut rng);
        d.utterances.shuffle(&mut rng);
        d.products.shuffle(&mut rng);
        d.anchors.shuffle(&mut rng);
        let opts = AlignOptions { step_ms: 5000, ..Default::default() };
        let a = Timeline::build(&room.data, &opts).unwrap();
        let b = Timeline::build(&d, &opts).unwrap();
        let mut na = a.names(); na.sort();
        let mut nb = b.names(); nb.sort();
        prop_assert_eq!(&na, &nb);
        for name in na {
            let (x, y) = (a.values(name).unwrap(), b.values(name).unwrap());
            for (p, q) in x.iter().zip(y) {
                prop_assert!((p.is_nan() && q.is_nan()) || (p - q).abs() <= 1e-9 * (1.0 + p.abs()), "{}", name);
            }
        }
    }
}
