"""Writes the importer test fixtures under tests/fixtures/imports/.

Usage: python3 scripts/import-fixtures.py [OUT_DIR]

Stdlib only, fully seeded (random.Random(7)): re-running writes identical
bytes. Every fixture describes one session of room "acme" (Douyin room id
7311111111111111111), 20:00-22:00 Asia/Shanghai on 2026-11-25 (the Douyin
Compass exports and the Douyin capture), plus a 30-minute TikTok session on
2026-11-26 19:00-19:30 UTC (the TikTokLive capture and TikTok Shop exports).
The files agree with each other where a real export would: the Compass
session row's 直播间成交金额 / 直播间成交订单数 equal the paid orders of
compass_orders.json, the trend's pay_amt equals those orders per minute, and
so on. See tests/fixtures/imports/README.md for what each file holds and the
messy parts it contains. Prints the totals a test can check.
"""

from __future__ import annotations

import csv
import json
import math
import random
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

# The session's local date. The brief that asked for these fixtures quoted
# epoch seconds 1764072000..1764079200, which are 2025-11-25 20:00-22:00
# +08:00; set YEAR = 2025 to get those instead of 2026's 1795608000.
YEAR = 2026
CST = timezone(timedelta(hours=8))
START = int(datetime(YEAR, 11, 25, 20, 0, tzinfo=CST).timestamp())
END = START + 2 * 3600
START_MS, END_MS = START * 1000, END * 1000
ROOM_ID = "7311111111111111111"
MINUTES = 120
# Density of the Douyin capture's chat, member, like and RoomUserSeq messages.
# 1.0 is the full session (~1,500 chats, ~2,000 members, a like every ~5 s, a
# RoomUserSeq every ~10 s: ~1.5 MB); 0.12 keeps the file under 200 KB.
DY_DENSITY = 1.0

# Douyin capture: the reconnect's silent window, and what is replayed after it.
CAP_GAP_START_MS = START_MS + 47 * 60_000  # 20:47:00
CAP_GAP_END_MS = START_MS + 51 * 60_000  # 20:51:00
CAP_REPLAY = 30
# Compass trend: three minutes missing for every index (21:35, 21:36, 21:37).
TREND_GAP = (95, 96, 97)

# TikTok session.
TT_START = int(datetime(YEAR, 11, 26, 19, 0, tzinfo=timezone.utc).timestamp())
TT_END = TT_START + 30 * 60
TT_START_MS, TT_END_MS = TT_START * 1000, TT_END * 1000
TT_GAP_START_MS = TT_START_MS + 14 * 60_000  # 19:14:00
TT_GAP_END_MS = TT_START_MS + 16 * 60_000  # 19:16:00
TT_ROOM_ID = "7441234567890123456"

CENT = Decimal("0.01")
RATIO = Decimal("0.0001")

rng = random.Random(7)


