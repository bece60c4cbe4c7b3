//! Loading: a session directory, or raw tables built elsewhere (Arrow batches,
//! JSON rows), becomes a validated, sorted [`SessionData`].

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::fastcsv;
use super::manifest::{read_manifest, Manifest};
use super::read::{
    decode_parquet, read_csv_chunks, read_csv_file_streaming, read_table_file, Spare,
    CSV_CHUNK_ROWS,
};
use super::typed::{self, typed_from_batches};
use super::validate::{check_header, check_tables, warnings};
use super::LoadOptions;
use crate::error::{Problem, Result, VapError};
use crate::schema::{MetricKind, Room, Session, SessionData};
use crate::table::{self, Origins, RawTable, TableName, Tables};
use crate::text::{self, Encoding};

/// What loading did besides producing the data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    /// Files read, with the text encoding detected (None for Parquet).
    pub files: Vec<(String, Option<Encoding>)>,
    /// Tables that arrived unsorted and were sorted.
    pub sorted: Vec<String>,
    /// Cumulative metrics differenced into flows, with the number of counter
    /// resets detected in each.
    pub differenced: Vec<(String, usize)>,
    /// What was accepted but looks wrong (a refund of an order this session
    /// did not take, ...), each naming its file, row and field.
    #[serde(default)]
    pub warnings: Vec<Problem>,
}

/// The file of table `t`: the one the manifest names, or the first of
/// `<table>.csv`, `.jsonl`, `.json`, `.parquet` present (any entry of that
/// name counts as present: a directory or a dangling link there is reported,
/// not skipped). Returns the path and the name problems call it by.
fn find_table_file(
    dir: &Path,
    manifest: &Manifest,
    t: TableName,
) -> Result<Option<(PathBuf, String)>, Problem> {
    if let Some(rel) = manifest.tables.get(t.as_str()) {
        let relp = Path::new(rel);
        if relp.is_absolute()
            || relp.components().any(|c| {
                !matches!(
                    c,
                    std::path::Component::Normal(_) | std::path::Component::CurDir
                )
            })
        {
            return Err(Problem::new(
                "manifest.json",
                None,
                Some(&format!("tables.{}", t.as_str())),
                format!(
                    "'{rel}' is not a path inside the session directory (absolute paths and '..' are refused)"
                ),
            ));
        }
        return Ok(Some((dir.join(relp), rel.clone())));
    }
    Ok(["csv", "jsonl", "json", "parquet"]
        .iter()
        .map(|ext| format!("{}.{ext}", t.as_str()))
        .find(|name| fs::symlink_metadata(dir.join(name)).is_ok())
        .map(|name| (dir.join(&name), name)))
}

/// Opens a table file that must be a regular file inside `dir` (symlinks
/// resolved): anything else (a directory, a FIFO, a device, a dangling link
/// or a loop, a link out of the directory) is a problem, and is never opened
/// in a way that could block.
fn open_table_file(dir: &Path, path: &Path, name: &str) -> Result<fs::File, Problem> {
    let problem = |m: String| Problem::new(name, None, None, m);
    let real = fs::canonicalize(path).map_err(|e| {
        problem(format!(
            "cannot be resolved ({e}): a dangling link, a link loop or a missing file"
        ))
    })?;
    let real_dir = fs::canonicalize(dir).map_err(|e| problem(format!("{}: {e}", dir.display())))?;
    if !real.starts_with(&real_dir) {
        return Err(problem(format!(
            "resolves to {}, outside the session directory",
            real.display()
        )));
    }
    let kind = |m: &fs::Metadata| {
        let ft = m.file_type();
        if ft.is_dir() {
            "a directory"
        } else {
            #[cfg(unix)]
            {
                use std::os::unix::fs::FileTypeExt;
                if ft.is_fifo() {
                    return "a FIFO (named pipe)";
                }
                if ft.is_char_device() || ft.is_block_device() {
                    return "a device";
                }
                if ft.is_socket() {
                    return "a socket";
                }
            }
            "not a regular file"
        }
    };
    let meta = fs::metadata(&real).map_err(|e| problem(e.to_string()))?;
    if !meta.is_file() {
        return Err(problem(format!("is {}, not a regular file", kind(&meta))));
    }
    // Opened without blocking (a FIFO swapped in since the check above cannot
    // hang the open), then checked again on the open handle.
    let mut opts = fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let f = opts.open(&real).map_err(|e| problem(e.to_string()))?;
    let meta = f.metadata().map_err(|e| problem(e.to_string()))?;
    if !meta.is_file() {
        return Err(problem(format!("is {}, not a regular file", kind(&meta))));
    }
    Ok(f)
}

