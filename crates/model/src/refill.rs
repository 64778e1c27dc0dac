//! Repeat prescription decisions.
//!
//! - Only a role allowed by the permission matrix may approve or reject.
//! - Only after the decider has viewed every patient message in the thread
//!   (which proves the latest one was seen).
//! - A passed medication review date is a warning on approval, not a block.
//! - A rejection gives a reason from a fixed list, plus optional text.
//! - "Query the patient" moves the thread to awaiting patient.

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

use crate::actor::{Actor, StaffRef};
use crate::audit::{AuditEvent, AuditKind};
use crate::calendar::uk_time_zone;
use crate::category::Category;
use crate::error::RuleError;
use crate::hub_api::{ItemDecision, ItemOutcome, RefillChoice};
use crate::ids::{MessageId, StaffId};
use crate::message::{FreeText, Message};
use crate::permissions::{can, Action};
use crate::thread_state::{transition, ThreadAction, ThreadRef, ThreadState};

/// Which staff member has opened which message (recorded by the core when a
/// message is displayed; each view is also an audit event there).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewLog {
    seen: BTreeSet<(MessageId, StaffId)>,
}

impl ViewLog {
    /// An empty log.
    pub fn new() -> Self {
        ViewLog::default()
    }

    /// Records that `staff` viewed `message`.
    pub fn record(&mut self, message: MessageId, staff: StaffId) {
        self.seen.insert((message, staff));
    }

    /// Whether `staff` viewed `message`.
    pub fn has_viewed(&self, message: MessageId, staff: &StaffId) -> bool {
        self.seen.contains(&(message, staff.clone()))
    }
}

/// Why a request was rejected. Fixed so that it can be counted and audited;
/// the patient-facing wording lives in the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    /// Requested before the previous supply should have run out.
    TooEarly,
    /// A medication review is needed first.
    ReviewNeeded,
    /// A blood test or monitoring is due first.
    MonitoringNeeded,
    /// The patient needs an appointment first.
    AppointmentNeeded,
    /// Not on the repeat list (acute or stopped medicine).
    NotOnRepeat,
    /// The medicine or dose has changed.
    MedicationChanged,
    /// Already issued or requested elsewhere.
    Duplicate,
    /// Anything else; a note is then required.
    Other,
}

impl RejectionReason {
    /// Every reason.
    pub const ALL: [RejectionReason; 8] = [
        RejectionReason::TooEarly,
        RejectionReason::ReviewNeeded,
        RejectionReason::MonitoringNeeded,
        RejectionReason::AppointmentNeeded,
        RejectionReason::NotOnRepeat,
        RejectionReason::MedicationChanged,
        RejectionReason::Duplicate,
        RejectionReason::Other,
    ];
}

impl RejectionReason {
    /// What the clinician reads in the picker.
    pub fn label(self) -> &'static str {
        match self {
            RejectionReason::TooEarly => "Too early: the last supply should not have run out",
            RejectionReason::ReviewNeeded => "A medication review is needed first",
            RejectionReason::MonitoringNeeded => "A blood test or monitoring is due first",
            RejectionReason::AppointmentNeeded => "The patient needs an appointment first",
            RejectionReason::NotOnRepeat => "Not on the repeat list",
            RejectionReason::MedicationChanged => "The medicine or dose has changed",
            RejectionReason::Duplicate => "Already issued or requested",
            RejectionReason::Other => "Other (explain in the note)",
        }
    }
}

impl fmt::Display for RejectionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RejectionReason::TooEarly => "too_early",
            RejectionReason::ReviewNeeded => "review_needed",
            RejectionReason::MonitoringNeeded => "monitoring_needed",
            RejectionReason::AppointmentNeeded => "appointment_needed",
            RejectionReason::NotOnRepeat => "not_on_repeat",
            RejectionReason::MedicationChanged => "medication_changed",
            RejectionReason::Duplicate => "duplicate",
            RejectionReason::Other => "other",
        })
    }
}

