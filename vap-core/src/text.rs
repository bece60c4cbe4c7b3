//! Text handling: normalisation, encodings and pseudonymisation.
//!
//! ```
//! use vap_core::text::{decode, normalize, pseudonymize, Encoding};
//!
//! assert_eq!(normalize("  ＶＩＰ　专享 "), "VIP 专享");
//! // GB18030 bytes (as some exports are written) are told from UTF-8.
//! let (text, enc) = decode(&[0xc4, 0xe3, 0xba, 0xc3]).unwrap();
//! assert_eq!((&*text, enc), ("你好", Encoding::Gb18030));
//! // A keyed hash: the same viewer gets the same pseudonym under one key.
//! assert_eq!(pseudonymize(b"k", "viewer-1"), pseudonymize(b"k", "viewer-1"));
//! assert_ne!(pseudonymize(b"k", "viewer-1"), pseudonymize(b"other", "viewer-1"));
//! ```

use hmac::{Hmac, Mac};
use sha2::Sha256;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

impl Encoding {
    /// Parses an encoding name: `utf-8` / `utf8`, `gb18030` / `gbk` / `gb2312`
    /// (any case, `_` for `-`).
    ///
    /// ```
    /// use vap_core::text::Encoding;
    /// assert_eq!(Encoding::parse("GBK"), Some(Encoding::Gb18030));
    /// assert_eq!(Encoding::parse("utf_8"), Some(Encoding::Utf8));
    /// assert_eq!(Encoding::parse("latin1"), None);
    /// ```
    pub fn parse(name: &str) -> Option<Encoding> {
        match name.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "gb18030" | "gbk" | "gb2312" => Some(Encoding::Gb18030),
            _ => None,
        }
    }
}

/// Normalises text as every loader does: Unicode NFKC (which folds full-width
/// ASCII such as `ＡＢＣ１２３！` to half-width and the ideographic space to a
/// space), line breaks and tabs to spaces, runs of spaces collapsed, trimmed.
/// Case and Chinese script are kept; matching-time folding is the lexicon's job.
///
/// ```
/// assert_eq!(vap_core::text::normalize("  ＶＩＰ　专享\t价！ "), "VIP 专享 价!");
/// ```
pub fn normalize(s: &str) -> String {
    if is_normal(s) {
        return s.to_owned();
    }
    normalize_slow(s)
}

/// Whether [`normalize`] would return `s` unchanged, decided without
/// normalising: no whitespace but single inner spaces, no control
/// characters, and NFKC-stable (ASCII and CJK ideographs are; otherwise
/// Unicode's quick check must say yes, a "maybe" counts as no). Most comments
/// and utterances are, so loading copies them instead of running NFKC.
///
/// One pass over the bytes: ASCII eight bytes at a time ([`ascii_word`]),
/// CJK Unified Ideographs (U+4E00 to U+9FFF, UTF-8 lead byte E5 to E9, or
/// E4 with a second byte from B8) without decoding; only a string with
/// another character is given to the NFKC quick check.
pub(crate) fn is_normal(s: &str) -> bool {
    let b = s.as_bytes();
    if b.first() == Some(&b' ') || b.last() == Some(&b' ') {
        return false;
    }
    let mut prev_space = false;
    let mut other = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            // ASCII from here: the next eight bytes as a word, checked at
            // once if all ASCII. Fewer left: the string's last eight bytes
            // (some checked already: the pairs of bytes in the word are all
            // the string's own), or a string shorter than a word whole.
            let rest = b.len() - i;
            let (w, before) = if rest >= 8 {
                (word_at(b, i), prev_space)
            } else if b.len() >= 8 {
                (word_at(b, b.len() - 8), false)
            } else {
                (short_word(b), false)
            };
            if w & HIGH == 0 {
                match ascii_word(w, before) {
                    Some(space) => prev_space = space,
                    None => return false,
                }
                i += rest.min(8);
                continue;
            }
            if c == b' ' {
                if prev_space {
                    return false;
                }
                prev_space = true;
            } else if !(0x20..0x7f).contains(&c) {
                return false;
            } else {
                prev_space = false;
            }
            i += 1;
            continue;
        }
        prev_space = false;
        // `s` is valid UTF-8: a lead byte E4..E9 starts a 3-byte sequence.
        if (0xE5..=0xE9).contains(&c) || (c == 0xE4 && b[i + 1] >= 0xB8) {
            i += 3;
            continue;
        }
        let Some(ch) = s[i..].chars().next() else {
            break;
        };
        if ch.is_whitespace() || ch.is_control() {
            return false;
        }
        other = true;
        i += ch.len_utf8();
    }
    !other || is_nfkc_quick(s.chars()) == IsNormalized::Yes
}

