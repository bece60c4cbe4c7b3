//! Foundation benchmarks: simulating, writing, loading and storing sessions.
//!
//! `cargo bench -p vap-core --bench foundation`; with `VAP_BENCH_FULL=1` the
//! 12-hour, ~2 M-comment, ~200 k-order session is measured too.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use vap_core::ingest::{self, Format, LoadOptions};
use vap_core::sim::{simulate, SimConfig};
use vap_core::store::{ImportOptions, Store};

fn configs() -> Vec<(&'static str, SimConfig)> {
    let mut v = vec![(
        "1h",
        SimConfig {
            seed: 1,
            hours: 1.0,
            ..Default::default()
        },
    )];
    if std::env::var_os("VAP_BENCH_FULL").is_some() {
        v.push(("12h-full", SimConfig::full_scale(1)));
    }
    v
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("foundation");
    g.sample_size(10);
    for (name, cfg) in configs() {
        g.bench_with_input(BenchmarkId::new("simulate", name), &cfg, |b, cfg| {
            b.iter(|| simulate(cfg).unwrap())
        });
        let data = simulate(&cfg).unwrap().data;
        eprintln!(
            "{name}: {} comments, {} orders, {} utterances, {} metric samples",
            data.comments.len(),
            data.orders.len(),
            data.utterances.len(),
            data.samples.len()
        );
        for format in [Format::Csv, Format::Parquet] {
            let dir = tempfile::tempdir().unwrap();
            ingest::write_dir(&data, dir.path(), format).unwrap();
            g.bench_function(
                BenchmarkId::new(format!("load_dir/{}", format.ext()), name),
                |b| b.iter(|| ingest::load_dir(dir.path(), &LoadOptions::default()).unwrap()),
            );
            g.bench_function(
                BenchmarkId::new(format!("write_dir/{}", format.ext()), name),
                |b| b.iter(|| ingest::write_dir(&data, dir.path(), format).unwrap()),
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let replace = ImportOptions {
            replace: true,
            ..Default::default()
        };
        g.bench_function(BenchmarkId::new("store/import", name), |b| {
            b.iter(|| store.import(&data, &replace).unwrap())
        });
        g.bench_function(BenchmarkId::new("store/load", name), |b| {
            b.iter(|| store.load(&data.room.id, &data.session.id).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
