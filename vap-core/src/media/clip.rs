//! Clips: a stretch of a recording written as its own file, cut without
//! re-encoding (from the keyframe at or before the start) or exactly (the
//! video re-encoded).

use std::path::Path;

use ffmpeg_next as ff;
use serde::{Deserialize, Serialize};

use super::{container_start_us, open_input, ts_ms};
use crate::error::{Result, VapError};
use crate::schema::Ms;

/// How [`clip`] cuts, as the bindings take it (`{"exact": true}`): one
/// owner for the option, so that every binding reads it the same way.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CutOptions {
    /// Frame-exact, the video re-encoded (default `false`: a remux from the
    /// keyframe before).
    pub exact: bool,
}

impl crate::options::Options for CutOptions {
    const WHAT: &'static str = "clip options";
}

/// A clip written by [`clip`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clip {
    /// The file written.
    pub path: String,
    /// The recording it was cut from.
    pub source: String,
    /// The stretch asked for, ms from the recording's start.
    pub requested_ms: (Ms, Ms),
    /// Where the clip really starts in the recording, ms: the keyframe at or
    /// before the requested start for a remux, the requested start (to the
    /// frame) for an exact cut.
    pub start_ms: f64,
    /// Where it ends in the recording, ms (end of its last video frame, or
    /// of its last audio packet for a recording without video).
    pub end_ms: f64,
    /// Whether the video was re-encoded for an exact cut.
    pub exact: bool,
}

impl Clip {
    /// `end_ms - start_ms`.
    pub fn duration_ms(&self) -> f64 {
        self.end_ms - self.start_ms
    }
}

struct Mapped {
    out: usize,
    tb_in: ff::Rational,
    video: bool,
}

/// Writes positions `[start_ms, end_ms)` of the recording at `src` to `out`
/// (the container from its extension, `.mp4` say), every audio and video
/// stream kept.
///
/// - `exact == false` (a remux, fast, no quality loss): packets are copied
///   from the keyframe at or before `start_ms` (the clip may start up to one
///   keyframe interval early) to the last video packet decoded before
///   `end_ms` (with B-frames the clip may run a few frames past the end,
///   never cut a frame from the reference it needs); audio packets over the
///   same span.
/// - `exact == true`: the video is decoded from that keyframe and re-encoded
///   (H.264 when FFmpeg has an encoder for it, else MPEG-4 part 2) from the
///   frame on screen at `start_ms` (so the clip starts within one frame of
///   the asked instant) to the last frame starting before `end_ms`; audio packets are copied, cut at their own boundaries (within one
///   audio frame, about 21 ms for AAC). The whole clip is re-encoded rather
///   than its first group of pictures only: one track carrying two encoders'
///   parameter sets is handled unevenly by players.
///
/// The output is written beside `out` under a temporary name and renamed
/// when complete: an error never leaves a partial clip behind. Errors: a
/// missing or unreadable recording, or a missing output folder
/// ([`VapError::Io`] / [`VapError::Format`]); an empty or negative stretch,
/// one past the recording's end, `out` naming the recording itself or a
/// path that is not UTF-8 ([`VapError::InvalidArgument`]).
pub fn clip(
    src: impl AsRef<Path>,
    start_ms: Ms,
    end_ms: Ms,
    out: impl AsRef<Path>,
    exact: bool,
) -> Result<Clip> {
    let (src, out) = (src.as_ref(), out.as_ref());
    if start_ms < 0 || end_ms <= start_ms {
        return Err(VapError::InvalidArgument(format!(
            "a clip needs 0 <= start < end, got {start_ms} ms to {end_ms} ms"
        )));
    }
    // FFmpeg takes paths as UTF-8 strings.
    for p in [src, out] {
        if p.to_str().is_none() {
            return Err(VapError::InvalidArgument(format!(
                "{}: a path that is not valid UTF-8",
                p.display()
            )));
        }
    }
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(VapError::io(
            out,
            std::io::Error::new(std::io::ErrorKind::NotFound, "its folder does not exist"),
        ));
    }
    if let (Ok(a), Ok(b)) = (std::fs::canonicalize(src), std::fs::canonicalize(out)) {
        if a == b {
            return Err(VapError::InvalidArgument(format!(
                "{}: a clip cannot replace the recording it is cut from",
                out.display()
            )));
        }
    }
    let mut input = open_input(src)?;
    let start_us = container_start_us(&input);
    let duration_ms = (input.duration() > 0).then(|| input.duration() as f64 / 1000.0);
    if let Some(d) = duration_ms {
        if start_ms as f64 >= d {
            return Err(VapError::InvalidArgument(format!(
                "the clip starts at {start_ms} ms, past the end of {} ({d:.0} ms)",
                src.display()
            )));
        }
    }
    // The video stream: the best one that is not a cover picture (an audio
    // file's attached art is a "video" stream of one frame).
    let is_picture = |s: &ff::format::stream::Stream| {
        s.disposition()
            .contains(ff::format::stream::Disposition::ATTACHED_PIC)
    };
    let video = input
        .streams()
        .best(ff::media::Type::Video)
        .filter(|s| !is_picture(s))
        .or_else(|| {
            input
                .streams()
                .find(|s| s.parameters().medium() == ff::media::Type::Video && !is_picture(s))
        })
        .map(|s| s.index());
    let tmp = tmp_path(out);
    let result = write(
        &mut input, src, &tmp, start_us, start_ms, end_ms, video, exact,
    );
    match result {
        Ok((first, last)) => {
            std::fs::rename(&tmp, out).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                VapError::io(out, e)
            })?;
            Ok(Clip {
                path: out.display().to_string(),
                source: src.display().to_string(),
                requested_ms: (start_ms, end_ms),
                start_ms: first,
                end_ms: last,
                exact: exact && video.is_some(),
            })
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn tmp_path(out: &Path) -> std::path::PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Keep the extension last: FFmpeg picks the container from it.
    out.with_file_name(format!(".{}.{name}", std::process::id()))
}

