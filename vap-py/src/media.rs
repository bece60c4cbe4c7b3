//! Python bindings of `vap_core::media`: probing, streamed audio decoding,
//! Whisper transcription (with a progress callback that can stop it), stored
//! recordings and their clock offsets, video indexes, stills and whisper.cpp's
//! log routing. Structured results cross as JSON, samples and pixels as bytes
//! (a still is a native object holding the core's pixels, encoded as PNG on
//! request); the Python layer (`python/vap/_media.py`) builds the typed
//! objects.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};
use vap_core::align::OffsetOptions;
use vap_core::media::{
    self, AudioChunks, AudioStream, Located, Still, TranscribeOptions, WhisperLog, WhisperLogLevel,
};
use vap_core::store::Store;
use vap_core::{Ms, VapError};

use crate::{errors, run, to_json, PySession, PyStore};

/// Samples as native-endian `f32` in a `bytearray` (one copy; NumPy then
/// views it without another, writable).
fn samples_bytearray<'py>(py: Python<'py>, x: &[f32]) -> PyResult<Bound<'py, PyByteArray>> {
    PyByteArray::new_with(py, std::mem::size_of_val(x), |buf| {
        for (dst, v) in buf.chunks_exact_mut(4).zip(x) {
            dst.copy_from_slice(&v.to_ne_bytes());
        }
        Ok(())
    })
}

fn f64_bytes<'py>(py: Python<'py>, x: &[f64]) -> PyResult<Bound<'py, PyBytes>> {
    PyBytes::new_with(py, std::mem::size_of_val(x), |buf| {
        for (dst, v) in buf.chunks_exact_mut(8).zip(x) {
            dst.copy_from_slice(&v.to_ne_bytes());
        }
        Ok(())
    })
}

/// What a recording holds, as JSON `RecordingInfo`.
#[pyfunction]
pub(crate) fn probe_json(py: Python<'_>, path: PathBuf) -> PyResult<String> {
    run(py, || to_json(&media::probe(&path)?))
}

/// The `vap` command line (`vap_core::cli::run`) on `args`; output to the
/// process's stdout and stderr; returns the exit code.
#[pyfunction]
pub(crate) fn cli(py: Python<'_>, args: Vec<String>) -> PyResult<i32> {
    run(py, || {
        Ok(vap_core::cli::run(
            &args,
            &mut std::io::stdout(),
            &mut std::io::stderr(),
        ))
    })
}

/// Positions `[start_ms, end_ms)` of a recording written to `out`
/// (`vap_core::media::clip`); the clip as JSON.
#[pyfunction]
#[pyo3(signature = (path, start_ms, end_ms, out, exact = false))]
pub(crate) fn clip_json(
    py: Python<'_>,
    path: PathBuf,
    start_ms: Ms,
    end_ms: Ms,
    out: PathBuf,
    exact: bool,
) -> PyResult<String> {
    run(py, || {
        let c = media::clip(&path, start_ms, end_ms, &out, exact)?;
        to_json(&c)
    })
}

/// The window `[start_ms, end_ms)` of a recording's audio as 16 kHz mono
/// `f32` (native-endian bytes in a `bytearray`).
#[pyfunction]
#[pyo3(signature = (path, start_ms = None, end_ms = None))]
pub(crate) fn decode_audio<'py>(
    py: Python<'py>,
    path: PathBuf,
    start_ms: Option<Ms>,
    end_ms: Option<Ms>,
) -> PyResult<Bound<'py, PyByteArray>> {
    let x = run(py, || media::decode_audio(&path, start_ms, end_ms))?;
    samples_bytearray(py, &x)
}

/// The audio track of a recording, decoded to 16 kHz mono as it is read.
#[pyclass(name = "AudioStream", module = "vap._vap", frozen)]
pub(crate) struct PyAudioStream {
    path: PathBuf,
    /// `None` once closed.
    inner: Mutex<Option<AudioStream>>,
}

