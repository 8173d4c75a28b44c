//! Splitting article text into statements.
//!
//! Paragraphs are separated by blank lines; a line break inside a paragraph is not a boundary.
//! Inside a paragraph a sentence ends at `.`, `!`, `?` or `…` (with any closing quotes and
//! brackets after it) when whitespace and a plausible sentence start follow, unless the stop
//! belongs to a known abbreviation, an initial or a number. Every statement carries byte offsets
//! into the original text, so `&text[start..end] == statement.text`.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// What part of an article a statement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StatementKind {
    /// A sentence of running text: the only kind that gets stance counts in summaries.
    Sentence,
    /// A headline or title line.
    Heading,
    /// An author line ("By Jane Doe", "Jane Doe 4 minutes ago", "(Reporting by ...)").
    Byline,
    /// A place-and-agency opening ("MOSCOW (Reuters) -"), taken off the lead sentence.
    Dateline,
    /// Timestamps, "Updated ..." lines and photo credits.
    Meta,
}

impl StatementKind {
    /// The lower-case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            StatementKind::Sentence => "sentence",
            StatementKind::Heading => "heading",
            StatementKind::Byline => "byline",
            StatementKind::Dateline => "dateline",
            StatementKind::Meta => "meta",
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
    "atty", "supt", "cmdr", "adm", "maj", "brig", "cpl", "pvt", "messrs", "mme", "ave", "blvd",
    "gen", "sens", "reps", "govs", "insp", "det", "no", "nos", "op", "pp",
];

/// Capitalised words that continue a name after `U.S.`-like abbreviations (`U.S. Marines`).
const PLACE_CONTINUATIONS: &[&str] = &[
    "Marines",
    "Forces",
    "Airways",
    "Courts",
    "Affairs",
    "Services",
    "Dollars",
    "Treasuries",
    "Masters",
    "Open",
    "Olympics",
];

/// Abbreviations that often end a sentence; after them a stop ends the sentence when the next
/// word is a typical sentence opener (for `u.s`-like ones) or any capitalised word (for the rest).
const FINAL_ABBREVIATIONS: &[&str] = &["inc", "co", "corp", "ltd", "jr", "sr", "a.m", "p.m", "etc"];
const PLACE_ABBREVIATIONS: &[&str] = &["u.s", "u.k", "u.n", "e.u"];
/// Words that open sentences far more often than they continue a name.
const OPENERS: &[&str] = &[
    "He", "She", "It", "They", "We", "I", "You", "The", "This", "That", "These", "Those", "A",
    "An", "His", "Her", "Its", "Their", "Our", "But", "And", "Yet", "So", "Or", "In", "On", "At",
    "By", "For", "After", "Before", "When", "While", "If", "As", "There", "Then", "Now",
];

/// A letter, an upper-case letter and a lower-case letter in names: of the Latin script only.
/// The patterns are for English-language news, whose names are written in it; with the classes
/// of every script (`\p{L}`, `\p{Lu}`, `\p{Ll}`) the byline pattern took 5.8 ms to compile
/// instead of 2.5, and all of this module's and the quote finder's patterns 15.5 ms instead of
/// 11, which `classify` on one short article waited for.
const LETTER: &str = r"\p{Latin}";
pub(crate) const UPPER: &str = r"[\p{Lu}&&\p{Latin}]";
const LOWER: &str = r"[\p{Ll}&&\p{Latin}]";

/// A byline: `By` and a capitalised name (not `By its nature, ...` or `By 1976 ...`) on a line
/// that does not end like a sentence (not `By Monday the trail had blistered.`); a credit line;
/// a name and how long ago; a name and a staff title.
static BYLINE: LazyLock<Regex> = LazyLock::new(|| {
    // A capitalised word of a name, and a name of one to four such words.
    let word = format!(r"{UPPER}[{LETTER}'.-]*");
    let name = format!(r"{word}(?: {word}){{0,3}}");
    Regex::new(&format!(
        concat!(
            r"^(?:(?:By|BY) {UPPER}(?:.{{0,89}}[^.!?])?",
            r"|\((?:Reporting|Writing|Additional reporting) by [^)]{{1,120}}\)",
            r"|{NAME}(?: and {NAME})? \d+ (?:minutes?|hours?|days?) ago",
            r"|{WORD}(?: {WORD}){{1,3}}, (?:Staff|Senior|Chief)? ?(?:Writer|Reporter|Correspondent|Editor))$"
        ),
        NAME = name,
        WORD = word,
        UPPER = UPPER,
    ))
    .expect("valid byline pattern")
});

