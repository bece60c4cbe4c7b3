//! Capture logs of live rooms as the common open-source clients write them,
//! one JSON object per line: Douyin (`{"method": "WebcastChatMessage", …}`,
//! the message's fields as the protobuf library's `to_dict()` writes them) and
//! TikTokLive (`{"type": "CommentEvent", "data": {…}}`).

use std::collections::{BTreeMap, HashMap};

/// Messages of one gift streak come this close together.
const STREAK_MS: Ms = 10_000;

use serde_json::{Map, Value};

use super::build::Builder;
use super::{json, value, FieldUse, SourceOptions};
use crate::error::Problem;
use crate::schema::{MetricKind, Ms};

/// What a message kind becomes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Comment,
    Question,
    Entry,
    Like,
    Follow,
    Share,
    Gift,
    Viewers,
    ProductChange,
    End,
    Shopping,
    Unknown,
}

fn douyin_kind(method: &str) -> Kind {
    match method {
        "WebcastChatMessage" | "WebcastEmojiChatMessage" => Kind::Comment,
        "WebcastMemberMessage" => Kind::Entry,
        "WebcastLikeMessage" => Kind::Like,
        "WebcastSocialMessage" => Kind::Follow,
        "WebcastGiftMessage" => Kind::Gift,
        "WebcastRoomUserSeqMessage" => Kind::Viewers,
        "WebcastControlMessage" => Kind::End,
        "WebcastProductChangeMessage" => Kind::ProductChange,
        "WebcastLiveShoppingMessage" => Kind::Shopping,
        _ => Kind::Unknown,
    }
}

fn tiktok_kind(t: &str) -> Kind {
    match t {
        "CommentEvent" => Kind::Comment,
        "QuestionNewEvent" => Kind::Question,
        "JoinEvent" => Kind::Entry,
        "LikeEvent" => Kind::Like,
        "FollowEvent" => Kind::Follow,
        "ShareEvent" => Kind::Share,
        "GiftEvent" => Kind::Gift,
        "RoomUserSeqEvent" => Kind::Viewers,
        "LiveEndEvent" => Kind::End,
        "OecLiveShoppingEvent" => Kind::Shopping,
        _ => Kind::Unknown,
    }
}

/// The common header of a message, wherever the tool put it.
fn common(o: &Map<String, Value>) -> Option<&Map<String, Value>> {
    json::get_any(o, &["common", "commonInfo", "base_message", "baseMessage"])
        .and_then(|c| c.as_object())
}

/// The message's id (for dropping repeats after a reconnect).
fn msg_id(o: &Map<String, Value>) -> Option<String> {
    common(o)
        .and_then(|c| json::text(json::get(c, "msgId")))
        .or_else(|| json::text(json::get(o, "msgId")))
}

/// The message's time: the header's `createTime`, else its own `eventTime`
/// or `timestamp` (Unix seconds or ms).
fn time_of(o: &Map<String, Value>) -> Result<Option<Ms>, String> {
    let candidates = [
        common(o).and_then(|c| json::get(c, "createTime")),
        json::get(o, "createTime"),
        json::get(o, "eventTime"),
        json::get(o, "timestamp"),
        json::get(o, "ts"),
    ];
    for c in candidates.into_iter().flatten() {
        if let Some(x) = json::num(Some(c))? {
            if x > 0.0 {
                return value::epoch(x).map(Some);
            }
        }
    }
    Ok(None)
}

fn user_id(o: &Map<String, Value>) -> Option<String> {
    let u = json::get_any(o, &["user", "author"]).and_then(|u| u.as_object());
    u.and_then(|u| {
        json::text(json::get_any(
            u,
            &[
                "id",
                "userId",
                "uniqueId",
                "displayId",
                "secUid",
                "shortId",
                "nickName",
                "nickname",
            ],
        ))
    })
    .or_else(|| json::text(json::get_any(o, &["userId", "uniqueId", "user_id"])))
}

#[derive(Default)]
struct Tally {
    kept: usize,
    fields: BTreeMap<&'static str, usize>,
}

