//! Choosing a head's regularisation strength, whether it gets naive Bayes columns, and its
//! temperature by inner cross-validation on its training rows only (`stance train --tune`).
//!
//! Rows are split into [`INNER_FOLDS`] folds, stratified by class. For each setting of the grid
//! (every penalty of [`Grid::alphas`], with and without the naive Bayes columns where the head
//! has them), a model is fitted on all folds but one and scores the held-out fold; the setting
//! with the best [`Measure`] over the out-of-fold predictions wins (ties go to the lower
//! out-of-fold log-loss, then to the naive Bayes columns and the stronger penalty). Its out-of-fold
//! class scores then give the temperature `T` that minimises the log-loss of `softmax(z / T)`:
//! temperature scaling (Guo et al., 2017), which makes the probabilities mean what they say
//! without changing any predicted label.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::eval::score;
use crate::linear::{softmax_in_place, SoftmaxRegression};
use crate::nb::{append_scores, ComplementNb};
use crate::sparse::CsrMatrix;

/// Folds of the inner cross-validation.
pub const INNER_FOLDS: usize = 3;
/// Penalties tried for the stance head (5-fold CV found 3 worse than 1 on UKP and SemEval).
pub const STANCE_ALPHAS: [f64; 4] = [0.03, 0.1, 0.3, 1.0];
/// Penalties tried for the topic head. It reaches lower than the stance head's: long documents
/// that a few words separate do best almost unpenalised (5-fold CV on Reuters-21578 without naive
/// Bayes columns, topic accuracy at 0.1 / 0.01 / 0.003: 0.963 / 0.967 / 0.968).
pub const TOPIC_ALPHAS: [f64; 6] = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0];

/// What the settings are scored by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Measure {
    /// Share of rows right: the topic head's (topic benchmarks publish accuracy, and on
    /// skewed topics such as Reuters' it is the steadier of the two on a few thousand rows).
    Accuracy,
    /// Mean F1 over classes: the stance head's (stance benchmarks publish macro-F1 and F_avg).
    MacroF1,
}

impl std::fmt::Display for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Measure::Accuracy => "accuracy",
            Measure::MacroF1 => "macro-F1",
        })
    }
}

/// The settings [`tune`] tries.
#[derive(Debug, Clone, Copy)]
pub struct Grid<'a> {
    /// What the settings are scored by.
    pub measure: Measure,
    /// Penalties.
    pub alphas: &'a [f64],
    /// Where the rows end in naive Bayes columns: the number of columns before them. Each
    /// penalty is then tried with them and without them (the leading columns only).
    pub naive_bayes_after: Option<usize>,
}

/// One setting tried and its score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// The L2 penalty.
    pub alpha: f64,
    /// Whether the rows kept their naive Bayes columns.
    pub naive_bayes: bool,
    /// The out-of-fold predictions' score ([`Tuning::measure`]).
    pub score: f64,
}

/// What tuning chose and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tuning {
    /// What the settings were scored by.
    pub measure: Measure,
    /// Each setting tried, in the order tried.
    pub trials: Vec<Trial>,
    /// The chosen penalty.
    pub alpha: f64,
    /// Whether the chosen setting keeps the naive Bayes columns.
    pub naive_bayes: bool,
    /// The fitted temperature.
    pub temperature: f64,
}

/// Fold of each row: the rows of each class dealt round-robin in row order.
fn folds(y: &[usize], n_classes: usize) -> Vec<usize> {
    let mut next = vec![0usize; n_classes];
    y.iter()
        .map(|&c| {
            let f = next[c] % INNER_FOLDS;
            next[c] += 1;
            f
        })
        .collect()
}

