//! One upstream call: assemble the request (base URL, path, query, headers,
//! cookies, credentials, body), send it under the timeout, retry what may be
//! retried, and refresh an OAuth2 token once after a 401.

use super::auth;
use super::config::{Retries, Settings};
use super::direct::Direct;
use super::error::CallError;
use super::operation::{Operation, Prepared};
use super::redact::header_secrets;
use super::response::{ERROR_BODY_LIMIT, RawResponse};
use crate::context::RequestContext;
use crate::model::LogLevel;
use base64::Engine;
use http_body_util::BodyExt;
use hyper::body::{Body as HttpBody, Bytes};
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{StatusCode, Url};
use serde_json::{Value, json};
use std::time::{Duration, Instant, SystemTime};

/// How far past the error-body limit to read, so that redaction sees a
/// whole secret even when it straddles the cut.
const ERROR_BODY_SLACK: usize = 4096;

/// Run the call. Secrets obtained on the way (OAuth tokens, a forwarded
/// Authorization header) are pushed to `secrets` for the redactor, even
/// when the call then fails.
pub(super) async fn execute(
    settings: &Settings,
    op: &Operation,
    ctx: &RequestContext,
    args: &Value,
    name: &str,
    secrets: &mut Vec<String>,
) -> Result<RawResponse, CallError> {
    let linked;
    let args = match op.file_links(args) {
        links if links.is_empty() => args,
        links => {
            linked = resolve_links(ctx, args, &links).await?;
            &linked
        }
    };
    let prepared = op.prepare(args)?;
    send_prepared(settings, op, ctx, &prepared, None, name, secrets).await
}

/// GET a long-running operation's status URL (`poll`) with what the
/// operation's own request would carry: its credentials, and the
/// operator's headers unless the operation's server is another origin.
/// The caller has checked that `url` is of the API's origin.
pub(super) async fn get_status(
    settings: &Settings,
    op: &Operation,
    ctx: &RequestContext,
    url: &Url,
    name: &str,
    secrets: &mut Vec<String>,
) -> Result<RawResponse, CallError> {
    let prepared = op.status_request();
    send_prepared(settings, op, ctx, &prepared, Some(url), name, secrets).await
}

/// Send a prepared request to the operation's server (or to `url`, a
/// status URL there), with credentials, retries and one token refresh.
async fn send_prepared(
    settings: &Settings,
    op: &Operation,
    ctx: &RequestContext,
    prepared: &Prepared,
    url: Option<&Url>,
    name: &str,
    secrets: &mut Vec<String>,
) -> Result<RawResponse, CallError> {
    #[cfg_attr(not(feature = "auth"), allow(unused_mut))]
    let mut target = Target::choose(settings, op, ctx)?;
    #[cfg(feature = "auth")]
    if let Some(token) = exchanged(settings, &target, ctx).await? {
        target.forwarded = Some(token);
    }
    if url.is_some_and(|u| u.origin() != target.base.origin()) {
        return Err(CallError::Url(
            "a status URL on another origin is not followed".into(),
        ));
    }
    let creds = settings.credentials.select(&op.security, name);
    // The tool-call hook's headers for this call; like --header, never
    // sent to another host.
    let per_call = ctx
        .extensions()
        .get::<super::UpstreamHeaders>()
        .filter(|_| !target.foreign);
    redact_sent(&target, per_call, secrets);
    let mut retry = 0;
    let mut refreshed = false;
    loop {
        // Relative token URLs are the document's, not an operation's server's.
        let doc_base = settings.base_url.as_ref().or(Some(target.base));
        let applied = credentials(settings, &creds, doc_base, secrets).await?;
        let extra = if target.foreign {
            &[][..]
        } else {
            &settings.headers[..]
        };
        // The request and the outcome end with this block: borrowed, they
        // would keep their slots (520 bytes) in every state of this future,
        // beside the awaits of a token refresh and a retry's sleep.
        let delay = {
            let mut request = build(
                settings,
                (target.base, url),
                prepared,
                &applied,
                extra,
                per_call.map(|h| &h.0),
                target.forwarded.as_ref(),
            )?;
            let outcome = attempt(settings, op, name, &mut request).await;
            // A status poll is a GET: retried like any idempotent request.
            let may_retry = (op.idempotent || url.is_some()) && retry < settings.retries.max;
            match next_step(settings, &outcome, &applied, refreshed, may_retry, retry) {
                Next::Done => return outcome,
                Next::Refresh => None,
                Next::RetryIn(delay) => {
                    retry += 1;
                    log_retry(ctx, settings, name, &outcome, retry, delay);
                    Some(delay)
                }
            }
        };
        match delay {
            Some(delay) => tokio::time::sleep(delay).await,
            None => {
                // The token may have been revoked early: fetch a new one and
                // try once more (safe for any method: the request was refused).
                refreshed = true;
                for (client, token) in applied.oauth.iter().zip(&applied.tokens) {
                    client.invalidate(token).await;
                }
            }
        }
    }
}