/// Something the decider should know but that does not block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefillWarning {
    /// The medication review date has passed.
    ReviewOverdue {
        /// The review date on record.
        review_due: Date,
    },
    /// The medicine is issued only with blood monitoring up to date
    /// ([`NEEDS_MONITORING`]).
    NeedsMonitoring {
        /// Its place in the request.
        item: usize,
    },
    /// The same medicine is listed twice in the request.
    ListedTwice {
        /// The second listing's place.
        item: usize,
    },
    /// The patient asked for the same medicine within
    /// [`ASKED_RECENTLY_DAYS`] days, in an earlier request.
    AskedRecently {
        /// Its place in the request.
        item: usize,
        /// How many days before.
        days: i64,
    },
}

/// Medicines issued only while their blood monitoring is up to date (the
/// high-risk and shared-care monitoring lists: DMARDs, lithium, warfarin,
/// amiodarone), matched in the medicine's name, case-blind.
pub const NEEDS_MONITORING: &[&str] = &[
    "methotrexate",
    "azathioprine",
    "mercaptopurine",
    "leflunomide",
    "mycophenolate",
    "ciclosporin",
    "lithium",
    "warfarin",
    "amiodarone",
];

/// An earlier request of the same medicine this recent is pointed out.
pub const ASKED_RECENTLY_DAYS: i64 = 14;

/// The most medicines one request may decide one by one.
pub const MAX_ITEMS: usize = 32;

/// What the decider should know about the medicines of a request: `names`
/// (each medicine's name, in the request's order) against `earlier` (when
/// each earlier request of the patient was made, and the names it listed),
/// at `now`. Names match case-blind.
pub fn item_warnings(
    names: &[String],
    earlier: &[(Timestamp, Vec<String>)],
    now: Timestamp,
) -> Vec<RefillWarning> {
    let key = |n: &str| n.trim().to_lowercase();
    let mut out = Vec::new();
    for (item, name) in names.iter().enumerate() {
        let name = key(name);
        if name.is_empty() {
            continue;
        }
        if NEEDS_MONITORING.iter().any(|m| name.contains(m)) {
            out.push(RefillWarning::NeedsMonitoring { item });
        }
        if names[..item].iter().any(|n| key(n) == name) {
            out.push(RefillWarning::ListedTwice { item });
        }
        let recent = earlier
            .iter()
            .filter(|(_, listed)| listed.iter().any(|n| key(n) == name))
            .map(|(at, _)| now.duration_since(*at).as_hours() / 24)
            .filter(|days| (0..ASKED_RECENTLY_DAYS).contains(days))
            .min();
        if let Some(days) = recent {
            out.push(RefillWarning::AskedRecently { item, days });
        }
    }
    out
}

impl RefillWarning {
    /// In words, naming the medicine from `names` (the request's, in order).
    pub fn words(&self, names: &[String]) -> String {
        let name = |i: &usize| names.get(*i).map_or("this medicine", String::as_str).to_owned();
        match self {
            RefillWarning::ReviewOverdue { review_due } => {
                format!("The medication review was due on {review_due}: review before issuing.")
            }
            RefillWarning::NeedsMonitoring { item } => {
                format!("{} needs blood monitoring: check the latest results before issuing.", name(item))
            }
            RefillWarning::ListedTwice { item } => format!("{} is listed twice in this request.", name(item)),
            RefillWarning::AskedRecently { item, days } => match days {
                0 => format!("{} was asked for earlier today, in another request.", name(item)),
                1 => format!("{} was asked for yesterday, in another request.", name(item)),
                d => format!("{} was asked for {d} days ago, in another request.", name(item)),
            },
        }
    }
}