/// The high bit of each byte of a word.
const HIGH: u64 = 0x8080_8080_8080_8080;
/// One in each byte of a word.
const ONES: u64 = 0x0101_0101_0101_0101;

/// The eight bytes of `b` from `at` as a little-endian word.
#[inline]
fn word_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// The bytes of `b` (shorter than eight) as a little-endian word, the bytes
/// past its end a letter (`a`), read without a copy through memory (whose
/// narrow stores a wide load cannot take over: a stall on every string).
#[inline]
fn short_word(b: &[u8]) -> u64 {
    let n = b.len();
    let w = if n >= 4 {
        let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64;
        let hi = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]) as u64;
        lo | hi << ((n - 4) * 8)
    } else if n > 0 {
        b[0] as u64 | (b[n / 2] as u64) << (n / 2 * 8) | (b[n - 1] as u64) << ((n - 1) * 8)
    } else {
        0
    };
    w | (u64::from(b'a') * ONES) << (n * 8)
}

/// Eight ASCII bytes (`w`, little-endian, no high bit set) as
/// [`is_normal`] sees them: `None` if one is a control character (below
/// 0x20, or 0x7F) or two spaces follow each other (`prev_space`: the byte
/// before the word was a space), else whether the last byte is a space.
#[inline]
fn ascii_word(w: u64, prev_space: bool) -> Option<bool> {
    // Any byte below 0x20 (exact as a whole for ASCII bytes), or 0x7F.
    let below = w.wrapping_sub(0x20 * ONES) & !w & HIGH;
    let del = w ^ (0x7F * ONES);
    let is_del = del.wrapping_sub(ONES) & !del & HIGH;
    if below | is_del != 0 {
        return None;
    }
    // The high bit of each byte that is a space, exactly (the sum of two
    // bytes below 0x80 never carries into the next byte).
    let x = w ^ (0x20 * ONES);
    let spaces = !(((x & !HIGH) + !HIGH) | x) & HIGH;
    if spaces & (spaces << 8) != 0 || (prev_space && spaces & 0x80 != 0) {
        return None;
    }
    Some(spaces >> 63 == 1)
}

