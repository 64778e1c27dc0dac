//! The detector against the labelled corpus: fails below 0.95 recall on
//! urgent messages or below 0.90 precision, and prints both.
#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use sealbox_model::red_flags::corpus::{parse_jsonl, Scores};
use sealbox_model::red_flags::RedFlagDetector;

const CORPUS: &str = include_str!("fixtures/red_flags_corpus.jsonl");

#[test]
fn corpus_recall_and_precision_meet_the_bar() {
    let lines = parse_jsonl(CORPUS).unwrap();
    assert!(lines.len() >= 250, "corpus has only {} messages", lines.len());
    let urgent = lines.iter().filter(|l| l.urgent == Some(true)).count();
    assert!(urgent >= 80 && lines.len() - urgent >= 120, "corpus should hold both kinds in number");
    let detector = RedFlagDetector::new().unwrap();
    let mut scores = Scores::default();
    let mut misses = Vec::new();
    let mut false_alarms = Vec::new();
    for line in &lines {
        let expected = line.urgent.expect("every corpus line is labelled");
        let a = detector.assess(line.text.reveal());
        scores.add(expected, a.suggests_urgent());
        match (expected, a.suggests_urgent()) {
            (true, false) => misses.push(line.id.clone()),
            (false, true) => false_alarms.push(format!("{} {:?}", line.id, a.labels())),
            _ => {}
        }
    }
    println!(
        "red-flag corpus: {} messages ({} urgent): recall {:.3}, precision {:.3} (TP {}, FP {}, FN {}, TN {})",
        lines.len(),
        urgent,
        scores.recall(),
        scores.precision(),
        scores.true_positives,
        scores.false_positives,
        scores.false_negatives,
        scores.true_negatives
    );
    println!("missed urgent: {misses:?}");
    println!("false alarms: {false_alarms:?}");
    assert!(scores.recall() >= 0.95, "recall {:.3} below 0.95", scores.recall());
    assert!(scores.precision() >= 0.90, "precision {:.3} below 0.90", scores.precision());
}

#[test]
fn corpus_ids_are_unique_and_texts_distinct() {
    let lines = parse_jsonl(CORPUS).unwrap();
    let mut ids: Vec<&str> = lines.iter().map(|l| l.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), lines.len());
    let mut texts: Vec<&str> = lines.iter().map(|l| l.text.reveal()).collect();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), lines.len());
}
