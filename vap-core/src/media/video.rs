//! Frame times of a recording, session instants mapped to positions, stills.

use std::path::{Path, PathBuf};

use ffmpeg_next as ff;
use serde::{Deserialize, Serialize};

use super::register::recording_path;
use super::{container_start_us, open_input, ts_ms};
use crate::error::{Result, VapError};
use crate::schema::{Ms, SessionData};
use crate::store::Store;

/// Presentation times of every frame of a recording's video stream, read
/// from the packets (nothing is decoded), and which are keyframes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoIndex {
    /// The file indexed.
    pub path: String,
    /// Index of the video stream in the container.
    pub stream: usize,
    /// Frame times, ms from the container start, sorted.
    pub frames_ms: Vec<f64>,
    /// Keyframe times (a subset of `frames_ms`), sorted.
    pub keyframes_ms: Vec<f64>,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

impl VideoIndex {
    /// Indexes the best video stream of `path`. A file without video is
    /// [`VapError::Format`].
    pub fn build(path: impl AsRef<Path>) -> Result<VideoIndex> {
        let path = path.as_ref();
        let mut input = open_input(path)?;
        let start_us = container_start_us(&input);
        let (stream, tb, size) = {
            let s = input
                .streams()
                .best(ff::media::Type::Video)
                .ok_or_else(|| VapError::format(path, "has no video stream"))?;
            // SAFETY: valid for the life of the stream.
            let p = unsafe { &*s.parameters().as_ptr() };
            (
                s.index(),
                s.time_base(),
                (p.width.max(0) as u32, p.height.max(0) as u32),
            )
        };
        let mut frames = Vec::new();
        let mut keys = Vec::new();
        let mut errors = 0usize;
        let mut packet = ff::Packet::empty();
        loop {
            match packet.read(&mut input) {
                Ok(()) => {}
                Err(ff::Error::Eof) => break,
                Err(_) => {
                    errors += 1;
                    if errors > 16 {
                        break;
                    }
                    continue;
                }
            }
            if packet.stream() != stream {
                continue;
            }
            let Some(ts) = packet.pts().or(packet.dts()) else {
                continue;
            };
            let ms = ts_ms(ts, tb) - start_us as f64 / 1000.0;
            frames.push(ms);
            if packet.is_key() {
                keys.push(ms);
            }
        }
        if frames.is_empty() {
            return Err(VapError::format(path, "no video frames could be read"));
        }
        frames.sort_by(f64::total_cmp);
        keys.sort_by(f64::total_cmp);
        Ok(VideoIndex {
            path: path.display().to_string(),
            stream,
            frames_ms: frames,
            keyframes_ms: keys,
            size,
        })
    }

    /// Time of the frame shown at `position_ms` (the last frame at or before
    /// it), `None` before the first frame.
    pub fn frame_at(&self, position_ms: f64) -> Option<f64> {
        let i = self.frames_ms.partition_point(|t| *t <= position_ms);
        (i > 0).then(|| self.frames_ms[i - 1])
    }

    /// The last keyframe at or before `position_ms` (where a player seeks).
    pub fn keyframe_before(&self, position_ms: f64) -> Option<f64> {
        let i = self.keyframes_ms.partition_point(|t| *t <= position_ms);
        (i > 0).then(|| self.keyframes_ms[i - 1])
    }

    /// Time of the last frame.
    pub fn end_ms(&self) -> f64 {
        *self.frames_ms.last().expect("an index has frames")
    }
}

/// Where a session instant is in the recordings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Located {
    /// Index of the recording in the session's list.
    pub recording: usize,
    /// Its path.
    pub path: String,
    /// Position in the recording, ms (`session_ms - offset_ms`).
    pub position_ms: Ms,
}

/// Maps a session instant to the recording that covers it and the position
/// in it. When recordings overlap, the one registered first wins. `None` when
/// no recording covers the instant (a recording of unknown duration covers
/// everything after its offset).
pub fn locate(data: &SessionData, session_ms: Ms) -> Option<Located> {
    data.session
        .recordings
        .iter()
        .enumerate()
        .find(|(_, r)| {
            session_ms >= r.offset_ms && r.duration_ms.is_none_or(|d| session_ms < r.offset_ms + d)
        })
        .map(|(i, r)| Located {
            recording: i,
            path: r.path.clone(),
            position_ms: session_ms - r.offset_ms,
        })
}

