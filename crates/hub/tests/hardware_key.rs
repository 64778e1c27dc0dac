//! The hardware-key transport (sealbox-core's `HardwareKey`: Mozilla's
//! `authenticator` CTAP2 over our CTAPHID framing) against an authenticator
//! we did not write: soft-fido2, a separate CTAP 2.0/2.1 implementation with
//! PIN protocols 1/2 and hmac-secret. Driven at two levels — CTAP2 CBOR
//! straight into its dispatcher, and 64-byte CTAPHID reports into its HID
//! handler (what hidraw carries from a USB key) — and verified by the hub's
//! real webauthn-rs over HTTP, and by webauthn-rs on the device offline.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sealbox_core::key::ctaphid::{Channel, HidError, HidReports, REPORT_LEN};
use sealbox_core::key::fido::CtapTransport;
use sealbox_core::key::hardware::{touched_key, CancelHandle, HardwareKey};
use sealbox_core::key::local::LocalVerifier;
use sealbox_core::key::{KeyError, SecurityKey};
use sealbox_crypto::secret::random_bytes;
use sealbox_hub::config::RatePolicy;
use sealbox_model::role::Role;
use soft_fido2::{
    Authenticator, AuthenticatorCallbacks, AuthenticatorConfig, Credential, CredentialRef, UpResult, UvResult,
};
use soft_fido2_transport::{Cmd, CommandHandler, CtapHidHandler, Packet};
use support::login::{enrol_finish, enrol_start, invite, login_finish, login_start, origin};
use support::start_hub;
use zeroize::Zeroizing;

/// What the person at the key does when it asks for a touch.
#[derive(Clone)]
struct Person(Arc<Mutex<UpResult>>);

impl Person {
    fn touches() -> Self {
        Person(Arc::new(Mutex::new(UpResult::Accepted)))
    }
    fn then(&self, answer: UpResult) {
        *self.0.lock().unwrap() = answer;
    }
}

/// soft-fido2's host side: where its credentials live, and the touch.
struct Host {
    person: Person,
    credentials: Mutex<HashMap<Vec<u8>, Credential>>,
}

impl AuthenticatorCallbacks for Host {
    fn request_up(&self, _: &str, _: Option<&str>, _: &str) -> soft_fido2::Result<UpResult> {
        Ok(*self.person.0.lock().unwrap())
    }
    /// A key with a fingerprint reader asks the same person.
    fn request_uv(&self, _: &str, _: Option<&str>, _: &str) -> soft_fido2::Result<UvResult> {
        Ok(match *self.person.0.lock().unwrap() {
            UpResult::Accepted => UvResult::Accepted,
            UpResult::Timeout => UvResult::Timeout,
            _ => UvResult::Denied,
        })
    }
    fn write_credential(&self, c: &CredentialRef) -> soft_fido2::Result<()> {
        self.credentials.lock().unwrap().insert(c.id.to_vec(), c.to_owned());
        Ok(())
    }
    fn read_credential(&self, id: &[u8]) -> soft_fido2::Result<Option<Credential>> {
        Ok(self.credentials.lock().unwrap().get(id).cloned())
    }
    fn delete_credential(&self, id: &[u8]) -> soft_fido2::Result<()> {
        self.credentials.lock().unwrap().remove(id);
        Ok(())
    }
    fn list_credentials(&self, rp_id: &str, _: Option<&[u8]>) -> soft_fido2::Result<Vec<Credential>> {
        Ok(self.credentials.lock().unwrap().values().filter(|c| c.rp.id == rp_id).cloned().collect())
    }
    fn enumerate_rps(&self) -> soft_fido2::Result<Vec<(String, Option<String>, usize)>> {
        Ok(Vec::new())
    }
    fn credential_count(&self) -> soft_fido2::Result<usize> {
        Ok(self.credentials.lock().unwrap().len())
    }
    /// The key's clock (PIN tokens expire by it): fixed, so nothing here
    /// depends on the time the test runs. soft-fido2 refuses to issue a
    /// PIN token at time 0.
    fn get_timestamp_ms(&self) -> u64 {
        1_780_000_000_000
    }
}

