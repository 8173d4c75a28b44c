//! The `stance` command line: train, eval and classify.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use indicatif::ProgressBar;

use stance::corpus::{self, LoadOptions};
use stance::error::{Error, ErrorKind, Result};
use stance::eval;
use stance::features::FeatureOptions;
use stance::input::ArticleReader;
use stance::linear::SoftmaxRegression;
use stance::model::{self, Model, Stage, TrainOptions, STANCE_ALPHA, TOPIC_ALPHA, TOPIC_TOLERANCE};
use stance::output::{self, ArticleSummary, Format, Record, RecordWriter};
use stance::text::{self, Segmenter, StatementKind};

/// Exit code for success.
const EXIT_OK: u8 = 0;
/// Exit code for bad input or usage.
const EXIT_INPUT: u8 = 1;
/// Exit code when some inputs failed and the others were processed.
const EXIT_PARTIAL: u8 = 2;
/// Exit code for an internal failure.
const EXIT_INTERNAL: u8 = 3;

/// Topic and stance of news statements: train a model on labelled CSV, score it, and label the
/// statements of new articles.
#[derive(Parser)]
#[command(name = "stance", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model from a labelled CSV file (columns text, topic and/or stance).
    Train(TrainArgs),
    /// Score a model on a labelled CSV file, or cross-validate training options with --cv.
    Eval(EvalArgs),
    /// Split articles into statements and label each with topic and stance.
    Classify(ClassifyArgs),
    /// Split articles into statements (sentences, headings, bylines, datelines), with quotes and
    /// speakers; needs no model.
    Segment(SegmentArgs),
    /// Show a model's most indicative features per topic and per stance.
    Inspect(InspectArgs),
}

#[derive(Args)]
struct InspectArgs {
    /// The model (default: the bundled models/default.model).
    #[arg(long, value_name = "PATH")]
    model: Option<PathBuf>,
    /// Features shown per label.
    #[arg(long, value_name = "N", default_value_t = 15)]
    top: usize,
    /// A labelled CSV (such as the training data): features are shown as the words they most
    /// often stand for in its texts, rather than as stems.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
}

/// Where labelled rows come from.
#[derive(Args)]
struct DataArgs {
    /// Labelled CSV file with a header row.
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    /// Keep only rows whose `split` column is one of these (comma-separated).
    #[arg(long, value_name = "NAME[,NAME...]", value_delimiter = ',')]
    split: Option<Vec<String>>,
    /// Name of the text column.
    #[arg(long, default_value = "text", value_name = "NAME")]
    text_col: String,
    /// Name of the topic column [default: topic].
    #[arg(long, value_name = "NAME")]
    topic_col: Option<String>,
    /// Name of the stance column [default: stance].
    #[arg(long, value_name = "NAME")]
    stance_col: Option<String>,
    /// Use only this label column (train or score one head), though the file has both.
    #[arg(long, value_enum, value_name = "HEAD")]
    only: Option<OnlyHead>,
}

/// A single head to train or score.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OnlyHead {
    /// The topic column only.
    Topic,
    /// The stance column only (its topic column is still read: the stance head is
    /// topic-aware, but no topic head is trained).
    Stance,
}

impl DataArgs {
    fn load(&self) -> Result<corpus::Corpus> {
        let corpus = corpus::load(
            &self.data,
            &LoadOptions {
                text_col: self.text_col.clone(),
                topic_col: self.topic_col.clone().unwrap_or_else(|| "topic".into()),
                stance_col: self.stance_col.clone().unwrap_or_else(|| "stance".into()),
                use_topic: true,
                use_stance: self.only != Some(OnlyHead::Topic),
                require_topic: self.topic_col.is_some(),
                require_stance: self.stance_col.is_some(),
                splits: self.split.clone(),
            },
        )?;
        for note in &corpus.notes {
            eprintln!("note: {}: {note}", self.data.display());
        }
        Ok(corpus)
    }
}

