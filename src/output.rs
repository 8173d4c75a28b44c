//! Writing results: classified statements as a table, CSV or JSON Lines, and the human-readable
//! reports of `train` and `eval`.

use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;

use crate::eval::{CrossValidation, Evaluation, HeadScores};
use crate::model::TrainSummary;

/// Output format of statement records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for reading in a terminal.
    Table,
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// One statement with its labels, as written by `classify`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// The file (or `-` for standard input) the statement came from.
    pub source: String,
    /// Position of the statement in its article, from 0.
    pub index: usize,
    /// `sentence`, `heading`, ...
    pub kind: &'static str,
    /// Byte offset of the statement in its article.
    pub start: usize,
    /// Byte offset just past the statement.
    pub end: usize,
    /// The statement.
    pub text: String,
    /// Predicted topic.
    pub topic: Option<String>,
    /// Probability of the predicted topic.
    pub topic_probability: Option<f64>,
    /// Predicted stance.
    pub stance: Option<String>,
    /// Probability of the predicted stance.
    pub stance_probability: Option<f64>,
}

/// Writes [`Record`]s in one [`Format`].
pub struct RecordWriter<W: Write> {
    format: Format,
    out: Sink<W>,
    started: bool,
}

enum Sink<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Plain(std::io::BufWriter<W>),
}

const TABLE_TEXT_WIDTH: usize = 90;

impl<W: Write> RecordWriter<W> {
    /// A writer of `format` onto `out`.
    pub fn new(format: Format, out: W) -> Self {
        let out = match format {
            Format::Csv => Sink::Csv(Box::new(
                csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(out),
            )),
            _ => Sink::Plain(std::io::BufWriter::new(out)),
        };
        RecordWriter {
            format,
            out,
            started: false,
        }
    }

    /// Writes one record.
    pub fn write(&mut self, r: &Record) -> std::io::Result<()> {
        let first = !self.started;
        self.started = true;
        match (&mut self.out, self.format) {
            (Sink::Csv(out), _) => {
                if first {
                    out.write_record([
                        "source",
                        "index",
                        "kind",
                        "start",
                        "end",
                        "topic",
                        "topic_probability",
                        "stance",
                        "stance_probability",
                        "text",
                    ])?;
                }
                let prob = |p: Option<f64>| p.map_or(String::new(), |p| format!("{p:.4}"));
                out.write_record([
                    r.source.as_str(),
                    &r.index.to_string(),
                    r.kind,
                    &r.start.to_string(),
                    &r.end.to_string(),
                    r.topic.as_deref().unwrap_or(""),
                    &prob(r.topic_probability),
                    r.stance.as_deref().unwrap_or(""),
                    &prob(r.stance_probability),
                    &r.text,
                ])?;
            }
            (Sink::Plain(w), Format::Jsonl) => {
                let line = serde_json::to_string(r).map_err(std::io::Error::other)?;
                w.write_all(line.as_bytes())?;
                w.write_all(b"\n")?;
            }
            (Sink::Plain(w), _) => {
                if first {
                    writeln!(
                        w,
                        "{:<28} {:>4}  {:<18} {:<10} text",
                        "source", "#", "topic (p)", "stance (p)"
                    )?;
                }
                let label = |l: &Option<String>, p: Option<f64>| match (l, p) {
                    (Some(l), Some(p)) => format!("{l} {p:.2}"),
                    (Some(l), None) => l.clone(),
                    _ => "-".into(),
                };
                let mut text: String = r.text.split_whitespace().collect::<Vec<_>>().join(" ");
                if text.chars().count() > TABLE_TEXT_WIDTH {
                    text = text.chars().take(TABLE_TEXT_WIDTH - 1).collect::<String>() + "…";
                }
                let source = shorten(&r.source, 28);
                writeln!(
                    w,
                    "{source:<28} {:>4}  {:<18} {:<10} {text}",
                    r.index,
                    label(&r.topic, r.topic_probability),
                    label(&r.stance, r.stance_probability)
                )?;
            }
        }
        Ok(())
    }

    /// Flushes buffered output.
    pub fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.out {
            Sink::Csv(w) => w.flush(),
            Sink::Plain(w) => w.flush(),
        }
    }
}

/// `s` cut to at most `width` characters, keeping its end (file names differ at the end).
fn shorten(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width {
        s.to_string()
    } else {
        "…".to_string() + &s.chars().skip(n - width + 1).collect::<String>()
    }
}

/// The summary `train` prints.
pub fn train_summary(s: &TrainSummary, model_path: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "rows read: {}", s.rows);
    let _ = writeln!(out, "vocabulary: {} terms", s.vocabulary);
    for h in &s.heads {
        let classes: Vec<String> = h.classes.iter().map(|(l, c)| format!("{l} {c}")).collect();
        let _ = writeln!(
            out,
            "{} head: {} rows, {} classes ({}); {} iterations",
            h.head,
            h.rows,
            h.classes.len(),
            classes.join(", "),
            h.iterations
        );
    }
    if !s.other_stance_labels.is_empty() {
        let _ = writeln!(
            out,
            "note: stance labels other than support/oppose/neutral kept as their own classes: {}",
            s.other_stance_labels.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "trained in {:.2} s; model written to {model_path}",
        s.seconds
    );
    out
}

