//! Operations (issue 28 point 6) over real HTTP: `/healthz` and `/readyz`
//! answer; `/metrics` counts what happened (requests by route template,
//! messages taken, push latency, open streams, sync lag) and nothing else:
//! no thread, patient or staff id and no word of a message is in it; and
//! Prometheus' own checker (`promtool check metrics`, Debian's prometheus
//! package, installed by `cargo xtask setup`) accepts the text.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use futures_util::StreamExt;
use sealbox_hub::config::RatePolicy;
use sealbox_model::role::Role;
use support::login::enrol_and_login;
use support::{message, post_patient, start_hub};

/// Ids no number in the metrics could hold by chance.
const THREAD: u64 = 987_654_300;
const MESSAGE: u64 = 987_654_400;

/// The value of the sample `name` (exactly, labels included).
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no sample {name} in:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

async fn metrics(hub: &support::Hub) -> String {
    let res = hub.client.get(format!("{}/metrics", hub.url)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    res.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_reports_health_readiness_and_counts_that_name_no_one() {
    let hub = start_hub(2, RatePolicy { burst: 100, per_minute: 0 }).await;
    for (path, body) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let res = hub.client.get(format!("{}{path}", hub.url)).send().await.unwrap();
        assert_eq!((res.status().as_u16(), res.text().await.unwrap().as_str()), (200, body), "{path}");
    }
    let before = metrics(&hub).await;
    assert_eq!(sample(&before, "sealbox_hub_sse_clients"), 0.0);
    assert_eq!(sample(&before, "sealbox_hub_patient_messages_ingested_total"), 0.0);

    // A clinician's event stream is open while patients write.
    let nurse = enrol_and_login(&hub.url, &hub.state, Role::Nurse).await;
    let res =
        hub.client.get(format!("{}/v1/events", hub.url)).bearer_auth(&nurse.token).send().await.unwrap();
    let mut stream = res.bytes_stream();
    let _first = stream.next().await.unwrap().unwrap();
    assert_eq!(sample(&metrics(&hub).await, "sealbox_hub_sse_clients"), 1.0);
    for (n, text) in [(1u64, b"QZX-OPS-ONE my usual please".as_slice()), (2, b"QZX-OPS-TWO and my inhaler")] {
        let (status, _) = post_patient(&hub, 0, &message(THREAD + n, MESSAGE + n, text)).await;
        assert_eq!(status, 201);
        // The push for it reaches the stream (its latency is observed then).
        let mut seen = String::new();
        while !seen.contains(&(THREAD + n).to_string()) {
            let chunk =
                tokio::time::timeout(std::time::Duration::from_secs(10), stream.next()).await.unwrap();
            seen.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
        }
    }
    // The same message again is a duplicate: not taken twice.
    let (status, _) =
        post_patient(&hub, 0, &message(THREAD + 1, MESSAGE + 1, b"QZX-OPS-ONE my usual please")).await;
    assert_eq!(status, 200);
    let sync = hub.client.get(format!("{}/v1/sync", hub.url)).bearer_auth(&nurse.token).send().await.unwrap();
    assert_eq!(sync.status().as_u16(), 200);

    let text = metrics(&hub).await;
    assert_eq!(sample(&text, "sealbox_hub_patient_messages_ingested_total"), 2.0);
    assert_eq!(
        sample(
            &text,
            "sealbox_hub_http_requests_total{route=\"/v1/patient/messages\",method=\"POST\",status=\"201\"}"
        ),
        2.0
    );
    assert_eq!(sample(&text, "sealbox_hub_push_latency_seconds_count"), 2.0, "each push timed");
    assert_eq!(sample(&text, "sealbox_hub_sync_lag_changes_count"), 1.0);
    assert!(sample(&text, "sealbox_hub_sync_lag_changes_sum") >= 2.0, "the sync started behind both");
    // Names no one: no thread, message, staff or device id, no words.
    let ids = [THREAD + 1, THREAD + 2, MESSAGE + 1, MESSAGE + 2].map(|id| id.to_string());
    for needle in
        ids.iter().map(String::as_str).chain(["QZX", nurse.user_id.as_str(), nurse.device_id.as_str()])
    {
        assert!(!text.contains(needle), "{needle} in /metrics:\n{text}");
    }
    // Closed: the next push finds it gone.
    drop(stream);
    let (status, _) = post_patient(&hub, 0, &message(THREAD + 3, MESSAGE + 3, b"QZX-OPS-THREE")).await;
    assert_eq!(status, 201);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while sample(&metrics(&hub).await, "sealbox_hub_sse_clients") != 0.0 {
        assert!(std::time::Instant::now() < deadline, "the closed stream is still counted");
        tokio::task::yield_now().await;
    }

    // Prometheus' own checker reads it.
    let promtool = std::env::var("SEALBOX_PROMTOOL").unwrap_or_else(|_| "promtool".to_owned());
    let mut check = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package: `cargo xtask setup`)");
    check.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
