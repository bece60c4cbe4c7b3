//! Ids: what may name a room, a session or a saved model. Every module that
//! takes an id (the loaders, the store, the simulator) checks it here.
//!
//! ```
//! use vap_core::ids::check_id;
//! assert!(check_id("room-1").is_ok());
//! assert!(check_id("../etc").is_err());
//! assert!(check_id("").is_err());
//! ```

/// Checks that an id can name a directory inside the store without escaping
/// it: non-empty, at most 128 bytes, no path separators, no `..`, no leading dot,
/// no control characters, none of `<>:"|?*`, and already normalised
/// ([`crate::text::normalize`]), since loaders normalise ids.
pub fn check_id(id: &str) -> std::result::Result<(), String> {
    if id.is_empty() {
        return Err("id is empty".into());
    }
    let normal = crate::text::normalize(id);
    if normal != id {
        return Err(format!(
            "id '{id}' is not in normal form (NFKC, trimmed): use '{normal}'"
        ));
    }
    if id.len() > 128 {
        return Err(format!("id '{id}' is longer than 128 bytes"));
    }
    if id.starts_with('.') {
        return Err(format!("id '{id}' starts with a dot"));
    }
    if let Some(c) = id.chars().find(|c| {
        c.is_control() || matches!(c, '/' | '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*')
    }) {
        return Err(format!(
            "id '{id}' contains the character {c:?}, which could escape or break a path"
        ));
    }
    Ok(())
}
