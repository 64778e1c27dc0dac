//! One module per screen.

pub mod audit;
pub mod colleagues;
pub mod composer;
pub mod enrol;
pub mod inbox;
pub mod inbox_list;
pub mod lock;
pub mod patient_invite;
pub mod photo;
pub mod record;
pub mod refill;
pub mod room;
pub mod settings;
pub mod thread;
pub mod triage_panel;
pub mod updates;
pub mod workload;
