//! Transcribes the recordings of a stored session (feature `media`).
//!
//! ```sh
//! cargo run --release -p vap-core --features media --bin vap-transcribe -- \
//!     STORE ROOM SESSION --model models/ggml-base.bin [--language auto|zh|en] \
//!     [--chunk 5min] [--overlap 3s] [--threads N] [--beam N] [--quiet]
//! ```
//!
//! Progress goes to stderr, one line per chunk; the statistics go to stdout
//! as JSON. Every chunk is checkpointed in the store: stop it (or kill it)
//! and run the same command again to continue.

use std::process::ExitCode;

use vap_core::align::parse_duration_ms;
use vap_core::media::{transcribe_session, Language, TranscribeOptions};
use vap_core::{Result, Store, VapError};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> VapError {
    VapError::InvalidArgument(
        "usage: vap-transcribe STORE ROOM SESSION --model PATH [--language auto|zh|en] \
         [--chunk 5min] [--overlap 3s] [--threads N] [--lanes N] [--beam N] \
         [--temperature-fallback] [--quiet]"
            .into(),
    )
}

fn run() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mut pos = Vec::new();
    let mut opts = TranscribeOptions::default();
    let mut quiet = false;
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or_else(usage);
        match a.as_str() {
            "--model" => opts.model = val()?.into(),
            "--language" => opts.language = Language::parse(&val()?)?,
            "--chunk" => opts.chunk_ms = parse_duration_ms(&val()?)?,
            "--overlap" => opts.overlap_ms = parse_duration_ms(&val()?)?,
            "--threads" => opts.threads = val()?.parse().map_err(|_| usage())?,
            "--lanes" => opts.lanes = val()?.parse().map_err(|_| usage())?,
            "--beam" => opts.beam_size = val()?.parse().map_err(|_| usage())?,
            "--temperature-fallback" => opts.temperature_fallback = true,
            "--quiet" => quiet = true,
            "-h" | "--help" => return Err(usage()),
            _ if a.starts_with("--") => return Err(usage()),
            _ => pos.push(a),
        }
    }
    let [store, room, session] = <[String; 3]>::try_from(pos).map_err(|_| usage())?;
    let store = Store::open(store)?;
    let t = transcribe_session(&store, &room, &session, &opts, &mut |p| {
        if !quiet {
            eprintln!("{p}");
        }
        true
    })?;
    let out = serde_json::json!({
        "utterances": t.utterances.len(),
        "languages": t.languages,
        "stats": t.stats,
        "real_time_factor": t.stats.real_time_factor(),
    });
    println!("{out}");
    Ok(())
}
