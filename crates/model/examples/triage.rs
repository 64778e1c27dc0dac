//! Runs the red-flag detector over a JSON Lines file.
//!
//! Usage: `cargo run -q -p sealbox-model --example triage -- FILE.jsonl`
//!
//! Each input line is `{"id": "...", "text": "..."}` (other fields, such as
//! an `urgent` label, are ignored). Each output line is
//! `{"id": "...", "urgent": true|false, "flags": ["chest pain", ...]}`.
//! A malformed line stops the run with an error naming the line number; the
//! message text is never echoed.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::process::ExitCode;

use sealbox_model::red_flags::corpus::{output_line, parse_line};
use sealbox_model::red_flags::RedFlagDetector;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path] = args.as_slice() else {
        eprintln!("usage: cargo run -q -p sealbox-model --example triage -- FILE.jsonl");
        return ExitCode::from(2);
    };
    let input = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("triage: cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let detector = match RedFlagDetector::new() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("triage: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (i, raw) in input.lines().enumerate() {
        match parse_line(i + 1, raw) {
            Ok(None) => {}
            Ok(Some(line)) => {
                let assessment = detector.assess(line.text.reveal());
                if writeln!(out, "{}", output_line(&line.id, &assessment)).is_err() {
                    return ExitCode::FAILURE;
                }
            }
            Err(e) => {
                let _ = out.flush();
                eprintln!("triage: {path}: {e}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