/// A soft-fido2 key, new from the box (no PIN). soft-fido2 keeps
/// hmac-secret's per-credential secret only for resident credentials:
/// `hmac_secret` makes its credentials resident; without it, the key says
/// yes to hmac-create-secret and then gives no output (a key that cannot
/// do what it said).
fn soft_key(hmac_secret: bool, person: &Person) -> Authenticator<Host> {
    soft_key_with(hmac_secret, false, 8, person)
}

/// The same, with a fingerprint reader (built-in user verification) if
/// `fingerprint`, and `pin_tries` wrong PINs before the PIN is blocked.
fn soft_key_with(
    hmac_secret: bool,
    fingerprint: bool,
    pin_tries: u8,
    person: &Person,
) -> Authenticator<Host> {
    let options = soft_fido2::AuthenticatorOptions::default()
        .with_client_pin(Some(false))
        .with_user_verification(fingerprint.then_some(true));
    let config = AuthenticatorConfig::builder()
        .options(options)
        .extensions(vec!["credProtect".to_owned(), "hmac-secret".to_owned()])
        .force_resident_keys(hmac_secret)
        .max_pin_retries(pin_tries)
        // ES256 only: soft-fido2's default list also names Ed25519 as -19,
        // a code `authenticator` 0.5 does not know yet.
        .algorithms(vec![-7])
        .build();
    let host = Host { person: person.clone(), credentials: Mutex::new(HashMap::new()) };
    Authenticator::with_config(host, config).unwrap()
}

/// soft-fido2 0.17 implements hmac-secret but leaves it out of getInfo on
/// purpose ("partial" in its own words: no second credential secret for
/// use without UV, which Sealbox never uses). A platform rightly trusts
/// getInfo, so this harness adds the name to soft-fido2's getInfo answer;
/// everything else it says is its own.
fn advertise_hmac_secret(request: &[u8], answer: &mut Vec<u8>) {
    use serde_cbor_2::Value;
    if request.first() != Some(&0x04) || answer.first() != Some(&0x00) {
        return;
    }
    let Ok(Value::Map(mut info)) = serde_cbor_2::from_slice::<Value>(&answer[1..]) else { return };
    let names = info.entry(Value::Integer(2)).or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(names) = names {
        names.push(Value::Text("hmac-secret".into()));
    }
    let mut patched = vec![0x00];
    patched.extend(serde_cbor_2::to_vec(&Value::Map(info)).unwrap());
    *answer = patched;
}

/// CTAP2 CBOR straight into soft-fido2's dispatcher.
struct Cbor(Authenticator<Host>);

impl CtapTransport for Cbor {
    fn cbor(&mut self, request: &[u8], _alive: &dyn Fn() -> bool) -> Result<Vec<u8>, HidError> {
        let mut answer = Vec::new();
        self.0.handle(request, &mut answer).map_err(|_| HidError::Device(0x7f))?;
        advertise_hmac_secret(request, &mut answer);
        Ok(answer)
    }
}

/// soft-fido2's authenticator behind its CTAPHID handler.
struct Dispatch(Authenticator<Host>);

impl CommandHandler for Dispatch {
    fn handle_command(&mut self, cmd: Cmd, data: &[u8]) -> soft_fido2_transport::Result<Vec<u8>> {
        match cmd {
            Cmd::Cbor => {
                let mut answer = Vec::new();
                self.0
                    .handle(data, &mut answer)
                    .map_err(|_| soft_fido2_transport::Error::Other("soft-fido2 failed".into()))?;
                advertise_hmac_secret(data, &mut answer);
                Ok(answer)
            }
            _ => Err(soft_fido2_transport::Error::Other("not a CBOR command".into())),
        }
    }
}

