//! Trains the red-flag detector's learned model on the blind training
//! batches and writes `crates/model/src/red_flags/learned_model.tsv`.
//!
//! Usage: `cargo run --release -p sealbox-model --example train_triage`
//!
//! With `--eval FILE.jsonl [--train A.jsonl B.jsonl …]`, writes nothing: it
//! trains on the given files (by default the training batches) and prints
//! recall and precision on FILE for the rules, the model and both, at
//! several thresholds: how the threshold was chosen (by training on some
//! training batches and scoring another). Never point it at a held-out
//! batch while choosing anything.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use sealbox_model::red_flags::learned::{
    exemplars_text, training_examples, LearnedModel, SHIPPED_THRESHOLD, TRAINING_BATCHES,
};
use sealbox_model::red_flags::RedFlagDetector;

fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/blind")
}

fn read(path: &std::path::Path) -> Result<Vec<(String, bool)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    training_examples(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("train_triage: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let mut eval = None;
    let mut train: Vec<std::path::PathBuf> = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--eval" => eval = Some(it.next().ok_or("--eval needs a file")?),
            "--train" => train.extend(it.by_ref().map(std::path::PathBuf::from)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if train.is_empty() {
        train = TRAINING_BATCHES.iter().map(|b| fixtures().join(b)).collect();
    }
    let mut examples = Vec::new();
    let mut texts = Vec::new();
    for path in &train {
        examples.extend(read(path)?);
        texts.push(std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    let borrowed: Vec<(&str, bool)> = examples.iter().map(|(t, u)| (t.as_str(), *u)).collect();
    let model = LearnedModel::train(&borrowed, SHIPPED_THRESHOLD);
    let Some(eval) = eval else {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/red_flags");
        let batches: Vec<&str> = texts.iter().map(String::as_str).collect();
        for (name, text) in
            [("learned_model.tsv", model.to_text()), ("learned_exemplars.tsv", exemplars_text(&batches))]
        {
            std::fs::write(dir.join(name), text).map_err(|e| format!("{name}: {e}"))?;
        }
        println!("trained on {} messages; wrote learned_model.tsv and learned_exemplars.tsv", examples.len());
        return Ok(());
    };
    let test = read(std::path::Path::new(&eval))?;
    let detector = RedFlagDetector::new().map_err(|e| e.to_string())?;
    let scored: Vec<(bool, bool, f32)> = test
        .iter()
        .map(|(text, urgent)| {
            (*urgent, detector.assess_rules(text).suggests_urgent(), model.score(text).probability)
        })
        .collect();
    let report = |name: &str, predict: &dyn Fn(bool, f32) -> bool| {
        let (mut tp, mut fp, mut fn_) = (0u32, 0u32, 0u32);
        for (urgent, rules, p) in &scored {
            match (*urgent, predict(*rules, *p)) {
                (true, true) => tp += 1,
                (true, false) => fn_ += 1,
                (false, true) => fp += 1,
                (false, false) => {}
            }
        }
        let recall = f64::from(tp) / f64::from((tp + fn_).max(1));
        let precision = f64::from(tp) / f64::from((tp + fp).max(1));
        println!("{name:<28} recall {recall:.3} precision {precision:.3}");
    };
    report("rules", &|r, _| r);
    for t in [0.3f32, 0.4, 0.5, 0.6, 0.7, 0.8] {
        report(&format!("model >= {t}"), &|_, p| p >= t);
        report(&format!("rules or model >= {t}"), &|r, p| r || p >= t);
    }
    Ok(())
}
