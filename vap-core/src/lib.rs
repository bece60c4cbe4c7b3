//! # vap-core
//!
//! The engine of **vap**, an embeddable analytics library for live-stream
//! e-commerce review (复盘): it structures people (anchors, commenters), goods
//! (products) and venue (rooms, sessions), keeps them in an embedded store,
//! aligns every stream on one timeline and finds the moments of truth (the
//! attribution model comes next).
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
//! Modules: [`schema`] (the data model), [`table`] and [`io`] (session
//! directories in CSV / JSON Lines / Parquet, validation), [`store`] (the
//! embedded store), [`sim`] (seeded synthetic rooms with ground truth),
//! [`text`] (normalisation, encodings, pseudonymisation), [`threads`],
//! [`align`] (the [`align::Timeline`]: every stream on one grid, transforms,
//! clock offsets, the room view, as-of joins), [`detect`] (change points and
//! moments of truth), [`attribute`] (the single-room attribution model), and,
//! with the `media` feature, `media` (recordings: probe, streaming audio
//! decode, Whisper transcription with checkpoints, video index and stills).
#![warn(missing_docs)]

pub mod align;
pub mod attribute;
pub mod detect;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod io;
#[cfg(feature = "media")]
pub mod media;
pub mod schema;
pub mod sim;
pub mod store;
pub mod table;
pub mod text;
pub mod threads;

pub use error::{ErrorKind, Problem, Result, VapError};
pub use schema::*;
pub use store::Store;

/// Panics on purpose. Exists so that the Python and Node test suites can prove
/// that a Rust panic becomes an exception / a rejected call, never a crash.
#[doc(hidden)]
pub fn __panic_for_tests(message: &str) -> Result<()> {
    panic!("{message}")
}
