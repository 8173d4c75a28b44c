//! Text processing: splitting articles into statements, finding who said them, and splitting
//! statements into word tokens.

pub mod quotes;
pub mod segment;
pub mod tokenize;

pub use quotes::{attribute, Attribution};
pub use segment::{segment, Segmenter, Statement, StatementKind};
pub use tokenize::{Analyzer, Tokens};
