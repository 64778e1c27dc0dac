//! Actions and sync on a real SQLite file through the same functions the
//! handlers call (the HTTP round trip with a signed-in session is in
//! clinician_http.rs once auth's test login exists): versions, conflicts,
//! idempotency, the model's state machine and permissions, paging.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

use sealbox_hub::clock::SystemClock;
use sealbox_hub::config::HubConfig;
use sealbox_hub::db::practice;
use sealbox_hub::relay::actions::apply_batch;
use sealbox_hub::relay::backlog::pool_counts;
use sealbox_hub::relay::channels::{self, Channel};
use sealbox_hub::relay::patient::{ingest, Ingested};
use sealbox_hub::relay::store::load_thread;
use sealbox_hub::relay::store::replies_for_patient;
use sealbox_hub::relay::sync::read_page;
use sealbox_hub::AppState;
use sealbox_model::actor::StaffRef;
use sealbox_model::category::Category;
use sealbox_model::hub_api::{
    ActionOp, ActionOutcome, ActionRequest, ActionsRequest, AssignTarget, Base64Bytes, IdempotencyKey,
    PatientMessageRequest, RefillChoice, StateOp, SyncPage,
};
use sealbox_model::ids::{MessageId, ThreadId};
use sealbox_model::jiff::{SignedDuration, Timestamp};
use sealbox_model::pool::Pool;
use sealbox_model::refill::RejectionReason;
use sealbox_model::role::Role;
use sealbox_model::thread_state::ThreadState;
use std::sync::Arc;

struct Fixture {
    practice_id: String,
    state: AppState,
    channels: Vec<Channel>,
    _dir: tempfile::TempDir,
}

fn t(n: i64) -> Timestamp {
    Timestamp::from_second(1_750_000_000).unwrap().checked_add(SignedDuration::from_secs(n)).unwrap()
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open(HubConfig::new(dir.path()), Arc::new(SystemClock)).unwrap();
    let file = state
        .db
        .call_blocking(|c| {
            practice::create(c, "Test", t(0)).unwrap();
            channels::issue(c, 2, t(0))
        })
        .unwrap();
    let channels = file
        .patients
        .iter()
        .map(|p| state.db.call_blocking(|c| channels::by_token(c, &p.channel_token.0)).unwrap().unwrap())
        .collect();
    Fixture { state, channels, practice_id: file.practice_id.clone(), _dir: dir }
}

impl Fixture {
    fn page(&self, after: u64, limit: u32) -> Result<SyncPage, sealbox_hub::http::ApiError> {
        let cache = &self.state.envelope_json;
        let page = self.state.db.call_blocking(|c| read_page(c, cache, Role::Gp, after, limit))?;
        Ok(page.to_page().unwrap())
    }

    fn patient_says(&self, patient: usize, thread: u64, msg: u64, category: Category) -> Ingested {
        let req = PatientMessageRequest {
            thread_id: ThreadId(thread),
            message_id: MessageId(msg),
            category,
            envelope: Base64Bytes(vec![1, 2, 3, msg as u8]),
        };
        let ch = self.channels[patient].clone();
        let practice = self.practice_id.clone();
        self.state.db.call_blocking(move |c| ingest(c, &ch, &req, &practice, t(1))).unwrap()
    }

    fn act(&self, who: &StaffRef, at: i64, actions: Vec<(&str, u64, u64, ActionOp)>) -> Vec<ActionOutcome> {
        let batch = ActionsRequest {
            actions: actions
                .into_iter()
                .map(|(key, thread, expected, op)| ActionRequest {
                    idempotency_key: IdempotencyKey::new(key).unwrap(),
                    thread_id: ThreadId(thread),
                    expected_version: expected,
                    op,
                })
                .collect(),
        };
        let applied = self.state.db.call_blocking(|c| apply_batch(c, who, &batch, t(at))).unwrap();
        applied.results.into_iter().map(|r| r.outcome).collect()
    }

    fn thread(&self, id: u64) -> sealbox_hub::relay::store::ThreadRow {
        self.state.db.call_blocking(|c| load_thread(c, ThreadId(id))).unwrap().unwrap()
    }

    fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        self.state.db.sqlite_blocking(|c| c.query_row(&sql, [], |r| r.get(0))).unwrap()
    }
}

fn gp(id: &str) -> StaffRef {
    StaffRef::new(id, Role::Gp)
}

fn code(o: &ActionOutcome) -> &str {
    match o {
        ActionOutcome::Rejected { code, .. } => code,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn claim_then_a_stale_claim_is_a_conflict_naming_who_and_when() {
    let f = fixture();
    assert!(matches!(f.patient_says(0, 10, 100, Category::RepeatPrescription), Ingested::Stored(_)));
    let out = f.act(&gp("dr-a"), 5, vec![("k1", 10, 1, ActionOp::Claim)]);
    assert!(matches!(out[0], ActionOutcome::Applied { version: 2, .. }), "{out:?}");
    assert_eq!(f.thread(10).state, ThreadState::InProgress { by: gp("dr-a") });
    let out = f.act(&gp("dr-b"), 6, vec![("k1", 10, 1, ActionOp::Claim)]);
    assert_eq!(
        out[0],
        ActionOutcome::Conflict { current_version: 2, changed_by: Some(gp("dr-a")), changed_at: t(5) }
    );
    assert_eq!(f.thread(10).state, ThreadState::InProgress { by: gp("dr-a") });
}

#[test]
fn retries_return_the_first_outcome_and_keys_cannot_be_reused() {
    let f = fixture();
    f.patient_says(0, 10, 100, Category::RepeatPrescription);
    let first = f.act(&gp("dr-a"), 5, vec![("same", 10, 1, ActionOp::Claim)]);
    let again = f.act(&gp("dr-a"), 9, vec![("same", 10, 1, ActionOp::Claim)]);
    assert_eq!(first, again);
    assert_eq!(f.count("actions"), 1);
    let reused = f.act(&gp("dr-a"), 9, vec![("same", 10, 2, ActionOp::State { change: StateOp::Close })]);
    assert_eq!(code(&reused[0]), "idempotency_key_reused");
    // Keys are per user: another GP's "same" is a new action (and a conflict here).
    let other = f.act(&gp("dr-b"), 9, vec![("same", 10, 1, ActionOp::Claim)]);
    assert!(matches!(other[0], ActionOutcome::Conflict { .. }));
}

#[test]
fn the_model_decides_legality_and_permission() {
    let f = fixture();
    f.patient_says(0, 10, 100, Category::RepeatPrescription);
    f.patient_says(1, 20, 200, Category::AdminAppointment);
    let nav = StaffRef::new("nav-1", Role::CareNavigator);
    let out = f.act(
        &nav,
        5,
        vec![
            // Start on a new thread: not a legal move.
            ("a", 10, 1, ActionOp::State { change: StateOp::Start }),
            // Care navigators cannot triage a prescription thread.
            ("b", 10, 1, ActionOp::State { change: StateOp::Triage }),
            // ... nor decide a refill.
            ("c", 10, 1, ActionOp::RefillDecision { decision: RefillChoice::Approve, items: vec![] }),
            // Assigning the admin thread to the pharmacy pool: they cannot read it.
            ("d", 20, 1, ActionOp::State { change: StateOp::Triage }),
            ("e", 20, 2, ActionOp::Assign { to: AssignTarget::Pool { pool: Pool::Pharmacy } }),
            ("f", 20, 2, ActionOp::Assign { to: AssignTarget::Pool { pool: Pool::Admin } }),
            ("g", 404, 1, ActionOp::Claim),
        ],
    );
    assert_eq!(code(&out[0]), "illegal_transition");
    assert_eq!(code(&out[1]), "forbidden");
    assert_eq!(code(&out[2]), "forbidden");
    assert!(matches!(out[3], ActionOutcome::Applied { version: 2, .. }));
    assert_eq!(code(&out[4]), "assignee_cannot_read");
    assert!(matches!(out[5], ActionOutcome::Applied { version: 3, .. }));
    assert_eq!(code(&out[6]), "not_found");
    assert_eq!(f.thread(10).version, 1, "refused actions change nothing");
    assert_eq!(
        f.thread(20).state,
        ThreadState::Assigned { to: sealbox_model::thread_state::Assignee::Pool(Pool::Admin) }
    );
}

#[test]
fn refill_decisions_and_replies() {
    let f = fixture();
    f.patient_says(0, 10, 100, Category::RepeatPrescription);
    f.patient_says(0, 11, 110, Category::TestResults);
    let dr = gp("dr-a");
    let out = f.act(
        &dr,
        5,
        vec![
            ("c1", 10, 1, ActionOp::Claim),
            (
                "r1",
                10,
                2,
                ActionOp::RefillDecision {
                    decision: RefillChoice::Reject { reason: RejectionReason::TooEarly },
                    items: vec![],
                },
            ),
            ("m1", 10, 3, ActionOp::Reply { message_id: MessageId(900), envelope: Base64Bytes(vec![9; 16]) }),
            ("q1", 10, 4, ActionOp::RefillDecision { decision: RefillChoice::QueryPatient, items: vec![] }),
            ("m2", 10, 5, ActionOp::Reply { message_id: MessageId(100), envelope: Base64Bytes(vec![9; 16]) }),
            ("x1", 11, 1, ActionOp::RefillDecision { decision: RefillChoice::Approve, items: vec![] }),
        ],
    );
    assert!(out[..4].iter().all(|o| matches!(o, ActionOutcome::Applied { .. })), "{out:?}");
    assert_eq!(code(&out[4]), "message_id_taken");
    assert_eq!(code(&out[5]), "not_a_prescription_thread");
    assert_eq!(f.thread(10).state, ThreadState::AwaitingPatient { owner: dr.clone() });
    // The reply reaches the patient's replies, and only that patient's.
    let ch0 = f.channels[0].patient_id.clone();
    let ch1 = f.channels[1].patient_id.clone();
    let mine = f.state.db.call_blocking(|c| replies_for_patient(c, &ch0, 0, 10)).unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].message_id, MessageId(900));
    assert!(f.state.db.call_blocking(|c| replies_for_patient(c, &ch1, 0, 10)).unwrap().is_empty());
    // The patient answers: back to the owner's queue, by the model's rule.
    f.patient_says(0, 10, 101, Category::RepeatPrescription);
    assert!(matches!(f.thread(10).state, ThreadState::Assigned { .. }));
}

