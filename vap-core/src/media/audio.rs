//! The audio track as 16 kHz mono `f32`, decoded as it is read.

use std::path::{Path, PathBuf};

use ff::format::sample::Type as SampleType;
use ff::format::Sample;
use ff::util::channel_layout::ChannelLayout;
use ffmpeg_next as ff;

use super::{container_start_us, open_input, ts_ms};
use crate::error::{Result, VapError};
use crate::schema::Ms;

/// Samples per second of everything [`AudioStream`] returns (Whisper's rate).
pub const SAMPLE_RATE: u32 = 16_000;

const PER_MS: i64 = SAMPLE_RATE as i64 / 1000;

/// A gap in the source's timestamps longer than this (in output samples) is
/// filled with silence so that sample `i` stays at position `i / 16 kHz`.
const GAP_FILL: i64 = SAMPLE_RATE as i64 / 10;

/// Demuxer errors in a row after which the rest of the file is given up.
const MAX_READ_ERRORS: u32 = 64;

/// Audio decoded and dropped before a seek target, ms.
const PREROLL_MS: i64 = 500;

/// The best audio stream of a recording, decoded and resampled to 16 kHz mono
/// `f32` on demand. Memory stays bounded by one packet's worth of samples
/// whatever the file's length.
///
/// Sample `k` returned after [`AudioStream::seek`]`(t)` sits at position
/// `t + k / 16` ms. Timestamps are followed: a gap in the source becomes
/// silence, a leading offset of the audio stream is padded.
pub struct AudioStream {
    path: PathBuf,
    input: ff::format::context::Input,
    stream: usize,
    time_base: ff::Rational,
    start_us: i64,
    decoder: ff::decoder::Audio,
    resampler: Option<ff::software::resampling::Context>,
    /// Position (in output samples from position 0) of the next sample `read` returns.
    next_pos: i64,
    /// Position (in output samples) of `pending[0]`; `None` until the first
    /// frame after opening or seeking.
    pending_pos: Option<i64>,
    pending: Vec<f32>,
    pending_off: usize,
    /// Position just after the last resampled frame (where the next one
    /// continues when timestamps agree); `None` after opening or seeking.
    frame_end: Option<i64>,
    eof_sent: bool,
    done: bool,
    decoded_frames: u64,
    bad_packets: u64,
    /// Demuxer errors in a row.
    read_errors: u32,
    /// Format, rate and layout the resampler was built for.
    resampler_input: Option<(ff::format::Sample, u32, u64)>,
    duration_ms: Option<Ms>,
}

// SAFETY: the FFmpeg contexts are owned exclusively by this value and only used
// through `&mut self`; FFmpeg allows a context to move between threads.
unsafe impl Send for AudioStream {}

impl std::fmt::Debug for AudioStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioStream")
            .field("path", &self.path)
            .field("stream", &self.stream)
            .field("position_ms", &self.position_ms())
            .finish()
    }
}

impl AudioStream {
    /// Opens the best audio stream of `path`. A file without audio is
    /// [`VapError::Format`] naming the file.
    pub fn open(path: impl AsRef<Path>) -> Result<AudioStream> {
        let path = path.as_ref();
        let input = open_input(path)?;
        let (stream, time_base, params) = {
            let s = input
                .streams()
                .best(ff::media::Type::Audio)
                .ok_or_else(|| VapError::format(path, "has no audio stream"))?;
            (s.index(), s.time_base(), s.parameters())
        };
        let ctx = ff::codec::context::Context::from_parameters(params)
            .map_err(|e| VapError::format(path, format!("audio stream: {e}")))?;
        let decoder = ctx
            .decoder()
            .audio()
            .map_err(|e| VapError::format(path, format!("no decoder for the audio stream: {e}")))?;
        let start_us = container_start_us(&input);
        let dur = input.duration();
        Ok(AudioStream {
            path: path.to_path_buf(),
            input,
            stream,
            time_base,
            start_us,
            decoder,
            resampler: None,
            next_pos: 0,
            pending_pos: None,
            pending: Vec::new(),
            pending_off: 0,
            frame_end: None,
            eof_sent: false,
            done: false,
            decoded_frames: 0,
            bad_packets: 0,
            read_errors: 0,
            resampler_input: None,
            duration_ms: (dur > 0).then_some(dur / 1000),
        })
    }

    /// The file this stream reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Length of the recording in ms, when the container says.
    pub fn duration_ms(&self) -> Option<Ms> {
        self.duration_ms
    }

    /// Position in ms of the next sample [`AudioStream::read`] returns.
    pub fn position_ms(&self) -> f64 {
        self.next_pos as f64 / PER_MS as f64
    }

