//! FAL webhook signatures: ED25519 over `request_id \n user_id \n timestamp \n hex(sha256(body))`,
//! by any key of FAL's JWKS. Keys are cached for a day and fetched again when no cached key
//! verifies (FAL rotated), at most once a minute so forged requests cannot make us hammer it.

use std::time::{Duration, Instant};

use base64::Engine as _;
use ring::signature::{ED25519, UnparsedPublicKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

/// Timestamps further than this from our clock are replays or broken clocks.
const MAX_SKEW_SECS: i64 = 300;
const KEYS_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
const REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(60);

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
    #[error("cannot fetch FAL's public keys: {0}")]
    Keys(String),
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

#[derive(Default)]
struct Cache {
    keys: Vec<Vec<u8>>,
    fetched: Option<Instant>,
}

pub struct WebhookVerifier {
    http: reqwest::Client,
    jwks_url: String,
    cache: Mutex<Cache>,
}

impl WebhookVerifier {
    /// `rest_url` is FAL's REST base; the keys live at `/.well-known/jwks.json` under it.
    pub fn new(http: reqwest::Client, rest_url: &str) -> Self {
        Self {
            http,
            jwks_url: format!("{}/.well-known/jwks.json", rest_url.trim_end_matches('/')),
            cache: Mutex::new(Cache::default()),
        }
    }

    pub async fn verify(
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
        let mut cache = self.cache.lock().await;
        let stale = cache.fetched.is_none_or(|at| at.elapsed() > KEYS_MAX_AGE);
        if stale {
            self.refresh(&mut cache).await?;
        }
        if verifies(&cache.keys, message.as_bytes(), &signature) {
            return Ok(());
        }
        let may_refresh = cache
            .fetched
            .is_none_or(|at| at.elapsed() > REFRESH_AT_MOST_EVERY);
        if !stale && may_refresh {
            self.refresh(&mut cache).await?;
            if verifies(&cache.keys, message.as_bytes(), &signature) {
                return Ok(());
            }
        }
        Err(VerifyError::BadSignature)
    }

    /// Fetches the signing keys now, for operators' checks: how many Ed25519 keys FAL lists.
    pub async fn check_keys(&self) -> Result<usize, String> {
        self.fetch().await.map(|keys| keys.len())
    }

    /// Where the signing keys are fetched from.
    pub fn jwks_url(&self) -> &str {
        &self.jwks_url
    }

    async fn refresh(&self, cache: &mut Cache) -> Result<(), VerifyError> {
        let keys = self.fetch().await.map_err(VerifyError::Keys)?;
        tracing::info!(keys = keys.len(), "FAL webhook keys fetched");
        cache.keys = keys;
        cache.fetched = Some(Instant::now());
        Ok(())
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
