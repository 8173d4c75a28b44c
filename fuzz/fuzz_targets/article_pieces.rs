//! Article reader: bytes read through a source that returns short reads of fuzzer-chosen
//! sizes come back as pieces that rebuild the text with contiguous offsets, and segmenting the
//! pieces with one `Segmenter` gives the statements of the whole text. Bad input (invalid
//! UTF-8, NUL bytes, UTF-16) gives an `Err`, never a panic.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use stance::input::ArticleReader;
use stance::text::{segment, Segmenter};

/// A source that hands out `data` in reads of the given sizes (cycled).
struct Chunked<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    turn: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = self.sizes[self.turn % self.sizes.len()];
        self.turn += 1;
        let n = want.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let eager = control & 1 == 1;
    let n_sizes = usize::from((control >> 1) & 3) + 1;
    if rest.len() < n_sizes {
        return;
    }
    let (size_bytes, article) = rest.split_at(n_sizes);
    let sizes = size_bytes
        .iter()
        .map(|&b| usize::from(b % 64) + 1)
        .collect();
    let source = Chunked {
        data: article,
        sizes,
        turn: 0,
    };
    let mut reader = ArticleReader::new("fuzz.txt", source, eager);
    let mut pieces = Vec::new();
    loop {
        match reader.next_piece() {
            Ok(Some(p)) => pieces.push(p),
            Ok(None) => break,
            Err(_) => return,
        }
    }
    let bom = if article.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let text =
        std::str::from_utf8(&article[bom..]).expect("pieces were read, so the text is UTF-8");
    let mut rebuilt = String::new();
    let mut seg = Segmenter::new();
    let mut pieced = Vec::new();
    for p in &pieces {
        assert_eq!(
            p.base,
            bom + rebuilt.len(),
            "piece offsets are not contiguous"
        );
        rebuilt.push_str(&p.text);
        pieced.extend(
            seg.push(&p.text, p.base)
                .into_iter()
                .map(|s| (s.kind, s.start, s.end, s.text.to_string())),
        );
    }
    assert_eq!(rebuilt, text, "pieces do not rebuild the text");
    let whole: Vec<_> = segment(text)
        .into_iter()
        .map(|s| (s.kind, s.start + bom, s.end + bom, s.text.to_string()))
        .collect();
    assert_eq!(
        pieced, whole,
        "pieces segment differently from the whole text"
    );
});
