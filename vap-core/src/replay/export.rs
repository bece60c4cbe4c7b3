//! Exports: subtitles on a recording's clock, and every replay table as
//! Arrow (hence CSV, Parquet and DataFrames in the bindings).

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::Replay;
use crate::error::{Result, VapError};
use crate::schema::{Ms, SessionData};

/// Which stream becomes subtitles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubtitleStream {
    /// What the anchor said (the utterances).
    Transcript,
    /// What viewers wrote.
    Comments,
}

/// SubRip or WebVTT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubtitleFormat {
    /// `.srt`.
    Srt,
    /// `.vtt`.
    Vtt,
}

/// Options of [`subtitles`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubtitleOptions {
    /// Transcript or comments (default transcript).
    pub stream: SubtitleStream,
    /// SRT or WebVTT (default srt).
    pub format: SubtitleFormat,
    /// Index of the recording whose clock the cues follow (default 0).
    pub recording: usize,
    /// The transcript's clock offset (`utterance time = platform time +
    /// offset`, as `estimate_transcript_offset` gives it), applied to the
    /// comments so that they meet the speech in the recording (default 0:
    /// nothing applied unless asked).
    #[serde(alias = "offset", with = "crate::options::signed_duration")]
    pub offset_ms: Ms,
    /// How long a comment stays on screen (default 4 s).
    #[serde(alias = "comment_duration", with = "crate::options::duration")]
    pub comment_duration_ms: Ms,
}

impl Default for SubtitleOptions {
    fn default() -> Self {
        SubtitleOptions {
            stream: SubtitleStream::Transcript,
            format: SubtitleFormat::Srt,
            recording: 0,
            offset_ms: 0,
            comment_duration_ms: 4_000,
        }
    }
}

impl crate::options::Options for SubtitleOptions {
    const WHAT: &'static str = "subtitle options";
    fn check(&self) -> Result<()> {
        let mut p = Vec::new();
        if self.comment_duration_ms <= 0 {
            p.push("comment_duration must be positive".to_string());
        }
        crate::options::all_or_nothing(Self::WHAT, p)
    }
}

fn stamp(ms: Ms, format: SubtitleFormat) -> String {
    let ms = ms.max(0);
    let (h, m, s, f) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    match format {
        SubtitleFormat::Srt => format!("{h:02}:{m:02}:{s:02},{f:03}"),
        SubtitleFormat::Vtt => format!("{h:02}:{m:02}:{s:02}.{f:03}"),
    }
}

/// The comments or the transcript as subtitles on recording `recording`'s
/// clock (`position = session time − the recording's offset`; comments moved
/// by `offset_ms` first). Cues outside the recording (before its start, or
/// past its probed duration) are left out. A session without that recording
/// is an `InvalidArgument`.
pub fn subtitles(data: &SessionData, opts: &SubtitleOptions) -> Result<String> {
    use crate::options::Options as _;
    opts.check()?;
    let rec = data.session.recordings.get(opts.recording).ok_or_else(|| {
        VapError::InvalidArgument(format!(
            "session '{}' has {} recording(s): no recording {} to time subtitles by",
            data.session.id,
            data.session.recordings.len(),
            opts.recording
        ))
    })?;
    let limit = rec.duration_ms.unwrap_or(Ms::MAX);
    let cues: Vec<(Ms, Ms, String)> = match opts.stream {
        SubtitleStream::Transcript => data
            .utterances
            .iter()
            .map(|u| {
                let who = u
                    .speaker
                    .as_deref()
                    .map(|s| format!("{s}: "))
                    .unwrap_or_default();
                (
                    u.start_ms - rec.offset_ms,
                    u.end_ms - rec.offset_ms,
                    format!("{who}{}", u.text),
                )
            })
            .collect(),
        SubtitleStream::Comments => data
            .comments
            .iter()
            .map(|c| {
                let t = c.ts_ms + opts.offset_ms - rec.offset_ms;
                (
                    t,
                    t + opts.comment_duration_ms,
                    format!("{}: {}", c.viewer_id, c.text),
                )
            })
            .collect(),
    };
    let mut out = String::new();
    if opts.format == SubtitleFormat::Vtt {
        out.push_str("WEBVTT\n\n");
    }
    let mut n = 0;
    for (a, b, text) in cues {
        if a < 0 || a >= limit || b <= a {
            continue;
        }
        n += 1;
        let text = text.replace("-->", "->").replace("\n\n", "\n");
        if opts.format == SubtitleFormat::Srt {
            out.push_str(&format!("{n}\n"));
        }
        out.push_str(&format!(
            "{} --> {}\n{}\n\n",
            stamp(a, opts.format),
            stamp(b.min(limit), opts.format),
            text
        ));
    }
    Ok(out)
}

