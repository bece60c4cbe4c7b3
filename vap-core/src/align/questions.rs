//! Viewers' questions: found in the comments, typed, linked to a product and
//! matched to the anchor's answer.
//!
//! [`question_kind`] reads one comment. Live-room chat rarely carries a
//! question mark, and many "吗" and "什么" are exclamations ("这是什么神仙操作",
//! "真的假的吗哈哈"), so a comment is a question when it holds an
//! *information request* (多少钱, 链接在哪, 160斤穿什么码, "how much", "do you
//! ship to"), or a question particle (吗 / 呢 / ? ...) together with a topic
//! (price, size, stock, use, delivery, which link), or is a bare topic word
//! ("链接", "size?"); and not when an exclamation pattern (什么神仙, 怎么这么,
//! 太…了吧, "is it just me", "who else") holds without such a request.
//! Precision and recall on the labelled sample `tests/fixtures/questions/labelled.csv`
//! (Chinese, English and mixed chat, with hard negatives) are checked by the
//! tests and quoted in the README.
//!
//! [`questions`] runs it over a session and, for each question:
//! - links it to a product: a link number ("3号链接", "3号"), a product's name or
//!   alias in the text, else the product explained (or pinned) when it was asked
//!   or within `focus_grace_ms` before;
//! - finds its answer: the first utterance within `answer_window_ms` after it
//!   that speaks to it: an answer cue ("这位宝宝问", "有宝宝问", "you asked")
//!   with the question's topic or product, or the product named together with
//!   the topic (for a price question, the product and a price).
//!
//! ```
//! use vap_core::align::{question_kind, QuestionKind};
//! assert_eq!(question_kind("3号链接多少钱"), Some(QuestionKind::Price));
//! assert_eq!(question_kind("160斤穿什么码"), Some(QuestionKind::StockSize));
//! assert_eq!(question_kind("do u ship to canada"), Some(QuestionKind::Shipping));
//! assert_eq!(question_kind("这是什么神仙操作"), None);
//! assert_eq!(question_kind("真的假的吗哈哈"), None);
//! ```

use std::sync::{Arc, OnceLock};

use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA;
use aho_corasick::{AhoCorasick, MatchKind};
use serde::{Deserialize, Serialize};

use super::lexicon::fold;
use crate::error::Result;
use crate::schema::{Ms, Product, SegmentKind, SessionData};

/// What a viewer asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// Price, discount, coupon (多少钱, 到手价, "how much").
    Price,
    /// Stock, sizes, colours, fit (还有吗, 什么码, "is there XL").
    StockSize,
    /// Use, ingredients, material, suitability (敏感肌能用吗, "is it waterproof").
    Usage,
    /// Delivery and after-sales (发什么快递, 包邮吗, 退货, "ship to").
    Shipping,
    /// Which product or link (几号链接, 链接在哪, "which link").
    WhichProduct,
    /// Any other question (几点下播, 还有福袋吗).
    Other,
}

impl QuestionKind {
    /// Every kind, in order.
    pub const ALL: [QuestionKind; 6] = [
        QuestionKind::Price,
        QuestionKind::StockSize,
        QuestionKind::Usage,
        QuestionKind::Shipping,
        QuestionKind::WhichProduct,
        QuestionKind::Other,
    ];

    /// The snake_case name ("price", "stock_size", ...).
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionKind::Price => "price",
            QuestionKind::StockSize => "stock_size",
            QuestionKind::Usage => "usage",
            QuestionKind::Shipping => "shipping",
            QuestionKind::WhichProduct => "which_product",
            QuestionKind::Other => "other",
        }
    }

    fn topic_flag(self) -> u32 {
        match self {
            QuestionKind::Price => PRICE,
            QuestionKind::StockSize => STOCK,
            QuestionKind::Usage => USAGE,
            QuestionKind::Shipping => SHIP,
            QuestionKind::WhichProduct => WHICH,
            QuestionKind::Other => 0,
        }
    }
}

// Flags of the keyword table.
/// An information request on its own (多少钱, 怎么买, "how much").
const ASK: u32 = 1;
/// A question particle (吗, 呢, ?): a question only with a topic.
const PARTICLE: u32 = 1 << 1;
/// An exclamation or meme pattern (什么神仙, 怎么这么, "who else").
const EXCLAIM: u32 = 1 << 2;
/// A statement of one's own (已拍, 我…穿M刚好, "just ordered").
const STATEMENT: u32 = 1 << 3;
const PRICE: u32 = 1 << 4;
const STOCK: u32 = 1 << 5;
const USAGE: u32 = 1 << 6;
const SHIP: u32 = 1 << 7;
const WHICH: u32 = 1 << 8;
const OTHER: u32 = 1 << 9;
/// Words of an answer in the anchor's speech (这位宝宝问, "you asked").
const ANSWER: u32 = 1 << 10;
/// An interrogative word (多少, 几, 什么, 哪, 怎么, 还是): a question unless an
/// exclamation pattern holds.
const INTERROG: u32 = 1 << 11;
const TOPICS: u32 = PRICE | STOCK | USAGE | SHIP | WHICH;

