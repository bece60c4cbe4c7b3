//! Conversions between JS values and vap-core types. Options objects arrive
//! camelCase and are checked for unknown keys; result objects go back with
//! their field names in camelCase ([`to_json!`], by `crate::camel`), map
//! keys and table rows (column names) as they are.

use napi::bindgen_prelude::{FromNapiValue, JsObjectValue, Object, ToNapiValue, TypeName};
use napi::{sys, Env, JsValue, Unknown, ValueType};
use serde_json::{Map, Value};
use vap_core::table::{self, Cell, TableName};
use vap_core::VapError;

use crate::error::invalid;

/// Reads a JS value as JSON. Integral numbers become integers (so ms
/// timestamps stay exact); there is no node limit, so large tables convert.
pub fn json_of(env: &Env, v: Option<Unknown<'_>>) -> vap_core::Result<Value> {
    match v {
        None => Ok(Value::Null),
        Some(u) => env
            .from_js_value::<Value, _>(u)
            .map_err(|e| invalid(format!("cannot read argument: {}", e.reason))),
    }
}

/// An options object: `undefined`/`null` is empty; keys must be in `allowed`.
pub fn options(v: Value, what: &str, allowed: &[&str]) -> vap_core::Result<Map<String, Value>> {
    let map = match v {
        Value::Null => return Ok(Map::new()),
        Value::Object(m) => m,
        other => return Err(invalid(format!("{what} must be an object, got {other}"))),
    };
    for k in map.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(invalid(format!(
                "{what}: unknown option '{k}' (expected one of: {})",
                allowed.join(", ")
            )));
        }
    }
    Ok(map)
}

/// An optional boolean option.
pub fn opt_bool(m: &Map<String, Value>, key: &str) -> vap_core::Result<Option<bool>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(invalid(format!(
            "option '{key}' must be a boolean, got {v}"
        ))),
    }
}

/// An optional number option.
pub fn opt_f64(m: &Map<String, Value>, key: &str) -> vap_core::Result<Option<f64>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| invalid(format!("option '{key}' must be a number, got {v}"))),
    }
}

/// An optional string option.
pub fn opt_str(m: &Map<String, Value>, key: &str) -> vap_core::Result<Option<String>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(invalid(format!("option '{key}' must be a string, got {v}"))),
    }
}

/// An optional integer option.
pub fn opt_i64(m: &Map<String, Value>, key: &str) -> vap_core::Result<Option<i64>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| invalid(format!("option '{key}' must be an integer, got {v}"))),
    }
}

/// Parses a table name, or fails with `InvalidArgument`.
pub fn table_name(name: &str) -> vap_core::Result<TableName> {
    TableName::parse(name).ok_or_else(|| {
        invalid(format!(
            "unknown table '{name}' (expected one of: {})",
            TableName::ALL.map(|t| t.as_str()).join(", ")
        ))
    })
}

