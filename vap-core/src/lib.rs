//! # vap-core
//!
//! The engine of **vap**, an embeddable analytics library for live-stream
//! e-commerce review (复盘): it structures people (anchors, commenters), goods
//! (products) and venue (rooms, sessions), keeps them in an embedded store,
//! aligns every stream on one timeline, finds the moments of truth,
//! attributes every movement to its causes and serves the replays (session,
//! product and anchor, with viewers' questions and their answers).
//!
//! This crate knows nothing of Python or Node; `vap-py` and `vap-node` convert
//! and delegate.
//!
//! ```
//! use vap_core::{sim, store::{Store, ImportOptions}};
//!
//! let room = sim::simulate(&sim::SimConfig { seed: 7, hours: 0.5, ..Default::default() }).unwrap();
//! let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(dir.path()).unwrap();
//! store.import(&room.data, &ImportOptions::default()).unwrap();
//! let loaded = store.load(&room.data.room.id, &room.data.session.id).unwrap();
//! assert_eq!(loaded.orders.len(), room.data.orders.len());
//! println!("GMV {:.0}", loaded.summary().gmv.gross);
//! ```
//!
//! Modules: [`schema`] (the data model), [`table`] and [`ingest`] (session
//! directories in CSV / JSON Lines / Parquet, validation; formerly `io`, a
//! name kept as an alias), [`store`] (the embedded store: layout,
//! transactions, reads, imports, room models), [`sim`] (seeded synthetic rooms
//! with ground truth), [`text`] (normalisation, encodings, pseudonymisation),
//! [`threads`],
//! [`align`] (the [`align::Timeline`]: every stream on one grid, transforms,
//! clock offsets, the room view, as-of joins, viewers' questions), [`detect`]
//! (change points and moments of truth), [`attribute`] (the single-room
//! attribution model), [`replay`] (the session, product and anchor replays,
//! data quality, room history, subtitles, replay tables), [`report`] (a
//! replay as one self-contained HTML file with SVG charts), [`live`] (a
//! session kept up to date as events arrive: incremental timeline, moments,
//! a room model's decomposition, alerts, capture logs followed as written),
//! and,
//! with the `media` feature, `media` (recordings: probe, streaming audio
//! decode, Whisper transcription with checkpoints, video index and stills;
//! the `openblas` feature adds OpenBLAS for Whisper's encoder, about 0.7x
//! the transcription time, and is what the Python and Node modules use).
//!
//! ## Feature flags
//!
//! | feature | default | what it adds | what it needs |
//! |---|---|---|---|
//! | *(none)* | ✓ | everything above but recordings: schema, loaders, store, simulator, timeline, moments, attribution, replays, report, live sessions | Rust only |
//! | `media` | | `media` (probe, audio decode, Whisper transcription, video index, stills) and `cli` (the `vap` and `vap-transcribe` binaries) | FFmpeg's libraries (`libavcodec-dev` ... on Debian), cmake and clang for whisper.cpp |
//! | `openblas` | | `media`, with Whisper's encoder through OpenBLAS (about 0.7× the transcription time) | `libopenblas-dev`, `BLAS_INCLUDE_DIRS` at build time |
//! | `testing` | | test hooks (fuzz entry points, the store's fault injector); for vap's own tests | |
//!
//! whisper.cpp is compiled with `-march=native` by default; set
//! `GGML_NATIVE=OFF` to build artifacts for other machines. Items that need
//! a feature say so on docs.rs.
//!
//! ## Examples
//!
//! `examples/rust/summary.rs` (the demo: simulate, import, replay from the
//! store; `--features media`) and `examples/rust/service.rs`, a small HTTP
//! service that links vap-core and serves a store's replays as JSON and
//! HTML (`cargo run -p vap-core --example service -- demo-store`).
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod align;
pub mod attribute;
#[cfg(feature = "media")]
#[cfg_attr(docsrs, doc(cfg(feature = "media")))]
pub mod cli;
pub mod detect;
pub mod error;
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod ids;
pub mod ingest;
pub mod job;
pub mod live;
#[cfg(feature = "media")]
#[cfg_attr(docsrs, doc(cfg(feature = "media")))]
pub mod media;
pub mod options;
pub mod plan;
pub mod replay;
pub mod report;
pub mod schema;
pub mod seed;
pub mod sim;
pub mod store;
pub mod table;
pub mod text;
pub mod threads;

/// The former name of [`ingest`], kept so that `vap_core::io::...` paths
/// still work.
pub use ingest as io;

pub use error::{ErrorKind, Problem, Result, VapError};
/// The data model's main types (the rest under [`schema`]).
pub use schema::{MetricKind, Ms, OrderStatus, Room, Session, SessionData, VideoRef};
pub use store::Store;

