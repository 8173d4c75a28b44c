//! Scoring: confusion matrices, per-class precision / recall / F1, accuracy, macro-F1, the
//! SemEval-2016 Task 6 measure F_avg, and stratified K-fold cross-validation.
//!
//! The confusion matrix is our own rather than linfa's `ConfusionMatrix`: eval must print the
//! counts and per-class support (linfa keeps both private), average F1 the way the published
//! results do (mean of per-class F1, where linfa takes the harmonic mean of macro precision and
//! recall) and score zero-division cases as 0 rather than NaN. A test checks our per-class
//! figures against linfa's on the same predictions; it also shows that linfa 0.8's one-vs-all
//! precision and recall come out swapped, one more reason to keep our own.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::corpus::Example;
use crate::error::Result;
use crate::model::{Labelled, Model, Prediction, TrainOptions};

/// Counts of gold label (row) against predicted label (column).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfusionMatrix {
    /// Labels, in row and column order.
    pub labels: Vec<String>,
    /// `counts[gold][predicted]`.
    pub counts: Vec<Vec<usize>>,
}

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassScores {
    /// The class.
    pub label: String,
    /// Correct predictions of the class over all its predictions (0 when never predicted).
    pub precision: f64,
    /// Correct predictions of the class over its gold rows (0 when it has none).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// Gold rows of the class.
    pub support: usize,
}

/// The scores of one head on one set of rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeadScores {
    /// Rows scored.
    pub rows: usize,
    /// Share of rows predicted right.
    pub accuracy: f64,
    /// Mean F1 over the model's classes.
    pub macro_f1: f64,
    /// Mean of the support and oppose F1 (SemEval-2016 Task 6), where both classes exist.
    pub f_avg: Option<f64>,
    /// Per-class scores.
    pub classes: Vec<ClassScores>,
    /// The confusion matrix.
    pub confusion: ConfusionMatrix,
    /// Expected calibration error of the predicted label's probability (10 equal-width bins),
    /// where probabilities are known.
    pub ece: Option<f64>,
}

/// Expected calibration error: rows are put in `bins` equal-width bins by the probability given
/// to the predicted label, and the gaps between mean probability and accuracy in each bin are
/// averaged, weighted by the bin's share of rows (Guo et al., 2017).
pub fn expected_calibration_error(confidence: &[f64], correct: &[bool], bins: usize) -> f64 {
    let n = confidence.len().min(correct.len());
    if n == 0 || bins == 0 {
        return 0.0;
    }
    let mut sums = vec![(0usize, 0.0f64, 0usize); bins];
    for (&p, &ok) in confidence.iter().zip(correct) {
        let b = ((p * bins as f64) as usize).min(bins - 1);
        sums[b].0 += 1;
        sums[b].1 += p;
        sums[b].2 += usize::from(ok);
    }
    sums.iter()
        .filter(|(count, _, _)| *count > 0)
        .map(|&(count, p, right)| {
            (p / count as f64 - right as f64 / count as f64).abs() * count as f64
        })
        .sum::<f64>()
        / n as f64
}

/// Number of bins of the calibration error `eval` reports.
pub const CALIBRATION_BINS: usize = 10;

impl ConfusionMatrix {
    /// Counts `gold` against `predicted`. `labels` fixes the order; labels met in the data but
    /// missing from it are appended in sorted order.
    pub fn new(labels: &[String], gold: &[&str], predicted: &[&str]) -> Self {
        let mut all: Vec<String> = labels.to_vec();
        let mut extra: Vec<String> = gold
            .iter()
            .chain(predicted)
            .filter(|l| !all.iter().any(|a| a == *l))
            .map(|l| l.to_string())
            .collect();
        extra.sort();
        extra.dedup();
        all.extend(extra);
        let pos = |l: &str| all.iter().position(|a| a == l).expect("label listed");
        let mut counts = vec![vec![0; all.len()]; all.len()];
        for (g, p) in gold.iter().zip(predicted) {
            counts[pos(g)][pos(p)] += 1;
        }
        ConfusionMatrix {
            labels: all,
            counts,
        }
    }

    /// Scores of class `i`.
    pub fn class_scores(&self, i: usize) -> ClassScores {
        let tp = self.counts[i][i] as f64;
        let predicted: usize = self.counts.iter().map(|r| r[i]).sum();
        let support: usize = self.counts[i].iter().sum();
        let ratio = |a: f64, b: usize| if b == 0 { 0.0 } else { a / b as f64 };
        let precision = ratio(tp, predicted);
        let recall = ratio(tp, support);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        ClassScores {
            label: self.labels[i].clone(),
            precision,
            recall,
            f1,
            support,
        }
    }
}