/// A USB key as hidraw shows it: 64-byte reports each way. Once `pull_in`
/// more reports have been written (counting down from when it is set), the
/// key is pulled out: every report after fails as hidraw's do.
struct Usb {
    hid: CtapHidHandler<Dispatch>,
    waiting: VecDeque<[u8; REPORT_LEN]>,
    pull_in: Arc<AtomicUsize>,
}

/// Not counting down.
const PLUGGED: usize = usize::MAX;

impl Usb {
    fn new(key: Authenticator<Host>) -> Self {
        Usb {
            hid: CtapHidHandler::new(Dispatch(key)),
            waiting: VecDeque::new(),
            pull_in: Arc::new(AtomicUsize::new(PLUGGED)),
        }
    }
    fn pulled(&self) -> bool {
        self.pull_in.load(Ordering::SeqCst) == 0
    }
}

impl HidReports for Usb {
    fn write_report(&mut self, report: &[u8; REPORT_LEN]) -> Result<(), HidError> {
        if self.pulled() {
            return Err(HidError::Gone);
        }
        let _ = self.pull_in.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n != PLUGGED).then(|| n.saturating_sub(1))
        });
        let packets =
            self.hid.process_packet(Packet::from_bytes(*report)).map_err(|_| HidError::Device(0x7f))?;
        self.waiting.extend(packets.iter().map(|p| *p.as_bytes()));
        Ok(())
    }
    fn read_report(&mut self, _wait: Duration) -> Result<Option<[u8; REPORT_LEN]>, HidError> {
        if self.pulled() {
            return Err(HidError::Gone);
        }
        Ok(self.waiting.pop_front())
    }
}

/// The key over USB; its PIN set as practice IT would before handing it
/// out (CTAP setPIN), if `pin` is given.
fn over_usb(key: Authenticator<Host>, pin: Option<&str>) -> HardwareKey<Channel<Usb>> {
    let channel = Channel::open(Usb::new(key), random_bytes::<8>(), Duration::from_secs(5)).unwrap();
    with_pin(HardwareKey::new(channel).unwrap(), pin)
}

fn over_cbor(key: Authenticator<Host>, pin: Option<&str>) -> HardwareKey<Cbor> {
    with_pin(HardwareKey::new(Cbor(key)).unwrap(), pin)
}

fn with_pin<T: CtapTransport>(mut key: HardwareKey<T>, pin: Option<&str>) -> HardwareKey<T> {
    if let Some(pin) = pin {
        key.set_pin(pin).unwrap();
    }
    key
}

/// Enrols `key` as a new GP at the hub; returns the user id and the passkey
/// the hub stored.
async fn enrol(hub: &support::Hub, key: &mut dyn SecurityKey) -> (String, webauthn_rs::prelude::Passkey) {
    let code = invite(&hub.state, Role::Gp);
    let challenge = enrol_start(&hub.client, &hub.url, &code).await.unwrap();
    let credential = key.register(&origin(&hub.state), challenge.options).unwrap();
    let enrolled = enrol_finish(&hub.client, &hub.url, &challenge.ceremony_id, &credential).await.unwrap();
    (enrolled.user_id, enrolled.passkey)
}

/// One touch the hub verifies; the hmac-secret output for `salt`.
async fn sign_in(
    hub: &support::Hub,
    key: &mut dyn SecurityKey,
    user: &str,
    salt: &[u8; 32],
) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let challenge = login_start(&hub.client, &hub.url, user).await.unwrap();
    let assertion = key.sign_in(&origin(&hub.state), challenge.options, Some(salt))?;
    let session =
        login_finish(&hub.client, &hub.url, &challenge.ceremony_id, &assertion.credential).await.unwrap();
    assert_eq!(session.user_id, user);
    Ok(assertion.hmac_secret.unwrap())
}

