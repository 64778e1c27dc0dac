//! The learned half of the red-flag detector: a logistic regression over
//! word (one and two words) and character (3 to 5 letters within a word)
//! n-grams, weighted TF-IDF, trained only on the blind training batches in
//! this repository (`cargo run --release -p sealbox-model --example
//! train_triage` writes `learned_model.tsv`; a test trains again and checks
//! the file is exactly what the data gives). It catches paraphrases the
//! rules have no words for; it runs in process, offline, in microseconds.
//!
//! It explains itself with the words of the message that weighed most
//! towards urgent, so the clinician sees why, as with a rule.

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use super::corpus::{parse_jsonl, CorpusError};

/// Where the learned flag says it comes from.
pub const LEARNED_RULE_ID: &str = "learned";
/// What the clinician sees.
/// What the clinician sees (followed by "; nearest: " and the nearest
/// urgent training message's presentation).
pub const LEARNED_LABEL: &str = "resembles urgent messages (learned)";

/// The trained model, as shipped.
pub const MODEL_TEXT: &str = include_str!("learned_model.tsv");
/// The urgent training messages with their presentations (`presentation`
/// TAB `text` per line), so a learned flag can name the nearest one.
pub const EXEMPLARS_TEXT: &str = include_str!("learned_exemplars.tsv");

/// The blind training batches (in `crates/model/tests/fixtures/blind/`)
/// the shipped model is trained on. Batches 2 and 4 are held out: never
/// trained or tuned on.
pub const TRAINING_BATCHES: &[&str] = &["batch1.jsonl", "batch3.jsonl", "batch5.jsonl"];

/// The shipped decision threshold on the probability, chosen by training
/// on some training batches and scoring another (docs/triage-rules.md).
pub const SHIPPED_THRESHOLD: f32 = 0.6;

/// `(text, urgent)` from a labelled JSON Lines batch (read as every
/// corpus is, by `corpus::parse_jsonl`); a line without a label is an error.
pub fn training_examples(jsonl: &str) -> Result<Vec<(String, bool)>, CorpusError> {
    parse_jsonl(jsonl)?
        .into_iter()
        .map(|l| match l.urgent {
            Some(urgent) => Ok((l.text.reveal().to_owned(), urgent)),
            None => Err(CorpusError::BadUrgent { line: l.line }),
        })
        .collect()
}

/// Smallest number of training messages a feature must appear in.
const MIN_DF: u32 = 2;
/// Inverse regularisation strength (as in scikit-learn's `C`).
const C: f64 = 4.0;
/// Gradient steps in training (deterministic: full batch, fixed order).
const STEPS: usize = 1_500;
/// Words shown to explain a learned flag.
const EXPLAIN_WORDS: usize = 3;

/// The model file is not one training wrote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the learned red-flag model is damaged at line {line}")]
pub struct ModelError {
    /// 1-based line number.
    pub line: usize,
}

/// Which n-gram family a feature is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Block {
    Words,
    Chars,
}

#[derive(Debug, Clone, Copy)]
struct Feature {
    /// Its place among all features (words first, then chars).
    index: u32,
    idf: f32,
    weight: f32,
}

/// An urgent training message as a sparse vector, with its presentation.
struct Exemplar {
    presentation: String,
    vector: Vec<(u32, f32)>,
}

/// A trained model: feature → (IDF, weight), a bias and the decision
/// threshold on the probability.
pub struct LearnedModel {
    words: FxHashMap<String, Feature>,
    chars: FxHashMap<String, Feature>,
    bias: f32,
    threshold: f32,
    /// Vectorised on first use (only a learned flag needs them).
    exemplars: std::sync::OnceLock<Vec<Exemplar>>,
}

impl std::fmt::Debug for LearnedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LearnedModel")
            .field("words", &self.words.len())
            .field("chars", &self.chars.len())
            .field("threshold", &self.threshold)
            .finish()
    }
}

/// What the model made of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnedScore {
    /// Probability the message is urgent.
    pub probability: f32,
    /// At or above the threshold.
    pub urgent: bool,
    /// The message's words (lower case) that pushed most towards urgent,
    /// strongest first.
    pub words: Vec<String>,
    /// The presentation of the most similar urgent training message (when
    /// urgent and the exemplars are known).
    pub nearest: Option<String>,
}

