//! Media, end to end on real files made at test time: espeak-ng speech placed
//! at known times, muxed with an ffmpeg test pattern (tests/media/make_media.py),
//! transcribed with a real Whisper model (`make models`).
#![cfg(feature = "media")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use vap_core::media::{self, Language, TranscribeOptions};
use vap_core::schema::*;
use vap_core::store::{ImportOptions, Store};
use vap_core::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn model(name: &str) -> PathBuf {
    let dir = std::env::var_os("VAP_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("models"));
    let p = dir.join(name);
    assert!(
        p.is_file(),
        "{} is missing: run `make models` (scripts/whisper-model.py) first",
        p.display()
    );
    p
}

#[derive(Debug, Clone)]
struct Placed {
    at: f64,
    end: f64,
}

fn make(dir: &Path, name: &str, spec: serde_json::Value) -> (PathBuf, Vec<Placed>) {
    let out = dir.join(name);
    let mut spec = spec;
    spec["out"] = serde_json::json!(out.display().to_string());
    let sp = dir.join(format!("{name}.json"));
    std::fs::write(&sp, spec.to_string()).unwrap();
    let o = Command::new("python3")
        .arg(root().join("tests/media/make_media.py"))
        .arg(&sp)
        .output()
        .expect("python3 runs");
    assert!(
        o.status.success(),
        "make_media failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let parts = v["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Placed {
            at: p["at"].as_f64().unwrap(),
            end: p["end"].as_f64().unwrap(),
        })
        .collect();
    (out, parts)
}

struct Fixtures {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    /// 30 s, English sentences at 2, 6 and 11 s (the last across the 12 s
    /// join of the chunked test), a warbling tone 20–28 s.
    short: (PathBuf, Vec<Placed>),
    /// 150 s of product talk (see `shop_parts`).
    shop: (PathBuf, Vec<Placed>),
    video_only: PathBuf,
    audio_only: PathBuf,
    corrupt: PathBuf,
    truncated: PathBuf,
}

/// Session-clock seconds of each explain segment; the anchor names the
/// product 2 s and 10 s into it.
const SHOP: [(&str, f64); 6] = [
    ("perfume", 30.0),
    ("cream", 55.0),
    ("shampoo", 80.0),
    ("lipstick", 105.0),
    ("sunscreen", 130.0),
    ("perfume", 150.0),
];
/// The recording starts this long after the session (its true offset).
const TRUE_OFFSET_S: f64 = 20.0;

fn shop_parts() -> Vec<serde_json::Value> {
    let say = |p: &str| match p {
        "perfume" => "This perfume smells fresh.",
        "cream" => "The face cream is on sale now.",
        "shampoo" => "Try the shampoo today.",
        "lipstick" => "Look at this red lipstick.",
        _ => "This sunscreen protects your skin.",
    };
    let mut v = Vec::new();
    for (p, s) in SHOP {
        for d in [2.0, 10.0] {
            v.push(serde_json::json!({"at": s + d - TRUE_OFFSET_S, "text": say(p)}));
        }
    }
    v
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let short = make(
            &dir,
            "short.mp4",
            serde_json::json!({"duration": 30, "tone": [[20, 28]], "parts": [
                {"at": 2, "text": "Welcome to the live room."},
                {"at": 6, "text": "Try the shampoo today."},
                {"at": 11, "text": "The face cream is on sale now."}
            ]}),
        );
        let shop = make(
            &dir,
            "shop.mp4",
            serde_json::json!({"duration": 150, "parts": shop_parts()}),
        );
        let (video_only, _) = make(
            &dir,
            "video_only.mp4",
            serde_json::json!({"duration": 5, "audio": false}),
        );
        let (audio_only, _) = make(
            &dir,
            "audio_only.m4a",
            serde_json::json!({"duration": 5, "video": false, "parts": [{"at": 1, "text": "hello"}]}),
        );
        let corrupt = dir.join("corrupt.mp4");
        let mut junk = b"\0\0\0\x20ftypisom".to_vec();
        junk.extend((0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        std::fs::write(&corrupt, junk).unwrap();
        let truncated = dir.join("truncated.mp4");
        let bytes = std::fs::read(&short.0).unwrap();
        std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
        Fixtures {
            _dir: tmp,
            dir,
            short,
            shop,
            video_only,
            audio_only,
            corrupt,
            truncated,
        }
    })
}

fn opts_en() -> TranscribeOptions {
    TranscribeOptions {
        threads: 2,
        ..TranscribeOptions::new(model("ggml-tiny.en.bin"), Language::En)
    }
}

fn text_of(us: &[Utterance]) -> String {
    us.iter()
        .map(|u| u.text.to_lowercase())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn probe_reports_duration_and_streams() {
    let f = fixtures();
    let info = media::probe(&f.short.0).unwrap();
    let d = info.duration_ms.unwrap();
    assert!((d - 30_000).abs() <= 100, "duration {d}");
    assert!(info.has_audio() && info.has_video());
    let a = info
        .streams
        .iter()
        .find(|s| s.kind == media::StreamKind::Audio)
        .unwrap();
    assert_eq!(a.codec, "aac");
    assert_eq!(a.sample_rate, Some(22_050));
    assert_eq!(a.channels, Some(1));
    let v = info
        .streams
        .iter()
        .find(|s| s.kind == media::StreamKind::Video)
        .unwrap();
    assert_eq!((v.width, v.height), (Some(160), Some(120)));
    assert!((v.frame_rate.unwrap() - 25.0).abs() < 1e-6);
    assert!(!media::probe(&f.video_only).unwrap().has_audio());
}

/// RMS per 100 ms window.
fn envelope(x: &[f32]) -> Vec<f64> {
    x.chunks(1600)
        .map(|c| (c.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / c.len() as f64).sqrt())
        .collect()
}

#[test]
fn decoded_audio_is_16k_mono_and_speech_sits_where_it_was_placed() {
    let f = fixtures();
    let x = media::decode_audio(&f.short.0, None, None).unwrap();
    let n = x.len() as i64;
    assert!((n - 30 * 16_000).abs() <= 1_600, "{n} samples");
    let env = envelope(&x);
    for p in &f.short.1 {
        // Loud inside the placed speech, quiet in the 0.5 s before it.
        let i = (p.at * 10.0) as usize;
        let inside = env[i + 1..(p.end * 10.0) as usize]
            .iter()
            .cloned()
            .fold(0.0, f64::max);
        let before = env[i - 5..i].iter().cloned().fold(0.0, f64::max);
        assert!(
            inside > 0.05 && before < 0.005,
            "at {}: {inside} vs {before}",
            p.at
        );
    }
    // Against the ffmpeg command line doing the same resampling.
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&f.short.0)
        .args(["-vn", "-ac", "1", "-ar", "16000", "-f", "f32le", "-"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let y: Vec<f32> = o
        .stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let m = x.len().min(y.len());
    assert!((x.len() as i64 - y.len() as i64).abs() <= 1_600);
    let (mut xy, mut xx, mut yy) = (0.0, 0.0, 0.0);
    for i in 0..m {
        let (a, b) = (x[i] as f64, y[i] as f64);
        xy += a * b;
        xx += a * a;
        yy += b * b;
    }
    let r = xy / (xx * yy).sqrt();
    assert!(r > 0.99, "correlation with ffmpeg's output {r}");
}

#[test]
fn seeking_returns_the_same_samples_as_reading_through() {
    let f = fixtures();
    let all = media::decode_audio(&f.short.0, None, None).unwrap();
    let w = media::decode_audio(&f.short.0, Some(4_000), Some(6_000)).unwrap();
    assert_eq!(w.len(), 32_000);
    let part = &all[64_000..96_000];
    let err = w
        .iter()
        .zip(part)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(err < 0.02, "max abs difference {err}");
    // Streaming in small reads gives the same samples as one read.
    let mut s = media::AudioStream::open(&f.short.0).unwrap();
    let mut v = Vec::new();
    while s.read(&mut v, 777).unwrap() > 0 {}
    assert_eq!(v.len(), all.len());
    assert!(v.iter().zip(&all).all(|(a, b)| a == b));
    assert!(media::decode_audio(&f.short.0, Some(5), Some(1)).is_err());
}

#[test]
fn audio_chunks_are_fixed_length_and_concatenate_to_the_window() {
    let f = fixtures();
    let all = media::decode_audio(&f.short.0, None, None).unwrap();
    let chunks: Vec<media::AudioChunk> = media::audio_chunks(&f.short.0, Some(7_000), None, None)
        .unwrap()
        .collect::<Result<_>>()
        .unwrap();
    let starts: Vec<Ms> = chunks.iter().map(|c| c.start_ms).collect();
    assert_eq!(starts, [0, 7_000, 14_000, 21_000, 28_000]);
    assert!(chunks[..4].iter().all(|c| c.samples.len() == 7 * 16_000));
    let joined: Vec<f32> = chunks.iter().flat_map(|c| c.samples.clone()).collect();
    assert_eq!(joined, all);

    // A window, in chunks that do not divide it: the last one is cut at the end.
    let w: Vec<media::AudioChunk> =
        media::audio_chunks(&f.short.0, Some(1_500), Some(3_000), Some(8_000))
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
    let starts: Vec<Ms> = w.iter().map(|c| c.start_ms).collect();
    assert_eq!(starts, [3_000, 4_500, 6_000, 7_500]);
    assert_eq!(w[3].samples.len(), 500 * 16);
    let joined: Vec<f32> = w.iter().flat_map(|c| c.samples.clone()).collect();
    assert_eq!(
        joined,
        media::decode_audio(&f.short.0, Some(3_000), Some(8_000)).unwrap()
    );

    // The default chunk is 30 s; an empty window yields nothing.
    let mut d = media::audio_chunks(&f.short.0, None, Some(25_000), None).unwrap();
    assert_eq!(d.chunk_ms(), media::DEFAULT_CHUNK_MS);
    let one = d.next().unwrap().unwrap();
    assert_eq!(one.start_ms, 25_000);
    assert!(d.next().is_none() && d.is_done());
    let mut empty = media::audio_chunks(&f.short.0, None, Some(4_000), Some(4_000)).unwrap();
    assert!(empty.next().is_none());

    // Arguments are checked before anything is read.
    for (chunk, a, b) in [
        (Some(0), None, None),
        (Some(-5), None, None),
        (None, Some(5), Some(1)),
    ] {
        let e = media::audio_chunks(&f.short.0, chunk, a, b).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    }
    let e = media::audio_chunks(f.dir.join("nope.mp4"), None, None, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    let e = media::audio_chunks(&f.video_only, None, None, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
}

/// The q8_0 model `scripts/whisper-model.py --quant q8_0` writes (setup
/// makes it) loads and hears the short file's product words at their times.
#[test]
fn a_quantised_model_hears_the_same_words() {
    let f = fixtures();
    let t = media::transcribe(
        &f.short.0,
        0,
        &TranscribeOptions {
            chunk_ms: 12_000,
            overlap_ms: 2_000,
            threads: 2,
            ..TranscribeOptions::new(model("ggml-tiny.en-q8_0.bin"), Language::En)
        },
        &mut |_| true,
    )
    .unwrap();
    let text = text_of(&t.utterances);
    for w in ["welcome", "shampoo", "face cream", "sale"] {
        assert!(text.contains(w), "'{w}' not in {text:?}");
    }
    assert_eq!(t.utterances.len(), 3, "{:?}", t.utterances);
    for (p, u) in f.short.1.iter().zip(&t.utterances) {
        assert!(
            (u.start_ms as f64 / 1000.0 - p.at).abs() < 1.5,
            "{u:?} vs {}",
            p.at
        );
    }
}

/// Lanes decode voiced windows side by side; the transcript is the same
/// with one lane on one thread, two lanes on two threads and more lanes
/// asked than threads. Whisper's temperature fallback (off by default) is an
/// option and still hears the words.
#[test]
fn the_transcript_does_not_depend_on_lanes_or_threads() {
    let f = fixtures();
    let run = |threads, lanes, temperature_fallback| {
        media::transcribe(
            &f.short.0,
            0,
            &TranscribeOptions {
                chunk_ms: 30_000,
                overlap_ms: 2_000,
                threads,
                lanes,
                temperature_fallback,
                ..TranscribeOptions::new(model("ggml-tiny.en-q8_0.bin"), Language::En)
            },
            &mut |_| true,
        )
        .unwrap()
    };
    let one = run(1, 1, false);
    assert_eq!(one.utterances.len(), 3, "{:?}", one.utterances);
    let key = |t: &media::Transcript| {
        t.utterances
            .iter()
            .map(|u| (u.start_ms, u.end_ms, u.text.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&one), key(&run(2, 0, false)));
    assert_eq!(key(&one), key(&run(2, 5, false)));
    let text = text_of(&run(2, 0, true).utterances);
    for w in ["welcome", "shampoo", "face cream", "sale"] {
        assert!(text.contains(w), "'{w}' not in {text:?}");
    }
}

#[test]
fn english_speech_is_transcribed_at_the_right_times_and_silence_is_not() {
    let f = fixtures();
    let mut calls = Vec::new();
    let t = media::transcribe(
        &f.short.0,
        1_000_000,
        &TranscribeOptions {
            chunk_ms: 12_000,
            overlap_ms: 2_000,
            ..opts_en()
        },
        &mut |p| {
            calls.push(p.clone());
            true
        },
    )
    .unwrap();
    let text = text_of(&t.utterances);
    for w in ["welcome", "live room", "shampoo", "face cream", "sale"] {
        assert!(text.contains(w), "'{w}' not in {text:?}");
    }
    assert_eq!(calls.len(), t.stats.chunks);
    assert_eq!(t.stats.chunks, 3, "30 s in 12 s chunks: 12 + 12 + 6");
    assert_eq!(calls.last().unwrap().done, calls.last().unwrap().total);
    // Times on the given clock, within 1.5 s of where the speech was placed.
    for (p, needle) in f.short.1.iter().zip(["welcome", "shampoo", "cream"]) {
        let u = t
            .utterances
            .iter()
            .find(|u| u.text.to_lowercase().contains(needle))
            .unwrap();
        let s = (u.start_ms - 1_000_000) as f64 / 1000.0;
        assert!((s - p.at).abs() < 1.5, "{needle}: {s} vs {}", p.at);
        assert!(u.end_ms > u.start_ms);
        assert!(u.confidence.unwrap() > 0.2);
    }
    // Nothing in the tone (20–28 s) or the silences.
    assert_eq!(t.utterances.len(), 3, "{:?}", t.utterances);
    // No duplicate of the sentence spanning the 12 s join.
    let n = t
        .utterances
        .iter()
        .filter(|u| u.text.to_lowercase().contains("cream"))
        .count();
    assert_eq!(n, 1, "{:?}", t.utterances);
    assert_eq!(t.languages, vec!["en".to_string()]);
    assert!(t.stats.real_time_factor() > 0.0);
}

fn shop_session(start: Ms) -> SessionData {
    let room = Room {
        id: "media-room".into(),
        name: "Media room".into(),
        platform: None,
    };
    let session = Session {
        id: "s1".into(),
        room_id: room.id.clone(),
        start_ms: start,
        end_ms: start + 200_000,
        timezone: "UTC".into(),
        title: None,
        recordings: vec![],
        facts: Default::default(),
        gaps: vec![],
        plan: None,
    };
    let mut d = SessionData::new(room, session);
    let product = |id: &str, name: &str, alias: &str| Product {
        id: id.into(),
        name: name.into(),
        price: 99.0,
        category: "beauty".into(),
        aliases: vec![alias.into()],
    };
    d.products = vec![
        product("perfume", "fresh perfume", "perfume"),
        product("cream", "face cream", "cream"),
        product("shampoo", "herbal shampoo", "shampoo"),
        product("lipstick", "red lipstick", "lipstick"),
        product("sunscreen", "daily sunscreen", "sunscreen"),
    ];
    d.anchors = vec![
        Anchor {
            id: "amy".into(),
            name: "Amy".into(),
        },
        Anchor {
            id: "bo".into(),
            name: "Bo".into(),
        },
    ];
    d.shifts = vec![
        Shift {
            anchor_id: "amy".into(),
            role: ShiftRole::Host,
            start_ms: start,
            end_ms: start + 100_000,
        },
        Shift {
            anchor_id: "bo".into(),
            role: ShiftRole::Host,
            start_ms: start + 100_000,
            end_ms: start + 200_000,
        },
        Shift {
            anchor_id: "bo".into(),
            role: ShiftRole::FieldControl,
            start_ms: start,
            end_ms: start + 100_000,
        },
    ];
    d.segments = SHOP
        .iter()
        .map(|(p, s)| ProductSegment {
            product_id: p.to_string(),
            kind: SegmentKind::Explain,
            start_ms: start + (*s * 1000.0) as Ms,
            end_ms: start + (*s * 1000.0) as Ms + 15_000,
        })
        .collect();
    d
}

#[test]
fn store_registers_transcribes_and_recovers_a_planted_offset() {
    let f = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let start = 1_700_000_000_000;
    store
        .import(&shop_session(start), &ImportOptions::default())
        .unwrap();
    // Registered at the session's start: 20 s early.
    let r = media::register_recording(&store, "media-room", "s1", &f.shop.0, start).unwrap();
    assert_eq!(r.duration_ms.map(|d| (d - 150_000).abs() < 100), Some(true));
    assert_eq!(r.sha256.as_ref().unwrap().len(), 64);
    let again = media::register_recording(&store, "media-room", "s1", &f.shop.0, start);
    assert!(
        matches!(again, Err(VapError::AlreadyExists(_))),
        "{again:?}"
    );

    let opts = TranscribeOptions {
        chunk_ms: 60_000,
        ..opts_en()
    };
    let t = media::transcribe_session(&store, "media-room", "s1", &opts, &mut |_| true).unwrap();
    assert_eq!(t.stats.chunks, 3, "150 s in 60 s chunks: 60 + 60 + 30");
    let text = text_of(&t.utterances);
    for w in ["perfume", "cream", "shampoo", "lipstick", "sunscreen"] {
        assert!(text.contains(w), "'{w}' not in {text:?}");
    }
    let stored = store.load("media-room", "s1").unwrap();
    assert_eq!(stored.utterances, t.utterances);
    // Checkpoints were dropped with the commit.
    assert!(store
        .read_work("media-room", "s1", "asr")
        .unwrap()
        .is_empty());
    // Speakers from the shifts (host wins over field control).
    assert!(t.utterances.iter().all(|u| u.speaker.is_some()));
    let first = &t.utterances[0];
    assert_eq!(first.speaker.as_deref(), Some("amy"));

    // A 200 s session: search ±30 s in 2 s bins (the default ±60 s in 5 s
    // bins needs 280 s of data).
    let oo = vap_core::align::OffsetOptions {
        max_lag_ms: 30_000,
        step_ms: 2_000,
        ..Default::default()
    };
    let est = vap_core::align::estimate_recording_offset(&stored, 0, &oo).unwrap();
    let off = est.offset_ms.expect("determined");
    // The transcript runs 20 s early: the estimate is -20 s (within 3 s).
    assert!(
        (off + TRUE_OFFSET_S * 1000.0).abs() < 3_000.0,
        "estimate {off} ms ({est:?})"
    );
    let fixed = start - est.offset().unwrap();
    let after = media::set_recording_offset(&store, "media-room", "s1", 0, fixed).unwrap();
    let delta = fixed - start;
    assert_eq!(after.session.recordings[0].offset_ms, fixed);
    assert_eq!(after.utterances.len(), stored.utterances.len());
    for (a, b) in after.utterances.iter().zip(&stored.utterances) {
        assert_eq!(a.start_ms, b.start_ms + delta);
    }
    // Now on the platform clock: each mention inside its explain segment.
    let perfume = after
        .utterances
        .iter()
        .find(|u| u.text.to_lowercase().contains("perfume"))
        .unwrap();
    let seg = &after.segments[0];
    assert!(
        perfume.start_ms >= seg.start_ms - 1_500 && perfume.start_ms < seg.end_ms,
        "{perfume:?}"
    );
    // A moment's video position now uses the corrected offset.
    let loc = media::locate(&after, perfume.start_ms).unwrap();
    assert_eq!(loc.recording, 0);
    assert_eq!(loc.position_ms, perfume.start_ms - fixed);
    assert!(media::locate(&after, fixed - 1).is_none());
}

#[test]
fn a_killed_transcription_resumes_with_only_the_chunks_left() {
    let f = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let start = 1_700_000_000_000;
    store
        .import(&shop_session(start), &ImportOptions::default())
        .unwrap();
    media::register_recording(&store, "media-room", "s1", &f.shop.0, start + 20_000).unwrap();
    let model = model("ggml-tiny.en.bin");
    let args = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vap-transcribe"));
        c.arg(dir.path())
            .args(["media-room", "s1", "--model"])
            .arg(&model)
            .args([
                "--language",
                "en",
                "--chunk",
                "20s",
                "--overlap",
                "2s",
                "--threads",
                "2",
            ])
            .args(extra);
        c
    };
    let mut child = args(&["--quiet"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it (SIGKILL, no unwinding) once two chunks are checkpointed.
    let t0 = std::time::Instant::now();
    loop {
        let n = store.read_work("media-room", "s1", "asr").unwrap().len();
        if n >= 2 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it could be killed"
        );
        assert!(t0.elapsed().as_secs() < 120, "no checkpoint after 2 min");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let saved = store.read_work("media-room", "s1", "asr").unwrap().len();
    assert!((2..7).contains(&saved), "{saved} checkpoints");
    // The session itself is untouched until the end.
    assert!(store
        .load("media-room", "s1")
        .unwrap()
        .utterances
        .is_empty());

    let out = args(&[]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stats = &v["stats"];
    let total = stats["chunks"].as_u64().unwrap() as usize;
    assert_eq!(total, 8, "150 s in 20 s chunks: 7 × 20 + 10");
    assert_eq!(stats["chunks_resumed"].as_u64().unwrap() as usize, saved);
    assert_eq!(
        stats["chunks_transcribed"].as_u64().unwrap() as usize,
        total - saved
    );
    // Only the chunks left were decoded (their audio plus one overlap).
    let decoded = stats["decoded_ms"].as_i64().unwrap();
    let left_ms = 150_000 - saved as i64 * 20_000;
    assert!(
        decoded <= left_ms + 2_100 && decoded >= left_ms,
        "decoded {decoded} for {left_ms}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("from checkpoint").count(), saved, "{stderr}");
    let data = store.load("media-room", "s1").unwrap();
    let text = text_of(&data.utterances);
    for w in ["perfume", "cream", "shampoo", "lipstick", "sunscreen"] {
        assert!(text.contains(w), "'{w}' not in {text:?}");
    }
    assert!(store
        .read_work("media-room", "s1", "asr")
        .unwrap()
        .is_empty());
}

#[test]
fn a_stop_from_the_progress_callback_keeps_the_checkpoints() {
    let f = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let start = 1_700_000_000_000;
    store
        .import(&shop_session(start), &ImportOptions::default())
        .unwrap();
    media::register_recording(&store, "media-room", "s1", &f.short.0, start).unwrap();
    let opts = TranscribeOptions {
        chunk_ms: 10_000,
        overlap_ms: 1_000,
        ..opts_en()
    };
    let e = media::transcribe_session(&store, "media-room", "s1", &opts, &mut |p| p.done < 1)
        .unwrap_err();
    assert!(
        e.to_string().contains("1 of 3 chunks are checkpointed"),
        "{e}"
    );
    assert_eq!(store.read_work("media-room", "s1", "asr").unwrap().len(), 1);
    // Other options make another run: its chunks are not reused.
    let other = TranscribeOptions {
        overlap_ms: 2_000,
        ..opts.clone()
    };
    let t = media::transcribe_session(&store, "media-room", "s1", &other, &mut |_| true).unwrap();
    assert_eq!((t.stats.chunks_resumed, t.stats.chunks_transcribed), (0, 3));
}

#[test]
fn bad_files_and_models_give_clean_errors() {
    let f = fixtures();
    let missing = f.dir.join("nope.mp4");
    let is_io_not_found = |e: &VapError| matches!(e, VapError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound);
    let e = media::probe(&missing).unwrap_err();
    assert!(is_io_not_found(&e), "{e:?}");
    assert!(e.to_string().contains("nope.mp4"));
    let e = media::decode_audio(&f.video_only, None, None).unwrap_err();
    assert!(
        matches!(e, VapError::Format { .. }) && e.to_string().contains("no audio"),
        "{e}"
    );
    let e = media::probe(&f.corrupt).unwrap_err();
    assert!(matches!(e, VapError::Format { .. }), "{e:?}");
    assert!(e.to_string().contains("corrupt.mp4"));
    // A truncated mp4 (its index at the end is gone) cannot be opened.
    let e = media::decode_audio(&f.truncated, None, None).unwrap_err();
    assert!(matches!(e, VapError::Format { .. }), "{e:?}");
    let e = media::VideoIndex::build(&f.audio_only).unwrap_err();
    assert!(e.to_string().contains("no video"), "{e}");

    let mut o = opts_en();
    o.model = f.dir.join("no-model.bin");
    let e = media::transcribe(&f.short.0, 0, &o, &mut |_| true).unwrap_err();
    assert!(is_io_not_found(&e), "{e:?}");
    let junk = f.dir.join("junk-model.bin");
    std::fs::write(&junk, vec![7u8; 4096]).unwrap();
    o.model = junk;
    let e = media::transcribe(&f.short.0, 0, &o, &mut |_| true).unwrap_err();
    assert!(
        matches!(e, VapError::Format { .. }) && e.to_string().contains("ggml"),
        "{e}"
    );
    // A real model cut short: the magic is right, the tensors are not there.
    let cut = f.dir.join("cut-model.bin");
    let bytes = std::fs::read(model("ggml-tiny.en.bin")).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    o.model = cut;
    let e = media::transcribe(&f.short.0, 0, &o, &mut |_| true).unwrap_err();
    assert!(matches!(e, VapError::Format { .. }), "{e:?}");
    // An English-only model refuses another language.
    let o = TranscribeOptions {
        language: Language::Zh,
        ..opts_en()
    };
    let e = media::transcribe(&f.short.0, 0, &o, &mut |_| true).unwrap_err();
    assert!(e.to_string().contains("English-only"), "{e}");
    // A session without recordings.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .import(&shop_session(1_700_000_000_000), &ImportOptions::default())
        .unwrap();
    let e = media::transcribe_session(&store, "media-room", "s1", &opts_en(), &mut |_| true)
        .unwrap_err();
    assert!(e.to_string().contains("no recordings"), "{e}");
    let e = media::register_recording(&store, "media-room", "s1", &missing, 0).unwrap_err();
    assert!(is_io_not_found(&e), "{e:?}");
    assert!(store
        .load("media-room", "s1")
        .unwrap()
        .session
        .recordings
        .is_empty());
}

#[test]
fn video_index_maps_instants_to_frames_and_stills_match_ffmpeg() {
    let f = fixtures();
    let idx = media::VideoIndex::build(&f.short.0).unwrap();
    assert_eq!(idx.frames_ms.len(), 750, "30 s at 25 fps");
    assert_eq!(idx.keyframes_ms.len(), 30, "a keyframe a second (-g 25)");
    assert_eq!(idx.size, (160, 120));
    assert_eq!(idx.frame_at(1_019.0), Some(1_000.0));
    assert_eq!(idx.frame_at(1_041.0), Some(1_040.0));
    assert_eq!(idx.keyframe_before(2_500.0), Some(2_000.0));
    assert_eq!(idx.frame_at(-1.0), None);
    assert!((idx.end_ms() - 29_960.0).abs() < 1e-6);

    for at in [0, 7_345, 29_990] {
        let still = media::still_frame(&f.short.0, at, None).unwrap();
        assert_eq!((still.width, still.height), (160, 120));
        let expect_frame = idx.frame_at(at as f64).unwrap();
        assert!(
            (still.frame_ms - expect_frame).abs() < 1e-6,
            "{} vs {expect_frame}",
            still.frame_ms
        );
        assert_eq!(still.rgb.len(), 160 * 120 * 3);
        // The PNG holds exactly the pixels.
        assert_eq!(png_rgb(&still.png().unwrap()), still.rgb);
        let ours = &still.rgb;
        let o = Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&f.short.0)
            .args(["-ss", &format!("{:.3}", expect_frame / 1000.0)])
            .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
            .output()
            .unwrap();
        assert!(o.status.success());
        assert_eq!(o.stdout.len(), ours.len());
        let mad = ours
            .iter()
            .zip(&o.stdout)
            .map(|(a, b)| (*a as i32 - *b as i32).abs() as f64)
            .sum::<f64>()
            / ours.len() as f64;
        assert!(mad < 3.0, "at {at}: mean abs pixel difference {mad}");
    }
    let small = media::still_frame(&f.short.0, 1_000, Some(80)).unwrap();
    assert_eq!((small.width, small.height), (80, 60));
    assert_eq!(small.rgb.len(), 80 * 60 * 3);
    assert!(media::still_frame(&f.short.0, -5, None).is_err());
    let e = media::still_frame(&f.short.0, 1_000, Some(0)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn stills_at_session_instants_come_from_the_covering_recording() {
    let f = fixtures();
    let start = 1_700_000_000_000;
    let offset = start + 20_000;
    for copy in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut d = shop_session(start);
        d.session.recordings.push(VideoRef {
            path: f.shop.0.display().to_string(),
            offset_ms: offset,
            size_bytes: None,
            sha256: None,
            duration_ms: Some(150_000),
        });
        let opts = ImportOptions {
            copy_recordings: copy,
            ..Default::default()
        };
        store.import(&d, &opts).unwrap();
        let stored = &store.load("media-room", "s1").unwrap().session.recordings[0];
        // A copied recording is stored relative to the session directory.
        assert_eq!(std::path::Path::new(&stored.path).is_relative(), copy);
        let file = media::recording_path(&store.session_dir("media-room", "s1").unwrap(), stored);
        assert!(file.is_file(), "{}", file.display());

        let (at, still) =
            media::still_at(&store, "media-room", "s1", offset + 7_345, Some(80)).unwrap();
        assert_eq!((at.recording, at.position_ms), (0, 7_345));
        assert_eq!(still.path, file);
        assert_eq!((still.width, still.height), (80, 60));
        let direct = media::still_frame(&f.shop.0, 7_345, Some(80)).unwrap();
        assert_eq!((still.rgb, still.frame_ms), (direct.rgb, direct.frame_ms));

        for t in [offset - 1, offset + 150_000] {
            let e = media::still_at(&store, "media-room", "s1", t, None).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
            assert!(e.to_string().contains("1 registered"), "{e}");
        }
        let e = media::still_at(&store, "media-room", "nope", offset, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
    }
}

fn png_rgb(bytes: &[u8]) -> Vec<u8> {
    let dec = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    buf
}

#[test]
fn chinese_speech_with_the_multilingual_model() {
    let f = fixtures();
    let (path, parts) = make(
        &f.dir,
        "zh.mp4",
        // Debian's espeak-ng reads most Hanzi as English-spelled pinyin; its
        // pinyin voice speaks Mandarin syllables with tones.
        serde_json::json!({"duration": 24, "parts": [
            {"at": 1, "text": "huan1 ying2 lai2 dao4 zhi2 bo1 jian1", "voice": "cmn-latn-pinyin"},
            {"at": 6, "text": "jin1 tian1 jing1 hua2 ye4 te4 jia4", "voice": "cmn-latn-pinyin"},
            {"at": 11, "text": "ma3 shang4 xia4 dan1", "voice": "cmn-latn-pinyin"},
            {"at": 16, "text": "xie4 xie4 da4 jia1", "voice": "cmn-latn-pinyin"}
        ]}),
    );
    let o = TranscribeOptions {
        threads: 2,
        ..TranscribeOptions::new(model("ggml-base.bin"), Language::Zh)
    };
    let t = media::transcribe(&path, 0, &o, &mut |_| true).unwrap();
    let text: String = t.utterances.iter().map(|u| u.text.as_str()).collect();
    // Simplified characters (whisper writes Traditional: 歡迎 → 欢迎).
    let hits = ["欢迎", "直播", "精华", "马上", "谢谢", "大家"]
        .iter()
        .filter(|w| text.contains(**w))
        .count();
    assert!(hits >= 3, "only {hits} of 6 keywords in {text:?}");
    let first = &t.utterances[0];
    assert!(
        ((first.start_ms as f64 / 1000.0) - parts[0].at).abs() < 1.5,
        "{first:?}"
    );
    assert_eq!(t.languages, vec!["zh".to_string()]);
}

#[test]
fn whisper_log_lines_can_be_captured() {
    use std::sync::{Arc, Mutex};
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    media::set_whisper_log(media::WhisperLog::Callback(Arc::new(move |_, l| {
        sink.lock().unwrap().push(l.to_string())
    })));
    let f = fixtures();
    let o = TranscribeOptions {
        chunk_ms: 30_000,
        ..opts_en()
    };
    media::transcribe(&f.short.0, 0, &o, &mut |_| true).unwrap();
    media::set_whisper_log(media::WhisperLog::Silent);
    let got = lines.lock().unwrap();
    assert!(got.iter().any(|l| l.contains("whisper")), "{got:?}");
}
