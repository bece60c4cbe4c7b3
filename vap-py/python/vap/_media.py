"""Recordings: probe, streamed 16 kHz audio, Whisper transcripts, video
indexes and stills (``vap_core::media``).

Positions are ms from a recording's start (what a player shows as 0:00); a
recording registered on a session carries ``offset_ms`` to the session clock:
``session time = offset_ms + position``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Union

import numpy as np
import pyarrow as pa

from . import _vap
from ._align import Duration, Instant, to_instant_ms, to_ms
from ._options import dumps
from ._vap import AUDIO_SAMPLE_RATE, InvalidArgumentError

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    import polars

PathLike = Union[str, "os.PathLike[str]"]
#: ``True`` (a tqdm bar when tqdm is installed), ``False`` / ``None`` (none),
#: or a function called with a ``Progress`` after every chunk.
ProgressArg = Union[bool, None, Callable[["Progress"], Any]]


# ---------------------------------------------------------------- probing


@dataclass(frozen=True)
class StreamInfo:
    """One stream of a recording (``kind``: ``"audio"``, ``"video"``,
    ``"subtitle"`` or ``"other"``). Audio fields are ``None`` on video streams
    and the other way round."""

    index: int
    kind: str
    codec: str
    start_ms: float | None
    duration_ms: float | None
    sample_rate: int | None
    channels: int | None
    width: int | None
    height: int | None
    frame_rate: float | None


@dataclass(frozen=True)
class RecordingInfo:
    """What ``vap.probe`` tells about a recording: container ``format``,
    ``duration_ms`` (when known), the container's ``start_ms``, ``bit_rate``,
    ``size_bytes`` and its ``streams`` in container order."""

    path: str
    format: str
    duration_ms: int | None
    start_ms: float
    bit_rate: int | None
    size_bytes: int
    streams: list[StreamInfo]

    @property
    def has_audio(self) -> bool:
        """Whether the file has an audio stream."""
        return any(s.kind == "audio" for s in self.streams)

    @property
    def has_video(self) -> bool:
        """Whether the file has a video stream."""
        return any(s.kind == "video" for s in self.streams)


def probe(path: PathLike) -> RecordingInfo:
    """Duration, start time and streams of a recording.

    Raises ``vap.VapIOError`` for a missing file and ``vap.FormatError`` for
    one FFmpeg cannot read; both name the file.
    """
    d = json.loads(_vap.probe_json(os.fspath(path)))
    d["streams"] = [StreamInfo(**s) for s in d["streams"]]
    return RecordingInfo(**d)


# ---------------------------------------------------------------- audio


def _samples(buf: bytearray) -> np.ndarray:
    # The bytearray is the array's (writable) memory: no copy.
    return np.frombuffer(buf, dtype=np.float32)


def _position(value: Duration | None, what: str) -> int | None:
    return None if value is None else to_ms(value, what)


def decode_audio(
    path: PathLike, start: Duration | None = None, end: Duration | None = None
) -> np.ndarray:
    """The audio of a recording as 16 kHz mono ``float32``.

    Parameters
    ----------
    path
        The recording (any container and codec FFmpeg reads).
    start, end
        The window ``[start, end)`` as positions in the recording: ms, a
        ``timedelta`` or a string such as ``"90s"`` / ``"1min"``. ``None``:
        from the beginning / to the end. Seeks are exact to the sample.

    Returns
    -------
    numpy.ndarray
        ``float32``, sample ``i`` at position ``start + i / 16`` ms. A gap in
        the file's timestamps is silence, so positions stay true.

    Raises ``vap.FormatError`` for a file without audio (or unreadable),
    ``vap.VapIOError`` for a missing one.
    """
    buf = _vap.decode_audio(os.fspath(path), _position(start, "start"), _position(end, "end"))
    return _samples(buf)


class AudioStream:
    """The best audio stream of a recording, decoded and resampled to 16 kHz
    mono ``float32`` as it is read: memory stays bounded whatever the file's
    length (a 10-hour stream is never held whole).

    ``read(n)`` returns the next ``n`` samples; ``seek(position)`` moves
    exactly (to the sample). Iterating yields one-second blocks. Use it as a
    context manager (or call ``close()``) to free the decoder early.

    >>> with vap.AudioStream("live.mp4") as s:   # doctest: +SKIP
    ...     s.seek("1h")
    ...     x = s.read(30 * vap.AUDIO_SAMPLE_RATE)
    """

    __slots__ = ("_inner",)

    #: Samples per second of everything returned.
    sample_rate: int = AUDIO_SAMPLE_RATE

    def __init__(self, path: PathLike):
        self._inner = _vap.AudioStream(os.fspath(path))

    @property
    def path(self) -> str:
        """The file read."""
        return os.fspath(self._inner.path)

    @property
    def position_ms(self) -> float:
        """Position (ms) of the next sample ``read`` returns."""
        return self._inner.position_ms

    @property
    def duration_ms(self) -> int | None:
        """Length of the recording in ms, when the container says."""
        return self._inner.duration_ms

    @property
    def bad_packets(self) -> int:
        """Damaged packets skipped so far."""
        return self._inner.bad_packets

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._inner.closed

    def seek(self, position: Duration) -> None:
        """Moves to ``position`` (ms, a ``timedelta`` or ``"90s"``; clamped at
        0): the next sample read is the one at that position."""
        self._inner.seek(to_ms(position, "position"))

    def read(self, n: int) -> np.ndarray:
        """Up to ``n`` samples (``float32``); fewer only at the end, none after it."""
        if n < 0:
            raise InvalidArgumentError(f"cannot read {n} samples")
        return _samples(self._inner.read(int(n)))

    def read_until(self, end: Duration) -> np.ndarray:
        """Every sample up to position ``end`` (exclusive) or the end of the stream."""
        return _samples(self._inner.read_until(to_ms(end, "end")))

    def close(self) -> None:
        """Frees the decoder; reading afterwards raises ``vap.InvalidArgumentError``."""
        self._inner.close()

    def __enter__(self) -> AudioStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[np.ndarray]:
        return self

    def __next__(self) -> np.ndarray:
        x = self.read(self.sample_rate)
        if len(x) == 0:
            raise StopIteration
        return x

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"at {self.position_ms:.0f} ms"
        return f"<vap.AudioStream {self.path!r} {state}>"


def audio_chunks(
    path: PathLike,
    chunk: Duration | None = None,
    start: Duration | None = None,
    end: Duration | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Streams a recording's audio in chunks: yields ``(start_ms, samples)``
    with 16 kHz mono ``float32`` samples, ``chunk`` long (default 30 s; the
    last one shorter), from ``start`` to ``end`` (positions; ``None``: the
    whole file). Only one chunk is in memory at a time; concatenated, the
    chunks equal ``decode_audio(path, start, end)``.

    The chunking is the core's (``vap_core::media::audio_chunks``); the
    arguments are checked when this is called, before anything is read:
    ``vap.InvalidArgumentError`` for a chunk that is not positive or an end
    before the start, ``vap.VapIOError`` for a missing file,
    ``vap.FormatError`` for one without audio.
    """
    chunks = _vap.AudioChunks(
        os.fspath(path),
        None if chunk is None else to_ms(chunk, "chunk"),
        _position(start, "start"),
        _position(end, "end"),
    )
    return ((at, _samples(buf)) for at, buf in chunks)


