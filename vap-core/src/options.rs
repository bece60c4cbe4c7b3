//! Options: the one grammar every option set of vap follows, in every language.
//!
//! Each option set of vap-core ([`crate::align::AlignOptions`],
//! [`crate::detect::DetectOptions`], [`crate::attribute::AttributeOptions`],
//! [`crate::sim::SimConfig`], ...) is a serde type whose `Default` holds its
//! defaults and whose [`Options::check`] is its one validation step, run before
//! any work. The bindings pass what the user wrote straight to
//! [`Options::from_value`] (Python keyword arguments) or
//! [`Options::from_camel_value`] (a Node options object, camelCase keys mapped
//! to snake_case by [`camel_to_snake`]); they restate no default.
//!
//! Values are read in the forms users write:
//! - durations: ms as a number, or a string such as `"500ms"`, `"10s"`,
//!   `"1min"`, `"2h"` ([`duration`]);
//! - instants: ms since the epoch, or an RFC 3339 / ISO 8601 string (a time
//!   without a zone is UTC) ([`instant`]);
//! - penalties: `"robust"`, `"bic"` or a number ([`crate::detect::Penalty`]).
//!
//! Fields that hold a duration or an instant accept the short name users
//! write (`step`, `window`, `start`) as well as the field's own (`step_ms`);
//! unknown names are refused, and every error is an
//! [`VapError::InvalidArgument`] naming the option.
//!
//! ```
//! use vap_core::detect::DetectOptions;
//! use vap_core::options::Options;
//!
//! let o = DetectOptions::from_json(r#"{"step": "1min", "threshold": 4}"#).unwrap();
//! assert_eq!(o.step_ms, 60_000);
//! assert_eq!(o.window_ms, DetectOptions::default().window_ms);
//!
//! // Node's camelCase keys follow one rule.
//! let o = DetectOptions::from_camel_value(serde_json::json!({"minDuration": "2min"})).unwrap();
//! assert_eq!(o.min_duration_ms, 120_000);
//!
//! let e = DetectOptions::from_json(r#"{"threshold": "high"}"#).unwrap_err();
//! assert!(e.to_string().contains("threshold"));
//! assert!(DetectOptions::from_json(r#"{"treshold": 4}"#).is_err());
//! ```

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Result, VapError};
use crate::schema::Ms;

/// An option set: a serde type with its defaults (`Default`) and one
/// validation step ([`Options::check`]).
pub trait Options: Serialize + DeserializeOwned + Default {
    /// What the set is called in messages ("moment options").
    const WHAT: &'static str;

    /// Top-level fields whose values are user data (phrase groups, say): the
    /// camelCase rule leaves the keys inside them as they are.
    const VERBATIM: &'static [&'static str] = &[];

    /// Fields where `null` means something other than the default (the
    /// attribution's `exposure: null` is "no exposure"); elsewhere `null` is
    /// "not given".
    const NULLABLE: &'static [&'static str] = &[];

    /// Checks every field; the one validation step, run before any work.
    fn check(&self) -> Result<()> {
        Ok(())
    }

    /// Moves flat user keys into nested fields before deserialising (for
    /// instance attribution's `trend` into `controls`). Default: nothing.
    fn prepare(_map: &mut Map<String, Value>) -> Result<()> {
        Ok(())
    }

    /// Fills what depends on other fields (a factor's name from its column).
    fn resolve(&mut self) {}

    /// Reads options from a JSON value (`null` is the defaults), fills what
    /// depends on other fields and checks them.
    fn from_value(v: Value) -> Result<Self> {
        let mut map = object_of(Self::WHAT, v)?;
        // `null` means "not given": the default (but where it means "none").
        map.retain(|k, v| !v.is_null() || Self::NULLABLE.contains(&k.as_str()));
        Self::prepare(&mut map)?;
        let mut o: Self = deserialize(Self::WHAT, Value::Object(map))?;
        o.resolve();
        o.check()?;
        Ok(o)
    }

    /// [`Options::from_value`] of a JSON text.
    fn from_json(text: &str) -> Result<Self> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| VapError::InvalidArgument(format!("{}: not JSON: {e}", Self::WHAT)))?;
        Self::from_value(v)
    }

    /// [`Options::from_value`] of an object with camelCase keys (Node's
    /// convention), mapped by [`snake_keys`].
    fn from_camel_value(v: Value) -> Result<Self> {
        Self::from_value(snake_keys(v, Self::VERBATIM))
    }

    /// The defaults, as JSON (what the documentation of every binding shows).
    fn defaults_value() -> Value {
        serde_json::to_value(Self::default()).unwrap_or(Value::Null)
    }
}

