//! The embedded store: a directory of rooms and sessions, each session's tables
//! as Parquet files that other engines read directly.
//!
//! ```rust
//! use vap_core::sim::{simulate, SimConfig};
//! use vap_core::store::{ImportOptions, Store};
//! use vap_core::ErrorKind;
//!
//! let room = simulate(&SimConfig { seed: 3, hours: 0.25, ..Default::default() }).unwrap();
//! let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(dir.path()).unwrap();
//! store.import(&room.data, &ImportOptions::default()).unwrap();
//!
//! let (r, s) = (&room.data.room.id, &room.data.session.id);
//! let listed = store.sessions(Some(r)).unwrap();
//! assert_eq!(listed[0].rows["orders"], room.data.orders.len());
//! let back = store.load(r, s).unwrap();
//! assert_eq!(back.orders.len(), room.data.orders.len());
//!
//! // The session is there: importing it again needs `replace`.
//! let e = store.import(&room.data, &ImportOptions::default()).unwrap_err();
//! assert_eq!(e.kind(), ErrorKind::AlreadyExists);
//! let replace = ImportOptions { replace: true, ..Default::default() };
//! store.import(&room.data, &replace).unwrap();
//! ```
//!
//! # Layout
//!
//! ```text
//! <store>/
//!   vap-store.json                                {"format": "vap-store", "version": 1}
//!   rooms/<room_id>/room.json                     the Room
//!   rooms/<room_id>/sessions/<session_id>/
//!       manifest.json                             room, session, metrics, core table files
//!       anchors.parquet ... metrics.parquet       one file per table
//!       <derived>.parquet                         tables added later (transcripts, ...)
//!       media/                                    recordings, only when copied
//!   rooms/<room_id>/models/<name>.json            fitted room models (attribution)
//!   .staging/ .trash/ .journal/                   in-flight work; cleaned on open
//! ```
//!
//! Every table file starts with `room_id` and `session_id` columns, then the
//! table's columns ([`TableName::arrow_schema`](crate::table::TableName::arrow_schema)); times are
//! `timestamp[ms, tz=UTC]`. So `polars.scan_parquet("<store>/rooms/*/sessions/*/orders.parquet")`
//! or `pyarrow.dataset.dataset([...])` read all orders of a store at once.
//!
//! # Atomicity
//!
//! An import writes the whole session (or the whole room, when the room is new)
//! under `.staging/`, then renames it into place: the rename is the commit
//! point. Replacing a session first records a journal entry and moves the old
//! session to `.trash/`; [`Store::open`] finishes or rolls back any interrupted
//! replace, and removes leftovers, so after a crash at any point the store holds
//! exactly the old session or exactly the new one. A failed import (an error at
//! any step) rolls back before returning. Replacing one table writes the new file
//! aside and renames it over the old one: that rename is the whole change (row
//! counts and derived tables are read from the files, not kept in the manifest).
//!
//! # Concurrency
//!
//! Every operation takes an advisory lock on `<store>/.lock`: shared for reads,
//! exclusive for imports, replacements, deletions and the recovery in
//! [`Store::open`]. Processes and threads sharing a store therefore see each
//! operation whole; writers run one at a time.
//!
//! # Parts
//!
//! The on-disk layout and format version (`layout`), the journal, staging
//! and recovery behind every write (`transaction`), reading sessions and
//! tables (`read`), imports and replacements (`write`), room models
//! (`models`) and work files (`work`).

mod layout;
mod models;
mod read;
mod transaction;
mod work;
mod write;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Result, VapError};
use transaction::FaultFn;

pub use crate::ids::check_id;
pub use layout::{StoredManifest, STORE_VERSION};
pub use read::SessionInfo;
pub use write::{file_digest, import_request, ImportOptions};

/// An embedded store rooted at a directory.
#[derive(Clone)]
pub struct Store {
    root: PathBuf,
    fault: Option<Arc<FaultFn>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("root", &self.root).finish()
    }
}

impl Store {
    /// Opens the store at `path`, creating it if the directory is missing or
    /// empty. Finishes or rolls back interrupted imports. A store written by a
    /// newer vap is refused with [`VapError::Version`].
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let root = path.as_ref().to_path_buf();
        layout::refuse_foreign_dir(&root)?;
        fs::create_dir_all(&root).map_err(|e| VapError::io(&root, e))?;
        let store = Store {
            root: root.clone(),
            fault: None,
        };
        {
            let _lock = store.lock(true)?;
            layout::check_or_create_meta(&root)?;
            fs::create_dir_all(root.join("rooms")).map_err(|e| VapError::io(&root, e))?;
            store.recover()?;
        }
        Ok(store)
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
}
