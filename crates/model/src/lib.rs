//! sealbox-model: the vocabulary shared by the shell, the core, the hub and the
//! UI, and the pure rules that operate on it. No IO; builds for wasm32 too.

pub mod api;