/// Chooses the setting and temperature for rows `x` with classes `y`. Where the grid has naive
/// Bayes columns, `x` holds the featurizer's rows (rare columns included) and every inner fold
/// fits its own naive Bayes models on its training rows only, as training does on all of them:
/// scores from models that had seen the held-out rows would make the columns look better
/// than they are.
pub fn tune(
    x: &CsrMatrix,
    y: &[usize],
    n_classes: usize,
    solver: &SoftmaxRegression,
    sample_weights: Option<&[f64]>,
    grid: Grid<'_>,
) -> Result<Tuning> {
    let k = n_classes;
    let fold = folds(y, k);
    let variants: &[bool] = if grid.naive_bayes_after.is_some() {
        &[true, false]
    } else {
        &[false]
    };
    let mut logits = vec![vec![0.0; y.len() * k]; variants.len() * grid.alphas.len()];
    for f in 0..INNER_FOLDS {
        let train: Vec<usize> = (0..y.len()).filter(|&i| fold[i] != f).collect();
        let test: Vec<usize> = (0..y.len()).filter(|&i| fold[i] == f).collect();
        let y_train: Vec<usize> = train.iter().map(|&i| y[i]).collect();
        if y_train.iter().all(|&c| c == y_train[0]) {
            continue;
        }
        let weights: Option<Vec<f64>> =
            sample_weights.map(|w| train.iter().map(|&i| w[i]).collect());
        for (v, &naive_bayes) in variants.iter().enumerate() {
            let (x_train, x_test) = fold_inputs(
                x,
                &train,
                &y_train,
                &test,
                k,
                grid.naive_bayes_after,
                naive_bayes,
            );
            for (a, &alpha) in grid.alphas.iter().enumerate() {
                let model = SoftmaxRegression {
                    alpha,
                    ..solver.clone()
                }
                .fit_sparse(
                    Cow::Borrowed(&x_train),
                    &y_train,
                    k,
                    weights.clone(),
                )?;
                let out = &mut logits[v * grid.alphas.len() + a];
                for (r, &i) in test.iter().enumerate() {
                    let (idx, val) = x_test.row(r);
                    model.logits_into(idx, val, &mut out[i * k..(i + 1) * k]);
                }
            }
        }
    }
    let labels: Vec<String> = (0..k).map(|c| c.to_string()).collect();
    let gold: Vec<&str> = y.iter().map(|&c| labels[c].as_str()).collect();
    let mut trials: Vec<Trial> = Vec::new();
    for (v, &naive_bayes) in variants.iter().enumerate() {
        for (a, &alpha) in grid.alphas.iter().enumerate() {
            let predicted: Vec<&str> = logits[v * grid.alphas.len() + a]
                .chunks(k)
                .map(|z| labels[argmax(z)].as_str())
                .collect();
            let scores = score(&labels, &gold, &predicted);
            let score = match grid.measure {
                Measure::Accuracy => scores.accuracy,
                Measure::MacroF1 => scores.macro_f1,
            };
            trials.push(Trial {
                alpha,
                naive_bayes,
                score,
            });
        }
    }
    // Accuracy and macro-F1 move in whole rows, and settings often tie on them: a tie goes to
    // the lower out-of-fold log-loss (a continuous measure of the same predictions), then to
    // the naive Bayes columns (the default) and the stronger penalty.
    let losses: Vec<f64> = logits.iter().map(|z| log_loss(z, y, k, 1.0)).collect();
    let chosen = (0..trials.len())
        .max_by(|&a, &b| {
            let key = |t: usize| {
                (
                    trials[t].score,
                    -losses[t],
                    trials[t].naive_bayes,
                    trials[t].alpha,
                )
            };
            key(a)
                .partial_cmp(&key(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        })
        .expect("the grid is not empty");
    let Trial {
        alpha, naive_bayes, ..
    } = trials[chosen];
    Ok(Tuning {
        measure: grid.measure,
        temperature: fit_temperature(&logits[chosen], y, k),
        trials,
        alpha,
        naive_bayes,
    })
}

/// One inner fold's training and held-out rows as the head sees them: with the naive Bayes
/// columns of models fitted on the fold's training rows, or cut to the columns before them.
fn fold_inputs(
    x: &CsrMatrix,
    train: &[usize],
    y_train: &[usize],
    test: &[usize],
    k: usize,
    naive_bayes_after: Option<usize>,
    naive_bayes: bool,
) -> (CsrMatrix, CsrMatrix) {
    let (x_train, x_test) = (x.select_rows(train), x.select_rows(test));
    let Some(n) = naive_bayes_after else {
        return (x_train, x_test);
    };
    if !naive_bayes {
        return (x_train.leading_columns(n), x_test.leading_columns(n));
    }
    let (nb, oof) = ComplementNb::fit_with_out_of_fold_scores(&x_train, y_train, k);
    let mut test_scores = vec![0.0; test.len() * k];
    for (r, out) in test_scores.chunks_mut(k).enumerate() {
        let (idx, val) = x_test.row(r);
        nb.scores_into(idx, val, out);
    }
    (
        append_scores(&x_train, n, &oof, k),
        append_scores(&x_test, n, &test_scores, k),
    )
}

fn argmax(z: &[f64]) -> usize {
    z.iter()
        .enumerate()
        .fold(0, |b, (i, v)| if *v > z[b] { i } else { b })
}

/// Mean negative log-likelihood of `y` under `softmax(z / t)`.
fn log_loss(logits: &[f64], y: &[usize], k: usize, t: f64) -> f64 {
    let mut p = vec![0.0; k];
    let total: f64 = logits
        .chunks(k)
        .zip(y)
        .map(|(z, &c)| {
            p.copy_from_slice(z);
            softmax_in_place(&mut p, t);
            -p[c].max(1e-300).ln()
        })
        .sum();
    total / y.len().max(1) as f64
}

/// The temperature minimising the log-loss, by golden-section search on `ln t` in [-3, 3].
pub fn fit_temperature(logits: &[f64], y: &[usize], k: usize) -> f64 {
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (-3.0f64, 3.0f64);
    let f = |u: f64| log_loss(logits, y, k, u.exp());
    let mut c = b - phi * (b - a);
    let mut d = a + phi * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..60 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - phi * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + phi * (b - a);
            fd = f(d);
        }
    }
    ((a + b) / 2.0).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_undoes_overconfidence() {
        // Scores that say 0.99 for a class that is right only 75% of the time.
        let k = 2;
        let mut logits = Vec::new();
        let mut y = Vec::new();
        for i in 0..400 {
            logits.extend_from_slice(&[4.6, 0.0]);
            y.push(usize::from(i % 4 == 0));
        }
        let t = fit_temperature(&logits, &y, k);
        let mut p = [4.6, 0.0];
        softmax_in_place(&mut p, t);
        assert!((p[0] - 0.75).abs() < 1e-3, "p = {p:?}, t = {t}");
    }

    #[test]
    fn folds_are_stratified() {
        let y = [0, 0, 0, 1, 1, 1, 0, 1];
        let f = folds(&y, 2);
        assert_eq!(f, [0, 1, 2, 0, 1, 2, 0, 0]);
    }

    /// Rows of two classes over columns 0-3 (2 and 3 rarer than `min_df` in the featurizer's
    /// layout: the "rare" columns after `n_common` = 2).
    fn two_class_rows() -> (CsrMatrix, Vec<usize>) {
        let mut x = CsrMatrix::new(4);
        let mut y = Vec::new();
        for i in 0..30 {
            let c = i % 2;
            let noise = (i % 7) as f64 / 10.0;
            x.push_row(&[(c as u32, 1.0 + noise), (2 + (i % 3 == 0) as u32, 0.5)]);
            y.push(c);
        }
        (x, y)
    }

    #[test]
    fn held_out_naive_bayes_scores_come_from_the_fold_training_rows_only() {
        let (x, y) = two_class_rows();
        let train: Vec<usize> = (0..30).filter(|i| i % 3 != 0).collect();
        let test: Vec<usize> = (0..30).filter(|i| i % 3 == 0).collect();
        let y_train: Vec<usize> = train.iter().map(|&i| y[i]).collect();
        let (x_train, x_test) = fold_inputs(&x, &train, &y_train, &test, 2, Some(2), true);
        let x_tr = x.select_rows(&train);
        let nb = ComplementNb::fit(&x_tr, &y_train, 2);
        for (r, &i) in test.iter().enumerate() {
            let mut expected = [0.0; 2];
            let (idx, val) = x.row(i);
            nb.scores_into(idx, val, &mut expected);
            let (tidx, tval) = x_test.row(r);
            // The common columns, then the two scores; the rare columns are gone.
            let (common, _) = crate::sparse::leading_entries((idx, val), 2);
            assert_eq!(&tidx[..tidx.len() - 2], common);
            assert_eq!(&tidx[tidx.len() - 2..], &[2, 3]);
            assert_eq!(&tval[tval.len() - 2..], &expected);
        }
        let (_, oof) = ComplementNb::fit_with_out_of_fold_scores(&x_tr, &y_train, 2);
        assert_eq!(x_train, append_scores(&x_tr, 2, &oof, 2));
        // Without naive Bayes: the common columns only.
        let (plain_train, _) = fold_inputs(&x, &train, &y_train, &test, 2, Some(2), false);
        assert_eq!(plain_train, x_tr.leading_columns(2));
    }

    #[test]
    fn every_setting_is_tried_and_the_best_is_chosen() {
        let (x, y) = two_class_rows();
        let alphas = [0.01, 1.0, 100.0];
        let grid = Grid {
            measure: Measure::Accuracy,
            alphas: &alphas,
            naive_bayes_after: Some(2),
        };
        let t = tune(&x, &y, 2, &SoftmaxRegression::default(), None, grid).unwrap();
        let tried: Vec<(f64, bool)> = t.trials.iter().map(|r| (r.alpha, r.naive_bayes)).collect();
        assert_eq!(
            tried,
            [
                (0.01, true),
                (1.0, true),
                (100.0, true),
                (0.01, false),
                (1.0, false),
                (100.0, false)
            ]
        );
        // The best score wins (ties are broken by log-loss, which the trials do not record).
        let best = t.trials.iter().map(|r| r.score).fold(f64::MIN, f64::max);
        assert!(t
            .trials
            .iter()
            .any(|r| r.score == best && (r.alpha, r.naive_bayes) == (t.alpha, t.naive_bayes)));
        assert!(t.temperature.is_finite() && t.temperature > 0.0);
        // The stance head's grid has no naive Bayes settings.
        let grid = Grid {
            naive_bayes_after: None,
            ..grid
        };
        let t = tune(&x, &y, 2, &SoftmaxRegression::default(), None, grid).unwrap();
        assert_eq!(t.trials.len(), 3);
        assert!(t.trials.iter().all(|r| !r.naive_bayes));
    }
}
