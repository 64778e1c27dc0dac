//! Where the cache lives: `SEALBOX_DATA_DIR` if set, otherwise the platform's
//! app-data directory for the app identifier (the same folder Tauri's
//! `app_data_dir()` gives the shell).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Environment variable that overrides the data directory.
pub const ENV_VAR: &str = "SEALBOX_DATA_DIR";
/// The app identifier (tauri.conf.json), used as the folder name.
pub const APP_ID: &str = "org.sealbox.desktop";
/// The cache database's file name inside the data directory.
pub const CACHE_FILE: &str = "cache.sqlite3";

/// Why no data directory could be found or made.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// Neither the variable nor a platform default is available.
    #[error("no app-data directory on this platform; set {ENV_VAR}")]
    NoDefault,
    /// The variable is set but empty or relative.
    #[error("{ENV_VAR} must be an absolute path")]
    NotAbsolute,
    /// The directory could not be created or restricted.
    #[error("could not prepare the data directory ({kind:?}): {path}")]
    Io {
        /// What failed.
        kind: std::io::ErrorKind,
        /// Where.
        path: PathBuf,
    },
}

/// The data directory from the environment and the platform default.
pub fn resolve() -> Result<PathBuf, DataDirError> {
    resolve_from(std::env::var_os(ENV_VAR), dirs::data_dir())
}

/// Pure form of [`resolve`]: `env` is the value of [`ENV_VAR`], `platform`
/// the platform's app-data root.
pub fn resolve_from(env: Option<OsString>, platform: Option<PathBuf>) -> Result<PathBuf, DataDirError> {
    match env {
        Some(v) if !v.is_empty() => {
            let p = PathBuf::from(v);
            if p.is_absolute() {
                Ok(p)
            } else {
                Err(DataDirError::NotAbsolute)
            }
        }
        Some(_) => Err(DataDirError::NotAbsolute),
        None => platform.map(|root| root.join(APP_ID)).ok_or(DataDirError::NoDefault),
    }
}

/// Creates `dir` if needed and, on Unix, makes it private to the user (0700).
pub fn ensure(dir: &Path) -> Result<(), DataDirError> {
    let io = |e: std::io::Error| DataDirError::Io { kind: e.kind(), path: dir.to_owned() };
    std::fs::create_dir_all(dir).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_wins_then_platform_default() {
        let platform = Some(PathBuf::from("/home/u/.local/share"));
        assert_eq!(
            resolve_from(Some("/srv/sealbox".into()), platform.clone()).unwrap(),
            PathBuf::from("/srv/sealbox")
        );
        assert_eq!(
            resolve_from(None, platform).unwrap(),
            PathBuf::from("/home/u/.local/share/org.sealbox.desktop")
        );
        assert!(matches!(resolve_from(None, None), Err(DataDirError::NoDefault)));
        assert!(matches!(resolve_from(Some("rel/dir".into()), None), Err(DataDirError::NotAbsolute)));
        assert!(matches!(resolve_from(Some("".into()), None), Err(DataDirError::NotAbsolute)));
    }

    #[cfg(unix)]
    #[test]
    fn ensure_makes_a_private_directory() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        ensure(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
