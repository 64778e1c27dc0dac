//! A throwaway PostgreSQL cluster for tests: Debian's server (installed by
//! `cargo xtask setup`), made with `initdb` and started with `pg_ctl` in a
//! directory of its own, reachable through a Unix socket in a private
//! directory, and stopped, its directory removed, when dropped. With
//! [`Options::tls`] it also listens on `localhost`, TLS only, with a
//! certificate for `localhost` that a CA made for the cluster signed
//! (OpenSSL's `openssl`, an implementation other than the hub's rustls).
//!
//! PostgreSQL refuses to run as root: when xtask is root, the server's
//! programs run as the `postgres` user (through `runuser`), and the
//! directory is handed to that user.

use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::proc::{self, Error, Result};

/// Where Debian puts each major version's server programs (`<major>/bin`).
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// The user the server runs as when xtask is root.
const SERVER_USER: &str = "postgres";

/// The ports drawn from. With no TCP listener the port only names the
/// socket file (`.s.PGSQL.<port>`) and its lock file.
const PORTS: std::ops::Range<u16> = 20000..60000;

/// How many ports [`Cluster::start`] tries before it gives up.
const START_ATTEMPTS: usize = 5;

/// How a cluster is started.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Whether the server flushes its writes to disk (`fsync`): off for
    /// tests (faster, and nothing to keep), on for a benchmark of the real cost.
    pub fsync: bool,
    /// Whether it also listens on TCP (`localhost`), for TLS connections
    /// only ([`Cluster::tls_conninfo`]).
    pub tls: bool,
}

/// A user's numeric ids, for handing a directory over.
#[derive(Debug, Clone, Copy)]
struct Ids {
    uid: u32,
    gid: u32,
}

/// A running cluster. Stopped (`pg_ctl stop -m immediate`) and its
/// directory removed by [`Cluster::stop`] or, failing that, on drop.
#[derive(Debug)]
pub struct Cluster {
    /// The cluster's own directory: `data/`, `socket/`, `server.log`.
    dir: PathBuf,
    /// The server's programs (`initdb`, `pg_ctl`, `postgres`, `psql`).
    bin: PathBuf,
    /// Whether the programs run as [`SERVER_USER`] (xtask is root).
    as_server_user: bool,
    port: u16,
    /// As the server names itself, e.g. `PostgreSQL 15.18`.
    version: String,
    /// Whether it listens on TCP, TLS only.
    tls: bool,
}

