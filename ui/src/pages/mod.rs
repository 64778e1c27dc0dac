//! One module per screen.

pub mod lock;
