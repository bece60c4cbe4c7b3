//! Ids: what may name a room, a session or a saved model. Every module that
//! takes an id (the loaders, the store, the simulator) checks it here.
//!
//! ```
//! use vap_core::ids::check_id;
//! assert!(check_id("room-1").is_ok());
//! assert!(check_id("../etc").is_err());
//! assert!(check_id("").is_err());
//! // Names that render deceptively or that Windows reserves are refused too.
//! assert!(check_id("room\u{202E}gpj.exe").is_err());
//! assert!(check_id("CON").is_err());
//! assert!(check_id("room.").is_err());
//! ```

/// Checks that an id can name a directory inside the store without escaping
/// it: non-empty, at most 128 bytes, no path separators, no `..`, no leading dot,
/// no control characters, none of `<>:"|?*`, and already normalised
/// ([`crate::text::normalize`]), since loaders normalise ids.
///
/// Ids become directory names that other tools (file managers, shells,
/// Windows shares, object stores) show, so names that render as something
/// else are refused as well: bidirectional controls (right-to-left
/// overrides), zero-width and other invisible format characters, Windows
/// device names (`CON`, `nul.txt`, `COM1`...) and a trailing dot or space.
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
            "id '{}' contains the character {c:?}, which could escape or break a path",
            id.escape_debug()
        ));
    }
    if let Some(c) = id.chars().find(|c| invisible(*c)) {
        return Err(format!(
            "id '{}' contains the invisible character U+{:04X}, which makes a name render \
             as something else (bidirectional controls, zero-width characters)",
            id.escape_debug(),
            c as u32
        ));
    }
    if id.ends_with('.') || id.ends_with(' ') {
        return Err(format!(
            "id '{id}' ends with a dot or a space, which Windows drops from file names"
        ));
    }
    let stem = id.split('.').next().unwrap_or(id).trim_end();
    if is_windows_device(stem) {
        return Err(format!(
            "id '{id}' is a Windows device name ({}), which cannot name a file there",
            stem.to_ascii_uppercase()
        ));
    }
    Ok(())
}

/// Format characters that change how text renders without showing:
/// bidirectional marks, embeddings, overrides and isolates, zero-width
/// spaces and joiners, word joiners and invisible operators, the soft hyphen,
/// the byte-order mark, interlinear annotation marks and tag characters.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFFB}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}')
}

/// `CON`, `PRN`, `AUX`, `NUL`, `COM0`-`COM9`, `LPT0`-`LPT9` (any case; the
/// superscript digits Windows also reserves are folded by NFKC before this).
fn is_windows_device(stem: &str) -> bool {
    let up = stem.to_ascii_uppercase();
    matches!(
        up.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) || ((up.starts_with("COM") || up.starts_with("LPT"))
        && up.len() == 4
        && up.as_bytes()[3].is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::check_id;

    #[test]
    fn deceptive_ids_are_refused_with_the_reason() {
        for (id, why) in [
            ("room\u{202E}4pm.exe", "U+202E"),
            ("ro\u{200B}om", "U+200B"),
            ("a\u{2066}b\u{2069}", "U+2066"),
            ("\u{FEFF}room", "U+FEFF"),
            ("CON", "device"),
            ("con.txt", "device"),
            ("Lpt1", "device"),
            ("com9.parquet", "device"),
            ("room.", "dot"),
            ("room..", "dot"),
        ] {
            let e = check_id(id).unwrap_err();
            assert!(e.contains(why), "{id:?}: {e}");
        }
        for ok in [
            "CONSOLE",
            "com",
            "com10",
            "直播间-1",
            "a.b",
            "nul-room",
            "emoji😀",
            "❤\u{FE0F}",
        ] {
            assert!(check_id(ok).is_ok(), "{ok}: {:?}", check_id(ok));
        }
    }
}
