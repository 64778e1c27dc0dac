//! sealbox-core: the clinician-side engine with IO. The shell adapts its
//! commands onto this crate; no clinical rule lives in the shell.

pub mod status;
