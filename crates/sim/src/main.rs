//! `sealbox-sim`: simulated patients for the demo, the tests and the load bench.
//!
//! ```text
//! sealbox-sim --hub URL --practice FILE send --patients 200 --messages 2000 --seed 7 [--rate 50/s]
//! sealbox-sim --hub URL --practice FILE read-replies
//! ```
//! The practice file comes from `sealbox-hub patient-channels --out FILE`.

// A command-line tool: its summary and the replies it reads are its output.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use sealbox_sim::{client, load_practice, read_replies, send, traffic, SendOptions, SimError};

#[derive(Parser)]
#[command(name = "sealbox-sim", about = "Simulated patients writing to a Sealbox practice hub")]
struct Cli {
    /// The hub's base URL, e.g. http://127.0.0.1:8080
    #[arg(long)]
    hub: String,
    /// The practice file written by `sealbox-hub patient-channels --out`.
    #[arg(long)]
    practice: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Send realistic patient messages.
    Send {
        /// How many of the file's patients write.
        #[arg(long, default_value_t = 200)]
        patients: usize,
        /// How many messages in all.
        #[arg(long, default_value_t = 2000)]
        messages: usize,
        /// The traffic is the same for the same seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Pace, e.g. `50/s` or `50`; as fast as the hub takes them if absent.
        #[arg(long)]
        rate: Option<String>,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
    },
    /// Print the practice's replies to the simulated patients, opened.
    ReadReplies,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sealbox-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), SimError> {
    let practice = load_practice(&cli.practice)?;
    let http = client::client()?;
    match cli.command {
        Command::Send { patients, messages, seed, rate, concurrency } => {
            if patients == 0 || patients > practice.patients.len() {
                return Err(SimError::Usage(format!(
                    "--patients must be 1..={} (the practice file's patients)",
                    practice.patients.len()
                )));
            }
            let rate_per_sec = rate.as_deref().map(parse_rate).transpose()?;
            let plan = traffic::plan(seed, patients, messages);
            let summary =
                send::send(&http, &cli.hub, &practice, &plan, SendOptions { rate_per_sec, concurrency })
                    .await?;
            print!("{summary}");
            if summary.refused.is_empty() {
                Ok(())
            } else {
                Err(SimError::Usage("the hub refused some messages (see the summary)".into()))
            }
        }
        Command::ReadReplies => {
            let replies = read_replies::read_replies(&http, &cli.hub, &practice).await?;
            for reply in &replies {
                println!("{}", reply.to_json_line());
            }
            println!("{} replies", replies.len());
            Ok(())
        }
    }
}

fn parse_rate(text: &str) -> Result<f64, SimError> {
    let number = text.trim().trim_end_matches("/s");
    match number.parse::<f64>() {
        Ok(r) if r > 0.0 && r.is_finite() => Ok(r),
        _ => Err(SimError::Usage(format!("--rate must look like 50/s, not {text:?}"))),
    }
}
