//! The practice's security policy, set at the hub (`sealbox-hub policy`)
//! and served to every workstation (`GET /v1/practice/policy`, and with an
//! enrolment challenge): the longest idle lock it allows, how often a full
//! re-authentication with the security key is required, and whether a key
//! without hmac-secret may be used in the weaker keyring mode.

use serde::{Deserialize, Serialize};

/// The practice's rules for its workstations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PracticePolicy {
    /// The longest idle lock a clinician may choose, in seconds
    /// ([`PracticePolicy::IDLE_SECS`]).
    pub max_idle_secs: u32,
    /// A full re-authentication at least this often, in seconds
    /// ([`PracticePolicy::REAUTH_SECS`]).
    pub reauth_secs: u32,
    /// Keys without hmac-secret may enrol and unlock in the weaker keyring
    /// mode (the data key's wrapping key kept in the OS keyring).
    pub allow_weaker_keys: bool,
    /// The longest a workstation may go on unlocking offline since its
    /// last unlock verified by the hub, in seconds
    /// ([`PracticePolicy::OFFLINE_SECS`]): a revoked device stops opening
    /// at most this long after the hub last saw it.
    #[serde(default = "PracticePolicy::default_offline_secs")]
    pub max_offline_secs: u32,
    /// The demo's software key ([`DEMO_KEY_AAGUID`]) may enrol and unlock.
    /// Its secrets live in the OS keyring, sealed only by its PIN: for a
    /// demo or a test practice, never for patients. Off unless set.
    #[serde(default)]
    pub allow_demo_keys: bool,
    /// With a USB security key, pulling it out locks the workstation at
    /// once (the OS's device-removal event), as a smartcard does. Off
    /// unless set: a practice whose keys stay in the machine all day would
    /// otherwise lock every time a colleague borrows a port.
    #[serde(default)]
    pub lock_on_key_removal: bool,
    /// The patient web app signs itself out after this long without input,
    /// in seconds ([`PracticePolicy::PATIENT_SIGN_OUT_SECS`]; 15 minutes
    /// unless the practice wants it sooner).
    #[serde(default = "PracticePolicy::default_patient_sign_out_secs")]
    pub patient_sign_out_secs: u32,
}

/// What a patient's browser is told of the practice's policy
/// (`GET /v1/patient/policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PatientPolicy {
    /// Sign out after this long without input, in seconds.
    pub sign_out_secs: u32,
}

impl PatientPolicy {
    /// How long the page stays open untouched, in milliseconds: the
    /// practice's limit, or sooner when the page's address asks
    /// (`asked_secs`; never later). Bounded to 15 minutes whatever the
    /// hub says.
    pub fn sign_out_ms(policy: Option<PatientPolicy>, asked_secs: Option<u32>) -> u32 {
        let most = *PracticePolicy::PATIENT_SIGN_OUT_SECS.end();
        let practice = policy.map_or(most, |p| p.sign_out_secs.clamp(1, most));
        let secs = asked_secs.filter(|s| *s > 0).map_or(practice, |s| s.min(practice));
        secs.saturating_mul(1000)
    }
}

/// The AAGUID Sealbox's demo software key puts in its authenticator data.
/// The hub refuses a credential that carries it unless the practice allows
/// demo keys. (An AAGUID is the authenticator's own claim: this stops a
/// practice deploying the demo key by mistake, not a forged authenticator;
/// attested enrolment, with a list of trusted key makers, stops those.)
pub const DEMO_KEY_AAGUID: [u8; 16] = *b"sealbox-softkey1";

/// A policy outside the bounds every practice must keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The idle maximum is outside 30 s ..= 15 min.
    #[error("the idle lock maximum must be between 30 and 900 seconds")]
    Idle,
    /// The re-authentication interval is outside 30 s ..= 12 h.
    #[error("re-authentication must be required at least every 12 hours (30 to 43200 seconds)")]
    Reauth,
    /// The offline allowance is outside 1 h ..= 14 days.
    #[error("offline unlocks may be allowed for 1 hour to 14 days (3600 to 1209600 seconds)")]
    Offline,
    /// The patient web app's sign-out is outside 1 ..= 15 min.
    #[error("the patient web app must sign out after 1 to 15 minutes (60 to 900 seconds)")]
    PatientSignOut,
}

impl PracticePolicy {
    /// The idle lock maximum's bounds, in seconds (15 minutes at most).
    pub const IDLE_SECS: std::ops::RangeInclusive<u32> = 30..=900;
    /// The re-authentication interval's bounds, in seconds (12 hours at most).
    pub const REAUTH_SECS: std::ops::RangeInclusive<u32> = 30..=43_200;
    /// The offline allowance's bounds, in seconds (1 hour to 14 days).
    pub const OFFLINE_SECS: std::ops::RangeInclusive<u32> = 3_600..=1_209_600;
    /// The patient web app's sign-out bounds, in seconds (15 minutes at most).
    pub const PATIENT_SIGN_OUT_SECS: std::ops::RangeInclusive<u32> = 60..=900;

