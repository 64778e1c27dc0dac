//! Labelled message files (JSON Lines) for checking the detector:
//! each line `{"id": "...", "text": "...", "urgent": true|false}` (`urgent`
//! optional). Errors name the line and never echo the message text.

use serde_json::Value;

use super::Assessment;
use crate::message::FreeText;

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledLine {
    /// Line number (1-based).
    pub line: usize,
    /// The message id.
    pub id: String,
    /// The message text (redacted in Debug).
    pub text: FreeText,
    /// The expected answer, if labelled.
    pub urgent: Option<bool>,
}

/// A malformed line. Never contains message text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorpusError {
    /// The line is not JSON.
    #[error("line {line}: not valid JSON (column {column})")]
    InvalidJson {
        /// Line number.
        line: usize,
        /// Column of the syntax error.
        column: usize,
    },
    /// The line is JSON but not an object.
    #[error("line {line}: expected a JSON object like {{\"id\": \"...\", \"text\": \"...\"}}")]
    NotAnObject {
        /// Line number.
        line: usize,
    },
    /// A required string field is missing or not a string.
    #[error("line {line}: field \"{field}\" is missing or not a string")]
    MissingString {
        /// Line number.
        line: usize,
        /// Field name.
        field: &'static str,
    },
    /// `urgent` is present but not a boolean.
    #[error("line {line}: field \"urgent\" must be true or false")]
    BadUrgent {
        /// Line number.
        line: usize,
    },
}

/// Parses one line; `Ok(None)` for a blank line.
pub fn parse_line(line: usize, raw: &str) -> Result<Option<LabelledLine>, CorpusError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let value: Value =
        serde_json::from_str(raw).map_err(|e| CorpusError::InvalidJson { line, column: e.column() })?;
    let Value::Object(map) = value else {
        return Err(CorpusError::NotAnObject { line });
    };
    let id = match map.get("id") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(CorpusError::MissingString { line, field: "id" }),
    };
    let text = match map.get("text") {
        Some(Value::String(s)) => FreeText::new(s.clone()),
        _ => return Err(CorpusError::MissingString { line, field: "text" }),
    };
    let urgent = match map.get("urgent") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(CorpusError::BadUrgent { line }),
    };
    Ok(Some(LabelledLine { line, id, text, urgent }))
}

/// Parses a whole file; the first malformed line is an error.
pub fn parse_jsonl(input: &str) -> Result<Vec<LabelledLine>, CorpusError> {
    let mut out = Vec::new();
    for (i, raw) in input.lines().enumerate() {
        if let Some(l) = parse_line(i + 1, raw)? {
            out.push(l);
        }
    }
    Ok(out)
}

/// A JSON string literal.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The stable output line of the triage command:
/// `{"id": "...", "urgent": true|false, "flags": ["chest pain", ...]}`.
pub fn output_line(id: &str, assessment: &Assessment) -> String {
    let flags: Vec<String> = assessment.labels().iter().map(|l| json_string(l)).collect();
    format!(
        "{{\"id\": {}, \"urgent\": {}, \"flags\": [{}]}}",
        json_string(id),
        assessment.suggests_urgent(),
        flags.join(", ")
    )
}

/// Precision and recall of the detector against labelled lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scores {
    /// Urgent and flagged.
    pub true_positives: usize,
    /// Not urgent but flagged.
    pub false_positives: usize,
    /// Urgent but not flagged.
    pub false_negatives: usize,
    /// Not urgent, not flagged.
    pub true_negatives: usize,
}

impl Scores {
    /// Adds one labelled outcome.
    pub fn add(&mut self, expected_urgent: bool, flagged: bool) {
        match (expected_urgent, flagged) {
            (true, true) => self.true_positives += 1,
            (false, true) => self.false_positives += 1,
            (true, false) => self.false_negatives += 1,
            (false, false) => self.true_negatives += 1,
        }
    }

    /// TP / (TP + FP); 1.0 when nothing was flagged.
    pub fn precision(&self) -> f64 {
        let d = self.true_positives + self.false_positives;
        if d == 0 {
            1.0
        } else {
            self.true_positives as f64 / d as f64
        }
    }

    /// TP / (TP + FN); 1.0 when nothing is urgent.
    pub fn recall(&self) -> f64 {
        let d = self.true_positives + self.false_negatives;
        if d == 0 {
            1.0
        } else {
            self.true_positives as f64 / d as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_skips_blanks() {
        let input =
            "{\"id\": \"a\", \"text\": \"hello\", \"urgent\": true}\n\n{\"id\": \"b\", \"text\": \"x\"}\n";
        let lines = parse_jsonl(input).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].urgent, Some(true));
        assert_eq!(lines[1].urgent, None);
        assert_eq!(lines[1].line, 3);
    }

    #[test]
    fn errors_name_the_line_and_never_echo_text() {
        let secret = "my secret symptoms";
        let cases = [
            (format!("{{\"id\": \"a\", \"text\": \"{secret}\""), "line 4: not valid JSON"),
            (format!("[\"{secret}\"]"), "line 4: expected a JSON object"),
            (format!("{{\"text\": \"{secret}\"}}"), "line 4: field \"id\" is missing"),
            (
                format!("{{\"id\": \"a\", \"text\": 5, \"x\": \"{secret}\"}}"),
                "line 4: field \"text\" is missing",
            ),
            (
                format!("{{\"id\": \"a\", \"text\": \"{secret}\", \"urgent\": \"{secret}\"}}"),
                "line 4: field \"urgent\"",
            ),
        ];
        for (line, expected) in cases {
            let err = parse_line(4, &line).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err}");
            assert!(!err.contains("secret"), "{err}");
        }
    }

    #[test]
    fn output_line_is_stable_json() {
        let a = Assessment { ruleset_version: "t".into(), flags: vec![] };
        assert_eq!(output_line("m\"1", &a), r#"{"id": "m\"1", "urgent": false, "flags": []}"#);
        let v: Value = serde_json::from_str(&output_line("a\nb", &a)).unwrap();
        assert_eq!(v["id"], "a\nb");
    }

    #[test]
    fn scores() {
        let mut s = Scores::default();
        s.add(true, true);
        s.add(true, false);
        s.add(false, true);
        s.add(false, false);
        s.add(true, true);
        assert!((s.recall() - 2.0 / 3.0).abs() < 1e-9);
        assert!((s.precision() - 2.0 / 3.0).abs() < 1e-9);
    }
}
