//! `sealbox-hub`: see `sealbox_hub::cli`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = sealbox_hub::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sealbox-hub: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(sealbox_hub::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sealbox-hub: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