/// Scores predictions against gold labels; macro-F1 averages over `model_labels`.
pub fn score(model_labels: &[String], gold: &[&str], predicted: &[&str]) -> HeadScores {
    let confusion = ConfusionMatrix::new(model_labels, gold, predicted);
    let classes: Vec<ClassScores> = (0..confusion.labels.len())
        .map(|i| confusion.class_scores(i))
        .collect();
    let correct = gold.iter().zip(predicted).filter(|(g, p)| g == p).count();
    let f1_of = |l: &str| classes.iter().find(|c| c.label == l).map(|c| c.f1);
    let macro_f1 = if model_labels.is_empty() {
        0.0
    } else {
        model_labels
            .iter()
            .map(|l| f1_of(l).unwrap_or(0.0))
            .sum::<f64>()
            / model_labels.len() as f64
    };
    let has = |l: &str| model_labels.iter().any(|m| m == l);
    let f_avg = (has("support") && has("oppose"))
        .then(|| (f1_of("support").unwrap_or(0.0) + f1_of("oppose").unwrap_or(0.0)) / 2.0);
    HeadScores {
        rows: gold.len(),
        accuracy: if gold.is_empty() {
            0.0
        } else {
            correct as f64 / gold.len() as f64
        },
        macro_f1,
        f_avg,
        classes,
        confusion,
        ece: None,
    }
}

/// The full evaluation of a model on labelled rows.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Topic head scores, on rows with a topic label.
    pub topic: Option<HeadScores>,
    /// Stance head scores, on rows with a stance label.
    pub stance: Option<HeadScores>,
    /// Stance scores per gold topic.
    pub stance_by_topic: Vec<(String, HeadScores)>,
}

/// Evaluates `model` on `examples`. A row's gold topic, where known, is given to the stance head.
pub fn evaluate(model: &Model, examples: &[Example]) -> Evaluation {
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let topics: Vec<Option<String>> = examples.iter().map(|e| e.topic.clone()).collect();
    let predictions = model.predict(&texts, Some(&topics));
    let topic_pred: Vec<Option<&str>> = predictions
        .iter()
        .map(|p| p.topic.as_ref().map(|t| t.label.as_str()))
        .collect();
    let stance_pred: Vec<Option<&str>> = predictions
        .iter()
        .map(|p| p.stance.as_ref().map(|t| t.label.as_str()))
        .collect();
    let topic_gold: Vec<Option<&str>> = examples.iter().map(|e| e.topic.as_deref()).collect();
    let stance_gold: Vec<Option<&str>> = examples.iter().map(|e| e.stance.as_deref()).collect();
    let all: Vec<usize> = (0..examples.len()).collect();
    let calibration = |gold: &[Option<&str>], pick: &dyn Fn(&Labelled) -> Option<&Prediction>| {
        let (confidence, correct): (Vec<f64>, Vec<bool>) = predictions
            .iter()
            .zip(gold)
            .filter_map(|(p, g)| {
                let (g, p) = ((*g)?, pick(p)?);
                Some((p.probability, p.label == g))
            })
            .unzip();
        expected_calibration_error(&confidence, &correct, CALIBRATION_BINS)
    };
    let topic = model.topic_head().map(|h| HeadScores {
        ece: Some(calibration(&topic_gold, &|p| p.topic.as_ref())),
        ..score_rows(&h.labels, &topic_gold, &topic_pred, &all)
    });
    let stance = model.stance_head().map(|h| HeadScores {
        ece: Some(calibration(&stance_gold, &|p| p.stance.as_ref())),
        ..score_rows(&h.labels, &stance_gold, &stance_pred, &all)
    });
    let mut stance_by_topic = Vec::new();
    if let Some(h) = model.stance_head() {
        let mut names: Vec<&str> = examples
            .iter()
            .filter(|e| e.stance.is_some())
            .filter_map(|e| e.topic.as_deref())
            .collect();
        names.sort();
        names.dedup();
        for name in names {
            let rows: Vec<usize> = (0..examples.len())
                .filter(|&i| topic_gold[i] == Some(name))
                .collect();
            stance_by_topic.push((
                name.to_string(),
                score_rows(&h.labels, &stance_gold, &stance_pred, &rows),
            ));
        }
    }
    Evaluation {
        topic,
        stance,
        stance_by_topic,
    }
}

/// Scores the given rows that have both a gold and a predicted label.
fn score_rows(
    labels: &[String],
    gold: &[Option<&str>],
    predicted: &[Option<&str>],
    rows: &[usize],
) -> HeadScores {
    let (g, p): (Vec<&str>, Vec<&str>) = rows
        .iter()
        .filter_map(|&i| Some((gold[i]?, predicted[i]?)))
        .unzip();
    score(labels, &g, &p)
}

