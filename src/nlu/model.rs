//! The intent classifier: trained once by the compiler, applied per message by the runtime.
//!
//! Training is a multinomial logistic regression with an L2 penalty (L-BFGS from `argmin`,
//! from zero weights, so the same samples always give the same model) over L2-normalised
//! binary features, kept sparse. On a large set (a CLINC150-sized bot) features of a single
//! sample are left out and the optimiser stops sooner (docs/performance.md). The IR keeps only
//! the vocabulary, one bias per class and, per feature, its weights that are far from the
//! feature's median (see [`Model`]).
//!
//! Confidence is the softmax probability of the best class times the share of the message's
//! features that the model knows. A softmax always sums to 1, so a message made of words no
//! sample used would otherwise still get a confident answer; scaling by coverage lets the
//! threshold turn such out-of-scope messages away.

use std::cell::RefCell;

use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use ndarray::Array1;
use serde::{Deserialize, Serialize};

/// A trained classifier over `bias.len()` classes.
///
/// The weights are stored sparsely. A softmax does not change when every class's score moves
/// by the same amount, so each feature's weights are stored minus one number of its own (their
/// median; most of a feature's weights are close to it, the same small negative number for the
/// classes whose samples do not have the feature), and only those farther than [`CUT`] from it
/// are kept, as parallel arrays (docs/performance.md).
///
/// Every field reads as empty when missing, so that the IR of an older format still reads and
/// the runtime refuses it for its version (`LoadError::UnsupportedVersion`) rather than as
/// malformed JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// The features seen in training, sorted (looked up by binary search).
    #[serde(default)]
    pub features: Vec<String>,
    /// One bias per class.
    #[serde(default)]
    pub bias: Vec<f32>,
    /// Per feature, the index of its first kept weight in `kept_classes` and `kept_weights`,
    /// then their length: one more entry than `features`.
    #[serde(default)]
    pub starts: Vec<u32>,
    /// The class of each kept weight, ascending within a feature.
    #[serde(default)]
    pub kept_classes: Vec<u32>,
    /// Each kept weight minus its feature's median weight.
    #[serde(default)]
    pub kept_weights: Vec<f32>,
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
/// L-BFGS stops once the gradient's norm is this small (linfa-logistic's default).
const GRADIENT_TOLERANCE: f64 = 1e-4;
/// From this many samples on a set is large (a CLINC150-sized bot: 150 intents × 100): a
/// feature only one sample has is left out, and the optimiser stops sooner. Smaller flows
/// train exactly as before, so their models do not change.
const LARGE: usize = 1_000;
/// L-BFGS iterations on a large set. The loss is a sum over samples, so its gradient grows
/// with their number and the small sets' tolerance would hold training for long after the
/// predictions settle.
const LARGE_MAX_ITERATIONS: u64 = 60;
/// The gradient tolerance on a large set, per sample.
const LARGE_GRADIENT_TOLERANCE_PER_SAMPLE: f64 = 1e-4;
/// L-BFGS keeps this many past steps (argmin's and linfa's usual 10 on smaller sets). Each
/// iteration walks them twice over vectors of features × classes numbers (2.2 million on
/// CLINC150), which was most of the training time there; with 3, CLINC150 trains in a third
/// less time, and on its validation split out-of-scope recall at 92 % in-scope accuracy went
/// from 59 % to 65 % (docs/performance.md).
const LARGE_MEMORY: usize = 3;
/// L-BFGS memory on smaller sets.
const MEMORY: usize = 10;
/// A feature's weight is kept when it is farther than this from the feature's median. A
/// message's score for a class then differs from the full model's by at most this times the
/// sum of its feature values (√n for n features of value 1/√n: 0.08 for 60 features; in
/// practice far less, as the left-out differences have both signs). On the generated
/// CLINC150-sized set this keeps 17 % of the weights, and of 5,500 test messages one changes
/// its best class (a near tie) and none crosses the threshold (docs/performance.md).
pub const CUT: f64 = 1e-2;
/// Kept weights are rounded to a multiple of this, so that the IR writes them in a few
/// digits (`-0.123`); the rounding moves a score by at most half of it per feature.
const QUANTUM: f64 = 1e-3;