#[tokio::test]
async fn over_ctaphid_a_key_enrols_with_the_hubs_webauthn_rs_and_unlocks_online_and_offline() {
    let hub = start_hub(1, RatePolicy { burst: 20, per_minute: 0 }).await;
    let person = Person::touches();
    let mut key = over_usb(soft_key(true, &person), Some("2468"));
    key.enter_pin("2468");
    assert!(key.has_hmac_secret());
    let (user, mut passkey) = enrol(&hub, &mut key).await;
    let described = key.describe();
    assert!(described.hmac_secret && described.pin_set == Some(true), "{described:?}");
    assert_eq!(described.pin_retries, Some(8), "{described:?}");
    assert!(key.test_touch(), "the person touched it");

    let salt = random_bytes::<32>();
    let first = sign_in(&hub, &mut key, &user, &salt).await.unwrap();
    let again = sign_in(&hub, &mut key, &user, &salt).await.unwrap();
    assert_eq!(*first, *again, "same credential, same salt: the same KEK at every unlock");
    let other = sign_in(&hub, &mut key, &user, &random_bytes::<32>()).await.unwrap();
    assert_ne!(*first, *other, "another salt (another device) gives another secret");

    // Offline: webauthn-rs on the device verifies the key, same output.
    let rp_id = hub.state.config.webauthn.rp_id.clone();
    let o = origin(&hub.state);
    hub.running.stop().await.unwrap();
    let local = LocalVerifier::new(&rp_id, &o).unwrap();
    assert_eq!(*local.sign_in(&mut key, &mut passkey, &salt).unwrap(), *first);

    // Another key (someone else's) does not hold this credential.
    let mut stranger = over_usb(soft_key(true, &person), Some("2468"));
    stranger.enter_pin("2468");
    assert_eq!(local.sign_in(&mut stranger, &mut passkey, &salt).unwrap_err(), KeyError::WrongKey);
}

#[tokio::test]
async fn at_the_cbor_level_the_same_key_gives_the_same_answers() {
    let hub = start_hub(1, RatePolicy { burst: 20, per_minute: 0 }).await;
    let person = Person::touches();
    let mut key = over_cbor(soft_key(true, &person), Some("1357"));
    key.enter_pin("1357");
    let (user, _) = enrol(&hub, &mut key).await;
    let salt = random_bytes::<32>();
    let first = sign_in(&hub, &mut key, &user, &salt).await.unwrap();
    assert_eq!(*first, *sign_in(&hub, &mut key, &user, &salt).await.unwrap());
}

#[tokio::test]
async fn a_wrong_pin_counts_down_to_a_blocked_key_and_a_missing_one_is_asked_for() {
    let hub = start_hub(1, RatePolicy { burst: 40, per_minute: 0 }).await;
    let person = Person::touches();
    let mut key = over_usb(soft_key(true, &person), Some("2468"));
    key.enter_pin("2468");
    let (user, _) = enrol(&hub, &mut key).await;
    let salt = random_bytes::<32>();

    key.enter_pin("0000");
    let first = sign_in(&hub, &mut key, &user, &salt).await.unwrap_err();
    let second = sign_in(&hub, &mut key, &user, &salt).await.unwrap_err();
    let (KeyError::PinWrong { retries_left: Some(a) }, KeyError::PinWrong { retries_left: Some(b) }) =
        (&first, &second)
    else {
        panic!("{first:?} {second:?}");
    };
    assert_eq!(*a, b + 1, "each wrong PIN costs one try");
    assert!(first.to_string().contains("tries left"), "{first}");
    // The third wrong PIN in a row: CTAP asks for the key to be re-plugged.
    assert_eq!(sign_in(&hub, &mut key, &user, &salt).await.unwrap_err(), KeyError::PinAuthBlocked);

    let mut fresh = over_usb(soft_key(true, &person), Some("2468"));
    let err = fresh.register(&origin(&hub.state), {
        let code = invite(&hub.state, Role::Gp);
        enrol_start(&hub.client, &hub.url, &code).await.unwrap().options
    });
    assert_eq!(err.unwrap_err(), KeyError::PinRequired, "no PIN typed");

    // A key that allows two wrong PINs: the second blocks it. (Whether the
    // right PIN is refused afterwards is the key's to enforce; soft-fido2
    // 0.17's getPinUvAuthToken path does not check, real keys do.)
    let mut strict = over_usb(soft_key_with(true, false, 2, &person), Some("2468"));
    strict.enter_pin("2468");
    let (strict_user, _) = enrol(&hub, &mut strict).await;
    strict.enter_pin("1111");
    assert_eq!(
        sign_in(&hub, &mut strict, &strict_user, &salt).await.unwrap_err(),
        KeyError::PinWrong { retries_left: Some(1) }
    );
    let blocked = sign_in(&hub, &mut strict, &strict_user, &salt).await.unwrap_err();
    assert_eq!(blocked, KeyError::PinBlocked);
    assert!(blocked.to_string().contains("practice admin"), "{blocked}");
}