/// The keyword table of comments: (phrase, flags). Folded text (lower case,
/// Simplified) is matched, leftmost-longest.
const COMMENT_WORDS: &[(&str, u32)] = &[
    // price
    ("多少钱", ASK | PRICE),
    ("多少米", ASK | PRICE),
    ("多钱", ASK | PRICE),
    ("几块", ASK | PRICE),
    ("几元", ASK | PRICE),
    ("啥价", ASK | PRICE),
    ("什么价", ASK | PRICE),
    ("价格多少", ASK | PRICE),
    ("多少一", ASK | PRICE),
    ("几折", ASK | PRICE),
    ("到手多少", ASK | PRICE),
    ("到手价", PRICE),
    ("价格", PRICE),
    ("价钱", PRICE),
    ("优惠", PRICE),
    ("券", PRICE),
    ("折扣", PRICE),
    ("便宜点", ASK | PRICE),
    ("能便宜", ASK | PRICE),
    ("买一送一", PRICE),
    ("满减", PRICE),
    ("赠品", PRICE),
    ("送什么", ASK | PRICE),
    ("how much", ASK | PRICE),
    ("price", PRICE),
    ("cost", PRICE),
    ("discount", PRICE),
    ("coupon", PRICE),
    ("promo code", PRICE),
    ("deal", PRICE),
    // stock, size, colour
    ("还有吗", ASK | STOCK),
    ("还有没", ASK | STOCK),
    ("有货吗", ASK | STOCK),
    ("有货没", ASK | STOCK),
    ("没货了吗", ASK | STOCK),
    ("补货", STOCK),
    ("库存", STOCK),
    ("什么码", ASK | STOCK),
    ("啥码", ASK | STOCK),
    ("几码", ASK | STOCK),
    ("多大码", ASK | STOCK),
    ("穿多大", ASK | STOCK),
    ("穿什么", ASK | STOCK),
    ("穿啥", ASK | STOCK),
    ("选什么", ASK | STOCK),
    ("选哪个码", ASK | STOCK),
    ("拍什么码", ASK | STOCK),
    ("拍哪个码", ASK | STOCK),
    ("码", STOCK),
    ("尺码", STOCK),
    ("尺寸", STOCK),
    ("大码", STOCK),
    ("小码", STOCK),
    ("斤", STOCK),
    ("色号", STOCK),
    ("颜色", STOCK),
    ("黑色", STOCK),
    ("白色", STOCK),
    ("现货", STOCK),
    ("断码", STOCK),
    ("偏大", STOCK),
    ("偏小", STOCK),
    ("size", STOCK),
    ("in stock", STOCK),
    ("restock", STOCK),
    ("sold out", STOCK),
    ("colour", STOCK),
    ("color", STOCK),
    ("shade", STOCK),
    (" xl", STOCK),
    ("xxl", STOCK),
    ("petite", STOCK),
    ("fit ", STOCK),
    ("true to size", STOCK),
    // usage, ingredients, material
    ("怎么用", ASK | USAGE),
    ("怎么洗", ASK | USAGE),
    ("怎么吃", ASK | USAGE),
    ("怎么搭", ASK | USAGE),
    ("能用吗", ASK | USAGE),
    ("可以用吗", ASK | USAGE),
    ("能用不", ASK | USAGE),
    ("可以用不", ASK | USAGE),
    ("能吃吗", ASK | USAGE),
    ("适合", USAGE),
    ("敏感肌", USAGE),
    ("油皮", USAGE),
    ("干皮", USAGE),
    ("混油", USAGE),
    ("孕妇", USAGE),
    ("宝宝能", USAGE),
    ("成分", USAGE),
    ("材质", USAGE),
    ("面料", USAGE),
    ("起球", USAGE),
    ("掉色", USAGE),
    ("持久", USAGE),
    ("保质期", USAGE),
    ("防水", USAGE),
    ("闷痘", USAGE),
    ("过敏", USAGE),
    ("含绒量", USAGE),
    ("保暖", USAGE),
    ("质量", USAGE),
    ("效果", USAGE),
    ("味道", USAGE),
    ("好用", USAGE),
    ("再讲", ASK | USAGE),
    ("讲一下", ASK | USAGE),
    ("讲讲", ASK | USAGE),
    ("介绍一下", ASK | USAGE),
    ("试一下", ASK | USAGE),
    ("试穿", USAGE),
    ("how to use", ASK | USAGE),
    ("how do you use", ASK | USAGE),
    ("waterproof", USAGE),
    ("sensitive skin", USAGE),
    ("oily skin", USAGE),
    ("dry skin", USAGE),
    ("vegan", USAGE),
    ("cruelty", USAGE),
    ("ingredient", USAGE),
    ("material", USAGE),
    ("fabric", USAGE),
    ("machine wash", USAGE),
    ("safe for", USAGE),
    ("last long", USAGE),
    ("long lasting", USAGE),
    ("suitable", USAGE),
    ("work for", USAGE),
    ("good for", USAGE),
    // shipping, after-sales
    ("快递", SHIP),
    ("发货", SHIP),
    ("几天到", ASK | SHIP),
    ("多久到", ASK | SHIP),
    ("什么时候到", ASK | SHIP),
    ("什么时候发", ASK | SHIP),
    ("包邮", SHIP),
    ("运费", SHIP),
    ("运费险", SHIP),
    ("退货", SHIP),
    ("退换", SHIP),
    ("换货", SHIP),
    ("七天无理由", SHIP),
    ("7天无理由", SHIP),
    ("售后", SHIP),
    ("偏远", SHIP),
    ("新疆", SHIP),
    ("西藏", SHIP),
    ("顺丰", SHIP),
    ("发哪", SHIP),
    ("保价", SHIP),
    ("ship", SHIP),
    ("deliver", SHIP),
    ("return", SHIP),
    ("refund", SHIP),
    ("arrive", SHIP),
    ("tracking", SHIP),
    // which product, which link
    ("几号", ASK | WHICH),
    ("哪个链接", ASK | WHICH),
    ("链接在哪", ASK | WHICH),
    ("在哪", ASK | WHICH),
    ("去哪", ASK | WHICH),
    ("在哪买", ASK | WHICH),
    ("在哪拍", ASK | WHICH),
    ("哪里买", ASK | WHICH),
    ("哪里拍", ASK | WHICH),
    ("怎么买", ASK | WHICH),
    ("怎么拍", ASK | WHICH),
    ("怎么下单", ASK | WHICH),
    ("求链接", ASK | WHICH),
    ("上链接", ASK | WHICH),
    ("求同款", ASK | WHICH),
    ("同款", WHICH),
    ("链接", WHICH),
    ("哪个", INTERROG | WHICH),
    ("哪款", INTERROG | WHICH),
    ("哪件", INTERROG | WHICH),
    ("哪一款", INTERROG | WHICH),
    ("是哪", ASK | WHICH),
    ("小黄车", WHICH),
    ("身上", WHICH),
    ("which link", ASK | WHICH),
    ("which one", ASK | WHICH),
    ("what link", ASK | WHICH),
    ("link", WHICH),
    ("where to buy", ASK | WHICH),
    ("where can i", ASK | WHICH),
    ("name of", WHICH),
    ("wearing", WHICH),
    // other requests
    ("有没有", ASK | OTHER),
    ("有没", ASK | OTHER),
    ("能不能", ASK | OTHER),
    ("可不可以", ASK | OTHER),
    ("是不是", ASK | OTHER),
    ("是否", ASK | OTHER),
    ("什么时候", ASK | OTHER),
    ("啥时候", ASK | OTHER),
    ("几点", ASK | OTHER),
    ("多久", ASK | OTHER),
    ("多高", ASK | OTHER),
    ("多重", ASK | OTHER),
    ("几岁", ASK | OTHER),
    ("怎么样", ASK | OTHER),
    ("咋样", ASK | OTHER),
    ("有人买过", ASK | OTHER),
    ("有没有人", ASK | OTHER),
    ("福袋", OTHER),
    ("抽奖", OTHER),
    ("下播", OTHER),
    ("请问", ASK | OTHER),
    ("想问", ASK | OTHER),
    ("问一下", ASK | OTHER),
    ("do you", ASK | OTHER),
    ("does it", ASK | OTHER),
    ("does this", ASK | OTHER),
    ("do they", ASK | OTHER),
    ("is there", ASK | OTHER),
    ("are there", ASK | OTHER),
    ("can i", ASK | OTHER),
    ("can you", ASK | OTHER),
    ("could you", ASK | OTHER),
    ("will it", ASK | OTHER),
    ("will you", ASK | OTHER),
    ("will there", ASK | OTHER),
    ("when ", ASK | OTHER),
    ("what time", ASK | OTHER),
    ("how long", ASK | OTHER),
    ("how many", ASK | OTHER),
    ("anyone tried", ASK | OTHER),
    ("anyone bought", ASK | OTHER),
    ("giveaway", OTHER),
    // interrogative words
    ("多少", ASK | PRICE),
    ("几个", INTERROG),
    ("几升", INTERROG | USAGE),
    ("几天", INTERROG | SHIP),
    ("几", INTERROG),
    ("什么", INTERROG),
    ("啥", INTERROG),
    ("哪", INTERROG),
    ("怎么", INTERROG),
    ("咋", INTERROG),
    ("还是", INTERROG),
    ("谁", INTERROG),
    ("叫什么", INTERROG | WHICH),
    ("叫啥", INTERROG | WHICH),
    ("名字", WHICH),
    ("品牌", WHICH),
    ("brand", WHICH),
    ("number", WHICH),
    ("name", WHICH),
    ("$", PRICE),
    ("小样", PRICE),
    ("福利价", PRICE),
    ("sale", PRICE),
    ("色", STOCK),
    ("小个子", STOCK),
    ("胖mm", STOCK),
    ("能穿", STOCK),
    ("腰围", STOCK),
    ("half size", STOCK),
    ("run small", STOCK),
    ("runs small", STOCK),
    ("run big", STOCK),
    ("medium", STOCK),
    ("lbs", STOCK),
    ("in black", STOCK),
    ("遮瑕", USAGE),
    ("酒精", USAGE),
    ("拔干", USAGE),
    ("去屑", USAGE),
    ("机洗", USAGE),
    ("敷", USAGE),
    ("弹力", USAGE),
    ("保温", USAGE),
    ("清洗", USAGE),
    ("绒", USAGE),
    ("假白", USAGE),
    ("氧化", USAGE),
    ("新货", USAGE),
    ("oxidize", USAGE),
    ("white cast", USAGE),
    ("transfer", USAGE),
    ("pregnant", USAGE),
    ("explain", USAGE),
    ("washable", USAGE),
    ("real down", USAGE),
    ("last", USAGE),
    ("寄", SHIP),
    ("退", SHIP),
    ("到付", SHIP),
    ("改地址", SHIP),
    ("保修", SHIP),
    ("包赔", SHIP),
    ("预售", SHIP),
    ("海外", SHIP),
    ("能到", SHIP),
    ("多久到", ASK | SHIP),
    ("中通", SHIP),
    ("韵达", SHIP),
    ("圆通", SHIP),
    ("get to", SHIP),
    ("free shipping", SHIP),
    ("怎么又", EXCLAIM),
    ("怎么办", EXCLAIM),
    ("有没有搞错", EXCLAIM),
    ("谁能不", EXCLAIM),
    ("谁说", EXCLAIM),
    ("还等什么", EXCLAIM),
    ("我是不是", EXCLAIM),
    ("是我", EXCLAIM),
    ("来晚了", EXCLAIM),
    ("我不信", EXCLAIM),
    ("这不是", EXCLAIM),
    ("不就是", EXCLAIM),
    ("这么", EXCLAIM),
    ("那么", EXCLAIM),
    ("我也能", EXCLAIM),
    ("我才能", EXCLAIM),
    ("can you believe", EXCLAIM),
    ("how do you always", EXCLAIM),
    ("多大", INTERROG),
    ("ship to", ASK | SHIP),
    ("what size", ASK | STOCK),
    ("宝藏", EXCLAIM),
    ("神器", EXCLAIM),
    ("黑科技", EXCLAIM),
    ("仙女", EXCLAIM),
    ("魔法", EXCLAIM),
    ("慈善", EXCLAIM),
    ("家底", EXCLAIM),
    ("还是人", EXCLAIM),
    ("可以说的", EXCLAIM),
    ("什么情况", EXCLAIM),
    ("怎么回事", EXCLAIM),
    ("现在才", EXCLAIM),
    ("才看到", EXCLAIM),
    ("才刷到", EXCLAIM),
    ("早点", EXCLAIM),
    ("早说", EXCLAIM),
    ("天哪", EXCLAIM),
    ("我的天", EXCLAIM),
    ("呜呜", EXCLAIM),
    ("顶得住", EXCLAIM),
    // Memes and rhetorical openings of live-room chat.
    ("不会吧", EXCLAIM),
    ("好家伙", EXCLAIM),
    ("人间", EXCLAIM),
    ("这不比", EXCLAIM),
    ("还不冲", EXCLAIM),
    ("这都能", EXCLAIM),
    ("我在哪", EXCLAIM),
    ("就没了", EXCLAIM),
    ("想得到", EXCLAIM),
    ("拒绝", EXCLAIM),
    ("啊这", EXCLAIM),
    ("yyds", EXCLAIM),
    ("magic", EXCLAIM),
    ("sorcery", EXCLAIM),
    ("crazy", EXCLAIM),
    ("serious", EXCLAIM),
    ("obsessed", EXCLAIM),
    ("is it me", EXCLAIM),
    ("all my life", EXCLAIM),
    ("what even", EXCLAIM),
    ("let her cook", EXCLAIM),
    ("gonna stop me", EXCLAIM),
    // particles
    ("吗", PARTICLE),
    ("嘛", PARTICLE),
    ("么", PARTICLE),
    ("?", PARTICLE),
    // exclamations and memes
    ("什么神仙", EXCLAIM),
    ("什么鬼", EXCLAIM),
    ("什么玩意", EXCLAIM),
    ("凭什么", EXCLAIM),
    ("为什么这么", EXCLAIM),
    ("为啥这么", EXCLAIM),
    ("怎么这么", EXCLAIM),
    ("怎么那么", EXCLAIM),
    ("怎么会这么", EXCLAIM),
    ("咋这么", EXCLAIM),
    ("咋那么", EXCLAIM),
    ("真的假的", EXCLAIM),
    ("谁懂", EXCLAIM),
    ("魔鬼吗", EXCLAIM),
    ("仙女吗", EXCLAIM),
    ("了吧", EXCLAIM),
    ("哈哈", EXCLAIM),
    ("绝了", EXCLAIM),
    ("笑死", EXCLAIM),
    ("我哭", EXCLAIM),
    ("不是吧", EXCLAIM),
    ("还有谁", EXCLAIM),
    ("是我吗", EXCLAIM),
    ("就问你", EXCLAIM),
    ("难道", EXCLAIM),
    ("哪里都有", EXCLAIM),
    ("is it just me", EXCLAIM),
    ("who else", EXCLAIM),
    ("anyone else here", EXCLAIM),
    ("are you kidding", EXCLAIM),
    ("how is this so", EXCLAIM),
    ("how is it so", EXCLAIM),
    ("how are you so", EXCLAIM),
    ("why am i", EXCLAIM),
    ("why didn't i", EXCLAIM),
    ("what a ", EXCLAIM),
    ("omg", EXCLAIM),
    ("lol", EXCLAIM),
    ("lmao", EXCLAIM),
    ("can't believe", EXCLAIM),
    ("cant believe", EXCLAIM),
    ("no way", EXCLAIM),
    ("ngl", EXCLAIM),
    ("not gonna lie", EXCLAIM),
    // one's own statements
    ("已拍", STATEMENT),
    ("拍了", STATEMENT),
    ("买了", STATEMENT),
    ("抢到", STATEMENT),
    ("没抢到", STATEMENT),
    ("刚好", STATEMENT),
    ("回购", STATEMENT),
    ("已下单", STATEMENT),
    ("just ordered", STATEMENT),
    ("just bought", STATEMENT),
    ("ordered", STATEMENT),
    ("got mine", STATEMENT),
];