impl Model {
    /// Trains on `(features, class)` samples; `classes` is the number of classes. With a
    /// single class there is nothing to separate: every weight is zero and only coverage
    /// decides.
    pub fn train(samples: &[(Vec<String>, usize)], classes: usize) -> Result<Model, TrainError> {
        let large = samples.len() >= LARGE;
        let features = vocabulary(samples, if large { 2 } else { 1 });
        let mut model = Model {
            bias: vec![0.0; classes],
            starts: vec![0; features.len() + 1],
            features,
            ..Model::default()
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
        // linfa-logistic wants a dense matrix (samples × features): at thousands of samples
        // and tens of thousands of features that is gigabytes, so the same loss is written
        // here over sparse rows and minimised by argmin's L-BFGS, as linfa does.
        let problem = Sparse::new(&model.features, samples, &used);
        let (iterations, tolerance, memory) = if large {
            (
                LARGE_MAX_ITERATIONS,
                LARGE_GRADIENT_TOLERANCE_PER_SAMPLE * samples.len() as f64,
                LARGE_MEMORY,
            )
        } else {
            (MAX_ITERATIONS, GRADIENT_TOLERANCE, MEMORY)
        };
        let weights = problem.fit(iterations, tolerance, memory)?;
        let k = used.len();
        let bias_at = model.features.len() * k;
        model.keep(&weights[..bias_at], &used, CUT);
        for (slot, &class) in used.iter().enumerate() {
            model.bias[class] = weights[bias_at + slot] as f32;
        }
        // Classes without samples never win.
        for class in (0..classes).filter(|c| !used.contains(c)) {
            model.bias[class] = -1e4;
        }
        Ok(model)
    }

    /// Stores `dense` (per feature, one weight per class of `used`) sparsely: per feature,
    /// the weights farther than `cut` from the feature's median, minus that median, rounded
    /// to [`QUANTUM`].
    fn keep(&mut self, dense: &[f64], used: &[usize], cut: f64) {
        let k = used.len();
        self.starts = Vec::with_capacity(self.features.len() + 1);
        self.starts.push(0);
        let mut sorted = Vec::with_capacity(k);
        for row in dense.chunks_exact(k) {
            sorted.clear();
            sorted.extend_from_slice(row);
            sorted.sort_unstable_by(f64::total_cmp);
            let centre = sorted[k / 2];
            for (&w, &class) in row.iter().zip(used) {
                if (w - centre).abs() > cut {
                    self.kept_classes.push(class as u32);
                    // Dividing the whole number gives the f32 nearest the decimal, which
                    // serde_json writes in its few digits.
                    let steps = ((w - centre) / QUANTUM).round() as f32;
                    self.kept_weights.push(steps / (1.0 / QUANTUM) as f32);
                }
            }
            self.starts.push(self.kept_weights.len() as u32);
        }
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
        // Each known feature also adds its median weight to every class: the same amount for
        // all, which the softmax cancels, so it is neither stored nor added.
        for &row in &known {
            let (kept_classes, kept_weights) = self.kept(row);
            for (&class, &w) in kept_classes.iter().zip(kept_weights) {
                if let Some(score) = scores.get_mut(class as usize) {
                    *score += value * f64::from(w);
                }
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

    /// The kept weights of feature `row` and their classes; none for a feature the arrays
    /// do not cover (a hand-edited IR), rather than a panic.
    fn kept(&self, row: usize) -> (&[u32], &[f32]) {
        let span = match (self.starts.get(row), self.starts.get(row + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        };
        match (
            self.kept_classes.get(span.clone()),
            self.kept_weights.get(span),
        ) {
            (Some(c), Some(w)) => (c, w),
            _ => (&[], &[]),
        }
    }
}

/// The features of at least `min_samples` samples, sorted. Features are unique within a
/// sample, so counting them counts samples. On a large set most features one sample has are
/// word pairs of that sample alone: they teach little and would be most of the weights.
fn vocabulary(samples: &[(Vec<String>, usize)], min_samples: usize) -> Vec<String> {
    let mut all: Vec<&String> = samples.iter().flat_map(|(f, _)| f).collect();
    all.sort_unstable();
    let mut out = Vec::new();
    for run in all.chunk_by(|a, b| a == b) {
        if run.len() >= min_samples {
            out.push(run[0].clone());
        }
    }
    out
}

/// The training problem: the samples as sparse rows, over the classes that have samples.
struct Sparse {
    /// Per sample, its feature columns.
    rows: Vec<Vec<usize>>,
    /// Per sample, the value of each of its features: 1/√count, so each row has unit norm.
    values: Vec<f64>,
    /// Per sample, its class's slot among the classes that have samples.
    targets: Vec<usize>,
    features: usize,
    classes: usize,
    /// The last point evaluated.
    last: RefCell<Option<Point>>,
    /// The weights and the gradient in `f32`, kept between evaluations.
    w32: RefCell<Vec<f32>>,
    g32: RefCell<Vec<f32>>,
}

/// A point of the weights with its cost and gradient.
struct Point {
    at: Vec<f64>,
    cost: f64,
    gradient: Vec<f64>,
}

impl Sparse {
    /// `used`: the classes with samples, sorted; slot `i` of the model is `used[i]`.
    fn new(features: &[String], samples: &[(Vec<String>, usize)], used: &[usize]) -> Sparse {
        Sparse {
            rows: samples
                .iter()
                .map(|(f, _)| {
                    f.iter()
                        .filter_map(|f| features.binary_search(f).ok())
                        .collect()
                })
                .collect(),
            values: samples
                .iter()
                .map(|(f, _)| 1.0 / (f.len().max(1) as f64).sqrt())
                .collect(),
            targets: samples
                .iter()
                .map(|(_, c)| used.binary_search(c).unwrap_or(0))
                .collect(),
            features: features.len(),
            classes: used.len(),
            last: RefCell::new(None),
            w32: RefCell::default(),
            g32: RefCell::default(),
        }
    }

    /// linfa-logistic's multinomial loss, `-Σ log softmax(XW + b)[y] + α/2 ‖W‖²`, at `w`
    /// (features × classes row-major, then the bias row), and its gradient into `grad`.
    ///
    /// The per-sample work (most of training) is in `f32`, which halves the memory it reads
    /// and doubles the classes one vector instruction handles; the sums that L-BFGS compares
    /// (the loss, the penalty) stay `f64`. The order of operations is fixed, so the result is
    /// the same on every run.
    fn evaluate(&self, w: &[f64], grad: &mut [f64]) -> f64 {
        let k = self.classes;
        let split = self.features * k;
        let mut w32 = self.w32.borrow_mut();
        let mut g32 = self.g32.borrow_mut();
        w32.clear();
        w32.extend(w.iter().map(|&x| x as f32));
        g32.clear();
        g32.resize(w.len(), 0.0);
        let (weights, bias) = w32.split_at(split);
        let (g_weights, g_bias) = g32.split_at_mut(split);
        let mut sum_w = vec![0.0f32; k];
        let mut h = vec![0.0f32; k];
        let mut loss = 0.0f64;
        for ((row, &v), &y) in self.rows.iter().zip(&self.values).zip(&self.targets) {
            // Every feature of a row has the same value: sum its weights, then scale once.
            sum_w.fill(0.0);
            for &c in row {
                for (a, b) in sum_w.iter_mut().zip(&weights[c * k..(c + 1) * k]) {
                    *a += b;
                }
            }
            let v = v as f32;
            for ((a, s), b) in h.iter_mut().zip(&sum_w).zip(bias) {
                *a = v * s + b;
            }
            let max = h.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let target = h[y] - max;
            let mut sum = 0.0f32;
            for a in h.iter_mut() {
                *a = (*a - max).exp();
                sum += *a;
            }
            loss -= f64::from(target) - f64::from(sum).ln();
            // The softmax minus the one-hot target is the bias's gradient; v times it, each
            // feature's.
            let inverse = 1.0 / sum;
            for a in h.iter_mut() {
                *a *= inverse;
            }
            h[y] -= 1.0;
            for (a, b) in g_bias.iter_mut().zip(&h) {
                *a += b;
            }
            for a in h.iter_mut() {
                *a *= v;
            }
            for &c in row {
                for (a, b) in g_weights[c * k..(c + 1) * k].iter_mut().zip(&h) {
                    *a += b;
                }
            }
        }
        loss += 0.5 * ALPHA * w[..split].iter().map(|x| x * x).sum::<f64>();
        for ((a, &b), &x) in grad.iter_mut().zip(g32.iter()).zip(w).take(split) {
            *a = f64::from(b) + ALPHA * x;
        }
        for (a, &b) in grad[split..].iter_mut().zip(&g32[split..]) {
            *a = f64::from(b);
        }
        loss
    }

    /// The cost and gradient at `w`, evaluated once: argmin asks for the gradient and then
    /// the cost of the same point (or the other way round), and one pass gives both.
    fn at(&self, w: &[f64]) -> (f64, Vec<f64>) {
        if let Some(p) = self.last.borrow().as_ref() {
            if p.at[..] == w[..] {
                return (p.cost, p.gradient.clone());
            }
        }
        let mut gradient = vec![0.0; w.len()];
        let cost = self.evaluate(w, &mut gradient);
        *self.last.borrow_mut() = Some(Point {
            at: w.to_vec(),
            cost,
            gradient: gradient.clone(),
        });
        (cost, gradient)
    }

    /// Minimises the loss from zero weights, for at most `iterations` L-BFGS steps (keeping
    /// `memory` past steps) or until the gradient's norm is below `tolerance`.
    fn fit(self, iterations: u64, tolerance: f64, memory: usize) -> Result<Vec<f64>, TrainError> {
        let fail = |e: argmin::core::Error| TrainError(e.to_string());
        let init = Array1::zeros((self.features + 1) * self.classes);
        let solver = LBFGS::new(MoreThuenteLineSearch::new(), memory)
            .with_tolerance_grad(tolerance)
            .map_err(fail)?;
        let result = Executor::new(self, solver)
            .configure(|s| s.param(init).max_iters(iterations))
            .run()
            .map_err(fail)?;
        result
            .state()
            .get_best_param()
            .map(|p| p.to_vec())
            .ok_or_else(|| TrainError("no parameters".into()))
    }
}

/// The weights as one slice (argmin's vectors are contiguous; a copy otherwise).
fn flat(p: &Array1<f64>) -> std::borrow::Cow<'_, [f64]> {
    match p.as_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(p.to_vec()),
    }
}

impl CostFunction for Sparse {
    type Param = Array1<f64>;
    type Output = f64;

    fn cost(&self, p: &Self::Param) -> Result<f64, argmin::core::Error> {
        Ok(self.at(&flat(p)).0)
    }
}

impl Gradient for Sparse {
    type Param = Array1<f64>;
    type Gradient = Array1<f64>;

    fn gradient(&self, p: &Self::Param) -> Result<Array1<f64>, argmin::core::Error> {
        Ok(Array1::from(self.at(&flat(p)).1))
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
    fn large_sets_leave_out_features_of_one_sample_and_small_sets_keep_them() {
        let sample = |f: &[&str], c| (f.iter().map(|s| s.to_string()).collect::<Vec<_>>(), c);
        let samples = [
            sample(&["w:a", "w:b", "b:a b"], 0),
            sample(&["w:a", "w:c"], 1),
            sample(&["w:b", "w:c", "b:b c"], 1),
        ];
        assert_eq!(vocabulary(&samples, 2), ["w:a", "w:b", "w:c"]);
        assert_eq!(
            vocabulary(&samples, 1),
            ["b:a b", "b:b c", "w:a", "w:b", "w:c"]
        );
        // A flow's few samples: "parcel" is in one sample and still known.
        let model = trained(&Normaliser::default());
        assert!(model.features.iter().any(|f| f == "w:parcel"));
    }

    #[test]
    fn weights_near_their_features_median_are_left_out_and_the_rest_kept_centred() {
        let mut model = Model {
            features: vec!["a".into(), "b".into()],
            bias: vec![0.0; 5],
            ..Model::default()
        };
        // Feature a: one class stands out, one is within the cut of the median; feature b:
        // all the same. Class 2 has no samples (not in `used`).
        let dense = [-0.5, -0.5, 2.0, -0.5005, 0.3, 0.3, 0.3, 0.3];
        model.keep(&dense, &[0, 1, 3, 4], 1e-3);
        assert_eq!(model.starts, [0, 1, 1]);
        assert_eq!(model.kept_classes, [3]);
        assert_eq!(model.kept_weights, [2.5]);
    }

    #[test]
    fn the_sparse_model_gives_the_full_models_probabilities() {
        let features: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let k = 4;
        // Each feature's weights around an offset of its own, which the softmax cancels.
        let dense: Vec<f64> = (0..3 * k)
            .map(|i| ((i * 7 % 5) as f64) * 0.3 - 0.4 + (i / k) as f64)
            .collect();
        let bias = [0.1f32, -0.2, 0.0, 0.3];
        let mut model = Model {
            features: features.clone(),
            bias: bias.to_vec(),
            ..Model::default()
        };
        model.keep(&dense, &[0, 1, 2, 3], 0.0);
        let message = ["a".to_string(), "c".to_string(), "unknown".to_string()];
        let m = model.classify(&message).expect("a match");
        let value = 1.0 / 3f64.sqrt();
        let scores: Vec<f64> = (0..k)
            .map(|c| f64::from(bias[c]) + value * (dense[c] + dense[2 * k + c]))
            .collect();
        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let best = scores.iter().position(|&s| s == max).expect("a best class");
        let total: f64 = scores.iter().map(|s| (s - max).exp()).sum();
        assert_eq!(m.class, best);
        let expected = 1.0 / total * 2.0 / 3.0;
        assert!((m.confidence - expected).abs() < 1e-6, "{m:?} {expected}");
    }

    #[test]
    fn a_model_whose_arrays_disagree_matches_without_panicking() {
        let n = Normaliser::default();
        let mut model = trained(&n);
        model.starts.truncate(3);
        model.kept_classes.clear();
        model.kept_classes.push(99);
        assert!(model.classify(&n.features("where is my order")).is_some());
    }

    #[test]
    fn training_is_deterministic() {
        let n = Normaliser::default();
        assert_eq!(trained(&n), trained(&n));
    }
}
