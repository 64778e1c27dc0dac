//! Red-flag detection: assistive only. A documented, versioned rule set
//! ([`rules::RULES`], [`rules::RULESET_VERSION`]) flags a patient message for
//! same-day human review and says which words matched, so the clinician can
//! see why. It never writes text, never sets a priority by itself and never
//! decides care: a person triages every message.
//!
//! Matching runs on normalised text (see `normalise`), then each match passes
//! context checks (see `negation`): negation, past history, someone else's
//! past, hypotheticals and information questions, and per-rule exclusions
//! for figures of speech.

pub mod corpus;
pub mod learned;
mod negation;
mod normalise;
pub mod rules;

use regex::bytes::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::redact::redacted_fmt;
use learned::{LearnedModel, ModelError, LEARNED_LABEL, LEARNED_RULE_ID};
use negation::ContextChecks;
use normalise::normalise;
pub use rules::{RuleSpec, RULES, RULESET_VERSION};

/// Characters either side of a match searched for near exclusions.
const NEAR_WINDOW: usize = 30;

/// The rule set failed to compile (a bug in a pattern, caught by tests).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedFlagError {
    /// A pattern is not a valid regular expression.
    #[error("red-flag rule {rule}: invalid pattern: {reason}")]
    BadPattern {
        /// The rule id.
        rule: &'static str,
        /// The regex error.
        reason: String,
    },
    /// The learned model's file is damaged.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// The words of a message that matched a rule: patient text, so redacted in
/// `Debug`/`Display`; the UI shows them with [`MatchedWords::reveal`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MatchedWords(String);

redacted_fmt!(MatchedWords);

impl MatchedWords {
    /// The words as written by the patient.
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

/// One place in the message where a rule matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagMatch {
    /// Byte offsets in the original text, for highlighting.
    pub start: usize,
    /// End (exclusive).
    pub end: usize,
    /// The original words.
    pub words: MatchedWords,
}

/// A raised red flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedFlag {
    /// Rule id, e.g. "chest_pain".
    pub rule_id: String,
    /// What the clinician sees, e.g. "chest pain".
    pub label: String,
    /// Where it matched.
    pub matches: Vec<FlagMatch>,
}

/// The detector's findings for one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// The rule set version that produced it.
    pub ruleset_version: String,
    /// Flags raised, in rule order.
    pub flags: Vec<RedFlag>,
}

impl Assessment {
    /// True if any flag was raised: suggest same-day human review.
    pub fn suggests_urgent(&self) -> bool {
        !self.flags.is_empty()
    }

    /// The labels of the raised flags, in rule order.
    pub fn labels(&self) -> Vec<&str> {
        self.flags.iter().map(|f| f.label.as_str()).collect()
    }
}

struct CompiledRule {
    spec: &'static RuleSpec,
    pattern: Regex,
    near: Vec<Regex>,
    sentence: Vec<Regex>,
    requires: Option<Regex>,
}

/// The compiled rule set and the learned model. Build once, reuse for
/// every message.
pub struct RedFlagDetector {
    rules: Vec<CompiledRule>,
    context: ContextChecks,
    learned: LearnedModel,
}

impl std::fmt::Debug for RedFlagDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedFlagDetector")
            .field("version", &RULESET_VERSION)
            .field("rules", &self.rules.len())
            .finish()
    }
}

/// Lazy-DFA cache per pattern. Patterns with bounded gaps (`[^.]{0,80}`)
/// build many DFA states; with the default cache they are rebuilt message
/// after message, which dominated the detector's cost.
pub(crate) const DFA_CACHE_BYTES: usize = 4 * (1 << 20);