static META: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:(?:Updated|Published|Last updated|Posted):? .{1,60}",
        r"|\d+ (?:minutes?|hours?|days?) ago",
        r"|(?:Photo|Image|Picture)(?: by)?: .{1,80}",
        r"|\((?:\w+ )?Photo[^)]{0,80}\)",
        r"|\S{1,80}\.(?i:jpe?g|png|gif|webp)",
        r"|Scroll down for video|>?Share this (?:story|article|page)\b.{0,40}",
        r"|(?:MORE|READ MORE|RELATED|Source|Via): \S.{0,150}",
        r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}.{0,30})$"
    ))
    .expect("valid meta pattern")
});

/// Capitalised attribution after a quote that ends in `?` or `!` (`"Why?" Ruiz asked.`).
static ATTRIBUTION_AFTER_QUOTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(concat!(
        r"^(?:{UPPER}[{LETTER}.'-]*\s*){{1,4}}(?:,[^,]{{1,60}},\s+)?",
        r"(?:asked|said|shouted|yelled|cried|screamed|wondered|demanded|exclaimed|added|says|asks|told|wrote|replied)\b"
    ),
        UPPER = UPPER,
        LETTER = LETTER,
    ))
    .expect("valid attribution pattern")
});

static DATELINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(concat!(
        r"^(?:{UPPER}{LOWER}+(?: {UPPER}{LOWER}+)? ?\((?:{UPPER}[{LETTER}.]{{1,11}}|dpa|afp)\) ?(?:--|-|\u{{2014}}|\u{{2013}}) |",
        r"{UPPER}[{UPPER} .'-]*{UPPER}\.?",
        r"(?:, [^()\n]{{1,40}}?)?",
        r"(?: ?\([^)\n]{{1,30}}\)| /[^/\n]{{1,30}}/)?",
        r" ?(?:--|-|\u{{2014}}|\u{{2013}}) )"
    ),
        UPPER = UPPER,
        LOWER = LOWER,
        LETTER = LETTER,
    ))
    .expect("valid dateline pattern")
});

/// A photo credit at the end of a caption line: `... (Picture: Facebook)`.
static CREDIT_AT_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\((?:Picture|Photo|Image|Pictures|Photos|Images|Credit): [^)]{1,80}\)$")
        .expect("valid credit pattern")
});

/// Compiles this module's patterns now rather than at first use.
pub(crate) fn compile_patterns() {
    for pattern in [
        &BYLINE,
        &META,
        &ATTRIBUTION_AFTER_QUOTE,
        &DATELINE,
        &CREDIT_AT_END,
    ] {
        LazyLock::force(pattern);
    }
}

/// Furniture lines are short; longer lines are not tried against the patterns (which keeps the
/// regex engines on their fast paths).
const FURNITURE_MAX_LEN: usize = 200;
/// A caption ending in a photo credit may be longer.
const CAPTION_MAX_LEN: usize = 400;

/// The kind of a line that is article furniture, if it is one.
fn furniture(line: &str) -> Option<StatementKind> {
    if line.len() <= CAPTION_MAX_LEN && line.ends_with(')') && CREDIT_AT_END.is_match(line) {
        return Some(StatementKind::Meta);
    }
    if line.len() > FURNITURE_MAX_LEN {
        None
    } else if BYLINE.is_match(line) {
        Some(StatementKind::Byline)
    } else if META.is_match(line) {
        Some(StatementKind::Meta)
    } else {
        None
    }
}

/// Splits `text` into statements; see the module documentation.
pub fn segment(text: &str) -> Vec<Statement<'_>> {
    Segmenter::new().push(text, 0)
}

/// A segmenter fed an article piece by piece, so a long article never has to be in memory at
/// once. Each piece must hold whole paragraphs (cut at blank lines); the segmenter remembers
/// whether the article's first sentence has been seen, which decides what counts as a heading.
#[derive(Debug, Default, Clone)]
pub struct Segmenter {
    statements_seen: bool,
    sentence_seen: bool,
}

impl Segmenter {
    /// A segmenter at the start of an article.
    pub fn new() -> Self {
        Self::default()
    }

