//! The room's people and goods: anchors in shifts, products with their prices
//! and aliases, and the explain segments that walk through them.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{Clock, SimConfig};
use crate::schema::{Anchor, Product, ProductSegment, SegmentKind, Shift, ShiftRole};

const SURNAMES: &[&str] = &["小美", "阿杰", "Lily", "大雄", "Coco", "安娜"];
const GOODS: &[(&str, &str, f64)] = &[
    ("精华液", "美妆", 299.0),
    ("面霜", "美妆", 199.0),
    ("口红", "美妆", 129.0),
    ("羽绒服", "服饰", 599.0),
    ("卫衣", "服饰", 159.0),
    ("牛仔裤", "服饰", 189.0),
    ("坚果礼盒", "食品", 89.0),
    ("咖啡豆", "食品", 69.0),
    ("保温杯", "家居", 79.0),
    ("四件套", "家居", 259.0),
    ("running shoes", "运动", 399.0),
    ("yoga mat", "运动", 99.0),
];

/// The anchors, their effects and their shifts.
pub(super) struct Cast {
    /// Anchors `a1`, `a2`, ...
    pub(super) anchors: Vec<Anchor>,
    /// Each anchor's effect on conversion (0 for the first, the reference).
    pub(super) effects: Vec<f64>,
    /// Host, co-host and field-control shifts.
    pub(super) shifts: Vec<Shift>,
    /// The hosting anchor at each second (index into `anchors`).
    pub(super) host_at: Vec<usize>,
}

/// Draws the anchors' effects, then their shifts.
pub(super) fn cast(cfg: &SimConfig, clock: Clock, rng: &mut ChaCha8Rng) -> Cast {
    let anchors: Vec<Anchor> = (0..cfg.anchors)
        .map(|i| Anchor {
            id: format!("a{}", i + 1),
            name: SURNAMES[i % SURNAMES.len()].to_string(),
        })
        .collect();
    let effects: Vec<f64> = (0..cfg.anchors)
        .map(|i| {
            if i == 0 {
                0.0
            } else {
                cfg.base_conversion * rng.random_range(-0.3..0.4)
            }
        })
        .collect();
    let (shifts, host_at) = shifts(cfg, clock, &anchors, rng);
    Cast {
        anchors,
        effects,
        shifts,
        host_at,
    }
}

/// Host shifts of 1–2 h in turn (no remainder under 15 min), the next anchor
/// co-hosting the first half of each, and the last anchor on field control
/// throughout; with the host at each second.
fn shifts(
    cfg: &SimConfig,
    clock: Clock,
    anchors: &[Anchor],
    rng: &mut ChaCha8Rng,
) -> (Vec<Shift>, Vec<usize>) {
    let (n, at) = (clock.n, |s| clock.at(s));
    let mut host_at = vec![0usize; n];
    let mut shifts = Vec::new();
    let mut s = 0usize;
    let mut k = 0usize;
    while s < n {
        let len = rng.random_range(3600..=7200usize).min(n - s);
        let len = if n - s - len < 900 { n - s } else { len };
        let a = k % cfg.anchors;
        host_at[s..s + len].iter_mut().for_each(|h| *h = a);
        shifts.push(Shift {
            anchor_id: anchors[a].id.clone(),
            role: ShiftRole::Host,
            start_ms: at(s),
            end_ms: at(s + len),
        });
        if cfg.anchors > 1 {
            let co = (a + 1) % cfg.anchors;
            shifts.push(Shift {
                anchor_id: anchors[co].id.clone(),
                role: ShiftRole::CoHost,
                start_ms: at(s),
                end_ms: at(s + len / 2),
            });
        }
        s += len;
        k += 1;
    }
    shifts.push(Shift {
        anchor_id: anchors[cfg.anchors - 1].id.clone(),
        role: ShiftRole::FieldControl,
        start_ms: at(0),
        end_ms: at(n),
    });
    (shifts, host_at)
}

/// The products and their mean price.
pub(super) struct Goods {
    /// Products `p01`, `p02`, ...
    pub(super) products: Vec<Product>,
    /// Mean listed price.
    pub(super) mean_price: f64,
}

/// Products from [`GOODS`] in turn (numbered series after the first round),
/// each price drawn within ±20 % of the list price.
pub(super) fn goods(cfg: &SimConfig, rng: &mut ChaCha8Rng) -> Goods {
    let products: Vec<Product> = (0..cfg.products)
        .map(|i| {
            let (g, cat, p) = GOODS[i % GOODS.len()];
            let series = i / GOODS.len();
            let name = if series == 0 {
                g.to_string()
            } else {
                format!("{g} {}", series + 1)
            };
            let price = (p * rng.random_range(0.8..1.2f64)).round();
            Product {
                id: format!("p{:02}", i + 1),
                name: name.clone(),
                price,
                category: cat.to_string(),
                aliases: vec![format!("{}号链接", i + 1), format!("{name}同款")],
            }
        })
        .collect();
    let mean_price = products.iter().map(|p| p.price).sum::<f64>() / products.len() as f64;
    Goods {
        products,
        mean_price,
    }
}

/// The explain segments and the product explained at each second.
pub(super) struct Explains {
    /// Product explained at each second (`usize::MAX` for none).
    pub(super) explained: Vec<usize>,
    /// Explain and pinned segments, then every product on the shelf throughout.
    pub(super) segments: Vec<ProductSegment>,
}

/// Explains of 3–8 min back to back with short gaps, the products in a fresh
/// shuffled order each round.
pub(super) fn explains(
    cfg: &SimConfig,
    clock: Clock,
    products: &[Product],
    rng: &mut ChaCha8Rng,
) -> Explains {
    let (n, at) = (clock.n, |s| clock.at(s));
    let mut explained = vec![usize::MAX; n];
    let mut segments = Vec::new();
    let mut s = rng.random_range(30..120usize);
    let mut order: Vec<usize> = (0..cfg.products).collect();
    let mut k = 0usize;
    while s < n {
        if k.is_multiple_of(cfg.products) {
            order.shuffle(rng);
        }
        let p = order[k % cfg.products];
        let len = rng.random_range(180..=480usize).min(n - s);
        explained[s..s + len].iter_mut().for_each(|x| *x = p);
        for kind in [SegmentKind::Explain, SegmentKind::Pinned] {
            segments.push(ProductSegment {
                product_id: products[p].id.clone(),
                kind,
                start_ms: at(s),
                end_ms: at(s + len),
            });
        }
        s += len + rng.random_range(20..=120usize);
        k += 1;
    }
    for p in products {
        segments.push(ProductSegment {
            product_id: p.id.clone(),
            kind: SegmentKind::OnShelf,
            start_ms: at(0),
            end_ms: at(n),
        });
    }
    Explains {
        explained,
        segments,
    }
}