impl PyAudioStream {
    /// Runs `f` on the open stream without the GIL.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut AudioStream) -> vap_core::Result<T> + Send,
    ) -> PyResult<T> {
        run(py, || {
            let mut guard = self.inner.lock().map_err(|_| {
                VapError::Internal("the audio stream broke in an earlier call".into())
            })?;
            match guard.as_mut() {
                Some(s) => f(s),
                None => Err(VapError::InvalidArgument(format!(
                    "the audio stream of {} is closed",
                    self.path.display()
                ))),
            }
        })
    }
}

#[pymethods]
impl PyAudioStream {
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let s = run(py, || AudioStream::open(&path))?;
        Ok(PyAudioStream {
            path,
            inner: Mutex::new(Some(s)),
        })
    }

    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    #[getter]
    fn position_ms(&self, py: Python<'_>) -> PyResult<f64> {
        self.with(py, |s| Ok(s.position_ms()))
    }

    #[getter]
    fn duration_ms(&self, py: Python<'_>) -> PyResult<Option<Ms>> {
        self.with(py, |s| Ok(s.duration_ms()))
    }

    #[getter]
    fn bad_packets(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |s| Ok(s.bad_packets()))
    }

    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        py.detach(|| self.inner.lock().map(|g| g.is_none()).unwrap_or(true))
    }

    fn seek(&self, py: Python<'_>, position_ms: Ms) -> PyResult<()> {
        self.with(py, |s| s.seek(position_ms))
    }

    /// Up to `max` samples (fewer only at the end; none at the end).
    fn read<'py>(&self, py: Python<'py>, max: usize) -> PyResult<Bound<'py, PyByteArray>> {
        let x = self.with(py, |s| {
            let mut out = Vec::with_capacity(max.min(1 << 24));
            s.read(&mut out, max)?;
            Ok(out)
        })?;
        samples_bytearray(py, &x)
    }

    /// Everything up to `end_ms` (exclusive) or the end of the stream.
    fn read_until<'py>(&self, py: Python<'py>, end_ms: Ms) -> PyResult<Bound<'py, PyByteArray>> {
        let x = self.with(py, |s| {
            let mut out = Vec::new();
            s.read_until(end_ms, &mut out)?;
            Ok(out)
        })?;
        samples_bytearray(py, &x)
    }

    /// Frees the decoder; later reads raise.
    fn close(&self, py: Python<'_>) {
        py.detach(|| {
            if let Ok(mut g) = self.inner.lock() {
                g.take();
            }
        })
    }
}

/// A recording's audio in fixed-length chunks (`vap_core::media::audio_chunks`):
/// iterating yields `(start_ms, samples)` with the samples as native-endian
/// `f32` in a `bytearray`.
#[pyclass(name = "AudioChunks", module = "vap._vap", frozen)]
pub(crate) struct PyAudioChunks {
    chunk_ms: Ms,
    inner: Mutex<AudioChunks>,
}

#[pymethods]
impl PyAudioChunks {
    #[new]
    #[pyo3(signature = (path, chunk_ms = None, start_ms = None, end_ms = None))]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        chunk_ms: Option<Ms>,
        start_ms: Option<Ms>,
        end_ms: Option<Ms>,
    ) -> PyResult<Self> {
        let c = run(py, || {
            media::audio_chunks(&path, chunk_ms, start_ms, end_ms)
        })?;
        Ok(PyAudioChunks {
            chunk_ms: c.chunk_ms(),
            inner: Mutex::new(c),
        })
    }

    /// Chunk length, ms.
    #[getter]
    fn chunk_ms(&self) -> Ms {
        self.chunk_ms
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<(Ms, Bound<'py, PyByteArray>)>> {
        let next = run(py, || {
            let mut g = self.inner.lock().map_err(|_| {
                VapError::Internal("the audio chunks broke in an earlier call".into())
            })?;
            g.next().transpose()
        })?;
        next.map(|c| Ok((c.start_ms, samples_bytearray(py, &c.samples)?)))
            .transpose()
    }

    /// Frees the decoder; iterating afterwards ends at once.
    fn close(&self, py: Python<'_>) {
        py.detach(|| {
            if let Ok(mut g) = self.inner.lock() {
                g.close();
            }
        })
    }
}

