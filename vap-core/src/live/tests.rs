use super::*;
use crate::align::ColumnKind;
use crate::attribute::{session_timeline, AttributeOptions};
use crate::schema::*;
use crate::sim::{simulate, SimConfig};
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

fn room(seed: u64, hours: f64) -> SessionData {
    simulate(&SimConfig {
        seed,
        hours,
        ..Default::default()
    })
    .unwrap()
    .data
}

/// Two timelines equal column by column (by name), to `tol` relative.
fn assert_same(live: &Timeline, batch: &Timeline, tol: f64, what: &str) {
    assert_eq!(live.len(), batch.len(), "{what}: rows");
    assert_eq!(live.time_ms(), batch.time_ms(), "{what}: times");
    let mut a: Vec<&str> = live.names();
    let mut b: Vec<&str> = batch.names();
    a.sort();
    b.sort();
    assert_eq!(a, b, "{what}: columns");
    for c in batch.columns() {
        assert_eq!(
            live.meta(&c.name).unwrap().kind,
            c.kind,
            "{what}: kind of {}",
            c.name
        );
        let (x, y) = (
            live.values(&c.name).unwrap(),
            batch.values(&c.name).unwrap(),
        );
        for (i, (p, q)) in x.iter().zip(y).enumerate() {
            let same = (p.is_nan() && q.is_nan()) || (p - q).abs() <= tol * (1.0 + q.abs());
            assert!(same, "{what}: {}[{i}] live {p} batch {q}", c.name);
        }
    }
}

/// The batch computation on what the live session holds.
fn batch(live: &LiveSession) -> Timeline {
    session_timeline(&live.data(), live.align_options()).unwrap()
}

/// Events in random-size batches, some held back and delivered late (within
/// the lateness).
fn batches(events: &[LiveEvent], seed: u64, lateness: Ms) -> Vec<Vec<LiveEvent>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    let mut held: Vec<LiveEvent> = Vec::new();
    let mut i = 0;
    while i < events.len() {
        let size = 1 + (rng.random::<f64>() * 400.0) as usize;
        let mut chunk: Vec<LiveEvent> = events[i..(i + size).min(events.len())].to_vec();
        i += size;
        let newest = chunk.iter().map(|e| e.arrival_ms()).max().unwrap_or(0);
        // the ones held back from the chunk before arrive now
        chunk.append(&mut held);
        // a few points of this chunk, recent enough, are held back
        let mut k = 0;
        while k < chunk.len() {
            let late = matches!(
                chunk[k],
                LiveEvent::Comment { .. } | LiveEvent::Order { .. } | LiveEvent::Sample { .. }
            ) && newest - chunk[k].time_ms() < lateness / 2
                && rng.random::<f64>() < 0.05;
            if late {
                held.push(chunk.remove(k));
            } else {
                k += 1;
            }
        }
        // and the rest shuffled
        for j in (1..chunk.len()).rev() {
            let s = (rng.random::<f64>() * (j + 1) as f64) as usize;
            chunk.swap(j, s.min(j));
        }
        out.push(chunk);
    }
    if !held.is_empty() {
        out.push(held);
    }
    out
}

