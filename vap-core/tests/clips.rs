//! Clips of recordings made at test time (an ffmpeg test pattern with
//! espeak-ng speech, tests/media/make_media.py): remuxed from the keyframe
//! before or cut exactly, checked with vap's own probe and index and with
//! the ffprobe command line; the top moments of a replay cut with a manifest.
#![cfg(feature = "media")]

use std::path::{Path, PathBuf};
use std::process::Command;

use vap_core::media::{self, VideoIndex};
use vap_core::options::Options;
use vap_core::replay::{replay, ReplayOptions};
use vap_core::report::{self as report, ClipOptions};
use vap_core::sim::{simulate, SimConfig};
use vap_core::{ErrorKind, VideoRef};

/// A 25 fps recording of `seconds` with a keyframe every `gop` frames.
fn make(dir: &Path, name: &str, seconds: u32, gop: u32) -> PathBuf {
    make_with(dir, name, seconds, gop, 0)
}

/// As [`make`], with `bframes` B-frames between references.
fn make_with(dir: &Path, name: &str, seconds: u32, gop: u32, bframes: u32) -> PathBuf {
    make_spec(
        dir,
        name,
        serde_json::json!({
            "duration": seconds,
            "gop": gop,
            "bframes": bframes,
            "parts": [{"at": 1.0, "text": "the forty seconds that sold three hundred units"}],
        }),
    )
}

