//! A pulled USB security key, as the OS reports it: the key's device node
//! (`/dev/hidrawN` on Linux) goes, and inotify says so at once — an event,
//! not a poll. Where the practice's policy asks for it
//! (`PracticePolicy::lock_on_key_removal`), the shell locks on it, as a
//! smartcard reader does.
//!
//! Elsewhere (macOS's IOHIDManager paths are not files; Windows has no raw
//! FIDO HID) the watch says it cannot start, and the shell says so on
//! stderr: the idle lock still holds.

use std::path::{Path, PathBuf};

/// Why a removal watch could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemovalError {
    /// This system gives no removal event Sealbox can watch.
    #[error("this system cannot report that a security key was removed")]
    Unsupported,
    /// The device node could not be watched.
    #[error("the security key's device could not be watched ({0:?})")]
    Watch(std::io::ErrorKind),
}

/// A watch on one key's device node.
pub struct KeyRemoval {
    node: PathBuf,
    #[cfg(target_os = "linux")]
    events: inotify::EventStream<[u8; 1024]>,
}

impl std::fmt::Debug for KeyRemoval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRemoval").field("node", &self.node).finish_non_exhaustive()
    }
}

impl KeyRemoval {
    /// Starts watching `node` (inside a tokio runtime). The watch is on its
    /// directory, for entries deleted: a device node is deleted, not
    /// written, when the device goes.
    #[cfg(target_os = "linux")]
    pub fn watch(node: &Path) -> Result<Self, RemovalError> {
        let dir = node.parent().ok_or(RemovalError::Watch(std::io::ErrorKind::InvalidInput))?;
        let inotify = inotify::Inotify::init().map_err(|e| RemovalError::Watch(e.kind()))?;
        inotify
            .watches()
            .add(dir, inotify::WatchMask::DELETE | inotify::WatchMask::DELETE_SELF)
            .map_err(|e| RemovalError::Watch(e.kind()))?;
        let events = inotify.into_event_stream([0u8; 1024]).map_err(|e| RemovalError::Watch(e.kind()))?;
        Ok(KeyRemoval { node: node.to_path_buf(), events })
    }

    /// Elsewhere: no event to watch.
    #[cfg(not(target_os = "linux"))]
    pub fn watch(_node: &Path) -> Result<Self, RemovalError> {
        Err(RemovalError::Unsupported)
    }

    /// Resolves once the node is gone: at once if it already is (pulled
    /// between the unlock and the watch), and also if the watch itself
    /// fails — a watch that can no longer tell must not keep the
    /// workstation open as if the key were still there.
    #[cfg(target_os = "linux")]
    pub async fn removed(mut self) {
        use inotify::StreamExt;
        // After the watch was added, so a removal from now on is an event.
        if !self.node.exists() {
            return;
        }
        let Some(name) = self.node.file_name().map(std::ffi::OsStr::to_os_string) else { return };
        while let Some(event) = self.events.next().await {
            match event {
                Ok(e) if ends_watch(e.mask, e.name.as_deref(), &name) => return,
                Ok(_) => {}
                Err(_) => return,
            }
        }
    }

    /// Elsewhere: never (no watch starts).
    #[cfg(not(target_os = "linux"))]
    pub async fn removed(self) {
        std::future::pending::<()>().await;
    }
}

/// Whether an event on the watched directory means the key `name` went:
/// its own entry deleted, or the directory itself (devices gone with it).
#[cfg(target_os = "linux")]
fn ends_watch(mask: inotify::EventMask, entry: Option<&std::ffi::OsStr>, name: &std::ffi::OsStr) -> bool {
    use inotify::EventMask;
    mask.contains(EventMask::DELETE_SELF) || (mask.contains(EventMask::DELETE) && entry == Some(name))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::ffi::OsStr;

    use inotify::EventMask;

    use super::*;

    #[test]
    fn only_this_key_s_node_going_ends_the_watch() {
        let me = OsStr::new("hidraw3");
        assert!(ends_watch(EventMask::DELETE, Some(me), me));
        assert!(!ends_watch(EventMask::DELETE, Some(OsStr::new("hidraw4")), me), "a colleague's key");
        assert!(!ends_watch(EventMask::CREATE, Some(me), me), "a key plugged in");
        assert!(!ends_watch(EventMask::DELETE, None, me));
        assert!(ends_watch(EventMask::DELETE_SELF, None, me), "the device directory itself went");
    }

    #[tokio::test]
    async fn the_watch_ends_when_its_node_is_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let node = dir.path().join("hidraw3");
        std::fs::write(&node, b"").unwrap();
        let watch = KeyRemoval::watch(&node).unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            watch.removed().await;
            tx.send(()).unwrap();
        });
        std::fs::remove_file(&node).unwrap();
        rx.await.unwrap();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn a_node_already_gone_ends_the_watch_at_once_and_a_bad_path_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let node = dir.path().join("hidraw0");
        std::fs::write(&node, b"").unwrap();
        let watch = KeyRemoval::watch(&node).unwrap();
        std::fs::remove_file(&node).unwrap();
        watch.removed().await;
        assert!(matches!(KeyRemoval::watch(Path::new("/no/such/dir/hidraw0")), Err(RemovalError::Watch(_))));
    }
}
