//! A patient's invite (issue 25): the practice gives the patient a one-time
//! code (a link or a QR code on a letter). From the code both sides derive,
//! and the hub never holds the code itself:
//!
//! - the **lookup**: what the hub stores, and the patient's browser sends,
//!   to find the invite;
//! - the **identity key**: the practice tags the patient's name and date of
//!   birth (NHS number if given) from its records with it when it issues the
//!   invite, and the patient's browser tags what the patient types. The hub
//!   stores the practice's tag and compares the two; holding neither the
//!   code nor the key, it (or a copy of its database) cannot test guesses
//!   of who the patient is.
//!
//! Nothing here implements `Debug` with content.

use hkdf::Hkdf;
use sealbox_model::jiff::civil::Date;
use sealbox_model::nhs_number::NhsNumber;
use sha2::Sha256;
use zeroize::Zeroizing;

const SALT: &[u8] = b"sealbox patient invite v1";
const LOOKUP_INFO: &[u8] = b"lookup";
const IDENTITY_INFO: &[u8] = b"identity";
const TAG_INFO: &[u8] = b"sealbox patient identity v1\0";

/// A code that is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InviteError {
    /// Not 32 hexadecimal digits (dashes and spaces aside).
    #[error("that is not an invite code: it has 32 letters and digits, in four groups")]
    Code,
    /// The date of birth is not a date.
    #[error("the date of birth must be a date, like 1984-07-19 or 19/07/1984")]
    DateOfBirth,
    /// The name has no letters.
    #[error("the name must have letters in it")]
    Name,
    /// The NHS number is not a valid one.
    #[error("that is not a valid NHS number")]
    NhsNumber,
}

/// The one-time code of a patient's invite.
pub struct InviteCode(Zeroizing<[u8; 16]>);

impl std::fmt::Debug for InviteCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InviteCode(<redacted>)")
    }
}

impl InviteCode {
    /// A fresh code from the OS's random source.
    pub fn generate() -> Self {
        InviteCode(Zeroizing::new(crate::secret::random_bytes::<16>()))
    }

    /// A typed or linked code (case, spaces and dashes ignored).
    pub fn parse(text: &str) -> Result<Self, InviteError> {
        let hex: Zeroizing<String> = Zeroizing::new(
            text.chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .map(|c| c.to_ascii_lowercase())
                .collect(),
        );
        if hex.len() != 32 {
            return Err(InviteError::Code);
        }
        let mut out = Zeroizing::new([0u8; 16]);
        for (i, byte) in out.iter_mut().enumerate() {
            let pair = hex.get(i * 2..i * 2 + 2).ok_or(InviteError::Code)?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| InviteError::Code)?;
        }
        Ok(InviteCode(out))
    }

    /// The code as printed and linked: four groups of eight hex digits.
    pub fn text(&self) -> Zeroizing<String> {
        let hex: String = self.0.iter().map(|b| format!("{b:02x}")).collect();
        let groups: Vec<&str> = (0..4).filter_map(|i| hex.get(i * 8..i * 8 + 8)).collect();
        Zeroizing::new(groups.join("-"))
    }

    fn derive(&self, info: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        // 32 bytes is within HKDF-SHA256's output limit: expand cannot fail.
        let _ = Hkdf::<Sha256>::new(Some(SALT), self.0.as_slice()).expand(info, out.as_mut_slice());
        out
    }

    /// What the hub stores and is sent to find the invite.
    pub fn lookup(&self) -> [u8; 32] {
        *self.derive(LOOKUP_INFO)
    }

    /// The tag of `identity` under this invite's identity key.
    pub fn tag(&self, identity: &PatientIdentity) -> [u8; 32] {
        let key = self.derive(IDENTITY_INFO);
        let mut info = Zeroizing::new(TAG_INFO.to_vec());
        info.extend_from_slice(identity.0.as_bytes());
        let mut out = [0u8; 32];
        // As above: a 32-byte output always expands.
        if let Ok(prf) = Hkdf::<Sha256>::from_prk(key.as_slice()) {
            let _ = prf.expand(&info, &mut out);
        }
        out
    }
}

/// The link the practice gives a patient:
/// `<hub>/patient/#join=<code>&practice=<id>&key=<practice key, hex>`.
/// Everything rides in the fragment, which browsers never send to the hub.
/// The practice key comes from the practice (on paper, in a text), not
/// from the hub: the browser checks every pool key against it.
pub struct InviteLink {
    /// The one-time code.
    pub code: InviteCode,
    /// The practice (bound into every envelope).
    pub practice: String,
    /// The practice's Ed25519 key.
    pub practice_key: ed25519_dalek::VerifyingKey,
}