/// Runs a transcription whose progress goes to `callback` (called with the
/// JSON `Progress` after every chunk). Each chunk re-attaches to Python to
/// check for signals (Ctrl-C) and call the callback; an exception from either
/// stops the run, and that exception (not the core's "stopped" error) is
/// raised, with the core's message (how many chunks are checkpointed) added
/// as a note where Python has notes.
fn transcribe_with_progress(
    py: Python<'_>,
    callback: Option<Py<PyAny>>,
    work: impl FnOnce(&mut dyn FnMut(&media::Progress) -> bool) -> vap_core::Result<media::Transcript>
        + Send,
) -> PyResult<String> {
    let mut pending: Option<PyErr> = None;
    let slot = &mut pending;
    let out = run(py, move || {
        let mut progress = |p: &media::Progress| -> bool {
            Python::attach(|py| {
                let step = || -> PyResult<()> {
                    py.check_signals()?;
                    if let Some(cb) = &callback {
                        let json = to_json(p).map_err(|e| errors::to_py(py, e))?;
                        cb.call1(py, (json,))?;
                    }
                    Ok(())
                };
                match step() {
                    Ok(()) => true,
                    Err(e) => {
                        *slot = Some(e);
                        false
                    }
                }
            })
        };
        let t = work(&mut progress)?;
        transcript_json(&t)
    });
    crate::jobs::stopped_by(py, pending, out)
}

/// A transcript as JSON, its statistics with `real_time_factor`.
fn transcript_json(t: &media::Transcript) -> vap_core::Result<String> {
    let mut stats =
        serde_json::to_value(&t.stats).map_err(|e| VapError::Internal(e.to_string()))?;
    stats["real_time_factor"] = serde_json::json!(t.stats.real_time_factor());
    to_json(&serde_json::json!({
        "utterances": t.utterances,
        "languages": t.languages,
        "stats": stats,
    }))
}

/// Transcribes one file (JSON `TranscribeOptions` without `model`, which is
/// passed apart); returns the JSON transcript.
#[pyfunction]
#[pyo3(signature = (path, model, offset_ms, options_json, progress = None))]
pub(crate) fn transcribe(
    py: Python<'_>,
    path: PathBuf,
    model: PathBuf,
    offset_ms: Ms,
    options_json: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    let opts = transcribe_options(py, model, options_json)?;
    transcribe_with_progress(py, progress, move |cb| {
        media::transcribe(&path, offset_ms, &opts, cb)
    })
}

fn transcribe_options(
    py: Python<'_>,
    model: PathBuf,
    options_json: &str,
) -> PyResult<TranscribeOptions> {
    let mut o = <TranscribeOptions as vap_core::options::Options>::from_json(options_json)
        .map_err(|e| errors::to_py(py, e))?;
    o.model = model;
    Ok(o)
}

/// A still frame: the core's `Still` (RGB pixels), and where it was found
/// when it came from a stored session.
#[pyclass(name = "Still", module = "vap._vap", frozen)]
pub(crate) struct PyStill {
    inner: Still,
    located: Option<Located>,
}

#[pymethods]
impl PyStill {
    #[getter]
    fn width(&self) -> u32 {
        self.inner.width
    }

    #[getter]
    fn height(&self) -> u32 {
        self.inner.height
    }

    /// Time of the frame shown, ms from the container start.
    #[getter]
    fn frame_ms(&self) -> f64 {
        self.inner.frame_ms
    }

    /// The file it came from.
    #[getter]
    fn path(&self) -> String {
        self.inner.path.display().to_string()
    }

    /// Index of the recording in the session (a stored session's still).
    #[getter]
    fn recording(&self) -> Option<usize> {
        self.located.as_ref().map(|l| l.recording)
    }

    /// The position asked for in the recording, ms (a stored session's still).
    #[getter]
    fn position_ms(&self) -> Option<Ms> {
        self.located.as_ref().map(|l| l.position_ms)
    }

    /// The pixels, `height` rows of `width` RGB triples (a copy, in a
    /// `bytearray` that NumPy views without another).
    fn rgb<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyByteArray>> {
        PyByteArray::new_with(py, self.inner.rgb.len(), |buf| {
            buf.copy_from_slice(&self.inner.rgb);
            Ok(())
        })
    }