/// A still frame: its pixels as 8-bit RGB, row by row without padding
/// (`rgb.len() == width * height * 3`), encoded as PNG on request
/// ([`Still::png`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Still {
    /// The pixels: `height` rows of `width` RGB triples, top row first.
    pub rgb: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Time of the frame shown, ms from the container start.
    pub frame_ms: f64,
    /// The file it came from.
    pub path: PathBuf,
}

impl Still {
    /// The frame as a PNG file's bytes (8-bit RGB, non-interlaced).
    pub fn png(&self) -> Result<Vec<u8>> {
        let expected = self.width as usize * self.height as usize * 3;
        if self.rgb.len() != expected || expected == 0 {
            return Err(VapError::InvalidArgument(format!(
                "a {}x{} still needs {expected} RGB bytes, it has {}",
                self.width,
                self.height,
                self.rgb.len()
            )));
        }
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, self.width, self.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc
            .write_header()
            .map_err(|e| VapError::Internal(format!("png: {e}")))?;
        writer
            .write_image_data(&self.rgb)
            .map_err(|e| VapError::Internal(format!("png: {e}")))?;
        writer
            .finish()
            .map_err(|e| VapError::Internal(format!("png: {e}")))?;
        Ok(out)
    }

    /// The pixel at column `x`, row `y` (`None` outside the frame).
    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        self.rgb.get(i..i + 3).map(|p| [p[0], p[1], p[2]])
    }
}

/// Extracts the frame shown at `position_ms`, scaled down to at most
/// `max_width` pixels wide (aspect kept, height rounded up to even; `None`
/// keeps the size; 0 is [`VapError::InvalidArgument`]). Seeks to the keyframe
/// before and decodes forward, so the frame is exact. A position past the
/// end gives the last frame; a negative one is [`VapError::InvalidArgument`].
pub fn still_frame(
    path: impl AsRef<Path>,
    position_ms: Ms,
    max_width: Option<u32>,
) -> Result<Still> {
    let path = path.as_ref();
    if position_ms < 0 {
        return Err(VapError::InvalidArgument(format!(
            "position {position_ms} ms is before the start of {}",
            path.display()
        )));
    }
    if max_width == Some(0) {
        return Err(VapError::InvalidArgument(
            "max_width must be a positive number of pixels, got 0".into(),
        ));
    }
    let mut input = open_input(path)?;
    let start_us = container_start_us(&input);
    let (stream, tb, params) = {
        let s = input
            .streams()
            .best(ff::media::Type::Video)
            .ok_or_else(|| VapError::format(path, "has no video stream"))?;
        (s.index(), s.time_base(), s.parameters())
    };
    let ctx = ff::codec::context::Context::from_parameters(params)
        .map_err(|e| VapError::format(path, format!("video stream: {e}")))?;
    let mut decoder = ctx
        .decoder()
        .video()
        .map_err(|e| VapError::format(path, format!("no decoder for the video stream: {e}")))?;
    let ts = start_us + position_ms * 1000;
    let _ = input.seek(ts, ..ts);
    let target = position_ms as f64;
    let mut best: Option<(f64, ff::frame::Video)> = None;
    let mut packet = ff::Packet::empty();
    let mut eof = false;
    let mut frame = ff::frame::Video::empty();
    'outer: loop {
        // Drain decoded frames.
        loop {
            match decoder.receive_frame(&mut frame) {
                Ok(()) => {
                    let t = frame
                        .timestamp()
                        .or(frame.pts())
                        .map(|x| ts_ms(x, tb) - start_us as f64 / 1000.0)
                        .unwrap_or(f64::NEG_INFINITY);
                    if t <= target + 0.5 || best.is_none() {
                        best = Some((t, frame.clone()));
                    } else {
                        break 'outer; // past the target: the previous frame is shown
                    }
                }
                Err(ff::Error::Eof) => break 'outer,
                Err(_) => break,
            }
        }
        if eof {
            break;
        }
        match packet.read(&mut input) {
            Ok(()) => {
                if packet.stream() == stream {
                    let _ = decoder.send_packet(&packet);
                }
            }
            Err(ff::Error::Eof) => {
                let _ = decoder.send_eof();
                eof = true;
            }
            Err(e) => {
                if best.is_none() {
                    return Err(VapError::format(path, format!("cannot read video: {e}")));
                }
                let _ = decoder.send_eof();
                eof = true;
            }
        }
    }
    let Some((frame_ms, frame)) = best else {
        return Err(VapError::format(path, "no video frame could be decoded"));
    };
    let (w0, h0) = (frame.width(), frame.height());
    let (w, h) = match max_width {
        Some(mw) if mw < w0 => {
            let h = ((h0 as u64 * mw as u64) / w0.max(1) as u64).max(1) as u32;
            (mw, h + (h & 1))
        }
        _ => (w0, h0),
    };
    let mut scaler = ff::software::scaling::Context::get(
        frame.format(),
        w0,
        h0,
        ff::format::Pixel::RGB24,
        w,
        h,
        ff::software::scaling::Flags::BILINEAR,
    )
    .map_err(|e| VapError::format(path, format!("video scaler: {e}")))?;
    let mut rgb = ff::frame::Video::empty();
    scaler
        .run(&frame, &mut rgb)
        .map_err(|e| VapError::format(path, format!("video scaling: {e}")))?;
    let stride = rgb.stride(0);
    let data = rgb.data(0);
    let mut pixels = Vec::with_capacity((w * h * 3) as usize);
    for row in 0..h as usize {
        pixels.extend_from_slice(&data[row * stride..row * stride + w as usize * 3]);
    }
    Ok(Still {
        rgb: pixels,
        width: w,
        height: h,
        frame_ms,
        path: path.to_path_buf(),
    })
}

