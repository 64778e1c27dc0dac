//! How the reply box keeps its draft in the encrypted cache: every change
//! is saved (so a lock, which reloads the page, loses nothing typed more
//! than a moment before), one call at a time, in the order typed.
//!
//! Calls to the shell may finish in any order, so two saves in flight
//! could leave an older text as the draft, and a save finishing after the
//! reply was sent would bring the sent text back as a draft. So at most one
//! call is in flight; changes meanwhile collapse into one pending save of
//! the newest text, and a send waits for the call in flight and replaces
//! any pending save (the reply clears the draft itself).

/// A call to make to the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Save this text as the thread's draft (blank clears it).
    Save {
        /// The thread id.
        thread: String,
        /// The text as it now stands.
        text: String,
    },
    /// Send this text as the reply.
    Send {
        /// The thread id.
        thread: String,
        /// The reply.
        text: String,
    },
}

/// The queue's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftSaves {
    busy: bool,
    next: Option<Job>,
}

impl DraftSaves {
    /// The text on `thread` changed: the job to start now, if any.
    pub fn typed(&mut self, thread: &str, text: &str) -> Option<Job> {
        let job = Job::Save { thread: thread.to_owned(), text: text.to_owned() };
        match &self.next {
            // A send waiting goes first; what is typed after it is saved
            // when the next change comes (or back as the draft if refused).
            Some(Job::Send { .. }) => None,
            _ => self.start_or_hold(job),
        }
    }

    /// The clinician sends `text` on `thread`: the job to start now, if any.
    pub fn send(&mut self, thread: &str, text: &str) -> Option<Job> {
        self.start_or_hold(Job::Send { thread: thread.to_owned(), text: text.to_owned() })
    }

    /// The call in flight finished (whatever its outcome): the next to start.
    pub fn done(&mut self) -> Option<Job> {
        match self.next.take() {
            Some(job) => Some(job),
            None => {
                self.busy = false;
                None
            }
        }
    }

    /// Whether a call is in flight.
    pub fn busy(&self) -> bool {
        self.busy
    }

    fn start_or_hold(&mut self, job: Job) -> Option<Job> {
        if self.busy {
            self.next = Some(job);
            None
        } else {
            self.busy = true;
            Some(job)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn save(text: &str) -> Option<Job> {
        Some(Job::Save { thread: "7".into(), text: text.into() })
    }

    fn send(text: &str) -> Option<Job> {
        Some(Job::Send { thread: "7".into(), text: text.into() })
    }

    #[test]
    fn changes_while_a_save_is_in_flight_collapse_into_one_save_of_the_newest_text() {
        let mut q = DraftSaves::default();
        assert_eq!(q.typed("7", "H"), save("H"));
        assert_eq!(q.typed("7", "He"), None);
        assert_eq!(q.typed("7", "Hel"), None);
        assert!(q.busy());
        assert_eq!(q.done(), save("Hel"));
        assert_eq!(q.done(), None);
        assert!(!q.busy());
        assert_eq!(q.typed("7", "Hell"), save("Hell"));
    }

    #[test]
    fn a_send_waits_for_the_save_in_flight_and_replaces_the_pending_one() {
        let mut q = DraftSaves::default();
        assert_eq!(q.typed("7", "Hi"), save("Hi"));
        assert_eq!(q.typed("7", "Hi there"), None);
        assert_eq!(q.send("7", "Hi there"), None, "waits for the save in flight");
        // Typing after pressing send never overtakes the send.
        assert_eq!(q.typed("7", "Hi there!"), None);
        assert_eq!(q.done(), send("Hi there"));
        assert_eq!(q.done(), None);
        assert_eq!(q.send("7", "again"), send("again"), "nothing in flight: at once");
    }
}
