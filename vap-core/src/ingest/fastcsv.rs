//! A clean UTF-8 CSV file read straight into typed records, its rows split
//! between the threads, without the untyped cells of the general path.
//!
//! The general path ([`super::read`] then [`crate::table::parse_raw_at`])
//! makes a string per field, then reads each row into its record. Here the
//! fields are slices of the file's text (a quoted field with doubled quotes
//! is the only one copied), read by the same row reader
//! ([`crate::table::parse_row`]), so a record is exactly what the general path
//! makes of the row. This reader is strict: a file that is not plain UTF-8,
//! a header the general path would complain about, any CSV form outside
//! RFC 4180's (a quote inside an unquoted field, text after a closing quote,
//! a lone carriage return, an empty line), a row with another number of
//! fields than the header, or a row with any problem makes it give up, and
//! the caller reads the file the general way, which reports every problem
//! with its file, row and field.

use std::borrow::Cow;
use std::sync::Arc;

use crate::table::{
    append_tables, parse_row, reserve_rows, tables_len, Origins, RowReader, TableName, Tables,
};

/// Bytes of the file read at a time: a block's rows are read on every
/// thread, then the next block is read; a file is never held whole.
const BLOCK: usize = 16 << 20;

/// A block shorter than this is read on one thread.
const MIN_PIECE: usize = 256 << 10;

/// Appends the records of the CSV file `file` (`len` bytes; table `table`,
/// from `source`) to `out` and their origins (rows numbered from 1) to
/// `origins`. Returns `Ok(false)`, with `out` and `origins` unchanged, when
/// the file needs the general path (which reads it again from its start).
/// The records do not depend on the number of threads.
pub(super) fn csv_file_records(
    table: TableName,
    source: &Arc<str>,
    file: &mut impl std::io::Read,
    len: u64,
    out: &mut Tables,
    origins: &mut Origins,
) -> std::io::Result<bool> {
    records_in_blocks(table, source, file, len, BLOCK, out, origins)
}

/// [`csv_file_records`], reading `block` bytes at a time.
fn records_in_blocks(
    table: TableName,
    source: &Arc<str>,
    file: &mut impl std::io::Read,
    len: u64,
    block: usize,
    out: &mut Tables,
    origins: &mut Origins,
) -> std::io::Result<bool> {
    // The file's bytes not read yet, as its length says: what a read is
    // given room for (a file that grew is read on all the same).
    let mut left = usize::try_from(len).unwrap_or(usize::MAX);
    let mut buf = Vec::with_capacity(block.min(left.saturating_add(1)));
    let mut eof = fill(file, &mut buf, block, &mut left)?;
    let mut at = if buf.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    // The header: the first record, outside quotes.
    let start = loop {
        match QuoteScan::default().line_end(&buf, at) {
            Some(s) => break s,
            None if eof => return Ok(false), // a header alone: rare
            None => {
                let more = buf.len() + block;
                eof = fill(file, &mut buf, more, &mut left)?;
            }
        }
    };
    let Some(reader) = Reader::new(table, source, &buf[at..start]) else {
        return Ok(false);
    };
    at = start;
    let mut acc = Tables::default();
    let mut first = true;
    loop {
        let end = if eof {
            buf.len()
        } else {
            match last_record_end(&buf[at..]) {
                Some(e) => at + e,
                // No whole record in a block: read on with a larger one.
                None => {
                    let more = buf.len() + block;
                    eof = fill(file, &mut buf, more, &mut left)?;
                    continue;
                }
            }
        };
        let body = &buf[at..end];
        // The first block's first piece makes room for the records of the
        // whole file (its lines, scaled to the bytes left in the file).
        let file_rest = if first {
            (len as usize).saturating_sub(end) + body.len()
        } else {
            0
        };
        let Some(parts) = reader.block(body, file_rest) else {
            return Ok(false);
        };
        // Appended piece by piece: the first piece of the first block moved,
        // not copied, the rest in place, into room faulted in beforehand on
        // every thread (comments: the rest of the pieces are tens of MB).
        let mut parts = parts.into_iter();
        if let Some(t) = parts.next() {
            append_tables(&mut acc, t);
        }
        let rest: Vec<Tables> = parts.collect();
        let more = rest.iter().map(|t| t.comments.len()).sum();
        crate::threads::prefault_spare(&mut acc.comments, more);
        for t in rest {
            append_tables(&mut acc, t);
        }
        first = false;
        if eof {
            break;
        }
        buf.drain(..end);
        at = 0;
        eof = fill(file, &mut buf, block, &mut left)?;
    }
    let n = tables_len(&acc, table);
    append_tables(out, acc);
    origins.push_run(table, source, 1, n);
    Ok(true)
}

