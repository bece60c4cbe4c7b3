//! Typed records straight from Arrow batches written by vap itself (the
//! store's tables), without the untyped cells of the general path.
//!
//! The general path ([`crate::table::raw_from_batches`] then
//! [`crate::table::parse_raw`]) accepts any column types, parses text
//! timestamps and normalises every string. A table the store wrote has the
//! documented schema and text normalised at import, so it can be read column
//! by column. This reader is strict: anything the general path would treat
//! differently (another column type, a null where a value is required, text
//! that is not in normal form, an enum spelled other than its canonical name,
//! a number out of range) makes it give up, and the caller reads the table the
//! general way, which reports every problem with its file, row and field.

use std::sync::Arc;

use crate::schema::*;
use crate::table::{ColType, Origins, TableName, Tables};
use crate::text::is_normal as normal;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMillisecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};

/// Reads one column of one batch.
struct Col<'a> {
    /// `None` for an optional column the file does not have (all null).
    arr: Option<&'a dyn Array>,
}

impl<'a> Col<'a> {
    fn of(batch: &'a RecordBatch, name: &str, ty: ColType, required: bool) -> Option<Col<'a>> {
        let Some(arr) = batch.column_by_name(name) else {
            // A missing optional column reads as nulls in the general path.
            return (!required).then_some(Col { arr: None });
        };
        let ok = match (ty, arr.data_type()) {
            (ColType::Str, DataType::Utf8) => true,
            (ColType::Time, DataType::Timestamp(TimeUnit::Millisecond, _)) => true,
            (ColType::Int, DataType::Int64) => true,
            (ColType::Float, DataType::Float64) => true,
            (ColType::StrList, DataType::List(f)) => f.data_type() == &DataType::Utf8,
            _ => false,
        };
        (ok && (!required || arr.null_count() == 0)).then_some(Col {
            arr: Some(arr.as_ref()),
        })
    }

    fn null(&self, i: usize) -> bool {
        self.arr.is_none_or(|a| a.is_null(i))
    }

    fn array(&self) -> &'a dyn Array {
        self.arr.expect("not null, so present")
    }

    fn str(&self, i: usize) -> Option<&'a str> {
        if self.null(i) {
            return None;
        }
        let s = self.array().as_string::<i32>().value(i);
        (!s.is_empty() && normal(s)).then_some(s)
    }

    /// `Some(None)` for a null, `None` for text not in normal form (the
    /// general path reads empty text as null: not expected here either).
    fn opt_str(&self, i: usize) -> Option<Option<String>> {
        if self.null(i) {
            return Some(None);
        }
        let s = self.array().as_string::<i32>().value(i);
        (!s.is_empty() && normal(s)).then(|| Some(s.to_string()))
    }

    fn time(&self, i: usize) -> Option<Ms> {
        (!self.null(i)).then(|| {
            self.array()
                .as_primitive::<TimestampMillisecondType>()
                .value(i)
        })
    }

    fn int(&self, i: usize) -> Option<i64> {
        (!self.null(i)).then(|| self.array().as_primitive::<Int64Type>().value(i))
    }

    fn float(&self, i: usize) -> Option<f64> {
        self.opt_float(i).flatten()
    }

    /// `Some(None)` for a null, `None` for a number that is not finite.
    fn opt_float(&self, i: usize) -> Option<Option<f64>> {
        if self.null(i) {
            return Some(None);
        }
        let v = self.array().as_primitive::<Float64Type>().value(i);
        v.is_finite().then_some(Some(v))
    }

    fn list(&self, i: usize) -> Option<Vec<String>> {
        if self.null(i) {
            return Some(Vec::new());
        }
        let v = self.array().as_list::<i32>().value(i);
        let v = v.as_string::<i32>();
        let mut out = Vec::with_capacity(v.len());
        for j in 0..v.len() {
            let s = (!v.is_null(j)).then(|| v.value(j))?;
            if s.is_empty() || !normal(s) {
                return None;
            }
            out.push(s.to_string());
        }
        Some(out)
    }

    fn enumerated<T: Copy>(&self, i: usize, options: &[(&str, T)]) -> Option<T> {
        let s = self.str(i)?;
        options.iter().find(|(k, _)| *k == s).map(|(_, v)| *v)
    }
}

