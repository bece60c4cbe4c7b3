//! Whisper transcription of recordings into [`Utterance`]s on the session clock.
//!
//! A recording is cut into chunks of `chunk_ms` (default 5 min), each decoded
//! with `overlap_ms` of audio either side so that no word is cut at a join;
//! a segment belongs to the chunk its midpoint falls in, and a segment that
//! repeats the text of its neighbour across a join is dropped. Segments whose
//! audio is near silence, which whisper itself thinks hold no speech, which
//! only annotate non-speech (`[Music]`) or which repeat the same text over and
//! over (whisper's failure mode on music) are filtered and counted.
//!
//! Through the store ([`transcribe_session`]) every chunk is checkpointed as a
//! work file as soon as it is done: a crash or a stop loses at most the chunk
//! in flight, and a rerun with the same recordings, model and options decodes
//! only the chunks that are left. The final transcript replaces the session's
//! utterances atomically and drops the checkpoints in the same commit.
//!
//! By stage: [`options`](TranscribeOptions) and the default prompt, the voice
//! detector (`voice`), the whisper.cpp stage (`whisper`), the segment filters
//! (`filter`), the chunked driver with its checkpoints (`run`), and the
//! output (`output`).

use std::path::Path;

use super::audio::SAMPLE_RATE;
use super::register::recording_path;
use crate::error::{Result, VapError};
use crate::schema::Ms;
use crate::store::Store;

mod filter;
mod options;
mod output;
mod run;
mod voice;
mod whisper;

pub use options::{
    build_initial_prompt, Language, TranscribeOptions, AUTO_LANES_FROM, LANE_THREADS,
};
use output::to_utterances;
pub use output::{Progress, Transcript, TranscriptStats};
use run::{job_for, run_keys, Run, WORK_AREA};

/// Samples per millisecond.
const PER_MS: usize = SAMPLE_RATE as usize / 1000;

