"""sim2: a second, independent synthetic live room for testing vap.

It is written from its own specification (below), not from vap's simulator
(``vap_core::sim``), so that vap's accuracy is measured on response shapes vap
was not built around: multiplicative effects, a delayed (gamma) carryover of
the pitch, heterogeneous explain effects, answers held for a while, stalls that
crash the online-viewer gauge, and traffic bought for flash sales. Standard
library and numpy only; everything is drawn from ``numpy.random.default_rng(seed)``
in a fixed order, so a seed gives the same files byte for byte.

    room = sim2.simulate(seed=3, hours=6.0)     # writes <tmp>/session and <tmp>/truth.json
    session = vap.load_dir(room.dir)
    room.truth["factors"]                       # expected GMV of each vap factor column

Specification
=============

Time runs in whole seconds ``s = 0 .. n-1`` from the session start (the platform
clock); ``n = round(hours · 3600)``.

Cast, goods and schedule
------------------------
* 3–4 anchors. Host blocks of 45–95 min (the last takes the rest) alternate
  a lead anchor with the others (lead, other, lead, ...), so one always hosts. The
  anchor who hosts longest is the *reference* (multiplier 1, as vap's default
  reference); every other host multiplies conversion by ``h_a`` drawn from
  [0.78, 0.92] or [1.10, 1.28]. Another anchor co-hosts part of some blocks and
  the last anchor is field control all session (no effect).
* 18–35 products from a catalogue: log-normal prices (19–1299 yuan, ending in
  9), a popularity weight and an appeal ``a_p`` in [0.3, 0.8]; alias "<k>号链接".
* Planted events, one per equal slice of [8 min, end − 2 min] in shuffled
  order, never overlapping: flash sales (≈ 1 per hour, 150–300 s), pitch
  bursts (≈ 0.65 per hour, 120–210 s of dense urgency talk), organic traffic
  waves (≈ 0.5 per hour, 240–420 s; the moment runs 60 s past the wave) and
  stream stalls (0.5–1 per hour, so 3–6 in 6 h; 90–180 s).
* A flash sale sits inside an explain segment of its product; 60 % of them are
  preceded by a *bought* traffic wave (ads bought for the sale) that starts
  30–150 s before the sale: traffic is correlated with promotions.
* Explain segments (4–9 min, 15–90 s apart, products in a shuffled rotation)
  fill the rest; each is also a ``pinned`` segment; every product is
  ``on_shelf`` all session. Coupons (≈ 0.55 per hour, 8–14 min, room-wide) and
  lucky bags (≈ 0.5 per hour, 5 min) are placed away from the planted events.

Traffic
-------
* Entries per second ~ Poisson(λ0 · D(s) · exp(x_s) · W(s)): ``D`` a slow hump
  over the session (±20 %), ``x`` an Ornstein–Uhlenbeck drift (τ 15 min, sd
  0.1), ``W`` the product of the waves (a 40 s ramp, a plateau, an exponential
  tail of 60 s; ×2.5–3.5 organic, ×1.6–2.4 bought).
  ``λ0`` is ``entries_per_second`` (default 140, about the full-scale room of
  vap's own simulator).
* Viewers form two stocks: browsers (65 % of entries, mean stay 20 s) and
  watchers (35 %, 4 min), with Binomial exits each second; online = browsers +
  watchers. During a lucky bag watchers stay longer (exit hazard × 0.6).
* A stall: viewers leave with hazard 1/12 per second until online is down to
  28–40 % of its level at the stall's start (the gauge crashes), then at the
  usual hazards; entries keep arriving at the usual rate but bounce (stay 6 s).
  After it, 35 % of the viewers lost come back over 3 minutes (as entries).
* The platform reports ``entries`` as a cumulative counter every 15 s (from 0),
  ``online_viewers`` as a gauge every 10 s and ``gmv`` (paid) as a cumulative
  counter every 60 s.

Speech and chat
---------------
* The host talks without stopping: utterances of 0.21–0.26 s per character
  with 0.3–1.2 s pauses; what is said depends on the state: explaining a
  product (naming it, describing it, price talk with vap's ``price`` phrases
  such as 到手价 / 券后 / 包邮, an urgency phrase now and then), a pitch burst
  (one or two ``urgency`` phrases per line: 最后一波, 抓紧拍, 手慢无, ...), a flash
  sale (秒杀, 倒计时, 最后100单 and the product), a lucky bag, or small talk.
  10 % of lines are the co-host's when one is on. A phrase is said at its
  character midpoint between the utterance's start and end.
* Comments ~ Poisson(r · online) per second, ``r = comment_rate`` (default
  3e-4; ×1.5 during flash sales; half of them lucky-bag passwords while a
  lucky bag is open): chatter (with exclamations that are not questions),
  "<k>号链接拍了", and questions (12 % while a product is in focus, 5 %
  otherwise) phrased as viewers ask them ("3号链接多少钱", "有没有大码", "包邮吗",
  "敏感肌能用吗", "how much"), about the product in focus.
* Answers: at times of a Poisson process (one per 2–3.3 min, not during flash
  sales or pitches) the host picks a question asked 5–40 s before about a
  product and answers it with a cue and the product's name ("这位宝宝问多少钱,
  <name>到手价199元"), sometimes after that product's explain has ended.
* The transcript is what an ASR would give: times on the recording's clock,
  ``utterance time = platform time + clock_offset_ms`` (5–15 s late) ± 0.15 s
  jitter; 3 % of the lexicon phrases misheard (a homophone vap does not list)
  and 8 % of the lines in Traditional characters.

Conversion and orders
---------------------
``c(s) = c0 · Π_f (1 + e_f(s))`` per online viewer per second (multiplicative;
``c0 = base_conversion``, default 3e-5):

====================  ===================================================
factor (vap column)   ``e_f(s)``
====================  ===================================================
``explain:any``       ``a_p`` while product ``p`` is explained
``promo:flash_sale``  2.0–3.0 (per sale) while it runs
``promo:coupon``      0.25–0.40 (per coupon) while it runs
``promo:lucky_bag``   0 (it keeps viewers, it sells nothing)
``speech:urgency``    ``κ_u · U(s)``, linear in ``U = 60 · Σ_i g(s − t_i)``:
                      the urgency phrases said at ``t_i``, carried over by a
                      gamma kernel (shape 3, scale θ 15–30 s: the effect
                      peaks 30–60 s after the words; ``∫ g = 1``, so ``U``
                      reads "phrases per minute"); κ_u 0.09–0.13
``speech:price``      ``κ_p · P(s)``, the price phrases with a geometric
                      carryover (half-life 40 s, ``∫ = 1``) per minute;
                      κ_p 0.015–0.025
``answers``           0.30–0.45 for 75 s after an answer starts (held, not
                      summed)
``host:<a>``          ``h_a − 1`` while ``a`` hosts (0 for the reference)
====================  ===================================================

Orders per second ~ Poisson(online(s) · c(s)), at uniform instants within the
second. An order buys the product in focus (the flash-sale product, else the
one explained) w.p. 0.55, else a product drawn by popularity; quantity 1, 2, 3
w.p. 0.75, 0.2, 0.05; amount = quantity × catalogue price. 2.5 % of paid orders
are refunded 5–40 min later (own row, when still inside the session).

Truth
-----
Expected GMV given the simulated traffic and speech: ``m(s)`` the expected
order amount, ``E(s) = online(s) · c(s) · m(s)``, ``base0(s) = online(s) · c0 ·
m(s)``. The factors' joint part ``E − base0 = base0 · (exp(S) − 1)``,
``S = Σ_f L_f``, ``L_f = ln(1 + e_f)``, is split by the **log-share rule**
(vap's rule for its log link): factor ``f`` gets ``base0 · (exp(S) − 1) · L_f / S``
(``base0 · L_f`` as ``S → 0``); a factor with ``e_f < 0`` (a weaker host) gets a
negative share. Traffic is ``(online − e_ref) · c0 · m`` and the baseline
``e_ref · c0 · m``, ``e_ref`` the median of online over the session, so
``baseline + traffic + Σ factors = Σ E`` exactly. Factor names are vap's
timeline columns. ``Room.factor_truth(reference)`` re-bases the hosts on
another reference anchor (``h_a / h_ref``, ``c0 · h_ref``).

Each planted moment records its planted ``cause`` (``promo:flash_sale``,
``speech:urgency`` or ``traffic``), its window (a pitch's window is the burst
moved by the kernel's mode, when its effect is on), and the true parts of its
excess by vap's moment rule (each component's sum over the window minus the
window's length × its mean over 10 min either side, the window excluded) with
the largest in absolute value (as vap ranks parts; the baseline aside),
``true_top``.
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SPEC_VERSION = 1
#: 2026-06-18 10:00 UTC (18:00 in Shanghai, the 618 festival's evening).
START_MS = 1_781_776_800_000


def builtin_groups() -> dict[str, list[str]]:
    """vap's built-in lexicon groups (urgency, price, question, answer): the
    spoken phrases are counted with them, as vap counts them."""
    import vap

    lex = vap.builtin_lexicon()
    return {g: list(lex[g]) for g in ("urgency", "price", "question", "answer")}


PRODUCT_NAMES = [
    ("玻尿酸精华", "美妆"),
    ("修护面霜", "美妆"),
    ("哑光口红", "美妆"),
    ("气垫粉底", "美妆"),
    ("防晒喷雾", "美妆"),
    ("卸妆油", "美妆"),
    ("眼影盘", "美妆"),
    ("氨基酸洗面奶", "美妆"),
    ("香氛身体乳", "美妆"),
    ("护手霜", "美妆"),
    ("羽绒马甲", "服饰"),
    ("牛仔阔腿裤", "服饰"),
    ("真丝衬衫", "服饰"),
    ("针织开衫", "服饰"),
    ("运动卫衣", "服饰"),
    ("冰丝防晒衣", "服饰"),
    ("老爹鞋", "服饰"),
    ("帆布托特", "服饰"),
    ("保温杯", "家居"),
    ("空气炸锅", "家居"),
    ("破壁机", "家居"),
    ("电动牙刷", "家居"),
    ("蒸汽拖把", "家居"),
    ("纯棉四件套", "家居"),
    ("乳胶枕", "家居"),
    ("坚果礼盒", "食品"),
    ("风干牛肉", "食品"),
    ("挂耳咖啡", "食品"),
    ("螺蛳粉", "食品"),
    ("燕麦片", "食品"),
    ("蜂蜜柚子茶", "食品"),
    ("冻干猫粮", "宠物"),
    ("儿童牙膏", "家居"),
    ("洗衣凝珠", "家居"),
    ("香薰蜡烛", "家居"),
    ("蓝牙耳机", "数码"),
    ("充电宝", "数码"),
]
ANCHORS = [("xiaoyu", "小雨"), ("ajie", "阿杰"), ("nana", "娜娜"), ("mike", "Mike")]

# --- what people say -------------------------------------------------------

DESCRIBE = [
    "我们来看{link}{name}",
    "{name}大家看一下细节",
    "{name}用料很扎实",
    "{name}是我们家的回购王",
    "这款{name}我自己一直在用",
    "{name}给大家上一下效果",
]
GENERIC = [
    "姐妹们看这个质感",
    "真的很好用, 大家放心入",
    "喜欢的直接拍就可以了",
    "给大家看一下上身效果",
    "这个颜色特别显白",
    "做工大家可以看一下",
]
PRICE_TALK = [
    "{name}原价{p2}元, 今天到手价{p}元",
    "{name}直降{d}元, 券后只要{p}元",
    "记得先领券, {name}券后{p}元",
    "{name}全国包邮",
    "{name}今天买一送一",
]
URGENT_ASIDE = ["{name}库存不多了", "{name}限时就今天", "抓紧, {name}这个价不多"]
PITCH = [
    "最后一波了, 抓紧拍",
    "库存不多了, 手慢无",
    "马上涨价了, 大家抓紧",
    "倒计时三二一, 抓紧拍",
    "限时就这一会儿, 最后一波",
    "手慢无啊姐妹们",
    "最后100单, 拍完就没了",
    "hurry, last chance",
    "抓紧拍, 库存不多",
]
FLASH = [
    "{link}{name}秒杀开始了",
    "三二一上链接, {link}",
    "还有最后100单",
    "{name}这个价只有现在",
    "拍到就是赚到",
    "{name}今天就这一次",
    "已经拍到的宝宝扣个已拍",
    "{link}{name}, 大家去拍",
    "没拍到的宝宝刷新一下",
]
LUCKY = ["福袋开了, 大家发口令", "福袋还有两分钟, 大家不要走开", "口令是好物不停惊喜不断"]
SMALL_TALK = [
    "欢迎新进直播间的家人们",
    "点点关注不迷路",
    "今天给大家准备了很多好物",
    "下一个产品马上来",
    "喜欢主播的点个关注",
    "家人们晚上好",
]
ANSWER_TEXT = {
    "price": ["这位宝宝问多少钱, {name}到手价{p}元", "有宝宝问价格, {name}券后{p}元"],
    "stock_size": ["有宝宝问尺码, {name}S到XL都有的", "这位宝宝问还有没有货, {name}还有货"],
    "shipping": ["这位宝宝问什么时候发货, {name}拍下48小时发货", "回答一下发货, {name}顺丰包邮"],
    "usage": [
        "刚才问的{name}怎么用, 早晚各一次, 敏感肌也适合",
        "you asked how to use {name}, 早晚各一次",
    ],
}
QUESTIONS = {
    "price": ["多少钱", "{link}多少钱", "{name}多少钱啊", "到手价多少", "有券吗", "how much"],
    "stock_size": ["有没有大码", "{link}还有货吗", "160斤穿什么码", "有S码吗", "{name}还有吗"],
    "shipping": ["什么时候发货", "包邮吗", "发什么快递", "do you ship to canada"],
    "usage": ["怎么用", "敏感肌能用吗", "{name}适合油皮吗", "孕妇可以用吗"],
    "which_product": ["链接在哪", "几号链接"],
}
QUESTION_KINDS = ["price", "stock_size", "shipping", "usage", "which_product"]
QUESTION_KIND_P = [0.38, 0.22, 0.14, 0.16, 0.10]
CHATTER = [
    "主播好美",
    "来了来了",
    "666",
    "支持支持",
    "好看",
    "买了买了",
    "这是什么神仙颜值",
    "真的假的吗哈哈",
    "love it",
    "nice",
    "哈哈哈",
    "冲冲冲",
    "主播声音好好听",
    "太好看了吧",
    "蹲蹲",
]
ORDER_TALK = ["{link}拍了", "已下单", "拍了两件", "已拍"]
LUCKY_TALK = ["福袋福袋", "好物不停 惊喜不断", "求福袋"]
#: What an ASR mishears (a near homophone vap does not list).
MISHEARD = {
    "抓紧拍": "抓进拍",
    "抓紧": "抓进",
    "限时": "现时",
    "秒杀": "秒沙",
    "手慢无": "手慢舞",
    "倒计时": "到计时",
    "最后一波": "最后一播",
    "库存不多": "酷存不多",
    "马上涨价": "马上张价",
    "最后100单": "最后100蛋",
    "到手价": "到首价",
    "直降": "直将",
    "券后": "圈后",
    "包邮": "包游",
    "领券": "领圈",
    "原价": "园价",
    "买一送一": "买一送衣",
}
TRADITIONAL = str.maketrans(
    "时紧价涨库单马钱这问宝发货后优惠杀", "時緊價漲庫單馬錢這問寶發貨後優惠殺"
)


@dataclass
class Room:
    """A simulated session: the session directory vap loads, its truth (JSON
    types) and the per-second series behind it (numpy)."""

    dir: Path
    truth: dict[str, Any]
    series: dict[str, Any] = field(repr=False)

    def factor_truth(self, reference: str | None = None) -> dict[str, float]:
        """Expected GMV of each factor column by the log-share rule, with the
        hosts measured against ``reference`` (default: the simulator's
        reference anchor, the one who hosts longest)."""
        ser = self.series
        ref = reference or self.truth["reference_anchor"]
        mult = self.truth["host_multipliers"]
        if ref not in mult:
            raise KeyError(f"no anchor {ref!r}")
        base0 = ser["base0"] * mult[ref]
        logs = {k: np.log1p(v) for k, v in ser["effects"].items() if not k.startswith("host:")}
        host = ser["host"]
        for i, a in enumerate(self.truth["anchor_ids"]):
            if a != ref:
                logs[f"host:{a}"] = np.where(host == i, math.log(mult[a] / mult[ref]), 0.0)
        parts = _log_share(base0, logs)
        return {k: float(v.sum()) for k, v in parts.items()}


def _log_share(base0: np.ndarray, logs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Splits ``base0 · (exp(S) − 1)`` across the factors in proportion to
    their log multipliers (``S`` their sum)."""
    s = np.zeros_like(base0)
    for v in logs.values():
        s = s + v
    small = np.abs(s) < 1e-12
    ratio = np.where(small, 1.0, np.expm1(s) / np.where(small, 1.0, s))
    return {k: base0 * ratio * v for k, v in logs.items()}


