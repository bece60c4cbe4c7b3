//! Verifying a store: every file read whole ([`Store::check`]), every damaged
//! one reported, without stopping at the first.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::read::read_parquet_file;
use super::Store;
use crate::error::Result;
use crate::schema::Room;
use crate::table::TableName;

/// What [`Store::check`] found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoreCheck {
    /// Files read whole.
    pub files: usize,
    /// Sessions checked.
    pub sessions: usize,
    /// Every problem found, in path order; empty for a sound store.
    pub damaged: Vec<Damage>,
}

impl StoreCheck {
    /// Whether nothing is damaged.
    pub fn ok(&self) -> bool {
        self.damaged.is_empty()
    }
}

/// One damaged file (or a session that does not load).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Damage {
    /// The path, relative to the store's root.
    pub path: String,
    /// The room it belongs to, when it belongs to one.
    pub room_id: Option<String>,
    /// The session it belongs to, when it belongs to one.
    pub session_id: Option<String>,
    /// What is wrong.
    pub problem: String,
}

impl Store {
    /// Reads every file of the store whole and reports each one that is
    /// damaged: the store's meta file, every `room.json`, saved model and
    /// session manifest, every table file (core tables are loaded and
    /// validated as [`Store::load`] does, derived tables decoded), copied
    /// recordings against their recorded sha256, and an interrupted replace
    /// left for recovery. It does not stop at the first problem and changes
    /// nothing.
    ///
    /// ```
    /// use vap_core::sim::{simulate, SimConfig};
    /// use vap_core::store::{ImportOptions, Store};
    ///
    /// let room = simulate(&SimConfig { seed: 1, hours: 0.2, ..Default::default() }).unwrap();
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = Store::open(dir.path()).unwrap();
    /// store.import(&room.data, &ImportOptions::default()).unwrap();
    /// assert!(store.check().unwrap().ok());
    ///
    /// // Truncate one table: the check names it, and the listing still works.
    /// let orders = store.session_dir(&room.data.room.id, &room.data.session.id)
    ///     .unwrap().join("orders.parquet");
    /// std::fs::write(&orders, b"PAR1").unwrap();
    /// let report = store.check().unwrap();
    /// assert_eq!(report.damaged.len(), 1, "{report:?}");
    /// assert!(report.damaged[0].path.ends_with("orders.parquet"));
    /// assert_eq!(store.sessions(None).unwrap().len(), 1);
    /// ```
    pub fn check(&self) -> Result<StoreCheck> {
        let _lock = self.lock(false)?;
        let mut out = StoreCheck::default();
        let root = self.root.clone();
        let mut damage =
            |path: &Path, room: Option<&str>, session: Option<&str>, problem: String| {
                out_push(&root, &mut out.damaged, path, room, session, problem)
            };
        let meta = self.root.join("vap-store.json");
        out.files += 1;
        if let Err(e) = super::layout::check_meta(&self.root) {
            damage(&meta, None, None, e.to_string());
        }
        if self.interrupted_replace() {
            damage(
                &self.root.join(".journal"),
                None,
                None,
                "an interrupted replace is waiting for recovery (open the store with write access)"
                    .into(),
            );
        }
        let mut rooms: Vec<_> = fs::read_dir(self.rooms_dir())
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        rooms.sort();
        for rdir in rooms {
            let room = rdir
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if room.starts_with('.') {
                continue;
            }
            let rp = rdir.join("room.json");
            out.files += 1;
            match fs::read(&rp) {
                Ok(b) => {
                    if let Err(e) = serde_json::from_slice::<Room>(&b) {
                        damage(&rp, Some(&room), None, format!("not a room: {e}"));
                    }
                }
                Err(e) => damage(&rp, Some(&room), None, e.to_string()),
            }
            let mut models: Vec<_> = fs::read_dir(rdir.join("models"))
                .map(|rd| rd.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            models.sort();
            for mp in models {
                if mp.extension().is_none_or(|e| e != "json")
                    || mp
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                {
                    continue;
                }
                out.files += 1;
                let res = fs::read(&mp).map_err(|e| e.to_string()).and_then(|b| {
                    serde_json::from_slice::<serde_json::Value>(&b).map_err(|e| e.to_string())
                });
                if let Err(e) = res {
                    damage(&mp, Some(&room), None, format!("unreadable model: {e}"));
                }
            }
            let mut sessions: Vec<_> = fs::read_dir(rdir.join("sessions"))
                .map(|rd| rd.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            sessions.sort();
            for sdir in sessions {
                let session = sdir
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                if session.starts_with('.') {
                    continue;
                }
                out.sessions += 1;
                self.check_session(&room, &session, &sdir, &mut out.files, &mut damage);
            }
        }
        out.damaged.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn check_session(
        &self,
        room: &str,
        session: &str,
        dir: &Path,
        files: &mut usize,
        damage: &mut impl FnMut(&Path, Option<&str>, Option<&str>, String),
    ) {
        let (r, s) = (Some(room), Some(session));
        let mp = dir.join("manifest.json");
        *files += 1;
        let m = match self.read_manifest_at(&mp) {
            Ok(m) => m,
            Err(e) => {
                damage(&mp, r, s, e.to_string());
                return;
            }
        };
        // Core tables: loaded and validated together, as `load` does; a
        // failure is blamed on the file it names when it names one.
        let mut core_ok = true;
        for t in TableName::ALL {
            if let Some(file) = m.manifest.tables.get(t.as_str()) {
                *files += 1;
                let p = dir.join(file);
                if let Err(e) = read_parquet_file(&p) {
                    core_ok = false;
                    damage(&p, r, s, e.to_string());
                }
            }
        }
        if core_ok {
            if let Err(e) = self.load_unlocked(room, session, &m) {
                damage(&mp, r, s, format!("the session does not load: {e}"));
            }
        }
        // Derived tables.
        let mut entries: Vec<_> = fs::read_dir(dir)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        entries.sort();
        for p in entries {
            let Some(stem) = p
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".parquet"))
            else {
                continue;
            };
            if stem.starts_with('.') || TableName::parse(stem).is_some() {
                continue;
            }
            *files += 1;
            if let Err(e) = read_parquet_file(&p) {
                damage(&p, r, s, e.to_string());
            }
        }
        // Copied recordings against the digest recorded at import.
        for rec in &m.manifest.session.recordings {
            let path = Path::new(&rec.path);
            if path.is_absolute() {
                continue; // referenced, not stored
            }
            let p = dir.join(path);
            *files += 1;
            match super::file_digest(&p) {
                Ok((size, sha)) => {
                    if rec.sha256.as_ref().is_some_and(|x| *x != sha)
                        || rec.size_bytes.is_some_and(|x| x != size)
                    {
                        damage(
                            &p,
                            r,
                            s,
                            "the copied recording differs from the one imported (size or sha256)"
                                .into(),
                        );
                    }
                }
                Err(e) => damage(&p, r, s, e.to_string()),
            }
        }
    }
}

fn out_push(
    root: &Path,
    out: &mut Vec<Damage>,
    path: &Path,
    room: Option<&str>,
    session: Option<&str>,
    problem: String,
) {
    out.push(Damage {
        path: path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string(),
        room_id: room.map(str::to_string),
        session_id: session.map(str::to_string),
        problem,
    });
}
