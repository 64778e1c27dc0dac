//! Who performs an action: a member of staff (with a role), the patient, or
//! the system (sync, auto-routing).

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ids::StaffId;
use crate::role::Role;

/// The actor an audit event names when Sealbox itself did it on a device
/// (e.g. the hub refused a queued action): never a person.
pub const SYSTEM_ACTOR: &str = "system";

/// A member of staff and the role they act in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StaffRef {
    /// Who.
    pub id: StaffId,
    /// In which role.
    pub role: Role,
}

impl StaffRef {
    /// Convenience constructor.
    pub fn new(id: impl Into<String>, role: Role) -> Self {
        StaffRef { id: StaffId(id.into()), role }
    }
}

/// The performer of an action.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Actor {
    /// A member of staff.
    Staff(StaffRef),
    /// The patient of the thread (through the hub).
    Patient,
    /// Sealbox itself (sync, auto-routing by category).
    System,
}

impl Actor {
    /// The staff member, if the actor is one.
    pub fn staff(&self) -> Option<&StaffRef> {
        match self {
            Actor::Staff(s) => Some(s),
            _ => None,
        }
    }

    /// The kind of actor, without the staff id (for errors).
    pub fn kind(&self) -> ActorKind {
        match self {
            Actor::Staff(s) => ActorKind::Staff(s.role),
            Actor::Patient => ActorKind::Patient,
            Actor::System => ActorKind::System,
        }
    }
}

/// An actor reduced to its kind and role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// Staff in a role.
    Staff(Role),
    /// The patient.
    Patient,
    /// The system.
    System,
}

impl fmt::Display for ActorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActorKind::Staff(r) => write!(f, "{r}"),
            ActorKind::Patient => f.write_str("patient"),
            ActorKind::System => f.write_str("system"),
        }
    }
}
