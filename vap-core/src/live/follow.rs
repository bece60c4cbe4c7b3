//! Following a capture log as the capture tool writes it (`tail -f`).

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::LiveEvent;
use crate::error::{Result, VapError};
use crate::ingest::sources::capture::{read_line, Line, Said, Streaks};
use crate::options::Options;
use crate::schema::{MetricDecl, MetricKind, Ms};

/// Options of a [`CaptureFollower`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FollowOptions {
    /// `douyin` (`{"method": "WebcastChatMessage", …}` lines) or `tiktok`
    /// (TikTokLive's `{"type": "CommentEvent", "data": {…}}`); default: told
    /// from the first message.
    pub format: Option<String>,
    /// Start at the end of what the file holds now (only new lines), rather
    /// than at its beginning (default false: a capture started before vap
    /// is read from its first line).
    pub from_end: bool,
}

impl Options for FollowOptions {
    const WHAT: &'static str = "follow options";

    fn check(&self) -> Result<()> {
        match self.format.as_deref() {
            None | Some("douyin") | Some("tiktok") => Ok(()),
            Some(other) => Err(VapError::InvalidArgument(format!(
                "follow options: format must be 'douyin' or 'tiktok', got '{other}'"
            ))),
        }
    }
}

/// Reads the lines a capture tool appends to its JSON Lines log, as
/// [`LiveEvent`]s: comments as comments; entries, likes, follows, shares,
/// gifts (streaks counted once) and gift diamonds as flow samples; the
/// online-viewer count as the `online_viewers` gauge; a change of the
/// explained product closes the explain before it and opens the next; the
/// room's end closes what is open. Repeated messages (same id, as a restarted
/// tool writes them) are dropped. A line still being written (no line feed
/// yet) waits for the next [`CaptureFollower::poll`]; a file that shrinks
/// (rotated, truncated) is read again from its start.
///
/// ```
/// use vap_core::live::{CaptureFollower, FollowOptions};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("capture.jsonl");
/// std::fs::write(&path, "{\"type\":\"CommentEvent\",\"data\":{\"comment\":\"hi\",\"createTime\":1750000000000}}\n{\"type\":\"Comm").unwrap();
/// let mut f = CaptureFollower::open(&path, FollowOptions::default()).unwrap();
/// assert_eq!(f.poll().unwrap().len(), 1); // the half-written line waits
/// ```
#[derive(Debug)]
pub struct CaptureFollower {
    path: PathBuf,
    tiktok: Option<bool>,
    offset: u64,
    partial: Vec<u8>,
    streaks: Streaks,
    seen: HashSet<String>,
    explaining: Option<(String, Ms)>,
    lines: usize,
    skipped: usize,
    repeats: usize,
}

/// The metrics a followed capture log delivers: declare them in the live
/// session's header ([`super::LiveSession::declare`] does).
pub fn capture_metrics() -> Vec<MetricDecl> {
    let flow = |name: &str, unit: &str| MetricDecl {
        name: name.into(),
        kind: MetricKind::Flow,
        unit: unit.into(),
    };
    vec![
        flow("entries", "viewers"),
        flow("likes", "count"),
        flow("follows", "count"),
        flow("shares", "count"),
        flow("gifts", "count"),
        flow("gift_diamonds", "diamonds"),
        MetricDecl {
            name: "online_viewers".into(),
            kind: MetricKind::Gauge,
            unit: "viewers".into(),
        },
    ]
}

impl CaptureFollower {
    /// Follows the log at `path` (it may not exist yet: polls find nothing
    /// until it does).
    pub fn open(path: impl AsRef<Path>, opts: FollowOptions) -> Result<CaptureFollower> {
        opts.check()?;
        let path = path.as_ref().to_path_buf();
        let offset = if opts.from_end {
            std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
        } else {
            0
        };
        Ok(CaptureFollower {
            path,
            tiktok: opts.format.as_deref().map(|f| f == "tiktok"),
            offset,
            partial: Vec::new(),
            streaks: Streaks::default(),
            seen: HashSet::new(),
            explaining: None,
            lines: 0,
            skipped: 0,
            repeats: 0,
        })
    }