/// The call's credentials applied, their tokens kept among the secrets
/// to redact. Only OAuth2 waits, boxed: its token fetch is a large future
/// the call's own would otherwise carry and move.
async fn credentials(
    settings: &Settings,
    creds: &[&auth::Credential],
    doc_base: Option<&Url>,
    secrets: &mut Vec<String>,
) -> Result<auth::Applied, CallError> {
    let applied = match auth::apply_static(creds) {
        Some(applied) => applied?,
        None => {
            Box::pin(auth::apply(
                creds,
                &settings.client,
                doc_base,
                settings.timeout,
            ))
            .await?
        }
    };
    for token in &applied.tokens {
        if !secrets.contains(token) {
            secrets.push(token.clone());
        }
    }
    Ok(applied)
}

/// One request to the API, traced and logged. The request is borrowed
/// down to the client (which takes its headers and body): moved in, each
/// future on the way would hold a copy of it.
async fn attempt(
    settings: &Settings,
    op: &Operation,
    name: &str,
    request: &mut reqwest::Request,
) -> Result<RawResponse, CallError> {
    // Only the debug line below reads the time.
    let started = tracing::enabled!(target: "mcpgen_runtime::upstream", tracing::Level::DEBUG)
        .then(Instant::now);
    #[cfg(feature = "telemetry")]
    let outcome = crate::telemetry::upstream(
        name,
        request,
        |r| send(settings, r),
        |r: &RawResponse| r.status.as_u16(),
    )
    .await;
    #[cfg(not(feature = "telemetry"))]
    let outcome = send(settings, request).await;
    tracing::debug!(
        target: "mcpgen_runtime::upstream",
        name,
        method = %op.method,
        path = %op.path,
        status = outcome.as_ref().map(|r| r.status.as_u16()).unwrap_or(0),
        elapsed_ms = started.map_or(0, |s| s.elapsed().as_millis() as u64),
        "upstream call"
    );
    outcome
}

/// Secrets this call sends besides the operator's credentials (a forwarded
/// or exchanged token, sensitive headers the hook set): the redactor must
/// know them.
fn redact_sent(
    target: &Target<'_>,
    per_call: Option<&super::UpstreamHeaders>,
    secrets: &mut Vec<String>,
) {
    if let Some(v) = target.forwarded.as_ref().and_then(|v| v.to_str().ok()) {
        secrets.extend(header_secrets("authorization", v));
    }
    for (n, v) in per_call.iter().flat_map(|h| h.0.iter()) {
        if let (true, Ok(v)) = (v.is_sensitive(), v.to_str()) {
            secrets.extend(header_secrets(n.as_str(), v));
        }
    }
}

/// Where a call goes, and whether the operator's credentials go with it.
struct Target<'a> {
    base: &'a Url,
    /// The operation names a server of another origin than the document's.
    foreign: bool,
    /// The client's Authorization header, when the operator opted in.
    forwarded: Option<HeaderValue>,
}

