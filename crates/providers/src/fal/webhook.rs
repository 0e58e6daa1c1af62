//! FAL webhook signatures: ED25519 over `request_id \n user_id \n timestamp \n hex(sha256(body))`,
//! by any key of FAL's JWKS. Verifying never fetches: one task refreshes the keys on a
//! schedule (`refresh`), so a forged request can never make us call FAL, and a refresh that
//! fails leaves the keys we have verifying.

use std::sync::{Arc, RwLock};

use base64::Engine as _;
use ring::signature::{ED25519, UnparsedPublicKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Timestamps further than this from our clock are replays or broken clocks.
const MAX_SKEW_SECS: i64 = 300;

/// The signature headers of one webhook request.
#[derive(Debug, Clone, Copy)]
pub struct SignedHeaders<'a> {
    pub request_id: &'a str,
    pub user_id: &'a str,
    pub timestamp: &'a str,
    pub signature: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("timestamp is missing, malformed or more than {MAX_SKEW_SECS} s off")]
    Timestamp,
    #[error("signature does not verify")]
    BadSignature,
    /// No key fetched yet (the first refresh has not succeeded).
    #[error("FAL's public keys are not fetched yet")]
    Keys,
    /// Signed by FAL for another FAL user than the one pinned (`FAL_USER_ID`).
    #[error("the webhook is for another FAL user")]
    User,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    crv: Option<String>,
    x: Option<String>,
}

pub struct WebhookVerifier {
    http: reqwest::Client,
    jwks_url: String,
    /// The keys of the last successful refresh; empty until the first.
    keys: RwLock<Arc<[Vec<u8>]>>,
    /// The FAL user our webhooks are for, when pinned: FAL signs every account's webhooks
    /// with the same keys, so without a pin another account's signed callback verifies too.
    user_id: Option<String>,
}

impl WebhookVerifier {
    /// `rest_url` is FAL's REST base; the keys live at `/.well-known/jwks.json` under it.
    pub fn new(http: reqwest::Client, rest_url: &str) -> Self {
        Self {
            http,
            jwks_url: format!("{}/.well-known/jwks.json", rest_url.trim_end_matches('/')),
            keys: RwLock::new(Arc::from(Vec::new())),
            user_id: None,
        }
    }

    /// Accepts only webhooks for this FAL user id.
    #[must_use]
    pub fn pinned_to(mut self, user_id: Option<String>) -> Self {
        self.user_id = user_id.filter(|id| !id.trim().is_empty());
        self
    }

    pub fn verify(
        &self,
        headers: SignedHeaders<'_>,
        body: &[u8],
        now_unix: i64,
    ) -> Result<(), VerifyError> {
        let timestamp: i64 = headers
            .timestamp
            .trim()
            .parse()
            .map_err(|_| VerifyError::Timestamp)?;
        if (now_unix - timestamp).abs() > MAX_SKEW_SECS {
            return Err(VerifyError::Timestamp);
        }
        let signature =
            hex::decode(headers.signature.trim()).map_err(|_| VerifyError::BadSignature)?;
        let message = format!(
            "{}\n{}\n{}\n{}",
            headers.request_id,
            headers.user_id,
            headers.timestamp.trim(),
            hex::encode(Sha256::digest(body)),
        );
        let keys = Arc::clone(&self.keys.read().unwrap_or_else(|e| e.into_inner()));
        if keys.is_empty() {
            return Err(VerifyError::Keys);
        }
        if !verifies(&keys, message.as_bytes(), &signature) {
            return Err(VerifyError::BadSignature);
        }
        match &self.user_id {
            Some(pinned) if pinned != headers.user_id => Err(VerifyError::User),
            _ => Ok(()),
        }
    }

    /// Fetches the keys and, if that worked, verifies with them from now on; a failed fetch
    /// keeps the keys we had. Returns how many Ed25519 keys FAL lists.
    pub async fn refresh(&self) -> Result<usize, String> {
        let keys = self.fetch().await?;
        let n = keys.len();
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::from(keys);
        Ok(n)
    }