#[test]
fn replayed_in_random_batches_with_late_events_equals_the_batch_computation() {
    let d = room(11, 2.0);
    let events = feed(&d);
    let opts = LiveOptions {
        horizon_ms: None,
        ..Default::default()
    };
    let mut live = LiveSession::new(&d, opts, None).unwrap();
    let chunks = batches(&events, 5, live.options().lateness_ms);
    let mut refused = 0;
    for (k, chunk) in chunks.into_iter().enumerate() {
        let u = live.append(chunk).unwrap();
        refused += u.refused_late;
        if k % 97 == 5 {
            let b = batch(&live);
            assert_same(live.timeline(), &b, 0.0, &format!("after batch {k}"));
            let m = crate::detect::timeline_moments(&b, live.detect_options(), None).unwrap();
            assert_eq!(live.moments(), &m[..], "moments after batch {k}");
        }
    }
    assert_eq!(refused, 0, "the late events were within the lateness");
    let b = batch(&live);
    assert_same(live.timeline(), &b, 0.0, "at the end");
    // and the live data is the session: the timeline equals the session's
    // own on the same grid (rows at one instant may be summed in another
    // order: rounding only)
    let mut whole = d.clone();
    whole.session.end_ms = live.data().session.end_ms;
    let own = session_timeline(&whole, live.align_options()).unwrap();
    assert_same(live.timeline(), &own, 1e-9, "against the session");
    let paid = d
        .orders
        .iter()
        .filter(|o| o.status == OrderStatus::Paid)
        .count() as f64;
    assert_eq!(
        live.timeline()
            .values("orders")
            .unwrap()
            .iter()
            .sum::<f64>(),
        paid
    );
    assert!(!live.moments().is_empty());
}

#[test]
fn a_rebuild_reads_only_the_bins_new_events_touch() {
    let d = room(12, 1.0);
    let events = feed(&d);
    let mut live = LiveSession::new(&d, LiveOptions::default(), None).unwrap();
    let half = events.len() / 2;
    live.append(events[..half].to_vec()).unwrap();
    let before = live.timeline().clone();
    let u = live.append(events[half..half + 50].to_vec()).unwrap();
    let from = u.rebuilt_from_ms.unwrap();
    let first = events[half..half + 50]
        .iter()
        .map(|e| e.time_ms())
        .min()
        .unwrap();
    // from the bin of the earliest new event (or the series' previous sample)
    assert!(
        from <= first && from > first - 5 * 60_000,
        "{from} vs {first}"
    );
    let k = ((from - d.session.start_ms) / live.step_ms()) as usize;
    for c in before.columns() {
        let bits = |v: &[f64]| v[..k].iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(live.timeline().values(&c.name).unwrap()),
            bits(before.values(&c.name).unwrap()),
            "{} kept",
            c.name
        );
    }
}

#[test]
fn the_default_horizon_drops_old_text_and_keeps_the_answers() {
    let d = room(13, 2.0);
    let mut live = LiveSession::new(&d, LiveOptions::default(), None).unwrap();
    for chunk in feed(&d).chunks(250) {
        live.append(chunk.to_vec()).unwrap();
    }
    assert!(
        live.dropped_text() > d.comments.len() / 3,
        "{}",
        live.dropped_text()
    );
    assert!(live.data().comments.len() < d.comments.len());
    let mut whole = d.clone();
    whole.session.end_ms = live.data().session.end_ms;
    let own = session_timeline(&whole, live.align_options()).unwrap();
    assert_same(live.timeline(), &own, 1e-9, "with the horizon");
}

#[test]
fn a_room_model_decomposes_the_live_timeline_as_it_would_the_session() {
    let history = room(21, 2.0);
    let opts = crate::align::AlignOptions {
        step_ms: 30_000,
        ..Default::default()
    };
    let tl = session_timeline(&history, &opts).unwrap();
    let fit = crate::attribute::fit(
        &tl,
        &AttributeOptions {
            bootstrap: 20,
            ..Default::default()
        },
    )
    .unwrap();
    let mut today = room(22, 1.0);
    today.session.id = "today".into();
    let keep = LiveOptions {
        horizon_ms: None,
        ..Default::default()
    };
    let mut live = LiveSession::new(&today, keep, Some(fit.model.clone())).unwrap();
    assert_eq!(live.step_ms(), 30_000, "the model's step");
    for chunk in feed(&today).chunks(300) {
        live.append(chunk.to_vec()).unwrap();
    }
    let b = batch(&live);
    assert_same(live.timeline(), &b, 0.0, "model timeline");
    let want = apply_model(&fit.model, &b).unwrap();
    let got = live.decomposition().unwrap();
    assert_eq!(got.prediction.len(), want.prediction.len());
    for (p, q) in got.prediction.iter().zip(&want.prediction) {
        assert!((p.is_nan() && q.is_nan()) || p == q);
    }
    assert_eq!(got.totals(), want.totals());
    // a step other than the model's is refused
    let e = LiveSession::new(
        &today,
        LiveOptions {
            step_ms: Some(10_000),
            ..Default::default()
        },
        Some(fit.model),
    )
    .unwrap_err();
    assert!(e.to_string().contains("30000 ms bins"), "{e}");
}

