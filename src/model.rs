//! The trained model: a featurizer and two heads (topic and stance), with training, prediction
//! and a versioned, checksummed file format written atomically.
//!
//! The stance head is topic-aware by feature augmentation: each row's features appear once in a
//! shared block and once more in the block of its topic, so evidence common to all topics is
//! learned once while a word may lean differently per topic. At prediction time the topic is the
//! one given by the caller or else the topic head's prediction.

use std::borrow::Cow;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::corpus::{class_counts, Example, STANCES};
use crate::error::{Error, Result};
use crate::features::{FeatureOptions, Featurizer};
use crate::linear::{softmax_in_place, SoftmaxModel, SoftmaxRegression};
use crate::memory::release_freed_memory;
use crate::nb::ComplementNb;
use crate::sparse::{leading_entries, CsrMatrix};
use crate::tune::{Grid, Measure, Tuning, STANCE_ALPHAS, TOPIC_ALPHAS};

/// Version of the model file format this build writes and reads.
pub const FORMAT_VERSION: u32 = 7;
const MAGIC: &[u8; 8] = b"STANCEML";
const HEADER_LEN: usize = 8 + 4 + 8 + 4;

/// Everything that decides what `train` produces from a given data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    /// Featurizer options.
    pub features: FeatureOptions,
    /// Solver options of the stance head.
    pub solver: SoftmaxRegression,
    /// Solver options of the topic head: the same but for a stronger default penalty, which
    /// suits the naive Bayes columns (5-fold CV, topic accuracy with penalty 0.1 / 1: UKP
    /// 0.769 / 0.778, SemEval 0.728 / 0.738, BBC 0.983 / 0.985).
    pub topic_solver: SoftmaxRegression,
    /// Whether the stance head gets per-topic copies of the features.
    pub topic_aware_stance: bool,
    /// Weigh the stance head's training rows so every stance class counts the same in total
    /// (`n / (classes * n_class)`, scikit-learn's "balanced").
    pub balanced_stance: bool,
    /// Choose each head's penalty and temperature by inner cross-validation
    /// ([`crate::tune`]).
    pub tune: bool,
    /// Train a topic head where rows have topics (without one, the stance head still uses the
    /// topics it is given).
    pub topic_head: bool,
    /// Give the topic head complement naive Bayes scores as extra features ([`crate::nb`]);
    /// the naive Bayes model also sees the terms rarer than `min_df`.
    pub topic_naive_bayes: bool,
}

/// The bytes of a model file holding `payload`: the header (signature, format version, payload
/// length, CRC-32 of the payload), then the payload. For [`Model::to_bytes`], and for tests and
/// fuzz targets that build model files around arbitrary payloads.
pub fn frame_payload(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&header(payload.len() as u64, crc32fast::hash(payload)));
    out.extend_from_slice(payload);
    out
}

/// The header of a model file whose payload has this length and CRC-32.
fn header(payload_len: u64, crc: u32) -> [u8; HEADER_LEN] {
    let mut out = [0; HEADER_LEN];
    out[..8].copy_from_slice(MAGIC);
    out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    out[12..20].copy_from_slice(&payload_len.to_le_bytes());
    out[20..].copy_from_slice(&crc.to_le_bytes());
    out
}

/// A writer that passes bytes on and keeps their count, their CRC-32 and the first I/O error
/// (the serializer reports a failed write as its own error kind).
struct Checksummed<W> {
    inner: W,
    crc: crc32fast::Hasher,
    len: u64,
    error: Option<std::io::Error>,
}

impl<W: Write> Write for Checksummed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.inner.write(buf) {
            Ok(n) => {
                self.crc.update(&buf[..n]);
                self.len += n as u64;
                Ok(n)
            }
            Err(e) => {
                let copy = std::io::Error::new(e.kind(), e.to_string());
                self.error.get_or_insert(e);
                Err(copy)
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// How much tighter than the default a tuned stance head converges.
const TUNED_STANCE_TOLERANCE_DIVISOR: f64 = 10.0;

/// Default L2 penalty of the topic head.
pub const TOPIC_ALPHA: f64 = 1.0;

/// Default stopping tolerance of the topic head (gradient norm per training row), 3x the stance
/// head's: the topic heads reach their accuracy well before the stance heads do. 5-fold CV on
/// the peers' folds (`bench/cv.py --stance-variant tol3='--tol 0.003'`), accuracy and fit time
/// median at 1e-3 / 3e-3: UKP 0.7763 / 0.7762, 0.40 / 0.34 s; SemEval 0.7320 / 0.7330; BBC
/// 0.9837 / 0.9837; Reuters 0.9576 / 0.9579, 1.32 / 0.67 s; 20 Newsgroups 0.9410 / 0.9410,
/// 4.72 / 3.36 s.
pub const TOPIC_TOLERANCE: f64 = 3e-3;

/// Default L2 penalty of the stance head. 5-fold CV (`stance eval --cv 5 --only stance`), macro-F1
/// and 10-bin calibration error with penalty 0.1 / 0.3 / 1: UKP 0.628 / 0.631 / 0.629 and ECE
/// 0.058 / 0.016 / 0.073; SemEval 0.628 / 0.632 / 0.646 and ECE 0.061 / 0.039 / 0.113. 0.3 is the
/// one penalty whose probabilities are calibrated on both without `--tune`.
pub const STANCE_ALPHA: f64 = 0.3;

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            features: FeatureOptions::default(),
            solver: SoftmaxRegression {
                alpha: STANCE_ALPHA,
                ..SoftmaxRegression::default()
            },
            topic_solver: SoftmaxRegression {
                alpha: TOPIC_ALPHA,
                tolerance: TOPIC_TOLERANCE,
                ..SoftmaxRegression::default()
            },
            topic_aware_stance: true,
            balanced_stance: true,
            tune: false,
            topic_head: true,
            topic_naive_bayes: true,
        }
    }
}

/// One classifier over a fixed list of labels. A column with a single label (allowed for the
/// topic when a stance column is trained too) needs no classifier: it always predicts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Head {
    /// Class names, in the classifier's class order.
    pub labels: Vec<String>,
    classifier: Option<SoftmaxModel>,
    /// Complement naive Bayes whose scores are appended to each input row as extra columns
    /// before the classifier sees it ([`crate::nb`]).
    naive_bayes: Option<ComplementNb>,
    /// Probabilities are `softmax(scores / temperature)`; 1 unless tuned.
    temperature: f64,
    /// What `--tune` chose for this head, if it ran.
    pub tuning: Option<Tuning>,
}

/// The stance head with the topics that have their own feature block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StanceHead {
    head: Head,
    /// Topics with a feature block, in block order; empty when the head is not topic-aware.
    topics: Vec<String>,
    /// The topic blocks: which shared columns have a per-topic copy.
    blocks: TopicBlocks,
}

/// Per-topic copies of the feature columns. Only terms that occur in a topic's training rows
/// get a copy for that topic (any other copy would keep weight 0), which keeps the stance head
/// a few times smaller than a full block per topic.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
struct TopicBlocks {
    /// Columns of the shared block.
    n_shared: usize,
    /// For each topic, the sorted shared columns that have a copy.
    columns: Vec<Vec<u32>>,
    /// For each topic, the index of its first copied column.
    offsets: Vec<u32>,
    /// Where each shared column's copies are: `copies[copy_start[j]..copy_start[j + 1]]` are
    /// `(topic, column)` pairs. Derived from `columns` (by [`TopicBlocks::index_copies`]), not
    /// stored.
    #[serde(skip)]
    copy_start: Vec<u32>,
    #[serde(skip)]
    copies: Vec<(u32, u32)>,
}

