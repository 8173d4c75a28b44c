//! Reading articles in bounded pieces.
//!
//! An article is read as UTF-8 text in pieces of whole paragraphs (cut after a blank line), so
//! that a file far larger than memory is segmented and classified piece by piece, and text piped
//! into standard input is answered paragraph by paragraph as it arrives. Segmenting the pieces
//! one after another with one [`crate::text::Segmenter`] gives the same statements as segmenting
//! the whole text, unless a single paragraph is longer than [`MAX_PIECE`]: such a paragraph is
//! cut at its last line break (or space) before the limit.

use std::io::{ErrorKind as IoErrorKind, Read};

use crate::error::{Error, Result};

/// A piece is handed on once it holds at least this many bytes and a paragraph break.
pub const TARGET_PIECE: usize = 1 << 20;
/// A paragraph longer than this is cut at a line break or space.
pub const MAX_PIECE: usize = 8 << 20;
/// Bytes read at a time.
const READ_SIZE: usize = 64 << 10;
/// A NUL byte among the first bytes marks a binary file.
const BINARY_PROBE: usize = 8 << 10;

/// Whole paragraphs of an article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Byte offset of the piece in the article (a leading byte-order mark counts).
    pub base: usize,
    /// The text.
    pub text: String,
}

/// Reads an article in [`Piece`]s.
pub struct ArticleReader<R: Read> {
    name: String,
    source: R,
    pending: Vec<u8>,
    /// Where the paragraph breaks in `pending` are.
    breaks: BreakScanner,
    /// Offset in the article of `pending[0]`.
    offset: usize,
    /// Line number (from 1) of `pending[0]`.
    line: usize,
    started: bool,
    finished: bool,
    /// Hand on whatever whole paragraphs are there when a read comes back short (for pipes,
    /// where a short read means the writer is slower than us).
    eager: bool,
}

impl<R: Read> ArticleReader<R> {
    /// A reader of the article `name` (used in error messages) from `source`. With `eager`,
    /// paragraphs are handed on as soon as they are complete rather than in large pieces.
    pub fn new(name: impl Into<String>, source: R, eager: bool) -> Self {
        ArticleReader {
            name: name.into(),
            source,
            pending: Vec::new(),
            breaks: BreakScanner::default(),
            offset: 0,
            line: 1,
            started: false,
            finished: false,
            eager,
        }
    }

    /// The next piece, or `None` at the end of the article. Errors name the article and line:
    /// a binary file, invalid UTF-8 or NUL bytes, or a failed read.
    pub fn next_piece(&mut self) -> Result<Option<Piece>> {
        loop {
            if !self.finished {
                let short = self.fill()?;
                // Wait for a whole byte-order mark before looking at the first bytes.
                let partial_bom =
                    self.pending.len() < 3 && b"\xEF\xBB\xBF".starts_with(&self.pending);
                if !self.started
                    && (self.pending.len() >= BINARY_PROBE
                        || self.finished
                        || (self.eager && short && !partial_bom))
                {
                    self.start()?;
                }
                if !self.started {
                    continue;
                }
                let cut = if self.pending.len() >= TARGET_PIECE || (self.eager && short) {
                    self.breaks.last_break(&self.pending)
                } else {
                    None
                };
                let cut = cut.or_else(|| {
                    (self.pending.len() >= MAX_PIECE).then(|| forced_cut(&self.pending))
                });
                match cut {
                    Some(cut) if cut > 0 => return self.take(cut).map(Some),
                    _ => continue,
                }
            }
            if self.pending.is_empty() {
                return Ok(None);
            }
            return self.take(self.pending.len()).map(Some);
        }
    }

