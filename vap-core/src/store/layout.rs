//! Where things live in a store directory (see the module docs' layout), the
//! store's format version, and the ids that may name rooms, sessions, tables
//! and files.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::transaction::write_atomic;
use super::Store;
use crate::error::{Result, VapError};
use crate::ids::check_id;
use crate::ingest::{LoadOptions, Manifest};

/// Newest store format this version reads and writes.
pub const STORE_VERSION: u32 = 1;

/// An id given as an argument (a room, session, table, model or work file),
/// checked: a bad one is [`VapError::InvalidArgument`].
pub(super) fn id_arg(id: &str) -> Result<&str> {
    check_id(id).map_err(VapError::InvalidArgument)?;
    Ok(id)
}

/// The contents of `vap-store.json`.
#[derive(Debug, Serialize, Deserialize)]
struct StoreMeta {
    format: String,
    version: u32,
}

/// The manifest of a stored session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StoredManifest {
    /// Session manifest (`tables` maps each core table to its file).
    pub manifest: Manifest,
}

impl Store {
    /// `<store>/rooms`.
    pub(super) fn rooms_dir(&self) -> PathBuf {
        self.root.join("rooms")
    }

    /// `<store>/rooms/<room>` (the id unchecked).
    pub(super) fn room_dir(&self, room: &str) -> PathBuf {
        self.rooms_dir().join(room)
    }

    /// Directory of a stored session.
    pub fn session_dir(&self, room: &str, session: &str) -> Result<PathBuf> {
        Ok(self
            .room_dir(id_arg(room)?)
            .join("sessions")
            .join(id_arg(session)?))
    }
}

/// Refuses to turn a non-empty directory that is not a store into one.
pub(super) fn refuse_foreign_dir(root: &Path) -> Result<()> {
    let meta_path = root.join("vap-store.json");
    if !meta_path.is_file() && root.is_dir() {
        // Another process may be creating the store right now: its lock file
        // and the meta file being written aside are not "someone's data".
        let non_empty = fs::read_dir(root)
            .map_err(|e| VapError::io(root, e))?
            .flatten()
            .any(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                n != ".lock" && !n.starts_with(".vap-store.json.tmp-")
            });
        if non_empty && !meta_path.is_file() {
            return Err(VapError::InvalidArgument(format!(
                    "{} is a non-empty directory without vap-store.json; refusing to turn it into a store",
                    root.display()
                )));
        }
    }
    Ok(())
}

/// Why an existing store cannot be written (its lock file can be neither
/// opened nor created for writing: a read-only mount, no permission), or
/// None when it can, or when there is no store there yet.
pub(super) fn read_only_store(root: &Path) -> Option<std::io::ErrorKind> {
    if !root.join("vap-store.json").is_file() {
        return None;
    }
    match fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join(".lock"))
    {
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            Some(e.kind())
        }
        _ => None,
    }
}

/// Checks the format and version of `vap-store.json`.
pub(super) fn check_meta(root: &Path) -> Result<()> {
    check_or_create_meta_inner(root, false)
}

/// Checks the format and version of `vap-store.json`, or writes it when the
/// store is new (the caller holds the exclusive lock).
pub(super) fn check_or_create_meta(root: &Path) -> Result<()> {
    check_or_create_meta_inner(root, true)
}

fn check_or_create_meta_inner(root: &Path, create: bool) -> Result<()> {
    let meta_path = root.join("vap-store.json");
    if meta_path.is_file() || !create {
        let text = fs::read_to_string(&meta_path).map_err(|e| VapError::io(&meta_path, e))?;
        let meta: StoreMeta = serde_json::from_str(&text)
            .map_err(|e| VapError::format(&meta_path, format!("not a vap store file: {e}")))?;
        if meta.format != "vap-store" {
            return Err(VapError::format(
                &meta_path,
                format!("format is '{}', not 'vap-store'", meta.format),
            ));
        }
        if meta.version > STORE_VERSION {
            return Err(VapError::Version {
                what: format!("store {}", root.display()),
                found: meta.version,
                supported: STORE_VERSION,
            });
        }
    } else {
        // The meta file first: a directory holding only it is a valid empty store.
        let meta = StoreMeta {
            format: "vap-store".into(),
            version: STORE_VERSION,
        };
        write_atomic(
            &meta_path,
            &serde_json::to_vec_pretty(&meta).expect("serialisable"),
        )?;
    }
    Ok(())
}

/// Stored sessions were validated on import; re-reading them only bounds times.
pub(super) fn stored_load_options() -> LoadOptions {
    LoadOptions {
        outside_tolerance_ms: i64::MAX / 4,
        ..Default::default()
    }
}
