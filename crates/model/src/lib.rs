//! sealbox-model: the vocabulary shared by the shell, the core, the hub and the
//! UI, and the pure rules that operate on it. No IO; builds for wasm32 too.
//!
//! Time is always a parameter: every rule that depends on "now" takes a
//! [`jiff::Timestamp`] from the caller. Nothing here reads the system clock.
//! Patient-identifying values (names, dates of birth, NHS numbers, free text,
//! medication text) live in types whose `Debug` and `Display` print a redacted
//! placeholder; use their `reveal` methods where the value must be shown.

pub mod api;

pub mod actor;
pub mod audit;
pub mod bank_holidays;
pub mod breach;
pub mod calendar;
pub mod category;
pub mod draft_saves;
pub mod duplicates;
pub mod error;
pub mod heartbeat;
pub mod hub_api;
pub mod ids;
pub mod inbox_order;
pub mod invite;
pub mod medicine;
pub mod message;
pub mod nhs_number;
pub mod patient;
pub mod permissions;
pub mod pool;
pub mod priority;
pub mod red_flags;
pub mod redact;
pub mod refill;
pub mod registration;
pub mod renewal;
pub mod reply_templates;
pub mod role;
pub mod sharing;
pub mod thread_state;
pub mod triage;
pub mod undo;

/// Re-exported so that callers use the same civil-time types as the rules.
pub use jiff;
