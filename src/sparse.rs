//! A compressed sparse row (CSR) matrix of `f64`, the one shape features take from the
//! featurizer to the solver.
//!
//! A small type of our own rather than `sprs`: the solver needs exactly two products (rows times
//! a dense weight matrix, and the transpose times a dense matrix, done through a transposed
//! copy), row selection for cross-validation and densifying for the reference solver. Owning the
//! layout lets those loops run in parallel with rayon over fixed row or column blocks, so results
//! do not depend on the thread count, and keeps the ndarray version free of a second crate's pin.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// A sparse matrix in compressed sparse row form; column indices are sorted within each row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsrMatrix {
    n_cols: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f64>,
}

/// The entries of a row (sorted by column) that lie in the first `n` columns.
pub fn leading_entries<'a>((idx, val): (&'a [u32], &'a [f64]), n: usize) -> (&'a [u32], &'a [f64]) {
    let end = idx.partition_point(|&j| (j as usize) < n);
    (&idx[..end], &val[..end])
}

impl CsrMatrix {
    /// An empty matrix with `n_cols` columns and no rows.
    pub fn new(n_cols: usize) -> Self {
        CsrMatrix {
            n_cols,
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Builds a matrix from rows of `(column, value)` pairs sorted by column.
    pub fn from_rows<I>(n_cols: usize, rows: I) -> Self
    where
        I: IntoIterator<Item = Vec<(u32, f64)>>,
    {
        let mut m = CsrMatrix::new(n_cols);
        for row in rows {
            m.push_row(&row);
        }
        m
    }

    /// Appends a row of `(column, value)` pairs, which must be sorted by column and in range.
    pub fn push_row(&mut self, entries: &[(u32, f64)]) {
        debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        debug_assert!(entries.iter().all(|&(j, _)| (j as usize) < self.n_cols));
        for &(j, v) in entries {
            self.indices.push(j);
            self.values.push(v);
        }
        self.indptr.push(self.indices.len());
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// The column indices and values of row `i`.
    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[a..b], &self.values[a..b])
    }

    /// The matrix cut to its first `n` columns.
    pub fn leading_columns(&self, n: usize) -> CsrMatrix {
        if n >= self.n_cols {
            return self.clone();
        }
        let mut m = CsrMatrix::new(n);
        for i in 0..self.n_rows() {
            let (idx, val) = leading_entries(self.row(i), n);
            m.indices.extend_from_slice(idx);
            m.values.extend_from_slice(val);
            m.indptr.push(m.indices.len());
        }
        m
    }

    /// A new matrix made of the given rows, in the given order.
    pub fn select_rows(&self, rows: &[usize]) -> CsrMatrix {
        let mut m = CsrMatrix::new(self.n_cols);
        for &i in rows {
            let (idx, val) = self.row(i);
            m.indices.extend_from_slice(idx);
            m.values.extend_from_slice(val);
            m.indptr.push(m.indices.len());
        }
        m
    }

    /// The transpose, as a CSR matrix (that is, this matrix in compressed sparse column form).
    pub fn transpose(&self) -> CsrMatrix {
        let mut counts = vec![0usize; self.n_cols + 1];
        for &j in &self.indices {
            counts[j as usize + 1] += 1;
        }
        for j in 0..self.n_cols {
            counts[j + 1] += counts[j];
        }
        let indptr = counts.clone();
        let mut next = counts;
        let mut indices = vec![0u32; self.nnz()];
        let mut values = vec![0f64; self.nnz()];
        for i in 0..self.n_rows() {
            let (idx, val) = self.row(i);
            for (&j, &v) in idx.iter().zip(val) {
                let slot = &mut next[j as usize];
                indices[*slot] = i as u32;
                values[*slot] = v;
                *slot += 1;
            }
        }
        CsrMatrix {
            n_cols: self.n_rows(),
            indptr,
            indices,
            values,
        }
    }

    /// Moves column `j` to `new_index[j]` (a permutation of the columns), in place; rows stay
    /// sorted by column.
    pub fn renumber_columns(&mut self, new_index: &[u32]) {
        let mut entries: Vec<(u32, f64)> = Vec::new();
        for i in 0..self.n_rows() {
            let (a, b) = (self.indptr[i], self.indptr[i + 1]);
            entries.clear();
            entries.extend(
                self.indices[a..b]
                    .iter()
                    .zip(&self.values[a..b])
                    .map(|(&j, &v)| (new_index[j as usize], v)),
            );
            entries.sort_unstable_by_key(|&(j, _)| j);
            for (slot, (j, v)) in entries.iter().enumerate() {
                self.indices[a + slot] = *j;
                self.values[a + slot] = *v;
            }
        }
    }

    /// Number of stored entries in each column.
    pub fn column_counts(&self) -> Vec<usize> {
        let mut counts = vec![0usize; self.n_cols];
        for &j in &self.indices {
            counts[j as usize] += 1;
        }
        counts
    }

    /// The same matrix as a dense array (for small problems and tests).
    pub fn to_dense(&self) -> Array2<f64> {
        let mut d = Array2::zeros((self.n_rows(), self.n_cols));
        for i in 0..self.n_rows() {
            let (idx, val) = self.row(i);
            for (&j, &v) in idx.iter().zip(val) {
                d[(i, j as usize)] = v;
            }
        }
        d
    }
}

impl linfa::dataset::Records for CsrMatrix {
    type Elem = f64;

    fn nsamples(&self) -> usize {
        self.n_rows()
    }

    fn nfeatures(&self) -> usize {
        self.n_cols
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> CsrMatrix {
        CsrMatrix::from_rows(3, vec![vec![(0, 1.0), (2, 2.0)], vec![], vec![(1, 3.0)]])
    }

    #[test]
    fn rows_and_dense_agree() {
        let m = example();
        assert_eq!((m.n_rows(), m.n_cols(), m.nnz()), (3, 3, 3));
        assert_eq!(m.row(0), (&[0u32, 2][..], &[1.0, 2.0][..]));
        assert_eq!(m.row(1).0.len(), 0);
        assert_eq!(
            m.to_dense(),
            ndarray::array![[1.0, 0.0, 2.0], [0.0, 0.0, 0.0], [0.0, 3.0, 0.0]]
        );
    }

    #[test]
    fn transpose_and_select() {
        let m = example();
        assert_eq!(m.transpose().to_dense(), m.to_dense().t());
        assert_eq!(m.transpose().transpose(), m);
        let s = m.select_rows(&[2, 0]);
        assert_eq!(
            s.to_dense(),
            ndarray::array![[0.0, 3.0, 0.0], [1.0, 0.0, 2.0]]
        );
    }

    #[test]
    fn renumbered_columns_keep_rows_sorted_and_values_in_place() {
        let m = example();
        assert_eq!(m.column_counts(), [1, 1, 1]);
        // Column 2 first, then 0, then 1.
        let mut r = m.clone();
        r.renumber_columns(&[1, 2, 0]);
        let dense = m.to_dense();
        let moved = r.to_dense();
        for i in 0..m.n_rows() {
            assert!(r.row(i).0.windows(2).all(|w| w[0] < w[1]));
            for (j, &new) in [1usize, 2, 0].iter().enumerate() {
                assert_eq!(moved[[i, new]], dense[[i, j]]);
            }
        }
    }
}
