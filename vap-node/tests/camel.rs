//! The unit tests of `src/camel.rs` (at its bottom), run here: the crate's
//! library is a cdylib without a test harness (linked, it needs the N-API
//! runtime a Node process provides), and the module needs nothing of N-API.

#[path = "../src/camel.rs"]
#[allow(dead_code)]
mod camel;