/// The encoder of an exact cut.
struct Reencode {
    decoder: ff::decoder::Video,
    encoder: ff::encoder::Video,
    out: usize,
    tb_in: ff::Rational,
}

#[allow(clippy::too_many_arguments)]
fn write(
    input: &mut ff::format::context::Input,
    src: &Path,
    out: &Path,
    start_us: i64,
    start_ms: Ms,
    end_ms: Ms,
    video: Option<usize>,
    exact: bool,
) -> Result<(f64, f64)> {
    let fmt_err = |what: &str, e: ff::Error| VapError::format(out, format!("{what}: {e}"));
    let mut octx = ff::format::output(&out).map_err(|e| {
        VapError::InvalidArgument(format!(
            "cannot write a clip to {} (FFmpeg: {e}); give it a media extension such as .mp4",
            out.display()
        ))
    })?;
    let global_header = octx
        .format()
        .flags()
        .contains(ff::format::Flags::GLOBAL_HEADER);
    let mut map: Vec<Option<Mapped>> = Vec::new();
    let mut reencode: Option<Reencode> = None;
    for ist in input.streams() {
        let kind = ist.parameters().medium();
        if kind != ff::media::Type::Audio && kind != ff::media::Type::Video {
            map.push(None);
            continue;
        }
        // Attached pictures (cover art) are not part of the stream's time.
        if ist
            .disposition()
            .contains(ff::format::stream::Disposition::ATTACHED_PIC)
        {
            map.push(None);
            continue;
        }
        let is_video = Some(ist.index()) == video;
        let out_index = map.iter().flatten().count();
        if is_video && exact {
            let decoder = ff::codec::context::Context::from_parameters(ist.parameters())
                .and_then(|c| c.decoder().video())
                .map_err(|e| {
                    VapError::format(src, format!("no decoder for the video stream: {e}"))
                })?;
            let codec = ff::encoder::find(ff::codec::Id::H264)
                .or_else(|| ff::encoder::find(ff::codec::Id::MPEG4))
                .ok_or_else(|| {
                    VapError::format(src, "FFmpeg here has no H.264 or MPEG-4 encoder, so exact cuts are not available; cut at keyframes (exact = false)")
                })?;
            let mut ost = octx
                .add_stream(codec)
                .map_err(|e| fmt_err("output stream", e))?;
            let mut enc = ff::codec::context::Context::new_with_codec(codec)
                .encoder()
                .video()
                .map_err(|e| fmt_err("video encoder", e))?;
            enc.set_width(decoder.width());
            enc.set_height(decoder.height());
            enc.set_aspect_ratio(decoder.aspect_ratio());
            enc.set_format(decoder.format());
            enc.set_frame_rate(decoder.frame_rate().or(Some(ist.avg_frame_rate())));
            enc.set_time_base(ist.time_base());
            if global_header {
                enc.set_flags(ff::codec::Flags::GLOBAL_HEADER);
            }
            let mut opts = ff::Dictionary::new();
            if codec.id() == ff::codec::Id::H264 {
                opts.set("preset", "veryfast");
                opts.set("crf", "20");
            }
            let encoder = enc
                .open_with(opts)
                .map_err(|e| fmt_err("opening the video encoder", e))?;
            ost.set_parameters(&encoder);
            reencode = Some(Reencode {
                decoder,
                encoder,
                out: out_index,
                tb_in: ist.time_base(),
            });
        } else {
            let mut ost = octx
                .add_stream(ff::encoder::find(ff::codec::Id::None))
                .map_err(|e| fmt_err("output stream", e))?;
            ost.set_parameters(ist.parameters());
            // SAFETY: the parameters belong to `ost`, alive here; a codec tag
            // of the source container may not suit the output's.
            unsafe {
                (*ost.parameters().as_mut_ptr()).codec_tag = 0;
            }
        }
        map.push(Some(Mapped {
            out: out_index,
            tb_in: ist.time_base(),
            video: is_video,
        }));
    }
    if map.iter().flatten().next().is_none() {
        return Err(VapError::format(src, "has no audio or video stream"));
    }
    octx.write_header()
        .map_err(|e| fmt_err("writing the clip's header", e))?;
    let tb_out: Vec<ff::Rational> = octx.streams().map(|s| s.time_base()).collect();

    // Seek to the keyframe at or before the start (of the video stream when
    // there is one: FFmpeg's default stream).
    let ts = start_us + start_ms * 1000;
    let _ = input.seek(ts, ..ts);
    let start_f = start_ms as f64;
    let end_f = end_ms as f64;
    let to_ms = |ts: i64, tb: ff::Rational| ts_ms(ts, tb) - start_us as f64 / 1000.0;

    // The clip's zero: the first video keyframe read (remux), or the first
    // frame at or after the start (exact); for audio-only, the first packet.
    let mut zero_ms: Option<f64> = None;
    let mut last_ms = f64::NEG_INFINITY;
    let mut pending_audio: Vec<(usize, ff::Packet)> = Vec::new();
    let mut video_done = video.is_none();
    // Without an audio stream there is nothing to wait for on that side.
    let mut audio_done = !map.iter().flatten().any(|m| !m.video);
    let mut packet = ff::Packet::empty();
    let mut frame = ff::frame::Video::empty();
    let mut errors = 0usize;
    let mut eof = false;
    // Writes a copied packet shifted to the clip's zero.
    let put = |octx: &mut ff::format::context::Output,
               mut p: ff::Packet,
               m: &Mapped,
               zero: f64|
     -> Result<()> {
        let shift = ((zero + start_us as f64 / 1000.0) / 1000.0 * m.tb_in.denominator() as f64
            / m.tb_in.numerator().max(1) as f64)
            .round() as i64;
        if let Some(pts) = p.pts() {
            p.set_pts(Some(pts - shift));
        }
        if let Some(dts) = p.dts() {
            p.set_dts(Some(dts - shift));
        }
        p.rescale_ts(m.tb_in, tb_out[m.out]);
        p.set_position(-1);
        p.set_stream(m.out);
        p.write_interleaved(octx)
            .map_err(|e| VapError::format(out, format!("writing the clip: {e}")))
    };
    // Writes the audio held until the clip's zero was known: the packets
    // from the zero to the end.
    let flush = |octx: &mut ff::format::context::Output,
                 held: &mut Vec<(usize, ff::Packet)>,
                 zero: f64|
     -> Result<()> {
        for (i, a) in held.drain(..) {
            if let Some(Some(am)) = map.get(i) {
                let at = a.pts().or(a.dts()).map_or(0.0, |x| to_ms(x, am.tb_in));
                if at >= zero - 0.5 && at < end_f {
                    put(octx, a, am, zero)?;
                }
            }
        }
        Ok(())
    };
    loop {
        if eof || (video_done && audio_done) {
            break;
        }
        match packet.read(input) {
            Ok(()) => {}
            Err(ff::Error::Eof) => {
                eof = true;
                continue;
            }
            Err(e) => {
                errors += 1;
                if errors > 16 {
                    return Err(VapError::format(
                        src,
                        format!("cannot read the recording: {e}"),
                    ));
                }
                continue;
            }
        }
        let Some(Some(m)) = map.get(packet.stream()) else {
            continue;
        };
        let Some(t) = packet.pts().or(packet.dts()).map(|x| to_ms(x, m.tb_in)) else {
            continue;
        };
        if m.video {
            if video_done {
                continue;
            }
            if let Some(re) = reencode.as_mut() {
                if re.decoder.send_packet(&packet).is_err() {
                    continue;
                }
                while re.decoder.receive_frame(&mut frame).is_ok() {
                    let ft = frame
                        .timestamp()
                        .or(frame.pts())
                        .map(|x| to_ms(x, re.tb_in))
                        .unwrap_or(f64::NEG_INFINITY);
                    // From the frame on screen at the start.
                    if ft + frame_ms(re) <= start_f + 0.5 {
                        continue;
                    }
                    if ft >= end_f - 0.5 {
                        video_done = true;
                        break;
                    }
                    let zero = *zero_ms.get_or_insert(ft);
                    encode(re, &mut frame, ft, zero, &mut octx, &tb_out, out)?;
                    last_ms = last_ms.max(ft + frame_ms(re));
                    flush(&mut octx, &mut pending_audio, zero)?;
                }
                continue;
            }
            if zero_ms.is_none() {
                if !packet.is_key() {
                    continue; // before the first keyframe after the seek
                }
                zero_ms = Some(t);
            }
            // The end in decoding order: every packet decoded before it is
            // kept, so that frames shown before the end keep the later
            // reference frame they need (B-frames); the clip may then run
            // past the end by the stream's reordering depth.
            let d = packet.dts().map_or(t, |x| to_ms(x, m.tb_in));
            if d >= end_f - 0.5 {
                video_done = true;
                continue;
            }
            let dur = ts_ms(packet.duration(), m.tb_in);
            last_ms = last_ms.max(t + dur);
            let p = packet.clone();
            flush(&mut octx, &mut pending_audio, zero_ms.unwrap_or(t))?;
            put(&mut octx, p, m, zero_ms.unwrap_or(t))?;
        } else {
            // Audio: from the clip's zero (its start when cutting exactly)
            // to the end.
            if t >= end_f {
                audio_done = true;
                continue;
            }
            match (zero_ms, video) {
                (None, Some(_)) => {
                    // The video's zero is not known yet: hold the packet
                    // (a keyframe interval of audio at most; the cap stops a
                    // video stream that never yields a keyframe).
                    if pending_audio.len() >= 200_000 {
                        return Err(VapError::format(
                            src,
                            "no video keyframe found near the clip's start",
                        ));
                    }
                    pending_audio.push((packet.stream(), packet.clone()));
                }
                (None, None) => {
                    if t >= start_f - 0.5 || ts_ms(packet.duration(), m.tb_in) + t > start_f {
                        zero_ms = Some(t);
                        last_ms = last_ms.max(t + ts_ms(packet.duration(), m.tb_in));
                        put(&mut octx, packet.clone(), m, t)?;
                    }
                }
                (Some(z), _) => {
                    if t >= z - 0.5 {
                        if video.is_none() {
                            last_ms = last_ms.max(t + ts_ms(packet.duration(), m.tb_in));
                        }
                        put(&mut octx, packet.clone(), m, z)?;
                    }
                }
            }
        }
    }
    if let Some(re) = reencode.as_mut() {
        if !video_done {
            let _ = re.decoder.send_eof();
            while re.decoder.receive_frame(&mut frame).is_ok() {
                let ft = frame
                    .timestamp()
                    .or(frame.pts())
                    .map(|x| to_ms(x, re.tb_in))
                    .unwrap_or(f64::NEG_INFINITY);
                if ft + frame_ms(re) <= start_f + 0.5 || ft >= end_f - 0.5 {
                    continue;
                }
                let zero = *zero_ms.get_or_insert(ft);
                encode(re, &mut frame, ft, zero, &mut octx, &tb_out, out)?;
                last_ms = last_ms.max(ft + frame_ms(re));
            }
        }
        let _ = re.encoder.send_eof();
        drain(re, &mut octx, &tb_out, out)?;
    }
    // Audio still held when the video's zero was found at the very end.
    if let Some(z) = zero_ms {
        flush(&mut octx, &mut pending_audio, z)?;
    }
    let Some(first) = zero_ms else {
        return Err(VapError::InvalidArgument(format!(
            "nothing of {} lies between {start_ms} ms and {end_ms} ms",
            src.display()
        )));
    };
    octx.write_trailer()
        .map_err(|e| fmt_err("finishing the clip", e))?;
    Ok((first, last_ms.max(first)))
}

