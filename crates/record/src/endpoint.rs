//! The practice's FHIR endpoint (issue 27 points 2, 3 and 5, the library
//! part): SMART Backend Services sign-in with a key of the workstation's
//! own, the transaction Bundle posted, the patient looked up by NHS
//! number. Every failure is a [`SaveError`] in plain words that never
//! quotes the record: a server's OperationOutcome is reduced to its issue
//! codes and element paths.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use rand::RngCore;
use sealbox_model::jiff::Timestamp;
use sealbox_model::nhs_number::NhsNumber;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::names;

/// What the workstation asks for (SMART v2): reading patients, creating
/// entries (a transaction is a create at the base, so `*`), nothing else.
pub const SCOPES: &str = "system/Patient.rs system/*.c";

/// Why a save or a look-up did not happen (log-safe: no patient data).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SaveError {
    /// Nothing answered at the endpoint.
    #[error("the practice's record system could not be reached; the save is kept to try again")]
    Unreachable,
    /// It answered too slowly.
    #[error("the practice's record system did not answer in time; the save is kept to try again")]
    Slow,
    /// Its sign-in refused this workstation's key.
    #[error("the practice's record system did not accept this workstation's key ({0}); ask practice IT to register it")]
    TokenRefused(String),
    /// It refused what was sent, with the issues it named.
    #[error("the practice's record system refused the save ({status}): {issues}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Its OperationOutcome's issues as `code at Element.path`.
        issues: String,
    },
    /// It answered something that is not FHIR.
    #[error("the practice's record system answered in a way Sealbox cannot read ({0})")]
    Protocol(&'static str),
}

/// The workstation's key for SMART Backend Services (ES256).
pub struct ClientKey {
    key: SigningKey,
}

impl ClientKey {
    /// A new key from the OS's randomness.
    pub fn generate() -> ClientKey {
        let mut seed = Zeroizing::new([0u8; 32]);
        loop {
            rand::rngs::OsRng.fill_bytes(seed.as_mut());
            // Fails only for a scalar out of range (probability ~2^-128).
            if let Ok(key) = SigningKey::from_slice(seed.as_ref()) {
                return ClientKey { key };
            }
        }
    }

    /// The key kept (its 32 secret bytes), or `None` if they are not one.
    pub fn from_bytes(bytes: &[u8]) -> Option<ClientKey> {
        SigningKey::from_slice(bytes).ok().map(|key| ClientKey { key })
    }

    /// Its secret bytes, to keep in the encrypted cache.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.key.to_bytes().to_vec())
    }

    /// The public key as a JWK, for practice IT to register with the
    /// record system (`kid`: its SHA-256 thumbprint, RFC 7638).
    pub fn public_jwk(&self) -> Value {
        let point = self.key.verifying_key().to_sec1_point(false);
        let bytes = point.as_bytes();
        let (x, y) = (URL_SAFE_NO_PAD.encode(&bytes[1..33]), URL_SAFE_NO_PAD.encode(&bytes[33..65]));
        let thumbprint = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(thumbprint.as_bytes()));
        json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "alg": "ES256", "use": "sig" })
    }

    /// The signed client assertion (a JWT) for one token request.
    pub fn assertion(&self, client_id: &str, token_url: &str, now: Timestamp) -> String {
        let mut jti = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut jti);
        let header = json!({ "alg": "ES256", "typ": "JWT", "kid": self.public_jwk()["kid"] });
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": token_url,
            "exp": now.as_second() + 240,
            "jti": URL_SAFE_NO_PAD.encode(jti),
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature: Signature = self.key.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

/// What a save did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// Entries the record system created.
    pub created: usize,
    /// Entries it already had (an earlier save of the same thread).
    pub existing: usize,
}

/// The patient the record holds for an NHS number. Patient data: no Debug.
pub enum Lookup {
    /// No patient with that number.
    Unknown,
    /// Exactly one: their name and date of birth as the record has them.
    One {
        /// Family name.
        family: String,
        /// Given names.
        given: Vec<String>,
        /// `YYYY-MM-DD`.
        birth_date: String,
    },
    /// More than one patient has that number: the record needs fixing.
    Several(usize),
}

