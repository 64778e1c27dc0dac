//! The practice's renewal questions (issue 25 point 4a), over real HTTP:
//! the practice's set-up publishes the standard set signed with the
//! practice key; a patient's channel reads it and it verifies under the key
//! the invite pinned; an admin's workstation publishes a newer set; an older
//! or equal version, a set another key signed, and a role that may not
//! publish are refused; and a hub that changes a question itself is caught
//! by the check the patient's browser runs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use ed25519_dalek::SigningKey;
use sealbox_core::vault::Keyring;
use sealbox_crypto::renewal_questions::{self, RenewalQuestionsRefused};
use sealbox_hub::config::RatePolicy;
use sealbox_model::hub_api::SignedRenewalQuestions;
use sealbox_model::renewal::{AnswerKind, Question, QuestionSet, RenewalQuestions};
use sealbox_model::role::Role;

use support::login::{get, put};
use support::{start_hub, token, Hub};

async fn served(hub: &Hub, bearer: &str) -> (u16, Option<SignedRenewalQuestions>) {
    let (status, body) = get(&hub.client, format!("{}/v1/patient/renewal-questions", hub.url), bearer).await;
    (status, serde_json::from_value(body).ok())
}

fn practice_key(hub: &Hub) -> ed25519_dalek::VerifyingKey {
    hub.state.db.call_blocking(|c| sealbox_hub::auth::directory::signing_key(c)).unwrap().unwrap()
}

fn statins(version: u64) -> RenewalQuestions {
    let mut set = RenewalQuestions::standard();
    set.version = version;
    set.sets.push(QuestionSet {
        label: "Statins".into(),
        names: vec!["atorvastatin".into(), "simvastatin".into()],
        questions: vec![Question {
            id: "muscle_pain".into(),
            text: "Have you had muscle pain you cannot explain?".into(),
            answer: AnswerKind::YesNo,
        }],
    });
    set
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_practice_publishes_signed_questions_and_patients_read_only_what_its_key_signed() {
    let hub = start_hub(1, RatePolicy { burst: 1000, per_minute: 0 }).await;
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut enrolled = support::desks::enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let practice = hub.patients().practice_id;
    let patient = token(&hub, 0);

    // The set-up published the standard set; the patient reads it, and it
    // verifies under the practice key.
    let (status, signed) = served(&hub, &patient).await;
    assert_eq!(status, 200);
    let held = renewal_questions::verify(&practice_key(&hub), &practice, &signed.unwrap()).unwrap();
    assert_eq!(held, RenewalQuestions::standard());
    assert_eq!(
        held.for_medicine("Ramipril 5mg capsules").last().map(|q| q.id.as_str()),
        Some("blood_pressure")
    );
    assert_eq!(get(&hub.client, format!("{}/v1/patient/renewal-questions", hub.url), "").await.0, 401);

    // The admin publishes the practice's own; only a newer version is taken.
    let now = hub.state.now();
    enrolled.admin_key.enter_pin("1111");
    let admin = enrolled.admin.unlock(&mut enrolled.admin_key, now).await.unwrap();
    admin.publish_renewal_questions(&statins(2)).await.unwrap();
    let (_, signed) = served(&hub, &patient).await;
    let signed = signed.unwrap();
    let held = renewal_questions::verify(&practice_key(&hub), &practice, &signed).unwrap();
    assert_eq!(held, statins(2));
    let stale = admin.publish_renewal_questions(&statins(2)).await.unwrap_err();
    assert!(stale.to_string().contains("409 (version_not_newer)"), "{stale}");
    assert!(admin.publish_renewal_questions(&RenewalQuestions::standard()).await.is_err(), "version 1 again");
    admin.lock("done", now).await.unwrap();

    // Over HTTP: a GP may not publish, even a set the practice signed; an
    // admin may not publish one another key signed.
    let url = format!("{}/v1/practice/renewal-questions", hub.url);
    let gp = support::login::enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let (status, _) = put(&hub.client, url.clone(), &gp.token, &serde_json::to_value(&signed).unwrap()).await;
    assert_eq!(status, 403);
    let admin_session = support::login::enrol_and_login(&hub.url, &hub.state, Role::PracticeAdmin).await;
    let forged = renewal_questions::sign(&SigningKey::from_bytes(&[7; 32]), &practice, &statins(3)).unwrap();
    let (status, body) =
        put(&hub.client, url.clone(), &admin_session.token, &serde_json::to_value(&forged).unwrap()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["field"], "signature", "{body}");
    let (_, still) = served(&hub, &patient).await;
    assert_eq!(still.unwrap(), signed, "nothing the practice key did not sign is served");

    // A hub that rewrites a question (an attacker with its database) is
    // served as it likes, and the browser's check refuses it.
    hub.state
        .db
        .sqlite_blocking(|c| {
            c.execute(
                "UPDATE renewal_questions SET body = CAST(replace(CAST(body AS TEXT), 'muscle pain', 'bank card') AS BLOB)",
                [],
            )
        })
        .unwrap();
    let (status, rewritten) = served(&hub, &patient).await;
    assert_eq!(status, 200);
    let rewritten = rewritten.unwrap();
    assert!(String::from_utf8_lossy(rewritten.body.as_slice()).contains("bank card"));
    assert!(matches!(
        renewal_questions::verify(&practice_key(&hub), &practice, &rewritten),
        Err(RenewalQuestionsRefused::BadSignature)
    ));
    enrolled.wipe(&keyring);
}
