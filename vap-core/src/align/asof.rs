//! As-of joins: for each left row, the right row with the nearest key before
//! (backward), after (forward) or either side (nearest) of it, optionally
//! within a tolerance and within groups of equal `by` keys. The semantics are
//! those of pandas `merge_asof` and polars `join_asof`:
//!
//! - backward takes the *last* right row with `key <= left key` (`<` when exact
//!   matches are not allowed); forward the *first* with `key >= left key`;
//!   nearest the closer of the two, the backward one on a tie;
//! - the tolerance is inclusive (`|left − right| <= tolerance`);
//! - right rows need not be sorted (they are, stably, by key); left rows keep
//!   their order;
//! - a row whose `by` key is null matches nothing; a null `on` key is an error.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use serde::{Deserialize, Serialize};

use crate::error::{Result, VapError};
use crate::options::Options as _;

/// Which right row an as-of join takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AsofDirection {
    /// The last right row at or before the left key.
    #[default]
    Backward,
    /// The first right row at or after the left key.
    Forward,
    /// The closer of the two (backward on a tie).
    Nearest,
}

/// Options of [`asof_join`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AsofOptions {
    /// Key column, in both tables: integers or timestamps (any unit).
    pub on: String,
    /// Columns whose values must be equal (strings or integers); one name or a list.
    #[serde(deserialize_with = "crate::options::one_or_many")]
    pub by: Vec<String>,
    /// Direction.
    pub direction: AsofDirection,
    /// Largest distance allowed, inclusive; in ms for timestamp keys, in the
    /// key's own units for integer keys.
    #[serde(with = "crate::options::opt_duration")]
    pub tolerance: Option<i64>,
    /// Whether equal keys match (default true).
    pub allow_exact_matches: bool,
    /// Suffix for right columns whose names clash with left ones.
    pub suffix: String,
}

impl Default for AsofOptions {
    fn default() -> Self {
        AsofOptions {
            on: "time".into(),
            by: Vec::new(),
            direction: AsofDirection::Backward,
            tolerance: None,
            allow_exact_matches: true,
            suffix: "_right".into(),
        }
    }
}

impl crate::options::Options for AsofOptions {
    const WHAT: &'static str = "as-of options";

    /// The key named, the tolerance ≥ 0.
    fn check(&self) -> Result<()> {
        if self.on.is_empty() {
            return Err(VapError::InvalidArgument(format!(
                "{}: option 'on' must name the key column",
                Self::WHAT
            )));
        }
        match self.tolerance {
            Some(t) if t < 0 => Err(VapError::InvalidArgument(format!(
                "{}: option 'tolerance' must be >= 0, got {t}",
                Self::WHAT
            ))),
            _ => Ok(()),
        }
    }
}

/// For each left key, the index into `right` (sorted ascending) of its match.
pub fn asof_indices(
    left: &[i64],
    right: &[i64],
    direction: AsofDirection,
    tolerance: Option<i64>,
    allow_exact_matches: bool,
) -> Vec<Option<usize>> {
    left.iter()
        .map(|&l| asof_one(l, right, direction, tolerance, allow_exact_matches))
        .collect()
}

fn asof_one(
    l: i64,
    right: &[i64],
    direction: AsofDirection,
    tolerance: Option<i64>,
    exact: bool,
) -> Option<usize> {
    let within = |d: i64| tolerance.is_none_or(|t| d <= t);
    let back = || {
        // number of right keys <= l (or < l)
        let k = if exact {
            right.partition_point(|&r| r <= l)
        } else {
            right.partition_point(|&r| r < l)
        };
        (k > 0 && within(l.abs_diff(right[k - 1]).min(i64::MAX as u64) as i64)).then(|| k - 1)
    };
    let fwd = || {
        let k = if exact {
            right.partition_point(|&r| r < l)
        } else {
            right.partition_point(|&r| r <= l)
        };
        (k < right.len() && within(right[k].abs_diff(l).min(i64::MAX as u64) as i64)).then_some(k)
    };
    match direction {
        AsofDirection::Backward => back(),
        AsofDirection::Forward => fwd(),
        AsofDirection::Nearest => match (back(), fwd()) {
            (Some(b), Some(f)) => {
                if right[f].abs_diff(l) < l.abs_diff(right[b]) {
                    Some(f)
                } else {
                    Some(b)
                }
            }
            (b, f) => b.or(f),
        },
    }
}