# ---------------------------------------------------------------- transcripts


@dataclass(frozen=True)
class Progress:
    """How far a transcription has come, after each chunk (resumed ones too):
    ``done`` of ``total`` chunks, the chunk's ``recording`` and start
    ``position_ms``, audio covered (``audio_done_ms`` of ``audio_total_ms``),
    whether it came from a checkpoint (``resumed``) and the ``segments`` it kept."""

    done: int
    total: int
    recording: int
    position_ms: int
    audio_done_ms: int
    audio_total_ms: int
    resumed: bool
    segments: int


@dataclass(frozen=True)
class TranscriptStats:
    """What a transcription did: chunks (all, resumed from checkpoints,
    transcribed now), audio ms (covered, decoded, transcribed now), seconds in
    the decoder and in the model, segments dropped by each filter, and the
    ``real_time_factor`` of this call ((decode + model seconds) per second of
    audio transcribed; 0 when nothing was)."""

    chunks: int
    chunks_resumed: int
    chunks_transcribed: int
    audio_ms: int
    decoded_ms: int
    transcribed_ms: int
    voiced_ms: int
    bad_packets: int
    decode_seconds: float
    model_seconds: float
    dropped_silence: int
    dropped_no_speech: int
    dropped_repeats: int
    dropped_annotations: int
    dropped_duplicates: int
    real_time_factor: float