    /// The frame as a PNG file's bytes (encoded now, without the GIL).
    fn png<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let png = run(py, || self.inner.png())?;
        Ok(PyBytes::new(py, &png))
    }
}

/// Extracts the frame shown at `position_ms`.
#[pyfunction]
#[pyo3(signature = (path, position_ms, max_width = None))]
pub(crate) fn still_frame(
    py: Python<'_>,
    path: PathBuf,
    position_ms: Ms,
    max_width: Option<u32>,
) -> PyResult<PyStill> {
    let inner = run(py, || media::still_frame(&path, position_ms, max_width))?;
    Ok(PyStill {
        inner,
        located: None,
    })
}

/// Frame and keyframe times of a recording's video stream.
#[pyclass(name = "VideoIndex", module = "vap._vap", frozen)]
pub(crate) struct PyVideoIndex {
    inner: media::VideoIndex,
}

#[pymethods]
impl PyVideoIndex {
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        Ok(PyVideoIndex {
            inner: run(py, || media::VideoIndex::build(&path))?,
        })
    }

    #[getter]
    fn path(&self) -> &str {
        &self.inner.path
    }

    #[getter]
    fn stream(&self) -> usize {
        self.inner.stream
    }

    #[getter]
    fn size(&self) -> (u32, u32) {
        self.inner.size
    }

    fn __len__(&self) -> usize {
        self.inner.frames_ms.len()
    }

    /// Frame times (ms) as native-endian f64 bytes.
    fn frames_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        f64_bytes(py, &self.inner.frames_ms)
    }

    /// Keyframe times (ms) as native-endian f64 bytes.
    fn keyframes_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        f64_bytes(py, &self.inner.keyframes_ms)
    }

    fn frame_at(&self, position_ms: f64) -> Option<f64> {
        self.inner.frame_at(position_ms)
    }

    fn keyframe_before(&self, position_ms: f64) -> Option<f64> {
        self.inner.keyframe_before(position_ms)
    }

    fn end_ms(&self) -> f64 {
        self.inner.end_ms()
    }
}

fn log_level(name: &str) -> vap_core::Result<WhisperLogLevel> {
    match name.to_ascii_lowercase().as_str() {
        "debug" => Ok(WhisperLogLevel::Debug),
        "info" => Ok(WhisperLogLevel::Info),
        "warn" | "warning" => Ok(WhisperLogLevel::Warn),
        "error" => Ok(WhisperLogLevel::Error),
        other => Err(VapError::InvalidArgument(format!(
            "unknown log level '{other}'; expected debug, info, warning or error"
        ))),
    }
}

/// Sends one whisper.cpp line to the Python logger `vap.whisper`. Called from
/// the thread running the model (which holds no GIL): attaches, and never
/// lets an error or a panic out.
fn log_to_python(level: WhisperLogLevel, text: &str) {
    let py_level = match level {
        WhisperLogLevel::Debug => 10,
        WhisperLogLevel::Info => 20,
        WhisperLogLevel::Warn => 30,
        WhisperLogLevel::Error => 40,
    };
    let _ = std::panic::catch_unwind(|| {
        Python::try_attach(|py| {
            let log = || -> PyResult<()> {
                let logger = py
                    .import("logging")?
                    .call_method1("getLogger", ("vap.whisper",))?;
                logger.call_method1("log", (py_level, text))?;
                Ok(())
            };
            // A failing handler is logging's business (Handler.handleError);
            // anything else is dropped rather than raised into whisper.cpp.
            let _ = log();
        })
    });
}

