//! Enrolled workstations against a test hub: the practice admin sets up the
//! practice key and a key for every pool (signed into the key directory), a
//! clinician enrols and the admin approves their device (signed, and the
//! pool key sealed to it). Real SQLCipher caches, the real keyring.

use std::path::Path;

use sealbox_core::cache::{self, CacheConfig};
use sealbox_core::key::soft::SoftKey;
use sealbox_core::key::SecurityKey;
use sealbox_core::vault::Keyring;
use sealbox_core::workstation::{Desk, Workstation};
use sealbox_model::role::Role;

use super::login::invite;
use super::Hub;

/// A clinician's enrolled (and locked) workstation with its key, PIN typed.
pub struct Enrolled<K = SoftKey> {
    pub ws: Workstation,
    pub key: K,
    pub admin: Workstation,
    /// The admin's key (PIN 1111, to be typed again before each unlock).
    pub admin_key: SoftKey,
}

impl<K> Enrolled<K> {
    /// Wipes both caches and their keyring entries.
    pub fn wipe(&self, keyring: &Keyring) {
        wipe(&self.ws, keyring);
        wipe(&self.admin, keyring);
    }

    /// This practice's admin approves `desk`'s device (a seat enrolled in a
    /// shared room, say).
    #[allow(dead_code)] // not every test binary shares a workstation
    pub async fn approve(&mut self, hub: &Hub, desk: &Desk) {
        let now = hub.state.now();
        self.admin_key.enter_pin("1111");
        let admin = self.admin.unlock(&mut self.admin_key, now).await.unwrap();
        approve(&admin, desk).await;
        admin.lock("done", now).await.unwrap();
    }

    /// Another clinician's workstation under `dir`, enrolled with `key` and
    /// approved by this practice's admin (locked).
    #[allow(dead_code)] // not every test binary enrols a second clinician
    pub async fn another<K2: SecurityKey + Send>(
        &mut self,
        hub: &Hub,
        keyring: &Keyring,
        dir: &Path,
        role: Role,
        mut key: K2,
    ) -> (Workstation, K2) {
        let now = hub.state.now();
        self.admin_key.enter_pin("1111");
        let admin = self.admin.unlock(&mut self.admin_key, now).await.unwrap();
        let mut ws = Workstation::open(dir.to_path_buf(), keyring.clone()).unwrap();
        let code = invite(&hub.state, role);
        let desk = ws.enrol(&hub.url, &code, "Room 4 PC", &mut key, now).await.unwrap();
        approve(&admin, &desk).await;
        desk.lock("enrolled", now).await.unwrap();
        admin.lock("done", now).await.unwrap();
        (ws, key)
    }
}

/// Wipes `ws`'s cache and keyring entries.
pub fn wipe(ws: &Workstation, keyring: &Keyring) {
    if let Some(p) = ws.profile() {
        let cfg = CacheConfig { data_dir: ws.dir().to_path_buf(), context: p.context() };
        cache::wipe_device(&cfg, keyring, None).unwrap();
    }
}

/// The admin approves `desk`'s device.
async fn approve(admin: &Desk, desk: &Desk) {
    let id = desk.profile().device_id.clone();
    let devices = admin.hub().devices().await.unwrap();
    let device = devices.devices.iter().find(|d| d.id == id).unwrap();
    admin.approve_device(device).await.unwrap();
}

/// The admin's and a `role` clinician's workstations under `dir`, the
/// clinician with the demo key (PIN 2468).
pub async fn enrol_approved(hub: &Hub, keyring: &Keyring, dir: &Path, role: Role) -> Enrolled {
    enrol_approved_with(hub, keyring, dir, role, SoftKey::new("2468")).await
}

/// The same with the clinician's `key` (its PIN already typed).
pub async fn enrol_approved_with<K: SecurityKey + Send>(
    hub: &Hub,
    keyring: &Keyring,
    dir: &Path,
    role: Role,
    mut key: K,
) -> Enrolled<K> {
    let now = hub.state.now();
    let mut admin_ws = Workstation::open(dir.join("admin"), keyring.clone()).unwrap();
    let mut admin_key = SoftKey::new("1111");
    let code = invite(&hub.state, Role::PracticeAdmin);
    let mut admin = admin_ws.enrol(&hub.url, &code, "Office PC", &mut admin_key, now).await.unwrap();
    admin.set_up_pools().await.unwrap();

    let mut ws = Workstation::open(dir.join(role.key()), keyring.clone()).unwrap();
    let code = invite(&hub.state, role);
    let desk = ws.enrol(&hub.url, &code, "Room 3 PC", &mut key, now).await.unwrap();
    approve(&admin, &desk).await;
    desk.lock("enrolled", now).await.unwrap();
    admin.lock("done", now).await.unwrap();
    Enrolled { ws, key, admin: admin_ws, admin_key }
}