/// A recording made by tests/media/make_media.py from `spec` (its `out` set
/// here).
fn make_spec(dir: &Path, name: &str, mut spec: serde_json::Value) -> PathBuf {
    let out = dir.join(name);
    spec["out"] = serde_json::json!(out.display().to_string());
    let sp = dir.join(format!("{name}.json"));
    std::fs::write(&sp, spec.to_string()).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let o = Command::new("python3")
        .arg(root.join("tests/media/make_media.py"))
        .arg(&sp)
        .output()
        .expect("python3 runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

/// The container's duration in ms as the ffprobe command line reads it.
fn ffprobe_ms(path: &Path) -> f64 {
    let o = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse::<f64>()
        .unwrap()
        * 1000.0
}

const FRAME: f64 = 40.0;

#[test]
fn a_remux_starts_on_the_keyframe_before_and_an_exact_cut_on_the_frame() {
    let tmp = tempfile::tempdir().unwrap();
    let src = make(tmp.path(), "src.mp4", 20, 50); // a keyframe every 2 s
    let index = VideoIndex::build(&src).unwrap();

    // A remux: from the keyframe at or before 5.3 s (4 s) to 9 s.
    let out = tmp.path().join("remux.mp4");
    let c = media::clip(&src, 5_300, 9_000, &out, false).unwrap();
    assert!(!c.exact);
    assert_eq!(c.start_ms, index.keyframe_before(5_300.0).unwrap());
    assert!((c.start_ms - 4_000.0).abs() < 0.5, "{c:?}");
    assert!((c.end_ms - 9_000.0).abs() <= FRAME, "{c:?}");
    let info = media::probe(&out).unwrap();
    assert!(info.has_video() && info.has_audio());
    let d = ffprobe_ms(&out);
    // The container holds the video span, audio within one AAC frame of it.
    assert!((d - c.duration_ms()).abs() <= FRAME + 24.0, "{d} vs {c:?}");
    let ci = VideoIndex::build(&out).unwrap();
    assert_eq!(ci.frames_ms.len(), 125, "5 s at 25 fps");
    assert_eq!(ci.keyframes_ms[0], ci.frames_ms[0]);
    assert!(
        ci.frames_ms[0].abs() < 0.5,
        "starts at 0: {}",
        ci.frames_ms[0]
    );
    // Copied, not re-encoded: the first frame is the source's keyframe, pixel
    // for pixel.
    let a = media::still_frame(&out, 0, None).unwrap();
    let b = media::still_frame(&src, 4_000, None).unwrap();
    assert_eq!(a.rgb, b.rgb);

    // Exact: from the frame on screen at 5.3 s, re-encoded.
    let out = tmp.path().join("exact.mp4");
    let c = media::clip(&src, 5_300, 9_000, &out, true).unwrap();
    assert!(c.exact);
    assert!(
        c.start_ms <= 5_300.0 && c.start_ms > 5_300.0 - FRAME,
        "{c:?}"
    );
    assert!((c.end_ms - 9_000.0).abs() <= FRAME, "{c:?}");
    let d = ffprobe_ms(&out);
    assert!((d - 3_700.0).abs() <= FRAME + 24.0, "{d}");
    let ci = VideoIndex::build(&out).unwrap();
    assert_eq!(ci.frames_ms.len(), 93, "5.28 s to 9 s at 25 fps");
    // The first frame looks like the source's frame at 5.3 s (re-encoded:
    // close, not equal), and not like the keyframe a remux would start on.
    let mad = |x: &[u8], y: &[u8]| {
        x.iter()
            .zip(y)
            .map(|(p, q)| (*p as f64 - *q as f64).abs())
            .sum::<f64>()
            / x.len() as f64
    };
    let first = media::still_frame(&out, 0, None).unwrap();
    let want = media::still_frame(&src, 5_300, None).unwrap();
    let key = media::still_frame(&src, 4_000, None).unwrap();
    let (near, far) = (mad(&first.rgb, &want.rgb), mad(&first.rgb, &key.rgb));
    assert!(near < 6.0 && near * 3.0 < far, "near {near}, far {far}");

    // Nothing half written on errors, and the errors say what is wrong.
    let bad = tmp.path().join("bad.mp4");
    let e = media::clip(&src, 9_000, 5_000, &bad, false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = media::clip(&src, 60_000, 65_000, &bad, false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("past the end"), "{e}");
    let e = media::clip(tmp.path().join("none.mp4"), 0, 1_000, &bad, false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    let e = media::clip(&src, 0, 1_000, tmp.path().join("clip.unknownext"), false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') || n.starts_with("bad") || n.starts_with("clip"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn the_top_moments_are_cut_with_a_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    make(tmp.path(), "rec.mp4", 40, 25);
    let mut data = simulate(&SimConfig {
        seed: 5,
        hours: 1.0,
        ..Default::default()
    })
    .unwrap()
    .data;
    let opts = ReplayOptions::from_json(r#"{"model": {"bootstrap": 10, "seed": 1}}"#).unwrap();
    let first = replay(&data, &[], &opts).unwrap();
    assert!(first.moments.len() >= 2);
    // Without a recording: a clear error naming the session.
    let e =
        report::moment_clips(&first, tmp.path().join("none"), &ClipOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.to_string().contains(&first.session_id), "{e}");
    assert!(!tmp.path().join("none").exists());
    // The same 40 s file stands for a recording around each of the top two
    // moments, starting 10 s before it.
    for m in first.moments.iter().take(2) {
        data.session.recordings.push(VideoRef {
            path: "rec.mp4".into(),
            offset_ms: m.start_ms - 10_000,
            size_bytes: None,
            sha256: None,
            duration_ms: Some(40_000),
        });
    }
    let rep = replay(&data, &[], &opts).unwrap();
    let mut o =
        ClipOptions::from_json(r#"{"top": 2, "before": "5s", "after": "5s", "max_length": "20s"}"#)
            .unwrap();
    o.media_dir = Some(tmp.path().display().to_string());
    let out = tmp.path().join("clips");
    let entries = report::moment_clips(&rep, &out, &o).unwrap();
    assert_eq!(entries.len(), 2);
    let manifest: Vec<report::ClipEntry> =
        serde_json::from_slice(&std::fs::read(out.join(report::CLIP_MANIFEST)).unwrap()).unwrap();
    assert_eq!(manifest, entries);
    for (e, m) in entries.iter().zip(&rep.moments) {
        assert_eq!((e.rank, e.moment_start_ms), (m.rank, m.start_ms));
        let pos = m.recording.as_ref().unwrap().position_ms as f64;
        assert!((pos - 10_000.0).abs() < 0.5);
        // 5 s before the moment (a keyframe every second): 5 s into the file.
        assert!((e.start_ms - 5_000.0).abs() < 0.5, "{e:?}");
        let want_end = (5_000.0 + 20_000.0_f64).min(40_000.0);
        assert!((e.end_ms - want_end).abs() <= FRAME, "{e:?}");
        assert_eq!(e.session_start_ms, m.start_ms - 5_000);
        let d = ffprobe_ms(&out.join(&e.file));
        assert!(
            (d - (e.end_ms - e.start_ms)).abs() <= FRAME + 24.0,
            "{d} {e:?}"
        );
        assert_eq!(e.top_part, m.parts.first().map(|p| p.name.clone()));
    }
    // The report beside the recording: each covered moment's still frame
    // embedded (the PNG of the frame at its position), its video seeking.
    let page_path = tmp.path().join("report.html");
    let ro = report::ReportOptions::from_json(r#"{"still_width": 64}"#).unwrap();
    report::write_html(&rep, &page_path, &ro).unwrap();
    let page = std::fs::read_to_string(&page_path).unwrap();
    let covered: Vec<_> = rep
        .moments
        .iter()
        .filter_map(|m| m.recording.as_ref())
        .collect();
    assert_eq!(page.matches("<img class=\"still\"").count(), covered.len());
    assert_eq!(
        page.matches("<video class=\"recording\"").count(),
        covered.len()
    );
    let first = page.split("src=\"data:image/png;base64,").nth(1).unwrap();
    let b64 = &first[..first.find('"').unwrap()];
    let want = media::still_frame(tmp.path().join("rec.mp4"), covered[0].position_ms, Some(64))
        .unwrap()
        .png()
        .unwrap();
    assert_eq!(b64, base64_std(&want));
    // Without stills, none.
    let ro = report::ReportOptions::from_json(r#"{"stills": false}"#).unwrap();
    report::write_html(&rep, &page_path, &ro).unwrap();
    let page = std::fs::read_to_string(&page_path).unwrap();
    assert!(!page.contains("<img class=\"still\""));

    // Bad options, every one named.
    let e = ClipOptions::from_json(r#"{"top": 0, "before": -1, "format": "m p4"}"#).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    for p in ["top must", "before is negative", "format 'm p4'"] {
        assert!(e.to_string().contains(p), "{p}: {e}");
    }
}

/// Base64 as the command line tool writes it (an independent check of the
/// report's own encoder).
fn base64_std(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut c = Command::new("base64")
        .arg("-w0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("base64 runs");
    c.stdin.take().unwrap().write_all(bytes).unwrap();
    let o = c.wait_with_output().unwrap();
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

/// Decodes every frame with the ffmpeg command line: its error output (empty
/// for a clean file).
fn decode_errors(path: &Path) -> String {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn b_frames_video_only_and_paths() {
    let tmp = tempfile::tempdir().unwrap();
    // B-frames: the reference frame after the end is kept, every frame decodes.
    let src = make_with(tmp.path(), "b.mp4", 12, 50, 3);
    let index = VideoIndex::build(&src).unwrap();
    let out = tmp.path().join("b-clip.mp4");
    let c = media::clip(&src, 4_500, 7_300, &out, false).unwrap();
    assert_eq!(c.start_ms, index.keyframe_before(4_500.0).unwrap());
    // Past the end by at most the reordering depth (3 B-frames and the
    // reference after them).
    assert!(
        c.end_ms >= 7_300.0 - FRAME && c.end_ms <= 7_300.0 + 5.0 * FRAME,
        "{c:?}"
    );
    assert_eq!(decode_errors(&out), "");
    let ci = VideoIndex::build(&out).unwrap();
    // Every source frame from the keyframe to the end is there.
    let want = index
        .frames_ms
        .iter()
        .filter(|t| **t >= c.start_ms - 0.5 && **t < 7_300.0 - 0.5)
        .count();
    assert!(
        ci.frames_ms.len() >= want,
        "{} < {want}",
        ci.frames_ms.len()
    );
    let exact = media::clip(&src, 4_500, 7_300, tmp.path().join("b-exact.mp4"), true).unwrap();
    assert_eq!(decode_errors(Path::new(&exact.path)), "");
    // 4.48 s (on screen at 4.5 s) to 7.28 s: 71 frames.
    assert_eq!(VideoIndex::build(&exact.path).unwrap().frames_ms.len(), 71);

    // Video only: stops at the end, not at the end of the file.
    let vo = make_spec(
        tmp.path(),
        "vo.mp4",
        serde_json::json!({"duration": 10, "audio": false}),
    );
    let c = media::clip(&vo, 2_000, 4_000, tmp.path().join("vo-clip.mp4"), false).unwrap();
    assert!((c.end_ms - 4_000.0).abs() <= FRAME, "{c:?}");
    assert!(!media::probe(&c.path).unwrap().has_audio());

    // A clip over its own recording, into a missing folder: refused, typed.
    let e = media::clip(&vo, 0, 1_000, &vo, false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = media::clip(&vo, 0, 1_000, tmp.path().join("no/such/dir/c.mp4"), false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
}
