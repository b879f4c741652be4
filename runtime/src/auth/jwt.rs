//! JWT access tokens (RFC 9068): signature by a key of the AS's JWKS, with
//! an allow-list of asymmetric algorithms (so `none` and HS256-signed-with-
//! the-public-key confusion are refused), issuer, audience (this server's
//! resource URI, RFC 8707), `exp` and `nbf` with a small leeway.

use super::keys::KeySource;
use super::{Active, AuthInfo, Denial, info_from_claims};
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde_json::Value;

/// Asymmetric algorithms only: a shared secret has no place in a JWKS.
const ALLOWED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Three base64url segments: a JWS compact serialization.
pub(crate) fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

fn invalid(why: impl Into<String>) -> Denial {
    Denial::Invalid(why.into())
}

pub(crate) async fn validate(
    token: &str,
    keys: &KeySource,
    settings: &Active,
) -> Result<AuthInfo, Denial> {
    // An `alg` outside jsonwebtoken's list (`none` among them) fails here.
    let header = decode_header(token).map_err(|e| invalid(format!("malformed JWT: {e}")))?;
    let alg = header.alg;
    if !ALLOWED.contains(&alg) {
        return Err(invalid(format!("algorithm {alg:?} is not allowed")));
    }
    let key = keys.key(header.kid.as_deref()).await?;
    if key.alg.is_some_and(|a| a != alg) {
        return Err(invalid(format!("algorithm {alg:?} is not the key's")));
    }
    if key.key.family() != alg.family() {
        return Err(invalid(format!("algorithm {alg:?} does not fit the key")));
    }
    let mut v = Validation::new(alg);
    v.set_issuer(&[&settings.issuer]);
    v.set_audience(&[&settings.resource]);
    v.set_required_spec_claims(&["exp", "iss", "aud"]);
    v.validate_nbf = true;
    v.leeway = settings.leeway.as_secs();
    let data =
        decode::<Value>(token, &key.key, &v).map_err(|e| invalid(format!("rejected: {e}")))?;
    Ok(info_from_claims(data.claims, token))
}