/// Deserialises `v` as `T`, an error naming the field (`factors[2].sign`).
pub fn deserialize<T: DeserializeOwned>(what: &str, v: Value) -> Result<T> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let inner = with_suggestion(e.into_inner().to_string());
        if path.is_empty() || path == "." {
            VapError::InvalidArgument(format!("{what}: {inner}"))
        } else {
            VapError::InvalidArgument(format!("{what}: option '{path}': {inner}"))
        }
    })
}

/// Adds the closest known name to serde's "unknown field `x`, expected one
/// of `a`, `b`" (a typo such as `timzone` gets "did you mean `timezone`?");
/// other messages come back unchanged.
///
/// ```
/// use vap_core::options::with_suggestion;
/// let m = with_suggestion(
///     "unknown field `timzone`, expected one of `id`, `timezone`, `title`".into(),
/// );
/// assert!(m.ends_with("did you mean `timezone`?"), "{m}");
/// ```
pub fn with_suggestion(message: String) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message;
    };
    let Some((unknown, known)) = rest.split_once('`') else {
        return message;
    };
    let best = known
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|k| (edit_distance(unknown, k), k))
        .min();
    match best {
        Some((d, k)) if d <= 2.max(unknown.chars().count() / 3) => {
            format!("{message}; did you mean `{k}`?")
        }
        _ => message,
    }
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `minDuration` → `min_duration`, `l1Ratio` → `l1_ratio`, `timeOfDay` →
/// `time_of_day`; snake_case keys are left as they are.
pub fn camel_to_snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for (i, c) in key.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `min_duration` → `minDuration`, `l1_ratio` → `l1Ratio`, `p50_ms` →
/// `p50Ms`, `gmv_7d` → `gmv7d`: Node's options and result fields. The
/// inverse of [`camel_to_snake`] on names without a digit right after an
/// underscore (vap's option names have none). Leading, trailing and doubled
/// underscores stay.
pub fn snake_to_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(next) if c == '_' && !out.is_empty() && next.is_ascii_alphanumeric() => {
                out.push(next.to_ascii_uppercase());
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// The keys of every object in `v` (nested ones too) by [`snake_to_camel`],
/// except inside the values of the top-level keys named in `verbatim`
/// (user data): options as Node writes them.
pub fn camel_keys(v: Value, verbatim: &[&str]) -> Value {
    renamed_keys(v, verbatim, snake_to_camel)
}

/// The keys of every object in `v` (nested ones too) by [`camel_to_snake`],
/// except the values of the top-level keys named in `verbatim` (user data).
pub fn snake_keys(v: Value, verbatim: &[&str]) -> Value {
    renamed_keys(v, verbatim, camel_to_snake)
}

/// The keys of every object in `v` by `rule`, but inside the values of the
/// top-level keys `verbatim` names (in either form).
fn renamed_keys(v: Value, verbatim: &[&str], rule: fn(&str) -> String) -> Value {
    fn rec(v: Value, rule: fn(&str) -> String) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, v)| (rule(&k), rec(v, rule)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.into_iter().map(|x| rec(x, rule)).collect()),
            other => other,
        }
    }
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let renamed = rule(&k);
                    let data =
                        verbatim.contains(&k.as_str()) || verbatim.contains(&renamed.as_str());
                    (renamed, if data { v } else { rec(v, rule) })
                })
                .collect(),
        ),
        other => other,
    }
}

