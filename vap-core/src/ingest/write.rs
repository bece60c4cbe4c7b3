//! Writing: a session as table files (CSV, JSON Lines or Parquet) and as a
//! whole session directory.

use std::fs;
use std::path::Path;

use super::{Format, Manifest};
use crate::error::{Result, VapError};
use crate::schema::SessionData;
use crate::table::{self, Cell, TableName};
use crate::text::{self, Encoding};

/// Serialises one table to bytes in a format. CSV joins list items with `|`.
pub fn table_bytes(
    data: &SessionData,
    t: TableName,
    format: Format,
    encoding: Encoding,
    keys: bool,
) -> Result<Vec<u8>> {
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let mut header: Vec<&str> = Vec::new();
            if keys {
                header.extend(["room_id", "session_id"]);
            }
            header.extend(t.columns().iter().map(|c| c.name));
            w.write_record(&header)
                .map_err(|e| VapError::Internal(e.to_string()))?;
            for range in chunks(table::row_count(data, t)) {
                for row in table::rows_of_range(data, t, range) {
                    let mut rec: Vec<String> = Vec::with_capacity(header.len());
                    if keys {
                        rec.push(data.room.id.clone());
                        rec.push(data.session.id.clone());
                    }
                    rec.extend(row.iter().map(|c| match c {
                        Cell::Null => String::new(),
                        Cell::Bool(b) => b.to_string(),
                        Cell::Int(i) => i.to_string(),
                        Cell::Float(f) => format!("{f}"),
                        Cell::Str(s) => s.clone(),
                        Cell::List(v) => v.join("|"),
                    }));
                    w.write_record(&rec)
                        .map_err(|e| VapError::Internal(e.to_string()))?;
                }
            }
            let bytes = w
                .into_inner()
                .map_err(|e| VapError::Internal(e.to_string()))?;
            Ok(match encoding {
                Encoding::Utf8 => bytes,
                Encoding::Gb18030 => {
                    text::encode(&String::from_utf8_lossy(&bytes), Encoding::Gb18030)
                }
            })
        }
        Format::Jsonl => {
            let mut out = Vec::new();
            for v in table::json_rows(data, t) {
                serde_json::to_writer(&mut out, &v)
                    .map_err(|e| VapError::Internal(e.to_string()))?;
                out.push(b'\n');
            }
            Ok(match encoding {
                Encoding::Utf8 => out,
                Encoding::Gb18030 => {
                    text::encode(&String::from_utf8_lossy(&out), Encoding::Gb18030)
                }
            })
        }
        Format::Parquet => {
            let mut ranges = chunks(table::row_count(data, t));
            let first = table::to_record_batch_range(data, t, keys, ranges.next().unwrap_or(0..0));
            parquet_bytes_from(
                &first,
                ranges.map(|r| Ok(table::to_record_batch_range(data, t, keys, r))),
            )
        }
    }
}

/// Rows per batch when a table is written: the cells of one chunk are made
/// at a time, not those of the whole table.
const WRITE_CHUNK_ROWS: usize = 1 << 16;

/// The row ranges a table of `n` rows is written in (none for an empty
/// table).
fn chunks(n: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..n)
        .step_by(WRITE_CHUNK_ROWS)
        .map(move |a| a..(a + WRITE_CHUNK_ROWS).min(n))
}

/// Encodes a batch as a Parquet file (Snappy-compressed).
pub fn parquet_bytes(batch: &arrow_array::RecordBatch) -> Result<Vec<u8>> {
    parquet_bytes_from(batch, std::iter::empty())
}

/// Encodes `first` and the batches after it (the same schema) as one
/// Parquet file, each batch made only when the one before it is written.
fn parquet_bytes_from(
    first: &arrow_array::RecordBatch,
    rest: impl Iterator<Item = Result<arrow_array::RecordBatch>>,
) -> Result<Vec<u8>> {
    let batch = first;
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), Some(props))
        .map_err(|e| VapError::Internal(format!("parquet writer: {e}")))?;
    w.write(batch)
        .map_err(|e| VapError::Internal(format!("parquet write: {e}")))?;
    for b in rest {
        w.write(&b?)
            .map_err(|e| VapError::Internal(format!("parquet write: {e}")))?;
    }
    w.close()
        .map_err(|e| VapError::Internal(format!("parquet close: {e}")))?;
    Ok(buf)
}

/// Writes a session as a session directory in one format (every table, even
/// empty ones, plus `manifest.json`). The directory is created if needed.
pub fn write_dir(data: &SessionData, dir: impl AsRef<Path>, format: Format) -> Result<()> {
    write_dir_encoded(data, dir, format, Encoding::Utf8)
}

/// As [`write_dir`], with a text encoding for CSV / JSON Lines.
pub fn write_dir_encoded(
    data: &SessionData,
    dir: impl AsRef<Path>,
    format: Format,
    encoding: Encoding,
) -> Result<()> {
    let dir = dir.as_ref();
    fs::create_dir_all(dir).map_err(|e| VapError::io(dir, e))?;
    for t in TableName::ALL {
        let path = dir.join(format!("{}.{}", t.as_str(), format.ext()));
        let bytes = table_bytes(data, t, format, encoding, false)?;
        fs::write(&path, bytes).map_err(|e| VapError::io(&path, e))?;
    }
    let path = dir.join("manifest.json");
    let json = serde_json::to_vec_pretty(&Manifest::of(data))
        .map_err(|e| VapError::Internal(e.to_string()))?;
    fs::write(&path, json).map_err(|e| VapError::io(&path, e))?;
    Ok(())
}