/// The whole content of a file opened by [`open_table_file`], from its start.
fn read_open_file(f: &mut fs::File, name: &str) -> Result<Vec<u8>, Problem> {
    use std::io::{Read, Seek, SeekFrom};
    let problem = |e: std::io::Error| Problem::new(name, None, None, e.to_string());
    f.seek(SeekFrom::Start(0)).map_err(problem)?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(len as usize);
    f.read_to_end(&mut bytes).map_err(problem)?;
    Ok(bytes)
}

/// Loads a session directory (see the module docs for the layout).
pub fn load_dir(dir: impl AsRef<Path>, opts: &LoadOptions) -> Result<(SessionData, LoadReport)> {
    load_dir_reading_alone(dir.as_ref(), opts, ALONE)
}

/// [`load_dir`], files of `alone_from` bytes or more read one at a time.
fn load_dir_reading_alone(
    dir: &Path,
    opts: &LoadOptions,
    alone_from: u64,
) -> Result<(SessionData, LoadReport)> {
    let manifest = read_manifest(dir)?;
    let mut report = LoadReport::default();
    let mut problems = Vec::new();
    let mut parsed = Parsed::default();
    // The tables' files are read side by side (each on its own, a large one
    // on every thread), and put together in table order: the same records
    // and problems on any number of threads. A file of `ALONE` bytes or more
    // is read after the others, one at a time (a Parquet or JSON file is
    // read whole: two such files are not held at once). A CSV file the fast
    // reader gives up on is read the general way last, on this thread (that
    // reader runs its own thread beside it).
    use rayon::prelude::*;
    let found: Vec<_> = TableName::ALL
        .iter()
        .map(|&t| find_table_file(dir, &manifest, t))
        .collect();
    let alone: Vec<bool> = found
        .iter()
        .map(|f| {
            matches!(f, Ok(Some((p, _))) if fs::metadata(p).is_ok_and(|m| m.len() >= alone_from))
        })
        .collect();
    let mut reads: Vec<Option<TableRead>> = crate::threads::install(|| {
        TableName::ALL
            .par_iter()
            .zip(&found)
            .zip(&alone)
            .map(|((&t, f), &a)| (!a).then(|| read_table(dir, f, t)))
            .collect()
    });
    for (((t, f), a), r) in TableName::ALL
        .iter()
        .zip(&found)
        .zip(&alone)
        .zip(&mut reads)
    {
        if *a {
            *r = Some(crate::threads::install(|| read_table(dir, f, *t)));
        }
    }
    for (t, r) in TableName::ALL.into_iter().zip(reads.into_iter().flatten()) {
        let TableRead {
            file,
            problems: mut ps,
            parsed: part,
            general_csv,
        } = r;
        let mut part = part;
        if let Some((name, mut f)) = general_csv {
            match read_csv_general(t, &name, &mut f, &mut part, &mut ps) {
                Ok(enc) => report.files.push((name, enc)),
                Err(p) => ps.extend(p),
            }
        } else if let Some(f) = file {
            report.files.push(f);
        }
        problems.extend(ps);
        table::append_tables(&mut parsed.tables, part.tables);
        parsed.origins.absorb(part.origins);
    }
    let (data, rep2) = build_parsed(manifest, parsed, opts, problems)?;
    report.sorted = rep2.sorted;
    report.differenced = rep2.differenced;
    report.warnings = rep2.warnings;
    Ok((data, report))
}

/// A table's file of this many bytes or more is read on its own, not beside
/// the others ([`load_dir`]).
const ALONE: u64 = 64 << 20;

/// What reading the file of one table gave ([`read_table`]).
#[derive(Default)]
struct TableRead {
    /// The file read and its text encoding (for [`LoadReport::files`]).
    file: Option<(String, Option<Encoding>)>,
    problems: Vec<Problem>,
    parsed: Parsed,
    /// A CSV file the fast reader gave up on, rewound: for
    /// [`read_csv_general`].
    general_csv: Option<(String, fs::File)>,
}

