//! A small HTTP service that links vap-core and serves a store's replays:
//! what a Rust backend embedding vap looks like. Standard library only (one
//! thread per connection, HTTP/1.1 with `Connection: close`); put it behind
//! your own framework in production.
//!
//! ```sh
//! cargo run -p vap-core --example service -- demo-store 127.0.0.1:8080
//! curl localhost:8080/rooms/sim-room/sessions
//! curl localhost:8080/rooms/sim-room/sessions/sim-42/replay          # JSON (?role=anchor)
//! curl localhost:8080/rooms/sim-room/sessions/sim-42/report          # HTML (?lang=en)
//! ```
//!
//! Routes: `GET /health`, `/rooms`, `/rooms/{room}/sessions`,
//! `/rooms/{room}/sessions/{session}/replay`, `.../report`. Errors are JSON
//! `{"error": {"code", "message"}}`: vap's `NotFound` is 404, a bad argument
//! or bad data 400, anything else 500.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;

use serde_json::json;
use vap_core::options::Options;
use vap_core::replay::{self, ReplayOptions, Role};
use vap_core::report::{self, ReportOptions};
use vap_core::{ErrorKind, Store, VapError};

/// A response: status, content type and body.
#[derive(Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Content type.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
}

impl Response {
    fn json(status: u16, v: &serde_json::Value) -> Response {
        Response {
            status,
            content_type: "application/json; charset=utf-8",
            body: v.to_string(),
        }
    }

    fn error(status: u16, code: &str, message: &str) -> Response {
        Response::json(
            status,
            &json!({ "error": { "code": code, "message": message } }),
        )
    }

    fn of_vap(e: &VapError) -> Response {
        let status = match e.kind() {
            ErrorKind::NotFound => 404,
            ErrorKind::InvalidArgument | ErrorKind::Validation => 400,
            _ => 500,
        };
        Response::error(status, e.kind().code(), &e.to_string())
    }
}

/// `v` as JSON.
fn value<T: serde::Serialize>(v: T) -> vap_core::Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| VapError::Internal(e.to_string()))
}

/// Decodes `%XX` escapes (exactly two hex digits; in a query, `+` is a
/// space); `None` for a bad escape or bytes that are not UTF-8.
fn percent_decode(s: &str, query: bool) -> Option<String> {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let (hi, lo) = (hex(*b.get(i + 1)?)?, hex(*b.get(i + 2)?)?);
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if query => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The answer to `method target` (e.g. `GET /rooms?x=1`) from `store`.
pub fn respond(store: &Store, method: &str, target: &str) -> Response {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .and_then(|(_, v)| percent_decode(v, true))
    };
    let parts: Option<Vec<String>> = path
        .trim_matches('/')
        .split('/')
        .map(|p| percent_decode(p, false))
        .collect();
    let Some(parts) = parts else {
        return Response::error(
            400,
            "VAP_INVALID_ARGUMENT",
            &format!("bad escape in {path}"),
        );
    };
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let known = matches!(
        parts.as_slice(),
        ["health"]
            | ["rooms"]
            | ["rooms", _, "sessions"]
            | ["rooms", _, "sessions", _, "replay" | "report"]
    );
    if !known {
        return Response::error(404, "NO_ROUTE", &format!("no route {path}: see GET /rooms"));
    }
    if method != "GET" {
        return Response::error(
            405,
            "METHOD_NOT_ALLOWED",
            &format!("{method} is not served: use GET"),
        );
    }
    let result = match parts.as_slice() {
        ["health"] => Ok(Response::json(200, &json!({ "ok": true }))),
        ["rooms"] => store
            .rooms()
            .and_then(|r| Ok(Response::json(200, &value(r)?))),
        ["rooms", room, "sessions"] => store.rooms().and_then(|rooms| {
            if !rooms.iter().any(|r| r.id == *room) {
                return Err(VapError::NotFound(format!("no room '{room}' in the store")));
            }
            Ok(Response::json(200, &value(store.sessions(Some(room))?)?))
        }),
        ["rooms", room, "sessions", session, what] => {
            replay::from_store(store, room, session, &ReplayOptions::default()).and_then(|rep| {
                if *what == "replay" {
                    let v = match param("role") {
                        Some(role) => rep.view(Role::parse(&role)?)?,
                        None => serde_json::from_str(&rep.to_json()?)
                            .map_err(|e| VapError::Internal(e.to_string()))?,
                    };
                    Ok(Response::json(200, &v))
                } else {
                    let opts = ReportOptions::from_value(json!({ "lang": param("lang") }))?;
                    Ok(Response {
                        status: 200,
                        content_type: "text/html; charset=utf-8",
                        body: report::html(&rep, &opts)?,
                    })
                }
            })
        }
        _ => unreachable!("routes checked above"),
    };
    result.unwrap_or_else(|e| Response::of_vap(&e))
}

/// How long a client may take to send its request.
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The longest request head read (request line and headers).
const MAX_HEAD: u64 = 64 * 1024;

/// Reads one request from `stream` and writes the answer.
fn handle(store: &Store, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let mut reader = BufReader::new(std::io::Read::take(stream.try_clone()?, MAX_HEAD));
    let mut line = String::new();
    reader.read_line(&mut line)?;
    // The headers are read and ignored (no request bodies are served).
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let mut it = line.split_whitespace();
    let r = match (it.next(), it.next()) {
        (Some(method), Some(target)) => respond(store, method, target),
        _ => Response::error(400, "BAD_REQUEST", "malformed request line"),
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        r.status,
        if r.status == 200 { "OK" } else { "Error" },
        r.content_type,
        r.body.len()
    )?;
    out.write_all(r.body.as_bytes())?;
    out.flush()
}

/// Serves `store` on `listener`, a thread per connection, until the process ends.
pub fn serve(listener: TcpListener, store: Arc<Store>) {
    for stream in listener.incoming().flatten() {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            if let Err(e) = handle(&store, stream) {
                eprintln!("connection: {e}");
            }
        });
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args.first().map(String::as_str).unwrap_or("demo-store");
    let addr = args.get(1).map(String::as_str).unwrap_or("127.0.0.1:8080");
    let store = match Store::open_read_only(dir) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("vap service on http://{addr}/rooms (store {dir})");
    serve(listener, store);
    ExitCode::SUCCESS
}