def jd(v: object) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def dump_rowwise(obj: object) -> str:
    """Compact JSON, but every list of objects gets one object per line."""
    if isinstance(obj, dict):
        return "{" + ",".join(f"{jd(k)}:{dump_rowwise(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj):
        return "[\n" + ",\n".join(dump_rowwise(x) for x in obj) + "\n]"
    return jd(obj)


def yuan(cents: int) -> float:
    return round(cents / 100, 2)


def dec(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def ratio(num: float, den: float) -> Decimal:
    return (Decimal(num) / Decimal(den)).quantize(RATIO) if den else Decimal("0.0000")


def pct(num: float, den: float) -> str:
    return f"{num / den * 100:.1f}%" if den else "0.0%"


def wan(v: float, digits: int = 1) -> str:
    return f"{v / 10000:.{digits}f}万"


def local(ts: int, fmt: str = "%Y/%m/%d %H:%M:%S") -> str:
    return datetime.fromtimestamp(ts, CST).strftime(fmt)


class Ids:
    """Unique random decimal ids of a fixed width and prefix."""

    def __init__(self) -> None:
        self.used: set[int] = set()

    def new(self, prefix: str, width: int) -> int:
        while True:
            tail = rng.randrange(10 ** (width - len(prefix)))
            v = int(prefix + str(tail).zfill(width - len(prefix)))
            if v not in self.used:
                self.used.add(v)
                return v


ids = Ids()

# --------------------------------------------------------------------------
# People and products
# --------------------------------------------------------------------------

NICK_HEAD = ["小", "大", "阿", "快乐的", "爱吃", "不吃", "想吃", "追光的", "安静的", "甜甜的"]
NICK_HEAD += ["路过的", "温柔的", "努力的", "早睡的", "会飞的", "一只", "胖胖的", "酷酷的"]
NICK_BODY = ["猫咪", "橘子", "土豆", "鱼", "兔子", "星星", "柠檬", "豆包", "月亮", "小熊"]
NICK_BODY += ["芒果", "奶茶", "西瓜", "云朵", "饺子", "汤圆", "可乐", "布丁", "花卷", "木木"]
NICK_TAIL = ["", "", "", "", "", "🌸", "123", "呀", "_", "0520", "酱", "🍀", "66", "✨", "哒"]


def nick() -> str:
    return rng.choice(NICK_HEAD) + rng.choice(NICK_BODY) + rng.choice(NICK_TAIL)


def dy_user() -> dict:
    return {"id": str(ids.new("", rng.choice((11, 11, 11, 19)))), "shortId": str(ids.new("", 10))}


DY_USERS = []
for _ in range(2600):
    u = dy_user()
    u["nickName"] = nick()
    DY_USERS.append(u)
DY_CHATTERS = DY_USERS[:650]

PRODUCTS = [
    ("ACME 羊绒混纺高领毛衣 女 冬季加厚", 19900),
    ("ACME 加绒阔腿牛仔裤 高腰显瘦", 12900),
    ("ACME 轻薄羽绒服 短款 90白鸭绒", 39900),
    ("ACME 珊瑚绒家居服套装 两件套", 8990),
    ("ACME 保暖中筒袜 5双装", 2990),
    ("ACME 羊毛围巾 纯色百搭", 6900),
    ("ACME 德绒打底衫 女 修身", 5990),
    ("ACME 毛呢半身裙 A字 中长款", 15900),
    ("ACME 雪地靴 加厚防滑", 23900),
    ("ACME 针织开衫 慵懒风", 14900),
    ("ACME 护手霜礼盒 3支装", 4990),
    ("【直播间专享】ACME 福袋", 990),
]
PRODUCT_IDS = [str(ids.new("3612", 19)) for _ in PRODUCTS]
# (cart index 1-based, product number) explained in turn.
EXPLAIN_ORDER = [0, 2, 1, 6, 8, 3, 9, 7]

# --------------------------------------------------------------------------
# The Douyin session's truth, minute by minute
# --------------------------------------------------------------------------

# Explain segments: about 13 minutes each, short pauses between, none of the
# boundaries inside the capture's silent window.
segments: list[tuple[str, int, int, int]] = []  # (promotion id, cart index, start s, end s)
t = START + 95
for k, p in enumerate(EXPLAIN_ORDER):
    dur = rng.randint(11 * 60, 14 * 60)
    a, b = t, t + dur
    for edge in (a, b):
        assert not (CAP_GAP_START_MS <= edge * 1000 < CAP_GAP_END_MS)
    segments.append((PRODUCT_IDS[p], p + 1, a, b))
    t = b + rng.randint(40, 100)
    if k == len(EXPLAIN_ORDER) - 1:
        assert b < END - 60


def explaining(ts: int) -> int | None:
    for _, cart, a, b in segments:
        if a <= ts < b:
            return cart - 1
    return None


# Online users (gauge) at each minute start, m = 0..120.
online: list[int] = []
walk = 0.0
for m in range(MINUTES + 1):
    walk += rng.gauss(0, 35)
    walk *= 0.9
    base = 850 + 1500 * math.sin(math.pi * min(m, 119) / 120) ** 0.7
    base += 450 * math.exp(-(((m - 38) / 7) ** 2)) + 350 * math.exp(-(((m - 82) / 6) ** 2))
    online.append(int(max(800, min(3000, base + walk))))
watch = []  # viewers entering during minute m
leave = []
for m in range(MINUTES):
    d = online[m + 1] - online[m]
    w = int(online[m] * rng.uniform(0.11, 0.17)) + max(0, d)
    watch.append(w)
    leave.append(w - d)
mean_online = sum(online[:MINUTES]) / MINUTES
chats_per_min = [
    max(1, round(DY_DENSITY * (12.9 * online[m] / mean_online + rng.gauss(0, 2.5))))
    for m in range(MINUTES)
]
members_per_min = [
    max(1, round(DY_DENSITY * (17 * online[m] / mean_online + rng.gauss(0, 3))))
    for m in range(MINUTES)
]
follows_per_min = [rng.choice((0, 0, 1, 1, 1, 1, 2, 2, 3)) for _ in range(MINUTES)]
stat_cost = [rng.randint(1500, 6500) for _ in range(MINUTES)]  # cents per minute
per_capita = [rng.randint(48, 150) for _ in range(MINUTES)]


def online_at(ts_ms: int) -> int:
    x = (ts_ms - START_MS) / 60_000
    m = min(int(x), MINUTES - 1)
    return round(online[m] + (online[m + 1] - online[m]) * (x - m))


PV0 = online[0]


def pv_at(ts_ms: int) -> int:
    x = (ts_ms - START_MS) / 60_000
    m = min(int(x), MINUTES - 1)
    return PV0 + sum(watch[:m]) + round(watch[m] * (x - m))


# --------------------------------------------------------------------------
# compass_orders.json
# --------------------------------------------------------------------------

BUYERS = [nick() for _ in range(240)]
orders = []  # dict(order fields) + private "_buyer"
for m in range(MINUTES):
    if m in TREND_GAP:
        continue  # no orders there, so the trend's pay_amt still sums to the orders
    mid = START + m * 60 + 30
    hot = explaining(mid)
    lam = 2.2 * online[m] / mean_online * (1.25 if hot is not None else 0.6)
    n = sum(1 for _ in range(8) if rng.random() < lam / 8)
    for _ in range(n):
        ts = START + m * 60 + rng.randrange(60)
        cur = explaining(ts)
        if cur is not None and rng.random() < 0.65:
            p = cur
        else:
            p = rng.choices(range(len(PRODUCTS)), weights=(5, 4, 2, 4, 6, 3, 5, 2, 2, 3, 4, 8))[0]
        num = rng.choices((1, 2, 3), weights=(85, 12, 3))[0]
        buyer = rng.randrange(len(BUYERS)) if rng.random() < 0.85 else rng.randrange(30)
        orders.append(
            {
                "item_num": num,
                "nick_name": BUYERS[buyer][0] + "***",
                "order_id": str(ids.new("4923", 19)),
                "order_status": 0 if rng.random() < 0.1 else 3,
                "order_ts": ts,
                "product_id": PRODUCT_IDS[p],
                "product_title": PRODUCTS[p][0],
                "pay_amount": yuan(PRODUCTS[p][1] * num),
                "_cents": PRODUCTS[p][1] * num,
                "_buyer": buyer,
            }
        )
orders.sort(key=lambda o: (o["order_ts"], o["order_id"]))
paid = [o for o in orders if o["order_status"] == 3]
paid_cents = sum(o["_cents"] for o in paid)
stream = [{k: v for k, v in o.items() if not k.startswith("_")} for o in orders]
dup_at = sorted(rng.sample(range(len(stream) - 5), 20), reverse=True)
for i in dup_at:  # an overlapping poll returns the same item again a little later
    stream.insert(i + 2 + rng.randrange(3), dict(stream[i]))
pay_amt_min = [0] * MINUTES
pay_cnt_min = [0] * MINUTES
pay_buyers_min: list[set[int]] = [set() for _ in range(MINUTES)]
for o in paid:
    m = (o["order_ts"] - START) // 60
    pay_amt_min[m] += o["_cents"]
    pay_cnt_min[m] += 1
    pay_buyers_min[m].add(o["_buyer"])

# --------------------------------------------------------------------------
# compass_trend.json / compass_trend_grouped.json
# --------------------------------------------------------------------------

clicks_rate = [rng.uniform(0.07, 0.17) for _ in range(MINUTES)]
INDICES = [
    ("online_user_cnt", "实时在线人数", lambda m: online[m]),
    ("watch_ucnt", "进入直播间人数", lambda m: watch[m]),
    ("leave_ucnt", "离开直播间人数", lambda m: leave[m]),
    ("stat_cost", "投放消耗", lambda m: yuan(stat_cost[m])),
    ("comment_cnt", "评论次数", lambda m: chats_per_min[m]),
    ("incr_fans_cnt", "新增粉丝数", lambda m: follows_per_min[m]),
    ("pay_ucnt", "成交人数", lambda m: len(pay_buyers_min[m])),
    ("pay_cnt", "成交订单数", lambda m: pay_cnt_min[m]),
    ("pay_amt", "成交金额", lambda m: yuan(pay_amt_min[m])),
    ("gpm", "千次观看成交金额", lambda m: round(pay_amt_min[m] / 100 / watch[m] * 1000, 2)),
    ("viewing_click_rate", "商品点击率", lambda m: round(clicks_rate[m], 4)),
    (
        "click_transaction_rate",
        "商品点击-成交率",
        lambda m: round(pay_cnt_min[m] / max(1, round(watch[m] * clicks_rate[m])), 4),
    ),
    ("per_capita_viewing_time", "人均观看时长", lambda m: per_capita[m]),
]
groups = []
flat = []
top_pay = sorted(range(MINUTES), key=lambda m: -pay_amt_min[m])[:2]
for name, label, value in INDICES:
    pts = []
    for m in range(MINUTES):
        if m in TREND_GAP:
            continue
        ts = START + m * 60
        v: object = value(m)
        if name == "online_user_cnt" and m in (12, 40, 77) and online[m] >= 1000:
            v = f"{online[m]:,}"
        if name == "pay_amt" and m in top_pay:
            v = f"{pay_amt_min[m] / 100:,.2f}"
        horizontal: object = str(ts) if rng.random() < 0.08 else ts
        pts.append(
            {"point_name": name, "display_name": label, "horizontal": horizontal, "vertical": v}
        )
        if name == "pay_amt" and m == top_pay[-1]:
            pts.append(dict(pts[-1]))  # the duplicated point
    flat.extend(pts)
    groups.append(
        {
            "index": name,
            "trend": [
                {
                    "horizontal": p["horizontal"],
                    "vertical": p["vertical"],
                    "point_name": name,
                    "display_name": label,
                }
                for p in pts
            ],
        }
    )
TREND_DUP_MINUTE = top_pay[-1]

# --------------------------------------------------------------------------
# douyin_capture.jsonl
# --------------------------------------------------------------------------

Q_TEXT = ["这个多少钱", "有没有小码", "有没有大码", "160能穿吗", "什么时候发货", "能便宜点吗"]
Q_TEXT += ["链接在哪", "有优惠券吗", "包邮吗", "起球吗", "有黑色吗", "主播身高多少", "怎么拍不了"]
Q_TEXT += ["{n}号链接多少钱", "{n}号还有货吗", "{n}号有没有小码", "偏大还是偏小", "会掉色吗"]
A_TEXT = ["已拍", "拍了拍了", "买过，质量不错", "回购第三次了", "刚下单", "上次买的很暖和"]
A_TEXT += ["m码刚好", "平时穿s拍的s", "已付款等发货", "拍了两件"]
P_TEXT = ["好看", "主播好美", "太划算了", "冲冲冲", "已下单💕", "好喜欢这个颜色", "好看好看"]
P_TEXT += ["👍👍👍", "❤️❤️", "🔥🔥🔥", "[比心]", "[赞]", "666", "来了来了", "主播晚上好", "😍"]


def chat_text(ts: int) -> str:
    r = rng.random()
    if r < 0.42:
        s = rng.choice(Q_TEXT)
        cur = explaining(ts)
        return s.replace("{n}", str((cur if cur is not None else rng.randrange(12)) + 1))
    if r < 0.6:
        return rng.choice(A_TEXT)
    return rng.choice(P_TEXT)


GIFTS = [("463", "小心心", 1), ("685", "玫瑰", 1), ("3978", "人气票", 1), ("4213", "加油鸭", 15)]
GIFTS += [("3389", "Thuglife", 99), ("1780", "礼花筒", 199)]

events: list[tuple[int, int, dict]] = []  # (ts ms, order, line)


def msg(method: str, ts_ms: int, **fields: object) -> None:
    common = {"method": method, "msgId": str(ids.new("7", 19)), "roomId": ROOM_ID}
    common["createTime"] = str(ts_ms)
    events.append((ts_ms, len(events), {"method": method, "common": common, **fields}))


for m in range(MINUTES):
    t0 = START_MS + m * 60_000
    for _ in range(chats_per_min[m]):
        ts = t0 + rng.randrange(60_000)
        u = rng.choice(DY_CHATTERS)
        msg(
            "WebcastChatMessage",
            ts,
            user=u,
            content=chat_text(ts // 1000),
            eventTime=str(ts // 1000),
        )
    for _ in range(members_per_min[m]):
        ts = t0 + rng.randrange(60_000)
        u = rng.choice(DY_USERS)
        msg("WebcastMemberMessage", ts, user=u, memberCount=str(online_at(ts)))
    fans = 128_400 + sum(follows_per_min[:m])
    for k in range(follows_per_min[m]):
        ts = t0 + rng.randrange(60_000)
        u = rng.choice(DY_USERS)
        msg("WebcastSocialMessage", ts, user=u, action="1", followCount=str(fans + k + 1))
    if rng.random() < 0.35:
        ts = t0 + rng.randrange(60_000)
        gid, gname, diamonds = rng.choice(GIFTS)
        u = rng.choice(DY_CHATTERS)
        rep = str(rng.choice((1, 1, 1, 2, 5, 10)))
        gift = {"name": gname, "diamondCount": diamonds}
        msg("WebcastGiftMessage", ts, giftId=gid, repeatCount=rep, user=u, gift=gift)

likes_total = 4_800
ts = START_MS + rng.randrange(5000)
while ts < END_MS - 500:
    c = rng.randint(1, 30)
    likes_total += c
    msg("WebcastLikeMessage", ts, count=str(c), total=str(likes_total))
    ts += round(rng.randint(3000, 7000) / DY_DENSITY)
ts = START_MS + rng.randrange(10_000)
while ts < END_MS - 500:
    pv = pv_at(ts)
    pv_s = wan(pv) if pv >= 10_000 and rng.random() < 0.5 else str(pv)
    tot = str(online_at(ts) + rng.randint(-15, 15))
    msg(
        "WebcastRoomUserSeqMessage",
        ts,
        total=tot,
        totalUser=str(round(pv * 0.82)),
        totalPvForAnchor=pv_s,
    )
    ts += round(rng.randint(8500, 11500) / DY_DENSITY)
for pid, cart, a, b in segments:
    start_info = [{"promotionId": pid, "index": str(cart), "explainType": 1}]
    msg(
        "WebcastProductChangeMessage",
        a * 1000,
        updateTimestamp=str(a),
        updateProductInfoList=start_info,
    )
    stop_info = [{"promotionId": pid, "index": str(cart)}]
    msg(
        "WebcastProductChangeMessage",
        b * 1000,
        updateTimestamp=str(b),
        updateProductInfoList=stop_info,
    )
    msg(
        "WebcastLiveShoppingMessage", a * 1000 + rng.randint(2000, 6000), msgType=1, promotionId=pid
    )
    mid = (a + b) // 2
    msg("WebcastLiveShoppingMessage", mid * 1000 + rng.randrange(1000), msgType=2, promotionId=pid)

unknown_at = [START_MS + s * 1000 + rng.randrange(1000) for s in (900, 2400, 3900, 5400, 6600)]
u = DY_USERS[7]
msg("WebcastRoomRankMessage", unknown_at[0], ranksList=[{"user": u, "scoreStr": "1.2万"}])
msg(
    "WebcastFansclubMessage", unknown_at[1], type=2, content=f"{u['nickName']} 加入了粉丝团", user=u
)
msg("WebcastRoomStatsMessage", unknown_at[2], displayLong="2.1万人看过", displayValue="21034")
msg("WebcastEmojiChatMessage", unknown_at[3], user=u, emojiId="1002", defaultContent="[比心]")
msg("WebcastRoomStreamAdaptationMessage", unknown_at[4], adaptationType=1)
msg("WebcastControlMessage", END_MS, status=3)

events.sort(key=lambda e: (e[0], e[1]))
kept = [e for e in events if not (CAP_GAP_START_MS <= e[0] < CAP_GAP_END_MS)]
lost = [e for e in events if CAP_GAP_START_MS <= e[0] < CAP_GAP_END_MS]
before = [e for e in kept if e[0] < CAP_GAP_START_MS]
after = [e for e in kept if e[0] >= CAP_GAP_END_MS]
replay = before[-CAP_REPLAY:]
day = local(START, "%Y-%m-%d")
LOG_BEFORE = [(START_MS + (13 * 60 + 2) * 1000, f"{day} 20:13:02 INFO reconnecting...")]
lines: list[str] = []
log_i = 0
for e in before:
    while log_i < len(LOG_BEFORE) and LOG_BEFORE[log_i][0] <= e[0]:
        lines.append(LOG_BEFORE[log_i][1])
        log_i += 1
    lines.append(jd(e[2]))
lines.append(f"{day} 20:47:00 WARNING websocket closed (1006), retrying in 240s")
lines.append(f"{day} 20:51:00 INFO reconnected, server replays recent history")
lines.extend(jd(e[2]) for e in replay)
blank_at = None
for e in after:
    if blank_at is None and e[0] >= START_MS + 80 * 60_000:
        lines.append("")
        blank_at = e[0]
    lines.append(jd(e[2]))

# --------------------------------------------------------------------------
# The TikTok session
# --------------------------------------------------------------------------

TT_USERS = []
for i in range(420):
    handle = rng.choice(("acme", "user", "lily", "momo", "xiaoyu", "tt", "bao")) + str(
        rng.randrange(10, 99999)
    )
    TT_USERS.append(
        (
            ids.new(rng.choice(("68", "69", "70", "71")), 19),
            handle + ("_" if i % 7 == 0 else ""),
            nick(),
        )
    )
TT_PRODUCTS = [
    ("ACME 羊绒混纺高领毛衣", 3999),
    ("ACME 轻薄羽绒服", 6999),
    ("ACME 保暖袜 5双装", 999),
]
TT_PRODUCTS += [("ACME 德绒打底衫", 1599)]
tt_events: list[tuple[int, int, str, dict]] = []  # (ts ms, order, type, data)
tt_viewers = []
w = 0.0
for k in range(61):  # gauge every 30 s
    w += rng.gauss(0, 12)
    tt_viewers.append(int(260 + 160 * math.sin(math.pi * k / 60) + w))


def tt_viewers_at(ts_ms: int) -> int:
    return tt_viewers[min(60, (ts_ms - TT_START_MS) // 30_000)]


def tt_user(style: str) -> dict:
    uid, handle, nk = rng.choice(TT_USERS)
    if style == "camel":
        return {"userId": str(uid), "uniqueId": handle, "nickname": nk}
    return {"user_id": uid, "unique_id": handle, "nickname": nk}


def tt_msg(etype: str, ts_ms: int, fields: dict[str, object]) -> None:
    """fields: name -> value; a name given as "camel|snake" picks one per line."""
    style = rng.choice(("camel", "snake"))
    mid = ids.new("7", 19)
    if style == "camel":
        data: dict = {"common": {"msgId": str(mid), "createTime": str(ts_ms), "roomId": TT_ROOM_ID}}
    else:
        data = {"common": {"msg_id": mid, "create_time": ts_ms, "room_id": int(TT_ROOM_ID)}}
    for key, v in fields.items():
        camel, _, snake = key.partition("|")
        if style == "camel" and isinstance(v, int) and v >= 10**15:
            v = str(v)  # 64-bit ints as strings, as betterproto's to_dict() writes them
        if v == "@user":
            v = tt_user(style)
        if isinstance(v, dict):
            v = {
                (kk.partition("|")[0] if style == "camel" else kk.partition("|")[2] or kk): (
                    str(vv) if style == "camel" and isinstance(vv, int) and vv >= 10**15 else vv
                )
                for kk, vv in v.items()
            }
            if v.get("user") == "@user":
                v["user"] = tt_user(style)
        data[camel if style == "camel" or not snake else snake] = v
    tt_events.append((ts_ms, len(tt_events), etype, data))


TT_COMMENTS = Q_TEXT + A_TEXT + P_TEXT + ["how much?", "链接挂一下", "美国能发吗", "有优惠码吗"]
TT_QUESTIONS = [
    "羽绒服有没有小码？",
    "毛衣是纯羊绒吗？",
    "运费多少？",
    "多久能到？",
    "可以退换吗？",
]
TT_QUESTIONS += ["有没有黑色的打底衫？"]
for s in range(0, 1800, 4):  # ~ one comment per 4 s, in bursts
    n = rng.choices((0, 1, 1, 1, 2), weights=(3, 5, 5, 5, 2))[0]
    for _ in range(n):
        ts = TT_START_MS + (s + rng.random() * 4) * 1000
        tt_msg(
            "CommentEvent",
            int(ts),
            {"user": "@user", "comment": rng.choice(TT_COMMENTS).replace("{n}", "2")},
        )
for _ in range(100):
    ts = TT_START_MS + rng.randrange(1_800_000)
    tt_msg("JoinEvent", ts, {"user": "@user", "memberCount|member_count": tt_viewers_at(ts)})
tt_likes = 1_200
ts = TT_START_MS + rng.randrange(20_000)
while ts < TT_END_MS - 1000:
    c = rng.randint(1, 15)
    tt_likes += c
    tt_msg("LikeEvent", ts, {"user": "@user", "count": c, "total": tt_likes})
    ts += rng.randint(15_000, 25_000)
ts = TT_START_MS + rng.randrange(5_000)
tt_total_user = 300
while ts < TT_END_MS - 1000:
    tt_total_user += rng.randint(40, 110)
    tt_msg(
        "RoomUserSeqEvent",
        ts,
        {"viewerCount|viewer_count": tt_viewers_at(ts), "totalUser|total_user": tt_total_user},
    )
    ts += rng.randint(27_000, 33_000)
tt_follows = 0
for _ in range(24):
    ts = TT_START_MS + rng.randrange(1_800_000)
    tt_follows += 1
    tt_msg(
        "FollowEvent",
        ts,
        {"user": "@user", "action": 1, "followCount|follow_count": 5210 + tt_follows},
    )
for _ in range(9):
    ts = TT_START_MS + rng.randrange(1_800_000)
    tt_msg("ShareEvent", ts, {"user": "@user", "action": 3})
TT_GIFTS = [(5655, "Rose", 1), (5269, "TikTok", 1), (6064, "GG", 1), (5879, "Doughnut", 30)]
for _ in range(14):
    ts = TT_START_MS + rng.randrange(1_800_000)
    gid, gname, dia = rng.choice(TT_GIFTS)
    fields = {
        "user": "@user",
        "giftId|gift_id": gid,
        "repeatCount|repeat_count": rng.choice((1, 1, 3, 5)),
    }
    fields["repeatEnd|repeat_end"] = 1
    fields["gift"] = {"name": gname, "diamondCount|diamond_count": dia}
    tt_msg("GiftEvent", ts, fields)
for q in TT_QUESTIONS:
    ts = TT_START_MS + rng.randrange(1_800_000)
    tt_msg(
        "QuestionNewEvent", ts, {"details": {"id": ids.new("73", 19), "text": q, "user": "@user"}}
    )
for k, (title, cents) in enumerate(TT_PRODUCTS):
    ts = TT_START_MS + (60 + k * 420 + rng.randrange(60)) * 1000
    shop = {
        "title": title,
        "priceString|price_string": f"${cents / 100:.2f}",
        "shopName|shop_name": "ACME Official",
    }
    tt_msg("OecLiveShoppingEvent", ts, {"shopData|shop_data": shop})
tt_msg("LiveEndEvent", TT_END_MS, {"action": 3})

tt_events.sort(key=lambda e: (e[0], e[1]))
tt_kept = [e for e in tt_events if not (TT_GAP_START_MS <= e[0] < TT_GAP_END_MS)]
tt_lines = [jd({"type": e[2], "data": e[3]}) for e in tt_kept]
comment_idx = [i for i, e in enumerate(tt_kept) if e[2] == "CommentEvent"]
tt_dup_src = sorted(rng.sample(comment_idx[:-10], 10), reverse=True)
for i in tt_dup_src:
    tt_lines.insert(i + 2 + rng.randrange(4), tt_lines[i])
tt_comments_truth = sum(1 for e in tt_events if e[2] == "CommentEvent")
tt_comments_kept = sum(1 for e in tt_kept if e[2] == "CommentEvent")

# TikTok Shop per-minute and per-session performance.
tt_minutes = []
for m in range(30):
    orders_m = rng.choices((0, 1, 2, 3, 4, 5), weights=(2, 4, 5, 4, 2, 1))[0]
    lines_m = [rng.choice(TT_PRODUCTS) for _ in range(orders_m)]
    items = [rng.choice((1, 1, 1, 2)) for _ in lines_m]
    gmv_c = sum(p[1] * n for p, n in zip(lines_m, items))
    viewers_m = tt_viewers[2 * m] + rng.randint(-20, 40)
    clicks = orders_m * rng.randint(6, 12) + rng.randint(5, 25)
    customers = orders_m - (1 if orders_m >= 3 and rng.random() < 0.4 else 0)
    tt_minutes.append(
        (TT_START + m * 60, gmv_c, viewers_m, clicks, orders_m, customers, sum(items))
    )
tt_gmv = sum(x[1] for x in tt_minutes)
tt_orders = sum(x[4] for x in tt_minutes)
tt_clicks = sum(x[3] for x in tt_minutes)
tt_impr = tt_clicks * 13 + 311
tt_follow_truth = sum(1 for e in tt_events if e[2] == "FollowEvent")

# --------------------------------------------------------------------------
# Compass session list (csv, utf-8 csv, xlsx) and traffic sources
# --------------------------------------------------------------------------

COLUMNS = [
    "直播开始时间",
    "直播结束时间",
    "直播时长(分钟)",
    "直播间曝光人数",
    "直播间曝光次数",
    "直播间观看人数",
    "直播间观看次数",
    "单小时观看人数",
    "最高在线人数",
    "平均在线人数",
    "人均观看时长(分钟)",
    "评论次数",
    "新增粉丝数",
    "取关粉丝数",
    "观看老粉占比",
    "直播间商品曝光人数",
    "直播间商品曝光次数",
    "直播间商品点击人数",
    "直播间商品点击次数",
    "直播间成交订单数",
    "直播间成交金额",
    "直播间用户支付金额",
    "单小时用户支付金额",
    "直播间成交件数",
    "直播间成交人数",
    "直播间退款订单数",
    "直播间退款金额",
    "直播间退款人数",
    "商品曝光-点击率(次数)",
    "商品曝光-点击率(人数)",
    "商品点击-成交率(次数)",
    "商品点击-成交率(人数)",
    "观看-成交率(次数)",
    "观看-成交率(人数)",
    "投放消耗(店铺绑定)",
    "投放消耗(店铺被投)",
    "净成交金额",
    "1小时退款率",
    "消费券引导支付金额",
]
EXTRA = ["直播间名称", "直播主题", "场观增长率", "自然流量占比"]


def session_row(day: int, s: dict) -> dict:
    """Derive a full row from a few base numbers; rates as Decimal ratios."""
    st = int(datetime(YEAR, 11, day, 20, 0, tzinfo=CST).timestamp())
    r = {
        "直播开始时间": local(st),
        "直播结束时间": local(st + 7200),
        "直播时长(分钟)": 120,
        "直播间曝光人数": s["exp_u"],
        "直播间曝光次数": s["exp_c"],
        "直播间观看人数": s["watch_u"],
        "直播间观看次数": s["watch_c"],
        "单小时观看人数": round(s["watch_u"] / 2),
        "最高在线人数": s["pcu"],
        "平均在线人数": s["acu"],
        "人均观看时长(分钟)": Decimal(s["avg_s"] / 60).quantize(CENT),
        "评论次数": s["comments"],
        "新增粉丝数": s["fans"],
        "取关粉丝数": s["unfollow"],
        "观看老粉占比": Decimal(s["old_fans"]).quantize(RATIO),
        "直播间商品曝光人数": s["pexp_u"],
        "直播间商品曝光次数": s["pexp_c"],
        "直播间商品点击人数": s["pclk_u"],
        "直播间商品点击次数": s["pclk_c"],
        "直播间成交订单数": s["orders"],
        "直播间成交金额": dec(s["gmv"]),
        "直播间用户支付金额": dec(s["user_paid"]),
        "单小时用户支付金额": dec(s["user_paid"] // 2),
        "直播间成交件数": s["items"],
        "直播间成交人数": s["buyers"],
        "直播间退款订单数": s["refund_n"],
        "直播间退款金额": dec(s["refund"]),
        "直播间退款人数": s["refund_u"],
        "商品曝光-点击率(次数)": ratio(s["pclk_c"], s["pexp_c"]),
        "商品曝光-点击率(人数)": ratio(s["pclk_u"], s["pexp_u"]),
        "商品点击-成交率(次数)": ratio(s["orders"], s["pclk_c"]),
        "商品点击-成交率(人数)": ratio(s["buyers"], s["pclk_u"]),
        "观看-成交率(次数)": ratio(s["orders"], s["watch_c"]),
        "观看-成交率(人数)": ratio(s["buyers"], s["watch_u"]),
        "投放消耗(店铺绑定)": dec(s["cost"]),
        "投放消耗(店铺被投)": dec(s["cost2"]),
        "净成交金额": dec(s["gmv"] - s["refund"]),
        "1小时退款率": ratio(s["refund"], s["gmv"]),
        "消费券引导支付金额": dec(s["coupon"]),
        "直播间名称": "ACME官方旗舰店",
        "直播主题": s["title"],
        "场观增长率": s["growth"],
        "自然流量占比": Decimal(s["natural"]).quantize(RATIO),
    }
    return r


fx_items = sum(o["item_num"] for o in paid)
fx_buyers = len({o["_buyer"] for o in paid})
refunded = [paid[i] for i in (5, 61, 140)]
final_pv = PV0 + sum(watch)
fx = {
    "exp_u": 156_000 + rng.randrange(1000),
    "exp_c": 312_000 + rng.randrange(1000),
    "watch_u": round(final_pv * 0.82),
    "watch_c": final_pv,
    "pcu": max(online[:MINUTES]),
    "acu": round(mean_online),
    "avg_s": sum(per_capita) / MINUTES,
    "comments": sum(chats_per_min),
    "fans": sum(follows_per_min),
    "unfollow": 9,
    "old_fans": 0.2315,
    "pexp_u": 21_480,
    "pexp_c": 46_210,
    "pclk_u": 3_015,
    "pclk_c": 4_968,
    "orders": len(paid),
    "gmv": paid_cents,
    "user_paid": paid_cents - 61_800,
    "items": fx_items,
    "buyers": fx_buyers,
    "refund_n": len(refunded),
    "refund": sum(o["_cents"] for o in refunded),
    "refund_u": len(refunded),
    "cost": sum(stat_cost),
    "cost2": 12_000,
    "coupon": 184_500,
    "title": "冬季上新 羊绒专场",
    "growth": "5.2%",
    "natural": 0.6231,
}


def other_session(title: str, scale: float) -> dict:
    s = {k: (round(v * scale) if isinstance(v, int) else v) for k, v in fx.items()}
    s["title"] = title
    s["growth"] = f"{rng.uniform(-8, 12):.1f}%"
    s["natural"] = rng.uniform(0.5, 0.7)
    s["old_fans"] = rng.uniform(0.18, 0.3)
    s["avg_s"] = fx["avg_s"] * rng.uniform(0.85, 1.1)
    return s


rows = [
    session_row(23, other_session("双11返场 毛衣专场", 0.83)),
    session_row(24, other_session("宠粉夜 羽绒服秒杀", 1.12)),
    session_row(25, fx),
]
# Messy cells. Row 0 (11/23): 万 and thousands separators, one "-".
rows[0]["直播间曝光人数"] = wan(rows[0]["直播间曝光人数"])
rows[0]["直播间曝光次数"] = f"{rows[0]['直播间曝光次数']:,}"
rows[0]["投放消耗(店铺被投)"] = "-"
rows[0]["直播间用户支付金额"] = f"{rows[0]['直播间用户支付金额']:,}"
# Row 1 (11/24): every rate as a "12.3%" string, a 万 and a thousands separator, one "-".
for col in COLUMNS:
    if "率" in col or col == "观看老粉占比":
        v = rows[1][col]
        if isinstance(v, Decimal):
            rows[1][col] = f"{v * 100:.1f}%"
rows[1]["自然流量占比"] = f"{rows[1]['自然流量占比'] * 100:.1f}%"
rows[1]["1小时退款率"] = "-"
rows[1]["直播间观看次数"] = wan(rows[1]["直播间观看次数"])
rows[1]["直播间成交金额"] = f"{rows[1]['直播间成交金额']:,}"
# Row 2 (11/25, the fixture session): one 万, one thousands separator, one "-";
# 直播间成交金额 and 直播间成交订单数 stay plain.
rows[2]["直播间曝光人数"] = wan(rows[2]["直播间曝光人数"])
rows[2]["投放消耗(店铺绑定)"] = f"{rows[2]['投放消耗(店铺绑定)']:,}"
rows[2]["消费券引导支付金额"] = "-"

HEADER = COLUMNS + EXTRA


def cell_text(v: object) -> str:
    return str(v)


def write_csvs(out: Path) -> None:
    with open(out / "compass_sessions.csv", "w", encoding="gb18030", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(HEADER)
        for r in rows:
            wr.writerow([cell_text(r[c]) for c in HEADER])
    cols = [c for c in HEADER if c != "消费券引导支付金额"]
    with open(out / "compass_sessions_utf8.csv", "w", encoding="utf-8-sig", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(cols)
        for i, r in enumerate(rows):
            r = dict(r)
            if i == 1:
                st = int(datetime(YEAR, 11, 24, 20, 0, tzinfo=CST).timestamp())
                r["直播开始时间"] = local(st, "%Y年%m月%d日 %H:%M")
                r["直播结束时间"] = local(st + 7200, "%Y年%m月%d日 %H:%M")
            wr.writerow([cell_text(r[c]) for c in cols])


def col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        s = chr(65 + rem) + s
    return s


def excel_serial(text: str) -> str:
    dt = datetime.strptime(text, "%Y/%m/%d %H:%M:%S")
    days = (dt - datetime(1899, 12, 30)).total_seconds() / 86400
    return repr(days)


def write_xlsx(out: Path) -> None:
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg_rel = "http://schemas.openxmlformats.org/package/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    strings: list[str] = []
    index: dict[str, int] = {}

    def sst(s: str) -> int:
        if s not in index:
            index[s] = len(strings)
            strings.append(s)
        return index[s]

    refs = 0
    xml_rows = []
    for ri, values in enumerate([HEADER] + [[r[c] for c in HEADER] for r in rows], start=1):
        cells = []
        for ci, v in enumerate(values):
            ref = f"{col_letter(ci)}{ri}"
            time_col = ci < 2 and ri > 1
            if time_col and ri > 2:
                cells.append(f'<c r="{ref}" s="1"><v>{excel_serial(str(v))}</v></c>')
            elif isinstance(v, (int, Decimal)) and not time_col:
                cells.append(f'<c r="{ref}"><v>{v}</v></c>')
            else:
                refs += 1
                cells.append(f'<c r="{ref}" t="s"><v>{sst(str(v))}</v></c>')
        xml_rows.append(f'<row r="{ri}">' + "".join(cells) + "</row>")
    last = f"{col_letter(len(HEADER) - 1)}{len(rows) + 1}"
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    parts = {
        "[Content_Types].xml": (
            f'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{ct}.styles+xml"/>'
            f"</Types>"
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{pkg_rel}">'
            f'<Relationship Id="rId1" Type="{rel_ns}/officeDocument" Target="xl/workbook.xml"/>'
            f"</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{ns}" xmlns:r="{rel_ns}">'
            f'<sheets><sheet name="直播列表" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{pkg_rel}">'
            f'<Relationship Id="rId1" Type="{rel_ns}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel_ns}/sharedStrings" Target="sharedStrings.xml"/>'
            f'<Relationship Id="rId3" Type="{rel_ns}/styles" Target="styles.xml"/>'
            f"</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{ns}" xmlns:r="{rel_ns}"><dimension ref="A1:{last}"/>'
            f"<sheetData>{''.join(xml_rows)}</sheetData></worksheet>"
        ),
        "xl/sharedStrings.xml": (
            f'<sst xmlns="{ns}" count="{refs}" uniqueCount="{len(strings)}">'
            + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
            + "</sst>"
        ),
        # numFmtId 22 is the built-in "m/d/yy h:mm"; cellXfs[1] applies it.
        "xl/styles.xml": (
            f'<styleSheet xmlns="{ns}">'
            f'<fonts count="1"><font><sz val="11"/><name val="宋体"/><family val="2"/></font></fonts>'
            f'<fills count="2"><fill><patternFill patternType="none"/></fill>'
            f'<fill><patternFill patternType="gray125"/></fill></fills>'
            f'<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            f'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            f'<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            f"</cellXfs>"
            f'<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            f"</styleSheet>"
        ),
    }
    with zipfile.ZipFile(out / "compass_sessions.xlsx", "w") as z:
        for name, body in parts.items():
            info = zipfile.ZipInfo(name, date_time=(YEAR, 11, 26, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, head + body)


NATURAL = ["推荐feed", "直播广场", "同城", "其他推荐场景", "关注", "搜索", "短视频引流"]
NATURAL += ["个人主页&店铺&橱窗", "抖音商城推荐", "活动页", "头条西瓜", "其他"]
PAID = ["千川PC版", "小店随心推", "品牌广告", "千川品牌广告", "其他广告"]
OMNI = ["推荐feed", "搜索"]


def traffic() -> dict:
    plan = [("自然流量", c) for c in NATURAL] + [("付费流量", c) for c in PAID]
    plan += [("全域推广", c) for c in OMNI]
    weights = [rng.uniform(0.2, 1) * (6 if c == "推荐feed" else 1) for _, c in plan]
    # Split the paid orders over the leaf rows so orders and amounts add up exactly.
    shares: list[list[dict]] = [[] for _ in plan]
    for o in paid:
        shares[rng.choices(range(len(plan)), weights=weights)[0]].append(o)
    audience = [round(fx["watch_u"] * w / sum(weights)) for w in weights]
    leaf = []
    for (flow, name), aud, share in zip(plan, audience, shares):
        amount = yuan(sum(o["_cents"] for o in share))
        leaf.append(
            {
                "flowChannel": flow,
                "channelName": name,
                "audience": aud,
                "transactionOrderNumber": len(share),
                "dealAmount": amount,
            }
        )
    out = []
    for flow in ("自然流量", "付费流量", "全域推广"):
        kids = [x for x in leaf if x["flowChannel"] == flow]
        cents = sum(round(x["dealAmount"] * 100) for x in kids)
        total = {
            "flowChannel": flow,
            "channelName": "整体",
            "audience": sum(x["audience"] for x in kids),
            "transactionOrderNumber": sum(x["transactionOrderNumber"] for x in kids),
            "dealAmount": wan(cents / 100, 2) if flow == "自然流量" else yuan(cents),
        }
        out.append(total)
        out.extend(kids)
    out.insert(
        0,
        {
            "flowChannel": "整体",
            "channelName": "整体",
            "audience": sum(x["audience"] for x in leaf),
            "transactionOrderNumber": len(paid),
            "dealAmount": wan(paid_cents / 100, 2),
        },
    )
    return {"data": {"list": out}}


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


def main() -> int:
    out = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parent.parent / "tests/fixtures/imports"
    )
    out.mkdir(parents=True, exist_ok=True)
    write_csvs(out)
    write_xlsx(out)

    def put(name: str, text: str) -> None:
        (out / name).write_text(text, encoding="utf-8", newline="\n")

    put("compass_trend.json", dump_rowwise({"st": 0, "msg": "", "data": {"trends": flat}}) + "\n")
    put("compass_trend_grouped.json", dump_rowwise({"data": {"trends": groups}}) + "\n")
    put("compass_orders.json", dump_rowwise({"data": {"live_order_stream": stream}}) + "\n")
    put("compass_traffic.json", dump_rowwise(traffic()) + "\n")
    put("douyin_capture.jsonl", "\n".join(lines) + "\n")
    put("tiktok_capture.jsonl", "\n".join(tt_lines) + "\n")
    stats = {
        "gmv": f"{tt_gmv / 100:,.2f}",
        "sku_orders": tt_orders,
        "customers": sum(x[5] for x in tt_minutes),
        "click_to_order_rate": pct(tt_orders, tt_clicks),
        "acu": round(sum(tt_viewers[:60]) / 60),
        "pcu": max(tt_viewers),
        "viewers": tt_total_user,
        "views": round(tt_total_user * 1.37),
        "avg_viewing_duration": 62,
        "comments": tt_comments_truth,
        "new_followers": tt_follow_truth,
        "product_impressions": tt_impr,
        "product_clicks": tt_clicks,
        "click_through_rate": pct(tt_clicks, tt_impr),
    }
    put(
        "tiktok_shop_session.json",
        json.dumps({"data": {"stats": stats}}, ensure_ascii=False, indent=2) + "\n",
    )
    iv1 = [
        {"timestamp": ts, "gmv": yuan(g), "viewers": v, "product_clicks": c, "orders": o}
        for ts, g, v, c, o, _, _ in tt_minutes
    ]
    iv2 = [
        {
            "timestamp": datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "gmv": f"{g / 100:.2f}",
            "viewers": v,
            "product_clicks": c,
            "sku_orders": o,
            "customers": cu,
            "items_sold": it,
        }
        for ts, g, v, c, o, cu, it in tt_minutes
    ]
    put("tiktok_shop_minutes.json", dump_rowwise({"data": {"intervals": iv1}}) + "\n")
    put("tiktok_shop_minutes_alt.json", dump_rowwise({"data": {"intervals": iv2}}) + "\n")

    report(out)
    return 0


def report(out: Path) -> None:
    def kind(e: tuple) -> str:
        return e[2]["method"]

    chats_kept = [e for e in kept if kind(e) == "WebcastChatMessage"]
    replay_chats = sum(1 for e in replay if kind(e) == "WebcastChatMessage")
    print(f"session {local(START)} .. {local(END)} +08:00 = {START} .. {END}")
    print("files:")
    for p in sorted(out.iterdir()):
        print(f"  {p.name:32} {p.stat().st_size:>9,} B")
    print("compass_orders.json:")
    print(
        f"  items {len(stream)}, distinct orders {len(orders)}, exact duplicate items {len(dup_at)}"
    )
    print(
        f"  paid (status 3) {len(paid)}, sum {paid_cents / 100:.2f}; placed-unpaid (status 0) {len(orders) - len(paid)}"
    )
    print(f"  paid items {fx_items}, distinct paid buyers (by generator) {fx_buyers}")
    print("compass_trend.json:")
    gap = ", ".join(local(START + m * 60, "%H:%M") for m in TREND_GAP)
    print(
        f"  points {len(flat)} = 13 x {MINUTES - len(TREND_GAP)} + 1 duplicate (pay_amt @ {local(START + TREND_DUP_MINUTE * 60, '%H:%M')})"
    )
    print(
        f"  missing minutes {gap}; stat_cost sum {sum(stat_cost) / 100:.2f}; comment_cnt sum {sum(chats_per_min)}"
    )
    print(f"  online max {max(online[:MINUTES])} mean {mean_online:.1f}")
    print("douyin_capture.jsonl:")
    print(
        f"  lines {len(lines)}; json messages {len(kept) + len(replay)} (distinct {len(kept)}, replayed duplicates {len(replay)})"
    )
    print(
        f"  chat: distinct {len(chats_kept)}, duplicates {replay_chats}, lost in gap {sum(1 for e in lost if kind(e) == 'WebcastChatMessage')}"
    )
    for name in (
        "WebcastMemberMessage",
        "WebcastLikeMessage",
        "WebcastRoomUserSeqMessage",
        "WebcastSocialMessage",
        "WebcastGiftMessage",
        "WebcastProductChangeMessage",
        "WebcastLiveShoppingMessage",
    ):
        print(
            f"  {name}: distinct {sum(1 for e in kept if kind(e) == name)}, replayed {sum(1 for e in replay if kind(e) == name)}"
        )
    print(
        f"  gap [{CAP_GAP_START_MS}, {CAP_GAP_END_MS}) ms; last before {before[-1][0]}, first after {after[0][0]}"
    )
    print(
        f"  blank line before the message at {blank_at}; final like total {likes_total}; final pv {final_pv}"
    )
    print("  explain segments (promotionId, cart index, start s, end s):")
    for pid, cart, a, b in segments:
        print(f"    {pid} {cart:>2} {a} {b}  ({local(a, '%H:%M:%S')}-{local(b, '%H:%M:%S')})")
    print("tiktok_capture.jsonl:")
    print(
        f"  lines {len(tt_lines)}; comments distinct {tt_comments_kept}, duplicate lines {len(tt_dup_src)}, truth {tt_comments_truth}"
    )
    print(f"  gap [{TT_GAP_START_MS}, {TT_GAP_END_MS}) ms")
    print(
        f"tiktok shop: gmv {tt_gmv / 100:.2f}, sku_orders {tt_orders}, product_clicks {tt_clicks}"
    )


if __name__ == "__main__":
    sys.exit(main())
