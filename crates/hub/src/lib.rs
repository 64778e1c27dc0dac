//! sealbox-hub: the practice hub server. It relays end-to-end sealed
//! messages (it never sees plaintext), authenticates clinicians' security
//! keys (`auth`), and keeps the shared state of threads (owner, state,
//! versions) behind a small JSON API (docs/hub-api.yaml).

pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod config_file;
pub mod db;
pub mod http;
pub mod notice;
pub mod ops;
pub mod practices;
pub mod relay;
pub mod server;
pub mod state;
pub mod tls;
pub mod updates;

pub use state::AppState;
