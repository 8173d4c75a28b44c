//! Quotations and who said them.
//!
//! A statement is *quoted* when most of its letters lie inside quotation marks (straight `"` or
//! curly `“ ”`). A quote may run over several sentences, and, by the news convention, over several
//! paragraphs that each reopen it with a mark while only the last one closes it. The *speaker* of
//! a quoted statement is the attribution found in the unquoted words of its own sentence or of
//! another sentence of the same quote: `X said`, `said X`, `X told reporters`, `according to X`,
//! with X as written. A pronoun (`he said`) attributes the quote but names nobody, so it gives no
//! speaker. An unquoted sentence gets a speaker only from `according to X`.

use std::sync::LazyLock;

use regex::Regex;

use super::segment::{Statement, UPPER};

/// Whether a statement is quoted, and who it is attributed to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    /// Most of the statement lies inside quotation marks.
    pub quoted: bool,
    /// The person or body it is attributed to, as written.
    pub speaker: Option<String>,
}

const VERBS: &str = "confessed|responded|recounted|revealed|suggested|predicted|complained|joked|boasted|pointed out|points out|shouted|yelled|cried|screamed|exclaimed|pleaded|urged|said|says|added|adds|asked|asks|told|tells|wrote|writes|warned|argued|insisted|explained|noted|stated|declared|replied|continued|tweeted|claimed|stressed|admitted|acknowledged|recalled|conceded|cautioned|countered|remarked|announced|posted";

/// `said Finance Minister Lena Okafor` at the start of an unquoted span.
static SAID_X: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^[\s,:;\u{{2014}}\u{{2013}}-]*(?:{VERBS})\s+({UPPER}[^,;:!?()]{{0,80}}|(?:a|an|the)\s[^,;:!?()]{{1,80}})"
    ))
    .expect("valid pattern")
});

/// `Finance Minister Lena Okafor said` / `a spokesman told Reuters`.
static X_SAID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:^|[,;:\u{{2014}}\u{{2013}}]\s*|\s(?:and|but)\s)([^,;:]{{1,100}}?)\s+(?:(?:has|had|have|also|later|then|once)\s+)?(?:{VERBS})\b"
    ))
    .expect("valid pattern")
});

/// `Petra Lindahl, who chairs the inquiry, said` / `Sy, the harbour master, told`.
static X_APPOSITIVE_SAID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^[\s,:;\u{{2014}}\u{{2013}}-]*({UPPER}[^,;:]{{0,60}}),[^,;:]{{1,90}},\s+(?:(?:has|had|have|also|later|then|once)\s+)?(?:{VERBS})\b"
    ))
    .expect("valid pattern")
});

/// `according to the ministry`.
static ACCORDING_TO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i:according to)\s+([^,.;:!?()]{1,80})").expect("valid pattern")
});

/// Words after a speaker's name that are not part of it (`said Okafor on Monday`).
static TRAILER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\s+(?:(?:in|on|at|during|after|before|when|while|as|who|from|to|last|this|earlier|later|late|told|via|yesterday|today|tonight)\b|\d).*$")
        .expect("valid pattern")
});

/// Compiles this module's patterns now rather than at first use.
pub(crate) fn compile_patterns() {
    for pattern in [
        &SAID_X,
        &X_SAID,
        &X_APPOSITIVE_SAID,
        &ACCORDING_TO,
        &TRAILER,
    ] {
        LazyLock::force(pattern);
    }
}

const PRONOUNS: &[&str] = &["he", "she", "they", "it", "we", "i", "you", "one"];

