//! The example service (`examples/rust/service.rs`): its routes answered
//! from a real store, and the server itself asked over a loopback socket.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use vap_core::replay::{self, ReplayOptions};
use vap_core::report::{self, ReportOptions};
use vap_core::sim::{simulate, SimConfig};
use vap_core::store::{ImportOptions, Store};

#[allow(dead_code)]
#[path = "../../examples/rust/service.rs"]
mod service;

fn store() -> (tempfile::TempDir, Store, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let room = simulate(&SimConfig {
        seed: 3,
        hours: 0.5,
        ..Default::default()
    })
    .unwrap();
    let st = Store::open(dir.path().join("store")).unwrap();
    st.import(&room.data, &ImportOptions::default()).unwrap();
    let (r, s) = (room.data.room.id.clone(), room.data.session.id.clone());
    let ro = Store::open_read_only(dir.path().join("store")).unwrap();
    (dir, ro, r, s)
}

fn json(r: &service::Response) -> serde_json::Value {
    assert!(r.content_type.starts_with("application/json"));
    serde_json::from_str(&r.body).unwrap()
}

#[test]
fn routes_answer_as_the_library_does() {
    let (_dir, st, room, session) = store();
    let r = service::respond(&st, "GET", "/rooms");
    assert_eq!(r.status, 200);
    assert_eq!(json(&r)[0]["id"], room.as_str());
    let r = service::respond(&st, "GET", &format!("/rooms/{room}/sessions"));
    assert_eq!(json(&r)[0]["session_id"], session.as_str());

    let rep = replay::from_store(&st, &room, &session, &ReplayOptions::default()).unwrap();
    let r = service::respond(
        &st,
        "GET",
        &format!("/rooms/{room}/sessions/{session}/replay"),
    );
    assert_eq!(r.status, 200);
    let want: serde_json::Value = serde_json::from_str(&rep.to_json().unwrap()).unwrap();
    assert_eq!(json(&r), want);
    let r = service::respond(
        &st,
        "GET",
        &format!("/rooms/{room}/sessions/{session}/replay?role=anchor"),
    );
    assert_eq!(json(&r), rep.view(replay::Role::Anchor).unwrap());

    let r = service::respond(
        &st,
        "GET",
        &format!("/rooms/{room}/sessions/{session}/report?lang=en"),
    );
    assert_eq!(r.status, 200);
    assert!(r.content_type.starts_with("text/html"));
    let en = ReportOptions {
        lang: report::Lang::En,
        ..Default::default()
    };
    assert_eq!(r.body, report::html(&rep, &en).unwrap());
}

#[test]
fn bad_requests_get_clear_statuses() {
    let (_dir, st, room, session) = store();
    let r = service::respond(&st, "GET", &format!("/rooms/{room}/sessions/nope/replay"));
    assert_eq!(r.status, 404);
    assert_eq!(json(&r)["error"]["code"], "VAP_NOT_FOUND");
    assert!(json(&r)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nope"));
    let r = service::respond(&st, "GET", "/rooms/ghost/sessions");
    assert_eq!(r.status, 404);
    assert!(r.body.contains("ghost"));
    let r = service::respond(&st, "GET", &format!("/rooms/{room}/sessions/..%2Fx/replay"));
    assert_eq!(r.status, 400, "{}", r.body);
    let r = service::respond(&st, "GET", &format!("/rooms/{room}/sessions/%E0%A4/replay"));
    assert_eq!(r.status, 400);
    let r = service::respond(&st, "GET", &format!("/rooms/{room}/sessions/%+1/replay"));
    assert_eq!(r.status, 400, "a sign is not a hex digit");
    let r = service::respond(
        &st,
        "GET",
        &format!("/rooms/{room}/sessions/{session}/replay?role=field+control"),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("'field control'"),
        "+ is a space in a query: {}",
        r.body
    );
    assert_eq!(service::respond(&st, "GET", "/nowhere").status, 404);
    assert_eq!(service::respond(&st, "POST", "/rooms").status, 405);
}

fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nhost: test\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

#[test]
fn the_server_answers_concurrent_requests_over_http() {
    let (_dir, st, room, session) = store();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let st = Arc::new(st);
    let served = Arc::clone(&st);
    std::thread::spawn(move || service::serve(listener, served));
    let want = service::respond(
        &st,
        "GET",
        &format!("/rooms/{room}/sessions/{session}/replay"),
    )
    .body;
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let path = if i % 2 == 0 {
                format!("/rooms/{room}/sessions/{session}/replay")
            } else {
                "/health".to_string()
            };
            std::thread::spawn(move || (i, get(addr, &path)))
        })
        .collect();
    for t in threads {
        let (i, (status, body)) = t.join().unwrap();
        assert_eq!(status, 200);
        if i % 2 == 0 {
            assert_eq!(body, want);
        } else {
            assert_eq!(body, r#"{"ok":true}"#);
        }
    }
}