/// Reads the file of table `t` of the session directory `dir` that
/// [`find_table_file`] found (if any) into typed records.
fn read_table(
    dir: &Path,
    found: &std::result::Result<Option<(PathBuf, String)>, Problem>,
    t: TableName,
) -> TableRead {
    let mut out = TableRead::default();
    let (path, name) = match found {
        Ok(Some((path, name))) => (path.clone(), name.clone()),
        Ok(None) => return out,
        Err(p) => {
            out.problems.push(p.clone());
            return out;
        }
    };
    // Each table becomes typed records as it is read: a UTF-8 CSV file
    // chunk by chunk straight from the file, other files whole. A large file
    // is never held as bytes, raw cells and records at once.
    let mut file = match open_table_file(dir, &path, &name) {
        Ok(f) => f,
        Err(p) => {
            out.problems.push(p);
            return out;
        }
    };
    let is_csv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let parsed = &mut out.parsed;
    let problems = &mut out.problems;
    let read = if is_csv {
        // A CSV file is read block by block straight into records on every
        // thread while it is clean (plain UTF-8, RFC 4180, no row with a
        // problem: [`fastcsv`]); otherwise the general path reads it again
        // from its start.
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let source: Arc<str> = Arc::from(name.as_str());
        let done = fastcsv::csv_file_records(
            t,
            &source,
            &mut file,
            len,
            &mut parsed.tables,
            &mut parsed.origins,
        )
        .unwrap_or(false);
        if !done {
            use std::io::{Seek, SeekFrom};
            if let Err(e) = file.seek(SeekFrom::Start(0)) {
                problems.push(Problem::new(&name, None, None, e.to_string()));
            } else {
                out.general_csv = Some((name, file));
            }
            return out;
        }
        Ok(Some(Encoding::Utf8))
    } else if is_parquet(&path) {
        // Batches in the documented schema (vap's own files, most
        // writers') become records column by column; any other file, or one
        // row that needs it, goes the general way (raw cells), which reports
        // every problem.
        match read_open_file(&mut file, &name) {
            Ok(bytes) => {
                let bytes = bytes::Bytes::from(bytes);
                let source: Arc<str> = Arc::from(name.as_str());
                // The comments, millions of rows, decoded and read batch by
                // batch where the file allows it.
                if t == TableName::Comments
                    && typed::comments_streamed(
                        &bytes,
                        &source,
                        &mut parsed.tables,
                        &mut parsed.origins,
                    )
                {
                    Ok(None)
                } else {
                    decode_parquet(bytes, false)
                        .map_err(|m| vec![Problem::new(&name, None, None, m)])
                        .and_then(|batches| {
                            if typed_from_batches(
                                t,
                                &source,
                                &batches,
                                &mut parsed.tables,
                                &mut parsed.origins,
                            ) {
                                return Ok(None);
                            }
                            let mut conv = Vec::new();
                            let raw = table::raw_from_batches(&name, &batches, &mut conv);
                            drop(batches);
                            if !conv.is_empty() {
                                return Err(conv);
                            }
                            parsed.add(t, &raw, 0, problems);
                            Ok(None)
                        })
                }
            }
            Err(p) => Err(vec![p]),
        }
    } else {
        match read_open_file(&mut file, &name) {
            Ok(bytes) => read_table_file(&name, &path, bytes).map(|(raw, enc)| {
                parsed.add(t, &raw, 0, problems);
                enc
            }),
            Err(p) => Err(vec![p]),
        }
    };
    match read {
        Ok(enc) => out.file = Some((name, enc)),
        Err(p) => out.problems.extend(p),
    }
    out
}

