//! The room's events (comments, orders, speech), generated in 10-minute
//! chunks in parallel, each chunk on a seeded stream of its own, then merged
//! into the session.

use std::collections::{HashMap, HashSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::room::{Cast, Explains};
use super::{chat, orders, transcript, Clock, Scene, SimConfig};
use crate::schema::{
    Comment, Ms, Order, Product, Promotion, Room, Session, SessionData, Utterance,
};

/// Length of a chunk, s.
const CHUNK_S: usize = 600;

/// What the event generators read: the scene, its conversion and the answered
/// questions.
pub(super) struct Events<'a> {
    /// The room's plan and traffic.
    pub(super) scene: &'a Scene<'a>,
    /// Conversion at each second.
    pub(super) conv: &'a [f64],
    /// Seconds at which a question that gets answered is asked.
    pub(super) questions: HashSet<usize>,
    /// Answer second → question second.
    pub(super) answers: HashMap<usize, usize>,
    /// Transcript clock minus platform clock, ms.
    pub(super) offset: Ms,
    /// Number of distinct viewers.
    n_viewers: u64,
}

impl<'a> Events<'a> {
    /// The generators' input; `answers` holds (question second, answer second)
    /// pairs.
    pub(super) fn new(
        scene: &'a Scene<'a>,
        conv: &'a [f64],
        answers: &[(usize, usize)],
        offset: Ms,
    ) -> Self {
        let n = scene.clock.n;
        Events {
            scene,
            conv,
            questions: answers.iter().map(|&(q, _)| q).collect(),
            answers: answers.iter().map(|&(q, a)| (a, q)).collect(),
            offset,
            n_viewers: ((scene.cfg.entries_per_second * n as f64 * 0.6) as u64).max(500),
        }
    }

    /// Draws a viewer id, the low ids far more often (`u²`-skewed).
    pub(super) fn viewer(&self, rng: &mut ChaCha8Rng) -> String {
        let u: f64 = rng.random();
        format!("u{}", (u * u * self.n_viewers as f64) as u64)
    }
}

/// The events of one chunk.
#[derive(Default)]
pub(super) struct Chunk {
    /// Comments, by time.
    pub(super) comments: Vec<Comment>,
    /// Paid orders, by time.
    pub(super) orders: Vec<Order>,
    /// Refunds of them (those inside the session).
    pub(super) refunds: Vec<Order>,
    /// Utterances, by time.
    pub(super) utterances: Vec<Utterance>,
}

/// Every chunk's events, in order, on the configured threads.
pub(super) fn generate(ev: &Events) -> Vec<Chunk> {
    let n_chunks = ev.scene.clock.n.div_ceil(CHUNK_S);
    crate::threads::install(|| {
        (0..n_chunks)
            .into_par_iter()
            .map(|c| chunk(ev, c))
            .collect()
    })
}

/// Chunk `c`: each second's comments then orders, then the chunk's speech.
fn chunk(ev: &Events, c: usize) -> Chunk {
    let mut rng = ChaCha8Rng::seed_from_u64(crate::seed::mix(ev.scene.cfg.seed, 2, c as u64));
    let mut out = Chunk::default();
    let lo = c * CHUNK_S;
    let hi = ((c + 1) * CHUNK_S).min(ev.scene.clock.n);
    for s in lo..hi {
        chat::comments(ev, s, &mut rng, &mut out.comments);
        orders::orders(ev, s, &mut rng, &mut out);
    }
    transcript::speech(ev, lo..hi, &mut rng, &mut out.utterances);
    out
}

/// The session's tables, as planned.
pub(super) struct Tables {
    /// Anchors and their shifts.
    pub(super) cast: Cast,
    /// Products.
    pub(super) products: Vec<Product>,
    /// Explain segments.
    pub(super) explains: Explains,
    /// Promotions.
    pub(super) promotions: Vec<Promotion>,
}

/// The session: the room, the chunks' events merged in order (refunds after
/// the orders, then orders sorted by time) and the planned tables sorted.
pub(super) fn session_data(
    cfg: &SimConfig,
    clock: Clock,
    tables: Tables,
    chunks: Vec<Chunk>,
) -> SessionData {
    let session_id = cfg
        .session_id
        .clone()
        .unwrap_or_else(|| format!("sim-{}", cfg.seed));
    let mut data = SessionData::new(
        Room {
            id: cfg.room_id.clone(),
            name: "vap 演示直播间 (synthetic)".into(),
            platform: Some("douyin".into()),
        },
        Session {
            id: session_id,
            room_id: cfg.room_id.clone(),
            start_ms: clock.t0,
            end_ms: clock.at(clock.n),
            timezone: "Asia/Shanghai".into(),
            title: Some(format!("synthetic session, seed {}", cfg.seed)),
            recordings: vec![],
            facts: Default::default(),
            plan: None,
            gaps: vec![],
        },
    );
    let mut refunds = Vec::new();
    // Reserved once: growing a 2 M-row table by doubling holds the old and
    // the new buffer at once.
    data.comments
        .reserve_exact(chunks.iter().map(|c| c.comments.len()).sum());
    data.orders.reserve_exact(
        chunks
            .iter()
            .map(|c| c.orders.len() + c.refunds.len())
            .sum(),
    );
    for ch in chunks {
        data.comments.extend(ch.comments);
        data.orders.extend(ch.orders);
        refunds.extend(ch.refunds);
        data.utterances.extend(ch.utterances);
    }
    data.orders.extend(refunds);
    data.orders.sort_by_key(|o| o.ts_ms);
    data.anchors = tables.cast.anchors;
    data.shifts = tables.cast.shifts;
    data.shifts.sort_by_key(|s| (s.start_ms, s.end_ms));
    data.products = tables.products;
    data.segments = tables.explains.segments;
    data.segments.sort_by_key(|s| (s.start_ms, s.end_ms));
    data.promotions = tables.promotions;
    data.promotions.sort_by_key(|p| (p.start_ms, p.end_ms));
    data
}
