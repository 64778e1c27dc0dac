//! When the window tells the shell that the clinician is working: the
//! webview's input heartbeat, throttled to one call per [`EVERY_MS`].
//!
//! The idle lock counts from the shell's last heartbeat, so a heartbeat
//! must never be older than the input it stands for by more than a moment.
//! A leading-edge throttle alone broke that: input just after a heartbeat
//! was dropped, and a 30 s idle limit then fired 15 s after the last key.
//! So input inside the window arms one trailing heartbeat at the window's
//! end: the shell's view is at most [`EVERY_MS`] behind the last input, and
//! the lock is never early, at most that much late.

/// At most one heartbeat per this many milliseconds.
pub const EVERY_MS: f64 = 1_000.0;

/// What to do on input at a time in milliseconds (the page's clock).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Beat {
    /// Send a heartbeat now.
    Now,
    /// Send one after this many milliseconds (then call [`Throttle::fired`]).
    After(f64),
    /// A heartbeat is already due at the window's end; it covers this input.
    Covered,
}

/// The throttle's state: when the last heartbeat went, and whether one is armed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Throttle {
    last_sent: Option<f64>,
    armed: bool,
}

impl Throttle {
    /// Input seen at `now`.
    pub fn input(&mut self, now: f64) -> Beat {
        if self.armed {
            return Beat::Covered;
        }
        match self.last_sent {
            Some(last) if now - last < EVERY_MS => {
                self.armed = true;
                Beat::After(EVERY_MS - (now - last))
            }
            _ => {
                self.last_sent = Some(now);
                Beat::Now
            }
        }
    }

    /// The armed heartbeat was sent at `now`.
    pub fn fired(&mut self, now: f64) {
        self.armed = false;
        self.last_sent = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replays input times through the throttle (timers fire exactly when
    /// asked) and returns when heartbeats went out.
    fn sent(inputs: &[f64]) -> Vec<f64> {
        let (mut t, mut out, mut timer) = (Throttle::default(), Vec::new(), None::<f64>);
        for &at in inputs {
            if let Some(due) = timer.filter(|d| *d <= at) {
                t.fired(due);
                out.push(due);
                timer = None;
            }
            match t.input(at) {
                Beat::Now => out.push(at),
                Beat::After(ms) => timer = Some(at + ms),
                Beat::Covered => {}
            }
        }
        if let Some(due) = timer {
            t.fired(due);
            out.push(due);
        }
        out
    }

    #[test]
    fn the_last_input_is_never_more_than_one_window_older_than_the_last_heartbeat() {
        // Typing every 100 ms for 20 s, then nothing: the shell must hear of
        // input within a window of the last key, not 15 s before it.
        let keys: Vec<f64> = (0..200).map(|i| f64::from(i) * 100.0).collect();
        let beats = sent(&keys);
        let last_key = keys[keys.len() - 1];
        let last_beat = beats[beats.len() - 1];
        assert!(last_beat >= last_key && last_beat - last_key <= EVERY_MS, "{last_beat} vs {last_key}");
        // Throttled all the same: about one per window, never two within one.
        assert!(beats.len() <= 21, "{} heartbeats for 20 s", beats.len());
        assert!(beats.windows(2).all(|w| w[1] - w[0] >= EVERY_MS), "{beats:?}");
    }

    #[test]
    fn a_lone_input_beats_at_once_and_a_second_soon_after_is_sent_at_the_windows_end() {
        let mut t = Throttle::default();
        assert_eq!(t.input(10_000.0), Beat::Now);
        assert_eq!(t.input(10_200.0), Beat::After(800.0));
        assert_eq!(t.input(10_500.0), Beat::Covered, "one armed heartbeat covers the rest of the window");
        t.fired(11_000.0);
        assert_eq!(t.input(12_500.0), Beat::Now);
    }
}
