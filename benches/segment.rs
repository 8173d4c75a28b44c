//! Segmentation throughput over real news text, on one core.
//!
//! `cargo bench --bench segment -- [FILE]` (default: the FNC-1 article bodies in
//! ../shared/data/fnc1_articles/articles.csv, read as CSV; any other file is read as plain
//! text). Prints MB/s for segmenting alone and for segmenting plus quote attribution, as the
//! median of 5 passes, after one warm-up pass.

use std::time::Instant;

use stance::text::{attribute, segment};

fn load(path: &str) -> Vec<String> {
    if path.ends_with(".csv") {
        let mut reader = csv::Reader::from_path(path).expect("readable CSV");
        let headers = reader.headers().expect("header row").clone();
        let col = headers
            .iter()
            .position(|h| h == "text")
            .expect("a text column");
        reader
            .records()
            .map(|r| r.expect("valid CSV row")[col].to_string())
            .collect()
    } else {
        vec![std::fs::read_to_string(path).expect("readable UTF-8 file")]
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let default = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/fnc1_articles/articles.csv"
    );
    let path = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| default.to_string());
    if !std::path::Path::new(&path).exists() {
        eprintln!("{path} not found; pass a text or CSV file");
        return;
    }
    let articles = load(&path);
    let bytes: usize = articles.iter().map(String::len).sum();
    let mut statements = 0;
    let mut time = |with_quotes: bool| {
        let mut runs = Vec::new();
        for pass in 0..6 {
            let start = Instant::now();
            let mut n = 0;
            for a in &articles {
                let s = segment(a);
                if with_quotes {
                    n += attribute(a, 0, &s).len();
                } else {
                    n += s.len();
                }
            }
            statements = n;
            if pass > 0 {
                runs.push(start.elapsed().as_secs_f64());
            }
        }
        bytes as f64 / median(runs) / 1e6
    };
    let seg = time(false);
    let with_quotes = time(true);
    println!(
        "{path}: {} articles, {:.1} MB, {statements} statements",
        articles.len(),
        bytes as f64 / 1e6
    );
    println!("segment:            {seg:.1} MB/s");
    println!("segment + quotes:   {with_quotes:.1} MB/s");
}