/// Appends the records of `batches` (one table, with the documented column
/// types) to `out`, their origins to `origins` (rows numbered from 1 across
/// the batches). Returns `false`, with `out` and `origins` unchanged, when
/// any row needs the general path.
pub(crate) fn typed_from_batches(
    table: TableName,
    source: &Arc<str>,
    batches: &[RecordBatch],
    out: &mut Tables,
    origins: &mut Origins,
) -> bool {
    // Runs of consecutive batches of about equal rows, one a thread, read in
    // parallel and appended in order: the same records on any number of
    // threads. The first run's table has room for every record, so the
    // others are appended in place and no table grows by copying.
    use rayon::prelude::*;
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    if table == TableName::Comments {
        let Some(n) = comments_in_place(batches, total, &mut out.comments) else {
            return false;
        };
        origins.push_run(table, source, 1, n);
        return true;
    }
    let threads = crate::threads::num_threads().max(1);
    let mut runs: Vec<&[RecordBatch]> = Vec::with_capacity(threads);
    let (mut from, mut rows) = (0, 0);
    for (i, b) in batches.iter().enumerate() {
        rows += b.num_rows();
        if rows * threads >= total * (runs.len() + 1) || i + 1 == batches.len() {
            runs.push(&batches[from..=i]);
            from = i + 1;
        }
    }
    let parts: Option<Vec<Tables>> = crate::threads::install(|| {
        runs.par_iter()
            .enumerate()
            .map(|(k, run)| {
                let mut t = Tables::default();
                let room = if k == 0 {
                    total
                } else {
                    run.iter().map(|b| b.num_rows()).sum()
                };
                crate::table::reserve_rows(&mut t, table, room);
                for b in *run {
                    read_batch(table, b, &mut t)?;
                }
                Some(t)
            })
            .collect()
    });
    let Some(parts) = parts else {
        return false;
    };
    let mut n = 0;
    for t in parts {
        n += crate::table::tables_len(&t, table);
        crate::table::append_tables(out, t);
    }
    origins.push_run(table, source, 1, n);
    true
}

/// Comments, the table of millions of rows, read straight into their place:
/// each batch's rows split between the threads, every record written where
/// it ends up (no part appended by copying, the new memory touched on every
/// thread). Appends to `out` and returns the number of records, or `None`,
/// with `out` unchanged, when any row needs the general path.
fn comments_in_place(
    batches: &[RecordBatch],
    total: usize,
    out: &mut Vec<Comment>,
) -> Option<usize> {
    let mut v: Vec<Comment> = Vec::with_capacity(total);
    for b in batches {
        comments_of_batch(b, &mut v)?;
    }
    let n = v.len();
    if out.is_empty() {
        *out = v;
    } else {
        out.append(&mut v);
    }
    Some(n)
}

/// The comments of one batch appended to `v` in place, on every thread
/// (see [`comments_in_place`]); `None` when any row needs the general path
/// (`v` then holds some of the batch's rows: the caller drops it).
fn comments_of_batch(b: &RecordBatch, v: &mut Vec<Comment>) -> Option<()> {
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    let bad = AtomicBool::new(false);
    let c = TableName::Comments
        .columns()
        .iter()
        .map(|k| Col::of(b, k.name, k.ty, k.required))
        .collect::<Option<Vec<_>>>()?;
    crate::threads::prefault_spare(v, b.num_rows());
    crate::threads::install(|| {
        v.par_extend((0..b.num_rows()).into_par_iter().map(|i| {
            comment(&c, i).unwrap_or_else(|| {
                bad.store(true, Ordering::Relaxed);
                Comment::default()
            })
        }))
    });
    (!bad.load(Ordering::Relaxed)).then_some(())
}

/// Comments from the Parquet file `bytes` (from `source`), decoded and read
/// batch by batch ([`super::read::decode_parquet_each`]): two decoded
/// batches are held at most, never the whole table. Appends the
/// records to `out` and their origins to `origins`, or returns `false`, both
/// unchanged, when the file is not decoded this way or any row needs the
/// general path; the caller then decodes it whole.
pub(crate) fn comments_streamed(
    bytes: &bytes::Bytes,
    source: &Arc<str>,
    out: &mut Tables,
    origins: &mut Origins,
) -> bool {
    let mut v: Vec<Comment> = Vec::new();
    let done = super::read::decode_parquet_each(bytes, &mut |b, file_rows| {
        // Room for the rows the footer gives, asked for once: a footer that
        // claims more than can be had is an allocation that fails, and the
        // file is decoded whole instead (which says what is wrong with it);
        // room reserved for rows that never came is given back at the end.
        // Only the room for each batch's rows is faulted in.
        if v.capacity() == 0 && v.try_reserve_exact(file_rows.max(b.num_rows())).is_err() {
            return false;
        }
        comments_of_batch(b, &mut v).is_some()
    });
    if done.is_none() {
        return false;
    }
    // A footer that claimed more rows than the file had: give the rest of
    // the room back.
    if v.capacity() > 2 * v.len() {
        v.shrink_to_fit();
    }
    let n = v.len();
    if out.comments.is_empty() {
        out.comments = v;
    } else {
        out.comments.append(&mut v);
    }
    origins.push_run(TableName::Comments, source, 1, n);
    true
}