/// The tables a replay has, by name.
pub const TABLES: &[&str] = &[
    "headline",
    "quality",
    "curves",
    "moments",
    "moment_parts",
    "model",
    "contributions",
    "products",
    "explains",
    "product_phrases",
    "anchors",
    "shifts",
    "anchor_phrases",
    "promotions",
    "questions",
    "plan",
];

/// `*_ms` columns that hold durations (kept as Int64 ms), not instants.
const DURATIONS: &[&str] = &[
    "latency_ms",
    "position_ms",
    "start_delta_ms",
    "length_delta_ms",
];

/// A table's column names and its rows (JSON objects with flat values).
pub type Rows<'a> = (Vec<&'a str>, Vec<Map<String, Value>>);

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn ser<T: Serialize>(x: &T) -> Map<String, Value> {
    obj(serde_json::to_value(x).unwrap_or(Value::Null))
}

impl Replay {
    /// The rows of table `name` (one of [`TABLES`]) as JSON objects with
    /// flat values; times are ms since the epoch (`*_ms` columns).
    pub fn rows(&self, name: &str) -> Result<Rows<'_>> {
        let est = |e: &Option<super::Estimate>| {
            (
                e.as_ref().map(|e| e.value),
                e.as_ref().and_then(|e| e.low),
                e.as_ref().and_then(|e| e.high),
            )
        };
        let (cols, rows): Rows<'_> = match name {
            "headline" => (
                vec![
                    "key",
                    "label",
                    "label_en",
                    "unit",
                    "value",
                    "source",
                    "from",
                    "low",
                    "high",
                    "missing",
                    "history_sessions",
                    "history_median",
                    "history_top_quartile",
                    "history_percentile",
                    "history_enough",
                ],
                self.headline
                    .iter()
                    .map(|f| {
                        let mut m = ser(f);
                        let h = f.history.clone();
                        m.insert(
                            "history_sessions".into(),
                            json!(h.as_ref().map(|h| h.sessions)),
                        );
                        m.insert(
                            "history_median".into(),
                            json!(h.as_ref().and_then(|h| h.median)),
                        );
                        m.insert(
                            "history_top_quartile".into(),
                            json!(h.as_ref().and_then(|h| h.top_quartile)),
                        );
                        m.insert(
                            "history_percentile".into(),
                            json!(h.as_ref().and_then(|h| h.percentile)),
                        );
                        m.insert("history_enough".into(), json!(h.as_ref().map(|h| h.enough)));
                        m
                    })
                    .collect(),
            ),
            "quality" => (
                vec![
                    "stream", "kind", "start_ms", "end_ms", "expected", "message",
                ],
                self.quality.notes.iter().map(ser).collect(),
            ),
            "curves" => {
                let mut cols = vec!["time_ms"];
                for s in &self.curves.series {
                    cols.push(s.name.as_str());
                }
                let rows = (0..self.curves.time_ms.len())
                    .map(|i| {
                        let mut m = Map::new();
                        m.insert("time_ms".into(), json!(self.curves.time_ms[i]));
                        for s in &self.curves.series {
                            m.insert(s.name.clone(), json!(s.values[i]));
                        }
                        m
                    })
                    .collect();
                (cols, rows)
            }
            "contributions" => {
                let parts: &[super::Curve] = self.model.as_ref().map_or(&[], |m| &m.over_time);
                let mut cols = vec!["time_ms"];
                cols.extend(parts.iter().map(|c| c.name.as_str()));
                let rows = if parts.is_empty() {
                    Vec::new()
                } else {
                    (0..self.curves.time_ms.len())
                        .map(|i| {
                            let mut m = Map::new();
                            m.insert("time_ms".into(), json!(self.curves.time_ms[i]));
                            for c in parts {
                                m.insert(c.name.clone(), json!(c.values.get(i).copied().flatten()));
                            }
                            m
                        })
                        .collect()
                };
                (cols, rows)
            }
            "moments" => (
                vec![
                    "rank",
                    "metric",
                    "kind",
                    "driver",
                    "start_ms",
                    "end_ms",
                    "magnitude",
                    "score",
                    "share",
                    "target",
                    "excess",
                    "top_part",
                    "recording",
                    "position_ms",
                    "product_in_focus",
                    "promotions",
                    "comments_in_context",
                    "questions_in_context",
                    "data_gap",
                ],
                self.moments
                    .iter()
                    .map(|m| {
                        let mut r = ser(m);
                        r.insert(
                            "top_part".into(),
                            json!(m.parts.first().map(|p| p.name.clone())),
                        );
                        r.insert(
                            "recording".into(),
                            json!(m.recording.as_ref().map(|p| p.path.clone())),
                        );
                        r.insert(
                            "position_ms".into(),
                            json!(m.recording.as_ref().map(|p| p.position_ms)),
                        );
                        r.insert("promotions".into(), json!(m.promotions.join(",")));
                        r
                    })
                    .collect(),
            ),
            "moment_parts" => (
                vec!["rank", "start_ms", "part", "value", "low", "high", "share"],
                self.moments
                    .iter()
                    .flat_map(|m| {
                        m.parts.iter().map(move |p| {
                            let mut r = ser(p);
                            r.insert("rank".into(), json!(m.rank));
                            r.insert("start_ms".into(), json!(m.start_ms));
                            r.insert("part".into(), json!(p.name));
                            r
                        })
                    })
                    .collect(),
            ),
            "model" => (
                vec!["part", "value", "low", "high", "share"],
                self.model
                    .iter()
                    .flat_map(|m| m.totals.iter())
                    .map(|p| {
                        let mut r = ser(p);
                        r.insert("part".into(), json!(p.name));
                        r
                    })
                    .collect(),
            ),
            "products" => (
                vec![
                    "product_id",
                    "name",
                    "price",
                    "explain_minutes",
                    "segments",
                    "gmv",
                    "orders",
                    "gmv_per_explain_minute",
                    "history_median",
                    "contribution",
                    "contribution_low",
                    "contribution_high",
                    "questions",
                    "answered",
                    "answered_share",
                    "median_latency_s",
                ],
                self.products
                    .iter()
                    .map(|p| {
                        let (c, lo, hi) = est(&p.contribution);
                        let h = p.gmv_per_explain_minute.history.as_ref();
                        let mut r = Map::new();
                        r.insert("product_id".into(), json!(p.product_id));
                        r.insert("name".into(), json!(p.name));
                        r.insert("price".into(), json!(p.price));
                        r.insert("explain_minutes".into(), json!(p.explain_minutes));
                        r.insert("segments".into(), json!(p.segments.len()));
                        r.insert("gmv".into(), json!(p.gmv));
                        r.insert("orders".into(), json!(p.orders));
                        r.insert(
                            "gmv_per_explain_minute".into(),
                            json!(p.gmv_per_explain_minute.value),
                        );
                        r.insert("history_median".into(), json!(h.and_then(|h| h.median)));
                        r.insert("contribution".into(), json!(c));
                        r.insert("contribution_low".into(), json!(lo));
                        r.insert("contribution_high".into(), json!(hi));
                        r.insert("questions".into(), json!(p.questions.asked));
                        r.insert("answered".into(), json!(p.questions.answered));
                        r.insert("answered_share".into(), json!(p.questions.share));
                        r.insert(
                            "median_latency_s".into(),
                            json!(p.questions.median_latency_s),
                        );
                        r
                    })
                    .collect(),
            ),
            "explains" => (
                vec![
                    "product_id",
                    "start_ms",
                    "end_ms",
                    "minutes",
                    "gmv",
                    "orders",
                    "clicks",
                    "conversion",
                    "carry_end_ms",
                    "carry_gmv",
                    "carry_orders",
                    "gmv_per_minute",
                ],
                self.products
                    .iter()
                    .flat_map(|p| {
                        p.segments.iter().map(move |s| {
                            let mut r = ser(s);
                            r.insert("product_id".into(), json!(p.product_id));
                            r
                        })
                    })
                    .collect(),
            ),
            "product_phrases" | "anchor_phrases" => {
                let by_product = name == "product_phrases";
                let groups: Vec<(&str, &Vec<super::PhraseStat>)> = if by_product {
                    self.products
                        .iter()
                        .map(|p| (p.product_id.as_str(), &p.phrases))
                        .collect()
                } else {
                    self.anchors
                        .iter()
                        .map(|a| (a.anchor_id.as_str(), &a.phrases))
                        .collect()
                };
                let key = if by_product {
                    "product_id"
                } else {
                    "anchor_id"
                };
                (
                    vec![
                        key,
                        "phrase",
                        "group",
                        "uses",
                        "orders_after",
                        "lift",
                        "low",
                        "high",
                        "weak",
                    ],
                    groups
                        .into_iter()
                        .flat_map(|(id, v)| {
                            v.iter().map(move |s| {
                                let mut r = ser(s);
                                r.insert(key.into(), json!(id));
                                r
                            })
                        })
                        .collect(),
                )
            }
            "anchors" => (
                vec![
                    "anchor_id",
                    "name",
                    "host_hours",
                    "gmv_per_hour",
                    "history_median",
                    "gpm",
                    "uv_value",
                    "effect",
                    "effect_low",
                    "effect_high",
                    "questions",
                    "answered",
                    "answered_share",
                    "median_latency_s",
                ],
                self.anchors
                    .iter()
                    .map(|a| {
                        let mut r = Map::new();
                        r.insert("anchor_id".into(), json!(a.anchor_id));
                        r.insert("name".into(), json!(a.name));
                        r.insert("host_hours".into(), json!(a.host_hours));
                        r.insert("gmv_per_hour".into(), json!(a.gmv_per_hour.value));
                        r.insert(
                            "history_median".into(),
                            json!(a.gmv_per_hour.history.as_ref().and_then(|h| h.median)),
                        );
                        r.insert("gpm".into(), json!(a.gpm.value));
                        r.insert("uv_value".into(), json!(a.uv_value.value));
                        r.insert("effect".into(), json!(a.effect.value));
                        r.insert("effect_low".into(), json!(a.effect.low));
                        r.insert("effect_high".into(), json!(a.effect.high));
                        r.insert("questions".into(), json!(a.questions.asked));
                        r.insert("answered".into(), json!(a.questions.answered));
                        r.insert("answered_share".into(), json!(a.questions.share));
                        r.insert(
                            "median_latency_s".into(),
                            json!(a.questions.median_latency_s),
                        );
                        r
                    })
                    .collect(),
            ),
            "shifts" => (
                vec![
                    "anchor_id",
                    "role",
                    "start_ms",
                    "end_ms",
                    "hours",
                    "gmv",
                    "orders",
                    "views",
                    "gmv_per_hour",
                    "gpm",
                    "uv_value",
                    "effect",
                    "effect_low",
                    "effect_high",
                ],
                self.anchors
                    .iter()
                    .flat_map(|a| {
                        a.shifts.iter().map(move |s| {
                            let (e, lo, hi) = est(&s.effect);
                            let mut r = ser(s);
                            r.insert("anchor_id".into(), json!(a.anchor_id));
                            r.insert("effect".into(), json!(e));
                            r.insert("effect_low".into(), json!(lo));
                            r.insert("effect_high".into(), json!(hi));
                            r
                        })
                    })
                    .collect(),
            ),
            "promotions" => (
                vec![
                    "id",
                    "kind",
                    "label",
                    "product_id",
                    "start_ms",
                    "end_ms",
                    "minutes_in",
                    "minutes",
                    "gmv",
                    "orders",
                    "contribution",
                    "contribution_low",
                    "contribution_high",
                ],
                self.promotions
                    .iter()
                    .map(|p| {
                        let (c, lo, hi) = est(&p.contribution);
                        let mut r = ser(p);
                        r.insert("contribution".into(), json!(c));
                        r.insert("contribution_low".into(), json!(lo));
                        r.insert("contribution_high".into(), json!(hi));
                        r
                    })
                    .collect(),
            ),
            "questions" => (
                vec![
                    "ts_ms",
                    "viewer_id",
                    "text",
                    "kind",
                    "product_id",
                    "linked_by",
                    "answered",
                    "answer_ms",
                    "latency_ms",
                    "answer_text",
                    "answer_speaker",
                    "answer_explicit",
                ],
                self.questions
                    .all
                    .iter()
                    .map(|q| {
                        let mut r = ser(q);
                        let a = q.answer.as_ref();
                        r.insert("answered".into(), json!(a.is_some()));
                        r.insert("answer_ms".into(), json!(a.map(|a| a.ts_ms)));
                        r.insert("latency_ms".into(), json!(a.map(|a| a.latency_ms)));
                        r.insert("answer_text".into(), json!(a.map(|a| a.text.clone())));
                        r.insert(
                            "answer_speaker".into(),
                            json!(a.and_then(|a| a.speaker.clone())),
                        );
                        r.insert("answer_explicit".into(), json!(a.map(|a| a.explicit)));
                        r
                    })
                    .collect(),
            ),
            "plan" => (PLAN_COLUMNS.to_vec(), plan_rows(self.plan.as_ref())),
            other => {
                return Err(VapError::InvalidArgument(format!(
                    "unknown replay table '{other}' (expected one of: {})",
                    TABLES.join(", ")
                )))
            }
        };
        Ok((cols, rows))
    }

    /// Table `name` (one of [`TABLES`]) as an Arrow batch: `*_ms` columns as
    /// UTC millisecond timestamps (but `latency_ms` and `position_ms`,
    /// durations in ms), whole numbers as Int64, other numbers as
    /// Float64, flags as Boolean, the rest as text; missing values are null.
    pub fn table(&self, name: &str) -> Result<RecordBatch> {
        let (cols, rows) = self.rows(name)?;
        rows_to_batch(name, &cols, &rows)
    }

    /// Writes every table to `dir` as `<name>.csv` or `<name>.parquet`
    /// (`format`: "csv" or "parquet"), each file written aside and renamed;
    /// returns the paths.
    pub fn write_tables(
        &self,
        dir: &std::path::Path,
        format: &str,
    ) -> Result<Vec<std::path::PathBuf>> {
        if format != "csv" && format != "parquet" {
            return Err(VapError::InvalidArgument(format!(
                "table format must be 'csv' or 'parquet', got '{format}'"
            )));
        }
        std::fs::create_dir_all(dir).map_err(|e| VapError::io(dir, e))?;
        let mut out = Vec::new();
        for name in TABLES {
            let path = dir.join(format!("{name}.{format}"));
            let tmp = dir.join(format!(".{name}.{format}.tmp"));
            let r = if format == "csv" {
                self.write_csv(name, &tmp)
            } else {
                self.write_parquet(name, &tmp)
            };
            if let Err(e) =
                r.and_then(|_| std::fs::rename(&tmp, &path).map_err(|e| VapError::io(&path, e)))
            {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
            out.push(path);
        }
        Ok(out)
    }

    fn write_csv(&self, name: &str, path: &std::path::Path) -> Result<()> {
        let (cols, rows) = self.rows(name)?;
        let io = |e: std::io::Error| VapError::io(path, e);
        let mut w = csv::Writer::from_path(path).map_err(|e| csv_io(path, e))?;
        let csv_err = |e: csv::Error| csv_io(path, e);
        w.write_record(&cols).map_err(csv_err)?;
        for r in rows {
            let rec: Vec<String> = cols
                .iter()
                .map(|c| match r.get(*c) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                })
                .collect();
            w.write_record(&rec).map_err(csv_err)?;
        }
        w.flush().map_err(io)
    }

    fn write_parquet(&self, name: &str, path: &std::path::Path) -> Result<()> {
        let batch = self.table(name)?;
        let f = std::fs::File::create(path).map_err(|e| VapError::io(path, e))?;
        let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None)
            .map_err(|e| parquet_io(path, e))?;
        w.write(&batch)
            .and_then(|_| w.close().map(|_| ()))
            .map_err(|e| parquet_io(path, e))
    }
}