#[tokio::test]
async fn no_pin_on_the_key_a_refused_touch_a_pulled_key_and_no_hmac_secret_are_clear_errors() {
    let hub = start_hub(1, RatePolicy { burst: 40, per_minute: 0 }).await;
    let person = Person::touches();
    let options = || async {
        let code = invite(&hub.state, Role::Gp);
        enrol_start(&hub.client, &hub.url, &code).await.unwrap().options
    };

    let mut no_pin = over_usb(soft_key(true, &person), None);
    assert_eq!(no_pin.describe().pin_set, Some(false));
    let err = no_pin.register(&origin(&hub.state), options().await).unwrap_err();
    assert_eq!(err, KeyError::PinNotSet);
    assert!(err.to_string().contains("set one"), "{err}");

    // A fingerprint key: the person refuses, or lets it time out (both a
    // cancel, to be tried again), then verifies. (soft-fido2 counts a fresh PIN as presence and never asks
    // for a touch after one, so a refused *touch* is shown with the
    // fingerprint key; the CTAP status mapping is unit-tested in
    // `key::hardware`.)
    let mut key = over_usb(soft_key_with(true, true, 8, &person), None);
    person.then(UpResult::Denied);
    assert_eq!(key.register(&origin(&hub.state), options().await).unwrap_err(), KeyError::Cancelled);
    person.then(UpResult::Timeout);
    assert_eq!(key.register(&origin(&hub.state), options().await).unwrap_err(), KeyError::Cancelled);
    person.then(UpResult::Accepted);
    let (user, _) = enrol(&hub, &mut key).await;
    assert!(sign_in(&hub, &mut key, &user, &random_bytes::<32>()).await.is_ok(), "verified by fingerprint");

    // Pulled out in the middle of a request (three reports into it).
    let usb = Usb::new(soft_key(true, &person));
    let pull_in = Arc::clone(&usb.pull_in);
    let channel = Channel::open(usb, random_bytes::<8>(), Duration::from_secs(5)).unwrap();
    let mut pulled = with_pin(HardwareKey::new(channel).unwrap(), Some("2468"));
    pulled.enter_pin("2468");
    pull_in.store(3, Ordering::SeqCst);
    assert_eq!(pulled.register(&origin(&hub.state), options().await).unwrap_err(), KeyError::Removed);

    let mut weak = over_usb(soft_key(false, &person), Some("2468"));
    weak.enter_pin("2468");
    let (weak_user, _) = enrol(&hub, &mut weak).await;
    assert_eq!(
        sign_in(&hub, &mut weak, &weak_user, &random_bytes::<32>()).await.unwrap_err(),
        KeyError::Unsupported("hmac-secret")
    );
}