/// A small room written by hand: one product planned for 5 minutes, two
/// anchors, the online-viewer gauge and orders.
fn header() -> SessionData {
    let mut d = room(31, 0.1);
    d.session.start_ms = 1_750_000_000_000 - 1_750_000_000_000 % 60_000;
    d.session.end_ms = d.session.start_ms + 3 * 3_600_000;
    d.comments.clear();
    d.orders.clear();
    d.samples.clear();
    d.utterances.clear();
    d.shifts.clear();
    d.segments.clear();
    d.promotions.clear();
    d.metrics = vec![MetricDecl {
        name: "online_viewers".into(),
        kind: MetricKind::Gauge,
        unit: "viewers".into(),
    }];
    d
}

const MIN: Ms = 60_000;

/// Viewers and orders every 10 s over `[a, b)` minutes after the start.
fn traffic(
    d: &SessionData,
    a: i64,
    b: i64,
    viewers: impl Fn(Ms) -> f64,
    orders_per_min: impl Fn(Ms) -> f64,
) -> Vec<LiveEvent> {
    let s = d.session.start_ms;
    let p = d.products[0].id.clone();
    let mut out = Vec::new();
    let mut owed = 0.0;
    let mut t = s + a * MIN;
    while t < s + b * MIN {
        out.push(LiveEvent::Sample {
            metric: "online_viewers".into(),
            ts_ms: t,
            value: viewers(t - s),
        });
        owed += orders_per_min(t - s) / 6.0;
        while owed >= 1.0 {
            out.push(LiveEvent::Order {
                ts_ms: t + 1,
                id: None,
                product_id: p.clone(),
                amount: 99.0,
                quantity: 1,
                status: OrderStatus::Paid,
            });
            owed -= 1.0;
        }
        out.push(LiveEvent::Comment {
            ts_ms: t + 2,
            viewer_id: "v".into(),
            text: "好看".into(),
        });
        t += 10_000;
    }
    out
}

fn kinds(alerts: &[Alert]) -> Vec<AlertKind> {
    alerts.iter().map(|a| a.kind).collect()
}

#[test]
fn conversion_falling_while_traffic_rises_alerts_with_its_factors() {
    let d = header();
    let mut live = LiveSession::new(&d, LiveOptions::default(), None).unwrap();
    // 60 minutes steady, then viewers +40 % and orders halved
    let ev = traffic(
        &d,
        0,
        80,
        |t| if t < 60 * MIN { 1000.0 } else { 1400.0 },
        |t| if t < 60 * MIN { 12.0 } else { 6.0 },
    );
    let mut fired = Vec::new();
    for c in ev.chunks(20) {
        fired.extend(live.append(c.to_vec()).unwrap().alerts);
    }
    let conv: Vec<&Alert> = fired
        .iter()
        .filter(|a| a.kind == AlertKind::ConversionDrop)
        .collect();
    assert_eq!(conv.len(), 1, "once while it lasts: {:?}", kinds(&fired));
    let a = conv[0];
    assert!(a.start_ms >= d.session.start_ms + 60 * MIN - 10 * MIN);
    let f = |n: &str| a.factors.iter().find(|f| f.name == n).and_then(|f| f.value);
    assert!(f("online_viewers").unwrap() > 0.1, "{:?}", a.factors);
    assert!(f("orders_per_viewer").unwrap() < -0.22, "{:?}", a.factors);
    assert!(a.message_zh.contains("转化"));
    // a steady room does not alert
    let mut calm = LiveSession::new(&d, LiveOptions::default(), None).unwrap();
    let mut none = Vec::new();
    for c in traffic(&d, 0, 80, |_| 1000.0, |_| 12.0).chunks(20) {
        none.extend(calm.append(c.to_vec()).unwrap().alerts);
    }
    assert!(
        !none.iter().any(|a| a.kind == AlertKind::ConversionDrop),
        "{:?}",
        kinds(&none)
    );
}