# --- the phrase matcher (leftmost-longest, as vap's lexicon) ----------------


class _Matcher:
    def __init__(self, groups: dict[str, list[str]]):
        self.phrases: dict[str, str] = {}
        for g, ps in groups.items():
            for p in ps:
                self.phrases.setdefault(p.lower(), g)
        self.lengths = sorted({len(p) for p in self.phrases}, reverse=True)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, length, group) of each match, leftmost-longest."""
        low = text.lower()
        out, i = [], 0
        while i < len(low):
            for n in self.lengths:
                g = self.phrases.get(low[i : i + n])
                if g is not None:
                    out.append((i, n, g))
                    i += n
                    break
            else:
                i += 1
        return out


# --- the simulation ---------------------------------------------------------


def simulate(
    seed: int,
    hours: float = 6.0,
    out_dir: str | Path | None = None,
    *,
    entries_per_second: float = 140.0,
    base_conversion: float = 3e-5,
    comment_rate: float = 3e-4,
    start_ms: int = START_MS,
) -> Room:
    """Simulates one session (see the module docs) and writes it as a vap
    session directory ``<out_dir>/session`` with ``<out_dir>/truth.json``
    beside it (``out_dir``: a new temporary directory when not given)."""
    if seed < 0 or not 1.0 <= hours <= 24:
        raise ValueError("seed must be >= 0 and hours in [1, 24]")
    rng = np.random.default_rng(seed)
    n = int(round(hours * 3600))
    sim = _Sim(rng, n, hours, entries_per_second, base_conversion, comment_rate, start_ms)
    sim.run()
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix=f"sim2-{seed}-"))
    session_dir = out / "session"
    session_dir.mkdir(parents=True, exist_ok=True)
    sim.write(session_dir, seed)
    truth = sim.truth(seed)
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1))
    return Room(dir=session_dir, truth=truth, series=sim.series())


class _Sim:
    def __init__(self, rng, n, hours, lam0, c0, comment_rate, start_ms):
        self.rng, self.n, self.hours = rng, n, hours
        self.lam0, self.c0, self.comment_rate, self.t0 = lam0, c0, comment_rate, start_ms

    # The stages, in the order they draw from the generator.
    def run(self) -> None:
        self._cast()
        self._goods()
        self._plant()
        self._explains()
        self._promotions()
        self._hosts()
        self._traffic()
        self._comments()
        self._answers()
        self._speech()
        self._effects()
        self._orders()

    def _u(self, a: float, b: float) -> float:
        return float(self.rng.uniform(a, b))

    def _cast(self) -> None:
        rng = self.rng
        k = int(rng.integers(3, 5))
        order = rng.permutation(len(ANCHORS))[:k]
        self.anchors = [ANCHORS[i] for i in order]
        self.offset_ms = int(rng.integers(5_000, 15_001))
        self.theta = self._u(15.0, 30.0)
        self.kappa_u = self._u(0.09, 0.13)
        self.kappa_p = self._u(0.015, 0.025)
        self.e_answer = self._u(0.30, 0.45)
        self.answer_hold_s = 75

    def _goods(self) -> None:
        rng = self.rng
        k = int(rng.integers(18, 36))
        pick = rng.permutation(len(PRODUCT_NAMES))[:k]
        self.products = []
        for j, i in enumerate(pick):
            name, cat = PRODUCT_NAMES[i]
            price = float(np.clip(np.exp(rng.normal(math.log(150), 0.7)), 19, 1299))
            price = max(19.0, math.floor(price / 10) * 10 + 9)
            self.products.append(
                {
                    "id": f"sku{j + 1:02d}",
                    "name": name,
                    "category": cat,
                    "price": price,
                    "link": f"{j + 1}号链接",
                    "appeal": self._u(0.3, 0.8),
                    "weight": float(np.exp(rng.normal(0, 0.8))),
                }
            )
        w = np.array([p["weight"] for p in self.products])
        self.popularity = w / w.sum()
        self.prices = np.array([p["price"] for p in self.products])
        self.mean_price = float(self.popularity @ self.prices)

    def _plant(self) -> None:
        rng, n, h = self.rng, self.n, self.hours
        counts = {
            "flash_sale": max(1, round(h * self._u(0.8, 1.1))),
            "pitch_burst": max(1, round(h * self._u(0.5, 0.8))),
            "traffic_wave": max(1, round(h * self._u(0.35, 0.6))),
            "stream_stall": max(1, round(h * self._u(0.5, 1.0))),
        }
        kinds = [k for k, c in counts.items() for _ in range(c)]
        kinds = [kinds[i] for i in rng.permutation(len(kinds))]
        lo, hi = 480, n - 120
        width = (hi - lo) / len(kinds)
        lengths = {
            "flash_sale": (150, 300),
            "pitch_burst": (120, 210),
            "traffic_wave": (240, 420),
            "stream_stall": (90, 180),
        }
        self.events = []
        for i, kind in enumerate(kinds):
            a, b = lengths[kind]
            d = int(rng.integers(a, b + 1))
            s0 = lo + i * width
            margin = min(180.0, max(0.0, (width - d) / 3))
            start = int(s0 + margin + rng.uniform(0, max(1.0, width - d - 2 * margin)))
            ev = {"kind": kind, "start": start, "end": min(start + d, n - 60)}
            if kind == "flash_sale":
                ev["effect"] = self._u(2.0, 3.0)
                ev["product"] = int(rng.integers(len(self.products)))
                if rng.random() < 0.6:
                    ws = start - int(rng.integers(30, 151))
                    ev["wave"] = (ws, ws + int(rng.integers(240, 421)), self._u(1.6, 2.4))
            elif kind == "traffic_wave":
                ev["amplitude"] = self._u(2.5, 3.5)
            elif kind == "stream_stall":
                ev["floor"] = self._u(0.28, 0.40)
            self.events.append(ev)

    def _explains(self) -> None:
        rng, n = self.rng, self.n
        fixed = []
        for ev in self.events:
            if ev["kind"] == "flash_sale":
                a = ev["start"] - int(rng.integers(60, 181))
                b = min(n, ev["end"] + int(rng.integers(30, 121)))
                fixed.append((a, b, ev["product"]))
        segs = []
        rotation = list(rng.permutation(len(self.products)))
        cursor = int(rng.integers(20, 90))
        fi = 0
        while cursor < n - 60:
            nxt = fixed[fi] if fi < len(fixed) else None
            if nxt is not None and cursor >= nxt[0] - 90:
                segs.append(nxt)
                cursor = nxt[1] + int(rng.integers(15, 91))
                fi += 1
                continue
            length = int(rng.integers(240, 541))
            end = min(cursor + length, n)
            if nxt is not None and end > nxt[0] - 15:
                end = nxt[0] - int(rng.integers(15, 61))
            if end - cursor >= 90:
                if not rotation:
                    rotation = list(rng.permutation(len(self.products)))
                segs.append((cursor, end, int(rotation.pop())))
            cursor = end + int(rng.integers(15, 91))
            if nxt is not None and cursor > nxt[0] - 15:
                cursor = nxt[0] - 90
        self.segments = segs
        explained = np.full(n, -1, dtype=np.int64)
        for a, b, p in segs:
            explained[max(0, a) : min(n, b)] = p
        self.explained = explained
        flash = np.zeros(n)
        flash_product = np.full(n, -1, dtype=np.int64)
        for ev in self.events:
            if ev["kind"] == "flash_sale":
                flash[ev["start"] : ev["end"]] = ev["effect"]
                flash_product[ev["start"] : ev["end"]] = ev["product"]
        self.flash, self.flash_product = flash, flash_product
        self.focus = np.where(flash_product >= 0, flash_product, explained)

    def _free(self, a: int, b: int, taken: list[tuple[int, int]], pad: int) -> bool:
        return all(b + pad <= s or a >= e + pad for s, e in taken)

    def _promotions(self) -> None:
        rng, n = self.rng, self.n
        taken = []
        for ev in self.events:
            s, e = ev["start"], ev["end"]
            if "wave" in ev:
                s = min(s, ev["wave"][0])
            taken.append((s, e))
        self.coupons, self.lucky = [], []
        for kind, count, (lo, hi) in (
            ("coupon", max(1, round(self.hours * self._u(0.4, 0.7))), (480, 841)),
            ("lucky_bag", max(1, round(self.hours * 0.5)), (300, 301)),
        ):
            for _ in range(count):
                for _try in range(200):
                    d = int(rng.integers(lo, hi))
                    a = int(rng.integers(120, max(121, n - d - 60)))
                    if self._free(a, a + d, taken, 300):
                        taken.append((a, a + d))
                        if kind == "coupon":
                            self.coupons.append((a, a + d, self._u(0.25, 0.40)))
                        else:
                            self.lucky.append((a, a + d))
                        break
        coupon = np.zeros(n)
        for a, b, e in self.coupons:
            coupon[a:b] = e
        lucky = np.zeros(n, dtype=bool)
        for a, b in self.lucky:
            lucky[a:b] = True
        self.coupon, self.lucky_on = coupon, lucky

    def _hosts(self) -> None:
        rng, n = self.rng, self.n
        k = len(self.anchors)
        blocks, cursor, other = [], 0, 1
        turn = 0
        while cursor < n:
            length = int(rng.integers(45 * 60, 95 * 60 + 1))
            end = n if n - (cursor + length) < 20 * 60 else cursor + length
            if turn % 2 == 0:
                who = 0
            else:
                who = other
                other = other % (k - 1) + 1
            blocks.append((cursor, end, who))
            cursor, turn = end, turn + 1
        host = np.zeros(n, dtype=np.int64)
        for a, b, who in blocks:
            host[a:b] = who
        self.blocks, self.host = blocks, host
        seconds = np.bincount(host, minlength=k)
        self.reference = int(np.argmax(seconds))
        mult = []
        for i in range(k):
            if i == self.reference:
                mult.append(1.0)
            elif rng.random() < 0.5:
                mult.append(self._u(0.78, 0.92))
            else:
                mult.append(self._u(1.10, 1.28))
        self.host_mult = mult
        cohost = []
        for a, b, who in blocks:
            if rng.random() < 0.5 and b - a > 1200:
                c = int(rng.choice([i for i in range(k) if i != who]))
                s = a + int(rng.integers(0, (b - a) // 3))
                e = min(b, s + int(rng.integers(600, max(601, (b - a) // 2))))
                cohost.append((s, e, c))
        self.cohosts = cohost
        co = np.full(n, -1, dtype=np.int64)
        for s, e, c in cohost:
            co[s:e] = c
        self.cohost = co

    def _traffic(self) -> None:
        rng, n = self.rng, self.n
        s = np.arange(n)
        hump = 1.0 + 0.2 * np.sin(np.pi * s / n * 1.3 + self._u(-0.5, 0.5))
        tau, sd = 900.0, 0.1
        shocks = rng.normal(0.0, sd * math.sqrt(2.0 / tau), n)
        x = np.zeros(n)
        for i in range(1, n):
            x[i] = x[i - 1] * (1 - 1 / tau) + shocks[i]
        wave = np.ones(n)
        self.waves = []
        for ev in self.events:
            spec = None
            if ev["kind"] == "traffic_wave":
                spec = (ev["start"], ev["end"], ev["amplitude"], "organic")
            elif "wave" in ev:
                spec = (*ev["wave"], "bought")
            if spec is None:
                continue
            a, b, amp, why = spec
            self.waves.append({"start": a, "end": b, "amplitude": amp, "kind": why})
            t = s - a
            shape = np.where(t < 0, 0.0, np.minimum(1.0, t / 40.0))
            shape = np.where(s >= b, np.exp(-(s - b) / 60.0), shape)
            wave *= 1.0 + (amp - 1.0) * shape
        lam = self.lam0 * hump * np.exp(x) * wave
        stall = np.zeros(n, dtype=bool)
        for ev in self.events:
            if ev["kind"] == "stream_stall":
                stall[ev["start"] : ev["end"]] = True
        entries = rng.poisson(lam)
        ret = np.zeros(n)
        p_b, p_w = 1 / 20, 1 / 240
        browsers = 0.6 * 0.65 * self.lam0 * 20
        watchers = 0.6 * 0.35 * self.lam0 * 240
        online = np.zeros(n)
        level, target = 0.0, 0.0
        floor = {e["start"]: e["floor"] for e in self.events if e["kind"] == "stream_stall"}
        for i in range(n):
            if stall[i] and not stall[i - 1]:
                level = browsers + watchers
                target = floor[i] * level
            e_i = int(entries[i])
            r_i = int(rng.poisson(ret[i])) if ret[i] > 0 else 0
            if stall[i]:
                # The gauge crashes: viewers leave until a third or so is left;
                # new entries keep coming but bounce.
                xb = rng.binomial(int(browsers), 1 / 6)
                hazard = 1 / 12 if browsers + watchers > target else p_w
                xw = rng.binomial(int(watchers), hazard)
                browsers += e_i - xb
                watchers += r_i - xw
                if i + 1 < n and not stall[i + 1]:
                    lost = max(0.0, level - (browsers + watchers))
                    ret[i + 1 : min(n, i + 181)] += 0.35 * lost / 180.0
            else:
                pw = p_w * (0.6 if self.lucky_on[i] else 1.0)
                nb = int(rng.binomial(e_i, 0.65))
                xb = rng.binomial(int(browsers), p_b)
                xw = rng.binomial(int(watchers), pw)
                browsers += nb - xb
                watchers += (e_i - nb) + r_i - xw
            entries[i] += r_i
            online[i] = math.floor(browsers + watchers)
        self.entries, self.online, self.stall = entries, online, stall

    def _comments(self) -> None:
        rng, n = self.rng, self.n
        boost = np.where(self.flash > 0, 1.5, 1.0)
        counts = rng.poisson(self.online * self.comment_rate * boost)
        sec = np.repeat(np.arange(n), counts)
        m = len(sec)
        ts = sec * 1000 + rng.integers(0, 1000, m)
        u = rng.random(m)
        focus = self.focus[sec]
        q_share = np.where(focus >= 0, 0.12, 0.05)
        lucky = self.lucky_on[sec]
        kind_draw = rng.choice(len(QUESTION_KINDS), size=m, p=QUESTION_KIND_P)
        tmpl = rng.random(m)
        viewers = rng.integers(0, 400_000, m)
        rows, questions = [], []
        for j in range(m):
            f = int(focus[j])
            prod = self.products[f] if f >= 0 else None
            if lucky[j] and u[j] < 0.5:
                text = LUCKY_TALK[int(tmpl[j] * len(LUCKY_TALK))]
            elif u[j] < q_share[j]:
                kind = QUESTION_KINDS[int(kind_draw[j])]
                pool = QUESTIONS[kind] if prod else [q for q in QUESTIONS[kind] if "{" not in q]
                text = pool[int(tmpl[j] * len(pool))]
                if prod:
                    text = text.format(link=prod["link"], name=prod["name"])
                questions.append((int(ts[j]), kind, f, text))
            elif u[j] < q_share[j] + 0.1:
                text = ORDER_TALK[int(tmpl[j] * len(ORDER_TALK))]
                if prod:
                    text = text.format(link=prod["link"])
                elif "{" in text:
                    text = "已下单"
            else:
                text = CHATTER[int(tmpl[j] * len(CHATTER))]
            rows.append((int(ts[j]), f"v{int(viewers[j])}", text))
        self.comment_rows = rows
        self.questions = questions

    def _answers(self) -> None:
        rng, n = self.rng, self.n
        gap = self._u(120.0, 200.0)
        q_ts = np.array([q[0] for q in self.questions], dtype=np.int64)
        busy = (self.flash > 0) | self._pitch_mask()
        answers = []
        t = 60.0 + rng.exponential(gap)
        while t < n - 60:
            s = int(t)
            if not busy[s]:
                lo = np.searchsorted(q_ts, (s - 40) * 1000)
                hi = np.searchsorted(q_ts, (s - 5) * 1000, side="right")
                cand = [
                    k
                    for k in range(lo, hi)
                    if self.questions[k][2] >= 0 and self.questions[k][1] != "which_product"
                ]
                if cand:
                    k = cand[int(rng.integers(len(cand)))]
                    answers.append({"due": float(s), "question": k})
            t += rng.exponential(gap)
        self.answer_plan = answers

    def _pitch_mask(self) -> np.ndarray:
        m = np.zeros(self.n, dtype=bool)
        for ev in self.events:
            if ev["kind"] == "pitch_burst":
                m[ev["start"] : ev["end"]] = True
        return m

    def _line(self, s: int) -> str:
        """What the host says at second ``s`` (not an answer)."""
        rng = self.rng
        pitch = self._pitch_mask_cache[s]
        f = int(self.focus[s])
        prod = self.products[f] if f >= 0 else None
        u = rng.random()
        if self.flash[s] > 0:
            t = FLASH[int(rng.integers(len(FLASH)))]
        elif pitch:
            t = PITCH[int(rng.integers(len(PITCH)))]
            if prod and u < 0.3:
                t = f"{t}, {prod['link']}{prod['name']}"
        elif self.lucky_on[s] and u < 0.3:
            t = LUCKY[int(rng.integers(len(LUCKY)))]
        elif prod is not None:
            if u < 0.35:
                t = DESCRIBE[int(rng.integers(len(DESCRIBE)))]
            elif u < 0.60:
                t = PRICE_TALK[int(rng.integers(len(PRICE_TALK)))]
            elif u < 0.64:
                t = URGENT_ASIDE[int(rng.integers(len(URGENT_ASIDE)))]
            else:
                t = GENERIC[int(rng.integers(len(GENERIC)))]
        else:
            t = SMALL_TALK[int(rng.integers(len(SMALL_TALK)))]
            if u < 0.06:
                other = self.products[int(rng.integers(len(self.products)))]
                t = f"{t}, 等下还有{other['name']}"
        if prod is None:
            prod = self.products[0]
        p = prod["price"]
        return t.format(
            name=prod["name"], link=prod["link"], p=int(p), p2=int(p * 1.5 + 10), d=int(p * 0.3)
        )

    def _speech(self) -> None:
        rng, n = self.rng, self.n
        self._pitch_mask_cache = self._pitch_mask()
        plan = sorted(self.answer_plan, key=lambda a: a["due"])
        said, answers = [], []
        t, k = float(rng.uniform(0.5, 3.0)), 0
        while t < n - 2:
            s = int(t)
            if k < len(plan) and plan[k]["due"] <= t + 3.0:
                q = self.questions[plan[k]["question"]]
                t = max(t, plan[k]["due"])
                prod = self.products[q[2]]
                pool = ANSWER_TEXT[q[1]]
                text = pool[int(rng.integers(len(pool)))].format(
                    name=prod["name"], p=int(prod["price"])
                )
                is_answer = True
                k += 1
            else:
                text = self._line(s)
                is_answer = False
            dur = len(text) * self._u(0.21, 0.26) + 0.3
            if t + dur > n:
                break
            speaker = int(self.host[s])
            if self.cohost[s] >= 0 and not is_answer and rng.random() < 0.1:
                speaker = int(self.cohost[s])
            said.append((t, dur, text, speaker))
            if is_answer:
                q = self.questions[plan[k - 1]["question"]]
                answers.append(
                    {
                        "answer_ms": self.t0 + int(round(t * 1000)),
                        "question_ms": self.t0 + q[0],
                        "delay_ms": int(round(t * 1000)) - q[0],
                        "kind": q[1],
                        "question": q[3],
                        "product_id": self.products[q[2]]["id"],
                        "text": text,
                        "explain_over": bool(self.explained[int(t)] != q[2]),
                    }
                )
            t += dur + self._u(0.3, 1.2)
        self.said, self.answer_log = said, answers
        # The phrases said, at their character midpoints.
        groups = builtin_groups()
        groups["product"] = [p["name"] for p in self.products] + [p["link"] for p in self.products]
        matcher = _Matcher(groups)
        urg, pri = np.zeros(n), np.zeros(n)
        self.phrase_times = {"urgency": [], "price": []}
        transcript = []
        for t, dur, text, speaker in said:
            total = max(1, len(text))
            heard = text
            for start, length, g in matcher.find(text):
                at = t + dur * (start + length / 2) / total
                if g in ("urgency", "price"):
                    (urg if g == "urgency" else pri)[min(n - 1, int(at))] += 1
                    self.phrase_times[g].append(at)
                    phrase = text[start : start + length]
                    if rng.random() < 0.03 and phrase in MISHEARD:
                        heard = heard.replace(phrase, MISHEARD[phrase], 1)
            if rng.random() < 0.08:
                heard = heard.translate(TRADITIONAL)
            jitter = rng.normal(0.0, 150.0)
            start_ms = self.t0 + int(round(t * 1000 + self.offset_ms + jitter))
            end_ms = start_ms + int(round(dur * 1000))
            conf = round(float(rng.uniform(0.6, 0.99)), 2)
            transcript.append((start_ms, end_ms, heard, self.anchors[speaker][0], conf))
        self.transcript = transcript
        self.urgency_said, self.price_said = urg, pri

    def _effects(self) -> None:
        n = self.n
        shape = 3.0
        j = np.arange(0, int(12 * self.theta) + 1) + 0.5
        g = j ** (shape - 1) * np.exp(-j / self.theta)
        g /= g.sum()
        self.urgency_level = 60.0 * np.convolve(self.urgency_said, g)[:n]
        half = 40.0
        j = np.arange(0, int(10 * half) + 1)
        k = 0.5 ** (j / half)
        k /= k.sum()
        self.price_level = 60.0 * np.convolve(self.price_said, k)[:n]
        answered = np.zeros(n)
        for a in self.answer_log:
            s = (a["answer_ms"] - self.t0) // 1000
            answered[s : s + self.answer_hold_s] = 1.0
        appeal = np.array([p["appeal"] for p in self.products])
        eff = {
            "explain:any": np.where(self.explained >= 0, appeal[self.explained], 0.0),
            "promo:flash_sale": self.flash,
            "promo:coupon": self.coupon,
            "promo:lucky_bag": np.zeros(n),
            "speech:urgency": self.kappa_u * self.urgency_level,
            "speech:price": self.kappa_p * self.price_level,
            "answers": self.e_answer * answered,
        }
        for i, (aid, _) in enumerate(self.anchors):
            if i != self.reference:
                eff[f"host:{aid}"] = np.where(self.host == i, self.host_mult[i] - 1.0, 0.0)
        self.effects = eff
        mult = np.ones(n)
        for v in eff.values():
            mult *= 1.0 + v
        self.conv = self.c0 * mult
        q = 0.75 * 1 + 0.2 * 2 + 0.05 * 3
        f = self.focus
        focus_price = np.where(f >= 0, self.prices[np.maximum(f, 0)], self.mean_price)
        self.m = q * np.where(f >= 0, 0.55 * focus_price + 0.45 * self.mean_price, self.mean_price)
        self.expected_orders = self.online * self.conv
        self.expected_gmv = self.expected_orders * self.m
        self.base0 = self.online * self.c0 * self.m
        self.e_ref = float(np.median(self.online))
        logs = {k: np.log1p(v) for k, v in eff.items()}
        self.contrib = _log_share(self.base0, logs)

    def _orders(self) -> None:
        rng, n = self.rng, self.n
        k = rng.poisson(self.expected_orders)
        sec = np.repeat(np.arange(n), k)
        m = len(sec)
        ts = sec * 1000 + rng.integers(0, 1000, m)
        order = np.argsort(ts, kind="stable")
        sec, ts = sec[order], ts[order]
        focus = self.focus[sec]
        take_focus = (rng.random(m) < 0.55) & (focus >= 0)
        drawn = rng.choice(len(self.products), size=m, p=self.popularity)
        prod = np.where(take_focus, focus, drawn)
        qty = rng.choice([1, 2, 3], size=m, p=[0.75, 0.2, 0.05])
        viewers = rng.integers(0, 400_000, m)
        refund = rng.random(m) < 0.025
        delay = rng.integers(5 * 60_000, 40 * 60_000, m)
        rows = []
        end_ms = n * 1000
        for j in range(m):
            p = self.products[int(prod[j])]
            amount = int(qty[j]) * p["price"]
            oid = f"o{j + 1}"
            vid = f"v{int(viewers[j])}"
            rows.append((int(ts[j]), oid, p["id"], int(qty[j]), amount, "paid", vid))
            if refund[j] and ts[j] + delay[j] < end_ms:
                rows.append(
                    (int(ts[j] + delay[j]), oid, p["id"], int(qty[j]), amount, "refunded", vid)
                )
        rows.sort(key=lambda r: (r[0], r[1], r[5]))
        self.order_rows = rows

    # --- output -------------------------------------------------------------

    def write(self, d: Path, seed: int) -> None:
        t0, n = self.t0, self.n
        end_ms = t0 + n * 1000
        manifest = {
            "vap_format": 1,
            "room": {"id": "sim2-room", "name": "sim2 独立模拟直播间", "platform": "douyin"},
            "session": {
                "id": f"sim2-{seed}",
                "start_ms": t0,
                "end_ms": end_ms,
                "timezone": "Asia/Shanghai",
                "title": f"sim2 session, seed {seed}",
            },
            "metrics": [
                {"name": "entries", "kind": "cumulative", "unit": "viewers"},
                {"name": "online_viewers", "kind": "gauge", "unit": "viewers"},
                {"name": "gmv", "kind": "cumulative", "unit": "yuan"},
            ],
        }
        (d / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")

        def table(name: str, header: list[str], rows: Any) -> None:
            with open(d / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh, lineterminator="\n")
                w.writerow(header)
                w.writerows(rows)

        table("anchors", ["id", "name"], self.anchors)
        shifts = [
            (self.anchors[w][0], "host", t0 + a * 1000, t0 + b * 1000) for a, b, w in self.blocks
        ]
        shifts += [
            (self.anchors[c][0], "co_host", t0 + a * 1000, t0 + b * 1000)
            for a, b, c in self.cohosts
        ]
        shifts.append((self.anchors[-1][0], "field_control", t0, end_ms))
        table("shifts", ["anchor_id", "role", "start_ms", "end_ms"], shifts)
        table(
            "products",
            ["id", "name", "price", "category", "aliases"],
            [
                (p["id"], p["name"], int(p["price"]), p["category"], p["link"])
                for p in self.products
            ],
        )
        segs = []
        for a, b, p in self.segments:
            pid = self.products[p]["id"]
            segs.append((pid, "explain", t0 + a * 1000, t0 + b * 1000))
            segs.append((pid, "pinned", t0 + a * 1000, t0 + b * 1000))
        segs += [(p["id"], "on_shelf", t0, end_ms) for p in self.products]
        table("segments", ["product_id", "kind", "start_ms", "end_ms"], segs)
        promos, k = [], 0
        for ev in self.events:
            if ev["kind"] == "flash_sale":
                k += 1
                pid = self.products[ev["product"]]["id"]
                promos.append(
                    (
                        f"fs{k}",
                        "flash_sale",
                        "秒杀",
                        pid,
                        t0 + ev["start"] * 1000,
                        t0 + ev["end"] * 1000,
                    )
                )
        for i, (a, b, _) in enumerate(self.coupons):
            promos.append((f"cp{i + 1}", "coupon", "满199减30", "", t0 + a * 1000, t0 + b * 1000))
        for i, (a, b) in enumerate(self.lucky):
            promos.append((f"lb{i + 1}", "lucky_bag", "福袋", "", t0 + a * 1000, t0 + b * 1000))
        table("promotions", ["id", "kind", "label", "product_id", "start_ms", "end_ms"], promos)
        table(
            "comments",
            ["ts_ms", "viewer_id", "text"],
            [(t0 + ts, v, text) for ts, v, text in self.comment_rows],
        )
        table(
            "orders",
            ["id", "ts_ms", "product_id", "quantity", "amount", "status", "viewer_id"],
            [
                (oid, t0 + ts, pid, q, int(a), st, v)
                for ts, oid, pid, q, a, st, v in self.order_rows
            ],
        )
        table(
            "utterances", ["start_ms", "end_ms", "text", "speaker", "confidence"], self.transcript
        )
        metrics = []
        cum = np.concatenate([[0], np.cumsum(self.entries)])
        for s in range(0, n + 1, 15):
            metrics.append(("entries", t0 + s * 1000, int(cum[s])))
        for s in range(0, n, 10):
            metrics.append(("online_viewers", t0 + s * 1000, int(self.online[s])))
        paid = sorted((ts, a) for ts, _, _, _, a, st, _ in self.order_rows if st == "paid")
        paid_ts = np.array([p[0] for p in paid], dtype=np.int64)
        paid_cum = np.concatenate([[0.0], np.cumsum([p[1] for p in paid])])
        for s in range(0, n + 1, 60):
            i = int(np.searchsorted(paid_ts, s * 1000, side="left"))
            metrics.append(("gmv", t0 + s * 1000, int(paid_cum[i])))
        table("metrics", ["metric", "ts_ms", "value"], metrics)

    def _parts(self, a: int, b: int) -> dict[str, float]:
        """The true parts of the excess of seconds [a, b) by vap's moment rule."""
        n = self.n
        ref = np.r_[max(0, a - 600) : a, b : min(n, b + 600)]
        comps = {"traffic": (self.online - self.e_ref) * self.c0 * self.m}
        comps["baseline"] = self.e_ref * self.c0 * self.m
        comps.update(self.contrib)
        return {k: float(v[a:b].sum() - (b - a) * v[ref].mean()) for k, v in comps.items()}

    def truth(self, seed: int) -> dict[str, Any]:
        t0 = self.t0

        def ms(s: float) -> int:
            return int(t0 + s * 1000)

        factors = []
        for k, e in self.effects.items():
            c = self.contrib[k]
            factors.append(
                {
                    "name": k,
                    "active_s": int((e != 0).sum()),
                    "mean_effect_when_on": float(e[e != 0].mean()) if (e != 0).any() else 0.0,
                    "gmv": float(c.sum()),
                }
            )
        mode = (3.0 - 1.0) * self.theta
        moments = []
        for ev in self.events:
            a, b = ev["start"], ev["end"]
            kind = ev["kind"]
            said = None
            if kind == "pitch_burst":
                said = (ms(a), ms(b))
                a, b = a + int(round(mode)), min(self.n, b + int(round(mode)))
            elif kind == "traffic_wave":
                b = min(self.n, b + 60)  # online is still up while the stock drains
            parts = self._parts(a, b)
            peak = kind != "stream_stall"
            ranked = {k: v for k, v in parts.items() if k != "baseline"}
            top = max(ranked, key=lambda k: abs(ranked[k]))  # as vap ranks parts
            cause = {
                "flash_sale": "promo:flash_sale",
                "pitch_burst": "speech:urgency",
                "traffic_wave": "traffic",
                "stream_stall": "traffic",
            }[kind]
            m = {
                "kind": kind,
                "start_ms": ms(a),
                "end_ms": ms(b),
                "peak": peak,
                "driver": "conversion" if cause != "traffic" else "traffic",
                "cause": cause,
                "true_parts": parts,
                "true_top": top,
            }
            if said:
                m["said_ms"] = said
            if kind == "flash_sale":
                m["product_id"] = self.products[ev["product"]]["id"]
                m["effect"] = ev["effect"]
                m["bought_wave"] = "wave" in ev
            if kind == "stream_stall":
                before = self.online[max(0, a - 60) : a].mean()
                during = self.online[a:b]
                m["online_before"] = float(before)
                m["online_min"] = float(during.min())
                m["online_mean"] = float(during.mean())
                m["entries_per_s"] = float(self.entries[a:b].mean())
                m["entries_per_s_before"] = float(self.entries[max(0, a - 60) : a].mean())
            moments.append(m)
        expected = float(self.expected_gmv.sum())
        baseline = float((self.e_ref * self.c0 * self.m).sum())
        traffic = float(((self.online - self.e_ref) * self.c0 * self.m).sum())
        return {
            "spec_version": SPEC_VERSION,
            "seed": seed,
            "hours": self.hours,
            "start_ms": t0,
            "end_ms": ms(self.n),
            "rule": "log-share",
            "clock_offset_ms": self.offset_ms,
            "base_conversion": self.c0,
            "reference_anchor": self.anchors[self.reference][0],
            "anchor_ids": [a for a, _ in self.anchors],
            "host_multipliers": {a: m for (a, _), m in zip(self.anchors, self.host_mult)},
            "urgency": {"kappa": self.kappa_u, "gamma_shape": 3.0, "gamma_scale_s": self.theta},
            "price": {"kappa": self.kappa_p, "half_life_s": 40.0},
            "answers_effect": self.e_answer,
            "answers_hold_s": self.answer_hold_s,
            "e_ref": self.e_ref,
            "expected_gmv": expected,
            "baseline_gmv": baseline,
            "traffic_gmv": traffic,
            "factors": factors,
            "moments": moments,
            "waves": [
                {**w, "start_ms": ms(w["start"]), "end_ms": ms(w["end"])} for w in self.waves
            ],
            "answers": self.answer_log,
            "phrases_said": {k: len(v) for k, v in self.phrase_times.items()},
        }

    def series(self) -> dict[str, Any]:
        return {
            "online": self.online,
            "entries": self.entries,
            "expected_gmv": self.expected_gmv,
            "expected_orders": self.expected_orders,
            "base0": self.base0,
            "m": self.m,
            "host": self.host,
            "effects": self.effects,
            "contributions": self.contrib,
            "urgency_said": self.urgency_said,
            "price_said": self.price_said,
        }
