//! Empty: vap-py's `[build-dependencies]` only line up the proc-macro
//! dependencies' features with vap-node's, so that both bindings share one
//! compiled set of dependencies (see Cargo.toml).
fn main() {}
