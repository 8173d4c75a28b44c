//! Property tests: segmenter offsets, featurizer determinism and model file round trips, on
//! generated input (arbitrary Unicode and text built from news-like pieces).

use std::path::Path;

use proptest::prelude::*;
use stance::corpus::{load, Example, LoadOptions};
use stance::features::{terms, visit_terms, FeatureOptions, Featurizer};
use stance::model::{Model, TrainOptions};
use stance::text::{hash_term, segment, Analyzer, Segmenter};

/// Text made of the pieces news copy is made of: words, stops, quotes, abbreviations, digits,
/// spaces and line breaks (single and blank-line paragraph breaks).
fn news_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[A-Z]?[a-z]{1,9}",
        3 => Just(" ".to_string()),
        1 => Just(".".to_string()),
        1 => Just(". ".to_string()),
        1 => Just("!".to_string()),
        1 => Just("?".to_string()),
        1 => Just("\u{2026}".to_string()),
        1 => Just("\u{201C}".to_string()),
        1 => Just("\u{201D}".to_string()),
        1 => Just("\"".to_string()),
        1 => Just("'".to_string()),
        1 => Just("\n".to_string()),
        1 => Just("\n\n".to_string()),
        1 => Just("\r\n".to_string()),
        1 => Just("U.S.".to_string()),
        1 => Just("Mr.".to_string()),
        1 => Just("Dr. ".to_string()),
        1 => Just("p.m.".to_string()),
        1 => Just(" -- ".to_string()),
        1 => Just("By ".to_string()),
        1 => "[0-9]{1,4}",
        1 => "[0-9]\\.[0-9]",
        1 => Just("LONDON (Reuters) - ".to_string()),
        1 => Just("(".to_string()),
        1 => Just(")".to_string()),
        1 => Just("1. ".to_string()),
        1 => Just("- ".to_string()),
        1 => Just("\u{00C9}t\u{00E9} ".to_string()),
    ];
    prop::collection::vec(piece, 0..80).prop_map(|v| v.concat())
}

/// Checks the offset invariants of `segment(text)` and that feeding the text in pieces cut
/// after blank lines gives the same statements.
fn check_segments(text: &str) -> Result<(), TestCaseError> {
    let statements = segment(text);
    let mut prev_end = 0;
    for s in &statements {
        prop_assert!(s.start < s.end && s.end <= text.len());
        prop_assert!(
            s.start >= prev_end,
            "statements overlap or are out of order"
        );
        prop_assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
        prop_assert_eq!(&text[s.start..s.end], s.text);
        prop_assert!(!s.text.is_empty());
        prop_assert!(text[prev_end..s.start].trim().is_empty(), "text lost");
        prev_end = s.end;
    }
    prop_assert!(text[prev_end..].trim().is_empty(), "text lost at the end");

    // Piece boundaries: just after each line made only of spaces, tabs or `\r`.
    let mut cuts = Vec::new();
    let mut line_start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            let blank = text.as_bytes()[line_start..i]
                .iter()
                .all(|&c| matches!(c, b' ' | b'\t' | b'\r'));
            if blank && line_start > 0 {
                cuts.push(i + 1);
            }
            line_start = i + 1;
        }
    }
    cuts.push(text.len());
    let mut seg = Segmenter::new();
    let mut pieced = Vec::new();
    let mut from = 0;
    for cut in cuts {
        if cut > from {
            pieced.extend(seg.push(&text[from..cut], from));
            from = cut;
        }
    }
    prop_assert_eq!(pieced, statements);
    Ok(())
}

fn tiny_news() -> Vec<Example> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny_news.csv");
    load(&path, &LoadOptions::default())
        .expect("tests/data/tiny_news.csv loads")
        .examples
}

proptest! {
    #[test]
    fn segment_offsets_slice_back_on_any_unicode(text in any::<String>()) {
        check_segments(&text)?;
    }

    #[test]
    fn segment_offsets_slice_back_on_news_like_text(text in news_like()) {
        check_segments(&text)?;
    }

    #[test]
    fn featurizing_is_deterministic(
        texts in prop::collection::vec(news_like(), 1..12),
        min_df in 1u32..4,
        negation in any::<bool>(),
        char_ngrams in any::<bool>(),
    ) {
        let options = FeatureOptions { min_df, negation, char_ngrams };
        let (f1, m1) = Featurizer::fit_transform(&texts, options.clone());
        let (f2, m2) = Featurizer::fit_transform(&texts, options);
        prop_assert_eq!(f1.n_features(), f2.n_features());
        for i in 0..f1.n_features() {
            prop_assert_eq!(f1.term(i), f2.term(i));
        }
        prop_assert_eq!(&m1, &m2);
        let t1 = f1.transform(&texts);
        let t2 = f1.transform(&texts);
        prop_assert_eq!(&t1, &t2);
        prop_assert_eq!(&t1, &m1);
        for i in 0..t1.n_rows() {
            let (idx, val) = t1.row(i);
            prop_assert!(idx.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(val.iter().all(|v| v.is_finite() && *v > 0.0));
        }
    }

    /// Terms are counted and looked up by a hash computed from their parts; it must be the hash
    /// of the term as the vocabulary spells it, or new text would miss its columns.
    #[test]
    fn piecewise_term_hashes_equal_the_hashes_of_the_spelled_terms(
        text in prop_oneof![news_like(), any::<String>()],
        negation in any::<bool>(),
        char_ngrams in any::<bool>(),
    ) {
        let options = FeatureOptions { min_df: 1, negation, char_ngrams };
        let analyzer = Analyzer::default();
        let mut checked = 0;
        let mut result = Ok(());
        visit_terms(&analyzer, &text, &options, |hash, term| {
            let mut spelled = String::new();
            term.write_to(&mut spelled);
            if result.is_ok() && hash != hash_term(&spelled) {
                result = Err(TestCaseError::fail(format!("{term:?} spelled {spelled:?}")));
            }
            checked += 1;
        });
        result?;
        prop_assert_eq!(checked, terms(&analyzer, &text, &options).len());
    }
}

proptest! {
    // Training takes a few milliseconds per case; fewer cases keep the test quick.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn model_save_load_save_is_byte_identical(
        keep in prop::collection::vec(any::<bool>(), 97),
        min_df in 1u32..4,
        negation in any::<bool>(),
        topic_aware_stance in any::<bool>(),
        balanced_stance in any::<bool>(),
    ) {
        let all = tiny_news();
        let examples: Vec<Example> = all
            .iter()
            .zip(keep.iter().cycle())
            .filter(|(_, k)| **k)
            .map(|(e, _)| e.clone())
            .collect();
        let options = TrainOptions {
            features: FeatureOptions { min_df, negation, ..FeatureOptions::default() },
            topic_aware_stance,
            balanced_stance,
            ..TrainOptions::default()
        };
        // A subset can leave a head with a single class, which training refuses.
        let Ok((model, _)) = Model::train(&examples, &options, |_| {}) else {
            return Err(TestCaseError::reject("a head has a single class"));
        };
        let bytes = model.to_bytes().unwrap();
        let loaded = Model::from_bytes(&bytes).unwrap();
        let again = loaded.to_bytes().unwrap();
        prop_assert!(again == bytes, "save -> load -> save changed the bytes");
        let texts = ["The mayor backed the plan.", "Tenants rejected the rent rise.", ""];
        prop_assert_eq!(loaded.predict(&texts, None), model.predict(&texts, None));
    }
}
