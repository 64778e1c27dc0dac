//! CTAPHID (CTAP 2.1 §11.2): FIDO messages over 64-byte HID reports.
//!
//! A message goes out as one initialisation report (channel id, command
//! with bit 7 set, big-endian length, 57 bytes) and continuation reports
//! (channel id, sequence 0..=127, 59 bytes). The answer comes back the same
//! way, possibly after KEEPALIVE reports while the key waits for a touch;
//! reports for other channels (another program talking to the same key) are
//! ignored. [`HidReports`] is the only thing a platform provides: `hidraw`
//! (through hidapi) in the app, an in-process authenticator in tests.

use std::time::Duration;

/// Bytes in one report (without the report id byte some APIs prepend).
pub const REPORT_LEN: usize = 64;
const INIT_DATA: usize = REPORT_LEN - 7;
const CONT_DATA: usize = REPORT_LEN - 5;
/// The longest message the framing can carry: 57 + 128 × 59.
pub const MAX_MESSAGE: usize = INIT_DATA + 128 * CONT_DATA;
/// The channel every program may use to ask for its own.
pub const BROADCAST: u32 = 0xffff_ffff;

/// CTAPHID commands (without the init bit).
pub mod cmd {
    /// Echo.
    pub const PING: u8 = 0x01;
    /// Allocate a channel.
    pub const INIT: u8 = 0x06;
    /// Flash the key's light ("touch the key that is flashing").
    pub const WINK: u8 = 0x08;
    /// A CTAP2 request or answer.
    pub const CBOR: u8 = 0x10;
    /// Cancel the request in progress on this channel.
    pub const CANCEL: u8 = 0x11;
    /// The key is still working (or waiting for a touch).
    pub const KEEPALIVE: u8 = 0x3b;
    /// A transport error.
    pub const ERROR: u8 = 0x3f;
}

/// Capability bits in the INIT answer.
pub const CAP_WINK: u8 = 0x01;
/// The key speaks CTAP2 (CBOR).
pub const CAP_CBOR: u8 = 0x04;

/// What went wrong below CTAP2. None of these carry data from the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HidError {
    /// The device went away (unplugged mid-message).
    #[error("the security key was removed")]
    Gone,
    /// Nothing came back for longer than the silence limit.
    #[error("the security key stopped answering")]
    Silent,
    /// A report that breaks the framing rules.
    #[error("the security key sent a malformed report ({0})")]
    Malformed(&'static str),
    /// The key answered with a CTAPHID ERROR (e.g. 0x06 channel busy).
    #[error("the security key reported transport error {0:#04x}")]
    Device(u8),
    /// A message longer than CTAPHID can carry.
    #[error("the message is too long for CTAPHID")]
    TooLong,
    /// The HID layer failed.
    #[error("HID input/output failed ({0:?})")]
    Io(std::io::ErrorKind),
}

/// One HID device, report by report.
pub trait HidReports {
    /// Sends one report.
    fn write_report(&mut self, report: &[u8; REPORT_LEN]) -> Result<(), HidError>;
    /// The next report, waiting at most `wait`; `None` if none came.
    fn read_report(&mut self, wait: Duration) -> Result<Option<[u8; REPORT_LEN]>, HidError>;
}

/// Splits a message into reports for channel `cid`.
pub fn frames(cid: u32, command: u8, payload: &[u8]) -> Result<Vec<[u8; REPORT_LEN]>, HidError> {
    if payload.len() > MAX_MESSAGE {
        return Err(HidError::TooLong);
    }
    let len = u16::try_from(payload.len()).map_err(|_| HidError::TooLong)?;
    let mut first = [0u8; REPORT_LEN];
    first[..4].copy_from_slice(&cid.to_be_bytes());
    first[4] = command | 0x80;
    first[5..7].copy_from_slice(&len.to_be_bytes());
    let (head, mut rest) = payload.split_at(payload.len().min(INIT_DATA));
    first[7..7 + head.len()].copy_from_slice(head);
    let mut out = vec![first];
    let mut seq = 0u8;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(rest.len().min(CONT_DATA));
        let mut report = [0u8; REPORT_LEN];
        report[..4].copy_from_slice(&cid.to_be_bytes());
        report[4] = seq;
        report[5..5 + chunk.len()].copy_from_slice(chunk);
        out.push(report);
        seq += 1;
        rest = tail;
    }
    Ok(out)
}