/// Every n-gram of `lower` (the text in lower case) in `block`, in order
/// (with repeats).
fn ngrams(lower: &str, block: Block, mut each: impl FnMut(&str)) {
    let mut buf = String::new();
    match block {
        Block::Words => {
            let tokens: Vec<&str> = lower
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|t| t.chars().count() >= 2)
                .collect();
            for (i, t) in tokens.iter().enumerate() {
                each(t);
                if let Some(next) = tokens.get(i + 1) {
                    buf.clear();
                    buf.push_str(t);
                    buf.push(' ');
                    buf.push_str(next);
                    each(&buf);
                }
            }
        }
        Block::Chars => {
            for word in lower.split_whitespace() {
                let padded: Vec<char> =
                    std::iter::once(' ').chain(word.chars()).chain(std::iter::once(' ')).collect();
                for n in 3..=5 {
                    if padded.len() <= n {
                        buf.clear();
                        buf.extend(&padded);
                        each(&buf);
                        break;
                    }
                    for window in padded.windows(n) {
                        buf.clear();
                        buf.extend(window);
                        each(&buf);
                    }
                }
            }
        }
    }
}

/// Sublinear TF (1 + ln count) × IDF over the features `known` holds,
/// L2-normalised: (feature, value) pairs.
fn vector<'m, V, S: std::hash::BuildHasher>(
    lower: &str,
    block: Block,
    known: &'m HashMap<String, V, S>,
    idf: impl Fn(&V) -> f32,
) -> Vec<(&'m str, &'m V, f32)> {
    let mut counts: FxHashMap<&'m str, (&'m V, u32)> = FxHashMap::default();
    ngrams(lower, block, |g| {
        if let Some((k, v)) = known.get_key_value(g) {
            counts.entry(k.as_str()).or_insert((v, 0)).1 += 1;
        }
    });
    let mut out: Vec<(&str, &V, f32)> =
        counts.into_iter().map(|(k, (v, n))| (k, v, (1.0 + (n as f32).ln()) * idf(v))).collect();
    // A fixed order before any sum, so every run gives the same bits.
    out.sort_by(|a, b| a.0.cmp(b.0));
    let norm = out.iter().map(|(_, _, x)| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, _, x) in &mut out {
            *x /= norm;
        }
    }
    out
}

/// The dot product of two sparse vectors sorted by index.
fn sparse_dot(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        match x.0.cmp(&y.0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += x.1 * y.1;
                i += 1;
                j += 1;
            }
        }
    }
    sum
}

