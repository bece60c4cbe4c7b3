//! Media speed, one run side by side (feature `media`; release build):
//!
//! 1. decode + transcribe of minutes of continuous espeak-ng speech, real-time
//!    factor (wall seconds per second of audio), tiny.en (English) and base
//!    (Mandarin, pinyin voice), greedy, default chunking;
//! 2. audio decode throughput: `vap_core::media::decode_audio` against the
//!    `ffmpeg` command line doing the same resampling (16 kHz mono f32), on
//!    the same file, medians of 5.
//!
//! ```sh
//! cargo bench --locked -p vap-core --features media --bench media -- [minutes] [decode-minutes]
//! ```
//! Needs espeak-ng, ffmpeg, python3 and `make models`. Prints a table and
//! writes `target/bench-media.json`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use vap_core::media::{self, Language, TranscribeOptions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn make(dir: &Path, name: &str, minutes: f64, voice: &str, texts: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let spec = serde_json::json!({
        "out": out.display().to_string(),
        "duration": minutes * 60.0,
        "size": "320x240",
        "flow": {"voice": voice, "texts": texts, "gap": 0.4},
    });
    let sp = dir.join(format!("{name}.json"));
    std::fs::write(&sp, spec.to_string()).unwrap();
    let o = Command::new("python3")
        .arg(root().join("tests/media/make_media.py"))
        .arg(&sp)
        .output()
        .expect("python3 runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<f64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let minutes = args.first().copied().unwrap_or(3.0);
    let decode_minutes = args.get(1).copied().unwrap_or(20.0);
    let models = std::env::var_os("VAP_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("models"));
    let tmp = tempfile::tempdir().unwrap();
    // Distinct sentences in a row (whisper falls back to sampling on
    // repetitive text, which real speech is not).
    let en_texts: Vec<String> = [
        "Try the {} today.",
        "The {} is on sale now.",
        "Look at this {} in my hand.",
        "Order the {} before nine tonight.",
        "This {} is our best seller.",
    ]
    .iter()
    .flat_map(|t| {
        [
            "shampoo",
            "face cream",
            "lipstick",
            "sunscreen",
            "perfume",
            "hair dryer",
            "serum",
            "mascara",
        ]
        .map(|p| t.replace("{}", p))
    })
    .collect();
    let zh_texts: Vec<String> = [
        "jin1 tian1 {} te4 jia4",
        "ma3 shang4 xia4 dan1 {}",
        "kan4 yi2 xia4 zhe4 ge4 {}",
        "{} mai3 yi1 song4 yi1",
    ]
    .iter()
    .flat_map(|t| {
        [
            "jing1 hua2 ye4",
            "kou3 hong2",
            "fang2 shai4 shuang1",
            "xiang1 shui3",
            "mian4 mo2",
        ]
        .map(|p| t.replace("{}", p))
    })
    .collect();
    let en = make(tmp.path(), "en.mp4", minutes, "en", &refs(&en_texts));
    let zh = make(
        tmp.path(),
        "zh.mp4",
        minutes,
        "cmn-latn-pinyin",
        &refs(&zh_texts),
    );
    let mut report = serde_json::Map::new();
    println!("media bench: {minutes} min of continuous speech, 2 threads per run where the machine has them");
    for (name, file, model, lang, target) in [
        (
            "tiny.en greedy (English)",
            &en,
            "ggml-tiny.en.bin",
            Language::En,
            0.04,
        ),
        (
            "base greedy (Mandarin)",
            &zh,
            "ggml-base.bin",
            Language::Zh,
            0.12,
        ),
    ] {
        let opts = TranscribeOptions::new(models.join(model), lang);
        let t0 = Instant::now();
        let t = media::transcribe(file, 0, &opts, &mut |_| true).unwrap();
        let wall = t0.elapsed().as_secs_f64();
        let rtf = wall / (minutes * 60.0);
        println!(
            "  {name:<26} wall {wall:7.1} s  RTF {rtf:.3} (target <= {target})  model {:.1} s  decode {:.2} s  {} utterances",
            t.stats.model_seconds,
            t.stats.decode_seconds,
            t.utterances.len()
        );
        report.insert(
            name.into(),
            serde_json::json!({"wall_s": wall, "rtf": rtf, "target": target,
                "model_s": t.stats.model_seconds, "decode_s": t.stats.decode_seconds,
                "utterances": t.utterances.len()}),
        );
    }
    // Decode throughput against the ffmpeg CLI, same file, same run.
    let long = make(
        tmp.path(),
        "long.mp4",
        decode_minutes,
        "en",
        &["Welcome to the live room, everyone.", "Order now."],
    );
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut n_samples = 0;
    for _ in 0..5 {
        let t0 = Instant::now();
        n_samples = media::decode_audio(&long, None, None).unwrap().len();
        ours.push(t0.elapsed().as_secs_f64());
        let t0 = Instant::now();
        let o = Command::new("ffmpeg")
            .args(["-v", "error", "-threads", "1", "-i"])
            .arg(&long)
            .args(["-vn", "-ac", "1", "-ar", "16000", "-f", "f32le", "-"])
            .output()
            .unwrap();
        theirs.push(t0.elapsed().as_secs_f64());
        assert!(o.status.success());
        assert!((o.stdout.len() as i64 / 4 - n_samples as i64).abs() < 16_000);
    }
    let (a, b) = (median(ours), median(theirs));
    let audio_s = n_samples as f64 / 16_000.0;
    println!(
        "  decode {decode_minutes} min: vap {a:.3} s ({:.0}x real time), ffmpeg CLI {b:.3} s ({:.0}x); ffmpeg / vap = {:.2}",
        audio_s / a,
        audio_s / b,
        b / a
    );
    report.insert(
        "decode".into(),
        serde_json::json!({"audio_s": audio_s, "vap_s": a, "ffmpeg_cli_s": b, "ratio": b / a}),
    );
    let out = root().join("target/bench-media.json");
    let _ = std::fs::write(&out, serde_json::Value::Object(report).to_string());
    println!("  written {}", out.display());
}
