//! TF-IDF features: stemmed word unigrams and bigrams, sublinear term frequency, smoothed inverse
//! document frequency and L2-normalised rows, as a sparse matrix.
//!
//! The weight of term `t` in a text is `(1 + ln tf) * idf(t)` with
//! `idf(t) = ln((1 + n) / (1 + df(t))) + 1` over the `n` training texts, and each row is scaled to
//! unit Euclidean length (the same definitions as scikit-learn's `TfidfVectorizer` with
//! `sublinear_tf=True`). The vocabulary is the terms seen in at least `min_df` training texts
//! (the [`MAX_COMMON_TERMS`] most frequent of them at most), in the order of their 64-bit hashes,
//! so that the same data always gives the same columns. For the topic head's naive Bayes
//! scores the rarer terms can be kept too, as columns after those ([`Featurizer::n_common`]);
//! rows are then scaled to unit length over the common columns, so that the common part of a row
//! is the same whether or not rare terms are kept.

use std::collections::HashMap;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::memory::release_freed_memory;
use crate::sparse::CsrMatrix;
use crate::term_list::TermList;
use crate::text::tokenize;
use crate::text::{hash_term, Analyzer, TermHash};

/// Options of the featurizer, fixed at training time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureOptions {
    /// A term is kept if it occurs in at least this many training texts.
    pub min_df: u32,
    /// Also count words in the scope of a negation (after not, no, never, n't, ... up to the
    /// next punctuation) as negated terms, `!stem`.
    pub negation: bool,
    /// Add character 3- to 5-grams of each word (with `<` and `>` marking its ends).
    pub char_ngrams: bool,
}

impl Default for FeatureOptions {
    fn default() -> Self {
        FeatureOptions {
            min_df: 2,
            negation: false,
            char_ngrams: false,
        }
    }
}

/// Words that open a negation scope.
const NEGATORS: &[&str] = &[
    "not", "no", "never", "nor", "none", "nobody", "nothing", "neither", "nowhere", "cannot",
    "without",
];

fn is_negator(token: &str) -> bool {
    NEGATORS.contains(&token) || token.ends_with("n't")
}

/// The fitted vocabulary and idf weights; turns texts into TF-IDF rows.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "FeaturizerData")]
pub struct Featurizer {
    options: FeatureOptions,
    /// The terms: the `n_common` common terms (seen in at least `min_df` training texts, at
    /// most [`MAX_COMMON_TERMS`]), then (if kept) the others, each part in the order of the
    /// terms' hashes.
    vocabulary: TermList,
    n_common: usize,
    idf: Vec<f64>,
    /// Column of each vocabulary term, by [`hash_term`] of the term. Built on load (from the
    /// hashes the model file stores), and otherwise when first needed: a featurizer just fitted
    /// has no use for it while the model trains and is saved (20 Newsgroups: 36 MB for 912k
    /// terms).
    index: OnceLock<FxHashMap<u64, u32>>,
}

/// The stored part of a [`Featurizer`]. Written through [`FeaturizerDataRef`], which must keep
/// the same fields in the same order.
#[derive(Deserialize)]
struct FeaturizerData {
    options: FeatureOptions,
    vocabulary: TermList,
    n_common: usize,
    #[serde(with = "crate::packed")]
    idf: Vec<f64>,
    /// [`hash_term`] of each vocabulary term, in order: the term index is built from them on
    /// load instead of hashing every term again (UKP's 164k terms: 4 of the 15 ms a load took).
    #[serde(with = "crate::packed")]
    hashes: Vec<u64>,
}

impl TryFrom<FeaturizerData> for Featurizer {
    type Error = &'static str;

    fn try_from(data: FeaturizerData) -> std::result::Result<Self, Self::Error> {
        if data.hashes.len() != data.vocabulary.len() {
            return Err("term hashes that do not match the vocabulary");
        }
        Ok(Featurizer {
            options: data.options,
            vocabulary: data.vocabulary,
            n_common: data.n_common,
            idf: data.idf,
            index: OnceLock::from(index_of(data.hashes)),
        })
    }
}