/// What one incoming report meant.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Another channel's report, or a stray continuation: skipped.
    Ignored,
    /// The key is still busy; the status byte (1 processing, 2 waiting for
    /// the user).
    KeepAlive(u8),
    /// Part of the answer; more to come.
    More,
    /// The whole answer: command and payload.
    Done(u8, Vec<u8>),
}

/// Reassembles the answer on one channel.
#[derive(Debug)]
pub struct Reassembler {
    cid: u32,
    command: u8,
    expected: usize,
    next_seq: u8,
    buf: Vec<u8>,
    started: bool,
}

impl Reassembler {
    /// Waits for an answer on `cid`.
    pub fn new(cid: u32) -> Self {
        Reassembler { cid, command: 0, expected: 0, next_seq: 0, buf: Vec::new(), started: false }
    }

    /// Takes one report.
    pub fn push(&mut self, report: &[u8; REPORT_LEN]) -> Result<Step, HidError> {
        let cid = u32::from_be_bytes([report[0], report[1], report[2], report[3]]);
        if cid != self.cid {
            return Ok(Step::Ignored);
        }
        let tag = report[4];
        if tag & 0x80 != 0 {
            let command = tag & 0x7f;
            let len = usize::from(u16::from_be_bytes([report[5], report[6]]));
            match command {
                cmd::KEEPALIVE => return Ok(Step::KeepAlive(report[7])),
                cmd::ERROR => return Err(HidError::Device(report[7])),
                _ => {}
            }
            if self.started {
                return Err(HidError::Malformed("a new message began before the last one ended"));
            }
            if len > MAX_MESSAGE {
                return Err(HidError::Malformed("declared length too long"));
            }
            self.command = command;
            self.expected = len;
            self.started = true;
            self.buf = Vec::with_capacity(len);
            self.buf.extend_from_slice(&report[7..7 + len.min(INIT_DATA)]);
        } else {
            if !self.started {
                return Ok(Step::Ignored);
            }
            if tag != self.next_seq {
                return Err(HidError::Malformed("continuation out of sequence"));
            }
            self.next_seq = self.next_seq.wrapping_add(1);
            let want = (self.expected - self.buf.len()).min(CONT_DATA);
            self.buf.extend_from_slice(&report[5..5 + want]);
        }
        if self.buf.len() == self.expected {
            self.started = false;
            Ok(Step::Done(self.command, std::mem::take(&mut self.buf)))
        } else {
            Ok(Step::More)
        }
    }
}

/// What the key said about itself when its channel was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceInfo {
    /// CTAPHID protocol version (2).
    pub protocol: u8,
    /// Major, minor, build of the key's firmware.
    pub version: (u8, u8, u8),
    /// [`CAP_WINK`], [`CAP_CBOR`], …
    pub capabilities: u8,
}

/// An open channel to one key.
pub struct Channel<R: HidReports> {
    dev: R,
    cid: u32,
    info: DeviceInfo,
    /// How long the key may say nothing at all (keep-alives count as
    /// something) before the request is given up.
    silence: Duration,
    /// How long one read waits before `alive` is asked again.
    poll: Duration,
}

impl<R: HidReports> std::fmt::Debug for Channel<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel").field("cid", &format_args!("{:08x}", self.cid)).finish_non_exhaustive()
    }
}