impl TopicBlocks {
    /// Blocks for rows `x` whose topics are `topic_of_row` (`n_topics` topics).
    fn fit(x: &CsrMatrix, topic_of_row: &[Option<usize>], n_topics: usize) -> TopicBlocks {
        let mut columns = vec![Vec::new(); n_topics];
        for (i, t) in topic_of_row.iter().enumerate() {
            if let Some(t) = t {
                columns[*t].extend_from_slice(x.row(i).0);
            }
        }
        let mut offsets = Vec::with_capacity(n_topics);
        let mut next = x.n_cols() as u32;
        for c in &mut columns {
            c.sort_unstable();
            c.dedup();
            offsets.push(next);
            next += c.len() as u32;
        }
        let mut blocks = TopicBlocks {
            n_shared: x.n_cols(),
            columns,
            offsets,
            ..TopicBlocks::default()
        };
        blocks.index_copies();
        blocks
    }

    /// Builds the per-column index of copies from `columns` and `offsets` (which must be
    /// consistent: sorted columns below `n_shared`, one offset per topic).
    fn index_copies(&mut self) {
        if self.columns.is_empty() {
            return;
        }
        let mut start = vec![0u32; self.n_shared + 1];
        for cols in &self.columns {
            for &j in cols {
                start[j as usize + 1] += 1;
            }
        }
        for j in 0..self.n_shared {
            start[j + 1] += start[j];
        }
        let mut next = start.clone();
        let mut copies = vec![(0, 0); start[self.n_shared] as usize];
        for (t, (cols, &offset)) in self.columns.iter().zip(&self.offsets).enumerate() {
            for (p, &j) in cols.iter().enumerate() {
                let slot = &mut next[j as usize];
                copies[*slot as usize] = (t as u32, offset + p as u32);
                *slot += 1;
            }
        }
        self.copy_start = start;
        self.copies = copies;
    }

    /// Total number of columns, shared and copied.
    fn n_cols(&self) -> usize {
        self.n_shared + self.columns.iter().map(Vec::len).sum::<usize>()
    }

    /// Appends to `out` the copies of a row's entries for `topic`; `idx` must be sorted.
    fn extend_row(&self, idx: &[u32], val: &[f64], topic: usize, out: &mut Vec<(u32, f64)>) {
        self.for_each_copy(idx, val, topic, |column, v| out.push((column, v)));
    }

    /// Calls `f(column, value)` for the copy in `topic`'s block of each entry of a row that has
    /// one, in the row's order.
    fn for_each_copy(&self, idx: &[u32], val: &[f64], topic: usize, mut f: impl FnMut(u32, f64)) {
        let topic = topic as u32;
        for (&j, &v) in idx.iter().zip(val) {
            let j = j as usize;
            let copies = &self.copies[self.copy_start[j] as usize..self.copy_start[j + 1] as usize];
            if let Some(&(_, column)) = copies.iter().find(|&&(t, _)| t == topic) {
                f(column, v);
            }
        }
    }

    /// One row's entries followed by their copies in the block of `topic`, as index and value
    /// lists.
    fn row_with_topic(&self, idx: &[u32], val: &[f64], topic: usize) -> (Vec<u32>, Vec<f64>) {
        let mut entries: Vec<(u32, f64)> = idx.iter().copied().zip(val.iter().copied()).collect();
        self.extend_row(idx, val, topic, &mut entries);
        entries.into_iter().unzip()
    }

    /// Rows `x` with each row's entries copied into the block of its topic (if any).
    fn augment(&self, x: &CsrMatrix, topic_of_row: &[Option<usize>]) -> CsrMatrix {
        let mut out = CsrMatrix::new(self.n_cols());
        let mut entries = Vec::new();
        for (i, topic) in topic_of_row.iter().enumerate() {
            let (idx, val) = x.row(i);
            entries.clear();
            entries.extend(idx.iter().copied().zip(val.iter().copied()));
            if let Some(t) = topic {
                self.extend_row(idx, val, *t, &mut entries);
            }
            out.push_row(&entries);
        }
        out
    }
}

/// A trained topic and stance model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    options: TrainOptions,
    featurizer: Featurizer,
    topic: Option<Head>,
    stance: Option<StanceHead>,
}

/// A predicted label with its probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The label.
    pub label: String,
    /// The model's probability for it.
    pub probability: f64,
    /// The probabilities of all labels of the head, in [`Head::labels`] order.
    pub distribution: Vec<f64>,
}

/// One feature's push toward a predicted label and away from the runner-up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// The feature as it reads in the statement (`"backs the"`), with `[topic]` when it is the
    /// stance head's per-topic copy of the term.
    pub feature: String,
    /// Its TF-IDF value times the difference of its weights for the label and the runner-up:
    /// the exact amount it adds to the label's log-odds over the runner-up.
    pub weight: f64,
}

/// Why a head chose its label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The predicted label.
    pub label: String,
    /// The label with the next highest probability.
    pub versus: Option<String>,
    /// The features that pushed most toward `label` against `versus`, strongest first.
    pub evidence: Vec<Evidence>,
}

/// Explanations of both heads for one statement.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Explained {
    /// The topic head's.
    pub topic: Option<Explanation>,
    /// The stance head's.
    pub stance: Option<Explanation>,
}

/// A label's most indicative features: `(feature, weight)`, strongest first, where the weight is
/// the feature's weight for the label minus its mean weight over the head's labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicative {
    /// The label.
    pub label: String,
    /// Its strongest features.
    pub features: Vec<(String, f64)>,
}

/// What `stance inspect` shows of a model.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Inspection {
    /// Per topic label.
    pub topic: Vec<Indicative>,
    /// Per stance label, from the features shared by all topics.
    pub stance: Vec<Indicative>,
    /// Per topic, per stance label, from that topic's own copies of the features.
    pub stance_by_topic: Vec<(String, Vec<Indicative>)>,
}

/// The `top` strongest columns per class of `model`, among columns `cols` (named by `name`).
fn indicative(
    labels: &[String],
    weight: impl Fn(usize, usize) -> f64,
    cols: impl Iterator<Item = (usize, String)> + Clone,
    top: usize,
) -> Vec<Indicative> {
    let k = labels.len();
    labels
        .iter()
        .enumerate()
        .map(|(c, label)| {
            let mut scored: Vec<(f64, usize, String)> = cols
                .clone()
                .map(|(j, name)| {
                    let mean = (0..k).map(|o| weight(j, o)).sum::<f64>() / k as f64;
                    (weight(j, c) - mean, j, name)
                })
                .filter(|(w, _, _)| *w > 0.0)
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            Indicative {
                label: label.clone(),
                features: scored
                    .into_iter()
                    .take(top)
                    .map(|(w, _, n)| (n, w))
                    .collect(),
            }
        })
        .collect()
}

/// Topic and stance predicted for one statement (each only where the model has that head).
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    /// Predicted topic.
    pub topic: Option<Prediction>,
    /// Predicted stance.
    pub stance: Option<Prediction>,
}

