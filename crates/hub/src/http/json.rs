//! Strict JSON bodies: `Content-Type: application/json`, the body-size limit,
//! no trailing data, unknown fields rejected by the wire types, and errors
//! that name the field (`actions[1].op.kind`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use super::problem::ApiError;

/// A JSON body decoded strictly; rejections are problem+json.
#[derive(Debug, Clone)]
pub struct StrictJson<T>(pub T);

/// Decodes `bytes` as `T`, naming the field on error.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // serde would also accept a struct written as an array; the API does not.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::field(".", "the body must be a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        ApiError::field(field_path(&path, &message), scrub(&message))
    })?;
    de.end().map_err(|e| ApiError::field(".", e.to_string()))?;
    Ok(value)
}

/// serde's message without the value the client sent: a patient may type
/// anything into any field, and neither the reply nor a log line should carry
/// it. What serde expected (our vocabulary) and field names stay.
fn scrub(message: &str) -> String {
    let keeps_names =
        ["missing field `", "unknown field `", "duplicate field `"].iter().any(|p| message.starts_with(p));
    if keeps_names {
        return message.to_owned();
    }
    let (sent, expected) = match message.find(", expected") {
        Some(at) => message.split_at(at),
        None => (message, ""),
    };
    let mut out = String::with_capacity(message.len());
    let mut quote: Option<char> = None;
    for c in sent.chars() {
        match (quote, c) {
            (None, '`' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, c) => out.push(c),
        }
    }
    // "unknown variant , expected" → "unknown variant, expected"
    let mut out = out.replace(" ,", ",").trim_end().to_owned();
    out.push_str(expected);
    out
}

/// The path of the offending field. serde reports a missing or unknown field
/// at its parent, naming it in the message; append it.
fn field_path(path: &str, message: &str) -> String {
    let parent = if path.is_empty() || path == "." || path == "?" { "" } else { path };
    let named = ["missing field `", "unknown field `", "duplicate field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|rest| rest.split('`').next());
    match (parent, named) {
        (parent, Some(name)) if parent == name || parent.ends_with(&format!(".{name}")) => parent.to_owned(),
        ("", Some(name)) => name.to_owned(),
        (parent, Some(name)) => format!("{parent}.{name}"),
        ("", None) => ".".to_owned(),
        (parent, None) => parent.to_owned(),
    }
}

impl<S, T> FromRequest<S> for StrictJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().eq_ignore_ascii_case("application/json"))
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
            if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the body is too large")
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", "the body could not be read")
            }
        })?;
        decode(&bytes).map(StrictJson)
    }
}

#[cfg(test)]
mod tests {
    use super::scrub;

    #[test]
    fn scrub_drops_sent_values_and_keeps_the_vocabulary() {
        let m = "unknown variant `I have chest pain`, expected one of `other`, `admin_letters` at line 1 column 9";
        assert_eq!(scrub(m), "unknown variant, expected one of `other`, `admin_letters` at line 1 column 9");
        let m = "invalid type: string \"Mrs Jones\", expected u64 at line 1 column 20";
        assert_eq!(scrub(m), "invalid type: string, expected u64 at line 1 column 20");
        let m = "unknown field `colour`, expected `thread_id`";
        assert_eq!(scrub(m), m);
    }
}
