//! Orders: Poisson in online viewers × conversion, each on the product in
//! focus or a drawn one, with a few refunded later.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::events::{Chunk, Events};
use super::poisson;
use crate::schema::{Order, OrderStatus};

/// The orders of second `s`, spread over the second: half buy the product in
/// focus (if any), the rest a uniformly drawn one; quantity 1 (80 %), 2 (15 %)
/// or 3; 3 % refunded 10 min to 2 h later (if still inside the session).
pub(super) fn orders(ev: &Events, s: usize, rng: &mut ChaCha8Rng, out: &mut Chunk) {
    let scene = ev.scene;
    let (cfg, products) = (scene.cfg, &scene.goods.products);
    let t = scene.clock.at(s);
    let k = poisson(rng, scene.online[s] * ev.conv[s]);
    for j in 0..k {
        let ts = t + (j * 1000 / k.max(1)) as i64;
        let p = if scene.focus(s) != usize::MAX && rng.random_bool(0.5) {
            scene.focus(s)
        } else {
            rng.random_range(0..cfg.products)
        };
        let r: f64 = rng.random();
        let q = if r < 0.8 {
            1
        } else if r < 0.95 {
            2
        } else {
            3
        };
        let id = format!("o{}-{}-{}", cfg.seed, s, j);
        let v = ev.viewer(rng);
        let amount = products[p].price * q as f64;
        if rng.random_bool(0.03) {
            let rt = ts + rng.random_range(600_000..7_200_000i64);
            if rt < scene.clock.at(scene.clock.n) {
                out.refunds.push(Order {
                    id: id.clone(),
                    ts_ms: rt,
                    product_id: products[p].id.clone(),
                    quantity: q,
                    amount,
                    status: OrderStatus::Refunded,
                    viewer_id: Some(v.clone()),
                });
            }
        }
        out.orders.push(Order {
            id,
            ts_ms: ts,
            product_id: products[p].id.clone(),
            quantity: q,
            amount,
            status: OrderStatus::Paid,
            viewer_id: Some(v),
        });
    }
}