/// Words of the anchor's speech: answer cues and each topic's answer words.
const SPEECH_WORDS: &[(&str, u32)] = &[
    ("这位宝宝问", ANSWER),
    ("有宝宝问", ANSWER),
    ("宝宝问", ANSWER),
    ("有人问", ANSWER),
    ("刚才问", ANSWER),
    ("你问的", ANSWER),
    ("问的是", ANSWER),
    ("回答一下", ANSWER),
    ("回复一下", ANSWER),
    ("you asked", ANSWER),
    ("someone asked", ANSWER),
    ("good question", ANSWER),
    ("to answer", ANSWER),
    ("元", PRICE),
    ("块", PRICE),
    ("到手", PRICE),
    ("价", PRICE),
    ("券", PRICE),
    ("优惠", PRICE),
    ("yuan", PRICE),
    ("price", PRICE),
    ("$", PRICE),
    ("码", STOCK),
    ("有的", STOCK),
    ("有货", STOCK),
    ("库存", STOCK),
    ("还有", STOCK),
    ("补货", STOCK),
    ("颜色", STOCK),
    ("色号", STOCK),
    ("size", STOCK),
    ("stock", STOCK),
    ("可以用", USAGE),
    ("能用", USAGE),
    ("适合", USAGE),
    ("成分", USAGE),
    ("材质", USAGE),
    ("面料", USAGE),
    ("用法", USAGE),
    ("怎么用", USAGE),
    ("skin", USAGE),
    ("use it", USAGE),
    ("发货", SHIP),
    ("快递", SHIP),
    ("包邮", SHIP),
    ("退", SHIP),
    ("运费险", SHIP),
    ("ship", SHIP),
    ("deliver", SHIP),
    ("return", SHIP),
    ("号链接", WHICH),
    ("链接", WHICH),
    ("小黄车", WHICH),
    ("link", WHICH),
];