/// Reads the CSV file `file` (named `name`, table `t`) the general way: any
/// encoding and CSV form, every problem named with its row and field.
fn read_csv_general(
    t: TableName,
    name: &str,
    file: &mut fs::File,
    parsed: &mut Parsed,
    problems: &mut Vec<Problem>,
) -> std::result::Result<Option<Encoding>, Vec<Problem>> {
    let mut first = true;
    let mut header_ok = true;
    let mut chunk_problems = Vec::new();
    let mut consume = |chunk: &RawTable, before: usize| {
        if first {
            first = false;
            header_ok = !t
                .columns()
                .iter()
                .any(|c| c.required && !chunk.columns.iter().any(|h| h.trim() == c.name));
        } else if !header_ok {
            return;
        }
        parsed.add(t, chunk, before, &mut chunk_problems);
    };
    let mut read_all = |add: &mut dyn FnMut(RawTable, usize) -> Spare| match read_csv_file_streaming(
        name,
        &mut *file,
        CSV_CHUNK_ROWS,
        add,
    ) {
        Ok(Some(res)) => res.map(Some),
        Ok(None) => match read_open_file(file, name) {
            Ok(bytes) => read_csv_chunks(name, &bytes, CSV_CHUNK_ROWS, add).map(Some),
            Err(p) => Err(vec![p]),
        },
        Err(e) => Err(vec![Problem::new(name, None, None, e.to_string())]),
    };
    // With two threads or more, the CSV parse (text to cells) and the typed
    // records (cells to rows, checked) run side by side, chunk after chunk in
    // order: the same records and problems, with at most three chunks held
    // (one read, one queued, one parsed).
    let read = if crate::threads::num_threads() > 1 {
        std::thread::scope(|sc| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<(RawTable, usize)>(1);
            // Chunks come back to be refilled (or freed) where their cells
            // were made: a free from another thread costs mimalloc more.
            let (back_tx, back_rx) = std::sync::mpsc::channel::<RawTable>();
            let worker = sc.spawn(move || {
                for (chunk, before) in rx {
                    consume(&chunk, before);
                    let _ = back_tx.send(chunk);
                }
            });
            let read = read_all(&mut |chunk, before| {
                // The receiver only goes away if the worker panicked, which
                // the join below reports.
                let _ = tx.send((chunk, before));
                // The chunk before this one, when the worker is done with
                // it: its cells are refilled for the next.
                back_rx.try_recv().ok().map(|c| c.rows)
            });
            drop(tx);
            match worker.join() {
                Ok(()) => read,
                Err(_) => Err(vec![Problem::new(
                    name,
                    None,
                    None,
                    "internal error: the record parser stopped".to_string(),
                )]),
            }
        })
    } else {
        read_all(&mut |chunk, before| {
            consume(&chunk, before);
            Some(chunk.rows)
        })
    };
    problems.extend(chunk_problems);
    read
}