/// The term index of a vocabulary whose terms have these hashes, in column order.
fn index_of(hashes: impl IntoIterator<Item = u64>) -> FxHashMap<u64, u32> {
    hashes
        .into_iter()
        .enumerate()
        .map(|(column, hash)| (hash, column as u32))
        .collect()
}

/// [`FeaturizerData`] borrowed from a [`Featurizer`]: the same fields, so the same bytes, without
/// copying the vocabulary to write a model.
#[derive(Serialize)]
struct FeaturizerDataRef<'a> {
    options: &'a FeatureOptions,
    vocabulary: &'a TermList,
    n_common: usize,
    #[serde(serialize_with = "crate::packed::serialize")]
    idf: &'a [f64],
    #[serde(serialize_with = "crate::packed::serialize")]
    hashes: Vec<u64>,
}

impl Serialize for Featurizer {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        FeaturizerDataRef {
            options: &self.options,
            vocabulary: &self.vocabulary,
            n_common: self.n_common,
            idf: &self.idf,
            hashes: self.term_hashes(),
        }
        .serialize(serializer)
    }
}

/// One term of a text as [`visit_terms`] finds it; [`TermRef::write_to`] spells it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermRef<'a> {
    /// A stem.
    Unigram(&'a str),
    /// Two consecutive stems, written with a space between them.
    Bigram(&'a str, &'a str),
    /// A stem in the scope of a negation, written `!stem`.
    Negated(&'a str),
    /// A character 3- to 5-gram of a word marked `<word>`, written `#ngram`.
    CharGram(&'a str),
}

impl TermRef<'_> {
    /// Appends the term as the vocabulary spells it.
    pub fn write_to(&self, out: &mut String) {
        match *self {
            TermRef::Unigram(stem) => out.push_str(stem),
            TermRef::Bigram(first, second) => {
                out.push_str(first);
                out.push(' ');
                out.push_str(second);
            }
            TermRef::Negated(stem) => {
                out.push('!');
                out.push_str(stem);
            }
            TermRef::CharGram(gram) => {
                out.push('#');
                out.push_str(gram);
            }
        }
    }
}

/// Calls `visit(hash, term)` for each term of `text`, where `hash` is [`hash_term`] of the term as
/// written, computed from its parts without building it. Per token, in order: its negated form
/// (with the options' negation, inside a scope), the bigram it ends, its character n-grams (with
/// the options' character n-grams) and its stem.
pub fn visit_terms(
    analyzer: &Analyzer,
    text: &str,
    options: &FeatureOptions,
    mut visit: impl FnMut(u64, TermRef<'_>),
) {
    let mut prev_stem = String::new();
    // Hash of the previous stem and the end of its token.
    let mut prev: Option<(u64, usize)> = None;
    let mut negated = false;
    let mut marked = String::new();
    let mut bounds: Vec<usize> = Vec::new();
    analyzer.for_each_token(text, |token| {
        if options.negation {
            if let Some((_, prev_end)) = prev {
                if text[prev_end..token.span.0].contains(['.', ',', ';', ':', '!', '?']) {
                    negated = false;
                }
            }
            if negated {
                let hash = TermHash::default()
                    .write(b"!")
                    .write(token.stem.as_bytes())
                    .value();
                visit(hash, TermRef::Negated(token.stem));
            }
            if is_negator(token.word) {
                negated = true;
            }
        }
        if let Some((prev_hash, _)) = prev {
            let hash = TermHash::resume(prev_hash)
                .write(b" ")
                .write(token.stem.as_bytes())
                .value();
            visit(hash, TermRef::Bigram(&prev_stem, token.stem));
        }
        if options.char_ngrams {
            marked.clear();
            marked.push('<');
            marked.push_str(token.word);
            marked.push('>');
            bounds.clear();
            bounds.extend(marked.char_indices().map(|(i, _)| i));
            bounds.push(marked.len());
            let n_chars = bounds.len() - 1;
            for start in 0..n_chars {
                let mut hash = TermHash::default().write(b"#");
                for len in 1..=5.min(n_chars - start) {
                    let end = start + len;
                    hash = hash.write(&marked.as_bytes()[bounds[end - 1]..bounds[end]]);
                    if len >= 3 {
                        visit(
                            hash.value(),
                            TermRef::CharGram(&marked[bounds[start]..bounds[end]]),
                        );
                    }
                }
            }
        }
        visit(token.stem_hash, TermRef::Unigram(token.stem));
        prev_stem.clear();
        prev_stem.push_str(token.stem);
        prev = Some((token.stem_hash, token.span.1));
    });
}

/// The terms of a text as strings, in the order of [`visit_terms`]: stems, bigrams
/// (`"stem1 stem2"`), and the options' negation marks and character n-grams.
pub fn terms(analyzer: &Analyzer, text: &str, options: &FeatureOptions) -> Vec<String> {
    let mut out = Vec::new();
    visit_terms(analyzer, text, options, |_, term| {
        let mut spelled = String::new();
        term.write_to(&mut spelled);
        out.push(spelled);
    });
    out
}

/// The term hashes of a text, into `out` (cleared first).
fn term_hashes(analyzer: &Analyzer, text: &str, options: &FeatureOptions, out: &mut Vec<u64>) {
    out.clear();
    visit_terms(analyzer, text, options, |hash, _| out.push(hash));
}

/// The words of `text` behind each of its terms, as written (`"protest" -> "Protesters"`,
/// `"back the" -> "backs the"`); the first occurrence wins.
pub fn surface_forms(text: &str) -> HashMap<String, String> {
    let analyzer = Analyzer::default();
    let spans = tokenize::spans(text);
    let stems: Vec<String> = spans
        .iter()
        .map(|&(a, b)| analyzer.stem(&tokenize::normalize(&text[a..b])))
        .collect();
    let mut out = HashMap::new();
    for (i, stem) in stems.iter().enumerate() {
        out.entry(stem.clone())
            .or_insert_with(|| text[spans[i].0..spans[i].1].to_string());
        if i + 1 < stems.len() {
            let surface: String = text[spans[i].0..spans[i + 1].1]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            out.entry(format!("{stem} {}", stems[i + 1]))
                .or_insert(surface);
        }
    }
    out
}

/// For each term of `texts`, the words it most often stands for (ties: the first seen).
pub fn common_surface_forms<S: AsRef<str>>(texts: &[S]) -> HashMap<String, String> {
    let mut counts: HashMap<String, HashMap<String, (usize, usize)>> = HashMap::new();
    let mut order = 0;
    for t in texts {
        for (term, surface) in surface_forms(t.as_ref()) {
            let surface = surface.to_lowercase();
            order += 1;
            let e = counts
                .entry(term)
                .or_default()
                .entry(surface)
                .or_insert((0, order));
            e.0 += 1;
        }
    }
    counts
        .into_iter()
        .map(|(term, forms)| {
            let best = forms
                .into_iter()
                .max_by(|a, b| a.1 .0.cmp(&b.1 .0).then(b.1 .1.cmp(&a.1 .1)))
                .map(|(s, _)| s)
                .unwrap_or_default();
            (term, best)
        })
        .collect()
}

thread_local! {
    // One analyzer per thread for the life of the process: its stem cache pays off across work
    // items (a training corpus's chunks, the articles `classify` reads one after another).
    static ANALYZER: Analyzer = Analyzer::default();
}

/// Texts per work item when hashing and naming the terms of a training corpus: at most
/// [`NAMING_CHUNK`], and fewer for corpora of under eight such chunks, so that both cores get
/// even shares (BBC's 1,424 articles made three items of 512: one core did two). It depends
/// only on the number of texts, so results do not depend on the thread count.
fn naming_chunk(n_texts: usize) -> usize {
    n_texts.div_ceil(8).clamp(32, NAMING_CHUNK)
}

/// Most texts per work item when hashing and naming the terms of a training corpus.
const NAMING_CHUNK: usize = 512;

/// One term of a chunk of texts.
struct ChunkTerm {
    /// Byte range of its spelling in the chunk's string.
    spelling: (usize, usize),
    /// Texts of the chunk that hold it.
    df: u32,
    /// The last text (within the chunk) counted in `df`.
    last_text: u32,
}

/// The terms of one chunk of texts, by hash: spellings written once into one string, and
/// document frequencies within the chunk.
#[derive(Default)]
struct ChunkTerms {
    terms: FxHashMap<u64, ChunkTerm>,
    text: String,
}

impl ChunkTerms {
    /// Counts an occurrence of a term in text `t` of the chunk (spelling it if it is new).
    fn count(&mut self, hash: u64, term: TermRef<'_>, t: u32) {
        let text = &mut self.text;
        let entry = self.terms.entry(hash).or_insert_with(|| {
            let start = text.len();
            term.write_to(text);
            ChunkTerm {
                spelling: (start, text.len()),
                df: 0,
                last_text: u32::MAX,
            }
        });
        if entry.last_text != t {
            entry.last_text = t;
            entry.df += 1;
        }
    }

    /// Bytes the map and the spellings hold (about).
    fn bytes(&self) -> usize {
        self.terms.capacity() * (8 + std::mem::size_of::<ChunkTerm>()) + self.text.capacity()
    }

    /// The spelling of the term with this hash, if the chunk has it.
    fn spelling(&self, hash: u64) -> Option<&str> {
        self.terms
            .get(&hash)
            .map(|term| &self.text[term.spelling.0..term.spelling.1])
    }
}

/// Chunk term maps of more than this many bytes in all are handed back to the system once
/// freed (see [`Featurizer::fit_transform_keeping_rare`]).
const RELEASE_MAPS_ABOVE: usize = 64 << 20;

/// One chunk of a training corpus, analysed: the term hashes of each text, and the chunk's
/// terms.
struct HashedChunk {
    rows: Vec<Vec<u64>>,
    terms: ChunkTerms,
}

/// The term hashes of each text, and each chunk's spellings and document frequencies, in one
/// analysis of `texts` by chunks of [`naming_chunk`] texts. Spellings are written into one
/// string per chunk, not one allocation per term.
fn hash_and_name_terms<S: AsRef<str> + Sync>(
    texts: &[S],
    options: &FeatureOptions,
) -> Vec<HashedChunk> {
    texts
        .par_chunks(naming_chunk(texts.len()))
        .map(|chunk| {
            let mut terms = ChunkTerms::default();
            let rows = ANALYZER.with(|analyzer| {
                chunk
                    .iter()
                    .zip(0u32..)
                    .map(|(text, t)| {
                        let mut hashes = Vec::new();
                        visit_terms(analyzer, text.as_ref(), options, |hash, term| {
                            hashes.push(hash);
                            terms.count(hash, term, t);
                        });
                        hashes
                    })
                    .collect()
            });
            HashedChunk { rows, terms }
        })
        .collect()
}

/// A term of the training corpus while the vocabulary is chosen.
struct Counted {
    hash: u64,
    /// Texts holding the term.
    df: u32,
    /// The first chunk holding it (which spells it).
    chunk: u32,
}

/// The document frequency of every term of the analysed chunks, with the first chunk that
/// holds it: the chunks' own counts added up.
fn count_terms(chunks: &[HashedChunk]) -> Vec<Counted> {
    let mut df: FxHashMap<u64, (u32, u32)> = FxHashMap::default();
    for (c, chunk) in chunks.iter().enumerate() {
        for (&hash, term) in &chunk.terms.terms {
            df.entry(hash).or_insert((0, c as u32)).0 += term.df;
        }
    }
    df.into_iter()
        .map(|(hash, (df, chunk))| Counted { hash, df, chunk })
        .collect()
}

/// Most terms the logistic heads see. Where more terms than this occur in at least `min_df`
/// training texts, the most frequent ones are the common terms and the others count as rare
/// (seen by the topic head's naive Bayes columns only), as scikit-learn's `max_features` keeps
/// the most frequent terms. Of the shared data sets only 20 Newsgroups reaches it (278,587
/// terms in two texts or more). 5-fold CV on the peers' folds (`bench/cv.py --label topic`,
/// bench/cv/stance-20ng-topic-cap.md), all terms / capped: accuracy 0.9410 / 0.9401 (per fold
/// -5, +6, -3, -8 and -1 documents of 2,263), median fit 2.75 / 2.23 s; a train on its train
/// split: peak RSS 800 / 524 MB.
pub const MAX_COMMON_TERMS: usize = 100_000;

/// Which counted terms are common: seen in at least `min_df` texts and, if more than
/// [`MAX_COMMON_TERMS`] are, among the most frequent (ties by hash, so the choice is
/// deterministic).
fn common_rule(counted: &[Counted], min_df: u32) -> impl Fn(&Counted) -> bool {
    let mut eligible: Vec<(std::cmp::Reverse<u32>, u64)> = counted
        .iter()
        .filter(|t| t.df >= min_df)
        .map(|t| (std::cmp::Reverse(t.df), t.hash))
        .collect();
    let last = (eligible.len() > MAX_COMMON_TERMS)
        .then(|| *eligible.select_nth_unstable(MAX_COMMON_TERMS - 1).1);
    move |t: &Counted| {
        t.df >= min_df && last.is_none_or(|last| (std::cmp::Reverse(t.df), t.hash) <= last)
    }
}

impl Featurizer {
    /// Fits the vocabulary and idf on `texts` and returns the featurizer with their TF-IDF rows.
    ///
    /// Terms are counted by their 64-bit hash (and spelled once per chunk of texts), so two
    /// distinct terms whose hashes collide (about one chance in 10^7 for a million distinct
    /// terms) would count as one, under the first spelling seen.
    pub fn fit_transform<S: AsRef<str> + Sync>(
        texts: &[S],
        options: FeatureOptions,
    ) -> (Featurizer, CsrMatrix) {
        Self::fit_transform_keeping_rare(texts, options, false)
    }

    /// [`Featurizer::fit_transform`], also keeping the terms seen in fewer than `min_df` texts
    /// (if `keep_rare`) as columns after the common ones; see [`Featurizer::n_common`].
    pub fn fit_transform_keeping_rare<S: AsRef<str> + Sync>(
        texts: &[S],
        options: FeatureOptions,
        keep_rare: bool,
    ) -> (Featurizer, CsrMatrix) {
        let chunks = hash_and_name_terms(texts, &options);
        let mut kept = count_terms(&chunks);
        let is_common = common_rule(&kept, options.min_df);
        if !keep_rare {
            kept.retain(&is_common);
        }
        // Common terms first, then rare ones; each part in the order of the terms' hashes (the
        // hashes are distinct, so the order is the same however the parallel sort splits the
        // work, and sorting numbers is faster than sorting the spellings).
        kept.par_sort_unstable_by_key(|t| (!is_common(t), t.hash));
        let n_common = kept.partition_point(&is_common);
        let n = texts.len() as f64;
        let idf = kept
            .iter()
            .map(|t| ((1.0 + n) / (1.0 + t.df as f64)).ln() + 1.0)
            .collect();
        let spellings: Vec<&str> = kept
            .par_iter()
            .map(|t| {
                chunks[t.chunk as usize]
                    .terms
                    .spelling(t.hash)
                    .expect("a chunk spells the terms it holds")
            })
            .collect();
        let vocabulary: TermList = spellings.into_iter().collect();
        // The chunks' spellings and counts have served: free them before the rows are weighed
        // (20 Newsgroups: most of the featurizer's peak memory).
        let maps_bytes: usize = chunks.iter().map(|c| c.terms.bytes()).sum();
        let hashed_rows: Vec<Vec<Vec<u64>>> = chunks.into_iter().map(|c| c.rows).collect();
        // They were freed on the worker threads that built them, into those threads' arenas,
        // which the rows weighed next only partly reuse. Handing large ones back lowers the
        // peak (20 Newsgroups, 83 MB of maps: train peak RSS 301 -> 290 MB, then set by the
        // solver); small ones cost more in page faults than they save (BBC, 18 MB: train
        // 15-20 ms slower).
        if maps_bytes > RELEASE_MAPS_ABOVE {
            release_freed_memory();
        }
        let index = index_of(kept.iter().map(|t| t.hash));
        drop(kept);
        let mut featurizer = Featurizer {
            options,
            vocabulary,
            n_common,
            idf,
            index: OnceLock::from(index),
        };
        // Each chunk's rows weighed into a matrix of its own, each text's hashes freed once
        // weighed, then the matrices stacked.
        let parts: Vec<CsrMatrix> = hashed_rows
            .into_par_iter()
            .map(|rows| {
                let mut part = CsrMatrix::new(featurizer.n_features());
                for doc in rows {
                    part.push_row(&featurizer.weigh(&doc));
                }
                part
            })
            .collect();
        featurizer.index.take();
        let matrix = CsrMatrix::stack(featurizer.n_features(), parts);
        (featurizer, matrix)
    }

    /// The TF-IDF rows of `texts`; terms outside the vocabulary are ignored.
    pub fn transform<S: AsRef<str> + Sync>(&self, texts: &[S]) -> CsrMatrix {
        let rows = texts
            .par_iter()
            .map_init(Vec::new, |hashes, text| {
                ANALYZER
                    .with(|analyzer| term_hashes(analyzer, text.as_ref(), &self.options, hashes));
                self.weigh(hashes)
            })
            .collect::<Vec<_>>();
        CsrMatrix::from_rows(self.n_features(), rows)
    }

    /// The sorted, L2-normalised `(column, weight)` pairs of one text's term hashes.
    fn weigh(&self, terms: &[u64]) -> Vec<(u32, f64)> {
        let mut cols: Vec<u32> = terms
            .iter()
            .filter_map(|t| self.index().get(t).copied())
            .collect();
        cols.sort_unstable();
        let mut row: Vec<(u32, f64)> = Vec::with_capacity(cols.len());
        for c in cols {
            match row.last_mut() {
                Some((last, tf)) if *last == c => *tf += 1.0,
                _ => row.push((c, 1.0)),
            }
        }
        for (c, w) in &mut row {
            *w = (1.0 + w.ln()) * self.idf[*c as usize];
        }
        // Unit length over the common terms, so the logistic heads see the same rows whether
        // or not rare terms are kept; a row of rare terms alone is scaled by its own length.
        let common = row.partition_point(|&(c, _)| (c as usize) < self.n_common);
        let mut norm = row[..common].iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        if norm == 0.0 {
            norm = row.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        }
        if norm > 0.0 {
            for (_, w) in &mut row {
                *w /= norm;
            }
        }
        row
    }

    /// The hash of each vocabulary term, in column order: read from the index when there is
    /// one, so that a loaded model writes back the hashes it was read with.
    fn term_hashes(&self) -> Vec<u64> {
        match self.index.get() {
            Some(index) => {
                let mut hashes = vec![0; self.vocabulary.len()];
                for (&hash, &column) in index {
                    hashes[column as usize] = hash;
                }
                hashes
            }
            None => self.vocabulary.iter().map(hash_term).collect(),
        }
    }

    /// The column of each vocabulary term by its hash, built on first use.
    fn index(&self) -> &FxHashMap<u64, u32> {
        self.index
            .get_or_init(|| index_of(self.vocabulary.iter().map(hash_term)))
    }

    /// Whether the vocabulary and idf weights agree (for model files).
    pub fn is_consistent(&self) -> bool {
        self.vocabulary.len() == self.idf.len()
            && self.n_common <= self.vocabulary.len()
            && self
                .index
                .get()
                .is_none_or(|index| index.len() == self.vocabulary.len())
            && self.idf.iter().all(|w| w.is_finite())
            && u32::try_from(self.vocabulary.len()).is_ok()
    }

    /// Number of columns (vocabulary size).
    pub fn n_features(&self) -> usize {
        self.vocabulary.len()
    }

    /// Number of leading columns whose terms occur in at least `min_df` training texts (the
    /// [`MAX_COMMON_TERMS`] most frequent at most): the columns the logistic heads see. The rest
    /// (kept only for the topic head's naive Bayes scores) are rarer terms.
    pub fn n_common(&self) -> usize {
        self.n_common
    }

    /// Forgets the terms rarer than `min_df` (kept for naive Bayes scores that the model turned
    /// out not to use): rows then hold the common columns only, with the same values.
    pub fn drop_rare_terms(&mut self) {
        let n = self.n_common;
        if let Some(index) = self.index.get_mut() {
            index.retain(|_, column| (*column as usize) < n);
        }
        self.vocabulary.truncate(n);
        self.idf.truncate(n);
    }

    /// The term of column `i`.
    pub fn term(&self, i: usize) -> &str {
        self.vocabulary.get(i)
    }

    /// The options the featurizer was fitted with.
    pub fn options(&self) -> &FeatureOptions {
        &self.options
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn stored_term_hashes_rebuild_the_index_and_must_match_the_vocabulary() {
        let texts = ["the council backs the plan", "the council rejects the levy"];
        let (fitted, rows) = Featurizer::fit_transform(&texts, FeatureOptions::default());
        let bytes = postcard::to_stdvec(&fitted).unwrap();
        let loaded: Featurizer = postcard::from_bytes(&bytes).unwrap();
        assert!(loaded.is_consistent());
        let expected: FxHashMap<u64, u32> = (0..fitted.n_features())
            .map(|i| (hash_term(fitted.term(i)), i as u32))
            .collect();
        assert_eq!(loaded.index.get(), Some(&expected), "built on load");
        assert_eq!(loaded.transform(&texts), rows);
        let short = FeaturizerData {
            options: FeatureOptions::default(),
            vocabulary: ["council", "plan"].into_iter().collect(),
            n_common: 2,
            idf: vec![1.0, 1.0],
            hashes: vec![hash_term("council")],
        };
        assert!(Featurizer::try_from(short).is_err());
    }

    #[test]
    fn negation_scope_and_character_ngrams() {
        let analyzer = Analyzer::default();
        let options = FeatureOptions {
            negation: true,
            char_ngrams: true,
            ..FeatureOptions::default()
        };
        let t = terms(&analyzer, "We don't back it, they do", &options);
        assert!(t.contains(&"!back".to_string()) && t.contains(&"!it".to_string()));
        assert!(
            t.contains(&"back".to_string()),
            "negated words still count as themselves"
        );
        assert!(
            !t.contains(&"!they".to_string()),
            "the comma ends the scope"
        );
        assert!(t.contains(&"#<we>".to_string()) && t.contains(&"#back>".to_string()));
        let plain = terms(&analyzer, "We don't back it", &FeatureOptions::default());
        assert!(plain.iter().all(|t| !t.starts_with(['!', '#'])));
    }

    #[test]
    fn surface_forms_map_terms_back_to_the_words() {
        let forms = surface_forms("Protesters were protesting the U.S. plan");
        assert_eq!(forms["protest"], "Protesters");
        assert_eq!(forms["protest the"], "protesting the");
        assert_eq!(forms["u.s. plan"], "U.S. plan");
    }

    #[test]
    fn tfidf_matches_hand_computed_values() {
        // Three texts whose words are their own stems.
        let texts = ["war war arm", "war", "arm pact"];
        let (f, m) = Featurizer::fit_transform(
            &texts,
            FeatureOptions {
                min_df: 1,
                ..FeatureOptions::default()
            },
        );
        let mut vocabulary: Vec<&str> = f.vocabulary.iter().collect();
        vocabulary.sort_unstable();
        assert_eq!(
            vocabulary,
            ["arm", "arm pact", "pact", "war", "war arm", "war war"]
        );
        let col = |term: &str| column(&f, term);
        // idf = ln((1 + 3) / (1 + df)) + 1: df 2 -> ln(4/3) + 1, df 1 -> ln 2 + 1.
        let idf2 = (4.0f64 / 3.0).ln() + 1.0;
        let idf1 = 2.0f64.ln() + 1.0;
        assert!(close(f.idf[col("arm")], idf2));
        assert!(close(f.idf[col("war")], idf2));
        assert!(close(f.idf[col("pact")], idf1));
        // Row 0: war has tf 2 -> (1 + ln 2) * idf2; arm, "war war", "war arm" have tf 1.
        // Unnormalised: war 2.1795, arm 1.2877, bigrams 1.6931 each; norm 3.4839.
        let expected = [
            ("arm", 0.369_495_431_093_585_9),
            ("war", 0.625_610_147_385_886_5),
            ("war arm", 0.485_842_088_485_947_6),
            ("war war", 0.485_842_088_485_947_6),
        ];
        let (cols, vals) = m.row(0);
        assert_eq!(cols.len(), expected.len());
        for (term, e) in expected {
            let at = cols.iter().position(|&c| c as usize == col(term)).unwrap();
            assert!(close(vals[at], e), "{term}: {} vs {e}", vals[at]);
        }
        // Row 1: a single term has weight 1 after normalisation.
        assert_eq!(m.row(1), (&[col("war") as u32][..], &[1.0][..]));
    }

    /// The column of a vocabulary term.
    fn column(f: &Featurizer, term: &str) -> usize {
        f.index()[&hash_term(term)] as usize
    }

    #[test]
    fn past_the_cap_the_most_frequent_terms_are_common() {
        let counted = |hash: u64, df: u32| Counted { hash, df, chunk: 0 };
        // 10 terms in five texts, MAX_COMMON_TERMS + 5 in two, 3 in one.
        let mut terms: Vec<Counted> = (0..10).map(|h| counted(1_000_000 + h, 5)).collect();
        terms.extend((0..MAX_COMMON_TERMS as u64 + 5).map(|h| counted(h, 2)));
        terms.extend((0..3).map(|h| counted(2_000_000 + h, 1)));
        let is_common = common_rule(&terms, 2);
        let common: Vec<&Counted> = terms.iter().filter(|t| is_common(t)).collect();
        assert_eq!(common.len(), MAX_COMMON_TERMS);
        assert!(common.iter().filter(|t| t.df == 5).count() == 10);
        assert!(common.iter().all(|t| t.df >= 2));
        // Ties at df 2 go to the smaller hashes: the 15 largest are left out.
        let left_out: Vec<u64> = terms
            .iter()
            .filter(|t| t.df == 2 && !is_common(t))
            .map(|t| t.hash)
            .collect();
        assert_eq!(
            left_out,
            (MAX_COMMON_TERMS as u64 - 10..MAX_COMMON_TERMS as u64 + 5).collect::<Vec<_>>()
        );
        // Under the cap, min_df alone decides.
        let few: Vec<Counted> = vec![counted(1, 1), counted(2, 2), counted(3, 9)];
        let is_common = common_rule(&few, 2);
        assert_eq!(few.iter().filter(|t| is_common(t)).count(), 2);
    }

    #[test]
    fn min_df_drops_rare_terms_and_transform_ignores_unknown() {
        let texts = ["the vote passed", "the vote failed", "a storm"];
        let (f, _) = Featurizer::fit_transform(
            &texts,
            FeatureOptions {
                min_df: 2,
                ..FeatureOptions::default()
            },
        );
        let mut vocabulary: Vec<&str> = f.vocabulary.iter().collect();
        vocabulary.sort_unstable();
        assert_eq!(vocabulary, ["the", "the vote", "vote"]);
        let m = f.transform(&["unknown words only", "The VOTE"]);
        assert_eq!(m.row(0).0.len(), 0);
        assert_eq!(m.row(1).0, [0, 1, 2]);
    }

    #[test]
    fn featurizing_is_deterministic() {
        let texts: Vec<String> = (0..200)
            .map(|i| format!("statement {i} about topic {} and more", i % 7))
            .collect();
        let (f1, m1) = Featurizer::fit_transform(&texts, FeatureOptions::default());
        let (f2, m2) = Featurizer::fit_transform(&texts, FeatureOptions::default());
        assert_eq!(f1.vocabulary, f2.vocabulary);
        assert_eq!(m1, m2);
    }
}