/// A keyword automaton: a DFA used directly (its search loop inlined here,
/// not behind `AhoCorasick`'s dynamic dispatch) and without prefilter (the
/// keywords are short and common, chat texts short).
fn automaton(words: &'static [(&'static str, u32)]) -> DFA {
    aho_corasick::dfa::Builder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .prefilter(false)
        .build(words.iter().map(|(w, _)| *w))
        .expect("the keyword tables are valid patterns")
}

fn comment_automaton() -> &'static DFA {
    static A: OnceLock<DFA> = OnceLock::new();
    A.get_or_init(|| automaton(COMMENT_WORDS))
}

fn speech_automaton() -> &'static DFA {
    static A: OnceLock<DFA> = OnceLock::new();
    A.get_or_init(|| automaton(SPEECH_WORDS))
}

/// The distinct topic flags of a text in the order they first appear (at
/// most [`Topics::CAP`]: the keyword tables have fewer distinct topic masks,
/// see the test `topic_masks_fit`).
#[derive(Default)]
struct Topics {
    masks: [u32; Topics::CAP],
    len: usize,
}

impl Topics {
    const CAP: usize = 16;

    fn push(&mut self, t: u32) {
        if self.len < Self::CAP && !self.masks[..self.len].contains(&t) {
            self.masks[self.len] = t;
            self.len += 1;
        }
    }

    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.masks[..self.len].iter().copied()
    }
}

