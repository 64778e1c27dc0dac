//! Shared workstations (issue 24): several clinicians on one machine, each
//! opening only with their own security key, as NHS staff do with
//! smartcards.
//!
//! Each clinician has a seat: a directory of their own holding their
//! profile, their device identity at the hub (the hub knows a device as
//! this desktop plus that key), their data key wrapped under a KEK from
//! their own key, and their own SQLCipher cache. No key is shared between
//! seats, so one clinician's compromise (their key and PIN, or a KEK from
//! them) opens their cache alone and tells nothing of a colleague's; the
//! cost is that threads both may read are synced and stored once per seat
//! (docs/architecture.md, "Shared workstations").
//!
//! The first seat is the data directory itself, so a workstation enrolled
//! before rooms is a room of one; the others live in `clinicians/<seat>/`.
//! The lock screen asks for a key, not a name: the seat is the one whose
//! credential the key holds, asked silently ([`SecurityKey::holds`]).

use std::path::PathBuf;

use sealbox_crypto::secret::random_bytes;
use sealbox_model::api::RoomMember;
use sealbox_model::jiff::Timestamp;
use sealbox_model::role::Role;

use super::{Desk, Profile, Workstation, WorkstationError};
use crate::cache::{self, CacheConfig};
use crate::key::{KeyError, SecurityKey};
use crate::vault::Keyring;

/// Where the seats after the first live, under the data directory.
pub const SEATS_DIR: &str = "clinicians";

/// The clinicians enrolled on one workstation.
#[derive(Debug)]
pub struct Room {
    dir: PathBuf,
    keyring: Keyring,
    seats: Vec<Workstation>,
}

/// What removing a clinician from this workstation removed. Paths and
/// counts only: no patient data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removal {
    /// Their name as enrolled.
    pub name: String,
    /// The device the hub knows for them here: for the practice admin to
    /// revoke when the key is lost.
    pub device_id: String,
    /// Whether their wrapped data key's keyring entry was deleted.
    pub keyring_entry_removed: bool,
    /// Every file deleted (cache, its journals, identity, profile, throttle).
    pub files_removed: Vec<PathBuf>,
}

/// Whether `remover`, unlocked here, may remove `target` from this
/// workstation: a practice admin may remove a colleague (they left, or
/// their key is lost); nobody removes themselves (their audit chain would
/// go with their seat, and a leaver's queued replies with it).
pub fn may_remove(remover: &Profile, target: &Profile) -> bool {
    remover.role == Role::PracticeAdmin && remover.user_id != target.user_id
}

impl Room {
    /// The room whose data lives in `dir` (created seats are found under
    /// `clinicians/`).
    pub fn open(dir: PathBuf, keyring: Keyring) -> Result<Self, WorkstationError> {
        let mut seats = vec![Workstation::open(dir.clone(), keyring.clone())?];
        let mut others: Vec<PathBuf> = match std::fs::read_dir(dir.join(SEATS_DIR)) {
            Ok(entries) => entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(WorkstationError::Io(e.kind())),
        };
        others.sort();
        for seat in others {
            let ws = Workstation::open(seat.clone(), keyring.clone())?;
            if ws.profile().is_some() {
                seats.push(ws);
            } else {
                // An enrolment that did not finish: nothing of it is kept.
                let _ = std::fs::remove_dir_all(&seat);
            }
        }
        Ok(Room { dir, keyring, seats })
    }

    /// The clinicians enrolled here, first seat first.
    pub fn clinicians(&self) -> Vec<&Profile> {
        self.seats.iter().filter_map(Workstation::profile).collect()
    }

    /// True once anyone is enrolled here.
    pub fn is_enrolled(&self) -> bool {
        self.seats.iter().any(|s| s.profile().is_some())
    }

    /// The seat `key` opens: the one holding a credential the key holds.
    pub fn seat_of(&self, key: &mut (dyn SecurityKey + Send)) -> Option<usize> {
        self.seats.iter().position(|seat| {
            seat.profile().is_some_and(|p| key.holds(&p.rp_id, &[p.passkey.cred_id().to_vec()]))
        })
    }

