//! Text processing: splitting articles into statements and statements into word tokens.

pub mod segment;
pub mod tokenize;

pub use segment::{segment, Statement, StatementKind};
pub use tokenize::{Analyzer, Tokens};