impl Cluster {
    /// Makes a new cluster in `dir` (created; it must be empty if it
    /// exists) and starts it. The directory becomes the cluster's: it is
    /// removed when the cluster stops.
    pub fn start(dir: &Path, opts: Options) -> Result<Cluster> {
        let bin = server_bin()?;
        let as_server_user = proc::is_root();
        let owner = if as_server_user { Some(server_user_ids()?) } else { None };
        if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
            return Err(Error::new(format!(
                "{} is not empty; a new cluster needs a directory of its own",
                dir.display()
            )));
        }
        let mut cluster = Cluster {
            dir: dir.to_owned(),
            bin,
            as_server_user,
            port: 0,
            version: String::new(),
            tls: opts.tls,
        };
        for d in [cluster.dir.clone(), cluster.socket_dir()] {
            std::fs::create_dir_all(&d).map_err(|e| proc::io_error("creating", &d, &e))?;
            hand_over(&d, owner)?;
        }
        if as_server_user {
            cluster.check_reachable()?;
        }
        cluster.version = cluster.server_version()?;
        proc::run_quiet(cluster.command("initdb").arg("-D").arg(cluster.data_dir()).args([
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ]))?;
        if opts.tls {
            cluster.make_tls(owner)?;
        }
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            cluster.port = random_port();
            match cluster.start_server(opts) {
                Ok(()) => return Ok(cluster),
                Err(StartError::PortTaken(e)) => last = Some(e),
                Err(StartError::Other(e)) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::new("PostgreSQL did not start")))
    }

    /// libpq's key/value connection string for the `postgres` database as
    /// the `postgres` superuser (trusted: only this machine's users who
    /// can open the socket's directory reach it).
    pub fn conninfo(&self) -> String {
        format!(
            "host={} port={} user=postgres dbname=postgres",
            conninfo_value(&self.socket_dir().to_string_lossy()),
            self.port
        )
    }

    /// libpq's connection string over TCP and TLS, verified as the hub
    /// requires (`sslmode=verify-full`, the cluster's CA as the root), when
    /// the cluster was started with [`Options::tls`].
    pub fn tls_conninfo(&self) -> Option<String> {
        self.tls.then(|| {
            format!(
                "host=localhost port={} user=postgres dbname=postgres sslmode=verify-full sslrootcert={}",
                self.port,
                conninfo_value(&self.tls_dir().join("ca.pem").to_string_lossy())
            )
        })
    }

    /// The private directory the server's socket is in.
    pub fn socket_dir(&self) -> PathBuf {
        self.dir.join("socket")
    }

    /// The server's name and version, e.g. `PostgreSQL 15.18`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// `psql` running `sql` on the `postgres` database, its rows unaligned
    /// and bare, stopping at the first error.
    pub fn psql(&self, sql: &str) -> Command {
        let mut cmd = Command::new(self.bin.join("psql"));
        cmd.args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql]).arg(self.conninfo());
        cmd
    }

    /// Stops the server and removes the cluster's directory; fails, and
    /// leaves the directory for a look, if the server would not stop.
    pub fn stop(self) -> Result<()> {
        self.stop_server()?;
        remove(&self.dir)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn tls_dir(&self) -> PathBuf {
        self.dir.join("tls")
    }

    /// A CA of the cluster's own and a certificate for `localhost` it
    /// signs, made with `openssl` in [`Cluster::tls_dir`] (the server's,
    /// its keys readable by it alone); and client authentication that
    /// lets TCP in only over TLS.
    fn make_tls(&self, owner: Option<Ids>) -> Result<()> {
        let dir = self.tls_dir();
        std::fs::create_dir_all(&dir).map_err(|e| proc::io_error("creating", &dir, &e))?;
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| proc::io_error("writing", &path, &e))
        };
        write(
            "server.ext",
            "subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )?;
        let openssl = |args: &[&str]| {
            let mut cmd = Command::new("openssl");
            cmd.current_dir(&dir).args(args);
            proc::run_quiet(&mut cmd).map_err(|e| {
                Error::new(format!("{e} (is `openssl` installed? `cargo xtask setup` installs it)"))
            })
        };
        const P256: [&str; 5] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        openssl(
            &[
                &["req", "-x509"][..],
                &P256,
                &["-days", "2", "-subj", "/CN=Sealbox test PostgreSQL CA"],
                &["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"],
                &["-keyout", "ca.key", "-out", "ca.pem"],
            ]
            .concat(),
        )?;
        openssl(
            &[
                &["req", "-new"][..],
                &P256,
                &["-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"],
            ]
            .concat(),
        )?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ])?;
        for name in ["", "server.key", "server.pem", "ca.pem"] {
            let path = dir.join(name);
            hand_over(&path, owner)?;
        }
        // TCP only with TLS: no `host` or `hostnossl` line lets any other in.
        let hba = self.data_dir().join("pg_hba.conf");
        std::fs::write(
            &hba,
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n",
        )
        .map_err(|e| proc::io_error("writing", &hba, &e))
    }

    fn log_file(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// One of the server's programs, as the user the server runs as, in
    /// the cluster's directory (the server's user may not be able to read
    /// xtask's own working directory).
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut cmd = if self.as_server_user {
            let mut c = Command::new("runuser");
            c.args(["-u", SERVER_USER, "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        cmd.current_dir(&self.dir);
        cmd
    }

    /// As root, the directory is handed to the server's user, but every
    /// directory above it must let that user through too (a target dir
    /// under a 0700 /root does not).
    fn check_reachable(&self) -> Result<()> {
        let mut test = Command::new("runuser");
        test.args(["-u", SERVER_USER, "--", "test", "-w"]).arg(self.socket_dir());
        if proc::output(&mut test).is_some() {
            return Ok(());
        }
        Err(Error::new(format!(
            "the {SERVER_USER} user cannot reach {} (PostgreSQL refuses to run as root, so the server \
             runs as {SERVER_USER}); put the cluster under a directory it can enter, such as /tmp",
            self.dir.display()
        )))
    }

    fn server_version(&self) -> Result<String> {
        let out = proc::output(self.command("postgres").arg("--version"))
            .ok_or_else(|| Error::new(format!("`{}/postgres --version` failed", self.bin.display())))?;
        // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        Ok(match out.split_whitespace().nth(2) {
            Some(v) => format!("PostgreSQL {v}"),
            None => out.trim().to_owned(),
        })
    }

    /// `pg_ctl start` on [`Cluster::port`], waiting until the server accepts connections.
    fn start_server(&self, opts: Options) -> std::result::Result<(), StartError> {
        let log = self.log_file();
        let logged_before = std::fs::metadata(&log).map_or(0, |m| m.len());
        let mut server_options = format!(
            "-k {} -p {} -c fsync={} -c max_connections=300",
            shell_quote(&self.socket_dir().to_string_lossy()),
            self.port,
            if opts.fsync { "on" } else { "off" }
        );
        if opts.tls {
            let file = |name: &str| shell_quote(&self.tls_dir().join(name).to_string_lossy());
            server_options.push_str(&format!(
                " -c listen_addresses=localhost -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                file("server.pem"),
                file("server.key")
            ));
        } else {
            server_options.push_str(" -c listen_addresses=''");
        }
        let mut start = self.command("pg_ctl");
        start.arg("-D").arg(self.data_dir()).args(["-w", "-t", "60", "-l"]).arg(&log);
        start.args(["-o", &server_options, "start"]);
        let Err(e) = proc::run_quiet(&mut start) else { return Ok(()) };
        // A server that was slow to start may still come up: never leave one behind.
        let _ = self.stop_server();
        let text = std::fs::read(&log).unwrap_or_default();
        let new = String::from_utf8_lossy(text.get(logged_before as usize..).unwrap_or_default());
        let e = Error::new(format!("{e}\n{}:\n{}", log.display(), tail(&new, 20)));
        if port_taken(&new) {
            Err(StartError::PortTaken(e))
        } else {
            Err(StartError::Other(e))
        }
    }

    /// Stops the server if it runs (`-m immediate`: nothing is kept);
    /// if `pg_ctl` cannot, sends the postmaster SIGQUIT (the same stop).
    fn stop_server(&self) -> Result<()> {
        let pid_file = self.data_dir().join("postmaster.pid");
        if !pid_file.exists() {
            return Ok(());
        }
        let mut stop = self.command("pg_ctl");
        stop.arg("-D").arg(self.data_dir()).args(["-m", "immediate", "-w", "-t", "60", "stop"]);
        proc::run_quiet(&mut stop).inspect_err(|_| {
            let pid = std::fs::read_to_string(&pid_file).unwrap_or_default();
            if let Some(pid) = pid.lines().next().filter(|p| p.trim().parse::<u32>().is_ok()) {
                let _ = Command::new("kill").args(["-QUIT", pid.trim()]).status();
            }
        })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        match self.stop_server() {
            Ok(()) => {
                let _ = remove(&self.dir);
            }
            Err(e) => eprintln!("xtask: stopping the PostgreSQL cluster in {}: {e}", self.dir.display()),
        }
    }
}