impl<'a> Target<'a> {
    fn choose(
        settings: &'a Settings,
        op: &'a Operation,
        ctx: &RequestContext,
    ) -> Result<Self, CallError> {
        let own = op
            .base_url
            .as_ref()
            .filter(|_| !settings.base_url_overridden);
        // The operator's --header values and a forwarded Authorization were given
        // for the document's API: an operation on another origin gets neither.
        // (Security schemes apply wherever the spec applies them.)
        let foreign = own.is_some_and(|o| {
            settings
                .base_url
                .as_ref()
                .is_none_or(|d| d.origin() != o.origin())
        });
        let base = own.or(settings.base_url.as_ref()).ok_or_else(|| {
            CallError::NoBaseUrl(
                settings
                    .config
                    .base_url
                    .clone()
                    .unwrap_or_else(|| "none".into()),
            )
        })?;
        // The client's own credentials stay here unless the operator opted in.
        let forwarded = (settings.forward_authorization && !foreign)
            .then(|| ctx.http_headers()?.get(header::AUTHORIZATION).cloned())
            .flatten();
        Ok(Target {
            base,
            foreign,
            forwarded,
        })
    }
}

/// With `--upstream-token-exchange`, the token for the API standing for
/// the caller (RFC 8693), as an Authorization value; never for another
/// origin, and nothing without a validated caller (stdio, auth off).
#[cfg(feature = "auth")]
async fn exchanged(
    settings: &Settings,
    target: &Target<'_>,
    ctx: &RequestContext,
) -> Result<Option<HeaderValue>, CallError> {
    let Some(audience) = settings
        .token_exchange
        .as_deref()
        .filter(|_| !target.foreign)
    else {
        return Ok(None);
    };
    let server = ctx.server();
    let verifier = server.authorizer().and_then(|a| a.verifier());
    let (Some(info), Some(v)) = (ctx.extensions().get::<crate::auth::AuthInfo>(), verifier) else {
        return Ok(None);
    };
    let token = v
        .exchange(info, audience)
        .await
        .map_err(|reason| CallError::Token {
            scheme: "token exchange".into(),
            reason,
        })?;
    let mut value =
        HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| CallError::Token {
            scheme: "token exchange".into(),
            reason: "the exchanged token is not a header value".into(),
        })?;
    value.set_sensitive(true);
    Ok(Some(value))
}

/// What to do after an attempt.
enum Next {
    /// Hand the outcome back.
    Done,
    /// Fetch fresh OAuth tokens and try again at once.
    Refresh,
    /// Try again after this long.
    RetryIn(Duration),
}

fn next_step(
    settings: &Settings,
    outcome: &Result<RawResponse, CallError>,
    applied: &auth::Applied,
    refreshed: bool,
    may_retry: bool,
    retry: u32,
) -> Next {
    match outcome {
        Ok(r)
            if r.status == StatusCode::UNAUTHORIZED && !applied.oauth.is_empty() && !refreshed =>
        {
            Next::Refresh
        }
        Ok(r) if may_retry && retryable_status(r.status) => match r.retry_after {
            // A server that asks for a longer wait than we allow gets its answer back.
            Some(wait) if wait > Duration::from_millis(settings.retries.max_backoff_ms) => {
                Next::Done
            }
            Some(wait) => Next::RetryIn(wait),
            None => Next::RetryIn(backoff(&settings.retries, retry)),
        },
        Err(CallError::Connect { .. } | CallError::Timeout { .. }) if may_retry => {
            Next::RetryIn(backoff(&settings.retries, retry))
        }
        _ => Next::Done,
    }
}

fn log_retry(
    ctx: &RequestContext,
    settings: &Settings,
    name: &str,
    outcome: &Result<RawResponse, CallError>,
    retry: u32,
    delay: Duration,
) {
    let why = match outcome {
        Ok(r) => r.status_line(),
        Err(_) => "connection failed or timed out".into(),
    };
    ctx.log(
        LogLevel::Debug,
        Some("upstream"),
        json!(format!(
            "{name}: {why}; retry {retry} of {} in {} ms",
            settings.retries.max,
            delay.as_millis()
        )),
    );
}

