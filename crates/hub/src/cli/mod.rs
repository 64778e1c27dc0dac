//! The `sealbox-hub` command line: `serve`, `patient-channels`, the
//! identity commands `init-practice` and `invite` (implemented in
//! `crate::auth::cli`), `audit verify` / `audit export`, `backup` /
//! `restore` (`crate::db::backup`), `publish-update` (`crate::updates`),
//! and a deployment's `add-practice` / `practices` (`crate::practices`).
//! Which database a command works on: `store.rs`.

use clap::{Parser, Subcommand};
use sealbox_model::hub_api::PracticePolicy;
use sealbox_model::registration::Registration;
use sealbox_model::role::Role;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::audit::check::{check, Filter};
use crate::audit::export::{self, Format};
use crate::clock::SystemClock;
use crate::config::RatePolicy;
use crate::config_file::ServeSettings;
use crate::notice::smtp::SmtpConfig;
use crate::practices::Deployment;
use crate::relay::channels::{self, ChannelError};
use crate::server::{self, ServeError, TlsFiles};
use crate::state::AppState;
use sealbox_model::jiff::Timestamp;
use std::sync::Arc;

mod store;
pub use store::{DatabaseArgs, StoreArgs};

/// The practice hub.
#[derive(Debug, Parser)]
#[command(
    name = "sealbox-hub",
    version,
    about = "Sealbox practice hub: sealed-message relay and clinician API"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (plain HTTP only on a loopback address), with the
    /// settings in flags or in a file (`--config`, see `config_file`).
    Serve {
        /// The settings file (e.g. /etc/sealbox-hub/hub.toml), instead of
        /// the flags below.
        #[arg(long, conflicts_with_all = ["data_dir", "addr", "tls_cert", "patient_burst", "patient_per_minute", "smtp_relay", "postgres_file", "multi_practice"])]
        config: Option<PathBuf>,
        /// Directory holding the database.
        #[arg(long, required_unless_present = "config")]
        data_dir: Option<PathBuf>,
        /// Address to listen on, e.g. 127.0.0.1:8443 (port 0 picks one).
        #[arg(long, required_unless_present = "config")]
        addr: Option<SocketAddr>,
        /// PEM certificate chain (with --tls-key: serve HTTPS, TLS 1.2+).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// A file holding the PostgreSQL connection string of the database
        /// this node shares with others (instead of the data dir's SQLite
        /// file); a file, so no password is on the command line.
        #[arg(long)]
        postgres_file: Option<PathBuf>,
        /// Serve every practice of a deployment (`add-practice`), each
        /// under /p/<id>/, instead of the database's one practice.
        #[arg(long)]
        multi_practice: bool,
        /// Messages a patient channel may send at once.
        #[arg(long)]
        patient_burst: Option<u32>,
        /// Messages per minute a patient channel regains.
        #[arg(long)]
        patient_per_minute: Option<u32>,
        #[command(flatten)]
        smtp: SmtpArgs,
    },
    /// Create the practice and print the first admin's invite.
    InitPractice {
        /// Where the database is.
        #[command(flatten)]
        store: StoreArgs,
        /// The practice's name.
        #[arg(long)]
        name: String,
    },
    /// Add a practice to a deployment serving several (`serve
    /// --multi-practice`), and print its id and first admin's invite.
    AddPractice {
        /// The deployment's database.
        #[command(flatten)]
        database: DatabaseArgs,
        /// The practice's name.
        #[arg(long)]
        name: String,
    },
    /// List the practices a deployment serves.
    Practices {
        /// The deployment's database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Print a one-time, expiring enrolment code for a member of staff.
    Invite {
        /// Where the database is.
        #[command(flatten)]
        store: StoreArgs,
        /// gp, nurse, pharmacist, care_navigator or practice_admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Their name.
        #[arg(long)]
        name: String,
        /// Their professional registration, e.g. "GMC 7012345" (shown
        /// under their replies).
        #[arg(long, value_parser = parse_registration)]
        registration: Option<Registration>,
    },
    /// Show the practice's security policy, or change it (each change is
    /// kept with who made it) and show the result.
    Policy {
        /// Where the database is.
        #[command(flatten)]
        store: StoreArgs,
        /// The longest idle lock a clinician may choose (30–900 seconds).
        #[arg(long)]
        max_idle_secs: Option<u32>,
        /// Full re-authentication at least this often (30–43200 seconds).
        #[arg(long)]
        reauth_secs: Option<u32>,
        /// Whether keys without hmac-secret may be used in the weaker
        /// keyring mode: yes or no.
        #[arg(long, value_parser = parse_yes_no)]
        allow_weaker_keys: Option<bool>,
        /// How long a workstation may go on unlocking offline since its last
        /// unlock verified by the hub (3600–1209600 seconds; 72 h by default).
        #[arg(long)]
        max_offline_secs: Option<u32>,
        /// Whether the demo's software key may enrol and unlock: yes or no
        /// (no by default; a demo or test practice only, never patients').
        #[arg(long, value_parser = parse_yes_no)]
        allow_demo_keys: Option<bool>,
        /// Whether pulling out a USB security key locks the workstation at
        /// once: yes or no (no by default).
        #[arg(long, value_parser = parse_yes_no)]
        lock_on_key_removal: Option<bool>,
        /// How long the patient web app stays open without input before it
        /// signs itself out (60–900 seconds; 15 minutes by default).
        #[arg(long)]
        patient_sign_out_secs: Option<u32>,
    },
    /// A consistent copy of the database, taken while the hub serves
    /// (written for its owner only: it holds the hub's secrets).
    Backup {
        /// Directory holding the database.
        #[arg(long)]
        data_dir: PathBuf,
        /// The new file to write.
        #[arg(long)]
        to: PathBuf,
    },
    /// Puts a backup in place as the data directory's database (there must
    /// be none: move a damaged one away first), checked before and after.
    Restore {
        /// Directory to hold the database.
        #[arg(long)]
        data_dir: PathBuf,
        /// The backup to restore.
        #[arg(long)]
        from: PathBuf,
    },
    /// Publish a desktop update for the practice's workstations: the
    /// manifest `cargo xtask bundle` signed, and the packages it names.
    PublishUpdate {
        /// Directory holding the database.
        #[arg(long)]
        data_dir: PathBuf,
        /// The update manifest (latest.json).
        #[arg(long)]
        manifest: PathBuf,
        /// A package the manifest names (repeat for each).
        #[arg(long = "package", required = true)]
        packages: Vec<PathBuf>,
        /// The hub's address as workstations reach it, e.g. https://hub.riverside.example:8443.
        #[arg(long)]
        url: String,
    },
    /// Issue channels for simulated patients and write the simulator's
    /// practice file (it holds the patients' secrets: mode 0600).
    PatientChannels {
        /// Where the database is.
        #[command(flatten)]
        store: StoreArgs,
        /// How many patients.
        #[arg(long)]
        count: u32,
        /// Where to write the practice file (JSON).
        #[arg(long)]
        out: PathBuf,
    },
    /// Invite a patient to write to the practice from their browser: prints
    /// the link (and its code) to give them. Their name and date of birth
    /// are only used to make the invite's identity tag: the hub keeps the
    /// tag, never the details or the code.
    PatientInvite {
        /// Where the database is.
        #[command(flatten)]
        store: StoreArgs,
        /// The patient's name, as on the practice's record.
        #[arg(long)]
        name: String,
        /// Their date of birth (1984-07-19 or 19/07/1984).
        #[arg(long)]
        date_of_birth: String,
        /// Their NHS number: the patient must then type it too.
        #[arg(long)]
        nhs_number: Option<String>,
        /// Re-issue for a patient who lost their device (their pseudonym,
        /// `pt-…`): joining gives them a new channel and closes the old one.
        #[arg(long)]
        replaces: Option<String>,
        /// Days the invite stands (1 to 90; 14 unless given).
        #[arg(long, default_value_t = 14)]
        valid_days: u32,
        /// The hub's public address, for the link.
        #[arg(long, default_value = "https://localhost:8443")]
        url: String,
        /// Also write the link as a QR code for the patient's letter
        /// (`.svg`, or `.pbm`), readable by the owner only.
        #[arg(long)]
        qr: Option<PathBuf>,
    },
    /// The audit trail.
    Audit {
        /// What to do with it.
        #[command(subcommand)]
        command: AuditCommand,
    },
}