    /// Reads once; returns whether the read came back short.
    fn fill(&mut self) -> Result<bool> {
        let len = self.pending.len();
        self.pending.resize(len + READ_SIZE, 0);
        let n = loop {
            match self.source.read(&mut self.pending[len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == IoErrorKind::Interrupted => continue,
                Err(e) => {
                    self.pending.truncate(len);
                    return Err(Error::input(format!("{}: cannot read: {e}", self.name)));
                }
            }
        };
        self.pending.truncate(len + n);
        if n == 0 {
            self.finished = true;
        }
        Ok(n < READ_SIZE)
    }

    /// Checks the first bytes: strips a byte-order mark, refuses binary files.
    fn start(&mut self) -> Result<()> {
        self.started = true;
        if self.pending.starts_with(b"\xEF\xBB\xBF") {
            self.pending.drain(..3);
            self.breaks.consumed(3);
            self.offset = 3;
        }
        if self.pending.starts_with(b"\xFF\xFE") || self.pending.starts_with(b"\xFE\xFF") {
            return Err(Error::input(format!(
                "{}: UTF-16 text (it starts with a UTF-16 byte-order mark); save the file as UTF-8",
                self.name
            )));
        }
        let probe = &self.pending[..self.pending.len().min(BINARY_PROBE)];
        if probe.contains(&0) {
            return Err(Error::input(format!(
                "{}: looks like a binary file (it contains NUL bytes); skipped",
                self.name
            )));
        }
        Ok(())
    }

    /// Takes the first `cut` pending bytes as a piece.
    fn take(&mut self, cut: usize) -> Result<Piece> {
        let bytes: Vec<u8> = self.pending.drain(..cut).collect();
        self.breaks.consumed(cut);
        let first_line = self.line;
        let line_at = |bytes: &[u8], upto: usize| {
            first_line + bytes[..upto].iter().filter(|&&b| b == b'\n').count()
        };
        if let Some(nul) = bytes.iter().position(|&b| b == 0) {
            return Err(Error::input(format!(
                "{}: line {}: NUL byte in text; the rest of the file is skipped",
                self.name,
                line_at(&bytes, nul)
            )));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            let line = line_at(e.as_bytes(), e.utf8_error().valid_up_to());
            Error::input(format!(
                "{}: line {line}: invalid UTF-8; save the file as UTF-8 (the rest of the file is skipped)",
                self.name
            ))
        })?;
        let piece = Piece {
            base: self.offset,
            text,
        };
        self.offset += piece.text.len();
        self.line += piece.text.bytes().filter(|&b| b == b'\n').count();
        Ok(piece)
    }
}

/// Finds the last paragraph break (the position just after a blank line: a line of only spaces,
/// tabs or `\r`) in a buffer that grows at its end and is taken from its front, looking at each
/// byte once. (Searching the whole buffer after every read made a text without blank lines, such
/// as one sentence per line, quadratic: 63% of `classify`'s time on 16 MB of them.)
#[derive(Debug, Default)]
struct BreakScanner {
    /// Bytes of the buffer looked at so far.
    scanned: usize,
    /// Position of the line feed that began the current line, while that line holds only
    /// spaces, tabs and `\r` (the start of the buffer does not count as a line feed).
    blank_line_from: Option<usize>,
    /// Position just after the last blank line seen.
    last_break: Option<usize>,
}

impl BreakScanner {
    /// The position just after the last blank line in `buf`, which holds the bytes seen by the
    /// previous calls (less those [`BreakScanner::consumed`]) and perhaps more after them.
    fn last_break(&mut self, buf: &[u8]) -> Option<usize> {
        for (i, &b) in buf.iter().enumerate().skip(self.scanned) {
            match b {
                b'\n' => {
                    if self.blank_line_from.is_some() {
                        self.last_break = Some(i + 1);
                    }
                    self.blank_line_from = Some(i);
                }
                b' ' | b'\t' | b'\r' => {}
                _ => self.blank_line_from = None,
            }
        }
        self.scanned = buf.len();
        self.last_break
    }

    /// The first `n` bytes of the buffer were taken away.
    fn consumed(&mut self, n: usize) {
        self.scanned = self.scanned.saturating_sub(n);
        self.last_break = self.last_break.filter(|&b| b > n).map(|b| b - n);
        self.blank_line_from = self.blank_line_from.filter(|&p| p >= n).map(|p| p - n);
    }
}

