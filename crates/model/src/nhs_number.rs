//! NHS numbers: ten digits, the last a modulus-11 check digit.
//!
//! Rule (NHS Data Dictionary, "NHS Number"): multiply the first nine digits by
//! 10, 9, ..., 2, sum, take the remainder modulo 11 and subtract it from 11.
//! A result of 11 means a check digit of 0; a result of 10 means the number is
//! invalid.

use serde::{Deserialize, Deserializer, Serialize};

use crate::redact::redacted_fmt;

/// Why a string is not a valid NHS number. Never contains the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NhsNumberError {
    /// Not exactly ten digits once spaces and dashes are removed.
    #[error("an NHS number has exactly 10 digits")]
    WrongLength,
    /// Something other than digits, spaces or dashes.
    #[error("an NHS number contains only digits (spaces and dashes allowed)")]
    NotDigits,
    /// The modulus-11 computation gives 10, which no valid number has.
    #[error("not a valid NHS number (check digit would be 10)")]
    CheckDigitTen,
    /// The last digit does not match the modulus-11 check digit.
    #[error("not a valid NHS number (check digit does not match)")]
    CheckDigitMismatch,
}

/// A validated NHS number. Patient-identifying: redacted in `Debug`/`Display`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct NhsNumber(String);

redacted_fmt!(NhsNumber);

impl NhsNumber {
    /// Parses "9434765919", "943 476 5919" or "943-476-5919".
    pub fn parse(input: &str) -> Result<Self, NhsNumberError> {
        let mut digits = [0u8; 10];
        let mut count = 0usize;
        for ch in input.trim().chars() {
            match ch {
                ' ' | '-' => {}
                '0'..='9' => {
                    if count == 10 {
                        return Err(NhsNumberError::WrongLength);
                    }
                    digits[count] = ch as u8 - b'0';
                    count += 1;
                }
                _ => return Err(NhsNumberError::NotDigits),
            }
        }
        if count != 10 {
            return Err(NhsNumberError::WrongLength);
        }
        let expected = check_digit(&digits)?;
        if expected != digits[9] {
            return Err(NhsNumberError::CheckDigitMismatch);
        }
        Ok(NhsNumber(digits.iter().map(|d| char::from(b'0' + d)).collect()))
    }

    /// The ten digits, for display to an authorised clinician.
    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// The conventional 3-3-4 grouping ("943 476 5919"), for display.
    pub fn reveal_formatted(&self) -> String {
        let s = &self.0;
        format!("{} {} {}", &s[0..3], &s[3..6], &s[6..10])
    }
}

/// The modulus-11 check digit of the first nine digits.
pub fn check_digit(digits: &[u8; 10]) -> Result<u8, NhsNumberError> {
    let sum: u32 = digits[..9].iter().zip((2..=10u32).rev()).map(|(d, w)| u32::from(*d) * w).sum();
    match 11 - (sum % 11) {
        11 => Ok(0),
        10 => Err(NhsNumberError::CheckDigitTen),
        d => Ok(d as u8),
    }
}

impl<'de> Deserialize<'de> for NhsNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        NhsNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_known_valid_numbers_in_common_formats() {
        for s in ["9434765919", "943 476 5919", "943-476-5919", "4010232137", "9990000018"] {
            assert!(NhsNumber::parse(s).is_ok(), "{s} should be valid");
        }
        assert_eq!(NhsNumber::parse("943 476 5919").unwrap().reveal(), "9434765919");
        assert_eq!(NhsNumber::parse("9434765919").unwrap().reveal_formatted(), "943 476 5919");
    }

    #[test]
    fn rejects_bad_check_digits_lengths_and_characters() {
        assert_eq!(NhsNumber::parse("9434765918"), Err(NhsNumberError::CheckDigitMismatch));
        assert_eq!(NhsNumber::parse("943476591"), Err(NhsNumberError::WrongLength));
        assert_eq!(NhsNumber::parse("94347659190"), Err(NhsNumberError::WrongLength));
        assert_eq!(NhsNumber::parse("94347a5919"), Err(NhsNumberError::NotDigits));
        // Find a number whose modulus-11 computation gives 10: no check digit fits.
        let ten = (0..100_000u32)
            .map(|n| {
                let s = format!("{:09}0", 100_000_000 + n);
                let mut d = [0u8; 10];
                for (i, c) in s.bytes().enumerate() {
                    d[i] = c - b'0';
                }
                (s, d)
            })
            .find(|(_, d)| check_digit(d) == Err(NhsNumberError::CheckDigitTen))
            .map(|(s, _)| s)
            .unwrap();
        assert_eq!(NhsNumber::parse(&ten), Err(NhsNumberError::CheckDigitTen));
    }

    #[test]
    fn every_single_digit_change_is_caught() {
        let good = "9434765919";
        for pos in 0..10 {
            for digit in b'0'..=b'9' {
                let mut bytes = good.as_bytes().to_vec();
                if bytes[pos] == digit {
                    continue;
                }
                bytes[pos] = digit;
                let s = String::from_utf8(bytes).unwrap();
                assert!(NhsNumber::parse(&s).is_err(), "{s} should be rejected");
            }
        }
    }

    #[test]
    fn debug_display_and_errors_do_not_leak_the_number() {
        let n = NhsNumber::parse("9434765919").unwrap();
        assert!(!format!("{n:?}").contains("943"));
        assert!(!format!("{n}").contains("943"));
        assert_eq!(format!("{n}"), "<redacted>");
        let err = NhsNumber::parse("9434765918").unwrap_err();
        assert!(!err.to_string().contains("943"));
    }

    #[test]
    fn deserialising_validates() {
        assert!(serde_json::from_str::<NhsNumber>("\"9434765919\"").is_ok());
        assert!(serde_json::from_str::<NhsNumber>("\"9434765918\"").is_err());
    }
}
