//! Moment benchmarks: exact PELT (L2) on a 12-hour series at 1 s (43,200
//! points), the other methods on smaller sizes, and a whole session's scan.
//!
//! `cargo bench -p vap-core --bench detect`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vap_core::align::{AlignOptions, Timeline};
use vap_core::detect::{self, Cost, DetectOptions, Penalty};
use vap_core::sim::{simulate, SimConfig};

/// Piecewise-constant mean with a change every `every` points, plus noise.
pub fn signal(n: usize, every: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut level = 0.0;
    (0..n)
        .map(|i| {
            if i % every == 0 {
                level = rng.random_range(-5.0..5.0);
            }
            level + rng.random_range(-1.0..1.0)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("detect");
    g.sample_size(10);
    for n in [1_000usize, 10_000, 43_200] {
        let x = signal(n, 1000, 1);
        g.bench_with_input(BenchmarkId::new("pelt_l2", n), &x, |b, x| {
            b.iter(|| detect::pelt(x, Cost::L2, Penalty::Bic, 1).unwrap())
        });
        // the default: the robust penalty (its noise estimate included) and
        // segments of at least 5 points
        g.bench_with_input(BenchmarkId::new("pelt_l2_default", n), &x, |b, x| {
            b.iter(|| detect::pelt(x, Cost::L2, Penalty::Robust, 5).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("binseg_l2", n), &x, |b, x| {
            b.iter(|| detect::binseg(x, Cost::L2, Penalty::Bic, 1).unwrap())
        });
    }
    // 12 hours at 1 s with changes frequent, as above, and rare: the time of
    // exact PELT grows with the candidates that survive between changes
    for every in [500usize, 1_000, 10_000] {
        let x = signal(43_200, every, 2);
        g.bench_with_input(
            BenchmarkId::new("pelt_l2_default_43200_every", every),
            &x,
            |b, x| b.iter(|| detect::pelt(x, Cost::L2, Penalty::Robust, 5).unwrap()),
        );
    }
    let room = simulate(&SimConfig::full_scale(1)).unwrap().data;
    let opts = DetectOptions::default();
    let tl = Timeline::build(
        &room,
        &AlignOptions {
            step_ms: opts.step_ms,
            per_product: false,
            ..Default::default()
        },
    )
    .unwrap();
    g.bench_function("scan_timeline/12h-30s", |b| {
        b.iter(|| detect::timeline_moments(&tl, &opts, None).unwrap())
    });
    let with_shifts = DetectOptions {
        shifts: true,
        ..Default::default()
    };
    g.bench_function("scan_timeline_with_shifts/12h-30s", |b| {
        b.iter(|| detect::timeline_moments(&tl, &with_shifts, None).unwrap())
    });
    let tl1 = Timeline::build(&room, &AlignOptions::default()).unwrap();
    let fine = DetectOptions {
        step_ms: 1000,
        ..Default::default()
    };
    g.bench_function("scan_timeline/12h-1s", |b| {
        b.iter(|| detect::timeline_moments(&tl1, &fine, None).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
