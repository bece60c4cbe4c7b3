//! The benchmark size of the simulator: a 12-hour session with about 2 M comments
//! and 200 k orders, as the benchmarks and the issue ask.

use vap_core::sim::{simulate, SimConfig};

#[test]
fn full_scale_is_the_benchmark_size() {
    let room = simulate(&SimConfig::full_scale(1)).unwrap();
    let d = &room.data;
    assert_eq!(d.session.duration_ms(), 12 * 3_600_000);
    let (c, o) = (d.comments.len(), d.orders.len());
    assert!((1_700_000..=2_400_000).contains(&c), "{c} comments");
    assert!((150_000..=260_000).contains(&o), "{o} orders");
    assert!((2..=4).contains(&d.anchors.len()) && (20..=60).contains(&d.products.len()));
    // Conversion stays plausible for a large room (orders per entry, a few %).
    let entries: f64 = d.series("entries").map(|s| s.value).sum();
    let conv = o as f64 / entries;
    assert!((0.01..0.08).contains(&conv), "conversion {conv}");
}
