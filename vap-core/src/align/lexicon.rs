//! Phrase groups matched in speech and comments.
//!
//! A [`Lexicon`] maps group names ("urgency", "price", `product:<id>`) to
//! phrases. Matching folds text and phrases the same way ([`fold`]: NFKC,
//! lower case, Traditional → Simplified Chinese) and scans each text once with
//! an Aho-Corasick automaton over every phrase of every group (leftmost-longest,
//! non-overlapping), so the cost does not grow with the number of phrases.

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use serde::{Deserialize, Serialize};
use unicode_normalization::{is_nfkc_quick, IsNormalized};

use crate::error::{Result, VapError};
use crate::schema::Product;

/// Named groups of phrases. Serialises as `{"groups": {"urgency": [...], ...}}`;
/// reads that form or the bare map `{"urgency": [...], ...}` (what users write).
///
/// ```
/// use vap_core::align::Lexicon;
/// let a: Lexicon = serde_json::from_str(r#"{"urgency": ["秒杀", "last chance"]}"#).unwrap();
/// let b: Lexicon = serde_json::from_str(r#"{"groups": {"urgency": ["秒杀", "last chance"]}}"#).unwrap();
/// assert_eq!(a, b);
/// assert!(serde_json::from_str::<Lexicon>(r#"{"urgency": "秒杀"}"#).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Lexicon {
    /// Group name → phrases. Groups are reported in name order.
    pub groups: BTreeMap<String, Vec<String>>,
}

impl<'de> Deserialize<'de> for Lexicon {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error;
        let mut m = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
        if m.len() == 1 && m.get("groups").is_some_and(|g| g.is_object()) {
            let g = m.remove("groups").unwrap_or_default();
            m = serde_json::from_value(g).map_err(D::Error::custom)?;
        }
        let mut groups = BTreeMap::new();
        for (name, v) in m {
            let phrases: Vec<String> = serde_json::from_value(v).map_err(|_| {
                D::Error::custom(format!(
                    "lexicon group '{name}' must be a list of phrases (strings)"
                ))
            })?;
            groups.insert(name, phrases);
        }
        Ok(Lexicon { groups })
    }
}

/// Phrases vap matches by default (group → phrases), Chinese and English.
pub const BUILTIN: &[(&str, &[&str])] = &[
    (
        "urgency",
        &[
            "最后100单",
            "最后一波",
            "限时",
            "秒杀",
            "抓紧",
            "抓紧拍",
            "马上涨价",
            "库存不多",
            "手慢无",
            "倒计时",
            "last chance",
            "limited time",
            "hurry",
            "only a few left",
        ],
    ),
    (
        "price",
        &[
            "到手价",
            "直降",
            "券后",
            "买一送一",
            "优惠券",
            "领券",
            "原价",
            "折扣",
            "包邮",
            "price",
            "discount",
            "coupon",
            "% off",
        ],
    ),
    (
        "question",
        &[
            "?",
            "吗",
            "多少钱",
            "有没有",
            "怎么",
            "什么时候",
            "哪里",
            "在哪",
            "能不能",
            "可以吗",
            "how much",
            "how to",
            "when will",
            "is it",
            "do you",
        ],
    ),
    (
        "answer",
        &[
            "这位宝宝问",
            "有宝宝问",
            "回答一下",
            "有的",
            "可以的",
            "you asked",
            "good question",
        ],
    ),
];

/// Folds text for matching: Unicode NFKC, whitespace runs collapsed, lower
/// case, Traditional Chinese characters to Simplified. The number of characters
/// is that of the NFKC-normalised text (the script conversion is one to one).
///
/// ```
/// assert_eq!(vap_core::align::fold("限時秒殺 LAST  Chance"), "限时秒杀 last chance");
/// ```
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out);
    out
}

/// First and last code point of the dense Traditional → Simplified table (the
/// CJK blocks and compatibility ideographs, all 3-byte UTF-8).
const T2S_FIRST: u32 = 0x2E80;
const T2S_LAST: u32 = 0xFFFF;
/// Table entry of a character whose conversion depends on its neighbours.
const T2S_CONTEXT: char = '\u{0}';

