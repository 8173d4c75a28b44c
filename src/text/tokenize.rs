//! Word tokenizer and term analyzer.
//!
//! The tokenizer is Unicode-aware: a token is a run of alphanumeric characters (any script), joined
//! across a single hyphen, apostrophe or full stop that stands between two alphanumerics, so that
//! `al-Qaeda`, `don't` and `3.5` stay one word. An acronym written with full stops keeps its final
//! stop (`U.S.` becomes `u.s.`), everything else drops trailing punctuation. Tokens are lower-cased
//! and the typographic apostrophe is folded into `'`.
//!
//! The [`Analyzer`] then stems each token with the English Snowball stemmer of `rust-stemmers`.

use std::cell::RefCell;

use rust_stemmers::{Algorithm, Stemmer};
use rustc_hash::FxHashMap;

use super::term_hash::hash_term;

/// Iterator over the lower-cased word tokens of a text, with their byte offsets.
pub struct Tokens<'a> {
    text: &'a str,
    pos: usize,
}

/// Tokenizes `text`; see the module documentation for the rules.
pub fn tokenize(text: &str) -> Tokens<'_> {
    Tokens { text, pos: 0 }
}

fn is_joiner(c: char) -> bool {
    matches!(c, '-' | '\'' | '\u{2019}' | '.' | '\u{2010}' | '\u{2011}')
}

/// Token characters: letters, digits and combining marks (so decomposed accents stay inside words).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

impl<'a> Tokens<'a> {
    /// Returns the byte span of the next token, if any.
    pub fn next_span(&mut self) -> Option<(usize, usize)> {
        let rest = &self.text[self.pos..];
        let start_rel = rest.find(is_word_char)?;
        let start = self.pos + start_rel;
        let mut end = start;
        let mut has_stop = false;
        let mut chars = self.text[start..].char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if is_word_char(c) {
                end = start + i + c.len_utf8();
            } else if is_joiner(c) && matches!(chars.peek(), Some((_, n)) if is_word_char(*n)) {
                has_stop |= c == '.';
            } else {
                break;
            }
        }
        // Keep the final stop of an acronym such as `U.S.` or `e.g.`: every part is one letter.
        if has_stop && self.text[end..].starts_with('.') {
            let word = &self.text[start..end];
            if word
                .split('.')
                .all(|p| p.chars().count() == 1 && p.chars().all(char::is_alphabetic))
            {
                end += 1;
            }
        }
        self.pos = end;
        Some((start, end))
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        let (start, end) = self.next_span()?;
        Some(normalize(&self.text[start..end]))
    }
}

/// The byte spans of the tokens of `text`, in order.
pub fn spans(text: &str) -> Vec<(usize, usize)> {
    let mut tokens = tokenize(text);
    std::iter::from_fn(|| tokens.next_span()).collect()
}

/// Lower-cases a token and folds typographic apostrophes and hyphens into ASCII.
pub fn normalize(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    normalize_into(token, &mut out);
    out
}

/// [`normalize`] into a reused buffer (cleared first).
pub fn normalize_into(token: &str, out: &mut String) {
    out.clear();
    if token.is_ascii() {
        out.push_str(token);
        out.make_ascii_lowercase();
        return;
    }
    out.extend(token.chars().flat_map(char::to_lowercase).map(|c| match c {
        '\u{2019}' => '\'',
        '\u{2010}' | '\u{2011}' => '-',
        c => c,
    }));
}

/// Turns text into stemmed word tokens (English Snowball).
pub struct Analyzer {
    stemmer: Stemmer,
    /// Stems (and their term hashes) of words seen before: news text repeats its words, and
    /// stemming is the costliest step of featurizing.
    cache: RefCell<FxHashMap<String, (String, u64)>>,
}

/// One token of a text, as [`Analyzer::for_each_token`] hands it over.
#[derive(Debug, Clone, Copy)]
pub struct Token<'a> {
    /// Byte span of the token in the text.
    pub span: (usize, usize),
    /// The token, normalized (see [`normalize`]).
    pub word: &'a str,
    /// Its stem.
    pub stem: &'a str,
    /// [`hash_term`] of the stem.
    pub stem_hash: u64,
}

