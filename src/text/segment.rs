//! Splitting article text into statements.
//!
//! Paragraphs are separated by blank lines; a line break inside a paragraph is not a boundary.
//! Inside a paragraph a sentence ends at `.`, `!`, `?` or `…` (with any closing quotes and
//! brackets after it) when whitespace and a plausible sentence start follow, unless the stop
//! belongs to a known abbreviation, an initial or a number. Every statement carries byte offsets
//! into the original text, so `&text[start..end] == statement.text`.

use serde::Serialize;

/// What part of an article a statement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StatementKind {
    /// A sentence of running text: the only kind that gets stance counts in summaries.
    Sentence,
    /// A headline or title line.
    Heading,
}

impl StatementKind {
    /// The lower-case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            StatementKind::Sentence => "sentence",
            StatementKind::Heading => "heading",
        }
    }
}

/// One statement of an article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// What part of the article it is.
    pub kind: StatementKind,
    /// Byte offset of its first character in the article.
    pub start: usize,
    /// Byte offset just past its last character.
    pub end: usize,
    /// The statement itself: `&article[start..end]`.
    pub text: &'a str,
}

/// Abbreviations (lower-cased, without their final stop) after which a stop does not end a
/// sentence when a capitalised word follows.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "gen", "sen", "rep", "gov", "prof", "st", "jr", "sr", "lt", "col",
    "capt", "sgt", "rev", "hon", "pres", "inc", "co", "corp", "ltd", "no", "vs", "etc", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k",
    "u.n", "e.u", "a.m", "p.m", "e.g", "i.e", "mt", "ft", "approx", "dept", "est", "fig", "vol",
];

/// Splits `text` into statements; see the module documentation.
pub fn segment(text: &str) -> Vec<Statement<'_>> {
    let mut out = Vec::new();
    for (p_start, p_end) in paragraphs(text) {
        let first = out.is_empty();
        let before = out.len();
        split_sentences(text, p_start, p_end, &mut out);
        // A lone first line without a final stop is the headline.
        if first && out.len() == before + 1 {
            let s = &mut out[before];
            let line_count = s.text.lines().count();
            if line_count == 1 && !s.text.ends_with(['.', '!', '?', '"', '\u{201D}']) {
                s.kind = StatementKind::Heading;
            }
        }
    }
    out
}

/// Byte spans of the paragraphs of `text`, trimmed of surrounding whitespace.
fn paragraphs(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            if let Some(s) = start.take() {
                spans.push((s, end));
            }
        } else {
            let lead = line.len() - line.trim_start().len();
            if start.is_none() {
                start = Some(offset + lead);
            }
            end = offset + line.trim_end().len();
        }
        offset += line.len();
    }
    if let Some(s) = start {
        spans.push((s, end));
    }
    spans
}

fn is_closing(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | ')' | ']' | '\u{201D}' | '\u{2019}' | '\u{00BB}'
    )
}

fn is_sentence_start(c: char) -> bool {
    c.is_uppercase()
        || c.is_numeric()
        || matches!(
            c,
            '"' | '\'' | '(' | '[' | '\u{201C}' | '\u{2018}' | '\u{00AB}' | '-' | '\u{2014}'
        )
        || (c.is_alphabetic() && !c.is_lowercase())
}

/// The word that ends just before byte `pos` (the stop), lower-cased.
fn word_before(text: &str, pos: usize) -> String {
    let head = &text[..pos];
    let start = head
        .rfind(|c: char| !(c.is_alphanumeric() || c == '.'))
        .map_or(0, |i| {
            i + head[i..].chars().next().map_or(1, char::len_utf8)
        });
    head[start..].to_lowercase()
}

fn split_sentences<'a>(text: &'a str, p_start: usize, p_end: usize, out: &mut Vec<Statement<'a>>) {
    let para = &text[p_start..p_end];
    let mut sent_start = p_start;
    let mut iter = para.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if !matches!(c, '.' | '!' | '?' | '\u{2026}') {
            continue;
        }
        // Take the whole run of stops and closing marks.
        let mut end = p_start + i + c.len_utf8();
        while let Some(&(j, n)) = iter.peek() {
            if matches!(n, '.' | '!' | '?' | '\u{2026}') || is_closing(n) {
                end = p_start + j + n.len_utf8();
                iter.next();
            } else {
                break;
            }
        }
        let rest = &text[end..p_end];
        let after_ws = rest.trim_start();
        if after_ws.len() == rest.len() || after_ws.is_empty() {
            continue; // no whitespace after: inside a token (3.5, U.S.A) or paragraph end
        }
        let next = after_ws.chars().next().unwrap_or(' ');
        if !is_sentence_start(next) {
            continue;
        }
        if c == '.' && end == p_start + i + 1 {
            let word = word_before(text, p_start + i);
            let single_initial = word.chars().count() == 1 && word.chars().all(char::is_alphabetic);
            if single_initial || ABBREVIATIONS.contains(&word.as_str()) {
                continue;
            }
        }
        push(text, sent_start, end, StatementKind::Sentence, out);
        sent_start = end + (rest.len() - after_ws.len());
    }
    push(text, sent_start, p_end, StatementKind::Sentence, out);
}

fn push<'a>(
    text: &'a str,
    start: usize,
    end: usize,
    kind: StatementKind,
    out: &mut Vec<Statement<'a>>,
) {
    let slice = &text[start..end];
    let trimmed = slice.trim();
    if trimmed.is_empty() {
        return;
    }
    let start = start + (slice.len() - slice.trim_start().len());
    out.push(Statement {
        kind,
        start,
        end: start + trimmed.len(),
        text: trimmed,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<&str> {
        segment(text).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn splits_sentences_and_keeps_abbreviations() {
        assert_eq!(
            texts("Mr. Smith met Dr. Jones at 5 p.m. on Monday. They talked. Did it work? Yes!"),
            [
                "Mr. Smith met Dr. Jones at 5 p.m. on Monday.",
                "They talked.",
                "Did it work?",
                "Yes!"
            ]
        );
    }

    #[test]
    fn decimals_initials_and_quotes() {
        assert_eq!(
            texts("George W. Bush spent $4.5 billion. \"It is over,\" he said. \"Why?\" She left."),
            [
                "George W. Bush spent $4.5 billion.",
                "\"It is over,\" he said.",
                "\"Why?\"",
                "She left."
            ]
        );
    }

    #[test]
    fn paragraphs_and_hard_wraps() {
        let text =
            "Headline here\n\nFirst line of a\nwrapped sentence. Second one.\r\n\r\nNew paragraph";
        let segs = segment(text);
        let got: Vec<_> = segs.iter().map(|s| (s.kind, s.text)).collect();
        assert_eq!(
            got,
            [
                (StatementKind::Heading, "Headline here"),
                (
                    StatementKind::Sentence,
                    "First line of a\nwrapped sentence."
                ),
                (StatementKind::Sentence, "Second one."),
                (StatementKind::Sentence, "New paragraph"),
            ]
        );
    }

    #[test]
    fn offsets_slice_back() {
        let text = "  Über alles. Ça va? «Oui.» \n\n Fin…  Next";
        for s in segment(text) {
            assert_eq!(&text[s.start..s.end], s.text);
            assert!(!s.text.is_empty());
        }
    }
}