/// Replace each file given as a resource link with the contents of that
/// resource, read from this server as `resources/read` would: only the
/// server's own resources, so a link cannot reach a local file or a host.
async fn resolve_links(
    ctx: &RequestContext,
    args: &Value,
    links: &[String],
) -> Result<Value, CallError> {
    let mut args = args.clone();
    for ptr in links {
        // Errors name the file field (`/body/file/0` → `file`).
        let arg = ptr
            .rsplit('/')
            .find(|t| !t.is_empty() && t.parse::<usize>().is_err())
            .unwrap_or("body")
            .replace("~1", "/")
            .replace("~0", "~");
        let Some(slot) = args.pointer_mut(ptr) else {
            continue;
        };
        let link = std::mem::take(slot);
        let uri = link.get("uri").and_then(Value::as_str).unwrap_or_default();
        let read = ctx
            .server()
            .read_resource(ctx.clone(), uri)
            .await
            .map_err(|e| {
                let why = match e.code() {
                    crate::jsonrpc::RESOURCE_NOT_FOUND => "this server has no such resource".into(),
                    _ => e.0.message,
                };
                CallError::invalid(&arg, format!("resource link {uri}: {why}"))
            })?;
        let contents = match read.get("contents").and_then(Value::as_array) {
            Some(c) if c.len() > 1 => {
                return Err(CallError::invalid(
                    &arg,
                    format!(
                        "resource link {uri}: the resource has {} parts; a file is one",
                        c.len()
                    ),
                ));
            }
            Some(c) => c.first(),
            None => None,
        };
        let data = match contents {
            Some(c) if c.get("blob").is_some_and(Value::is_string) => c["blob"].clone(),
            Some(c) if c.get("text").is_some_and(Value::is_string) => Value::String(
                base64::engine::general_purpose::STANDARD
                    .encode(c["text"].as_str().unwrap_or_default()),
            ),
            _ => {
                return Err(CallError::invalid(
                    &arg,
                    format!("resource link {uri}: the resource has no contents"),
                ));
            }
        };
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let filename = text(link.get("name")).or_else(|| {
            let path = uri.split(['?', '#']).next().unwrap_or(uri);
            path.rsplit('/')
                .next()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        });
        let content_type =
            text(link.get("mimeType")).or_else(|| text(contents.and_then(|c| c.get("mimeType"))));
        *slot = json!({"data": data, "filename": filename, "contentType": content_type});
    }
    Ok(args)
}

fn retryable_status(s: StatusCode) -> bool {
    matches!(s.as_u16(), 429 | 502 | 503 | 504)
}

/// Exponential, capped, with "equal jitter": half fixed, half random, so
/// that clients retrying together spread out.
fn backoff(r: &Retries, retry: u32) -> Duration {
    let ms = r
        .initial_backoff_ms
        .saturating_mul(1u64 << retry.min(30))
        .min(r.max_backoff_ms);
    let jitter = getrandom::u64().unwrap_or(0) % (ms / 2 + 1);
    Duration::from_millis(ms / 2 + jitter)
}

fn build(
    settings: &Settings,
    (base, status_url): (&Url, Option<&Url>),
    p: &Prepared,
    a: &auth::Applied,
    extra: &[(HeaderName, HeaderValue)],
    per_call: Option<&HeaderMap>,
    forwarded: Option<&HeaderValue>,
) -> Result<reqwest::Request, CallError> {
    let url = match status_url {
        Some(u) => with_query(u.clone(), &a.query),
        None => operation_url(base, p, &a.query)?,
    };
    // Later layers win: parameters < --header < the hook's
    // `UpstreamHeaders` < credentials < forwarded.
    let mut headers = HeaderMap::new();
    for (n, v) in &p.headers {
        headers.append(n.clone(), v.clone());
    }
    let mut cookies: Vec<String> = vec![];
    for (n, v) in extra
        .iter()
        .map(|(n, v)| (n, v))
        .chain(per_call.into_iter().flatten())
    {
        if n == header::COOKIE {
            cookies.extend(v.to_str().ok().map(str::to_owned));
        } else {
            headers.insert(n.clone(), v.clone());
        }
    }
    for (n, v) in &a.headers {
        headers.insert(n.clone(), v.clone());
    }
    if let Some(v) = forwarded {
        headers.insert(header::AUTHORIZATION, v.clone());
    }
    // As hyper would set it (unless a header above did), but made once.
    if let (None, Some(host)) = (status_url, &settings.host)
        && settings
            .base_url
            .as_ref()
            .is_some_and(|b| std::ptr::eq(b, base))
    {
        headers.entry(header::HOST).or_insert_with(|| host.clone());
    }
    cookies.extend(p.cookies.iter().chain(&a.cookies).cloned());
    if !cookies.is_empty() {
        let mut v = HeaderValue::from_str(&cookies.join("; "))
            .map_err(|_| CallError::invalid("cookies", "not a valid Cookie header"))?;
        v.set_sensitive(true);
        headers.insert(header::COOKIE, v);
    }
    let mut rb = if url.username().is_empty() && url.password().is_none() {
        // The common case, without the builder's merging of headers into
        // an empty map; a body still goes through the builder.
        let mut request = reqwest::Request::new(p.method.clone(), url);
        *request.headers_mut() = headers;
        if p.body.is_none() {
            return Ok(request);
        }
        reqwest::RequestBuilder::from_parts(settings.client.clone(), request)
    } else {
        // The builder turns credentials in a (status) URL into Basic auth.
        settings
            .client
            .request(p.method.clone(), url)
            .headers(headers)
    };
    if let Some(body) = &p.body {
        rb = body.attach(rb)?;
    }
    rb.build()
        .map_err(|e| CallError::Url(describe(&e.without_url())))
}

