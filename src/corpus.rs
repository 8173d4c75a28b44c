//! Labelled CSV input: finds the text and label columns by name, filters by split, normalises
//! stance labels, and reports bad input as one line naming the file, line and field.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Which columns to read and which rows to keep.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Name of the text column.
    pub text_col: String,
    /// Name of the topic column.
    pub topic_col: String,
    /// Name of the stance column.
    pub stance_col: String,
    /// Read the topic column (it may still be missing unless `require_topic`).
    pub use_topic: bool,
    /// Read the stance column (it may still be missing unless `require_stance`).
    pub use_stance: bool,
    /// The topic column must exist (the user named it).
    pub require_topic: bool,
    /// The stance column must exist (the user named it).
    pub require_stance: bool,
    /// Keep only rows whose `split` column is one of these (all rows when `None`).
    pub splits: Option<Vec<String>>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            text_col: "text".into(),
            topic_col: "topic".into(),
            stance_col: "stance".into(),
            use_topic: true,
            use_stance: true,
            require_topic: false,
            require_stance: false,
            splits: None,
        }
    }
}

/// One labelled row.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The statement.
    pub text: String,
    /// Its topic, if the file has a topic column and the cell is not empty.
    pub topic: Option<String>,
    /// Its stance (normalised), if the file has a stance column and the cell is not empty.
    pub stance: Option<String>,
    /// The line of the file where the row starts.
    pub line: u64,
}

/// The rows read from one labelled CSV file.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Where the rows came from.
    pub path: PathBuf,
    /// The rows kept.
    pub examples: Vec<Example>,
    /// Whether the file has a topic column.
    pub has_topic: bool,
    /// Whether the file has a stance column.
    pub has_stance: bool,
    /// What loading changed that the user should know (merged label spellings).
    pub notes: Vec<String>,
}

/// `s` with control characters (line breaks, tabs, ...) escaped, for one-line messages.
fn one_line(s: &str) -> String {
    if s.chars().any(char::is_control) {
        s.chars()
            .flat_map(|c| {
                if c.is_control() {
                    c.escape_default().collect::<Vec<_>>()
                } else {
                    vec![c]
                }
            })
            .collect()
    } else {
        s.to_string()
    }
}

/// Makes labels that differ only in case or spacing one label, spelled as it first appears
/// (with runs of spaces folded); returns a note for each merge.
fn merge_label_spellings(
    examples: &mut [Example],
    label: impl Fn(&mut Example) -> &mut Option<String>,
    what: &str,
) -> Vec<String> {
    let mut canonical: std::collections::HashMap<String, String> = Default::default();
    let mut merged: BTreeSet<(String, String)> = BTreeSet::new();
    for e in examples.iter_mut() {
        let Some(l) = label(e).as_mut() else {
            continue;
        };
        let folded_space = l.split_whitespace().collect::<Vec<_>>().join(" ");
        let key = folded_space.to_lowercase();
        let first = canonical.entry(key).or_insert_with(|| folded_space.clone());
        if *first != *l {
            merged.insert((l.clone(), first.clone()));
            *l = first.clone();
        }
    }
    merged
        .into_iter()
        .map(|(from, to)| {
            format!("{what} label {from:?} taken as {to:?} (they differ only in case or spacing)")
        })
        .collect()
}

/// Maps a stance label onto `support`, `oppose` or `neutral` where it is one of the usual
/// synonyms (case-insensitive); any other label is returned trimmed, as its own class.
pub fn normalize_stance(label: &str) -> String {
    let label = label.trim();
    match label.to_lowercase().as_str() {
        "support" | "supports" | "favor" | "favour" | "for" | "pro" | "agree" | "agrees" => {
            "support".into()
        }
        "oppose" | "opposes" | "against" | "con" | "contra" | "disagree" | "disagrees" => {
            "oppose".into()
        }
        "neutral" | "none" | "observing" | "discuss" | "neither" => "neutral".into(),
        _ => label.to_string(),
    }
}

