"""Live sessions (``vap_core::live``): the timeline, moments and a room
model's decomposition kept up to date as events arrive, alerts as they fire,
and a follower of capture logs being written.

The incremental rebuild, the moments, the alerts and their rules are the
core's; this module converts events in (dicts, DataFrames) and results out,
and delivers alerts to callbacks and async iterators.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from . import _options, _vap
from ._align import Timeline
from ._attribute import Decomposition, RoomModel
from ._detect import Moment, Moments

if TYPE_CHECKING:  # pragma: no cover
    from . import Session


@dataclass(frozen=True)
class AlertFactor:
    """A factor behind an alert: a model contribution that changed (``value``
    in the model target's units per minute), a stream that moved (``value``
    its relative change, -0.3: 30 % down), or what was on air
    (``explain:<product>``, ``host:<anchor>``, ``promotion:<id>``, no value)."""

    name: str
    value: float | None
    what: str


@dataclass(frozen=True)
class Alert:
    """An alert. ``kind``: ``conversion_drop``, ``question_backlog``,
    ``explain_overrun``, ``viewers_after_anchor_change``, ``stream_silent`` or
    ``moment``; ``at_ms`` when it fired (the watermark), ``start_ms`` /
    ``end_ms`` the span it is about; ``message`` (English) and ``message_zh``;
    ``questions`` a backlog's questions."""

    kind: str
    at_ms: int
    start_ms: int
    end_ms: int
    message: str
    message_zh: str
    metric: str | None = None
    product_id: str | None = None
    anchor_id: str | None = None
    factors: list[AlertFactor] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)

    @property
    def at(self) -> _dt.datetime:
        """When it fired, as a UTC ``datetime``."""
        return _dt.datetime.fromtimestamp(self.at_ms / 1000, tz=_dt.timezone.utc)

    @staticmethod
    def _of(d: Mapping[str, Any]) -> Alert:
        d = dict(d)
        d["factors"] = [AlertFactor(**f) for f in d.get("factors", [])]
        return Alert(**d)


@dataclass(frozen=True)
class LiveUpdate:
    """What one ``LiveSession.append`` changed: the watermark (newest time
    seen, ms), the bins, the first rebuilt bin, events taken and refused as
    later than the lateness allows, the moments new to the list, the alerts
    fired."""

    watermark_ms: int
    bins: int
    rebuilt_from_ms: int | None
    accepted: int
    refused_late: int
    new_moments: Moments
    alerts: list[Alert]

    @staticmethod
    def _of(text: str) -> LiveUpdate:
        d = json.loads(text)
        d["new_moments"] = Moments(Moment(**m) for m in d["new_moments"])
        d["alerts"] = [Alert._of(a) for a in d["alerts"]]
        return LiveUpdate(**d)


Events = Union[Mapping[str, Any], Sequence[Mapping[str, Any]], Any]


def _records(events: Events) -> list[Any]:
    """Events as a list of dicts: one dict, a sequence of them, or a pandas /
    polars DataFrame with a ``type`` column (missing cells left out)."""
    if isinstance(events, Mapping):
        return [dict(events)]
    to_dicts = getattr(events, "to_dicts", None)  # polars
    if callable(to_dicts):
        rows = to_dicts()
    elif hasattr(events, "to_dict") and hasattr(events, "columns"):  # pandas
        rows = events.to_dict(orient="records")
    else:
        rows = list(events)
    out = []
    for r in rows:
        row = {}
        for k, v in dict(r).items():
            if v is None or (isinstance(v, float) and v != v):
                continue
            if hasattr(v, "to_pydatetime"):  # pandas.Timestamp
                v = v.to_pydatetime()
            row[k] = v
        out.append(row)
    return out


