//! Small files that must survive a power cut whole: written to a new file,
//! flushed to the disk, renamed over the old, then the folder flushed so the
//! rename itself is on the disk (without it, ext4 and others can leave an
//! empty file after a crash). A reader sees the old file or the new, never
//! half of one.

use std::io::Write;
use std::path::Path;

/// Replaces `dir/name` with `bytes`, atomically and durably; on Unix
/// the file is this user's alone (0600) from its first byte.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!("{name}.new"));
    // A temporary a crash left keeps its own mode: it goes first.
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, dir.join(name))?;
    sync_dir(dir)
}

/// Flushes a folder's entries (the rename of a file in it) to the disk.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Windows has no folder handle to flush; NTFS journals the rename.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.json", b"first").unwrap();
        // A crash between writing the new file and the rename leaves a
        // half-written temporary; the next write replaces it and the real
        // file was never touched.
        std::fs::write(dir.path().join("a.json.new"), b"{\"half").unwrap();
        assert_eq!(std::fs::read(dir.path().join("a.json")).unwrap(), b"first");
        write(dir.path(), "a.json", b"second").unwrap();
        assert_eq!(std::fs::read(dir.path().join("a.json")).unwrap(), b"second");
        assert!(!dir.path().join("a.json.new").exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("a.json")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "this user's alone");
        }
    }

    #[test]
    fn a_missing_folder_is_an_error_not_a_silent_loss() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write(&dir.path().join("gone"), "a.json", b"x").is_err());
    }
}
