//! A list of terms kept end to end in one string.
//!
//! A model's vocabulary holds from tens of thousands to about a million short terms. Kept as one
//! `String` per term, loading a model allocated (and exiting freed) each of them; kept end to end,
//! it is one string read in one piece. Terms never contain a line feed (tokens are runs of
//! letters, digits and joiners; bigrams join two with a space), so the stored form is the terms,
//! each followed by `\n`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The separator written after each term.
const END: char = '\n';

/// An ordered list of terms; see the module documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TermList {
    /// Every term followed by [`END`].
    text: String,
    /// Byte offset of the end of each term in `text` (where its `END` stands).
    ends: Vec<usize>,
}

impl TermList {
    /// Number of terms.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the list has no terms.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Term `i` (panics if `i` is out of range, as slice indexing does).
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] + 1 };
        &self.text[start..self.ends[i]]
    }

    /// The terms in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Keeps the first `n` terms.
    pub fn truncate(&mut self, n: usize) {
        if n < self.len() {
            let cut = if n == 0 { 0 } else { self.ends[n - 1] + 1 };
            self.text.truncate(cut);
            self.ends.truncate(n);
        }
    }

    /// Appends a term. A term holding a line feed would read back as two, so it panics (the
    /// tokenizer never makes one).
    pub fn push(&mut self, term: &str) {
        assert!(!term.contains(END), "a term with a line feed: {term:?}");
        self.text.push_str(term);
        self.ends.push(self.text.len());
        self.text.push(END);
    }

    /// The list stored in `text` (terms each followed by [`END`]); `None` if `text` does not end
    /// with one.
    fn from_text(text: String) -> Option<TermList> {
        if !text.is_empty() && !text.ends_with(END) {
            return None;
        }
        // A byte scan: terms are short, so a search per term costs more than it saves.
        let ends = text
            .bytes()
            .enumerate()
            .filter_map(|(i, b)| (b == END as u8).then_some(i))
            .collect();
        Some(TermList { text, ends })
    }
}

impl<'a> FromIterator<&'a str> for TermList {
    fn from_iter<I: IntoIterator<Item = &'a str>>(terms: I) -> Self {
        let mut list = TermList::default();
        for term in terms {
            list.push(term);
        }
        list
    }
}

impl Serialize for TermList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for TermList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TermList::from_text(text)
            .ok_or_else(|| serde::de::Error::custom("a term list that does not end a term"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_read_back_in_order_and_survive_a_round_trip() {
        let list: TermList = ["the", "the vote", "", "vötè"].into_iter().collect();
        assert_eq!(list.len(), 4);
        assert_eq!(
            list.iter().collect::<Vec<_>>(),
            ["the", "the vote", "", "vötè"]
        );
        let bytes = postcard::to_stdvec(&list).unwrap();
        let back: TermList = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, list);
        let mut cut = list.clone();
        cut.truncate(2);
        assert_eq!(cut.iter().collect::<Vec<_>>(), ["the", "the vote"]);
        cut.truncate(0);
        assert!(cut.is_empty());
        assert_eq!(cut, TermList::default());
    }

    #[test]
    fn stored_text_without_a_final_separator_is_refused() {
        let bytes = postcard::to_stdvec("the\nvote").unwrap();
        assert!(postcard::from_bytes::<TermList>(&bytes).is_err());
        let empty = postcard::to_stdvec("").unwrap();
        assert!(postcard::from_bytes::<TermList>(&empty).unwrap().is_empty());
    }
}