/// Reads from `file` until `buf` holds `target` bytes or the file ends;
/// `true` when it ended. `left` is what is left of the file by its length
/// (kept up to date): `buf` is given room for no more than that, so that a
/// file shorter than a block is read into the buffer made for it, never
/// into a larger one that the allocator fills by copying the first (it
/// copies the whole capacity, read or not: 12 MB, and twice as many pages
/// touched, for the 12-hour session's comments).
fn fill(
    file: &mut impl std::io::Read,
    buf: &mut Vec<u8>,
    target: usize,
    left: &mut usize,
) -> std::io::Result<bool> {
    use std::io::Read;
    let want = target.saturating_sub(buf.len());
    if want == 0 {
        return Ok(false);
    }
    // One byte more than the file has: the read that finds its end then
    // needs no room.
    buf.reserve(want.min(left.saturating_add(1)));
    // Read into the spare capacity (a file reads into it without zeroing
    // it first).
    let got = file.by_ref().take(want as u64).read_to_end(buf)?;
    *left = left.saturating_sub(got);
    Ok(got < want)
}

/// Where the record after the last line feed outside quotes in `b` starts
/// (`b` starts at a record).
fn last_record_end(b: &[u8]) -> Option<usize> {
    let mut quotes = memchr::memchr_iter(b'"', b).count();
    let mut pos = b.len();
    loop {
        let nl = memchr::memrchr(b'\n', &b[..pos])?;
        quotes -= memchr::memchr_iter(b'"', &b[nl..pos]).count();
        if quotes.is_multiple_of(2) {
            return Some(nl + 1);
        }
        pos = nl;
    }
}

/// What the rows of one file are read with: its table and the position of
/// each column in its header.
struct Reader<'s> {
    table: TableName,
    source: &'s Arc<str>,
    columns: usize,
    index: Vec<(&'static str, usize)>,
}