/// `Ok` when no problem was found, else one `InvalidArgument` listing them
/// all under the option set's name.
pub fn all_or_nothing(what: &str, problems: Vec<String>) -> Result<()> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(VapError::InvalidArgument(format!(
            "{what}: {}",
            problems.join("; ")
        )))
    }
}

/// Reads the option set `T` nested under `key` of an outer set (`what`
/// names it in messages) through `T`'s own reading (its flat keys, defaults
/// and checks), leaving its whole serde form under `key`: an outer set's
/// [`Options::prepare`] calls it for each nested set.
pub fn nested<T: Options>(what: &str, map: &mut Map<String, Value>, key: &str) -> Result<()> {
    if let Some(v) = map.remove(key) {
        let o = T::from_value(v)
            .map_err(|e| VapError::InvalidArgument(format!("{what}, field '{key}': {e}")))?;
        map.insert(
            key.to_string(),
            serde_json::to_value(o).map_err(|e| VapError::Internal(e.to_string()))?,
        );
    }
    Ok(())
}

/// An options object: `null` is empty, anything but an object is refused.
pub fn object_of(what: &str, v: Value) -> Result<Map<String, Value>> {
    match v {
        Value::Null => Ok(Map::new()),
        Value::Object(m) => Ok(m),
        other => Err(VapError::InvalidArgument(format!(
            "{what} must be an object (a mapping of option names to values), got {other}"
        ))),
    }
}

/// Refuses a non-positive value of a field (ms, counts).
pub fn ensure_positive(what: &str, field: &str, v: i64) -> Result<()> {
    if v > 0 {
        Ok(())
    } else {
        Err(VapError::InvalidArgument(format!(
            "{what}: option '{field}' must be > 0, got {v}"
        )))
    }
}

/// Refuses a value of a field that is not finite or lies outside `[lo, hi]`.
pub fn ensure_in(what: &str, field: &str, v: f64, lo: f64, hi: f64) -> Result<()> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(VapError::InvalidArgument(format!(
            "{what}: option '{field}' must be in [{lo}, {hi}], got {v}"
        )))
    }
}

/// Refuses a value of a field that is not finite or not above `lo`.
pub fn ensure_above(what: &str, field: &str, v: f64, lo: f64) -> Result<()> {
    if v.is_finite() && v > lo {
        Ok(())
    } else {
        Err(VapError::InvalidArgument(format!(
            "{what}: option '{field}' must be a number > {lo}, got {v}"
        )))
    }
}

/// `null` as `None`, anything else through `read`.
fn optional(
    v: Value,
    read: fn(&Value) -> std::result::Result<Ms, String>,
) -> std::result::Result<Option<Ms>, String> {
    match v {
        Value::Null => Ok(None),
        v => read(&v).map(Some),
    }
}

fn ms_of_number(x: f64) -> Option<Ms> {
    (0.0..9.0e15).contains(&x).then(|| x.round() as Ms)
}

/// A duration: ms as a number (≥ 0), or a string such as `"500ms"`, `"10s"`,
/// `"1.5min"`, `"2h"` (see [`parse_duration_ms`]). Use with
/// `#[serde(with = "vap_core::options::duration")]`.
pub mod duration {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Reads a duration in ms.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Ms, D::Error> {
        let v = Value::deserialize(d)?;
        of_value(&v).map_err(serde::de::Error::custom)
    }

    /// Writes the ms.
    pub fn serialize<S: Serializer>(v: &Ms, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_i64(*v)
    }

    /// A duration from a JSON value.
    pub fn of_value(v: &Value) -> std::result::Result<Ms, String> {
        match v {
            Value::String(s) => parse_duration_ms(s).map_err(|e| match e {
                VapError::InvalidArgument(m) => m,
                other => other.to_string(),
            }),
            Value::Number(n) => n.as_f64().and_then(ms_of_number).ok_or_else(|| {
                format!("a duration must be ms >= 0 or a string like \"10s\", got {n}")
            }),
            other => Err(format!(
                "expected a duration (ms, or a string like \"10s\" / \"1min\"), got {other}"
            )),
        }
    }
}

