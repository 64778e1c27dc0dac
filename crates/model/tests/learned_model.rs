//! The shipped learned model is exactly what the blind training batches in
//! this repository give (nothing else went into it), and it only adds to
//! the rules: a message the rules flag is flagged whatever the model says.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use sealbox_model::red_flags::learned::{
    exemplars_text, training_examples, LearnedModel, EXEMPLARS_TEXT, LEARNED_RULE_ID, MODEL_TEXT,
    SHIPPED_THRESHOLD, TRAINING_BATCHES,
};
use sealbox_model::red_flags::RedFlagDetector;

fn batch(name: &str) -> String {
    // Where cargo runs the test from, not where the binary was built: a
    // target dir shared by two clones may reuse a binary built in the other
    // (whose compile-time path may be gone).
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test");
    let path = std::path::Path::new(&dir).join("tests/fixtures").join(name);
    std::fs::read_to_string(&path).unwrap()
}

#[test]
fn the_shipped_model_is_what_the_training_batches_give() {
    let mut examples = Vec::new();
    let mut texts = Vec::new();
    for name in TRAINING_BATCHES {
        let text = batch(&format!("blind/{name}"));
        examples.extend(training_examples(&text).unwrap());
        texts.push(text);
    }
    let batches: Vec<&str> = texts.iter().map(String::as_str).collect();
    assert!(exemplars_text(&batches) == EXEMPLARS_TEXT, "learned_exemplars.tsv differs: train again");
    let borrowed: Vec<(&str, bool)> = examples.iter().map(|(t, u)| (t.as_str(), *u)).collect();
    let trained = LearnedModel::train(&borrowed, SHIPPED_THRESHOLD).to_text();
    assert!(
        trained == MODEL_TEXT,
        "learned_model.tsv differs from training on {TRAINING_BATCHES:?}: run `cargo run --release -p sealbox-model --example train_triage`"
    );
}

#[test]
fn the_model_adds_flags_and_never_removes_a_rules_flag() {
    let detector = RedFlagDetector::new().unwrap();
    let mut added = 0;
    // The rules' own tuning corpus: not what the model was trained on.
    for (text, _) in training_examples(&batch("red_flags_corpus.jsonl")).unwrap() {
        let rules = detector.assess_rules(&text);
        let both = detector.assess(&text);
        if rules.suggests_urgent() {
            assert_eq!(both, rules, "a rule's flag stands as it is");
        } else if both.suggests_urgent() {
            added += 1;
            assert_eq!(both.flags.len(), 1);
            let flag = &both.flags[0];
            assert_eq!(flag.rule_id, LEARNED_RULE_ID);
            assert!(flag.label.contains("; nearest: "), "names the nearest presentation: {}", flag.label);
            for m in &flag.matches {
                assert_eq!(&text[m.start..m.end], m.words.reveal(), "the words are the message's own");
            }
        }
    }
    assert!(added > 0, "the model flags something the rules did not");
}
