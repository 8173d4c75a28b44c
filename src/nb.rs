//! Complement naive Bayes scores as features for the logistic model (stacking).
//!
//! On topic data, complement naive Bayes (Rennie et al., 2003) over the same TF-IDF rows is a
//! strong classifier of its own, and the logistic model does better still when it is given the
//! naive Bayes scores as extra columns: on UKP's topic dev split scikit-learn's logistic
//! regression goes from 0.772 to 0.799 accuracy this way, where a linear SVM gets 0.785. The
//! logistic model learns how far to trust the scores (one weight per class and score), so it
//! stays one multinomial logistic model, with probabilities, over a richer input.
//!
//! For class `c` the complement counts are `n_cj = sum of x_ij over rows i not of class c`, the
//! smoothed complement distribution is `theta_cj = (a + n_cj) / (a d + sum_j n_cj)` and the score
//! of a row is `sum_j x_j (-ln theta_cj)`: high when the row's terms are rare outside class `c`.
//! Scores are centred on their mean over the classes. The training rows get out-of-fold scores
//! (each from a model fitted without the row's fold), or the logistic model would learn to trust
//! scores that have seen their own labels.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::sparse::{leading_entries, CsrMatrix};

/// Smoothing added to every complement count.
const SMOOTHING: f64 = 0.3;
/// Folds for the out-of-fold scores of the training rows.
const FOLDS: usize = 5;

/// A fitted complement naive Bayes model, stored sparsely.
///
/// The weight of column `j` in class `c`'s centred score is
/// `(ln den_c - mean ln den) - (ln(a + n_cj) - mean over classes of ln(a + n_cj))`. For every
/// class whose rows lack the term, `n_cj` is the term's total `t_j`, so writing
/// `ln(a + n_cj) = ln(a + t_j) + e_cj` leaves `e_cj = 0` for those classes, and the common
/// `ln(a + t_j)` cancels in the centring. Only the `e_cj` of the classes whose rows hold the term
/// are stored: a term seen in one class takes one entry, not one per class (the 20 Newsgroups
/// model file, 912k terms and 20 classes, went from 208 to 77 MB).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplementNb {
    n_features: usize,
    n_classes: usize,
    /// `ln den_c` minus its mean over the classes: what each unit of a row's mass adds to class
    /// `c`'s centred score.
    class_offsets: Vec<f64>,
    /// Column `j`'s entries are `starts[j]..starts[j + 1]` of `classes` and `excess`.
    starts: Vec<u32>,
    /// The class of each entry (a class whose training rows hold the column's term).
    classes: Vec<u32>,
    /// `e_cj = ln(a + t_j - count_cj) - ln(a + t_j)` of each entry (at most zero).
    #[serde(with = "crate::packed")]
    excess: Vec<f64>,
}

/// The full model's entries over a range of columns (see [`FoldFits::fit`]).
#[derive(Default)]
struct ModelPart {
    /// End of each column's entries, counted from the range's first entry.
    ends: Vec<usize>,
    classes: Vec<u32>,
    excess: Vec<f64>,
}

/// Parts the columns are cut into for [`FoldFits::fit`], of about equal numbers of entries.
/// Fixed, not the thread count, so that the sums kept per part (and so the scores) do not
/// depend on it.
const FIT_PARTS: usize = 4;

/// One part's share of [`FoldFits`].
struct PartFit {
    /// The full model's entries for the part's columns.
    full: ModelPart,
    /// Per model (fold models, then the full one) and class, the sum of the part's counts.
    class_totals: Vec<f64>,
    /// Per training row, `n_classes + 1` sums over the part's columns: for each class, minus
    /// `x_j e_cj` of the row's fold model, then plus `x_j e_cj` over all classes (the shared
    /// part of the centring). Empty without folds.
    row_sums: Vec<f64>,
}

/// Naive Bayes models fitted side by side: the model fitted without each fold's rows, which
/// scores that fold's rows as it is fitted (and is then forgotten), and the model fitted on all
/// rows, which is kept.
struct FoldFits {
    n_features: usize,
    n_classes: usize,
    folds: usize,
    /// The parts, in column order.
    parts: Vec<PartFit>,
}

/// Per-column scratch of [`FoldFits::fit`]: a column's sums per fold and class, and the
/// classes whose rows hold it.
struct ColumnSums {
    by_fold: Vec<f64>,
    total: Vec<f64>,
    seen: Vec<bool>,
    classes: Vec<usize>,
}

