//! sealbox-core: the clinician-side engine with IO. The shell adapts its
//! commands onto this crate; no clinical rule lives in the shell.
//!
//! - [`account`]: enrolment and sign-in at the hub, device keys, pool keys.
//! - [`audit`]: audit events in a hash chain.
//! - [`data_dir`]: where the cache lives.
//! - [`durable`]: small files written atomically and durably (profile, unlock throttle).
//! - [`store`]: the SQLCipher cache (open, migrations, writes, queries,
//!   retention, quarantine).
//! - [`vault`]: the wrapped data key in the OS keyring and the KEK source.
//! - [`cache`]: enrol, unlock, lock, rekey, wipe.
//! - [`key`]: the security key (FIDO2, hmac-secret) and the KEK it yields.
//! - [`lock`]: the lock state machine (idle, OS lock, suspend, lock now, re-authentication).
//! - [`notify`]: blind notifications (counts and pool names only).
//! - [`record`]: save to record: a handled thread to the practice's FHIR endpoint.
//! - [`sync`]: pull from the practice hub, follow its events, send the outbox.
//! - [`update`]: when a desktop update may be offered and installed.
//! - [`workstation`]: enrol, unlock (online or offline) and lock: the desk.

pub mod account;
pub mod audit;
pub mod cache;
pub mod data_dir;
pub mod durable;
pub mod key;
pub mod lock;
pub mod notify;
pub mod record;
pub mod status;
pub mod store;
pub mod sync;
pub mod time;
pub mod update;
pub mod vault;
pub mod workstation;