impl<'s> Reader<'s> {
    /// `None` for a header the general path must see: not UTF-8, not one
    /// record, a column named twice or a required column missing.
    fn new(table: TableName, source: &'s Arc<str>, head: &[u8]) -> Option<Reader<'s>> {
        let head = std::str::from_utf8(head).ok()?;
        let mut fields = Vec::new();
        if record(head, 0, head.contains('\r'), &mut fields)? != head.len() {
            return None;
        }
        let header: Vec<&str> = fields.iter().map(|h| h.trim()).collect();
        if header
            .iter()
            .enumerate()
            .any(|(i, h)| header[..i].contains(h))
        {
            return None; // a column named twice: the general path says so
        }
        let mut index = Vec::new();
        for c in table.columns() {
            match header.iter().position(|h| *h == c.name) {
                Some(i) => index.push((c.name, i)),
                None if c.required => return None,
                None => {}
            }
        }
        Some(Reader {
            table,
            source,
            columns: header.len(),
            index,
        })
    }

    /// The records of `body` (whole records), in pieces read on every
    /// thread; with `file_rest` (the bytes of records from this block to the
    /// end of the file) the first piece's table has room for all of them,
    /// estimated from its own lines. `None` when any row needs the general
    /// path.
    fn block(&self, body: &[u8], file_rest: usize) -> Option<Vec<Tables>> {
        let pieces = split_rows(body, crate::threads::num_threads());
        // Each piece is checked (no NUL byte, UTF-8) and read on its own
        // thread.
        let read = |(k, &(a, b)): (usize, &(usize, usize))| -> Option<Tables> {
            let bytes = &body[a..b];
            if memchr::memchr(0, bytes).is_some() {
                return None;
            }
            let text = simdutf8::basic::from_utf8(bytes).ok()?;
            // Carriage returns to look for in unquoted fields (rare: files
            // written on Windows end their lines with them).
            let crs = memchr::memchr(b'\r', bytes).is_some();
            let mut t = Tables::default();
            let lines = memchr::memchr_iter(b'\n', bytes).count() + 1;
            let want = if k == 0 && file_rest > bytes.len() {
                lines + lines * (file_rest - bytes.len()) / bytes.len().max(1) + lines / 64 + 16
            } else {
                lines
            };
            reserve_rows(&mut t, self.table, want);
            let mut fields: Vec<Cow<'_, str>> = Vec::with_capacity(self.columns);
            let mut problems = Vec::new();
            let mut i = 0;
            while i < text.len() {
                fields.clear();
                i = record(text, i, crs, &mut fields)?;
                if fields.len() != self.columns {
                    return None;
                }
                let mut r = RowReader {
                    source: self.source,
                    row_no: 0,
                    cells: &fields,
                    index: &self.index,
                    problems: &mut problems,
                    ok: true,
                };
                if !parse_row(self.table, &mut r, &mut t) {
                    return None;
                }
            }
            Some(t)
        };
        if pieces.len() == 1 {
            return read((0, &pieces[0])).map(|t| vec![t]);
        }
        use rayon::prelude::*;
        crate::threads::install(|| pieces.par_iter().enumerate().map(read).collect())
    }
}

/// Quotes counted so far from the start of the text: a line feed ends a
/// record where the count before it is even (so for RFC 4180 text; a file
/// that is not comes out wrong where it stops being so, and the record
/// read there gives up).
#[derive(Default)]
struct QuoteScan {
    quotes: usize,
    scanned: usize,
}

impl QuoteScan {
    /// Where the record after the first line feed at or after `at` that is
    /// outside quotes starts (`None`: no such line feed). Calls go forward.
    fn line_end(&mut self, b: &[u8], mut at: usize) -> Option<usize> {
        loop {
            let nl = at + memchr::memchr(b'\n', &b[at..])?;
            self.quotes += memchr::memchr_iter(b'"', &b[self.scanned..nl]).count();
            self.scanned = nl;
            if self.quotes.is_multiple_of(2) {
                return Some(nl + 1);
            }
            at = nl + 1;
        }
    }
}

/// The rows of `b` (whole records) in pieces of about equal size, one for
/// each of `threads`, each starting at a record.
fn split_rows(b: &[u8], threads: usize) -> Vec<(usize, usize)> {
    let len = b.len();
    let n = threads.min(len / MIN_PIECE).max(1);
    let mut pieces = Vec::with_capacity(n);
    let mut from = 0;
    let mut scan = QuoteScan::default();
    for k in 1..n {
        let target = len * k / n;
        if target <= from {
            continue;
        }
        match scan.line_end(b, target) {
            Some(c) if c < len => {
                pieces.push((from, c));
                from = c;
            }
            _ => break,
        }
    }
    pieces.push((from, len));
    pieces
}

/// Reads the record at `text[i..]` into `fields` (RFC 4180: fields separated
/// by commas, a field either unquoted without quotes, commas or line ends, or
/// in quotes with quotes doubled; records end at `\n`, `\r\n` or the end of
/// the text). Returns where the next record starts, or `None` for anything
/// else (an empty line included, and, where `crs` says the text has carriage
/// returns, one outside quotes that does not end a line: the CSV reader ends
/// a record there).
fn record<'t>(
    text: &'t str,
    mut i: usize,
    crs: bool,
    fields: &mut Vec<Cow<'t, str>>,
) -> Option<usize> {
    let b = text.as_bytes();
    let len = b.len();
    if i >= len || b[i] == b'\n' || b[i] == b'\r' {
        return None;
    }
    loop {
        if b.get(i) == Some(&b'"') {
            let mut owned: Option<String> = None;
            let mut seg = i + 1;
            let close = loop {
                let q = seg + memchr::memchr(b'"', &b[seg..])?;
                if b.get(q + 1) == Some(&b'"') {
                    owned
                        .get_or_insert_with(String::new)
                        .push_str(&text[seg..=q]);
                    seg = q + 2;
                    continue;
                }
                break q;
            };
            fields.push(match owned {
                Some(mut o) => {
                    o.push_str(&text[seg..close]);
                    Cow::Owned(o)
                }
                None => Cow::Borrowed(&text[i + 1..close]),
            });
            i = close + 1;
        } else {
            let end = memchr::memchr3(b',', b'\n', b'"', &b[i..]).map_or(len, |j| i + j);
            if b.get(end) == Some(&b'"') {
                return None;
            }
            // A line ending in `\r\n`: the `\r` is not the field's.
            let stop = if b.get(end) == Some(&b'\n') && end > i && b[end - 1] == b'\r' {
                end - 1
            } else {
                end
            };
            if crs && memchr::memchr(b'\r', &b[i..stop]).is_some() {
                return None;
            }
            fields.push(Cow::Borrowed(&text[i..stop]));
            i = stop;
        }
        match b.get(i) {
            None => return Some(len),
            Some(b',') => i += 1,
            Some(b'\n') => return Some(i + 1),
            Some(b'\r') if b.get(i + 1) == Some(&b'\n') => return Some(i + 2),
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Option<(Vec<String>, usize)> {
        let mut f = Vec::new();
        let next = record(line, 0, line.contains('\r'), &mut f)?;
        Some((f.into_iter().map(|c| c.into_owned()).collect(), next))
    }

    /// [`records_in_blocks`] over bytes.
    fn csv_records(
        table: TableName,
        source: &Arc<str>,
        bytes: &[u8],
        block: usize,
        out: &mut Tables,
        origins: &mut Origins,
    ) -> bool {
        let mut r = bytes;
        records_in_blocks(
            table,
            source,
            &mut r,
            bytes.len() as u64,
            block,
            out,
            origins,
        )
        .unwrap()
    }

    #[test]
    fn records_in_rfc_4180_form_are_read() {
        assert_eq!(
            fields("a,,\"b,c\",\"d\"\"e\"\r\nx"),
            Some((vec!["a".into(), "".into(), "b,c".into(), "d\"e".into()], 17))
        );
        assert_eq!(fields("a,b"), Some((vec!["a".into(), "b".into()], 3)));
        assert_eq!(fields("a,\n"), Some((vec!["a".into(), "".into()], 3)));
        assert_eq!(
            fields("\"x\ny\",1\n"),
            Some((vec!["x\ny".into(), "1".into()], 8))
        );
    }

    #[test]
    fn other_forms_give_up() {
        for line in [
            "a\"b,c\n",   // a quote inside an unquoted field
            "\"a\"b,c\n", // text after a closing quote
            "\"a,b\n",    // a quote never closed
            "\n",         // an empty line
            "",           // nothing
            "a,b\rc\n",   // a lone carriage return
        ] {
            assert_eq!(fields(line), None, "{line:?}");
        }
        assert_eq!(fields("a,b\rc,d\n"), None); // a lone carriage return
    }

    /// A field as a CSV writer would put it (quoted when it must be, or
    /// when `quote` says so), or, with `raw`, as it is: maybe not CSV.
    fn encode(f: &str, quote: bool, raw: bool) -> String {
        if raw {
            return f.to_string();
        }
        if quote || f.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", f.replace('"', "\"\""))
        } else {
            f.to_string()
        }
    }

    fn field() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            "[a-z0-9]{1,6}",
            "(-?[0-9]{1,14})|(2026-0[1-9]-1[0-9]T0[0-9]:[0-5][0-9]:00(\\.5)?(Z|\\+08:00)?)",
            "[ a-z,\"\n\r\t　Ａ第评]{0,6}",
            "[a-z]{0,3}(\"\"|\r\n|\n\n)[a-z]{0,3}",
            Just(String::new()),
        ]
    }

    proptest::proptest! {
        /// Whatever the file, a record read here is the general path's
        /// record for its row, and a file given up on is left to it; a file
        /// a CSV writer made from valid rows is read here.
        #[test]
        fn records_are_the_general_paths(
            rows in proptest::collection::vec(
                (proptest::collection::vec((field(), proptest::bool::ANY, 0u8..40), 3..=4), proptest::bool::ANY),
                0..12,
            ),
            clean in proptest::bool::ANY,
            cr in proptest::bool::ANY,
            block in proptest::prop_oneof![8usize..200, proptest::strategy::Just(BLOCK)],
            end_newline in proptest::bool::ANY,
        ) {
            let eol = if cr { "\r\n" } else { "\n" };
            let mut text = format!("ts_ms, viewer_id ,text{eol}");
            for (i, (fields, valid)) in rows.iter().enumerate() {
                let line: Vec<String> = if clean || *valid {
                    // A valid row, written properly.
                    vec![
                        (1_795_608_000_000i64 + i as i64).to_string(),
                        encode(&format!("v{}", fields[0].0.trim()), fields[0].1, false),
                        encode(&format!("x{}", fields[1].0), fields[1].1, false),
                    ]
                } else {
                    fields
                        .iter()
                        .map(|(f, q, r)| encode(f, *q, *r == 0))
                        .collect()
                };
                text.push_str(&line.join(","));
                if i + 1 < rows.len() || end_newline {
                    text.push_str(eol);
                }
            }
            let src: Arc<str> = Arc::from("comments.csv");
            let mut fast = Tables::default();
            let mut fast_origins = Origins::default();
            let read_fast = csv_records(
                TableName::Comments,
                &src,
                text.as_bytes(),
                block,
                &mut fast,
                &mut fast_origins,
            );
            let mut general = Tables::default();
            let mut problems = Vec::new();
            let general_ok = match crate::ingest::read_csv_bytes("comments.csv", text.as_bytes()) {
                Ok((raw, _)) => {
                    crate::table::parse_raw(
                        TableName::Comments,
                        &raw,
                        &mut general,
                        &mut Origins::default(),
                        &mut problems,
                    );
                    problems.is_empty()
                }
                Err(_) => false,
            };
            if read_fast {
                proptest::prop_assert!(general_ok, "{text:?}: {problems:?}");
                proptest::prop_assert_eq!(&fast, &general, "{:?}", text);
                let n = fast.comments.len();
                proptest::prop_assert_eq!(
                    n.checked_sub(1).and_then(|i| fast_origins.get(TableName::Comments, i)),
                    n.checked_sub(1).map(|i| ("comments.csv", i + 1))
                );
            } else {
                proptest::prop_assert_eq!(fast, Tables::default());
            }
            if clean && !rows.is_empty() {
                proptest::prop_assert!(read_fast, "{:?}", text);
            }
        }
    }

    #[test]
    fn pieces_start_at_records_outside_quotes() {
        // Rows whose quoted text holds line feeds: every piece must start
        // right after a record's line end.
        let row = "1,\"a\nb\"\"c\nd\",x\n";
        let text = row.repeat(60_000);
        let pieces = split_rows(text.as_bytes(), 3);
        assert_eq!(pieces.len(), 3, "{pieces:?}");
        assert_eq!(pieces[0].0, 0);
        assert_eq!(pieces.last().unwrap().1, text.len());
        for w in pieces.windows(2) {
            assert_eq!(w[0].1, w[1].0);
            assert_eq!(w[1].0 % row.len(), 0, "{pieces:?}");
        }
    }
}
