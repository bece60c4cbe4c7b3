//! The `vap` command line (feature `media`): import session directories,
//! list what a store holds, replay a session into its report and clips,
//! the room's report, transcribe a recording. The Rust binary (`cargo run
//! -p vap-core --features media --bin vap`), the Python package's console
//! script (`vap`) and the Node package's `bin` all run [`run`], so they
//! behave the same.
//!
//! Exit codes scripts can rely on ([`exit_code`]): 0 done; 1 an unexpected
//! error (a bug: please report it); 2 a usage error or an invalid argument
//! (unknown command or option, missing argument, a clip past the end of its
//! recording); 3 not found (store, room, session, file); 4 bad
//! data (a file that fails validation or cannot be parsed); 5 an I/O error;
//! 6 a conflict (already exists, or written by a newer vap); 130 stopped
//! on request (as after Ctrl-C).
//!
//! ```
//! let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
//! let (mut out, mut err) = (Vec::new(), Vec::new());
//! assert_eq!(vap_core::cli::run(&args(&["--version"]), &mut out, &mut err), 0);
//! assert!(String::from_utf8(out).unwrap().starts_with("vap "));
//! // A usage error exits 2, with the help on stderr.
//! let (mut out, mut err) = (Vec::new(), Vec::new());
//! assert_eq!(vap_core::cli::run(&args(&["replay"]), &mut out, &mut err), 2);
//! assert!(String::from_utf8(err).unwrap().contains("Usage: vap replay"));
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::align::parse_duration_ms;
use crate::error::{ErrorKind, Result, VapError};
use crate::ingest::LoadOptions;
use crate::media::{self, Language, TranscribeOptions};
use crate::options::Options;
use crate::replay::{self, Replay, ReplayOptions};
use crate::report::{self, ClipOptions, Lang, ReportOptions};
use crate::store::{ImportOptions, Store};

const MAIN_HELP: &str = "\
vap: live-stream e-commerce review (直播复盘) from the command line

Usage: vap <command> [arguments] [options]

Commands:
  import      import session directories into a store
  sessions    list the sessions a store holds
  replay      replay a stored session: headline, top moments and their causes;
              its HTML report and clips of its top moments
  room        the room's report: every stored session, product and anchor
  transcribe  transcribe a stored session's recordings with Whisper
  help        this text, or a command's (`vap help replay`)

Run `vap <command> --help` for a command's options and an example.

Exit codes: 0 done · 1 unexpected error (a bug) · 2 usage or invalid argument ·
3 not found · 4 bad data · 5 I/O error · 6 conflict (exists, newer format) ·
130 stopped on request
";

const IMPORT_HELP: &str = "\
vap import: import session directories, or one session's platform exports, into a store