/// What decisions on each medicine make as a whole, checked: none decided
/// twice, at most [`MAX_ITEMS`], and — where the request can be read
/// (`listed`: how many medicines it names; the hub cannot read it) — each
/// of them decided, and no other. Approved when any medicine is issued;
/// otherwise rejected, with the first medicine's reason.
pub fn overall(items: &[ItemDecision], listed: Option<usize>) -> Result<RefillChoice, RuleError> {
    let mut seen = BTreeSet::new();
    let fits = |d: &ItemDecision| listed.is_none_or(|n| usize::from(d.item) < n);
    if items.is_empty()
        || items.len() > MAX_ITEMS
        || listed.is_some_and(|n| n != items.len())
        || !items.iter().all(|d| seen.insert(d.item) && fits(d))
    {
        return Err(RuleError::ItemDecisions);
    }
    if items.iter().any(|d| d.outcome == ItemOutcome::Issue) {
        return Ok(RefillChoice::Approve);
    }
    items
        .iter()
        .find_map(|d| match d.outcome {
            ItemOutcome::NotIssued { reason } => Some(RefillChoice::Reject { reason }),
            ItemOutcome::Issue => None,
        })
        .ok_or(RuleError::ItemDecisions)
}

/// The decision taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefillDecision {
    /// Approved.
    Approved,
    /// Rejected.
    Rejected {
        /// Coded reason.
        reason: RejectionReason,
        /// Optional explanation (patient data: redacted in Debug).
        note: Option<FreeText>,
    },
}

/// The result of a decision: what was decided, warnings, the audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefillOutcome {
    /// The decision.
    pub decision: RefillDecision,
    /// Non-blocking warnings to show.
    pub warnings: Vec<RefillWarning>,
    /// The audit event to record.
    pub audit: AuditEvent,
}

/// The facts a refill decision depends on.
#[derive(Debug, Clone, Copy)]
pub struct RefillContext<'a> {
    /// The thread (its category must be repeat prescription).
    pub thread: ThreadRef,
    /// Its state.
    pub state: &'a ThreadState,
    /// Its messages.
    pub messages: &'a [Message],
    /// Who viewed what.
    pub views: &'a ViewLog,
    /// The medication review date on record, if any.
    pub review_due: Option<Date>,
}

fn check_decider<'a>(
    ctx: &RefillContext<'_>,
    actor: &'a Actor,
    action: Action,
) -> Result<&'a StaffRef, RuleError> {
    let category = ctx.thread.category;
    if category != Category::RepeatPrescription {
        return Err(RuleError::NotAPrescriptionThread { category });
    }
    if !ctx.state.is_open() {
        return Err(RuleError::ThreadClosed);
    }
    let staff = actor.staff().ok_or(RuleError::NotStaff { actor: actor.kind() })?;
    if !can(staff.role, action, category) {
        return Err(RuleError::Forbidden { actor: actor.kind(), action, category });
    }
    let patient_messages: Vec<&Message> = ctx.messages.iter().filter(|m| m.is_from_patient()).collect();
    if patient_messages.is_empty() {
        return Err(RuleError::NoPatientMessage);
    }
    let unviewed = patient_messages.iter().filter(|m| !ctx.views.has_viewed(m.id, &staff.id)).count();
    if unviewed > 0 {
        return Err(RuleError::UnviewedPatientMessages { unviewed });
    }
    Ok(staff)
}

/// Approves the request at `at`. Warns (does not block) when the review date
/// is before `at`'s UK date.
pub fn approve(ctx: &RefillContext<'_>, actor: &Actor, at: Timestamp) -> Result<RefillOutcome, RuleError> {
    check_decider(ctx, actor, Action::ApprovePrescription)?;
    let today = at.to_zoned(uk_time_zone()?).date();
    let warnings: Vec<RefillWarning> = match ctx.review_due {
        Some(review_due) if review_due < today => vec![RefillWarning::ReviewOverdue { review_due }],
        _ => Vec::new(),
    };
    let audit = AuditEvent {
        at,
        actor: actor.clone(),
        thread: ctx.thread.id,
        kind: AuditKind::RefillApproved { review_overdue: !warnings.is_empty() },
    };
    Ok(RefillOutcome { decision: RefillDecision::Approved, warnings, audit })
}

