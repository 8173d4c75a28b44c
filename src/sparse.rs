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
/// Values are `f64`, except in the solver's copy of its rows (`f32`, see
/// [`CsrMatrix::transpose_renumbered`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsrMatrix<T = f64> {
    n_cols: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<T>,
}

/// The entries of a row (sorted by column) that lie in the first `n` columns.
pub fn leading_entries<'a>((idx, val): (&'a [u32], &'a [f64]), n: usize) -> (&'a [u32], &'a [f64]) {
    let end = idx.partition_point(|&j| (j as usize) < n);
    (&idx[..end], &val[..end])
}

impl<T> CsrMatrix<T> {
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
    pub fn row(&self, i: usize) -> (&[u32], &[T]) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[a..b], &self.values[a..b])
    }

    /// The same matrix as a dense `f64` array (for small problems and tests).
    pub fn to_dense(&self) -> Array2<f64>
    where
        T: Copy + Into<f64>,
    {
        let mut d = Array2::zeros((self.n_rows(), self.n_cols));
        for i in 0..self.n_rows() {
            let (idx, val) = self.row(i);
            for (&j, &v) in idx.iter().zip(val) {
                d[(i, j as usize)] = v.into();
            }
        }
        d
    }
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

    /// The rows of `parts` (each with `n_cols` columns), one part after the other. The first
    /// part grows into the result and each other part is freed once copied, so the rows are
    /// not held twice.
    pub fn stack(n_cols: usize, parts: Vec<CsrMatrix>) -> CsrMatrix {
        let nnz: usize = parts.iter().map(CsrMatrix::nnz).sum();
        let n_rows: usize = parts.iter().map(CsrMatrix::n_rows).sum();
        let mut parts = parts.into_iter();
        let mut m = parts.next().unwrap_or_else(|| CsrMatrix::new(n_cols));
        assert_eq!(m.n_cols, n_cols, "stacked matrices differ in width");
        m.indptr.reserve_exact(n_rows - m.n_rows());
        m.indices.reserve_exact(nnz - m.nnz());
        m.values.reserve_exact(nnz - m.nnz());
        for part in parts {
            assert_eq!(part.n_cols, n_cols, "stacked matrices differ in width");
            let base = m.indices.len();
            m.indptr.extend(part.indptr[1..].iter().map(|&p| base + p));
            m.indices.extend_from_slice(&part.indices);
            m.values.extend_from_slice(&part.values);
        }
        m
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
        self.transpose_with(|j| j, |v| v)
    }

    /// The transpose with column `j` moved to row `new_index[j]` (a permutation of the
    /// columns): this matrix with its columns renumbered, in compressed sparse column form,
    /// values rounded to `f32` (the solver's copy: a third less memory and memory traffic per
    /// entry; its arithmetic stays `f64`).
    pub fn transpose_renumbered(&self, new_index: &[u32]) -> CsrMatrix<f32> {
        self.transpose_with(|j| new_index[j as usize], |v| v as f32)
    }

    fn transpose_with<T: Copy + Default>(
        &self,
        new_index: impl Fn(u32) -> u32,
        value: impl Fn(f64) -> T,
    ) -> CsrMatrix<T> {
        let (indptr, indices, values) = self.transpose_rows(0..self.n_rows(), new_index, value);
        CsrMatrix {
            n_cols: self.n_rows(),
            indptr,
            indices,
            values,
        }
    }

    /// Rows `rows` in compressed sparse column form, column `j` moved to `new_index(j)`: the
    /// start of each column's entries (and their end), and the entries' row offsets within
    /// `rows` and values, rows in order within a column.
    fn transpose_rows<T: Copy + Default>(
        &self,
        rows: std::ops::Range<usize>,
        new_index: impl Fn(u32) -> u32,
        value: impl Fn(f64) -> T,
    ) -> (Vec<usize>, Vec<u32>, Vec<T>) {
        let (a, b) = (self.indptr[rows.start], self.indptr[rows.end]);
        let mut counts = vec![0usize; self.n_cols + 1];
        for &j in &self.indices[a..b] {
            counts[new_index(j) as usize + 1] += 1;
        }
        for j in 0..self.n_cols {
            counts[j + 1] += counts[j];
        }
        let indptr = counts.clone();
        let mut next = counts;
        let mut indices = vec![0u32; b - a];
        let mut values = vec![T::default(); b - a];
        for (r, i) in rows.enumerate() {
            let (idx, val) = self.row(i);
            for (&j, &v) in idx.iter().zip(val) {
                let slot = &mut next[new_index(j) as usize];
                indices[*slot] = r as u32;
                values[*slot] = value(v);
                *slot += 1;
            }
        }
        (indptr, indices, values)
    }

    /// Number of stored entries in each column.
    pub fn column_counts(&self) -> Vec<usize> {
        let mut counts = vec![0usize; self.n_cols];
        for &j in &self.indices {
            counts[j as usize] += 1;
        }
        counts
    }
}