    /// Packets the decoder refused or the demuxer could not read (damaged
    /// data), skipped so far.
    pub fn bad_packets(&self) -> u64 {
        self.bad_packets
    }

    /// [`AudioStream::bad_packets`], then resets the count.
    pub fn take_bad_packets(&mut self) -> u64 {
        std::mem::take(&mut self.bad_packets)
    }

    /// Moves to `position_ms` (clamped at 0): the next sample returned is the
    /// one at that position. Seeks to the keyframe before it and decodes
    /// forward, so it is exact to the sample.
    pub fn seek(&mut self, position_ms: Ms) -> Result<()> {
        let pos = position_ms.max(0);
        // Start decoding half a second early: a decoder (AAC's overlapped
        // transform) and the resampler need a few frames before their output
        // matches a straight read; the samples before the target are dropped.
        let ts = self
            .start_us
            .saturating_add((pos - PREROLL_MS).max(0).saturating_mul(1000));
        // Seek to a point at or before the target; decode forward from there.
        self.input
            .seek(ts, ..ts)
            .or_else(|_| self.input.seek(ts, ..))
            .map_err(|e| VapError::format(&self.path, format!("cannot seek to {pos} ms: {e}")))?;
        self.decoder.flush();
        self.resampler = None;
        self.resampler_input = None;
        self.next_pos = pos.saturating_mul(PER_MS);
        self.pending.clear();
        self.pending_off = 0;
        self.pending_pos = None;
        self.frame_end = None;
        self.eof_sent = false;
        self.done = false;
        Ok(())
    }

    /// Appends up to `max` samples to `out`; returns how many. 0 means the end
    /// of the stream.
    pub fn read(&mut self, out: &mut Vec<f32>, max: usize) -> Result<usize> {
        let mut got = 0;
        while got < max {
            if self.pending_off >= self.pending.len() {
                self.pending.clear();
                self.pending_off = 0;
                if !self.fill()? {
                    break;
                }
                continue;
            }
            let pend_pos =
                self.pending_pos.expect("set with pending samples") + self.pending_off as i64;
            if pend_pos < self.next_pos {
                // Before the target (after a seek) or overlapping what was returned.
                let skip = ((self.next_pos - pend_pos) as usize)
                    .min(self.pending.len() - self.pending_off);
                self.pending_off += skip;
                continue;
            }
            if pend_pos > self.next_pos {
                // A gap: silence up to the next decoded sample.
                let n = ((pend_pos - self.next_pos) as usize).min(max - got);
                out.extend(std::iter::repeat_n(0.0, n));
                got += n;
                self.next_pos += n as i64;
                continue;
            }
            let n = (self.pending.len() - self.pending_off).min(max - got);
            out.extend_from_slice(&self.pending[self.pending_off..self.pending_off + n]);
            self.pending_off += n;
            got += n;
            self.next_pos += n as i64;
        }
        Ok(got)
    }

    /// Reads everything up to `end_ms` (exclusive) or the end of the stream.
    pub fn read_until(&mut self, end_ms: Ms, out: &mut Vec<f32>) -> Result<usize> {
        let end = end_ms.saturating_mul(PER_MS);
        let mut total = 0;
        while self.next_pos < end {
            let want = ((end - self.next_pos) as usize).min(SAMPLE_RATE as usize * 10);
            let n = self.read(out, want)?;
            if n == 0 {
                break;
            }
            total += n;
        }
        Ok(total)
    }

