//! The embedded store: a directory of rooms and sessions, each session's tables
//! as Parquet files that other engines read directly.
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
//! table's columns ([`TableName::arrow_schema`]); times are
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

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow_array::RecordBatch;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Problem, Result, VapError};
use crate::io::{self, LoadOptions, Manifest};
use crate::schema::*;
use crate::table::TableName;
use crate::text::Encoding;

/// Newest store format this version reads and writes.
pub const STORE_VERSION: u32 = 1;

pub use crate::ids::check_id;

fn id_arg(id: &str) -> Result<&str> {
    check_id(id).map_err(VapError::InvalidArgument)?;
    Ok(id)
}

#[derive(Debug, Serialize, Deserialize)]
struct StoreMeta {
    format: String,
    version: u32,
}

/// The manifest of a stored session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredManifest {
    /// Session manifest (`tables` maps each core table to its file).
    #[serde(flatten)]
    pub manifest: Manifest,
}

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
}

/// Options for [`Store::import`].
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportOptions {
    /// Replace the session if it exists (otherwise an import of an existing
    /// session fails with [`VapError::AlreadyExists`]).
    pub replace: bool,
    /// Copy recordings into the session's `media/` folder instead of only
    /// referencing them (path, size, sha256).
    pub copy_recordings: bool,
}

impl crate::options::Options for ImportOptions {
    const WHAT: &'static str = "import options";
}

/// Splits the options of an import from a directory or tables: `replace` and
/// `copy_recordings` are [`ImportOptions`], the rest [`LoadOptions`]
/// (`camel`: keys in Node's camelCase).
///
/// ```
/// use vap_core::store::import_request;
/// let (load, import) = import_request(
///     serde_json::json!({"replace": true, "outside_tolerance": "30min"}),
///     false,
/// ).unwrap();
/// assert!(import.replace);
/// assert_eq!(load.outside_tolerance_ms, 1_800_000);
/// ```
pub fn import_request(v: serde_json::Value, camel: bool) -> Result<(LoadOptions, ImportOptions)> {
    use crate::options::{snake_keys, Options};
    let v = if camel { snake_keys(v, &[]) } else { v };
    let mut map = crate::options::object_of(ImportOptions::WHAT, v)?;
    let mut import = serde_json::Map::new();
    for k in ["replace", "copy_recordings"] {
        if let Some(v) = map.remove(k) {
            import.insert(k.to_string(), v);
        }
    }
    Ok((
        LoadOptions::from_value(serde_json::Value::Object(map))?,
        ImportOptions::from_value(serde_json::Value::Object(import))?,
    ))
}

type FaultFn = dyn Fn(&str) -> std::io::Result<()> + Send + Sync;

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

#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    target: PathBuf,
    backup: PathBuf,
}

static TX: AtomicU64 = AtomicU64::new(0);

fn txid() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        nanos,
        TX.fetch_add(1, Ordering::Relaxed)
    )
}

fn sync_dir(p: &Path) {
    // Durability of renames; best effort (not every platform can open a dir).
    if let Ok(f) = fs::File::open(p) {
        let _ = f.sync_all();
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Writes a file atomically: aside, synced, then renamed over the target.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", txid()));
    write_synced(&tmp, bytes).map_err(|e| VapError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        VapError::io(path, e)
    })?;
    if let Some(p) = path.parent() {
        sync_dir(p);
    }
    Ok(())
}

/// sha256 (lower-case hex) and size of a file, streamed.
pub fn file_digest(path: &Path) -> Result<(u64, String)> {
    let mut f = fs::File::open(path).map_err(|e| VapError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| VapError::io(path, e))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((size, hex))
}

