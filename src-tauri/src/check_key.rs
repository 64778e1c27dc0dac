//! `sealbox --check-key`: for practice IT checking a batch of keys before
//! handing them out. Lists the FIDO2 keys plugged in, what each supports,
//! and asks for one test touch on each.

// A command-line report for practice IT: it prints what keys say about
// themselves, never anything of a patient or a clinician.
#![allow(clippy::print_stdout)]

/// Prints the report; the exit code is 0 only if every key is fit for
/// Sealbox (hmac-secret, a PIN set) and was touched.
#[cfg(not(target_os = "windows"))]
pub fn check_keys() -> i32 {
    let mut keys = match sealbox_core::key::usb::keys_present() {
        Ok(keys) => keys,
        Err(e) => {
            eprintln!("sealbox: {e}");
            return 2;
        }
    };
    if keys.is_empty() {
        println!("No FIDO2 security key found (on Linux, see docs/hardware-keys.md for the udev rule).");
        return 1;
    }
    let mut all_fit = true;
    for (n, key) in keys.iter_mut().enumerate() {
        let d = key.describe();
        println!("Key {}: CTAP {}", n + 1, d.versions.join(", "));
        println!(
            "  hmac-secret: {}",
            if d.hmac_secret { "yes" } else { "NO (only the weaker mode, if the practice allows it)" }
        );
        match (d.pin_set, d.pin_retries) {
            (Some(true), Some(left)) => println!("  PIN: set, {left} tries left"),
            (Some(true), None) => println!("  PIN: set"),
            (Some(false), _) => println!("  PIN: NOT SET (set one before enrolling)"),
            (None, _) => println!("  PIN: not supported"),
        }
        println!("  Touch the key now (it is flashing)…");
        let touched = key.test_touch();
        println!("  touch: {}", if touched { "ok" } else { "not touched" });
        all_fit &= d.hmac_secret && d.pin_set == Some(true) && touched;
    }
    if all_fit {
        0
    } else {
        1
    }
}

/// Windows: the hardware transport there (WebAuthn API) is not built yet.
#[cfg(target_os = "windows")]
pub fn check_keys() -> i32 {
    eprintln!("sealbox: checking keys is not available on Windows yet");
    2
}
