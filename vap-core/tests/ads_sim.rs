//! Paid and natural traffic on synthetic rooms with planted ad spend.
//!
//! Run with `--nocapture` to see the figures quoted in the README.

use vap_core::attribute::{self, AttributeOptions};
use vap_core::options::Options;
use vap_core::sim::{simulate, SimConfig, SimRoom};

fn room(seed: u64, spend_per_hour: f64, entries_per_yuan: f64) -> SimRoom {
    room_with(seed, spend_per_hour, entries_per_yuan, 90.0)
}

fn room_with(seed: u64, spend_per_hour: f64, entries_per_yuan: f64, half_life_s: f64) -> SimRoom {
    simulate(&SimConfig {
        seed,
        hours: 4.0,
        entries_per_second: 40.0,
        ad_spend_per_hour: spend_per_hour,
        entries_per_yuan,
        ad_half_life_s: half_life_s,
        ..Default::default()
    })
    .unwrap()
}

/// Half-lives on and off the searched grid, responses from weak to strong.
const PLANTED: [(f64, f64, f64); 6] = [
    (90.0, 0.5, 60_000.0),
    (45.0, 0.8, 40_000.0),
    (200.0, 0.3, 80_000.0),
    (400.0, 0.5, 60_000.0),
    (150.0, 1.0, 20_000.0),
    (20.0, 0.4, 50_000.0),
];

