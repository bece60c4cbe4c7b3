//! Reading one table file into a [`RawTable`], per format: CSV (UTF-8 or
//! GB18030), JSON Lines and Parquet. Every problem found comes back, each with
//! its file and row.

use std::path::Path;

use crate::error::{Problem, Result};
use crate::table::{self, Cell, RawTable};
use crate::text::{self, Encoding};

/// Reads CSV bytes (UTF-8 or GB18030) into a raw table.
pub fn read_csv_bytes(source: &str, bytes: &[u8]) -> Result<(RawTable, Encoding), Vec<Problem>> {
    let mut all: Option<RawTable> = None;
    let enc = read_csv_chunks(source, bytes, usize::MAX, &mut |chunk, _first_row| {
        match &mut all {
            Some(t) => t.rows.extend(chunk.rows),
            None => all = Some(chunk),
        }
        None
    })?;
    Ok((all.expect("one chunk at least"), enc))
}

/// Rows of a chunk handed back to the CSV reader for reuse (see
/// [`read_csv_chunks`]).
pub(super) type Spare = Option<Vec<Vec<Cell>>>;

/// Rows per chunk when a CSV file is parsed into typed records as it is
/// read ([`read_csv_chunks`]).
pub(super) const CSV_CHUNK_ROWS: usize = 1 << 16;

/// Reads CSV bytes in chunks of at most `chunk_rows` rows, handing each chunk
/// (with the number of data rows before it) to `each` as it is read, so that
/// a large file is never held as one raw table. `each` is called at least
/// once (with no rows for an empty table) and, once a problem has been
/// found, no more: every problem of the file comes back as the error.
/// `each` may give back the rows of a chunk it is done with ([`Spare`]):
/// their cells' strings are refilled for later rows instead of allocated.
pub(super) fn read_csv_chunks(
    source: &str,
    bytes: &[u8],
    chunk_rows: usize,
    each: &mut dyn FnMut(RawTable, usize) -> Spare,
) -> Result<Encoding, Vec<Problem>> {
    let (text, enc) = text::decode(bytes).map_err(|m| vec![Problem::new(source, None, None, m)])?;
    read_csv_records(source, text.as_bytes(), chunk_rows, each)?;
    Ok(enc)
}

/// [`read_csv_chunks`] straight from an open file, without holding it: when
/// the whole file is clean UTF-8 (checked in a first pass, block by block),
/// it is parsed as it is read; `Ok(None)` when it is not (GB18030, a NUL
/// byte, anything that needs the whole file to decode or to explain), and
/// the caller reads it whole instead. `Some(Err)` carries the problems of a
/// file that was UTF-8.
pub(super) fn read_csv_file_streaming(
    source: &str,
    file: &mut std::fs::File,
    chunk_rows: usize,
    each: &mut dyn FnMut(RawTable, usize) -> Spare,
) -> std::io::Result<Option<Result<Encoding, Vec<Problem>>>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut buf = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            if !carry.is_empty() {
                return Ok(None); // a truncated UTF-8 sequence at the end
            }
            break;
        }
        let block: std::borrow::Cow<'_, [u8]> = if carry.is_empty() {
            std::borrow::Cow::Borrowed(&buf[..n])
        } else {
            let mut v = std::mem::take(&mut carry);
            v.extend_from_slice(&buf[..n]);
            std::borrow::Cow::Owned(v)
        };
        if block.contains(&0) {
            return Ok(None);
        }
        if let Err(e) = std::str::from_utf8(&block) {
            if e.error_len().is_some() {
                return Ok(None);
            }
            carry = block[e.valid_up_to()..].to_vec();
        }
    }
    // Clean UTF-8 (a byte-order mark skipped): parse as it is read.
    file.seek(SeekFrom::Start(0))?;
    let mut bom = [0u8; 3];
    let got = file.read(&mut bom)?;
    if got < 3 || bom != *b"\xEF\xBB\xBF" {
        file.seek(SeekFrom::Start(0))?;
    }
    let reader = std::io::BufReader::with_capacity(1 << 16, file);
    Ok(Some(
        read_csv_records(source, reader, chunk_rows, each).map(|()| Encoding::Utf8),
    ))
}

/// A CSV field as a cell: empty is null.
fn new_cell(c: &str) -> Cell {
    if c.is_empty() {
        Cell::Null
    } else {
        Cell::Str(c.to_string())
    }
}

