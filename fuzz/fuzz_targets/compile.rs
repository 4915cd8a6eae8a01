#![no_main]
//! The `compile` property of `fuzz/properties.rs`.
use libfuzzer_sys::fuzz_target;

#[path = "../properties.rs"]
mod properties;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(why) = properties::compile(text) {
            panic!("{why}");
        }
    }
});