/// `sealbox-hub audit …`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every device's chain and signed segments; print each device's
    /// first broken link and exit non-zero if there is one.
    Verify {
        /// Where the database is.
        #[command(flatten)]
        store: StoreArgs,
        /// Only the devices of this staff id.
        #[arg(long)]
        user: Option<String>,
        /// Only the devices with an event about this thread id.
        #[arg(long)]
        thread: Option<String>,
    },
    /// Print the events in [from, to) for a compliance officer.
    Export {
        /// Where the database is.
        #[command(flatten)]
        store: StoreArgs,
        /// Start (RFC 3339, or a date: midnight UTC).
        #[arg(long, value_parser = parse_time)]
        from: Timestamp,
        /// End, excluded.
        #[arg(long, value_parser = parse_time)]
        to: Timestamp,
        /// csv or json.
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
    },
}

fn parse_time(text: &str) -> Result<Timestamp, String> {
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    text.parse::<sealbox_model::jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned(sealbox_model::jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| "expected an RFC 3339 time or a date (YYYY-MM-DD)".to_owned())
}

fn parse_registration(text: &str) -> Result<Registration, String> {
    Registration::parse(text).map_err(|e| e.to_string())
}

fn parse_yes_no(text: &str) -> Result<bool, String> {
    match text {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("expected yes or no".to_owned()),
    }
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::ALL.iter().copied().find(|r| r.key() == text).ok_or_else(|| {
        let keys: Vec<&str> = Role::ALL.iter().map(|r| r.key()).collect();
        format!("unknown role; one of {}", keys.join(", "))
    })
}

