//! `sys.sentiment`: how positive a message is, from −1 to 1, by the VADER method.
//!
//! VADER (Hutto & Gilbert, 2014) sums word valences from a lexicon, flips a word after a
//! negation, strengthens it after a booster ("very") or in capitals, adds weight for `!`, and
//! squashes the sum into −1..1 with `x / sqrt(x² + 15)`. The method is implemented here with a
//! small lexicon of common English chat words (valences on VADER's −4..4 scale), since the one
//! Rust port of VADER on crates.io is unmaintained. Words outside the lexicon count as neutral.

/// Valences of common words, −4 (worst) to 4 (best).
const LEXICON: &[(&str, f64)] = &[
    ("abysmal", -3.0),
    ("amazing", 2.8),
    ("angry", -2.3),
    ("annoyed", -1.6),
    ("annoying", -1.8),
    ("appreciate", 1.7),
    ("awesome", 3.1),
    ("awful", -2.0),
    ("bad", -2.5),
    ("best", 3.2),
    ("better", 1.9),
    ("broken", -1.6),
    ("bug", -1.0),
    ("cancel", -0.8),
    ("crap", -1.6),
    ("delighted", 2.9),
    ("disappointed", -1.9),
    ("disappointing", -2.2),
    ("disaster", -3.1),
    ("disgusting", -2.4),
    ("dumb", -2.3),
    ("excellent", 2.7),
    ("fail", -2.5),
    ("failed", -2.3),
    ("fantastic", 2.6),
    ("fine", 0.8),
    ("frustrated", -2.4),
    ("frustrating", -1.9),
    ("furious", -2.7),
    ("glad", 2.0),
    ("good", 1.9),
    ("great", 3.1),
    ("happy", 2.7),
    ("hate", -2.7),
    ("helpful", 1.8),
    ("horrible", -2.5),
    ("idiot", -2.3),
    ("joke", 1.2),
    ("kind", 2.4),
    ("late", -0.6),
    ("lost", -1.3),
    ("love", 3.2),
    ("lovely", 2.8),
    ("mad", -2.2),
    ("nice", 1.8),
    ("outrageous", -2.0),
    ("pathetic", -2.4),
    ("perfect", 2.7),
    ("pleased", 1.9),
    ("poor", -2.1),
    ("problem", -1.7),
    ("rubbish", -1.9),
    ("rude", -2.0),
    ("sad", -2.1),
    ("scam", -2.7),
    ("slow", -1.0),
    ("sorry", -0.3),
    ("stupid", -2.4),
    ("super", 2.9),
    ("terrible", -2.1),
    ("thank", 1.5),
    ("thanks", 1.9),
    ("unacceptable", -2.0),
    ("upset", -1.6),
    ("useless", -1.8),
    ("waste", -1.8),
    ("wonderful", 2.7),
    ("worse", -2.1),
    ("worst", -3.1),
    ("wrong", -2.1),
    ("yay", 2.4),
];

/// Words that flip the valence of the next three words (VADER's negation factor).
const NEGATIONS: &[&str] = &[
    "not", "no", "never", "nothing", "none", "nobody", "neither", "nor", "cannot", "dont",
    "doesnt", "didnt", "isnt", "wasnt", "arent", "wont", "cant", "aint", "havent", "hasnt",
    "couldnt", "shouldnt", "wouldnt", "werent",
];
const NEGATION_FACTOR: f64 = -0.74;

/// Words that strengthen (or weaken) the next word.
const BOOSTERS: &[(&str, f64)] = &[
    ("very", 0.293),
    ("really", 0.293),
    ("so", 0.293),
    ("extremely", 0.293),
    ("absolutely", 0.293),
    ("totally", 0.293),
    ("completely", 0.293),
    ("incredibly", 0.293),
    ("super", 0.293),
    ("slightly", -0.293),
    ("somewhat", -0.293),
    ("kinda", -0.293),
];

/// The extra weight of a word in capitals in a message that is not all capitals.
const CAPS_BOOST: f64 = 0.733;
/// The extra weight of each `!` (up to four).
const EXCLAMATION: f64 = 0.292;
/// VADER's normalisation constant.
const ALPHA: f64 = 15.0;

/// The sentiment of a message: −1 (very negative) to 1 (very positive), 0 when neutral.
pub fn score(text: &str) -> f64 {
    // Apostrophes join (`don't` → `dont`); other non-letters separate words.
    let raw: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
        .collect();
    let words: Vec<String> = raw
        .iter()
        .map(|w| w.to_lowercase().replace(['\'', '’'], ""))
        .collect();
    let has_caps = raw.iter().any(|w| is_caps(w));
    let mixed_caps = has_caps
        && !raw
            .iter()
            .all(|w| is_caps(w) || !w.chars().any(char::is_alphabetic));
    let mut sum = 0.0;
    for (i, word) in words.iter().enumerate() {
        let Some(mut valence) = valence(word) else {
            continue;
        };
        if mixed_caps && is_caps(raw[i]) {
            valence += CAPS_BOOST * valence.signum();
        }
        for back in 1..=3.min(i) {
            let before = words[i - back].as_str();
            if let Some(&(_, boost)) = BOOSTERS.iter().find(|(w, _)| *w == before) {
                // Further boosters count less, as in VADER.
                let damp = [1.0, 0.95, 0.9][back - 1];
                valence += boost * damp * valence.signum();
            }
            if NEGATIONS.contains(&before) {
                valence *= NEGATION_FACTOR;
            }
        }
        sum += valence;
    }
    if sum == 0.0 {
        return 0.0;
    }
    let bangs = text.matches('!').count().min(4) as f64;
    sum += bangs * EXCLAMATION * sum.signum();
    (sum / (sum * sum + ALPHA).sqrt()).clamp(-1.0, 1.0)
}

fn valence(word: &str) -> Option<f64> {
    LEXICON
        .binary_search_by(|(w, _)| (*w).cmp(word))
        .ok()
        .map(|i| LEXICON[i].1)
}

fn is_caps(word: &str) -> bool {
    word.chars().count() > 1
        && word.chars().any(char::is_alphabetic)
        && !word.chars().any(char::is_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lexicon_is_sorted_for_binary_search() {
        assert!(LEXICON.windows(2).all(|p| p[0].0 < p[1].0));
    }

    #[test]
    fn polarity_negation_boosters_and_emphasis() {
        assert_eq!(score("I want to track my order"), 0.0);
        assert!(score("thanks, that was great") > 0.5);
        assert!(score("this is terrible, I hate it") < -0.5);
        assert!(score("not good") < 0.0, "negation flips");
        assert!(score("this is very bad") < score("this is bad"), "booster");
        assert!(
            score("this is bad!!!") < score("this is bad"),
            "exclamation marks"
        );
        assert!(score("this is BAD") < score("this is bad"), "capitals");
        assert!(score("I don't love it") < 0.0, "n't negates");
        for text in ["", "!!!", "😀", "NOT", "a b c d e f not very"] {
            assert!((-1.0..=1.0).contains(&score(text)), "{text}");
        }
    }
}
