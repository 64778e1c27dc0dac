//! Desktop updates (issue 26 point 3): what the shell decides around
//! Tauri's updater, which fetches the practice hub's manifest and checks
//! each package's minisign signature. Two rules, pure and clock-free:
//!
//! - [`judge`]: what an offered version means against the running one. An
//!   older version is refused as a downgrade, never offered.
//! - [`may_install`]: an update never installs while the app is unlocked
//!   with unsent work in the outbox. Installing ends in a restart, and a
//!   clinician who just answered a patient expects that answer to have
//!   left; the outbox itself survives (it is in the cache), but a reply
//!   should not wait on an update.

use semver::Version;

/// An offered version against the one running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    /// Newer: may be installed.
    Newer,
    /// The version running: nothing to do.
    Current,
}

/// Why an update was not offered or may not install now (log-safe: versions and counts only).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UpdateRefusal {
    /// A version that is not `major.minor.patch`.
    #[error("the practice hub offers a version Sealbox cannot read ({0:?}); nothing was installed")]
    Unreadable(String),
    /// An older version than the one running.
    #[error(
        "the practice hub offers Sealbox {offered}, older than the {running} running here: \
         a downgrade is refused"
    )]
    Downgrade {
        /// The version running.
        running: String,
        /// The version offered.
        offered: String,
    },
    /// Unsent work while unlocked.
    #[error(
        "{} still waiting to reach the practice hub: the update installs once the outbox is empty",
        waiting(*.0)
    )]
    UnsentWork(usize),
}

fn waiting(n: usize) -> String {
    if n == 1 {
        "1 change made here is".to_owned()
    } else {
        format!("{n} changes made here are")
    }
}

fn parse(v: &str) -> Result<Version, UpdateRefusal> {
    Version::parse(v.trim().trim_start_matches('v')).map_err(|_| UpdateRefusal::Unreadable(v.to_owned()))
}

/// What `offered` means against `running`: newer, the same, or (an error)
/// a refused downgrade.
pub fn judge(running: &str, offered: &str) -> Result<Offer, UpdateRefusal> {
    let (now, then) = (parse(running)?, parse(offered)?);
    match then.cmp(&now) {
        std::cmp::Ordering::Greater => Ok(Offer::Newer),
        std::cmp::Ordering::Equal => Ok(Offer::Current),
        std::cmp::Ordering::Less => {
            Err(UpdateRefusal::Downgrade { running: running.to_owned(), offered: offered.to_owned() })
        }
    }
}

/// Whether an update may install now: not while unlocked with `unsent`
/// outbox items (locked, the outbox waits for the next unlock anyway).
pub fn may_install(unlocked: bool, unsent: usize) -> Result<(), UpdateRefusal> {
    if unlocked && unsent > 0 {
        Err(UpdateRefusal::UnsentWork(unsent))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_version_is_offered_the_same_is_current_and_an_older_is_a_refused_downgrade() {
        assert_eq!(judge("0.1.0", "0.1.1"), Ok(Offer::Newer));
        assert_eq!(judge("0.1.0", "0.10.0"), Ok(Offer::Newer), "numbers, not text");
        assert_eq!(judge("0.9.0", "0.10.0"), Ok(Offer::Newer));
        assert_eq!(judge("0.1.0", "v0.1.0"), Ok(Offer::Current));
        assert_eq!(judge("1.0.0-rc.1", "1.0.0"), Ok(Offer::Newer), "a release after its candidate");
        let down = judge("0.2.0", "0.1.9").unwrap_err();
        assert!(matches!(down, UpdateRefusal::Downgrade { .. }));
        assert!(down.to_string().contains("0.1.9") && down.to_string().contains("downgrade"), "{down}");
        assert!(matches!(judge("0.1.0", "latest"), Err(UpdateRefusal::Unreadable(_))));
    }

    #[test]
    fn an_update_never_installs_while_unlocked_with_unsent_work() {
        assert_eq!(may_install(true, 1), Err(UpdateRefusal::UnsentWork(1)));
        assert_eq!(
            may_install(true, 3).unwrap_err().to_string().split(" still").next(),
            Some("3 changes made here are")
        );
        assert_eq!(may_install(true, 0), Ok(()));
        assert_eq!(may_install(false, 2), Ok(()), "locked: the outbox waits for the next unlock");
    }
}