/// Why a start failed: another server holds the port's socket (try
/// another port), or anything else.
enum StartError {
    PortTaken(Error),
    Other(Error),
}

/// Whether the server's log says the socket or its lock file was taken.
fn port_taken(log: &str) -> bool {
    ["could not bind", "could not create lock file", "Address already in use", "is another postmaster"]
        .iter()
        .any(|m| log.contains(m))
}

/// A fresh, unused directory name for a cluster under the system's temp
/// directory (which the server's user can enter, and where the socket's
/// path stays well under the 107 bytes a Unix socket's path may have).
pub fn scratch_dir(purpose: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sealbox-{purpose}-{}-{:08x}", std::process::id(), random() as u32))
}

/// Where the server's programs are: the highest major version in
/// Debian's [`DEBIAN_ROOT`], else wherever `initdb` is on PATH.
fn server_bin() -> Result<PathBuf> {
    if let Some(bin) = highest_version_bin(Path::new(DEBIAN_ROOT)) {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).find(|dir| dir.join("initdb").is_file()))
        .ok_or_else(|| {
            Error::new(format!(
                "PostgreSQL's server is missing (no {DEBIAN_ROOT}/<version>/bin/initdb, no initdb on PATH); \
                 run `cargo xtask setup`"
            ))
        })
}

