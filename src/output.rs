//! Writing results: classified statements as a table, CSV or JSON Lines, and the human-readable
//! reports of `train` and `eval`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;

use crate::eval::{CrossValidation, Evaluation, HeadScores};
use crate::model::{Explained, Explanation, Indicative, Inspection, TrainSummary};
use crate::tune::Tuning;

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
    /// Whether the statement is a quotation.
    pub quoted: bool,
    /// Who the statement is attributed to, as written in the article.
    pub speaker: Option<String>,
    /// Predicted topic (absent from `segment` output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Probability of the predicted topic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_probability: Option<f64>,
    /// Predicted stance (absent from `segment` output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stance: Option<String>,
    /// Probability of the predicted stance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stance_probability: Option<f64>,
    /// Why the heads chose their labels (`classify --explain`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explained>,
}

/// `label vs runner-up: feature +0.41, ...` for one head's explanation.
pub fn evidence_line(e: &Explanation) -> String {
    let evidence: Vec<String> = e
        .evidence
        .iter()
        .map(|v| format!("{} {:+.2}", v.feature, v.weight))
        .collect();
    format!(
        "{} vs {}: {}",
        e.label,
        e.versus.as_deref().unwrap_or("-"),
        if evidence.is_empty() {
            "(no feature; the intercept decides)".to_string()
        } else {
            evidence.join(", ")
        }
    )
}

/// Writes [`Record`]s in one [`Format`].
pub struct RecordWriter<W: Write> {
    format: Format,
    out: Sink<W>,
    started: bool,
    labels: bool,
}

enum Sink<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Plain(std::io::BufWriter<W>),
}

const TABLE_TEXT_WIDTH: usize = 90;