/// Where to cut a paragraph longer than [`MAX_PIECE`]: after its last line break, else after
/// the last likely sentence end (a stop, a space, a capital), else after its last space, else at
/// the last character boundary.
fn forced_cut(buf: &[u8]) -> usize {
    let limit = buf.len().min(MAX_PIECE);
    let head = &buf[..limit];
    if let Some(i) = head.iter().rposition(|&b| b == b'\n') {
        return i + 1;
    }
    let sentence_end = head.windows(3).rposition(|w| {
        matches!(w[0], b'.' | b'!' | b'?') && w[1] == b' ' && w[2].is_ascii_uppercase()
    });
    if let Some(i) = sentence_end {
        return i + 2;
    }
    if let Some(i) = head.iter().rposition(|&b| b == b' ' || b == b'\t') {
        return i + 1;
    }
    // No whitespace at all: cut before the last UTF-8 lead byte, never inside a character.
    (1..=limit)
        .rev()
        .find(|&i| i == buf.len() || (buf[i] & 0xC0) != 0x80)
        .unwrap_or(limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{segment, Segmenter};

    fn pieces(text: &[u8], eager: bool) -> Result<Vec<Piece>> {
        let mut r = ArticleReader::new("a.txt", text, eager);
        let mut out = Vec::new();
        while let Some(p) = r.next_piece()? {
            out.push(p);
        }
        Ok(out)
    }

    fn last_paragraph_break(buf: &[u8]) -> Option<usize> {
        BreakScanner::default().last_break(buf)
    }

    /// The position just after the last blank line, by a plain backward search (the reader's
    /// search before `BreakScanner`): the reference the scanner is checked against.
    fn last_paragraph_break_backwards(buf: &[u8]) -> Option<usize> {
        let mut line_end = None;
        for (i, &b) in buf.iter().enumerate().rev() {
            match b {
                b'\n' => {
                    if let Some(end) = line_end {
                        if end > i {
                            return Some(end + 1);
                        }
                    }
                    line_end = Some(i);
                }
                b' ' | b'\t' | b'\r' => {}
                _ => line_end = None,
            }
        }
        None
    }

    #[test]
    fn finds_the_last_blank_line() {
        for (buf, expected) in [
            (&b"a\n\nb"[..], Some(3)),
            (b"a\n \r\nb\n", Some(5)),
            (b"a\nb\n", None),
            (b"\n\n", Some(2)),
            (b" \nb", None),
            (b"x\n\t\n \n", Some(6)),
        ] {
            assert_eq!(last_paragraph_break(buf), expected, "{buf:?}");
            assert_eq!(last_paragraph_break_backwards(buf), expected, "{buf:?}");
        }
    }

    #[test]
    fn a_growing_and_shrinking_buffer_finds_the_breaks_a_backward_search_finds() {
        let text: &[u8] = b"one\ntwo\n \n\nthree\n\t\nfour\nfive \n\nsix\n\n \nseven\r\n\r\neight";
        // Grow the buffer a few bytes at a time; whenever a break is found, take the front up
        // to it, as the reader does.
        for step in [1, 2, 3, 5, 7, 64] {
            let mut scanner = BreakScanner::default();
            let mut buf: Vec<u8> = Vec::new();
            for chunk in text.chunks(step) {
                buf.extend_from_slice(chunk);
                let found = scanner.last_break(&buf);
                assert_eq!(
                    found,
                    last_paragraph_break_backwards(&buf),
                    "step {step}, after {:?}",
                    String::from_utf8_lossy(&buf)
                );
                if let Some(cut) = found {
                    buf.drain(..cut);
                    scanner.consumed(cut);
                }
            }
        }
        // A cut that is not at a break (a forced one) keeps the later state.
        let mut scanner = BreakScanner::default();
        let mut buf = b"abc\n  ".to_vec();
        assert_eq!(scanner.last_break(&buf), None);
        buf.drain(..2);
        scanner.consumed(2);
        buf.extend_from_slice(b"\nd");
        assert_eq!(scanner.last_break(&buf), Some(5));
        assert_eq!(last_paragraph_break_backwards(&buf), Some(5));
    }

    #[test]
    fn pieces_rebuild_the_text_and_segment_alike() {
        let para = "Mr. Smith said the plan was fair. \"It works,\" he said.\nA second line.\n\n";
        let text = format!("Headline\n\n{}", para.repeat(40_000));
        let got = pieces(text.as_bytes(), false).unwrap();
        assert!(got.len() > 1, "a large text comes in several pieces");
        let mut rebuilt = String::new();
        let mut seg = Segmenter::new();
        let mut statements = Vec::new();
        for p in &got {
            assert_eq!(p.base, rebuilt.len());
            rebuilt.push_str(&p.text);
            statements.extend(
                seg.push(&p.text, p.base)
                    .into_iter()
                    .map(|s| (s.kind, s.start, s.end, s.text.to_string())),
            );
        }
        assert_eq!(rebuilt, text);
        let whole: Vec<_> = segment(&text)
            .into_iter()
            .map(|s| (s.kind, s.start, s.end, s.text.to_string()))
            .collect();
        assert_eq!(statements, whole);
    }

    /// Reads one byte at a time, like a slow pipe.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_bom_split_over_short_reads_is_still_a_bom() {
        // Found by the fuzz target article_pieces (fuzz/regressions/article_pieces-1).
        let mut r = ArticleReader::new("-", Trickle(b"\xEF\xBB\xBFHi.\n\nYo."), true);
        let mut text = String::new();
        let mut first_base = None;
        while let Some(p) = r.next_piece().unwrap() {
            first_base.get_or_insert(p.base);
            text.push_str(&p.text);
        }
        assert_eq!(first_base, Some(3));
        assert_eq!(text, "Hi.\n\nYo.");
    }

    #[test]
    fn bom_counts_in_offsets() {
        let got = pieces(b"\xEF\xBB\xBFHello there.", false).unwrap();
        assert_eq!(got[0].base, 3);
        assert_eq!(got[0].text, "Hello there.");
    }

    #[test]
    fn binary_and_bad_utf8_name_file_and_line() {
        let e = pieces(b"abc\0def", false).unwrap_err().to_string();
        assert!(e.contains("a.txt") && e.contains("binary"), "{e}");
        let e = pieces(b"\xFF\xFEa\0b\0", false).unwrap_err().to_string();
        assert!(e.contains("UTF-16"), "{e}");
        let e = pieces(b"one\ntwo \xFF\n", false).unwrap_err().to_string();
        assert!(e.contains("a.txt: line 2: invalid UTF-8"), "{e}");
        let mut late = vec![b'x'; 20_000];
        late.extend_from_slice(b"\n\0");
        let e = pieces(&late, false).unwrap_err().to_string();
        assert!(e.contains("line 2: NUL byte"), "{e}");
    }

    #[test]
    fn a_huge_single_line_is_cut_on_spaces_and_chars() {
        let text = "word ".repeat(2 * MAX_PIECE / 5 + 7);
        let got = pieces(text.as_bytes(), false).unwrap();
        assert!(got.len() >= 2);
        assert!(got.iter().all(|p| p.text.len() <= MAX_PIECE));
        assert_eq!(
            got.iter().map(|p| p.text.as_str()).collect::<String>(),
            text
        );
        let dense = "é".repeat(MAX_PIECE);
        let got = pieces(dense.as_bytes(), false).unwrap();
        assert_eq!(
            got.iter().map(|p| p.text.as_str()).collect::<String>(),
            dense
        );
    }

    #[test]
    fn empty_input_gives_no_piece() {
        assert!(pieces(b"", false).unwrap().is_empty());
    }
}
