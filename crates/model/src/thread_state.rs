//! The thread life cycle: new → triaged → assigned → in progress → awaiting
//! patient → closed, and reopen. Each step is [`transition`]: a pure function
//! of (state, action, actor, time) returning the new state and its audit
//! event, or a typed [`RuleError`].

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::actor::{Actor, StaffRef};
use crate::audit::{AuditEvent, AuditKind};
use crate::category::Category;
use crate::error::RuleError;
use crate::ids::ThreadId;
use crate::permissions::{can, pools_that_can_read, Action};
use crate::pool::Pool;

/// Who a thread is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assignee {
    /// A team queue.
    Pool(Pool),
    /// A named member of staff.
    Staff(StaffRef),
}

/// Where a thread is in its life cycle.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum ThreadState {
    /// Arrived, not yet looked at.
    New,
    /// Category and priority confirmed.
    Triaged,
    /// Waiting in a pool's or a person's queue.
    Assigned {
        /// The queue.
        to: Assignee,
    },
    /// Someone is working on it.
    InProgress {
        /// Who.
        by: StaffRef,
    },
    /// A question went to the patient; the owner gets it back on reply.
    AwaitingPatient {
        /// Who asked.
        owner: StaffRef,
    },
    /// Done.
    Closed,
}

/// A [`ThreadState`] without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    /// See [`ThreadState::New`].
    New,
    /// See [`ThreadState::Triaged`].
    Triaged,
    /// See [`ThreadState::Assigned`].
    Assigned,
    /// See [`ThreadState::InProgress`].
    InProgress,
    /// See [`ThreadState::AwaitingPatient`].
    AwaitingPatient,
    /// See [`ThreadState::Closed`].
    Closed,
}

impl StateKind {
    /// Every state kind.
    pub const ALL: [StateKind; 6] = [
        StateKind::New,
        StateKind::Triaged,
        StateKind::Assigned,
        StateKind::InProgress,
        StateKind::AwaitingPatient,
        StateKind::Closed,
    ];

    /// The snake_case name.
    pub fn key(self) -> &'static str {
        match self {
            StateKind::New => "new",
            StateKind::Triaged => "triaged",
            StateKind::Assigned => "assigned",
            StateKind::InProgress => "in_progress",
            StateKind::AwaitingPatient => "awaiting_patient",
            StateKind::Closed => "closed",
        }
    }
}

impl fmt::Display for StateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl ThreadState {
    /// The kind of state.
    pub fn kind(&self) -> StateKind {
        match self {
            ThreadState::New => StateKind::New,
            ThreadState::Triaged => StateKind::Triaged,
            ThreadState::Assigned { .. } => StateKind::Assigned,
            ThreadState::InProgress { .. } => StateKind::InProgress,
            ThreadState::AwaitingPatient { .. } => StateKind::AwaitingPatient,
            ThreadState::Closed => StateKind::Closed,
        }
    }

    /// True unless closed.
    pub fn is_open(&self) -> bool {
        !matches!(self, ThreadState::Closed)
    }
}

/// Something done to a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreadAction {
    /// Confirm category and priority (new → triaged; re-triage keeps triaged).
    Triage,
    /// Put it in a pool's or a person's queue (also hands over work in hand).
    Assign(Assignee),
    /// The assignee starts work.
    Start,
    /// Ask the patient something and wait for the answer.
    AwaitPatient,
    /// The patient wrote (arrives through sync).
    PatientReplied,
    /// Finish.
    Close,
    /// Open a closed thread again.
    Reopen,
}

/// A [`ThreadAction`] without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// See [`ThreadAction::Triage`].
    Triage,
    /// See [`ThreadAction::Assign`].
    Assign,
    /// See [`ThreadAction::Start`].
    Start,
    /// See [`ThreadAction::AwaitPatient`].
    AwaitPatient,
    /// See [`ThreadAction::PatientReplied`].
    PatientReplied,
    /// See [`ThreadAction::Close`].
    Close,
    /// See [`ThreadAction::Reopen`].
    Reopen,
}

impl ActionKind {
    /// Every action kind.
    pub const ALL: [ActionKind; 7] = [
        ActionKind::Triage,
        ActionKind::Assign,
        ActionKind::Start,
        ActionKind::AwaitPatient,
        ActionKind::PatientReplied,
        ActionKind::Close,
        ActionKind::Reopen,
    ];

