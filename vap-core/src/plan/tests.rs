use super::*;
use crate::options::Options;
use crate::schema::*;
use crate::sim::{simulate, SimConfig};
use std::collections::BTreeMap;

fn room(seed: u64) -> SessionData {
    simulate(&SimConfig {
        seed,
        hours: 2.0,
        ..Default::default()
    })
    .unwrap()
    .data
}

/// A run-sheet that says exactly what happened.
fn as_it_ran(d: &SessionData) -> RunSheet {
    let mut items = Vec::new();
    let item = |kind, s: Ms, e: Ms| PlanItem {
        kind,
        start: PlanTime::At(s),
        end: Some(PlanTime::At(e)),
        duration_ms: None,
        anchor: None,
        product: None,
        promotion: None,
        label: None,
        talking_points: vec![],
        row: 0,
    };
    for s in d.shifts.iter().filter(|s| s.role == ShiftRole::Host) {
        let mut it = item(PlanKind::Shift, s.start_ms, s.end_ms);
        it.anchor = Some(s.anchor_id.clone());
        items.push(it);
    }
    for s in d.segments.iter().filter(|s| s.kind == SegmentKind::Explain) {
        let mut it = item(PlanKind::Product, s.start_ms, s.end_ms);
        it.product = Some(s.product_id.clone());
        items.push(it);
    }
    for p in &d.promotions {
        let mut it = item(PlanKind::Promotion, p.start_ms, p.end_ms);
        it.promotion = Some(p.kind);
        it.product = p.product_id.clone();
        items.push(it);
    }
    for (k, it) in items.iter_mut().enumerate() {
        it.row = k + 1;
    }
    RunSheet {
        source: "test".into(),
        items,
        ignored: vec![],
    }
}

fn no_model() -> PlanOptions {
    PlanOptions {
        attribute: false,
        ..Default::default()
    }
}

#[test]
fn a_plan_that_ran_as_written_is_all_on_plan() {
    let mut d = room(1);
    d.session.plan = Some(as_it_ran(&d));
    let r = compare(&d, &no_model()).unwrap();
    // Touching shifts of one anchor merge in the plan as well as in the data.
    assert_eq!(
        r.off_plan,
        0,
        "{:?}",
        r.items
            .iter()
            .filter(|i| i.status != DeviationStatus::OnPlan)
            .collect::<Vec<_>>()
    );
    assert_eq!(r.added, 0);
    assert!(r.on_plan > 10);
    assert!(r.effect_total.is_none());
}

