#![no_main]
//! parse -> format -> parse: formatting a flow that parses gives a flow that parses, and
//! formatting that again changes nothing.
use libfuzzer_sys::fuzz_target;

use chatflow::syntax::format::format_source;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(once) = format_source(text) else { return };
    let twice = format_source(&once).expect("a formatted flow parses");
    assert_eq!(once, twice, "formatting is idempotent");
});
