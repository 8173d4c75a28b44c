//! Scores the segmenter on the hand-written cases in tests/data/segmentation_cases.jsonl:
//! a case counts as right when the statements come out exactly as written there (text compared
//! with whitespace runs folded to one space). Prints accuracy per category, and fails if the
//! share of exactly right cases drops below the level the segmenter has reached, so a change
//! that breaks cases shows up here.

use std::collections::BTreeMap;

use stance::text::segment;

fn fold(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn segmentation_cases_exact_match() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/segmentation_cases.jsonl"
    );
    let cases = std::fs::read_to_string(path).unwrap();
    let mut per_category: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let (mut right, mut total) = (0, 0);
    for line in cases.lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = case["text"].as_str().unwrap();
        let expected: Vec<String> = case["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| fold(s["text"].as_str().unwrap()))
            .collect();
        let got: Vec<String> = segment(text).iter().map(|s| fold(s.text)).collect();
        for s in segment(text) {
            assert_eq!(&text[s.start..s.end], s.text, "offsets of {}", case["id"]);
        }
        let ok = got == expected;
        let entry = per_category
            .entry(case["category"].as_str().unwrap().to_string())
            .or_default();
        entry.1 += 1;
        total += 1;
        if ok {
            entry.0 += 1;
            right += 1;
        }
    }
    for (category, (r, t)) in &per_category {
        eprintln!("{category:<28} {r:>3} / {t:<3}");
    }
    eprintln!("{:<28} {right:>3} / {total:<3} exactly right", "all");
    assert!(total >= 150);
    // The level reached by the first segmenter; raise it as the segmenter improves.
    assert!(
        right * 100 >= total * FLOOR_PERCENT,
        "{right} of {total} cases right"
    );
}

const FLOOR_PERCENT: usize = 97;