impl std::fmt::Debug for InviteLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InviteLink(<redacted>)")
    }
}

impl InviteLink {
    /// The whole link for the hub at `base` (`https://hub.example`).
    pub fn url(&self, base: &str) -> Zeroizing<String> {
        let mut key = String::with_capacity(64);
        for b in self.practice_key.as_bytes() {
            key.push_str(&format!("{b:02x}"));
        }
        Zeroizing::new(format!(
            "{}/patient/#join={}&practice={}&key={key}",
            base.trim_end_matches('/'),
            self.code.text().as_str(),
            escape(&self.practice)
        ))
    }

    /// Reads a link's fragment (without its `#`); `None` when it is not a
    /// whole invite.
    pub fn parse_fragment(fragment: &str) -> Option<InviteLink> {
        let (mut code, mut practice, mut key) = (None, None, None);
        for pair in fragment.split('&') {
            match pair.split_once('=') {
                Some(("join", v)) => code = InviteCode::parse(v).ok(),
                Some(("practice", v)) => practice = unescape(v).filter(|p| !p.is_empty()),
                Some(("key", v)) => {
                    key = hex32(v).and_then(|k| ed25519_dalek::VerifyingKey::from_bytes(&k).ok())
                }
                _ => {}
            }
        }
        Some(InviteLink { code: code?, practice: practice?, practice_key: key? })
    }
}

/// A QR code's modules, dark or light, row by row, with its width.
pub struct QrImage {
    width: usize,
    dark: Vec<bool>,
}

/// The link does not fit a QR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the invite link is too long for a QR code")]
pub struct QrError;

/// Light modules around the code, as the standard asks.
const QUIET: usize = 4;

impl InviteLink {
    /// The whole link (for the hub at `base`) as a QR code, to print on
    /// the patient's letter: the code in it is the invite, so it is made
    /// and shown on the practice's side only.
    pub fn qr(&self, base: &str) -> Result<QrImage, QrError> {
        let code = qrcode::QrCode::with_error_correction_level(self.url(base).as_bytes(), qrcode::EcLevel::M)
            .map_err(|_| QrError)?;
        let dark = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
        Ok(QrImage { width: code.width(), dark })
    }
}

impl QrImage {
    fn is_dark(&self, x: usize, y: usize) -> bool {
        let (Some(x), Some(y)) = (x.checked_sub(QUIET), y.checked_sub(QUIET)) else { return false };
        x < self.width && y < self.width && self.dark.get(y * self.width + x).copied().unwrap_or(false)
    }

    fn side(&self) -> usize {
        self.width + 2 * QUIET
    }

    /// As SVG, one square per dark module.
    pub fn to_svg(&self) -> String {
        let side = self.side();
        let mut path = String::new();
        for y in 0..side {
            for x in 0..side {
                if self.is_dark(x, y) {
                    path.push_str(&format!("M{x} {y}h1v1h-1z"));
                }
            }
        }
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
             <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>"
        )
    }

    /// As a plain PBM image, `scale` pixels a module (for a decoder).
    pub fn to_pbm(&self, scale: usize) -> String {
        let pixels = self.side() * scale;
        let mut out = format!("P1\n{pixels} {pixels}\n");
        for y in 0..pixels {
            let row: Vec<&str> =
                (0..pixels).map(|x| if self.is_dark(x / scale, y / scale) { "1" } else { "0" }).collect();
            out.push_str(&row.join(" "));
            out.push('\n');
        }
        out
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn unescape(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn hex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Who the patient says they are, normalised so the practice's record and
/// what the patient types agree: the name's letters in lower case, words
/// separated by one space ("O'Neil-Smith" and "o neil smith" agree); the
/// date of birth as a date; the NHS number's ten digits, if given.
pub struct PatientIdentity(Zeroizing<String>);

impl std::fmt::Debug for PatientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PatientIdentity(<redacted>)")
    }
}