/// The dense Traditional → Simplified table, built once from fast2s's
/// character map. Characters fast2s converts by context are marked
/// [`T2S_CONTEXT`]; a text holding one is converted by fast2s itself.
fn t2s_table() -> &'static [char] {
    static TABLE: std::sync::OnceLock<Vec<char>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        const CONTEXT: &str = "兒覆夥藉瞭麽幺於乾著苧闔鍾讎畫";
        (T2S_FIRST..=T2S_LAST)
            .map(|u| match char::from_u32(u) {
                Some(c) if CONTEXT.contains(c) => T2S_CONTEXT,
                Some(c) => {
                    let mut buf = [0u8; 4];
                    fast2s::convert(c.encode_utf8(&mut buf))
                        .chars()
                        .next()
                        .unwrap_or(c)
                }
                None => '\u{FFFD}',
            })
            .collect()
    })
}

fn push_space_aware(out: &mut String, base: usize, c: char, pending_space: &mut bool) -> bool {
    if c.is_whitespace() || c.is_control() {
        *pending_space = out.len() > base;
        return false;
    }
    if *pending_space {
        out.push(' ');
        *pending_space = false;
    }
    true
}

/// [`fold`] into a reusable buffer (cleared first).
pub fn fold_into(text: &str, out: &mut String) {
    out.clear();
    fold_append(text, out);
}

/// [`fold`], appended to `out`.
pub fn fold_append(text: &str, out: &mut String) {
    let base = out.len();
    let mut pending_space = false;
    if text.is_ascii() {
        // ASCII whitespace and control characters are the bytes up to the
        // space and DEL.
        for &b in text.as_bytes() {
            if b <= b' ' || b == 0x7F {
                pending_space = out.len() > base;
                continue;
            }
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(b.to_ascii_lowercase() as char);
        }
        return;
    }
    // ASCII and CJK Unified Ideographs are NFKC-stable: the common case of
    // Chinese text with ASCII is folded in one pass, without the check.
    if fold_simple(text, out, base) {
        return;
    }
    out.truncate(base);
    fold_general(text, out, base);
}

/// [`fold_append`] of any text (after `base`, where `out` ends): NFKC where
/// the text is not already in it, then character by character.
fn fold_general(text: &str, out: &mut String, base: usize) {
    let mut pending_space = false;
    let ideograph = |c: char| ('\u{4E00}'..='\u{9FFF}').contains(&c);
    let normalized;
    let src: &str = if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        text
    } else {
        normalized = crate::text::normalize(text);
        &normalized
    };
    let table = t2s_table();
    for c in src.chars() {
        if ideograph(c) {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            let m = table[(c as u32 - T2S_FIRST) as usize];
            if m == T2S_CONTEXT {
                return fold_by_context(src, out, base);
            }
            out.push(m);
            continue;
        }
        if !push_space_aware(out, base, c, &mut pending_space) {
            continue;
        }
        let u = c as u32;
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if (T2S_FIRST..=T2S_LAST).contains(&u) && !c.is_uppercase() {
            let m = table[(u - T2S_FIRST) as usize];
            if m == T2S_CONTEXT {
                return fold_by_context(src, out, base);
            }
            out.push(m);
        } else {
            out.extend(c.to_lowercase());
        }
    }
}

/// [`fold_append`] of a text of ASCII and CJK Unified Ideographs only, in
/// one pass: `false` (with `out` partly written past `base`) at the first
/// other character or the first ideograph converted by its neighbours.
fn fold_simple(text: &str, out: &mut String, base: usize) -> bool {
    let table = t2s_table();
    let mut pending_space = false;
    for c in text.chars() {
        if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            let m = table[(c as u32 - T2S_FIRST) as usize];
            if m == T2S_CONTEXT {
                // Converted with the whole text, which the general path
                // normalises first where the rest of it needs it.
                return false;
            }
            out.push(m);
        } else if c.is_ascii() {
            if push_space_aware(out, base, c, &mut pending_space) {
                out.push(c.to_ascii_lowercase());
            }
        } else {
            return false;
        }
    }
    true
}