impl<R: HidReports> Channel<R> {
    /// Asks the key for a channel of our own (INIT on the broadcast
    /// channel with a fresh `nonce`; the answer must echo it).
    pub fn open(mut dev: R, nonce: [u8; 8], silence: Duration) -> Result<Self, HidError> {
        let poll = silence.min(Duration::from_millis(250));
        for report in frames(BROADCAST, cmd::INIT, &nonce)? {
            dev.write_report(&report)?;
        }
        let mut asm = Reassembler::new(BROADCAST);
        let mut quiet = Duration::ZERO;
        loop {
            let Some(report) = dev.read_report(poll)? else {
                quiet += poll;
                if quiet >= silence {
                    return Err(HidError::Silent);
                }
                continue;
            };
            quiet = Duration::ZERO;
            if let Step::Done(command, payload) = asm.push(&report)? {
                // Another program's INIT answer on the broadcast channel.
                if command != cmd::INIT || payload.get(..8) != Some(&nonce[..]) {
                    continue;
                }
                let [_, _, _, _, _, _, _, _, c0, c1, c2, c3, protocol, major, minor, build, capabilities, ..] =
                    payload[..]
                else {
                    return Err(HidError::Malformed("INIT answer too short"));
                };
                let cid = u32::from_be_bytes([c0, c1, c2, c3]);
                if cid == BROADCAST || cid == 0 {
                    return Err(HidError::Malformed("INIT gave a reserved channel"));
                }
                let info = DeviceInfo { protocol, version: (major, minor, build), capabilities };
                return Ok(Channel { dev, cid, info, silence, poll });
            }
        }
    }

    /// What the key said when the channel opened.
    pub fn info(&self) -> DeviceInfo {
        self.info
    }

    /// The channel id the key gave us.
    pub fn cid(&self) -> u32 {
        self.cid
    }

