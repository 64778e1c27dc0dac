//! RFC 9457 problem details (`application/problem+json`), the body of every
//! hub error.

use serde::{Deserialize, Serialize};

/// An error response. Never carries patient data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:sealbox:problem:<code>`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short, human-readable summary of the kind.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The offending fields, as JSON paths (`actions[2].expected_version`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldError {
    /// JSON path of the field (`.` for the whole body).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}