#[test]
fn a_backlog_of_unanswered_questions_alerts_with_the_questions() {
    let d = header();
    let mut live = LiveSession::new(&d, LiveOptions::default(), None).unwrap();
    let s = d.session.start_ms;
    let mut ev = traffic(&d, 0, 30, |_| 1000.0, |_| 10.0);
    let asked = [
        "多少钱",
        "有优惠券吗",
        "怎么买",
        "什么时候发货",
        "有没有小码",
        "能退吗",
    ];
    for (k, q) in asked.iter().enumerate() {
        ev.push(LiveEvent::Comment {
            ts_ms: s + 10 * MIN + k as Ms * 20_000,
            viewer_id: format!("q{k}"),
            text: q.to_string(),
        });
    }
    ev.sort_by_key(|e| e.time_ms());
    let mut fired = Vec::new();
    for c in ev.chunks(10) {
        fired.extend(live.append(c.to_vec()).unwrap().alerts);
    }
    let b: Vec<&Alert> = fired
        .iter()
        .filter(|a| a.kind == AlertKind::QuestionBacklog)
        .collect();
    assert_eq!(b.len(), 1, "{:?}", kinds(&fired));
    assert!(b[0].questions.len() >= 5, "{:?}", b[0].questions);
    assert!(b[0].questions.iter().all(|q| asked.contains(&q.as_str())));
    // answered at once: no backlog
    let mut live = LiveSession::new(&d, LiveOptions::default(), None).unwrap();
    let mut ev2 = ev.clone();
    for (k, q) in asked.iter().enumerate() {
        let t = s + 10 * MIN + k as Ms * 20_000 + 5_000;
        ev2.push(LiveEvent::Utterance {
            start_ms: t,
            end_ms: t + 4_000,
            text: format!("这位宝宝问{q}，我来回答一下"),
            speaker: None,
        });
    }
    ev2.sort_by_key(|e| e.arrival_ms());
    let mut fired = Vec::new();
    for c in ev2.chunks(10) {
        fired.extend(live.append(c.to_vec()).unwrap().alerts);
    }
    assert!(
        !fired.iter().any(|a| a.kind == AlertKind::QuestionBacklog),
        "{:?}",
        fired
            .iter()
            .filter(|a| a.kind == AlertKind::QuestionBacklog)
            .map(|a| &a.questions)
            .collect::<Vec<_>>()
    );
}

#[test]
fn an_explain_far_longer_than_planned_alerts() {
    let mut d = header();
    let s = d.session.start_ms;
    let p = d.products[0].id.clone();
    d.session.plan = Some(RunSheet {
        source: "test".into(),
        items: vec![PlanItem {
            kind: PlanKind::Product,
            start: PlanTime::At(s + 5 * MIN),
            end: Some(PlanTime::At(s + 10 * MIN)),
            duration_ms: None,
            anchor: None,
            product: Some(p.clone()),
            promotion: None,
            label: None,
            talking_points: vec![],
            row: 1,
        }],
        ignored: vec![],
    });
    let mut live = LiveSession::new(&d, LiveOptions::default(), None).unwrap();
    let mut ev = traffic(&d, 0, 20, |_| 1000.0, |_| 10.0);
    ev.push(LiveEvent::Explain {
        product_id: p.clone(),
        start_ms: s + 5 * MIN,
        end_ms: None,
    });
    ev.sort_by_key(|e| e.time_ms());
    let mut fired = Vec::new();
    for c in ev.chunks(10) {
        fired.extend(live.append(c.to_vec()).unwrap().alerts);
    }
    let o: Vec<&Alert> = fired
        .iter()
        .filter(|a| a.kind == AlertKind::ExplainOverrun)
        .collect();
    assert_eq!(o.len(), 1, "{:?}", kinds(&fired));
    // 1.5 × 5 min after its start
    assert!(o[0].at_ms >= s + 5 * MIN + 450_000 && o[0].at_ms < s + 5 * MIN + 470_000);
    assert_eq!(o[0].product_id.as_deref(), Some(p.as_str()));
}