impl ColumnSums {
    fn new(folds: usize, k: usize) -> Self {
        ColumnSums {
            by_fold: vec![0.0; folds.max(1) * k],
            total: vec![0.0; k],
            seen: vec![false; k],
            classes: Vec::with_capacity(k),
        }
    }

    /// Adds the entries of one column, rows `rows` with values `val`.
    fn add(&mut self, rows: &[u32], val: &[f64], y: &[usize], fold_of: &[u8]) {
        let k = self.total.len();
        for (&i, &v) in rows.iter().zip(val) {
            let (i, c) = (i as usize, y[i as usize]);
            if !self.seen[c] {
                self.seen[c] = true;
                self.classes.push(c);
            }
            self.by_fold[fold_of[i] as usize * k + c] += v;
            self.total[c] += v;
        }
        self.classes.sort_unstable();
    }

    /// Model `m`'s count of class `c` (`m == folds`: all rows; else without fold `m`'s rows).
    /// A class only fold `m` holds gets exactly zero: its total and its fold's sum add the same
    /// values in the same order.
    fn count(&self, m: usize, folds: usize, c: usize) -> f64 {
        if m == folds {
            self.total[c]
        } else {
            self.total[c] - self.by_fold[m * self.total.len() + c]
        }
    }

    /// Model `m`'s entries for the column, `(class, e_cj)` for each class with a nonzero count,
    /// into `out`; adds the counts to `class_totals` (length `n_classes`).
    fn entries(&self, m: usize, folds: usize, class_totals: &mut [f64], out: &mut Vec<(u32, f64)>) {
        out.clear();
        // The other classes' counts are zero, which leave the sum as it is.
        let absent = SMOOTHING
            + self
                .classes
                .iter()
                .map(|&c| self.count(m, folds, c))
                .sum::<f64>();
        for &c in &self.classes {
            let count = self.count(m, folds, c);
            if count != 0.0 {
                class_totals[c] += count;
                // ln(a + t - count) - ln(a + t), with one logarithm.
                out.push((c as u32, ((absent - count) / absent).ln()));
            }
        }
    }

    fn clear(&mut self, folds: usize) {
        let k = self.total.len();
        for &c in &self.classes {
            self.total[c] = 0.0;
            self.seen[c] = false;
            for f in 0..folds.max(1) {
                self.by_fold[f * k + c] = 0.0;
            }
        }
        self.classes.clear();
    }
}

impl FoldFits {
    /// In one pass over the columns of `x` (`xt` is its transpose; [`FIT_PARTS`] ranges of
    /// columns in parallel), the model fitted without each fold's rows (row `i` is in fold
    /// `fold_of[i]`, below `folds`), which adds each column's share to the scores of the rows
    /// it left out, and the model fitted on all rows.
    fn fit(
        xt: &CsrMatrix,
        y: &[usize],
        n_classes: usize,
        fold_of: &[u8],
        folds: usize,
    ) -> FoldFits {
        let (d, k, n) = (xt.n_rows(), n_classes, fold_of.len());
        let width = k + 1;
        let parts: Vec<PartFit> = column_parts(xt)
            .into_par_iter()
            .map(|columns| {
                let mut full = ModelPart::default();
                let mut class_totals = vec![0.0; (folds + 1) * k];
                let mut row_sums = vec![0.0; if folds > 0 { n * width } else { 0 }];
                let mut sums = ColumnSums::new(folds, k);
                // Per model, the column's entries `(class, e_cj)`.
                let mut entries = vec![Vec::with_capacity(k); folds + 1];
                for j in columns {
                    let (rows, val) = xt.row(j);
                    sums.add(rows, val, y, fold_of);
                    for (m, (totals, out)) in
                        class_totals.chunks_mut(k).zip(&mut entries).enumerate()
                    {
                        sums.entries(m, folds, totals, out);
                    }
                    if folds > 0 {
                        for (&i, &v) in rows.iter().zip(val) {
                            let out = &mut row_sums[i as usize * width..][..width];
                            for &(c, e) in &entries[fold_of[i as usize] as usize] {
                                out[c as usize] -= v * e;
                                out[k] += v * e;
                            }
                        }
                    }
                    for &(c, e) in &entries[folds] {
                        full.classes.push(c);
                        full.excess.push(e);
                    }
                    full.ends.push(full.classes.len());
                    sums.clear(folds);
                }
                PartFit {
                    full,
                    class_totals,
                    row_sums,
                }
            })
            .collect();
        FoldFits {
            n_features: d,
            n_classes: k,
            folds,
            parts,
        }
    }

