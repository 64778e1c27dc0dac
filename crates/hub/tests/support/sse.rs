//! Reading a hub's server-sent events in tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Reads server-sent events until one's data satisfies `want`; returns that
/// data. 20 s at most: a safety net, not a wait.
pub async fn next_event<B: AsRef<[u8]>>(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<B>> + Unpin),
    buf: &mut String,
    want: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) {
                let value: serde_json::Value = serde_json::from_str(data.trim()).unwrap();
                if want(&value) {
                    return value;
                }
            }
        }
        let chunk = tokio::time::timeout_at(deadline, stream.next()).await.expect("no event in time");
        buf.push_str(&String::from_utf8_lossy(chunk.unwrap().unwrap().as_ref()));
    }
}
