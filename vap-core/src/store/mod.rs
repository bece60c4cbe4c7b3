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
//! (`models`), work files (`work`) and the integrity check (`check`).

mod cache;
mod check;
mod layout;
mod models;
mod read;
mod transaction;
pub(crate) use transaction::write_atomic;
mod work;
mod write;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Result, VapError};
use transaction::FaultFn;

pub use crate::ids::check_id;
pub use check::{Damage, StoreCheck};
pub use layout::{StoredManifest, STORE_VERSION};
pub use read::SessionInfo;
pub(crate) use read::{par_sessions, sort_sessions};
pub use write::{file_digest, import_request, ImportOptions};

/// An embedded store rooted at a directory.
#[derive(Clone)]
pub struct Store {
    root: PathBuf,
    fault: Option<Arc<FaultFn>>,
    /// Why the store cannot be written (opened without write access).
    read_only: Option<std::io::ErrorKind>,
    /// What [`Store::open`] recovered.
    recovered: Arc<Vec<String>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("root", &self.root).finish()
    }
}

impl Store {
    /// Opens the store at `path`, creating it if the directory is missing or
    /// empty. Finishes or rolls back interrupted imports (see
    /// [`Store::recovered`]). A store written by a newer vap is refused with
    /// [`VapError::Version`].
    ///
    /// A store without write access (a read-only mount, another user's files)
    /// opens for reading: every read works, every write is an I/O error that
    /// says so ([`Store::read_only`]). Only when an interrupted change needs
    /// recovering does such a store refuse to open, since its files may be
    /// halfway through a replace.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let root = path.as_ref().to_path_buf();
        match layout::read_only_store(&root) {
            Some(kind) => Store::open_reader(root, kind),
            None => Store::open_writer(root),
        }
    }

    /// Opens an existing store for reading only, as [`Store::open`] does a
    /// store without write access: nothing is created, recovered or
    /// written, and every write is refused. A store that needs recovering
    /// is refused; one that does not exist is [`VapError::NotFound`].
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store> {
        let root = path.as_ref().to_path_buf();
        if !root.join("vap-store.json").is_file() {
            return Err(VapError::NotFound(format!(
                "no vap store at {} (no vap-store.json)",
                root.display()
            )));
        }
        Store::open_reader(root, std::io::ErrorKind::PermissionDenied)
    }

    fn open_reader(root: PathBuf, kind: std::io::ErrorKind) -> Result<Store> {
        let store = Store {
            root: root.clone(),
            fault: None,
            read_only: Some(kind),
            recovered: Arc::new(Vec::new()),
        };
        let _lock = store.lock(false)?;
        layout::check_meta(&root)?;
        // Unfinished imports and temporary files are invisible to readers;
        // a replace halfway through is not.
        if store.interrupted_replace() {
            return Err(VapError::io(
                &root,
                std::io::Error::new(
                    kind,
                    "an interrupted replace needs recovering, which needs write access \
                     to the store; open it once with write access",
                ),
            ));
        }
        drop(_lock);
        Ok(store)
    }

    fn open_writer(root: PathBuf) -> Result<Store> {
        layout::refuse_foreign_dir(&root)?;
        fs::create_dir_all(&root).map_err(|e| VapError::io(&root, e))?;
        let mut store = Store {
            root: root.clone(),
            fault: None,
            read_only: None,
            recovered: Arc::new(Vec::new()),
        };
        {
            let _lock = store.lock(true)?;
            layout::check_or_create_meta(&root)?;
            fs::create_dir_all(root.join("rooms")).map_err(|e| VapError::io(&root, e))?;
            store.recovered = Arc::new(store.recover()?);
        }
        Ok(store)
    }

    /// What opening the store recovered from interrupted changes, one line
    /// each (a replace rolled back or finished, an unfinished import or
    /// temporary files removed, an unreadable journal); empty when the store
    /// was clean.
    pub fn recovered(&self) -> &[String] {
        &self.recovered
    }

    /// Whether the store was opened without write access.
    pub fn read_only(&self) -> bool {
        self.read_only.is_some()
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
}
