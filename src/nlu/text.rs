//! From a message to features: normalising, synonyms, stemming, n-grams.

use serde::{Deserialize, Serialize};

/// One `synonyms` rule: every variant means the canonical text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Synonym {
    /// The variants, normalised (lower case, words joined by one space).
    pub variants: Vec<String>,
    /// The canonical text as written in the flow.
    pub canonical: String,
}

/// How messages are read before matching: the stemmer's language and the synonyms.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Normaliser {
    /// The bot's first language code (`en`, `es`, ...); `None` or an unknown code: no stemming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The `synonyms` rules, in source order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<Synonym>,
}

/// Lower case words of `text`: runs of letters and digits, everything else separates.
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// `text` normalised for comparing phrases: its words joined by single spaces.
pub fn phrase(text: &str) -> String {
    words(text).join(" ")
}

impl Normaliser {
    /// The canonical text when the whole answer is a synonym variant (or the canonical text
    /// itself, in any case): `ask` stores that instead of what was typed.
    pub fn canonical(&self, answer: &str) -> Option<&str> {
        let said = phrase(answer);
        self.synonyms
            .iter()
            .find(|s| s.variants.contains(&said) || phrase(&s.canonical) == said)
            .map(|s| s.canonical.as_str())
    }

    /// The message's words with every synonym variant replaced by its canonical words
    /// (longest variants first, whole words only).
    pub fn normalised_words(&self, text: &str) -> Vec<String> {
        let mut out = words(text);
        if self.synonyms.is_empty() {
            return out;
        }
        let mut rules: Vec<(Vec<&str>, Vec<String>)> = self
            .synonyms
            .iter()
            .flat_map(|s| {
                let canonical = words(&s.canonical);
                s.variants
                    .iter()
                    .map(move |v| (v.split(' ').collect::<Vec<_>>(), canonical.clone()))
            })
            .filter(|(v, _)| !v.is_empty() && !v[0].is_empty())
            .collect();
        rules.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
        let mut i = 0;
        let mut result = Vec::with_capacity(out.len());
        while i < out.len() {
            let hit = rules.iter().find(|(v, _)| {
                out.len() - i >= v.len() && v.iter().zip(&out[i..]).all(|(a, b)| *a == b)
            });
            match hit {
                Some((v, canonical)) => {
                    result.extend(canonical.iter().cloned());
                    i += v.len();
                }
                None => {
                    result.push(std::mem::take(&mut out[i]));
                    i += 1;
                }
            }
        }
        result
    }

    /// The features of a message, sorted and without repeats: `w:STEM` per word, `b:STEM STEM`
    /// per pair of neighbours, `c:XYZ` per character trigram of each word marked `<word>`.
    pub fn features(&self, text: &str) -> Vec<String> {
        let words = self.normalised_words(text);
        let stemmer = self.language.as_deref().and_then(algorithm);
        let stemmer = stemmer.map(rust_stemmers::Stemmer::create);
        let stems: Vec<String> = words
            .iter()
            .map(|w| match &stemmer {
                Some(s) => s.stem(w).into_owned(),
                None => w.clone(),
            })
            .collect();
        let mut out: Vec<String> = Vec::new();
        out.extend(stems.iter().map(|s| format!("w:{s}")));
        out.extend(stems.windows(2).map(|p| format!("b:{} {}", p[0], p[1])));
        for w in &words {
            let marked: Vec<char> = std::iter::once('<')
                .chain(w.chars())
                .chain(std::iter::once('>'))
                .collect();
            out.extend(
                marked
                    .windows(3)
                    .map(|t| format!("c:{}", t.iter().collect::<String>())),
            );
        }
        out.sort();
        out.dedup();
        out
    }
}

/// The Snowball stemmer of a language code; `None` for a language without one.
pub fn algorithm(code: &str) -> Option<rust_stemmers::Algorithm> {
    use rust_stemmers::Algorithm::*;
    Some(match code.to_ascii_lowercase().as_str() {
        "ar" => Arabic,
        "da" => Danish,
        "nl" => Dutch,
        "en" => English,
        "fi" => Finnish,
        "fr" => French,
        "de" => German,
        "el" => Greek,
        "hu" => Hungarian,
        "it" => Italian,
        "no" | "nb" | "nn" => Norwegian,
        "pt" => Portuguese,
        "ro" => Romanian,
        "ru" => Russian,
        "es" => Spanish,
        "sv" => Swedish,
        "ta" => Tamil,
        "tr" => Turkish,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_synonyms() -> Normaliser {
        Normaliser {
            language: Some("en".into()),
            synonyms: vec![Synonym {
                variants: vec!["nyc".into(), "new york city".into()],
                canonical: "New York".into(),
            }],
        }
    }

    #[test]
    fn synonyms_replace_whole_words_longest_first() {
        let n = with_synonyms();
        assert_eq!(
            n.normalised_words("Flights to New York City, or NYC?"),
            ["flights", "to", "new", "york", "or", "new", "york"]
        );
        assert_eq!(n.normalised_words("nycx"), ["nycx"], "only whole words");
    }

    #[test]
    fn canonical_answers_are_whole_answers_only() {
        let n = with_synonyms();
        assert_eq!(n.canonical("  NYC "), Some("New York"));
        assert_eq!(n.canonical("new york"), Some("New York"));
        assert_eq!(n.canonical("I live in nyc"), None);
    }

    #[test]
    fn features_are_stemmed_words_pairs_and_trigrams() {
        let n = with_synonyms();
        let f = n.features("Tracking parcels");
        assert!(f.contains(&"w:track".to_string()), "{f:?}");
        assert!(f.contains(&"w:parcel".to_string()), "{f:?}");
        assert!(f.contains(&"b:track parcel".to_string()), "{f:?}");
        assert!(f.contains(&"c:<tr".to_string()), "{f:?}");
        assert!(f.windows(2).all(|p| p[0] < p[1]), "sorted, no repeats");
        assert!(Normaliser::default().features("¿?!").is_empty());
    }
}