/// Whether `path` names a Parquet file (by its extension, as
/// [`read_table_file`] decides).
fn is_parquet(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// Typed records parsed so far, with where each came from.
#[derive(Default)]
struct Parsed {
    tables: Tables,
    origins: Origins,
}

impl Parsed {
    fn add(&mut self, t: TableName, raw: &RawTable, before: usize, problems: &mut Vec<Problem>) {
        table::parse_raw_at(
            t,
            raw,
            before,
            &mut self.tables,
            &mut self.origins,
            problems,
        );
    }
}

/// Builds a validated session from a manifest and raw tables (from files,
/// Arrow batches or JSON rows).
pub fn from_raw_tables(
    manifest: Manifest,
    raws: Vec<(TableName, RawTable)>,
    opts: &LoadOptions,
) -> Result<(SessionData, LoadReport)> {
    build(manifest, raws, opts, Vec::new())
}

/// [`from_raw_tables`] for tables whose conversion into raw tables already
/// found problems (a row that is not an object, a column of a type vap does
/// not read: what [`table::raw_from_json_rows`] and
/// [`table::raw_from_batches`] collect). The rest is validated all the same,
/// and every problem, the conversion's first, comes back in one
/// [`VapError::Validation`]; with no conversion problems this is
/// [`from_raw_tables`].
///
/// ```
/// use vap_core::ingest::{from_converted_tables, LoadOptions, Manifest};
/// use vap_core::table::{raw_from_json_rows, TableName};
/// use vap_core::ErrorKind;
///
/// let manifest = Manifest::from_json(
///     std::path::Path::new("manifest"),
///     r#"{"vap_format": 1, "room": {"id": "r", "name": "R"},
///         "session": {"id": "s", "start_ms": 1700000000000, "end_ms": 1700003600000}}"#,
/// )
/// .unwrap();
/// let mut problems = Vec::new();
/// let rows = [
///     serde_json::json!("not a row"),
///     serde_json::json!({"id": "p1", "name": "Cream", "price": -1.0}),
/// ];
/// let raw = raw_from_json_rows("products", &rows, &mut problems);
/// let e = from_converted_tables(
///     manifest,
///     vec![(TableName::Products, raw)],
///     problems,
///     &LoadOptions::default(),
/// )
/// .unwrap_err();
/// assert_eq!(e.kind(), ErrorKind::Validation);
/// // The row that was not an object, and the negative price found by validation.
/// assert!(e.problems().len() >= 2, "{e}");
/// assert_eq!(e.problems()[0].row, Some(1));
/// ```
pub fn from_converted_tables(
    manifest: Manifest,
    raws: Vec<(TableName, RawTable)>,
    conversion_problems: Vec<Problem>,
    opts: &LoadOptions,
) -> Result<(SessionData, LoadReport)> {
    build(manifest, raws, opts, conversion_problems)
}

/// One table of a session as read from a file: raw cells (the general path)
/// or Arrow batches that may be read column by column.
pub(crate) enum TableInput {
    /// Untyped cells.
    Raw(RawTable),
    /// Batches with the documented schema, from `source`; read column by
    /// column when every row allows it ([`super::typed`]), otherwise through
    /// raw cells.
    Batches(Arc<str>, Vec<arrow_array::RecordBatch>),
}

/// [`from_raw_tables`] for tables given as [`TableInput`]s: the store's
/// tables, written by vap in the documented schema, skip the untyped cells.
/// Validation, sorting and differencing are the same.
pub(crate) fn from_table_inputs(
    manifest: Manifest,
    inputs: Vec<(TableName, TableInput)>,
    opts: &LoadOptions,
) -> Result<(SessionData, LoadReport)> {
    let mut parsed = Parsed::default();
    let mut problems = Vec::new();
    for (t, input) in inputs {
        match input {
            TableInput::Raw(raw) => parsed.add(t, &raw, 0, &mut problems),
            TableInput::Batches(source, batches) => {
                if !typed_from_batches(
                    t,
                    &source,
                    &batches,
                    &mut parsed.tables,
                    &mut parsed.origins,
                ) {
                    let raw = table::raw_from_batches(&source, &batches, &mut problems);
                    parsed.add(t, &raw, 0, &mut problems);
                }
            }
        }
    }
    build_parsed(manifest, parsed, opts, problems)
}

/// Parses, validates, sorts and differences raw tables into a session.
fn build(
    manifest: Manifest,
    raws: Vec<(TableName, RawTable)>,
    opts: &LoadOptions,
    mut problems: Vec<Problem>,
) -> Result<(SessionData, LoadReport)> {
    let mut parsed = Parsed::default();
    for (t, raw) in &raws {
        parsed.add(*t, raw, 0, &mut problems);
    }
    drop(raws);
    build_parsed(manifest, parsed, opts, problems)
}

/// Validates, sorts and differences parsed tables into a session.
fn build_parsed(
    manifest: Manifest,
    parsed: Parsed,
    opts: &LoadOptions,
    mut problems: Vec<Problem>,
) -> Result<(SessionData, LoadReport)> {
    let mut report = LoadReport::default();
    let Parsed {
        mut tables,
        origins,
    } = parsed;
    let (room, session) = header_of(&manifest);
    check_header(&room, &session, &manifest.metrics, &mut problems);
    if let Some(key) = &opts.pseudonymize_key {
        pseudonymize_viewers(&mut tables, key);
    }
    check_tables(
        &session,
        &manifest.metrics,
        &tables,
        &origins,
        opts,
        &mut problems,
    );
    if !problems.is_empty() {
        return Err(VapError::Validation(problems));
    }
    report.warnings = warnings(&tables, &origins);
    drop(origins);

    let mut data = SessionData::new(room, session);
    data.metrics = manifest.metrics.clone();
    data.anchors = tables.anchors;
    data.products = tables.products;
    data.shifts = tables.shifts;
    data.segments = tables.segments;
    data.promotions = tables.promotions;
    data.comments = tables.comments;
    data.orders = tables.orders;
    data.utterances = tables.utterances;
    data.samples = tables.samples;
    report.sorted = sort_session(&mut data);
    report.differenced = difference_cumulative(&mut data);
    Ok((data, report))
}

/// The room and session a manifest describes, ids, names and title
/// normalised; the session's room defaults to the manifest's room.
fn header_of(manifest: &Manifest) -> (Room, Session) {
    let room = Room {
        id: text::normalize(&manifest.room.id),
        name: text::normalize(&manifest.room.name),
        platform: manifest.room.platform.clone(),
    };
    let ms = &manifest.session;
    let session = Session {
        id: text::normalize(&ms.id),
        room_id: ms
            .room_id
            .clone()
            .map(|r| text::normalize(&r))
            .unwrap_or_else(|| room.id.clone()),
        start_ms: ms.start_ms,
        end_ms: ms.end_ms,
        timezone: ms.timezone.clone(),
        title: ms.title.as_deref().map(text::normalize),
        recordings: ms.recordings.clone(),
        facts: ms.facts.clone(),
        gaps: ms.gaps.clone(),
        plan: ms.plan.clone(),
    };
    (room, session)
}

/// Replaces the viewer ids of comments and orders by their keyed hash.
fn pseudonymize_viewers(tables: &mut Tables, key: &[u8]) {
    for c in &mut tables.comments {
        c.viewer_id = text::pseudonymize(key, &c.viewer_id).into();
    }
    for o in &mut tables.orders {
        if let Some(v) = &o.viewer_id {
            o.viewer_id = Some(text::pseudonymize(key, v));
        }
    }
}

/// Sorts every table by time ([`SessionData::sort_tables`]). Returns the
/// names of tables that were not sorted already.
pub fn sort_session(d: &mut SessionData) -> Vec<String> {
    d.sort_tables()
}

/// Differences cumulative series into flows, in place (samples must be sorted
/// by metric then time). The first sample is the baseline (flow 0: a counter
/// may have been running since before the session, so its first value is not
/// an amount accrued in the session; exporters whose counters start with the
/// session should include a 0 sample at its start). A value below its
/// predecessor is a counter reset: the flow is the new value, not a negative
/// amount. Returns (metric, resets) for each series converted.
pub fn difference_cumulative(d: &mut SessionData) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for decl in d
        .metrics
        .iter_mut()
        .filter(|m| m.kind == MetricKind::Cumulative)
    {
        let mut prev: Option<f64> = None;
        let mut resets = 0;
        for s in d.samples.iter_mut().filter(|s| s.metric == decl.name) {
            let v = s.value;
            s.value = match prev {
                None => 0.0,
                Some(p) if v >= p => v - p,
                Some(_) => {
                    resets += 1;
                    v
                }
            };
            prev = Some(v);
        }
        decl.kind = MetricKind::Flow;
        out.push((decl.name.clone(), resets));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{write_dir, Format};

    /// Files read one at a time (every file, or none) give the same session,
    /// report and problems as files read side by side.
    #[test]
    fn files_read_alone_or_side_by_side_load_the_same() {
        let data = crate::sim::simulate(&crate::sim::SimConfig {
            hours: 0.2,
            ..Default::default()
        })
        .unwrap()
        .data;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("s");
        write_dir(&data, &d, Format::Csv).unwrap();
        let opts = LoadOptions::default();
        let (side, side_report) = load_dir_reading_alone(&d, &opts, u64::MAX).unwrap();
        let (alone, alone_report) = load_dir_reading_alone(&d, &opts, 0).unwrap();
        assert_eq!(side, alone);
        assert_eq!(side_report, alone_report);
        assert_eq!(side.comments.len(), data.comments.len());
        // A problem in two files: the same list, in table order.
        for name in ["comments.csv", "orders.csv"] {
            let p = d.join(name);
            let text = fs::read_to_string(&p).unwrap();
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            let f: Vec<String> = lines[1].splitn(2, ',').map(str::to_string).collect();
            lines[1] = if name == "orders.csv" {
                let g: Vec<&str> = f[1].splitn(2, ',').collect();
                format!("{},soon,{}", f[0], g[1])
            } else {
                format!("later,{}", f[1])
            };
            fs::write(&p, lines.join("\n") + "\n").unwrap();
        }
        let problems = |alone_from| match load_dir_reading_alone(&d, &opts, alone_from) {
            Err(VapError::Validation(p)) => p,
            other => panic!("{other:?}"),
        };
        let side = problems(u64::MAX);
        assert_eq!(side, problems(0));
        let files: Vec<&str> = side.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(files, ["comments.csv", "orders.csv"], "{side:?}");
    }
}
