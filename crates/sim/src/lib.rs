//! sealbox-sim: the patient side, simulated. Realistic UK primary-care
//! messages, sealed to the practice's pools and posted to the hub's patient
//! channel, for the demo, the end-to-end tests and the load bench.
//!
//! - [`content`]: what patients write (invented texts, common UK repeats).
//! - [`traffic`]: who writes what, deterministic from a seed.
//! - [`directory`]: the pool keys to seal to, checked under the practice key.
//! - [`seal`]: a planned message → a sealed envelope for the right pools.
//! - [`send`]: paced, parallel posting with a summary.
//! - [`read_replies`]: the practice's replies, opened with the patients' keys.

pub mod client;
pub mod content;
pub mod directory;
mod error;
pub mod read_replies;
pub mod seal;
pub mod send;
pub mod traffic;

pub use error::SimError;
pub use send::{SendOptions, SendSummary};

use sealbox_model::hub_api::PracticeFile;

/// Reads a practice file (`sealbox-hub patient-channels --out FILE`).
pub fn load_practice(path: &str) -> Result<PracticeFile, SimError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| SimError::PracticeFile { path: path.to_owned(), source })?;
    // Only the position: serde's message may quote a value, and the file holds secrets.
    serde_json::from_str(&text).map_err(|e| {
        SimError::PracticeFormat(format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}