    /// Sends `payload` as `command` and waits for the answer. While the key
    /// is busy, `alive` is asked between reads; once it says no, CANCEL is
    /// sent and the key's own answer (CTAP2_ERR_KEEPALIVE_CANCEL) awaited.
    pub fn transact(
        &mut self,
        command: u8,
        payload: &[u8],
        alive: &dyn Fn() -> bool,
    ) -> Result<(u8, Vec<u8>), HidError> {
        for report in frames(self.cid, command, payload)? {
            self.dev.write_report(&report)?;
        }
        let mut asm = Reassembler::new(self.cid);
        let mut quiet = Duration::ZERO;
        let mut cancelled = false;
        loop {
            if !cancelled && !alive() {
                for report in frames(self.cid, cmd::CANCEL, &[])? {
                    self.dev.write_report(&report)?;
                }
                cancelled = true;
            }
            let Some(report) = self.dev.read_report(self.poll)? else {
                quiet += self.poll;
                if quiet >= self.silence {
                    return Err(HidError::Silent);
                }
                continue;
            };
            match asm.push(&report)? {
                Step::Done(command, answer) => return Ok((command, answer)),
                Step::KeepAlive(_) | Step::More => quiet = Duration::ZERO,
                Step::Ignored => {}
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    #[test]
    fn a_message_survives_framing_at_every_length_boundary() {
        for len in [0, 1, 56, 57, 58, 115, 116, 117, 1000, MAX_MESSAGE] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let reports = frames(0x0102_0304, cmd::CBOR, &payload).unwrap();
            let expected_reports =
                if len <= INIT_DATA { 1 } else { 1 + (len - INIT_DATA).div_ceil(CONT_DATA) };
            assert_eq!(reports.len(), expected_reports, "len {len}");
            let mut asm = Reassembler::new(0x0102_0304);
            let mut done = None;
            for r in &reports {
                if let Step::Done(c, p) = asm.push(r).unwrap() {
                    done = Some((c, p));
                }
            }
            assert_eq!(done, Some((cmd::CBOR, payload)), "len {len}");
        }
        assert_eq!(frames(1, cmd::CBOR, &vec![0; MAX_MESSAGE + 1]).unwrap_err(), HidError::TooLong);
    }

    #[test]
    fn other_channels_keepalives_and_errors_are_told_apart() {
        let mine = frames(7, cmd::CBOR, &[9; 100]).unwrap();
        let theirs = frames(8, cmd::CBOR, &[1; 100]).unwrap();
        let mut asm = Reassembler::new(7);
        assert_eq!(asm.push(&theirs[0]).unwrap(), Step::Ignored);
        assert_eq!(asm.push(&mine[0]).unwrap(), Step::More);
        assert_eq!(asm.push(&theirs[1]).unwrap(), Step::Ignored);
        let keepalive = frames(7, cmd::KEEPALIVE, &[2]).unwrap();
        assert_eq!(asm.push(&keepalive[0]).unwrap(), Step::KeepAlive(2));
        assert_eq!(asm.push(&mine[1]).unwrap(), Step::Done(cmd::CBOR, vec![9; 100]));
        let error = frames(7, cmd::ERROR, &[0x06]).unwrap();
        assert_eq!(asm.push(&error[0]).unwrap_err(), HidError::Device(0x06));
    }

    #[test]
    fn a_continuation_out_of_sequence_is_refused() {
        let mine = frames(7, cmd::CBOR, &[9; 200]).unwrap();
        let mut asm = Reassembler::new(7);
        asm.push(&mine[0]).unwrap();
        assert!(matches!(asm.push(&mine[2]), Err(HidError::Malformed(_))));
        // A stray continuation before any init is someone else's leftovers.
        assert_eq!(Reassembler::new(7).push(&mine[1]).unwrap(), Step::Ignored);
    }

    /// A scripted device: answers each written report from a queue of
    /// pre-recorded reports, so every branch is hit without timing.
    struct Scripted {
        written: Vec<[u8; REPORT_LEN]>,
        replies: VecDeque<Option<[u8; REPORT_LEN]>>,
    }

    impl HidReports for Scripted {
        fn write_report(&mut self, report: &[u8; REPORT_LEN]) -> Result<(), HidError> {
            self.written.push(*report);
            Ok(())
        }
        fn read_report(&mut self, _wait: Duration) -> Result<Option<[u8; REPORT_LEN]>, HidError> {
            self.replies.pop_front().ok_or(HidError::Gone)
        }
    }

    fn init_answer(nonce: [u8; 8], cid: u32) -> [u8; REPORT_LEN] {
        let mut p = nonce.to_vec();
        p.extend_from_slice(&cid.to_be_bytes());
        p.extend_from_slice(&[2, 5, 4, 1, CAP_CBOR | CAP_WINK]);
        frames(BROADCAST, cmd::INIT, &p).unwrap()[0]
    }

    #[test]
    fn the_channel_is_ours_only_if_the_nonce_matches_and_cancel_is_sent_when_asked() {
        let nonce = *b"sealbox!";
        let other = init_answer(*b"someone!", 0x11);
        let ours = init_answer(nonce, 0x22);
        let keepalive = frames(0x22, cmd::KEEPALIVE, &[2]).unwrap()[0];
        let cancelled = frames(0x22, cmd::CBOR, &[0x2d]).unwrap()[0];
        let dev = Scripted {
            written: Vec::new(),
            replies: VecDeque::from([Some(other), None, Some(ours), Some(keepalive), None, Some(cancelled)]),
        };
        let mut ch = Channel::open(dev, nonce, Duration::from_secs(5)).unwrap();
        assert_eq!(ch.cid(), 0x22);
        assert_eq!(ch.info().version, (5, 4, 1));
        let (c, answer) = ch.transact(cmd::CBOR, &[0x02], &|| false).unwrap();
        assert_eq!((c, answer), (cmd::CBOR, vec![0x2d]));
        let sent: Vec<u8> = ch.dev.written.iter().map(|r| r[4]).collect();
        assert_eq!(sent, vec![cmd::INIT | 0x80, cmd::CBOR | 0x80, cmd::CANCEL | 0x80]);
    }

    #[test]
    fn a_key_that_goes_quiet_or_away_is_an_error_not_a_hang() {
        let nonce = [1; 8];
        let silent = Scripted { written: Vec::new(), replies: VecDeque::from(vec![None; 40]) };
        assert_eq!(Channel::open(silent, nonce, Duration::from_secs(5)).unwrap_err(), HidError::Silent);
        let gone = Scripted { written: Vec::new(), replies: VecDeque::from([Some(init_answer(nonce, 5))]) };
        let mut ch = Channel::open(gone, nonce, Duration::from_secs(5)).unwrap();
        assert_eq!(ch.transact(cmd::CBOR, &[4], &|| true).unwrap_err(), HidError::Gone);
    }
}