    /// 15 minutes.
    pub const fn default_patient_sign_out_secs() -> u32 {
        900
    }

    /// 72 hours: a long weekend without the hub.
    pub const fn default_offline_secs() -> u32 {
        259_200
    }

    /// Checks the bounds.
    pub fn validate(self) -> Result<Self, PolicyError> {
        if !Self::IDLE_SECS.contains(&self.max_idle_secs) {
            return Err(PolicyError::Idle);
        }
        if !Self::REAUTH_SECS.contains(&self.reauth_secs) {
            return Err(PolicyError::Reauth);
        }
        if !Self::OFFLINE_SECS.contains(&self.max_offline_secs) {
            return Err(PolicyError::Offline);
        }
        if !Self::PATIENT_SIGN_OUT_SECS.contains(&self.patient_sign_out_secs) {
            return Err(PolicyError::PatientSignOut);
        }
        Ok(self)
    }
}

impl Default for PracticePolicy {
    /// What a practice has until it says otherwise: 15 minutes, 12 hours,
    /// hmac-secret required, 72 hours offline, no demo keys, no lock on a
    /// pulled key.
    fn default() -> Self {
        PracticePolicy {
            max_idle_secs: 900,
            reauth_secs: 43_200,
            allow_weaker_keys: false,
            max_offline_secs: Self::default_offline_secs(),
            allow_demo_keys: false,
            lock_on_key_removal: false,
            patient_sign_out_secs: Self::default_patient_sign_out_secs(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_hold_at_their_edges() {
        let p = PracticePolicy::default();
        assert_eq!(p.validate(), Ok(p));
        let at = |idle, reauth| PracticePolicy { max_idle_secs: idle, reauth_secs: reauth, ..p }.validate();
        assert!(at(30, 30).is_ok());
        assert_eq!(at(29, 60), Err(PolicyError::Idle));
        assert_eq!(at(901, 60), Err(PolicyError::Idle));
        assert_eq!(at(300, 29), Err(PolicyError::Reauth));
        assert_eq!(at(300, 43_201), Err(PolicyError::Reauth));
        let offline = |secs| PracticePolicy { max_offline_secs: secs, ..p }.validate();
        assert!(offline(3_600).is_ok() && offline(1_209_600).is_ok());
        assert_eq!(offline(3_599), Err(PolicyError::Offline));
        assert_eq!(offline(1_209_601), Err(PolicyError::Offline));
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            r#"{"max_idle_secs":900,"reauth_secs":43200,"allow_weaker_keys":false,"max_offline_secs":259200,"allow_demo_keys":false,"lock_on_key_removal":false,"patient_sign_out_secs":900}"#
        );
        // A policy kept before the offline allowance existed reads with the default.
        let old: PracticePolicy =
            serde_json::from_str(r#"{"max_idle_secs":900,"reauth_secs":43200,"allow_weaker_keys":false}"#)
                .unwrap();
        assert_eq!(old, p);
        // Demo keys are refused, and a pulled key does not lock, unless a
        // practice says otherwise.
        assert!(!old.allow_demo_keys && !old.lock_on_key_removal);
        assert!(serde_json::from_str::<PracticePolicy>(r#"{"max_idle_secs":900}"#).is_err());
        let patients = |secs| PracticePolicy { patient_sign_out_secs: secs, ..p }.validate();
        assert!(patients(60).is_ok() && patients(900).is_ok());
        assert_eq!(patients(59), Err(PolicyError::PatientSignOut));
        assert_eq!(patients(901), Err(PolicyError::PatientSignOut));
    }

    #[test]
    fn the_patient_page_signs_out_at_the_practice_limit_or_sooner_never_later() {
        let policy = |secs| Some(PatientPolicy { sign_out_secs: secs });
        assert_eq!(PatientPolicy::sign_out_ms(None, None), 900_000);
        assert_eq!(PatientPolicy::sign_out_ms(policy(300), None), 300_000);
        assert_eq!(PatientPolicy::sign_out_ms(policy(300), Some(3)), 3_000, "the address may shorten it");
        assert_eq!(PatientPolicy::sign_out_ms(policy(300), Some(600)), 300_000, "never lengthen it");
        assert_eq!(PatientPolicy::sign_out_ms(None, Some(0)), 900_000);
        assert_eq!(
            PatientPolicy::sign_out_ms(policy(86_400), None),
            900_000,
            "a hub cannot lengthen it either"
        );
    }
}
