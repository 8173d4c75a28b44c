//! Segmenter: statement offsets slice back to the text, lie on char boundaries, are non-empty,
//! trimmed, in order and non-overlapping; only whitespace falls between statements; the result
//! is deterministic; feeding the text to a `Segmenter` in pieces cut after blank lines gives the
//! same statements as segmenting it whole; quote attribution gives one answer per statement.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stance::text::{attribute, segment, Segmenter};

/// Positions just after each blank line (a line of only spaces, tabs or `\r`), as the article
/// reader cuts pieces.
fn paragraph_breaks(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut cuts = Vec::new();
    let mut line_start = 0;
    let mut prev_line_end: Option<usize> = None;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' {
            let line = &b[line_start..i];
            let blank = line.iter().all(|&x| matches!(x, b' ' | b'\t' | b'\r'));
            if blank && prev_line_end.is_some() {
                cuts.push(i + 1);
            }
            prev_line_end = Some(i);
            line_start = i + 1;
        }
    }
    cuts
}

fn check(text: &str) {
    let statements = segment(text);
    let mut prev_end = 0;
    for s in &statements {
        assert!(s.start < s.end, "empty span {}..{}", s.start, s.end);
        assert!(s.end <= text.len(), "span past the end");
        assert!(
            s.start >= prev_end,
            "statements overlap or are out of order"
        );
        assert!(
            text.is_char_boundary(s.start) && text.is_char_boundary(s.end),
            "span {}..{} not on char boundaries",
            s.start,
            s.end
        );
        assert_eq!(&text[s.start..s.end], s.text, "offsets do not slice back");
        assert!(!s.text.is_empty());
        assert_eq!(s.text.trim(), s.text, "statement not trimmed");
        let gap = &text[prev_end..s.start];
        assert!(
            gap.trim().is_empty(),
            "text lost between statements: {gap:?}"
        );
        prev_end = s.end;
    }
    let tail = &text[prev_end..];
    assert!(
        tail.trim().is_empty(),
        "text lost after the last statement: {tail:?}"
    );
    assert_eq!(segment(text), statements, "segmenting is not deterministic");

    // Piecewise segmentation, cut after every blank line, matches the whole-text result.
    let mut seg = Segmenter::new();
    let mut pieced = Vec::new();
    let mut from = 0;
    for cut in paragraph_breaks(text).into_iter().chain([text.len()]) {
        if cut > from {
            pieced.extend(seg.push(&text[from..cut], from));
            from = cut;
        }
    }
    let whole: Vec<_> = statements
        .iter()
        .map(|s| (s.kind, s.start, s.end, s.text))
        .collect();
    let parts: Vec<_> = pieced
        .iter()
        .map(|s| (s.kind, s.start, s.end, s.text))
        .collect();
    assert_eq!(
        parts, whole,
        "piecewise segmentation differs from whole-text segmentation"
    );

    let attributions = attribute(text, 0, &statements);
    assert_eq!(attributions.len(), statements.len());
    for a in &attributions {
        if let Some(speaker) = &a.speaker {
            assert!(!speaker.trim().is_empty(), "empty speaker");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    match std::str::from_utf8(data) {
        Ok(text) => check(text),
        Err(_) => check(&String::from_utf8_lossy(data)),
    }
});