/// What `train` did, for the summary it prints.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSummary {
    /// Rows read.
    pub rows: usize,
    /// Vocabulary size.
    pub vocabulary: usize,
    /// Terms in at least `min_df` training rows (the others are kept for naive Bayes only).
    pub common_terms: usize,
    /// Per head: name, rows used, per-class counts, solver iterations.
    pub heads: Vec<HeadSummary>,
    /// Stance labels outside support / oppose / neutral, kept as classes of their own.
    pub other_stance_labels: Vec<String>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Training figures of one head.
#[derive(Debug, Clone, Serialize)]
pub struct HeadSummary {
    /// `topic` or `stance`.
    pub head: String,
    /// Rows with a label for this head.
    pub rows: usize,
    /// Label and count, sorted by label.
    pub classes: Vec<(String, usize)>,
    /// L-BFGS iterations (0 for a single-class head).
    pub iterations: u64,
    /// What `--tune` chose, if it ran.
    pub tuning: Option<Tuning>,
}

/// Training stages, reported to a progress callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Tokenizing and weighting the texts.
    Featurizing,
    /// Fitting the topic and stance heads (side by side).
    Fitting,
}

/// Sorted label list and each row's class index.
fn index_labels(labels: &[&str]) -> (Vec<String>, Vec<usize>) {
    let mut names: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
    names.sort();
    names.dedup();
    let y = labels
        .iter()
        .map(|l| {
            names
                .binary_search_by(|n| n.as_str().cmp(l))
                .expect("label listed")
        })
        .collect();
    (names, y)
}

/// How one head is fitted.
struct HeadFit<'a> {
    solver: &'a SoftmaxRegression,
    /// A single class is allowed (the head then always predicts it).
    allow_single: bool,
    /// Balanced class weights.
    balanced: bool,
    /// Tune the penalty among these (and whether to keep the naive Bayes columns), scored by
    /// this measure, and the temperature ([`crate::tune`]).
    tune: Option<(&'a [f64], Measure)>,
    /// Fit complement naive Bayes on the rows as given and give the classifier their first
    /// `n` columns with the naive Bayes scores appended ([`crate::nb`]).
    naive_bayes: Option<usize>,
}

impl Head {
    /// Fits a head to rows `x` (taken, so that the solver can reorder them in place and the
    /// featurizer's rows can go once the naive Bayes columns are built).
    fn fit(
        column: &str,
        x: CsrMatrix,
        labels: &[&str],
        how: &HeadFit<'_>,
    ) -> Result<(Head, HeadSummary)> {
        let HeadFit {
            solver,
            allow_single,
            balanced,
            tune,
            naive_bayes,
        } = *how;
        let (names, y) = index_labels(labels);
        let summary = |iterations, tuning: &Option<Tuning>| HeadSummary {
            head: column.to_string(),
            rows: labels.len(),
            classes: class_counts(labels.iter().copied()),
            iterations,
            tuning: tuning.clone(),
        };
        match names.len() {
            0 => Err(Error::input(format!("no rows have a {column} label"))),
            1 if !allow_single => Err(Error::input(format!(
                "the {column} column has a single class (`{}`) in the rows used; a classifier needs at least two",
                names[0]
            ))),
            1 => Ok((
                Head {
                    labels: names,
                    classifier: None,
                    naive_bayes: None,
                    temperature: 1.0,
                    tuning: None,
                },
                summary(0, &None),
            )),
            k => {
                let weights = balanced.then(|| {
                    let mut counts = vec![0usize; k];
                    for &c in &y {
                        counts[c] += 1;
                    }
                    let n = y.len() as f64;
                    y.iter()
                        .map(|&c| n / (k as f64 * counts[c] as f64))
                        .collect()
                });
                let tuning = match tune {
                    Some((alphas, measure)) => Some(crate::tune::tune(
                        &x,
                        &y,
                        k,
                        solver,
                        weights.as_deref(),
                        Grid {
                            measure,
                            alphas,
                            naive_bayes_after: naive_bayes,
                        },
                    )?),
                    None => None,
                };
                let keep_naive_bayes = tuning.as_ref().is_none_or(|t| t.naive_bayes);
                // The naive Bayes model is fitted before the solver, so that the featurizer's
                // rows (all terms) are freed before the solver's vectors are allocated: stored
                // sparsely, the naive Bayes model is smaller than those rows.
                let (nb, x) = match naive_bayes {
                    Some(n_common) if keep_naive_bayes => {
                        let (nb, scores) = ComplementNb::fit_with_out_of_fold_scores(&x, &y, k);
                        let stacked = crate::nb::append_scores(&x, n_common, &scores, k);
                        drop(x);
                        (Some(nb), stacked)
                    }
                    Some(n_common) => (None, x.leading_columns(n_common)),
                    None => (None, x),
                };
                if nb.is_some() {
                    // Naive Bayes's rows, transpose and fold sums are gone: hand their memory
                    // back before the solver allocates its own (20 Newsgroups train: peak RSS
                    // 485 -> 446 MB).
                    release_freed_memory();
                }
                // The final fit is the one inner cross-validation scored, on all the rows, with
                // the same tolerance: at the weakest penalties the early stop is part of the
                // regularisation.
                let solver = match &tuning {
                    Some(t) => SoftmaxRegression {
                        alpha: t.alpha,
                        ..solver.clone()
                    },
                    None => solver.clone(),
                };
                let model = solver.fit_sparse(Cow::Owned(x), &y, k, weights)?;
                let iterations = model.iterations();
                Ok((
                    Head {
                        labels: names,
                        classifier: Some(model),
                        naive_bayes: nb,
                        temperature: tuning.as_ref().map_or(1.0, |t| t.temperature),
                        tuning: tuning.clone(),
                    },
                    summary(iterations, &tuning),
                ))
            }
        }
    }

    fn predict_row(&self, idx: &[u32], val: &[f64]) -> Prediction {
        self.predict_row_with(idx, val, |_, _| {})
    }

    /// [`Head::predict_row`], adding the columns the classifier has weights for and then the
    /// naive Bayes scores straight into the class scores (no stacked row is built), with
    /// `extra` adding the scores of entries the row does not store (a stance row's topic
    /// copies).
    fn predict_row_with(
        &self,
        idx: &[u32],
        val: &[f64],
        extra: impl FnOnce(&SoftmaxModel, &mut [f64]),
    ) -> Prediction {
        let mut probs = vec![1.0; self.labels.len()];
        if let Some(c) = &self.classifier {
            match &self.naive_bayes {
                None => c.logits_into(idx, val, &mut probs),
                Some(nb) => {
                    let k = nb.n_classes();
                    let mut scores = vec![0.0; k];
                    nb.scores_into(idx, val, &mut scores);
                    let first = c.n_features() - k;
                    let (idx, val) = leading_entries((idx, val), first);
                    c.logits_into(idx, val, &mut probs);
                    for (from, &score) in scores.iter().enumerate() {
                        c.add_feature(first + from, score, &mut probs);
                    }
                }
            }
            extra(c, &mut probs);
            softmax_in_place(&mut probs, self.temperature);
        }
        self.prediction(probs)
    }