#[test]
fn late_early_longer_skipped_and_added_are_told_apart() {
    let mut d = room(2);
    let mut sheet = as_it_ran(&d);
    let products: Vec<usize> = (0..sheet.items.len())
        .filter(|&i| sheet.items[i].kind == PlanKind::Product)
        .collect();
    let shift = |t: PlanTime, by: Ms| match t {
        PlanTime::At(ms) => PlanTime::At(ms + by),
        other => other,
    };
    // Planned 10 min earlier than it ran: it ran late.
    let late = products[1];
    sheet.items[late].start = shift(sheet.items[late].start, -600_000);
    sheet.items[late].end = sheet.items[late].end.map(|e| shift(e, -600_000));
    // Planned 5 min longer than it ran: it ran shorter.
    let short = products[3];
    sheet.items[short].end = sheet.items[short].end.map(|e| shift(e, 300_000));
    // A product planned that never ran, and one that ran unplanned.
    let skipped_row = sheet.items[products[5]].row;
    sheet.items[products[5]].product = Some("no-such-product".into());
    let unplanned = sheet.items.remove(products[6]);
    d.session.plan = Some(sheet);
    let r = compare(&d, &no_model()).unwrap();
    let find = |status| r.items.iter().filter(move |i| i.status == status);
    let l: Vec<_> = find(DeviationStatus::Late).collect();
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].start_delta_ms, Some(600_000));
    let s: Vec<_> = find(DeviationStatus::Shorter).collect();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].length_delta_ms, Some(-300_000));
    let k: Vec<_> = find(DeviationStatus::Skipped).collect();
    assert_eq!(k.len(), 1);
    assert_eq!(k[0].row, Some(skipped_row));
    assert!(k[0].note.as_deref().unwrap().contains("no-such-product"));
    // The product whose slot was renamed ran unplanned, and so did the removed one.
    let a: Vec<_> = find(DeviationStatus::Added).collect();
    assert_eq!(a.len(), 2, "{a:?}");
    assert!(a
        .iter()
        .any(|x| Some(x.subject.as_str()) == unplanned.product.as_deref()));
    assert_eq!(r.off_plan, 3);
    assert_eq!(r.added, 2);
    // Sorted by planned (else actual) start.
    let starts: Vec<Ms> = r
        .items
        .iter()
        .map(|i| i.planned.or(i.actual).unwrap().0)
        .collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn a_skipped_flash_sale_costs_and_effects_of_separate_deviations_add_up() {
    let mut d = room(3);
    let sheet = as_it_ran(&d);
    let flash: Vec<usize> = (0..d.promotions.len())
        .filter(|&i| d.promotions[i].kind == PromotionKind::FlashSale)
        .collect();
    assert!(flash.len() >= 2, "the simulated room has flash sales");
    // The plan had them all; the session skipped the first one ...
    let skipped = d.promotions.remove(flash[0]);
    // ... and the plan did not have the last one.
    let last = d
        .promotions
        .iter()
        .rposition(|p| p.kind == PromotionKind::FlashSale)
        .unwrap();
    let last = d.promotions[last].clone();
    let mut sheet = sheet;
    sheet
        .items
        .retain(|it| !(it.kind == PlanKind::Promotion && it.start == PlanTime::At(last.start_ms)));
    d.session.plan = Some(sheet);
    let opts = PlanOptions {
        model: crate::attribute::AttributeOptions {
            bootstrap: 40,
            ..Default::default()
        },
        ..Default::default()
    };
    let r = compare(&d, &opts).unwrap();
    assert_eq!(r.target.as_deref(), Some("order_gmv"));
    let sk = r
        .items
        .iter()
        .find(|i| i.status == DeviationStatus::Skipped)
        .unwrap();
    assert_eq!(sk.planned, Some((skipped.start_ms, skipped.end_ms)));
    let e = sk.effect.as_ref().unwrap();
    assert!(e.value < 0.0, "skipping a flash sale cost: {e:?}");
    assert!(e.low.unwrap() <= e.value && e.value <= e.high.unwrap());
    let add = r
        .items
        .iter()
        .find(|i| i.status == DeviationStatus::Added && i.kind == PlanKind::Promotion)
        .unwrap();
    // An added flash sale's sign depends on the room (it also changes the
    // price in focus); its interval holds its estimate.
    let ae = add.effect.as_ref().unwrap();
    assert!(
        ae.low.unwrap() <= ae.value && ae.value <= ae.high.unwrap(),
        "{add:?}"
    );
    // Everything on plan is not valued; the total is one counterfactual.
    assert!(r
        .items
        .iter()
        .filter(|i| i.status == DeviationStatus::OnPlan)
        .all(|i| i.effect.is_none()));
    let t = r.effect_total.as_ref().unwrap();
    assert!(
        (t.value - (e.value + add.effect.as_ref().unwrap().value)).abs()
            < 0.05 * t.value.abs().max(1.0) + 1e-6 * e.value.abs(),
        "two flash sales far apart add up: {t:?}"
    );
}

#[test]
fn moving_an_explain_is_valued_against_the_same_model() {
    let mut d = room(4);
    let mut sheet = as_it_ran(&d);
    let i = sheet
        .items
        .iter()
        .position(|it| it.kind == PlanKind::Product)
        .unwrap();
    if let (PlanTime::At(s), Some(PlanTime::At(e))) = (sheet.items[i].start, sheet.items[i].end) {
        sheet.items[i].end = Some(PlanTime::At(e + (e - s)));
    }
    d.session.plan = Some(sheet);
    let r = compare(&d, &PlanOptions::default()).unwrap();
    let dev = r
        .items
        .iter()
        .find(|x| x.status == DeviationStatus::Shorter)
        .unwrap();
    // An explain cut short (the model gives explains a non-negative effect)
    // cost something or nothing, never earned.
    assert!(dev.effect.as_ref().unwrap().value <= 1e-9, "{dev:?}");
}