    /// Decodes until at least one frame of resampled samples is pending.
    /// Returns false at the end of the stream.
    fn fill(&mut self) -> Result<bool> {
        let mut frame = ff::frame::Audio::empty();
        loop {
            if self.done {
                return Ok(false);
            }
            match self.decoder.receive_frame(&mut frame) {
                Ok(()) => {
                    self.decoded_frames += 1;
                    if self.push_frame(&frame)? {
                        return Ok(true);
                    }
                    continue;
                }
                Err(ff::Error::Eof) => {
                    self.done = true;
                    return self.drain_resampler();
                }
                Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => {}
                Err(ff::Error::InvalidData) => {
                    self.bad_packets += 1;
                    continue;
                }
                Err(e) => {
                    return Err(VapError::format(&self.path, format!("audio decoding: {e}")));
                }
            }
            if self.eof_sent {
                // Nothing more will come; EAGAIN after EOF would loop forever.
                self.done = true;
                return self.drain_resampler();
            }
            // Feed the next packet of our stream.
            let mut packet = ff::Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) => {
                    self.read_errors = 0;
                    if packet.stream() != self.stream {
                        continue;
                    }
                    if self.decoder.send_packet(&packet).is_err() {
                        self.bad_packets += 1;
                    }
                }
                Err(ff::Error::Eof) => {
                    let _ = self.decoder.send_eof();
                    self.eof_sent = true;
                }
                Err(e) => {
                    // A damaged stretch: skip it and read on; give up (as the
                    // end of the stream) after many errors in a row, and fail
                    // when nothing at all could be decoded.
                    self.bad_packets += 1;
                    self.read_errors += 1;
                    if self.read_errors > MAX_READ_ERRORS {
                        if self.decoded_frames == 0 {
                            return Err(VapError::format(
                                &self.path,
                                format!("cannot read audio packets: {e}"),
                            ));
                        }
                        let _ = self.decoder.send_eof();
                        self.eof_sent = true;
                    }
                }
            }
        }
    }

    fn drain_resampler(&mut self) -> Result<bool> {
        let Some(rs) = self.resampler.as_mut() else {
            if self.decoded_frames == 0 && self.bad_packets > 0 {
                return Err(VapError::format(
                    &self.path,
                    format!(
                        "no audio could be decoded ({} damaged packets)",
                        self.bad_packets
                    ),
                ));
            }
            return Ok(false);
        };
        let mut out = ff::frame::Audio::new(Sample::F32(SampleType::Packed), 4096, mono());
        out.set_rate(SAMPLE_RATE);
        if rs.flush(&mut out).is_ok() && out.samples() > 0 {
            let base = self.frame_end.unwrap_or(self.next_pos);
            self.pending_pos = Some(base);
            self.frame_end = Some(base + out.samples() as i64);
            self.pending.clear();
            self.pending_off = 0;
            self.pending
                .extend_from_slice(&out.plane::<f32>(0)[..out.samples()]);
            self.resampler = None;
            return Ok(true);
        }
        self.resampler = None;
        Ok(false)
    }

    /// Resamples one decoded frame into `pending`, placing it by its timestamp.
    fn push_frame(&mut self, frame: &ff::frame::Audio) -> Result<bool> {
        let mut input = frame.clone();
        if input.channel_layout().is_empty() || input.channel_layout().bits() == 0 {
            input.set_channel_layout(ChannelLayout::default(input.channels() as i32));
        }
        let shape = (input.format(), input.rate(), input.channel_layout().bits());
        if self.resampler_input != Some(shape) {
            // First frame, or the stream changed format mid-file (spliced
            // recordings): a resampler for the new input.
            self.resampler = None;
            self.resampler_input = Some(shape);
        }
        if self.resampler.is_none() {
            let rs = ff::software::resampling::Context::get(
                input.format(),
                input.channel_layout(),
                input.rate(),
                Sample::F32(SampleType::Packed),
                mono(),
                SAMPLE_RATE,
            )
            .map_err(|e| VapError::format(&self.path, format!("audio resampler: {e}")))?;
            self.resampler = Some(rs);
        }
        let cap = (input.samples() as u64 * SAMPLE_RATE as u64 / input.rate().max(1) as u64)
            as usize
            + 256;
        let mut out = ff::frame::Audio::new(Sample::F32(SampleType::Packed), cap, mono());
        out.set_rate(SAMPLE_RATE);
        let rs = self.resampler.as_mut().expect("created above");
        if let Err(e) = rs.run(&input, &mut out) {
            return Err(VapError::format(
                &self.path,
                format!("audio resampling: {e}"),
            ));
        }
        let n = out.samples();
        if n == 0 {
            return Ok(false);
        }
        // Where this frame sits, by its timestamp; contiguous when it agrees
        // with the running count.
        let counted = self.frame_end;
        let stamped = frame.timestamp().or(frame.pts()).map(|ts| {
            let ms = ts_ms(ts, self.time_base) - self.start_us as f64 / 1000.0;
            (ms * PER_MS as f64).round() as i64
        });
        // Forward gaps are followed (silence fills them); a jump backwards
        // (timestamps restarting after an encoder reconnect) keeps the count,
        // so no audio is dropped.
        let pos = match (counted, stamped) {
            (Some(c), Some(s)) if s - c > GAP_FILL => s,
            (Some(c), _) => c,
            (None, Some(s)) => s,
            (None, None) => self.next_pos,
        };
        self.pending_pos = Some(pos);
        self.frame_end = Some(pos + n as i64);
        self.pending.clear();
        self.pending_off = 0;
        self.pending.extend_from_slice(&out.plane::<f32>(0)[..n]);
        Ok(true)
    }
}

fn mono() -> ChannelLayout {
    ChannelLayout::MONO
}

