//! Hostile input over real HTTP: every bad request gets a 4xx with an
//! application/problem+json body naming the field; nothing is stored; the
//! server never answers 5xx and keeps serving.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

mod support;

use proptest::prelude::*;
use sealbox_hub::config::RatePolicy;
use support::*;

const GOOD: &str =
    r#"{"thread_id":7,"message_id":70,"category":"repeat_prescription","envelope":"c2VhbGVk"}"#;

fn with(field: &str, value: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(GOOD).unwrap();
    v[field] = serde_json::from_str(value).unwrap();
    v.to_string()
}

fn without(field: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(GOOD).unwrap();
    v.as_object_mut().unwrap().remove(field);
    v.to_string()
}

#[tokio::test]
async fn hostile_patient_bodies_are_400_naming_the_field() {
    let hub = start_hub(1, RatePolicy { burst: 10_000, per_minute: 0 }).await;
    let tok = token(&hub, 0);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let cases: Vec<(String, u16, &str)> = vec![
        ("{".into(), 400, "."),
        ("".into(), 400, "."),
        ("null".into(), 400, "."),
        ("[]".into(), 400, "."),
        ("\"text\"".into(), 400, "."),
        (format!("{GOOD} trailing"), 400, "."),
        (deep, 400, "."),
        (GOOD.replace("{", r#"{"extra":1,"#), 400, "extra"),
        (GOOD.replace("{", r#"{"thread_id":8,"#), 400, "thread_id"),
        (with("thread_id", "\"7\""), 400, "thread_id"),
        (with("thread_id", "0"), 400, "thread_id"),
        (with("thread_id", "-1"), 400, "thread_id"),
        (with("thread_id", "1.5"), 400, "thread_id"),
        (with("thread_id", "9223372036854775808"), 400, "thread_id"),
        (with("thread_id", "18446744073709551616"), 400, "thread_id"),
        (with("message_id", "0"), 400, "message_id"),
        (with("message_id", "null"), 400, "message_id"),
        (with("category", "\"bogus\""), 400, "category"),
        (with("category", "{}"), 400, "category"),
        (with("envelope", "\"not base64!\""), 400, "envelope"),
        (with("envelope", "\"\""), 400, "envelope"),
        (with("envelope", "[1,2,3]"), 400, "envelope"),
        (without("envelope"), 400, "envelope"),
        (without("thread_id"), 400, "thread_id"),
    ];
    for (body, status, field) in cases {
        let shown: String = body.chars().take(80).collect();
        let (got, ctype, text) =
            post_raw(&hub, "/v1/patient/messages", Some(&tok), "application/json", body.into_bytes()).await;
        assert_eq!(got, status, "body {shown}: {text}");
        let p = problem(&ctype, &text);
        assert_eq!(p.status, status);
        assert_eq!(p.errors.first().map(|e| e.field.as_str()), Some(field), "body {shown}: {text}");
    }
    assert_eq!(envelope_count(&hub), 0);
}

#[tokio::test]
async fn wrong_media_type_size_method_and_path() {
    let hub = start_hub(1, RatePolicy::default()).await;
    let tok = token(&hub, 0);
    let (status, ctype, text) =
        post_raw(&hub, "/v1/patient/messages", Some(&tok), "text/plain", GOOD.into()).await;
    assert_eq!(status, 415);
    problem(&ctype, &text);
    let (status, ctype, text) =
        post_raw(&hub, "/v1/patient/messages", Some(&tok), "application/json", vec![0xff, 0xfe]).await;
    assert_eq!(status, 400);
    problem(&ctype, &text);
    let huge = with("envelope", &format!("\"{}\"", "A".repeat(2 * 1024 * 1024)));
    let (status, ctype, text) =
        post_raw(&hub, "/v1/patient/messages", Some(&tok), "application/json", huge.into()).await;
    assert_eq!(status, 413);
    problem(&ctype, &text);
    // Under the body limit but over the envelope limit.
    let big = with("envelope", &format!("\"{}\"", "A".repeat(700 * 1024 * 4 / 3)));
    let (status, ctype, text) =
        post_raw(&hub, "/v1/patient/messages", Some(&tok), "application/json", big.into()).await;
    assert_eq!(status, 400);
    assert_eq!(problem(&ctype, &text).errors[0].field, "envelope");
    let (status, ctype, text) = post_raw(&hub, "/v1/nowhere", None, "application/json", GOOD.into()).await;
    assert_eq!(status, 404);
    problem(&ctype, &text);
    let res = hub.client.get(format!("{}/v1/patient/messages", hub.url)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(envelope_count(&hub), 0);
}

#[tokio::test]
async fn hostile_query_strings_name_the_parameter() {
    let hub = start_hub(1, RatePolicy::default()).await;
    let tok = token(&hub, 0);
    for (query, field) in [
        ("cursor=abc", "cursor"),
        ("cursor=-1", "cursor"),
        ("cursor=", "cursor"),
        ("cursor=1&cursor=2", "cursor"),
        ("cursor=99999999999999999999999", "cursor"),
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("evil=1", "evil"),
    ] {
        let res = hub
            .client
            .get(format!("{}/v1/patient/replies?{query}", hub.url))
            .bearer_auth(&tok)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let ctype = res.headers()["content-type"].to_str().unwrap().to_owned();
        let text = res.text().await.unwrap();
        assert_eq!(status, 400, "{query}: {text}");
        assert_eq!(problem(&ctype, &text).errors[0].field, field, "{query}");
    }
}

#[tokio::test]
async fn clinician_endpoints_need_a_session() {
    let hub = start_hub(1, RatePolicy::default()).await;
    for path in ["/v1/sync?cursor=0", "/v1/events"] {
        let res = hub.client.get(format!("{}{path}", hub.url)).bearer_auth("forged").send().await.unwrap();
        assert_eq!(res.status().as_u16(), 401, "{path}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    let (status, ctype, text) =
        post_raw(&hub, "/v1/actions", Some("forged"), "application/json", b"{}".to_vec()).await;
    assert_eq!(status, 401);
    problem(&ctype, &text);
}

fn json_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        "[ -~]{0,200}",
        (any::<u64>(), any::<i64>(), "[a-z_]{0,12}", "[A-Za-z0-9+/=!]{0,40}").prop_map(
            |(a, b, c, d)| format!(
                r#"{{"thread_id":{a},"message_id":{b},"category":"{c}","envelope":"{d}"}}"#
            )
        ),
    ]
}

#[test]
fn random_bodies_never_cause_a_5xx() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let hub = rt.block_on(start_hub(1, RatePolicy { burst: 100_000, per_minute: 0 }));
    let tok = token(&hub, 0);
    let mut runner =
        proptest::test_runner::TestRunner::new(ProptestConfig { cases: 300, ..ProptestConfig::default() });
    runner
        .run(&(json_fragment(), 0usize..3), |(body, which)| {
            let path = ["/v1/patient/messages", "/v1/actions", "/v1/patient/replies"][which];
            let (status, ctype, _) =
                rt.block_on(post_raw(&hub, path, Some(&tok), "application/json", body.into_bytes()));
            prop_assert!(status < 500, "status {status}");
            if status >= 400 {
                prop_assert_eq!(ctype, "application/problem+json");
            }
            Ok(())
        })
        .unwrap();
    let health = rt
        .block_on(async { hub.client.get(format!("{}/v1/health", hub.url)).send().await.unwrap().status() });
    assert_eq!(health.as_u16(), 200);
}