/// [`normalize`] without the fast path.
fn normalize_slow(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfkc() {
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// The text encoding a file was read in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// UTF-8 (a BOM is accepted and dropped); the default for writing.
    #[default]
    Utf8,
    /// GB18030 (superset of GBK / GB2312), common in Chinese platform exports.
    Gb18030,
}

/// Decodes bytes as UTF-8 when they are valid UTF-8 (BOM dropped), otherwise as
/// GB18030. Returns the text and the encoding used, or an error message when
/// neither decodes cleanly, naming the encodings tried: bytes that are not
/// text (a NUL byte: binary data, UTF-16), and GB18030 that only decodes by
/// accident, the way Latin-1 or Windows-1252 text does ("Crème" reads as
/// two rare ideographs), are refused rather than turned into mojibake.
///
/// ```
/// use vap_core::text::decode;
/// // "Crème brûlée" in Latin-1 is not read as GB18030.
/// let e = decode(b"name\nCr\xe8me br\xfbl\xe9e\n").unwrap_err();
/// assert!(e.contains("Latin-1") && e.contains("GB18030"), "{e}");
/// assert!(decode(b"\0\0\0\0").unwrap_err().contains("NUL"));
/// ```
pub fn decode(bytes: &[u8]) -> Result<(std::borrow::Cow<'_, str>, Encoding), String> {
    if let Some(at) = memchr_nul(bytes) {
        let line = 1 + bytes[..at].iter().filter(|b| **b == b'\n').count();
        return Err(format!(
            "a NUL byte at offset {at} (line {line}): binary data or UTF-16, not text in a \
             supported encoding (tried UTF-8 and GB18030)"
        ));
    }
    if let Some(body) = bytes.strip_prefix(b"\x84\x31\x95\x33") {
        // GB18030's own byte-order mark.
        let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(body);
        if !had_errors {
            return Ok((text, Encoding::Gb18030));
        }
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(body) {
        // UTF-8 is borrowed, not copied: a large file is not held twice.
        Ok(s) => Ok((std::borrow::Cow::Borrowed(s), Encoding::Utf8)),
        Err(utf8_err) => {
            let at = utf8_err.valid_up_to();
            let line = 1 + body[..at].iter().filter(|b| **b == b'\n').count();
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(body);
            if had_errors {
                return Err(format!(
                    "neither UTF-8 (invalid byte at offset {at}, line {line}) nor GB18030: the file is not text in a supported encoding"
                ));
            }
            if let Some(why) = accidental_gb18030(body) {
                return Err(format!(
                    "not UTF-8 (invalid byte 0x{:02X} at offset {at}, line {line}), and it only \
                     decodes as GB18030 by accident ({why}): it looks like Latin-1 or \
                     Windows-1252; save it as UTF-8 (encodings tried: UTF-8, GB18030)",
                    body[at]
                ));
            }
            Ok((text, Encoding::Gb18030))
        }
    }
}

fn memchr_nul(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|b| *b == 0)
}

/// Why bytes that decode as GB18030 are more likely Latin-1 / Windows-1252:
/// Chinese text is almost all in the GB2312 block (both bytes 0xA1-0xFE),
/// while an accented Latin letter (0xC0-0xFF) followed by an ASCII letter
/// pairs into a rare GBK extension character. None when most pairs are GB2312.
fn accidental_gb18030(body: &[u8]) -> Option<String> {
    let (mut pairs, mut gb2312, mut latin_like) = (0usize, 0usize, 0usize);
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b < 0x80 {
            i += 1;
            continue;
        }
        if i + 1 < body.len() && (0x30..=0x39).contains(&body[i + 1]) {
            i += 4; // a four-byte sequence
            continue;
        }
        let Some(&t) = body.get(i + 1) else { break };
        pairs += 1;
        if (0xA1..=0xF7).contains(&b) && (0xA1..=0xFE).contains(&t) {
            gb2312 += 1;
        } else if b >= 0xC0 && t.is_ascii_alphabetic() {
            latin_like += 1;
        }
        i += 2;
    }
    (pairs > 0 && latin_like * 2 > pairs && gb2312 * 2 < pairs).then(|| {
        format!(
            "{latin_like} of its {pairs} two-byte characters are an accented letter and an \
             ASCII letter read together, {gb2312} are common Chinese"
        )
    })
}

/// Encodes text for writing in `encoding`.
pub fn encode(s: &str, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Utf8 => s.as_bytes().to_vec(),
        Encoding::Gb18030 => encoding_rs::GB18030.encode(s).0.into_owned(),
    }
}

