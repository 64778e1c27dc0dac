//! `cargo xtask bench hub-ratio [--rounds N] [-- options]`: the hub's
//! patient ingest on PostgreSQL against SQLite, side by side (issue 28's
//! target: PostgreSQL on one node ≥ 0.7× SQLite). What is compared is how
//! much each engine takes: the load bench keeps [`IN_FLIGHT`] posts in
//! flight (unless `--concurrency` is given), where both engines' rates
//! have levelled off. At the load bench's own 64 neither has: each post
//! waits on the round trips of the batch before it and of its own, so the
//! rate measures latency, and PostgreSQL's round trips go to another
//! process (docs/benchmarks.md has the sweep). On a shared VM the
//! machine's speed swings by half within the hour, so two runs an hour
//! apart say little: this runs the load bench (0 syncing, one node) on
//! each engine in turn, N rounds, in the order SQLite, PostgreSQL, then
//! PostgreSQL, SQLite (so a drift within a round favours neither), on one
//! throwaway cluster of Debian's PostgreSQL (fsync on; each run on a
//! fresh database, the one before dropped, as each SQLite run is on a
//! fresh file). It prints each round, the pooled ratio (the sum of
//! PostgreSQL's rates over SQLite's) and a bootstrap interval over the
//! rounds; the target counts as shown only when the whole interval clears
//! it. The rounds of one run are not independent (the VM drifts over
//! minutes), so one run's interval is narrower than the spread between
//! runs: run it more than once.

// The table on stdout is this command's output.
#![allow(clippy::print_stdout)]

use std::process::Command;

use crate::bench::{bench_cluster, load_bench};
use crate::postgres;
use crate::proc::{self, Error, Result};
use crate::workspace::Workspace;

/// PostgreSQL's ingest over SQLite's that issue 28 asks for.
const TARGET: f64 = 0.7;
/// Rounds when `--rounds` is not given.
const ROUNDS: usize = 8;
/// Resamples of the rounds for the interval.
const RESAMPLES: usize = 4000;
/// Posts in flight when `--concurrency` is not given: where both engines'
/// ingest levels off on this machine (SQLite's and PostgreSQL's rates at
/// 256 and at 512 are within the VM's spread; at 64 and 128 both are
/// lower).
const IN_FLIGHT: &str = "256";

pub fn run(args: &[String]) -> Result<()> {
    let ws = Workspace::locate()?;
    let (mut rounds, mut extra) = (ROUNDS, Vec::new());
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--rounds" => {
                rounds = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| Error::new("--rounds needs a number above 0"))?;
            }
            "--" => {}
            other => extra.push(other.to_owned()),
        }
    }
    let extra = with_load(extra);
    // Built once, before any round is timed.
    proc::run(ws.cargo().args(["bench", "-p", "sealbox-hub", "--bench", "load", "--no-run"]))?;
    // Stopped when this returns (or fails).
    let cluster = bench_cluster("bench-ratio")?;
    eprintln!("xtask: bench: the load bench on each engine with {} (0 syncing, one node)", extra.join(" "));
    let ingest = |postgres: bool| -> Result<f64> {
        if postgres {
            drop_bench_databases(&cluster)?;
        }
        let mut cmd = load_bench(&ws, "0", "1", postgres.then_some(&cluster));
        ingest_of(cmd.args(&extra))
    };
    let mut measured = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let (sqlite, pg) = if round % 2 == 0 {
            let sqlite = ingest(false)?;
            (sqlite, ingest(true)?)
        } else {
            let pg = ingest(true)?;
            (ingest(false)?, pg)
        };
        eprintln!("xtask: bench: round {}: SQLite {sqlite:.0}, PostgreSQL {pg:.0} messages/s", round + 1);
        measured.push(Round { sqlite, pg });
    }
    cluster.stop()?;
    print!("{}", table(&measured));
    Ok(())
}

/// One round: each engine's ingest, messages/s.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Round {
    sqlite: f64,
    pg: f64,
}

/// The load bench's options: `given`, and [`IN_FLIGHT`] posts in flight
/// unless they say how many.
fn with_load(mut given: Vec<String>) -> Vec<String> {
    if !given.iter().any(|a| a == "--concurrency") {
        given.extend(["--concurrency".to_owned(), IN_FLIGHT.to_owned()]);
    }
    given
}

/// Drops the databases earlier runs made (the load bench makes a
/// `sealbox_…` one per run), so each PostgreSQL run starts as the first
/// did: no other database for autovacuum to visit, and the checkpoint
/// that DROP DATABASE makes leaves no earlier run's writes to flush.
fn drop_bench_databases(cluster: &postgres::Cluster) -> Result<()> {
    let mut list = cluster.psql("SELECT datname FROM pg_database WHERE datname LIKE 'sealbox\\_%'");
    for name in proc::run_captured(&mut list)?.lines().map(str::trim).filter(|n| !n.is_empty()) {
        proc::run_quiet(&mut cluster.psql(&format!("DROP DATABASE \"{name}\"")))?;
    }
    Ok(())
}

