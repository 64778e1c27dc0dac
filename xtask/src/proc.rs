//! Running child processes with a clear error when one fails.

use std::fmt;
use std::process::Command;

/// An xtask failure: what went wrong, in words for the person at the terminal.
#[derive(Debug)]
pub struct Error(String);

impl Error {
    pub fn new(msg: impl Into<String>) -> Self {
        Error(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// A failed file operation, as "reading /path: why".
pub fn io_error(what: &str, path: &std::path::Path, e: &std::io::Error) -> Error {
    Error::new(format!("{what} {}: {e}", path.display()))
}

/// Describes a command the way a person would type it.
pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd` to completion with inherited stdio; fails unless it exits 0.
pub fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: $ {}", describe(cmd));
    let status = cmd.status().map_err(|e| Error::new(format!("could not start `{}`: {e}", describe(cmd))))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::new(format!("`{}` failed ({status})", describe(cmd))))
    }
}

/// Runs `cmd` to completion with its output captured; fails unless it
/// exits 0, and then the error shows what it printed.
pub fn run_quiet(cmd: &mut Command) -> Result<()> {
    run_captured(cmd).map(drop)
}

/// [`run_quiet`], returning what `cmd` printed on stdout.
pub fn run_captured(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().map_err(|e| Error::new(format!("could not start `{}`: {e}", describe(cmd))))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let printed =
        [out.stdout, out.stderr].map(|b| String::from_utf8_lossy(&b).trim_end().to_owned()).join("\n");
    Err(Error::new(format!("`{}` failed ({}):\n{}", describe(cmd), out.status, printed.trim())))
}

/// Whether xtask runs as root (effective user id 0).
pub fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0")
}

/// Runs `cmd` and returns its stdout, or None when it cannot start or fails.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `program` is found on PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}