#[test]
fn viewers_leaving_after_an_anchor_change_alert() {
    let d = header();
    let s = d.session.start_ms;
    let (a, b) = (d.anchors[0].id.clone(), d.anchors[1].id.clone());
    let mut live = LiveSession::new(&d, LiveOptions::default(), None).unwrap();
    let mut ev = traffic(
        &d,
        0,
        40,
        |t| if t < 20 * MIN { 1000.0 } else { 700.0 },
        |_| 10.0,
    );
    ev.push(LiveEvent::Shift {
        anchor_id: a.clone(),
        role: ShiftRole::Host,
        start_ms: s,
        end_ms: None,
    });
    ev.push(LiveEvent::Shift {
        anchor_id: a.clone(),
        role: ShiftRole::Host,
        start_ms: s,
        end_ms: Some(s + 20 * MIN),
    });
    ev.push(LiveEvent::Shift {
        anchor_id: b.clone(),
        role: ShiftRole::Host,
        start_ms: s + 20 * MIN,
        end_ms: None,
    });
    ev.sort_by_key(|e| e.arrival_ms());
    let mut fired = Vec::new();
    for c in ev.chunks(10) {
        fired.extend(live.append(c.to_vec()).unwrap().alerts);
    }
    let v: Vec<&Alert> = fired
        .iter()
        .filter(|x| x.kind == AlertKind::ViewersAfterAnchorChange)
        .collect();
    assert_eq!(v.len(), 1, "{:?}", kinds(&fired));
    assert_eq!(v[0].anchor_id.as_deref(), Some(b.as_str()));
    assert!(v[0].message.contains(&a));
}

#[test]
fn a_silent_stream_alerts_once_and_re_arms() {
    let d = header();
    let s = d.session.start_ms;
    let mut live = LiveSession::new(&d, LiveOptions::default(), None).unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    live.on_alert(move |a| sink.lock().unwrap().push(a.clone()));
    // comments stop at minute 10; viewers go on
    let ev: Vec<LiveEvent> = traffic(&d, 0, 30, |_| 1000.0, |_| 10.0)
        .into_iter()
        .filter(|e| !matches!(e, LiveEvent::Comment { ts_ms, .. } if *ts_ms > s + 10 * MIN && *ts_ms < s + 20 * MIN))
        .collect();
    for c in ev.chunks(10) {
        live.append(c.to_vec()).unwrap();
    }
    let silent: Vec<Alert> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|a| a.kind == AlertKind::StreamSilent)
        .cloned()
        .collect();
    assert_eq!(silent.len(), 1, "{:?}", kinds(&seen.lock().unwrap()));
    assert_eq!(silent[0].metric.as_deref(), Some("comments"));
    assert!(silent[0].at_ms >= s + 12 * MIN && silent[0].at_ms < s + 13 * MIN);
    // the callback saw what the session kept
    assert_eq!(live.alerts().len(), seen.lock().unwrap().len());
    // a heartbeat notices when everything stops
    let u = live.advance(s + 40 * MIN).unwrap();
    let names: Vec<&str> = u
        .alerts
        .iter()
        .filter_map(|a| a.metric.as_deref())
        .collect();
    assert!(
        names.contains(&"comments") && names.contains(&"orders"),
        "{names:?}"
    );
}