impl PatientIdentity {
    /// Normalises `name`, `date_of_birth` (`1984-07-19` or `19/07/1984`)
    /// and an optional `nhs_number`.
    pub fn new(name: &str, date_of_birth: &str, nhs_number: Option<&str>) -> Result<Self, InviteError> {
        let mut words: Vec<String> = Vec::new();
        let mut word = String::new();
        for c in name.chars() {
            if c.is_alphabetic() {
                word.extend(c.to_lowercase());
            } else if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
        if words.is_empty() {
            return Err(InviteError::Name);
        }
        let dob = parse_date_of_birth(date_of_birth).ok_or(InviteError::DateOfBirth)?;
        let nhs = match nhs_number.map(str::trim).filter(|s| !s.is_empty()) {
            Some(n) => NhsNumber::parse(n).map_err(|_| InviteError::NhsNumber)?.reveal().to_owned(),
            None => String::new(),
        };
        Ok(PatientIdentity(Zeroizing::new(format!("{}\n{dob}\n{nhs}", words.join(" ")))))
    }
}

/// A date of birth as a patient or the practice types it: `1984-07-19` or
/// `19/07/1984`.
pub fn parse_date_of_birth(text: &str) -> Option<Date> {
    let text = text.trim();
    if let Ok(d) = text.parse::<Date>() {
        return Some(d);
    }
    let mut parts = text.split('/');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_practice_and_the_patient_agree_on_the_tag_only_for_the_same_person_and_code() {
        let code = InviteCode::generate();
        let typed = InviteCode::parse(&code.text().to_uppercase().replace('-', " ")).unwrap();
        assert_eq!(code.lookup(), typed.lookup(), "the linked code and the typed one are one code");
        let record =
            PatientIdentity::new("Harriet O'Neil-Smith", "1984-07-19", Some("943 476 5919")).unwrap();
        let typed_id =
            PatientIdentity::new("  harriet o neil smith ", "19/07/1984", Some("9434765919")).unwrap();
        assert_eq!(code.tag(&record), typed.tag(&typed_id));
        let other_day =
            PatientIdentity::new("Harriet O'Neil-Smith", "1984-07-18", Some("9434765919")).unwrap();
        assert_ne!(code.tag(&record), code.tag(&other_day));
        let no_nhs = PatientIdentity::new("Harriet O'Neil-Smith", "1984-07-19", None).unwrap();
        assert_ne!(code.tag(&record), code.tag(&no_nhs), "the NHS number, when the practice gave it, counts");
        let other_code = InviteCode::generate();
        assert_ne!(code.tag(&record), other_code.tag(&record), "the tag is the invite's own");
        assert_ne!(code.lookup(), other_code.lookup());
        assert_ne!(code.lookup(), code.tag(&record), "lookup and tag are separate keys' work");
    }

    #[test]
    fn an_invite_link_reads_back_whole_and_a_broken_one_is_not_an_invite() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
        let link = InviteLink {
            code: InviteCode::generate(),
            practice: "Riverside & Co/1".to_owned(),
            practice_key: key,
        };
        let url = link.url("https://hub.example/");
        let fragment = url.split_once('#').unwrap().1;
        assert!(url.starts_with("https://hub.example/patient/#join="), "{}", url.as_str());
        let back = InviteLink::parse_fragment(fragment).unwrap();
        assert_eq!(back.practice, "Riverside & Co/1");
        assert_eq!(back.practice_key, key);
        assert_eq!(back.code.lookup(), link.code.lookup());
        // Each part is needed; a damaged key or escape is not an invite.
        for drop in ["join=", "practice=", "key="] {
            let without: Vec<&str> = fragment.split('&').filter(|p| !p.starts_with(drop)).collect();
            assert!(InviteLink::parse_fragment(&without.join("&")).is_none(), "{drop}");
        }
        assert!(InviteLink::parse_fragment(&fragment.replace("key=", "key=0")).is_none());
        assert!(InviteLink::parse_fragment(&fragment.replace("%26", "%2")).is_none());
        assert_eq!(format!("{back:?}"), "InviteLink(<redacted>)");
    }

    #[test]
    fn bad_codes_dates_names_and_nhs_numbers_are_refused_and_nothing_prints() {
        assert_eq!(InviteCode::parse("1234").unwrap_err(), InviteError::Code);
        assert_eq!(InviteCode::parse(&"g".repeat(32)).unwrap_err(), InviteError::Code);
        assert_eq!(PatientIdentity::new("Ann", "1984-02-30", None).unwrap_err(), InviteError::DateOfBirth);
        assert_eq!(PatientIdentity::new("Ann", "30/02/84", None).unwrap_err(), InviteError::DateOfBirth);
        assert_eq!(PatientIdentity::new("- '", "1984-02-03", None).unwrap_err(), InviteError::Name);
        assert_eq!(
            PatientIdentity::new("Ann", "1984-02-03", Some("1234567890")).unwrap_err(),
            InviteError::NhsNumber
        );
        let code = InviteCode::generate();
        let id = PatientIdentity::new("Harriet Example", "1984-07-19", None).unwrap();
        let shown = format!("{code:?} {id:?}");
        assert!(
            !shown.contains(&code.text()[..8]) && !shown.contains("harriet") && !shown.contains("1984"),
            "{shown}"
        );
    }
}