#[test]
fn slots_in_chinese_with_clock_times() {
    let mut d = room(5);
    d.session.timezone = "Asia/Shanghai".into();
    let p0 = d.products[0].clone();
    let p1 = d.products[1].clone();
    let a0 = d.anchors[0].clone();
    // The simulated session starts 2026-11-25 20:00 in Beijing.
    let csv = format!(
        "时间段,主播,商品,活动,时长(分钟),话术,直播间\n\
         20:00-20:10,{a},{n0},,,补水; 到手价,x\n\
         20:10,{a},{alias1},秒杀,15,,x\n",
        a = a0.name,
        n0 = p0.name,
        alias1 = p1.aliases.first().cloned().unwrap_or(p1.id.clone()),
    );
    let sheet =
        read_run_sheet_bytes("plan.csv", csv.as_bytes(), &RunSheetOptions::default()).unwrap();
    assert_eq!(sheet.ignored, vec!["直播间".to_string()]);
    assert_eq!(sheet.items.len(), 5);
    let items = sheet.resolve(&d).unwrap();
    let start = d.session.start_ms;
    let prod: Vec<_> = items
        .iter()
        .filter(|i| i.kind == PlanKind::Product)
        .collect();
    assert_eq!(prod[0].product_id.as_deref(), Some(p0.id.as_str()));
    assert_eq!((prod[0].start_ms, prod[0].end_ms), (start, start + 600_000));
    assert_eq!(prod[0].talking_points, vec!["补水", "到手价"]);
    assert_eq!(prod[1].product_id.as_deref(), Some(p1.id.as_str()));
    assert_eq!(
        (prod[1].start_ms, prod[1].end_ms),
        (start + 600_000, start + 1_500_000)
    );
    let promo: Vec<_> = items
        .iter()
        .filter(|i| i.kind == PlanKind::Promotion)
        .collect();
    assert_eq!(promo.len(), 1);
    assert_eq!(promo[0].promotion, Some(PromotionKind::FlashSale));
    // The anchor's two slots are one shift.
    let shifts: Vec<_> = items.iter().filter(|i| i.kind == PlanKind::Shift).collect();
    assert_eq!(shifts.len(), 1);
    assert_eq!(shifts[0].anchor_id.as_deref(), Some(a0.id.as_str()));
    assert_eq!(
        (shifts[0].start_ms, shifts[0].end_ms),
        (start, start + 1_500_000)
    );
    assert!(items.iter().all(|i| i.unknown.is_none()));
}

#[test]
fn kinds_offsets_and_json() {
    let d = room(6);
    let json = format!(
        r#"{{"items": [
            {{"type": "主播", "start": "+0", "end": "+1:00", "anchor": "{a}"}},
            {{"type": "商品", "start": "+0:05", "duration": "20min", "product": "{p}", "talking_points": ["a", "b"]}},
            {{"type": "秒杀", "start": "+0:30", "duration": 5, "product": "{p}"}},
            {{"type": "coupon", "start": "+40min", "duration": "10分钟"}}
        ]}}"#,
        a = d.anchors[1].id,
        p = d.products[2].id
    );
    let sheet =
        read_run_sheet_bytes("plan.json", json.as_bytes(), &RunSheetOptions::default()).unwrap();
    let items = sheet.resolve(&d).unwrap();
    let s = d.session.start_ms;
    let spans: Vec<(PlanKind, Ms, Ms)> = items
        .iter()
        .map(|i| (i.kind, i.start_ms - s, i.end_ms - s))
        .collect();
    assert_eq!(
        spans,
        vec![
            (PlanKind::Shift, 0, 3_600_000),
            (PlanKind::Product, 300_000, 1_500_000),
            (PlanKind::Promotion, 1_800_000, 2_100_000),
            (PlanKind::Promotion, 2_400_000, 3_000_000),
        ]
    );
    assert_eq!(items[1].talking_points, vec!["a", "b"]);
    assert_eq!(items[2].promotion, Some(PromotionKind::FlashSale));
    assert_eq!(items[3].promotion, Some(PromotionKind::Coupon));
}

