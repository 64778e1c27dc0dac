//! The desktop's notification service (org.freedesktop.Notifications on
//! Linux, via notify-rust). Shows only a [`BlindNotification`].

use super::BlindNotification;

/// The service could not be reached.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the desktop notification service is unavailable")]
pub struct NotifyError;

/// Where notifications go.
pub trait NotificationSink {
    /// Shows `n`.
    fn show(&self, n: &BlindNotification) -> Result<(), NotifyError>;
}

/// The OS notification service.
#[derive(Debug, Clone, Copy, Default)]
pub struct DesktopNotifications;

/// The action a click on the notification invokes.
pub const OPEN_ACTION: &str = "default";

impl DesktopNotifications {
    fn notification(n: &BlindNotification) -> notify_rust::Notification {
        let mut note = notify_rust::Notification::new();
        note.appname("Sealbox").summary(n.summary()).body(n.body()).action(OPEN_ACTION, "Open Sealbox");
        note
    }

    /// Shows `n`; when the clinician clicks it, `on_open` runs (on a thread
    /// of its own that waits for the click or the notification's close).
    pub fn show_then(
        &self,
        n: &BlindNotification,
        on_open: impl FnOnce() + Send + 'static,
    ) -> Result<(), NotifyError> {
        // The handle's bus connection stays on the thread that showed it.
        let note = Self::notification(n);
        let (shown_tx, shown) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("sealbox-notification".into())
            .spawn(move || match note.show() {
                Ok(handle) => {
                    let _ = shown_tx.send(Ok(()));
                    handle.wait_for_action(|action| {
                        if action == OPEN_ACTION {
                            on_open();
                        }
                    });
                }
                Err(_) => {
                    let _ = shown_tx.send(Err(NotifyError));
                }
            })
            .map_err(|_| NotifyError)?;
        shown.recv().map_err(|_| NotifyError)?
    }
}

impl NotificationSink for DesktopNotifications {
    fn show(&self, n: &BlindNotification) -> Result<(), NotifyError> {
        Self::notification(n).show().map(|_| ()).map_err(|_| NotifyError)
    }
}