    /// The model fitted on all rows, as one [`ComplementNb`].
    fn assemble(&self) -> ComplementNb {
        let (d, k) = (self.n_features, self.n_classes);
        let entries: usize = self.parts.iter().map(|p| p.full.classes.len()).sum();
        let mut starts = Vec::with_capacity(d + 1);
        starts.push(0u32);
        let mut classes = Vec::with_capacity(entries);
        let mut excess = Vec::with_capacity(entries);
        for part in &self.parts {
            let base = classes.len();
            starts.extend(
                part.full
                    .ends
                    .iter()
                    .map(|&e| u32::try_from(base + e).expect("fewer than 2^32 entries")),
            );
            classes.extend_from_slice(&part.full.classes);
            excess.extend_from_slice(&part.full.excess);
        }
        ComplementNb {
            n_features: d,
            n_classes: k,
            class_offsets: self.class_offsets(self.folds),
            starts,
            classes,
            excess,
        }
    }

    /// Model `m`'s [`ComplementNb::class_offsets`] (`m == folds`: the full model), from its
    /// class totals added in part order, so they do not depend on the thread count.
    fn class_offsets(&self, m: usize) -> Vec<f64> {
        let k = self.n_classes;
        let mut class_totals = vec![0.0; k];
        for part in &self.parts {
            for (t, p) in class_totals
                .iter_mut()
                .zip(&part.class_totals[m * k..][..k])
            {
                *t += p;
            }
        }
        class_offsets(self.n_features, &class_totals)
    }

    /// The out-of-fold scores of the rows of `x` (the matrix fitted), row-major: the parts'
    /// sums added in part order, then each class's offset times the row's mass and the shared
    /// part of the centring (as [`ComplementNb::scores_into`] adds them).
    fn out_of_fold_scores(&self, x: &CsrMatrix, fold_of: &[u8]) -> Vec<f64> {
        let (k, width) = (self.n_classes, self.n_classes + 1);
        let offsets: Vec<Vec<f64>> = (0..self.folds).map(|m| self.class_offsets(m)).collect();
        let mut scores = vec![0.0; x.n_rows() * k];
        scores.par_chunks_mut(k.max(1)).enumerate().for_each_init(
            || vec![0.0; width],
            |sums, (i, out)| {
                sums.fill(0.0);
                for part in &self.parts {
                    for (s, p) in sums.iter_mut().zip(&part.row_sums[i * width..][..width]) {
                        *s += p;
                    }
                }
                let (idx, val) = x.row(i);
                let mass: f64 = leading_entries((idx, val), self.n_features).1.iter().sum();
                let shared = sums[k] / k as f64;
                let offsets = &offsets[fold_of[i] as usize];
                for ((o, s), &offset) in out.iter_mut().zip(sums.iter()).zip(offsets) {
                    *o = s + (mass * offset + shared);
                }
            },
        );
        scores
    }
}

/// Cuts the columns of `x` (the rows of its transpose `xt`) into [`FIT_PARTS`] ranges of about
/// equal numbers of entries.
fn column_parts(xt: &CsrMatrix) -> Vec<std::ops::Range<usize>> {
    let d = xt.n_rows();
    let per_part = xt.nnz().div_ceil(FIT_PARTS).max(1);
    let mut parts = Vec::with_capacity(FIT_PARTS);
    let (mut start, mut filled) = (0, 0);
    for j in 0..d {
        filled += xt.row(j).0.len();
        if filled >= per_part && parts.len() + 1 < FIT_PARTS {
            parts.push(start..j + 1);
            start = j + 1;
            filled = 0;
        }
    }
    parts.push(start..d);
    parts
}

/// `ln den_c` minus its mean over the classes, from the per-class totals of the counts over
/// `d` columns (see [`ComplementNb`]).
fn class_offsets(d: usize, class_totals: &[f64]) -> Vec<f64> {
    let grand_total: f64 = class_totals.iter().sum();
    let ln_denominators: Vec<f64> = class_totals
        .iter()
        .map(|t| (SMOOTHING * d as f64 + (grand_total - t)).ln())
        .collect();
    let mean = ln_denominators.iter().sum::<f64>() / class_totals.len() as f64;
    ln_denominators.iter().map(|l| l - mean).collect()
}

