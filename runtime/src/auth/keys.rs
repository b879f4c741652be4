//! The authorization server's metadata (RFC 8414, else OpenID Connect
//! discovery) and its signing keys (JWKS), fetched on first need. An
//! unknown `kid` fetches the JWKS again (key rotation), at most once per
//! `refresh` interval, so forged `kid`s cannot make us hammer the AS.

use super::Denial;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// The parts of the AS metadata we use.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Metadata {
    pub(crate) issuer: String,
    pub(crate) jwks_uri: Option<String>,
    pub(crate) introspection_endpoint: Option<String>,
    #[cfg_attr(not(feature = "upstream"), allow(dead_code))]
    pub(crate) token_endpoint: Option<String>,
}

/// One usable verification key.
pub(crate) struct Key {
    pub(crate) key: DecodingKey,
    /// The JWK's `alg`, when it names one: the token must use exactly it.
    pub(crate) alg: Option<Algorithm>,
}

#[derive(Default)]
struct KeySet {
    by_kid: HashMap<String, Arc<Key>>,
    /// Keys without a `kid`, for tokens without one.
    anonymous: Vec<Arc<Key>>,
}

pub(crate) struct KeySource {
    issuer: String,
    refresh: Duration,
    pub(crate) http: reqwest::Client,
    metadata: OnceCell<Metadata>,
    keys: RwLock<Arc<KeySet>>,
    last_fetch: Mutex<Option<Instant>>,
    /// One fetch at a time; others wait for it and use its result.
    fetching: tokio::sync::Mutex<()>,
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> Denial {
    Denial::Unavailable(format!("{what}: {e}"))
}

impl KeySource {
    pub(crate) fn new(issuer: &str, refresh: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        KeySource {
            issuer: issuer.to_owned(),
            refresh,
            http,
            metadata: OnceCell::new(),
            keys: RwLock::new(Arc::default()),
            last_fetch: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// The AS metadata, fetched once (retried after a failure).
    pub(crate) async fn metadata(&self) -> Result<&Metadata, Denial> {
        self.metadata.get_or_try_init(|| self.discover()).await
    }

    /// RFC 8414 first (the well-known path inserted before the issuer's
    /// path), then OpenID Connect discovery (appended). The document must
    /// name our issuer exactly (RFC 8414 §3.3).
    async fn discover(&self) -> Result<Metadata, Denial> {
        let issuer = self.issuer.trim_end_matches('/');
        let (origin, path) = split_origin(issuer);
        let candidates = [
            format!("{origin}/.well-known/oauth-authorization-server{path}"),
            format!("{issuer}/.well-known/openid-configuration"),
        ];
        let mut last = Denial::Unavailable("no metadata".into());
        for url in candidates {
            match self.get_json::<Metadata>(&url).await {
                Ok(m) if m.issuer == self.issuer => return Ok(m),
                Ok(m) => {
                    last = unavailable("AS metadata", format!("names issuer {:?}", m.issuer));
                }
                Err(e) => last = e,
            }
        }
        tracing::warn!("authorization server metadata: {last:?}");
        Err(last)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, Denial> {
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| unavailable(url, e))?;
        if !resp.status().is_success() {
            return Err(unavailable(url, resp.status()));
        }
        resp.json::<T>().await.map_err(|e| unavailable(url, e))
    }

    /// The key for a token's `kid` (or the only key, when it has none),
    /// fetching the JWKS when it is not known yet.
    pub(crate) async fn key(&self, kid: Option<&str>) -> Result<Arc<Key>, Denial> {
        if let Some(k) = self.lookup(kid) {
            return Ok(k);
        }
        let _one = self.fetching.lock().await;
        // Someone else may have fetched it while we waited.
        if let Some(k) = self.lookup(kid) {
            return Ok(k);
        }
        if !self.may_fetch() {
            return Err(Denial::Invalid("unknown signing key".into()));
        }
        self.fetch().await?;
        self.lookup(kid)
            .ok_or_else(|| Denial::Invalid("unknown signing key".into()))
    }

    fn lookup(&self, kid: Option<&str>) -> Option<Arc<Key>> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        match kid {
            Some(kid) => keys.by_kid.get(kid).cloned(),
            None if keys.anonymous.len() == 1 => keys.anonymous.first().cloned(),
            None => None,
        }
    }

    /// Rate limit of JWKS fetches: the first one always, then one per
    /// `refresh` interval.
    fn may_fetch(&self) -> bool {
        let mut last = self.last_fetch.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < self.refresh) {
            return false;
        }
        *last = Some(now);
        true
    }

    async fn fetch(&self) -> Result<(), Denial> {
        let meta = self.metadata().await?;
        let Some(uri) = meta.jwks_uri.as_deref() else {
            return Err(Denial::Invalid(
                "the authorization server publishes no jwks_uri".into(),
            ));
        };
        let set: JwkSet = self.get_json(uri).await?;
        let mut keys = KeySet::default();
        for jwk in &set.keys {
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue; // a key type we cannot use: skipped, not fatal
            };
            let alg = jwk
                .common
                .key_algorithm
                .and_then(|a| a.to_string().parse::<Algorithm>().ok());
            let key = Arc::new(Key { key, alg });
            match &jwk.common.key_id {
                Some(kid) => {
                    keys.by_kid.insert(kid.clone(), key);
                }
                None => keys.anonymous.push(key),
            }
        }
        tracing::debug!(keys = set.keys.len(), "fetched the JWKS");
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
        Ok(())
    }
}

/// `https://as.example/tenant` → (`https://as.example`, `/tenant`).
fn split_origin(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => url.split_at(after_scheme + i),
        None => (url, ""),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_issuer_path_goes_after_the_well_known_name() {
        assert_eq!(
            super::split_origin("https://as.example/tenant/1"),
            ("https://as.example", "/tenant/1")
        );
        assert_eq!(
            super::split_origin("http://127.0.0.1:9"),
            ("http://127.0.0.1:9", "")
        );
    }
}
