//! The main job: a bundled seeded room, written as a session directory,
//! imported into the embedded store, summarised, and replayed from the store
//! (data quality, headline against history, top moments with their causes,
//! products, anchors, questions).
//!
//! ```sh
//! cargo run -p vap-core --example summary -- [store-dir] [seed] [hours]
//! ```

use std::process::ExitCode;

use vap_core::ingest::{self, Format, LoadOptions};
use vap_core::sim::{simulate, SimConfig};
use vap_core::store::{ImportOptions, Store};
use vap_core::{align, replay};

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

    // The transcript put on the platform clock (estimated, then applied
    // explicitly) and stored so, before anything reads speech against sales.
    let est = align::estimate_transcript_offset(&loaded, &align::OffsetOptions::default())?;
    if est.status == align::OffsetStatus::Determined {
        let mut aligned = loaded.clone();
        est.apply_to_transcript(&mut aligned)?;
        store.import(
            &aligned,
            &ImportOptions {
                replace: true,
                ..Default::default()
            },
        )?;
        println!(
            "  clock       transcript offset {:.0} ms (planted {}), confidence {:.3}: applied and stored",
            est.offset_ms.unwrap_or(0.0),
            room.truth.clock_offset_ms,
            est.confidence
        );
    }

    // The demo's recordings (short test patterns with the anchor's lines
    // spoken, made by the set-up: scripts/demo-recording.py) registered on
    // the session where they sit on its clock, so that the report's videos
    // and stills play. Without them the report gives paths and positions.
    let recordings = std::path::Path::new("demo-recordings.json");
    if let Ok(text) = std::fs::read_to_string(recordings) {
        let list: Vec<serde_json::Value> = serde_json::from_str(&text)
            .map_err(|e| vap_core::VapError::format(recordings, e.to_string()))?;
        let mut registered = 0;
        for r in &list {
            let (Some(file), Some(offset)) = (r["file"].as_str(), r["offset_ms"].as_i64()) else {
                continue;
            };
            // Made for one session (seed and length): not another's clock.
            if r["session_id"].as_str() != Some(data.session.id.as_str()) {
                continue;
            }
            registered += 1;
            vap_core::media::register_recording(
                &store,
                &data.room.id,
                &data.session.id,
                file,
                offset,
            )?;
        }
        println!(
            "  recordings  {registered} short demo recording(s) registered ({})",
            recordings.display()
        );
    }

    // The session replay (直播复盘), from the store: data quality first, the
    // headline against the room's history, the top moments with their causes.
    let opts = replay::ReplayOptions {
        model: vap_core::attribute::AttributeOptions {
            bootstrap: 100,
            ..Default::default()
        },
        ..Default::default()
    };
    let r = replay::from_store(&store, &data.room.id, &data.session.id, &opts)?;
    let at = |t: i64| format!("+{:>3} min", (t - r.start_ms) / 60_000);
    println!();
    println!(
        "vap · session replay (直播复盘) · {}/{}",
        r.room_id, r.session_id
    );
    println!("  data quality (read first):");
    if r.quality.notes.is_empty() {
        println!("    no holes in any stream");
    }
    for n in &r.quality.notes {
        let when = n
            .start_ms
            .map(|s| format!("{} ", at(s)))
            .unwrap_or_default();
        println!("    {:<22} {when}{}", n.stream, n.message);
    }
    println!(
        "  headline (history: {} earlier stored session(s){}):",
        r.history_sessions.len(),
        if r.history_sessions.len() < opts.min_history {
            ", too few to compare"
        } else {
            ""
        }
    );
    for f in &r.headline {
        let v = match f.value {
            Some(v) if f.unit == "ratio" => format!("{:.2} %", 100.0 * v),
            Some(v) => format!("{v:.1}"),
            None => format!("— ({})", f.missing.as_deref().unwrap_or("missing")),
        };
        let hist = f
            .history
            .as_ref()
            .and_then(|h| {
                h.median.map(|m| {
                    format!(
                        "  median {m:.1}, top quartile {:.1}",
                        h.top_quartile.unwrap_or(m)
                    )
                })
            })
            .unwrap_or_default();
        println!("    {:<26} {:<14} {v}{hist}", f.label_en, f.label);
    }
    if let Some(m) = &r.model {
        println!(
            "  attribution of {} (R² {:.2}); session totals:",
            m.target,
            m.r2.unwrap_or(f64::NAN)
        );
        let mut totals = m.totals.clone();
        totals.sort_by(|a, b| b.value.abs().total_cmp(&a.value.abs()));
        for p in totals.iter().take(6) {
            println!(
                "    {:<18} {:>10.0} yuan  95 % [{:.0}, {:.0}]",
                p.name,
                p.value,
                p.low.unwrap_or(f64::NAN),
                p.high.unwrap_or(f64::NAN)
            );
        }
    }
    println!("  top moments and their causes:");
    for m in &r.moments {
        println!(
            "    #{} {}  {:>4} s  {:?} on {} {:+.0} (driver {:?}){}{}",
            m.rank,
            at(m.start_ms),
            (m.end_ms - m.start_ms) / 1000,
            m.kind,
            m.metric,
            m.magnitude,
            m.driver,
            m.product_in_focus
                .as_ref()
                .map(|p| format!(", explaining {p}"))
                .unwrap_or_default(),
            if m.promotions.is_empty() {
                String::new()
            } else {
                format!(", promotions {}", m.promotions.join(" "))
            }
        );
        let parts: Vec<String> = m
            .parts
            .iter()
            .filter(|p| {
                p.value.abs() >= 0.05 * m.excess.unwrap_or(0.0).abs() || p.name == "unexplained"
            })
            .map(|p| format!("{} {:+.0}", p.name, p.value))
            .collect();
        if let Some(x) = m.excess {
            println!("        why ({:+.0} yuan): {}", x, parts.join(" · "));
        }
        if let Some(u) = m.transcript.iter().find(|u| u.start_ms >= m.start_ms) {
            println!("        said: {}", u.text);
        }
        if let Some(g) = &m.data_gap {
            println!("        data: {g}");
        }
    }
    println!("  products (商品复盘), by GMV:");
    for p in r.products.iter().take(3) {
        let c = p
            .contribution
            .as_ref()
            .map(|c| {
                format!(
                    "; explain contribution {:.0} [{:.0}, {:.0}]",
                    c.value,
                    c.low.unwrap_or(f64::NAN),
                    c.high.unwrap_or(f64::NAN)
                )
            })
            .unwrap_or_default();
        println!(
            "    {:<5} {:<14} {:>9.0} yuan, {:>5.1} explain min, {:>7.0} yuan/min{c}; questions {} ({} answered)",
            p.product_id,
            p.name,
            p.gmv,
            p.explain_minutes,
            p.gmv_per_explain_minute.value.unwrap_or(f64::NAN),
            p.questions.asked,
            p.questions.answered
        );
    }
    println!("  anchors (主播复盘):");
    for a in &r.anchors {
        let e = match a.effect.value {
            Some(v) => format!(
                "effect {v:+.0} [{:.0}, {:.0}]",
                a.effect.low.unwrap_or(f64::NAN),
                a.effect.high.unwrap_or(f64::NAN)
            ),
            None => "reference anchor".to_string(),
        };
        println!(
            "    {:<4} {:<6} {:.1} h hosting, {:>8.0} yuan/h, GPM {:>6.0}, {e}",
            a.anchor_id,
            a.name,
            a.host_hours,
            a.gmv_per_hour.value.unwrap_or(f64::NAN),
            a.gpm.value.unwrap_or(f64::NAN)
        );
    }
    let q = &r.questions.stats;
    println!(
        "  questions   {} asked, {} answered ({:.0} %), median latency {:.0} s; {} backlog(s)",
        q.asked,
        q.answered,
        100.0 * q.share.unwrap_or(0.0),
        q.median_latency_s.unwrap_or(f64::NAN),
        r.questions.backlogs.len()
    );
    let truth: Vec<String> = room
        .truth
        .factors
        .iter()
        .map(|f| format!("{} {:.0}", f.name, f.gmv))
        .collect();
    println!("  planted contributions: {}", truth.join(" · "));
    // The report operators open: one self-contained HTML file.
    let page = format!("{store_dir}-report.html");
    vap_core::report::write_html(&r, &page, &vap_core::report::ReportOptions::default())?;
    let covered = r.moments.iter().filter(|m| m.recording.is_some()).count();
    println!(
        "  report      {page} (one self-contained HTML file: open it in a browser; {covered} of {} moments with their recording and still)",
        r.moments.len()
    );
    Ok(())
}