#[test]
fn a_request_is_decided_once_until_the_patient_writes_again() {
    let f = fixture();
    f.patient_says(0, 10, 100, Category::RepeatPrescription);
    let (a, b) = (gp("dr-a"), StaffRef::new("nurse-b", Role::Nurse));
    let too_early = ActionOp::RefillDecision {
        decision: RefillChoice::Reject { reason: RejectionReason::TooEarly },
        items: vec![],
    };
    // Deciding a new request triages it (so it can be closed once the
    // patient is told).
    let out = f.act(&a, 5, vec![("a1", 10, 1, too_early.clone())]);
    assert!(matches!(out[0], ActionOutcome::Applied { version: 2, .. }), "{out:?}");
    assert_eq!(f.thread(10).state, ThreadState::Triaged);
    // A colleague, at the current version, can neither issue what was
    // refused nor refuse it again: told who decided and when (before any
    // other check, such as the approver's views).
    let approve = ActionOp::RefillDecision { decision: RefillChoice::Approve, items: vec![] };
    let out = f.act(&b, 6, vec![("b1", 10, 2, approve), ("b2", 10, 2, too_early.clone())]);
    for o in &out {
        match o {
            ActionOutcome::Rejected { code, detail } => {
                assert_eq!(code, "already_decided");
                assert_eq!(detail, &format!("already rejected by gp dr-a at {}", t(5)));
            }
            other => panic!("a second decision must be refused: {other:?}"),
        }
    }
    // Closed and reopened: still decided.
    let close = ActionOp::State { change: StateOp::Close };
    let reopen = ActionOp::State { change: StateOp::Reopen };
    let out =
        f.act(&a, 7, vec![("c1", 10, 2, close), ("c2", 10, 3, reopen), ("b3", 10, 4, too_early.clone())]);
    assert!(out[..2].iter().all(|o| matches!(o, ActionOutcome::Applied { .. })), "{out:?}");
    assert_eq!(code(&out[2]), "already_decided");
    // The patient asks again: a new request, a new decision.
    f.patient_says(0, 10, 101, Category::RepeatPrescription);
    let version = f.thread(10).version;
    let out = f.act(&b, 9, vec![("b4", 10, version, too_early)]);
    assert!(matches!(out[0], ActionOutcome::Applied { .. }), "{out:?}");
}