    /// Fetches the signing keys now, for operators' checks: how many Ed25519 keys FAL lists.
    pub async fn check_keys(&self) -> Result<usize, String> {
        self.fetch().await.map(|keys| keys.len())
    }

    /// Where the signing keys are fetched from.
    pub fn jwks_url(&self) -> &str {
        &self.jwks_url
    }

    async fn fetch(&self) -> Result<Vec<Vec<u8>>, String> {
        let response = self
            .http
            .get(&self.jwks_url)
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if !response.status().is_success() {
            return Err(format!("JWKS answered {}", response.status()));
        }
        let jwks: Jwks = response
            .json()
            .await
            .map_err(|e| e.without_url().to_string())?;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let keys: Vec<Vec<u8>> = jwks
            .keys
            .iter()
            .filter(|k| k.kty == "OKP" && k.crv.as_deref() == Some("Ed25519"))
            .filter_map(|k| engine.decode(k.x.as_deref()?.trim_end_matches('=')).ok())
            .filter(|x| x.len() == 32)
            .collect();
        if keys.is_empty() {
            return Err("JWKS lists no Ed25519 key".into());
        }
        Ok(keys)
    }
}

fn verifies(keys: &[Vec<u8>], message: &[u8], signature: &[u8]) -> bool {
    keys.iter().any(|key| {
        UnparsedPublicKey::new(&ED25519, key)
            .verify(message, signature)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, RwLock};

    use proptest::prelude::*;
    use ring::signature::{Ed25519KeyPair, KeyPair};

    use super::{SignedHeaders, VerifyError, WebhookVerifier};

    fn verifier() -> (WebhookVerifier, Ed25519KeyPair) {
        let key = Ed25519KeyPair::from_seed_unchecked(&[7; 32]).unwrap();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let verifier = WebhookVerifier {
            http: reqwest::Client::new(),
            jwks_url: String::new(),
            keys: RwLock::new(Arc::from(vec![key.public_key().as_ref().to_vec()])),
            user_id: None,
        };
        (verifier, key)
    }

    proptest! {
        /// Whatever a sender puts in the headers and body, verification answers; only the
        /// key's own signature over exactly these values passes.
        #[test]
        fn any_headers_and_body_are_verified_or_refused(
            request_id in ".{0,64}", user_id in ".{0,32}", timestamp in ".{0,24}",
            signature in ".{0,140}", body in proptest::collection::vec(any::<u8>(), 0..256),
            now in any::<i64>(),
        ) {
            let (verifier, _) = verifier();
            let headers = SignedHeaders {
                request_id: &request_id,
                user_id: &user_id,
                timestamp: &timestamp,
                signature: &signature,
            };
            let verdict = verifier.verify(headers, &body, now);
            prop_assert!(matches!(
                verdict,
                Err(VerifyError::Timestamp | VerifyError::BadSignature)
            ));
        }

        #[test]
        fn a_genuine_signature_passes_and_any_changed_byte_fails(
            body in proptest::collection::vec(any::<u8>(), 1..256), flip in any::<usize>(),
        ) {
            let (verifier, key) = verifier();
            let now = 1_800_000_000_i64;
            let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body));
            let message = format!("req-1\nuser-1\n{now}\n{digest}");
            let signature = hex::encode(key.sign(message.as_bytes()).as_ref());
            let stamp = now.to_string();
            let headers = SignedHeaders {
                request_id: "req-1",
                user_id: "user-1",
                timestamp: &stamp,
                signature: &signature,
            };
            prop_assert!(verifier.verify(headers, &body, now).is_ok());
            let mut tampered = body.clone();
            let at = flip % tampered.len();
            tampered[at] ^= 1;
            prop_assert!(verifier.verify(headers, &tampered, now).is_err());
        }
    }
}