/// A duration that may be negative as a number (a string is never): for
/// fields whose own check lists a negative value with every other problem.
pub mod signed_duration {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Reads a duration in ms, a negative number kept for the check.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Ms, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_f64()
                .filter(|x| x.is_finite() && x.abs() < 9.0e15)
                .map(|x| x.round() as Ms)
                .ok_or_else(|| serde::de::Error::custom(format!("not a duration in ms: {n}"))),
            v => duration::of_value(&v).map_err(serde::de::Error::custom),
        }
    }

    /// Writes the ms.
    pub fn serialize<S: Serializer>(v: &Ms, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_i64(*v)
    }
}

/// An optional duration (`null` or absent: none).
pub mod opt_duration {
    use super::*;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Reads an optional duration in ms.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Option<Ms>, D::Error> {
        optional(Value::deserialize(d)?, duration::of_value).map_err(serde::de::Error::custom)
    }

    /// Writes the ms or `null`.
    pub fn serialize<S: Serializer>(v: &Option<Ms>, s: S) -> std::result::Result<S::Ok, S::Error> {
        v.serialize(s)
    }
}

/// A list of durations; a single duration is a list of one.
pub mod durations {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Reads durations in ms.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<Ms>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(Vec::new()),
            Value::Array(a) => a
                .iter()
                .map(duration::of_value)
                .collect::<std::result::Result<_, _>>()
                .map_err(serde::de::Error::custom),
            v => duration::of_value(&v)
                .map(|x| vec![x])
                .map_err(serde::de::Error::custom),
        }
    }

    /// Writes the ms.
    pub fn serialize<S: Serializer>(v: &[Ms], s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(v.iter())
    }
}

/// One string or a list of strings (`by="product_id"` or `by=["a", "b"]`).
pub fn one_or_many<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<String>, D::Error> {
    use serde::Deserialize;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    })
}

/// An instant: ms since the Unix epoch as a number, or an RFC 3339 / ISO 8601
/// string (`2026-11-25T20:00:00+08:00`, `2026-11-25 12:00:00Z`; a time without
/// a zone is UTC).
pub mod instant {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Reads an instant in ms.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Ms, D::Error> {
        of_value(&Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }

    /// Writes the ms.
    pub fn serialize<S: Serializer>(v: &Ms, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_i64(*v)
    }

    /// An instant from a JSON value.
    pub fn of_value(v: &Value) -> std::result::Result<Ms, String> {
        match v {
            Value::Number(n) => n
                .as_f64()
                .filter(|x| x.is_finite() && x.abs() < 9.0e15)
                .map(|x| x.round() as Ms)
                .ok_or_else(|| format!("an instant must be ms since the epoch, got {n}")),
            Value::String(s) => parse_instant_ms(s),
            other => Err(format!(
                "expected an instant (ms since the epoch or an ISO 8601 time), got {other}"
            )),
        }
    }
}

/// An optional instant.
pub mod opt_instant {
    use super::*;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Reads an optional instant in ms.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Option<Ms>, D::Error> {
        optional(Value::deserialize(d)?, instant::of_value).map_err(serde::de::Error::custom)
    }