    /// The snake_case name.
    pub fn key(self) -> &'static str {
        match self {
            ActionKind::Triage => "triage",
            ActionKind::Assign => "assign",
            ActionKind::Start => "start",
            ActionKind::AwaitPatient => "await_patient",
            ActionKind::PatientReplied => "patient_replied",
            ActionKind::Close => "close",
            ActionKind::Reopen => "reopen",
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl ThreadAction {
    /// The kind of action.
    pub fn kind(&self) -> ActionKind {
        match self {
            ThreadAction::Triage => ActionKind::Triage,
            ThreadAction::Assign(_) => ActionKind::Assign,
            ThreadAction::Start => ActionKind::Start,
            ThreadAction::AwaitPatient => ActionKind::AwaitPatient,
            ThreadAction::PatientReplied => ActionKind::PatientReplied,
            ThreadAction::Close => ActionKind::Close,
            ThreadAction::Reopen => ActionKind::Reopen,
        }
    }
}

/// The legal moves, as documented in docs/triage-rules.md: (from, action, to).
/// Any pair not listed is an [`RuleError::IllegalTransition`].
pub const TRANSITIONS: &[(StateKind, ActionKind, StateKind)] = &[
    (StateKind::New, ActionKind::Triage, StateKind::Triaged),
    (StateKind::New, ActionKind::PatientReplied, StateKind::New),
    (StateKind::Triaged, ActionKind::Triage, StateKind::Triaged),
    (StateKind::Triaged, ActionKind::Assign, StateKind::Assigned),
    (StateKind::Triaged, ActionKind::PatientReplied, StateKind::Triaged),
    (StateKind::Triaged, ActionKind::Close, StateKind::Closed),
    (StateKind::Assigned, ActionKind::Assign, StateKind::Assigned),
    (StateKind::Assigned, ActionKind::Start, StateKind::InProgress),
    (StateKind::Assigned, ActionKind::PatientReplied, StateKind::Assigned),
    (StateKind::Assigned, ActionKind::Close, StateKind::Closed),
    (StateKind::InProgress, ActionKind::Assign, StateKind::Assigned),
    (StateKind::InProgress, ActionKind::AwaitPatient, StateKind::AwaitingPatient),
    (StateKind::InProgress, ActionKind::PatientReplied, StateKind::InProgress),
    (StateKind::InProgress, ActionKind::Close, StateKind::Closed),
    (StateKind::AwaitingPatient, ActionKind::Assign, StateKind::Assigned),
    (StateKind::AwaitingPatient, ActionKind::PatientReplied, StateKind::Assigned),
    (StateKind::AwaitingPatient, ActionKind::Close, StateKind::Closed),
    (StateKind::Closed, ActionKind::Reopen, StateKind::Triaged),
    (StateKind::Closed, ActionKind::PatientReplied, StateKind::Triaged),
];

/// The thread an action applies to: enough to authorise and audit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadRef {
    /// Its id.
    pub id: ThreadId,
    /// Its category (permissions depend on it).
    pub category: Category,
}

fn staff_with(
    actor: &Actor,
    action: Action,
    category: Category,
    kind: ActionKind,
) -> Result<&StaffRef, RuleError> {
    let staff = actor.staff().ok_or(RuleError::WrongActor { actor: actor.kind(), action: kind })?;
    if can(staff.role, action, category) {
        Ok(staff)
    } else {
        Err(RuleError::Forbidden { actor: actor.kind(), action, category })
    }
}

fn staff_or_system_with(
    actor: &Actor,
    action: Action,
    category: Category,
    kind: ActionKind,
) -> Result<(), RuleError> {
    match actor {
        Actor::System => Ok(()),
        _ => staff_with(actor, action, category, kind).map(|_| ()),
    }
}

/// Whether a thread of `category` may be handed to `to`: a person whose
/// role reads its free text or medication part, or a queue whose pool reads
/// it (what the hand-over list offers; the same rule refuses the rest).
pub fn can_hand_to(to: &Assignee, category: Category) -> bool {
    check_assignee_can_read(to, category).is_ok()
}

fn check_assignee_can_read(to: &Assignee, category: Category) -> Result<(), RuleError> {
    let pool = match to {
        Assignee::Pool(p) => *p,
        Assignee::Staff(s) => {
            if can(s.role, Action::ReadFreeText, category)
                || can(s.role, Action::ReadMedicationPart, category)
            {
                return Ok(());
            }
            s.role.pool()
        }
    };
    if pools_that_can_read(category).contains(&pool) {
        Ok(())
    } else {
        Err(RuleError::AssigneeCannotRead { pool, category })
    }
}

/// Applies `action` by `actor` at time `at` to a thread in `state`.
///
/// Checks, in order: the move is legal from this state; the actor is of the
/// right kind (staff, patient, system); the permission matrix allows it for
/// the thread's category; the thread is the actor's to work on.
pub fn transition(
    thread: ThreadRef,
    state: &ThreadState,
    action: &ThreadAction,
    actor: &Actor,
    at: Timestamp,
) -> Result<(ThreadState, AuditEvent), RuleError> {
    let kind = action.kind();
    let from = state.kind();
    let illegal = RuleError::IllegalTransition { from, action: kind };
    let category = thread.category;
    let next = match (state, action) {
        (ThreadState::New | ThreadState::Triaged, ThreadAction::Triage) => {
            staff_or_system_with(actor, Action::Assign, category, kind)?;
            ThreadState::Triaged
        }
        (
            ThreadState::Triaged
            | ThreadState::Assigned { .. }
            | ThreadState::InProgress { .. }
            | ThreadState::AwaitingPatient { .. },
            ThreadAction::Assign(to),
        ) => {
            match (actor, to) {
                (Actor::System, Assignee::Pool(_)) => {}
                _ => {
                    staff_with(actor, Action::Assign, category, kind)?;
                }
            }
            check_assignee_can_read(to, category)?;
            ThreadState::Assigned { to: to.clone() }
        }
        (ThreadState::Assigned { to }, ThreadAction::Start) => {
            let staff = staff_with(actor, Action::Reply, category, kind)?;
            let mine = match to {
                Assignee::Pool(p) => staff.role.pool() == *p,
                Assignee::Staff(s) => s.id == staff.id,
            };
            if !mine {
                return Err(RuleError::NotAssignedToActor);
            }
            ThreadState::InProgress { by: staff.clone() }
        }
        (ThreadState::InProgress { by }, ThreadAction::AwaitPatient) => {
            let staff = staff_with(actor, Action::Reply, category, kind)?;
            if staff.id != by.id {
                return Err(RuleError::NotAssignedToActor);
            }
            ThreadState::AwaitingPatient { owner: by.clone() }
        }
        (_, ThreadAction::PatientReplied) => {
            if !matches!(actor, Actor::Patient | Actor::System) {
                return Err(RuleError::WrongActor { actor: actor.kind(), action: kind });
            }
            match state {
                ThreadState::AwaitingPatient { owner } => {
                    ThreadState::Assigned { to: Assignee::Staff(owner.clone()) }
                }
                ThreadState::Closed => ThreadState::Triaged,
                other => other.clone(),
            }
        }
        (
            ThreadState::Triaged
            | ThreadState::Assigned { .. }
            | ThreadState::InProgress { .. }
            | ThreadState::AwaitingPatient { .. },
            ThreadAction::Close,
        ) => {
            staff_with(actor, Action::Close, category, kind)?;
            ThreadState::Closed
        }
        (ThreadState::Closed, ThreadAction::Reopen) => {
            staff_or_system_with(actor, Action::Close, category, kind)?;
            ThreadState::Triaged
        }
        _ => return Err(illegal),
    };
    let event = AuditEvent {
        at,
        actor: actor.clone(),
        thread: thread.id,
        kind: AuditKind::Transition { action: kind, from, to: next.kind() },
    };
    Ok((next, event))
}

/// The documented destination of `action` from `from`, if legal.
pub fn documented_next(from: StateKind, action: ActionKind) -> Option<StateKind> {
    TRANSITIONS.iter().find(|(f, a, _)| *f == from && *a == action).map(|(_, _, t)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::Role;

    fn t0() -> Timestamp {
        Timestamp::from_second(1_750_000_000).unwrap()
    }
    fn thread(category: Category) -> ThreadRef {
        ThreadRef { id: ThreadId(9), category }
    }
    fn gp() -> Actor {
        Actor::Staff(StaffRef::new("gp-ali", Role::Gp))
    }

    #[test]
    fn happy_path_through_every_state_with_audit() {
        let th = thread(Category::ClinicalQuestion);
        let steps = [
            (ThreadAction::Triage, gp(), StateKind::Triaged),
            (ThreadAction::Assign(Assignee::Pool(Pool::Gp)), gp(), StateKind::Assigned),
            (ThreadAction::Start, gp(), StateKind::InProgress),
            (ThreadAction::AwaitPatient, gp(), StateKind::AwaitingPatient),
            (ThreadAction::PatientReplied, Actor::Patient, StateKind::Assigned),
            (ThreadAction::Start, gp(), StateKind::InProgress),
            (ThreadAction::Close, gp(), StateKind::Closed),
            (ThreadAction::Reopen, gp(), StateKind::Triaged),
        ];
        let mut state = ThreadState::New;
        for (action, actor, expect) in steps {
            let before = state.kind();
            let (next, event) = transition(th, &state, &action, &actor, t0()).unwrap();
            assert_eq!(next.kind(), expect);
            assert_eq!(event.kind, AuditKind::Transition { action: action.kind(), from: before, to: expect });
            assert_eq!(event.at, t0());
            assert_eq!(event.actor, actor);
            state = next;
        }
    }

    #[test]
    fn patient_reply_returns_thread_to_the_person_who_asked() {
        let owner = StaffRef::new("n-1", Role::Nurse);
        let state = ThreadState::AwaitingPatient { owner: owner.clone() };
        let (next, _) = transition(
            thread(Category::TestResults),
            &state,
            &ThreadAction::PatientReplied,
            &Actor::Patient,
            t0(),
        )
        .unwrap();
        assert_eq!(next, ThreadState::Assigned { to: Assignee::Staff(owner) });
    }

    #[test]
    fn illegal_transitions_are_typed_errors() {
        let th = thread(Category::ClinicalQuestion);
        assert_eq!(
            transition(th, &ThreadState::New, &ThreadAction::Close, &gp(), t0()),
            Err(RuleError::IllegalTransition { from: StateKind::New, action: ActionKind::Close })
        );
        assert_eq!(
            transition(th, &ThreadState::Closed, &ThreadAction::Start, &gp(), t0()),
            Err(RuleError::IllegalTransition { from: StateKind::Closed, action: ActionKind::Start })
        );
    }

    #[test]
    fn unauthorised_actors_are_typed_errors() {
        let th = thread(Category::ClinicalQuestion);
        let navigator = Actor::Staff(StaffRef::new("cn-1", Role::CareNavigator));
        assert_eq!(
            transition(th, &ThreadState::Triaged, &ThreadAction::Close, &navigator, t0()),
            Err(RuleError::Forbidden {
                actor: navigator.kind(),
                action: Action::Close,
                category: Category::ClinicalQuestion
            })
        );
        assert!(matches!(
            transition(th, &ThreadState::Triaged, &ThreadAction::Close, &Actor::Patient, t0()),
            Err(RuleError::WrongActor { .. })
        ));
        assert!(matches!(
            transition(th, &ThreadState::Triaged, &ThreadAction::PatientReplied, &gp(), t0()),
            Err(RuleError::WrongActor { .. })
        ));
        let other_gp = Actor::Staff(StaffRef::new("gp-bea", Role::Gp));
        let held = ThreadState::InProgress { by: StaffRef::new("gp-ali", Role::Gp) };
        assert_eq!(
            transition(th, &held, &ThreadAction::AwaitPatient, &other_gp, t0()),
            Err(RuleError::NotAssignedToActor)
        );
        let nurse_queue = ThreadState::Assigned { to: Assignee::Pool(Pool::Nurse) };
        assert_eq!(
            transition(th, &nurse_queue, &ThreadAction::Start, &gp(), t0()),
            Err(RuleError::NotAssignedToActor)
        );
    }

    #[test]
    fn cannot_route_a_clinical_thread_to_reception() {
        let th = thread(Category::ClinicalQuestion);
        assert_eq!(
            transition(
                th,
                &ThreadState::Triaged,
                &ThreadAction::Assign(Assignee::Pool(Pool::Admin)),
                &gp(),
                t0()
            ),
            Err(RuleError::AssigneeCannotRead { pool: Pool::Admin, category: Category::ClinicalQuestion })
        );
        let navigator = StaffRef::new("cn-1", Role::CareNavigator);
        assert!(transition(
            th,
            &ThreadState::Triaged,
            &ThreadAction::Assign(Assignee::Staff(navigator)),
            &gp(),
            t0()
        )
        .is_err());
    }

    #[test]
    fn system_may_route_to_pools_but_not_to_people() {
        let th = thread(Category::RepeatPrescription);
        assert!(transition(th, &ThreadState::New, &ThreadAction::Triage, &Actor::System, t0()).is_ok());
        assert!(transition(
            th,
            &ThreadState::Triaged,
            &ThreadAction::Assign(Assignee::Pool(Pool::Pharmacy)),
            &Actor::System,
            t0()
        )
        .is_ok());
        assert!(matches!(
            transition(
                th,
                &ThreadState::Triaged,
                &ThreadAction::Assign(Assignee::Staff(StaffRef::new("gp-ali", Role::Gp))),
                &Actor::System,
                t0()
            ),
            Err(RuleError::WrongActor { .. })
        ));
    }
}
