//! Reading a store: rooms, sessions and their manifests, whole sessions, and
//! single tables as stored.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use arrow_array::RecordBatch;
use serde::{Deserialize, Serialize};

use super::layout::{id_arg, stored_load_options};
use super::{Store, StoredManifest};
use crate::error::{Problem, Result, VapError};
use crate::ingest::{self, TableInput};
use crate::schema::{Ms, Room, SessionData};
use crate::table::TableName;

/// A session as listed by [`Store::sessions`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Room id.
    pub room_id: String,
    /// Session id.
    pub session_id: String,
    /// Start, ms UTC.
    pub start_ms: Ms,
    /// End, ms UTC.
    pub end_ms: Ms,
    /// Row counts per table (core and derived), from the Parquet footers.
    pub rows: BTreeMap<String, usize>,
    /// Derived tables present (every `<name>.parquet` that is not a core table).
    pub derived: Vec<String>,
    /// What could not be read while listing, one line per file (an
    /// unreadable manifest, a table file whose footer is damaged); empty for
    /// a sound session. A session whose manifest cannot be read is listed
    /// under its directory name with `start_ms` and `end_ms` 0.
    /// [`Store::check`] reads every file whole.
    pub damage: Vec<String>,
}

impl Store {
    /// Rooms in the store, sorted by id.
    pub fn rooms(&self) -> Result<Vec<Room>> {
        let _lock = self.lock(false)?;
        self.rooms_unlocked()
    }

