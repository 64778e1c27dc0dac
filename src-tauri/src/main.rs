// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--check-key") {
        std::process::exit(sealbox_shell::check_keys());
    }
    if let Err(err) = sealbox_shell::run() {
        eprintln!("sealbox: {err}");
        std::process::exit(1);
    }
}