/// A key that flashes, waiting for a touch, whenever it is asked to make or
/// use a credential. While it waits, the person presses Cancel on the
/// lock screen (`on_wait`, when set); the key then answers as a real key
/// does once the platform has sent CTAPHID CANCEL, with
/// CTAP2_ERR_KEEPALIVE_CANCEL (0x2D). Without a Cancel, the touch comes.
struct Flashing {
    inner: Cbor,
    on_wait: Arc<Mutex<Option<CancelHandle>>>,
    /// Flashes for authenticatorSelection (0x0B) too.
    also_selection: bool,
}

impl CtapTransport for Flashing {
    fn cbor(&mut self, request: &[u8], alive: &dyn Fn() -> bool) -> Result<Vec<u8>, HidError> {
        let waits = match request.first() {
            Some(0x01 | 0x02) => true,
            Some(0x0B) => self.also_selection,
            _ => false,
        };
        if waits {
            if let Some(cancel) = self.on_wait.lock().unwrap().as_ref() {
                cancel.cancel();
            }
            if !alive() {
                return Ok(vec![0x2D]);
            }
        }
        self.inner.cbor(request, alive)
    }
}

/// A soft-fido2 key behind [`Flashing`] (`on_wait` fires while it flashes),
/// with PIN 2468 set and typed.
fn flashing_key(
    person: &Person,
    on_wait: &Arc<Mutex<Option<CancelHandle>>>,
    also_selection: bool,
) -> HardwareKey<Flashing> {
    let flashing =
        Flashing { inner: Cbor(soft_key(true, person)), on_wait: Arc::clone(on_wait), also_selection };
    let mut key = with_pin(HardwareKey::new(flashing).unwrap(), Some("2468"));
    key.enter_pin("2468");
    key
}

#[tokio::test]
async fn cancel_on_the_screen_while_the_key_flashes_ends_the_request_and_the_next_key_works() {
    let hub = start_hub(1, RatePolicy { burst: 100, per_minute: 0 }).await;
    let person = Person::touches();
    let on_wait = Arc::new(Mutex::new(None));
    let mut key = flashing_key(&person, &on_wait, false);
    *on_wait.lock().unwrap() = Some(key.cancel_handle());
    let code = invite(&hub.state, Role::Gp);
    let challenge = enrol_start(&hub.client, &hub.url, &code).await.unwrap();
    let err = key.register(&origin(&hub.state), challenge.options).unwrap_err();
    assert_eq!(err, KeyError::Cancelled);
    assert!(err.to_string().contains("cancelled"), "{err}");

    // Nobody presses Cancel: the same kind of key enrols and signs in.
    *on_wait.lock().unwrap() = None;
    let mut key = flashing_key(&person, &on_wait, false);
    let (user, _) = enrol(&hub, &mut key).await;
    let salt = random_bytes::<32>();
    assert!(sign_in(&hub, &mut key, &user, &salt).await.is_ok());
    // Cancel while it flashes at sign-in: no assertion, no session.
    *on_wait.lock().unwrap() = Some(key.cancel_handle());
    assert_eq!(sign_in(&hub, &mut key, &user, &salt).await.unwrap_err(), KeyError::Cancelled);
}

