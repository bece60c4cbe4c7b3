//! Media speed, one run side by side (feature `media`; release build):
//!
//! 1. decode + transcribe of minutes of continuous espeak-ng speech, real-time
//!    factor (wall seconds per second of audio) and recall (English: the
//!    spoken product names heard at their time; Mandarin: the characters of
//!    the sentences), tiny.en (English) and base
//!    (Mandarin, pinyin voice), greedy, default chunking: the f16 model and
//!    the q8_0 / q5_1 ones where `scripts/whisper-model.py --quant` wrote them
//!    (q8_0 also with one lane, and with whisper's temperature fallback and
//!    one lane: the defaults before; with OpenBLAS a lane is one thread);
//! 2. audio decode throughput: `vap_core::media::decode_audio` against the
//!    `ffmpeg` command line doing the same resampling (16 kHz mono f32), on
//!    the same file, medians of 5.
//!
//! ```sh
//! cargo bench --locked -p vap-core --features openblas --bench media -- [minutes] [decode-minutes]
//! ```
//! (`make bench-media`: as the Python and Node modules are built; with
//! `--features media` instead, whisper.cpp without OpenBLAS).
//! Needs espeak-ng, ffmpeg, python3 and `make models`. Prints a table and
//! writes `target/bench-media.json`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use vap_core::media::{self, Language, TranscribeOptions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Makes `minutes` of continuous speech cycling through `texts`; returns the
/// file and what was said where: `(start s, end s, text)`.
fn make(
    dir: &Path,
    name: &str,
    minutes: f64,
    voice: &str,
    texts: &[&str],
) -> (PathBuf, Vec<(f64, f64, String)>) {
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
    let placed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let parts = placed["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["at"].as_f64().unwrap(),
                p["end"].as_f64().unwrap(),
                p["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (out, parts)
}

/// Recall of what was said: for each spoken sentence that `expect` knows
/// (what the script says → what the transcript should read), the share of
/// the expected words (English: the product name, whole) or characters
/// (Chinese: every hanzi of the sentence) found in the utterances
/// overlapping the sentence (±1 s); the mean over those sentences.
fn recall(
    parts: &[(f64, f64, String)],
    utterances: &[vap_core::schema::Utterance],
    expect: &dyn Fn(&str) -> Option<(String, bool)>,
) -> f64 {
    let (mut n, mut sum) = (0usize, 0.0);
    for (a, b, text) in parts {
        let Some((want, by_char)) = expect(text) else {
            continue;
        };
        let heard: String = utterances
            .iter()
            .filter(|u| {
                let (s, e) = (u.start_ms as f64 / 1000.0, u.end_ms as f64 / 1000.0);
                s <= b + 1.0 && e >= a - 1.0
            })
            .map(|u| u.text.to_lowercase())
            .collect();
        n += 1;
        sum += if by_char {
            let chars: Vec<char> = want.chars().collect();
            chars.iter().filter(|c| heard.contains(**c)).count() as f64 / chars.len() as f64
        } else {
            heard.contains(&want) as u8 as f64
        };
    }
    sum / n.max(1) as f64
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
    // repetitive text, which real speech is not): every template with every
    // product. Mandarin is spoken in pinyin (espeak's voice); the hanzi are
    // what the transcript should read.
    let en_templates = [
        "Try the {} today.",
        "The {} is on sale now.",
        "Look at this {} in my hand.",
        "Order the {} before nine tonight.",
        "This {} is our best seller.",
    ];
    let en_words = [
        "shampoo",
        "face cream",
        "lipstick",
        "sunscreen",
        "perfume",
        "hair dryer",
        "serum",
        "mascara",
    ];
    let zh_templates = [
        ("jin1 tian1 {} te4 jia4", "今天{}特价"),
        ("ma3 shang4 xia4 dan1 {}", "马上下单{}"),
        ("kan4 yi2 xia4 zhe4 ge4 {}", "看一下这个{}"),
        ("{} mai3 yi1 song4 yi1", "{}买一送一"),
    ];
    let zh_products = [
        ("jing1 hua2 ye4", "精华液"),
        ("kou3 hong2", "口红"),
        ("fang2 shai4 shuang1", "防晒霜"),
        ("xiang1 shui3", "香水"),
        ("mian4 mo2", "面膜"),
    ];
    let en_texts: Vec<String> = en_templates
        .iter()
        .flat_map(|t| en_words.map(|p| t.replace("{}", p)))
        .collect();
    let zh_texts: Vec<String> = zh_templates
        .iter()
        .flat_map(|(t, _)| zh_products.map(|(p, _)| t.replace("{}", p)))
        .collect();
    let en = make(tmp.path(), "en.mp4", minutes, "en", &refs(&en_texts));
    let zh = make(
        tmp.path(),
        "zh.mp4",
        minutes,
        "cmn-latn-pinyin",
        &refs(&zh_texts),
    );
    // Recall: English, the product name; Mandarin (which base hears poorly
    // in espeak's voice), the sentence's characters.
    let en_expect = |text: &str| {
        en_words
            .iter()
            .find(|w| text.contains(*w))
            .map(|w| (w.to_string(), false))
    };
    let zh_expect = |text: &str| {
        zh_templates.iter().find_map(|(t, h)| {
            zh_products
                .iter()
                .find(|(p, _)| t.replace("{}", p) == text)
                .map(|(_, ph)| (h.replace("{}", ph), true))
        })
    };
    let mut report = serde_json::Map::new();
    println!("media bench: {minutes} min of continuous speech, 2 threads per run where the machine has them");
    println!(
        "  recall: English, the product names heard at their time (±1 s); Mandarin, the sentences' characters"
    );
    for (name, (file, parts), model, lang, target, expect) in [
        (
            "tiny.en greedy (English)",
            &en,
            "tiny.en",
            Language::En,
            0.04,
            &en_expect as &dyn Fn(&str) -> Option<(String, bool)>,
        ),
        (
            "base greedy (Mandarin)",
            &zh,
            "base",
            Language::Zh,
            0.12,
            &zh_expect as &dyn Fn(&str) -> Option<(String, bool)>,
        ),
    ] {
        // The f16 model and the quantised ones `whisper-model.py --quant` wrote.
        for variant in ["", "-q8_0", "-q5_1"] {
            let path = models.join(format!("ggml-{model}{variant}.bin"));
            if !variant.is_empty() && !path.is_file() {
                continue;
            }
            // The q8_0 model also with the settings of before (whisper's
            // temperature fallback, one lane), side by side.
            let settings: &[(&str, bool, usize)] = if variant == "-q8_0" {
                &[
                    ("", false, 0),
                    (", 1 lane", false, 1),
                    (", fallback, 1 lane", true, 1),
                ]
            } else {
                &[("", false, 0)]
            };
            for &(how, temperature_fallback, lanes) in settings {
                let opts = TranscribeOptions {
                    temperature_fallback,
                    lanes,
                    ..TranscribeOptions::new(&path, lang.clone())
                };
                let t0 = Instant::now();
                let t = media::transcribe(file, 0, &opts, &mut |_| true).unwrap();
                let wall = t0.elapsed().as_secs_f64();
                let rtf = wall / (minutes * 60.0);
                let r = recall(parts, &t.utterances, expect);
                let label = format!(
                    "{name} {}{how}",
                    if variant.is_empty() {
                        "f16"
                    } else {
                        &variant[1..]
                    }
                );
                println!(
                "  {label:<48} wall {wall:7.1} s  RTF {rtf:.3} (target <= {target})  recall {r:.3}  model {:.1} s  {} utterances",
                t.stats.model_seconds,
                t.utterances.len()
            );
                report.insert(
                    label,
                    serde_json::json!({"wall_s": wall, "rtf": rtf, "target": target, "recall": r,
                    "model_s": t.stats.model_seconds, "decode_s": t.stats.decode_seconds,
                    "utterances": t.utterances.len()}),
                );
            }
        }
    }
    // Decode throughput against the ffmpeg CLI, same file, same run.
    let (long, _) = make(
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