/// Options that decide the trained model.
#[derive(Args)]
struct ModelOptions {
    /// Keep terms that occur in at least this many training rows.
    #[arg(long, default_value_t = FeatureOptions::default().min_df, value_name = "N")]
    min_df: u32,
    /// L2 penalty of the stance head's logistic regression (1/C in scikit-learn terms); larger
    /// is smoother.
    #[arg(long, default_value_t = STANCE_ALPHA, value_name = "ALPHA")]
    alpha: f64,
    /// L2 penalty of the topic head's logistic regression.
    #[arg(long, default_value_t = TOPIC_ALPHA, value_name = "ALPHA")]
    topic_alpha: f64,
    /// Most L-BFGS iterations per head.
    #[arg(long, default_value_t = SoftmaxRegression::default().max_iterations, value_name = "N")]
    max_iter: u64,
    /// Stop the stance head when the gradient norm per training row falls below this.
    #[arg(long, hide = true, default_value_t = SoftmaxRegression::default().tolerance)]
    tol: f64,
    /// Stop the topic head when the gradient norm per training row falls below this.
    #[arg(long, hide = true, default_value_t = TOPIC_TOLERANCE)]
    topic_tol: f64,
    /// Give the stance head no per-topic features (for comparison runs).
    #[arg(long, hide = true)]
    no_topic_features: bool,
    /// Add negation-scope features (`!word` after not/never/n't up to the next punctuation);
    /// off by default: 5-fold CV moved UKP stance macro-F1 by +0.2 and SemEval F_avg by -0.3.
    #[arg(long, hide = true)]
    negation: bool,
    /// Add character 3-5-grams of words: more accurate on short texts such as tweets, but
    /// training takes several times longer and more memory.
    #[arg(long)]
    char_ngrams: bool,
    /// Do not weigh stance classes equally in training (for comparison runs).
    #[arg(long, hide = true)]
    no_balance: bool,
    /// Give the topic head no naive Bayes scores (for comparison runs).
    #[arg(long, hide = true)]
    no_naive_bayes: bool,
    /// Choose each head's L2 penalty (stance among 0.03-1, topic among 0.003-1), whether the
    /// topic head keeps its naive Bayes columns, and a probability temperature, by 3-fold
    /// cross-validation on the training rows; the stance head is fitted 13 times, the topic
    /// head 37.
    #[arg(long)]
    tune: bool,
}

impl ModelOptions {
    fn train_options(&self) -> Result<TrainOptions> {
        for (flag, alpha) in [("--alpha", self.alpha), ("--topic-alpha", self.topic_alpha)] {
            if !(alpha > 0.0 && alpha.is_finite()) {
                return Err(Error::input(format!(
                    "{flag} must be a positive number, not {alpha}"
                )));
            }
        }
        let solver = SoftmaxRegression {
            alpha: self.alpha,
            max_iterations: self.max_iter,
            tolerance: self.tol,
        };
        Ok(TrainOptions {
            features: FeatureOptions {
                min_df: self.min_df.max(1),
                negation: self.negation,
                char_ngrams: self.char_ngrams,
            },
            topic_solver: SoftmaxRegression {
                alpha: self.topic_alpha,
                tolerance: self.topic_tol,
                ..solver.clone()
            },
            solver,
            topic_aware_stance: !self.no_topic_features,
            balanced_stance: !self.no_balance,
            tune: self.tune,
            topic_head: true,
            topic_naive_bayes: !self.no_naive_bayes,
        })
    }
}

#[derive(Args)]
struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Where to write the model.
    #[arg(long, default_value = "stance.model", value_name = "PATH")]
    model: PathBuf,
    #[command(flatten)]
    options: ModelOptions,
}

/// Report format of `eval`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReportFormat {
    /// Readable tables.
    Text,
    /// One JSON document.
    Json,
}

#[derive(Args)]
struct EvalArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The model to score (required unless --cv).
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "cv",
        conflicts_with = "cv"
    )]
    model: Option<PathBuf>,
    /// Run stratified K-fold cross-validation of the training options on --data instead.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(2..=100))]
    cv: Option<u32>,
    /// Seed of the fold assignment for --cv.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// After the scores, explain each row's prediction: the features that pushed most toward
    /// the predicted label against the runner-up.
    #[arg(long, conflicts_with = "cv")]
    explain: bool,
    /// How many features --explain shows per label.
    #[arg(long, value_name = "N", default_value_t = 5)]
    explain_top: usize,
    #[command(flatten)]
    options: ModelOptions,
}

