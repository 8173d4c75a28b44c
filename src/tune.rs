//! Choosing a head's regularisation strength and temperature by inner cross-validation on its
//! training rows only (`stance train --tune`).
//!
//! Rows are split into [`INNER_FOLDS`] folds, stratified by class. For each L2 penalty of
//! [`ALPHA_GRID`], a model is fitted on all folds but one and scores the held-out fold; the
//! penalty with the best macro-F1 over the out-of-fold predictions wins (ties go to the earlier,
//! weaker penalty). Its out-of-fold class scores then give the temperature `T` that minimises the
//! log-loss of `softmax(z / T)`: temperature scaling (Guo et al., 2017), which makes the
//! probabilities mean what they say without changing any predicted label.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::eval::score;
use crate::linear::{softmax_in_place, SoftmaxRegression};
use crate::sparse::CsrMatrix;

/// Folds of the inner cross-validation.
pub const INNER_FOLDS: usize = 3;
/// Penalties tried.
pub const ALPHA_GRID: [f64; 4] = [0.03, 0.1, 0.3, 1.0];

/// What tuning chose and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tuning {
    /// Each penalty tried with its out-of-fold macro-F1.
    pub scores: Vec<(f64, f64)>,
    /// The chosen penalty.
    pub alpha: f64,
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

/// Chooses the penalty and temperature for rows `x` with classes `y`.
pub fn tune(
    x: &CsrMatrix,
    y: &[usize],
    n_classes: usize,
    solver: &SoftmaxRegression,
    sample_weights: Option<&[f64]>,
) -> Result<Tuning> {
    let fold = folds(y, n_classes);
    let labels: Vec<String> = (0..n_classes).map(|c| c.to_string()).collect();
    let gold: Vec<&str> = y.iter().map(|&c| labels[c].as_str()).collect();
    let mut scores = Vec::new();
    let mut best: Option<(f64, f64, Vec<f64>)> = None;
    for &alpha in &ALPHA_GRID {
        let mut logits = vec![0.0; y.len() * n_classes];
        for f in 0..INNER_FOLDS {
            let train: Vec<usize> = (0..y.len()).filter(|&i| fold[i] != f).collect();
            let test: Vec<usize> = (0..y.len()).filter(|&i| fold[i] == f).collect();
            let y_train: Vec<usize> = train.iter().map(|&i| y[i]).collect();
            if y_train.iter().all(|&c| c == y_train[0]) {
                continue;
            }
            let weights = sample_weights.map(|w| train.iter().map(|&i| w[i]).collect());
            let model = SoftmaxRegression {
                alpha,
                ..solver.clone()
            }
            .fit_sparse(&x.select_rows(&train), &y_train, n_classes, weights)?;
            for &i in &test {
                let (idx, val) = x.row(i);
                model.logits_into(idx, val, &mut logits[i * n_classes..(i + 1) * n_classes]);
            }
        }
        let predicted: Vec<&str> = logits
            .chunks(n_classes)
            .map(|z| labels[argmax(z)].as_str())
            .collect();
        let f1 = score(&labels, &gold, &predicted).macro_f1;
        scores.push((alpha, f1));
        if best.as_ref().is_none_or(|(_, b, _)| f1 > *b) {
            best = Some((alpha, f1, logits));
        }
    }
    let (alpha, _, logits) = best.expect("the grid is not empty");
    Ok(Tuning {
        scores,
        alpha,
        temperature: fit_temperature(&logits, y, n_classes),
    })
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
}
