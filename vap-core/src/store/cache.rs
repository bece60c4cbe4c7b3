//! Values derived from a stored session and kept beside it (the replay's
//! session digest), so that reading a room's history does not recompute
//! every earlier session.
//!
//! A cached value is a file `.cache-<name>.json` in the session's directory,
//! holding the caller's key (what the value was computed with: options, the
//! version of the rules), the fingerprint of the session's files (names,
//! sizes and modification times of the manifest and every table) and the
//! value. It is read back only while both still match: a re-import or a
//! replaced table changes the fingerprint, and the value is computed again.
//! The file is written atomically (aside, then renamed); a store opened
//! read-only keeps no cache. Nothing else reads these files: deleting them
//! loses nothing.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::transaction::write_atomic;
use super::Store;
use crate::error::Result;
use crate::ids::check_id;

#[derive(Serialize, Deserialize)]
struct CacheFile {
    key: String,
    fingerprint: String,
    value: serde_json::Value,
}

/// Names, sizes and modification times of the manifest and the tables.
fn fingerprint(dir: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for e in fs::read_dir(dir).ok()?.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if !(name == "manifest.json" || name.ends_with(".parquet")) {
            continue;
        }
        let m = e.metadata().ok()?;
        let t = m
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_nanos();
        parts.push(format!("{name}:{}:{t}", m.len()));
    }
    parts.sort();
    Some(parts.join(";"))
}

impl Store {
    fn cache_path(&self, room: &str, session: &str, name: &str) -> Result<std::path::PathBuf> {
        check_id(name).map_err(|m| crate::VapError::InvalidArgument(format!("cache name: {m}")))?;
        Ok(self
            .session_dir(room, session)?
            .join(format!(".cache-{name}.json")))
    }

    /// The value cached under `name` for a stored session, when it was
    /// computed with `key` from the session's current files; `None`
    /// otherwise (never cached, another key, the session changed since, an
    /// unreadable file).
    pub(crate) fn cached(
        &self,
        room: &str,
        session: &str,
        name: &str,
        key: &str,
    ) -> Result<Option<serde_json::Value>> {
        let p = self.cache_path(room, session, name)?;
        let _lock = self.lock(false)?;
        let Ok(bytes) = fs::read(&p) else {
            return Ok(None);
        };
        let Ok(file) = serde_json::from_slice::<CacheFile>(&bytes) else {
            return Ok(None);
        };
        let dir = self.session_dir(room, session)?;
        Ok((file.key == key && Some(file.fingerprint) == fingerprint(&dir)).then_some(file.value))
    }

    /// The fingerprint of a stored session's files now (`None` when it is
    /// not stored): take it before reading what a cached value is computed
    /// from, and hand it to [`Store::put_cached`].
    pub(crate) fn cache_fingerprint(&self, room: &str, session: &str) -> Result<Option<String>> {
        let _lock = self.lock(false)?;
        let dir = self.session_dir(room, session)?;
        Ok(fingerprint(&dir).filter(|_| dir.join("manifest.json").is_file()))
    }

    /// Caches `value` under `name` for a stored session, computed with
    /// `key` (see [`Store::cached`]) from the files whose fingerprint was
    /// `computed_from` ([`Store::cache_fingerprint`], taken before they were
    /// read). Does nothing on a store opened read-only, for a session that is
    /// not stored, or when the session's files changed since `computed_from`
    /// (the value may be stale).
    pub(crate) fn put_cached(
        &self,
        room: &str,
        session: &str,
        name: &str,
        key: &str,
        value: serde_json::Value,
        computed_from: &str,
    ) -> Result<()> {
        let p = self.cache_path(room, session, name)?;
        if self.read_only() {
            return Ok(());
        }
        let _lock = self.lock(false)?;
        let dir = self.session_dir(room, session)?;
        let Some(fingerprint) =
            fingerprint(&dir).filter(|f| f == computed_from && dir.join("manifest.json").is_file())
        else {
            return Ok(());
        };
        let file = CacheFile {
            key: key.to_string(),
            fingerprint,
            value,
        };
        let bytes =
            serde_json::to_vec(&file).map_err(|e| crate::VapError::Internal(e.to_string()))?;
        write_atomic(&p, &bytes)
    }
}