    /// The row the classifier sees: the columns of `(idx, val)` it has weights for, then the
    /// naive Bayes scores (of the whole row), if any. Prediction adds the same terms without
    /// building it; tests use it as the reference.
    #[cfg(test)]
    fn input_row<'r>(
        &self,
        idx: &'r [u32],
        val: &'r [f64],
    ) -> (std::borrow::Cow<'r, [u32]>, std::borrow::Cow<'r, [f64]>) {
        use std::borrow::Cow;
        let Some(c) = &self.classifier else {
            return (Cow::Borrowed(idx), Cow::Borrowed(val));
        };
        let Some(nb) = &self.naive_bayes else {
            let (idx, val) = leading_entries((idx, val), c.n_features());
            return (Cow::Borrowed(idx), Cow::Borrowed(val));
        };
        let k = nb.n_classes();
        let mut scores = vec![0.0; k];
        nb.scores_into(idx, val, &mut scores);
        let first = c.n_features() - k;
        let (idx, val) = leading_entries((idx, val), first);
        let first = first as u32;
        let mut cols = Vec::with_capacity(idx.len() + k);
        cols.extend_from_slice(idx);
        cols.extend((0..k as u32).map(|c| first + c));
        let mut vals = Vec::with_capacity(idx.len() + k);
        vals.extend_from_slice(val);
        vals.extend(scores);
        (Cow::Owned(cols), Cow::Owned(vals))
    }

    /// Whether input column `j` reaches the scores: a column the classifier has a weight for,
    /// or any featurizer column when naive Bayes scores are stacked (they read every column).
    fn sees_column(&self, j: usize) -> bool {
        match (&self.classifier, &self.naive_bayes) {
            (Some(_), Some(nb)) => j < nb.n_features(),
            (Some(c), None) => j < c.n_features(),
            (None, _) => false,
        }
    }

    /// The weight of input column `j` for class `c` with the naive Bayes columns folded in.
    /// The naive Bayes scores are linear in the row, so the head's class scores are
    /// `intercept_c + sum_j x_j effective_weight(j, c)` exactly: explanations and inspection
    /// can name words instead of "the naive Bayes score".
    fn effective_weight(&self, j: usize, c: usize) -> f64 {
        let Some(clf) = &self.classifier else {
            return 0.0;
        };
        let Some(nb) = &self.naive_bayes else {
            return clf.weight(j, c);
        };
        let k = nb.n_classes();
        let first = clf.n_features() - k;
        let own = if j < first { clf.weight(j, c) } else { 0.0 };
        own + (0..k)
            .map(|from| clf.weight(first + from, c) * nb.centred_weight(j, from))
            .sum::<f64>()
    }

    /// The prediction that `distribution` (over this head's labels) gives: its most likely
    /// label (the first on ties).
    fn prediction(&self, distribution: Vec<f64>) -> Prediction {
        let best =
            distribution
                .iter()
                .enumerate()
                .fold(0, |b, (i, p)| if *p > distribution[b] { i } else { b });
        Prediction {
            label: self.labels[best].clone(),
            probability: distribution[best],
            distribution,
        }
    }

    /// The top `top` features of row `(idx, val)` for the predicted label against the
    /// runner-up, named by `name`.
    fn explain_row(
        &self,
        idx: &[u32],
        val: &[f64],
        top: usize,
        name: impl Fn(u32) -> String,
        label: Option<&str>,
    ) -> Explanation {
        let p = self.predict_row(idx, val);
        let label = label
            .filter(|l| self.labels.iter().any(|n| n == l))
            .unwrap_or(&p.label);
        let best = self.labels.iter().position(|l| l == label).unwrap_or(0);
        let runner_up = (0..self.labels.len())
            .filter(|&c| c != best)
            .max_by(|&a, &b| {
                p.distribution[a]
                    .total_cmp(&p.distribution[b])
                    .then(b.cmp(&a))
            });
        let mut evidence: Vec<(u32, f64)> = match runner_up {
            Some(r) => idx
                .iter()
                .zip(val)
                .filter(|&(&j, _)| self.sees_column(j as usize))
                .map(|(&j, &v)| {
                    let j_ = j as usize;
                    (
                        j,
                        v * (self.effective_weight(j_, best) - self.effective_weight(j_, r)),
                    )
                })
                .filter(|&(_, w)| w > 0.0)
                .collect(),
            None => Vec::new(),
        };
        evidence.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Explanation {
            label: self.labels[best].clone(),
            versus: runner_up.map(|r| self.labels[r].clone()),
            evidence: evidence
                .into_iter()
                .take(top)
                .map(|(j, weight)| Evidence {
                    feature: name(j),
                    weight,
                })
                .collect(),
        }
    }

    /// The fitted classifier, if the head has more than one class.
    pub fn classifier(&self) -> Option<&SoftmaxModel> {
        self.classifier.as_ref()
    }
}