/// Key values as i64; timestamps in ns (so both sides share a unit), with the
/// factor that turns a tolerance in ms into key units.
fn keys(batch: &RecordBatch, name: &str, side: &str) -> Result<(Vec<i64>, i64)> {
    let col = batch
        .column_by_name(name)
        .ok_or_else(|| VapError::InvalidArgument(format!("{side} table has no column '{name}'")))?;
    if col.null_count() > 0 {
        let rows: Vec<String> = (0..col.len())
            .filter(|&i| col.is_null(i))
            .take(10)
            .map(|i| (i + 1).to_string())
            .collect();
        return Err(VapError::InvalidArgument(format!(
            "{side} table, field '{name}': null keys at rows {}",
            rows.join(", ")
        )));
    }
    macro_rules! ints {
        ($t:ty) => {
            col.as_primitive::<$t>()
                .values()
                .iter()
                .map(|v| *v as i64)
                .collect()
        };
    }
    let (v, per_ms): (Vec<i64>, i64) = match col.data_type() {
        DataType::Int8 => (ints!(Int8Type), 1),
        DataType::Int16 => (ints!(Int16Type), 1),
        DataType::Int32 => (ints!(Int32Type), 1),
        DataType::Int64 => (ints!(Int64Type), 1),
        DataType::UInt8 => (ints!(UInt8Type), 1),
        DataType::UInt16 => (ints!(UInt16Type), 1),
        DataType::UInt32 => (ints!(UInt32Type), 1),
        DataType::Timestamp(unit, _) => {
            let mul = match unit {
                TimeUnit::Second => 1_000_000_000,
                TimeUnit::Millisecond => 1_000_000,
                TimeUnit::Microsecond => 1_000,
                TimeUnit::Nanosecond => 1,
            };
            let raw: &[i64] = match unit {
                TimeUnit::Second => col.as_primitive::<TimestampSecondType>().values(),
                TimeUnit::Millisecond => col.as_primitive::<TimestampMillisecondType>().values(),
                TimeUnit::Microsecond => col.as_primitive::<TimestampMicrosecondType>().values(),
                TimeUnit::Nanosecond => col.as_primitive::<TimestampNanosecondType>().values(),
            };
            let mut out = Vec::with_capacity(raw.len());
            for (i, r) in raw.iter().enumerate() {
                out.push(r.checked_mul(mul).ok_or_else(|| {
                    VapError::InvalidArgument(format!(
                        "{side} table, row {}, field '{name}': timestamp out of range",
                        i + 1
                    ))
                })?);
            }
            (out, 1_000_000)
        }
        other => {
            return Err(VapError::InvalidArgument(format!(
            "{side} table, field '{name}': as-of keys must be integers or timestamps, not {other}"
        )))
        }
    };
    Ok((v, per_ms))
}

/// Group keys as strings (`None` for a null in any `by` column).
fn group_keys(batch: &RecordBatch, by: &[String], side: &str) -> Result<Vec<Option<String>>> {
    let mut out: Vec<Option<String>> = vec![Some(String::new()); batch.num_rows()];
    for name in by {
        let col = batch.column_by_name(name).ok_or_else(|| {
            VapError::InvalidArgument(format!("{side} table has no column '{name}'"))
        })?;
        let col = match col.data_type() {
            DataType::Dictionary(_, _) => arrow_cast_dictionary(col)?,
            _ => col.clone(),
        };
        let text = |i: usize| -> Result<Option<String>> {
            if col.is_null(i) {
                return Ok(None);
            }
            Ok(Some(match col.data_type() {
                DataType::Utf8 => col.as_string::<i32>().value(i).to_string(),
                DataType::LargeUtf8 => col.as_string::<i64>().value(i).to_string(),
                DataType::Utf8View => col.as_string_view().value(i).to_string(),
                DataType::Int64 => col.as_primitive::<Int64Type>().value(i).to_string(),
                DataType::Int32 => col.as_primitive::<Int32Type>().value(i).to_string(),
                DataType::Int16 => col.as_primitive::<Int16Type>().value(i).to_string(),
                DataType::Int8 => col.as_primitive::<Int8Type>().value(i).to_string(),
                DataType::UInt64 => col.as_primitive::<UInt64Type>().value(i).to_string(),
                DataType::UInt32 => col.as_primitive::<UInt32Type>().value(i).to_string(),
                DataType::UInt16 => col.as_primitive::<UInt16Type>().value(i).to_string(),
                DataType::UInt8 => col.as_primitive::<UInt8Type>().value(i).to_string(),
                DataType::Boolean => col.as_boolean().value(i).to_string(),
                other => {
                    return Err(VapError::InvalidArgument(format!(
                        "{side} table, field '{name}': 'by' columns must be strings or integers, not {other}"
                    )))
                }
            }))
        };
        for (i, slot) in out.iter_mut().enumerate() {
            match (slot.as_mut(), text(i)?) {
                (Some(s), Some(t)) => {
                    s.push_str(&t);
                    s.push('\u{1f}');
                }
                _ => *slot = None,
            }
        }
    }
    Ok(out)
}

