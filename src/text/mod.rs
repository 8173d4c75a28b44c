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