/// What one message says, read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Said {
    /// A comment (or a TikTok question): who, and the text if it has one.
    Comment {
        /// The viewer.
        viewer: String,
        /// The text.
        text: Option<String>,
    },
    /// A viewer entered.
    Entry,
    /// Likes: the running total where given, the count of this message.
    Like { total: Option<f64>, count: f64 },
    /// A follow.
    Follow,
    /// A share.
    Share,
    /// A gift message: its streak's key and count, the gift's diamonds.
    Gift {
        key: String,
        count: f64,
        diamonds: Option<f64>,
    },
    /// Viewer counts: online now, total views so far.
    Viewers {
        online: Option<f64>,
        total: Option<f64>,
    },
    /// The explained product changed (to none: `None`), at `at`.
    Explain { at: Ms, product: Option<String> },
    /// The room ended.
    End,
    /// Something else (a control message that does not end the room, a
    /// shopping-bag update, a message vap does not read).
    Other,
}

/// One line of a capture log, read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Line {
    /// Blank.
    Empty,
    /// Not a JSON object.
    NotJson,
    /// Dropped: why.
    Dropped(String),
    /// A message.
    Message {
        /// Its type (`method` / `type`).
        name: String,
        /// Its id, for dropping repeats.
        id: Option<String>,
        /// The room it names.
        room: Option<String>,
        /// Its time.
        t: Ms,
        /// What it says.
        said: Said,
    },
}

/// Reads one line of a Douyin (`tiktok` false) or TikTokLive capture log.
pub(crate) fn read_line(line: &str, tiktok: bool) -> Line {
    let line = line.trim().trim_start_matches('\u{feff}');
    if line.is_empty() {
        return Line::Empty;
    }
    let Ok(Value::Object(top)) = serde_json::from_str::<Value>(line) else {
        return Line::NotJson;
    };
    let (name, o): (String, &Map<String, Value>) = if tiktok {
        let Some(t) = json::text(json::get_any(&top, &["type", "event"])) else {
            return Line::Dropped("no 'type'".into());
        };
        let data = json::get_any(&top, &["data", "payload"])
            .and_then(|d| d.as_object())
            .unwrap_or(&top);
        (t, data)
    } else {
        let Some(m) = json::text(json::get(&top, "method"))
            .or_else(|| common(&top).and_then(|c| json::text(json::get(c, "method"))))
        else {
            return Line::Dropped("no 'method'".into());
        };
        let data = json::get_any(&top, &["data", "payload", "message"])
            .and_then(|d| d.as_object())
            .unwrap_or(&top);
        (m, data)
    };
    let kind = if tiktok {
        tiktok_kind(&name)
    } else {
        douyin_kind(&name)
    };
    let id = msg_id(o);
    let t = match time_of(o) {
        Ok(Some(t)) => t,
        Ok(None) => return Line::Dropped(format!("{name}: no time (createTime / eventTime)")),
        Err(m) => return Line::Dropped(format!("{name}: bad time: {m}")),
    };
    let room = common(o)
        .and_then(|c| json::text(json::get(c, "roomId")))
        .or_else(|| json::text(json::get(o, "roomId")));
    let n = |k: &str| json::num(json::get(o, k)).ok().flatten();
    let said = match kind {
        Kind::Comment | Kind::Question => Said::Comment {
            viewer: user_id(o).unwrap_or_else(|| "unknown".into()),
            text: json::text(json::get_any(o, &["content", "comment", "text"])).or_else(|| {
                json::get(o, "details")
                    .and_then(|d| d.as_object())
                    .and_then(|d| json::text(json::get(d, "text")))
            }),
        },
        Kind::Entry => Said::Entry,
        // Douyin and TikTokLive v6: count, total; v5: likes, total_likes.
        Kind::Like => Said::Like {
            total: n("total")
                .or_else(|| n("totalLikes"))
                .or_else(|| n("totalLikeCount")),
            count: n("count")
                .or_else(|| n("likes"))
                .or_else(|| n("likeCount"))
                .unwrap_or(1.0),
        },
        // Douyin's social message: action 1 follows, 3 shares.
        Kind::Follow => match n("action").unwrap_or(1.0) as i64 {
            3 => Said::Share,
            _ => Said::Follow,
        },
        Kind::Share => Said::Share,
        Kind::Gift => Said::Gift {
            count: n("repeatCount")
                .or_else(|| n("comboCount"))
                .unwrap_or(1.0)
                .max(1.0),
            key: format!(
                "{}\u{1}{}",
                user_id(o).unwrap_or_default(),
                json::text(json::get_any(o, &["giftId", "gift_id"])).unwrap_or_default()
            ),
            diamonds: json::get(o, "gift")
                .and_then(|g| g.as_object())
                .and_then(|g| {
                    json::num(json::get_any(g, &["diamondCount", "diamond_count"]))
                        .ok()
                        .flatten()
                }),
        },
        Kind::Viewers => Said::Viewers {
            online: n("total")
                .or_else(|| n("viewerCount"))
                .or_else(|| n("onlineUserCount")),
            total: n("totalPvForAnchor").or_else(|| n("totalUser")),
        },
        Kind::ProductChange => {
            let at = n("updateTimestamp")
                .and_then(|x| value::epoch(x).ok())
                .unwrap_or(t);
            let list = json::get(o, "updateProductInfoList").and_then(|l| l.as_array());
            let product = list.and_then(|l| {
                l.iter().filter_map(|p| p.as_object()).find_map(|p| {
                    let ty = json::num(json::get(p, "explainType"))
                        .ok()
                        .flatten()
                        .unwrap_or(0.0);
                    (ty != 0.0)
                        .then(|| json::text(json::get_any(p, &["promotionId", "productId"])))
                        .flatten()
                })
            });
            Said::Explain { at, product }
        }
        // Douyin's control message: status 3 ends the room; a dump omits the
        // default 0. TikTokLive's LiveEndEvent is the end.
        Kind::End => {
            if tiktok || n("status").unwrap_or(0.0) as i64 == 3 {
                Said::End
            } else {
                Said::Other
            }
        }
        Kind::Shopping | Kind::Unknown => Said::Other,
    };
    Line::Message {
        name,
        id,
        room,
        t,
        said,
    }
}