/// `<root>/<version>/bin` of the highest version that has an `initdb`
/// (Debian's versions: `15`, `16`, once `9.6`).
fn highest_version_bin(root: &Path) -> Option<PathBuf> {
    let version = |name: &str| -> Option<Vec<u32>> { name.split('.').map(|p| p.parse().ok()).collect() };
    std::fs::read_dir(root)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let v = version(entry.file_name().to_str()?)?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, bin)| bin)
}

/// The server's user's ids, to hand it the cluster's directory.
fn server_user_ids() -> Result<Ids> {
    let id = |flag: &str| -> Option<u32> {
        proc::output(Command::new("id").args([flag, SERVER_USER]))?.trim().parse().ok()
    };
    match (id("-u"), id("-g")) {
        (Some(uid), Some(gid)) => Ok(Ids { uid, gid }),
        _ => Err(Error::new(format!(
            "xtask runs as root and there is no `{SERVER_USER}` user for PostgreSQL to run as \
             (Debian's postgresql package makes it); run `cargo xtask setup`"
        ))),
    }
}

/// Makes `path` private (0700) and, when given, the server user's.
#[cfg(unix)]
fn hand_over(path: &Path, owner: Option<Ids>) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| proc::io_error("chmod", path, &e))?;
    if let Some(ids) = owner {
        std::os::unix::fs::chown(path, Some(ids.uid), Some(ids.gid))
            .map_err(|e| proc::io_error("chown", path, &e))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn hand_over(_: &Path, _: Option<Ids>) -> Result<()> {
    Err(Error::new("the test PostgreSQL cluster needs a Unix system"))
}

fn remove(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(proc::io_error("removing", dir, &e)),
        _ => Ok(()),
    }
}

/// 64 bits from the standard library's randomly keyed hasher.
fn random() -> u64 {
    std::collections::hash_map::RandomState::new().build_hasher().finish()
}

fn random_port() -> u16 {
    let span = u64::from(PORTS.end - PORTS.start);
    PORTS.start + u16::try_from(random() % span).unwrap_or(0)
}

