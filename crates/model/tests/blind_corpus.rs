//! The red-flag detector on blind messages (issue 22): written by people who
//! had not read the rules, frozen by hash before any rule changed, and
//! scored here. The floors are the figures measured at freezing
//! (docs/triage-rules.md, "Blind corpora"), so a change that makes the
//! detector worse on text nobody tuned it on fails; they rise as the rules
//! improve, towards the target (recall 0.95, precision 0.85 on
//! batch 2).
#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

use sealbox_model::red_flags::corpus::{parse_jsonl, Scores};
use sealbox_model::red_flags::RedFlagDetector;
use sha2::{Digest, Sha256};

/// 600 messages by two writers (adult and older-adult physical health;
/// children, pregnancy, mental health, safeguarding, overdose, allergy).
const BATCH1: &str = include_str!("fixtures/blind/batch1.jsonl");
/// 320 messages by a third writer across all of general practice: the
/// held-out estimate (never tuned on).
const BATCH2: &str = include_str!("fixtures/blind/batch2.jsonl");

/// SHA-256 of each file as frozen (also in fixtures/blind/SHA256SUMS).
const BATCH1_SHA256: &str = "ee2986c87c7117755f136ee9517cd094506e09e658e98c7307032872d6f99933";
const BATCH2_SHA256: &str = "b0aea2b6dc9e46714567fa23c3075036dfdde73fdfc30f822372ab6aa593de72";

/// (recall, precision) floors, measured at freezing and rounded down.
const BATCH1_FLOORS: (f64, f64) = (1.00, 0.97);
const BATCH2_FLOORS: (f64, f64) = (0.64, 0.94);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Scores `corpus`, prints the figures (and, for the batch rules may be
/// tuned on, the misses per presentation; batch 2 stays held out: its
/// figures only), and returns (recall, precision).
fn score(name: &str, corpus: &str, show_misses: bool) -> (f64, f64) {
    let lines = parse_jsonl(corpus).unwrap();
    let raw: Vec<serde_json::Value> =
        corpus.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(raw.len(), lines.len());
    let detector = RedFlagDetector::new().unwrap();
    let mut scores = Scores::default();
    let mut per: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    for (line, value) in lines.iter().zip(&raw) {
        let expected = line.urgent.expect("every blind line is labelled");
        let flagged = detector.assess(line.text.reveal()).suggests_urgent();
        scores.add(expected, flagged);
        let presentation = value["presentation"].as_str().unwrap_or("?");
        let base = presentation.split(" look-alike").next().unwrap_or(presentation).trim().to_lowercase();
        let entry = per.entry(base).or_default();
        match (expected, flagged) {
            (true, true) => entry.0 += 1,
            (true, false) => entry.1 += 1,
            (false, true) => entry.2 += 1,
            (false, false) => {}
        }
    }
    let urgent = lines.iter().filter(|l| l.urgent == Some(true)).count();
    println!(
        "blind {name}: {} messages ({urgent} urgent), {} presentations: recall {:.3}, precision {:.3} (TP {}, FP {}, FN {}, TN {})",
        lines.len(),
        per.len(),
        scores.recall(),
        scores.precision(),
        scores.true_positives,
        scores.false_positives,
        scores.false_negatives,
        scores.true_negatives
    );
    if !show_misses {
        return (scores.recall(), scores.precision());
    }
    let missed: Vec<String> = per
        .iter()
        .filter(|(_, c)| c.1 > 0)
        .map(|(p, c)| format!("{p}: {} of {} missed", c.1, c.0 + c.1))
        .collect();
    println!("blind {name}: presentations with urgent messages missed: {missed:?}");
    let alarms: Vec<String> =
        per.iter().filter(|(_, c)| c.2 > 0).map(|(p, c)| format!("{p}: {}", c.2)).collect();
    println!("blind {name}: false alarms by presentation: {alarms:?}");
    (scores.recall(), scores.precision())
}

#[test]
fn the_blind_batches_are_the_frozen_ones() {
    assert_eq!(hex(&Sha256::digest(BATCH1.as_bytes())), BATCH1_SHA256, "batch 1 was edited after freezing");
    assert_eq!(hex(&Sha256::digest(BATCH2.as_bytes())), BATCH2_SHA256, "batch 2 was edited after freezing");
    for (corpus, least) in [(BATCH1, 600), (BATCH2, 300)] {
        let lines = parse_jsonl(corpus).unwrap();
        assert!(lines.len() >= least, "{} messages", lines.len());
        let mut ids: Vec<&str> = lines.iter().map(|l| l.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), lines.len(), "ids are unique");
    }
}

#[test]
fn batch_1_holds_its_floors() {
    let (recall, precision) = score("batch 1", BATCH1, true);
    assert!(recall >= BATCH1_FLOORS.0, "recall {recall:.3} below {}", BATCH1_FLOORS.0);
    assert!(precision >= BATCH1_FLOORS.1, "precision {precision:.3} below {}", BATCH1_FLOORS.1);
}

#[test]
fn batch_2_holds_its_floors() {
    let (recall, precision) = score("batch 2", BATCH2, false);
    assert!(recall >= BATCH2_FLOORS.0, "recall {recall:.3} below {}", BATCH2_FLOORS.0);
    assert!(precision >= BATCH2_FLOORS.1, "precision {precision:.3} below {}", BATCH2_FLOORS.1);
}