/// One frame's length in ms (from the encoder's frame rate; 40 ms if
/// unknown).
fn frame_ms(re: &Reencode) -> f64 {
    let r = re.encoder.frame_rate();
    if r.numerator() > 0 && r.denominator() > 0 {
        1000.0 * r.denominator() as f64 / r.numerator() as f64
    } else {
        40.0
    }
}

#[allow(clippy::too_many_arguments)]
fn encode(
    re: &mut Reencode,
    frame: &mut ff::frame::Video,
    t_ms: f64,
    zero_ms: f64,
    octx: &mut ff::format::context::Output,
    tb_out: &[ff::Rational],
    out: &Path,
) -> Result<()> {
    let tb = re.tb_in;
    let pts = ((t_ms - zero_ms) / 1000.0 * tb.denominator() as f64 / tb.numerator().max(1) as f64)
        .round() as i64;
    frame.set_pts(Some(pts));
    frame.set_kind(ff::picture::Type::None);
    re.encoder
        .send_frame(frame)
        .map_err(|e| VapError::format(out, format!("encoding the clip: {e}")))?;
    drain(re, octx, tb_out, out)
}

fn drain(
    re: &mut Reencode,
    octx: &mut ff::format::context::Output,
    tb_out: &[ff::Rational],
    out: &Path,
) -> Result<()> {
    let mut p = ff::Packet::empty();
    while re.encoder.receive_packet(&mut p).is_ok() {
        p.set_stream(re.out);
        p.rescale_ts(re.tb_in, tb_out[re.out]);
        p.set_position(-1);
        p.write_interleaved(octx)
            .map_err(|e| VapError::format(out, format!("writing the clip: {e}")))?;
    }
    Ok(())
}