/// The flags of every keyword in folded text, and the topic flags in the
/// order they first appear.
fn flags(dfa: &DFA, words: &[(&str, u32)], folded: &str) -> (u32, Topics) {
    let mut all = 0;
    let mut order = Topics::default();
    // A DFA built here, unanchored, searched without limits: the search
    // cannot fail.
    let Ok(found) = dfa.try_find_iter(aho_corasick::Input::new(folded)) else {
        return (all, order);
    };
    for m in found {
        let f = words[m.pattern().as_usize()].1;
        all |= f;
        let t = f & (TOPICS | OTHER);
        if t != 0 {
            order.push(t);
        }
    }
    (all, order)
}

/// Whether the folded text ends in a question particle or a "…不" / "…没"
/// alternative question ("可以用不", "还有没").
fn ends_as_question(folded: &str) -> bool {
    let t = folded.trim_end_matches(|c: char| {
        c.is_whitespace()
            || c.is_ascii_punctuation() && c != '?'
            || matches!(c, '！' | '～' | '。' | '…')
    });
    let t = t.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '?' && c != '？');
    t.ends_with('?') || t.ends_with('？') || t.ends_with('不') || t.ends_with('没')
}

/// An "A不A" / "A没A" question ("透不透", "抽不抽", "有没有").
fn alternative(folded: &str) -> bool {
    if !folded.contains(['不', '没']) {
        return false;
    }
    let mut it = folded.chars();
    let (Some(mut a), Some(mut b)) = (it.next(), it.next()) else {
        return false;
    };
    for c in it {
        if (b == '不' || b == '没') && a == c && !a.is_ascii() {
            return true;
        }
        a = b;
        b = c;
    }
    false
}

/// English chat that opens like a question ("what size", "do u ship", "is it
/// vegan", "hw much").
fn english_question(folded: &str) -> bool {
    const OPENERS: &[&str] = &[
        "what", "what's", "whats", "where", "where's", "wheres", "which", "who", "how", "hw",
        "when", "is", "are", "am", "do", "does", "did", "can", "could", "will", "would", "should",
        "any", "r", "u", "has", "have",
    ];
    let first = folded
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '\''))
        .find(|w| !w.is_empty() && !w.starts_with('@'));
    // "how does she do it", "can she be any more perfect", "am i the only
    // one": about the anchor or oneself, not a request.
    let second = folded
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .nth(1);
    first.is_some_and(|w| OPENERS.contains(&w) && w != "am")
        && !second.is_some_and(|w| ["i", "we", "she", "her", "he", "i'm"].contains(&w))
        && folded.chars().filter(|c| c.is_ascii_alphabetic()).count() >= 4
}

