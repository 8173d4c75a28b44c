//! Labelled CSV loader: any bytes give `Ok` or `Err`, never a panic, and an `Ok` corpus keeps
//! the invariants the rest of the pipeline relies on.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use stance::corpus::{normalize_stance, parse, Corpus, LoadOptions};

fn check(corpus: &Corpus, options: &LoadOptions) {
    assert!(!corpus.examples.is_empty(), "Ok corpus without rows");
    assert!(
        options.use_topic || !corpus.has_topic,
        "topic read although not asked for"
    );
    assert!(
        options.use_stance || !corpus.has_stance,
        "stance read although not asked for"
    );
    assert!(
        corpus.has_topic || corpus.has_stance,
        "Ok corpus without a label column"
    );
    for e in &corpus.examples {
        if let Some(t) = &e.topic {
            assert!(!t.is_empty() && t.trim() == t, "topic not trimmed: {t:?}");
            assert!(corpus.has_topic);
        }
        if let Some(s) = &e.stance {
            assert!(!s.is_empty() && s.trim() == s, "stance not trimmed: {s:?}");
            assert_eq!(&normalize_stance(s), s, "stance not normalised");
            assert!(corpus.has_stance);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.csv");
    // The split filter, non-default column names and the use/require switches take other
    // paths through the loader.
    let variants = [
        LoadOptions::default(),
        LoadOptions {
            splits: Some(vec!["train".into(), "dev".into()]),
            ..LoadOptions::default()
        },
        LoadOptions {
            text_col: "body".into(),
            topic_col: "label".into(),
            stance_col: "text".into(),
            require_topic: true,
            ..LoadOptions::default()
        },
        LoadOptions {
            use_topic: false,
            require_stance: true,
            ..LoadOptions::default()
        },
    ];
    for options in &variants {
        if let Ok(c) = parse(path, data, options) {
            check(&c, options);
        }
    }
});