/// Assigns each example to one of `k` folds, stratified by its (topic, stance) labels: each
/// label group is shuffled with `seed` and dealt round the folds in turn.
pub fn stratified_folds(examples: &[Example], k: usize, seed: u64) -> Vec<usize> {
    let mut groups: std::collections::BTreeMap<(Option<&str>, Option<&str>), Vec<usize>> =
        Default::default();
    for (i, e) in examples.iter().enumerate() {
        groups
            .entry((e.topic.as_deref(), e.stance.as_deref()))
            .or_default()
            .push(i);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fold = vec![0; examples.len()];
    let mut next = 0;
    for rows in groups.values_mut() {
        rows.shuffle(&mut rng);
        for &i in rows.iter() {
            fold[i] = next % k;
            next += 1;
        }
    }
    fold
}

/// Mean and standard deviation of one measure across folds.
#[derive(Debug, Clone, Serialize)]
pub struct MeanSd {
    /// Mean over folds.
    pub mean: f64,
    /// Sample standard deviation over folds.
    pub sd: f64,
}

impl MeanSd {
    fn of(values: &[f64]) -> Option<MeanSd> {
        if values.is_empty() {
            return None;
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = if values.len() > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        Some(MeanSd {
            mean,
            sd: var.sqrt(),
        })
    }
}

/// Cross-validated figures of one head.
#[derive(Debug, Clone, Serialize)]
pub struct CvHead {
    /// Accuracy across folds.
    pub accuracy: MeanSd,
    /// Macro-F1 across folds.
    pub macro_f1: MeanSd,
    /// F_avg across folds, for stance.
    pub f_avg: Option<MeanSd>,
    /// Expected calibration error across folds.
    pub ece: Option<MeanSd>,
}

/// The result of K-fold cross-validation.
#[derive(Debug, Clone, Serialize)]
pub struct CrossValidation {
    /// Number of folds.
    pub folds: usize,
    /// Topic head.
    pub topic: Option<CvHead>,
    /// Stance head.
    pub stance: Option<CvHead>,
    /// Each fold's evaluation.
    pub per_fold: Vec<Evaluation>,
}

/// Stratified K-fold cross-validation: trains with `options` on K-1 folds and evaluates on the
/// held-out one, K times. `progress` is told each fold as it starts.
pub fn cross_validate(
    examples: &[Example],
    k: usize,
    seed: u64,
    options: &TrainOptions,
    mut progress: impl FnMut(usize),
) -> Result<CrossValidation> {
    let fold = stratified_folds(examples, k, seed);
    let mut per_fold = Vec::with_capacity(k);
    for f in 0..k {
        progress(f);
        let train: Vec<Example> = examples
            .iter()
            .zip(&fold)
            .filter(|(_, &g)| g != f)
            .map(|(e, _)| e.clone())
            .collect();
        let test: Vec<Example> = examples
            .iter()
            .zip(&fold)
            .filter(|(_, &g)| g == f)
            .map(|(e, _)| e.clone())
            .collect();
        let (model, _) = Model::train(&train, options, |_| {})
            .map_err(|e| e.context(format!("fold {}", f + 1)))?;
        per_fold.push(evaluate(&model, &test));
    }
    let summarise = |pick: &dyn Fn(&Evaluation) -> Option<&HeadScores>| -> Option<CvHead> {
        let heads: Vec<&HeadScores> = per_fold.iter().filter_map(pick).collect();
        let acc: Vec<f64> = heads.iter().map(|h| h.accuracy).collect();
        let mf1: Vec<f64> = heads.iter().map(|h| h.macro_f1).collect();
        let favg: Vec<f64> = heads.iter().filter_map(|h| h.f_avg).collect();
        let ece: Vec<f64> = heads.iter().filter_map(|h| h.ece).collect();
        Some(CvHead {
            accuracy: MeanSd::of(&acc)?,
            macro_f1: MeanSd::of(&mf1)?,
            f_avg: MeanSd::of(&favg),
            ece: MeanSd::of(&ece),
        })
    };
    Ok(CrossValidation {
        folds: k,
        topic: summarise(&|e| e.topic.as_ref()),
        stance: summarise(&|e| e.stance.as_ref()),
        per_fold,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::prelude::*;
    use ndarray::Array1;

    fn labels(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn matches_a_hand_computed_confusion_matrix() {
        // gold:  S S S O O N N N N N
        // pred:  S S O O N N N N S O
        let gold = [
            "support", "support", "support", "oppose", "oppose", "neutral", "neutral", "neutral",
            "neutral", "neutral",
        ];
        let pred = [
            "support", "support", "oppose", "oppose", "neutral", "neutral", "neutral", "neutral",
            "support", "oppose",
        ];
        let s = score(&labels(&["neutral", "oppose", "support"]), &gold, &pred);
        assert_eq!(
            s.confusion.counts,
            vec![vec![3, 1, 1], vec![1, 1, 0], vec![0, 1, 2]]
        );
        assert!((s.accuracy - 0.6).abs() < 1e-12);
        // neutral: P 3/4, R 3/5, F1 2/3; oppose: P 1/3, R 1/2, F1 0.4; support: P 2/3, R 2/3, F1 2/3.
        let f1: Vec<f64> = s.classes.iter().map(|c| c.f1).collect();
        assert!(
            (f1[0] - 2.0 / 3.0).abs() < 1e-12
                && (f1[1] - 0.4).abs() < 1e-12
                && (f1[2] - 2.0 / 3.0).abs() < 1e-12
        );
        assert!(
            (s.classes[0].precision - 0.75).abs() < 1e-12
                && (s.classes[0].recall - 0.6).abs() < 1e-12
        );
        assert_eq!(
            s.classes.iter().map(|c| c.support).collect::<Vec<_>>(),
            [5, 2, 3]
        );
        assert!((s.macro_f1 - (2.0 / 3.0 + 0.4 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
        assert!((s.f_avg.unwrap() - (0.4 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn never_predicted_class_scores_zero_not_nan() {
        let s = score(&labels(&["a", "b"]), &["a", "b"], &["a", "a"]);
        assert_eq!(s.classes[1].precision, 0.0);
        assert_eq!(s.classes[1].f1, 0.0);
        assert!(s.f_avg.is_none());
        assert!((s.macro_f1 - (2.0 / 3.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn per_class_precision_and_recall_agree_with_linfa() {
        let gold = [0usize, 0, 1, 2, 2, 2, 1, 0, 1, 2, 2, 0];
        let pred = [0usize, 1, 1, 2, 0, 2, 1, 0, 2, 2, 1, 0];
        let names = labels(&["0", "1", "2"]);
        let g: Vec<String> = gold.iter().map(|v| v.to_string()).collect();
        let p: Vec<String> = pred.iter().map(|v| v.to_string()).collect();
        let ours = score(
            &names,
            &g.iter().map(String::as_str).collect::<Vec<_>>(),
            &p.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let cm = Array1::from(pred.to_vec())
            .confusion_matrix(Array1::from(gold.to_vec()))
            .unwrap();
        for (c, theirs) in ours.classes.iter().zip(cm.split_one_vs_all()) {
            // linfa 0.8 counts predictions in rows and truth in columns, then reads its one-vs-all
            // matrices the other way round, so its "precision" is the usual recall and vice versa
            // (class 1 here: 2 of 4 predictions right, 2 of 3 gold rows found: P 0.5, R 0.667).
            assert!(
                (c.precision - theirs.recall() as f64).abs() < 1e-6,
                "{}",
                c.label
            );
            assert!(
                (c.recall - theirs.precision() as f64).abs() < 1e-6,
                "{}",
                c.label
            );
        }
        assert!((ours.accuracy - cm.accuracy() as f64).abs() < 1e-6);
    }

    #[test]
    fn folds_are_stratified_and_seeded() {
        let ex = |t: &str, s: &str| Example {
            text: String::new(),
            topic: Some(t.into()),
            stance: Some(s.into()),
            line: 0,
        };
        let rows: Vec<Example> = (0..50)
            .map(|i| {
                ex(
                    if i % 2 == 0 { "a" } else { "b" },
                    if i % 5 == 0 { "x" } else { "y" },
                )
            })
            .collect();
        let f = stratified_folds(&rows, 5, 1);
        assert_eq!(f, stratified_folds(&rows, 5, 1));
        assert_ne!(f, stratified_folds(&rows, 5, 2));
        for k in 0..5 {
            let in_fold: Vec<&Example> = rows
                .iter()
                .zip(&f)
                .filter(|(_, &g)| g == k)
                .map(|(e, _)| e)
                .collect();
            assert_eq!(in_fold.len(), 10);
            assert_eq!(
                in_fold
                    .iter()
                    .filter(|e| e.stance.as_deref() == Some("x"))
                    .count(),
                2
            );
        }
    }

    #[test]
    fn calibration_error_of_perfect_and_overconfident_predictions() {
        // Probability 0.8, right 8 times in 10: perfectly calibrated.
        let conf = [0.8; 10];
        let right = [true, true, true, true, true, true, true, true, false, false];
        assert!(expected_calibration_error(&conf, &right, 10).abs() < 1e-12);
        // Probability 0.95 but right half the time: off by 0.45.
        let conf = [0.95; 4];
        let right = [true, false, true, false];
        assert!((expected_calibration_error(&conf, &right, 10) - 0.45).abs() < 1e-12);
        // Two bins weighted by their rows: |0.25-0| * 2/4 + |1.0-1| * 2/4.
        let conf = [0.25, 0.25, 1.0, 1.0];
        let right = [false, false, true, true];
        assert!((expected_calibration_error(&conf, &right, 10) - 0.125).abs() < 1e-12);
    }
}
