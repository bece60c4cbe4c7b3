//! Alignment benchmarks: a full 12-hour session (1 s grid, ~2 M comments,
//! ~200 k orders) made into a timeline, the same with a quarter and half of
//! the events (linearity), the transcript clock offset and an as-of join.
//!
//! `cargo bench -p vap-core --bench align`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use vap_core::align::{estimate_transcript_offset, AlignOptions, OffsetOptions, Timeline};
use vap_core::sim::{simulate, SimConfig};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("align");
    g.sample_size(10);
    let full = simulate(&SimConfig::full_scale(1)).unwrap().data;
    let opts = AlignOptions::default();
    let tl = Timeline::build(&full, &opts).unwrap();
    eprintln!(
        "12h-full: {} bins x {} columns from {} comments, {} orders, {} utterances, {} segments, {} lexicon groups",
        tl.len(),
        tl.columns().len(),
        full.comments.len(),
        full.orders.len(),
        full.utterances.len(),
        full.segments.len(),
        tl.names().iter().filter(|n| n.starts_with("speech:")).count()
    );
    for share in [4usize, 2, 1] {
        let mut d = full.clone();
        d.comments.truncate(full.comments.len() / share);
        d.orders.truncate(full.orders.len() / share);
        let label = format!("12h-1s-events-1/{share}");
        g.bench_function(BenchmarkId::new("timeline", label), |b| {
            b.iter(|| Timeline::build(&d, &opts).unwrap())
        });
    }
    g.bench_function("timeline/12h-60s", |b| {
        let o = AlignOptions {
            step_ms: 60_000,
            ..Default::default()
        };
        b.iter(|| Timeline::build(&full, &o).unwrap())
    });
    g.bench_function("transcript_offset/12h", |b| {
        b.iter(|| estimate_transcript_offset(&full, &OffsetOptions::default()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