    /// Every seat's credential, grouped by relying party: what a key must
    /// hold to open a seat here (to find it among the keys plugged in).
    pub fn credentials(&self) -> Vec<(String, Vec<Vec<u8>>)> {
        let mut out: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
        for p in self.clinicians() {
            let id = p.passkey.cred_id().to_vec();
            match out.iter_mut().find(|(rp, _)| *rp == p.rp_id) {
                Some((_, ids)) => ids.push(id),
                None => out.push((p.rp_id.clone(), vec![id])),
            }
        }
        out
    }

    /// How long before the next unlock is allowed on some seat (zero: now).
    /// Each seat keeps its own throttle: one clinician's failures do not
    /// hold a colleague back.
    pub fn unlock_wait(&self, now: Timestamp) -> sealbox_model::jiff::SignedDuration {
        self.seats
            .iter()
            .filter(|s| s.profile().is_some())
            .map(|s| s.unlock_wait(now))
            .min()
            .unwrap_or_default()
    }

    /// The clinician whose seat waits longest before its next unlock, if
    /// any seat waits: with the demo's software keys (whose PIN the shell
    /// tries against each seat's key) nothing is tried while any seat
    /// waits, so no seat's PIN can be guessed past its throttle.
    pub fn waiting_clinician(&self, now: Timestamp) -> Option<String> {
        self.seats
            .iter()
            .filter_map(|s| Some((s.unlock_wait(now), s.profile()?)))
            .filter(|(wait, _)| wait.is_positive())
            .max_by_key(|(wait, _)| *wait)
            .map(|(_, p)| p.user_id.clone())
    }

    /// Unlocks the seat of clinician `user_id` with `key` (the demo's
    /// software keys, one per clinician in the keyring: the shell knows
    /// whose key it loaded). A failure counts against that seat.
    pub async fn unlock_seat_of_user(
        &mut self,
        user_id: &str,
        key: &mut (dyn SecurityKey + Send),
        now: Timestamp,
    ) -> Result<Desk, WorkstationError> {
        let seat = self
            .seats
            .iter_mut()
            .find(|s| s.profile().is_some_and(|p| p.user_id == user_id))
            .ok_or(WorkstationError::NotEnrolled)?;
        seat.unlock(key, now).await
    }

    /// Enrols a clinician with their own invite and key: the first seat if
    /// it is free, else a new one. A key already enrolled here is refused
    /// (one seat per key); a failed enrolment leaves no seat behind.
    pub async fn enrol(
        &mut self,
        hub_url: &str,
        invite_code: &str,
        device_name: &str,
        key: &mut (dyn SecurityKey + Send),
        now: Timestamp,
    ) -> Result<Desk, WorkstationError> {
        if self.seat_of(key).is_some() {
            return Err(WorkstationError::AlreadyEnrolled);
        }
        let index = match self.seats.first() {
            Some(first) if first.profile().is_none() => 0,
            _ => {
                let name: String = random_bytes::<8>().iter().map(|b| format!("{b:02x}")).collect();
                let path = self.dir.join(SEATS_DIR).join(name);
                crate::data_dir::ensure(&path).map_err(|e| match e {
                    crate::data_dir::DataDirError::Io { kind, .. } => WorkstationError::Io(kind),
                    _ => WorkstationError::Io(std::io::ErrorKind::Other),
                })?;
                self.seats.push(Workstation::open(path, self.keyring.clone())?);
                self.seats.len() - 1
            }
        };
        let seat = self.seats.get_mut(index).ok_or(WorkstationError::NotEnrolled)?;
        match seat.enrol(hub_url, invite_code, device_name, key, now).await {
            Ok(desk) => Ok(desk),
            Err(e) => {
                if index > 0 {
                    let gone = self.seats.remove(index);
                    let _ = std::fs::remove_dir_all(gone.dir());
                }
                Err(e)
            }
        }
    }

