//! RFC 8693 token exchange for upstream calls (`--upstream-token-exchange
//! AUDIENCE`): the caller's validated token is traded at the AS's token
//! endpoint for one whose audience is the upstream API, authenticated with
//! this server's client credentials (MCP_AUTH_CLIENT_ID/SECRET). The
//! result is cached per caller token and audience until shortly before it
//! expires; the caller's own token is never sent upstream this way.

use super::ttl::TtlMap;
use super::{AuthInfo, Verifier};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
/// An exchanged token is not used in its last seconds (clock skew, transit).
const MARGIN: Duration = Duration::from_secs(10);

/// The caller's token and the audience.
type Key = (Arc<str>, String);

#[derive(Default)]
pub(crate) struct Cache {
    entries: TtlMap<Key, Arc<str>>,
}

#[derive(Deserialize)]
struct Answer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl Verifier {
    /// A token for `audience` standing for the caller of `info`.
    pub(crate) async fn exchange(
        &self,
        info: &AuthInfo,
        audience: &str,
    ) -> Result<Arc<str>, String> {
        let key = (info.token.clone(), audience.to_owned());
        if let Some(t) = self.exchanged.get(&key) {
            return Ok(t);
        }
        let (id, secret) = self
            .settings
            .introspection_client
            .as_ref()
            .ok_or("token exchange needs MCP_AUTH_CLIENT_ID and MCP_AUTH_CLIENT_SECRET")?;
        let meta = self
            .keys
            .metadata()
            .await
            .map_err(|e| format!("authorization server metadata: {e:?}"))?;
        let url = meta
            .token_endpoint
            .as_deref()
            .ok_or("the authorization server has no token endpoint")?;
        let form = [
            ("grant_type", GRANT),
            ("subject_token", &info.token),
            ("subject_token_type", ACCESS_TOKEN),
            ("requested_token_type", ACCESS_TOKEN),
            ("audience", audience),
        ];
        let resp = self
            .keys
            .http
            .post(url)
            .basic_auth(id, Some(secret))
            .form(&form)
            .send()
            .await
            .map_err(|e| format!("token exchange: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("token exchange refused: {}", resp.status()));
        }
        let answer: Answer = resp
            .json()
            .await
            .map_err(|e| format!("token exchange answer: {e}"))?;
        let token: Arc<str> = Arc::from(answer.access_token);
        let life = Duration::from_secs(answer.expires_in.unwrap_or(60));
        self.exchanged
            .keep(key, token.clone(), life.saturating_sub(MARGIN));
        Ok(token)
    }
}

impl Cache {
    fn get(&self, key: &Key) -> Option<Arc<str>> {
        self.entries.get(key)
    }

    fn keep(&self, key: Key, token: Arc<str>, ttl: Duration) {
        self.entries.keep(key, token, ttl);
    }
}
