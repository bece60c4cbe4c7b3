//! The anchor's transcript: utterances of 3–8 s on the recording's clock, by
//! the host on shift, none during a stall.

use std::ops::Range;

use rand::seq::IndexedRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::events::Events;
use crate::schema::Utterance;

const URGENCY: &[&str] = &[
    "最后100单",
    "限时秒杀",
    "抓紧拍",
    "last chance",
    "马上涨价",
    "库存不多了",
];
const PRICE: &[&str] = &["到手价", "直降", "买一送一", "券后"];

/// The utterances of the seconds `span`, back to back.
pub(super) fn speech(
    ev: &Events,
    span: Range<usize>,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<Utterance>,
) {
    let scene = ev.scene;
    let (n, at) = (scene.clock.n, |s| scene.clock.at(s));
    let mut s = span.start;
    while s < span.end {
        let len = rng.random_range(3..=8usize).min(n - s);
        if len == 0 {
            break;
        }
        if scene.planted.stall[s] {
            s += len;
            continue;
        }
        let speaker = scene.cast.anchors[scene.cast.host_at[s]].id.clone();
        let text = line(ev, s, len, rng);
        out.push(Utterance {
            start_ms: at(s) + ev.offset,
            end_ms: at(s + len) + ev.offset - 200,
            text,
            speaker: Some(speaker),
            confidence: Some((rng.random_range(0.70..0.99f64) * 100.0).round() / 100.0),
        });
        s += len;
    }
}

/// What the host says in the `len` seconds from `s`: an answer if one falls
/// there, else urgency phrases in a pitch burst, the flash sale, the product
/// explained (its price 30 % of the time), or a welcome.
fn line(ev: &Events, s: usize, len: usize, rng: &mut ChaCha8Rng) -> String {
    let scene = ev.scene;
    let (planted, products) = (scene.planted, &scene.goods.products);
    if let Some(&q) = (s..s + len).find_map(|x| ev.answers.get(&x)) {
        let p = if scene.focus(q) != usize::MAX {
            scene.focus(q)
        } else {
            0
        };
        format!(
            "这位宝宝问有没有大码, 有的, {}到手价{}元, how much? {} yuan",
            products[p].name, products[p].price, products[p].price
        )
    } else if planted.pitch[s] {
        format!(
            "{}! {}, {}",
            URGENCY.choose(rng).unwrap(),
            URGENCY.choose(rng).unwrap(),
            URGENCY.choose(rng).unwrap()
        )
    } else if planted.flash[s] {
        let p = &products[planted.flash_product[s]];
        format!("{}秒杀开始, {}只要{}元", p.aliases[0], p.name, p.price)
    } else if scene.explained[s] != usize::MAX {
        let p = &products[scene.explained[s]];
        if rng.random_bool(0.3) {
            format!(
                "{}{}{}元, 就是{}",
                p.name,
                PRICE.choose(rng).unwrap(),
                p.price,
                p.aliases[0]
            )
        } else {
            format!("我们来看这款{}, 质量非常好, 大家可以看一下细节", p.name)
        }
    } else {
        "欢迎新进直播间的宝宝们, 点点关注不迷路".to_string()
    }
}