/// [`new_cell`] into a spent cell, keeping its string's memory.
fn fill(cell: &mut Cell, c: &str) {
    match cell {
        Cell::Str(s) if !c.is_empty() => {
            s.clear();
            s.push_str(c);
        }
        _ => *cell = new_cell(c),
    }
}

/// The CSV parse of [`read_csv_chunks`], over any reader of UTF-8 text.
fn read_csv_records<R: std::io::Read>(
    source: &str,
    input: R,
    chunk_rows: usize,
    each: &mut dyn FnMut(RawTable, usize) -> Spare,
) -> Result<(), Vec<Problem>> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = rdr
        .headers()
        .map_err(|e| {
            vec![Problem::new(
                source,
                None,
                None,
                format!("bad CSV header: {e}"),
            )]
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect::<Vec<_>>();
    let mut problems = Vec::new();
    // A column named twice: which one is meant cannot be guessed.
    for (i, h) in headers.iter().enumerate() {
        if let Some(j) = headers[..i].iter().position(|x| x == h) {
            problems.push(Problem::new(
                source,
                None,
                Some(h),
                format!(
                    "column '{h}' appears twice in the header (columns {} and {})",
                    j + 1,
                    i + 1
                ),
            ));
        }
    }
    let chunk = |rows| RawTable {
        source: source.to_string(),
        columns: headers.clone(),
        rows,
    };
    let mut rows = Vec::new();
    // Rows of a spent chunk, refilled in place (last first).
    let mut spare: Vec<Vec<Cell>> = Vec::new();
    let mut before = 0usize;
    let mut emitted = false;
    let mut rec = csv::StringRecord::new();
    let mut i = 0usize;
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                i += 1;
                if rec.len() != headers.len() {
                    problems.push(Problem::new(
                        source,
                        Some(i),
                        None,
                        format!("{} fields, the header has {}", rec.len(), headers.len()),
                    ));
                    continue;
                }
                if !problems.is_empty() {
                    continue;
                }
                let row = match spare.pop() {
                    Some(mut row) if row.len() == rec.len() => {
                        for (cell, c) in row.iter_mut().zip(rec.iter()) {
                            fill(cell, c);
                        }
                        row
                    }
                    _ => rec.iter().map(new_cell).collect(),
                };
                rows.push(row);
                if rows.len() >= chunk_rows {
                    let n = rows.len();
                    if let Some(back) = each(chunk(std::mem::take(&mut rows)), before) {
                        spare = back;
                    }
                    before += n;
                    emitted = true;
                }
            }
            Err(e) => {
                i += 1;
                problems.push(Problem::new(
                    source,
                    Some(i),
                    None,
                    format!("bad CSV record: {e}"),
                ))
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if !rows.is_empty() || !emitted {
        each(chunk(rows), before);
    }
    Ok(())
}

/// Reads JSON Lines bytes into a raw table (blank lines skipped).
pub fn read_jsonl_bytes(source: &str, bytes: &[u8]) -> Result<(RawTable, Encoding), Vec<Problem>> {
    let (text, enc) = text::decode(bytes).map_err(|m| vec![Problem::new(source, None, None, m)])?;
    let mut problems = Vec::new();
    let mut values = Vec::new();
    // Rows are numbered among non-blank lines, as for every other problem.
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        match text::parse_json_strict(line) {
            Ok(v) => values.push(v),
            Err(e) => problems.push(Problem::new(
                source,
                Some(i + 1),
                None,
                format!("bad JSON: {e}"),
            )),
        }
    }
    let raw = table::raw_from_json_rows(source, &values, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok((raw, enc))
}

/// Reads Parquet bytes into a raw table.
pub fn read_parquet_bytes(source: &str, bytes: Vec<u8>) -> Result<RawTable, Vec<Problem>> {
    // Column types come from the Parquet schema alone: the embedded Arrow IPC
    // schema ("ARROW:schema" metadata) is skipped, and every type it could
    // add (time zone names, dictionaries, large strings) reads the same from
    // the Parquet types.
    let batches = decode_parquet(bytes::Bytes::from(bytes), false)
        .map_err(|m| vec![Problem::new(source, None, None, m)])?;
    let mut problems = Vec::new();
    let raw = table::raw_from_batches(source, &batches, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(raw)
}

/// Rows of a batch decoded from Parquet: large batches cost the decoder
/// less per row than the reader's default of 1,024, and the typed records
/// are still made on every thread (a 2 M-row table is 31 batches).
const PARQUET_BATCH_ROWS: usize = 1 << 16;

/// Rows of a batch decoded by [`decode_parquet_each`]: half of
/// [`PARQUET_BATCH_ROWS`], since two batches are held while one is read
/// and the next decoded. On the 12-hour session's comments, with the memory
/// given back between loads, 1 << 15 touched 17 % fewer new pages than
/// 1 << 16 for 1-4 ms less; 1 << 14 fewer still but took 5 ms longer
/// (the comments' room, below 1 MiB a batch, is then faulted in page by
/// page: [`crate::threads::prefault_spare`]).
const STREAM_BATCH_ROWS: usize = 1 << 15;

/// Decodes a whole Parquet file into record batches (one empty batch with the
/// schema when it has no rows), or says what is wrong with it: a damaged file
/// is an error, never a panic. `arrow_schema`: use the embedded Arrow schema
/// (exact types of tables written by Arrow) when it is readable; a damaged
/// one is an error too.
pub(crate) fn decode_parquet(
    bytes: bytes::Bytes,
    arrow_schema: bool,
) -> std::result::Result<Vec<arrow_array::RecordBatch>, String> {
    let fail = |e: &dyn std::fmt::Display| format!("bad Parquet file: {e}");
    // arrow-ipc panics on a corrupt embedded schema (unknown type ids) and
    // page decoding in the parquet crate still asserts on some corrupt pages
    // (e.g. an RLE bit width over 32): contain such a panic as an error.
    let decoded = crate::error::contain_decoder_panic(|| {
        let builder = checked_builder(&bytes, arrow_schema)?;
        let schema = builder.schema().clone();
        let groups = builder.metadata().num_row_groups();
        let mut batches = Vec::new();
        if groups > 1 {
            // Row groups decoded in parallel, kept in order.
            use rayon::prelude::*;
            let parts: std::result::Result<Vec<Vec<arrow_array::RecordBatch>>, String> =
                crate::threads::install(|| {
                    (0..groups)
                        .into_par_iter()
                        .map(|g| decode_part(&bytes, arrow_schema, |b| b.with_row_groups(vec![g])))
                        .collect()
                });
            batches.extend(parts?.into_iter().flatten());
        } else if let Some(by_column) = decode_columns_apart(&bytes, &builder, arrow_schema) {
            batches = by_column?;
        } else {
            let reader = builder
                .with_batch_size(PARQUET_BATCH_ROWS)
                .build()
                .map_err(|e| fail(&e))?;
            for b in reader {
                batches.push(b.map_err(|e| fail(&e))?);
            }
        }
        if batches.is_empty() {
            // Keep the schema of an empty table.
            batches.push(arrow_array::RecordBatch::new_empty(schema));
        }
        Ok(batches)
    });
    match decoded {
        Ok(res) => res,
        Err(panic) => {
            let msg = crate::error::panic_message(panic.as_ref());
            Err(fail(&format!("corrupt data ({msg})")))
        }
    }
}

/// A reader builder for a Parquet file whose footer is readable and whose
/// column chunks lie inside it (the parquet crate asserts on a chunk with a
/// negative offset or size: such a file is refused here instead). Call
/// inside [`crate::error::contain_decoder_panic`].
fn checked_builder(
    bytes: &bytes::Bytes,
    arrow_schema: bool,
) -> std::result::Result<
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder<bytes::Bytes>,
    String,
> {
    use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
    let fail = |e: &dyn std::fmt::Display| format!("bad Parquet file: {e}");
    let len = bytes.len() as u64;
    let options = ArrowReaderOptions::new().with_skip_arrow_metadata(!arrow_schema);
    let builder = ParquetRecordBatchReaderBuilder::try_new_with_options(bytes.clone(), options)
        .map_err(|e| fail(&e))?;
    for rg in builder.metadata().row_groups() {
        for c in rg.columns() {
            let start = c.dictionary_page_offset().unwrap_or(c.data_page_offset());
            let size = c.compressed_size();
            if start < 0 || size < 0 || (start as u64).saturating_add(size as u64) > len {
                return Err(fail(&format!(
                    "column chunk '{}' at offset {start}, {size} bytes, lies outside the file",
                    c.column_path()
                )));
            }
        }
    }
    Ok(builder)
}

/// [`decode_parquet`] (without the embedded Arrow schema) batch by batch:
/// each batch is given to `each` as soon as it is decoded, in the file's
/// order, with the number of rows the footer gives the file, while the next
/// is decoded beside it; two decoded batches are held at most, so that a
/// large table is never held decoded whole (the 12-hour session's 366 k
/// comments are about 12 MB of columns, new memory on every load). One row
/// group of many rows on two threads or more: its columns are decoded side
/// by side, one reader each, as [`decode_parquet`] does. `Some(())` when
/// every batch was given and `each` took it; `None` when this file is not
/// read this way (several row groups, few rows or columns, one thread), when
/// `each` refused a batch (returned `false`), or when the file is damaged:
/// the caller then decodes it whole with [`decode_parquet`], which says what
/// is wrong.
pub(crate) fn decode_parquet_each(
    bytes: &bytes::Bytes,
    each: &mut (dyn FnMut(&arrow_array::RecordBatch, usize) -> bool + Send),
) -> Option<()> {
    use parquet::arrow::ProjectionMask;
    use rayon::prelude::*;
    let mut readers = crate::error::contain_decoder_panic(|| {
        let builder = checked_builder(bytes, false).ok()?;
        let columns = builder.schema().fields().len();
        let rows = builder.metadata().file_metadata().num_rows();
        if crate::threads::num_threads() < 2
            || columns < 2
            || rows < 1 << 16
            || builder.metadata().num_row_groups() != 1
        {
            return None;
        }
        let descr = builder.metadata().file_metadata().schema_descr_ptr();
        let schema = builder.schema().clone();
        let readers = (0..columns)
            .map(|c| {
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new_with_options(
                    bytes.clone(),
                    parquet::arrow::arrow_reader::ArrowReaderOptions::new()
                        .with_skip_arrow_metadata(true),
                )
                .and_then(|b| {
                    b.with_projection(ProjectionMask::roots(&descr, [c]))
                        .with_batch_size(STREAM_BATCH_ROWS)
                        .build()
                })
                .ok()
            })
            .collect::<Option<Vec<_>>>()?;
        Some((schema, readers, rows.max(0) as usize))
    })
    .ok()??;
    let (schema, readers, file_rows) = (&readers.0, &mut readers.1, readers.2);
    // The next batch of every column, side by side (a decoder panic on a
    // worker contained there), put together: `None` when a column failed
    // or the columns' batches do not line up, `Some(None)` at the end.
    let next = |readers: &mut Vec<parquet::arrow::arrow_reader::ParquetRecordBatchReader>| {
        let parts: Option<Vec<Option<arrow_array::RecordBatch>>> = readers
            .par_iter_mut()
            .map(|r| match crate::error::contain_decoder_panic(|| r.next()) {
                Ok(Some(Ok(b))) => Some(Some(b)),
                Ok(None) => Some(None),
                Ok(Some(Err(_))) | Err(_) => None,
            })
            .collect();
        let parts = parts?;
        if parts.iter().all(Option::is_none) {
            return Some(None);
        }
        let rows = parts[0].as_ref()?.num_rows();
        let mut cols = Vec::with_capacity(parts.len());
        for b in &parts {
            let b = b.as_ref()?;
            if b.num_columns() != 1 || b.num_rows() != rows {
                return None;
            }
            cols.push(b.column(0).clone());
        }
        arrow_array::RecordBatch::try_new(schema.clone(), cols)
            .ok()
            .map(Some)
    };
    // Each batch given to `each` while the next is decoded, on the same
    // threads: two decoded batches held at most.
    crate::threads::install(|| {
        let mut current = next(readers)?;
        while let Some(batch) = current {
            let (following, took) = rayon::join(|| next(readers), || each(&batch, file_rows));
            if !took {
                return None;
            }
            drop(batch);
            current = following?;
        }
        Some(())
    })
}

/// Decodes part of a Parquet file (`part` picks row groups or columns) in
/// batches of [`PARQUET_BATCH_ROWS`], a decoder panic contained as an error:
/// a worker thread contains its own.
fn decode_part(
    bytes: &bytes::Bytes,
    arrow_schema: bool,
    part: impl FnOnce(
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder<bytes::Bytes>,
    )
        -> parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder<bytes::Bytes>,
) -> std::result::Result<Vec<arrow_array::RecordBatch>, String> {
    use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
    let fail = |e: &dyn std::fmt::Display| format!("bad Parquet file: {e}");
    crate::error::contain_decoder_panic(|| {
        let options = ArrowReaderOptions::new().with_skip_arrow_metadata(!arrow_schema);
        let reader = ParquetRecordBatchReaderBuilder::try_new_with_options(bytes.clone(), options)
            .and_then(|b| part(b).with_batch_size(PARQUET_BATCH_ROWS).build())
            .map_err(|e| fail(&e))?;
        reader
            .map(|b| b.map_err(|e| fail(&e)))
            .collect::<std::result::Result<Vec<_>, String>>()
    })
    .unwrap_or_else(|panic| {
        let msg = crate::error::panic_message(panic.as_ref());
        Err(fail(&format!("corrupt data ({msg})")))
    })
}

/// One row group of many rows, on two threads or more: its columns decoded
/// side by side, one reader each, and put back together batch by batch (the
/// readers cut the same batches: the same rows, the same batch size). `None`
/// where that does not apply (a small or one-column table, one thread) or
/// the readers' batches do not line up; the caller then decodes the file
/// with one reader.
fn decode_columns_apart(
    bytes: &bytes::Bytes,
    builder: &parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder<bytes::Bytes>,
    arrow_schema: bool,
) -> Option<std::result::Result<Vec<arrow_array::RecordBatch>, String>> {
    use parquet::arrow::ProjectionMask;
    use rayon::prelude::*;
    let schema = builder.schema().clone();
    let columns = schema.fields().len();
    let rows = builder.metadata().file_metadata().num_rows();
    if crate::threads::num_threads() < 2 || columns < 2 || rows < 1 << 16 {
        return None;
    }
    let descr = builder.metadata().file_metadata().schema_descr_ptr();
    let parts: std::result::Result<Vec<Vec<arrow_array::RecordBatch>>, String> =
        crate::threads::install(|| {
            (0..columns)
                .into_par_iter()
                .map(|c| {
                    decode_part(bytes, arrow_schema, |b| {
                        b.with_projection(ProjectionMask::roots(&descr, [c]))
                    })
                })
                .collect()
        });
    let parts = match parts {
        Ok(p) => p,
        Err(e) => return Some(Err(e)),
    };
    let n = parts[0].len();
    let lined_up = parts.iter().all(|p| {
        p.len() == n
            && p.iter()
                .zip(&parts[0])
                .all(|(a, b)| a.num_columns() == 1 && a.num_rows() == b.num_rows())
    });
    if !lined_up {
        return None;
    }
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let cols = parts.iter().map(|p| p[k].column(0).clone()).collect();
        match arrow_array::RecordBatch::try_new(schema.clone(), cols) {
            Ok(b) => out.push(b),
            Err(_) => return None,
        }
    }
    Some(Ok(out))
}

/// The number of rows a Parquet file's footer records, read without the
/// embedded Arrow schema (a damaged file is an error, never a panic).
pub(crate) fn parquet_row_count(path: &Path) -> std::result::Result<usize, String> {
    use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let res = crate::error::contain_decoder_panic(|| {
        let options = ArrowReaderOptions::new().with_skip_arrow_metadata(true);
        ParquetRecordBatchReaderBuilder::try_new_with_options(f, options)
            .map(|b| b.metadata().file_metadata().num_rows().max(0) as usize)
            .map_err(|e| format!("bad Parquet file: {e}"))
    });
    match res {
        Ok(r) => r,
        Err(panic) => Err(format!(
            "bad Parquet file: corrupt footer ({})",
            crate::error::panic_message(panic.as_ref())
        )),
    }
}

/// Reads one table file by its extension (`.csv`, `.jsonl` / `.json` /
/// `.ndjson`, `.parquet`), with the text encoding detected (None for Parquet).
pub(super) fn read_table_file(
    name: &str,
    path: &Path,
    bytes: Vec<u8>,
) -> Result<(RawTable, Option<Encoding>), Vec<Problem>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "csv" => read_csv_bytes(name, &bytes).map(|(r, e)| (r, Some(e))),
        "jsonl" | "json" | "ndjson" => read_jsonl_bytes(name, &bytes).map(|(r, e)| (r, Some(e))),
        "parquet" => read_parquet_bytes(name, bytes).map(|r| (r, None)),
        other => Err(vec![Problem::new(
            name,
            None,
            None,
            format!("unknown file extension '{other}'"),
        )]),
    }
}