#[test]
fn sync_pages_through_every_change_exactly_once() {
    let f = fixture();
    for i in 0..7u64 {
        f.patient_says((i % 2) as usize, 10 + i, 100 + i, Category::MedicationQuestion);
    }
    f.act(&gp("dr-a"), 5, vec![("c1", 10, 1, ActionOp::Claim), ("c2", 11, 1, ActionOp::Claim)]);
    let total = f.count("changes") as u64;
    assert_eq!(total, 9);
    let mut cursor = 0;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = f.page(cursor, 2).unwrap();
        pages += 1;
        for e in &page.envelopes {
            seen.push(e.seq);
            assert!(page.threads.iter().any(|t| t.thread_id == e.thread_id), "metadata for every thread");
        }
        for a in &page.actions {
            seen.push(a.seq);
        }
        assert!(page.next_cursor.0 >= cursor);
        cursor = page.next_cursor.0;
        if !page.more {
            break;
        }
    }
    seen.sort();
    assert_eq!(seen, (1..=total).collect::<Vec<_>>());
    assert_eq!(pages, 5);
    let claimed = f.page(0, 500).unwrap();
    let t10 = claimed.threads.iter().find(|t| t.thread_id == ThreadId(10)).unwrap();
    assert_eq!(t10.version, 2);
    assert_eq!(t10.patient_x25519_public.as_slice().len(), 32);
    // A cursor past the end is an error naming the cursor.
    let err = f.page(total + 1, 10).unwrap_err();
    assert_eq!(err.errors[0].field, "cursor");
}

#[test]
fn a_page_from_cached_envelopes_is_the_same_json_as_a_fresh_one() {
    let f = fixture();
    for i in 0..4u64 {
        f.patient_says((i % 2) as usize, 10 + i, 100 + i, Category::MedicationQuestion);
    }
    f.act(&gp("dr-a"), 5, vec![("c1", 10, 1, ActionOp::Claim)]);
    let cache = &f.state.envelope_json;
    assert_eq!(cache.usage().0, 0);
    let read = |after| f.state.db.call_blocking(|c| read_page(c, cache, Role::Gp, after, 500)).unwrap();
    let fresh = read(0).to_json().unwrap();
    assert_eq!(cache.usage().0, 4, "every envelope of the page is now held");
    let cached = read(0).to_json().unwrap();
    assert_eq!(fresh, cached);
    // The hand-assembled body is byte for byte what serde makes of the page.
    let page: SyncPage = serde_json::from_slice(&fresh).unwrap();
    assert_eq!(serde_json::to_vec(&page).unwrap(), fresh);
    assert_eq!(page.envelopes.len(), 4);
    assert_eq!(page.actions.len(), 1);
    // A page starting mid-log takes its envelopes from the cache as well.
    let tail: SyncPage = serde_json::from_slice(&read(2).to_json().unwrap()).unwrap();
    assert_eq!(tail.envelopes, page.envelopes[2..].to_vec());
}

#[test]
fn pool_counts_follow_the_permission_matrix() {
    let f = fixture();
    f.patient_says(0, 10, 100, Category::RepeatPrescription);
    f.patient_says(0, 11, 110, Category::AdminAppointment);
    let counts = f.state.db.call_blocking(|c| pool_counts(c)).unwrap();
    // A repeat prescription is readable by GPs, nurses and pharmacists; an
    // appointment request by GPs, nurses and admin.
    assert_eq!((counts.gp, counts.nurse, counts.pharmacy, counts.admin), (2, 2, 1, 1));
    f.act(&gp("dr-a"), 5, vec![("c", 10, 1, ActionOp::Claim)]);
    let counts = f.state.db.call_blocking(|c| pool_counts(c)).unwrap();
    assert_eq!((counts.gp, counts.nurse, counts.pharmacy, counts.admin), (1, 1, 0, 1));
}