#[test]
fn late_and_bad_events_are_refused_and_reported() {
    let d = header();
    let s = d.session.start_ms;
    let mut live = LiveSession::new(&d, LiveOptions::default(), None).unwrap();
    live.append(traffic(&d, 0, 10, |_| 1000.0, |_| 10.0))
        .unwrap();
    let u = live
        .append(vec![LiveEvent::Comment {
            ts_ms: s + MIN,
            viewer_id: "x".into(),
            text: "too late".into(),
        }])
        .unwrap();
    assert_eq!((u.accepted, u.refused_late), (0, 1));
    let before = live.timeline().values("comments").unwrap().to_vec();
    let e = live
        .append(vec![
            LiveEvent::Sample {
                metric: "nope".into(),
                ts_ms: s + 10 * MIN,
                value: 1.0,
            },
            LiveEvent::Order {
                ts_ms: s + 10 * MIN,
                id: None,
                product_id: "p".into(),
                amount: f64::NAN,
                quantity: 1,
                status: OrderStatus::Paid,
            },
            LiveEvent::Comment {
                ts_ms: s + 10 * MIN,
                viewer_id: "x".into(),
                text: "kept?".into(),
            },
        ])
        .unwrap_err();
    let VapError::Validation(p) = &e else {
        panic!("{e}")
    };
    assert_eq!(p.len(), 2, "{e}");
    assert!(
        e.to_string().contains("nope") && e.to_string().contains("amount"),
        "{e}"
    );
    assert_eq!(
        live.timeline().values("comments").unwrap(),
        &before[..],
        "none taken"
    );
    // events from JSON, every bad one by position
    let ok = LiveEvent::from_json(
        r#"[{"type": "comment", "ts": 5, "text": "hi"}, {"type": "tick", "ts_ms": 9}]"#,
    )
    .unwrap();
    assert_eq!(ok.len(), 2);
    let e =
        LiveEvent::from_json(r#"[{"type": "comment", "ts": 5}, {"type": "nope"}]"#).unwrap_err();
    assert!(matches!(&e, VapError::Validation(p) if p.len() == 2), "{e}");
    // options checked
    let e = LiveOptions::from_json(r#"{"step": 0, "horizon": "1min"}"#).unwrap_err();
    assert!(
        e.to_string().contains("step") && e.to_string().contains("horizon"),
        "{e}"
    );
    let e = LiveOptions::from_json(r#"{"alerts": {"z": 0, "backlog": 0}}"#).unwrap_err();
    assert!(
        e.to_string().contains("z must") && e.to_string().contains("backlog"),
        "{e}"
    );
}

#[test]
fn events_before_the_session_start_make_no_bins_and_no_panic() {
    let d = header();
    let s = d.session.start_ms;
    let mut live = LiveSession::new(&d, LiveOptions::default(), None).unwrap();
    for back in [3_600_000, 25_000, 5_000] {
        let u = live
            .append(vec![LiveEvent::Comment {
                ts_ms: s - back,
                viewer_id: "v".into(),
                text: "早".into(),
            }])
            .unwrap();
        assert!(u.bins <= 1, "{u:?}");
    }
    assert!(live.moments().is_empty() && live.alerts().is_empty());
    let u = live.advance(s + 95_000).unwrap();
    assert_eq!(u.bins, 10);
    assert_eq!(
        live.timeline()
            .values("comments")
            .unwrap()
            .iter()
            .sum::<f64>(),
        0.0
    );
}

#[test]
fn a_followed_capture_log_feeds_the_live_session() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("douyin.jsonl");
    let d = header();
    let s = d.session.start_ms;
    let line = |method: &str, t: Ms, id: usize, body: &str| {
        format!(
            "{{\"method\":\"{method}\",\"common\":{{\"msgId\":\"{id}\",\"createTime\":{t}}}{body}}}\n"
        )
    };
    let mut f = std::fs::File::create(&path).unwrap();
    let mut follower = CaptureFollower::open(&path, FollowOptions::default()).unwrap();
    let mut live = LiveSession::new(&d, LiveOptions::default(), None).unwrap();
    let mut id = 0;
    let mut text = String::new();
    for k in 0..120 {
        let t = s + k * 5_000;
        id += 1;
        text.push_str(&line(
            "WebcastChatMessage",
            t,
            id,
            ",\"content\":\"好看\",\"user\":{\"id\":\"7\"}",
        ));
        id += 1;
        text.push_str(&line(
            "WebcastRoomUserSeqMessage",
            t + 1,
            id,
            ",\"total\":1200",
        ));
        id += 1;
        text.push_str(&line("WebcastMemberMessage", t + 2, id, ""));
        if k == 10 {
            id += 1;
            text.push_str(&line(
                "WebcastProductChangeMessage",
                t + 3,
                id,
                &format!(
                    ",\"updateProductInfoList\":[{{\"productId\":\"{}\",\"explainType\":1}}]",
                    d.products[0].id
                ),
            ));
        }
    }
    // the first half, then a repeat and a half-written line
    let (a, b) = text.split_at(text.len() / 2);
    let cut = a.rfind('\n').unwrap() + 1;
    let (a, rest) = text.split_at(cut);
    let _ = b;
    f.write_all(a.as_bytes()).unwrap();
    let first_line = a.lines().next().unwrap().to_string();
    f.write_all(format!("{first_line}\n").as_bytes()).unwrap();
    f.write_all(&rest.as_bytes()[..20]).unwrap();
    f.flush().unwrap();
    let u1 = live.follow(&mut follower).unwrap();
    assert!(u1.accepted > 0);
    assert_eq!(follower.skipped().1, 1, "the repeat dropped");
    f.write_all(&rest.as_bytes()[20..]).unwrap();
    f.flush().unwrap();
    live.follow(&mut follower).unwrap();
    let tl = live.timeline();
    assert_eq!(follower.lines(), 362, "{:?}", follower.skipped());
    assert_eq!(tl.values("comments").unwrap().iter().sum::<f64>(), 120.0);
    // a flow sample accrued since the one before; the first since one
    // sampling interval before it, mostly before the session's start
    let entries: f64 = tl.values("entries").unwrap().iter().sum();
    assert!((entries - 119.0).abs() < 0.01, "{entries}");
    let v = tl.values("online_viewers").unwrap();
    assert!(v.iter().filter(|x| x.is_finite()).all(|x| *x == 1200.0));
    assert_eq!(
        live.explaining().map(|e| e.0),
        Some(d.products[0].id.as_str())
    );
    // a rotated log is read from its start
    std::fs::write(
        &path,
        line(
            "WebcastChatMessage",
            s + 700_000,
            99_999,
            ",\"content\":\"again\"",
        ),
    )
    .unwrap();
    let ev = follower.poll().unwrap();
    assert!(
        matches!(&ev[..], [LiveEvent::Comment { text, .. }] if text == "again"),
        "{ev:?}"
    );
}

#[test]
fn the_live_options_are_an_option_set() {
    let d = crate::option_defaults("live").unwrap();
    assert_eq!(d["lateness_ms"], 120_000);
    assert_eq!(d["alerts"]["backlog"], 5);
    let o = crate::resolve_options(
        "live",
        serde_json::json!({"alerts": {"backlogWindow": "5min"}}),
        true,
    )
    .unwrap();
    assert_eq!(o["alerts"]["backlogWindowMs"], 300_000);
    let keep = LiveOptions::from_json(r#"{"horizon": null}"#).unwrap();
    assert_eq!(keep.horizon_ms, None, "null keeps everything");
    assert_eq!(
        LiveOptions::from_json("{}").unwrap().horizon_ms,
        Some(30 * 60_000)
    );
    assert!(ColumnKind::Count.absent_is_zero());
}
