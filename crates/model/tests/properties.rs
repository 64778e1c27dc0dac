//! Property tests: the state machine never reaches an undefined state, the
//! inbox order is total and stable and agrees with its integer encoding, and
//! every permission not granted is denied (by `can` and by the rules using it).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::type_complexity)]

use proptest::prelude::*;

use sealbox_model::actor::{Actor, StaffRef};
use sealbox_model::bank_holidays::Nation;
use sealbox_model::breach::{status, BreachState, ResponseTarget};
use sealbox_model::calendar::WorkingCalendar;
use sealbox_model::category::Category;
use sealbox_model::error::RuleError;
use sealbox_model::ids::ThreadId;
use sealbox_model::inbox_order::InboxSortKey;
use sealbox_model::jiff::{SignedDuration, Timestamp};
use sealbox_model::permissions::{can, Action, GRANTS};
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;
use sealbox_model::thread_state::{
    documented_next, transition, Assignee, StateKind, ThreadAction, ThreadRef, ThreadState,
};

fn role() -> impl Strategy<Value = Role> {
    prop::sample::select(Role::ALL.to_vec())
}
fn category() -> impl Strategy<Value = Category> {
    prop::sample::select(Category::ALL.to_vec())
}
fn action() -> impl Strategy<Value = Action> {
    prop::sample::select(Action::ALL.to_vec())
}
fn staff() -> impl Strategy<Value = StaffRef> {
    (0..3u8, role()).prop_map(|(n, r)| StaffRef::new(format!("s{n}-{r}"), r))
}
fn actor() -> impl Strategy<Value = Actor> {
    prop_oneof![
        6 => staff().prop_map(Actor::Staff),
        1 => Just(Actor::Patient),
        1 => Just(Actor::System),
    ]
}
fn assignee() -> impl Strategy<Value = Assignee> {
    prop_oneof![
        prop::sample::select(Pool::ALL.to_vec()).prop_map(Assignee::Pool),
        staff().prop_map(Assignee::Staff)
    ]
}
fn thread_action() -> impl Strategy<Value = ThreadAction> {
    prop_oneof![
        Just(ThreadAction::Triage),
        assignee().prop_map(ThreadAction::Assign),
        Just(ThreadAction::Start),
        Just(ThreadAction::AwaitPatient),
        Just(ThreadAction::PatientReplied),
        Just(ThreadAction::Close),
        Just(ThreadAction::Reopen),
    ]
}