/// The slow path for the few characters fast2s converts by their neighbours:
/// lower-case and space-collapse, then let fast2s convert the whole text.
fn fold_by_context(src: &str, out: &mut String, base: usize) {
    out.truncate(base);
    let mut pending_space = false;
    let mut own = String::new();
    for c in src.chars() {
        if push_space_aware(&mut own, 0, c, &mut pending_space) {
            own.extend(c.to_lowercase());
        }
    }
    out.push_str(&fast2s::convert(&own));
}

impl Lexicon {
    /// An empty lexicon.
    pub fn new() -> Lexicon {
        Lexicon::default()
    }

    /// vap's built-in groups ([`BUILTIN`]).
    pub fn builtin() -> Lexicon {
        let mut l = Lexicon::new();
        for (g, phrases) in BUILTIN {
            l.groups.insert(
                (*g).to_string(),
                phrases.iter().map(|p| p.to_string()).collect(),
            );
        }
        l
    }

    /// Adds one group (`product:<id>`) per product with its name and aliases.
    pub fn with_products(mut self, products: &[Product]) -> Lexicon {
        for p in products {
            let mut phrases = vec![p.name.clone()];
            phrases.extend(p.aliases.iter().cloned());
            self.groups.insert(format!("product:{}", p.id), phrases);
        }
        self
    }

    /// Adds (or replaces) a group.
    pub fn group(mut self, name: &str, phrases: &[&str]) -> Lexicon {
        self.groups.insert(
            name.to_string(),
            phrases.iter().map(|p| p.to_string()).collect(),
        );
        self
    }

    /// Compiles the lexicon into a matcher. Empty group names and phrases that
    /// fold to nothing are refused, all of them listed.
    pub fn compile(&self) -> Result<Matcher> {
        let mut problems = Vec::new();
        let mut phrase_index: BTreeMap<String, usize> = BTreeMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_groups: Vec<Vec<u32>> = Vec::new();
        let names: Vec<String> = self.groups.keys().cloned().collect();
        for (gi, (name, phrases)) in self.groups.iter().enumerate() {
            if name.trim().is_empty() {
                problems.push("a group has an empty name".to_string());
            }
            for p in phrases {
                let f = fold(p);
                if f.is_empty() {
                    problems.push(format!(
                        "group '{name}': phrase {p:?} is empty after folding"
                    ));
                    continue;
                }
                let id = *phrase_index.entry(f.clone()).or_insert_with(|| {
                    patterns.push(f);
                    pattern_groups.push(Vec::new());
                    patterns.len() - 1
                });
                if !pattern_groups[id].contains(&(gi as u32)) {
                    pattern_groups[id].push(gi as u32);
                }
            }
        }
        if !problems.is_empty() {
            return Err(VapError::InvalidArgument(format!(
                "lexicon: {}",
                problems.join("; ")
            )));
        }
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .prefilter(false)
            .build(&patterns)
            .map_err(|e| VapError::InvalidArgument(format!("lexicon: {e}")))?;
        Ok(Matcher {
            names,
            ac,
            pattern_groups,
        })
    }
}

/// A compiled [`Lexicon`].
#[derive(Debug, Clone)]
pub struct Matcher {
    names: Vec<String>,
    ac: AhoCorasick,
    pattern_groups: Vec<Vec<u32>>,
}

/// One match in a text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhraseMatch {
    /// Index of the group (in [`Matcher::groups`]).
    pub group: usize,
    /// Position of the match's middle as a fraction of the folded text's
    /// length in characters, in [0, 1].
    pub position: f64,
}

impl Matcher {
    /// Group names, in column order.
    pub fn groups(&self) -> &[String] {
        &self.names
    }