impl Model {
    /// Trains a model on labelled examples. `progress` is told when each stage starts.
    pub fn train(
        examples: &[Example],
        options: &TrainOptions,
        mut progress: impl FnMut(Stage),
    ) -> Result<(Model, TrainSummary)> {
        let started = Instant::now();
        let topic_rows: Vec<usize> = (0..examples.len())
            .filter(|&i| examples[i].topic.is_some())
            .collect();
        let stance_rows: Vec<usize> = (0..examples.len())
            .filter(|&i| examples[i].stance.is_some())
            .collect();
        if topic_rows.is_empty() && stance_rows.is_empty() {
            return Err(Error::input("no row has a topic or stance label"));
        }
        progress(Stage::Featurizing);
        let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
        let topic_naive_bayes =
            options.topic_naive_bayes && options.topic_head && !topic_rows.is_empty();
        let (featurizer, x) = Featurizer::fit_transform_keeping_rare(
            &texts,
            options.features.clone(),
            topic_naive_bayes,
        );
        let n_common = featurizer.n_common();

        progress(Stage::Fitting);
        let topic_labels: Vec<&str> = topic_rows
            .iter()
            .map(|&i| examples[i].topic.as_deref().unwrap_or_default())
            .collect();
        // The stance head needs the topic head's label list, not its weights, so the two heads
        // are fitted side by side (each one's result does not depend on the other's threads).
        let topics: Vec<String> = if options.topic_aware_stance {
            Some(index_labels(&topic_labels).0)
                .filter(|t| t.len() > 1)
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        // Each head's rows are taken from the full matrix before the fitting starts, so that
        // it can be freed first (the heads' solvers are what peaks the memory); the stance
        // head's per-topic copies are then built beside the topic head's fit.
        let stance_input = (!stance_rows.is_empty()).then(|| {
            if stance_rows.len() == x.n_rows() {
                x.leading_columns(n_common)
            } else {
                x.select_rows(&stance_rows).leading_columns(n_common)
            }
        });
        let topic_input = if topic_rows.is_empty() || !options.topic_head {
            drop(x);
            None
        } else if topic_rows.len() == x.n_rows() {
            Some(x)
        } else {
            let xt = x.select_rows(&topic_rows);
            drop(x);
            Some(xt)
        };
        release_freed_memory();
        let fit_topic = || -> Result<Option<(Head, HeadSummary)>> {
            let Some(xt) = topic_input else {
                return Ok(None);
            };
            Head::fit(
                "topic",
                xt,
                &topic_labels,
                &HeadFit {
                    solver: &options.topic_solver,
                    allow_single: !stance_rows.is_empty(),
                    balanced: false,
                    tune: options
                        .tune
                        .then_some((&TOPIC_ALPHAS[..], Measure::Accuracy)),
                    naive_bayes: topic_naive_bayes.then_some(n_common),
                },
            )
            .map(Some)
        };
        // A tuned stance head converges 10x tighter, in inner cross-validation and in the final
        // fit alike: it gains from convergence (the bundled corpus's test split, stance accuracy
        // 0.824 -> 0.829), while the topic head's naive Bayes columns at the weak penalties its
        // grid reaches need the default, earlier stop (Reuters, 10x tighter: 0.969 -> 0.962).
        let stance_solver = SoftmaxRegression {
            tolerance: if options.tune {
                options.solver.tolerance / TUNED_STANCE_TOLERANCE_DIVISOR
            } else {
                options.solver.tolerance
            },
            ..options.solver.clone()
        };
        let fit_stance = || -> Result<Option<(StanceHead, HeadSummary)>> {
            let Some(xs) = stance_input else {
                return Ok(None);
            };
            let (xs, blocks) = if topics.is_empty() {
                (xs, TopicBlocks::default())
            } else {
                let of_row: Vec<Option<usize>> = stance_rows
                    .iter()
                    .map(|&i| {
                        examples[i]
                            .topic
                            .as_deref()
                            .and_then(|t| topics.iter().position(|n| n == t))
                    })
                    .collect();
                let blocks = TopicBlocks::fit(&xs, &of_row, topics.len());
                (blocks.augment(&xs, &of_row), blocks)
            };
            let labels: Vec<&str> = stance_rows
                .iter()
                .map(|&i| examples[i].stance.as_deref().unwrap_or_default())
                .collect();
            let (head, summary) = Head::fit(
                "stance",
                xs,
                &labels,
                &HeadFit {
                    solver: &stance_solver,
                    allow_single: false,
                    balanced: options.balanced_stance,
                    tune: options
                        .tune
                        .then_some((&STANCE_ALPHAS[..], Measure::MacroF1)),
                    naive_bayes: None,
                },
            )?;
            Ok(Some((
                StanceHead {
                    head,
                    topics,
                    blocks,
                },
                summary,
            )))
        };
        let (topic, stance) = rayon::join(fit_topic, fit_stance);
        let (topic, stance) = (topic?, stance?);
        let mut featurizer = featurizer;
        if topic.as_ref().is_none_or(|(h, _)| h.naive_bayes.is_none()) {
            // Tuning chose no naive Bayes columns: the rare terms serve nothing.
            featurizer.drop_rare_terms();
        }
        let mut heads = Vec::new();
        let topic = topic.map(|(h, s)| {
            heads.push(s);
            h
        });
        let stance = stance.map(|(h, s)| {
            heads.push(s);
            h
        });

        let mut other_stance_labels: Vec<String> = stance
            .iter()
            .flat_map(|s| s.head.labels.iter())
            .filter(|l| !STANCES.contains(&l.as_str()))
            .cloned()
            .collect();
        other_stance_labels.sort();
        let summary = TrainSummary {
            rows: examples.len(),
            vocabulary: featurizer.n_features(),
            common_terms: featurizer.n_common(),
            heads,
            other_stance_labels,
            seconds: started.elapsed().as_secs_f64(),
        };
        let model = Model {
            options: options.clone(),
            featurizer,
            topic,
            stance,
        };
        Ok((model, summary))
    }

    /// Predicts topic and stance for each text. Where `topics` gives a row's topic, the stance
    /// head uses it (and the topic head is still reported); otherwise it uses the predicted topic.
    pub fn predict<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        topics: Option<&[Option<String>]>,
    ) -> Vec<Labelled> {
        self.predict_rows(&self.featurizer.transform(texts), topics)
    }

    /// [`Model::predict`] on rows already featurized by this model's featurizer.
    fn predict_rows(&self, x: &CsrMatrix, topics: Option<&[Option<String>]>) -> Vec<Labelled> {
        self.add_stances(x, self.predict_topics(x), topics)
    }

    /// The topic head's prediction for each row (`None` without a topic head).
    fn predict_topics(&self, x: &CsrMatrix) -> Vec<Option<Prediction>> {
        use rayon::prelude::*;
        (0..x.n_rows())
            .into_par_iter()
            .map(|i| {
                let (idx, val) = x.row(i);
                self.topic.as_ref().map(|h| h.predict_row(idx, val))
            })
            .collect()
    }

    /// Each row's topic prediction with the stance head's prediction added. The stance head
    /// uses the row's topic from `given` where it has one, else the predicted topic.
    fn add_stances(
        &self,
        x: &CsrMatrix,
        predicted: Vec<Option<Prediction>>,
        given: Option<&[Option<String>]>,
    ) -> Vec<Labelled> {
        use rayon::prelude::*;
        predicted
            .into_par_iter()
            .enumerate()
            .map(|(i, topic)| {
                let (idx, val) = x.row(i);
                let stance = self.stance.as_ref().map(|s| {
                    let given = given.and_then(|t| t[i].as_deref());
                    let chosen = given.or(topic.as_ref().map(|p| p.label.as_str()));
                    match chosen.and_then(|t| s.topics.iter().position(|n| n == t)) {
                        Some(t) => {
                            let (idx, val) = leading_entries((idx, val), s.blocks.n_shared);
                            s.head.predict_row_with(idx, val, |c, scores| {
                                s.blocks.for_each_copy(idx, val, t, |column, v| {
                                    c.add_feature(column as usize, v, scores)
                                })
                            })
                        }
                        None => s.head.predict_row(idx, val),
                    }
                });
                Labelled { topic, stance }
            })
            .collect()
    }

