//! Text processing: splitting articles into statements, finding who said them, and splitting
//! statements into word tokens.

pub mod quotes;
pub mod segment;
pub mod term_hash;
pub mod tokenize;

pub use quotes::{attribute, Attribution};
pub use segment::{segment, Segmenter, Statement, StatementKind};
pub use term_hash::{hash_term, TermHash};
pub use tokenize::{Analyzer, Token, Tokens};

/// Compiles the segmenter's and the quote finder's patterns now; otherwise the first article
/// compiles them (about 11 ms: Unicode classes under bounded repeats). `classify` does it on a
/// thread of its own while the model loads.
pub fn compile_patterns() {
    segment::compile_patterns();
    quotes::compile_patterns();
}
