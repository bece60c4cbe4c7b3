"""Live sessions from Python: a simulated session replayed as if live equals
the batch computation (and pandas' own binning of its orders and comments),
alerts reach callbacks and async iterators, events come as dicts or
DataFrames with datetimes, a capture log is followed as it is written, and
bad events are refused whole."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import pathlib

import numpy as np
import pandas as pd
import polars as pl
import pytest

import vap


@pytest.fixture(scope="module")
def room() -> vap.SimRoom:
    return vap.simulate(seed=31, hours=1.0)


@pytest.fixture(scope="module")
def replayed(room: vap.SimRoom) -> vap.LiveSession:
    updates = list(vap.replay_live(room.data, every="2s", horizon=None))
    assert updates and all(u.refused_late == 0 for u, _ in updates)
    return updates[-1][1]


def _header(room: vap.SimRoom) -> vap.Session:
    return room.data


def test_replayed_as_live_equals_the_batch_timeline_and_pandas(
    room: vap.SimRoom, replayed: vap.LiveSession
) -> None:
    live_tl = replayed.timeline().to_pandas()
    data = replayed.data()
    batch = vap.attribution_timeline([data], step=replayed.step_ms, per_product=True).to_pandas()
    assert sorted(live_tl.columns) == sorted(batch.columns)
    assert (live_tl.index == batch.index).all()
    for c in batch.columns:
        np.testing.assert_array_equal(live_tl[c].to_numpy(), batch[c].to_numpy(), err_msg=c)
    # pandas bins the session's own orders and comments the same way
    step = f"{replayed.step_ms}ms"
    start = pd.Timestamp(room.data.session["start_ms"], unit="ms", tz="UTC")
    orders = room.data.to_pandas("orders")
    paid = orders[orders.status == "paid"].set_index("ts_ms")
    by_bin = paid.resample(step, origin=start, closed="left", label="left").size()
    got = live_tl["orders"]
    want = by_bin.reindex(got.index, fill_value=0)
    np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())
    comments = room.data.to_pandas("comments").set_index("ts_ms")
    cb = comments.resample(step, origin=start, closed="left", label="left").size()
    np.testing.assert_array_equal(
        live_tl["comments"].to_numpy(), cb.reindex(got.index, fill_value=0).to_numpy()
    )
    # the moments are the detector's on that timeline
    assert [m.start_ms for m in replayed.moments()] == [
        m.start_ms for m in data.moments(step=replayed.step_ms)
    ]


def test_alerts_reach_callbacks_and_async_iterators(room: vap.SimRoom) -> None:
    seen: list[vap.Alert] = []

    async def main() -> list[vap.Alert]:
        live = vap.LiveSession(room.data)
        live.on_alert(seen.append)
        stream = live.alert_stream()
        got: list[vap.Alert] = []

        async def consume() -> None:
            async for a in stream:
                got.append(a)

        task = asyncio.create_task(consume())
        for batch in vap.live_feed(room.data, every="30s"):
            await live.append_async(batch)
        live.close()
        await asyncio.wait_for(task, 10)
        assert live.alerts == seen
        return got

    got = asyncio.run(main())
    assert got == seen and len(seen) > 0
    assert {a.kind for a in seen} <= {
        "conversion_drop",
        "question_backlog",
        "explain_overrun",
        "viewers_after_anchor_change",
        "stream_silent",
        "moment",
    }
    a = seen[0]
    assert a.message and a.message_zh and a.at.tzinfo is not None


def test_a_question_backlog_lists_the_questions(room: vap.SimRoom) -> None:
    live = vap.LiveSession(room.data, alerts={"kinds": ["question_backlog"]})
    t0 = room.data.session["start_ms"]
    questions = ["多少钱", "有优惠券吗", "怎么买", "什么时候发货", "有没有小码"]
    # as a pandas DataFrame with datetimes
    df = pd.DataFrame(
        {
            "type": "comment",
            "ts": [pd.Timestamp(t0 + 60_000 + k * 10_000, unit="ms", tz="UTC") for k in range(5)],
            "text": questions,
            "viewer_id": [f"v{k}" for k in range(5)],
        }
    )
    live.append(df)
    u = live.advance(dt.datetime.fromtimestamp((t0 + 10 * 60_000) / 1000, tz=dt.timezone.utc))
    assert [a.kind for a in u.alerts] == ["question_backlog"]
    assert sorted(u.alerts[0].questions) == sorted(questions)
    # and as polars
    live2 = vap.LiveSession(room.data, alerts={"kinds": ["question_backlog"]})
    live2.append(pl.from_pandas(df))
    assert live2.advance(t0 + 10 * 60_000).alerts[0].questions == u.alerts[0].questions


def test_a_followed_capture_log(tmp_path: pathlib.Path, room: vap.SimRoom) -> None:
    path = tmp_path / "tiktok.jsonl"
    t0 = room.data.session["start_ms"]
    lines = [
        json.dumps(
            {
                "type": "CommentEvent",
                "data": {"comment": f"c{k}", "createTime": t0 + k * 1000, "msgId": k},
            }
        )
        for k in range(50)
    ]
    follower = vap.CaptureFollower(path)
    assert follower.poll() == []  # not written yet
    path.write_text("\n".join(lines[:20]) + "\n" + lines[20][:10])
    live = vap.LiveSession(room.data)
    u = live.follow(follower)
    assert u.accepted == 20 and follower.lines == 20
    with path.open("a") as f:
        f.write(lines[20][10:] + "\n" + "\n".join(lines[21:]) + "\n" + lines[3] + "\n")
    live.follow(follower)
    assert follower.repeats == 1
    tl = live.timeline().to_pandas()
    assert tl["comments"].sum() == 50


def test_bad_events_are_refused_whole(room: vap.SimRoom) -> None:
    live = vap.LiveSession(room.data)
    t0 = room.data.session["start_ms"]
    with pytest.raises(vap.ValidationError) as e:
        live.append(
            [
                {"type": "comment", "ts": t0, "text": "ok"},
                {"type": "sample", "metric": "nope", "ts": t0, "value": 1},
                {"type": "order", "ts": t0, "product": "p01", "amount": -5},
                {"type": "what"},
            ]
        )
    msg = str(e.value)
    assert "nope" in msg and "amount" in msg and "what" in msg, msg
    assert live.watermark_ms is None
    with pytest.raises(vap.InvalidArgumentError, match="lateness"):
        vap.LiveSession(room.data, lateness="soon")
    assert vap.option_defaults("live")["alerts"]["backlog"] == 5
