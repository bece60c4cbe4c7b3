//! Writing a store: imports (with recordings registered, and copied when
//! asked), deletions, the replacement of one table, and updates of a whole
//! session. Every change is staged and committed through
//! `transaction`.

use std::borrow::Cow;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use sha2::{Digest, Sha256};

use super::layout::{id_arg, stored_load_options};
use super::transaction::{sync_dir, txid};
use super::{Store, StoredManifest};
use crate::error::{Problem, Result, VapError};
use crate::ingest::{self, LoadOptions, Manifest};
use crate::schema::{SessionData, VideoRef};
use crate::table::TableName;
use crate::text::Encoding;

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

/// Registers recordings with their size and sha256, on a copy of the session
/// when it has any; a recording that cannot be read is a validation problem.
fn register_recordings(data: &SessionData) -> Result<Cow<'_, SessionData>> {
    let mut data_ref = Cow::Borrowed(data);
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
    Ok(data_ref)
}

impl Store {
    /// Loads a session directory and imports it. Relative recording paths are
    /// resolved against `dir`.
    pub fn import_dir(
        &self,
        dir: impl AsRef<Path>,
        load: &LoadOptions,
        opts: &ImportOptions,
    ) -> Result<SessionData> {
        let dir = dir.as_ref();
        let (mut data, _) = ingest::load_dir(dir, load)?;
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
        ingest::validate_session(data, &stored_load_options())?;
        let _lock = self.lock(true)?;
        let target = self.session_dir(&room, &session)?;
        let exists = target.join("manifest.json").is_file();
        if exists && !opts.replace {
            return Err(VapError::AlreadyExists(format!(
                "session '{room}/{session}' is in the store; pass replace=true to replace it"
            )));
        }
        // Register recordings before writing anything.
        let data_ref = register_recordings(data)?;

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
        self.commit_staged(
            &tx,
            &staging_root,
            &stage_commit,
            &commit_target,
            exists,
            || {
                fs::create_dir_all(&stage_session).map_err(|e| VapError::io(&stage_session, e))?;
                if !room_exists {
                    let rp = stage_commit.join("room.json");
                    self.write_file(
                        "write:room",
                        &rp,
                        &serde_json::to_vec_pretty(&data.room).expect("serialisable"),
                    )?;
                }
                self.write_session_files(&data_ref, &stage_session, opts)?;
                Ok(())
            },
        )?;
        if room_exists {
            // Keep room metadata current (name, platform); atomic single-file
            // write, after the commit: a failure leaves the old room.json (and
            // no temporary file) and does not undo the import.
            let rp = self.room_dir(&room).join("room.json");
            let _ = self.write_atomic(
                "room_meta",
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
            let bytes =
                ingest::table_bytes(data, t, ingest::Format::Parquet, Encoding::Utf8, true)?;
            self.write_file(&format!("write:{}", t.as_str()), &p, &bytes)?;
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
        self.write_file(
            "write:manifest",
            &mp,
            &serde_json::to_vec_pretty(&stored).expect("serialisable"),
        )?;
        sync_dir(dir);
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
            self.core_table_bytes(room, session, &stored, t, name, batches)?
        } else {
            derived_table_bytes(name, batches)?
        };
        let path = dir.join(format!("{name}.parquet"));
        // The rename inside is the whole change: nothing else records the table.
        self.write_atomic(&format!("write:{name}"), &path, &bytes)
    }

    /// The Parquet bytes of core table `t` replaced by `batches`, validated
    /// with the rest of the stored session.
    fn core_table_bytes(
        &self,
        room: &str,
        session: &str,
        stored: &StoredManifest,
        t: TableName,
        name: &str,
        batches: &[RecordBatch],
    ) -> Result<Vec<u8>> {
        let data = self.load_unlocked(room, session, stored)?;
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
        let new = ingest::from_raw_tables(manifest, raws, &stored_load_options())?.0;
        ingest::table_bytes(&new, t, ingest::Format::Parquet, Encoding::Utf8, true)
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
        ingest::validate_session(&data, &stored_load_options())?;
        let target = self.session_dir(room, session)?;
        let tx = txid();
        let staging_root = self.root.join(".staging").join(&tx);
        let stage = staging_root.join("session");
        self.commit_staged(&tx, &staging_root, &stage, &target, true, || {
            fs::create_dir_all(&stage).map_err(|e| VapError::io(&stage, e))?;
            self.carry_over(&target, &stage, drop_work)?;
            self.write_session_files(&data, &stage, &ImportOptions::default())?;
            Ok(())
        })?;
        Ok(data)
    }

    /// Links into `stage` everything of the session directory `target` that
    /// is not rewritten (derived tables, copied media, work files), less the
    /// work areas in `drop_work` and hidden temporary files.
    fn carry_over(&self, target: &Path, stage: &Path, drop_work: &[&str]) -> Result<()> {
        let core: Vec<String> = TableName::ALL
            .iter()
            .map(|t| format!("{}.parquet", t.as_str()))
            .collect();
        for e in fs::read_dir(target).map_err(|e| VapError::io(target, e))? {
            let e = e.map_err(|e| VapError::io(target, e))?;
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
        Ok(())
    }
}

/// The Parquet bytes of a derived table: `batches` as given, concatenated.
fn derived_table_bytes(name: &str, batches: &[RecordBatch]) -> Result<Vec<u8>> {
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
    let unsupported: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .filter_map(|f| unsupported_type(f.data_type()).map(|t| format!("'{}' ({t})", f.name())))
        .collect();
    if !unsupported.is_empty() {
        return Err(VapError::InvalidArgument(format!(
            "table '{name}': Parquet cannot store column(s) {}; convert them first \
             (a union to one type or a struct, a month-day-nano interval to a duration)",
            unsupported.join(", ")
        )));
    }
    // The writer has unimplemented corners beyond the types refused above:
    // contain them as an argument error rather than a panic.
    match crate::error::contain_decoder_panic(|| ingest::parquet_bytes(&batch)) {
        Ok(res) => res,
        Err(panic) => Err(VapError::InvalidArgument(format!(
            "table '{name}' cannot be written as Parquet ({})",
            crate::error::panic_message(panic.as_ref())
        ))),
    }
}

/// The name of a type (or a type nested in it) that the Parquet writer
/// cannot store.
fn unsupported_type(t: &arrow_schema::DataType) -> Option<String> {
    use arrow_schema::{DataType, IntervalUnit};
    match t {
        DataType::Union(..)
        | DataType::Interval(IntervalUnit::MonthDayNano)
        | DataType::RunEndEncoded(..)
        | DataType::ListView(_)
        | DataType::LargeListView(_) => Some(t.to_string()),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => unsupported_type(f.data_type()),
        DataType::Struct(fs) => fs.iter().find_map(|f| unsupported_type(f.data_type())),
        DataType::Dictionary(_, v) => unsupported_type(v),
        _ => None,
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

fn arrow_select_concat(first: &RecordBatch, batches: &[RecordBatch]) -> Result<RecordBatch> {
    if batches.len() == 1 {
        return Ok(first.clone());
    }
    arrow_select::concat::concat_batches(&first.schema(), batches)
        .map_err(|e| VapError::InvalidArgument(format!("batches do not share a schema: {e}")))
}