/// Rejects the request with a coded reason and an optional note (required
/// for [`RejectionReason::Other`]).
pub fn reject(
    ctx: &RefillContext<'_>,
    actor: &Actor,
    reason: RejectionReason,
    note: Option<FreeText>,
    at: Timestamp,
) -> Result<RefillOutcome, RuleError> {
    check_decider(ctx, actor, Action::RejectPrescription)?;
    let note = note.filter(|n| !n.is_blank());
    if reason == RejectionReason::Other && note.is_none() {
        return Err(RuleError::RejectionNoteRequired);
    }
    let audit = AuditEvent {
        at,
        actor: actor.clone(),
        thread: ctx.thread.id,
        kind: AuditKind::RefillRejected { reason },
    };
    Ok(RefillOutcome { decision: RefillDecision::Rejected { reason, note }, warnings: Vec::new(), audit })
}

/// Asks the patient a question instead of deciding: the thread must be in
/// progress with the actor, who must be allowed to decide and to reply; it
/// moves to awaiting patient.
pub fn query_patient(
    ctx: &RefillContext<'_>,
    actor: &Actor,
    at: Timestamp,
) -> Result<(ThreadState, AuditEvent), RuleError> {
    let staff = check_decider(ctx, actor, Action::RejectPrescription)?;
    if !can(staff.role, Action::Reply, ctx.thread.category) {
        return Err(RuleError::Forbidden {
            actor: actor.kind(),
            action: Action::Reply,
            category: ctx.thread.category,
        });
    }
    transition(ctx.thread, ctx.state, &ThreadAction::AwaitPatient, actor, at)
}

#[cfg(test)]
mod item_tests {
    use super::*;

    fn issue(item: u8) -> ItemDecision {
        ItemDecision { item, outcome: ItemOutcome::Issue }
    }
    fn not(item: u8, reason: RejectionReason) -> ItemDecision {
        ItemDecision { item, outcome: ItemOutcome::NotIssued { reason } }
    }

    #[test]
    fn per_medicine_decisions_make_an_approval_when_any_is_issued_and_must_cover_the_request_once() {
        let review = RejectionReason::ReviewNeeded;
        assert_eq!(overall(&[not(0, review), issue(1)], Some(2)), Ok(RefillChoice::Approve));
        assert_eq!(
            overall(&[not(1, review), not(0, RejectionReason::TooEarly)], Some(2)),
            Ok(RefillChoice::Reject { reason: review })
        );
        // At the hub the request is sealed: only repeats are caught.
        assert_eq!(overall(&[issue(5)], None), Ok(RefillChoice::Approve));
        for bad in [
            vec![],
            vec![issue(0)],
            vec![issue(0), issue(0)],
            vec![issue(0), issue(2)],
            vec![issue(0), issue(1), issue(2)],
        ] {
            assert_eq!(overall(&bad, Some(2)), Err(RuleError::ItemDecisions), "{bad:?}");
        }
        assert_eq!(overall(&[issue(1), issue(1)], None), Err(RuleError::ItemDecisions));
        let many: Vec<ItemDecision> = (0..=MAX_ITEMS as u8).map(issue).collect();
        assert_eq!(overall(&many, None), Err(RuleError::ItemDecisions));
    }

