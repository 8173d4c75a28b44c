//! Tokenizer, analyzer and TF-IDF featurizer on arbitrary text: token spans slice back, the
//! featurizer is deterministic (fit_transform rows == transform rows, twice), and every weight
//! is finite, positive and rows are unit length.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stance::features::{FeatureOptions, Featurizer};
use stance::sparse::CsrMatrix;
use stance::text::tokenize::tokenize;
use stance::text::{hash_term, Analyzer};

fn check_tokens(text: &str, analyzer: &Analyzer) {
    let mut tokens = tokenize(text);
    let mut prev_end = 0;
    let mut n = 0;
    while let Some((start, end)) = tokens.next_span() {
        assert!(start >= prev_end && start < end && end <= text.len());
        assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
        let span = &text[start..end];
        assert!(
            !span.chars().any(char::is_whitespace),
            "token with whitespace: {span:?}"
        );
        prev_end = end;
        n += 1;
    }
    assert_eq!(tokenize(text).count(), n);
    assert_eq!(analyzer.stems(text).len(), n);
}

fn check_matrix(f: &Featurizer, m: &CsrMatrix, rows: usize) {
    assert_eq!(m.n_rows(), rows);
    assert_eq!(m.n_cols(), f.n_features());
    for i in 0..m.n_rows() {
        let (idx, val) = m.row(i);
        assert_eq!(idx.len(), val.len());
        assert!(idx.windows(2).all(|w| w[0] < w[1]), "columns not sorted");
        assert!(idx.iter().all(|&j| (j as usize) < f.n_features()));
        for &v in val {
            assert!(
                v.is_finite() && v > 0.0 && v <= 1.0 + 1e-12,
                "bad weight {v}"
            );
        }
        if !val.is_empty() {
            let norm: f64 = val.iter().map(|v| v * v).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-9, "row {i} has norm {norm}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let min_df = u32::from(first % 3) + 1;
    let negation = first & 0x10 != 0;
    let char_ngrams = first & 0x20 != 0;
    let text = String::from_utf8_lossy(rest);
    let analyzer = Analyzer::default();
    check_tokens(&text, &analyzer);
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return;
    }
    let options = FeatureOptions {
        min_df,
        negation,
        char_ngrams,
    };
    let (f, fitted) = Featurizer::fit_transform(&lines, options.clone());
    // The vocabulary is in the order of the terms' hashes, so its terms are distinct.
    for i in 1..f.n_features() {
        assert!(
            hash_term(f.term(i - 1)) < hash_term(f.term(i)),
            "vocabulary not in hash order"
        );
    }
    check_matrix(&f, &fitted, lines.len());
    let once = f.transform(&lines);
    let twice = f.transform(&lines);
    assert_eq!(once, twice, "transform is not deterministic");
    assert_eq!(once, fitted, "transform differs from fit_transform");
    let (f2, refit) = Featurizer::fit_transform(&lines, options);
    assert_eq!(f2.n_features(), f.n_features());
    assert_eq!(refit, fitted, "fit_transform is not deterministic");
});
