//! Declares the app's commands so Tauri generates `allow-*`/`deny-*`
//! permissions for them; capabilities/ grants them to the main window only,
//! and any command not declared here is refused at the IPC boundary.

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(sealbox_model::api::command::ALL);
    if let Err(err) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        // A build script reports failure by exiting non-zero with a message.
        eprintln!("sealbox build script: {err:#}");
        std::process::exit(1);
    }
}