    /// Calls `f` for each (match, group) in `folded` text (already [`fold`]ed).
    /// A phrase listed in several groups counts once in each.
    pub fn for_each(&self, folded: &str, mut f: impl FnMut(PhraseMatch)) {
        let mut it = self.ac.find_iter(folded).peekable();
        if it.peek().is_none() {
            return;
        }
        let total = folded.chars().count().max(1) as f64;
        // Character index of byte offsets, computed incrementally.
        let mut last_byte = 0usize;
        let mut last_char = 0usize;
        for m in it {
            last_char += folded[last_byte..m.start()].chars().count();
            last_byte = m.start();
            let len = folded[m.start()..m.end()].chars().count() as f64;
            let position = ((last_char as f64 + len / 2.0) / total).clamp(0.0, 1.0);
            for &g in &self.pattern_groups[m.pattern().as_usize()] {
                f(PhraseMatch {
                    group: g as usize,
                    position,
                });
            }
        }
    }

    /// Folds `texts` into one buffer, separated by `\n` (which no folded
    /// phrase contains, so no match spans two texts), and calls
    /// `f(text index, match)` for every match, in order. One scan over the
    /// buffer instead of one call per text: the per-call overhead dominates
    /// for millions of short comments.
    ///
    /// With `positions == false` every match's position is reported as 0
    /// (saving the character counting when only counts are wanted).
    pub fn for_each_in<S: AsRef<str>>(
        &self,
        texts: &[S],
        positions: bool,
        f: impl FnMut(usize, PhraseMatch),
    ) {
        self.for_each_of(texts.len(), |i| texts[i].as_ref(), positions, f)
    }