    /// Predicts the statements of one article, with the article as context for the topic: each
    /// statement's topic distribution is mixed with the mean distribution of the article's
    /// statements (`(1 - context) * own + context * article`; rows where `counts` is false
    /// do not add to the mean), and the stance head then uses the mixed topic. A single sentence
    /// rarely names its topic; its article usually does.
    pub fn predict_in_article<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        counts: &[bool],
        context: f64,
    ) -> Vec<Labelled> {
        let x = self.featurizer.transform(texts);
        let own = self.predict_topics(&x);
        let Some(head) = &self.topic else {
            return self.add_stances(&x, own, None);
        };
        let k = head.labels.len();
        let counted: Vec<&Prediction> = own
            .iter()
            .zip(counts)
            .filter(|(_, &c)| c)
            .filter_map(|(p, _)| p.as_ref())
            .collect();
        if context <= 0.0 || counted.is_empty() || k < 2 {
            return self.add_stances(&x, own, None);
        }
        let mut mean = vec![0.0; k];
        for p in &counted {
            for (m, q) in mean.iter_mut().zip(&p.distribution) {
                *m += q / counted.len() as f64;
            }
        }
        let mixed: Vec<Option<Prediction>> = own
            .iter()
            .map(|p| {
                let own = p.as_ref().map_or(&mean, |t| &t.distribution);
                Some(
                    head.prediction(
                        own.iter()
                            .zip(&mean)
                            .map(|(o, m)| (1.0 - context) * o + context * m)
                            .collect(),
                    ),
                )
            })
            .collect();
        self.add_stances(&x, mixed, None)
    }

    /// Explains the prediction for `text`: for each head, the `top` features that pushed most
    /// toward the predicted label against the runner-up. `topic` is given to the stance head
    /// as in [`Model::predict`]. Features are shown as the words of `text` they came from.
    ///
    /// `topic_label` is the topic to explain, where it is not the topic head's own choice for the
    /// statement alone (`classify` prints the topic mixed with the article's); the evidence is
    /// then for that label against the strongest other.
    pub fn explain(
        &self,
        text: &str,
        topic: Option<&str>,
        topic_label: Option<&str>,
        top: usize,
    ) -> Explained {
        let x = self.featurizer.transform(&[text]);
        let (idx, val) = x.row(0);
        let readable = crate::features::surface_forms(text);
        let term = |j: u32| {
            let t = self.featurizer.term(j as usize);
            readable.get(t).cloned().unwrap_or_else(|| t.to_string())
        };
        let topic_explained = self
            .topic
            .as_ref()
            .map(|h| h.explain_row(idx, val, top, term, topic_label));
        let stance = self.stance.as_ref().map(|s| {
            let chosen = topic.or(topic_explained.as_ref().map(|e| e.label.as_str()));
            match chosen.and_then(|t| s.topics.iter().position(|n| n == t)) {
                Some(t) => {
                    let (idx, val) = leading_entries((idx, val), s.blocks.n_shared);
                    let (aug_idx, aug_val) = s.blocks.row_with_topic(idx, val, t);
                    let name = |j: u32| {
                        if (j as usize) < s.blocks.n_shared {
                            term(j)
                        } else {
                            let k = (j - s.blocks.offsets[t]) as usize;
                            format!("{} [{}]", term(s.blocks.columns[t][k]), s.topics[t])
                        }
                    };
                    s.head.explain_row(&aug_idx, &aug_val, top, name, None)
                }
                None => s.head.explain_row(idx, val, top, term, None),
            }
        });
        Explained {
            topic: topic_explained,
            stance,
        }
    }

    /// The `top` most indicative features of every label; `readable` may map a term to the
    /// words it usually stands for.
    pub fn inspect(
        &self,
        top: usize,
        readable: &std::collections::HashMap<String, String>,
    ) -> Inspection {
        let name = |j: usize| {
            let t = self.featurizer.term(j);
            readable.get(t).cloned().unwrap_or_else(|| t.to_string())
        };
        let shared = (0..self.featurizer.n_common()).map(|j| (j, name(j)));
        let mut out = Inspection::default();
        if let Some(h) = &self.topic {
            if h.classifier.is_some() {
                let weight = |j, c| h.effective_weight(j, c);
                out.topic = indicative(&h.labels, weight, shared.clone(), top);
            }
        }
        if let Some(s) = &self.stance {
            if let Some(c) = &s.head.classifier {
                let weight = |j, k| c.weight(j, k);
                out.stance = indicative(&s.head.labels, weight, shared.clone(), top);
                for (t, topic) in s.topics.iter().enumerate() {
                    let offset = s.blocks.offsets[t] as usize;
                    let cols = s.blocks.columns[t]
                        .iter()
                        .enumerate()
                        .map(move |(k, &j)| (offset + k, j as usize))
                        .map(|(col, j)| (col, name(j)));
                    out.stance_by_topic
                        .push((topic.clone(), indicative(&s.head.labels, weight, cols, top)));
                }
            }
        }
        out
    }

    /// The topic head, if the model has one.
    pub fn topic_head(&self) -> Option<&Head> {
        self.topic.as_ref()
    }

    /// The stance head, if the model has one.
    pub fn stance_head(&self) -> Option<&Head> {
        self.stance.as_ref().map(|s| &s.head)
    }

    /// The options the model was trained with.
    pub fn options(&self) -> &TrainOptions {
        &self.options
    }

    /// The featurizer.
    pub fn featurizer(&self) -> &Featurizer {
        &self.featurizer
    }

    /// Whether the featurizer, heads and topic blocks fit together, so that prediction cannot
    /// index out of bounds.
    fn is_consistent(&self) -> bool {
        let all = self.featurizer.n_features();
        let d = self.featurizer.n_common();
        let head_ok = |h: &Head, n_features: usize| {
            !h.labels.is_empty()
                && h.temperature.is_finite()
                && h.temperature > 0.0
                && match &h.classifier {
                    Some(c) => {
                        let input = match &h.naive_bayes {
                            Some(nb) => {
                                if !(nb.is_consistent()
                                    && nb.n_features() == all
                                    && nb.n_classes() == h.labels.len())
                                {
                                    return false;
                                }
                                n_features + h.labels.len()
                            }
                            None => n_features,
                        };
                        c.is_consistent()
                            && c.n_classes() == h.labels.len()
                            && c.n_features() == input
                    }
                    None => h.labels.len() == 1 && h.naive_bayes.is_none(),
                }
        };
        let blocks_ok = |s: &StanceHead| {
            let b = &s.blocks;
            if s.topics.is_empty() {
                return b.columns.is_empty() && b.offsets.is_empty();
            }
            let mut next = b.n_shared as u64;
            b.n_shared == d
                && b.columns.len() == s.topics.len()
                && b.offsets.len() == s.topics.len()
                && b.columns.iter().zip(&b.offsets).all(|(cols, &off)| {
                    let ok = u64::from(off) == next
                        && cols.windows(2).all(|w| w[0] < w[1])
                        && cols.iter().all(|&j| (j as usize) < d);
                    next += cols.len() as u64;
                    ok
                })
                && next <= u64::from(u32::MAX)
        };
        self.featurizer.is_consistent()
            && self.topic.as_ref().is_none_or(|h| head_ok(h, d))
            && self.stance.as_ref().is_none_or(|s| {
                blocks_ok(s)
                    && head_ok(
                        &s.head,
                        if s.topics.is_empty() {
                            d
                        } else {
                            s.blocks.n_cols()
                        },
                    )
            })
    }

    /// The model as the bytes of a model file.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let payload = postcard::to_stdvec(self)
            .map_err(|e| Error::internal(format!("cannot encode model: {e}")))?;
        Ok(frame_payload(&payload))
    }

    /// Writes the bytes of [`Model::to_bytes`] to the start of `file` without holding them in
    /// memory (the 20 Newsgroups model is 77 MB): a blank header, the payload streamed through
    /// a checksum, then the header filled in.
    fn write_file(&self, file: &mut std::fs::File, path: &Path) -> Result<()> {
        use std::io::{Seek, SeekFrom};
        let io = |e: std::io::Error| Error::io(path, "write model", &e);
        file.write_all(&[0; HEADER_LEN]).map_err(io)?;
        let (len, crc) = {
            let mut out = Checksummed {
                inner: std::io::BufWriter::with_capacity(1 << 20, &mut *file),
                crc: crc32fast::Hasher::new(),
                len: 0,
                error: None,
            };
            let encoded = postcard::to_io(self, &mut out).map(|_| ());
            if let Err(e) = encoded {
                return Err(match out.error.take() {
                    Some(io_error) => io(io_error),
                    None => Error::internal(format!("cannot encode model: {e}")),
                });
            }
            out.inner.flush().map_err(io)?;
            (out.len, out.crc.finalize())
        };
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(&header(len, crc)).map_err(io)
    }

    /// Reads a model from the bytes of a model file; errors say what is wrong with them.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(Error::input(
                "not a stance model file (it does not start with the model signature)",
            ));
        }
        if bytes.len() < HEADER_LEN {
            return Err(Error::input(
                "truncated model file (the header is incomplete); retrain or restore it",
            ));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version > FORMAT_VERSION {
            return Err(Error::input(format!(
                "model file format version {version} is newer than this build of stance reads ({FORMAT_VERSION}); upgrade stance or retrain the model with this build"
            )));
        }
        if version != FORMAT_VERSION {
            return Err(Error::input(format!(
                "model file format version {version}, but this build of stance reads version {FORMAT_VERSION}; retrain the model with this build"
            )));
        }
        let len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
        let crc = u32::from_le_bytes(bytes[20..24].try_into().expect("4 bytes"));
        let payload = &bytes[HEADER_LEN..];
        if (payload.len() as u64) < len {
            return Err(Error::input(format!(
                "truncated model file ({} of {len} payload bytes); retrain or restore it",
                payload.len()
            )));
        }
        if payload.len() as u64 > len {
            return Err(Error::input(
                "corrupt model file (bytes after the end of the model)",
            ));
        }
        if crc32fast::hash(payload) != crc {
            return Err(Error::input(
                "corrupt model file (checksum mismatch); retrain or restore it",
            ));
        }
        let mut model: Model = postcard::from_bytes(payload)
            .map_err(|e| Error::input(format!("corrupt model file ({e})")))?;
        if !model.is_consistent() {
            return Err(Error::input(
                "corrupt model file (its parts do not fit together); retrain or restore it",
            ));
        }
        if let Some(s) = &mut model.stance {
            s.blocks.index_copies();
        }
        Ok(model)
    }

    /// Reads a model file.
    ///
    /// The file is mapped into memory rather than copied: the model is decoded straight from the
    /// page cache (a 14 MB UKP model loaded in about a quarter less time). Model files are replaced
    /// by rename ([`Model::save`]), never rewritten in place, so the mapped bytes stay as they
    /// were while they are read.
    pub fn load(path: &Path) -> Result<Model> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, "read model", &e))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(Error::input(format!(
                "{}: is a folder, not a model file; give the path of a file written by `stance train`",
                path.display()
            )));
        }
        // SAFETY: the mapping is only read, and only while this function runs; a model file is
        // not changed in place by stance (it writes a new file and renames it over the old one).
        let bytes =
            unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, "read model", &e))?;
        Model::from_bytes(&bytes).map_err(|e| e.context(path.display()))
    }

    /// Writes the model to `path` atomically: a temporary file in the same folder, then a rename,
    /// so an interrupted or failed write never leaves a partial model at `path`.
    pub fn save(&self, path: &Path) -> Result<()> {
        let dir = check_destination(path)?;
        remove_stale_temporaries(dir);
        let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
        let mut tmp = tempfile::Builder::new()
            .prefix(&prefix)
            .tempfile_in(dir)
            .map_err(|e| Error::io(path, "create a temporary file beside", &e))?;
        // A model is an ordinary file: readable by others like any file the user writes
        // (tempfile creates its files readable by the owner only).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = tmp
                .as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644));
        }
        self.write_file(tmp.as_file_mut(), path)?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io(path, "write model", &e))?;
        tmp.persist(path)
            .map_err(|e| Error::io(path, "move the new model into place at", &e.error))?;
        Ok(())
    }
}

