//! The main job (for now): a bundled seeded room, written as a session
//! directory, imported into the embedded store, loaded back and summarised.
//!
//! ```sh
//! cargo run -p vap-core --example summary -- [store-dir] [seed] [hours]
//! ```

use std::process::ExitCode;

use vap_core::align;
use vap_core::ingest::{self, Format, LoadOptions};
use vap_core::sim::{simulate, SimConfig};
use vap_core::store::{ImportOptions, Store};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> vap_core::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let store_dir = args.first().cloned().unwrap_or_else(|| "demo-store".into());
    let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(42);
    let hours: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(4.0);

    let room = simulate(&SimConfig {
        seed,
        hours,
        session_id: Some(format!("demo-{seed}")),
        ..Default::default()
    })?;
    let session_dir = std::path::Path::new(&store_dir).with_extension("source");
    ingest::write_dir(&room.data, &session_dir, Format::Csv)?;
    let store = Store::open(&store_dir)?;
    let data = store.import_dir(
        &session_dir,
        &LoadOptions::default(),
        &ImportOptions {
            replace: true,
            ..Default::default()
        },
    )?;
    let loaded = store.load(&data.room.id, &data.session.id)?;
    assert_eq!(loaded, data, "the store returns what was imported");

    let s = loaded.summary();
    println!("vap · session summary");
    println!("  room        {} ({})", loaded.room.name, s.room_id);
    println!(
        "  session     {} · {:.1} h · {}",
        s.session_id, s.hours, loaded.session.timezone
    );
    println!(
        "  store       {} ({} session(s))",
        store.root().display(),
        store.sessions(None)?.len()
    );
    println!(
        "  people      {} anchors · {} commenters",
        s.anchors, s.commenters
    );
    println!(
        "  goods       {} products · {} explain segments · {} promotions",
        s.products, s.explains, s.promotions
    );
    println!(
        "  activity    {} comments · {} utterances",
        s.comments, s.utterances
    );
    println!(
        "  GMV         gross {:.0} · refunds {:.0} · net {:.0} yuan ({} paid orders, {} refunds)",
        s.gmv.gross, s.gmv.refunds, s.gmv.net, s.gmv.paid_orders, s.gmv.refund_orders
    );
    if let (Some(e), Some(gpm)) = (s.entries, s.gpm) {
        println!("  traffic     {e:.0} entries · GPM {gpm:.0} yuan per 1000 views");
    }
    if let Some(p) = s.peak_viewers {
        println!("  peak        {p:.0} online viewers");
    }
    if let Some(c) = s.gmv_check {
        println!(
            "  cross-check platform gmv {:.0} vs orders {:.0} (diff {:.2}%)",
            c.platform,
            c.orders_gross,
            100.0 * c.relative
        );
    }
    println!("  top products by gross GMV:");
    for (id, name, v) in &s.top_products {
        println!("    {id:<5} {name:<16} {v:>12.0}");
    }
    println!(
        "  planted truth: clock offset {} ms · {} moments",
        room.truth.clock_offset_ms,
        room.truth.moments.len()
    );

    // The timeline: every stream on one 1-minute grid, after putting the
    // transcript on the platform clock (estimated, then applied explicitly).
    let est = align::estimate_transcript_offset(&loaded, &align::OffsetOptions::default())?;
    let mut aligned = loaded.clone();
    match est.status {
        align::OffsetStatus::Determined => {
            est.apply_to_transcript(&mut aligned)?;
            println!(
                "  clock       transcript offset {:.0} ms (planted {}), confidence {:.3}: applied",
                est.offset_ms.unwrap_or(0.0),
                room.truth.clock_offset_ms,
                est.confidence
            );
        }
        align::OffsetStatus::Undetermined => {
            println!(
                "  clock       transcript offset undetermined: {}",
                est.reason
            )
        }
    }
    let tl = align::Timeline::build(
        &aligned,
        &align::AlignOptions {
            step_ms: 60_000,
            ..Default::default()
        },
    )?;
    println!(
        "  timeline    {} bins of 1 min x {} columns",
        tl.len(),
        tl.columns().len()
    );
    let gmv = tl.values("order_gmv")?;
    let mut minutes: Vec<usize> = (0..tl.len()).collect();
    minutes.sort_by(|&a, &b| gmv[b].total_cmp(&gmv[a]));
    println!("  top minutes by order GMV (what was on):");
    for &i in minutes.iter().take(3) {
        let on: Vec<&str> = tl
            .columns()
            .iter()
            .filter(|c| {
                matches!(c.kind, align::ColumnKind::Interval)
                    && c.name != "speech"
                    && !c.name.starts_with("anchor:")
                    && tl.values(&c.name).map(|v| v[i] >= 0.5).unwrap_or(false)
            })
            .map(|c| c.name.as_str())
            .collect();
        let t = (tl.time_ms()[i] - loaded.session.start_ms) / 60_000;
        println!(
            "    +{:>3} min  {:>9.0} yuan  urgency phrases {:>2}  {}",
            t,
            gmv[i],
            tl.values("speech:urgency")?[i],
            on.join(", ")
        );
    }

    // The moments of truth: what to watch first, and what drove it.
    let moments = vap_core::detect::moments(&aligned, &vap_core::detect::DetectOptions::default())?;
    let events = vap_core::detect::events(&moments, 60_000);
    println!(
        "  moments     {} found, {} events; the largest by GMV:",
        moments.len(),
        events.len()
    );
    // Attribution: one model of the session (factors acting on conversion,
    // traffic as exposure), every bin and every moment split into its causes.
    let atl = vap_core::attribute::session_timeline(
        &aligned,
        &align::AlignOptions {
            step_ms: 10_000,
            ..Default::default()
        },
    )?;
    let fit = vap_core::attribute::fit(
        &atl,
        &vap_core::attribute::AttributeOptions {
            bootstrap: 100,
            ..Default::default()
        },
    )?;
    let d = &fit.decomposition;
    let top = vap_core::detect::top_k(&moments, Some("order_gmv"), 3);
    for m in &top {
        println!(
            "    +{:>3} min  {:>4} s  {:?} {:>+9.0} yuan  driver {:?}",
            (m.start_ms - loaded.session.start_ms) / 60_000,
            (m.end_ms - m.start_ms) / 1000,
            m.kind,
            m.magnitude,
            m.driver
        );
        let a = d.moment(m, 1_200_000)?;
        let parts: Vec<String> = a
            .parts
            .iter()
            .filter(|p| p.value.abs() >= 0.05 * a.excess.abs() || p.name == "unexplained")
            .map(|p| format!("{} {:+.0}", p.name, p.value))
            .collect();
        println!("              why: {}", parts.join(" · "));
    }
    let actual: f64 = d
        .actual
        .iter()
        .zip(&d.prediction)
        .filter(|(_, p)| p.is_finite())
        .map(|(a, _)| a)
        .sum();
    println!(
        "  attribution R² {:.2} at 10 s ({} factors, ridge λ {:.3}); session GMV {:.0} yuan:",
        fit.diagnostics.r2,
        d.factors.len(),
        fit.model.penalty,
        actual
    );
    let mut totals = d.totals();
    totals.sort_by(|a, b| b.value.abs().total_cmp(&a.value.abs()));
    for p in totals.iter().take(7) {
        println!(
            "    {:<18} {:>10.0} yuan ({:>5.1} %)  95 % [{:.0}, {:.0}]",
            p.name,
            p.value,
            100.0 * p.share,
            p.low,
            p.high
        );
    }
    let truth: Vec<String> = room
        .truth
        .factors
        .iter()
        .map(|f| format!("{} {:.0}", f.name, f.gmv))
        .collect();
    println!("  planted contributions: {}", truth.join(" · "));
    Ok(())
}