/// Attributions of `statements`, which were cut from `text`; `base` is the article offset of
/// `text[0]` (statement offsets are article offsets).
pub fn attribute(text: &str, base: usize, statements: &[Statement<'_>]) -> Vec<Attribution> {
    let regions = quote_regions(text);
    let local = |s: &Statement| (s.start - base, s.end - base);
    // Which region each statement is mostly in, and the attribution each statement gives.
    let mut region_of = Vec::with_capacity(statements.len());
    let mut own = Vec::with_capacity(statements.len());
    for s in statements {
        let (start, end) = local(s);
        let (inside, total, region) = quoted_share(text, start, end, &regions);
        let quoted = total > 0
            && (inside * 2 >= total
                || region.is_some_and(|r| carries_sentence(text, start, end, regions[r])));
        region_of.push(if quoted { region } else { None });
        let spans = unquoted_spans(start, end, &regions);
        own.push(find_attribution(text, &spans, quoted));
    }
    let mut region_speaker: Vec<Option<Option<String>>> = vec![None; regions.len()];
    for (i, a) in own.iter().enumerate() {
        if let (Some(r), Some(found)) = (region_of[i], a) {
            region_speaker[r].get_or_insert_with(|| found.clone());
        }
    }
    // A quote with no attribution of its own continues the quote just before it.
    let mut previous: Option<Option<String>> = None;
    let mut out = Vec::with_capacity(statements.len());
    for (i, s) in statements.iter().enumerate() {
        let a = match region_of[i] {
            Some(r) => {
                let speaker = own[i]
                    .clone()
                    .or_else(|| region_speaker[r].clone())
                    .or_else(|| previous.clone())
                    .flatten();
                previous = Some(speaker.clone());
                Attribution {
                    quoted: true,
                    speaker,
                }
            }
            None => {
                previous = None;
                Attribution {
                    quoted: false,
                    speaker: according_to(text, local(s), &regions),
                }
            }
        };
        out.push(a);
    }
    out
}

/// Byte spans `[open, close)` of the quotations in `text`.
fn quote_regions(text: &str) -> Vec<(usize, usize)> {
    let mut regions = Vec::new();
    // Where the open quotation starts, and whether it opened with a single curly mark.
    let mut open: Option<(usize, bool)> = None;
    let mut prev = ' ';
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map_or(' ', |&(_, n)| n);
        match (c, open) {
            ('\u{201C}' | '"', None) => open = Some((i, false)),
            ('\u{201D}' | '"', Some((o, false))) => {
                regions.push((o, i + c.len_utf8()));
                open = None;
            }
            // A single curly quote opens after a space or bracket (not inside a word, as in
            // the apostrophe of ’90s) and closes before a non-letter (not in don’t).
            ('\u{2018}', None) if !prev.is_alphanumeric() => open = Some((i, true)),
            ('\u{2019}', Some((o, true))) if !next.is_alphanumeric() => {
                regions.push((o, i + c.len_utf8()));
                open = None;
            }
            ('\n', Some((o, single))) => {
                // At a paragraph break an open quote goes on only if the next paragraph reopens it.
                let rest = &text[i + 1..];
                let next_line_blank = rest.split('\n').next().is_some_and(|l| l.trim().is_empty());
                if next_line_blank {
                    let after = rest.trim_start();
                    let reopens = if single {
                        after.starts_with('\u{2018}')
                    } else {
                        after.starts_with(['\u{201C}', '"'])
                    };
                    if !reopens {
                        let end = text[..i].trim_end().len();
                        regions.push((o, end.max(o)));
                        open = None;
                    } else {
                        // Skip to the reopening mark so it is not taken as a close.
                        let mark = i + 1 + (rest.len() - after.len());
                        while chars.peek().is_some_and(|&(j, _)| j <= mark) {
                            chars.next();
                        }
                    }
                }
            }
            _ => {}
        }
        prev = c;
    }
    if let Some((o, _)) = open {
        regions.push((o, text.trim_end().len().max(o)));
    }
    regions
}

/// Letters of `text[start..end]` inside quotations, all its letters, and the region holding most
/// of them.
fn quoted_share(
    text: &str,
    start: usize,
    end: usize,
    regions: &[(usize, usize)],
) -> (usize, usize, Option<usize>) {
    let total = letters(&text[start..end]);
    let mut best: Option<(usize, usize)> = None;
    let mut inside = 0;
    let first = regions.partition_point(|&(_, e)| e <= start);
    for (r, &(rs, re)) in regions.iter().enumerate().skip(first) {
        if rs >= end {
            break;
        }
        let (a, b) = (rs.max(start), re.min(end));
        let n = letters(&text[a..b]);
        inside += n;
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((r, n));
        }
    }
    (inside, total, best.map(|(r, _)| r))
}

fn letters(s: &str) -> usize {
    s.chars().filter(|c| c.is_alphanumeric()).count()
}

/// Whether quotation `region` carries the sentence `[start, end)` rather than a phrase inside
/// it: it opens the sentence (or began before it), or follows `:` or `,` and holds a clause of
/// at least three words.
fn carries_sentence(text: &str, start: usize, end: usize, (rs, re): (usize, usize)) -> bool {
    if rs <= start {
        return true;
    }
    let before = text[start..rs].trim_end();
    let words = text[rs..re.min(end)].split_whitespace().count();
    words >= 3 && before.ends_with([':', ','])
}

/// Spans of `[start, end)` outside quotations.
fn unquoted_spans(start: usize, end: usize, regions: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut pos = start;
    let first = regions.partition_point(|&(_, e)| e <= start);
    for &(rs, re) in &regions[first..] {
        if rs >= end {
            break;
        }
        if rs > pos {
            spans.push((pos, rs));
        }
        pos = re.max(pos);
    }
    if pos < end {
        spans.push((pos, end));
    }
    spans
}