Usage: vap import DIR... --store STORE [--replace] [--copy-recordings] [--quiet]
       vap import FILE... --store STORE [--room ID] [--session ID] [--timezone TZ] [--replace]

  DIR                a session directory (manifest.json, comments, orders, metrics, ...;
                     CSV, JSON Lines or Parquet, UTF-8 or GB18030)
  FILE               the exports and capture logs of one session, each format detected:
                     Compass session list (XLSX/CSV), per-minute trend, order stream and
                     traffic sources (JSON), Douyin or TikTokLive capture logs (JSON Lines),
                     TikTok Shop LIVE per-session or per-minute performance (JSON); what
                     each field became is printed (ignored fields, dropped rows, gaps, checks)
  --room ID          room id (default: the capture log's, else \"room\")
  --session ID       session id (default: its local start, 2026-11-25-2000)
  --timezone TZ      time zone of local times in the files (default Asia/Shanghai)
  --store STORE      the store (created if missing)
  --replace          replace a session already stored (default: refuse, exit 6)
  --copy-recordings  copy the recordings into the store
  --quiet            no progress lines

Every directory is validated first: a bad one is reported with every problem
(file, row, field) and nothing of it is stored; the others are imported.

Example:
  vap import exports/2026-12-01 exports/2026-12-02 --store brand-store
  vap import 直播列表.xlsx trend.json orders.json capture.jsonl --room acme --store brand-store
";

const SESSIONS_HELP: &str = "\
vap sessions: list the sessions a store holds

Usage: vap sessions STORE [--room ROOM] [--json]

  --room ROOM  only this room's sessions
  --json       one JSON object per line instead of a table

Example:
  vap sessions brand-store --room room-1
";

const REPLAY_HELP: &str = "\
vap replay: replay a stored session (直播复盘)

Usage: vap replay STORE ROOM SESSION [--html FILE] [--lang zh|en] [--clips N]
                  [--clips-dir DIR] [--exact] [--json FILE] [--top N]
                  [--bootstrap N] [--quiet]

Prints the data-quality notes, the headline figures and the top moments with
their top causes; the report and clips on request.

  --html FILE      write the report (one self-contained HTML file); a recording
                   in the same folder is linked at each moment
  --lang zh|en     the report's language (default zh)
  --clips N        cut the top N moments out of the recording (needs one
                   registered on the session); remuxed from the keyframe before
  --clips-dir DIR  where the clips and clips.json go (default SESSION-clips)
  --exact          frame-exact clips (the video re-encoded; slower)
  --json FILE      the whole replay as JSON
  --top N          how many moments (default: the replay's, see
                   `vap.option_defaults(\"replay\")`)
  --bootstrap N    bootstrap replicates of the intervals (default: the model's)
  --quiet          no progress lines

Example:
  vap replay brand-store room-1 s9 --html s9.html --clips 3
";

const ROOM_HELP: &str = "\
vap room: the room's report across its stored sessions

Usage: vap room STORE ROOM --html FILE [--lang zh|en] [--quiet]

Every stored session against the room's median, products across sessions and
anchors with the room model's effects, in one HTML file.

Example:
  vap room brand-store room-1 --html room-1.html
";

const TRANSCRIBE_HELP: &str = "\
vap transcribe: transcribe a stored session's recordings (whisper.cpp)

Usage: vap transcribe STORE ROOM SESSION --model FILE [--language auto|zh|en]
                      [--chunk 5min] [--overlap 3s] [--threads N] [--lanes N] [--beam N]
                      [--temperature-fallback] [--quiet]

--lanes: voiced windows decoded side by side (0, the default: two when there are two threads
and a chunk has four voiced windows or more).
--temperature-fallback: decode again at higher temperatures when a decode fails whisper's
checks (off by default: slower, and no more words on the test media).

One progress line per chunk, with a bar. Every chunk is checkpointed in the store: stop it
(Ctrl-C) and run the same command again to go on where it stopped.

Example:
  vap transcribe brand-store room-1 s9 --model models/ggml-base.bin --language zh
";

/// A usage error: exit code 2.
#[derive(Debug)]
struct Usage(String);

enum Failure {
    Usage(Usage),
    Vap(VapError),
}

impl From<VapError> for Failure {
    fn from(e: VapError) -> Self {
        Failure::Vap(e)
    }
}

impl From<Usage> for Failure {
    fn from(e: Usage) -> Self {
        Failure::Usage(e)
    }
}

type Out<'a> = &'a mut dyn Write;

/// The exit code of an error of kind `k` (see the module's documentation).
pub fn exit_code(k: ErrorKind) -> i32 {
    match k {
        ErrorKind::InvalidArgument => 2,
        ErrorKind::NotFound => 3,
        ErrorKind::Validation | ErrorKind::Format => 4,
        ErrorKind::Io => 5,
        ErrorKind::AlreadyExists | ErrorKind::Version => 6,
        ErrorKind::Internal => 1,
        ErrorKind::Cancelled => 130,
    }
}

/// Runs the command line `args` (without the program's name), writing
/// results to `out` and progress and errors to `err`; returns the exit code.
pub fn run(args: &[String], out: Out<'_>, err: Out<'_>) -> i32 {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        dispatch(args, &mut *out, &mut *err)
    }));
    let r = match r {
        Ok(r) => r,
        Err(payload) => {
            let msg = crate::error::panic_message(payload.as_ref());
            let _ = writeln!(err, "vap: internal error (a bug, please report it): {msg}");
            return 1;
        }
    };
    match r {
        Ok(()) => 0,
        Err(Failure::Usage(Usage(msg))) => {
            let _ = writeln!(err, "vap: {msg}");
            2
        }
        Err(Failure::Vap(e)) => {
            let _ = writeln!(err, "vap: error: {e}");
            exit_code(e.kind())
        }
    }
}