def _dumps(events: Events) -> str:
    try:
        return json.dumps(_options.jsonable(_records(events)), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise _vap.InvalidArgumentError(f"live events: {e}") from None


class CaptureFollower:
    """Follows a capture tool's JSON Lines log as it is written (``tail -f``):
    Douyin (``{"method": "WebcastChatMessage", ...}``) or TikTokLive
    (``{"type": "CommentEvent", "data": {...}}``). ``poll()`` returns the
    events of the lines appended since the last poll; a half-written line
    waits; a rotated log is read again from its start; repeated messages are
    dropped. Options: ``format`` (``"douyin"`` / ``"tiktok"``, default told
    from the first message), ``from_end``; ``vap.option_defaults("follow")``."""

    __slots__ = ("_inner",)

    def __init__(self, path: str | os.PathLike[str], **options: Any):
        self._inner = _vap.CaptureFollower(os.fspath(path), _options.dumps(options))

    def poll(self) -> list[dict[str, Any]]:
        """The events appended since the last poll (dicts with a ``type``)."""
        out: list[dict[str, Any]] = json.loads(self._inner.poll_json())
        return out

    @property
    def lines(self) -> int:
        """Complete lines read so far."""
        return self._inner.counts()[0]

    @property
    def skipped(self) -> int:
        """Lines skipped (not JSON, no time, a message vap does not read)."""
        return self._inner.counts()[1]

    @property
    def repeats(self) -> int:
        """Repeated messages dropped."""
        return self._inner.counts()[2]


class LiveSession:
    """A session kept up to date while the stream runs.

    Start it from the session's header (``session``: its room, start,
    products, anchors, declared metrics and run-sheet; its rows are not
    read) and append events as they arrive::

        live = vap.LiveSession(header, model=store.load_model(room, "m"))
        live.on_alert(lambda a: print(a.message_zh))
        live.append({"type": "comment", "ts": 1750000000000, "text": "多少钱"})

    Events are dicts with a ``type``: ``comment`` (``ts``, ``text``,
    ``viewer_id``), ``order`` (``ts``, ``product``, ``amount``, ``quantity``,
    ``status``), ``sample`` (``metric``, ``ts``, ``value``), ``utterance``
    (``start``, ``end``, ``text``), ``explain`` (``product``, ``start``,
    ``end`` when it ends), ``shift`` (``anchor``, ``role``, ``start``,
    ``end``), ``promotion`` (``id``, ``kind``, ``product``, ``start``,
    ``end``), ``tick`` (``ts``: time passing); times in ms, as ``datetime``s
    or ISO text. Out of order is fine within ``lateness``.

    Only the bins new events touch are rebuilt; the timeline, the moments and
    the decomposition equal the batch computation on the same events
    (``data()``). Options: ``step``, ``lateness``, ``horizon``,
    ``per_product``, and the nested ``detect`` (moment) and ``alerts`` sets;
    defaults: ``vap.option_defaults("live")``.
    """

    __slots__ = ("_inner", "_callbacks", "_streams", "_lock")

    def __init__(self, session: Session, model: RoomModel | None = None, **options: Any):
        self._inner = _vap.LiveSession(
            session._inner, _options.dumps(options), None if model is None else model._inner
        )
        self._callbacks: list[Callable[[Alert], Any]] = []
        self._streams: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Alert | None]]] = []
        self._lock = threading.Lock()

    # ------------------------------------------------------------ input

    def append(self, events: Events) -> LiveUpdate:
        """Takes events (a dict, a list of dicts, a DataFrame); returns what
        changed. Bad events are all reported at once (``ValidationError``)
        and none is taken; late ones are refused and counted."""
        return self._deliver(LiveUpdate._of(self._inner.append_json(_dumps(events))))

    async def append_async(self, events: Events) -> LiveUpdate:
        """``append`` on a worker thread, for asyncio code."""
        text = _dumps(events)
        out = await asyncio.to_thread(self._inner.append_json, text)
        return self._deliver(LiveUpdate._of(out))

    def advance(self, now: Any) -> LiveUpdate:
        """Moves the watermark to ``now`` (ms, a ``datetime``, ISO text)
        without events, so that silences and overruns are noticed when
        nothing arrives."""
        from ._align import to_instant_ms

        return self._deliver(LiveUpdate._of(self._inner.advance(to_instant_ms(now, "now"))))

    def follow(self, log: CaptureFollower) -> LiveUpdate:
        """Appends what a ``CaptureFollower``'s log gained since its last
        poll (the capture's metrics declared first)."""
        if not isinstance(log, CaptureFollower):
            raise TypeError(
                "follow() takes a vap.CaptureFollower; make one with vap.CaptureFollower(path)"
            )
        return self._deliver(LiveUpdate._of(self._inner.follow(log._inner)))

    # ------------------------------------------------------------ alerts

    def on_alert(self, callback: Callable[[Alert], Any]) -> Callable[[Alert], Any]:
        """Calls ``callback(alert)`` for every alert as it fires (usable as a
        decorator)."""
        self._callbacks.append(callback)
        return callback

    def alert_stream(self) -> AsyncIterator[Alert]:
        """An async iterator of the alerts fired from now on (``async for
        alert in live.alert_stream()``), ended by ``close()``. Call it inside
        the event loop that iterates it; appends may come from any thread."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Alert | None] = asyncio.Queue()
        entry = (loop, queue)
        with self._lock:
            self._streams.append(entry)

        async def stream() -> AsyncIterator[Alert]:
            try:
                while True:
                    a = await queue.get()
                    if a is None:
                        return
                    yield a
            finally:
                with self._lock:
                    if entry in self._streams:
                        self._streams.remove(entry)

        return stream()

    def close(self) -> None:
        """Ends every ``alert_stream``."""
        with self._lock:
            streams = list(self._streams)
        for loop, queue in streams:
            self._put(loop, queue, None)

    @staticmethod
    def _put(
        loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Alert | None], a: Alert | None
    ) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            queue.put_nowait(a)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(queue.put_nowait, a)

    def _deliver(self, update: LiveUpdate) -> LiveUpdate:
        with self._lock:
            streams = list(self._streams)
        for a in update.alerts:
            for cb in self._callbacks:
                cb(a)
            for loop, queue in streams:
                self._put(loop, queue, a)
        return update

    # ------------------------------------------------------------ results

    def timeline(self) -> Timeline:
        """The timeline so far (enriched as for attribution)."""
        return Timeline(self._inner.timeline())

    def moments(self) -> Moments:
        """The moments so far, ranked."""
        return Moments(Moment(**m) for m in json.loads(self._inner.moments_json()))

    def decomposition(self) -> Decomposition | None:
        """The room model's decomposition of the timeline so far (``None``
        without a model)."""
        d = self._inner.decomposition()
        return None if d is None else Decomposition(d)

    @property
    def alerts(self) -> list[Alert]:
        """Every alert fired so far, in order."""
        return [Alert._of(a) for a in json.loads(self._inner.alerts_json())]

    def data(self) -> Session:
        """The session as the events so far make it (what the batch
        computation would be given): open intervals end at the watermark."""
        from . import Session

        return Session(self._inner.data())

    @property
    def watermark_ms(self) -> int | None:
        """The newest time seen (ms)."""
        return self._inner.state()[0]

    @property
    def step_ms(self) -> int:
        """The bin width (ms)."""
        return self._inner.state()[1]

    @property
    def dropped_text(self) -> int:
        """Comments and transcript lines dropped behind the horizon."""
        return self._inner.state()[2]

    @property
    def options(self) -> dict[str, Any]:
        """The options in force, whole."""
        out: dict[str, Any] = json.loads(self._inner.options_json())
        return out

    def __repr__(self) -> str:
        w, step, _ = self._inner.state()
        return f"LiveSession(watermark_ms={w}, step_ms={step}, alerts={len(self.alerts)})"


def live_feed(session: Session, every: Any = None) -> list[Any]:
    """A session's rows as the events a live feed would have delivered, in
    arrival order (points at their time, a transcript line at its end, an
    interval opened at its start and closed at its end): replay a stored
    session as if live. With ``every`` (ms, a ``timedelta``, ``"1s"``): a
    list of batches, the events arriving within each span."""
    if every is None:
        events: list[Any] = json.loads(_vap.live_feed(session._inner))
        return events
    from ._align import to_ms

    batches: list[Any] = json.loads(_vap.live_feed(session._inner, to_ms(every, "every")))
    return batches


def replay_live(
    session: Session,
    every: Any,
    model: RoomModel | None = None,
    **options: Any,
) -> Iterable[tuple[LiveUpdate, LiveSession]]:
    """Replays a session as if live: its events appended ``every`` of stream
    (ms, a ``timedelta``, ``"10s"``) at a time into a new ``LiveSession`` (options as there); yields each
    update with the live session, as fast as it computes."""
    live = LiveSession(session, model=model, **options)
    for batch in live_feed(session, every=every):
        yield live.append(batch), live