    /// The statements of `piece`, which starts at byte `base` of the article; offsets are into
    /// the article.
    pub fn push<'a>(&mut self, piece: &'a str, base: usize) -> Vec<Statement<'a>> {
        let mut out = Vec::new();
        for (p_start, p_end) in paragraphs(piece) {
            self.paragraph(piece, p_start, p_end, &mut out);
            self.statements_seen |= !out.is_empty();
            self.sentence_seen |= out.iter().any(|s| s.kind == StatementKind::Sentence);
        }
        for s in &mut out {
            s.start += base;
            s.end += base;
        }
        out
    }

    fn paragraph<'a>(
        &self,
        text: &'a str,
        p_start: usize,
        p_end: usize,
        out: &mut Vec<Statement<'a>>,
    ) {
        let at_start = !self.sentence_seen && out.iter().all(|s| s.kind != StatementKind::Sentence);
        let first = !self.statements_seen && out.is_empty();
        let mut body_start = p_start;
        // Peel furniture lines off the top of the paragraph.
        let para = &text[p_start..p_end];
        let lines: Vec<(usize, &str)> = para
            .split_inclusive('\n')
            .scan(p_start, |pos, l| {
                let start = *pos;
                *pos += l.len();
                Some((start, l))
            })
            .collect();
        for (i, &(l_start, raw)) in lines.iter().enumerate() {
            let line = raw.trim();
            let next_is_furniture = lines
                .get(i + 1)
                .is_some_and(|(_, n)| furniture(n.trim()).is_some());
            let kind = match furniture(line) {
                Some(k) => k,
                None if at_start
                    && first
                    && i == 0
                    && (lines.len() == 1 || next_is_furniture)
                    && is_single_sentence(text, l_start, l_start + raw.trim_end().len())
                    && (next_is_furniture
                        || !line.ends_with(['.', '!', '?', '"', ')', '\u{201D}', ':'])) =>
                {
                    StatementKind::Heading
                }
                None => break,
            };
            push(text, l_start, l_start + raw.trim_end().len(), kind, out);
            body_start = l_start + raw.len();
        }
        if body_start >= p_end {
            return;
        }
        if let Some(m) = DATELINE.find(&text[body_start..p_end]) {
            let dash_end = body_start + m.as_str().trim_end().len();
            push(text, body_start, dash_end, StatementKind::Dateline, out);
            body_start += m.end();
        }
        for (b_start, b_end) in list_blocks(text, body_start, p_end) {
            split_sentences(text, b_start, b_end, out);
        }
    }
}

/// Length in bytes of the list marker (`1.`, `2)`, `(a)`, `-`, `*`, `•`, ...) and the space
/// after it at the start of `line`, if the line starts with one.
fn list_marker(line: &str) -> Option<usize> {
    let mut chars = line.char_indices();
    let (_, first) = chars.next()?;
    let marker_end = if matches!(
        first,
        '-' | '*' | '\u{2022}' | '\u{2013}' | '\u{2014}' | '\u{00B7}' | '\u{25AA}'
    ) {
        first.len_utf8()
    } else {
        let body = line.strip_prefix('(').unwrap_or(line);
        let open = line.len() - body.len();
        let n = body
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let token = &body[..n];
        let numeric = token.bytes().all(|b| b.is_ascii_digit());
        let letter = token.len() == 1 && token.bytes().all(|b| b.is_ascii_lowercase());
        if n == 0 || n > 3 || !(numeric || letter) {
            return None;
        }
        match body[n..].chars().next()? {
            ')' => open + n + 1,
            '.' if numeric && open == 0 => n + 1,
            _ => return None,
        }
    };
    let rest = &line[marker_end..];
    let after = rest.trim_start_matches([' ', '\t']);
    (after.len() < rest.len() && !after.is_empty()).then_some(line.len() - after.len())
}

/// Splits a paragraph body at the starts of list items: a line starting with a list marker
/// after a line ending in `:`, or next to another such line.
fn list_blocks(text: &str, start: usize, end: usize) -> Vec<(usize, usize)> {
    let lines: Vec<(usize, &str)> = text[start..end]
        .split_inclusive('\n')
        .scan(start, |pos, l| {
            let s = *pos;
            *pos += l.len();
            Some((s, l.trim()))
        })
        .collect();
    if lines.len() < 2 {
        return vec![(start, end)];
    }
    let marked: Vec<bool> = lines
        .iter()
        .map(|(_, l)| list_marker(l).is_some())
        .collect();
    let mut blocks = Vec::new();
    let mut block_start = start;
    for i in 1..lines.len() {
        let item = marked[i]
            && (lines[i - 1].1.ends_with(':') || marked[i - 1] || marked.get(i + 1) == Some(&true));
        if item {
            blocks.push((block_start, lines[i].0));
            block_start = lines[i].0;
        }
    }
    blocks.push((block_start, end));
    blocks
}