#[test]
fn every_problem_is_reported_with_its_row_and_field() {
    let csv = "kind,start,duration,anchor,product,promotion\n\
               product,20:00,10,,,\n\
               shift,soon,,a1,,\n\
               promotion,20:30,,,,秒杀\n\
               teleport,20:40,5,,,\n\
               product,20:50,-3,,p1,\n";
    let e =
        read_run_sheet_bytes("plan.csv", csv.as_bytes(), &RunSheetOptions::default()).unwrap_err();
    let p = e.problems();
    let at = |row: usize, field: &str| {
        p.iter()
            .find(|x| x.row == Some(row) && x.field.as_deref() == Some(field))
            .unwrap_or_else(|| panic!("no problem at row {row} field {field}: {p:?}"))
    };
    assert!(at(1, "product").message.contains("no product"));
    assert!(at(2, "start").message.contains("not a time"));
    assert!(at(3, "duration").message.contains("end or a duration"));
    assert!(at(4, "kind").message.contains("unknown kind"));
    assert!(at(5, "duration").message.contains("not a duration"));
    assert!(p.iter().all(|x| x.file == "plan.csv"));
    assert!(e.to_string().contains("plan.csv"));
    // No time column at all.
    let e = read_run_sheet_bytes(
        "p.csv",
        "主播,商品\na,b\n".as_bytes(),
        &RunSheetOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no time column"), "{e}");
    // An item ending before it starts is found when resolved.
    let d = room(7);
    let sheet = read_run_sheet_bytes(
        "p.csv",
        "开始时间,结束时间,商品\n+0:30,+0:10,x\n".as_bytes(),
        &RunSheetOptions::default(),
    )
    .unwrap();
    let e = sheet.resolve(&d).unwrap_err();
    assert_eq!(e.problems()[0].row, Some(1));
    assert!(RunSheetOptions::from_json(r#"{"timezone": "Mars/Base"}"#).is_err());
}

#[test]
fn the_csv_form_reads_back_and_the_plan_travels_with_the_session() {
    let mut d = room(8);
    let sheet = read_run_sheet_bytes(
        "p.csv",
        "时间段,主播,商品,活动,话术\n+0:00-+0:10,a1,p01,,x; y\n+0:10-+0:25,a2,p02,优惠券,\n20:30,a2,p03,,\n".as_bytes(),
        &RunSheetOptions::default(),
    )
    .unwrap();
    let back = read_run_sheet_bytes(
        "back.csv",
        sheet.to_csv().as_bytes(),
        &RunSheetOptions::default(),
    )
    .unwrap();
    let norow = |v: Vec<PlannedItem>| -> Vec<PlannedItem> {
        v.into_iter().map(|i| PlannedItem { row: 0, ..i }).collect()
    };
    assert_eq!(
        norow(back.resolve(&d).unwrap()),
        norow(sheet.resolve(&d).unwrap())
    );
    d.session.plan = Some(sheet.clone());
    let dir = tempfile::tempdir().unwrap();
    crate::ingest::write_dir(&d, dir.path(), crate::ingest::Format::Csv).unwrap();
    let (loaded, _) = crate::ingest::load_dir(dir.path(), &Default::default()).unwrap();
    assert_eq!(loaded.session.plan, Some(sheet));
}

#[test]
fn the_replay_and_the_report_carry_the_comparison() {
    let mut d = room(9);
    let mut sheet = as_it_ran(&d);
    let i = sheet
        .items
        .iter()
        .position(|it| it.kind == PlanKind::Product)
        .unwrap();
    if let (PlanTime::At(s), Some(PlanTime::At(e))) = (sheet.items[i].start, sheet.items[i].end) {
        sheet.items[i].start = PlanTime::At(s - 300_000);
        sheet.items[i].end = Some(PlanTime::At(e - 300_000));
    }
    sheet.items[i].talking_points = vec!["这句话从来没说过".into()];
    d.session.plan = Some(sheet);
    let opts = crate::replay::ReplayOptions {
        model: crate::attribute::AttributeOptions {
            bootstrap: 20,
            ..Default::default()
        },
        ..Default::default()
    };
    let r = crate::replay::replay(&d, &[], &opts).unwrap();
    let p = r.plan.as_ref().expect("the replay compares the run-sheet");
    assert_eq!(p.off_plan, 1);
    let late = p
        .items
        .iter()
        .find(|x| x.status == DeviationStatus::Late)
        .unwrap();
    assert_eq!(late.start_delta_ms, Some(300_000));
    assert!(late.effect.is_some(), "valued with the replay's model");
    assert_eq!(late.points_missed, vec!["这句话从来没说过"]);
    let t = r.table("plan").unwrap();
    assert_eq!(t.num_rows(), p.items.len());
    assert_eq!(
        t.schema()
            .field_with_name("start_delta_ms")
            .unwrap()
            .data_type(),
        &arrow_schema::DataType::Int64
    );
    let v = r.view(crate::replay::Role::FieldControl).unwrap();
    assert!(v.get("plan").is_some());
    let html = crate::report::html(&r, &crate::report::ReportOptions::default()).unwrap();
    assert!(html.contains("id=\"plan\""));
    assert!(html.contains("晚于计划"));
    assert!(html.contains("这句话从来没说过"));
    // Without a run-sheet there is no section.
    d.session.plan = None;
    let r = crate::replay::replay(&d, &[], &opts).unwrap();
    assert!(r.plan.is_none());
    let html = crate::report::html(&r, &crate::report::ReportOptions::default()).unwrap();
    assert!(!html.contains("id=\"plan\""));
}

/// A room's history: `n` 3-hour sessions on consecutive days, with or without
/// the planted playbook effects (a2 sells 美妆 better; late flash sales pay
/// more).
fn history(planted: bool, n: u64) -> Vec<SessionData> {
    (0..n)
        .map(|k| {
            simulate(&SimConfig {
                seed: 100 + k,
                hours: 3.0,
                entries_per_second: 40.0,
                anchors: 3,
                products: 20,
                session_id: Some(format!("day-{k}")),
                start_ms: 1_795_608_000_000 + k as i64 * 86_400_000,
                anchor_category_effects: if planted {
                    vec![crate::sim::AnchorCategoryEffect {
                        anchor: "a2".into(),
                        category: "美妆".into(),
                        effect: 3.0,
                    }]
                } else {
                    vec![]
                },
                late_flash_effect: if planted { 6.0 } else { 0.0 },
                ..Default::default()
            })
            .unwrap()
            .data
        })
        .collect()
}

fn quick_playbook() -> PlaybookOptions {
    PlaybookOptions {
        model: crate::attribute::AttributeOptions {
            bootstrap: 100,
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn the_playbook_finds_what_was_planted() {
    let h = history(true, 8);
    let p = playbook(&h, &quick_playbook()).unwrap();
    for a in &p.anchors {
        eprintln!("{} {} {:?}", a.anchor_id, a.category, a.evidence);
    }
    eprintln!("{:?}", p.flash_sales);
    for r in &p.recommendations {
        eprintln!("{} {}", r.kind, r.text);
    }
    assert_eq!(p.sessions.len(), 8);
    let top = &p.anchors[0];
    assert_eq!(
        (top.anchor_id.as_str(), top.category.as_str()),
        ("a2", "美妆")
    );
    assert!(!top.evidence.weak, "{top:?}");
    let strong: Vec<_> = p
        .recommendations
        .iter()
        .filter(|r| !r.weak && r.kind == "anchor_category")
        .collect();
    assert_eq!(strong.len(), 1, "{strong:?}");
    assert!(strong[0].text.contains("美妆") && strong[0].text_zh.contains("美妆"));
    let d = p.flash_sales.difference.as_ref().unwrap();
    assert!(!d.weak && d.value > 0.0, "{d:?}");
    assert!(p
        .recommendations
        .iter()
        .any(|r| r.kind == "flash_timing" && !r.weak));
    // The draft puts a2 on the 美妆 slots, the flash sale late, and reads back.
    let cat: BTreeMap<String, String> = h
        .iter()
        .flat_map(|d| {
            d.products
                .iter()
                .map(|p| (p.id.clone(), p.category.clone()))
        })
        .collect();
    let slots: Vec<_> = p
        .draft
        .items
        .iter()
        .filter(|i| i.kind == PlanKind::Product)
        .collect();
    assert!(!slots.is_empty());
    for s in &slots {
        if cat[s.product.as_deref().unwrap()] == "美妆" {
            assert_eq!(s.anchor.as_deref(), Some("a2"));
        }
    }
    let flash = p
        .draft
        .items
        .iter()
        .find(|i| i.kind == PlanKind::Promotion)
        .unwrap();
    assert_eq!(flash.start, PlanTime::Offset(1_800_000));
    let back = read_run_sheet_bytes(
        "draft.csv",
        p.draft.to_csv().as_bytes(),
        &RunSheetOptions::default(),
    )
    .unwrap();
    let mut next = h[0].clone();
    next.session.plan = Some(back);
    let review = compare(
        &next,
        &PlanOptions {
            attribute: false,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(review.items.iter().any(|d| d.kind == PlanKind::Product));
    // Phrases said while explaining, pooled over the sessions, best first.
    let with_phrases: Vec<_> = p
        .products
        .iter()
        .filter(|x| !x.phrases.is_empty())
        .collect();
    assert!(!with_phrases.is_empty());
    for x in with_phrases {
        assert!(x
            .phrases
            .iter()
            .all(|f| f.uses >= 1 && f.sessions >= 1 && f.sessions <= x.sessions));
        assert!(x.phrases.iter().all(|f| f.lift.is_none_or(|l| l >= 0.0)));
        let strong: Vec<bool> = x.phrases.iter().map(|f| f.weak).collect();
        assert!(strong.windows(2).all(|w| !w[0] || w[1]), "weak ones last");
    }
    // The page: recommendations first, in Chinese by default.
    let html = crate::report::playbook_html(&p, &Default::default()).unwrap();
    assert!(html.find("id=\"recommendations\"").unwrap() < html.find("id=\"anchors\"").unwrap());
    assert!(html.contains("阿杰 更适合讲 美妆 类"));
    let en = crate::report::playbook_html(
        &p,
        &crate::report::ReportOptions {
            lang: crate::report::Lang::En,
            fragment: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(en.starts_with("<div") && en.contains("should host 美妆"));
}

#[test]
fn the_playbook_says_when_the_evidence_is_thin() {
    let h = history(false, 8);
    let p = playbook(&h, &quick_playbook()).unwrap();
    for r in &p.recommendations {
        eprintln!("{} {} {}", r.kind, r.weak, r.text);
    }
    assert_eq!(p.recommendations[0].kind, "not_enough_evidence");
    assert!(p
        .recommendations
        .iter()
        .all(|r| r.weak || r.kind == "product_order"));
    assert!(!p.recommendations.iter().any(|r| !r.weak));
    // Two sessions: everything is weak (fewer than min_sessions).
    let p = playbook(&history(true, 2), &quick_playbook()).unwrap();
    assert!(p.anchors.iter().all(|a| a.evidence.weak));
    let e = playbook(&h[..1], &quick_playbook()).unwrap_err();
    assert!(e.to_string().contains("at least 2"));
}

#[test]
fn a_slot_without_an_end_lasts_until_the_next_slot() {
    let d = room(10);
    let csv = "开始时间,商品,活动\n+0:00,p01,\n+0:10,p02,福袋\n+0:25,p03,\n+0:40,p04,秒杀\n";
    let sheet = read_run_sheet_bytes("p.csv", csv.as_bytes(), &RunSheetOptions::default()).unwrap();
    let items = sheet.resolve(&d).unwrap();
    let s = d.session.start_ms;
    let promo: Vec<(Ms, Ms)> = items
        .iter()
        .filter(|i| i.kind == PlanKind::Promotion)
        .map(|i| (i.start_ms - s, i.end_ms - s))
        .collect();
    // The lucky bag ends with its slot, not at the next promotion; the last
    // slot lasts until the session ends.
    assert_eq!(
        promo,
        vec![(600_000, 1_500_000), (2_400_000, d.session.end_ms - s)]
    );
    let prod: Vec<Ms> = items
        .iter()
        .filter(|i| i.kind == PlanKind::Product)
        .map(|i| i.end_ms - s)
        .collect();
    assert_eq!(
        prod,
        vec![600_000, 1_500_000, 2_400_000, d.session.end_ms - s]
    );
}