fn csv_io(path: &std::path::Path, e: csv::Error) -> VapError {
    VapError::io(path, std::io::Error::other(e.to_string()))
}

fn parquet_io(path: &std::path::Path, e: parquet::errors::ParquetError) -> VapError {
    VapError::io(path, std::io::Error::other(e.to_string()))
}

/// Rows (JSON objects with flat values) as an Arrow batch with the typing
/// rules of [`Replay::table`].
pub(crate) fn rows_to_batch(
    name: &str,
    cols: &[&str],
    rows: &[Map<String, Value>],
) -> Result<RecordBatch> {
    let mut fields = Vec::with_capacity(cols.len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(cols.len());
    for &c in cols {
        let vals: Vec<&Value> = rows
            .iter()
            .map(|r| r.get(c).unwrap_or(&Value::Null))
            .collect();
        let present = || vals.iter().filter(|v| !v.is_null());
        let instant = c.ends_with("_ms") && !DURATIONS.contains(&c);
        let (dt, arr): (DataType, ArrayRef) = if instant && present().all(|v| v.is_i64()) {
            (
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                Arc::new(
                    TimestampMillisecondArray::from(
                        vals.iter().map(|v| v.as_i64()).collect::<Vec<_>>(),
                    )
                    .with_timezone("UTC"),
                ),
            )
        } else if present().all(|v| v.is_boolean()) && present().next().is_some() {
            (
                DataType::Boolean,
                Arc::new(BooleanArray::from(
                    vals.iter().map(|v| v.as_bool()).collect::<Vec<_>>(),
                )),
            )
        } else if present().all(|v| v.is_i64() || v.is_u64()) && present().next().is_some() {
            (
                DataType::Int64,
                Arc::new(Int64Array::from(
                    vals.iter().map(|v| v.as_i64()).collect::<Vec<_>>(),
                )),
            )
        } else if present().all(|v| v.is_number()) {
            (
                DataType::Float64,
                Arc::new(Float64Array::from(
                    vals.iter().map(|v| v.as_f64()).collect::<Vec<_>>(),
                )),
            )
        } else {
            let text: Vec<Option<String>> = vals
                .iter()
                .map(|v| match v {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                })
                .collect();
            (DataType::Utf8, Arc::new(StringArray::from(text)))
        };
        fields.push(Field::new(c, dt, true));
        arrays.push(arr);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| VapError::Internal(format!("replay table '{name}': {e}")))
}

/// The columns of the `plan` table ([`plan_rows`]).
pub const PLAN_COLUMNS: &[&str] = &[
    "kind",
    "status",
    "subject",
    "name",
    "planned_start_ms",
    "planned_end_ms",
    "actual_start_ms",
    "actual_end_ms",
    "start_delta_ms",
    "length_delta_ms",
    "effect",
    "effect_low",
    "effect_high",
    "points_said",
    "points_missed",
    "row",
    "note",
];

/// A plan review's items as flat rows ([`PLAN_COLUMNS`]; talking points
/// joined with "; ").
pub fn plan_rows(review: Option<&super::plan::PlanReview>) -> Vec<Map<String, Value>> {
    let Some(r) = review else {
        return vec![];
    };
    r.items
        .iter()
        .map(|d| {
            let mut m = Map::new();
            m.insert("kind".into(), json!(d.kind.as_str()));
            m.insert("status".into(), json!(d.status.as_str()));
            m.insert("subject".into(), json!(d.subject));
            m.insert("name".into(), json!(d.name));
            m.insert("planned_start_ms".into(), json!(d.planned.map(|p| p.0)));
            m.insert("planned_end_ms".into(), json!(d.planned.map(|p| p.1)));
            m.insert("actual_start_ms".into(), json!(d.actual.map(|p| p.0)));
            m.insert("actual_end_ms".into(), json!(d.actual.map(|p| p.1)));
            m.insert("start_delta_ms".into(), json!(d.start_delta_ms));
            m.insert("length_delta_ms".into(), json!(d.length_delta_ms));
            m.insert("effect".into(), json!(d.effect.as_ref().map(|e| e.value)));
            m.insert(
                "effect_low".into(),
                json!(d.effect.as_ref().and_then(|e| e.low)),
            );
            m.insert(
                "effect_high".into(),
                json!(d.effect.as_ref().and_then(|e| e.high)),
            );
            m.insert("points_said".into(), json!(d.points_said.join("; ")));
            m.insert("points_missed".into(), json!(d.points_missed.join("; ")));
            m.insert("row".into(), json!(d.row));
            m.insert("note".into(), json!(d.note));
            m
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_in_both_formats() {
        assert_eq!(stamp(3_723_045, SubtitleFormat::Srt), "01:02:03,045");
        assert_eq!(stamp(3_723_045, SubtitleFormat::Vtt), "01:02:03.045");
        assert_eq!(stamp(-5, SubtitleFormat::Vtt), "00:00:00.000");
    }
}