/// Articles to read and how to write their statements.
#[derive(Args)]
struct ArticleArgs {
    /// Articles: UTF-8 text files, folders (read recursively) or `-` for standard input
    /// (the default).
    #[arg(value_name = "FILE|DIR|-")]
    inputs: Vec<PathBuf>,
    /// Output format (default: table on a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
}

#[derive(Args)]
struct ClassifyArgs {
    #[command(flatten)]
    articles: ArticleArgs,
    /// The model (default: the bundled models/default.model).
    #[arg(long, value_name = "PATH")]
    model: Option<PathBuf>,
    /// The topic of every statement, given to the stance head instead of the predicted one.
    #[arg(long, value_name = "TOPIC")]
    topic: Option<String>,
    /// Print one summary per article (sentences per topic and stance, quotes per speaker and
    /// stance) instead of the statements.
    #[arg(long, conflicts_with = "explain")]
    summary: bool,
    /// Show, for each label, the features that pushed most toward it against the runner-up.
    #[arg(long)]
    explain: bool,
    /// How many features --explain shows per label.
    #[arg(long, value_name = "N", default_value_t = 5)]
    explain_top: usize,
    /// Weight (0-1) of the article's mean topic distribution in each statement's topic; 0 labels
    /// every statement on its own.
    #[arg(long, value_name = "W", default_value_t = 0.5)]
    article_context: f64,
}

#[derive(Args)]
struct SegmentArgs {
    #[command(flatten)]
    articles: ArticleArgs,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_INPUT } else { EXIT_OK });
        }
    };
    let result = match cli.command {
        Command::Train(args) => train(args),
        Command::Eval(args) => evaluate(args),
        Command::Classify(args) => classify(args),
        Command::Segment(args) => segment(args.articles),
        Command::Inspect(args) => inspect(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(match e.kind() {
                ErrorKind::Input | ErrorKind::Io => EXIT_INPUT,
                ErrorKind::Internal => EXIT_INTERNAL,
            })
        }
    }
}

/// A spinner on stderr; indicatif draws nothing when stderr is not a terminal.
fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn stage_message(stage: Stage) -> &'static str {
    match stage {
        Stage::Featurizing => "building TF-IDF features",
        Stage::Fitting => "fitting the topic and stance heads",
    }
}

/// Writes to stdout, treating a closed pipe (`| head`) as a normal end.
fn write_stdout(text: &str) -> Result<u8> {
    match std::io::stdout().write_all(text.as_bytes()) {
        Ok(()) => Ok(EXIT_OK),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(EXIT_OK),
        Err(e) => Err(Error::io(Path::new("<stdout>"), "write", &e)),
    }
}

fn train(args: TrainArgs) -> Result<u8> {
    let mut options = args.options.train_options()?;
    options.topic_head = args.data.only != Some(OnlyHead::Stance);
    model::check_destination(&args.model)?;
    let corpus = args.data.load()?;
    let bar = spinner("reading");
    let trained = Model::train(&corpus.examples, &options, |stage| {
        bar.set_message(stage_message(stage))
    });
    bar.finish_and_clear();
    let (model, summary) = trained.map_err(|e| e.context(args.data.data.display()))?;
    model.save(&args.model)?;
    write_stdout(&output::train_summary(
        &summary,
        &args.model.display().to_string(),
    ))
}

fn evaluate(args: EvalArgs) -> Result<u8> {
    let corpus = args.data.load()?;
    if let Some(k) = args.cv {
        let mut options = args.options.train_options()?;
        options.topic_head = args.data.only != Some(OnlyHead::Stance);
        let bar = spinner("cross-validating");
        let cv = eval::cross_validate(&corpus.examples, k as usize, args.seed, &options, |f| {
            bar.set_message(format!("fold {} of {k}", f + 1))
        });
        bar.finish_and_clear();
        let cv = cv.map_err(|e| e.context(args.data.data.display()))?;
        return write_stdout(&match args.format {
            ReportFormat::Text => output::cross_validation_report(&cv),
            ReportFormat::Json => to_json(&cv)?,
        });
    }
    let path = args.model.expect("clap requires --model without --cv");
    let model = Model::load(&path)?;
    let evaluation = eval::evaluate(&model, &corpus.examples);
    let explanations: Vec<output::RowExplanation> = if args.explain {
        corpus
            .examples
            .iter()
            .map(|e| output::RowExplanation {
                line: e.line,
                text: e.text.clone(),
                gold_topic: e.topic.clone(),
                gold_stance: e.stance.clone(),
                explained: model.explain(&e.text, e.topic.as_deref(), None, args.explain_top),
            })
            .collect()
    } else {
        Vec::new()
    };
    write_stdout(&match args.format {
        ReportFormat::Text => {
            output::evaluation_report(&evaluation) + &output::explanations_report(&explanations)
        }
        ReportFormat::Json if args.explain => to_json(&serde_json::json!({
            "evaluation": evaluation,
            "explanations": explanations,
        }))?,
        ReportFormat::Json => to_json(&evaluation)?,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| Error::internal(format!("cannot encode JSON: {e}")))
}

/// The bundled default model, next to the sources this binary was built from.
fn default_model_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join("default.model")
}

