//! The hash map for name tables. Names are short and not attacker-chosen in a way that
//! matters here (a flow is compiled once, by its author), so rustc's FxHash beats SipHash.

pub(crate) type NameMap<'a, V> = rustc_hash::FxHashMap<&'a str, V>;