/// Temporary model files start with this, then the writing process's id and a dash.
const TEMP_PREFIX: &str = ".stance-model-";

/// Removes temporary model files left in `dir` by a `train` that was killed while writing
/// (SIGKILL gives no chance to clean up). Only files whose writing process is gone are removed,
/// so a `train` running beside this one keeps its file. Works where /proc lists processes.
fn remove_stale_temporaries(dir: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(TEMP_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Checks that `path` can receive a file: its folder exists and it is not a folder itself.
/// Returns the folder.
pub fn check_destination(path: &Path) -> Result<&Path> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::input(format!(
            "{}: the folder {} does not exist; create it first or choose another path",
            path.display(),
            dir.display()
        )));
    }
    if path.is_dir() {
        return Err(Error::input(format!(
            "{}: is a folder; give a file name",
            path.display()
        )));
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(text: &str, topic: &str, stance: &str) -> Example {
        Example {
            text: text.into(),
            topic: Some(topic.into()),
            stance: Some(stance.into()),
            line: 0,
        }
    }

    fn small_corpus() -> Vec<Example> {
        let mut v = Vec::new();
        for i in 0..10 {
            v.push(ex(
                &format!("we back the climate tax plan {i}"),
                "climate",
                "support",
            ));
            v.push(ex(
                &format!("we reject the climate tax plan {i}"),
                "climate",
                "oppose",
            ));
            v.push(ex(
                &format!("the climate tax plan was published {i}"),
                "climate",
                "neutral",
            ));
            v.push(ex(
                &format!("we back the border visa rules {i}"),
                "immigration",
                "support",
            ));
            v.push(ex(
                &format!("we reject the border visa rules {i}"),
                "immigration",
                "oppose",
            ));
            v.push(ex(
                &format!("the border visa rules were published {i}"),
                "immigration",
                "neutral",
            ));
        }
        v
    }

    #[test]
    fn trains_and_predicts_both_heads() {
        let (model, summary) =
            Model::train(&small_corpus(), &TrainOptions::default(), |_| {}).unwrap();
        assert_eq!(summary.heads.len(), 2);
        let out = model.predict(
            &["they back the visa rules", "we reject the tax plan"],
            None,
        );
        assert_eq!(out[0].topic.as_ref().unwrap().label, "immigration");
        assert_eq!(out[0].stance.as_ref().unwrap().label, "support");
        assert_eq!(out[1].topic.as_ref().unwrap().label, "climate");
        assert_eq!(out[1].stance.as_ref().unwrap().label, "oppose");
        let p = out[0].stance.as_ref().unwrap();
        assert!((p.distribution.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn round_trip_is_byte_identical_and_predicts_the_same() {
        let (model, _) = Model::train(&small_corpus(), &TrainOptions::default(), |_| {}).unwrap();
        let bytes = model.to_bytes().unwrap();
        let loaded = Model::from_bytes(&bytes).unwrap();
        assert_eq!(loaded.to_bytes().unwrap(), bytes);
        let texts = ["we back the plan", "visa rules"];
        assert_eq!(loaded.predict(&texts, None), model.predict(&texts, None));
        // The streamed file holds the same bytes.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.model");
        model.save(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
    }

    #[test]
    fn training_is_deterministic() {
        let a = Model::train(&small_corpus(), &TrainOptions::default(), |_| {})
            .unwrap()
            .0;
        let b = Model::train(&small_corpus(), &TrainOptions::default(), |_| {})
            .unwrap()
            .0;
        assert_eq!(a.to_bytes().unwrap(), b.to_bytes().unwrap());
    }

    #[test]
    fn bad_model_bytes_give_clear_errors() {
        let (model, _) = Model::train(&small_corpus(), &TrainOptions::default(), |_| {}).unwrap();
        let bytes = model.to_bytes().unwrap();
        let err = |b: &[u8]| Model::from_bytes(b).unwrap_err().message().to_string();
        assert!(err(b"hello world, not a model").starts_with("not a stance model file"));
        assert!(err(&bytes[..10]).starts_with("truncated model file"));
        assert!(err(&bytes[..bytes.len() - 5]).starts_with("truncated model file"));
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0xff;
        assert!(err(&flipped).starts_with("corrupt model file (checksum"));
        let mut future = bytes.clone();
        future[8..12].copy_from_slice(&99u32.to_le_bytes());
        assert!(err(&future).starts_with("model file format version 99"));
    }

    #[test]
    fn single_class_stance_is_an_error_but_single_topic_is_allowed() {
        let rows: Vec<Example> = small_corpus()
            .into_iter()
            .filter(|e| e.stance.as_deref() == Some("support"))
            .collect();
        let err = Model::train(&rows, &TrainOptions::default(), |_| {}).unwrap_err();
        assert!(err
            .message()
            .contains("stance column has a single class (`support`)"));
        let rows: Vec<Example> = small_corpus()
            .into_iter()
            .filter(|e| e.topic.as_deref() == Some("climate"))
            .collect();
        let (model, _) = Model::train(&rows, &TrainOptions::default(), |_| {}).unwrap();
        let out = model.predict(&["we reject it"], None);
        assert_eq!(out[0].topic.as_ref().unwrap().label, "climate");
        assert_eq!(out[0].stance.as_ref().unwrap().label, "oppose");
    }

    #[test]
    fn a_well_formed_but_inconsistent_model_file_is_refused() {
        let (mut model, _) =
            Model::train(&small_corpus(), &TrainOptions::default(), |_| {}).unwrap();
        model
            .topic
            .as_mut()
            .unwrap()
            .labels
            .push("an extra label the classifier has no weights for".into());
        let err = Model::from_bytes(&model.to_bytes().unwrap()).unwrap_err();
        assert!(err.to_string().contains("do not fit together"), "{err}");
    }

    #[test]
    fn topic_copies_are_found_for_every_entry_that_has_one() {
        // 40 rows over 30 columns, topics 0..3 (and some rows without one).
        let mut x = CsrMatrix::new(30);
        let mut topic_of_row = Vec::new();
        for i in 0..40u32 {
            let row: Vec<(u32, f64)> = (0..30u32)
                .filter(|j| (i * 7 + j * 3) % 11 < 3)
                .map(|j| (j, 1.0 + f64::from(j)))
                .collect();
            x.push_row(&row);
            topic_of_row.push(if i % 5 == 4 {
                None
            } else {
                Some((i % 3) as usize)
            });
        }
        let blocks = TopicBlocks::fit(&x, &topic_of_row, 3);
        for (i, own) in topic_of_row.iter().enumerate() {
            let (idx, val) = x.row(i);
            for t in 0..3 {
                let mut got = Vec::new();
                blocks.extend_row(idx, val, t, &mut got);
                // The copy of column j for topic t is at offset + its rank in the topic's list.
                let expected: Vec<(u32, f64)> = idx
                    .iter()
                    .zip(val)
                    .filter_map(|(j, &v)| {
                        let p = blocks.columns[t].binary_search(j).ok()?;
                        Some((blocks.offsets[t] + p as u32, v))
                    })
                    .collect();
                assert_eq!(got, expected, "row {i}, topic {t}");
                if *own == Some(t) {
                    assert_eq!(
                        got.len(),
                        idx.len(),
                        "a row's own topic copies all its terms"
                    );
                }
            }
        }
    }

    #[test]
    fn effective_weights_reproduce_the_stacked_topic_scores() {
        let (model, _) = Model::train(&small_corpus(), &TrainOptions::default(), |_| {}).unwrap();
        let head = model.topic.as_ref().unwrap();
        assert!(
            head.naive_bayes.is_some(),
            "the topic head stacks naive Bayes by default"
        );
        let clf = head.classifier.as_ref().unwrap();
        let x = model
            .featurizer
            .transform(&["they back the visa rules", "a tax plan nobody has seen"]);
        for i in 0..x.n_rows() {
            let (idx, val) = x.row(i);
            let row = head.input_row(idx, val);
            let mut stacked = vec![0.0; head.labels.len()];
            clf.logits_into(&row.0, &row.1, &mut stacked);
            for (c, &z) in stacked.iter().enumerate() {
                let folded = clf.intercept(c)
                    + idx
                        .iter()
                        .zip(val)
                        .map(|(&j, &v)| v * head.effective_weight(j as usize, c))
                        .sum::<f64>();
                assert!(
                    (z - folded).abs() < 1e-9,
                    "row {i} class {c}: {z} vs {folded}"
                );
            }
            // Prediction adds the same terms in the same order without building the row.
            softmax_in_place(&mut stacked, head.temperature);
            assert_eq!(head.predict_row(idx, val).distribution, stacked);
            // So does the stance head with a topic's copies.
            let s = model.stance.as_ref().unwrap();
            let sc = s.head.classifier.as_ref().unwrap();
            for t in 0..s.topics.len() {
                let (ci, cv) = leading_entries((idx, val), s.blocks.n_shared);
                let (aug_idx, aug_val) = s.blocks.row_with_topic(ci, cv, t);
                let mut expected = vec![0.0; s.head.labels.len()];
                sc.logits_into(&aug_idx, &aug_val, &mut expected);
                softmax_in_place(&mut expected, s.head.temperature);
                let given = vec![Some(s.topics[t].clone()); x.n_rows()];
                let got = model.add_stances(&x, vec![None; x.n_rows()], Some(&given));
                assert_eq!(got[i].stance.as_ref().unwrap().distribution, expected);
            }
        }
    }

    #[test]
    fn a_tuned_model_keeps_rare_terms_only_with_naive_bayes_columns() {
        let options = TrainOptions {
            tune: true,
            ..TrainOptions::default()
        };
        let (model, summary) = Model::train(&small_corpus(), &options, |_| {}).unwrap();
        let head = model.topic.as_ref().unwrap();
        let tuning = head.tuning.as_ref().unwrap();
        assert_eq!(tuning.trials.len(), 2 * TOPIC_ALPHAS.len());
        assert_eq!(head.naive_bayes.is_some(), tuning.naive_bayes);
        let rare = model.featurizer.n_features() > model.featurizer.n_common();
        assert!(!rare || tuning.naive_bayes);
        assert_eq!(summary.vocabulary, model.featurizer.n_features());
        let stance = model.stance.as_ref().unwrap().head.tuning.as_ref().unwrap();
        assert_eq!(stance.trials.len(), STANCE_ALPHAS.len());
        let bytes = model.to_bytes().unwrap();
        let loaded = Model::from_bytes(&bytes).unwrap();
        let texts = ["we back the plan", "visa rules"];
        assert_eq!(loaded.predict(&texts, None), model.predict(&texts, None));
    }

    #[test]
    fn a_topic_head_without_naive_bayes_ignores_rare_columns() {
        // What a tuned head that dropped its naive Bayes columns predicts from: the featurizer
        // without its rare terms gives the same common columns.
        let mut texts: Vec<String> = small_corpus().into_iter().map(|e| e.text).collect();
        texts.push("an unusual zebra backs the plan".into());
        let opts = FeatureOptions::default();
        let (mut f, _) = Featurizer::fit_transform_keeping_rare(&texts, opts, true);
        let n = f.n_common();
        assert!(f.n_features() > n, "the corpus has rare terms");
        let sample = [
            "we back the climate tax plan 3",
            "a zebra plan 9 nobody saw",
        ];
        let full = f.transform(&sample);
        f.drop_rare_terms();
        assert_eq!(f.n_features(), n);
        assert!(f.is_consistent());
        let common = f.transform(&sample);
        assert_eq!(common, full.leading_columns(n));
    }
}