/// Transcribes one recording file (no store, no checkpoints). Utterance times
/// are `offset_ms + position`; speakers are left unknown.
///
/// `progress` is called after every chunk; returning `false` stops the run
/// with an error.
pub fn transcribe(
    path: impl AsRef<Path>,
    offset_ms: Ms,
    opts: &TranscribeOptions,
    progress: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Transcript> {
    opts.check()?;
    let job = job_for(path.as_ref(), offset_ms, None)?;
    let jobs = [job];
    let prompt = opts.initial_prompt.clone();
    let run = Run {
        opts,
        keys: run_keys(&jobs, opts, prompt.as_deref())?,
        prompt,
        checkpoint: None,
    };
    let (segs, languages, stats) = run.go(&jobs, progress)?;
    Ok(Transcript {
        utterances: to_utterances(segs, &jobs, None),
        languages,
        stats,
    })
}

/// Transcribes every recording of a stored session and replaces its
/// utterances with the result (atomically, dropping the checkpoints in the
/// same commit). Each chunk is checkpointed as soon as it is done; a rerun
/// with the same recordings, model and options continues where the last one
/// stopped. Speakers are the anchors on shift ([`Shift`](crate::schema::Shift)); the prompt
/// defaults to the session's products.
pub fn transcribe_session(
    store: &Store,
    room: &str,
    session: &str,
    opts: &TranscribeOptions,
    progress: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Transcript> {
    opts.check()?;
    let data = store.load(room, session)?;
    if data.session.recordings.is_empty() {
        return Err(VapError::InvalidArgument(format!(
            "session '{room}/{session}' has no recordings: register one first"
        )));
    }
    let dir = store.session_dir(room, session)?;
    let mut jobs = Vec::new();
    for r in &data.session.recordings {
        let p = recording_path(&dir, r);
        let size = std::fs::metadata(&p)
            .map_err(|e| VapError::io(&p, e))?
            .len();
        if r.size_bytes.is_some_and(|n| n != size) {
            return Err(VapError::format(
                &p,
                format!(
                    "has {size} bytes, not the {} registered: the file changed since it was registered",
                    r.size_bytes.unwrap_or(0)
                ),
            ));
        }
        jobs.push(job_for(
            &recording_path(&dir, r),
            r.offset_ms,
            r.sha256.as_deref(),
        )?);
    }
    let prompt = opts
        .initial_prompt
        .clone()
        .or_else(|| build_initial_prompt(&data, &opts.language));
    let run = Run {
        opts,
        keys: run_keys(&jobs, opts, prompt.as_deref())?,
        prompt,
        checkpoint: Some((store, room, session)),
    };
    let (segs, languages, stats) = run.go(&jobs, progress)?;
    let shas: Vec<Option<String>> = data
        .session
        .recordings
        .iter()
        .map(|r| r.sha256.clone())
        .collect();
    // Offsets and speakers are read at the commit, under the store's lock: a
    // recording registered or re-offset during a long run is not overwritten
    // with the values read at its start.
    let stored = store.update_session(room, session, &[WORK_AREA], move |d| {
        let now: Vec<Option<String>> =
            d.session.recordings.iter().map(|r| r.sha256.clone()).collect();
        if now != shas {
            return Err(VapError::InvalidArgument(format!(
                "the recordings of '{}/{}' changed during the transcription; run it again (finished chunks are reused)",
                d.room.id, d.session.id
            )));
        }
        let mut jobs = jobs;
        for (j, r) in jobs.iter_mut().zip(&d.session.recordings) {
            j.offset_ms = r.offset_ms;
        }
        d.utterances = to_utterances(segs, &jobs, Some(d));
        Ok(())
    })?;
    Ok(Transcript {
        utterances: stored.utterances,
        languages,
        stats,
    })
}

#[cfg(test)]
mod tests {
    use super::filter::{is_annotation, is_looping};
    use super::run::chunk_ranges;
    use super::voice::{rms_dbfs, trim_to_voice, voice_windows};
    use super::*;

    #[test]
    fn chunks_cover_the_recording_without_a_tiny_tail() {
        assert_eq!(
            chunk_ranges(22_000, 10_000),
            vec![(0, 10_000), (10_000, 22_000)]
        );
        assert_eq!(
            chunk_ranges(30_000, 10_000),
            vec![(0, 10_000), (10_000, 20_000), (20_000, 30_000)]
        );
        assert_eq!(chunk_ranges(5_000, 10_000), vec![(0, 5_000)]);
        assert!(chunk_ranges(0, 10_000).is_empty());
    }

    #[test]
    fn loops_and_annotations_are_recognised() {
        assert!(is_looping("谢谢谢谢谢谢谢谢谢谢"));
        assert!(is_looping("Thank you. Thank you. Thank you. Thank you."));
        assert!(!is_looping("this serum is on sale at ninety nine"));
        assert!(!is_looping("好的"));
        assert!(is_annotation("[Music]"));
        assert!(is_annotation("(applause)"));
        assert!(is_annotation("♪ ♪"));
        assert!(!is_annotation("the [new] serum"));
        assert!(!is_annotation("(笑) 大家好 (笑)"));
        assert!(is_annotation("*laughs*"));
    }

    #[test]
    fn segments_are_trimmed_to_the_voiced_frames() {
        let mut x = vec![0.0f32; 16_000 * 4];
        for (i, v) in x.iter_mut().enumerate().take(48_000).skip(24_000) {
            *v = 0.3 * ((i as f32) * 0.05).sin();
        }
        assert_eq!(trim_to_voice(&x, 0, 4_000, -50.0), (1_500, 3_000));
        assert_eq!(trim_to_voice(&[0.0; 16_000], 0, 1_000, -50.0), (0, 1_000));
    }

    #[test]
    fn voice_windows_skip_silence_and_stay_under_the_whisper_window() {
        let sr = SAMPLE_RATE as usize;
        let tone = |x: &mut [f32], a: f64, b: f64| {
            let (a, b) = ((a * sr as f64) as usize, (b * sr as f64) as usize);
            for (i, v) in x.iter_mut().enumerate().take(b).skip(a) {
                *v = 0.2 * ((i as f32) * 0.07).sin();
            }
        };
        let mut x = vec![0.0f32; 100 * sr];
        tone(&mut x, 3.0, 5.0);
        tone(&mut x, 6.0, 7.0); // 1 s gap: same window
        tone(&mut x, 20.0, 90.0); // continuous: cut under 28 s
        let w = voice_windows(&x, -50.0);
        let secs: Vec<(f64, f64)> = w
            .iter()
            .map(|(a, b)| (*a as f64 / sr as f64, *b as f64 / sr as f64))
            .collect();
        assert!(
            (secs[0].0 - 2.8).abs() < 0.03 && (secs[0].1 - 7.2).abs() < 0.03,
            "{secs:?}"
        );
        assert!((secs[1].0 - 19.8).abs() < 0.03, "{secs:?}");
        assert!(secs.iter().all(|(a, b)| b - a <= 28.0 + 1e-9), "{secs:?}");
        let covered: f64 = secs[1..].iter().map(|(a, b)| b - a).sum();
        assert!((covered - 70.4).abs() < 0.1, "{secs:?}");
        assert!(voice_windows(&vec![0.0; 5 * sr], -50.0).is_empty());
    }

    #[test]
    fn silence_is_minus_infinity_and_full_scale_is_zero() {
        assert_eq!(rms_dbfs(&[0.0; 100]), f32::NEG_INFINITY);
        assert!(rms_dbfs(&[1.0; 100]).abs() < 1e-6);
        assert!((rms_dbfs(&[0.1; 100]) + 20.0).abs() < 1e-4);
    }

    #[test]
    fn options_read_from_json_with_defaults() {
        let o: TranscribeOptions =
            serde_json::from_str(r#"{"model": "m.bin", "language": "zh", "chunk_ms": 60000}"#)
                .unwrap();
        assert_eq!(o.language, Language::Zh);
        assert_eq!(o.chunk_ms, 60_000);
        assert_eq!(o.overlap_ms, 3_000);
        // `chunk` is read (an alias of chunk_ms); 1 ms is then refused by check().
        let short: TranscribeOptions = serde_json::from_str(r#"{"chunk": 1}"#).unwrap();
        assert_eq!(short.chunk_ms, 1);
        assert!(matches!(short.check(), Err(VapError::Validation(_))));
        assert!(serde_json::from_str::<TranscribeOptions>(r#"{"chunks": 1}"#).is_err());
        assert!(serde_json::from_str::<TranscribeOptions>(r#"{"language": "xx"}"#).is_err());
    }

    #[test]
    fn options_are_checked_together() {
        let o = TranscribeOptions {
            chunk_ms: 1000,
            overlap_ms: -1,
            beam_size: 0,
            lanes: 17,
            ..Default::default()
        };
        match o.check() {
            Err(VapError::Validation(p)) => assert_eq!(p.len(), 4, "{p:?}"),
            other => panic!("{other:?}"),
        }
        assert!(Language::parse("klingon").is_err());
        assert_eq!(Language::parse("ZH").unwrap(), Language::Zh);
        assert_eq!(Language::parse("ja").unwrap().code(), "ja");
    }

    #[test]
    fn lanes_follow_the_threads() {
        let o = |threads, lanes| TranscribeOptions {
            threads,
            lanes,
            ..Default::default()
        };
        assert_eq!(o(1, 0).lanes(), 1);
        assert_eq!(o(2, 0).lanes(), 2);
        let openblas = LANE_THREADS.is_some();
        assert_eq!(o(8, 0).lanes(), if openblas { 4 } else { 2 });
        assert_eq!(o(8, 3).lanes(), 3);
        assert_eq!(o(8, 2).lane_threads(2), if openblas { 1 } else { 4 });
        assert_eq!(o(3, 1).lane_threads(1), if openblas { 1 } else { 3 });
        assert_eq!(o(2, 5).lanes(), 2);
        assert_eq!(o(2, 0).lanes_for(1), 1);
        assert_eq!(o(2, 0).lanes_for(AUTO_LANES_FROM - 1), 1);
        assert_eq!(o(2, 0).lanes_for(AUTO_LANES_FROM), 2);
        assert_eq!(o(2, 0).lanes_for(4), 2);
        assert_eq!(o(2, 2).lanes_for(3), 2);
        assert_eq!(o(2, 2).lanes_for(1), 1);
        assert_eq!(o(1, 0).lanes_for(9), 1);
        let d = TranscribeOptions::default();
        assert_eq!((d.lanes, d.temperature_fallback), (0, false));
    }
}