/// The frame shown at instant `session_ms` of a stored session: the
/// recording that covers it ([`locate`]), its file ([`recording_path`]: a
/// copied recording lives under the session's directory) and the still at
/// that position ([`still_frame`], `max_width` as there). Returns where the
/// instant was found with the still. [`VapError::NotFound`] when the session
/// does not exist or no recording covers the instant.
pub fn still_at(
    store: &Store,
    room: &str,
    session: &str,
    session_ms: Ms,
    max_width: Option<u32>,
) -> Result<(Located, Still)> {
    let data = store.load(room, session)?;
    let at = locate(&data, session_ms).ok_or_else(|| {
        VapError::NotFound(format!(
            "no recording of session '{room}/{session}' covers {session_ms} ms ({} registered)",
            data.session.recordings.len()
        ))
    })?;
    let path = recording_path(
        &store.session_dir(room, session)?,
        &data.session.recordings[at.recording],
    );
    let still = still_frame(&path, at.position_ms, max_width)?;
    Ok((at, still))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn still(w: u32, h: u32) -> Still {
        let rgb = (0..w * h * 3).map(|i| (i % 251) as u8).collect();
        Still {
            rgb,
            width: w,
            height: h,
            frame_ms: 40.0,
            path: PathBuf::from("x.mp4"),
        }
    }

    #[test]
    fn png_encodes_the_rgb_pixels_losslessly() {
        let s = still(5, 3);
        let png = s.png().unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let mut r = png::Decoder::new(std::io::Cursor::new(&png))
            .read_info()
            .unwrap();
        let mut buf = vec![0; r.output_buffer_size()];
        let info = r.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (5, 3));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(&buf[..info.buffer_size()], &s.rgb[..]);
        assert_eq!(s.pixel(1, 2), Some([33, 34, 35]));
        assert_eq!(s.pixel(5, 0), None);
    }

    #[test]
    fn png_refuses_pixels_that_do_not_fit_the_size() {
        let mut s = still(4, 4);
        s.rgb.pop();
        assert_eq!(
            s.png().unwrap_err().kind(),
            crate::ErrorKind::InvalidArgument
        );
    }
}