/// Whether `text[start..end]` holds one sentence.
fn is_single_sentence(text: &str, start: usize, end: usize) -> bool {
    let mut probe = Vec::new();
    split_sentences(text, start, end, &mut probe);
    probe.len() == 1
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

/// Whether `word` starts a sentence although it begins in lower case (`iPhone`, `eBay`).
fn is_camel_brand(word: &str) -> bool {
    let mut chars = word.chars();
    matches!((chars.next(), chars.next()), (Some(a), Some(b)) if a.is_lowercase() && b.is_uppercase())
        || word.chars().take(3).all(char::is_lowercase)
            && word.chars().nth(3).is_some_and(char::is_uppercase)
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
        if !is_sentence_start(next) && !is_camel_brand(after_ws) {
            continue;
        }
        let run = &text[p_start + i..end];
        let ellipsis = run.starts_with("..") || run.starts_with('\u{2026}');
        if ellipsis && !run.ends_with(is_closing) && inside_quote(&text[sent_start..p_start + i]) {
            continue;
        }
        if run.contains(['?', '!'])
            && run.ends_with(['"', '\u{201D}'])
            && ATTRIBUTION_AFTER_QUOTE.is_match(after_ws)
        {
            continue;
        }
        if c == '.' && end == p_start + i + 1 {
            let word = word_before(text, p_start + i);
            let next_word: &str = after_ws
                .split(|c: char| !c.is_alphanumeric())
                .next()
                .unwrap_or("");
            let opener = OPENERS.contains(&next_word);
            let shouting = next_word.len() <= 4 && next_word.chars().all(|c| c.is_uppercase());
            let ends_here =
                (FINAL_ABBREVIATIONS.contains(&word.as_str()) && !shouting && next.is_uppercase())
                    || (PLACE_ABBREVIATIONS.contains(&word.as_str())
                        && (opener
                            || (next_word.len() > 4
                                && next_word.ends_with('s')
                                && next_word.chars().skip(1).all(char::is_lowercase)
                                && !PLACE_CONTINUATIONS.contains(&next_word))));
            let single_initial = word.chars().count() == 1 && word.chars().all(char::is_alphabetic)
                || is_initials(&word) && !PLACE_ABBREVIATIONS.contains(&word.as_str());
            let list_number = !word.is_empty()
                && word.len() <= 3
                && word.bytes().all(|b| b.is_ascii_digit())
                && text[sent_start..p_start + i].trim() == word;
            if list_number {
                continue;
            }
            if !ends_here && (single_initial || ABBREVIATIONS.contains(&word.as_str())) {
                continue;
            }
        }
        push(text, sent_start, end, StatementKind::Sentence, out);
        sent_start = end + (rest.len() - after_ws.len());
    }
    push(text, sent_start, p_end, StatementKind::Sentence, out);
}

/// Whether `s` leaves a quotation open.
fn inside_quote(s: &str) -> bool {
    let straight = s.matches('"').count();
    let open = s.matches('\u{201C}').count();
    let close = s.matches('\u{201D}').count();
    straight % 2 == 1 || open > close
}

/// Whether `word` (lower-cased, without its final stop) is initials like `r.t` or `j.r.r`.
fn is_initials(word: &str) -> bool {
    let parts: Vec<&str> = word.split('.').collect();
    parts.len() >= 2
        && parts
            .iter()
            .all(|p| p.chars().count() == 1 && p.chars().all(char::is_alphabetic))
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
    fn sentences_opening_with_by_are_not_bylines() {
        for sentence in [
            "By its nature, all punishment is retributive.",
            "By 1976 uranium mining had become a major political issue.",
            "By the way, where is the president right now?",
            "By Monday morning the trail had started to blister.",
        ] {
            let got = segment(sentence);
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].kind, StatementKind::Sentence, "{sentence}");
        }
        for byline in [
            "By Sylvia Westall",
            "BY STAFF",
            "By J. R. Okafor, Reuters",
            "By Ölz",
        ] {
            assert_eq!(segment(byline)[0].kind, StatementKind::Byline, "{byline}");
        }
    }

    #[test]
    fn names_in_furniture_may_have_any_latin_letters() {
        let kinds = |text| {
            segment(text)
                .into_iter()
                .map(|s| (s.kind, s.text))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            kinds("José Álvarez Núñez, Staff Writer\n\nSÃO PAULO (Reuters) - Prices rose."),
            [
                (StatementKind::Byline, "José Álvarez Núñez, Staff Writer"),
                (StatementKind::Dateline, "SÃO PAULO (Reuters) -"),
                (StatementKind::Sentence, "Prices rose."),
            ]
        );
        assert_eq!(
            kinds("Łukasz Żak 3 hours ago\n\nKraków (dpa) \u{2013} Es regnet."),
            [
                (StatementKind::Byline, "Łukasz Żak 3 hours ago"),
                (StatementKind::Dateline, "Kraków (dpa) \u{2013}"),
                (StatementKind::Sentence, "Es regnet."),
            ]
        );
        // Names in other scripts are not looked for (the patterns are for English-language news).
        assert_eq!(
            kinds("Prices rose.\n\nМОСКВА (Reuters) - Prices fell.")[1].0,
            StatementKind::Sentence
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
