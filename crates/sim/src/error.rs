//! Why a simulator run failed. No variant carries message text.

/// A simulator error.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("could not read the practice file {path}: {source}")]
    PracticeFile { path: String, source: std::io::Error },
    #[error("the practice file is not valid: {0}")]
    PracticeFormat(String),
    #[error("the HTTP client could not be set up: {0}")]
    Client(reqwest::Error),
    #[error("the hub at {url} could not be reached: {source}")]
    Unreachable { url: String, source: reqwest::Error },
    #[error("the hub answered {status} to {what}")]
    Hub { what: &'static str, status: u16 },
    #[error("the hub's reply to {what} was not understood: {detail}")]
    BadReply { what: &'static str, detail: String },
    #[error("the practice has not published a key for the {0} pool yet")]
    MissingPoolKey(&'static str),
    #[error("a key in the practice file or from the hub is malformed: {0}")]
    BadKey(&'static str),
    #[error("the hub's keys are not vouched for by the practice key: {0}; nothing was sent")]
    Untrusted(String),
    #[error("sealing failed: {0}")]
    Seal(String),
    #[error("a reply could not be opened: {0}")]
    Open(String),
    #[error("{0}")]
    Usage(String),
}