/// One article to classify.
enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    fn name(&self) -> String {
        match self {
            Input::Stdin => "-".into(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

/// Expands the command-line inputs: folders become their files (sorted, recursively).
fn expand_inputs(args: &[PathBuf]) -> Vec<std::result::Result<Input, Error>> {
    let mut out = Vec::new();
    if args.is_empty() {
        out.push(Ok(Input::Stdin));
    }
    for arg in args {
        if arg.as_os_str() == "-" {
            out.push(Ok(Input::Stdin));
        } else if arg.is_dir() {
            for entry in walkdir::WalkDir::new(arg).sort_by_file_name() {
                match entry {
                    Ok(e) if e.file_type().is_file() => out.push(Ok(Input::File(e.into_path()))),
                    Ok(_) => {}
                    Err(e) => out.push(Err(Error::input(format!(
                        "{}: cannot read: {e}",
                        e.path().unwrap_or(arg).display()
                    )))),
                }
            }
        } else {
            out.push(Ok(Input::File(arg.clone())));
        }
    }
    out
}

/// Opens an article for reading in pieces.
fn open_article(input: &Input) -> Result<ArticleReader<Box<dyn Read + Send>>> {
    Ok(match input {
        Input::Stdin => ArticleReader::new("<stdin>", Box::new(std::io::stdin()), true),
        Input::File(p) => {
            let file = std::fs::File::open(p).map_err(|e| Error::io(p, "open", &e))?;
            ArticleReader::new(p.display().to_string(), Box::new(file), false)
        }
    })
}

/// What to do with the statements of each article.
struct Labeller<'m> {
    model: Option<&'m Model>,
    /// Weight of the article's mean topic distribution in each statement's topic.
    context: f64,
    topic: Option<String>,
    summary: bool,
    explain: Option<usize>,
}

/// Segments (and with a model, classifies) every input, piece by piece, writing records as they
/// are made. A bad input is reported and skipped; a failed write ends the run.
fn run_articles(articles: &ArticleArgs, labeller: &Labeller) -> Result<u8> {
    if articles.inputs.is_empty() && std::io::stdin().is_terminal() {
        return Err(Error::input(
            "no input: give article files or folders, or pipe text into standard input",
        ));
    }
    let stdout = std::io::stdout();
    let format = articles.format.unwrap_or(if stdout.is_terminal() {
        Format::Table
    } else {
        Format::Jsonl
    });
    let mut out = stdout.lock();
    let mut writer = RecordWriter::new(format, &mut out, labeller.model.is_some());
    let mut summaries = Vec::new();
    let mut failures = 0;
    for input in expand_inputs(&articles.inputs) {
        let mut summary = ArticleSummary::new(&input.as_ref().map_or(String::new(), Input::name));
        match input.and_then(|input| {
            let eager = matches!(input, Input::Stdin);
            process_article(&input, labeller, |event| match event {
                Event::Statement(r) if labeller.summary => {
                    summary.add(r);
                    Ok(())
                }
                Event::Statement(r) => writer.write(r),
                // Piped text is answered paragraph by paragraph.
                Event::PieceDone if eager && !labeller.summary => writer.flush(),
                Event::PieceDone => Ok(()),
            })
        }) {
            Ok(Ok(())) => {}
            Ok(Err(write_error)) => return write_failed(write_error),
            Err(e) => {
                eprintln!("error: {e}");
                failures += 1;
            }
        }
        if labeller.summary && summary.statements > 0 {
            summaries.push(summary);
        }
        if let Err(e) = writer.flush() {
            return write_failed(e);
        }
    }
    drop(writer);
    for (i, s) in summaries.iter().enumerate() {
        if let Err(e) = s.write(format, &mut out, i == 0) {
            return write_failed(e);
        }
    }
    if let Err(e) = out.flush() {
        return write_failed(e);
    }
    Ok(if failures > 0 { EXIT_PARTIAL } else { EXIT_OK })
}

/// Ends a run whose output could not be written; a closed pipe (`| head`) is a normal end.
fn write_failed(e: std::io::Error) -> Result<u8> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(EXIT_OK)
    } else {
        Err(Error::io(Path::new("<stdout>"), "write", &e))
    }
}