/// Runs the load bench and reads its ingest row
/// (`| ingest | 4018 messages/s | ≥ 2,000 |`).
fn ingest_of(cmd: &mut Command) -> Result<f64> {
    let stdout = proc::run_captured(cmd)?;
    parse_ingest(&stdout)
        .ok_or_else(|| Error::new(format!("no ingest row in the load bench's output:\n{stdout}")))
}

fn parse_ingest(stdout: &str) -> Option<f64> {
    let line = stdout.lines().find(|l| l.starts_with("| ingest |"))?;
    line.split('|').nth(2)?.trim().strip_suffix(" messages/s")?.parse().ok()
}

/// The sum of PostgreSQL's rates over SQLite's.
fn pooled(rounds: &[Round]) -> f64 {
    let (sqlite, pg) = rounds.iter().fold((0.0, 0.0), |(s, p), r| (s + r.sqlite, p + r.pg));
    pg / sqlite
}

/// The 5th and 95th percentiles of the pooled ratio over resamples of the
/// rounds (drawn with replacement; a fixed seed, so the same rounds give
/// the same interval).
fn interval(rounds: &[Round]) -> (f64, f64) {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // xorshift64*: enough to draw indexes evenly.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let n = rounds.len() as u64;
    let mut ratios: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let sample: Vec<Round> =
                (0..n).filter_map(|_| rounds.get((next() % n) as usize).copied()).collect();
            pooled(&sample)
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios.get(((RESAMPLES - 1) as f64 * q).round() as usize).copied().unwrap_or(f64::NAN);
    (at(0.05), at(0.95))
}

/// What the rounds say of the target.
fn verdict(low: f64, high: f64) -> &'static str {
    if low >= TARGET {
        "met: the whole interval is at or above 0.70"
    } else if high < TARGET {
        "missed: the whole interval is below 0.70"
    } else {
        "not shown: the interval holds 0.70"
    }
}

fn table(rounds: &[Round]) -> String {
    let mut t = String::from(
        "\n| round | SQLite msg/s | PostgreSQL msg/s | PostgreSQL ÷ SQLite |\n|---:|---:|---:|---:|\n",
    );
    for (i, r) in rounds.iter().enumerate() {
        t.push_str(&format!("| {} | {:.0} | {:.0} | {:.2} |\n", i + 1, r.sqlite, r.pg, r.pg / r.sqlite));
    }
    let (low, high) = interval(rounds);
    t.push_str(&format!(
        "| pooled | | | **{:.2}** (90 % interval {low:.2}–{high:.2}) |\n\ningest ≥ {TARGET:.2}× SQLite: {}\n",
        pooled(rounds),
        verdict(low, high)
    ));
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rounds(pairs: &[(f64, f64)]) -> Vec<Round> {
        pairs.iter().map(|&(sqlite, pg)| Round { sqlite, pg }).collect()
    }

    #[test]
    fn the_ingest_row_is_read_and_nothing_else_passes_for_it() {
        let out = "| hub | value | target |\n| ingest | 4018 messages/s | ≥ 2,000 |\n| push | 1 ms |\n";
        assert_eq!(parse_ingest(out), Some(4018.0));
        assert_eq!(parse_ingest("| ingest | fast | ≥ 2,000 |\n"), None);
        assert_eq!(parse_ingest("| push latency | 4018 messages/s |\n"), None);
    }

    #[test]
    fn the_engines_are_loaded_to_capacity_unless_told_otherwise() {
        let given = |args: &[&str]| with_load(args.iter().map(|a| (*a).to_owned()).collect());
        assert_eq!(given(&["--messages", "2000"]), ["--messages", "2000", "--concurrency", IN_FLIGHT]);
        assert_eq!(given(&["--concurrency", "64"]), ["--concurrency", "64"]);
    }

    #[test]
    fn the_pooled_ratio_weighs_each_round_by_its_rates() {
        let r = rounds(&[(4000.0, 2000.0), (6000.0, 6000.0)]);
        assert!((pooled(&r) - 0.8).abs() < 1e-9, "{}", pooled(&r));
    }

    #[test]
    fn the_target_is_shown_only_when_the_whole_interval_clears_it() {
        let steady = rounds(&[(5000.0, 4000.0); 8]);
        let (low, high) = interval(&steady);
        assert!((low - 0.8).abs() < 1e-9 && (high - 0.8).abs() < 1e-9);
        assert!(verdict(low, high).starts_with("met"));
        let spread = rounds(&[(5000.0, 2500.0), (5000.0, 4500.0), (5000.0, 2800.0), (5000.0, 4300.0)]);
        let (low, high) = interval(&spread);
        assert!(low < 0.7 && high > 0.7 && low < high, "{low} {high}");
        assert!(verdict(low, high).starts_with("not shown"));
        assert!(verdict(0.5, 0.69).starts_with("missed"));
    }
}