/// Gift streaks: a streak arrives as messages with a growing repeat count,
/// each adding what its count adds to the streak's last one.
#[derive(Debug, Default)]
pub(crate) struct Streaks(HashMap<String, (Ms, f64)>);

impl Streaks {
    /// The gifts a message of streak `key` with `count` at `t` adds.
    pub(crate) fn add(&mut self, key: &str, t: Ms, count: f64) -> f64 {
        let added = match self.0.get(key) {
            Some(&(last_t, last)) if count > last && t - last_t <= STREAK_MS => count - last,
            Some(&(last_t, last)) if count == last && t - last_t <= STREAK_MS => 0.0,
            _ => count,
        };
        self.0.insert(key.to_string(), (t, count));
        added
    }
}

/// Reads a capture log, `tiktok` telling the line shape.
fn read(
    file: &str,
    bytes: &[u8],
    opts: &SourceOptions,
    b: &mut Builder,
    tiktok: bool,
) -> Result<(), Vec<Problem>> {
    let (text, _) =
        crate::text::decode(bytes).map_err(|e| vec![Problem::new(file, None, None, e)])?;
    let source = if tiktok {
        "tiktok_capture"
    } else {
        "douyin_capture"
    };
    let mut times: Vec<Ms> = Vec::new();
    let mut tallies: BTreeMap<String, (Kind, Tally)> = BTreeMap::new();
    let mut entries: Vec<(Ms, f64)> = Vec::new();
    let mut likes_total: Vec<(Ms, f64)> = Vec::new();
    let mut likes_count: Vec<(Ms, f64)> = Vec::new();
    let mut follows: Vec<(Ms, f64)> = Vec::new();
    let mut shares: Vec<(Ms, f64)> = Vec::new();
    let mut gifts: Vec<(Ms, f64)> = Vec::new();
    let mut diamonds: Vec<(Ms, f64)> = Vec::new();
    let mut viewers: Vec<(Ms, f64)> = Vec::new();
    let mut total_views: Vec<(Ms, f64)> = Vec::new();
    // (time, explained product or none) in message order.
    let mut explains: Vec<(Ms, Option<String>)> = Vec::new();
    let mut ended: Option<Ms> = None;
    let mut streaks = Streaks::default();
    let mut repeats = 0;
    let mut not_json = 0;
    for (i, line) in text.lines().enumerate() {
        let row = i + 1;
        let (name, id, room, t, said) = match read_line(line, tiktok) {
            Line::Empty => continue,
            Line::NotJson => {
                not_json += 1;
                b.drop_row(
                    file,
                    row,
                    "not a JSON object (a log line of the capture tool?)",
                );
                continue;
            }
            Line::Dropped(why) => {
                // a message without a time still counts as seen
                if let Some(name) = why.split(':').next().filter(|_| why.contains(": ")) {
                    let kind = if tiktok {
                        tiktok_kind(name)
                    } else {
                        douyin_kind(name)
                    };
                    tallies
                        .entry(name.to_string())
                        .or_insert((kind, Tally::default()));
                }
                b.drop_row(file, row, why);
                continue;
            }
            Line::Message {
                name,
                id,
                room,
                t,
                said,
            } => (name, id, room, t, said),
        };
        let kind = if tiktok {
            tiktok_kind(&name)
        } else {
            douyin_kind(&name)
        };
        let tally = &mut tallies
            .entry(name.clone())
            .or_insert((kind, Tally::default()))
            .1;
        // Across files too: a restarted tool replays its last messages into the next log.
        if let Some(id) = id {
            if !b.seen_messages.insert(id) {
                repeats += 1;
                continue;
            }
        }
        if b.room_id.is_none() {
            b.room_id = room;
        }
        times.push(t);
        tally.kept += 1;
        match said {
            Said::Comment { viewer, text } => match text {
                Some(c) => {
                    b.comment(t, viewer, &c);
                    *tally.fields.entry("text").or_default() += 1;
                }
                None => {
                    tally.kept -= 1;
                    b.drop_row(file, row, format!("{name}: no text"));
                }
            },
            Said::Entry => entries.push((t, 1.0)),
            Said::Like { total, count } => {
                if let Some(total) = total {
                    likes_total.push((t, total));
                }
                likes_count.push((t, count));
            }
            Said::Follow => follows.push((t, 1.0)),
            Said::Share => shares.push((t, 1.0)),
            Said::Gift {
                key,
                count,
                diamonds: d,
            } => {
                let added = streaks.add(&key, t, count);
                if added > 0.0 {
                    gifts.push((t, added));
                    if let Some(d) = d {
                        diamonds.push((t, d * added));
                    }
                }
            }
            Said::Viewers { online, total } => {
                if let Some(v) = online {
                    viewers.push((t, v));
                }
                if let Some(v) = total {
                    total_views.push((t, v));
                }
            }
            Said::Explain { at, product } => explains.push((at, product)),
            Said::End => ended = Some(ended.map_or(t, |e: Ms| e.min(t))),
            Said::Other => {}
        }
    }
    if tallies.is_empty() {
        return Err(vec![Problem::new(
            file,
            None,
            Some(if tiktok { "type" } else { "method" }),
            format!("no capture messages found ({not_json} line(s) not JSON)"),
        )]);
    }
    b.report.duplicates += repeats;
    b.capture_gaps(source, &mut times, opts.capture_gap_ms);
    if let (Some(&first), Some(&last)) = (times.first(), times.last()) {
        b.capture_spans.push((source.to_string(), first, last));
    }
    if let Some(e) = ended {
        b.end_ms = Some(b.end_ms.map_or(e, |x| x.min(e)));
    }
    // Explain segments: from each change naming a product to the next change.
    explains.sort_by_key(|e| e.0);
    let stop = ended.or(times.iter().copied().max()).unwrap_or(0);
    let mut segments = 0;
    for (k, (at, p)) in explains.iter().enumerate() {
        if let Some(p) = p {
            let next = explains.get(k + 1).map_or(stop, |n| n.0);
            if next > *at {
                b.product(p, None, None);
                b.segment(p.clone(), *at, next);
                segments += 1;
            }
        }
    }
    // Running totals as the room shows them: "1.9万" after 19,316 is a rounded
    // display, not a counter reset; only rises are kept.
    let (likes_total, dropped_likes) = rising(likes_total);
    let (total_views, dropped_views) = rising(total_views);
    if dropped_likes + dropped_views > 0 {
        b.report.notes.push(format!(
            "{file}: {} running total(s) below an earlier one (rounded displays such as \"1.9万\") skipped",
            dropped_likes + dropped_views
        ));
    }
    let mut series = |name: &str, kind: MetricKind, unit: &str, s: Vec<(Ms, f64)>| -> String {
        let mut s = s;
        s.sort_by_key(|x| x.0);
        b.add_series(source, name, kind, unit, s)
    };
    let entries_key = series("entries", MetricKind::Flow, "viewers", entries);
    let likes_key = if likes_total.is_empty() {
        series("likes", MetricKind::Flow, "count", likes_count)
    } else {
        series("likes", MetricKind::Cumulative, "count", likes_total)
    };
    let follows_key = series("follows", MetricKind::Flow, "count", follows);
    let shares_key = series("shares", MetricKind::Flow, "count", shares);
    let gifts_key = series("gifts", MetricKind::Flow, "count", gifts);
    let diamonds_key = series("gift_diamonds", MetricKind::Flow, "diamonds", diamonds);
    let viewers_key = series("online_viewers", MetricKind::Gauge, "viewers", viewers);
    let views_key = series(
        "total_views",
        MetricKind::Cumulative,
        "viewers",
        total_views,
    );
    for (name, (kind, tally)) in tallies {
        let (used, target, note) = match kind {
            Kind::Comment => (FieldUse::Mapped, "comments".to_string(), String::new()),
            Kind::Question => (
                FieldUse::Mapped,
                "comments".into(),
                "a viewer's question, kept as a comment".into(),
            ),
            Kind::Entry => (
                FieldUse::Mapped,
                format!("metric:{entries_key} (flow, 1 per message)"),
                String::new(),
            ),
            Kind::Like => (
                FieldUse::Mapped,
                format!("metric:{likes_key}"),
                "cumulative from `total` where given".into(),
            ),
            Kind::Follow => (
                FieldUse::Mapped,
                format!("metric:{follows_key} / metric:{shares_key}"),
                String::new(),
            ),
            Kind::Share => (
                FieldUse::Mapped,
                format!("metric:{shares_key}"),
                String::new(),
            ),
            Kind::Gift => (
                FieldUse::Mapped,
                format!("metric:{gifts_key}, metric:{diamonds_key}"),
                String::new(),
            ),
            Kind::Viewers => (
                FieldUse::Mapped,
                format!("metric:{viewers_key} (gauge), metric:{views_key}"),
                String::new(),
            ),
            Kind::ProductChange => (
                FieldUse::Mapped,
                "segments (explain)".into(),
                format!("{segments} explain segment(s)"),
            ),
            Kind::End => (FieldUse::Mapped, "session.end_ms".into(), String::new()),
            Kind::Shopping => (
                FieldUse::Ignored,
                String::new(),
                "shopping-bag updates carry no order or amount".into(),
            ),
            Kind::Unknown => (
                FieldUse::Ignored,
                String::new(),
                "a message type vap does not read".into(),
            ),
        };
        b.field(file, &name, used, &target, tally.kept, &note);
    }
    if not_json > 0 {
        b.report.notes.push(format!(
            "{file}: {not_json} line(s) were not JSON (the tool's own log lines?)"
        ));
    }
    Ok(())
}

/// The samples of a running total that rise above every earlier one (in
/// time order), and how many were skipped.
fn rising(mut s: Vec<(Ms, f64)>) -> (Vec<(Ms, f64)>, usize) {
    s.sort_by_key(|x| x.0);
    let n = s.len();
    let mut top = f64::NEG_INFINITY;
    s.retain(|&(_, v)| {
        let keep = v >= top;
        top = top.max(v);
        keep
    });
    let skipped = n - s.len();
    (s, skipped)
}

pub(crate) fn read_douyin(
    file: &str,
    bytes: &[u8],
    opts: &SourceOptions,
    b: &mut Builder,
) -> Result<(), Vec<Problem>> {
    read(file, bytes, opts, b, false)
}

pub(crate) fn read_tiktok(
    file: &str,
    bytes: &[u8],
    opts: &SourceOptions,
    b: &mut Builder,
) -> Result<(), Vec<Problem>> {
    read(file, bytes, opts, b, true)
}