/// The attribution in the unquoted spans of one sentence: `Some(Some(name))`, `Some(None)` for
/// a pronoun, `None` when there is none. Only quoted sentences are searched for `X said`.
fn find_attribution(text: &str, spans: &[(usize, usize)], quoted: bool) -> Option<Option<String>> {
    if !quoted {
        return None;
    }
    for &(a, b) in spans {
        let span = &text[a..b];
        for pattern in [&*SAID_X, &*X_APPOSITIVE_SAID, &*X_SAID, &*ACCORDING_TO] {
            if let Some(c) = pattern.captures(span) {
                match clean_name(&c[1], std::ptr::eq(pattern, &*ACCORDING_TO)) {
                    Name::Named(n) => return Some(Some(n)),
                    Name::Pronoun => return Some(None),
                    Name::Clause => {}
                }
            }
        }
    }
    None
}

/// `according to X` in an unquoted sentence.
fn according_to(
    text: &str,
    (start, end): (usize, usize),
    regions: &[(usize, usize)],
) -> Option<String> {
    unquoted_spans(start, end, regions)
        .into_iter()
        .find_map(|(a, b)| {
            ACCORDING_TO
                .captures(&text[a..b])
                .and_then(|c| match clean_name(&c[1], true) {
                    Name::Named(n) => Some(n),
                    _ => None,
                })
        })
}

/// What an attribution phrase names.
enum Name {
    Named(String),
    Pronoun,
    Clause,
}

/// A speaker phrase trimmed of what follows the name. Names start with a capital or an article
/// (`a spokesman for ...`); after `according to` any noun phrase goes (`according to police`).
fn clean_name(raw: &str, any_phrase: bool) -> Name {
    let name =
        raw.trim_matches(|c: char| c.is_whitespace() || ",.;:\"'\u{201C}\u{201D}".contains(c));
    let name = TRAILER.replace(name, "");
    let mut name = name.trim();
    if name.starts_with(char::is_uppercase) {
        if let Some(i) = name.find(" of ") {
            name = &name[..i];
        }
    }
    let name = name.trim_end_matches(['.', ',']);
    let words = name.split_whitespace().count();
    if PRONOUNS.contains(&name.to_lowercase().as_str()) {
        return Name::Pronoun;
    }
    if words == 0 || words > 9 {
        return Name::Clause;
    }
    let lead = name.split_whitespace().next().unwrap_or("").to_lowercase();
    // `spokeswoman Lisa McComb`: a lower-case title before a capitalised name.
    let titled_name = words <= 5
        && name
            .split_whitespace()
            .skip(1)
            .any(|w| w.starts_with(char::is_uppercase));
    if any_phrase
        || titled_name
        || name.starts_with(char::is_uppercase)
        || matches!(lead.as_str(), "a" | "an" | "the" | "one")
    {
        Name::Named(name.to_string())
    } else {
        Name::Clause
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::segment;

    fn run(text: &str) -> Vec<(bool, Option<String>)> {
        let statements = segment(text);
        attribute(text, 0, &statements)
            .into_iter()
            .map(|a| (a.quoted, a.speaker))
            .collect()
    }

    fn named(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn trailing_and_leading_attribution() {
        assert_eq!(
            run(
                "\"We will not back down,\" Finance Minister Lena Okafor said. The vote is Friday."
            ),
            [(true, named("Finance Minister Lena Okafor")), (false, None)]
        );
        assert_eq!(
            run("\u{201C}It is over,\u{201D} said Tom Reyes, the union leader."),
            [(true, named("Tom Reyes"))]
        );
        assert_eq!(
            run("Okafor told reporters: \"The plan is dead.\""),
            [(true, named("Okafor"))]
        );
    }

    #[test]
    fn multi_sentence_quote_shares_its_speaker() {
        assert_eq!(
            run("\"We tried. We failed. We will try again,\" Mayor Ana Ruiz said."),
            [
                (true, named("Mayor Ana Ruiz")),
                (true, named("Mayor Ana Ruiz")),
                (true, named("Mayor Ana Ruiz"))
            ]
        );
    }

    #[test]
    fn single_curly_quotes_titles_and_trailers() {
        assert_eq!(
            run("\u{2018}We don\u{2019}t know yet,\u{2019} spokeswoman Lisa McComb said."),
            [(true, named("spokeswoman Lisa McComb"))]
        );
        assert_eq!(
            run("It happened twice, according to three people familiar with the incident."),
            [(false, named("three people familiar with the incident"))]
        );
    }

    #[test]
    fn pronouns_scare_quotes_and_according_to() {
        assert_eq!(run("\"No,\" he said."), [(true, None)]);
        assert_eq!(
            run("He called the plan \"reckless\" in a statement."),
            [(false, None)]
        );
        assert_eq!(
            run("Prices rose 4%, according to the statistics office."),
            [(false, named("the statistics office"))]
        );
    }

    #[test]
    fn quote_across_paragraphs() {
        let text = "\u{201C}First part of it.\n\n\u{201C}Second part,\u{201D} Ruiz said.\n\nAfter.";
        assert_eq!(
            run(text),
            [(true, named("Ruiz")), (true, named("Ruiz")), (false, None)]
        );
    }
}
