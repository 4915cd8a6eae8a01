//! Understanding free text: the intent matcher and the sentiment score.
//!
//! - [`text`] turns a message into features: lower case, the flow's synonyms applied, words
//!   stemmed for the bot's language (`rust-stemmers`), word unigrams and bigrams, character
//!   trigrams of each word (for typos and word forms the samples do not have).
//! - [`model`] is the classifier: a multinomial logistic regression trained (L-BFGS from
//!   `argmin`, over sparse features) when the flow is compiled, stored in the IR as plain
//!   numbers, and applied by a sparse dot product at run time (nothing downloaded).
//! - [`sentiment`] scores a message from −1 to 1 with the VADER lexicon method.
//!
//! This layer knows nothing of flows: the compiler hands it samples, the runtime hands it text.

pub mod model;
pub mod sentiment;
pub mod text;

pub use model::{Match, Model, TrainError};
pub use text::{Normaliser, Synonym};