/// A command failed.
/// The practice's SMTP relay for blind notices to patients (`serve`).
#[derive(Debug, clap::Args)]
pub struct SmtpArgs {
    /// The relay (host or host:port, 587 unless given); STARTTLS is required.
    #[arg(long, requires_all = ["smtp_from", "public_url"])]
    pub smtp_relay: Option<String>,
    /// The sender, e.g. "Riverside Surgery <no-reply@riverside.example>".
    #[arg(long)]
    pub smtp_from: Option<String>,
    /// The relay's user name (with --smtp-password-file).
    #[arg(long, requires = "smtp_password_file")]
    pub smtp_user: Option<String>,
    /// A file holding the relay's password.
    #[arg(long, requires = "smtp_user")]
    pub smtp_password_file: Option<PathBuf>,
    /// The relay's CA certificate (PEM), when it is not one the system trusts.
    #[arg(long)]
    pub smtp_ca_file: Option<PathBuf>,
    /// The hub's public address, for the link in each notice.
    #[arg(long)]
    pub public_url: Option<String>,
}

impl SmtpArgs {
    /// The relay's settings, if one is given.
    pub fn config(&self) -> Result<Option<SmtpConfig>, CliError> {
        let Some(relay) = &self.smtp_relay else { return Ok(None) };
        let (host, port) = match relay.rsplit_once(':') {
            Some((host, port)) => (
                host.to_owned(),
                port.parse().map_err(|_| CliError::Smtp("--smtp-relay's port is not a number".to_owned()))?,
            ),
            None => (relay.clone(), 587),
        };
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|source| CliError::Write { path: path.clone(), source })
        };
        let credentials = match (&self.smtp_user, &self.smtp_password_file) {
            (Some(user), Some(file)) => {
                let password = String::from_utf8(read(file)?)
                    .map_err(|_| CliError::Smtp("the password file is not text".to_owned()))?;
                Some((user.clone(), password.trim_end_matches(['\r', '\n']).to_owned()))
            }
            _ => None,
        };
        Ok(Some(SmtpConfig {
            host,
            port,
            from: self.smtp_from.clone().unwrap_or_default(),
            credentials,
            ca_pem: self.smtp_ca_file.as_ref().map(read).transpose()?,
            public_url: self.public_url.clone().unwrap_or_default(),
        }))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Opening the database failed.
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    /// A backup or restore did not happen.
    #[error(transparent)]
    Backup(#[from] crate::db::backup::BackupError),
    /// Serving failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// A deployment's practice could not be made or found.
    #[error(transparent)]
    Practices(#[from] crate::practices::PracticesError),
    /// Issuing channels failed.
    #[error(transparent)]
    Channels(#[from] ChannelError),
    /// An identity command failed.
    #[error(transparent)]
    Auth(#[from] crate::auth::cli::CliError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Write {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The server stopped with an error.
    #[error("server: {0}")]
    Server(std::io::Error),
    /// `audit verify` found broken chains.
    #[error("the audit trail is broken on {0} device(s)")]
    AuditBroken(usize),
    /// The policy asked for is outside the bounds.
    #[error(transparent)]
    Policy(#[from] sealbox_model::hub_api::PolicyError),
    /// The export could not be encoded.
    #[error("audit export: {0}")]
    Export(#[from] serde_json::Error),
    /// The SMTP relay's settings are not usable.
    #[error("SMTP relay: {0}")]
    Smtp(String),
    /// The update could not be published.
    #[error(transparent)]
    Update(#[from] crate::updates::PublishError),
    /// The settings file cannot be used.
    #[error(transparent)]
    ConfigFile(#[from] crate::config_file::ConfigFileError),
    /// The command line does not say enough.
    #[error("{0}")]
    Usage(&'static str),
    /// The patient's details or the invite's terms are not usable.
    #[error("patient invite: {0}")]
    PatientInvite(String),
}

fn say(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|source| CliError::Write { path: PathBuf::from("<stdout>"), source })
}

fn write_secret_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|source| CliError::Write { path: path.to_path_buf(), source })
}

/// Serves until Ctrl-C or SIGTERM (systemd's stop), then lets requests in
/// flight finish.
async fn serve(settings: ServeSettings) -> Result<(), CliError> {
    let mut config = store::config(Some(settings.data_dir), settings.postgres_file.as_deref())?;
    config.patient_rate = settings.patient_rate;
    config.smtp = settings.smtp.config()?;
    let scheme = if settings.tls.is_some() { "https" } else { "http" };
    let running = if settings.multi_practice {
        let deployment = Deployment::open(config, Arc::new(SystemClock))?;
        let count = deployment.list()?.len();
        let running = server::start_deployment(Arc::new(deployment), settings.addr, settings.tls).await?;
        say(&format!("sealbox-hub listening on {scheme}://{}", running.addr))?;
        say(&format!("serving {count} practice(s), each under {}<id>/", crate::practices::route::PREFIX))?;
        running
    } else {
        let running = server::start(AppState::open_system(config)?, settings.addr, settings.tls).await?;
        say(&format!("sealbox-hub listening on {scheme}://{}", running.addr))?;
        running
    };
    let handle = running.handle.clone();
    let stop = stop_signal().map_err(CliError::Server)?;
    tokio::spawn(async move {
        stop.await;
        handle.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
    });
    running.task.await.map_err(|e| CliError::Server(std::io::Error::other(e)))?.map_err(CliError::Server)
}

/// Ends at Ctrl-C or, on Unix, SIGTERM.
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Runs a command to completion (`serve` until Ctrl-C or SIGTERM).
pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Serve {
            config,
            data_dir,
            addr,
            tls_cert,
            tls_key,
            postgres_file,
            multi_practice,
            patient_burst,
            patient_per_minute,
            smtp,
        } => {
            let settings = match (config, data_dir, addr) {
                (Some(file), _, _) => {
                    let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
                    ServeSettings::from_file(&file, credentials.as_deref())?
                }
                (None, Some(data_dir), Some(addr)) => ServeSettings {
                    data_dir,
                    addr,
                    tls: tls_cert.zip(tls_key).map(|(cert, key)| TlsFiles { cert, key }),
                    postgres_file,
                    multi_practice,
                    patient_rate: RatePolicy::with(patient_burst, patient_per_minute),
                    smtp,
                },
                // clap asks for both without --config.
                _ => return Err(CliError::Usage("serve needs --config, or --data-dir and --addr")),
            };
            serve(settings).await
        }
        Command::PublishUpdate { data_dir, manifest, packages, url } => {
            let version = crate::updates::publish(&data_dir, &manifest, &packages, &url)?;
            say(&format!("published Sealbox {version} for the practice's workstations"))
        }
        Command::InitPractice { store, name } => {
            if store.practice.is_some() {
                return Err(CliError::Usage("a deployment's practices are made with add-practice"));
            }
            let state = store.open()?;
            say(&crate::auth::cli::init_practice(&state, &name)?)
        }
        Command::AddPractice { database, name } => {
            let deployment = database.deployment()?;
            let (id, said) = deployment.create(&name)?;
            say(&format!(
                "{said}
its address: the deployment's, then {}{id}/",
                crate::practices::route::PREFIX
            ))
        }
        Command::Practices { database } => {
            let deployment = database.deployment()?;
            let ids = deployment.list()?;
            for id in &ids {
                say(id)?;
            }
            say(&format!("{} practice(s)", ids.len()))
        }
        Command::Invite { store, role, name, registration } => {
            let state = store.open()?;
            say(&crate::auth::cli::invite(&state, role, &name, registration.as_ref())?)
        }
        Command::Policy {
            store,
            max_idle_secs,
            reauth_secs,
            allow_weaker_keys,
            max_offline_secs,
            allow_demo_keys,
            lock_on_key_removal,
            patient_sign_out_secs,
        } => {
            let state = store.open()?;
            let now = state.now();
            let run_by = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_default();
            let run_by = if run_by.is_empty() { "unknown".to_owned() } else { run_by };
            let policy = state.db.call_blocking(|conn| {
                let current = crate::auth::policy::get(conn)?;
                let wanted = PracticePolicy {
                    max_idle_secs: max_idle_secs.unwrap_or(current.max_idle_secs),
                    reauth_secs: reauth_secs.unwrap_or(current.reauth_secs),
                    allow_weaker_keys: allow_weaker_keys.unwrap_or(current.allow_weaker_keys),
                    max_offline_secs: max_offline_secs.unwrap_or(current.max_offline_secs),
                    allow_demo_keys: allow_demo_keys.unwrap_or(current.allow_demo_keys),
                    lock_on_key_removal: lock_on_key_removal.unwrap_or(current.lock_on_key_removal),
                    patient_sign_out_secs: patient_sign_out_secs.unwrap_or(current.patient_sign_out_secs),
                }
                .validate()?;
                if wanted != current {
                    crate::auth::policy::set(conn, wanted, &format!("cli:{run_by}"), now)?;
                }
                Ok::<_, CliError>(wanted)
            })?;
            say(&format!(
                "idle lock at most {} s; re-authentication every {} s; keys without hmac-secret {}; offline unlocks for {} s after the last online one; the demo's software key {}; a pulled USB key {}; the patient web app signs out after {} s",
                policy.max_idle_secs,
                policy.reauth_secs,
                if policy.allow_weaker_keys { "allowed (weaker keyring mode)" } else { "refused" },
                policy.max_offline_secs,
                if policy.allow_demo_keys { "allowed (demo practices only)" } else { "refused" },
                if policy.lock_on_key_removal { "locks the workstation" } else { "does not lock" },
                policy.patient_sign_out_secs,
            ))
        }
        Command::PatientInvite { store, name, date_of_birth, nhs_number, replaces, valid_days, url, qr } => {
            use sealbox_crypto::patient_invite::PatientIdentity;
            if !(1..=90).contains(&valid_days) {
                return Err(CliError::PatientInvite("--valid-days must be 1 to 90".to_owned()));
            }
            // Checked before anything is stored: (path, as SVG).
            let qr = qr
                .map(|path| match path.extension().and_then(|e| e.to_str()) {
                    Some("svg") => Ok((path, true)),
                    Some("pbm") => Ok((path, false)),
                    _ => Err(CliError::PatientInvite("--qr must name a .svg or .pbm file".to_owned())),
                })
                .transpose()?;
            let identity = PatientIdentity::new(&name, &date_of_birth, nhs_number.as_deref())
                .map_err(|e| CliError::PatientInvite(e.to_string()))?;
            let state = store.open()?;
            let now = state.now();
            let replaces = replaces.map(sealbox_model::ids::PatientId);
            let ttl = sealbox_model::jiff::SignedDuration::from_hours(24 * i64::from(valid_days));
            let (link, expires) = state.db.call_blocking(|conn| {
                crate::relay::patient_join::invite(conn, &identity, replaces.as_ref(), now, ttl)
                    .map_err(|e| CliError::PatientInvite(e.to_string()))
            })?;
            if let Some((path, svg)) = &qr {
                let image = link.qr(&url).map_err(|e| CliError::PatientInvite(e.to_string()))?;
                let text = if *svg { image.to_svg() } else { image.to_pbm(4) };
                write_secret_file(path, text.as_bytes())?;
            }
            say(&format!(
                "Give the patient this link (or its code), valid until {expires}:\n{}\ncode: {}",
                link.url(&url).as_str(),
                link.code.text().as_str()
            ))
        }
        Command::Backup { data_dir, to } => {
            let copied = crate::db::backup::backup(&data_dir, &to)?;
            say(&format!("backed up to {}: {copied}", to.display()))
        }
        Command::Restore { data_dir, from } => {
            let restored = crate::db::backup::restore(&from, &data_dir)?;
            say(&format!("restored into {}: {restored}", data_dir.display()))
        }
        Command::PatientChannels { store, count, out } => {
            let state = store.open()?;
            let now = state.now();
            let file = state.db.call_blocking(|conn| channels::issue(conn, count, now))?;
            let json = serde_json::to_vec_pretty(&file)
                .map_err(|e| CliError::Write { path: out.clone(), source: std::io::Error::other(e) })?;
            write_secret_file(&out, &json)?;
            say(&format!("wrote {count} patient channels for {} to {}", file.practice_id, out.display()))
        }
        Command::Audit { command: AuditCommand::Verify { store, user, thread } } => {
            let state = store.open()?;
            let filter = Filter { user, thread };
            let checks = state.db.call_blocking(move |conn| check(conn, &filter))?;
            let mut broken = 0;
            for c in &checks {
                match &c.broken {
                    None => say(&format!("device {}: {} links, verified", c.device, c.links))?,
                    Some(b) => {
                        broken += 1;
                        say(&format!("device {}: {} links, BROKEN: {b}", c.device, c.links))?;
                    }
                }
            }
            say(&format!("{} device chain(s) checked, {broken} broken", checks.len()))?;
            if broken > 0 {
                return Err(CliError::AuditBroken(broken));
            }
            Ok(())
        }
        Command::Audit { command: AuditCommand::Export { store, from, to, format } } => {
            let state = store.open()?;
            let now = state.now();
            // Who ran it, as the operating system knows them.
            let run_by = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_default();
            let run_by = if run_by.is_empty() { "unknown".to_owned() } else { run_by };
            let rows = state.db.call_blocking(move |conn| {
                let rows = export::rows(conn, from, to)?;
                export::record(conn, now, &run_by, (from, to), format, rows.len())?;
                Ok::<_, crate::db::DbError>(rows)
            })?;
            say(export::render(&rows, format)?.trim_end())
        }
    }
}