/// `s` as one word for the shell `pg_ctl` hands the server's options to.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `s` as a libpq conninfo value: quoted when it has spaces or quotes.
fn conninfo_value(s: &str) -> String {
    if !s.is_empty() && !s.contains([' ', '\'', '\\']) {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_is_the_highest_version_that_has_one() {
        let root = tempfile::tempdir().unwrap();
        for (version, has_initdb) in [("9.6", true), ("13", true), ("15", true), ("16", false)] {
            let bin = root.path().join(version).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            if has_initdb {
                std::fs::write(bin.join("initdb"), b"").unwrap();
            }
        }
        std::fs::create_dir_all(root.path().join("not-a-version").join("bin")).unwrap();
        assert_eq!(highest_version_bin(root.path()), Some(root.path().join("15").join("bin")));
        assert_eq!(highest_version_bin(&root.path().join("missing")), None);
    }

    #[test]
    fn values_are_quoted_for_the_shell_and_for_libpq() {
        assert_eq!(shell_quote("/tmp/a b"), "'/tmp/a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(conninfo_value("/tmp/sealbox/socket"), "/tmp/sealbox/socket");
        assert_eq!(conninfo_value("/tmp/a b's"), "'/tmp/a b\\'s'");
        assert!(PORTS.contains(&random_port()));
    }

    /// The postmaster's pid, from its pid file.
    fn postmaster_pid(cluster: &Cluster) -> u32 {
        let text = std::fs::read_to_string(cluster.data_dir().join("postmaster.pid")).unwrap();
        text.lines().next().unwrap().trim().parse().unwrap()
    }

    /// Whether a process still runs (a zombie waiting for its parent does not).
    fn running(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
        })
    }

    fn psql(cluster: &Cluster, sql: &str) -> std::process::Output {
        cluster.psql(sql).output().unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_real_cluster_answers_on_its_private_socket_and_stopping_leaves_nothing_running() {
        // The temp dir itself: as root it is handed to the postgres user,
        // which could not enter a directory below it (0700, root's).
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_owned();
        let cluster = Cluster::start(&dir, Options::default()).unwrap();
        assert!(cluster.version().starts_with("PostgreSQL "), "{}", cluster.version());
        assert_eq!(cluster.tls_conninfo(), None, "no TCP unless asked for");

        let out =
            psql(&cluster, "select 1 + 1, current_setting('fsync'), current_setting('listen_addresses')");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2|off|");
        // Tests each make a database of their own.
        let out = psql(&cluster, "create database one_test");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(cluster.socket_dir()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "the socket's directory is private");
        }

        let pid = postmaster_pid(&cluster);
        assert!(running(pid));
        cluster.stop().unwrap();
        assert!(!running(pid), "the server still runs after stop");
        assert!(!dir.exists(), "the cluster's directory is removed");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_dropped_cluster_stops_and_a_benchmark_can_have_fsync_on() {
        // The temp dir itself: as root it is handed to the postgres user,
        // which could not enter a directory below it (0700, root's).
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_owned();
        let cluster = Cluster::start(&dir, Options { fsync: true, tls: false }).unwrap();
        let out = psql(&cluster, "show fsync");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "on");
        let pid = postmaster_pid(&cluster);
        drop(cluster);
        assert!(!running(pid), "the server still runs after drop");
        assert!(!dir.exists());
        // A directory in use is refused.
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("something"), b"").unwrap();
        assert!(Cluster::start(&dir, Options::default()).unwrap_err().to_string().contains("not empty"));
    }

    /// `psql` (libpq, not the hub's client) with `conninfo`.
    fn psql_at(cluster: &Cluster, conninfo: &str, sql: &str) -> std::process::Output {
        let mut cmd = Command::new(cluster.bin.join("psql"));
        cmd.args(["-X", "-A", "-t", "-c", sql]).arg(conninfo).output().unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn with_tls_the_cluster_takes_tcp_only_over_tls_with_a_certificate_libpq_verifies() {
        let tmp = tempfile::tempdir().unwrap();
        let cluster = Cluster::start(tmp.path(), Options { fsync: false, tls: true }).unwrap();
        let tls = cluster.tls_conninfo().unwrap();
        assert!(tls.contains("sslmode=verify-full"), "{tls}");
        let out = psql_at(&cluster, &tls, "select ssl from pg_stat_ssl where pid = pg_backend_pid()");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "t");
        // Without TLS, TCP is refused by the server itself.
        let plain =
            format!("host=localhost port={} user=postgres dbname=postgres sslmode=disable", cluster.port);
        let out = psql_at(&cluster, &plain, "select 1");
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("no pg_hba.conf entry"));
        // The certificate names localhost, not the address.
        let by_address = tls.replace("host=localhost", "host=127.0.0.1");
        let out = psql_at(&cluster, &by_address, "select 1");
        assert!(!out.status.success());
        // The socket still answers as before.
        assert!(psql(&cluster, "select 1").status.success());
    }
}
