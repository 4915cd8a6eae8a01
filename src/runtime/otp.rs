//! One-time codes at rest: a waiting session keeps only a random salt and
//! `sha256(salt || code)`, hex-encoded, so a stored session never reveals a live code.

use sha2::{Digest, Sha256};

use super::Wait;

const SALT_LEN: usize = 16;

/// The wait for `code`: a fresh salt and the salted digest, never the code itself.
pub(crate) fn sealed_wait(code: &str, tries_left: u32) -> Result<Wait, String> {
    let mut salt = [0u8; SALT_LEN];
    getrandom::getrandom(&mut salt).map_err(|e| format!("cannot generate a salt: {e}"))?;
    Ok(Wait::Otp {
        salt: to_hex(&salt),
        digest: to_hex(&digest(&salt, code)),
        tries_left,
    })
}

/// Whether `answer` hashes to `digest` under `salt` (both hex). A malformed salt or digest
/// (a session edited in storage) accepts nothing.
pub(crate) fn answer_matches(answer: &str, salt: &str, digest_hex: &str) -> bool {
    let (Some(salt), Some(expected)) = (from_hex(salt), from_hex(digest_hex)) else {
        return false;
    };
    same_bytes(&digest(&salt, answer), &expected)
}

fn digest(salt: &[u8], code: &str) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(code.as_bytes());
    hasher.finalize().to_vec()
}

/// Compare without stopping at the first difference, so timing does not leak a prefix.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sealed_code_matches_only_itself() {
        let Ok(Wait::Otp { salt, digest, .. }) = sealed_wait("123456", 3) else {
            panic!("no wait");
        };
        assert_eq!(salt.len(), SALT_LEN * 2);
        assert_eq!(digest.len(), 64);
        assert!(!digest.contains("123456") && !salt.contains("123456"));
        assert!(answer_matches("123456", &salt, &digest));
        assert!(!answer_matches("123457", &salt, &digest));
        assert!(!answer_matches("12345", &salt, &digest));
        assert!(!answer_matches("123456", "zz", &digest));
        assert!(!answer_matches("123456", &salt, "abc"));
    }

    #[test]
    fn two_seals_of_one_code_differ() {
        let a = sealed_wait("123456", 3);
        let b = sealed_wait("123456", 3);
        assert!(a.is_ok() && a != b, "a fresh salt each time");
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(to_hex(&[0, 15, 255]), "000fff");
        assert_eq!(from_hex("000fff"), Some(vec![0, 15, 255]));
        assert_eq!(from_hex("0g"), None);
    }
}
