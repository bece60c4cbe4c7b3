//! Segment filters: annotations of non-speech (`[Music]`) and whisper's
//! loops, and the key two segments are compared by.

/// A segment that only annotates non-speech: `[Music]`, `(applause)`, `♪♪`,
/// `[BLANK_AUDIO]`, `*laughs*`.
pub(super) fn is_annotation(text: &str) -> bool {
    // Remove bracketed spans ("(笑)", "[Music]"), then see what is left.
    let mut rest = String::with_capacity(text.len());
    let mut close: Option<char> = None;
    for c in text.chars() {
        match close {
            Some(cl) if c == cl => close = None,
            Some(_) => {}
            None => match c {
                '[' => close = Some(']'),
                '(' => close = Some(')'),
                '（' => close = Some('）'),
                '【' => close = Some('】'),
                _ => rest.push(c),
            },
        }
    }
    let t = rest.trim();
    if t.len() >= 2 && t.starts_with('*') && t.ends_with('*') {
        return true;
    }
    !t.chars().any(|c| c.is_alphanumeric())
}

/// Text made of one short unit repeated four times or more ("谢谢谢谢谢谢谢谢",
/// "Thank you. Thank you. Thank you. Thank you."): whisper's loop on music.
pub(super) fn is_looping(text: &str) -> bool {
    let chars: Vec<char> = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect();
    let n = chars.len();
    if n < 8 {
        return false;
    }
    for p in 1..=n / 4 {
        let same = (p..n).filter(|&i| chars[i] == chars[i - p]).count();
        if same as f64 >= 0.95 * (n - p) as f64 {
            return true;
        }
    }
    false
}

/// The key two segments' texts are compared by: alphanumerics, lower case.
pub(super) fn comparison_key(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect()
}
