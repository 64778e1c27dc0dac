//! The Bundles against a real FHIR R4 server we did not write: sekmet-fhir
//! (PyPI; FastAPI over SQLite, validating what it stores), installed by
//! `cargo xtask test` (`SEALBOX_FHIR_SERVER_PYTHONPATH`) and started here
//! on a port of its own. Each thread's transaction is accepted and reads
//! back as sent; saving it again adds nothing; a Bundle the server
//! refuses stores nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

mod sekmet;
mod threads;

use sealbox_record::{names, to_bundle, to_json};
use sekmet::{start, Server};
use serde_json::Value;

async fn post(http: &reqwest::Client, server: &Server, bundle: &Value) -> (u16, Value) {
    let resp = http
        .post(&server.base)
        .header("Content-Type", "application/fhir+json")
        .header("Accept", "application/fhir+json")
        .body(serde_json::to_vec(bundle).unwrap())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn search(http: &reqwest::Client, server: &Server, kind: &str, query: &str) -> Value {
    let url = format!("{}/{kind}?{query}", server.base);
    let resp = http.get(&url).header("Accept", "application/fhir+json").send().await.unwrap();
    assert!(resp.status().is_success(), "{url}: {}", resp.status());
    resp.json().await.unwrap()
}

fn statuses(reply: &Value) -> Vec<String> {
    reply["entry"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|e| e["response"]["status"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn each_thread_is_stored_once_and_reads_back_as_sent() {
    let server = start("");
    let http = sekmet::http();
    for (name, thread) in threads::all() {
        let bundle = to_json(to_bundle(&thread).unwrap()).unwrap();
        let (status, reply) = post(&http, &server, &bundle).await;
        assert_eq!(status, 200, "{name}: {reply}");
        assert_eq!(reply["type"], "transaction-response", "{name}: {reply}");
        let first = statuses(&reply);
        println!("{name}: first save -> {first:?}");
        assert!(!first.is_empty() && first.iter().all(|s| s.starts_with("201")), "{name}: {first:?}");

        // Saved again (a retry after a lost reply): nothing new.
        let (status, reply) = post(&http, &server, &bundle).await;
        assert_eq!(status, 200, "{name}: {reply}");
        let second = statuses(&reply);
        println!("{name}: second save -> {second:?}");
        assert!(second.iter().all(|s| s.starts_with("200")), "{name}: a second save created {second:?}");

        let task_id = format!("{}/{}", thread.practice, thread.thread);
        let tasks =
            search(&http, &server, "Task", &format!("identifier={}|{task_id}", names::THREAD_ID)).await;
        assert_eq!(tasks["total"], 1, "{name}: {tasks}");
        for m in &thread.messages {
            let id = format!("{}/{}", thread.practice, m.id);
            let found =
                search(&http, &server, "Communication", &format!("identifier={}|{id}", names::MESSAGE_ID))
                    .await;
            assert_eq!(found["total"], 1, "{name}: {found}");
            let stored = &found["entry"][0]["resource"];
            assert_eq!(stored["payload"][0]["contentString"], m.text.as_str(), "{name}: read back as sent");
        }
        let provenance = search(
            &http,
            &server,
            "Provenance",
            &format!("_tag={}|{task_id}/{}", names::SAVE_TAG, thread.saved.audit_link),
        )
        .await;
        assert_eq!(provenance["total"], 1, "{name}: one Provenance per save: {provenance}");
    }
}

#[tokio::test]
async fn a_bundle_the_server_refuses_stores_nothing() {
    let server = start("");
    let http = sekmet::http();
    let (_, thread) = threads::all().remove(1);
    let mut bundle = to_json(to_bundle(&thread).unwrap()).unwrap();
    // The last entry (the Provenance) loses its required `recorded`.
    let last = bundle["entry"].as_array().unwrap().len() - 1;
    bundle["entry"][last]["resource"].as_object_mut().unwrap().remove("recorded");
    let (status, reply) = post(&http, &server, &bundle).await;
    println!("refused: {status} {reply}");
    assert_eq!(status, 400, "{reply}");
    assert_eq!(reply["resourceType"], "OperationOutcome", "{reply}");
    let task_id = format!("{}/{}", thread.practice, thread.thread);
    let tasks = search(&http, &server, "Task", &format!("identifier={}|{task_id}", names::THREAD_ID)).await;
    assert_eq!(tasks["total"], 0, "the transaction is all or nothing: {tasks}");
}
