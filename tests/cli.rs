//! End-to-end tests of the `stance` binary: train -> eval -> classify on a small CSV, and the
//! bad inputs that must fail with a one-line error, a non-zero exit and no file written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn stance(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(args)
        .output()
        .expect("run the stance binary")
}

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
        .display()
        .to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Trains a model on tests/data/tiny_news.csv (all rows) into `model`.
fn train_tiny(model: &Path) {
    let out = stance(&[
        "train",
        "--data",
        &data("tiny_news.csv"),
        "--model",
        model.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Files in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn train_eval_classify_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.model");
    let m = model.to_str().unwrap();

    let out = stance(&[
        "train",
        "--data",
        &data("tiny_news.csv"),
        "--split",
        "train",
        "--model",
        m,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = stdout(&out);
    assert!(summary.contains("rows read: 77"), "{summary}");
    assert!(
        summary.contains("topic head: 77 rows, 2 classes (climate 39, housing 38)"),
        "{summary}"
    );
    assert!(
        summary.contains("stance head: 77 rows, 3 classes"),
        "{summary}"
    );
    assert!(model.exists());

    let out = stance(&[
        "eval",
        "--model",
        m,
        "--data",
        &data("tiny_news.csv"),
        "--split",
        "dev",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["topic"]["rows"], 19);
    assert!(
        report["topic"]["accuracy"].as_f64().unwrap() >= 0.9,
        "{report}"
    );
    assert!(
        report["stance"]["f_avg"].as_f64().unwrap() > 0.6,
        "{report}"
    );
    assert_eq!(report["stance_by_topic"].as_array().unwrap().len(), 2);

    let out = stance(&[
        "eval",
        "--model",
        m,
        "--data",
        &data("tiny_news.csv"),
        "--split",
        "dev",
    ]);
    let text = stdout(&out);
    assert!(
        text.contains("== stance") && text.contains("F_avg") && text.contains("confusion matrix"),
        "{text}"
    );

    let article = data("articles/council.txt");
    let out = stance(&["classify", "--model", m, "--format", "jsonl", &article]);
    assert!(out.status.success(), "{}", stderr(&out));
    let records: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let source = std::fs::read_to_string(&article).unwrap();
    assert!(records.len() >= 4, "{records:?}");
    for r in &records {
        let (s, e) = (
            r["start"].as_u64().unwrap() as usize,
            r["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&source[s..e], r["text"].as_str().unwrap());
        // Sentences and headings are labelled; bylines, datelines and meta lines are not.
        match r["kind"].as_str().unwrap() {
            "sentence" | "heading" => assert!(r["topic_probability"].as_f64().unwrap() > 0.0),
            _ => assert!(r.get("topic").is_none() && r.get("explanation").is_none()),
        }
    }
    let rent = records
        .iter()
        .find(|r| {
            r["text"]
                .as_str()
                .unwrap()
                .starts_with("The mayor backed the rent cap")
        })
        .unwrap();
    assert_eq!(rent["topic"], "housing");
    assert_eq!(rent["stance"], "support");
    let tax = records
        .iter()
        .find(|r| {
            r["text"]
                .as_str()
                .unwrap()
                .starts_with("Local unions condemned")
        })
        .unwrap();
    assert_eq!(tax["topic"], "climate");
    assert_eq!(tax["stance"], "oppose");

    // CSV output has a header and one row per statement; --topic forces the stance head's topic.
    let out = stance(&[
        "classify", "--model", m, "--format", "csv", "--topic", "housing", &article,
    ]);
    let csv_out = stdout(&out);
    assert!(
        csv_out.starts_with("source,index,kind,start,end,quoted,speaker,topic"),
        "{csv_out}"
    );
    assert_eq!(csv_out.lines().count(), records.len() + 1);
}

#[test]
fn cross_validation_reports_mean_and_sd() {
    let out = stance(&[
        "eval",
        "--cv",
        "3",
        "--data",
        &data("tiny_news.csv"),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let cv: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(cv["folds"], 3);
    assert_eq!(cv["per_fold"].as_array().unwrap().len(), 3);
    assert!(cv["topic"]["accuracy"]["mean"].as_f64().unwrap() > 0.9);
    assert!(cv["stance"]["f_avg"]["sd"].as_f64().is_some());
}

#[test]
fn training_twice_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.model");
    let b = dir.path().join("b.model");
    for p in [&a, &b] {
        let out = stance(&[
            "train",
            "--data",
            &data("tiny_news.csv"),
            "--model",
            p.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
}

/// Runs `stance train` on a CSV with the given bytes and checks it fails cleanly.
fn train_fails_on(csv: &[u8], expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.csv");
    std::fs::write(&input, csv).unwrap();
    let model = dir.path().join("out.model");
    let out = stance(&[
        "train",
        "--data",
        input.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
    ]);
    assert_fails_cleanly(&out, expected);
    assert_eq!(files_in(dir.path()), vec![input], "no file may be written");
}

fn assert_fails_cleanly(out: &Output, expected: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(expected), "expected {expected:?} in {err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.model");
    let out = stance(&[
        "train",
        "--data",
        "/nonexistent/data.csv",
        "--model",
        model.to_str().unwrap(),
    ]);
    assert_fails_cleanly(&out, "/nonexistent/data.csv: cannot read");
    assert!(!model.exists());
}

#[test]
fn empty_file() {
    train_fails_on(b"", "input.csv: the file is empty");
}

#[test]
fn header_without_text_column() {
    train_fails_on(
        b"body,topic\nhello,x\nbye,y\n",
        "input.csv: line 1: no `text` column",
    );
}

#[test]
fn no_label_column() {
    train_fails_on(
        b"text,label\nhello,x\nbye,y\n",
        "input.csv: line 1: no `topic` or `stance` column",
    );
}

#[test]
fn unterminated_quote_names_the_line() {
    train_fails_on(
        b"text,topic\nhello,x\nbye,y\n\"never closed,z\nmore,w\n",
        "input.csv: line 4: a quoted field opened here is never closed",
    );
}

#[test]
fn invalid_utf8_names_line_and_field() {
    train_fails_on(
        b"text,topic\nhello,x\nby\xff\xfee,y\n",
        "input.csv: line 3, field `text`: invalid UTF-8",
    );
}

#[test]
fn single_class_label_column() {
    train_fails_on(
        b"text,stance\nwe back it,support\nwe love it,support\n",
        "the stance column has a single class (`support`)",
    );
}

#[test]
fn model_in_a_missing_folder() {
    let out = stance(&[
        "train",
        "--data",
        &data("tiny_news.csv"),
        "--model",
        "/nonexistent-folder/m.model",
    ]);
    assert_fails_cleanly(&out, "the folder /nonexistent-folder does not exist");
}

#[test]
fn corrupt_and_truncated_models() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.model");
    train_tiny(&good);
    let bytes = std::fs::read(&good).unwrap();
    let cases: [(&str, Vec<u8>, &str); 3] = [
        (
            "text.model",
            b"just some text, not a model".to_vec(),
            "not a stance model file",
        ),
        (
            "truncated.model",
            bytes[..bytes.len() / 2].to_vec(),
            "truncated model file",
        ),
        (
            "corrupt.model",
            {
                let mut b = bytes.clone();
                let mid = b.len() / 2;
                b[mid] ^= 0x55;
                b
            },
            "corrupt model file",
        ),
    ];
    for (name, content, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let out = stance(&[
            "eval",
            "--model",
            path.to_str().unwrap(),
            "--data",
            &data("tiny_news.csv"),
        ]);
        assert_fails_cleanly(&out, expected);
        assert!(stderr(&out).contains(name));
        assert_fails_cleanly(&classify_with_model(&path), expected);
    }
    // An empty file and a folder given as the model.
    let empty = dir.path().join("empty.model");
    std::fs::write(&empty, b"").unwrap();
    for (path, expected) in [
        (empty.as_path(), "not a stance model file"),
        (dir.path(), "is a folder, not a model file"),
    ] {
        assert_fails_cleanly(&classify_with_model(path), expected);
    }
}

/// `stance classify --model MODEL` on a sample article.
fn classify_with_model(model: &Path) -> Output {
    stance(&[
        "classify",
        "--model",
        model.to_str().unwrap(),
        &data("articles/council.txt"),
    ])
}

#[test]
fn unknown_option_is_a_usage_error_with_exit_1() {
    let out = stance(&["train", "--no-such-option"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--no-such-option"));
}

#[test]
fn classify_continues_past_a_bad_file_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.model");
    assert!(stance(&[
        "train",
        "--data",
        &data("tiny_news.csv"),
        "--model",
        model.to_str().unwrap()
    ])
    .status
    .success());
    let articles = dir.path().join("articles");
    std::fs::create_dir(&articles).unwrap();
    std::fs::write(articles.join("a.txt"), "The mayor backed the rent cap.").unwrap();
    std::fs::write(articles.join("b.bin"), b"\x00\x01\x02binary").unwrap();
    std::fs::write(
        articles.join("c.txt"),
        "Residents rejected the wind farm plan outright.",
    )
    .unwrap();
    let out = stance(&[
        "classify",
        "--model",
        model.to_str().unwrap(),
        "--format",
        "jsonl",
        articles.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("b.bin: looks like a binary file"));
    assert_eq!(stdout(&out).lines().count(), 2);
}

/// Trains and cross-validates on the shared SemEval-2016 data when it is there (skipped on a
/// user's fresh clone, where `../shared` does not exist).
#[test]
fn shared_semeval_cross_validation_when_available() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/semeval2016_task6/data.csv");
    if !path.exists() {
        eprintln!("skipped: {} not found", path.display());
        return;
    }
    let out = stance(&[
        "eval",
        "--cv",
        "3",
        "--data",
        path.to_str().unwrap(),
        "--split",
        "train",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let cv: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    // Five targets (chance 0.2) and three stances: a linear model on tweets is well above chance.
    assert!(
        cv["topic"]["accuracy"]["mean"].as_f64().unwrap() > 0.6,
        "{}",
        cv["topic"]
    );
    assert!(
        cv["stance"]["f_avg"]["mean"].as_f64().unwrap() > 0.5,
        "{}",
        cv["stance"]
    );
}

#[test]
fn a_million_row_csv_with_a_ragged_last_row_names_the_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("big.csv");
    let mut body = String::with_capacity(40_000_000);
    body.push_str("text,topic\n");
    for i in 0..1_000_000 {
        body.push_str(if i % 2 == 0 {
            "the levy vote passed,climate\n"
        } else {
            "rents rose again,housing\n"
        });
    }
    body.push_str("a ragged row,with,three fields\n");
    std::fs::write(&csv, body).unwrap();
    let model = dir.path().join("m.model");
    let out = stance(&[
        "train",
        "--data",
        csv.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
    ]);
    assert_fails_cleanly(
        &out,
        "big.csv: line 1000002: 3 fields where the header has 2",
    );
    assert!(!model.exists());
    assert_eq!(files_in(dir.path()).len(), 1, "only the CSV is there");
}

#[test]
fn a_model_from_a_future_format_version_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.model");
    train_tiny(&good);
    let mut bytes = std::fs::read(&good).unwrap();
    bytes[8..12].copy_from_slice(&99u32.to_le_bytes());
    let future = dir.path().join("future.model");
    std::fs::write(&future, bytes).unwrap();
    let out = stance(&[
        "classify",
        "--model",
        future.to_str().unwrap(),
        &data("articles/council.txt"),
    ]);
    assert_fails_cleanly(&out, "format version 99 is newer than this build");
    assert!(stderr(&out).contains("future.model"));
}

#[test]
fn labels_differing_in_case_are_merged_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("mixed.csv");
    let tiny = std::fs::read_to_string(data("tiny_news.csv")).unwrap();
    std::fs::write(&csv, tiny.replacen(",climate,", ",Climate ,", 3)).unwrap();
    let model = dir.path().join("m.model");
    let out = stance(&[
        "train",
        "--data",
        csv.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("topic label \"climate\" taken as \"Climate\""),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("2 classes (Climate"),
        "{}",
        stdout(&out)
    );
}

/// A `train` killed at any moment leaves the previous model as it was, and the next `train`
/// into the same place works and leaves no temporary file behind.
#[cfg(unix)]
#[test]
fn sigkill_during_train_keeps_the_previous_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.model");
    let m = model.to_str().unwrap();
    // A corpus big enough that training takes a while: the tiny one, repeated with variations.
    let tiny = std::fs::read_to_string(data("tiny_news.csv")).unwrap();
    let mut lines = tiny.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let mut big = format!("{header}\n");
    for i in 0..300 {
        for r in &rows {
            big.push_str(&r.replacen(',', &format!(" v{i} w{} ,", i % 17), 1));
            big.push('\n');
        }
    }
    let csv = dir.path().join("big.csv");
    std::fs::write(&csv, big).unwrap();
    train_tiny(&model);
    let before = std::fs::read(&model).unwrap();
    let mut killed_mid_run = 0;
    for delay_ms in [5u64, 40, 120, 300, 700, 1500] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stance"))
            .args(["train", "--data", csv.to_str().unwrap(), "--model", m])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        if !finished {
            killed_mid_run += 1;
            assert_eq!(
                std::fs::read(&model).unwrap(),
                before,
                "killed after {delay_ms} ms"
            );
        }
    }
    assert!(killed_mid_run > 0, "every train finished before its kill");
    train_tiny(&model);
    assert_eq!(std::fs::read(&model).unwrap(), before);
    let left: Vec<_> = files_in(dir.path())
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert!(left.is_empty(), "stray files: {left:?}");
}

#[test]
fn explain_and_inspect_read_the_linear_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.model");
    let m = model.to_str().unwrap();
    train_tiny(&model);

    let article = data("articles/council.txt");
    let out = stance(&[
        "classify",
        "--model",
        m,
        "--explain",
        "--explain-top",
        "3",
        "--format",
        "jsonl",
        &article,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    for line in stdout(&out).lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        if r.get("topic").is_none() {
            continue; // a byline: not labelled, not explained
        }
        let text = r["text"].as_str().unwrap().to_lowercase();
        for head in ["topic", "stance"] {
            let e = &r["explanation"][head];
            assert_eq!(e["label"], r[head], "{line}");
            assert_ne!(e["versus"], e["label"]);
            let weights: Vec<f64> = e["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["weight"].as_f64().unwrap())
                .collect();
            assert!(weights.len() <= 3);
            assert!(weights.iter().all(|&w| w > 0.0));
            assert!(weights.windows(2).all(|w| w[0] >= w[1]), "{weights:?}");
            for v in e["evidence"].as_array().unwrap() {
                let f = v["feature"].as_str().unwrap();
                let words = f.split(" [").next().unwrap().to_lowercase();
                assert!(text.contains(&words), "{words:?} not in {text:?}");
            }
        }
    }

    let out = stance(&[
        "eval",
        "--model",
        m,
        "--data",
        &data("tiny_news.csv"),
        "--explain",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rows = v["explanations"].as_array().unwrap();
    assert_eq!(
        rows.len() as u64,
        v["evaluation"]["topic"]["rows"].as_u64().unwrap()
    );
    assert!(rows[0]["line"].as_u64().unwrap() >= 2);

    let out = stance(&[
        "inspect",
        "--model",
        m,
        "--top",
        "4",
        "--data",
        &data("tiny_news.csv"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = stdout(&out);
    for needle in [
        "== topic",
        "  climate: ",
        "  housing: ",
        "== stance: features shared",
        "  support: ",
    ] {
        assert!(report.contains(needle), "{needle} missing in {report}");
    }
}