/// The practice's FHIR endpoint, signed in as this workstation.
pub struct Endpoint {
    base: String,
    client_id: String,
    key: ClientKey,
    http: reqwest::Client,
    token: Option<(Zeroizing<String>, i64)>,
}

impl Endpoint {
    /// The endpoint at `base` (its FHIR base URL), as `client_id` with
    /// `key`; each request gives up after `timeout`.
    pub fn new(
        base: &str,
        client_id: &str,
        key: ClientKey,
        timeout: Duration,
    ) -> Result<Endpoint, SaveError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .timeout(timeout)
            .build()
            .map_err(|_| SaveError::Protocol("no HTTP client"))?;
        Ok(Endpoint {
            base: base.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            key,
            http,
            token: None,
        })
    }

    fn sent(e: &reqwest::Error) -> SaveError {
        if e.is_timeout() {
            SaveError::Slow
        } else {
            SaveError::Unreachable
        }
    }

    /// Sends `request` signed in with `token`; the FHIR reply of a 200,
    /// else the refusal.
    async fn ask(request: reqwest::RequestBuilder, token: &str) -> Result<Value, SaveError> {
        let resp = request
            .bearer_auth(token)
            .header("Accept", "application/fhir+json")
            .send()
            .await
            .map_err(|e| Self::sent(&e))?;
        let status = resp.status().as_u16();
        let reply: Value = resp.json().await.unwrap_or(Value::Null);
        if status == 200 {
            Ok(reply)
        } else {
            Err(SaveError::Refused { status, issues: issues(&reply) })
        }
    }

    /// A token, fetched again a minute before it expires.
    async fn token(&mut self, now: Timestamp) -> Result<String, SaveError> {
        if let Some((token, until)) = &self.token {
            if now.as_second() + 60 < *until {
                return Ok(token.to_string());
            }
        }
        let config: Value = self
            .http
            .get(format!("{}/.well-known/smart-configuration", self.base))
            .send()
            .await
            .map_err(|e| Self::sent(&e))?
            .json()
            .await
            .map_err(|_| SaveError::Protocol("no SMART configuration"))?;
        let token_url =
            config["token_endpoint"].as_str().ok_or(SaveError::Protocol("no token endpoint"))?.to_owned();
        let assertion = self.key.assertion(&self.client_id, &token_url, now);
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", SCOPES),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion.as_str()),
        ];
        let resp = self.http.post(&token_url).form(&form).send().await.map_err(|e| Self::sent(&e))?;
        let status = resp.status();
        let body: Value =
            resp.json().await.map_err(|_| SaveError::Protocol("a token reply that is not JSON"))?;
        if !status.is_success() {
            let code = body["error"].as_str().unwrap_or("refused");
            return Err(SaveError::TokenRefused(
                code.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect(),
            ));
        }
        let token = body["access_token"].as_str().ok_or(SaveError::Protocol("no access token"))?.to_owned();
        let lifetime = body["expires_in"].as_i64().unwrap_or(300);
        self.token = Some((Zeroizing::new(token.clone()), now.as_second() + lifetime));
        Ok(token)
    }

    /// Posts a transaction Bundle ([`crate::to_json`]).
    pub async fn save(&mut self, bundle: &Value, now: Timestamp) -> Result<Receipt, SaveError> {
        let token = self.token(now).await?;
        let body =
            serde_json::to_vec(bundle).map_err(|_| SaveError::Protocol("the Bundle would not encode"))?;
        let request = self.http.post(&self.base).header("Content-Type", "application/fhir+json").body(body);
        let reply = Self::ask(request, &token).await?;
        if reply["type"] != "transaction-response" {
            return Err(SaveError::Protocol("not a transaction response"));
        }
        let statuses: Vec<&str> = reply["entry"]
            .as_array()
            .ok_or(SaveError::Protocol("a transaction response without entries"))?
            .iter()
            .map(|e| e["response"]["status"].as_str().unwrap_or_default())
            .collect();
        let created = statuses.iter().filter(|s| s.starts_with("201")).count();
        let existing = statuses.iter().filter(|s| s.starts_with("200")).count();
        if created + existing != statuses.len() {
            return Err(SaveError::Protocol("an entry neither created nor found"));
        }
        Ok(Receipt { created, existing })
    }

    /// The patient the record holds for `nhs_number`.
    pub async fn find_patient(
        &mut self,
        nhs_number: &NhsNumber,
        now: Timestamp,
    ) -> Result<Lookup, SaveError> {
        let token = self.token(now).await?;
        let request = self
            .http
            .get(format!("{}/Patient", self.base))
            .query(&[("identifier", format!("{}|{}", names::NHS_NUMBER, nhs_number.reveal()))]);
        let reply = Self::ask(request, &token).await?;
        let found: Vec<&Value> = reply["entry"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|e| &e["resource"])
            .filter(|r| r["resourceType"] == "Patient")
            .collect();
        Ok(match found.as_slice() {
            [] => Lookup::Unknown,
            [patient] => {
                let name = &patient["name"][0];
                Lookup::One {
                    family: name["family"].as_str().unwrap_or_default().to_owned(),
                    given: name["given"]
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|g| g.as_str().map(str::to_owned))
                        .collect(),
                    birth_date: patient["birthDate"].as_str().unwrap_or_default().to_owned(),
                }
            }
            several => Lookup::Several(several.len()),
        })
    }
}

