//! The OAuth 2.1 resource server on the endpoint (`crate::auth` decides):
//! Protected Resource Metadata (RFC 9728) at
//! `/.well-known/oauth-protected-resource` and its path form, 401 with a
//! `WWW-Authenticate` challenge pointing at it for a missing or bad token,
//! 403 `insufficient_scope` naming the scopes for a `tools/call` the token
//! is not enough for (the MCP authorization spec's step-up). Requests are
//! checked after the Host/Origin guard and before anything else; a refused
//! one never reaches the protocol core. Tokens are never logged.

use super::AppState;
use crate::auth::{Active, AuthInfo, Authorizer, Denial, Verifier};
use crate::jsonrpc::{self, Message};
use crate::ratelimit::Principal;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::get;
use serde_json::{Value, json};
use std::sync::Arc;

const PRM_PATH: &str = "/.well-known/oauth-protected-resource";

/// The metadata routes: the root form and the path form (any path, so a
/// resource URI whose path differs from the endpoint's behind a proxy
/// still finds it).
pub(super) fn mount(r: Router<Arc<AppState>>) -> Router<Arc<AppState>> {
    r.route(PRM_PATH, get(metadata))
        .route(&format!("{PRM_PATH}/{{*rest}}"), get(metadata))
}

async fn metadata(State(st): State<Arc<AppState>>) -> HttpResponse {
    let Some((auth, v)) = active(&st) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let s = &v.settings;
    let doc = json!({
        "resource": s.resource,
        "authorization_servers": [s.issuer],
        "scopes_supported": auth.all_scopes(s),
        "bearer_methods_supported": ["header"],
        "resource_name": st.server.info().get("title").or_else(|| st.server.info().get("name")),
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        doc.to_string(),
    )
        .into_response()
}

fn active(st: &AppState) -> Option<(&Authorizer, Arc<Verifier>)> {
    let auth = st.server.authorizer()?;
    Some((auth, auth.verifier()?))
}

/// The metadata URL of a resource: the well-known name inserted between
/// its origin and its path (RFC 9728 §3.1).
pub(crate) fn metadata_url(resource: &str) -> String {
    let after_scheme = resource.find("://").map_or(0, |i| i + 3);
    let (origin, path) = match resource[after_scheme..].find('/') {
        Some(i) => resource.split_at(after_scheme + i),
        None => (resource, ""),
    };
    format!("{origin}{PRM_PATH}{}", path.trim_end_matches('/'))
}

/// Let the request in (its `AuthInfo` and rate-limit `Principal` in its
/// extensions), or `Some` answer. Nothing to do when auth is off.
pub(super) async fn authenticate<B>(
    st: &AppState,
    req: &mut axum::http::Request<B>,
) -> Option<HttpResponse> {
    let (auth, v) = active(st)?;
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|h| h.to_str().unwrap_or("\u{0}"));
    let info = match v.authenticate(header).await {
        Ok(info) => info,
        Err(d) => return Some(denied(&v.settings, d)),
    };
    if let Some(needed) = auth.missing_for(&v.settings, &info, None) {
        return Some(insufficient(&v.settings, &needed));
    }
    let ext = req.extensions_mut();
    ext.insert(Principal::Authenticated(info.subject.clone()));
    ext.insert(info);
    None
}

/// `Some(403)` for a `tools/call` of a tool whose scopes the caller lacks
/// (also the tool named by the compact surface's `call_tool`).
pub(super) fn check_call(
    st: &AppState,
    ext: &axum::http::Extensions,
    msg: &Message,
) -> Option<HttpResponse> {
    let (Some((auth, v)), Some(info), Message::Request(r)) =
        (active(st), ext.get::<AuthInfo>(), msg)
    else {
        return None;
    };
    if r.method != "tools/call" {
        return None;
    }
    let params = r.params.as_ref();
    let name = params.and_then(|p| p.get("name")).and_then(Value::as_str);
    let inner = params
        .and_then(|p| p.get("arguments"))
        .and_then(|a| a.get("name"))
        .and_then(Value::as_str)
        .filter(|_| name == Some("call_tool"));
    for tool in [name, inner].into_iter().flatten() {
        if let Some(needed) = auth.missing_for(&v.settings, info, Some(tool)) {
            tracing::info!(tool, subject = %info.subject, "403: insufficient scope");
            return Some(insufficient(&v.settings, &needed));
        }
    }
    None
}

fn challenge(s: &Active, extra: &str, scopes: &[String]) -> HeaderValue {
    let mut c = format!("Bearer resource_metadata=\"{}\"", metadata_url(&s.resource));
    if !scopes.is_empty() {
        c.push_str(&format!(", scope=\"{}\"", scopes.join(" ")));
    }
    c.push_str(extra);
    // Scopes and URLs are configuration, checked to be header-safe here.
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
}

fn denied(s: &Active, d: Denial) -> HttpResponse {
    let (status, extra, message) = match d {
        Denial::Missing => (
            StatusCode::UNAUTHORIZED,
            String::new(),
            "Unauthorized".to_owned(),
        ),
        Denial::Invalid(why) => {
            tracing::info!("401: invalid token: {why}");
            let extra = format!(
                ", error=\"invalid_token\", error_description=\"{}\"",
                quote_safe(&why)
            );
            (
                StatusCode::UNAUTHORIZED,
                extra,
                format!("Unauthorized: invalid token: {why}"),
            )
        }
        Denial::Unavailable(why) => {
            tracing::warn!("503: the authorization server cannot be reached: {why}");
            let msg = "Service Unavailable: cannot check tokens now".to_owned();
            return super::error(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                jsonrpc::INVALID_REQUEST,
                &msg,
            );
        }
    };
    let mut r = super::error(status, None, jsonrpc::INVALID_REQUEST, &message);
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, challenge(s, &extra, &s.scopes));
    r
}

fn insufficient(s: &Active, needed: &[String]) -> HttpResponse {
    let message = format!("Forbidden: insufficient scope (needs {})", needed.join(" "));
    let extra = ", error=\"insufficient_scope\"";
    let mut r = super::error(
        StatusCode::FORBIDDEN,
        None,
        jsonrpc::INVALID_REQUEST,
        &message,
    );
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, challenge(s, extra, needed));
    r
}

/// A reason as a quoted-string: no quotes, backslashes or control characters.
fn quote_safe(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_metadata_url_inserts_the_well_known_name() {
        assert_eq!(
            super::metadata_url("http://127.0.0.1:8000/mcp"),
            "http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            super::metadata_url("https://mcp.example.com"),
            "https://mcp.example.com/.well-known/oauth-protected-resource"
        );
    }
}
