//! Chat: the questions the anchor answers, and the viewers' comments (questions,
//! product mentions, chatter), more of them during flash sales.

use rand::seq::IndexedRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::events::Events;
use super::{poisson, Clock};
use crate::schema::Comment;

const QUESTIONS: &[&str] = &[
    "多少钱",
    "有没有大码",
    "how much",
    "怎么买",
    "链接在哪",
    "什么时候发货",
    "有优惠券吗",
    "is it in stock?",
];
const CHATTER: &[&str] = &[
    "好看",
    "主播好美",
    "666",
    "已拍",
    "love it",
    "买了买了",
    "来了来了",
    "支持",
    "nice",
    "质量怎么样",
];

/// The answered questions.
pub(super) struct Answers {
    /// (question second, answer second), by time.
    pub(super) pairs: Vec<(usize, usize)>,
    /// The minute after each answer.
    pub(super) answered: Vec<bool>,
}

/// The anchor answers a question about every 3 min (2–5 min apart, none asked
/// during a stall), 10–40 s after it is asked.
pub(super) fn answers(clock: Clock, stall: &[bool], rng: &mut ChaCha8Rng) -> Answers {
    let n = clock.n;
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut s = rng.random_range(60..240usize);
    while s + 40 < n {
        if !stall[s] {
            pairs.push((s, s + rng.random_range(10..=40usize)));
        }
        s += rng.random_range(120..=300usize);
    }
    let mut answered = vec![false; n];
    for &(_, a) in &pairs {
        answered[a..(a + 60).min(n)]
            .iter_mut()
            .for_each(|x| *x = true);
    }
    Answers { pairs, answered }
}

/// The comments of second `s`: Poisson in the online viewers (twice the rate
/// during a flash sale), spread over the second, then the question that will
/// be answered, if one is asked at `s`.
pub(super) fn comments(ev: &Events, s: usize, rng: &mut ChaCha8Rng, out: &mut Vec<Comment>) {
    let scene = ev.scene;
    let t = scene.clock.at(s);
    let boost = if scene.planted.flash[s] { 2.0 } else { 1.0 };
    let k = poisson(rng, scene.online[s] * scene.cfg.comment_rate * boost);
    for j in 0..k {
        let ts = t + (j * 1000 / k.max(1)) as i64;
        let r: f64 = rng.random();
        let text = if r < 0.15 {
            QUESTIONS.choose(rng).unwrap().to_string()
        } else if r < 0.25 {
            let p = if scene.focus(s) != usize::MAX {
                scene.focus(s)
            } else {
                rng.random_range(0..scene.cfg.products)
            };
            format!(
                "{}{}",
                scene.goods.products[p].aliases[0],
                ["还有吗", "拍了", " 多少钱"].choose(rng).unwrap()
            )
        } else {
            CHATTER.choose(rng).unwrap().to_string()
        };
        out.push(Comment {
            ts_ms: ts,
            viewer_id: ev.viewer(rng).into(),
            text: text.into(),
        });
    }
    if ev.questions.contains(&s) {
        out.push(Comment {
            ts_ms: t + 500,
            viewer_id: ev.viewer(rng).into(),
            text: "有没有大码? 多少钱".into(),
        });
    }
}