/// The number of characters that are letters, digits or ideographs.
fn content_chars(folded: &str) -> usize {
    folded.chars().filter(|c| c.is_alphanumeric()).count()
}

/// The kind of question a comment asks, or `None` when it is not a question
/// (see the module docs for the rule).
pub fn question_kind(text: &str) -> Option<QuestionKind> {
    let folded = fold(text);
    classify_folded(&folded)
}

fn classify_folded(folded: &str) -> Option<QuestionKind> {
    let (f, order) = flags(comment_automaton(), COMMENT_WORDS, folded);
    let ask = f & ASK != 0;
    let topic = f & TOPICS != 0;
    let exclaim = f & EXCLAIM != 0;
    let statement = f & STATEMENT != 0;
    let asks = ask
        || f & PARTICLE != 0
        || ends_as_question(folded)
        || alternative(folded)
        || english_question(folded);
    let is_q = if exclaim {
        // An exclamation stands unless a topic is asked about outright
        // ("这是什么神仙面膜多少钱").
        ask && topic
    } else if asks {
        true
    } else if f & INTERROG != 0 {
        // 什么 / 谁 / 哪 / 怎么 alone are as often exclamations ("什么情况",
        // "我是谁我在哪"): a question when it names a topic or speaks to the
        // anchor.
        topic
            || ["主播", "你", "@", "请问"]
                .iter()
                .any(|w| folded.contains(w))
    } else {
        // A bare request for the link or the price ("链接", "价格?"); a bare
        // size or colour is usually a reply to the anchor ("M码", "黑色").
        f & (WHICH | PRICE) != 0 && content_chars(folded) <= 8 && !statement
    };
    if !is_q {
        return None;
    }
    // The kind: the first topic named, with which-link before the others
    // when the comment asks where or which, and price before stock when a
    // number is asked ("3号多少").
    let first = |mask: u32| order.iter().find(|t| t & mask != 0);
    let kind = match first(TOPICS).or_else(|| first(OTHER)) {
        Some(t) if t & WHICH != 0 => {
            // "1号链接还有吗" asks about stock; "1号链接多少钱" about price.
            if let Some(o) = first(TOPICS & !WHICH) {
                flag_kind(o)
            } else {
                QuestionKind::WhichProduct
            }
        }
        Some(t) => flag_kind(t),
        None => QuestionKind::Other,
    };
    Some(kind)
}

fn flag_kind(t: u32) -> QuestionKind {
    if t & PRICE != 0 {
        QuestionKind::Price
    } else if t & STOCK != 0 {
        QuestionKind::StockSize
    } else if t & USAGE != 0 {
        QuestionKind::Usage
    } else if t & SHIP != 0 {
        QuestionKind::Shipping
    } else if t & WHICH != 0 {
        QuestionKind::WhichProduct
    } else {
        QuestionKind::Other
    }
}

/// How a question was tied to its product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkedBy {
    /// A link number in the text ("3号链接").
    Number,
    /// The product's name or an alias in the text.
    Name,
    /// The product explained or pinned when it was asked.
    Focus,
}

/// The anchor's answer to a question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// Start of the answering utterance (session clock).
    pub ts_ms: Ms,
    /// `ts_ms` − the question's time.
    pub latency_ms: Ms,
    /// What was said (shared by every question the utterance answers).
    pub text: Arc<str>,
    /// Who said it, when known.
    pub speaker: Option<Arc<str>>,
    /// Whether the utterance says it answers a question ("这位宝宝问",
    /// "you asked"), rather than only naming the product with the topic.
    #[serde(default)]
    pub explicit: bool,
}

/// A viewer's question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// When it was asked.
    pub ts_ms: Ms,
    /// Who asked.
    pub viewer_id: String,
    /// The comment.
    pub text: String,
    /// What it asks about.
    pub kind: QuestionKind,
    /// The product it is about, when it can be told (shared by every
    /// question about it).
    pub product_id: Option<Arc<str>>,
    /// How the product was found.
    pub linked_by: Option<LinkedBy>,
    /// The answer, if the anchor gave one within the window.
    pub answer: Option<Answer>,
}

/// Options of [`questions`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuestionOptions {
    /// How long after a question an answer is looked for (default 3 min:
    /// anchors batch answers between pitches; the simulator answers within
    /// 40 s, independent data within 5–40 s).
    #[serde(alias = "answer_window", with = "crate::options::duration")]
    pub answer_window_ms: Ms,
    /// A product explained up to this long before a question is still the one
    /// in focus (default 2 min).
    #[serde(alias = "focus_grace", with = "crate::options::duration")]
    pub focus_grace_ms: Ms,
}

impl Default for QuestionOptions {
    fn default() -> Self {
        QuestionOptions {
            answer_window_ms: 180_000,
            focus_grace_ms: 120_000,
        }
    }
}

impl crate::options::Options for QuestionOptions {
    const WHAT: &'static str = "question options";
    fn check(&self) -> Result<()> {
        let mut problems = Vec::new();
        if self.answer_window_ms <= 0 {
            problems.push("answer_window must be positive".to_string());
        }
        if self.focus_grace_ms < 0 {
            problems.push("focus_grace must not be negative".to_string());
        }
        crate::options::all_or_nothing(Self::WHAT, problems)
    }
}

