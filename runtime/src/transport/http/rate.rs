//! Per-client, server and global rate limits of HTTP requests
//! (`crate::ratelimit`): over a limit, 429 with `Retry-After`.

use crate::ratelimit::Principal;
use crate::server::Server;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response as HttpResponse;
use std::net::SocketAddr;

/// JSON-RPC code of the 429 answer (implementation-defined server error).
const RATE_LIMITED: i64 = -32029;

/// Who the request counts against: the principal an authentication layer
/// put in the request's extensions, else the client's IP address (`peer`,
/// or else as the request's extensions have it).
pub(super) fn principal<B>(req: &axum::http::Request<B>, peer: Option<SocketAddr>) -> Principal {
    if let Some(p) = req.extensions().get::<Principal>() {
        return p.clone();
    }
    let peer = peer.or_else(|| {
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| *addr)
    });
    match peer {
        Some(addr) => Principal::Ip(addr.ip()),
        None => Principal::Unknown,
    }
}

/// `Some(429 response)` when the request is over a limit.
pub(super) async fn check(server: &Server, principal: Principal) -> Option<HttpResponse> {
    let limiter = server.rate_limiter()?;
    let exceeded = limiter.check_request(&principal).await.err()?;
    // Debug, not info: a client hammering the server must not flood the log.
    tracing::debug!("429: {exceeded}");
    let mut r = super::error(
        StatusCode::TOO_MANY_REQUESTS,
        None,
        RATE_LIMITED,
        &format!("Too Many Requests: {exceeded}"),
    );
    r.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(exceeded.retry_after_secs()),
    );
    Some(r)
}