/// The three stance classes the tool knows by name.
pub const STANCES: [&str; 3] = ["support", "oppose", "neutral"];

/// Reads a labelled CSV file.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Corpus> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read", &e))?;
    parse(path, &bytes, options)
}

/// Parses the bytes of a labelled CSV file; `path` names it in errors.
pub fn parse(path: &Path, bytes: &[u8], options: &LoadOptions) -> Result<Corpus> {
    let name = path.display();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::input(format!(
            "{name}: the file is empty; expected a header row with a `{}` column",
            options.text_col
        )));
    }
    let lines = LineStarts::new(bytes);
    if let Some(line) = unterminated_quote_at(bytes).map(|b| lines.line_of(b)) {
        return Err(Error::input(format!(
            "{name}: line {line}: a quoted field opened here is never closed; add the closing `\"`"
        )));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes);
    let header = reader
        .byte_headers()
        .map_err(|e| csv_error(&name, &lines, e))?
        .clone();
    let header: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            std::str::from_utf8(h)
                .map(|s| s.trim().to_string())
                .map_err(|_| {
                    Error::input(format!(
                        "{name}: line 1, column {}: header is not valid UTF-8",
                        i + 1
                    ))
                })
        })
        .collect::<Result<_>>()?;
    let find = |col: &str| header.iter().position(|h| h == col);
    // Names go into one-line messages: line breaks and other control characters are escaped.
    let columns = header
        .iter()
        .map(|h| one_line(h))
        .collect::<Vec<_>>()
        .join(", ");
    let text_i = find(&options.text_col).ok_or_else(|| {
        Error::input(format!(
            "{name}: line 1: no `{}` column in the header (columns: {columns}); name the text column with --text-col",
            options.text_col
        ))
    })?;
    let topic_i = find(&options.topic_col).filter(|_| options.use_topic);
    let stance_i = find(&options.stance_col).filter(|_| options.use_stance);
    for (required, found, col, flag) in [
        (
            options.require_topic,
            topic_i,
            &options.topic_col,
            "--topic-col",
        ),
        (
            options.require_stance,
            stance_i,
            &options.stance_col,
            "--stance-col",
        ),
    ] {
        if required && found.is_none() {
            return Err(Error::input(format!(
                "{name}: line 1: no `{col}` column in the header (columns: {columns}); check the name given to {flag}"
            )));
        }
    }
    if topic_i.is_none() && stance_i.is_none() {
        return Err(Error::input(format!(
            "{name}: line 1: no `{}` or `{}` column in the header (columns: {columns}); name a label column with --topic-col or --stance-col",
            options.topic_col, options.stance_col
        )));
    }
    let split_i = match &options.splits {
        Some(_) => Some(find("split").ok_or_else(|| {
            Error::input(format!(
                "{name}: line 1: --split was given but the header has no `split` column (columns: {columns})"
            ))
        })?),
        None => None,
    };

    let mut examples = Vec::new();
    let mut splits_seen = BTreeSet::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(&name, &lines, e)),
        }
        let line = record.position().map_or(0, |p| lines.line_of(p.byte()));
        let field = |i: usize| -> Result<&str> {
            let raw = record.get(i).unwrap_or_default();
            std::str::from_utf8(raw).map_err(|e| {
                Error::input(format!(
                    "{name}: line {line}, field `{}`: invalid UTF-8 at byte {} of the field; save the file as UTF-8",
                    header[i],
                    e.valid_up_to()
                ))
            })
        };
        if let (Some(i), Some(wanted)) = (split_i, &options.splits) {
            let split = field(i)?.trim();
            if !wanted.iter().any(|w| w == split) {
                splits_seen.insert(split.to_string());
                continue;
            }
        }
        let label = |i: Option<usize>| -> Result<Option<String>> {
            Ok(match i {
                Some(i) => Some(field(i)?.trim().to_string()).filter(|s| !s.is_empty()),
                None => None,
            })
        };
        let topic = label(topic_i)?;
        let stance = label(stance_i)?.map(|s| normalize_stance(&s));
        let text = field(text_i)?.to_string();
        examples.push(Example {
            text,
            topic,
            stance,
            line,
        });
    }
    if examples.is_empty() {
        let message = match &options.splits {
            Some(wanted) => format!(
                "{name}: no rows with split {}; splits in the file: {}",
                wanted.join(","),
                splits_seen
                    .iter()
                    .map(|s| one_line(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => format!("{name}: the header is there but there are no rows"),
        };
        return Err(Error::input(message));
    }
    let mut notes = merge_label_spellings(&mut examples, |e| &mut e.topic, "topic");
    notes.extend(merge_label_spellings(
        &mut examples,
        |e| &mut e.stance,
        "stance",
    ));
    Ok(Corpus {
        path: path.to_path_buf(),
        examples,
        notes,
        has_topic: topic_i.is_some(),
        has_stance: stance_i.is_some(),
    })
}

/// Where each line of a file starts, counting `\n`, `\r\n` and a lone `\r` as one line break
/// each. The csv crate reads all three as record ends but counts lines by `\n` only, so in a file
/// with old Mac line ends every error said "line 1".
struct LineStarts<'a> {
    bytes: &'a [u8],
    starts: Vec<u64>,
}

impl<'a> LineStarts<'a> {
    fn new(bytes: &'a [u8]) -> LineStarts<'a> {
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i as u64 + 1),
                b'\r' => {
                    if bytes.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                    starts.push(i as u64 + 1);
                }
                _ => {}
            }
            i += 1;
        }
        LineStarts { bytes, starts }
    }

    /// The 1-based line of the record or field that starts at byte offset `byte`. Line-break
    /// bytes there are skipped first: the csv crate can place a record just after the `\r` of
    /// a `\r\n`.
    fn line_of(&self, byte: u64) -> u64 {
        let rest = self.bytes.get(byte as usize..).unwrap_or_default();
        let skip = rest
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        let byte = byte + skip as u64;
        self.starts.partition_point(|&start| start <= byte) as u64
    }
}

