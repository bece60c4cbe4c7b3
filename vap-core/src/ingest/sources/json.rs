//! JSON as capture tools and dashboards write it: keys matched without
//! regard to case or underscores, numbers possibly written as strings.

use serde_json::{Map, Value};

use crate::error::Problem;

/// A whole file as one JSON document, in any of the encodings
/// [`crate::text::decode`] reads (a byte-order mark skipped); a syntax error
/// names the file and its line.
pub(crate) fn parse(file: &str, bytes: &[u8]) -> Result<Value, Vec<Problem>> {
    let (t, _) = crate::text::decode(bytes).map_err(|e| vec![Problem::new(file, None, None, e)])?;
    serde_json::from_str(t.trim_start_matches('\u{feff}')).map_err(|e| {
        vec![Problem::new(
            file,
            Some(e.line()),
            None,
            format!("not JSON: {e}"),
        )]
    })
}

/// A key reduced for matching: lower case, no underscores or hyphens.
fn norm(k: &str) -> impl Iterator<Item = char> + '_ {
    k.chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
}

/// Whether two keys match (case and underscores aside).
pub(crate) fn same(a: &str, b: &str) -> bool {
    a == b || norm(a).eq(norm(b))
}

/// The value under `key` of an object (`viewer_count` finds `viewerCount`).
pub(crate) fn get<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key)
        .or_else(|| o.iter().find(|(k, _)| same(k, key)).map(|(_, v)| v))
}

/// The first of several keys present.
pub(crate) fn get_any<'a>(o: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| get(o, k)).filter(|v| !v.is_null())
}

/// A number from a JSON number or a string as exports write it.
/// `Ok(None)`: absent or missing ("-").
pub(crate) fn num(v: Option<&Value>) -> Result<Option<f64>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) => super::value::number(s),
        Some(Value::Bool(b)) => Ok(Some(f64::from(u8::from(*b)))),
        Some(other) => Err(format!("not a number: {other}")),
    }
}

/// A string from a JSON string or number (ids written either way).
pub(crate) fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The first value anywhere under `v` whose key is `key` (depth first).
pub(crate) fn find_key<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(o) => get(o, key).or_else(|| o.values().find_map(|x| find_key(x, key))),
        Value::Array(a) => a.iter().find_map(|x| find_key(x, key)),
        _ => None,
    }
}

/// Whether any object under `v` satisfies `f`.
pub(crate) fn any_object(v: &Value, f: &dyn Fn(&Map<String, Value>) -> bool) -> bool {
    match v {
        Value::Object(o) => f(o) || o.values().any(|x| any_object(x, f)),
        Value::Array(a) => a.iter().any(|x| any_object(x, f)),
        _ => false,
    }
}

/// [`objects`] from the top of a file, refused where there is none: the
/// problem names `file` and `field` and says `what` was looked for.
#[allow(clippy::type_complexity)]
pub(crate) fn require_objects<'a>(
    v: &'a Value,
    f: &dyn Fn(&Map<String, Value>) -> bool,
    file: &str,
    field: &str,
    what: &str,
) -> Result<Vec<(&'a Map<String, Value>, Option<&'a str>)>, Vec<Problem>> {
    let mut out = Vec::new();
    objects(v, f, &mut out, None);
    if out.is_empty() {
        return Err(vec![Problem::new(file, None, Some(field), what)]);
    }
    Ok(out)
}

/// Every object under `v` that satisfies `f`, with the key path of the
/// nearest enclosing named value (for the trend's grouped shape), depth first.
pub(crate) fn objects<'a>(
    v: &'a Value,
    f: &dyn Fn(&Map<String, Value>) -> bool,
    out: &mut Vec<(&'a Map<String, Value>, Option<&'a str>)>,
    context: Option<&'a str>,
) {
    match v {
        Value::Object(o) => {
            if f(o) {
                out.push((o, context));
                return;
            }
            // A group's own name ("index": "online_user_cnt") names its points.
            let own = [
                "index",
                "index_name",
                "indexName",
                "point_name",
                "name",
                "key",
            ]
            .iter()
            .find_map(|k| get(o, k).and_then(|x| x.as_str()));
            for (k, x) in o {
                objects(x, f, out, own.or(Some(k.as_str())));
            }
        }
        Value::Array(a) => {
            for x in a {
                objects(x, f, out, context);
            }
        }
        _ => {}
    }
}

/// The largest list of objects under `v` (a response's `data.list`,
/// `data.live_order_stream`, `data.intervals`), or `v` itself when it is one.
pub(crate) fn main_list(v: &Value) -> Option<&Vec<Value>> {
    fn walk<'a>(v: &'a Value, best: &mut Option<&'a Vec<Value>>) {
        match v {
            Value::Array(a) => {
                if a.iter().any(|x| x.is_object()) && best.is_none_or(|b| a.len() > b.len()) {
                    *best = Some(a);
                }
                for x in a {
                    walk(x, best);
                }
            }
            Value::Object(o) => {
                for x in o.values() {
                    walk(x, best);
                }
            }
            _ => {}
        }
    }
    let mut best = None;
    walk(v, &mut best);
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_match_across_cases_and_numbers_across_types() {
        let v = json!({"viewer_count": "1,204", "totalUser": 5, "user": {"nickName": "a"}});
        let o = v.as_object().unwrap();
        assert_eq!(num(get(o, "viewerCount")).unwrap(), Some(1204.0));
        assert_eq!(num(get(o, "total_user")).unwrap(), Some(5.0));
        let user = get(o, "user").and_then(|u| u.as_object()).unwrap();
        assert_eq!(text(get(user, "nick_name")).as_deref(), Some("a"));
        assert!(num(Some(&json!("x"))).is_err());
        assert_eq!(num(Some(&json!("-"))).unwrap(), None);
    }
}