/// The operation's URL: the base URL, the prepared path and query, and
/// the credentials' query. The base is parsed once, at start-up: setting
/// the path and query of a copy skips re-parsing (and re-validating) its
/// scheme and host on every call.
fn operation_url(base: &Url, p: &Prepared, credentials: &[String]) -> Result<Url, CallError> {
    let prefix = base.path().trim_end_matches('/');
    let mut path = String::with_capacity(prefix.len() + p.path.len());
    path.push_str(prefix);
    path.push_str(&p.path);
    let mut url = base.clone();
    url.set_path(&path);
    let query: Vec<&str> = p
        .query
        .iter()
        .chain(credentials)
        .map(String::as_str)
        .collect();
    url.set_query((!query.is_empty()).then(|| query.join("&")).as_deref());
    // Belt and braces behind the encoding: the parser must not have moved
    // the request to another path.
    if url.path() != path {
        return Err(CallError::Url(
            "URL normalization would change the request path".into(),
        ));
    }
    Ok(url)
}

/// A status URL as the API gave it, plus the credentials' query pieces
/// (an apiKey in the query) it lacks.
fn with_query(mut url: Url, credentials: &[String]) -> Url {
    let mut query: Vec<String> = url.query().map(|q| vec![q.to_owned()]).unwrap_or_default();
    for piece in credentials {
        let name = piece.split('=').next().unwrap_or_default();
        let present = url
            .query()
            .is_some_and(|q| q.split('&').any(|p| p.split('=').next() == Some(name)));
        if !present {
            query.push(piece.clone());
        }
    }
    if !query.is_empty() {
        url.set_query(Some(&query.join("&")));
    }
    url
}