fn csv_error(name: &std::path::Display<'_>, lines: &LineStarts<'_>, err: csv::Error) -> Error {
    match err.kind() {
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => Error::input(format!(
            "{name}: line {}: {len} fields where the header has {expected_len}; quote fields that contain commas",
            pos.as_ref().map_or(0, |p| lines.line_of(p.byte()))
        )),
        _ => Error::input(format!("{name}: {err}")),
    }
}

/// The byte offset of a quoted field that is never closed, if any (RFC 4180 quoting: a field
/// that starts with `"` runs to the next `"` not followed by another `"`).
fn unterminated_quote_at(bytes: &[u8]) -> Option<u64> {
    let mut in_quotes = false;
    let mut field_start = true;
    let mut opened_at = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_quotes {
            if b == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    in_quotes = false;
                }
            }
        } else if b == b'"' && field_start {
            in_quotes = true;
            opened_at = i as u64;
        }
        field_start = matches!(b, b',' | b'\n' | b'\r') && !in_quotes;
        i += 1;
    }
    in_quotes.then_some(opened_at)
}

/// Sorted distinct labels and their counts.
pub fn class_counts<'a>(labels: impl Iterator<Item = &'a str>) -> Vec<(String, usize)> {
    let mut map = std::collections::BTreeMap::new();
    for l in labels {
        *map.entry(l.to_string()).or_insert(0usize) += 1;
    }
    map.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Corpus> {
        parse(Path::new("t.csv"), s.as_bytes(), &LoadOptions::default())
    }

    #[test]
    fn reads_columns_by_name_and_normalises_stance() {
        let c = parse_str("id,stance,text,topic\n1, FAVOR ,hello, Climate \n2,against,\"a, b\",x\n3,,c,\n4,weird,d,y\n").unwrap();
        let got: Vec<_> = c
            .examples
            .iter()
            .map(|e| {
                (
                    e.text.as_str(),
                    e.topic.as_deref(),
                    e.stance.as_deref(),
                    e.line,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("hello", Some("Climate"), Some("support"), 2),
                ("a, b", Some("x"), Some("oppose"), 3),
                ("c", None, None, 4),
                ("d", Some("y"), Some("weird"), 5)
            ]
        );
    }

    #[test]
    fn filters_by_split() {
        let opts = LoadOptions {
            splits: Some(vec!["dev".into()]),
            ..Default::default()
        };
        let c = parse(
            Path::new("t.csv"),
            b"text,topic,split\na,x,train\nb,y,dev\n",
            &opts,
        )
        .unwrap();
        assert_eq!(c.examples.len(), 1);
        let err = parse(Path::new("t.csv"), b"text,topic,split\na,x,train\n", &opts).unwrap_err();
        assert_eq!(
            err.message(),
            "t.csv: no rows with split dev; splits in the file: train"
        );
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let msg = |s: &[u8]| {
            parse(Path::new("t.csv"), s, &LoadOptions::default())
                .unwrap_err()
                .message()
                .to_string()
        };
        assert!(msg(b"").contains("t.csv: the file is empty"));
        assert!(msg(b"body,topic\nx,y\n").starts_with("t.csv: line 1: no `text` column"));
        assert!(
            msg(b"text,label\nx,y\n").starts_with("t.csv: line 1: no `topic` or `stance` column")
        );
        assert!(msg(b"text,topic\na,b\n\"open,c\nd,e\n")
            .starts_with("t.csv: line 3: a quoted field opened here is never closed"));
        assert!(msg(b"text,topic\na,b\nc\xff,d\n")
            .starts_with("t.csv: line 3, field `text`: invalid UTF-8"));
        assert!(msg(b"text,topic\na,b\nc,d,e\n")
            .starts_with("t.csv: line 3: 3 fields where the header has 2"));
        // Old Mac line ends (a lone \r) and Windows ones count lines too.
        for end in ["\r", "\r\n"] {
            let csv = |rows: &[&str]| rows.join(end).into_bytes();
            assert!(msg(&csv(&["text,topic", "a,b", "c,d", "e,f,g", ""]))
                .starts_with("t.csv: line 4: 3 fields where the header has 2"));
            assert!(msg(&csv(&["text,topic", "a,b", "\"open,c", "d,e", ""]))
                .starts_with("t.csv: line 3: a quoted field opened here is never closed"));
            let mut bad = csv(&["text,topic", "a,b", "c,d", ""]);
            bad.extend_from_slice(b"x\xff,y");
            assert!(msg(&bad).starts_with("t.csv: line 4, field `text`: invalid UTF-8"));
        }
    }

    #[test]
    fn escaped_quotes_and_multiline_fields_are_fine() {
        let c = parse_str("text,topic\n\"say \"\"hi\"\"\nthere\",x\nnext,y\n").unwrap();
        assert_eq!(c.examples[0].text, "say \"hi\"\nthere");
        assert_eq!(c.examples[1].line, 4);
    }

    #[test]
    fn labels_differing_in_case_or_spacing_are_one_label() {
        let c = parse_str(
            "text,topic\na,Climate  Change\nb,climate change\nc, CLIMATE change\nd,housing\n",
        )
        .unwrap();
        let topics: Vec<_> = c
            .examples
            .iter()
            .map(|e| e.topic.clone().unwrap())
            .collect();
        assert_eq!(
            topics,
            [
                "Climate Change",
                "Climate Change",
                "Climate Change",
                "housing"
            ]
        );
        assert_eq!(c.notes.len(), 3, "{:?}", c.notes);
        assert!(c.notes[0].contains("differ only in case or spacing"));
    }

    #[test]
    fn messages_stay_on_one_line() {
        let err = parse_str("\"bo\ndy\",topic\nx,y\n")
            .unwrap_err()
            .to_string();
        assert!(!err.contains('\n'), "{err}");
        assert!(err.contains("bo\\ndy"), "{err}");
    }
}