    /// Unlocks the seat of the key that answers. A key enrolled on no seat
    /// here is refused before any PIN is sent (a room of one asks the key
    /// as before: a key that will not say what it holds is refused by the
    /// ceremony itself).
    pub async fn unlock(
        &mut self,
        key: &mut (dyn SecurityKey + Send),
        now: Timestamp,
    ) -> Result<(usize, Desk), WorkstationError> {
        let enrolled: Vec<usize> =
            (0..self.seats.len()).filter(|i| self.seats[*i].profile().is_some()).collect();
        let index = match (self.seat_of(key), enrolled.as_slice()) {
            (Some(index), _) => index,
            // A room of one, and a key that will not say what it holds
            // without a PIN (credProtect 3): the ceremony itself tells.
            (None, [only]) if !key.is_demo() => *only,
            (None, _) => return Err(KeyError::WrongKey.into()),
        };
        let seat = self.seats.get_mut(index).ok_or(WorkstationError::NotEnrolled)?;
        Ok((index, seat.unlock(key, now).await?))
    }

    /// The clinicians enrolled here as Settings lists them for `me` (the
    /// clinician unlocked now): `me` first, then the others in seat order.
    pub fn members(&self, me: &Profile) -> Vec<RoomMember> {
        let mut out: Vec<RoomMember> = Vec::new();
        for p in self.clinicians() {
            if out.iter().any(|m| m.user_id == p.user_id) {
                continue;
            }
            out.push(RoomMember {
                user_id: p.user_id.clone(),
                name: if p.name.is_empty() { p.username.clone() } else { p.name.clone() },
                role: p.role.title().to_owned(),
                you: p.user_id == me.user_id,
                removable: may_remove(me, p),
            });
        }
        out.sort_by_key(|m| !m.you);
        out
    }

    /// Removes clinician `user_id` on the say of `by`, the desk unlocked
    /// here: refused unless [`may_remove`]; recorded in `by`'s audit chain
    /// first (`remove_clinician`, on their device id), then removed as by
    /// [`Room::remove`].
    pub fn remove_by(
        &mut self,
        by: &Desk,
        user_id: &str,
        now: Timestamp,
    ) -> Result<Vec<Removal>, WorkstationError> {
        let target = self
            .clinicians()
            .into_iter()
            .find(|p| p.user_id == user_id)
            .cloned()
            .ok_or(WorkstationError::NotInRoom)?;
        if !may_remove(by.profile(), &target) {
            return Err(WorkstationError::MayNotRemove);
        }
        by.audit("remove_clinician", &format!("{}/{}", target.user_id, target.device_id), now)?;
        self.remove(user_id)
    }

    /// Removes every seat of clinician `user_id` (they left, or their key
    /// is lost): their cache, wrapped key, identity, profile and throttle,
    /// and the seat's directory; the others are not touched. Lock their
    /// desk first (a desk still open keeps its connection to the cache).
    pub fn remove(&mut self, user_id: &str) -> Result<Vec<Removal>, WorkstationError> {
        let mut removed = Vec::new();
        let mut index = 0;
        while index < self.seats.len() {
            let Some(profile) = self.seats[index].profile().filter(|p| p.user_id == user_id).cloned() else {
                index += 1;
                continue;
            };
            let dir = self.seats[index].dir().to_path_buf();
            let cfg = CacheConfig { data_dir: dir.clone(), context: profile.context() };
            let wiped = cache::wipe_device(&cfg, &self.keyring, None)?;
            let mut files_removed = wiped.files_removed;
            for name in [super::PROFILE_FILE, crate::lock::throttle::THROTTLE_FILE] {
                let path = dir.join(name);
                match std::fs::remove_file(&path) {
                    Ok(()) => files_removed.push(path),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(WorkstationError::Io(e.kind())),
                }
            }
            if index == 0 {
                // The data directory stays (other seats live under it).
                self.seats[0] = Workstation::open(dir, self.keyring.clone())?;
                index += 1;
            } else {
                std::fs::remove_dir_all(&dir).map_err(|e| WorkstationError::Io(e.kind()))?;
                self.seats.remove(index);
            }
            removed.push(Removal {
                name: profile.name.clone(),
                device_id: profile.device_id.clone(),
                keyring_entry_removed: wiped.keyring_entry_removed,
                files_removed,
            });
        }
        Ok(removed)
    }
}