/// Send one attempt and read its body, all under the call's timeout.
/// Dropping this future (cancellation) aborts the request.
async fn send(
    settings: &Settings,
    request: &mut reqwest::Request,
) -> Result<RawResponse, CallError> {
    // The origin, for errors, is made from this only when one happens.
    let mut shown = request.url().clone();
    shown.set_query(None);
    let timeout = settings.timeout;
    let limit = settings.config.max_response_bytes;
    let direct = settings
        .direct
        .as_ref()
        .filter(|_| Direct::serves(request.url()));
    let within = match direct {
        Some(direct) => {
            let attempt = async {
                let resp = direct.execute(request, &shown).await?;
                read(resp, limit, &shown).await
            };
            tokio::time::timeout(timeout, attempt).await
        }
        // Boxed: reqwest's future is large and its path rare (proxies,
        // credentials in the URL); inline, every call's future would carry it.
        None => Box::pin(via_reqwest(settings, request, &shown)).await,
    };
    match within {
        Ok(Ok(mut r)) => {
            r.url = shown.into();
            Ok(r)
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(timed_out(&shown, timeout)),
    }
}

/// `send` through reqwest, which must own the request: it is taken, a
/// bare GET of the URL left in its place (the caller drops it).
async fn via_reqwest(
    settings: &Settings,
    request: &mut reqwest::Request,
    shown: &Url,
) -> Result<Result<RawResponse, CallError>, tokio::time::error::Elapsed> {
    let timeout = settings.timeout;
    let limit = settings.config.max_response_bytes;
    let placeholder = reqwest::Request::new(reqwest::Method::GET, request.url().clone());
    let request = std::mem::replace(request, placeholder);
    let attempt = async {
        let resp = settings
            .client
            .execute(request)
            .await
            .map_err(|e| classify(e, shown, timeout))?;
        read(http::Response::from(resp), limit, shown).await
    };
    tokio::time::timeout(timeout, attempt).await
}

#[cold]
#[inline(never)]
fn timed_out(shown: &Url, after: Duration) -> CallError {
    CallError::Timeout {
        origin: shown.origin().ascii_serialization(),
        after,
    }
}

/// The response of either client, its body read (see `read_body`).
async fn read<B>(
    resp: http::Response<B>,
    limit: usize,
    shown: &Url,
) -> Result<RawResponse, CallError>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, mut body) = resp.into_parts();
    let status = parts.status;
    // Kept in the result: taken, not copied (the body does not need them).
    let headers = parts.headers;
    let found = Found::of(&headers);
    let text = |v: Option<&HeaderValue>| v.and_then(|v| v.to_str().ok()).map(str::to_owned);
    // An empty Content-Type says as little as none: sniff instead.
    let content_type = text(found.content_type).filter(|t| !t.trim().is_empty());
    // The client decodes gzip, deflate, br and zstd and then drops the
    // header: one still there names an encoding it could not undo.
    let content_encoding = text(found.content_encoding)
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"));
    let location = text(found.location);
    let retry_after = found.retry_after.and_then(parse_retry_after);
    // As reqwest's `content_length`: what the (decoded) body announces.
    let content_length = body.size_hint().exact();
    let (body, truncated) = read_body(&mut body, status, content_length, limit, shown).await?;
    Ok(RawResponse {
        status,
        content_type,
        content_encoding,
        content_length,
        body,
        truncated,
        // Set by `send`, from `shown` itself.
        url: String::new(),
        location,
        retry_after,
        headers,
    })
}

/// The first value of each response header `read` keeps, as
/// `HeaderMap::get` finds it, in one pass over the few headers an answer
/// has instead of a hashed look-up per name.
#[derive(Default)]
struct Found<'a> {
    content_type: Option<&'a HeaderValue>,
    content_encoding: Option<&'a HeaderValue>,
    location: Option<&'a HeaderValue>,
    retry_after: Option<&'a HeaderValue>,
}

impl<'a> Found<'a> {
    fn of(headers: &'a HeaderMap) -> Found<'a> {
        let mut found = Found::default();
        for (name, value) in headers {
            let slot = if name == header::CONTENT_TYPE {
                &mut found.content_type
            } else if name == header::CONTENT_ENCODING {
                &mut found.content_encoding
            } else if name == header::LOCATION {
                &mut found.location
            } else if name == header::RETRY_AFTER {
                &mut found.retry_after
            } else {
                continue;
            };
            slot.get_or_insert(value);
        }
        found
    }
}

/// The body of `resp`: at most `limit` bytes of a success (more is
/// `TooLarge`), the first part of an error; and whether it was cut.
async fn read_body<B>(
    body: &mut B,
    status: StatusCode,
    content_length: Option<u64>,
    limit: usize,
    shown: &Url,
) -> Result<(Vec<u8>, bool), CallError>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let success = status.is_success();
    let cap = if success {
        if content_length.is_some_and(|n| n > limit as u64) {
            return Err(CallError::TooLarge { limit });
        }
        limit
    } else {
        ERROR_BODY_LIMIT + ERROR_BODY_SLACK
    };
    // Sized once when the length is announced (within the cap).
    let mut out = Vec::with_capacity(content_length.map_or(0, |n| n.min(cap as u64) as usize));
    let mut truncated = false;
    while let Some(frame) = body.frame().await {
        // As reqwest's `chunk`: any failure of the body is a decoding one.
        let frame = frame.map_err(|e| undecodable(shown, e.into()))?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        out.extend_from_slice(&chunk);
        if out.len() > cap {
            out.truncate(cap);
            truncated = true;
            break;
        }
    }
    if truncated && success {
        return Err(CallError::TooLarge { limit });
    }
    Ok((out, truncated))
}