/// Parsed arguments: positionals, flags with values, switches.
struct Args {
    pos: Vec<String>,
    vals: Vec<(String, String)>,
    switches: Vec<String>,
}

impl Args {
    fn parse(
        args: &[String],
        with_value: &[&str],
        switches: &[&str],
        help: &str,
    ) -> std::result::Result<Option<Args>, Usage> {
        let mut a = Args {
            pos: vec![],
            vals: vec![],
            switches: vec![],
        };
        let mut it = args.iter();
        while let Some(x) = it.next() {
            if x == "-h" || x == "--help" {
                return Ok(None);
            }
            if let Some(name) = x.strip_prefix("--") {
                let (name, inline) = match name.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (name, None),
                };
                if with_value.contains(&name) {
                    let v = match inline {
                        Some(v) => v,
                        None => it
                            .next()
                            .cloned()
                            .ok_or_else(|| Usage(format!("--{name} needs a value\n\n{help}")))?,
                    };
                    a.vals.push((name.to_string(), v));
                } else if switches.contains(&name) && inline.is_none() {
                    a.switches.push(name.to_string());
                } else {
                    return Err(Usage(format!("unknown option --{name}\n\n{help}")));
                }
            } else {
                a.pos.push(x.clone());
            }
        }
        Ok(Some(a))
    }

    fn val(&self, name: &str) -> Option<&str> {
        self.vals
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn on(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> std::result::Result<Option<T>, Usage> {
        self.val(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| Usage(format!("--{name} takes a whole number, got '{v}'")))
            })
            .transpose()
    }

    fn positionals<const N: usize>(&self, help: &str) -> std::result::Result<[&str; N], Usage> {
        let p: Vec<&str> = self.pos.iter().map(String::as_str).collect();
        <[&str; N]>::try_from(p).map_err(|p| {
            Usage(format!(
                "expected {N} argument(s), got {}: {}\n\n{help}",
                p.len(),
                if p.is_empty() {
                    "none".to_string()
                } else {
                    p.join(" ")
                }
            ))
        })
    }
}

