use super::*;
use crate::ids::ThreadId;

#[test]
fn idempotency_keys_are_validated() {
    assert!(IdempotencyKey::new("a-b_c.9").is_ok());
    for bad in ["", "has space", "é", &"x".repeat(65)] {
        assert!(IdempotencyKey::new(bad).is_err(), "{bad}");
    }
    assert!(serde_json::from_str::<IdempotencyKey>("\"no/slash\"").is_err());
}

#[test]
fn wire_ids_fit_sqlite_integers() {
    assert!(!is_valid_wire_id(0));
    assert!(is_valid_wire_id(1));
    assert!(is_valid_wire_id(i64::MAX as u64));
    assert!(!is_valid_wire_id(i64::MAX as u64 + 1));
}

#[test]
fn actions_round_trip_and_reject_unknown_fields() {
    let req = ActionsRequest {
        actions: vec![ActionRequest {
            idempotency_key: IdempotencyKey::new("k1").unwrap(),
            thread_id: ThreadId(3),
            expected_version: 2,
            op: ActionOp::Reply {
                message_id: crate::ids::MessageId(9),
                envelope: Base64Bytes(vec![1, 2, 3]),
            },
        }],
    };
    let json = serde_json::to_string(&req).unwrap();
    assert!(json.contains(r#""op":{"kind":"reply","message_id":9,"envelope":"AQID"}"#), "{json}");
    assert_eq!(serde_json::from_str::<ActionsRequest>(&json).unwrap(), req);
    let extra = json.replace(r#""kind":"reply","#, r#""kind":"reply","x":1,"#);
    assert!(serde_json::from_str::<ActionsRequest>(&extra).is_err());
    let extra_top = json.replacen('{', r#"{"x":1,"#, 1);
    assert!(serde_json::from_str::<ActionsRequest>(&extra_top).is_err());
}

#[test]
fn secrets_do_not_print() {
    let t = ChannelToken("secret-token".into());
    assert!(!format!("{t:?}").contains("secret"));
    let b = Base64Bytes(b"plaintext?".to_vec());
    assert_eq!(format!("{b:?}"), "Base64Bytes(10 bytes)");
}