/// The exemplars file for `batches` (labelled JSON Lines): every urgent
/// message as `presentation` TAB `text`, whitespace flattened.
pub fn exemplars_text(batches: &[&str]) -> String {
    #[derive(serde::Deserialize)]
    struct Labelled {
        text: String,
        urgent: bool,
        #[serde(default)]
        presentation: String,
    }
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::from(
        "# Urgent training messages (presentation, text): written by train_triage; do not edit.\n",
    );
    for batch in batches {
        for line in batch.lines().filter(|l| !l.trim().is_empty()) {
            if let Ok(m) = serde_json::from_str::<Labelled>(line) {
                if m.urgent {
                    out.push_str(&format!("{}\t{}\n", flat(&m.presentation), flat(&m.text)));
                }
            }
        }
    }
    out
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl LearnedModel {
    /// The shipped model.
    pub fn shipped() -> Result<LearnedModel, ModelError> {
        LearnedModel::parse(MODEL_TEXT)
    }

    /// Reads a model file (see [`LearnedModel::to_text`]).
    pub fn parse(text: &str) -> Result<LearnedModel, ModelError> {
        let mut model = LearnedModel {
            words: FxHashMap::default(),
            chars: FxHashMap::default(),
            bias: f32::NAN,
            threshold: f32::NAN,
            exemplars: std::sync::OnceLock::new(),
        };
        let mut index = 0u32;
        for (i, line) in text.lines().enumerate() {
            let bad = ModelError { line: i + 1 };
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let mut cols = line.splitn(4, '\t');
            let kind = cols.next().ok_or(bad.clone())?;
            let number = |s: Option<&str>| s.and_then(|s| s.parse::<f32>().ok()).ok_or(bad.clone());
            match kind {
                "bias" => model.bias = number(cols.next())?,
                "threshold" => model.threshold = number(cols.next())?,
                "w" | "c" => {
                    let idf = number(cols.next())?;
                    let weight = number(cols.next())?;
                    let feature = cols.next().ok_or(bad.clone())?.to_owned();
                    let map = if kind == "w" { &mut model.words } else { &mut model.chars };
                    map.insert(feature, Feature { index, idf, weight });
                    index += 1;
                }
                _ => return Err(bad),
            }
        }
        if !model.bias.is_finite() || !model.threshold.is_finite() {
            return Err(ModelError { line: 0 });
        }
        Ok(model)
    }

    /// The model as a file: header, bias, threshold, then one feature per
    /// line (`w` or `c`, IDF, weight, the n-gram), sorted.
    pub fn to_text(&self) -> String {
        let mut out = String::from(
            "# Sealbox learned red-flag model. Written by `cargo run --release -p sealbox-model --example train_triage`;\n# do not edit: a test trains again from the blind training batches and compares.\n",
        );
        out.push_str(&format!("bias\t{:.6}\nthreshold\t{:.3}\n", self.bias, self.threshold));
        for (kind, map) in [("w", &self.words), ("c", &self.chars)] {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for k in keys {
                let f = map[k];
                out.push_str(&format!("{kind}\t{:.6}\t{:.6}\t{k}\n", f.idf, f.weight));
            }
        }
        out
    }

    /// The decision threshold on the probability.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Scores `text`.
    pub fn score(&self, text: &str) -> LearnedScore {
        let lower = text.to_lowercase();
        let words = vector(&lower, Block::Words, &self.words, |f| f.idf);
        let chars = vector(&lower, Block::Chars, &self.chars, |f| f.idf);
        let z = f64::from(self.bias)
            + words.iter().chain(&chars).map(|(_, f, x)| f64::from(f.weight) * f64::from(*x)).sum::<f64>();
        let probability = sigmoid(z) as f32;
        let urgent = probability >= self.threshold;
        let nearest = if urgent { self.nearest(&words, &chars) } else { None };
        let mut pushing: Vec<(&str, f32)> =
            words.iter().map(|(k, f, x)| (*k, f.weight * x)).filter(|(_, c)| *c > 0.0).collect();
        pushing.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        LearnedScore {
            probability,
            urgent,
            words: pushing.into_iter().take(EXPLAIN_WORDS).map(|(k, _)| k.to_owned()).collect(),
            nearest,
        }
    }

    /// The presentation of the urgent training message most like this one
    /// (cosine over the same TF-IDF vectors).
    fn nearest(&self, words: &[(&str, &Feature, f32)], chars: &[(&str, &Feature, f32)]) -> Option<String> {
        let mut mine: Vec<(u32, f32)> = words.iter().chain(chars).map(|(_, f, x)| (f.index, *x)).collect();
        mine.sort_by_key(|(i, _)| *i);
        let exemplars = self.exemplars.get_or_init(|| self.vectorise_exemplars(EXEMPLARS_TEXT));
        let mut best: Option<(f32, &str)> = None;
        for e in exemplars {
            let similarity = sparse_dot(&mine, &e.vector);
            if best.is_none_or(|(b, _)| similarity > b) {
                best = Some((similarity, &e.presentation));
            }
        }
        best.filter(|(s, _)| *s > 0.0).map(|(_, p)| p.to_owned())
    }

    fn vectorise_exemplars(&self, text: &str) -> Vec<Exemplar> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(presentation, message)| {
                let lower = message.to_lowercase();
                let words = vector(&lower, Block::Words, &self.words, |f| f.idf);
                let chars = vector(&lower, Block::Chars, &self.chars, |f| f.idf);
                let mut v: Vec<(u32, f32)> =
                    words.iter().chain(&chars).map(|(_, f, x)| (f.index, *x)).collect();
                v.sort_by_key(|(i, _)| *i);
                Exemplar { presentation: presentation.to_owned(), vector: v }
            })
            .collect()
    }

    /// Trains on `(text, urgent)` examples: vocabulary (features in at
    /// least [`MIN_DF`] messages), IDF, then L2-regularised logistic
    /// regression with classes weighted to balance, by Nesterov-accelerated
    /// full-batch gradient descent for [`STEPS`] steps. Deterministic.
    pub fn train(examples: &[(&str, bool)], threshold: f32) -> LearnedModel {
        let n = examples.len();
        let mut blocks = Vec::new();
        for block in [Block::Words, Block::Chars] {
            let mut df: HashMap<String, u32> = HashMap::new();
            for (text, _) in examples {
                let mut seen = std::collections::HashSet::new();
                ngrams(&text.to_lowercase(), block, |g| {
                    if seen.insert(g.to_owned()) {
                        *df.entry(g.to_owned()).or_insert(0) += 1;
                    }
                });
            }
            let vocab: HashMap<String, (usize, f32)> = {
                let mut kept: Vec<(String, u32)> = df.into_iter().filter(|(_, d)| *d >= MIN_DF).collect();
                kept.sort();
                kept.into_iter()
                    .enumerate()
                    .map(|(i, (g, d))| {
                        let idf = (((1 + n) as f64) / f64::from(1 + d)).ln() + 1.0;
                        (g, (i, idf as f32))
                    })
                    .collect()
            };
            blocks.push((block, vocab));
        }
        // Column offsets: words first, then chars.
        let width: Vec<usize> = blocks.iter().map(|(_, v)| v.len()).collect();
        let rows: Vec<Vec<(usize, f64)>> = examples
            .iter()
            .map(|(text, _)| {
                let mut row = Vec::new();
                let mut offset = 0;
                for ((block, vocab), w) in blocks.iter().zip(&width) {
                    for (_, (i, _), x) in vector(&text.to_lowercase(), *block, vocab, |(_, idf)| *idf) {
                        row.push((offset + i, f64::from(x)));
                    }
                    offset += w;
                }
                row
            })
            .collect();
        let y: Vec<f64> = examples.iter().map(|(_, u)| if *u { 1.0 } else { 0.0 }).collect();
        let positives = y.iter().sum::<f64>();
        let class_weight = |label: f64| {
            let count = if label > 0.5 { positives } else { n as f64 - positives };
            n as f64 / (2.0 * count.max(1.0))
        };
        let sample_weight: Vec<f64> = y.iter().map(|l| class_weight(*l)).collect();
        let dims = width.iter().sum::<usize>() + 1; // last: bias
        let lambda = 1.0 / (C * n as f64);
        // Lipschitz bound of the mean loss's gradient: each row has norm ≤ √2
        // plus the bias term.
        let max_w = sample_weight.iter().cloned().fold(0.0, f64::max);
        let step = 1.0 / (0.25 * max_w * 3.0 + lambda);
        let gradient = |beta: &[f64]| {
            let mut g = vec![0.0; dims];
            for ((row, label), sw) in rows.iter().zip(&y).zip(&sample_weight) {
                let z = beta[dims - 1] + row.iter().map(|(i, x)| beta[*i] * x).sum::<f64>();
                let r = sw * (sigmoid(z) - label) / n as f64;
                for (i, x) in row {
                    g[*i] += r * x;
                }
                g[dims - 1] += r;
            }
            for (gi, bi) in g.iter_mut().zip(beta).take(dims - 1) {
                *gi += lambda * bi;
            }
            g
        };
        let mut beta = vec![0.0; dims];
        let mut previous = beta.clone();
        for t in 0..STEPS {
            let momentum = t as f64 / (t as f64 + 3.0);
            let look: Vec<f64> = beta.iter().zip(&previous).map(|(b, p)| b + momentum * (b - p)).collect();
            let g = gradient(&look);
            previous =
                std::mem::replace(&mut beta, look.iter().zip(&g).map(|(l, gi)| l - step * gi).collect());
        }
        let mut model = LearnedModel {
            words: FxHashMap::default(),
            chars: FxHashMap::default(),
            bias: beta[dims - 1] as f32,
            threshold,
            exemplars: std::sync::OnceLock::new(),
        };
        let mut offset = 0;
        for ((block, vocab), w) in blocks.into_iter().zip(&width) {
            let map = if block == Block::Words { &mut model.words } else { &mut model.chars };
            for (g, (i, idf)) in vocab {
                map.insert(g, Feature { index: 0, idf, weight: beta[offset + i] as f32 });
            }
            offset += w;
        }
        // What is shipped is what is read back: round through the file format.
        LearnedModel::parse(&model.to_text()).unwrap_or(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> LearnedModel {
        let examples = [
            ("took all my tablets and feel drowsy", true),
            ("took all of her pills with vodka, now drowsy", true),
            ("chest feels crushing and I am sweating", true),
            ("crushing chest and sweating badly", true),
            ("please renew my tablets", false),
            ("can I book my flu jab", false),
            ("renew my inhaler please", false),
            ("book a review of my tablets", false),
        ];
        LearnedModel::train(&examples, 0.5)
    }

    #[test]
    fn training_separates_what_it_saw_and_explains_with_the_message_words() {
        let model = tiny();
        let urgent = model.score("she took all her tablets and is drowsy");
        assert!(urgent.urgent, "{urgent:?}");
        assert!(
            !urgent.words.is_empty()
                && urgent.words.iter().all(|w| "she took all her tablets and is drowsy".contains(w.as_str()))
        );
        let routine = model.score("please renew my inhaler");
        assert!(!routine.urgent, "{routine:?}");
    }

    #[test]
    fn the_file_format_reads_back_exactly() {
        let model = tiny();
        let text = model.to_text();
        let again = LearnedModel::parse(&text).unwrap();
        assert_eq!(again.to_text(), text);
        assert_eq!(again.threshold(), 0.5);
    }

    #[test]
    fn a_damaged_model_file_is_refused_with_its_line() {
        assert_eq!(LearnedModel::parse("bias\t0\nthreshold\tx\n").unwrap_err(), ModelError { line: 2 });
        assert_eq!(
            LearnedModel::parse("bias\t0\nthreshold\t0.5\nq\t1\t1\tab\n").unwrap_err(),
            ModelError { line: 3 }
        );
        assert_eq!(
            LearnedModel::parse("w\t1\t1\tab\n").unwrap_err(),
            ModelError { line: 0 },
            "no bias or threshold"
        );
    }

    #[test]
    fn the_shipped_model_loads() {
        let model = LearnedModel::shipped().unwrap();
        assert_eq!(model.threshold(), SHIPPED_THRESHOLD);
    }
}