/// The names of vap's option sets, as [`option_defaults`] takes them
/// (`transcribe` and `clips` need the `media` feature).
pub const OPTION_SETS: &[&str] = &[
    "timeline",
    "attribution_timeline",
    "offset",
    "asof",
    "moments",
    "segment",
    "attribute",
    "simulate",
    "load",
    "import",
    "sources",
    "columns",
    "column",
    "events",
    "top",
    "split",
    "replay",
    "questions",
    "subtitles",
    "report",
    "transcribe",
    "clips",
    "run_sheet",
    "plan",
    "playbook",
    "live",
    "alerts",
    "follow",
];

/// The defaults of an option set (one of [`OPTION_SETS`]) as JSON: what the
/// Python docstrings and the TypeScript docs point to (`vap.option_defaults`,
/// `vap.optionDefaults`), so that no binding restates a default.
///
/// ```
/// let d = vap_core::option_defaults("moments").unwrap();
/// assert_eq!(d["step_ms"], 30_000);
/// assert!(vap_core::option_defaults("nothing").is_err());
/// ```
pub fn option_defaults(name: &str) -> Result<serde_json::Value> {
    resolve_options(name, serde_json::Value::Null, false)
}

/// Reads options of the set `name` as a user wrote them (`camel`: Node's
/// camelCase keys), checks them and returns them whole, defaults filled, in
/// the core's serde form (`camel`: its keys in camelCase too, but inside
/// user data such as a lexicon's groups).
///
/// ```
/// let o = vap_core::resolve_options("timeline", serde_json::json!({"step": "1min"}), false).unwrap();
/// assert_eq!((o["step_ms"].as_i64(), o["per_product"].as_bool()), (Some(60_000), Some(true)));
/// let e = vap_core::resolve_options("attribute", serde_json::json!({"timeOfDay": -1}), true);
/// assert_eq!(e.unwrap_err().kind(), vap_core::ErrorKind::InvalidArgument);
/// ```
pub fn resolve_options(name: &str, v: serde_json::Value, camel: bool) -> Result<serde_json::Value> {
    use options::Options;
    fn one<T: Options>(v: serde_json::Value, camel: bool) -> Result<serde_json::Value> {
        let o = if camel {
            T::from_camel_value(v)?
        } else {
            T::from_value(v)?
        };
        let v = serde_json::to_value(o).map_err(|e| VapError::Internal(e.to_string()))?;
        Ok(if camel {
            options::camel_keys(v, T::VERBATIM)
        } else {
            v
        })
    }
    match name {
        "timeline" => one::<align::AlignOptions>(v, camel),
        "attribution_timeline" => one::<attribute::AttributionTimelineOptions>(v, camel),
        "offset" => one::<align::OffsetOptions>(v, camel),
        "asof" => one::<align::AsofOptions>(v, camel),
        "moments" => one::<detect::DetectOptions>(v, camel),
        "segment" => one::<detect::SegmentOptions>(v, camel),
        "attribute" => one::<attribute::AttributeOptions>(v, camel),
        "simulate" => one::<sim::SimConfig>(v, camel),
        "load" => one::<ingest::LoadOptions>(v, camel),
        "import" => one::<store::ImportOptions>(v, camel),
        "sources" => one::<ingest::sources::SourceOptions>(v, camel),
        "columns" => one::<align::ColumnsOptions>(v, camel),
        "column" => one::<align::ColumnOptions>(v, camel),
        "events" => one::<detect::EventOptions>(v, camel),
        "top" => one::<detect::TopOptions>(v, camel),
        "split" => one::<attribute::SplitOptions>(v, camel),
        "replay" => one::<replay::ReplayOptions>(v, camel),
        "questions" => one::<align::QuestionOptions>(v, camel),
        "subtitles" => one::<replay::SubtitleOptions>(v, camel),
        "report" => one::<report::ReportOptions>(v, camel),
        "run_sheet" => one::<plan::RunSheetOptions>(v, camel),
        "plan" => one::<plan::PlanOptions>(v, camel),
        "playbook" => one::<plan::PlaybookOptions>(v, camel),
        "live" => one::<live::LiveOptions>(v, camel),
        "alerts" => one::<live::AlertOptions>(v, camel),
        "follow" => one::<live::FollowOptions>(v, camel),
        #[cfg(feature = "media")]
        "transcribe" => one::<media::TranscribeOptions>(v, camel),
        #[cfg(feature = "media")]
        "clips" => one::<report::ClipOptions>(v, camel),
        #[cfg(not(feature = "media"))]
        "transcribe" | "clips" => Err(VapError::InvalidArgument(format!(
            "{name} options need vap-core's `media` feature"
        ))),
        other => Err(VapError::InvalidArgument(format!(
            "unknown option set '{other}' (expected one of: {})",
            OPTION_SETS.join(", ")
        ))),
    }
}