/// An OperationOutcome as `code at Element.path`, never its diagnostics
/// (a server may quote the values it refused there).
fn issues(outcome: &Value) -> String {
    let listed: Vec<String> = outcome["issue"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|i| {
            let code = i["code"].as_str().unwrap_or("problem");
            let paths: Vec<&str> = i["expression"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_str)
                .filter(|p| p.chars().all(|c| c.is_ascii_alphanumeric() || ".[]()".contains(c)))
                .collect();
            if paths.is_empty() {
                code.to_owned()
            } else {
                format!("{code} at {}", paths.join(", "))
            }
        })
        .collect();
    if listed.is_empty() {
        "no reason given".to_owned()
    } else {
        listed.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_outcome_is_told_by_its_codes_and_paths_never_its_diagnostics() {
        let outcome = json!({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "structure", "diagnostics": "Jane Doe, 12 Acacia Avenue is not valid",
             "expression": ["Patient.name[0]", "Jane Doe"]},
            {"severity": "error", "code": "required"}
        ]});
        let told = issues(&outcome);
        assert_eq!(told, "structure at Patient.name[0]; required");
        assert!(!told.contains("Jane") && !told.contains("Acacia"));
        assert_eq!(issues(&Value::Null), "no reason given");
    }

    #[test]
    fn the_client_assertion_is_an_es256_jwt_the_public_key_verifies() {
        use p256::ecdsa::signature::Verifier;
        let key = ClientKey::generate();
        let now: Timestamp = "2026-12-06T10:00:00Z".parse().unwrap();
        let jwt = key.assertion("ws-1", "https://ehr.example/auth/token", now);
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "ws-1");
        assert_eq!(claims["sub"], "ws-1");
        assert_eq!(claims["aud"], "https://ehr.example/auth/token");
        assert_eq!(claims["exp"], now.as_second() + 240, "within SMART's five minutes");
        let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
        let signed = format!("{}.{}", parts[0], parts[1]);
        assert!(key.key.verifying_key().verify(signed.as_bytes(), &signature).is_ok());
        let again = ClientKey::from_bytes(&key.to_bytes()).unwrap();
        assert_eq!(again.public_jwk(), key.public_jwk(), "kept and restored, the same key");
        assert_ne!(ClientKey::generate().public_jwk()["kid"], key.public_jwk()["kid"]);
    }
}