/// Folded names and aliases of the products, longest first, with the link
/// numbers ("3号链接" → 3) their aliases carry.
struct Names {
    names: Vec<(String, usize)>,
    numbers: Vec<(u32, usize)>,
    ac: Option<AhoCorasick>,
}

impl Names {
    fn of(products: &[Product]) -> Names {
        let mut names = Vec::new();
        let mut numbers = Vec::new();
        for (i, p) in products.iter().enumerate() {
            for n in std::iter::once(&p.name).chain(&p.aliases) {
                let f = fold(n);
                if f.chars().count() >= 2 {
                    if let Some(k) = link_number(&f) {
                        numbers.push((k, i));
                    }
                    names.push((f, i));
                }
            }
        }
        names.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(names.iter().map(|n| n.0.as_str()))
            .ok();
        Names { names, numbers, ac }
    }

    /// Every product named in folded text (sorted, distinct).
    fn all_named(&self, folded: &str) -> Vec<usize> {
        let mut v: Vec<usize> = match &self.ac {
            Some(ac) => ac
                .find_iter(folded)
                .map(|m| self.names[m.pattern().as_usize()].1)
                .collect(),
            None => vec![],
        };
        v.sort_unstable();
        v.dedup();
        v
    }

    fn by_number(&self, folded: &str) -> Option<usize> {
        if self.numbers.is_empty() || !folded.chars().any(|c| c == '号') {
            return None;
        }
        let k = link_number(folded)?;
        self.numbers.iter().find(|(n, _)| *n == k).map(|x| x.1)
    }

    /// The product whose longest name or alias appears first.
    fn by_name(&self, folded: &str) -> Option<usize> {
        let ac = self.ac.as_ref()?;
        ac.find(folded)
            .map(|m| self.names[m.pattern().as_usize()].1)
    }
}

/// The number N of the first "N号" in folded text (ASCII or Chinese digits up
/// to 99).
fn link_number(folded: &str) -> Option<u32> {
    let chars: Vec<char> = folded.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c != '号' || i == 0 {
            continue;
        }
        let mut j = i;
        while j > 0 && chars[j - 1].is_ascii_digit() {
            j -= 1;
        }
        if j < i {
            let s: String = chars[j..i].iter().collect();
            return s.parse().ok();
        }
        const ZH: &str = "零一二三四五六七八九十";
        let mut v = 0u32;
        let mut k = i;
        let mut seen = false;
        while k > 0 {
            let Some(d) = ZH.chars().position(|z| z == chars[k - 1]) else {
                break;
            };
            seen = true;
            k -= 1;
            let _ = d;
        }
        if seen {
            for &z in &chars[k..i] {
                let d = ZH.chars().position(|x| x == z).unwrap_or(0) as u32;
                v = if d == 10 { v.max(1) * 10 } else { v + d };
            }
            return Some(v);
        }
    }
    None
}

/// The product in focus at `t`: explained at `t`, else pinned at `t`, else
/// the last explained within `grace` before `t`.
pub fn focus_at(data: &SessionData, t: Ms, grace: Ms) -> Option<&str> {
    let covering = |kind: SegmentKind| {
        data.segments
            .iter()
            .filter(|s| s.kind == kind && s.start_ms <= t && t < s.end_ms)
            .max_by_key(|s| s.start_ms)
    };
    covering(SegmentKind::Explain)
        .or_else(|| covering(SegmentKind::Pinned))
        .or_else(|| {
            data.segments
                .iter()
                .filter(|s| {
                    s.kind == SegmentKind::Explain && s.end_ms <= t && t - s.end_ms <= grace
                })
                .max_by_key(|s| s.end_ms)
        })
        .map(|s| s.product_id.as_str())
}

/// [`focus_at`] for times in increasing order: the answer holds until the
/// next segment boundary (a start, an end, an end plus the grace), so it is
/// recomputed only there.
struct FocusCache<'a> {
    data: &'a SessionData,
    grace: Ms,
    from: Ms,
    until: Ms,
    value: Option<&'a str>,
}

impl<'a> FocusCache<'a> {
    fn new(data: &'a SessionData, grace: Ms) -> Self {
        FocusCache {
            data,
            grace,
            from: Ms::MAX,
            until: Ms::MIN,
            value: None,
        }
    }

    fn at(&mut self, t: Ms) -> Option<&'a str> {
        if t >= self.from && t < self.until {
            return self.value;
        }
        self.value = focus_at(self.data, t, self.grace);
        self.from = t;
        self.until = self
            .data
            .segments
            .iter()
            .filter(|s| matches!(s.kind, SegmentKind::Explain | SegmentKind::Pinned))
            .flat_map(|s| [s.start_ms, s.end_ms, s.end_ms.saturating_add(self.grace)])
            .filter(|&b| b > t)
            .min()
            .unwrap_or(Ms::MAX);
        self.value
    }
}