impl Store {
    /// Opens the store at `path`, creating it if the directory is missing or
    /// empty. Finishes or rolls back interrupted imports. A store written by a
    /// newer vap is refused with [`VapError::Version`].
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let root = path.as_ref().to_path_buf();
        let meta_path = root.join("vap-store.json");
        if !meta_path.is_file() && root.is_dir() {
            // Another process may be creating the store right now: its lock file
            // and the meta file being written aside are not "someone's data".
            let non_empty = fs::read_dir(&root)
                .map_err(|e| VapError::io(&root, e))?
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
        fs::create_dir_all(&root).map_err(|e| VapError::io(&root, e))?;
        let store = Store {
            root: root.clone(),
            fault: None,
        };
        {
            let _lock = store.lock(true)?;
            if meta_path.is_file() {
                let text =
                    fs::read_to_string(&meta_path).map_err(|e| VapError::io(&meta_path, e))?;
                let meta: StoreMeta = serde_json::from_str(&text).map_err(|e| {
                    VapError::format(&meta_path, format!("not a vap store file: {e}"))
                })?;
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
            fs::create_dir_all(root.join("rooms")).map_err(|e| VapError::io(&root, e))?;
            store.recover()?;
        }
        Ok(store)
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Test hook (feature `testing`): `f(step)` runs before each write step of
    /// an import, replace or delete; returning an error makes that step fail.
    /// Used by the crash and failure-injection tests.
    #[cfg(feature = "testing")]
    #[doc(hidden)]
    pub fn set_fault_injector(
        &mut self,
        f: impl Fn(&str) -> std::io::Result<()> + Send + Sync + 'static,
    ) {
        self.fault = Some(Arc::new(f));
    }

    fn step(&self, name: &str, path: &Path) -> Result<()> {
        if let Some(f) = &self.fault {
            f(name).map_err(|e| VapError::io(path, e))?;
        }
        Ok(())
    }

    fn rooms_dir(&self) -> PathBuf {
        self.root.join("rooms")
    }

    fn room_dir(&self, room: &str) -> PathBuf {
        self.rooms_dir().join(room)
    }

    /// Directory of a stored session.
    pub fn session_dir(&self, room: &str, session: &str) -> Result<PathBuf> {
        Ok(self
            .room_dir(id_arg(room)?)
            .join("sessions")
            .join(id_arg(session)?))
    }

    /// Takes the store's advisory lock (exclusive for writers); released on drop.
    fn lock(&self, exclusive: bool) -> Result<fs::File> {
        let p = self.root.join(".lock");
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&p)
            .map_err(|e| VapError::io(&p, e))?;
        if exclusive { f.lock() } else { f.lock_shared() }.map_err(|e| VapError::io(&p, e))?;
        Ok(f)
    }

    /// Removes the housekeeping directories when they are empty.
    fn tidy(&self) {
        for d in [".staging", ".trash", ".journal"] {
            let _ = fs::remove_dir(self.root.join(d));
        }
    }

    fn recover(&self) -> Result<()> {
        let jdir = self.root.join(".journal");
        if jdir.is_dir() {
            for entry in fs::read_dir(&jdir).map_err(|e| VapError::io(&jdir, e))? {
                let p = entry.map_err(|e| VapError::io(&jdir, e))?.path();
                let text = fs::read_to_string(&p).map_err(|e| VapError::io(&p, e))?;
                // A journal is written whole before anything moves; one that does
                // not parse means the store was damaged from outside: stop rather
                // than throw away the backup it may point to.
                let j: Journal = serde_json::from_str(&text).map_err(|e| {
                    VapError::format(
                        &p,
                        format!(
                            "unreadable store journal ({e}); the backup it names is kept in .trash"
                        ),
                    )
                })?;
                let target = self.root.join(&j.target);
                let backup = self.root.join(&j.backup);
                if !target.exists() && backup.exists() {
                    // Interrupted before the commit rename: restore the old session.
                    fs::rename(&backup, &target).map_err(|e| VapError::io(&target, e))?;
                }
                fs::remove_file(&p).map_err(|e| VapError::io(&p, e))?;
            }
        }
        for d in [".staging", ".trash", ".journal"] {
            let p = self.root.join(d);
            if p.exists() {
                fs::remove_dir_all(&p).map_err(|e| VapError::io(&p, e))?;
            }
        }
        // Leftover temporary files of atomic single-file writes.
        if let Ok(rooms) = fs::read_dir(self.rooms_dir()) {
            for r in rooms.flatten() {
                remove_tmp_files(&r.path());
                if let Ok(sessions) = fs::read_dir(r.path().join("sessions")) {
                    for s in sessions.flatten() {
                        remove_tmp_files(&s.path());
                    }
                }
            }
        }
        Ok(())
    }

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
            None => self.rooms_unlocked()?.into_iter().map(|r| r.id).collect(),
        };
        let mut out = Vec::new();
        for r in rooms {
            let sdir = self.room_dir(&r).join("sessions");
            let Ok(entries) = fs::read_dir(&sdir) else {
                continue;
            };
            for e in entries.flatten() {
                let mp = e.path().join("manifest.json");
                if !mp.is_file() {
                    continue;
                }
                let m = self.read_manifest_at(&mp)?;
                let (rows, derived) = table_files(&e.path())?;
                out.push(SessionInfo {
                    room_id: r.clone(),
                    session_id: m.manifest.session.id.clone(),
                    start_ms: m.manifest.session.start_ms,
                    end_ms: m.manifest.session.end_ms,
                    rows,
                    derived,
                });
            }
        }
        out.sort_by(|a, b| {
            (&a.room_id, a.start_ms, &a.session_id).cmp(&(&b.room_id, b.start_ms, &b.session_id))
        });
        Ok(out)
    }

    fn read_manifest_at(&self, mp: &Path) -> Result<StoredManifest> {
        let text = fs::read_to_string(mp).map_err(|e| VapError::io(mp, e))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| VapError::format(mp, e.to_string()))?;
        let version = v.get("vap_format").and_then(|x| x.as_u64()).unwrap_or(0);
        if version > io::MANIFEST_VERSION as u64 {
            return Err(VapError::Version {
                what: format!("manifest {}", mp.display()),
                found: version.min(u32::MAX as u64) as u32,
                supported: io::MANIFEST_VERSION,
            });
        }
        serde_json::from_value(v).map_err(|e| VapError::format(mp, e.to_string()))
    }

    /// The stored manifest of a session.
    pub fn manifest(&self, room: &str, session: &str) -> Result<StoredManifest> {
        let _lock = self.lock(false)?;
        self.manifest_unlocked(room, session)
    }

    fn manifest_unlocked(&self, room: &str, session: &str) -> Result<StoredManifest> {
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

    fn load_unlocked(&self, room: &str, session: &str, m: &StoredManifest) -> Result<SessionData> {
        let dir = self.session_dir(room, session)?;
        let mut raws = Vec::new();
        let mut problems = Vec::new();
        for t in TableName::ALL {
            let Some(file) = m.manifest.tables.get(t.as_str()) else {
                continue;
            };
            let p = dir.join(file);
            let bytes = fs::read(&p).map_err(|e| VapError::io(&p, e))?;
            match io::read_parquet_bytes(&p.display().to_string(), bytes) {
                Ok(raw) => raws.push((t, raw)),
                Err(ps) => problems.extend(ps),
            }
        }
        if !problems.is_empty() {
            return Err(VapError::Validation(problems));
        }
        let mut manifest = m.manifest.clone();
        manifest.tables.clear();
        Ok(io::from_raw_tables(manifest, raws, &stored_load_options())?.0)
    }

    /// Loads a session directory and imports it. Relative recording paths are
    /// resolved against `dir`.
    pub fn import_dir(
        &self,
        dir: impl AsRef<Path>,
        load: &LoadOptions,
        opts: &ImportOptions,
    ) -> Result<SessionData> {
        let dir = dir.as_ref();
        let (mut data, _) = io::load_dir(dir, load)?;
        for r in &mut data.session.recordings {
            let p = Path::new(&r.path);
            if p.is_relative() {
                r.path = dir.join(p).display().to_string();
            }
        }
        self.import(&data, opts)?;
        Ok(data)
    }

    /// Imports a validated session atomically. Recordings are registered with
    /// their size and sha256 (and copied when asked); a missing recording file
    /// is an error.
    pub fn import(&self, data: &SessionData, opts: &ImportOptions) -> Result<()> {
        let room = id_arg(&data.room.id)?.to_string();
        let session = id_arg(&data.session.id)?.to_string();
        // What is stored must load back: the loaders' rules, before any write.
        io::validate_session(data, &stored_load_options())?;
        let _lock = self.lock(true)?;
        let target = self.session_dir(&room, &session)?;
        let exists = target.join("manifest.json").is_file();
        if exists && !opts.replace {
            return Err(VapError::AlreadyExists(format!(
                "session '{room}/{session}' is in the store; pass replace=true to replace it"
            )));
        }
        // Register recordings before writing anything.
        let mut data_ref = std::borrow::Cow::Borrowed(data);
        let mut problems = Vec::new();
        let recordings: &mut [VideoRef] = if data.session.recordings.is_empty() {
            &mut []
        } else {
            &mut data_ref.to_mut().session.recordings
        };
        for (i, r) in recordings.iter_mut().enumerate() {
            match file_digest(Path::new(&r.path)) {
                Ok((size, sha)) => {
                    r.size_bytes = Some(size);
                    r.sha256 = Some(sha);
                }
                Err(e) => problems.push(Problem::new(
                    "manifest.json",
                    Some(i + 1),
                    Some("session.recordings.path"),
                    format!("recording cannot be read: {e}"),
                )),
            }
        }
        if !problems.is_empty() {
            return Err(VapError::Validation(problems));
        }

        let tx = txid();
        let staging_root = self.root.join(".staging").join(&tx);
        let room_exists = self.room_dir(&room).join("room.json").is_file();
        // When the room is new, the whole room directory is staged and renamed.
        let (stage_session, stage_commit, commit_target) = if room_exists {
            (
                staging_root.join("session"),
                staging_root.join("session"),
                target.clone(),
            )
        } else {
            let r = staging_root.join("room");
            (r.join("sessions").join(&session), r, self.room_dir(&room))
        };
        let result = (|| -> Result<()> {
            fs::create_dir_all(&stage_session).map_err(|e| VapError::io(&stage_session, e))?;
            if !room_exists {
                let rp = stage_commit.join("room.json");
                self.step("write:room", &rp)?;
                write_synced(
                    &rp,
                    &serde_json::to_vec_pretty(&data.room).expect("serialisable"),
                )
                .map_err(|e| VapError::io(&rp, e))?;
            }
            self.write_session_files(&data_ref, &stage_session, opts)?;
            Ok(())
        })();
        if let Err(e) = result {
            let _ = fs::remove_dir_all(&staging_root);
            self.tidy();
            return Err(e);
        }
        let committed = self.commit(&tx, &stage_commit, &commit_target, exists);
        let _ = fs::remove_dir_all(&staging_root);
        self.tidy();
        committed?;
        if room_exists {
            // Keep room metadata current (name, platform); atomic single-file write.
            let rp = self.room_dir(&room).join("room.json");
            let _ = write_atomic(
                &rp,
                &serde_json::to_vec_pretty(&data.room).expect("serialisable"),
            );
        }
        Ok(())
    }

    fn write_session_files(
        &self,
        data: &SessionData,
        dir: &Path,
        opts: &ImportOptions,
    ) -> Result<()> {
        let mut manifest = Manifest::of(data);
        for t in TableName::ALL {
            let file = format!("{}.parquet", t.as_str());
            let p = dir.join(&file);
            self.step(&format!("write:{}", t.as_str()), &p)?;
            let bytes = io::table_bytes(data, t, io::Format::Parquet, Encoding::Utf8, true)?;
            write_synced(&p, &bytes).map_err(|e| VapError::io(&p, e))?;
            manifest.tables.insert(t.as_str().to_string(), file);
        }
        if opts.copy_recordings && !data.session.recordings.is_empty() {
            let media = dir.join("media");
            fs::create_dir_all(&media).map_err(|e| VapError::io(&media, e))?;
            for (i, r) in manifest.session.recordings.iter_mut().enumerate() {
                let src = PathBuf::from(&r.path);
                let name = src
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("recording");
                let rel = format!("media/{i}-{name}");
                let dst = dir.join(&rel);
                self.step("write:media", &dst)?;
                fs::copy(&src, &dst).map_err(|e| VapError::io(&dst, e))?;
                r.path = rel;
            }
        }
        let stored = StoredManifest { manifest };
        let mp = dir.join("manifest.json");
        self.step("write:manifest", &mp)?;
        write_synced(
            &mp,
            &serde_json::to_vec_pretty(&stored).expect("serialisable"),
        )
        .map_err(|e| VapError::io(&mp, e))?;
        sync_dir(dir);
        Ok(())
    }

    /// Moves `staged` to `target`, replacing an existing target through the
    /// journal so that a crash at any point is recoverable.
    fn commit(&self, tx: &str, staged: &Path, target: &Path, replacing: bool) -> Result<()> {
        let parent = target.parent().expect("target has a parent");
        fs::create_dir_all(parent).map_err(|e| VapError::io(parent, e))?;
        if !replacing {
            self.step("commit", target)?;
            fs::rename(staged, target).map_err(|e| VapError::io(target, e))?;
            sync_dir(parent);
            return Ok(());
        }
        let jdir = self.root.join(".journal");
        let tdir = self.root.join(".trash");
        fs::create_dir_all(&jdir).map_err(|e| VapError::io(&jdir, e))?;
        fs::create_dir_all(&tdir).map_err(|e| VapError::io(&tdir, e))?;
        let backup = tdir.join(tx);
        let rel = |p: &Path| p.strip_prefix(&self.root).unwrap_or(p).to_path_buf();
        let journal = Journal {
            target: rel(target),
            backup: rel(&backup),
        };
        let jp = jdir.join(format!("{tx}.json"));
        self.step("journal", &jp)?;
        write_synced(&jp, &serde_json::to_vec(&journal).expect("serialisable"))
            .map_err(|e| VapError::io(&jp, e))?;
        sync_dir(&jdir);
        let undo = |e: VapError| -> VapError {
            if !target.exists() && backup.exists() {
                let _ = fs::rename(&backup, target);
            }
            let _ = fs::remove_file(&jp);
            e
        };
        self.step("backup", target).map_err(undo)?;
        fs::rename(target, &backup).map_err(|e| undo(VapError::io(target, e)))?;
        self.step("commit", target).map_err(undo)?;
        fs::rename(staged, target).map_err(|e| undo(VapError::io(target, e)))?;
        sync_dir(parent);
        // Committed. Cleanup failures leave garbage that the next open removes.
        if self.step("cleanup", &backup).is_ok() {
            let _ = fs::remove_file(&jp);
            let _ = fs::remove_dir_all(&backup);
        }
        Ok(())
    }

    /// Deletes a session (its directory moves to `.trash/` and is removed).
    pub fn delete(&self, room: &str, session: &str) -> Result<()> {
        let target = self.session_dir(room, session)?;
        let _lock = self.lock(true)?;
        if !target.join("manifest.json").is_file() {
            return Err(VapError::NotFound(format!("session '{room}/{session}'")));
        }
        let tdir = self.root.join(".trash");
        fs::create_dir_all(&tdir).map_err(|e| VapError::io(&tdir, e))?;
        let dst = tdir.join(txid());
        let res = self
            .step("delete", &target)
            .and_then(|_| fs::rename(&target, &dst).map_err(|e| VapError::io(&target, e)));
        let _ = fs::remove_dir_all(&dst);
        self.tidy();
        res
    }

    /// Replaces (or adds) one table of a stored session atomically.
    ///
    /// A core table (`orders`, `utterances`, ...) is validated against the rest of
    /// the session first, then written with the documented schema. Any other
    /// name is a derived table (timelines, moments, models...), stored as given
    /// under `<name>.parquet` and listed in the manifest's `derived`.
    pub fn replace_table(
        &self,
        room: &str,
        session: &str,
        name: &str,
        batches: &[RecordBatch],
    ) -> Result<()> {
        id_arg(name)?;
        let _lock = self.lock(true)?;
        let stored = self.manifest_unlocked(room, session)?;
        let dir = self.session_dir(room, session)?;
        let bytes = if let Some(t) = TableName::parse(name) {
            let data = self.load_unlocked(room, session, &stored)?;
            let mut problems = Vec::new();
            let raw = crate::table::raw_from_batches(name, batches, &mut problems);
            if !problems.is_empty() {
                return Err(VapError::Validation(problems));
            }
            let mut manifest = stored.manifest.clone();
            manifest.tables.clear();
            let mut raws: Vec<(TableName, crate::table::RawTable)> = TableName::ALL
                .into_iter()
                .filter(|x| *x != t)
                .map(|x| {
                    let batch = crate::table::to_record_batch(&data, x, false);
                    let mut p = Vec::new();
                    (
                        x,
                        crate::table::raw_from_batches(x.as_str(), &[batch], &mut p),
                    )
                })
                .collect();
            raws.push((t, raw));
            let new = io::from_raw_tables(manifest, raws, &stored_load_options())?.0;
            io::table_bytes(&new, t, io::Format::Parquet, Encoding::Utf8, true)?
        } else {
            let Some(first) = batches.first() else {
                return Err(VapError::InvalidArgument(format!(
                    "no batches given for table '{name}'"
                )));
            };
            let batch = arrow_select_concat(first, batches)?;
            if batch.num_columns() == 0 {
                return Err(VapError::InvalidArgument(format!(
                    "table '{name}' has no columns"
                )));
            }
            io::parquet_bytes(&batch)?
        };
        let path = dir.join(format!("{name}.parquet"));
        self.step(&format!("write:{name}"), &path)?;
        // The rename inside is the whole change: nothing else records the table.
        write_atomic(&path, &bytes)
    }

    /// Changes a stored session through `f` and replaces it atomically: the
    /// session (manifest and every core table) is written anew under
    /// `.staging/`, derived tables, copied media and work files are carried
    /// over (hard-linked where the file system allows), and the directory is
    /// swapped in through the journal, as an import with `replace` does. A
    /// crash at any point leaves exactly the old session or exactly the new
    /// one. The work areas named in `drop_work` are not carried over (the
    /// change supersedes them). Returns the session as stored.
    ///
    /// `f` runs under the store's exclusive lock: it must not call this
    /// store (or another handle on it) itself, or it waits forever.
    pub fn update_session(
        &self,
        room: &str,
        session: &str,
        drop_work: &[&str],
        f: impl FnOnce(&mut SessionData) -> Result<()>,
    ) -> Result<SessionData> {
        let _lock = self.lock(true)?;
        let stored = self.manifest_unlocked(room, session)?;
        let mut data = self.load_unlocked(room, session, &stored)?;
        f(&mut data)?;
        if data.room.id != room || data.session.id != session {
            return Err(VapError::InvalidArgument(format!(
                "an update of '{room}/{session}' cannot change the room or session id"
            )));
        }
        io::validate_session(&data, &stored_load_options())?;
        let target = self.session_dir(room, session)?;
        let tx = txid();
        let staging_root = self.root.join(".staging").join(&tx);
        let stage = staging_root.join("session");
        let result = (|| -> Result<()> {
            fs::create_dir_all(&stage).map_err(|e| VapError::io(&stage, e))?;
            let core: Vec<String> = TableName::ALL
                .iter()
                .map(|t| format!("{}.parquet", t.as_str()))
                .collect();
            for e in fs::read_dir(&target).map_err(|e| VapError::io(&target, e))? {
                let e = e.map_err(|e| VapError::io(&target, e))?;
                let name = e.file_name().to_string_lossy().to_string();
                if name == "manifest.json" || core.contains(&name) || name.starts_with('.') {
                    continue;
                }
                let src = e.path();
                let dst = stage.join(&name);
                self.step(&format!("carry:{name}"), &dst)?;
                if name == "work" {
                    link_tree(&src, &dst, &|rel: &Path| {
                        rel.components().next().is_some_and(|c| {
                            drop_work
                                .iter()
                                .any(|d| c.as_os_str() == std::ffi::OsStr::new(d))
                        })
                    })?;
                } else {
                    link_tree(&src, &dst, &|_| false)?;
                }
            }
            self.write_session_files(&data, &stage, &ImportOptions::default())?;
            Ok(())
        })();
        if let Err(e) = result {
            let _ = fs::remove_dir_all(&staging_root);
            self.tidy();
            return Err(e);
        }
        let committed = self.commit(&tx, &stage, &target, true);
        let _ = fs::remove_dir_all(&staging_root);
        self.tidy();
        committed?;
        Ok(data)
    }

    /// Saves one work file (a checkpoint of a long job) as
    /// `<session>/work/<area>/<name>`, atomically. Work files survive
    /// [`Store::update_session`] unless it names their area in `drop_work`.
    pub fn save_work(
        &self,
        room: &str,
        session: &str,
        area: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<()> {
        id_arg(area)?;
        id_arg(name)?;
        let _lock = self.lock(true)?;
        self.manifest_unlocked(room, session)?;
        let dir = self.session_dir(room, session)?.join("work").join(area);
        fs::create_dir_all(&dir).map_err(|e| VapError::io(&dir, e))?;
        let p = dir.join(name);
        self.step(&format!("work:{area}"), &p)?;
        write_atomic(&p, bytes)
    }

    /// The work files of one area of a session, `(name, bytes)` sorted by name
    /// (empty when there are none).
    pub fn read_work(
        &self,
        room: &str,
        session: &str,
        area: &str,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        id_arg(area)?;
        let _lock = self.lock(false)?;
        self.manifest_unlocked(room, session)?;
        let dir = self.session_dir(room, session)?.join("work").join(area);
        let mut out = Vec::new();
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => Some(rd),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(VapError::io(&dir, e)),
        };
        if let Some(rd) = rd {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.starts_with('.') || !e.path().is_file() {
                    continue;
                }
                let bytes = fs::read(e.path()).map_err(|err| VapError::io(e.path(), err))?;
                out.push((name, bytes));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Every stored session of a room, loaded in parallel, in order of start
    /// (then id). A room without sessions is [`VapError::NotFound`].
    pub fn load_room(&self, room: &str) -> Result<Vec<SessionData>> {
        use rayon::prelude::*;
        let mut infos = self.sessions(Some(room))?;
        if infos.is_empty() {
            return Err(VapError::NotFound(format!(
                "room '{room}' has no sessions in the store"
            )));
        }
        infos.sort_by(|a, b| (a.start_ms, &a.session_id).cmp(&(b.start_ms, &b.session_id)));
        crate::threads::install(|| {
            infos
                .par_iter()
                .map(|i| self.load(room, &i.session_id))
                .collect::<Result<Vec<_>>>()
        })
    }

    /// Saves a room-level model document (JSON) as
    /// `rooms/<room>/models/<name>.json`, atomically (written aside, renamed
    /// over the old one). The room must exist.
    pub fn save_model(&self, room: &str, name: &str, json: &str) -> Result<()> {
        let room = id_arg(room)?;
        let name = id_arg(name)?;
        let _lock = self.lock(true)?;
        let rd = self.room_dir(room);
        if !rd.join("room.json").exists() {
            return Err(VapError::NotFound(format!(
                "room '{room}' is not in the store"
            )));
        }
        let dir = rd.join("models");
        fs::create_dir_all(&dir).map_err(|e| VapError::io(&dir, e))?;
        self.step("save_model", &dir)?;
        write_atomic(&dir.join(format!("{name}.json")), json.as_bytes())
    }

    /// Reads a model document saved by [`Store::save_model`].
    pub fn load_model(&self, room: &str, name: &str) -> Result<String> {
        let room = id_arg(room)?;
        let name = id_arg(name)?;
        let _lock = self.lock(false)?;
        let p = self
            .room_dir(room)
            .join("models")
            .join(format!("{name}.json"));
        if !p.exists() {
            return Err(VapError::NotFound(format!(
                "room '{room}' has no model '{name}' (looked for {})",
                p.display()
            )));
        }
        fs::read_to_string(&p).map_err(|e| VapError::io(&p, e))
    }

    /// Names of the models saved for a room, sorted.
    pub fn models(&self, room: &str) -> Result<Vec<String>> {
        let room = id_arg(room)?;
        let _lock = self.lock(false)?;
        let dir = self.room_dir(room).join("models");
        let mut out = Vec::new();
        if let Ok(rd) = fs::read_dir(&dir) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                if let Some(stem) = n.strip_suffix(".json") {
                    if !stem.starts_with('.') {
                        out.push(stem.to_string());
                    }
                }
            }
        }
        out.sort();
        Ok(out)
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

/// Recreates the tree `src` at `dst` with hard links (copies where linking
/// fails), leaving out the paths (relative to `src`) that `skip` names.
fn link_tree(src: &Path, dst: &Path, skip: &dyn Fn(&Path) -> bool) -> Result<()> {
    fn walk(root: &Path, dir: &Path, dst: &Path, skip: &dyn Fn(&Path) -> bool) -> Result<()> {
        let rel = dir.strip_prefix(root).unwrap_or(dir);
        if !rel.as_os_str().is_empty() && skip(rel) {
            return Ok(());
        }
        let meta = fs::symlink_metadata(dir).map_err(|e| VapError::io(dir, e))?;
        let out = dst.join(rel);
        if meta.file_type().is_symlink() {
            // Carried as a link, never followed (a linked media folder is not copied).
            let target = fs::read_link(dir).map_err(|e| VapError::io(dir, e))?;
            std::os::unix::fs::symlink(&target, &out).map_err(|e| VapError::io(&out, e))?;
        } else if meta.is_dir() {
            fs::create_dir_all(&out).map_err(|e| VapError::io(&out, e))?;
            for e in fs::read_dir(dir).map_err(|e| VapError::io(dir, e))? {
                let e = e.map_err(|e| VapError::io(dir, e))?;
                let name = e.file_name();
                if name.to_string_lossy().starts_with('.') {
                    continue; // temporary files of interrupted writes
                }
                walk(root, &e.path(), dst, skip)?;
            }
            sync_dir(&out);
        } else if fs::hard_link(dir, &out).is_err() {
            fs::copy(dir, &out).map_err(|e| VapError::io(&out, e))?;
        }
        Ok(())
    }
    let meta = fs::symlink_metadata(src).map_err(|e| VapError::io(src, e))?;
    if meta.is_dir() || meta.file_type().is_symlink() {
        walk(src, src, dst, skip)
    } else {
        if fs::hard_link(src, dst).is_err() {
            fs::copy(src, dst).map_err(|e| VapError::io(dst, e))?;
        }
        Ok(())
    }
}

fn read_parquet_file(p: &Path) -> Result<Vec<RecordBatch>> {
    let f = fs::File::open(p).map_err(|e| VapError::io(p, e))?;
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
        .map_err(|e| VapError::format(p, e.to_string()))?;
    let schema = builder.schema().clone();
    let reader = builder
        .build()
        .map_err(|e| VapError::format(p, e.to_string()))?;
    let mut batches = reader
        .map(|b| b.map_err(|e| VapError::format(p, e.to_string())))
        .collect::<Result<Vec<_>>>()?;
    if batches.is_empty() {
        // Keep the schema of an empty table.
        batches.push(RecordBatch::new_empty(schema));
    }
    Ok(batches)
}

/// Row counts of every table file of a session directory, and the derived ones.
fn table_files(dir: &Path) -> Result<(BTreeMap<String, usize>, Vec<String>)> {
    let mut rows = BTreeMap::new();
    let mut derived = Vec::new();
    for e in fs::read_dir(dir).map_err(|e| VapError::io(dir, e))? {
        let p = e.map_err(|e| VapError::io(dir, e))?.path();
        let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".parquet") else {
            continue;
        };
        if stem.starts_with('.') {
            continue;
        }
        let f = fs::File::open(&p).map_err(|e| VapError::io(&p, e))?;
        let n = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
            .map_err(|e| VapError::format(&p, e.to_string()))?
            .metadata()
            .file_metadata()
            .num_rows();
        rows.insert(stem.to_string(), n.max(0) as usize);
        if TableName::parse(stem).is_none() {
            derived.push(stem.to_string());
        }
    }
    derived.sort();
    Ok((rows, derived))
}

/// Stored sessions were validated on import; re-reading them only bounds times.
fn stored_load_options() -> LoadOptions {
    LoadOptions {
        outside_tolerance_ms: i64::MAX / 4,
        ..Default::default()
    }
}

fn arrow_select_concat(first: &RecordBatch, batches: &[RecordBatch]) -> Result<RecordBatch> {
    if batches.len() == 1 {
        return Ok(first.clone());
    }
    arrow_select::concat::concat_batches(&first.schema(), batches)
        .map_err(|e| VapError::InvalidArgument(format!("batches do not share a schema: {e}")))
}

fn remove_tmp_files(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let n = e.file_name();
            let n = n.to_string_lossy();
            if n.starts_with('.') && n.contains(".tmp-") {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}