/// Consecutive rows of a matrix stored column by column: for each column that has entries in
/// those rows, its number and its entries (row offset within the block, value), rows in order.
///
/// The solver's loss pass computes `x W` a block at a time this way: it reads the weights in
/// column order instead of gathering them row by row, and scatters into the block's few class
/// scores, which stay in cache. On wide problems the gathers were most of that pass.
#[derive(Debug, Clone, PartialEq)]
pub struct RowBlock {
    /// The block's first row in the matrix.
    pub first_row: usize,
    /// Number of rows in the block.
    pub n_rows: usize,
    /// The columns that have entries in the block, increasing.
    columns: Vec<u32>,
    /// Column `columns[c]`'s entries are `starts[c]..starts[c + 1]`.
    starts: Vec<usize>,
    rows: Vec<u32>,
    values: Vec<f32>,
}

impl RowBlock {
    /// Rows `first_row..first_row + n_rows` of `x` (which must exist), with column `j` moved
    /// to `new_index[j]` (a permutation of the columns), values rounded to `f32` as in
    /// [`CsrMatrix::transpose_renumbered`].
    pub fn from_rows(
        x: &CsrMatrix,
        first_row: usize,
        n_rows: usize,
        new_index: &[u32],
    ) -> RowBlock {
        let (indptr, rows, values) = x.transpose_rows(
            first_row..first_row + n_rows,
            |j| new_index[j as usize],
            |v| v as f32,
        );
        // Only the columns with entries in the block are kept.
        let columns: Vec<u32> = (0..x.n_cols)
            .filter(|&j| indptr[j] < indptr[j + 1])
            .map(|j| j as u32)
            .collect();
        let starts = columns
            .iter()
            .map(|&j| indptr[j as usize])
            .chain(std::iter::once(indptr[x.n_cols]))
            .collect();
        RowBlock {
            first_row,
            n_rows,
            columns,
            starts,
            rows,
            values,
        }
    }

    /// Calls `f(column, rows, values)` for each column with entries in the block, in column
    /// order; `rows` are offsets within the block.
    pub fn for_each_column(&self, mut f: impl FnMut(usize, &[u32], &[f32])) {
        for (c, &j) in self.columns.iter().enumerate() {
            let range = self.starts[c]..self.starts[c + 1];
            f(j as usize, &self.rows[range.clone()], &self.values[range]);
        }
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
    fn stacked_parts_equal_the_rows_built_at_once() {
        let m = example();
        let parts = vec![
            m.select_rows(&[0]),
            CsrMatrix::new(3),
            m.select_rows(&[1, 2]),
        ];
        assert_eq!(CsrMatrix::stack(3, parts), m);
        assert_eq!(CsrMatrix::stack(3, Vec::new()), CsrMatrix::new(3));
    }

    #[test]
    fn row_blocks_hold_the_same_entries_column_by_column() {
        let m = CsrMatrix::from_rows(
            4,
            vec![
                vec![(0, 1.0), (3, 2.0)],
                vec![(1, 3.0), (3, 4.0)],
                vec![],
                vec![(0, 5.0), (2, 6.0)],
            ],
        );
        let block = RowBlock::from_rows(&m, 1, 3, &[0, 1, 2, 3]);
        let mut seen = Vec::new();
        block.for_each_column(|j, rows, values| {
            for (&r, &v) in rows.iter().zip(values) {
                seen.push((j, r, v));
            }
        });
        assert_eq!(seen, [(0, 2, 5.0), (1, 0, 3.0), (2, 2, 6.0), (3, 0, 4.0)]);
        let dense = m.to_dense();
        for (j, r, v) in seen {
            assert_eq!(dense[[1 + r as usize, j]], f64::from(v));
        }
    }

    #[test]
    fn renumbered_layouts_move_each_column_to_its_new_place() {
        let m = example();
        assert_eq!(m.column_counts(), [1, 1, 1]);
        // Column 0 to 1, 1 to 2, 2 to 0.
        let new_index = [1, 2, 0];
        let dense = m.to_dense();
        let dense_t = m.transpose_renumbered(&new_index).to_dense();
        let mut seen = 0;
        RowBlock::from_rows(&m, 0, 3, &new_index).for_each_column(|new, rows, values| {
            for (&r, &v) in rows.iter().zip(values) {
                assert_eq!(dense_t[[new, r as usize]], f64::from(v));
                seen += 1;
            }
        });
        assert_eq!(seen, m.nnz());
        for i in 0..m.n_rows() {
            for (j, &new) in new_index.iter().enumerate() {
                assert_eq!(dense_t[[new as usize, i]], dense[[i, j]]);
            }
        }
    }
}
