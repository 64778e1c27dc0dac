#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::store::triage::TriageFacts;
use crate::store::write::ThreadRecord;
use crate::sync::plan::{PagePlan, PlannedThread};
use sealbox_model::category::Category;
use sealbox_model::hub_api::Cursor;
use sealbox_model::ids::{MessageId, PatientId, ThreadId};
use sealbox_model::message::{Author, FreeText, Message, MessagePart};
use sealbox_model::priority::Priority;
use sealbox_model::thread_state::ThreadState;

fn t(sec: i64) -> Timestamp {
    Timestamp::from_second(1_763_974_800 + sec).unwrap()
}

fn arrivals(pools: &[(Pool, bool)]) -> Arrivals {
    let mut a = Arrivals::default();
    for (p, urgent) in pools {
        a.add(*p, *urgent);
    }
    a
}

#[test]
fn templates_say_counts_urgency_and_queues_only() {
    let mut n = BlindNotifier::new(true);
    let shown =
        n.arrived(arrivals(&[(Pool::Gp, true), (Pool::Gp, false), (Pool::Nurse, false)]), false, t(0));
    let shown = shown.unwrap();
    assert_eq!(shown.summary(), "Sealbox: 3 new messages (1 urgent)");
    assert_eq!(shown.body(), "In the GP and nurse queues.");
    let one = BlindNotifier::new(true).arrived(arrivals(&[(Pool::Admin, false)]), false, t(0)).unwrap();
    assert_eq!(one.summary(), "Sealbox: 1 new message");
    assert_eq!(one.body(), "In the admin queue.");
}

#[test]
fn coalesced_to_one_per_30_seconds_unless_urgent() {
    let mut n = BlindNotifier::new(true);
    assert!(n.arrived(arrivals(&[(Pool::Gp, false)]), false, t(0)).is_some());
    // Within the window: held back, then shown together when due.
    assert!(n.arrived(arrivals(&[(Pool::Gp, false)]), false, t(5)).is_none());
    assert!(n.arrived(arrivals(&[(Pool::Nurse, false)]), false, t(10)).is_none());
    assert_eq!(n.due(), Some(t(30)));
    assert!(n.tick(false, t(29)).is_none(), "not before the window ends");
    let held = n.tick(false, t(30)).unwrap();
    assert_eq!(held.summary(), "Sealbox: 2 new messages");
    assert_eq!(n.due(), None);
    // Urgent does not wait.
    let urgent = n.arrived(arrivals(&[(Pool::Gp, true)]), false, t(31)).unwrap();
    assert_eq!(urgent.summary(), "Sealbox: 1 new message (1 urgent)");
}

#[test]
fn none_while_focused_and_none_when_turned_off() {
    let mut n = BlindNotifier::new(true);
    assert!(n.arrived(arrivals(&[(Pool::Gp, true)]), true, t(0)).is_none());
    assert_eq!(n.due(), None, "what the clinician saw is not announced later");
    n.set_enabled(false);
    assert!(n.arrived(arrivals(&[(Pool::Gp, true)]), false, t(100)).is_none());
    assert_eq!(n.due(), None);
}

#[test]
fn locked_counts_come_from_the_hubs_waiting_counts_for_my_pools() {
    let before = PoolCounts { gp: 2, nurse: 5, pharmacy: 0, admin: 1 };
    let after = PoolCounts { gp: 5, nurse: 4, pharmacy: 7, admin: 1 };
    let a = Arrivals::from_waiting(&before, &after, &[Pool::Gp, Pool::Nurse]);
    assert_eq!(a.total(), 3, "GP grew by 3; the nurse queue shrank; pharmacy is not mine");
    assert_eq!(a.urgent(), 0);
}

/// A page with marker text in every message, in two queues, one urgent.
fn page_with_markers() -> PagePlan {
    let thread = |id: u64, pool: Pool, urgent: bool| {
        let record = ThreadRecord {
            id: ThreadId(id),
            patient: PatientId(format!("p-{id}")),
            pool,
            category: Category::Other,
            priority: if urgent { Priority::Urgent } else { Priority::Routine },
            state: ThreadState::New,
            urgent,
            due: None,
            received: t(0),
        };
        let facts = TriageFacts::of(&record, None);
        PlannedThread {
            record,
            hub_version: 1,
            hub_state: ThreadState::New,
            shown_triage: facts.clone(),
            hub_triage: facts,
            patient_key: vec![0; 32],
            merged_into: None,
        }
    };
    let message = |id: u64, author: Author| Message {
        id: MessageId(id),
        author,
        received_at: t(0),
        parts: vec![MessagePart::FreeText(FreeText::new(format!("QZX-MARKER-{id} amoxicillin Margaret")))],
    };
    PagePlan {
        threads: vec![thread(1, Pool::Gp, true), thread(2, Pool::Nurse, false)],
        messages: vec![
            (ThreadId(1), message(10, Author::Patient)),
            (ThreadId(2), message(20, Author::Patient)),
            (ThreadId(2), message(21, Author::System)),
        ],
        cursor: Cursor(3),
        ..PagePlan::default()
    }
}

#[test]
fn a_synced_page_counts_patient_messages_by_queue_and_urgency_and_nothing_else() {
    let arrivals = Arrivals::from_plan(&page_with_markers());
    assert_eq!((arrivals.total(), arrivals.urgent()), (2, 1), "patient messages only");
    let shown = BlindNotifier::new(true).arrived(arrivals, false, t(0)).unwrap();
    assert_eq!(shown.summary(), "Sealbox: 2 new messages (1 urgent)");
    assert_eq!(shown.body(), "In the GP and nurse queues.");
    for marker in ["QZX", "amoxicillin", "Margaret", "p-1", "p-2"] {
        assert!(!format!("{}{}{shown:?}", shown.summary(), shown.body()).contains(marker), "{marker}");
    }
}