    /// The file followed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Complete lines read so far.
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// Lines skipped (not JSON, no time, a message vap does not read) and
    /// repeated messages dropped.
    pub fn skipped(&self) -> (usize, usize) {
        (self.skipped, self.repeats)
    }

    /// The events in the lines appended since the last poll.
    pub fn poll(&mut self) -> Result<Vec<LiveEvent>> {
        let path = self.path.clone();
        let io = |e: std::io::Error| VapError::Io {
            path: path.clone(),
            source: e,
        };
        let mut file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(e)),
        };
        let len = file.metadata().map_err(io)?.len();
        if len < self.offset {
            // rotated or truncated: read the new file from its start
            self.offset = 0;
            self.partial.clear();
        }
        file.seek(SeekFrom::Start(self.offset)).map_err(io)?;
        let mut buf = Vec::new();
        file.read_to_end(&mut buf).map_err(io)?;
        self.offset += buf.len() as u64;
        self.partial.extend_from_slice(&buf);
        let Some(last) = self.partial.iter().rposition(|b| *b == b'\n') else {
            return Ok(Vec::new());
        };
        let complete: Vec<u8> = self.partial.drain(..=last).collect();
        let text = String::from_utf8_lossy(&complete);
        let mut out = Vec::new();
        for line in text.lines() {
            self.lines += 1;
            self.line(line, &mut out);
        }
        Ok(out)
    }

    fn line(&mut self, line: &str, out: &mut Vec<LiveEvent>) {
        let tiktok = *self.tiktok.get_or_insert_with(|| {
            // told from the first message: TikTokLive's lines carry a type
            !line.contains("\"method\"") && line.contains("\"type\"")
        });
        let (id, t, said) = match read_line(line, tiktok) {
            Line::Empty => return,
            Line::NotJson | Line::Dropped(_) => {
                self.skipped += 1;
                return;
            }
            Line::Message { id, t, said, .. } => (id, t, said),
        };
        if let Some(id) = id {
            if !self.seen.insert(id) {
                self.repeats += 1;
                return;
            }
        }
        let sample = |metric: &str, value: f64| LiveEvent::Sample {
            metric: metric.into(),
            ts_ms: t,
            value,
        };
        match said {
            Said::Comment {
                viewer,
                text: Some(text),
            } if !text.trim().is_empty() => out.push(LiveEvent::Comment {
                ts_ms: t,
                viewer_id: viewer,
                text,
            }),
            Said::Comment { .. } => self.skipped += 1,
            Said::Entry => out.push(sample("entries", 1.0)),
            Said::Like { count, .. } => out.push(sample("likes", count)),
            Said::Follow => out.push(sample("follows", 1.0)),
            Said::Share => out.push(sample("shares", 1.0)),
            Said::Gift {
                key,
                count,
                diamonds,
            } => {
                let added = self.streaks.add(&key, t, count);
                if added > 0.0 {
                    out.push(sample("gifts", added));
                    if let Some(d) = diamonds {
                        out.push(sample("gift_diamonds", d * added));
                    }
                }
            }
            Said::Viewers {
                online: Some(v), ..
            } => out.push(sample("online_viewers", v)),
            Said::Viewers { .. } => {}
            Said::Explain { at, product } => {
                if let Some((p, s)) = self.explaining.take() {
                    out.push(LiveEvent::Explain {
                        product_id: p,
                        start_ms: s,
                        end_ms: Some(at.max(s)),
                    });
                }
                if let Some(p) = product {
                    out.push(LiveEvent::Explain {
                        product_id: p.clone(),
                        start_ms: at,
                        end_ms: None,
                    });
                    self.explaining = Some((p, at));
                }
            }
            Said::End => {
                if let Some((p, s)) = self.explaining.take() {
                    out.push(LiveEvent::Explain {
                        product_id: p,
                        start_ms: s,
                        end_ms: Some(t.max(s)),
                    });
                }
                out.push(LiveEvent::Tick { ts_ms: t });
            }
            Said::Other => out.push(LiveEvent::Tick { ts_ms: t }),
        }
    }
}
