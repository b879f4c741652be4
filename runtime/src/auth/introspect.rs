//! Opaque access tokens: RFC 7662 introspection at the AS's
//! `introspection_endpoint`, authenticated with client credentials from
//! the environment. Active answers are cached (bounded, for at most a
//! minute and never past the token's `exp`); inactive ones are not, so a
//! revoked token is refused as soon as the AS says so.

use super::keys::KeySource;
use super::ttl::TtlMap;
use super::{Active, AuthInfo, Denial, info_from_claims};
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MAX_TTL: Duration = Duration::from_secs(60);

/// Accepted tokens by their text, until a minute has passed or they expire
/// (also the cache of verified JWTs, see `Verifier::authenticate`).
#[derive(Default)]
pub(crate) struct Cache {
    entries: TtlMap<String, AuthInfo>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Cache {
    pub(crate) async fn check(
        &self,
        token: &str,
        keys: &KeySource,
        client: &(String, String),
        settings: &Active,
    ) -> Result<AuthInfo, Denial> {
        if let Some(info) = self.cached(token) {
            return Ok(info);
        }
        let claims = introspect(token, keys, client).await?;
        let info = accept(claims, token, settings)?;
        self.keep(token, &info);
        Ok(info)
    }

    pub(super) fn cached(&self, token: &str) -> Option<AuthInfo> {
        self.entries.get(token)
    }

    pub(super) fn keep(&self, token: &str, info: &AuthInfo) {
        let left = info.expires_at.map_or(MAX_TTL, |exp| {
            Duration::from_secs(exp.saturating_sub(now_secs()))
        });
        self.entries
            .keep(token.to_owned(), info.clone(), left.min(MAX_TTL));
    }
}

async fn introspect(
    token: &str,
    keys: &KeySource,
    (id, secret): &(String, String),
) -> Result<Value, Denial> {
    let meta = keys.metadata().await?;
    let Some(url) = meta.introspection_endpoint.as_deref() else {
        return Err(Denial::Invalid(
            "the authorization server has no introspection endpoint".into(),
        ));
    };
    let resp = keys
        .http
        .post(url)
        .basic_auth(id, Some(secret))
        .form(&[("token", token), ("token_type_hint", "access_token")])
        .send()
        .await
        .map_err(|e| Denial::Unavailable(format!("introspection: {e}")))?;
    if !resp.status().is_success() {
        let status = resp.status();
        return Err(Denial::Unavailable(format!("introspection: {status}")));
    }
    resp.json::<Value>()
        .await
        .map_err(|e| Denial::Unavailable(format!("introspection: {e}")))
}

/// An active token for this issuer and this resource, not expired.
fn accept(claims: Value, token: &str, s: &Active) -> Result<AuthInfo, Denial> {
    if claims.get("active") != Some(&Value::Bool(true)) {
        return Err(Denial::Invalid("the token is not active".into()));
    }
    if let Some(iss) = claims.get("iss").and_then(Value::as_str)
        && iss != s.issuer
    {
        return Err(Denial::Invalid("wrong issuer".into()));
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => *a == s.resource,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(&s.resource)),
        _ => false,
    };
    if !aud_ok {
        return Err(Denial::Invalid("the token is not for this resource".into()));
    }
    let exp = claims.get("exp").and_then(Value::as_u64);
    if exp.is_some_and(|e| e + s.leeway.as_secs() < now_secs()) {
        return Err(Denial::Invalid("the token has expired".into()));
    }
    Ok(info_from_claims(claims, token))
}
