//! The intent classifier: trained once by the compiler, applied per message by the runtime.
//!
//! Training is a multinomial logistic regression (`linfa-logistic`, L-BFGS from zero weights,
//! so the same samples always give the same model) over L2-normalised binary features. The
//! IR keeps only the vocabulary, one weight per (feature, class) and one bias per class.
//!
//! Confidence is the softmax probability of the best class times the share of the message's
//! features that the model knows. A softmax always sums to 1, so a message made of words no
//! sample used would otherwise still get a confident answer; scaling by coverage lets the
//! threshold turn such out-of-scope messages away.

use linfa::traits::Fit;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

/// A trained classifier over `classes` classes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// The features seen in training, sorted (looked up by binary search).
    pub features: Vec<String>,
    /// Per feature, one weight per class.
    pub weights: Vec<Vec<f32>>,
    /// One bias per class.
    pub bias: Vec<f32>,
}

/// The best class for a message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    /// Index of the class.
    pub class: usize,
    /// The softmax probability times the share of known features, 0..=1.
    pub confidence: f64,
}

/// Why training failed (the optimiser refused the data).
#[derive(Debug, thiserror::Error)]
#[error("the intent classifier could not be trained: {0}")]
pub struct TrainError(String);

/// L2 penalty: small, since flows have few samples per intent.
const ALPHA: f64 = 1e-3;
/// L-BFGS iterations; enough to converge on flows of hundreds of samples.
const MAX_ITERATIONS: u64 = 200;

impl Model {
    /// Trains on `(features, class)` samples; `classes` is the number of classes. With a
    /// single class there is nothing to separate: every weight is zero and only coverage
    /// decides.
    pub fn train(samples: &[(Vec<String>, usize)], classes: usize) -> Result<Model, TrainError> {
        let mut features: Vec<String> = samples.iter().flat_map(|(f, _)| f.clone()).collect();
        features.sort();
        features.dedup();
        let mut model = Model {
            weights: vec![vec![0.0; classes]; features.len()],
            bias: vec![0.0; classes],
            features,
        };
        let used: Vec<usize> = {
            let mut u: Vec<usize> = samples.iter().map(|(_, c)| *c).collect();
            u.sort_unstable();
            u.dedup();
            u
        };
        if used.len() < 2 || model.features.is_empty() {
            return Ok(model);
        }
        let mut x = Array2::<f64>::zeros((samples.len(), model.features.len()));
        for (row, (feats, _)) in samples.iter().enumerate() {
            let value = 1.0 / (feats.len().max(1) as f64).sqrt();
            for f in feats {
                if let Ok(col) = model.features.binary_search(f) {
                    x[[row, col]] = value;
                }
            }
        }
        let y = Array1::from_iter(samples.iter().map(|(_, c)| *c));
        let data = linfa::Dataset::new(x, y);
        let fitted = linfa_logistic::MultiLogisticRegression::default()
            .alpha(ALPHA)
            .max_iterations(MAX_ITERATIONS)
            .fit(&data)
            .map_err(|e| TrainError(e.to_string()))?;
        // linfa numbers the classes it saw in sorted order; map them back to ours.
        let params = fitted.params();
        for (k, &class) in fitted.classes().iter().enumerate() {
            for (row, weights) in model.weights.iter_mut().enumerate() {
                weights[class] = params[[row, k]] as f32;
            }
            model.bias[class] = fitted.intercept()[k] as f32;
        }
        // Classes without samples never win.
        for class in (0..classes).filter(|c| !used.contains(c)) {
            model.bias[class] = -1e4;
        }
        Ok(model)
    }

    /// The best class for a message's features; `None` when no feature is known.
    pub fn classify(&self, features: &[String]) -> Option<Match> {
        let classes = self.bias.len();
        let known: Vec<usize> = features
            .iter()
            .filter_map(|f| self.features.binary_search(f).ok())
            .collect();
        if known.is_empty() || classes == 0 {
            return None;
        }
        let value = 1.0 / (features.len() as f64).sqrt();
        let mut scores: Vec<f64> = self.bias.iter().map(|&b| f64::from(b)).collect();
        for &row in &known {
            for (score, &w) in scores.iter_mut().zip(&self.weights[row]) {
                *score += value * f64::from(w);
            }
        }
        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = scores.iter().map(|s| (s - max).exp()).sum();
        let (class, best) =
            scores
                .iter()
                .enumerate()
                .fold(
                    (0, f64::NEG_INFINITY),
                    |acc, (i, &s)| {
                        if s > acc.1 {
                            (i, s)
                        } else {
                            acc
                        }
                    },
                );
        let probability = (best - max).exp() / total;
        let coverage = known.len() as f64 / features.len() as f64;
        Some(Match {
            class,
            confidence: probability * coverage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nlu::text::Normaliser;

    fn trained(n: &Normaliser) -> Model {
        let samples = [
            ("where is my order", 0),
            ("track my package", 0),
            ("where is my parcel", 0),
            ("has my order shipped", 0),
            ("i want a refund", 1),
            ("give me my money back", 1),
            ("refund please", 1),
            ("return this item for a refund", 1),
        ];
        let samples: Vec<_> = samples.iter().map(|(t, c)| (n.features(t), *c)).collect();
        Model::train(&samples, 2).expect("trains")
    }

    #[test]
    fn unseen_phrasings_find_their_intent() {
        let n = Normaliser {
            language: Some("en".into()),
            ..Default::default()
        };
        let model = trained(&n);
        let m = model
            .classify(&n.features("where's my package?"))
            .expect("a match");
        assert_eq!(m.class, 0);
        let m = model
            .classify(&n.features("I want my money back"))
            .expect("a match");
        assert_eq!(m.class, 1);
        assert!(m.confidence > 0.5, "{m:?}");
    }

    #[test]
    fn unknown_words_lower_the_confidence() {
        let n = Normaliser::default();
        let model = trained(&n);
        assert_eq!(model.classify(&n.features("zzz qqq")), None);
        let m = model
            .classify(&n.features("xylophone zebra quantum"))
            .map(|m| m.confidence);
        assert!(m.unwrap_or(0.0) < 0.3, "{m:?}");
    }

    #[test]
    fn training_is_deterministic() {
        let n = Normaliser::default();
        assert_eq!(trained(&n), trained(&n));
    }
}
