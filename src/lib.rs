//! `stance`: topic and stance classification of news statements.
//!
//! The pipeline reads labelled CSV ([`corpus`]), turns sentences into sparse TF-IDF vectors
//! ([`features`], built on the tokenizer in [`text`]), fits multinomial logistic regression with a
//! sparse L-BFGS solver ([`linear`]) for a topic head and a stance head ([`model`]), and scores
//! predictions with the measures stance detection papers publish ([`eval`]).

pub mod corpus;
pub mod error;
pub mod eval;
pub mod features;
pub mod input;
pub mod lbfgs;
pub mod linear;
mod memory;
pub mod model;
pub mod nb;
pub mod output;
mod packed;
pub mod sparse;
pub mod term_list;
pub mod text;
pub mod tune;

pub use error::{Error, Result};
