//! The practice's FHIR endpoint as the workstation meets it, against a
//! real server we did not write (sekmet-fhir with SMART Backend Services):
//! signed in with the workstation's own key, a thread saved once however
//! often it is sent, the patient looked up by NHS number (unknown, one,
//! two with one number), and each failure in plain words: a key the
//! server does not know, a Bundle it refuses, nothing listening, no answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

mod sekmet;
mod threads;

use std::time::Duration;

use sealbox_model::jiff::Timestamp;
use sealbox_model::nhs_number::NhsNumber;
use sealbox_record::endpoint::{ClientKey, Endpoint, Lookup, Receipt, SaveError};
use sealbox_record::matching::{check, Match, Wrote};
use sealbox_record::{to_bundle, to_json};

const CLIENT: &str = "sealbox-workstation-7f3a";
/// A server that signs in `key` as [`CLIENT`].
fn server_for(key: &ClientKey) -> sekmet::Server {
    sekmet::start_smart(CLIENT, &key.public_jwk())
}

fn now() -> Timestamp {
    Timestamp::now()
}

fn endpoint(base: &str, key: ClientKey) -> Endpoint {
    Endpoint::new(base, CLIENT, key, Duration::from_secs(20)).unwrap()
}

#[tokio::test]
async fn a_registered_workstation_saves_each_thread_once_and_finds_its_patient() {
    let key = ClientKey::generate();
    let kept = ClientKey::from_bytes(&key.to_bytes()).unwrap();
    let server = server_for(&key);
    let mut ehr = endpoint(&server.base, kept);
    for (name, thread) in threads::all() {
        let bundle = to_json(to_bundle(&thread).unwrap()).unwrap();
        let entries = bundle["entry"].as_array().unwrap().len();
        let first = ehr.save(&bundle, now()).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(first, Receipt { created: entries, existing: 0 }, "{name}");
        let again = ehr.save(&bundle, now()).await.unwrap();
        assert_eq!(again, Receipt { created: 0, existing: entries }, "{name}: saved once");
    }

    let asha = NhsNumber::parse("9434765919").unwrap();
    assert!(matches!(ehr.find_patient(&asha, now()).await.unwrap(), Lookup::Unknown));
    sekmet::add_patient(&server.base, "9434765919", "Okonkwo", "Grace", "1961-07-02").await;
    let found = ehr.find_patient(&asha, now()).await.unwrap();
    let wrote = Wrote { name: "grace okonkwo", birth_date: "1961-07-02" };
    assert_eq!(check(&found, &wrote), Match::Agrees);
    let other = Wrote { name: "Grace Okonkwo", birth_date: "1961-02-07" };
    assert_eq!(check(&found, &other), Match::Differs { name: false, birth_date: true });

    // Two patients with one number: the record needs fixing, nothing is matched.
    sekmet::add_patient(&server.base, "9876543210", "Smith", "Ann", "1970-01-01").await;
    sekmet::add_patient(&server.base, "9876543210", "Smyth", "Anne", "1971-01-01").await;
    let twice = ehr.find_patient(&NhsNumber::parse("9876543210").unwrap(), now()).await.unwrap();
    assert!(matches!(twice, Lookup::Several(2)));
    assert_eq!(check(&twice, &wrote), Match::Several);
}

#[tokio::test]
async fn a_key_the_record_system_does_not_know_is_refused_in_plain_words() {
    let server = server_for(&ClientKey::generate());
    let mut ehr = endpoint(&server.base, ClientKey::generate());
    let (_, thread) = threads::all().remove(0);
    let err = ehr.save(&to_json(to_bundle(&thread).unwrap()).unwrap(), now()).await.unwrap_err();
    println!("another key -> {err}");
    assert_eq!(err, SaveError::TokenRefused("invalid_client".to_owned()));
    assert!(err.to_string().contains("did not accept this workstation's key"));
}

#[tokio::test]
async fn a_bundle_the_record_refuses_is_told_by_its_issues_without_the_records_words() {
    let key = ClientKey::generate();
    let server = server_for(&key);
    let mut ehr = endpoint(&server.base, key);
    let (_, thread) = threads::all().remove(2);
    let mut bundle = to_json(to_bundle(&thread).unwrap()).unwrap();
    let last = bundle["entry"].as_array().unwrap().len() - 1;
    bundle["entry"][last]["resource"].as_object_mut().unwrap().remove("recorded");
    let err = ehr.save(&bundle, now()).await.unwrap_err();
    println!("refused -> {err}");
    let SaveError::Refused { status, issues } = &err else { panic!("{err}") };
    assert_eq!(*status, 400);
    assert!(issues.contains("Provenance.recorded"), "{issues}");
    assert!(!err.to_string().contains("chest"), "no words of the thread: {err}");
}

#[tokio::test]
async fn nothing_listening_or_no_answer_keeps_the_save_to_try_again() {
    // Port 1: nothing listens there.
    let mut down = endpoint("http://127.0.0.1:1/fhir", ClientKey::generate());
    let (_, thread) = threads::all().remove(0);
    let bundle = to_json(to_bundle(&thread).unwrap()).unwrap();
    assert_eq!(down.save(&bundle, now()).await.unwrap_err(), SaveError::Unreachable);

    // A listener that never answers: the request gives up at its timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/fhir", silent.local_addr().unwrap());
    let mut slow = Endpoint::new(&base, CLIENT, ClientKey::generate(), Duration::from_millis(300)).unwrap();
    let err = slow.save(&bundle, now()).await.unwrap_err();
    assert_eq!(err, SaveError::Slow);
    assert!(err.to_string().contains("kept to try again"));
    drop(silent);
}