/// What [`process_article`] hands on.
enum Event<'r> {
    /// A statement's record.
    Statement(&'r Record),
    /// The end of a piece of the article (a point to flush output).
    PieceDone,
}

/// One piece of an article split into statements, with their quote attributions: what the
/// reading thread of [`process_article`] hands to the labelling one.
struct SegmentedPiece {
    piece: stance::input::Piece,
    /// Kind, start and end (offsets into the article) of each statement.
    statements: Vec<(StatementKind, usize, usize)>,
    attributions: Vec<text::Attribution>,
}

/// Reads an article piece by piece, segments each piece and attributes its quotes, and sends
/// the results on in order; stops after an error or when the receiver is gone.
fn segment_pieces(
    mut reader: ArticleReader<Box<dyn Read + Send>>,
    to_labeller: std::sync::mpsc::SyncSender<Result<SegmentedPiece>>,
) {
    let mut segmenter = Segmenter::new();
    loop {
        let next = reader.next_piece().map(|piece| {
            piece.map(|piece| {
                let statements = segmenter.push(&piece.text, piece.base);
                let attributions = text::attribute(&piece.text, piece.base, &statements);
                let statements = statements
                    .iter()
                    .map(|s| (s.kind, s.start, s.end))
                    .collect();
                SegmentedPiece {
                    piece,
                    statements,
                    attributions,
                }
            })
        });
        let (message, last) = match next {
            Ok(Some(segmented)) => (Ok(segmented), false),
            Ok(None) => return,
            Err(e) => (Err(e), true),
        };
        if to_labeller.send(message).is_err() || last {
            return;
        }
    }
}