fn fitted(r: &SimRoom) -> attribute::Attribution {
    let tl = attribute::session_timeline(&r.data, &Default::default()).unwrap();
    let opts = AttributeOptions::from_json(r#"{"bootstrap": 60, "seed": 2}"#).unwrap();
    attribute::fit(&tl, &opts).unwrap()
}

#[test]
fn planted_spend_is_recovered() {
    let mut covered = 0;
    for (seed, &(h, k, spend)) in PLANTED.iter().enumerate() {
        let seed = seed as u64;
        let r = room_with(seed, spend, k, h);
        let ads = r.truth.ads.clone().unwrap();
        let a = fitted(&r);
        let p = a.paid.expect("a room with spend gets the split");
        let e = p.entries.as_ref().expect("the room has entries");
        let gmv = p.paid_gmv.unwrap();
        let roi = p.roi.unwrap();
        println!(
            "seed {seed}: spend {:.0} (truth {:.0}); entries/yuan {:.3} [{:.3}, {:.3}] (truth {:.2}, h {} s); paid entries {:.0} (truth {:.0}); viewers h {} s; paid GMV {:.0} [{:.0}, {:.0}] (truth {:.0}); ROI {:.2} [{:.2}, {:.2}] (truth {:.2})",
            p.spend, ads.spend, e.per_yuan.value, e.per_yuan.low, e.per_yuan.high,
            ads.entries_per_yuan, e.carryover_ms / 1000, e.paid, ads.paid_entries,
            p.viewers.carryover_ms / 1000,
            gmv.value, gmv.low, gmv.high, ads.paid_gmv, roi.value, roi.low, roi.high, ads.roi()
        );
        assert!((p.spend - ads.spend).abs() < 1e-6 * ads.spend);
        assert!(
            (e.per_yuan.value / ads.entries_per_yuan - 1.0).abs() < 0.25,
            "seed {seed}: entries per yuan {} vs {}",
            e.per_yuan.value,
            ads.entries_per_yuan
        );
        assert!((e.paid / ads.paid_entries - 1.0).abs() < 0.25);
        assert!(
            (gmv.value / ads.paid_gmv - 1.0).abs() < 0.35,
            "seed {seed}: paid GMV {} vs {}",
            gmv.value,
            ads.paid_gmv
        );
        if roi.low <= ads.roi() && ads.roi() <= roi.high {
            covered += 1;
        }
        // the split adds up: paid + natural = traffic, bin by bin
        let d = &a.decomposition;
        for i in 0..d.len() {
            if d.prediction[i].is_finite() {
                assert!(p.series.paid_gmv[i] <= d.prediction[i].max(0.0) + 1e-9);
            }
        }
    }
    assert!(
        covered >= 4,
        "the ROI interval covered the truth in {covered} of 6 rooms"
    );
}

#[test]
fn spend_that_brings_nobody_gets_no_paid_traffic() {
    for seed in 0..3u64 {
        let placebo = room(seed, 60_000.0, 0.0);
        let real = room(seed, 60_000.0, 0.5);
        let p = fitted(&placebo).paid.unwrap();
        let q = fitted(&real).paid.unwrap();
        let (rp, rq) = (p.roi.unwrap(), q.roi.unwrap());
        println!(
            "seed {seed}: placebo ROI {:.2} [{:.2}, {:.2}], real {:.2}",
            rp.value, rp.low, rp.high, rq.value
        );
        assert!(
            rp.value < 0.25 * rq.value,
            "seed {seed}: {} vs {}",
            rp.value,
            rq.value
        );
        assert!(rp.low <= 0.05 * rq.value);
    }
}

#[test]
fn without_spend_there_is_no_split() {
    let r = room(1, 0.0, 0.5);
    assert!(r.truth.ads.is_none());
    assert!(!r.data.metrics.iter().any(|m| m.name == "ad_spend"));
    assert!(fitted(&r).paid.is_none());
    // turned off by option
    let r = room(1, 20_000.0, 0.5);
    let tl = attribute::session_timeline(&r.data, &Default::default()).unwrap();
    let opts =
        AttributeOptions::from_json(r#"{"bootstrap": 0, "ads": {"enabled": false}}"#).unwrap();
    assert!(attribute::fit(&tl, &opts).unwrap().paid.is_none());
    let e = AttributeOptions::from_json(r#"{"ads": {"carryover": [], "spend": ""}}"#).unwrap_err();
    assert!(
        e.to_string().contains("ads.spend") && e.to_string().contains("ads.carryover_ms"),
        "{e}"
    );
}

#[test]
fn the_replay_and_the_report_show_the_ads() {
    use vap_core::replay::{replay, ReplayOptions};
    let r = room(3, 60_000.0, 0.5);
    let truth = r.truth.ads.clone().unwrap();
    let opts = ReplayOptions::from_json(r#"{"model": {"bootstrap": 30}}"#).unwrap();
    let rep = replay(&r.data, &[], &opts).unwrap();
    let ads = rep
        .model
        .as_ref()
        .unwrap()
        .ads
        .as_ref()
        .expect("the session replay shows the ads");
    assert!((ads.spend - truth.spend).abs() < 1e-6 * truth.spend);
    let roi = ads.roi.unwrap();
    assert!(
        (roi.value / truth.roi() - 1.0).abs() < 0.3,
        "{} vs {}",
        roi.value,
        truth.roi()
    );
    assert!(roi.low <= roi.value && roi.value <= roi.high);
    assert!(ads.paid_entries.unwrap() > 0.0 && ads.paid_viewers_share > 0.0);
    // every moment says what the ads did inside it; spend sums to the series'
    let mut with_spend = 0;
    for m in &rep.moments {
        let a = m
            .ads
            .as_ref()
            .expect("a moment of a room with ads has its ads");
        let inside: f64 = r
            .data
            .samples
            .iter()
            .filter(|s| {
                s.metric == "ad_spend" && s.ts_ms > m.start_ms && s.ts_ms <= m.end_ms + 60_000
            })
            .map(|s| s.value)
            .sum();
        assert!(
            a.spend <= inside + 1e-6,
            "a moment cannot spend more than the minutes around it"
        );
        assert!((0.0..=1.0).contains(&a.paid_share));
        if a.spend > 0.0 {
            with_spend += 1;
            let roi = a.roi.unwrap();
            assert!(roi.value.is_finite() && roi.low <= roi.value && roi.value <= roi.high);
        }
    }
    assert!(with_spend > 0, "some moment ran during a campaign");
    for lang in ["zh", "en"] {
        let ropts = vap_core::report::ReportOptions::from_json(&format!(r#"{{"lang": "{lang}"}}"#))
            .unwrap();
        let html = vap_core::report::html(&rep, &ropts).unwrap();
        let (head, spend) = if lang == "zh" {
            ("付费流量与自然流量", "投放消耗")
        } else {
            ("Paid and natural traffic", "ad spend")
        };
        assert!(
            html.contains(head) && html.contains(spend) && html.contains("ROI"),
            "{lang}"
        );
    }
    // a room without ads shows none
    let plain = replay(&room(3, 0.0, 0.5).data, &[], &opts).unwrap();
    assert!(plain.model.unwrap().ads.is_none());
    assert!(plain.moments.iter().all(|m| m.ads.is_none()));
}
