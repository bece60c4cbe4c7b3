//! The report's charts: SVG drawn from the data, no script, no network.
//!
//! Every chart is an `<svg>` with `class="chart"` and a `data-chart` naming
//! what it draws; a series is one `<path class="series" data-series=…>` (its
//! gaps are breaks in the path, never zeros), a moment is one
//! `<line class="moment-marker" data-rank=…>`, a promotion or explain segment
//! one `<rect class="band …">`. Tests count these.

use std::fmt::Write as _;

use super::esc;
use crate::schema::Ms;

/// Chart width and the plot's margins, in SVG units.
const W: f64 = 960.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 22.0;

/// A band under a curve: `[start, end)` with a CSS class and a tooltip.
pub(super) struct Band {
    pub start_ms: Ms,
    pub end_ms: Ms,
    pub class: &'static str,
    pub title: String,
}

/// A moment marker: where, its rank and a tooltip.
pub(super) struct Marker {
    pub at_ms: Ms,
    pub rank: usize,
    pub title: String,
}

/// Numbers in SVG attributes: short and locale-free.
fn n(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// One curve over the session, with bands and moment markers. `ticks` are
/// (time, label) pairs for the x axis; `y_label` formats the top of the
/// y axis.
#[allow(clippy::too_many_arguments)]
pub(super) fn curve(
    name: &str,
    title: &str,
    time_ms: &[Ms],
    step_ms: Ms,
    values: &[Option<f64>],
    span: (Ms, Ms),
    bands: &[Band],
    markers: &[Marker],
    ticks: &[(Ms, String)],
    y_label: &dyn Fn(f64) -> String,
) -> String {
    let h = 170.0;
    let (t0, t1) = (span.0 as f64, (span.1.max(span.0 + 1)) as f64);
    let x = |t: f64| LEFT + (t - t0) / (t1 - t0) * (W - LEFT - RIGHT);
    let max = values.iter().flatten().fold(0.0_f64, |m, v| m.max(*v));
    let min = values.iter().flatten().fold(0.0_f64, |m, v| m.min(*v));
    let (lo, hi) = if max > min {
        (min, max)
    } else {
        (min, min + 1.0)
    };
    let y = |v: f64| TOP + (hi - v) / (hi - lo) * (h - TOP - BOTTOM);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" data-chart="curve" data-series-name="{}" viewBox="0 0 {} {}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(name),
        n(W),
        n(h),
        esc(title)
    );
    let _ = write!(s, "<title>{}</title>", esc(title));
    for b in bands {
        let (a, e) = (x(b.start_ms as f64), x(b.end_ms as f64));
        let _ = write!(
            s,
            r#"<rect class="band {}" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>"#,
            b.class,
            n(a),
            n(TOP),
            n((e - a).max(0.5)),
            n(h - TOP - BOTTOM),
            esc(&b.title)
        );
    }
    // Axes: the baseline, the top value and the hour ticks.
    let _ = write!(
        s,
        r#"<line class="axis" x1="{l}" y1="{b}" x2="{r}" y2="{b}"/><text class="axis-label" x="{tx}" y="{ty}" text-anchor="end">{top}</text><text class="axis-label" x="{tx}" y="{by}" text-anchor="end">{bottom}</text>"#,
        l = n(LEFT),
        r = n(W - RIGHT),
        b = n(y(lo.max(0.0).min(hi))),
        tx = n(LEFT - 4.0),
        ty = n(TOP + 8.0),
        by = n(h - BOTTOM),
        top = esc(&y_label(hi)),
        bottom = esc(&y_label(lo)),
    );
    for (t, label) in ticks {
        let _ = write!(
            s,
            r#"<text class="axis-label" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            n(x(*t as f64)),
            n(h - 6.0),
            esc(label)
        );
    }
    // The series: each bin at its middle, broken where a value is missing.
    let mut d = String::new();
    let mut pen_down = false;
    for (t, v) in time_ms.iter().zip(values) {
        match v {
            Some(v) => {
                let px = x(*t as f64 + step_ms as f64 / 2.0);
                let _ = write!(
                    d,
                    "{}{} {} ",
                    if pen_down { "L" } else { "M" },
                    n(px),
                    n(y(*v))
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    let _ = write!(
        s,
        r#"<path class="series" data-series="{}" d="{}"/>"#,
        esc(name),
        d.trim_end()
    );
    for m in markers {
        let px = n(x(m.at_ms as f64));
        let _ = write!(
            s,
            r##"<a href="#moment-{r}"><line class="moment-marker" data-rank="{r}" x1="{px}" y1="{t}" x2="{px}" y2="{b}"><title>{title}</title></line><text class="marker-label" x="{px}" y="{ly}" text-anchor="middle">{r}</text></a>"##,
            r = m.rank,
            t = n(TOP),
            b = n(h - BOTTOM),
            ly = n(TOP + 8.0),
            title = esc(&m.title),
        );
    }
    s.push_str("</svg>");
    s
}

/// The model's parts over time as stacked bars, one bar per step: positive
/// parts stacked up from zero, negative ones down, each part one
/// `<path class="stack" data-part=…>` (a rectangle per step) with a legend
/// entry; moments marked as on the curves.
#[allow(clippy::too_many_arguments)]
pub(super) fn stacked(
    title: &str,
    time_ms: &[Ms],
    step_ms: Ms,
    parts: &[(String, String, &[Option<f64>])],
    span: (Ms, Ms),
    markers: &[Marker],
    ticks: &[(Ms, String)],
    y_label: &dyn Fn(f64) -> String,
) -> String {
    // The legend: rows of at most PER_ROW entries above the plot.
    const PER_ROW: usize = 7;
    let rows = parts.len().div_ceil(PER_ROW).max(1);
    let legend_h = 18.0 * rows as f64;
    let h = 202.0 + legend_h;
    let (t0, t1) = (span.0 as f64, (span.1.max(span.0 + 1)) as f64);
    let x = |t: f64| LEFT + (t - t0) / (t1 - t0) * (W - LEFT - RIGHT);
    // Each step's positive and negative stacks, to scale the axis.
    let (mut hi, mut lo) = (0.0_f64, 0.0_f64);
    for i in 0..time_ms.len() {
        let (mut up, mut down) = (0.0, 0.0);
        for (_, _, v) in parts {
            match v.get(i).copied().flatten() {
                Some(v) if v > 0.0 => up += v,
                Some(v) => down += v,
                None => {}
            }
        }
        hi = hi.max(up);
        lo = lo.min(down);
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    let top = TOP + legend_h;
    let y = |v: f64| top + (hi - v) / (hi - lo) * (h - top - BOTTOM);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" data-chart="stacked" viewBox="0 0 {} {}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        n(W),
        n(h),
        esc(title),
        esc(title)
    );
    let mut up = vec![0.0_f64; time_ms.len()];
    let mut down = vec![0.0_f64; time_ms.len()];
    let width = (x(step_ms as f64 + t0) - x(t0)) * 0.9;
    for (k, (name, label, values)) in parts.iter().enumerate() {
        let mut d = String::new();
        for (i, t) in time_ms.iter().enumerate() {
            let Some(v) = values.get(i).copied().flatten() else {
                continue;
            };
            if v == 0.0 || !v.is_finite() {
                continue;
            }
            let (a, b) = if v > 0.0 {
                up[i] += v;
                (up[i], up[i] - v)
            } else {
                down[i] += v;
                (down[i] - v, down[i])
            };
            let _ = write!(
                d,
                "M{} {}h{}V{}h-{}Z",
                n(x(*t as f64)),
                n(y(a)),
                n(width.max(0.5)),
                n(y(b)),
                n(width.max(0.5))
            );
        }
        let _ = write!(
            s,
            r#"<path class="stack part-{}" data-part="{}" d="{}"><title>{}</title></path>"#,
            k % 12,
            esc(name),
            d,
            esc(label)
        );
        let lx = LEFT + (k % PER_ROW) as f64 * 125.0;
        let ly = TOP + (k / PER_ROW) as f64 * 18.0;
        let _ = write!(
            s,
            r#"<rect class="stack part-{}" x="{}" y="{}" width="10" height="10"/><text class="axis-label" x="{}" y="{}">{}</text>"#,
            k % 12,
            n(lx),
            n(ly - 2.0),
            n(lx + 14.0),
            n(ly + 7.0),
            esc(label)
        );
    }
    let _ = write!(
        s,
        r#"<line class="axis" x1="{l}" y1="{z}" x2="{r}" y2="{z}"/><text class="axis-label" x="{tx}" y="{ty}" text-anchor="end">{top}</text><text class="axis-label" x="{tx}" y="{by}" text-anchor="end">{bottom}</text>"#,
        l = n(LEFT),
        r = n(W - RIGHT),
        z = n(y(0.0)),
        tx = n(LEFT - 4.0),
        ty = n(top + 8.0),
        by = n(h - BOTTOM),
        top = esc(&y_label(hi)),
        bottom = esc(&y_label(lo)),
    );
    for (t, label) in ticks {
        let _ = write!(
            s,
            r#"<text class="axis-label" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            n(x(*t as f64)),
            n(h - 6.0),
            esc(label)
        );
    }
    for m in markers {
        let px = n(x(m.at_ms as f64));
        let _ = write!(
            s,
            r##"<a href="#moment-{r}"><line class="moment-marker" data-rank="{r}" x1="{px}" y1="{t}" x2="{px}" y2="{b}"><title>{title}</title></line></a>"##,
            r = m.rank,
            t = n(top),
            b = n(h - BOTTOM),
            title = esc(&m.title),
        );
    }
    s.push_str("</svg>");
    s
}

/// One bar per (label, value, low, high) around zero, with the interval as a
/// whisker: a moment's split, the model's session totals, the funnel.
pub(super) fn bars(
    chart: &str,
    title: &str,
    rows: &[(String, f64, Option<f64>, Option<f64>)],
    fmt: &dyn Fn(f64) -> String,
) -> String {
    let row_h = 22.0;
    let h = TOP + row_h * rows.len().max(1) as f64 + 6.0;
    let (label_w, value_w) = (170.0, 110.0);
    let extent = rows
        .iter()
        .flat_map(|(_, v, lo, hi)| [Some(*v), *lo, *hi])
        .flatten()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    let extent = if extent > 0.0 { extent } else { 1.0 };
    let any_negative = rows
        .iter()
        .flat_map(|(_, v, lo, _)| [Some(*v), *lo])
        .flatten()
        .any(|v| v < 0.0);
    let (a, b) = (label_w, W - value_w);
    let zero = if any_negative { (a + b) / 2.0 } else { a };
    let scale = if any_negative {
        (b - a) / 2.0 / extent
    } else {
        (b - a) / extent
    };
    let px = |v: f64| zero + v * scale;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" data-chart="{}" viewBox="0 0 {} {}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        esc(chart),
        n(W),
        n(h),
        esc(title),
        esc(title)
    );
    for (i, (label, v, lo, hi)) in rows.iter().enumerate() {
        let top = TOP + i as f64 * row_h;
        let (x0, x1) = (px(0.0_f64.min(*v)), px(0.0_f64.max(*v)));
        let _ = write!(
            s,
            r#"<text class="bar-label" x="{}" y="{}" text-anchor="end">{}</text><rect class="bar{}" data-value="{}" x="{}" y="{}" width="{}" height="{}"/>"#,
            n(label_w - 6.0),
            n(top + 14.0),
            esc(label),
            if *v < 0.0 { " negative" } else { "" },
            v,
            n(x0),
            n(top + 4.0),
            n((x1 - x0).max(0.5)),
            n(row_h - 8.0)
        );
        if let (Some(lo), Some(hi)) = (lo, hi) {
            let mid = n(top + row_h / 2.0);
            let _ = write!(
                s,
                r#"<line class="interval" x1="{}" y1="{mid}" x2="{}" y2="{mid}"><title>95 %: {} – {}</title></line>"#,
                n(px(*lo)),
                n(px(*hi)),
                esc(&fmt(*lo)),
                esc(&fmt(*hi)),
            );
        }
        let _ = write!(
            s,
            r#"<text class="bar-value" x="{}" y="{}">{}</text>"#,
            n(W - value_w + 6.0),
            n(top + 14.0),
            esc(&fmt(*v))
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_break_the_path_and_markers_are_counted() {
        let t: Vec<Ms> = (0..6).map(|i| i * 60_000).collect();
        let v = [Some(1.0), Some(2.0), None, Some(3.0), Some(1.0), None];
        let svg = curve(
            "orders",
            "orders",
            &t,
            60_000,
            &v,
            (0, 360_000),
            &[Band {
                start_ms: 60_000,
                end_ms: 120_000,
                class: "promotion",
                title: "flash".into(),
            }],
            &[Marker {
                at_ms: 180_000,
                rank: 1,
                title: "peak <1>".into(),
            }],
            &[(0, "00:00".into())],
            &|x| format!("{x}"),
        );
        let d = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(d.matches('L').count(), 2, "{d}");
        assert_eq!(svg.matches("class=\"moment-marker\"").count(), 1);
        assert_eq!(svg.matches("class=\"band promotion\"").count(), 1);
        assert!(svg.contains("peak &lt;1&gt;"));
        assert!(!svg.contains("peak <1>"));
    }

    #[test]
    fn stacks_go_up_and_down_from_zero() {
        let t: Vec<Ms> = (0..3).map(|i| i * 60_000).collect();
        let a = [Some(2.0), None, Some(1.0)];
        let b = [Some(-1.0), Some(3.0), Some(0.0)];
        let parts = vec![
            ("baseline".to_string(), "baseline".to_string(), &a[..]),
            ("unexplained".to_string(), "unexplained".to_string(), &b[..]),
        ];
        let svg = stacked("s", &t, 60_000, &parts, (0, 180_000), &[], &[], &|x| {
            format!("{x}")
        });
        assert_eq!(svg.matches("<path class=\"stack").count(), 2);
        // A rectangle per non-zero value: 2 for baseline, 2 for unexplained.
        assert_eq!(svg.matches('Z').count(), 4, "{svg}");
        // The top of the axis is the tallest positive stack (3), the bottom
        // the deepest negative one (-1).
        assert!(
            svg.contains(">3</text>") && svg.contains(">-1</text>"),
            "{svg}"
        );
    }

    #[test]
    fn bars_straddle_zero_only_when_something_is_negative() {
        let rows = vec![
            ("traffic".to_string(), 10.0, Some(8.0), Some(12.0)),
            ("unexplained".to_string(), -2.0, None, None),
        ];
        let svg = bars("split", "split", &rows, &|x| format!("{x:.1}"));
        assert_eq!(svg.matches("<rect class=\"bar").count(), 2);
        assert_eq!(svg.matches("class=\"bar negative\"").count(), 1);
        assert_eq!(svg.matches("class=\"interval\"").count(), 1);
    }
}