fn arrow_cast_dictionary(col: &ArrayRef) -> Result<ArrayRef> {
    let dict = col.as_any_dictionary();
    let idx: Vec<Option<u32>> = (0..col.len())
        .map(|i| (!col.is_null(i)).then(|| dict.normalized_keys()[i] as u32))
        .collect();
    arrow_select::take::take(dict.values().as_ref(), &UInt32Array::from(idx), None)
        .map_err(|e| VapError::Internal(e.to_string()))
}

/// Joins `right` onto `left` as of the `on` key: every left row, in order,
/// with the right columns (other than `on` and `by`) of its match, null where
/// there is none. Clashing right names get [`AsofOptions::suffix`].
pub fn asof_join(
    left: &RecordBatch,
    right: &RecordBatch,
    opts: &AsofOptions,
) -> Result<RecordBatch> {
    opts.check()?;
    let (lk, lms) = keys(left, &opts.on, "left")?;
    let (rk, rms) = keys(right, &opts.on, "right")?;
    if lms != rms {
        return Err(VapError::InvalidArgument(format!(
            "key '{}' is a timestamp on one side and an integer on the other",
            opts.on
        )));
    }
    let tol = opts.tolerance.map(|t| t.saturating_mul(lms));
    let lg = group_keys(left, &opts.by, "left")?;
    let rg = group_keys(right, &opts.by, "right")?;
    // Right rows per group, stably sorted by key.
    let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, g) in rg.iter().enumerate() {
        if let Some(g) = g {
            groups.entry(g.as_str()).or_default().push(i);
        }
    }
    let mut sorted: HashMap<&str, (Vec<usize>, Vec<i64>)> = HashMap::new();
    for (g, mut rows) in groups {
        rows.sort_by_key(|&i| rk[i]);
        let ks = rows.iter().map(|&i| rk[i]).collect();
        sorted.insert(g, (rows, ks));
    }
    let take: Vec<Option<u32>> = lk
        .iter()
        .zip(&lg)
        .map(|(&l, g)| {
            let (rows, ks) = sorted.get(g.as_deref()?)?;
            asof_one(l, ks, opts.direction, tol, opts.allow_exact_matches).map(|k| rows[k] as u32)
        })
        .collect();
    let idx = UInt32Array::from(take);
    let mut fields: Vec<Field> = left
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let mut cols: Vec<ArrayRef> = left.columns().to_vec();
    let taken: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect::<Vec<_>>();
    let taken: Vec<String> = taken.into_iter().map(str::to_string).collect();
    for (f, c) in right.schema().fields().iter().zip(right.columns()) {
        if f.name() == &opts.on || opts.by.contains(f.name()) {
            continue;
        }
        let name = if taken.contains(f.name()) {
            format!("{}{}", f.name(), opts.suffix)
        } else {
            f.name().clone()
        };
        let out = arrow_select::take::take(c.as_ref(), &idx, None)
            .map_err(|e| VapError::Internal(e.to_string()))?;
        fields.push(
            Field::new(name, f.data_type().clone(), true).with_metadata(f.metadata().clone()),
        );
        cols.push(out);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)
        .map_err(|e| VapError::InvalidArgument(format!("as-of join: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_ties_and_tolerance() {
        let r = [10, 20, 20, 30];
        let b = asof_indices(
            &[5, 10, 20, 25, 40],
            &r,
            AsofDirection::Backward,
            None,
            true,
        );
        assert_eq!(b, vec![None, Some(0), Some(2), Some(2), Some(3)]);
        let f = asof_indices(&[5, 20, 31], &r, AsofDirection::Forward, None, true);
        assert_eq!(f, vec![Some(0), Some(1), None]);
        let x = asof_indices(&[20], &r, AsofDirection::Backward, None, false);
        assert_eq!(x, vec![Some(0)]);
        let nr = asof_indices(&[15, 26, 24], &r, AsofDirection::Nearest, None, true);
        assert_eq!(nr, vec![Some(0), Some(3), Some(2)]);
        let t = asof_indices(&[25, 24], &r, AsofDirection::Backward, Some(4), true);
        assert_eq!(t, vec![None, Some(2)]);
    }
}