fn dispatch(args: &[String], out: Out<'_>, err: Out<'_>) -> std::result::Result<(), Failure> {
    let Some((cmd, rest)) = args.split_first() else {
        let _ = write!(err, "{MAIN_HELP}");
        return Err(Usage("no command given".into()).into());
    };
    match cmd.as_str() {
        "-h" | "--help" => {
            let _ = write!(out, "{MAIN_HELP}");
            Ok(())
        }
        "--version" | "-V" => {
            let _ = writeln!(out, "vap {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        "help" => {
            let text = match rest.first().map(String::as_str) {
                None => MAIN_HELP,
                Some("import") => IMPORT_HELP,
                Some("sessions") => SESSIONS_HELP,
                Some("replay") => REPLAY_HELP,
                Some("room") => ROOM_HELP,
                Some("transcribe") => TRANSCRIBE_HELP,
                Some(other) => {
                    return Err(Usage(format!("no command '{other}'\n\n{MAIN_HELP}")).into())
                }
            };
            let _ = write!(out, "{text}");
            Ok(())
        }
        "import" => import(rest, out, err),
        "sessions" => sessions(rest, out),
        "replay" => replay_cmd(rest, out, err),
        "room" => room(rest, out, err),
        "transcribe" => transcribe(rest, out, err),
        other => Err(Usage(format!("no command '{other}'\n\n{MAIN_HELP}")).into()),
    }
}

/// `vap import FILE...`: one session from platform exports and capture logs.
fn import_sources(
    a: &Args,
    store: &Store,
    opts: &ImportOptions,
    out: Out<'_>,
    err: Out<'_>,
) -> std::result::Result<(), Failure> {
    use crate::ingest::sources::{read_sources, SourceFile, SourceOptions};
    let mut so = SourceOptions {
        room_id: a.val("room").map(str::to_string),
        session_id: a.val("session").map(str::to_string),
        ..SourceOptions::default()
    };
    if let Some(tz) = a.val("timezone") {
        so.timezone = tz.to_string();
    }
    let files: Vec<SourceFile> = a.pos.iter().map(SourceFile::new).collect();
    let (data, report) = read_sources(&files, &so)?;
    if !a.on("quiet") {
        for line in report.lines() {
            let _ = writeln!(err, "{line}");
        }
    }
    store.import(&data, opts)?;
    let _ = writeln!(
        out,
        "imported {}/{} ({} comments, {} orders, {} metric series)",
        data.room.id,
        data.session.id,
        data.comments.len(),
        data.orders.len(),
        data.metrics.len()
    );
    Ok(())
}

fn import(args: &[String], out: Out<'_>, err: Out<'_>) -> std::result::Result<(), Failure> {
    let Some(a) = Args::parse(
        args,
        &["store", "room", "session", "timezone"],
        &["replace", "copy-recordings", "quiet"],
        IMPORT_HELP,
    )?
    else {
        let _ = write!(out, "{IMPORT_HELP}");
        return Ok(());
    };
    let store = a
        .val("store")
        .ok_or_else(|| Usage(format!("--store is required\n\n{IMPORT_HELP}")))?;
    if a.pos.is_empty() {
        return Err(Usage(format!("no session directory given\n\n{IMPORT_HELP}")).into());
    }
    let store = Store::open(store)?;
    let opts = ImportOptions {
        replace: a.on("replace"),
        copy_recordings: a.on("copy-recordings"),
    };
    let quiet = a.on("quiet");
    let files = a.pos.iter().filter(|p| Path::new(p).is_file()).count();
    if files > 0 {
        // One session's exports: each must be there (a typo is not "both").
        if let Some(missing) = a.pos.iter().find(|p| !Path::new(p).exists()) {
            return Err(VapError::NotFound(format!("no file at {missing}")).into());
        }
    }
    if files == 0 {
        if let Some(flag) = ["room", "session", "timezone"]
            .into_iter()
            .find(|f| a.val(f).is_some())
        {
            return Err(Usage(format!(
                "--{flag} is for platform exports; a session directory names its room and session in its manifest\n\n{IMPORT_HELP}"
            ))
            .into());
        }
    }
    if files > 0 {
        if files < a.pos.len() {
            return Err(Usage(format!(
                "give session directories or the files of one session, not both\n\n{IMPORT_HELP}"
            ))
            .into());
        }
        return import_sources(&a, &store, &opts, out, err);
    }
    let n = a.pos.len();
    let mut failed: Vec<VapError> = Vec::new();
    for (k, dir) in a.pos.iter().enumerate() {
        let t = Instant::now();
        if !quiet {
            let _ = write!(err, "[{}/{n}] {dir} … ", k + 1);
        }
        let r = if Path::new(dir).is_dir() {
            store.import_dir(dir, &LoadOptions::default(), &opts)
        } else {
            Err(VapError::NotFound(format!("no session directory at {dir}")))
        };
        match r {
            Ok(d) => {
                if !quiet {
                    let _ = writeln!(err, "ok ({:.1} s)", t.elapsed().as_secs_f64());
                }
                let _ = writeln!(
                    out,
                    "imported {}/{} ({} comments, {} orders)",
                    d.room.id,
                    d.session.id,
                    d.comments.len(),
                    d.orders.len()
                );
            }
            Err(e) => {
                if !quiet {
                    let _ = writeln!(err, "failed");
                }
                if n > 1 {
                    let _ = writeln!(err, "vap: {dir}: {e}");
                }
                failed.push(e);
            }
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    if failed.len() > 1 {
        let _ = writeln!(
            err,
            "vap: {} of {n} directories were not imported",
            failed.len()
        );
    }
    // The exit code of the most telling failure: bad data, then not found,
    // then I/O, then the rest.
    let rank = |k: ErrorKind| match k {
        ErrorKind::Validation | ErrorKind::Format => 0,
        ErrorKind::NotFound => 1,
        ErrorKind::Io => 2,
        _ => 3,
    };
    let worst = (0..failed.len())
        .min_by_key(|&i| rank(failed[i].kind()))
        .unwrap_or(0);
    Err(failed.swap_remove(worst).into())
}

fn sessions(args: &[String], out: Out<'_>) -> std::result::Result<(), Failure> {
    let Some(a) = Args::parse(args, &["room"], &["json"], SESSIONS_HELP)? else {
        let _ = write!(out, "{SESSIONS_HELP}");
        return Ok(());
    };
    let [store] = a.positionals::<1>(SESSIONS_HELP)?;
    let store = open_existing(store)?;
    let list = store.sessions(a.val("room"))?;
    if a.on("json") {
        for s in &list {
            let line = serde_json::json!({
                "room_id": s.room_id,
                "session_id": s.session_id,
                "start_ms": s.start_ms,
                "end_ms": s.end_ms,
                "rows": s.rows,
                "damage": s.damage,
            });
            let _ = writeln!(out, "{line}");
        }
        return Ok(());
    }
    let _ = writeln!(
        out,
        "{:<16} {:<20} {:>8} {:>10} {:>8}",
        "room", "session", "hours", "comments", "orders"
    );
    for s in &list {
        let _ = writeln!(
            out,
            "{:<16} {:<20} {:>8.1} {:>10} {:>8}{}",
            s.room_id,
            s.session_id,
            (s.end_ms - s.start_ms) as f64 / 3_600_000.0,
            s.rows.get("comments").copied().unwrap_or(0),
            s.rows.get("orders").copied().unwrap_or(0),
            if s.damage.is_empty() {
                ""
            } else {
                "  (damaged: run a check)"
            }
        );
    }
    let _ = writeln!(out, "{} session(s)", list.len());
    Ok(())
}

fn lang_of(a: &Args) -> std::result::Result<Lang, Usage> {
    match a.val("lang") {
        None | Some("zh") => Ok(Lang::Zh),
        Some("en") => Ok(Lang::En),
        Some(o) => Err(Usage(format!("--lang takes zh or en, got '{o}'"))),
    }
}

fn replay_cmd(args: &[String], out: Out<'_>, err: Out<'_>) -> std::result::Result<(), Failure> {
    let Some(a) = Args::parse(
        args,
        &[
            "html",
            "lang",
            "clips",
            "clips-dir",
            "json",
            "top",
            "bootstrap",
        ],
        &["exact", "quiet"],
        REPLAY_HELP,
    )?
    else {
        let _ = write!(out, "{REPLAY_HELP}");
        return Ok(());
    };
    let [store, room, session] = a.positionals::<3>(REPLAY_HELP)?;
    let lang = lang_of(&a)?;
    let clips: Option<usize> = a.number("clips")?;
    if clips == Some(0) {
        return Err(Usage("--clips takes at least 1".into()).into());
    }
    let mut opts = ReplayOptions::default();
    if let Some(k) = a.number::<usize>("top")? {
        opts.top = k;
    }
    if let Some(b) = a.number::<usize>("bootstrap")? {
        opts.model.bootstrap = b;
    }
    opts.check()?;
    let store = open_existing(store)?;
    let quiet = a.on("quiet");
    let t = Instant::now();
    if !quiet {
        let _ = write!(err, "replaying {room}/{session} … ");
    }
    let r = replay::from_store(&store, room, session, &opts)?;
    if !quiet {
        let _ = writeln!(err, "done ({:.1} s)", t.elapsed().as_secs_f64());
    }
    print_replay(&r, out);
    if let Some(path) = a.val("json") {
        crate::store::write_atomic(Path::new(path), r.to_json()?.as_bytes())?;
        let _ = writeln!(out, "replay (JSON): {path}");
    }
    if let Some(path) = a.val("html") {
        let o = ReportOptions {
            lang,
            ..Default::default()
        };
        report::write_html(&r, path, &o)?;
        let _ = writeln!(out, "report: {path}");
    }
    if let Some(k) = clips {
        let dir = a
            .val("clips-dir")
            .map_or_else(|| PathBuf::from(format!("{session}-clips")), PathBuf::from);
        let o = ClipOptions {
            top: Some(k),
            exact: a.on("exact"),
            ..Default::default()
        };
        if !quiet {
            let _ = writeln!(
                err,
                "cutting the top {k} moment(s) into {} …",
                dir.display()
            );
        }
        let entries = report::moment_clips(&r, &dir, &o)?;
        for e in &entries {
            let _ = writeln!(
                out,
                "clip #{}: {} ({:.1}–{:.1} s of {})",
                e.rank,
                dir.join(&e.file).display(),
                e.start_ms / 1000.0,
                e.end_ms / 1000.0,
                e.recording
            );
        }
        let _ = writeln!(
            out,
            "manifest: {}",
            dir.join(report::CLIP_MANIFEST).display()
        );
    }
    Ok(())
}

/// A store that must exist already (its `vap-store.json`): not found
/// otherwise, rather than a new empty store.
fn open_existing(store: &str) -> Result<Store> {
    if !Path::new(store).join("vap-store.json").is_file() {
        return Err(VapError::NotFound(format!("no vap store at {store}")));
    }
    Store::open(store)
}

/// The replay in a terminal: quality, headline, top moments with causes.
fn print_replay(r: &Replay, out: Out<'_>) {
    let at = |t: i64| format!("+{} min", (t - r.start_ms) / 60_000);
    let _ = writeln!(
        out,
        "vap · session replay (直播复盘) · {}/{}",
        r.room_id, r.session_id
    );
    if r.quality.notes.is_empty() {
        let _ = writeln!(out, "data quality: no holes in any stream");
    } else {
        let _ = writeln!(out, "data quality (read first):");
        for n in &r.quality.notes {
            let when = n
                .start_ms
                .map(|s| format!("{} ", at(s)))
                .unwrap_or_default();
            let _ = writeln!(out, "  {:<22} {when}{}", n.stream, n.message);
        }
    }
    let _ = writeln!(out, "headline:");
    for f in &r.headline {
        let v = match f.value {
            Some(v) if f.unit == "ratio" => format!("{:.2} %", 100.0 * v),
            Some(v) => format!("{v:.1}"),
            None => format!("— ({})", f.missing.as_deref().unwrap_or("missing")),
        };
        let _ = writeln!(out, "  {:<28} {v}", f.label_en);
    }
    let _ = writeln!(out, "top moments and their top causes:");
    if r.moments.is_empty() {
        let _ = writeln!(out, "  none stood out");
    }
    for m in &r.moments {
        let cause = m
            .parts
            .iter()
            .find(|p| p.name != "unexplained")
            .map(|p| format!("{} {:+.0}", p.name, p.value))
            .unwrap_or_else(|| "no model split".into());
        let _ = writeln!(
            out,
            "  #{} {} {:?} on {} {:+.0}: {cause}{}",
            m.rank,
            at(m.start_ms),
            m.kind,
            m.metric,
            m.magnitude,
            m.product_in_focus
                .as_ref()
                .map(|p| format!(" (explaining {p})"))
                .unwrap_or_default()
        );
    }
}

fn room(args: &[String], out: Out<'_>, err: Out<'_>) -> std::result::Result<(), Failure> {
    let Some(a) = Args::parse(args, &["html", "lang"], &["quiet"], ROOM_HELP)? else {
        let _ = write!(out, "{ROOM_HELP}");
        return Ok(());
    };
    let [store, room_id] = a.positionals::<2>(ROOM_HELP)?;
    let path = a
        .val("html")
        .ok_or_else(|| Usage(format!("--html is required\n\n{ROOM_HELP}")))?;
    let lang = lang_of(&a)?;
    let store = open_existing(store)?;
    if !a.on("quiet") {
        let _ = writeln!(err, "reading the room's sessions …");
    }
    let r = replay::room(&store, room_id, &ReplayOptions::default())?;
    let o = ReportOptions {
        lang,
        ..Default::default()
    };
    let book = report::room_playbook(&store, &r, &o);
    let page = report::room_html_with(&r, book.as_ref(), &o)?;
    crate::store::write_atomic(std::path::Path::new(path), page.as_bytes())?;
    let _ = writeln!(
        out,
        "{} session(s), {} product(s), {} anchor(s)",
        r.sessions.len(),
        r.products.len(),
        r.anchors.len()
    );
    let _ = writeln!(out, "report: {path}");
    Ok(())
}

fn transcribe(args: &[String], out: Out<'_>, err: Out<'_>) -> std::result::Result<(), Failure> {
    let Some(a) = Args::parse(
        args,
        &[
            "model", "language", "chunk", "overlap", "threads", "lanes", "beam",
        ],
        &["quiet", "temperature-fallback"],
        TRANSCRIBE_HELP,
    )?
    else {
        let _ = write!(out, "{TRANSCRIBE_HELP}");
        return Ok(());
    };
    let [store, room, session] = a.positionals::<3>(TRANSCRIBE_HELP)?;
    let mut o = TranscribeOptions {
        model: a
            .val("model")
            .ok_or_else(|| Usage(format!("--model is required\n\n{TRANSCRIBE_HELP}")))?
            .into(),
        ..Default::default()
    };
    if let Some(l) = a.val("language") {
        o.language = Language::parse(l)?;
    }
    if let Some(c) = a.val("chunk") {
        o.chunk_ms = parse_duration_ms(c)?;
    }
    if let Some(c) = a.val("overlap") {
        o.overlap_ms = parse_duration_ms(c)?;
    }
    if let Some(n) = a.number("threads")? {
        o.threads = n;
    }
    if let Some(n) = a.number("lanes")? {
        o.lanes = n;
    }
    if let Some(n) = a.number("beam")? {
        o.beam_size = n;
    }
    o.temperature_fallback = a.on("temperature-fallback");
    o.check()?;
    let store = open_existing(store)?;
    let quiet = a.on("quiet");
    let t = media::transcribe_session(&store, room, session, &o, &mut |p| {
        if !quiet {
            let _ = writeln!(err, "{p}");
        }
        true
    })?;
    let _ = writeln!(
        out,
        "{} utterances ({}), real-time factor {:.3}",
        t.utterances.len(),
        t.languages.join(", "),
        t.stats.real_time_factor()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_args(args: &[&str]) -> (i32, String, String) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run(&args, &mut out, &mut err);
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn import_reads_one_sessions_exports_and_says_what_became_of_them() {
        let fx = |n: &str| {
            format!(
                "{}/../tests/fixtures/imports/{n}",
                env!("CARGO_MANIFEST_DIR")
            )
        };
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("s");
        let store = store.to_str().unwrap();
        let (trend, orders, list, log) = (
            fx("compass_trend.json"),
            fx("compass_orders.json"),
            fx("compass_sessions.xlsx"),
            fx("douyin_capture.jsonl"),
        );
        let (c, o, e) = run_args(&[
            "import", &list, &trend, &orders, &log, "--room", "acme", "--store", store,
        ]);
        assert_eq!(c, 0, "{e}");
        assert!(o.contains("imported acme/2026-11-25-2000"), "{o}");
        assert!(e.contains("ignored gpm"), "{e}");
        assert!(e.contains("gap: douyin_capture"), "{e}");
        let s = Store::open(store)
            .unwrap()
            .load("acme", "2026-11-25-2000")
            .unwrap();
        let gaps: Vec<&str> = s.session.gaps.iter().map(|g| g.source.as_str()).collect();
        assert_eq!(gaps, ["douyin_capture", "compass_trend"]);
        assert!(s.session.facts.contains_key("gmv"));
        // A mistyped file is not found (exit 3), not "directories and files".
        let (c, _, e) = run_args(&["import", &trend, "nope.json", "--store", store]);
        assert_eq!(c, 3, "{e}");
        assert!(e.contains("nope.json"), "{e}");
        // The exports' flags mean nothing to a session directory.
        let (c, _, e) = run_args(&[
            "import",
            dir.path().to_str().unwrap(),
            "--room",
            "x",
            "--store",
            store,
        ]);
        assert_eq!(c, 2, "{e}");
        // Directories and files together are a usage error.
        let (c, _, e) = run_args(&[
            "import",
            dir.path().to_str().unwrap(),
            &trend,
            "--store",
            store,
        ]);
        assert_eq!(c, 2, "{e}");
    }

    #[test]
    fn usage_errors_exit_2_and_help_exits_0() {
        let (c, _, e) = run_args(&[]);
        assert_eq!(c, 2);
        assert!(e.contains("Commands:"));
        let (c, o, _) = run_args(&["--help"]);
        assert_eq!(c, 0);
        assert!(o.contains("Exit codes"));
        for cmd in ["import", "sessions", "replay", "room", "transcribe"] {
            let (c, o, _) = run_args(&[cmd, "--help"]);
            assert_eq!(c, 0, "{cmd}");
            assert!(
                o.contains("Example:") && o.contains(&format!("vap {cmd}")),
                "{cmd}: {o}"
            );
            let (c, o2, _) = run_args(&["help", cmd]);
            assert_eq!((c, o2), (0, o));
        }
        let (c, _, e) = run_args(&["frobnicate"]);
        assert_eq!(c, 2);
        assert!(e.contains("no command 'frobnicate'"));
        let (c, _, e) = run_args(&["replay", "s", "r", "x", "--colour", "red"]);
        assert_eq!(c, 2);
        assert!(e.contains("unknown option --colour"));
        let (c, _, e) = run_args(&["replay", "s", "r"]);
        assert_eq!(c, 2);
        assert!(e.contains("expected 3 argument(s), got 2"));
        let (c, _, e) = run_args(&["replay", "s", "r", "x", "--top", "many"]);
        assert_eq!(c, 2);
        assert!(e.contains("--top takes a whole number"));
        let (c, _, _) = run_args(&["import", "dir"]);
        assert_eq!(c, 2);
    }

    #[test]
    fn error_kinds_map_to_exit_codes() {
        assert_eq!(exit_code(ErrorKind::NotFound), 3);
        assert_eq!(exit_code(ErrorKind::Validation), 4);
        assert_eq!(exit_code(ErrorKind::Format), 4);
        assert_eq!(exit_code(ErrorKind::Io), 5);
        assert_eq!(exit_code(ErrorKind::AlreadyExists), 6);
        assert_eq!(exit_code(ErrorKind::Internal), 1);
        let (c, _, e) = run_args(&["sessions", "/nonexistent/store"]);
        assert_eq!(c, 3, "{e}");
    }
}
