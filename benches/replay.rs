//! Replay benchmarks on the full-scale 12-hour session (2 M comments, the
//! simulator's `full_scale` room), stored first:
//!
//! * `from_store_12h`: `replay::from_store` with the default options, the
//!   room's three earlier 12-hour sessions stored too (their digests cached
//!   beside them after the first call, as in use): load from the store,
//!   questions, data quality, headline against the history, curves, the
//!   attribution model (10 s bins, 200 bootstrap replicates), the top moments
//!   and their causes, products, anchors, promotions;
//! * `replay_12h_in_memory`: the same from a session already in memory;
//! * `questions_12h`: question detection, linking and answers alone.
//!
//! The allocator is mimalloc, the one vap's Python and Node modules use (a
//! Rust service chooses its own: with the system allocator the figures are
//! about 10 % higher, see the README).
//!
//! `cargo bench -p vap-core --bench replay`

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion};
use vap_core::align::{questions, QuestionOptions};
use vap_core::replay::{self, ReplayOptions};
use vap_core::sim::{simulate, SimConfig};
use vap_core::store::{ImportOptions, Store};

fn bench(c: &mut Criterion) {
    let room = simulate(&SimConfig::full_scale(0)).unwrap().data;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.import(&room, &ImportOptions::default()).unwrap();
    for day in 1..=3 {
        let earlier = simulate(&SimConfig {
            start_ms: room.session.start_ms - day * 86_400_000,
            session_id: Some(format!("earlier-{day}")),
            ..SimConfig::full_scale(day as u64)
        })
        .unwrap()
        .data;
        store.import(&earlier, &ImportOptions::default()).unwrap();
    }
    let opts = ReplayOptions::default();
    let mut g = c.benchmark_group("replay");
    g.sample_size(10);
    g.bench_function("from_store_12h", |b| {
        b.iter(|| replay::from_store(&store, &room.room.id, &room.session.id, &opts).unwrap())
    });
    g.bench_function("replay_12h_in_memory", |b| {
        b.iter(|| replay::replay(&room, &[], &opts).unwrap())
    });
    g.bench_function("questions_12h", |b| {
        b.iter(|| questions(&room, &QuestionOptions::default()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