impl<W: Write> RecordWriter<W> {
    /// A writer of `format` onto `out`; `labels` says whether records carry topic and stance
    /// (`classify`) or not (`segment`).
    pub fn new(format: Format, out: W, labels: bool) -> Self {
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
            labels,
        }
    }

    /// Writes one record.
    pub fn write(&mut self, r: &Record) -> std::io::Result<()> {
        let first = !self.started;
        self.started = true;
        match (&mut self.out, self.format) {
            (Sink::Csv(out), _) => {
                let mut fields: Vec<String> = Vec::with_capacity(12);
                if first {
                    fields.extend(
                        [
                            "source", "index", "kind", "start", "end", "quoted", "speaker",
                        ]
                        .map(String::from),
                    );
                    if self.labels {
                        fields.extend(
                            ["topic", "topic_probability", "stance", "stance_probability"]
                                .map(String::from),
                        );
                    }
                    if r.explanation.is_some() {
                        fields.extend(["topic_evidence", "stance_evidence"].map(String::from));
                    }
                    fields.push("text".into());
                    out.write_record(&fields)?;
                    fields.clear();
                }
                let prob = |p: Option<f64>| p.map_or(String::new(), |p| format!("{p:.4}"));
                fields.extend([
                    r.source.clone(),
                    r.index.to_string(),
                    r.kind.to_string(),
                    r.start.to_string(),
                    r.end.to_string(),
                    r.quoted.to_string(),
                    r.speaker.clone().unwrap_or_default(),
                ]);
                if self.labels {
                    fields.extend([
                        r.topic.clone().unwrap_or_default(),
                        prob(r.topic_probability),
                        r.stance.clone().unwrap_or_default(),
                        prob(r.stance_probability),
                    ]);
                }
                if let Some(x) = &r.explanation {
                    fields.push(x.topic.as_ref().map(evidence_line).unwrap_or_default());
                    fields.push(x.stance.as_ref().map(evidence_line).unwrap_or_default());
                }
                fields.push(r.text.clone());
                out.write_record(&fields)?;
            }
            (Sink::Plain(w), Format::Jsonl) => {
                let line = serde_json::to_string(r).map_err(std::io::Error::other)?;
                w.write_all(line.as_bytes())?;
                w.write_all(b"\n")?;
            }
            (Sink::Plain(w), _) => {
                if first {
                    if self.labels {
                        writeln!(
                            w,
                            "{:<28} {:>4}  {:<18} {:<10} text",
                            "source", "#", "topic (p)", "stance (p)"
                        )?;
                    } else {
                        writeln!(
                            w,
                            "{:<28} {:>4}  {:<8} {:<20} text",
                            "source", "#", "kind", "speaker"
                        )?;
                    }
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
                if self.labels {
                    writeln!(
                        w,
                        "{source:<28} {:>4}  {:<18} {:<10} {text}",
                        r.index,
                        label(&r.topic, r.topic_probability),
                        label(&r.stance, r.stance_probability)
                    )?;
                    if let Some(x) = &r.explanation {
                        for (head, e) in [("topic", &x.topic), ("stance", &x.stance)] {
                            if let Some(e) = e {
                                writeln!(w, "{:>35}{head} {}", "", evidence_line(e))?;
                            }
                        }
                    }
                } else {
                    let speaker = match (&r.speaker, r.quoted) {
                        (Some(s), _) => shorten_end(s, 20),
                        (None, true) => "(quote)".to_string(),
                        (None, false) => "-".to_string(),
                    };
                    writeln!(
                        w,
                        "{source:<28} {:>4}  {:<8} {speaker:<20} {text}",
                        r.index, r.kind
                    )?;
                }
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

/// Counts of an article's sentences per topic and stance, and per speaker and stance, as
/// `classify --summary` writes them. Only sentences count (not headings, bylines, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ArticleSummary {
    /// The article.
    pub source: String,
    /// Statements of every kind.
    pub statements: usize,
    /// Sentences among them.
    pub sentences: usize,
    /// Quoted sentences.
    pub quoted: usize,
    /// Sentences per topic, then per stance.
    pub by_topic: BTreeMap<String, BTreeMap<String, usize>>,
    /// Quoted sentences per speaker, then per stance.
    pub by_speaker: BTreeMap<String, BTreeMap<String, usize>>,
}

const NO_LABEL: &str = "-";

impl ArticleSummary {
    /// An empty summary of `source`.
    pub fn new(source: &str) -> Self {
        ArticleSummary {
            source: source.to_string(),
            ..Self::default()
        }
    }

    /// Counts one classified statement.
    pub fn add(&mut self, r: &Record) {
        self.statements += 1;
        if r.kind != "sentence" {
            return;
        }
        self.sentences += 1;
        self.quoted += usize::from(r.quoted);
        let stance = r.stance.as_deref().unwrap_or(NO_LABEL).to_string();
        let topic = r.topic.as_deref().unwrap_or(NO_LABEL).to_string();
        *self
            .by_topic
            .entry(topic)
            .or_default()
            .entry(stance.clone())
            .or_default() += 1;
        if let Some(speaker) = &r.speaker {
            *self
                .by_speaker
                .entry(speaker.clone())
                .or_default()
                .entry(stance)
                .or_default() += 1;
        }
    }

    /// Stance labels in the counts: support, oppose, neutral first, then any others.
    fn stances(&self) -> Vec<String> {
        let mut seen: Vec<String> = ["support", "oppose", "neutral"].map(String::from).to_vec();
        for counts in self.by_topic.values() {
            for l in counts.keys() {
                if !seen.contains(l) {
                    seen.push(l.clone());
                }
            }
        }
        seen
    }

    /// Writes the summary in `format`; `first` says whether it is the first one written (for
    /// the CSV header).
    pub fn write(&self, format: Format, out: &mut impl Write, first: bool) -> std::io::Result<()> {
        match format {
            Format::Jsonl => {
                let line = serde_json::to_string(self).map_err(std::io::Error::other)?;
                writeln!(out, "{line}")
            }
            Format::Csv => {
                let mut w = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(out);
                if first {
                    w.write_record(["source", "group", "name", "stance", "sentences"])?;
                }
                for (group, map) in [("topic", &self.by_topic), ("speaker", &self.by_speaker)] {
                    for (name, counts) in map {
                        for (stance, n) in counts {
                            w.write_record([
                                self.source.as_str(),
                                group,
                                name,
                                stance,
                                &n.to_string(),
                            ])?;
                        }
                    }
                }
                w.flush()
            }
            Format::Table => {
                let stances = self.stances();
                writeln!(
                    out,
                    "== {}: {} statements, {} sentences, {} quoted",
                    self.source, self.statements, self.sentences, self.quoted
                )?;
                for (group, map) in [("topic", &self.by_topic), ("speaker", &self.by_speaker)] {
                    if map.is_empty() {
                        continue;
                    }
                    let width = map
                        .keys()
                        .map(|k| k.chars().count())
                        .max()
                        .unwrap_or(0)
                        .clamp(7, 40);
                    write!(out, "{group:<width$}")?;
                    for s in &stances {
                        write!(out, " {s:>8}")?;
                    }
                    writeln!(out)?;
                    for (name, counts) in map {
                        write!(out, "{:<width$}", shorten_end(name, width))?;
                        for s in &stances {
                            write!(out, " {:>8}", counts.get(s).copied().unwrap_or(0))?;
                        }
                        writeln!(out)?;
                    }
                }
                writeln!(out)
            }
        }
    }
}

/// `s` cut to at most `width` characters, keeping its start.
fn shorten_end(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else {
        s.chars().take(width - 1).collect::<String>() + "…"
    }
}

/// The summary `train` prints.
pub fn train_summary(s: &TrainSummary, model_path: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "rows read: {}", s.rows);
    if s.common_terms < s.vocabulary {
        let _ = writeln!(
            out,
            "vocabulary: {} terms ({} common: in at least --min-df rows, at most {}; the rest \
             for naive Bayes only)",
            s.vocabulary,
            s.common_terms,
            crate::features::MAX_COMMON_TERMS
        );
    } else {
        let _ = writeln!(out, "vocabulary: {} terms", s.vocabulary);
    }
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
        if let Some(t) = &h.tuning {
            let _ = writeln!(out, "  tuned: {}", tuning_line(t));
        }
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
    if let Some(e) = h.ece {
        let _ = write!(out, "  ECE {e:.4}");
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

/// One labelled row with the explanation of its prediction (`eval --explain`).
#[derive(Debug, Clone, Serialize)]
pub struct RowExplanation {
    /// Line of the row in the CSV file.
    pub line: u64,
    /// The text.
    pub text: String,
    /// Its gold topic.
    pub gold_topic: Option<String>,
    /// Its gold stance.
    pub gold_stance: Option<String>,
    /// The explained prediction.
    pub explained: Explained,
}

/// The per-row section `eval --explain` adds to the text report; wrong labels are marked `✗`.
pub fn explanations_report(rows: &[RowExplanation]) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\n== explanations (gold -> predicted: evidence)");
    for r in rows {
        let _ = writeln!(
            out,
            "line {}: {}",
            r.line,
            r.text.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        for (head, gold, e) in [
            ("topic", &r.gold_topic, &r.explained.topic),
            ("stance", &r.gold_stance, &r.explained.stance),
        ] {
            if let (Some(g), Some(e)) = (gold, e) {
                let mark = if *g == e.label { "✓" } else { "✗" };
                let _ = writeln!(out, "  {mark} {head} {g} -> {}", evidence_line(e));
            }
        }
    }
    out
}

/// The report `inspect` prints.
pub fn inspection_report(i: &Inspection) -> String {
    let mut out = String::new();
    let list = |out: &mut String, items: &[Indicative]| {
        for item in items {
            let features: Vec<String> = item
                .features
                .iter()
                .map(|(f, w)| format!("{f} {w:.2}"))
                .collect();
            let _ = writeln!(out, "  {}: {}", item.label, features.join(", "));
        }
    };
    if !i.topic.is_empty() {
        let _ = writeln!(out, "== topic: most indicative features per topic");
        list(&mut out, &i.topic);
    }
    if !i.stance.is_empty() {
        let _ = writeln!(out, "\n== stance: features shared by all topics");
        list(&mut out, &i.stance);
    }
    for (topic, items) in &i.stance_by_topic {
        let _ = writeln!(out, "\n== stance within {topic}");
        list(&mut out, items);
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
            if let Some(e) = &h.ece {
                let _ = write!(out, "  ECE {:.4} ± {:.4}", e.mean, e.sd);
            }
            let _ = writeln!(out);
        }
    }
    out
}

/// What `--tune` chose for a head, and the inner cross-validation scores it chose from.
fn tuning_line(t: &Tuning) -> String {
    let tried = |naive_bayes: bool| -> String {
        t.trials
            .iter()
            .filter(|r| r.naive_bayes == naive_bayes)
            .map(|r| format!("{} {:.4}", r.alpha, r.score))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let with_nb = t.trials.iter().any(|r| r.naive_bayes);
    let scores = if with_nb {
        format!(
            "with naive Bayes columns {}; without {}",
            tried(true),
            tried(false)
        )
    } else {
        tried(false)
    };
    let choice = match (with_nb, t.naive_bayes) {
        (false, _) => String::new(),
        (true, true) => " with naive Bayes columns".to_string(),
        (true, false) => " without naive Bayes columns".to_string(),
    };
    format!(
        "alpha {}{choice} (inner {}-fold {} per alpha: {scores}); temperature {:.3}",
        t.alpha,
        crate::tune::INNER_FOLDS,
        t.measure,
        t.temperature
    )
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
            quoted: false,
            speaker: None,
            topic: Some("climate".into()),
            topic_probability: Some(0.91234),
            stance: None,
            stance_probability: None,
            explanation: None,
        }
    }

    fn render(format: Format) -> String {
        let mut buf = Vec::new();
        {
            let mut w = RecordWriter::new(format, &mut buf, true);
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
            "source,index,kind,start,end,quoted,speaker,topic,topic_probability,stance,stance_probability,text"
        );
        assert_eq!(
            lines.next().unwrap(),
            "a.txt,0,sentence,0,9,false,,climate,0.9123,,,\"He said, \"\"no\"\".\""
        );
    }

    #[test]
    fn jsonl_is_one_object_per_line() {
        let out = render(Format::Jsonl);
        let v: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
        assert_eq!(v["topic"], "climate");
        assert!(v.get("stance").is_none());
        assert_eq!(v["quoted"], false);
        assert_eq!(v["end"], 9);
    }

    #[test]
    fn table_has_header_and_row() {
        let out = render(Format::Table);
        assert!(out.lines().next().unwrap().starts_with("source"));
        assert!(out.lines().nth(1).unwrap().contains("climate 0.91"));
    }
}