/// The rows of a JSON array argument.
pub fn rows_of(v: Value, what: &str) -> vap_core::Result<Vec<Value>> {
    match v {
        Value::Array(rows) => Ok(rows),
        other => Err(VapError::InvalidArgument(format!(
            "{what} must be an array of row objects, got {}",
            kind_of(&other)
        ))),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Serialises a core value to JSON as JS receives it
/// (`vap_core::Result<serde_json::Value>`): the field names of its structs in
/// camelCase, map keys and strings as they are ([`crate::camel::to_value`]).
#[macro_export]
macro_rules! to_json {
    ($v:expr) => {
        $crate::camel::to_value($v)
            .map_err(|e| vap_core::VapError::Internal(format!("serialising: {e}")))
    };
}

/// Rows handed to JS as an array of plain objects whose keys follow the
/// table's column order (nulls left out, times as integer ms).
pub struct Rows {
    /// Column names.
    pub columns: Vec<String>,
    /// Row-major cells.
    pub rows: Vec<Vec<Cell>>,
}

impl Rows {
    /// The rows of one core table of a session.
    pub fn of_table(data: &vap_core::SessionData, t: TableName) -> Rows {
        Rows {
            columns: t.columns().iter().map(|c| c.name.to_string()).collect(),
            rows: table::rows_of(data, t),
        }
    }
}

impl TypeName for Rows {
    fn type_name() -> &'static str {
        "Array<Record<string, unknown>>"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for Rows {
    unsafe fn to_napi_value(raw_env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let env = Env::from_raw(raw_env);
        let n = u32::try_from(val.rows.len())
            .map_err(|_| napi::Error::from_reason("too many rows for a JS array"))?;
        let mut out = env.create_array(n)?;
        for (i, row) in val.rows.into_iter().enumerate() {
            let mut obj = Object::new(&env)?;
            for (name, cell) in val.columns.iter().zip(row) {
                match cell {
                    Cell::Null => {}
                    Cell::Bool(b) => obj.set_named_property(name, b)?,
                    // Integer ms and counts: exact as JS numbers up to 2^53.
                    Cell::Int(x) => obj.set_named_property(name, x as f64)?,
                    Cell::Float(x) => obj.set_named_property(name, x)?,
                    Cell::Str(s) => obj.set_named_property(name, s)?,
                    Cell::List(v) => obj.set_named_property(name, v)?,
                }
            }
            out.set(i as u32, obj)?;
        }
        Ok(out.raw())
    }
}

/// A JSON value handed to JS as plain data: the result type of the `*Async`
/// calls whose results are a core type (made by [`to_json!`]).
pub struct Json(pub Value);

impl TypeName for Json {
    fn type_name() -> &'static str {
        "unknown"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for Json {
    unsafe fn to_napi_value(raw_env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        // SAFETY: forwarded from the caller.
        unsafe { Value::to_napi_value(raw_env, val.0) }
    }
}

/// A string argument (`what` names it in the error).
pub fn string_arg(env: &Env, v: Unknown<'_>, what: &str) -> vap_core::Result<String> {
    match v.get_type() {
        Ok(ValueType::String) => unsafe { String::from_napi_value(env.raw(), v.raw()) }
            .map_err(|e| invalid(format!("{what}: {}", e.reason))),
        _ => Err(invalid(format!("{what} must be a string"))),
    }
}

/// The `(room, session)` pair most store calls take, both strings.
pub fn session_key(
    env: &Env,
    room: Unknown<'_>,
    session: Unknown<'_>,
) -> vap_core::Result<(String, String)> {
    Ok((
        string_arg(env, room, "room")?,
        string_arg(env, session, "session")?,
    ))
}

/// An optional string argument: `undefined` and `null` are `None`.
pub fn opt_string_arg(
    env: &Env,
    v: Option<Unknown<'_>>,
    what: &str,
) -> vap_core::Result<Option<String>> {
    match v {
        None => Ok(None),
        Some(u) if matches!(u.get_type(), Ok(ValueType::Null | ValueType::Undefined)) => Ok(None),
        Some(u) => string_arg(env, u, what).map(Some),
    }
}

/// A non-negative integer argument no larger than `max`.
pub fn count_arg(env: &Env, v: Unknown<'_>, what: &str, max: u32) -> vap_core::Result<u32> {
    let n = match v.get_type() {
        Ok(ValueType::Number) => unsafe { f64::from_napi_value(env.raw(), v.raw()) }
            .map_err(|e| invalid(format!("{what}: {}", e.reason)))?,
        _ => return Err(invalid(format!("{what} must be a number"))),
    };
    if n.fract() != 0.0 || !(0.0..=f64::from(max)).contains(&n) {
        return Err(invalid(format!(
            "{what} must be an integer in 0..={max}, got {n}"
        )));
    }
    Ok(n as u32)
}

/// A numeric series: a `Float64Array` or an array of numbers.
pub fn series_of(env: &Env, v: &Unknown<'_>) -> Option<Vec<f64>> {
    // SAFETY: `env` and `v` are live handles of the current call.
    unsafe {
        if let Ok(a) = napi::bindgen_prelude::Float64Array::from_napi_value(env.raw(), v.raw()) {
            return Some(a.to_vec());
        }
        Vec::<f64>::from_napi_value(env.raw(), v.raw()).ok()
    }
}
