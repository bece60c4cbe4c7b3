#![no_main]

use std::collections::HashSet;
use std::sync::{Mutex, Once};

use libfuzzer_sys::fuzz_target;

/// `vap_core::ingest::read_parquet_bytes` contains panics of the parquet crate's
/// page decoding (`vap_core::fuzzing::contain_decoder_panic`: catch_unwind,
/// reported as a problem), but libfuzzer-sys installs a panic hook that aborts
/// before any unwinding. Wrap that hook so that a panic raised inside that
/// contained region unwinds to vap-core (each location is printed once); every
/// other panic still aborts and is a crash.
fn contain_decoder_panics() {
    static ONCE: Once = Once::new();
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    ONCE.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let loc = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            if vap_core::fuzzing::in_contained_decoder() {
                let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
                if seen.get_or_insert_with(HashSet::new).insert(loc.clone()) {
                    eprintln!("contained decoder panic at {loc}: {info}");
                }
                return;
            }
            fuzzer_hook(info)
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    contain_decoder_panics();
    vap_core::fuzzing::parquet_table(data)
});