/// Routes whisper.cpp's log lines: `"silent"`, `"stderr"` (from `level` up)
/// or `"logging"` (the Python logger `vap.whisper`, from `level` up).
#[pyfunction]
#[pyo3(signature = (mode, level = "debug"))]
pub(crate) fn set_whisper_log(py: Python<'_>, mode: &str, level: &str) -> PyResult<()> {
    let sink = (|| {
        let min = log_level(level)?;
        Ok(match mode.to_ascii_lowercase().as_str() {
            "silent" => WhisperLog::Silent,
            "stderr" => WhisperLog::Stderr { min },
            "logging" => WhisperLog::Callback(Arc::new(move |l: WhisperLogLevel, text: &str| {
                if l >= min {
                    log_to_python(l, text)
                }
            })),
            other => {
                return Err(VapError::InvalidArgument(format!(
                    "unknown whisper log mode '{other}'; expected silent, stderr or logging"
                )))
            }
        })
    })()
    .map_err(|e| errors::to_py(py, e))?;
    // Without the GIL, like every call into the core.
    run(py, || {
        media::set_whisper_log(sink);
        Ok(())
    })
}

impl PySession {
    /// Where a session instant is in the recordings, as JSON `Located`.
    pub(crate) fn locate_at(&self, py: Python<'_>, session_ms: Ms) -> PyResult<Option<String>> {
        run(py, || {
            media::locate(&self.inner, session_ms)
                .map(|l| to_json(&l))
                .transpose()
        })
    }

    /// The decoder prompt built from the session's products.
    pub(crate) fn prompt(
        &self,
        py: Python<'_>,
        language: Option<&str>,
    ) -> PyResult<Option<String>> {
        run(py, || {
            let l = match language {
                Some(x) => media::Language::parse(x)?,
                None => TranscribeOptions::default().language,
            };
            Ok(media::build_initial_prompt(&self.inner, &l))
        })
    }
}

fn session_start(store: &Store, room: &str, session: &str) -> vap_core::Result<Ms> {
    Ok(store.manifest(room, session)?.manifest.session.start_ms)
}

impl PyStore {
    /// Registers a recording (offset `None`: the session's start); JSON `VideoRef`.
    pub(crate) fn register(
        &self,
        py: Python<'_>,
        room: &str,
        session: &str,
        path: PathBuf,
        offset_ms: Option<Ms>,
    ) -> PyResult<String> {
        run(py, || {
            let offset = match offset_ms {
                Some(o) => o,
                None => session_start(&self.inner, room, session)?,
            };
            to_json(&media::register_recording(
                &self.inner,
                room,
                session,
                &path,
                offset,
            )?)
        })
    }

    /// Transcribes every recording of a stored session; JSON transcript.
    pub(crate) fn transcribe_stored(
        &self,
        py: Python<'_>,
        room: &str,
        session: &str,
        model: PathBuf,
        options_json: &str,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<String> {
        let opts = transcribe_options(py, model, options_json)?;
        let store = &self.inner;
        transcribe_with_progress(py, progress, move |cb| {
            media::transcribe_session(store, room, session, &opts, cb)
        })
    }

    /// Offset estimate of recording `index` (JSON `OffsetOptions` in, JSON
    /// `OffsetEstimate` out).
    pub(crate) fn recording_offset(
        &self,
        py: Python<'_>,
        room: &str,
        session: &str,
        index: usize,
        options_json: &str,
    ) -> PyResult<String> {
        run(py, || {
            let o = <OffsetOptions as vap_core::options::Options>::from_json(options_json)?;
            let data = self.inner.load(room, session)?;
            to_json(&vap_core::align::estimate_recording_offset(
                &data, index, &o,
            )?)
        })
    }

    /// Sets the offset of recording `index`, moving its utterances.
    pub(crate) fn set_offset(
        &self,
        py: Python<'_>,
        room: &str,
        session: &str,
        index: usize,
        offset_ms: Ms,
    ) -> PyResult<PySession> {
        let inner = run(py, || {
            media::set_recording_offset(&self.inner, room, session, index, offset_ms)
        })?;
        Ok(PySession { inner })
    }

    /// The still at a session instant (`vap_core::media::still_at`), with
    /// the recording index and position.
    pub(crate) fn still_at(
        &self,
        py: Python<'_>,
        room: &str,
        session: &str,
        session_ms: Ms,
        max_width: Option<u32>,
    ) -> PyResult<PyStill> {
        let (at, inner) = run(py, || {
            media::still_at(&self.inner, room, session, session_ms, max_width)
        })?;
        Ok(PyStill {
            inner,
            located: Some(at),
        })
    }
}