fn head_report(out: &mut String, name: &str, h: &HeadScores) {
    let _ = writeln!(out, "== {name}: {} rows", h.rows);
    let _ = write!(
        out,
        "accuracy {:.4}  macro-F1 {:.4}",
        h.accuracy, h.macro_f1
    );
    if let Some(f) = h.f_avg {
        let _ = write!(out, "  F_avg {f:.4}");
    }
    let _ = writeln!(out);
    let width = h
        .classes
        .iter()
        .map(|c| c.label.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        out,
        "{:<width$}  precision  recall      F1  support",
        "class"
    );
    for c in &h.classes {
        let _ = writeln!(
            out,
            "{:<width$}  {:>9.4}  {:>6.4}  {:>6.4}  {:>7}",
            c.label, c.precision, c.recall, c.f1, c.support
        );
    }
    let _ = writeln!(out, "confusion matrix (rows: gold, columns: predicted)");
    let _ = write!(out, "{:<width$}", "");
    for l in &h.confusion.labels {
        let _ = write!(out, "  {:>w$}", l, w = l.chars().count().max(6));
    }
    let _ = writeln!(out);
    for (l, row) in h.confusion.labels.iter().zip(&h.confusion.counts) {
        let _ = write!(out, "{l:<width$}");
        for (c, label) in row.iter().zip(&h.confusion.labels) {
            let _ = write!(out, "  {:>w$}", c, w = label.chars().count().max(6));
        }
        let _ = writeln!(out);
    }
}

/// The report `eval` prints for a held-out set.
pub fn evaluation_report(e: &Evaluation) -> String {
    let mut out = String::new();
    if let Some(t) = &e.topic {
        head_report(&mut out, "topic", t);
    }
    if let Some(s) = &e.stance {
        if !out.is_empty() {
            out.push('\n');
        }
        head_report(&mut out, "stance", s);
    }
    if !e.stance_by_topic.is_empty() {
        let _ = writeln!(out, "\n== stance per topic");
        let width = e
            .stance_by_topic
            .iter()
            .map(|(t, _)| t.chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        let _ = writeln!(
            out,
            "{:<width$}  {:>5}  accuracy  macro-F1   F_avg",
            "topic", "rows"
        );
        for (t, h) in &e.stance_by_topic {
            let favg = h.f_avg.map_or("-".to_string(), |f| format!("{f:.4}"));
            let _ = writeln!(
                out,
                "{t:<width$}  {:>5}  {:>8.4}  {:>8.4}  {favg:>6}",
                h.rows, h.accuracy, h.macro_f1
            );
        }
    }
    out
}

/// The report `eval --cv` prints.
pub fn cross_validation_report(cv: &CrossValidation) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}-fold stratified cross-validation (mean ± sd over folds)",
        cv.folds
    );
    for (name, head) in [("topic", &cv.topic), ("stance", &cv.stance)] {
        if let Some(h) = head {
            let _ = write!(
                out,
                "{name:<7} accuracy {:.4} ± {:.4}  macro-F1 {:.4} ± {:.4}",
                h.accuracy.mean, h.accuracy.sd, h.macro_f1.mean, h.macro_f1.sd
            );
            if let Some(f) = &h.f_avg {
                let _ = write!(out, "  F_avg {:.4} ± {:.4}", f.mean, f.sd);
            }
            let _ = writeln!(out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            source: "a.txt".into(),
            index: 0,
            kind: "sentence",
            start: 0,
            end: 9,
            text: "He said, \"no\".".into(),
            topic: Some("climate".into()),
            topic_probability: Some(0.91234),
            stance: None,
            stance_probability: None,
        }
    }

    fn render(format: Format) -> String {
        let mut buf = Vec::new();
        {
            let mut w = RecordWriter::new(format, &mut buf);
            w.write(&record()).unwrap();
            w.flush().unwrap();
        }
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn csv_quotes_and_has_a_header() {
        let out = render(Format::Csv);
        let mut lines = out.lines();
        assert_eq!(
            lines.next().unwrap(),
            "source,index,kind,start,end,topic,topic_probability,stance,stance_probability,text"
        );
        assert_eq!(
            lines.next().unwrap(),
            "a.txt,0,sentence,0,9,climate,0.9123,,,\"He said, \"\"no\"\".\""
        );
    }

    #[test]
    fn jsonl_is_one_object_per_line() {
        let out = render(Format::Jsonl);
        let v: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
        assert_eq!(v["topic"], "climate");
        assert_eq!(v["stance"], serde_json::Value::Null);
        assert_eq!(v["end"], 9);
    }

    #[test]
    fn table_has_header_and_row() {
        let out = render(Format::Table);
        assert!(out.lines().next().unwrap().starts_with("source"));
        assert!(out.lines().nth(1).unwrap().contains("climate 0.91"));
    }
}
