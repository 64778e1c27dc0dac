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

impl NotificationSink for DesktopNotifications {
    fn show(&self, n: &BlindNotification) -> Result<(), NotifyError> {
        notify_rust::Notification::new()
            .appname("Sealbox")
            .summary(n.summary())
            .body(n.body())
            .show()
            .map(|_| ())
            .map_err(|_| NotifyError)
    }
}