/// The session's questions, linked and answered (see the module docs).
pub fn questions(data: &SessionData, opts: &QuestionOptions) -> Result<Vec<Question>> {
    use crate::options::Options as _;
    opts.check()?;
    let names = Names::of(&data.products);
    let index: std::collections::HashMap<&str, usize> = data
        .products
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    // Every utterance folded once: its flags and the products it names.
    let speech: Vec<(u32, Vec<usize>)> = data
        .utterances
        .iter()
        .map(|u| {
            let f = fold(&u.text);
            let (flags, _) = flags(speech_automaton(), SPEECH_WORDS, &f);
            (flags, names.all_named(&f))
        })
        .collect();
    // Comments in fixed chunks, in parallel, concatenated in order: the
    // result does not depend on the thread count.
    use rayon::prelude::*;
    const CHUNK: usize = 1 << 15;
    // What a question is, found first as indices (small, cheap to
    // concatenate); the strings are cloned once, in parallel, straight into
    // the result.
    struct Found {
        comment: usize,
        kind: QuestionKind,
        product: Option<usize>,
        linked_by: Option<LinkedBy>,
        /// The answering utterance and whether it carries an answer cue.
        answer: Option<(usize, bool)>,
    }
    let scan = |(c0, chunk): (usize, &[crate::schema::Comment])| -> Vec<Found> {
        let mut out = Vec::new();
        let mut buf = String::new();
        let mut focus = FocusCache::new(data, opts.focus_grace_ms);
        for (k, c) in chunk.iter().enumerate() {
            super::lexicon::fold_into(&c.text, &mut buf);
            let Some(kind) = classify_folded(&buf) else {
                continue;
            };
            let (product, linked_by) = if let Some(i) = names.by_number(&buf) {
                (Some(i), Some(LinkedBy::Number))
            } else if let Some(i) = names.by_name(&buf) {
                (Some(i), Some(LinkedBy::Name))
            } else if let Some(i) = focus.at(c.ts_ms).and_then(|id| index.get(id).copied()) {
                (Some(i), Some(LinkedBy::Focus))
            } else {
                (None, None)
            };
            let topic = kind.topic_flag();
            let first = data.utterances.partition_point(|u| u.start_ms < c.ts_ms);
            let answer = data.utterances[first..]
                .iter()
                .zip(&speech[first..])
                .take_while(|(u, _)| u.start_ms <= c.ts_ms + opts.answer_window_ms)
                .position(|(_, (f, named))| {
                    let cue = f & ANSWER != 0;
                    let on_topic = topic != 0 && f & topic != 0;
                    let names_it = product.is_some_and(|p| named.contains(&p));
                    (cue && (on_topic || names_it || product.is_none())) || (names_it && on_topic)
                })
                .map(|j| (first + j, speech[first + j].0 & ANSWER != 0));
            out.push(Found {
                comment: c0 + k,
                kind,
                product,
                linked_by,
                answer,
            });
        }
        out
    };
    crate::threads::install(|| {
        let parts: Vec<Vec<Found>> = data
            .comments
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(i, chunk)| scan((i * CHUNK, chunk)))
            .collect();
        let found: Vec<Found> = parts.into_iter().flatten().collect();
        // Answers and product ids shared, not copied into every question.
        let said: Vec<(Arc<str>, Option<Arc<str>>)> = data
            .utterances
            .iter()
            .map(|u| {
                (
                    Arc::from(u.text.as_str()),
                    u.speaker.as_deref().map(Arc::from),
                )
            })
            .collect();
        let ids: Vec<Arc<str>> = data
            .products
            .iter()
            .map(|p| Arc::from(p.id.as_str()))
            .collect();
        let mut out = Vec::new();
        found
            .par_iter()
            .map(|f| {
                let c = &data.comments[f.comment];
                Question {
                    ts_ms: c.ts_ms,
                    viewer_id: c.viewer_id.to_string(),
                    text: c.text.to_string(),
                    kind: f.kind,
                    product_id: f.product.map(|i| ids[i].clone()),
                    linked_by: f.linked_by,
                    answer: f.answer.map(|(j, explicit)| {
                        let u = &data.utterances[j];
                        Answer {
                            ts_ms: u.start_ms,
                            latency_ms: u.start_ms - c.ts_ms,
                            text: said[j].0.clone(),
                            speaker: said[j].1.clone(),
                            explicit,
                        }
                    }),
                }
            })
            .collect_into_vec(&mut out);
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_masks_fit() {
        for words in [COMMENT_WORDS, SPEECH_WORDS] {
            let mut masks: Vec<u32> = words.iter().map(|w| w.1 & (TOPICS | OTHER)).collect();
            masks.sort_unstable();
            masks.dedup();
            assert!(masks.len() <= Topics::CAP, "{} topic masks", masks.len());
        }
    }

    #[test]
    fn link_numbers_in_digits_and_chinese() {
        assert_eq!(link_number("3号链接多少"), Some(3));
        assert_eq!(link_number("12号还有吗"), Some(12));
        assert_eq!(link_number("三号链接"), Some(3));
        assert_eq!(link_number("十二号"), Some(12));
        assert_eq!(link_number("二十号"), Some(20));
        assert_eq!(link_number("号"), None);
        assert_eq!(link_number("多少钱"), None);
    }

    #[test]
    fn kinds_of_plain_questions() {
        use QuestionKind::*;
        for (t, k) in [
            ("多少钱", Price),
            ("how much is it", Price),
            ("有没有大码", StockSize),
            ("L码还有没", StockSize),
            ("敏感肌能用吗", Usage),
            ("发什么快递", Shipping),
            ("链接在哪", WhichProduct),
            ("求链接", WhichProduct),
            ("几点下播", Other),
        ] {
            assert_eq!(question_kind(t), Some(k), "{t}");
        }
        for t in [
            "已拍",
            "主播好美",
            "666",
            "怎么这么好看",
            "who else is here from tiktok?",
        ] {
            assert_eq!(question_kind(t), None, "{t}");
        }
    }
}