/// Decodes the window `[start_ms, end_ms)` of a recording's audio (the whole
/// track when both are `None`) as 16 kHz mono `f32`.
pub fn decode_audio(
    path: impl AsRef<Path>,
    start_ms: Option<Ms>,
    end_ms: Option<Ms>,
) -> Result<Vec<f32>> {
    let mut s = AudioStream::open(path)?;
    if let (Some(a), Some(b)) = (start_ms, end_ms) {
        if b < a {
            return Err(VapError::InvalidArgument(format!(
                "end {b} ms is before start {a} ms"
            )));
        }
    }
    let start = start_ms.unwrap_or(0).max(0);
    if start > 0 {
        s.seek(start)?;
    }
    let mut out = Vec::new();
    match end_ms {
        Some(e) => {
            s.read_until(e, &mut out)?;
        }
        None => while s.read(&mut out, 1 << 16)? > 0 {},
    }
    Ok(out)
}

/// Chunk length of [`audio_chunks`] when none is given: 30 s.
pub const DEFAULT_CHUNK_MS: Ms = 30_000;

/// One chunk of [`audio_chunks`].
#[derive(Debug, Clone, PartialEq)]
pub struct AudioChunk {
    /// Position of the first sample, ms from the recording's start.
    pub start_ms: Ms,
    /// 16 kHz mono samples.
    pub samples: Vec<f32>,
}

/// The audio of a recording in fixed-length chunks, read as it goes: one
/// chunk is in memory at a time. Made by [`audio_chunks`]. Yields
/// `Err` once (a decoding failure) and then ends.
#[derive(Debug)]
pub struct AudioChunks {
    stream: Option<AudioStream>,
    chunk_ms: Ms,
    end_ms: Option<Ms>,
}

impl AudioChunks {
    /// Chunk length, ms.
    pub fn chunk_ms(&self) -> Ms {
        self.chunk_ms
    }

    /// Frees the decoder; the iterator then ends.
    pub fn close(&mut self) {
        self.stream = None;
    }

    /// Whether the iterator has ended (or was closed).
    pub fn is_done(&self) -> bool {
        self.stream.is_none()
    }

    fn next_chunk(&mut self) -> Result<Option<AudioChunk>> {
        let Some(s) = self.stream.as_mut() else {
            return Ok(None);
        };
        let at = s.position_ms().round() as Ms;
        let want = match self.end_ms {
            Some(b) => self.chunk_ms.min(b - at),
            None => self.chunk_ms,
        };
        if want <= 0 {
            return Ok(None);
        }
        let mut samples = Vec::with_capacity((want * PER_MS) as usize);
        if s.read(&mut samples, (want * PER_MS) as usize)? == 0 {
            return Ok(None);
        }
        Ok(Some(AudioChunk {
            start_ms: at,
            samples,
        }))
    }
}

impl Iterator for AudioChunks {
    type Item = Result<AudioChunk>;

    fn next(&mut self) -> Option<Self::Item> {
        let out = self.next_chunk();
        if !matches!(out, Ok(Some(_))) {
            self.stream = None; // the end, or an error: nothing follows
        }
        out.transpose()
    }
}

/// Streams a recording's audio in chunks of `chunk_ms` (default
/// [`DEFAULT_CHUNK_MS`]) of 16 kHz mono samples, the last one shorter, from
/// position `start_ms` to `end_ms` (`None`: the beginning / the end of the
/// file). Chunk `k` starts at `start + k * chunk_ms`; concatenated, the chunks
/// are [`decode_audio`]`(path, start_ms, end_ms)`.
///
/// The arguments are checked before anything is read: a chunk length that is
/// not positive, or an end before the start, is [`VapError::InvalidArgument`];
/// a missing file [`VapError::Io`], one without audio [`VapError::Format`].
pub fn audio_chunks(
    path: impl AsRef<Path>,
    chunk_ms: Option<Ms>,
    start_ms: Option<Ms>,
    end_ms: Option<Ms>,
) -> Result<AudioChunks> {
    let chunk_ms = chunk_ms.unwrap_or(DEFAULT_CHUNK_MS);
    if chunk_ms <= 0 {
        return Err(VapError::InvalidArgument(format!(
            "chunk: {chunk_ms} ms is not a positive duration"
        )));
    }
    if let (Some(a), Some(b)) = (start_ms, end_ms) {
        if b < a {
            return Err(VapError::InvalidArgument(format!(
                "end {b} ms is before start {a} ms"
            )));
        }
    }
    let mut s = AudioStream::open(path)?;
    if let Some(a) = start_ms.filter(|a| *a != 0) {
        s.seek(a)?;
    }
    Ok(AudioChunks {
        stream: Some(s),
        chunk_ms,
        end_ms,
    })
}
