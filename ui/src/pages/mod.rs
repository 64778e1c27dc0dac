//! One module per screen.

pub mod inbox;
pub mod lock;
pub mod thread;