impl ComplementNb {
    /// Fits on the rows of `x` (with classes `y` in `0..n_classes`) for which `keep` is true;
    /// `xt` is the transpose of `x`. The plain definition, one model per pass: the reference
    /// [`FoldFits::fit`] is checked against.
    #[cfg(test)]
    fn fit_rows(
        xt: &CsrMatrix,
        y: &[usize],
        n_classes: usize,
        keep: impl Fn(usize) -> bool,
    ) -> Self {
        let (d, k) = (xt.n_rows(), n_classes);
        let mut starts = Vec::with_capacity(d + 1);
        let mut classes = Vec::new();
        let mut excess = Vec::new();
        let mut counts = vec![0.0; k];
        let mut class_totals = vec![0.0; k];
        starts.push(0u32);
        for j in 0..d {
            counts.iter_mut().for_each(|c| *c = 0.0);
            let (rows, val) = xt.row(j);
            for (&i, &v) in rows.iter().zip(val) {
                if keep(i as usize) {
                    counts[y[i as usize]] += v;
                }
            }
            let feature_total: f64 = counts.iter().sum();
            let ln_absent = (SMOOTHING + feature_total).ln();
            for (c, &count) in counts.iter().enumerate() {
                if count != 0.0 {
                    class_totals[c] += count;
                    classes.push(c as u32);
                    excess.push((SMOOTHING + feature_total - count).ln() - ln_absent);
                }
            }
            starts.push(u32::try_from(classes.len()).expect("fewer than 2^32 entries"));
        }
        ComplementNb {
            n_features: d,
            n_classes: k,
            class_offsets: class_offsets(d, &class_totals),
            starts,
            classes,
            excess,
        }
    }

    /// Fits on all rows (training fits through [`ComplementNb::fit_with_out_of_fold_scores`]).
    #[cfg(test)]
    pub fn fit(x: &CsrMatrix, y: &[usize], n_classes: usize) -> Self {
        let no_folds = vec![0; x.n_rows()];
        FoldFits::fit(&x.transpose(), y, n_classes, &no_folds, 0).assemble()
    }

    /// The stored entries of column `j`: classes and their `e_cj`.
    fn entries(&self, j: usize) -> (&[u32], &[f64]) {
        let range = self.starts[j] as usize..self.starts[j + 1] as usize;
        (&self.classes[range.clone()], &self.excess[range])
    }

    /// The centred scores of one row, written into `out` (length `n_classes`). Columns beyond
    /// the fitted ones are ignored.
    pub fn scores_into(&self, idx: &[u32], val: &[f64], out: &mut [f64]) {
        let mut mass = 0.0;
        let mut shared = 0.0;
        out.iter_mut().for_each(|o| *o = 0.0);
        for (&j, &v) in idx.iter().zip(val) {
            let j = j as usize;
            if j < self.n_features {
                mass += v;
                let (classes, excess) = self.entries(j);
                for (&c, &e) in classes.iter().zip(excess) {
                    out[c as usize] -= v * e;
                    shared += v * e;
                }
            }
        }
        let shared = shared / self.n_classes as f64;
        for (o, &offset) in out.iter_mut().zip(&self.class_offsets) {
            *o += mass * offset + shared;
        }
    }

    /// The model fitted on all rows, and out-of-fold scores of the training rows, row-major
    /// `rows x n_classes`: row `i` is in fold `i % 5` and scored by a model fitted on the other
    /// folds. The six models are fitted in one pass over the columns, the fold models adding each
    /// column's share to the scores of the rows they left out as they go; only the full model is
    /// kept.
    pub fn fit_with_out_of_fold_scores(
        x: &CsrMatrix,
        y: &[usize],
        n_classes: usize,
    ) -> (Self, Vec<f64>) {
        let n = x.n_rows();
        let k = n_classes;
        let folds = FOLDS.min(n);
        let fold_of: Vec<u8> = (0..n).map(|i| (i % folds) as u8).collect();
        let fits = FoldFits::fit(&x.transpose(), y, k, &fold_of, folds);
        (fits.assemble(), fits.out_of_fold_scores(x, &fold_of))
    }

