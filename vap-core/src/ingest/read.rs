//! Reading one table file into a [`RawTable`], per format: CSV (UTF-8 or
//! GB18030), JSON Lines and Parquet. Every problem found comes back, each with
//! its file and row.

use std::path::Path;

use crate::error::{Problem, Result};
use crate::table::{self, Cell, RawTable};
use crate::text::{self, Encoding};

/// Reads CSV bytes (UTF-8 or GB18030) into a raw table.
pub fn read_csv_bytes(source: &str, bytes: &[u8]) -> Result<(RawTable, Encoding), Vec<Problem>> {
    let (text, enc) = text::decode(bytes).map_err(|m| vec![Problem::new(source, None, None, m)])?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
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
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        match rec {
            Ok(r) => {
                if r.len() != headers.len() {
                    problems.push(Problem::new(
                        source,
                        Some(i + 1),
                        None,
                        format!("{} fields, the header has {}", r.len(), headers.len()),
                    ));
                    continue;
                }
                rows.push(
                    r.iter()
                        .map(|c| {
                            if c.is_empty() {
                                Cell::Null
                            } else {
                                Cell::Str(c.to_string())
                            }
                        })
                        .collect(),
                );
            }
            Err(e) => problems.push(Problem::new(
                source,
                Some(i + 1),
                None,
                format!("bad CSV record: {e}"),
            )),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok((
        RawTable {
            source: source.to_string(),
            columns: headers,
            rows,
        },
        enc,
    ))
}

/// Reads JSON Lines bytes into a raw table (blank lines skipped).
pub fn read_jsonl_bytes(source: &str, bytes: &[u8]) -> Result<(RawTable, Encoding), Vec<Problem>> {
    let (text, enc) = text::decode(bytes).map_err(|m| vec![Problem::new(source, None, None, m)])?;
    let mut problems = Vec::new();
    let mut values = Vec::new();
    // Rows are numbered among non-blank lines, as for every other problem.
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        match serde_json::from_str::<serde_json::Value>(line) {
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
    use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
    let fail = |e: &dyn std::fmt::Display| {
        vec![Problem::new(
            source,
            None,
            None,
            format!("bad Parquet file: {e}"),
        )]
    };
    let len = bytes.len() as u64;
    // Column types come from the Parquet schema alone: the embedded Arrow IPC
    // schema ("ARROW:schema" metadata) is skipped, because arrow-ipc panics on
    // a corrupt one (unknown type ids), and every type it could add (time zone
    // names, dictionaries, large strings) reads the same from the Parquet types.
    let options = ArrowReaderOptions::new().with_skip_arrow_metadata(true);
    let builder =
        ParquetRecordBatchReaderBuilder::try_new_with_options(bytes::Bytes::from(bytes), options)
            .map_err(|e| fail(&e))?;
    // The parquet crate asserts (panics) on a column chunk with a negative
    // offset or size in the footer; refuse such files here instead.
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
    // Page decoding in the parquet crate still asserts on some corrupt pages
    // (e.g. an RLE bit width over 32): contain such a panic as a problem.
    let decoded = crate::error::contain_decoder_panic(|| {
        let reader = builder.build().map_err(|e| fail(&e))?;
        let mut batches = Vec::new();
        for b in reader {
            batches.push(b.map_err(|e| fail(&e))?);
        }
        Ok::<_, Vec<Problem>>(batches)
    });
    let batches = match decoded {
        Ok(res) => res?,
        Err(panic) => {
            let msg = crate::error::panic_message(panic.as_ref());
            return Err(fail(&format!("corrupt data ({msg})")));
        }
    };
    let mut problems = Vec::new();
    let raw = table::raw_from_batches(source, &batches, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(raw)
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