#[cold]
#[inline(never)]
fn undecodable(shown: &Url, e: Box<dyn std::error::Error + Send + Sync>) -> CallError {
    CallError::Decode {
        origin: shown.origin().ascii_serialization(),
        cause: describe(&BodyError(e)),
    }
}

/// A body's failure, shown as reqwest shows it.
#[derive(Debug, thiserror::Error)]
#[error("error decoding response body")]
struct BodyError(#[source] Box<dyn std::error::Error + Send + Sync>);

fn classify(e: reqwest::Error, url: &Url, timeout: Duration) -> CallError {
    let e = e.without_url();
    let origin = url.origin().ascii_serialization();
    if e.is_connect() {
        CallError::Connect {
            origin,
            cause: describe(&e),
        }
    } else if e.is_timeout() {
        CallError::Timeout {
            origin,
            after: timeout,
        }
    } else if e.is_decode() {
        // A corrupt gzip/deflate/br/zstd body.
        CallError::Decode {
            origin,
            cause: describe(&e),
        }
    } else {
        CallError::Transport {
            origin,
            cause: describe(&e),
        }
    }
}

/// An error and its causes, `a: b: c`, without repeats or the generic
/// wrappers of reqwest and hyper: the useful part (refused, DNS, TLS) is
/// underneath them.
pub(super) fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    const GENERIC: &[&str] = &["error sending request", "client error ("];
    let mut parts: Vec<String> = vec![];
    let mut next = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        let generic = GENERIC.iter().any(|g| text.starts_with(g)) && err.source().is_some();
        if !generic && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

/// `Retry-After: 120` or an HTTP date.
pub(super) fn parse_retry_after(v: &HeaderValue) -> Option<Duration> {
    let v = v.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let r = Retries {
            max: 5,
            initial_backoff_ms: 100,
            max_backoff_ms: 1000,
        };
        for (retry, full) in [
            (0, 100),
            (1, 200),
            (2, 400),
            (3, 800),
            (4, 1000),
            (40, 1000),
        ] {
            let d = backoff(&r, retry).as_millis() as u64;
            assert!((full / 2..=full).contains(&d), "retry {retry}: {d} ms");
        }
    }

    /// `Found` keeps, for each name, what `HeaderMap::get` gives.
    #[test]
    fn found_headers_are_the_first_of_each_name() {
        let names = [
            header::CONTENT_TYPE,
            header::CONTENT_ENCODING,
            header::LOCATION,
            header::RETRY_AFTER,
        ];
        let mut h = HeaderMap::new();
        let found = Found::of(&h);
        assert!(found.content_type.is_none() && found.retry_after.is_none());
        let v = |s: &'static str| HeaderValue::from_static(s);
        h.append(header::DATE, v("today"));
        h.append(header::CONTENT_ENCODING, v("gzip"));
        h.append(header::CONTENT_ENCODING, v("br"));
        h.append(HeaderName::from_static("x-location"), v("no"));
        h.append(header::LOCATION, v("/a"));
        h.append(header::CONTENT_TYPE, v("application/json"));
        h.append(header::RETRY_AFTER, v("3"));
        h.append(header::LOCATION, v("/b"));
        h.append(header::CONTENT_TYPE, v("text/plain"));
        let found = Found::of(&h);
        let got = [
            found.content_type,
            found.content_encoding,
            found.location,
            found.retry_after,
        ];
        for (name, got) in names.iter().zip(got) {
            assert_eq!(got, h.get(name), "{name}");
        }
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let v = |s: &str| parse_retry_after(&HeaderValue::from_str(s).unwrap());
        assert_eq!(v("3"), Some(Duration::from_secs(3)));
        assert_eq!(v("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(100));
        assert!(v(&later).unwrap() > Duration::from_secs(90));
        assert_eq!(v("soon"), None);
    }
}