#[tokio::test]
async fn with_several_keys_plugged_in_the_one_touched_is_enrolled_and_cancel_stops_them_all() {
    let hub = start_hub(1, RatePolicy { burst: 100, per_minute: 0 }).await;
    // Two keys flash; the clinician touches the second. The first is not
    // touched: it times out.
    let (untouched, touched) = (Person::touches(), Person::touches());
    let keys = vec![
        over_usb(soft_key(true, &untouched), Some("1111")),
        over_usb(soft_key(true, &touched), Some("2468")),
    ];
    untouched.then(UpResult::Timeout);
    let mut chosen = touched_key(keys, &CancelHandle::default()).unwrap();
    // The touched key's PIN opens it (the other's would not): it is that one.
    chosen.enter_pin("2468");
    let (user, _) = enrol(&hub, &mut chosen).await;
    assert!(sign_in(&hub, &mut chosen, &user, &random_bytes::<32>()).await.is_ok());

    // Nobody touches either: no key is chosen.
    let keys = vec![over_usb(soft_key(true, &untouched), None), over_usb(soft_key(true, &untouched), None)];
    assert_eq!(touched_key(keys, &CancelHandle::default()).unwrap_err(), KeyError::Cancelled);

    // Cancel on the screen while both flash: both stop, none is chosen,
    // and the cancel holds for what would follow.
    let cancel = CancelHandle::default();
    let on_wait = Arc::new(Mutex::new(Some(cancel.clone())));
    let keys = vec![flashing_key(&touched, &on_wait, true), flashing_key(&touched, &on_wait, true)];
    assert_eq!(touched_key(keys, &cancel).unwrap_err(), KeyError::Cancelled);
}

#[tokio::test]
async fn the_key_holding_the_credential_is_found_without_a_pin_or_a_touch() {
    let hub = start_hub(1, RatePolicy { burst: 20, per_minute: 0 }).await;
    let person = Person::touches();
    let mut mine = over_usb(soft_key(true, &person), Some("2468"));
    mine.enter_pin("2468");
    let (_, passkey) = enrol(&hub, &mut mine).await;
    let rp_id = hub.state.config.webauthn.rp_id.clone();
    let ids = [passkey.cred_id().to_vec()];

    // Nobody touches anything and no PIN is typed: the check must not need
    // either (a refused touch would fail it).
    person.then(UpResult::Denied);
    let mut colleague = over_usb(soft_key(true, &person), Some("1357"));
    assert!(mine.holds(&rp_id, &ids));
    assert!(!colleague.holds(&rp_id, &ids));
    assert!(!mine.holds("another.example", &ids), "scoped to the relying party");
    // The colleague's key lost no PIN try: its own PIN still works at once,
    // and a wrong one starts from the full count.
    person.then(UpResult::Accepted);
    colleague.enter_pin("0000");
    let code = invite(&hub.state, Role::Gp);
    let options = enrol_start(&hub.client, &hub.url, &code).await.unwrap().options;
    assert_eq!(
        colleague.register(&origin(&hub.state), options).unwrap_err(),
        KeyError::PinWrong { retries_left: Some(7) },
        "8 tries on a new key, one used just now, none by the check"
    );
}

/// The whole clinician path through `Workstation` with a hardware key:
/// enrol at the real hub, approved by the admin, lock, unlock online, lock,
/// unlock offline — the same KEK each time, from the key's hmac-secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gp_enrols_and_unlocks_online_and_offline_through_the_workstation_with_a_usb_key() {
    use sealbox_core::vault::Keyring;
    use sealbox_core::workstation::{Verified, Workstation};

    let hub = start_hub(1, RatePolicy { burst: 1000, per_minute: 0 }).await;
    let now = hub.state.now();
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let person = Person::touches();
    let mut key = over_usb(soft_key(true, &person), Some("2468"));
    key.enter_pin("2468");
    let support::desks::Enrolled { mut ws, mut key, admin, admin_key } =
        support::desks::enrol_approved_with(&hub, &keyring, dirs.path(), Role::Gp, key).await;
    assert!(!ws.profile().unwrap().demo_key, "a hardware key is not the demo key");

    let desk = ws.unlock(&mut key, now).await.unwrap();
    assert_eq!(desk.verified(), Verified::Online);
    desk.lock("idle", now).await.unwrap();

    key.enter_pin("9999");
    assert!(ws.unlock(&mut key, now).await.is_err(), "a wrong PIN opens nothing");
    key.enter_pin("2468");
    hub.running.stop().await.unwrap();
    let mut ws = Workstation::open(dirs.path().join("gp"), keyring.clone()).unwrap();
    let desk = ws.unlock(&mut key, now).await.unwrap();
    assert_eq!(desk.verified(), Verified::Offline);
    desk.lock("done", now).await.unwrap();
    support::desks::Enrolled { ws, key, admin, admin_key }.wipe(&keyring);
}

