//! Attribution benchmarks on the full-scale 12-hour session at 1 s (43,200
//! bins):
//!
//! * `ridge_cv_bootstrap`: ~100 factors (every product's explain and name
//!   phrases, promotions, phrase groups in speech and comments, hosts), penalty
//!   cross-validated over 30 values × 5 blocked folds, 200 moving-block
//!   bootstrap replicates at the chosen penalty;
//! * `carryover_search`: the default factors with five of them searched over
//!   four or five carryover lengths each (2,500 candidates, exhaustively), each
//!   scored by the same cross-validation at a fixed penalty;
//! * `poisson_glm`: orders on the default factors by penalised IRLS at 10 s
//!   bins, cross-validated, 50 replicates.
//!
//! `cargo bench -p vap-core --bench attribute`

use criterion::{criterion_group, criterion_main, Criterion};
use vap_core::align::{estimate_transcript_offset, AlignOptions, OffsetOptions, Timeline};
use vap_core::attribute::{self, AttributeOptions, CarryoverKind, FactorSpec, Form, Sign};
use vap_core::sim::{simulate, SimConfig};

/// The ~100 factor columns of the full-scale timeline.
pub fn wide_factors(tl: &Timeline) -> Vec<FactorSpec> {
    tl.names()
        .into_iter()
        .filter(|n| {
            ["explain:", "promo:", "speech:", "comments:", "host:"]
                .iter()
                .any(|p| n.starts_with(p))
                && *n != "host:a1"
        })
        .map(|n| FactorSpec {
            name: n.into(),
            column: n.into(),
            carryover_ms: vec![0],
            carryover_kind: CarryoverKind::Adstock,
            saturation: None,
            sign: Some(Sign::Free),
        })
        .collect()
}

fn session_timeline(step_ms: i64) -> Timeline {
    let mut room = simulate(&SimConfig::full_scale(0)).unwrap().data;
    let off = estimate_transcript_offset(&room, &OffsetOptions::default()).unwrap();
    off.apply_to_transcript(&mut room).unwrap();
    attribute::session_timeline(
        &room,
        &AlignOptions {
            step_ms,
            ..Default::default()
        },
    )
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("attribute");
    g.sample_size(10);
    let tl = session_timeline(1000);
    let wide = AttributeOptions {
        factors: Some(wide_factors(&tl)),
        bootstrap: 200,
        ..Default::default()
    };
    let fit = attribute::fit(&tl, &wide).unwrap();
    eprintln!(
        "ridge: {} bins × {} coefficients, {} penalties",
        fit.diagnostics.n_bins,
        fit.diagnostics.n_coefficients,
        fit.cv.len()
    );
    g.bench_function("ridge_cv_bootstrap/12h-1s", |b| {
        b.iter(|| attribute::fit(&tl, &wide).unwrap())
    });

    let mut searched: Vec<FactorSpec> = attribute::default_factors(&tl);
    for f in searched.iter_mut() {
        if f.column == "explain:any" || f.column == "promo:flash_sale" {
            f.carryover_ms = vec![0, 30_000, 60_000, 120_000, 300_000];
        }
    }
    let n_searched = searched.iter().filter(|f| f.carryover_ms.len() > 1).count();
    let search = AttributeOptions {
        factors: Some(searched),
        bootstrap: 0,
        penalty: Some(100.0),
        ..Default::default()
    };
    let fit = attribute::fit(&tl, &search).unwrap();
    eprintln!(
        "carryover search: {} factors searched, {} candidates",
        n_searched, fit.diagnostics.candidates
    );
    g.bench_function("carryover_search/12h-1s", |b| {
        b.iter(|| attribute::fit(&tl, &search).unwrap())
    });

    let tl10 = session_timeline(10_000);
    let glm = AttributeOptions {
        target: "orders".into(),
        form: Form::LogLink,
        bootstrap: 50,
        ..Default::default()
    };
    g.bench_function("poisson_glm_cv_bootstrap50/12h-10s", |b| {
        b.iter(|| attribute::fit(&tl10, &glm).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