/// Reads one article in pieces and hands each statement's record to `emit`. The outer error is
/// the input's (reported, then the next input is read); the inner one is `emit`'s. Reading,
/// segmenting and quote attribution run on a thread of their own, a piece ahead of labelling
/// and output.
fn process_article(
    input: &Input,
    labeller: &Labeller,
    emit: impl FnMut(Event<'_>) -> std::io::Result<()>,
) -> Result<std::io::Result<()>> {
    let source = input.name();
    let reader = open_article(input)?;
    let (to_labeller, pieces) = std::sync::mpsc::sync_channel(1);
    // Not a scoped thread: when output fails (a closed pipe) this returns at once instead of
    // waiting for the reader to see more input; the reader stops at its next send.
    let reading = std::thread::spawn(move || segment_pieces(reader, to_labeller));
    let labelled = label_pieces(pieces, &source, labeller, emit);
    if matches!(labelled, Ok(Ok(()))) {
        // Every piece arrived, or the reader stopped early: a panic there must not pass for the
        // end of the article.
        if let Err(panic) = reading.join() {
            std::panic::resume_unwind(panic);
        }
    }
    labelled
}

/// Labels the statements of each segmented piece as it arrives and hands their records to
/// `emit`, with the same two layers of errors as [`process_article`].
fn label_pieces(
    pieces: std::sync::mpsc::Receiver<Result<SegmentedPiece>>,
    source: &str,
    labeller: &Labeller,
    mut emit: impl FnMut(Event<'_>) -> std::io::Result<()>,
) -> Result<std::io::Result<()>> {
    let mut index = 0;
    for segmented in pieces {
        let SegmentedPiece {
            piece,
            statements,
            attributions,
        } = segmented?;
        let text_of = |start: usize, end: usize| &piece.text[start - piece.base..end - piece.base];
        let labels = labeller.model.map(|model| {
            let texts: Vec<&str> = statements.iter().map(|&(_, a, b)| text_of(a, b)).collect();
            match &labeller.topic {
                Some(t) => model.predict(&texts, Some(&vec![Some(t.clone()); texts.len()])),
                None => {
                    let counts: Vec<bool> = statements
                        .iter()
                        .map(|&(kind, _, _)| kind == StatementKind::Sentence)
                        .collect();
                    model.predict_in_article(&texts, &counts, labeller.context)
                }
            }
        });
        for (i, (&(kind, start, end), a)) in statements.iter().zip(attributions).enumerate() {
            let text = text_of(start, end);
            // Bylines, datelines and meta lines say who and where, not what: no labels.
            let labelled = matches!(kind, StatementKind::Sentence | StatementKind::Heading);
            let l = labels.as_ref().map(|l| &l[i]).filter(|_| labelled);
            let record = Record {
                source: source.to_string(),
                index,
                kind: kind.as_str(),
                start,
                end,
                text: text.to_string(),
                quoted: a.quoted,
                speaker: a.speaker,
                topic: l.and_then(|l| l.topic.as_ref().map(|p| p.label.clone())),
                topic_probability: l.and_then(|l| l.topic.as_ref().map(|p| p.probability)),
                stance: l.and_then(|l| l.stance.as_ref().map(|p| p.label.clone())),
                stance_probability: l.and_then(|l| l.stance.as_ref().map(|p| p.probability)),
                // The explained labels are the printed ones: the topic mixed with the
                // article's, and the stance under the topic it was predicted with (given, or
                // that one).
                explanation: match (labeller.model, labeller.explain) {
                    (Some(m), Some(n)) if labelled => {
                        let printed = l.and_then(|l| l.topic.as_ref().map(|p| p.label.as_str()));
                        Some(m.explain(text, labeller.topic.as_deref().or(printed), printed, n))
                    }
                    _ => None,
                },
            };
            index += 1;
            if let Err(e) = emit(Event::Statement(&record)) {
                return Ok(Err(e));
            }
        }
        if let Err(e) = emit(Event::PieceDone) {
            return Ok(Err(e));
        }
    }
    Ok(Ok(()))
}

fn inspect(args: InspectArgs) -> Result<u8> {
    let model = Model::load(&resolve_model(args.model.as_ref())?)?;
    let readable = match &args.data {
        Some(path) => {
            let corpus = corpus::load(path, &LoadOptions::default())?;
            let texts: Vec<&str> = corpus.examples.iter().map(|e| e.text.as_str()).collect();
            stance::features::common_surface_forms(&texts)
        }
        None => Default::default(),
    };
    let inspection = model.inspect(args.top, &readable);
    write_stdout(&match args.format {
        ReportFormat::Text => output::inspection_report(&inspection),
        ReportFormat::Json => to_json(&inspection)?,
    })
}

/// The model path given, or the bundled default model.
fn resolve_model(given: Option<&PathBuf>) -> Result<PathBuf> {
    match given {
        Some(p) => Ok(p.clone()),
        None => {
            let p = default_model_path();
            if !p.exists() {
                return Err(Error::input(format!(
                    "no --model given and the bundled default model {} is not there; train one with `stance train --data FILE --model PATH` and pass --model PATH",
                    p.display()
                )));
            }
            Ok(p)
        }
    }
}

fn classify(args: ClassifyArgs) -> Result<u8> {
    if !(0.0..=1.0).contains(&args.article_context) {
        return Err(Error::input(format!(
            "--article-context must be between 0 and 1, not {}",
            args.article_context
        )));
    }
    let model_path = resolve_model(args.model.as_ref())?;
    // The segmenter's patterns compile on the other core while the model loads.
    std::thread::spawn(text::compile_patterns);
    let model = Model::load(&model_path)?;
    run_articles(
        &args.articles,
        &Labeller {
            model: Some(&model),
            context: args.article_context,
            topic: args.topic,
            summary: args.summary,
            explain: args.explain.then_some(args.explain_top),
        },
    )
}

fn segment(args: ArticleArgs) -> Result<u8> {
    run_articles(
        &args,
        &Labeller {
            model: None,
            context: 0.0,
            topic: None,
            summary: false,
            explain: None,
        },
    )
}
