//! The medicines the patient asked for before, kept in this browser sealed
//! to the channel's own key (`Channel::seal_for_here`), so a repeat is
//! picked rather than typed again. Only this browser has them: the hub
//! cannot read the requests, and a new phone starts empty.

use crate::channel::Channel;
use crate::vault;

/// The most medicines remembered.
pub const MAX_KEPT: usize = 20;

/// The medicines asked for before, newest first (none if nothing is kept
/// or it does not open with this channel).
pub async fn load(channel: &Channel) -> Vec<String> {
    let Ok(Some(sealed)) = vault::load_medicines().await else { return Vec::new() };
    channel
        .open_from_here(&sealed)
        .and_then(|json| serde_json::from_slice::<Vec<String>>(&json).ok())
        .unwrap_or_default()
}

/// `kept` with `sent` put first, each once (case-blind), at most [`MAX_KEPT`].
pub fn merged(kept: &[String], sent: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for medicine in sent.iter().chain(kept) {
        if out.len() < MAX_KEPT && !out.iter().any(|m| m.eq_ignore_ascii_case(medicine)) {
            out.push(medicine.clone());
        }
    }
    out
}

/// Keeps `medicines` in this browser. A failure loses only the
/// convenience, never a message: it is not reported.
pub async fn remember(channel: &Channel, medicines: &[String]) {
    let Ok(json) = serde_json::to_vec(medicines) else { return };
    if let Ok(sealed) = channel.seal_for_here(&json) {
        let _ = vault::save_medicines(&sealed).await;
    }
}
