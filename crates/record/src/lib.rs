//! Save to record (issue 27): a handled thread, as the workstation holds it
//! decrypted, becomes one FHIR R4 transaction Bundle for the practice's
//! clinical system. The hub cannot do this: it never reads a message.
//!
//! - [`thread`]: what is saved (the workstation fills it from its cache).
//! - [`bundle`]: the Bundle, built with the `fhir` crate's R4 models: a
//!   `Communication` per message, a `Task` for the request, the refill
//!   decision (`MedicationRequest`s, or the `Task`'s coded rejection), and
//!   a `Provenance` naming the clinician, the workstation and the audit
//!   chain's link. The patient is referenced by NHS number, never created.
//! - [`endpoint`]: the practice's FHIR endpoint: SMART Backend Services
//!   sign-in, the Bundle posted, the patient looked up by NHS number.
//! - [`matching`]: whether the record's patient is the one who wrote.
//! - [`names`]: identifier systems, profiles and the entries' stable names,
//!   which make a second save of the same thread change nothing
//!   (`ifNoneExist` on our ids).
//!
//! docs/fhir.md lists every element written and where it comes from.

pub mod bundle;
pub mod endpoint;
pub mod matching;
pub mod names;
pub mod thread;

pub use bundle::{to_bundle, to_json, RecordError};
