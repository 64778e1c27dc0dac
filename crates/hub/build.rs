//! Embeds the patient web app (`patient-web/dist`, built by `cargo xtask`
//! before the hub) so the hub serves it at `/patient/` with nothing to
//! install beside the binary. A hub built without it serves a page saying
//! so (`http::patient_app`).

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let app = manifest.join("../../patient-web");
    let dist = app.join("dist");
    // A missing path would rerun this script on every build; watch the
    // crate's folder until the bundle exists.
    let watched = if dist.is_dir() { &dist } else { &app };
    println!("cargo:rerun-if-changed={}", watched.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dist)
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    let mut out = String::from("&[\n");
    for path in &files {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        let _ = writeln!(out, "    ({name:?}, include_bytes!({:?})),", path.display().to_string());
    }
    out.push_str("]\n");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(e) = std::fs::write(out_dir.join("patient_app.rs"), out) {
        println!("cargo:warning=could not write the patient app's file list: {e}");
        std::process::exit(1);
    }
}
