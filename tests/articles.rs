//! End-to-end tests of reading articles: `stance segment`, `classify --summary`, streaming from
//! standard input, and hostile article files (binary, NUL bytes, bad encodings, huge lines,
//! unreadable files in a folder).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn stance(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(args)
        .output()
        .expect("run the stance binary")
}

fn article(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/articles")
        .join(name)
        .display()
        .to_string()
}

fn jsonl(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn segment_needs_no_model_and_offsets_slice_back() {
    let path = article("council.txt");
    let out = stance(&["segment", "--format", "jsonl", &path]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&path).unwrap();
    let records = jsonl(&out);
    assert!(records.len() >= 4);
    for r in &records {
        let (s, e) = (r["start"].as_u64().unwrap(), r["end"].as_u64().unwrap());
        assert_eq!(&text[s as usize..e as usize], r["text"].as_str().unwrap());
        assert!(r.get("topic").is_none() && r.get("stance").is_none());
    }
    assert_eq!(records[0]["kind"], "heading");
    assert_eq!(records[1]["kind"], "byline");
    let quote = records
        .iter()
        .find(|r| r["text"].as_str().unwrap().starts_with("\"The vote"))
        .unwrap();
    assert_eq!(quote["quoted"], true);
    assert_eq!(quote["speaker"], "an official");

    let csv = stance(&["segment", "--format", "csv", &path]);
    let csv = String::from_utf8_lossy(&csv.stdout).into_owned();
    assert!(csv.starts_with("source,index,kind,start,end,quoted,speaker,text\n"));
}

#[test]
fn classify_summary_counts_sentences_per_topic_and_speaker() {
    let path = article("council.txt");
    let out = stance(&["classify", "--summary", "--format", "jsonl", &path]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summaries = jsonl(&out);
    assert_eq!(summaries.len(), 1);
    let s = &summaries[0];
    let counted: u64 = s["by_topic"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|m| m.as_object().unwrap().values())
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(counted, s["sentences"].as_u64().unwrap());
    assert!(s["statements"].as_u64().unwrap() > s["sentences"].as_u64().unwrap());
    assert!(s["by_speaker"].get("an official").is_some(), "{s}");

    let table = stance(&["classify", "--summary", "--format", "table", &path]);
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    assert!(table.starts_with("== "), "{table}");
    assert!(
        table.contains("support") && table.contains("speaker"),
        "{table}"
    );
}

/// `stance segment -` reading a pipe that stays open after `first` is written: the child, the
/// write end of its standard input and the read end of its standard output.
fn segment_with_open_stdin(first: &[u8]) -> (Child, ChildStdin, ChildStdout) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(["segment", "--format", "jsonl", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(first).unwrap();
    stdin.flush().unwrap();
    let stdout = child.stdout.take().unwrap();
    (child, stdin, stdout)
}

#[test]
fn stdin_is_answered_before_it_ends() {
    let (mut child, mut stdin, stdout) =
        segment_with_open_stdin(b"The first paragraph arrives. It has two sentences.\n\n");
    // Read on another thread, so a stance that waits for the end of input fails the test
    // instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let first = rx.recv_timeout(Duration::from_secs(20));
    assert!(started.elapsed() < Duration::from_secs(20));
    let first = first.expect("no output while standard input was still open");
    assert!(first.contains("The first paragraph arrives."), "{first}");
    // The input is still open: the answer came from the first paragraph alone.
    stdin.write_all(b"A second paragraph.\n").unwrap();
    drop(stdin);
    reader.join().unwrap();
    let rest: Vec<String> = rx.try_iter().collect();
    assert_eq!(rest.len(), 2, "{rest:?}");
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_closed_output_ends_the_run_while_input_is_still_open() {
    // Reading runs on a thread of its own; when the output goes away (`| head -1`), the run
    // must end without waiting for that thread to see more input.
    let (mut child, mut stdin, stdout) =
        segment_with_open_stdin(b"The first paragraph arrives.\n\n");
    // Read one line, then close the pipe (the thread drops its end when it returns).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = String::new();
        BufReader::new(stdout).read_line(&mut first).unwrap();
        tx.send(first).unwrap();
    });
    let first = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("no output while standard input was still open");
    assert!(first.contains("The first paragraph arrives."), "{first}");
    // The next paragraph's output has nowhere to go; standard input stays open.
    stdin.write_all(b"A second paragraph.\n\n").unwrap();
    stdin.flush().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("stance kept running after its output was closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    drop(stdin);
}

#[test]
fn hostile_article_files_are_reported_and_the_others_classified() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("a-good.txt"),
        "The council approved the budget. It passed.",
    )
    .unwrap();
    std::fs::write(d.join("b-binary.bin"), b"\x7fELF\x02\x01\x01\0\0\0binary").unwrap();
    std::fs::write(d.join("c-latin1.txt"), b"First line.\nCaf\xe9 society.\n").unwrap();
    std::fs::write(d.join("d-empty.txt"), b"").unwrap();
    let mut late_nul = "Good text here. ".repeat(1000).into_bytes();
    late_nul.extend_from_slice(b"\n\nthen \0 a NUL");
    std::fs::write(d.join("e-late-nul.txt"), &late_nul).unwrap();
    std::fs::write(d.join("f-good.txt"), "Another article. Still fine.").unwrap();
    #[cfg(unix)]
    let locked = {
        use std::os::unix::fs::PermissionsExt;
        let p = d.join("e2-unreadable.txt");
        std::fs::write(&p, "secret").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
        // Root reads anything: only expect the error when the file really is unreadable.
        std::fs::read(&p).is_err()
    };
    let out = stance(&["segment", "--format", "jsonl", d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("b-binary.bin: looks like a binary file"),
        "{err}"
    );
    assert!(err.contains("c-latin1.txt: line 2: invalid UTF-8"), "{err}");
    assert!(err.contains("e-late-nul.txt: line 3: NUL byte"), "{err}");
    #[cfg(unix)]
    if locked {
        assert!(err.contains("e2-unreadable.txt"), "{err}");
    }
    assert!(err.lines().all(|l| l.starts_with("error: ")), "{err}");
    let sources: Vec<String> = jsonl(&out)
        .iter()
        .map(|r| r["source"].as_str().unwrap().to_string())
        .collect();
    assert!(sources.iter().any(|s| s.ends_with("a-good.txt")));
    assert!(sources.iter().any(|s| s.ends_with("f-good.txt")));
    assert!(!sources.iter().any(|s| s.ends_with("d-empty.txt")));
}

#[test]
fn a_50_mb_single_line_is_segmented_without_trouble() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one-line.txt");
    let sentence = "The committee met again on Tuesday and said nothing new. ";
    let line = sentence.repeat(50_000_000 / sentence.len());
    std::fs::write(&path, &line).unwrap();
    let out = stance(&["segment", "--format", "csv", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = out.stdout.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(rows, 1 + line.len() / sentence.len());
}

#[test]
fn explanations_explain_the_printed_topic_and_stance() {
    // With article context the topic is mixed with the article's and the stance is predicted
    // under that topic; the explanations must explain those labels (they once explained the
    // statement's own topic, and the stance under it).
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/articles");
    let out = stance(&[
        "classify",
        "--explain",
        "--format",
        "jsonl",
        folder.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let records = jsonl(&out);
    let explained: Vec<_> = records
        .iter()
        .filter(|r| r.get("explanation").is_some())
        .collect();
    assert!(explained.len() > 100);
    for r in explained {
        assert_eq!(r["explanation"]["stance"]["label"], r["stance"], "{r}");
        assert_eq!(r["explanation"]["topic"]["label"], r["topic"], "{r}");
    }
}