    /// Writes the ms or `null`.
    pub fn serialize<S: Serializer>(v: &Option<Ms>, s: S) -> std::result::Result<S::Ok, S::Error> {
        v.serialize(s)
    }
}

/// Parses a duration such as `"500ms"`, `"1s"`, `"10s"`, `"1.5min"`, `"2h"` (or
/// a bare number of ms) into ms.
///
/// ```
/// use vap_core::options::parse_duration_ms;
/// assert_eq!(parse_duration_ms("1min").unwrap(), 60_000);
/// assert_eq!(parse_duration_ms("250").unwrap(), 250);
/// assert!(parse_duration_ms("soon").is_err());
/// ```
pub fn parse_duration_ms(text: &str) -> Result<Ms> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "" | "ms" => 1.0,
        "s" | "sec" => 1000.0,
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        _ => f64::NAN,
    };
    let v: f64 = num.parse().unwrap_or(f64::NAN);
    let ms = (v * scale).round();
    if (0.0..9.0e15).contains(&ms) {
        Ok(ms as Ms)
    } else {
        Err(VapError::InvalidArgument(format!(
            "cannot read {text:?} as a duration (examples: \"500ms\", \"10s\", \"1min\", \"2h\")"
        )))
    }
}

/// Parses an RFC 3339 / ISO 8601 time into ms since the epoch; without a
/// zone it is UTC.
///
/// ```
/// use vap_core::options::parse_instant_ms;
/// assert_eq!(parse_instant_ms("1970-01-01T00:00:01Z").unwrap(), 1000);
/// assert_eq!(parse_instant_ms("1970-01-01 08:00:00+08:00").unwrap(), 0);
/// assert_eq!(parse_instant_ms("1970-01-01T00:00:00.250").unwrap(), 250);
/// assert!(parse_instant_ms("yesterday").is_err());
/// ```
pub fn parse_instant_ms(text: &str) -> std::result::Result<Ms, String> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.timestamp_millis());
    }
    let t2 = t.replacen(' ', "T", 1);
    if let Ok(d) = DateTime::parse_from_rfc3339(&t2) {
        return Ok(d.timestamp_millis());
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(&t2, f) {
            return Ok(d.and_utc().timestamp_millis());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .map_or(0, |d| d.and_utc().timestamp_millis()));
    }
    Err(format!(
        "cannot read {text:?} as a time (ms since the epoch, or ISO 8601 such as \"2026-11-25T20:00:00+08:00\")"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_rule() {
        for (c, s) in [
            ("minDuration", "min_duration"),
            ("l1Ratio", "l1_ratio"),
            ("timeOfDay", "time_of_day"),
            ("stepMs", "step_ms"),
        ] {
            assert_eq!(snake_to_camel(s), c);
            assert_eq!(camel_to_snake(c), s);
        }
        let v = serde_json::json!({"step_ms": 1, "lexicon": {"my_group": ["a"]}, "ads": {"carryover_ms": [0]}});
        assert_eq!(
            camel_keys(v, &["lexicon"]),
            serde_json::json!({"stepMs": 1, "lexicon": {"my_group": ["a"]}, "ads": {"carryoverMs": [0]}})
        );
        assert_eq!(camel_to_snake("minDuration"), "min_duration");
        assert_eq!(camel_to_snake("l1Ratio"), "l1_ratio");
        assert_eq!(camel_to_snake("timeOfDay"), "time_of_day");
        assert_eq!(camel_to_snake("step"), "step");
        assert_eq!(camel_to_snake("gauge_max_staleness"), "gauge_max_staleness");
        let v = snake_keys(
            serde_json::json!({"perProduct": true, "lexicon": {"flashSale": ["x"]},
                               "factors": [{"carryoverKind": "hold"}]}),
            &["lexicon"],
        );
        assert_eq!(v["per_product"], true);
        assert!(v["lexicon"].get("flashSale").is_some());
        assert_eq!(v["factors"][0]["carryover_kind"], "hold");
    }

    #[test]
    fn durations_and_instants() {
        assert_eq!(duration::of_value(&serde_json::json!("1min")), Ok(60_000));
        assert_eq!(duration::of_value(&serde_json::json!(250)), Ok(250));
        assert!(duration::of_value(&serde_json::json!(-1)).is_err());
        assert!(duration::of_value(&serde_json::json!(true)).is_err());
        assert_eq!(instant::of_value(&serde_json::json!("1970-01-01")), Ok(0));
        assert_eq!(instant::of_value(&serde_json::json!(-5)), Ok(-5));
    }
}