/// Keyed pseudonymisation of a viewer id: `"v_"` + the first 16 bytes of
/// HMAC-SHA256(key, id) in hex. The same key gives the same pseudonym for the
/// same id across sessions, so viewers can still be counted and followed; without
/// the key the id cannot be recovered or confirmed by hashing guesses.
///
/// ```
/// let a = vap_core::text::pseudonymize(b"secret", "user42");
/// assert_eq!(a, vap_core::text::pseudonymize(b"secret", "user42"));
/// assert_ne!(a, vap_core::text::pseudonymize(b"other", "user42"));
/// assert!(a.starts_with("v_") && a.len() == 34);
/// ```
pub fn pseudonymize(key: &[u8], id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(id.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(34);
    out.push_str("v_");
    for b in &digest[..16] {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Parses one JSON value, refusing an object that names a key twice (at any
/// depth): `serde_json` would keep the last value silently, and which one
/// the writer meant cannot be told.
///
/// ```
/// use vap_core::text::parse_json_strict;
/// assert!(parse_json_strict(r#"{"a": 1, "b": [{"c": 2}]}"#).is_ok());
/// let e = parse_json_strict(r#"{"amount": 1, "amount": 2}"#).unwrap_err();
/// assert!(e.contains("'amount'"), "{e}");
/// ```
pub fn parse_json_strict(text: &str) -> Result<serde_json::Value, String> {
    use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
    use serde_json::Value;

    struct Strict;

    impl<'de> DeserializeSeed<'de> for Strict {
        type Value = Value;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            d.deserialize_any(Strict)
        }
    }

    impl<'de> Visitor<'de> for Strict {
        type Value = Value;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_string()))
        }
        fn visit_string<E>(self, v: String) -> Result<Value, E> {
            Ok(Value::String(v))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_none<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut out = Vec::new();
            while let Some(v) = seq.next_element_seed(Strict)? {
                out.push(v);
            }
            Ok(Value::Array(out))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut out = serde_json::Map::new();
            while let Some(k) = map.next_key::<String>()? {
                let v = map.next_value_seed(Strict)?;
                if out.insert(k.clone(), v).is_some() {
                    return Err(A::Error::custom(format!("the key '{k}' appears twice")));
                }
            }
            Ok(Value::Object(out))
        }
    }

    let mut de = serde_json::Deserializer::from_str(text);
    let v = Strict.deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_gives_what_normalising_gives() {
        // Each case: normal (copied) or not (normalised), the same either way.
        for (s, normal) in [
            ("", true),
            ("how much?", true),
            ("多少钱 有没有大码", true),
            ("VIP 专享价!", true),
            ("café", true),
            (" leading", false),
            ("trailing ", false),
            ("two  spaces", false),
            ("tab\there", false),
            ("line\nbreak", false),
            ("ｈｏｗ", false),
            ("①", false),
            ("ideographic\u{3000}space", false),
            ("nbsp\u{a0}here", false),
            ("cafe\u{301}", false),
            ("bell\u{7}", false),
            ("\u{2002}", false),
        ] {
            assert_eq!(is_normal(s), normal, "{s:?}");
            assert_eq!(normalize(s), normalize_slow(s), "{s:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn normalize_equals_the_slow_path(
            s in "[ a-zA-Z0-9\t\n\u{3000}\u{a0}\u{ff21}-\u{ff3a}\u{301}\u{4e00}-\u{4e10}\u{4dff}\u{9ff0}-\u{9fff}\u{a000}\u{7f}\u{85}\u{2460}\u{e9}!?]{0,12}"
        ) {
            let fast = normalize(&s);
            proptest::prop_assert_eq!(&fast, &normalize_slow(&s));
            // The quick check never calls text normal that is not (it may
            // send normal text the slow way: a "maybe" counts as no).
            proptest::prop_assert!(!is_normal(&s) || normalize_slow(&s) == s);
            // Normalising twice changes nothing.
            proptest::prop_assert_eq!(&normalize(&fast), &fast);
        }
    }

    /// [`is_normal`] a byte at a time, as it was before it read ASCII by
    /// words.
    fn is_normal_bytewise(s: &str) -> bool {
        let b = s.as_bytes();
        if b.first() == Some(&b' ') || b.last() == Some(&b' ') {
            return false;
        }
        let mut prev_space = false;
        let mut other = false;
        for ch in s.chars() {
            if ch == ' ' {
                if prev_space {
                    return false;
                }
                prev_space = true;
                continue;
            }
            prev_space = false;
            if ch.is_ascii() {
                if !(' '..'\u{7f}').contains(&ch) {
                    return false;
                }
            } else if !('\u{4e00}'..='\u{9fff}').contains(&ch) {
                if ch.is_whitespace() || ch.is_control() {
                    return false;
                }
                other = true;
            }
        }
        !other || is_nfkc_quick(s.chars()) == IsNormalized::Yes
    }

    proptest::proptest! {
        #[test]
        fn words_of_ascii_are_checked_as_bytes_are(
            s in "[ a~\u{0}\u{1}\t\n\r\u{1f}\u{7f}\u{80}\u{85}\u{a0}\u{e9}\u{3000}\u{4e00}\u{9fff}\u{ff21}!0]{0,40}"
        ) {
            proptest::prop_assert_eq!(is_normal(&s), is_normal_bytewise(&s), "{:?}", s);
        }

        #[test]
        fn runs_of_printable_ascii_are_checked_as_bytes_are(
            s in "[ a~!0\u{4e00}\u{e9}]{0,40}"
        ) {
            proptest::prop_assert_eq!(is_normal(&s), is_normal_bytewise(&s), "{:?}", s);
        }
    }

    #[test]
    fn short_strings_are_words_padded_with_a_letter() {
        for n in 0..8 {
            let b: Vec<u8> = (0..n as u8).map(|k| b'0' + k).collect();
            let mut want = [b'a'; 8];
            want[..n].copy_from_slice(&b);
            assert_eq!(short_word(&b), u64::from_le_bytes(want), "{n}");
        }
    }

    #[test]
    fn every_control_byte_and_double_space_is_found_in_any_place() {
        for len in 1..=24 {
            for at in 0..len {
                let mut b = vec![b'x'; len];
                for c in (0u8..0x20).chain([0x7f]) {
                    b[at] = c;
                    let s = std::str::from_utf8(&b).unwrap();
                    assert!(!is_normal(s), "{s:?}");
                }
                b[at] = b' ';
                let s = std::str::from_utf8(&b).unwrap();
                assert_eq!(is_normal(s), is_normal_bytewise(s), "{s:?}");
                if at + 1 < len {
                    b[at + 1] = b' ';
                    let s = std::str::from_utf8(&b).unwrap();
                    assert!(!is_normal(s), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn the_quick_check_is_what_normalising_leaves() {
        for s in [
            "hello world",
            "多少钱",
            "链接 3 有货吗",
            "ＡＢＣ",
            " lead",
            "trail ",
            "two  spaces",
            "tab\there",
            "ﬁne",
            "é",
            "e\u{301}",
            "",
            "链接，有货吗",
            "链接,有货吗",
            "多少钱\u{3000}呀",
            "\u{4DFF}\u{4E00}\u{9FFF}\u{A000}",
            "䷀ 乾",
            "한국어 ok",
            "emoji 😀 好",
            "控制\u{7f}",
            "控制\u{85}",
            "x\u{a0}y",
        ] {
            assert_eq!(is_normal(s), normalize_slow(s) == s, "{s:?}");
        }
    }

    #[test]
    fn nfkc_and_width() {
        assert_eq!(normalize("ｈｏｗ　ｍｕｃｈ？"), "how much?");
        assert_eq!(normalize("多少钱\n\n 有没有大码"), "多少钱 有没有大码");
        assert_eq!(normalize("①"), "1");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn gb18030_roundtrip_and_detection() {
        let s = "商品,价格\n小黑瓶,199\n";
        let bytes = encode(s, Encoding::Gb18030);
        assert!(std::str::from_utf8(&bytes).is_err());
        let (back, enc) = decode(&bytes).unwrap();
        assert_eq!(back, s);
        assert_eq!(enc, Encoding::Gb18030);
        let with_bom = [b"\xEF\xBB\xBF", s.as_bytes()].concat();
        let (back, enc) = decode(&with_bom).unwrap();
        assert_eq!((&*back, enc), (s, Encoding::Utf8));
    }

    #[test]
    fn garbage_is_rejected_with_its_line() {
        let e = decode(b"a,b\n1,2\n\xff\xff\xff\x80").unwrap_err();
        assert!(e.contains("line 3"), "{e}");
    }

    #[test]
    fn gb18030_bom_is_dropped() {
        let mut bytes = b"\x84\x31\x95\x33".to_vec();
        bytes.extend(encode("id,名字", Encoding::Gb18030));
        let (text, enc) = decode(&bytes).unwrap();
        assert_eq!((&*text, enc), ("id,名字", Encoding::Gb18030));
    }
}