/// Compiles a rule or context pattern. The normalised text is pure ASCII
/// (see `normalise`), so patterns run in ASCII mode: `\b`, `\w` and `[^.]`
/// mean the same as in Unicode mode on that text, but the automata are far
/// smaller and the DFA never falls back to the slower engines.
pub(crate) fn compile(rule: &'static str, src: &str) -> Result<Regex, RedFlagError> {
    RegexBuilder::new(src)
        .unicode(false)
        .dfa_size_limit(DFA_CACHE_BYTES)
        .build()
        .map_err(|e| RedFlagError::BadPattern { rule, reason: e.to_string() })
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

impl RedFlagDetector {
    /// Compiles [`RULES`].
    pub fn new() -> Result<Self, RedFlagError> {
        let mut rules = Vec::with_capacity(RULES.len());
        for spec in RULES {
            let joined: Vec<String> = spec.patterns.iter().map(|p| format!("(?:{p})")).collect();
            rules.push(CompiledRule {
                spec,
                pattern: compile(spec.id, &joined.join("|"))?,
                near: spec.near_exclusions.iter().map(|p| compile(spec.id, p)).collect::<Result<_, _>>()?,
                sentence: spec
                    .sentence_exclusions
                    .iter()
                    .map(|p| compile(spec.id, p))
                    .collect::<Result<_, _>>()?,
                requires: spec.requires.map(|p| compile(spec.id, p)).transpose()?,
            });
        }
        Ok(RedFlagDetector { rules, context: ContextChecks::new()?, learned: LearnedModel::shipped()? })
    }

    /// Assesses one message's free text: the rules' flags; with none, the
    /// learned model's own flag (naming the words that weighed most) when
    /// it reaches its threshold. The model only adds: it never takes a
    /// rule's flag away (a short message with a plain red flag can score
    /// low).
    pub fn assess(&self, text: &str) -> Assessment {
        let mut assessment = self.assess_rules(text);
        if assessment.flags.is_empty() {
            let score = self.learned.score(text);
            if score.urgent {
                assessment.flags.push(RedFlag {
                    rule_id: LEARNED_RULE_ID.to_owned(),
                    label: match &score.nearest {
                        Some(p) => format!("{LEARNED_LABEL}; nearest: {p}"),
                        None => LEARNED_LABEL.to_owned(),
                    },
                    matches: score.words.iter().filter_map(|w| find_words(text, w)).collect(),
                });
            }
        }
        assessment
    }

    /// The rules alone (no learned model).
    pub fn assess_rules(&self, text: &str) -> Assessment {
        let n = normalise(text);
        let mut flags = Vec::new();
        let hay = n.text.as_bytes();
        for rule in &self.rules {
            if rule.requires.as_ref().is_some_and(|r| !r.is_match(hay)) {
                continue;
            }
            let mut matches = Vec::new();
            for m in rule.pattern.find_iter(hay) {
                let Some((first, last)) = n.token_range(m.start(), m.end()) else {
                    continue;
                };
                let lo = floor_boundary(&n.text, m.start().saturating_sub(NEAR_WINDOW));
                let hi = ceil_boundary(&n.text, m.end() + NEAR_WINDOW);
                let window = &n.text[lo..hi];
                if rule.near.iter().any(|r| r.is_match(window.as_bytes())) {
                    continue;
                }
                let sentence = self.context.sentence(&n, first, last);
                // An episode already assessed and reassured in this very
                // sentence, the person well now: not flagged. Only that
                // sentence, so an emergency told beside it is still flagged.
                if self.context.is_reassured(sentence, &n) {
                    continue;
                }
                if rule.sentence.iter().any(|r| r.is_match(sentence.as_bytes())) {
                    continue;
                }
                if self.context.is_negated(&n, first, last)
                    || self.context.is_hypothetical(&n, first, last)
                    || self.context.is_history(&n, first, last)
                {
                    continue;
                }
                let (start, end) = (n.tokens[first].orig.0, n.tokens[last].orig.1);
                let words = text.get(start..end).unwrap_or_default().to_string();
                matches.push(FlagMatch { start, end, words: MatchedWords(words) });
            }
            if !matches.is_empty() {
                flags.push(RedFlag {
                    rule_id: rule.spec.id.to_string(),
                    label: rule.spec.label.to_string(),
                    matches,
                });
            }
        }
        Assessment { ruleset_version: RULESET_VERSION.to_string(), flags }
    }
}

/// Where `words` (lower case, as the learned model saw them) first occur
/// in `text`, ignoring ASCII case; none when lower-casing moved offsets or
/// the words are split by punctuation there.
fn find_words(text: &str, words: &str) -> Option<FlagMatch> {
    let start = text.to_ascii_lowercase().find(words)?;
    let end = start + words.len();
    let found = text.get(start..end)?;
    Some(FlagMatch { start, end, words: MatchedWords(found.to_owned()) })
}

#[cfg(test)]
mod tests;