/// A shared workstation with USB keys of an authenticator we did not
/// write: a GP and a pharmacist, each with a soft-fido2 key of their own,
/// verified by the hub's real webauthn-rs. The key plugged in picks the
/// seat (asked without a PIN or a touch), each opens only their own pools,
/// and one clinician's key does not open the other's seat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gp_and_a_pharmacist_share_a_workstation_each_with_their_own_usb_key() {
    use sealbox_core::vault::Keyring;
    use sealbox_core::workstation::room::Room;
    use sealbox_model::category::Category;
    use sealbox_model::ids::ThreadId;

    let hub = start_hub(1, RatePolicy { burst: 1000, per_minute: 0 }).await;
    let now = hub.state.now();
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let person = Person::touches();
    let mut gp_key = over_usb(soft_key(true, &person), Some("2468"));
    gp_key.enter_pin("2468");
    let mut gp = support::desks::enrol_approved_with(&hub, &keyring, dirs.path(), Role::Gp, gp_key).await;
    let mut room = Room::open(gp.ws.dir().to_path_buf(), keyring.clone()).unwrap();
    let mut pharmacist_key = over_usb(soft_key(true, &person), Some("1357"));
    pharmacist_key.enter_pin("1357");
    let code = invite(&hub.state, Role::Pharmacist);
    let desk = room.enrol(&hub.url, &code, "Room 4 PC", &mut pharmacist_key, now).await.unwrap();
    gp.approve(&hub, &desk).await;
    let pharmacist = desk.profile().user_id.clone();
    desk.lock("enrolled", now).await.unwrap();

    let (question, refill) = (8_300u64, 8_310u64);
    let sent = [
        support::request(0, question, Category::ClinicalQuestion, "A lump in my neck for three weeks", &[]),
        support::request(
            0,
            refill,
            Category::RepeatPrescription,
            "My usual please",
            &["Amlodipine 5mg tablets"],
        ),
    ];
    sealbox_sim::send::send(
        &hub.client,
        &hub.url,
        &hub.patients(),
        &sent,
        sealbox_sim::SendOptions::default(),
    )
    .await
    .unwrap();

    // Each key is asked, silently, whether it holds a seat's credential.
    assert_eq!(room.seat_of(&mut pharmacist_key), Some(1));
    assert_eq!(room.seat_of(&mut gp.key), Some(0));

    let (seat, desk) = room.unlock(&mut pharmacist_key, now).await.unwrap();
    assert_eq!((seat, desk.profile().role), (1, Role::Pharmacist));
    desk.engine().unwrap().pull(&desk.store(), now).await.unwrap();
    assert!(desk.open_thread(ThreadId(refill), now).unwrap().is_some());
    assert!(
        desk.open_thread(ThreadId(question), now).unwrap().is_none(),
        "a pharmacist reads a clinical question"
    );
    desk.lock("switch", now).await.unwrap();

    gp.key.enter_pin("2468");
    let (seat, desk) = room.unlock(&mut gp.key, now).await.unwrap();
    assert_eq!((seat, desk.profile().role), (0, Role::Gp));
    desk.engine().unwrap().pull(&desk.store(), now).await.unwrap();
    assert!(desk.open_thread(ThreadId(question), now).unwrap().is_some());
    let gp_user = desk.profile().user_id.clone();
    desk.lock("done", now).await.unwrap();

    // The pharmacist's key, with its right PIN, in the GP's seat: refused
    // by the ceremony (the key holds no credential the seat allows).
    pharmacist_key.enter_pin("1357");
    assert!(room.unlock_seat_of_user(&gp_user, &mut pharmacist_key, now).await.is_err());

    room.remove(&pharmacist).unwrap();
    gp.wipe(&keyring);
}