/// Most distinct words an analyzer remembers before it starts afresh (bounds memory when a
/// long stream of text goes through one analyzer).
const STEM_CACHE_LIMIT: usize = 200_000;

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer {
            stemmer: Stemmer::create(Algorithm::English),
            cache: RefCell::new(FxHashMap::default()),
        }
    }
}

impl Analyzer {
    /// The stem of one token.
    pub fn stem(&self, token: &str) -> String {
        let mut stem = String::new();
        self.for_each_stem_of(token, |s, _| stem.push_str(s));
        stem
    }

    fn for_each_stem_of(&self, token: &str, f: impl FnOnce(&str, u64)) {
        let mut cache = self.cache.borrow_mut();
        if let Some((stem, hash)) = cache.get(token) {
            return f(stem, *hash);
        }
        if cache.len() >= STEM_CACHE_LIMIT {
            cache.clear();
        }
        let stem = self.stemmer.stem(token).into_owned();
        let hash = hash_term(&stem);
        f(&stem, hash);
        cache.insert(token.to_string(), (stem, hash));
    }

    /// Calls `f` on each token of `text`, in order, with its normalized form and stem. `f` must
    /// not use this analyzer (its stem cache is borrowed meanwhile).
    pub fn for_each_token(&self, text: &str, mut f: impl FnMut(Token<'_>)) {
        let mut tokens = tokenize(text);
        let mut word = String::new();
        while let Some(span) = tokens.next_span() {
            normalize_into(&text[span.0..span.1], &mut word);
            self.for_each_stem_of(&word, |stem, stem_hash| {
                f(Token {
                    span,
                    word: &word,
                    stem,
                    stem_hash,
                })
            });
        }
    }

    /// The stemmed tokens of `text`, in order.
    pub fn stems(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_token(text, |t| out.push(t.stem.to_string()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<String> {
        tokenize(text).collect()
    }

    #[test]
    fn keeps_hyphenated_contracted_and_dotted_words() {
        assert_eq!(
            toks("Al-Qaeda didn't attack the U.S. embassy."),
            ["al-qaeda", "didn't", "attack", "the", "u.s.", "embassy"]
        );
    }

    #[test]
    fn folds_typographic_apostrophe_and_case() {
        assert_eq!(toks("DON\u{2019}T Stop"), ["don't", "stop"]);
    }

    #[test]
    fn decimals_stay_whole_and_sentence_stops_go() {
        assert_eq!(
            toks("Growth was 3.5%. Then $4.5bn."),
            ["growth", "was", "3.5", "then", "4.5bn"]
        );
    }

    #[test]
    fn punctuation_and_dangling_joiners_split() {
        assert_eq!(
            toks("well -- no - 'quoted' end-"),
            ["well", "no", "quoted", "end"]
        );
        assert_eq!(toks("a.b.c. x"), ["a.b.c.", "x"]);
        assert!(toks(" ... !? ").is_empty());
    }

    #[test]
    fn unicode_scripts_are_words() {
        assert_eq!(
            toks("Zürich, Μόσχα и Киев 東京"),
            ["zürich", "μόσχα", "и", "киев", "東京"]
        );
        // A decomposed accent stays inside its word.
        assert_eq!(toks("Cafe\u{301} noir"), ["cafe\u{301}", "noir"]);
    }

    #[test]
    fn spans_slice_back_to_the_source() {
        let text = "Mr. O\u{2019}Neil’s U.S.-based firm";
        let mut tokens = tokenize(text);
        let mut spans = Vec::new();
        while let Some(span) = tokens.next_span() {
            spans.push(&text[span.0..span.1]);
        }
        assert_eq!(spans, ["Mr", "O\u{2019}Neil’s", "U.S.", "based", "firm"]);
    }

    #[test]
    fn analyzer_stems_english() {
        let analyzer = Analyzer::default();
        assert_eq!(
            analyzer.stems("Protesters were protesting"),
            ["protest", "were", "protest"]
        );
    }
}