    #[test]
    fn warnings_name_monitored_medicines_repeats_in_the_request_and_recent_requests() {
        let now = Timestamp::from_second(1_750_000_000).unwrap();
        let days = |d: i64| now - jiff::SignedDuration::from_hours(24 * d);
        let names: Vec<String> =
            ["Methotrexate", "Ramipril", "ramipril", "Sertraline"].iter().map(|s| s.to_string()).collect();
        let earlier = vec![
            (days(3), vec!["Sertraline".to_owned()]),
            (days(10), vec!["SERTRALINE".to_owned()]),
            (days(30), vec!["Methotrexate".to_owned()]),
        ];
        let w = item_warnings(&names, &earlier, now);
        assert_eq!(
            w,
            vec![
                RefillWarning::NeedsMonitoring { item: 0 },
                RefillWarning::ListedTwice { item: 2 },
                RefillWarning::AskedRecently { item: 3, days: 3 },
            ]
        );
        let said: Vec<String> = w.iter().map(|x| x.words(&names)).collect();
        assert!(said[0].starts_with("Methotrexate needs blood monitoring"), "{said:?}");
        assert_eq!(said[2], "Sertraline was asked for 3 days ago, in another request.");
        assert!(item_warnings(&["Ramipril".to_owned()], &[], now).is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::uk_time_zone;
    use crate::ids::ThreadId;
    use crate::message::{Author, MedicationRequest, MedicationText, MessagePart};
    use crate::role::Role;
    use crate::thread_state::StateKind;

    fn at() -> Timestamp {
        uk_time_zone().unwrap().to_timestamp(Date::new(2025, 6, 10).unwrap().at(11, 0, 0, 0)).unwrap()
    }
    fn msg(id: u64, author: Author) -> Message {
        Message {
            id: MessageId(id),
            author,
            received_at: at(),
            parts: vec![MessagePart::MedicationRequest(MedicationRequest {
                items: vec![MedicationText::new("Levothyroxine 50mcg")],
                shared_notes: vec![],
                answers: Vec::new(),
            })],
        }
    }
    fn pharmacist() -> StaffRef {
        StaffRef::new("ph-1", Role::Pharmacist)
    }
    struct Fixture {
        state: ThreadState,
        messages: Vec<Message>,
        views: ViewLog,
        review_due: Option<Date>,
        category: Category,
    }
    impl Fixture {
        fn new() -> Self {
            Fixture {
                state: ThreadState::InProgress { by: pharmacist() },
                messages: vec![
                    msg(1, Author::Patient),
                    msg(2, Author::Clinician(StaffId("gp-1".into()))),
                    msg(3, Author::Patient),
                ],
                views: ViewLog::new(),
                review_due: None,
                category: Category::RepeatPrescription,
            }
        }
        fn ctx(&self) -> RefillContext<'_> {
            RefillContext {
                thread: ThreadRef { id: ThreadId(5), category: self.category },
                state: &self.state,
                messages: &self.messages,
                views: &self.views,
                review_due: self.review_due,
            }
        }
        fn view_all_patient_messages(&mut self, staff: &StaffRef) {
            self.views.record(MessageId(1), staff.id.clone());
            self.views.record(MessageId(3), staff.id.clone());
        }
    }

    #[test]
    fn approval_requires_every_patient_message_viewed() {
        let mut f = Fixture::new();
        let actor = Actor::Staff(pharmacist());
        assert_eq!(approve(&f.ctx(), &actor, at()), Err(RuleError::UnviewedPatientMessages { unviewed: 2 }));
        f.views.record(MessageId(1), pharmacist().id);
        // Seen the first but not the latest: still blocked.
        assert_eq!(approve(&f.ctx(), &actor, at()), Err(RuleError::UnviewedPatientMessages { unviewed: 1 }));
        // Someone else viewing it does not count.
        f.views.record(MessageId(3), StaffId("gp-1".into()));
        assert!(approve(&f.ctx(), &actor, at()).is_err());
        f.views.record(MessageId(3), pharmacist().id);
        let out = approve(&f.ctx(), &actor, at()).unwrap();
        assert_eq!(out.decision, RefillDecision::Approved);
        assert!(out.warnings.is_empty());
        assert_eq!(out.audit.kind, AuditKind::RefillApproved { review_overdue: false });
    }

    #[test]
    fn only_roles_allowed_to_approve_may_approve() {
        for role in Role::ALL {
            let staff = StaffRef::new(format!("s-{role}"), role);
            let mut f = Fixture::new();
            f.view_all_patient_messages(&staff);
            let res = approve(&f.ctx(), &Actor::Staff(staff), at());
            assert_eq!(
                res.is_ok(),
                can(role, Action::ApprovePrescription, Category::RepeatPrescription),
                "{role}"
            );
        }
        let f = Fixture::new();
        assert!(matches!(approve(&f.ctx(), &Actor::System, at()), Err(RuleError::NotStaff { .. })));
    }

    #[test]
    fn overdue_review_warns_but_does_not_block() {
        let mut f = Fixture::new();
        f.view_all_patient_messages(&pharmacist());
        f.review_due = Some(Date::new(2025, 6, 9).unwrap());
        let out = approve(&f.ctx(), &Actor::Staff(pharmacist()), at()).unwrap();
        assert_eq!(
            out.warnings,
            vec![RefillWarning::ReviewOverdue { review_due: Date::new(2025, 6, 9).unwrap() }]
        );
        assert_eq!(out.audit.kind, AuditKind::RefillApproved { review_overdue: true });
        f.review_due = Some(Date::new(2025, 6, 10).unwrap());
        assert!(approve(&f.ctx(), &Actor::Staff(pharmacist()), at()).unwrap().warnings.is_empty());
    }

    #[test]
    fn rejection_needs_a_listed_reason_and_other_needs_a_note() {
        let mut f = Fixture::new();
        f.view_all_patient_messages(&pharmacist());
        let actor = Actor::Staff(pharmacist());
        let out = reject(&f.ctx(), &actor, RejectionReason::ReviewNeeded, None, at()).unwrap();
        assert_eq!(
            out.decision,
            RefillDecision::Rejected { reason: RejectionReason::ReviewNeeded, note: None }
        );
        assert_eq!(out.audit.kind, AuditKind::RefillRejected { reason: RejectionReason::ReviewNeeded });
        assert_eq!(
            reject(&f.ctx(), &actor, RejectionReason::Other, Some(FreeText::new("  ")), at()),
            Err(RuleError::RejectionNoteRequired)
        );
        let out =
            reject(&f.ctx(), &actor, RejectionReason::Other, Some(FreeText::new("pharmacy closed")), at())
                .unwrap();
        assert!(!format!("{out:?}").contains("pharmacy closed"));
        assert!(serde_json::from_str::<RejectionReason>("\"made_up\"").is_err());
    }

    #[test]
    fn query_the_patient_moves_to_awaiting_patient() {
        let mut f = Fixture::new();
        f.view_all_patient_messages(&pharmacist());
        let (state, audit) = query_patient(&f.ctx(), &Actor::Staff(pharmacist()), at()).unwrap();
        assert_eq!(state, ThreadState::AwaitingPatient { owner: pharmacist() });
        assert!(matches!(audit.kind, AuditKind::Transition { to: StateKind::AwaitingPatient, .. }));
    }

    #[test]
    fn decisions_only_on_open_prescription_threads() {
        let mut f = Fixture::new();
        f.view_all_patient_messages(&pharmacist());
        f.category = Category::MedicationQuestion;
        assert!(matches!(
            approve(&f.ctx(), &Actor::Staff(pharmacist()), at()),
            Err(RuleError::NotAPrescriptionThread { .. })
        ));
        f.category = Category::RepeatPrescription;
        f.state = ThreadState::Closed;
        assert_eq!(approve(&f.ctx(), &Actor::Staff(pharmacist()), at()), Err(RuleError::ThreadClosed));
        f.state = ThreadState::InProgress { by: pharmacist() };
        f.messages.retain(|m| !m.is_from_patient());
        assert_eq!(approve(&f.ctx(), &Actor::Staff(pharmacist()), at()), Err(RuleError::NoPatientMessage));
    }
}
