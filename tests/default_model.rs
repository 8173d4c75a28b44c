//! The bundled default model: it must be exactly what the documented command trains from
//! data/, and the README's first command must work with it.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_default_model_equals_a_fresh_retrain() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("default.model");
    // The command documented in README.md and data/DATA.md.
    let out = Command::new(env!("CARGO_BIN_EXE_stance"))
        .current_dir(root())
        .args([
            "train",
            "--data",
            "data/news_statements.csv",
            "--split",
            "train,dev",
            "--tune",
            "--model",
        ])
        .arg(&fresh)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = std::fs::read(root().join("models/default.model")).unwrap();
    let retrained = std::fs::read(&fresh).unwrap();
    assert!(
        committed == retrained,
        "models/default.model differs from a retrain on data/: rerun the command in README.md and commit the result"
    );
}

/// Runs `stance classify --format jsonl ARGS...` from the repository root and returns its
/// records.
fn classify_records(args: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_stance"))
        .current_dir(root())
        .args(["classify", "--format", "jsonl"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn classify_without_model_uses_the_default() {
    let article = "data/articles/02-carbon-levy-vote.txt";
    let lines = classify_records(&[article]);
    assert!(lines.len() > 10);
    // The headline of the carbon levy article is about climate.
    assert_eq!(lines[0]["topic"], "climate");
    // It is the bundled model that answered: naming it gives the same output.
    let named = classify_records(&["--model", "models/default.model", article]);
    assert_eq!(lines, named);
}