/// Every state's data is consistent with its kind and the thread's category.
fn well_formed(state: &ThreadState, category: Category) -> bool {
    match state {
        ThreadState::Assigned { to: Assignee::Staff(s) } => {
            can(s.role, Action::ReadFreeText, category) || can(s.role, Action::ReadMedicationPart, category)
        }
        ThreadState::InProgress { by } | ThreadState::AwaitingPatient { owner: by } => {
            can(by.role, Action::Reply, category)
        }
        _ => true,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn no_sequence_of_actions_reaches_an_undefined_state(
        cat in category(),
        steps in prop::collection::vec((thread_action(), actor()), 0..40),
    ) {
        let thread = ThreadRef { id: ThreadId(1), category: cat };
        let at = Timestamp::from_second(1_750_000_000).unwrap();
        let mut state = ThreadState::New;
        for (action, who) in steps {
            let documented = documented_next(state.kind(), action.kind());
            match transition(thread, &state, &action, &who, at) {
                Ok((next, event)) => {
                    prop_assert_eq!(Some(next.kind()), documented);
                    prop_assert!(well_formed(&next, cat));
                    prop_assert_eq!(event.at, at);
                    state = next;
                }
                Err(e) => {
                    if documented.is_none() {
                        prop_assert_eq!(e, RuleError::IllegalTransition { from: state.kind(), action: action.kind() });
                    }
                }
            }
            prop_assert!(StateKind::ALL.contains(&state.kind()));
        }
    }

    #[test]
    fn every_permission_not_granted_is_denied(r in role(), a in action(), c in category()) {
        let granted = GRANTS.iter().any(|g| g.role == r && g.action == a && g.categories.contains(c));
        prop_assert_eq!(can(r, a, c), granted);
    }

    #[test]
    fn rules_deny_when_the_matrix_denies(r in role(), c in category()) {
        let thread = ThreadRef { id: ThreadId(2), category: c };
        let at = Timestamp::from_second(1_750_000_000).unwrap();
        let who = Actor::Staff(StaffRef::new("x", r));
        let close = transition(thread, &ThreadState::Triaged, &ThreadAction::Close, &who, at);
        prop_assert_eq!(close.is_ok(), can(r, Action::Close, c));
        let assign = transition(thread, &ThreadState::Triaged, &ThreadAction::Assign(Assignee::Pool(Pool::Gp)), &who, at);
        prop_assert_eq!(assign.is_ok(), can(r, Action::Assign, c));
        let start = transition(thread, &ThreadState::Assigned { to: Assignee::Pool(r.pool()) }, &ThreadAction::Start, &who, at);
        prop_assert_eq!(start.is_ok(), can(r, Action::Reply, c));
    }

    #[test]
    fn inbox_order_is_total_and_matches_its_encoding(
        a in inbox_key(), b in inbox_key(), c in inbox_key(),
    ) {
        // Ord agrees with the integer tuple an SQL ORDER BY would sort.
        prop_assert_eq!(a.cmp(&b), a.encode().cmp(&b.encode()));
        // Antisymmetric, and equal only when identical.
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        prop_assert_eq!(a.cmp(&b) == std::cmp::Ordering::Equal, a == b);
        // Transitive.
        if a <= b && b <= c {
            prop_assert!(a <= c);
        }
    }

    #[test]
    fn inbox_sort_is_stable_under_shuffling(
        keys in prop::collection::vec(inbox_key(), 0..30),
        seed in any::<u64>(),
    ) {
        let mut sorted = keys.clone();
        sorted.sort();
        let mut shuffled = keys;
        // Deterministic shuffle from the seed.
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        shuffled.sort();
        prop_assert_eq!(&shuffled, &sorted);
        let mut by_encoding = sorted.clone();
        by_encoding.sort_by_key(|k| k.encode());
        prop_assert_eq!(by_encoding, sorted);
    }

    #[test]
    fn breach_clock_only_runs_forward(
        received_min in 0i64..(60 * 24 * 365 * 3),
        later_a in 0i64..(60 * 24 * 20),
        later_b in 0i64..(60 * 24 * 20),
        hours in 1u32..12,
    ) {
        let cal = WorkingCalendar::uk_default(Nation::EnglandAndWales).unwrap();
        let received = Timestamp::from_second(1_735_689_600 + received_min * 60).unwrap();
        let target = ResponseTarget { within: sealbox_model::breach::Within::WorkingHours(hours), same_day: false, due_soon_minutes: 60 };
        let (early, late) = (later_a.min(later_b), later_a.max(later_b));
        let t1 = received.checked_add(SignedDuration::from_mins(early)).unwrap();
        let t2 = received.checked_add(SignedDuration::from_mins(late)).unwrap();
        let s1 = status(&cal, target, received, t1).unwrap();
        let s2 = status(&cal, target, received, t2).unwrap();
        prop_assert!(s1.due >= received);
        prop_assert_eq!(s1.due, s2.due);
        prop_assert!(s2.remaining_working <= s1.remaining_working);
        prop_assert!(s2.state >= s1.state || s1.state == BreachState::Breached);
        // Exactly `hours` of opening time lie between the clock start and the due time.
        let start = cal.clock_start(received).unwrap();
        prop_assert_eq!(cal.working_time_between(start, s1.due).unwrap(), SignedDuration::from_hours(i64::from(hours)));
    }
}

fn inbox_key() -> impl Strategy<Value = InboxSortKey> {
    (any::<bool>(), any::<bool>(), prop::option::of(-5i64..5), -5i64..5, prop_oneof![0u64..4, any::<u64>()])
        .prop_map(|(breached, urgent, due_ms, received_ms, id)| InboxSortKey {
            breached,
            urgent,
            due_ms,
            received_ms,
            thread: ThreadId(id),
        })
}