@dataclass(frozen=True)
class Utterance:
    """One stretch of speech on the session clock (ms): normalised ``text``,
    the ``speaker`` (an anchor id, from the shifts; ``None`` without a
    session) and the model's ``confidence`` in [0, 1]."""

    start_ms: int
    end_ms: int
    text: str
    speaker: str | None = None
    confidence: float | None = None


_UTTERANCE_SCHEMA = pa.schema(
    [
        pa.field("start_ms", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("end_ms", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("speaker", pa.string()),
        pa.field("confidence", pa.float64()),
    ]
)


@dataclass(frozen=True)
class Transcript:
    """The result of a transcription: ``utterances`` sorted by start,
    ``languages`` used (most frequent first) and ``stats``. The tables have
    the columns of a session's ``utterances`` table."""

    utterances: list[Utterance]
    languages: list[str]
    stats: TranscriptStats

    @staticmethod
    def _from_json(text: str) -> Transcript:
        d = json.loads(text)
        return Transcript(
            utterances=[Utterance(**u) for u in d["utterances"]],
            languages=d["languages"],
            stats=TranscriptStats(**d["stats"]),
        )

    @property
    def text(self) -> str:
        """Every utterance's text, joined by spaces."""
        return " ".join(u.text for u in self.utterances)

    def __len__(self) -> int:
        return len(self.utterances)

    def to_arrow(self) -> pa.Table:
        """``pyarrow.Table``: ``start_ms``, ``end_ms`` (timestamp[ms, UTC]),
        ``text``, ``speaker``, ``confidence``."""
        cols = {f.name: [getattr(u, f.name) for u in self.utterances] for f in _UTTERANCE_SCHEMA}
        return pa.Table.from_pydict(cols, schema=_UTTERANCE_SCHEMA)

    def to_pandas(self) -> pandas.DataFrame:
        """As pandas (times as ``datetime64[ms, UTC]``)."""
        return self.to_arrow().to_pandas()

    def to_polars(self) -> polars.DataFrame:
        """As polars."""
        import polars as pl

        return pl.from_arrow(self.to_arrow())  # type: ignore[return-value]

    def __repr__(self) -> str:
        s = self.stats
        return (
            f"<vap.Transcript {len(self.utterances)} utterances, {s.audio_ms / 1000:.0f} s "
            f"of audio, languages {self.languages}, {s.chunks} chunks "
            f"({s.chunks_resumed} resumed)>"
        )


def transcribe_options(**options: Any) -> str:
    """The JSON ``TranscribeOptions`` (less the model) of the keyword
    arguments, as written: the core reads, defaults and checks them
    (``vap.option_defaults("transcribe")``)."""
    if "model" in options:
        raise InvalidArgumentError("pass the model as the `model` argument")
    return dumps(options)


@contextlib.contextmanager
def progress_callback(progress: ProgressArg, desc: str) -> Iterator[Callable[[str], None] | None]:
    """The native progress callback for ``progress`` (see ``ProgressArg``); a
    tqdm bar is closed when the run ends, however it ends."""
    if progress is None or progress is False:
        yield None
        return
    if progress is True:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            yield None
            return
        bar = tqdm(total=None, unit="s", desc=desc, unit_scale=False, leave=True)

        def tick(text: str) -> None:
            p = Progress(**json.loads(text))
            if bar.total is None:
                bar.total = round(p.audio_total_ms / 1000, 1)
            bar.n = round(p.audio_done_ms / 1000, 1)
            bar.set_postfix_str(
                f"chunk {p.done}/{p.total}{' (checkpoint)' if p.resumed else ''}", refresh=False
            )
            bar.refresh()

        try:
            yield tick
        finally:
            bar.close()
        return
    if callable(progress):
        user = progress

        def call(text: str) -> None:
            user(Progress(**json.loads(text)))

        yield call
        return
    raise InvalidArgumentError(
        f"progress: expected True, False, None or a function, got {type(progress).__name__}"
    )


def transcribe(
    path: PathLike,
    model: PathLike,
    *,
    offset_ms: Instant = 0,
    progress: ProgressArg = True,
    **options: Any,
) -> Transcript:
    """Transcribes a recording's speech with Whisper (whisper.cpp).

    The audio is cut into chunks with overlap; only voiced windows reach the
    model; duplicates at the joins, near-silence, no-speech, non-speech
    annotations ("[Music]") and looping text are dropped and counted. No
    store and no checkpoints: see ``Store.transcribe`` for long recordings.

    Parameters
    ----------
    path
        The recording.
    model
        A whisper.cpp ggml model file (``make models`` writes
        ``models/ggml-tiny.en.bin``, English only, and ``models/ggml-base.bin``,
        and their quantised ``-q8_0`` / ``-q5_1`` variants: tiny.en q8_0 is
        about 16 % faster at the same recall, see the README).
    language
        ``"auto"`` (detected per chunk), ``"zh"``, ``"en"`` or another Whisper
        language code. An English-only model needs ``"en"``.
    offset_ms
        Clock of the result: utterance time = ``offset_ms`` + position (ms,
        or a ``datetime`` / ISO string for a session clock).
    chunk, overlap
        Chunk length (at least 10 s) and the audio decoded either side of it
        (at most a quarter chunk): ms, ``timedelta`` or ``"5min"`` / ``"3s"``.
    threads
        Threads of whisper.cpp (0: every core).
    lanes
        Voiced windows decoded side by side, each by its own decoder state
        on one thread (this module's whisper.cpp uses OpenBLAS, whose
        products round differently on more threads; at most ``threads``
        lanes; 0..16; 0, the default: one per thread, at most four, when a
        chunk has two voiced windows or more, else one). Each lane holds its
        own decoder state (about 170 MB for base). The transcript does not
        depend on it.
    temperature_fallback
        Decode a window again at higher temperatures when the greedy decode
        fails whisper's compression or log-probability check (default
        ``False``: 1.8x slower on base and no more words on the test media).
    beam_size
        1 is greedy decoding; up to 16.
    initial_prompt
        Text that primes the decoder (product names help).
    progress
        ``True``: a tqdm bar when tqdm is installed (``pip install
        vap[progress]``); ``False`` / ``None``: nothing; a function: called
        with a ``Progress`` after every chunk. An exception raised by it (or
        Ctrl-C, checked after every chunk) stops the run and is re-raised.
    **options
        ``no_speech_threshold``, ``logprob_threshold``, ``silence_dbfs``,
        ``max_repeats``, ``simplified_chinese`` (see ``vap_core::media``).
        Every option above but ``offset_ms`` and ``progress`` is read by the
        core; defaults: ``vap.option_defaults("transcribe")``.

    Returns
    -------
    Transcript

    Raises ``vap.VapIOError`` (missing file or model), ``vap.FormatError``
    (no audio, corrupt file, not a ggml model, truncated model),
    ``vap.InvalidArgumentError`` (language the model cannot do, bad option),
    ``vap.ValidationError`` (options out of range, all listed).
    """
    opts = transcribe_options(**options)
    with progress_callback(progress, os.path.basename(os.fspath(path))) as cb:
        out = _vap.transcribe(
            os.fspath(path), os.fspath(model), to_instant_ms(offset_ms, "offset_ms"), opts, cb
        )
    return Transcript._from_json(out)


# ---------------------------------------------------------------- recordings of a session


@dataclass(frozen=True)
class Recording:
    """A recording registered on a session: its (absolute) ``path``,
    ``offset_ms`` to the session clock (``session time = offset_ms +
    position``), ``size_bytes``, ``sha256`` and ``duration_ms``."""

    path: str
    offset_ms: int
    size_bytes: int | None = None
    sha256: str | None = None
    duration_ms: int | None = None

    @property
    def end_ms(self) -> int | None:
        """Session time of the recording's end, when its duration is known."""
        return None if self.duration_ms is None else self.offset_ms + self.duration_ms


@dataclass(frozen=True)
class Located:
    """Where a session instant is in the recordings: the ``recording``'s index
    in the session's list, its ``path`` and the ``position_ms`` in it."""

    recording: int
    path: str
    position_ms: int


# ---------------------------------------------------------------- video


class VideoIndex:
    """Presentation times of every frame of a recording's video stream, read
    from the packets (nothing decoded): ``frames_ms`` and ``keyframes_ms``
    (sorted ``float64`` arrays, ms from the container's start, read-only),
    ``size`` ``(width, height)``. ``frame_at(t)`` is the frame a player shows
    at position ``t``; ``keyframe_before(t)`` where it seeks to."""

    __slots__ = ("_inner", "frames_ms", "keyframes_ms")

    frames_ms: np.ndarray
    keyframes_ms: np.ndarray

    def __init__(self, path: PathLike):
        self._inner = _vap.VideoIndex(os.fspath(path))
        self.frames_ms = np.frombuffer(self._inner.frames_bytes(), dtype=np.float64)
        self.keyframes_ms = np.frombuffer(self._inner.keyframes_bytes(), dtype=np.float64)

    @property
    def path(self) -> str:
        """The file indexed."""
        return self._inner.path

    @property
    def stream(self) -> int:
        """Index of the video stream in the container."""
        return self._inner.stream

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return self._inner.size

    @property
    def end_ms(self) -> float:
        """Time of the last frame."""
        return self._inner.end_ms()

    def __len__(self) -> int:
        return len(self._inner)

    def frame_at(self, position: float | Duration) -> float | None:
        """Time of the frame shown at ``position`` (ms, or a duration): the last
        frame at or before it; ``None`` before the first frame."""
        return self._inner.frame_at(_float_ms(position, "position"))

    def keyframe_before(self, position: float | Duration) -> float | None:
        """The last keyframe at or before ``position`` (where a player seeks)."""
        return self._inner.keyframe_before(_float_ms(position, "position"))

    def __repr__(self) -> str:
        w, h = self.size
        return f"<vap.VideoIndex {self.path!r} {len(self)} frames, {len(self.keyframes_ms)} keyframes, {w}x{h}>"


def _float_ms(value: float | Duration, what: str) -> float:
    if isinstance(value, (float, np.floating)):
        return float(value)
    return float(to_ms(value, what))


class Still:
    """A frame of a recording: ``rgb``, its pixels as a read-only ``(height,
    width, 3)`` ``uint8`` array (8-bit RGB, from the core, no decoding),
    ``width``, ``height``, ``frame_ms`` (time of the frame shown, ms from the
    container's start) and the ``path`` of the recording; from
    ``Store.still`` also the ``recording`` index and the ``position_ms`` asked
    for (``None`` otherwise). ``png`` is the frame as a PNG file, encoded by
    the core on first use. Jupyter shows it as an image."""

    __slots__ = ("_native", "_png", "rgb")

    rgb: np.ndarray

    def __init__(self, native: _vap.Still):
        self._native = native
        self._png: bytes | None = None
        rgb = np.frombuffer(native.rgb(), dtype=np.uint8).reshape(native.height, native.width, 3)
        rgb.flags.writeable = False
        self.rgb = rgb

    @property
    def width(self) -> int:
        """Width in pixels."""
        return self._native.width

    @property
    def height(self) -> int:
        """Height in pixels."""
        return self._native.height

    @property
    def frame_ms(self) -> float:
        """Time of the frame shown, ms from the container's start."""
        return self._native.frame_ms

    @property
    def path(self) -> str:
        """The recording it came from."""
        return self._native.path

    @property
    def recording(self) -> int | None:
        """Index of the recording in the session (``Store.still`` only)."""
        return self._native.recording

    @property
    def position_ms(self) -> int | None:
        """The position asked for in the recording, ms (``Store.still`` only)."""
        return self._native.position_ms

    @property
    def png(self) -> bytes:
        """The frame as a PNG file's bytes (8-bit RGB), encoded once."""
        if self._png is None:
            self._png = self._native.png()
        return self._png

    def _repr_png_(self) -> bytes:
        return self.png

    def save(self, path: PathLike) -> None:
        """Writes the PNG file."""
        with open(os.fspath(path), "wb") as f:
            f.write(self.png)

    def to_numpy(self) -> np.ndarray:
        """The pixels as a new, writable ``(height, width, 3)`` ``uint8`` array
        (``rgb`` is the read-only one)."""
        return self.rgb.copy()

    def __repr__(self) -> str:
        return f"<vap.Still {self.width}x{self.height} at {self.frame_ms:.0f} ms of {self.path!r}>"


def still_frame(path: PathLike, position: Duration, max_width: int | None = None) -> Still:
    """The frame shown at ``position`` (ms, ``timedelta`` or ``"1min"``),
    scaled down to at most ``max_width`` pixels wide (aspect kept). Exact: the
    decoder seeks to the keyframe before and decodes forward. A position past
    the end gives the last frame; a negative one (or ``max_width=0``) raises
    ``vap.InvalidArgumentError``; a file without video ``vap.FormatError``."""
    return Still(_vap.still_frame(os.fspath(path), to_ms(position, "position"), max_width))


# ---------------------------------------------------------------- clips


@dataclass(frozen=True)
class Clip:
    """A clip written by ``vap.clip``: where it really starts and ends in the
    recording (ms), and whether the video was re-encoded."""

    path: str
    source: str
    requested_ms: tuple[int, int]
    start_ms: float
    end_ms: float
    exact: bool

    @property
    def duration_ms(self) -> float:
        """Length of the clip in ms."""
        return self.end_ms - self.start_ms


def clip(
    path: PathLike,
    start: Duration,
    end: Duration,
    out: PathLike,
    *,
    exact: bool = False,
) -> Clip:
    """Writes ``[start, end)`` of the recording at ``path`` (positions: ms,
    ``timedelta`` or ``"1min"``) to ``out``, the container from its extension.

    ``exact=False`` (default): a remux from the keyframe at or before
    ``start``, no re-encoding (the clip may start up to one keyframe interval
    early: see ``Clip.start_ms``). ``exact=True``: the video re-encoded from
    the frame on screen at ``start`` (H.264), audio copied (cut within one
    audio frame). Written under a temporary name and renamed: never a partial
    file. Errors: ``vap.VapIOError`` for a missing file, ``vap.FormatError`` for
    one FFmpeg cannot read, ``vap.InvalidArgumentError`` for an empty stretch
    or one past the end.

    >>> c = vap.clip("live.mp4", "1h02min", "1h02min40s", "moment.mp4")  # doctest: +SKIP
    """
    d = json.loads(
        _vap.clip_json(
            os.fspath(path),
            to_ms(start, "start"),
            to_ms(end, "end"),
            os.fspath(out),
            exact,
        )
    )
    d["requested_ms"] = tuple(d["requested_ms"])
    return Clip(**d)


# ---------------------------------------------------------------- whisper.cpp's log


def set_whisper_log(mode: str = "silent", *, level: str | None = None) -> None:
    """Where whisper.cpp's own log lines go, for the whole process.

    ``"silent"`` (the default: dropped), ``"stderr"`` (prefixed ``whisper:``,
    from ``level`` up, default ``"info"``) or ``"logging"`` (the Python logger
    ``"vap.whisper"`` at the matching level: DEBUG, INFO, WARNING, ERROR; from
    ``level`` up, default ``"debug"``, so the logger's own level decides).
    """
    if level is None:
        level = "info" if mode == "stderr" else "debug"
    _vap.set_whisper_log(mode, level)


def _recordings(session: dict[str, Any]) -> list[Recording]:
    return [Recording(**r) for r in session.get("recordings", [])]