    fn rooms_unlocked(&self) -> Result<Vec<Room>> {
        let mut out = Vec::new();
        let dir = self.rooms_dir();
        for e in fs::read_dir(&dir).map_err(|e| VapError::io(&dir, e))? {
            let p = e.map_err(|e| VapError::io(&dir, e))?.path();
            let rp = p.join("room.json");
            if !rp.is_file() {
                continue;
            }
            let text = fs::read_to_string(&rp).map_err(|e| VapError::io(&rp, e))?;
            out.push(
                serde_json::from_str(&text).map_err(|e| VapError::format(&rp, e.to_string()))?,
            );
        }
        out.sort_by(|a: &Room, b: &Room| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Sessions of one room, or of every room, sorted by (room, start, id).
    pub fn sessions(&self, room: Option<&str>) -> Result<Vec<SessionInfo>> {
        let _lock = self.lock(false)?;
        let rooms: Vec<String> = match room {
            Some(r) => {
                if !self.room_dir(id_arg(r)?).join("room.json").is_file() {
                    return Err(VapError::NotFound(format!("room '{r}'")));
                }
                vec![r.to_string()]
            }
            // Room directories, not their room.json: a damaged room.json
            // does not hide the sessions of any room.
            None => {
                let dir = self.rooms_dir();
                let mut ids = Vec::new();
                if let Ok(rd) = fs::read_dir(&dir) {
                    for e in rd.flatten() {
                        let name = e.file_name().to_string_lossy().to_string();
                        if !name.starts_with('.') && e.path().join("room.json").is_file() {
                            ids.push(name);
                        }
                    }
                }
                ids.sort();
                ids
            }
        };
        let mut out = Vec::new();
        for r in rooms {
            let sdir = self.room_dir(&r).join("sessions");
            let Ok(entries) = fs::read_dir(&sdir) else {
                continue;
            };
            for e in entries.flatten() {
                let dir = e.path();
                let mp = dir.join("manifest.json");
                let name = e.file_name().to_string_lossy().to_string();
                if name.starts_with('.') || !mp.is_file() {
                    continue;
                }
                // One damaged session is reported in its entry; the rest list.
                let (rows, derived, mut damage) = table_files(&dir);
                let info = match self.read_manifest_at(&mp) {
                    Ok(m) => SessionInfo {
                        room_id: r.clone(),
                        session_id: m.manifest.session.id.clone(),
                        start_ms: m.manifest.session.start_ms,
                        end_ms: m.manifest.session.end_ms,
                        rows,
                        derived,
                        damage,
                    },
                    Err(err) => {
                        damage.insert(0, err.to_string());
                        SessionInfo {
                            room_id: r.clone(),
                            session_id: name,
                            start_ms: 0,
                            end_ms: 0,
                            rows,
                            derived,
                            damage,
                        }
                    }
                };
                out.push(info);
            }
        }
        out.sort_by(|a, b| {
            (&a.room_id, a.start_ms, &a.session_id).cmp(&(&b.room_id, b.start_ms, &b.session_id))
        });
        Ok(out)
    }

    pub(super) fn read_manifest_at(&self, mp: &Path) -> Result<StoredManifest> {
        let text = fs::read_to_string(mp).map_err(|e| VapError::io(mp, e))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| VapError::format(mp, e.to_string()))?;
        let version = v.get("vap_format").and_then(|x| x.as_u64()).unwrap_or(0);
        if version > ingest::MANIFEST_VERSION as u64 {
            return Err(VapError::Version {
                what: format!("manifest {}", mp.display()),
                found: version.min(u32::MAX as u64) as u32,
                supported: ingest::MANIFEST_VERSION,
            });
        }
        serde_json::from_value(v).map_err(|e| VapError::format(mp, e.to_string()))
    }

    /// The stored manifest of a session.
    pub fn manifest(&self, room: &str, session: &str) -> Result<StoredManifest> {
        let _lock = self.lock(false)?;
        self.manifest_unlocked(room, session)
    }

    pub(super) fn manifest_unlocked(&self, room: &str, session: &str) -> Result<StoredManifest> {
        let dir = self.session_dir(room, session)?;
        let mp = dir.join("manifest.json");
        if !mp.is_file() {
            return Err(VapError::NotFound(format!("session '{room}/{session}'")));
        }
        self.read_manifest_at(&mp)
    }

    /// Whether a session exists.
    pub fn contains(&self, room: &str, session: &str) -> Result<bool> {
        let _lock = self.lock(false)?;
        Ok(self
            .session_dir(room, session)?
            .join("manifest.json")
            .is_file())
    }

    /// Loads a stored session.
    pub fn load(&self, room: &str, session: &str) -> Result<SessionData> {
        let _lock = self.lock(false)?;
        let m = self.manifest_unlocked(room, session)?;
        self.load_unlocked(room, session, &m)
    }

    pub(super) fn load_unlocked(
        &self,
        room: &str,
        session: &str,
        m: &StoredManifest,
    ) -> Result<SessionData> {
        let dir = self.session_dir(room, session)?;
        let mut files = Vec::new();
        for t in TableName::ALL {
            let Some(file) = m.manifest.tables.get(t.as_str()) else {
                continue;
            };
            let p = dir.join(file);
            if !fs::symlink_metadata(&p).is_ok_and(|m| m.is_file()) {
                return Err(VapError::format(
                    &p,
                    format!(
                        "table '{}' named by the manifest is missing or not a regular file",
                        t.as_str()
                    ),
                ));
            }
            files.push((t, p));
        }
        // Tables read and decoded in parallel, kept in order.
        use rayon::prelude::*;
        /// A table read (or the problems of a file that cannot be), or an
        /// I/O error.
        type Read = Result<std::result::Result<(TableName, TableInput), Vec<Problem>>>;
        let read: Vec<Read> = crate::threads::install(|| {
            files
                .par_iter()
                .map(|(t, p)| {
                    let bytes = bytes::Bytes::from(fs::read(p).map_err(|e| VapError::io(p, e))?);
                    let source = p.display().to_string();
                    // vap wrote this file with the documented schema: read
                    // its columns directly (with the embedded Arrow
                    // types); the general path reads anything that is
                    // not so, naming every problem.
                    Ok(match ingest::decode_parquet(bytes.clone(), true) {
                        Ok(batches) => Ok((*t, TableInput::Batches(source.into(), batches))),
                        Err(_) => ingest::read_parquet_bytes(&source, bytes.to_vec())
                            .map(|raw| (*t, TableInput::Raw(raw))),
                    })
                })
                .collect()
        });
        let mut raws = Vec::new();
        let mut problems = Vec::new();
        for r in read {
            match r? {
                Ok(x) => raws.push(x),
                Err(ps) => problems.extend(ps),
            }
        }
        if !problems.is_empty() {
            return Err(VapError::Validation(problems));
        }
        let mut manifest = m.manifest.clone();
        manifest.tables.clear();
        Ok(ingest::from_table_inputs(manifest, raws, &stored_load_options())?.0)
    }

    /// Every stored session of a room, loaded in parallel, in order of start
    /// (then id). A room without sessions is [`VapError::NotFound`].
    ///
    /// This holds the whole history in memory; what needs one result per
    /// session (a timeline, a digest) reads the room with [`Store::map_room`].
    pub fn load_room(&self, room: &str) -> Result<Vec<SessionData>> {
        self.map_room(room, Ok)
    }

    /// Every stored session of a room, in order of start (then id), each
    /// loaded and handed to `each`, its data dropped as soon as `each`
    /// returns: sessions are read in parallel, but no more of them are in
    /// memory at once than there are threads. The results keep the sessions'
    /// order whatever the thread count. A room without sessions is
    /// [`VapError::NotFound`]; the first error (in session order) is returned.
    pub fn map_room<T, F>(&self, room: &str, each: F) -> Result<Vec<T>>
    where
        T: Send,
        F: Fn(SessionData) -> Result<T> + Sync,
    {
        self.map_room_as("sessions", room, each)
    }

    /// [`Store::map_room`], its progress steps counted as `stage` (a call
    /// that reads the room twice names its passes apart).
    pub(crate) fn map_room_as<T, F>(&self, stage: &str, room: &str, each: F) -> Result<Vec<T>>
    where
        T: Send,
        F: Fn(SessionData) -> Result<T> + Sync,
    {
        let mut infos = self.sessions(Some(room))?;
        if infos.is_empty() {
            return Err(VapError::NotFound(format!(
                "room '{room}' has no sessions in the store"
            )));
        }
        sort_sessions(&mut infos);
        par_sessions_as(stage, &infos, |i| each(self.load(room, &i.session_id)?))
    }

    /// Reads one table (core or derived) of a stored session as Arrow batches,
    /// exactly as stored (with `room_id` / `session_id` columns for core tables).
    pub fn read_table(&self, room: &str, session: &str, name: &str) -> Result<Vec<RecordBatch>> {
        id_arg(name)?;
        let _lock = self.lock(false)?;
        self.manifest_unlocked(room, session)?;
        let p = self
            .session_dir(room, session)?
            .join(format!("{name}.parquet"));
        if !p.is_file() {
            return Err(VapError::NotFound(format!(
                "table '{name}' of session '{room}/{session}'"
            )));
        }
        read_parquet_file(&p)
    }
}

/// Sessions in order of start, then id.
pub(crate) fn sort_sessions(infos: &mut [SessionInfo]) {
    infos.sort_by(|a, b| (a.start_ms, &a.session_id).cmp(&(b.start_ms, &b.session_id)));
}

/// `each` over `infos` in parallel (the thread setting's pool), results in
/// their order, the first error in that order returned; a step of the
/// current [`crate::job::Job`] after each session.
pub(crate) fn par_sessions<T, F>(infos: &[SessionInfo], each: F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(&SessionInfo) -> Result<T> + Sync,
{
    par_sessions_as("sessions", infos, each)
}

/// [`par_sessions`], its steps counted as `stage`.
pub(crate) fn par_sessions_as<T, F>(stage: &str, infos: &[SessionInfo], each: F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(&SessionInfo) -> Result<T> + Sync,
{
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    // Progress and stopping: one step a session (`crate::job`). Each
    // session runs under the job, on whichever thread takes it.
    let job = crate::job::Job::current();
    job.check()?;
    let done = AtomicUsize::new(0);
    crate::threads::install(|| {
        infos
            .par_iter()
            .map(|i| {
                let t = job.run(|| each(i))?;
                let d = done.fetch_add(1, Ordering::SeqCst) + 1;
                job.step(stage, d, infos.len())?;
                Ok(t)
            })
            .collect::<Result<Vec<_>>>()
    })
}

pub(super) fn read_parquet_file(p: &Path) -> Result<Vec<RecordBatch>> {
    let bytes = fs::read(p).map_err(|e| VapError::io(p, e))?;
    ingest::decode_parquet(bytes::Bytes::from(bytes), true).map_err(|m| VapError::format(p, m))
}

/// Row counts of every table file of a session directory, the derived ones,
/// and one line for each file whose footer cannot be read.
pub(super) fn table_files(dir: &Path) -> (BTreeMap<String, usize>, Vec<String>, Vec<String>) {
    let mut rows = BTreeMap::new();
    let mut derived = Vec::new();
    let mut damage = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => return (rows, derived, vec![format!("{}: {e}", dir.display())]),
    };
    for e in entries.flatten() {
        let p = e.path();
        let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".parquet") else {
            continue;
        };
        if stem.starts_with('.') {
            continue;
        }
        if TableName::parse(stem).is_none() {
            derived.push(stem.to_string());
        }
        match ingest::parquet_row_count(&p) {
            Ok(n) => {
                rows.insert(stem.to_string(), n);
            }
            Err(m) => damage.push(format!("{}: {m}", p.display())),
        }
    }
    derived.sort();
    damage.sort();
    (rows, derived, damage)
}