    /// The weight of column `j` in class `c`'s centred score (its share of
    /// [`ComplementNb::scores_into`]: the score of a row is the sum of `x_j` times this).
    pub fn centred_weight(&self, j: usize, c: usize) -> f64 {
        let (classes, excess) = self.entries(j);
        let own = classes
            .iter()
            .position(|&from| from as usize == c)
            .map_or(0.0, |p| excess[p]);
        let mean = excess.iter().sum::<f64>() / self.n_classes as f64;
        self.class_offsets[c] - own + mean
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Whether the stored parts fit the stated shape and are all finite (for model files).
    pub fn is_consistent(&self) -> bool {
        let n = self.classes.len();
        self.n_classes >= 2
            && self.class_offsets.len() == self.n_classes
            && self.class_offsets.iter().all(|w| w.is_finite())
            && self.starts.len() == self.n_features + 1
            && self.starts.first() == Some(&0)
            && self.starts.last().map(|&s| s as usize) == Some(n)
            && self.starts.windows(2).all(|w| w[0] <= w[1])
            && self.excess.len() == n
            && self.classes.iter().all(|&c| (c as usize) < self.n_classes)
            && self.excess.iter().all(|e| e.is_finite())
    }
}

/// The first `n` columns of rows `x` with `scores` (row-major, `k` per row) appended as columns
/// `n..n + k`.
pub fn append_scores(x: &CsrMatrix, n: usize, scores: &[f64], k: usize) -> CsrMatrix {
    let d = n as u32;
    let mut out = CsrMatrix::new(n + k);
    let mut entries = Vec::new();
    for i in 0..x.n_rows() {
        let (idx, val) = crate::sparse::leading_entries(x.row(i), n);
        entries.clear();
        entries.extend(idx.iter().copied().zip(val.iter().copied()));
        entries.extend((0..k as u32).map(|c| (d + c, scores[i * k + c as usize])));
        out.push_row(&entries);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (CsrMatrix, Vec<usize>) {
        // Columns 0-1 belong to class 0, 2-3 to class 1, 4 to both.
        let rows = vec![
            vec![(0, 0.8), (1, 0.6)],
            vec![(0, 0.6), (4, 0.8)],
            vec![(1, 1.0)],
            vec![(2, 0.8), (3, 0.6)],
            vec![(3, 0.6), (4, 0.8)],
            vec![(2, 1.0)],
        ];
        (CsrMatrix::from_rows(5, rows), vec![0, 0, 0, 1, 1, 1])
    }

    #[test]
    fn scores_favour_the_class_whose_terms_a_row_has() {
        let (x, y) = toy();
        let nb = ComplementNb::fit(&x, &y, 2);
        let mut s = [0.0; 2];
        nb.scores_into(&[0], &[1.0], &mut s);
        assert!(s[0] > 0.0 && s[1] < 0.0, "{s:?}");
        assert!((s[0] + s[1]).abs() < 1e-12, "centred");
        nb.scores_into(&[3], &[1.0], &mut s);
        assert!(s[1] > s[0]);
        assert!(nb.is_consistent());
    }

    /// `-ln theta_cj` straight from the definition, over all rows.
    fn dense_weight(x: &CsrMatrix, y: &[usize], j: usize, c: usize) -> f64 {
        let d = x.n_cols();
        let (mut n_cj, mut n_c) = (0.0, 0.0);
        for (i, _) in y.iter().enumerate().filter(|&(_, &yi)| yi != c) {
            let (idx, val) = x.row(i);
            for (&col, &v) in idx.iter().zip(val) {
                n_c += v;
                if col as usize == j {
                    n_cj += v;
                }
            }
        }
        -((SMOOTHING + n_cj) / (SMOOTHING * d as f64 + n_c)).ln()
    }

    #[test]
    fn sparse_weights_equal_the_centred_dense_definition() {
        let (x, y) = toy();
        let nb = ComplementNb::fit(&x, &y, 2);
        // Class 0's complement is class 1's rows: column 2 sums 1.8 there, all columns 3.8.
        let w02 = -((SMOOTHING + 1.8) / (SMOOTHING * 5.0 + 3.8)).ln();
        assert!((dense_weight(&x, &y, 2, 0) - w02).abs() < 1e-12);
        // The dense weight of (j, c) minus its mean over the two classes.
        let centred = |j: usize, c: usize| {
            dense_weight(&x, &y, j, c)
                - (dense_weight(&x, &y, j, 0) + dense_weight(&x, &y, j, 1)) / 2.0
        };
        for j in 0..5 {
            for c in 0..2 {
                let got = nb.centred_weight(j, c);
                assert!((got - centred(j, c)).abs() < 1e-12, "j {j} c {c}: {got}");
            }
        }
        // A row's scores are the sum of its entries times the centred weights.
        let (idx, val) = ([0u32, 2, 4], [0.5, 0.25, 2.0]);
        let mut s = [0.0; 2];
        nb.scores_into(&idx, &val, &mut s);
        for (c, score) in s.iter().enumerate() {
            let expected: f64 = idx
                .iter()
                .zip(val)
                .map(|(&j, v)| v * centred(j as usize, c))
                .sum();
            assert!(
                (score - expected).abs() < 1e-12,
                "class {c}: {score} vs {expected}"
            );
        }
        // Column 1 occurs in class 0 only: one stored entry.
        assert_eq!(nb.entries(1).0, [0]);
    }

    /// `n` random rows over `d` columns, `entries` random ones each plus one of the first
    /// four columns (shared by many rows), and classes `0..k` spread over the rows.
    fn random_problem(
        seed: u64,
        (n, d, k): (usize, usize, usize),
        entries: usize,
    ) -> (CsrMatrix, Vec<usize>) {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let rows: Vec<Vec<(u32, f64)>> = (0..n)
            .map(|_| {
                let mut row: Vec<(u32, f64)> = (0..entries)
                    .map(|_| (rng.gen_range(0..d as u32), rng.gen_range(0.01..1.0)))
                    .collect();
                row.push((rng.gen_range(0..4), 0.5));
                row.sort_by_key(|e| e.0);
                row.dedup_by_key(|e| e.0);
                row
            })
            .collect();
        let y = (0..n).map(|i| (i * 7 + i / 5) % k).collect();
        (CsrMatrix::from_rows(d, rows), y)
    }

    #[test]
    fn one_pass_fold_scores_equal_their_plain_fold_models() {
        let (n, k) = (60, 3);
        let (x, y) = random_problem(3, (n, 9000, k), 18);
        let xt = x.transpose();
        let (full, oof) = ComplementNb::fit_with_out_of_fold_scores(&x, &y, k);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        let reference = ComplementNb::fit_rows(&xt, &y, k, |_| true);
        assert_eq!(full.starts, reference.starts);
        assert_eq!(full.classes, reference.classes);
        for (a, b) in full
            .excess
            .iter()
            .chain(&full.class_offsets)
            .zip(reference.excess.iter().chain(&reference.class_offsets))
        {
            assert!(close(*a, *b), "full model: {a} vs {b}");
        }
        for f in 0..5 {
            let model = ComplementNb::fit_rows(&xt, &y, k, |i| i % 5 != f);
            for i in (f..n).step_by(5) {
                let (idx, val) = x.row(i);
                let mut expected = vec![0.0; k];
                model.scores_into(idx, val, &mut expected);
                for (c, &e) in expected.iter().enumerate() {
                    let got = oof[i * k + c];
                    assert!(close(got, e), "row {i}, class {c}: {got} vs {e}");
                }
            }
        }
    }

    #[test]
    fn out_of_fold_scores_do_not_depend_on_the_thread_count() {
        let k = 4;
        let (x, y) = random_problem(5, (200, 5000, k), 30);
        let fit = || ComplementNb::fit_with_out_of_fold_scores(&x, &y, k);
        let in_pool = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(fit)
        };
        let (one, three) = (in_pool(1), in_pool(3));
        assert_eq!(one.0, three.0);
        let bits = |s: &[f64]| s.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&one.1), bits(&three.1));
    }

    #[test]
    fn out_of_fold_scores_do_not_see_their_own_row() {
        let (x, y) = toy();
        let (full, oof) = ComplementNb::fit_with_out_of_fold_scores(&x, &y, 2);
        assert_eq!(full, ComplementNb::fit(&x, &y, 2));
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-12);
        let reference = ComplementNb::fit_rows(&x.transpose(), &y, 2, |_| true);
        assert_eq!(full.classes, reference.classes);
        assert!(close(&full.excess, &reference.excess));
        assert!(close(&full.class_offsets, &reference.class_offsets));
        // Row 0 is in fold 0 (rows 0 and 5): the model scoring it is fitted on rows 1-4 only.
        let model = ComplementNb::fit_rows(&x.transpose(), &y, 2, |i| i % 5 != 0);
        let mut s = [0.0; 2];
        let (idx, val) = x.row(0);
        model.scores_into(idx, val, &mut s);
        assert!(close(&oof[0..2], &s), "{:?} vs {s:?}", &oof[0..2]);
        let appended = append_scores(&x, 5, &oof, 2);
        assert_eq!(appended.n_cols(), 7);
        assert_eq!(appended.row(0).0, [0, 1, 5, 6]);
        let cut = append_scores(&x, 1, &oof, 2);
        assert_eq!(cut.row(0).0, [0, 1, 2]);
    }
}