    /// [`Matcher::for_each_in`] of the `n` texts `text(0)`, …, `text(n - 1)`.
    pub(crate) fn for_each_of<'t>(
        &self,
        n: usize,
        text: impl Fn(usize) -> &'t str,
        positions: bool,
        mut f: impl FnMut(usize, PhraseMatch),
    ) {
        let mut buf = String::with_capacity(n * 16);
        let mut starts: Vec<usize> = Vec::with_capacity(n + 1);
        for i in 0..n {
            starts.push(buf.len());
            fold_append(text(i), &mut buf);
            buf.push('\n');
        }
        starts.push(buf.len());
        let mut text = 0usize;
        let (mut last_byte, mut last_char, mut total) = (0usize, 0usize, 1.0f64);
        let mut current = usize::MAX;
        for m in self.ac.find_iter(&buf) {
            while starts[text + 1] <= m.start() {
                text += 1;
            }
            if !positions {
                for &g in &self.pattern_groups[m.pattern().as_usize()] {
                    f(
                        text,
                        PhraseMatch {
                            group: g as usize,
                            position: 0.0,
                        },
                    );
                }
                continue;
            }
            if current != text {
                current = text;
                last_byte = starts[text];
                last_char = 0;
                let body = &buf[starts[text]..starts[text + 1] - 1];
                total = body.chars().count().max(1) as f64;
            }
            last_char += buf[last_byte..m.start()].chars().count();
            last_byte = m.start();
            let len = buf[m.start()..m.end()].chars().count() as f64;
            let position = ((last_char as f64 + len / 2.0) / total).clamp(0.0, 1.0);
            for &g in &self.pattern_groups[m.pattern().as_usize()] {
                f(
                    text,
                    PhraseMatch {
                        group: g as usize,
                        position,
                    },
                );
            }
        }
    }

    /// Match counts per group in `text` (folded here).
    pub fn count(&self, text: &str) -> Vec<u32> {
        let mut out = vec![0u32; self.names.len()];
        self.for_each(&fold(text), |m| out[m.group] += 1);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_handles_width_case_and_script() {
        assert_eq!(fold("ＬＡＳＴ　ＣＨＡＮＣＥ！"), "last chance!");
        assert_eq!(fold("券後價 點擊"), "券后价 点击");
        assert_eq!(fold("  a\tb  "), "a b");
        assert_eq!(fold("Ärger"), "ärger");
    }

    proptest::proptest! {
        /// The fast paths (ASCII bytes; ASCII with CJK ideographs in one
        /// pass) fold as the general path does.
        #[test]
        fn fast_paths_fold_as_the_general_path(
            text in "[a-zA-Z0-9 \t\n\\x00-\\x1f\\x7f!?.,]{0,12}|[a-zA-Z \t\x0b限時秒殺點擊購買價畫乾兒这位宝宝问]{0,12}|[a-z 限時畫乾兒ＬＡ！？é　😀]{0,12}",
            prefix in "|x|限",
        ) {
            let mut fast = prefix.clone();
            fold_append(&text, &mut fast);
            let mut general = prefix.clone();
            let base = general.len();
            fold_general(&text, &mut general, base);
            proptest::prop_assert_eq!(fast, general);
        }
    }

    #[test]
    fn context_dependent_characters_follow_fast2s() {
        // 計畫 → 计划 (by context), 畫 alone → 画; 乾隆 keeps 乾, 乾淨 → 干净.
        assert_eq!(fold("計畫"), fast2s::convert("計畫"));
        assert_eq!(fold("乾隆 乾淨"), fast2s::convert("乾隆 乾淨"));
        assert_eq!(fold("ＡＢ 畫"), format!("ab {}", fast2s::convert("畫")));
        // Normalised (NFKC) before, wherever the character is.
        assert_eq!(fold("畫？"), format!("{}?", fast2s::convert("畫")));
        assert_eq!(
            fold("乾淨 ＬＡＳＴ"),
            format!("{} last", fast2s::convert("乾淨"))
        );
        for t in ["限時秒殺", "點擊購買", "後來", "這位寶寶問"] {
            assert_eq!(fold(t), fast2s::convert(t), "{t}");
        }
    }

    #[test]
    fn one_pass_counts_each_match_once_per_group() {
        let l = Lexicon::new()
            .group("urgency", &["限时", "限时秒杀", "last chance"])
            .group("flash", &["秒杀"]);
        let m = l.compile().unwrap();
        // leftmost-longest: "限时秒杀" is one match, so "秒杀" inside it is not.
        assert_eq!(m.count("限時秒殺! LAST chance 秒杀"), vec![1, 2]);
        assert_eq!(m.groups(), &["flash".to_string(), "urgency".to_string()]);
    }

    #[test]
    fn shared_phrases_count_in_every_group() {
        let l = Lexicon::new()
            .group("a", &["到手价"])
            .group("b", &["到手价"]);
        assert_eq!(l.compile().unwrap().count("到手价"), vec![1, 1]);
    }

    #[test]
    fn batch_matching_equals_one_text_at_a_time() {
        let m = Lexicon::builtin()
            .group("p", &["精华液", "精华液 2", "精华液 2同款"])
            .compile()
            .unwrap();
        let texts = [
            "精华液 2同款 多少钱?",
            "",
            "限時秒殺!!",
            "nothing",
            "有没有 精华液",
            "?",
        ];
        let mut batch = vec![];
        m.for_each_in(&texts, true, |i, x| batch.push((i, x.group, x.position)));
        let mut counts = vec![];
        m.for_each_in(&texts, false, |i, x| counts.push((i, x.group)));
        assert_eq!(counts, batch.iter().map(|b| (b.0, b.1)).collect::<Vec<_>>());
        let mut single = vec![];
        for (i, t) in texts.iter().enumerate() {
            m.for_each(&fold(t), |x| single.push((i, x.group, x.position)));
        }
        assert_eq!(batch, single);
        assert!(!batch.is_empty());
    }

    #[test]
    fn positions_are_character_fractions() {
        let m = Lexicon::new().group("g", &["bb"]).compile().unwrap();
        let mut pos = vec![];
        m.for_each("aabbaaaaaa", |x| pos.push(x.position));
        assert_eq!(pos, vec![0.3]);
        let m = Lexicon::new().group("g", &["价"]).compile().unwrap();
        let mut pos = vec![];
        m.for_each("到手价", |x| pos.push(x.position));
        assert!((pos[0] - 2.5 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn empty_phrases_are_all_listed() {
        let e = Lexicon::new()
            .group("a", &["", "x"])
            .group("b", &["  "])
            .compile()
            .unwrap_err()
            .to_string();
        assert!(e.contains("group 'a'") && e.contains("group 'b'"), "{e}");
    }
}