/// Row `i` of a comments batch's columns (in the order of
/// `TableName::columns`), or `None` where it needs the general path.
fn comment(c: &[Col<'_>], i: usize) -> Option<Comment> {
    Some(Comment {
        ts_ms: c[0].time(i)?,
        viewer_id: c[1].str(i)?.into(),
        text: c[2].str(i)?.into(),
    })
}

fn read_batch(table: TableName, b: &RecordBatch, t: &mut Tables) -> Option<()> {
    use crate::table::{PROMO_KINDS, ROLES, SEGMENT_KINDS, STATUSES};
    let cols = table.columns();
    let mut c = Vec::with_capacity(cols.len());
    for k in cols {
        c.push(Col::of(b, k.name, k.ty, k.required)?);
    }
    let n = b.num_rows();
    // The columns in the order of `TableName::columns`.
    match table {
        TableName::Anchors => {
            for i in 0..n {
                t.anchors.push(Anchor {
                    id: c[0].str(i)?.to_string(),
                    name: c[1].str(i)?.to_string(),
                });
            }
        }
        TableName::Shifts => {
            for i in 0..n {
                t.shifts.push(Shift {
                    anchor_id: c[0].str(i)?.to_string(),
                    role: c[1].enumerated(i, ROLES)?,
                    start_ms: c[2].time(i)?,
                    end_ms: c[3].time(i)?,
                });
            }
        }
        TableName::Products => {
            for i in 0..n {
                t.products.push(Product {
                    id: c[0].str(i)?.to_string(),
                    name: c[1].str(i)?.to_string(),
                    price: c[2].float(i)?,
                    category: c[3].opt_str(i)?.unwrap_or_default(),
                    aliases: c[4].list(i)?,
                });
            }
        }
        TableName::Segments => {
            for i in 0..n {
                t.segments.push(ProductSegment {
                    product_id: c[0].str(i)?.to_string(),
                    kind: c[1].enumerated(i, SEGMENT_KINDS)?,
                    start_ms: c[2].time(i)?,
                    end_ms: c[3].time(i)?,
                });
            }
        }
        TableName::Promotions => {
            for i in 0..n {
                t.promotions.push(Promotion {
                    id: c[0].str(i)?.to_string(),
                    kind: c[1].enumerated(i, PROMO_KINDS)?,
                    label: c[2].opt_str(i)?,
                    product_id: c[3].opt_str(i)?,
                    start_ms: c[4].time(i)?,
                    end_ms: c[5].time(i)?,
                });
            }
        }
        TableName::Comments => {
            t.comments.reserve(n);
            for i in 0..n {
                t.comments.push(comment(&c, i)?);
            }
        }
        TableName::Orders => {
            t.orders.reserve(n);
            for i in 0..n {
                let q = c[3].int(i)?;
                let amount = c[4].float(i)?;
                if !(1..=u32::MAX as i64).contains(&q) || amount < 0.0 {
                    return None;
                }
                t.orders.push(Order {
                    id: c[0].str(i)?.to_string(),
                    ts_ms: c[1].time(i)?,
                    product_id: c[2].str(i)?.to_string(),
                    quantity: q as u32,
                    amount,
                    status: c[5].enumerated(i, STATUSES)?,
                    viewer_id: c[6].opt_str(i)?,
                });
            }
        }
        TableName::Utterances => {
            t.utterances.reserve(n);
            for i in 0..n {
                let confidence = c[4].opt_float(i)?;
                if confidence.is_some_and(|x| !(0.0..=1.0).contains(&x)) {
                    return None;
                }
                t.utterances.push(Utterance {
                    start_ms: c[0].time(i)?,
                    end_ms: c[1].time(i)?,
                    text: c[2].str(i)?.to_string(),
                    speaker: c[3].opt_str(i)?,
                    confidence,
                });
            }
        }
        TableName::Metrics => {
            t.samples.reserve(n);
            for i in 0..n {
                t.samples.push(MetricSample {
                    metric: c[0].str(i)?.to_string(),
                    ts_ms: c[1].time(i)?,
                    value: c[2].float(i)?,
                });
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Comments of several batches from vap's Parquet, on two threads:
    /// streamed batch by batch, the same records and origins as decoded
    /// whole; a row to normalise in a later batch leaves them to the general
    /// path with nothing added; the batches handed over are the file's, in
    /// order, and a refused one stops the decoding.
    #[test]
    fn comments_are_streamed_batch_by_batch_as_decoded_whole() {
        let _threads = crate::threads::TEST_THREADS
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        crate::threads::set_num_threads(2).unwrap();
        let mut data = crate::sim::simulate(&crate::sim::SimConfig {
            hours: 0.1,
            ..Default::default()
        })
        .unwrap()
        .data;
        let t0 = data.session.start_ms;
        let n = 100_003;
        data.comments = (0..n)
            .map(|i| Comment {
                ts_ms: t0 + (i / 100) as i64,
                viewer_id: format!("v{i:06}").into(),
                text: format!("第{i}条 评论").into(),
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let bytes = |data: &crate::schema::SessionData| {
            crate::ingest::write_dir(data, dir.path(), crate::ingest::Format::Parquet).unwrap();
            bytes::Bytes::from(std::fs::read(dir.path().join("comments.parquet")).unwrap())
        };
        let src: Arc<str> = Arc::from("comments.parquet");
        let file = bytes(&data);

        let (mut t, mut o) = (Tables::default(), Origins::default());
        assert!(comments_streamed(&file, &src, &mut t, &mut o));
        let whole = super::super::read::decode_parquet(file.clone(), false).unwrap();
        let (mut w, mut wo) = (Tables::default(), Origins::default());
        assert!(typed_from_batches(
            TableName::Comments,
            &src,
            &whole,
            &mut w,
            &mut wo
        ));
        assert_eq!(t, w);
        assert_eq!(t.comments, data.comments);
        assert_eq!(
            o.get(TableName::Comments, n - 1),
            Some(("comments.parquet", n))
        );

        // The batches, in order, are the whole file's rows; the third
        // refused stops it.
        let mut seen = Vec::new();
        let all = super::super::read::decode_parquet_each(&file, &mut |b, rows| {
            assert_eq!(rows, n);
            seen.push(b.clone());
            true
        });
        assert_eq!(all, Some(()));
        assert!(seen.len() > 2, "{}", seen.len());
        let cat = arrow_select::concat::concat_batches(&seen[0].schema(), &seen).unwrap();
        let whole = arrow_select::concat::concat_batches(&whole[0].schema(), &whole).unwrap();
        assert_eq!(cat, whole);
        let mut k = 0;
        let stopped = super::super::read::decode_parquet_each(&file, &mut |_, _| {
            k += 1;
            k < 3
        });
        assert_eq!((stopped, k), (None, 3));

        // Full-width text in a later batch: nothing added, the general path's.
        data.comments[n - 2].text = "ＡＢＣ".into();
        let file = bytes(&data);
        let (mut t, mut o) = (Tables::default(), Origins::default());
        assert!(!comments_streamed(&file, &src, &mut t, &mut o));
        assert_eq!(t, Tables::default());
        assert_eq!(o.get(TableName::Comments, 0), None);
        crate::threads::set_num_threads(0).unwrap();
    }

    #[test]
    fn every_table_vap_writes_reads_column_by_column() {
        let cfg = crate::sim::SimConfig {
            hours: 0.5,
            ..Default::default()
        };
        let data = crate::sim::simulate(&cfg).unwrap().data;
        let src: Arc<str> = Arc::from("x");
        let mut t = Tables::default();
        let mut origins = Origins::default();
        for table in TableName::ALL {
            let b = crate::table::to_record_batch(&data, table, true);
            assert!(
                typed_from_batches(table, &src, &[b.clone(), b], &mut t, &mut origins),
                "{table}"
            );
            let n = crate::table::row_count(&data, table);
            assert_eq!(crate::table::tables_len(&t, table), 2 * n, "{table}");
            if n > 0 {
                assert_eq!(origins.get(table, n), Some(("x", n + 1)));
            }
        }
        assert_eq!(&t.comments[..data.comments.len()], &data.comments[..]);
        assert_eq!(&t.orders[data.orders.len()..], &data.orders[..]);
        assert_eq!(&t.utterances[..data.utterances.len()], &data.utterances[..]);
        assert_eq!(
            t.products,
            [data.products.clone(), data.products.clone()].concat()
        );
        // A text column that is not in normal form is left to the general path.
        let mut odd = data.clone();
        odd.comments[0].text = "ＡＢＣ".into();
        let b = crate::table::to_record_batch(&odd, TableName::Comments, false);
        let mut t2 = Tables::default();
        assert!(!typed_from_batches(
            TableName::Comments,
            &src,
            &[b],
            &mut t2,
            &mut origins
        ));
        assert!(t2.comments.is_empty());
    }
}
