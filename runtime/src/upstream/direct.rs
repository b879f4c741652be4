//! HTTP and HTTPS calls that no proxy applies to, sent on hyper's client
//! connections (`pool`) instead of through reqwest: reqwest's stack (its
//! tower layers, two `Url` parses per request, hyper-util's pool) cost
//! about a third of a proxied call's instructions. reqwest stays the
//! client for proxies and URLs with credentials; both clients share one
//! rustls config (`tls::TlsSettings::client_config`). This path does what
//! reqwest does for these calls: its default headers, its connection
//! settings, its decoders (tower-http's `Decompression`, which reqwest
//! uses, applied only to a response that names an encoding), and its
//! redirects as configured in `config::same_origin_redirects` (tower-http's
//! `FollowRedirect` rules).

use super::call::describe;
use super::config::MAX_REDIRECTS;
use super::error::CallError;
use super::pool::{Key, Pool, Returning, SendError};
use http::header::{self, HeaderMap, HeaderValue};
use http::uri::PathAndQuery;
use http::{Method, StatusCode, Uri};
use hyper::body::{Body as HttpBody, Bytes, Frame, SizeHint};
use hyper_util::client::legacy::connect::HttpConnector;
use reqwest::{Body, Url};
use rustls::ClientConfig;
use std::borrow::Cow;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tower_http::BoxError;
use tower_http::decompression::{Decompression, DecompressionBody};
use tower_service::Service;

/// What tower-http's `Decompression` asks for with the four decoders
/// reqwest is built with (a test checks it against reqwest's).
const ACCEPT_ENCODING: &str = "zstd,gzip,deflate,br";

/// The client of plain-HTTP calls.
pub(super) struct Direct {
    pool: Pool,
    user_agent: HeaderValue,
    /// The base URL's origin, parsed once.
    base: Option<Base>,
}

/// An origin whose URLs need only their path and query parsed.
struct Base {
    /// The URL text before the path: `scheme://host[:port]`.
    prefix: String,
    key: Key,
    host: HeaderValue,
}

impl Base {
    fn of(url: &Url) -> Option<Base> {
        // `scheme://host[:port]`: no `/` before the path in an HTTP URL
        // without credentials (`serves`).
        let text = url.as_str();
        let after = text.find("://")? + 3;
        let prefix = &text[..after + text[after..].find('/')?];
        let key = Key::of(&Uri::try_from(prefix).ok()?)?;
        Some(Base {
            prefix: prefix.to_owned(),
            host: key.host(),
            key,
        })
    }
}

impl Direct {
    /// The client reqwest would build for `http` URLs with these settings
    /// (its TCP and pool defaults, spelled out).
    pub(super) fn new(
        connect_timeout: Duration,
        user_agent: HeaderValue,
        tls: Arc<ClientConfig>,
        base: Option<&Url>,
    ) -> Direct {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(connect_timeout));
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(15)));
        http.set_keepalive_interval(Some(Duration::from_secs(15)));
        http.set_keepalive_retries(Some(3));
        #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
        http.set_tcp_user_timeout(Some(Duration::from_secs(30)));
        Direct {
            pool: Pool::new(http, connect_timeout, tls),
            user_agent,
            base: base.filter(|u| Direct::serves(u)).and_then(Base::of),
        }
    }

    /// Whether this client sends to `url`: HTTP or HTTPS, no credentials
    /// in it (reqwest's builder has made them a header, but they stay in
    /// the URL).
    pub(super) fn serves(url: &Url) -> bool {
        matches!(url.scheme(), "http" | "https")
            && url.username().is_empty()
            && url.password().is_none()
    }

    /// Send `request` and follow its redirects; errors are reqwest's for
    /// the same failure (see `call::classify`). `shown` names the origin.
    /// The request is borrowed (its headers and body taken): moved in, it
    /// would be copied into this future and again into its own local.
    pub(super) async fn execute(
        &self,
        request: &mut reqwest::Request,
        shown: &Url,
    ) -> Result<http::Response<Answer>, CallError> {
        // The headers go straight into the hop, and the body is borrowed
        // only inside `Replay::with`: a local borrowed before an await
        // keeps its own slot in this future, even once moved.
        let headers = std::mem::take(request.headers_mut());
        let (mut body, replay) = Replay::with(request.body_mut().take().unwrap_or_default());
        let mut hop = Hop {
            method: request.method().clone(),
            replay,
            url: Cow::Borrowed(request.url()),
            headers,
        };
        // reqwest's default headers, where the request has none.
        hop.headers
            .entry(header::USER_AGENT)
            .or_insert_with(|| self.user_agent.clone());
        hop.headers
            .entry(header::ACCEPT)
            .or_insert_with(|| HeaderValue::from_static("*/*"));
        hop.headers
            .entry(header::ACCEPT_ENCODING)
            .or_insert_with(|| HeaderValue::from_static(ACCEPT_ENCODING));
        let mut redirects = 0;
        let response = loop {
            let (key, request) = self.request(&hop, body, shown)?;
            let sent = self.pool.send_to(key, request).await;
            let response = sent.map_err(|e| unsent(shown, e))?;
            let Some(next) = hop.redirect(&response) else {
                break response;
            };
            // reqwest's policy sees one more previous URL at each hop.
            if redirects >= MAX_REDIRECTS {
                return Err(CallError::Transport {
                    origin: shown.origin().ascii_serialization(),
                    cause: "error following redirect: too many redirects".into(),
                });
            }
            // `shown` is the first URL without its query: the same origin.
            if next.1.origin() != shown.origin() {
                break response;
            }
            body = next.0;
            hop.url = Cow::Owned(next.1);
            redirects += 1;
        };
        // The body decoded as reqwest would: a response naming no encoding
        // is passed on as it is (what `Decompression` does to it), one that
        // names an encoding goes through `Decompression` itself (boxed:
        // rare here, and its future would otherwise sit in every call's).
        if !response.headers().contains_key(header::CONTENT_ENCODING) {
            return Ok(response.map(Answer::Plain));
        }
        Box::pin(decompress(response))
            .await
            .map_err(|e| failed(shown, &*e))
    }

    /// The request of one hop, and the connections it goes to. Made here
    /// and sent by the caller: an async fn between the two was a future
    /// the compiler built aside and copied into place, twice per call.
    fn request(
        &self,
        hop: &Hop<'_>,
        body: Body,
        shown: &Url,
    ) -> Result<(Key, http::Request<Body>), CallError> {
        let mut request = http::Request::new(body);
        *request.method_mut() = hop.method.clone();
        *request.headers_mut() = hop.headers.clone();
        let key = match self.at_base(&hop.url) {
            Some((base, path)) => {
                *request.uri_mut() = path.into();
                request
                    .headers_mut()
                    .entry(header::HOST)
                    .or_insert_with(|| base.host.clone());
                base.key.clone()
            }
            None => {
                let uri = Uri::try_from(hop.url.as_str()).map_err(|e| CallError::Transport {
                    origin: shown.origin().ascii_serialization(),
                    cause: format!("builder error: {e}"),
                })?;
                *request.uri_mut() = uri;
                Pool::origin_form(&mut request).map_err(|e| unsent(shown, e))?
            }
        };
        Ok((key, request))
    }
}

impl Direct {
    /// For a URL of the base URL's origin, the base and the URL's path and
    /// query in origin form: what `Uri::try_from` of the whole URL would
    /// give (the same parser reads the path and query), without parsing
    /// the scheme and authority again. None for any other URL, and for one
    /// that parser refuses (the caller then words the error).
    fn at_base(&self, url: &Url) -> Option<(&Base, PathAndQuery)> {
        let base = self.base.as_ref()?;
        let text = url.as_str();
        let rest = text.strip_prefix(base.prefix.as_str())?;
        // A whole URI longer than this is refused, whatever its parts.
        if text.len() >= u16::MAX as usize - 1 || !rest.starts_with('/') {
            return None;
        }
        Some((base, PathAndQuery::try_from(rest).ok()?))
    }
}

/// A request that got no response, as reqwest words it.
#[cold]
#[inline(never)]
fn unsent(shown: &Url, e: SendError) -> CallError {
    let origin = shown.origin().ascii_serialization();
    match e {
        SendError::Connect(_) => CallError::Connect {
            origin,
            cause: describe(&e),
        },
        SendError::Send(_) => CallError::Transport {
            origin,
            cause: describe(&e),
        },
    }
}

#[cold]
#[inline(never)]
fn failed(shown: &Url, e: &(dyn std::error::Error + 'static)) -> CallError {
    CallError::Transport {
        origin: shown.origin().ascii_serialization(),
        cause: describe(e),
    }
}

/// A response body: as it came, or decoded by tower-http.
pub(super) enum Answer {
    Plain(Returning),
    Decoded(Pin<Box<DecompressionBody<Returning>>>),
}

impl HttpBody for Answer {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            Answer::Plain(b) => Pin::new(b).poll_frame(cx).map_err(Into::into),
            Answer::Decoded(b) => b.as_mut().poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Answer::Plain(b) => b.is_end_stream(),
            Answer::Decoded(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Answer::Plain(b) => b.size_hint(),
            Answer::Decoded(b) => b.size_hint(),
        }
    }
}

/// `response`, which names an encoding, decoded by tower-http's
/// `Decompression`.
async fn decompress(
    response: http::Response<Returning>,
) -> Result<http::Response<Answer>, BoxError> {
    let mut layer = Decompression::new(Given(Some(response)));
    let decoded = layer.call(http::Request::new(())).await?;
    Ok(decoded.map(|b| Answer::Decoded(Box::pin(b))))
}

/// A service answering its one call with a response it was given.
struct Given(Option<http::Response<Returning>>);

impl Service<http::Request<()>> for Given {
    type Response = http::Response<Returning>;
    type Error = BoxError;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<()>) -> Self::Future {
        // Called once, by `decode`.
        std::future::ready(self.0.take().ok_or_else(|| "no response to give".into()))
    }
}

/// One request of a redirect chain.
struct Hop<'a> {
    method: Method,
    /// What a redirect may send again.
    replay: Replay,
    /// The request's own URL at first, then where redirects lead.
    url: Cow<'a, Url>,
    headers: HeaderMap,
}

/// The body a redirect resends (tower-http's `BodyRepr`).
enum Replay {
    Empty,
    Bytes(Vec<u8>),
    /// A stream: a redirect that keeps the body is not followed.
    Stream,
}

impl Replay {
    /// The body, and what a redirect may send again of it.
    fn with(body: Body) -> (Body, Replay) {
        let replay = match body.as_bytes() {
            Some([]) => Replay::Empty,
            Some(b) => Replay::Bytes(b.to_vec()),
            None => Replay::Stream,
        };
        (body, replay)
    }

    fn body(&self) -> Option<Body> {
        match self {
            Replay::Empty => Some(Body::default()),
            Replay::Bytes(b) => Some(Body::from(b.clone())),
            Replay::Stream => None,
        }
    }
}

impl Hop<'_> {
    /// The body and URL of the request a redirect asks for (changing this
    /// hop's method and headers as tower-http does), or None when the
    /// response is the answer.
    fn redirect(&mut self, response: &http::Response<Returning>) -> Option<(Body, Url)> {
        let to_get = match response.status() {
            StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND => self.method == Method::POST,
            StatusCode::SEE_OTHER => true,
            StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT => false,
            _ => return None,
        };
        let next = response
            .headers()
            .get(header::LOCATION)
            .and_then(|l| std::str::from_utf8(l.as_bytes()).ok())
            .and_then(|l| self.url.join(l).ok())
            .filter(|u| Uri::try_from(u.as_str()).is_ok())?;
        if to_get {
            // 303 keeps HEAD; 301 and 302 only turn POST into GET.
            if self.method != Method::HEAD {
                self.method = Method::GET;
            }
            self.replay = Replay::Empty;
            for h in [
                header::CONTENT_TYPE,
                header::CONTENT_LENGTH,
                header::CONTENT_ENCODING,
                header::TRANSFER_ENCODING,
            ] {
                self.headers.remove(h);
            }
        }
        Some((self.replay.body()?, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full};
    use hyper::body::{Body as HttpBody, Bytes, Incoming};
    use hyper_util::rt::TokioIo;
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    /// A client with the default TLS settings, as `config` makes it.
    fn client() -> Direct {
        let tls = super::super::tls::TlsSettings::resolve(None, &Default::default());
        let tls = tls.unwrap().client_config().unwrap();
        Direct::new(
            Duration::from_secs(5),
            HeaderValue::from_static("ua/1"),
            tls,
            None,
        )
    }

    /// What the server saw: `METHOD path content-type body`, one a request.
    type Log = Arc<Mutex<Vec<String>>>;

    fn gzip(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    async fn answer(req: http::Request<Incoming>, log: Log) -> http::Response<Full<Bytes>> {
        let (parts, body) = req.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let h = |n| {
            parts
                .headers
                .get(n)
                .map_or("-", |v: &HeaderValue| v.to_str().unwrap())
                .to_owned()
        };
        let seen = format!(
            "{} {} {} {}",
            parts.method,
            parts.uri.path(),
            h(header::CONTENT_TYPE),
            String::from_utf8_lossy(&body)
        );
        log.lock().unwrap().push(seen.clone());
        let to = |status: u16, location: &str| {
            http::Response::builder()
                .status(status)
                .header(header::LOCATION, location)
                .body(Full::default())
                .unwrap()
        };
        match parts.uri.path() {
            "/see-other" => to(303, "/echo"),
            "/found" => to(302, "echo"),
            "/temporary" => to(307, "/echo"),
            "/loop" => to(302, "/loop"),
            "/away" => to(302, "http://127.0.0.2:1/echo"),
            "/headers" => {
                let seen = format!(
                    "{} {} {}",
                    h(header::USER_AGENT),
                    h(header::ACCEPT),
                    h(header::ACCEPT_ENCODING)
                );
                http::Response::builder()
                    .header(header::CONTENT_ENCODING, "gzip")
                    .body(Full::new(gzip(seen.as_bytes()).into()))
                    .unwrap()
            }
            _ => http::Response::new(Full::new(seen.into())),
        }
    }

    /// A local HTTP/1 server answering with `answer`, and the count of
    /// connections it accepted.
    async fn serve() -> (Url, Log, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let log = Log::default();
        let seen = log.clone();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::Relaxed);
                let log = seen.clone();
                let svc = hyper::service::service_fn(move |r| {
                    let log = log.clone();
                    async move { Ok::<_, std::convert::Infallible>(answer(r, log).await) }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc),
                );
            }
        });
        (url, log, accepted)
    }

    fn request(method: &str, url: &Url, path: &str, body: Option<&str>) -> reqwest::Request {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut r = reqwest::Request::new(method, url.join(path).unwrap());
        if let Some(b) = body {
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            *r.body_mut() = Some(Body::from(b.to_owned()));
        }
        r
    }

    /// A response's body as text.
    async fn text<B: HttpBody>(r: http::Response<B>) -> Result<String, String>
    where
        B::Error: std::fmt::Display,
    {
        let body = r.into_body().collect().await.map_err(|e| e.to_string())?;
        Ok(String::from_utf8_lossy(&body.to_bytes()).into_owned())
    }

    /// Status, body and the requests the server saw, or the error.
    async fn outcome<B: HttpBody>(
        r: Result<http::Response<B>, String>,
        log: &Log,
    ) -> (Result<(u16, String), String>, Vec<String>)
    where
        B::Error: std::fmt::Display,
    {
        let answer = match r {
            Ok(r) => {
                let status = r.status().as_u16();
                text(r).await.map(|t| (status, t))
            }
            Err(e) => Err(e),
        };
        (answer, std::mem::take(&mut *log.lock().unwrap()))
    }

    /// Each request gets the same answer through `Direct` as through
    /// reqwest configured as `config` configures it.
    #[tokio::test]
    async fn direct_answers_as_reqwest_does() {
        let (url, log, _) = serve().await;
        let direct = client();
        let reqwest = reqwest::Client::builder()
            .no_proxy()
            .user_agent("ua/1")
            .redirect(super::super::config::same_origin_redirects())
            .referer(false)
            .build()
            .unwrap();
        for (method, path, body) in [
            ("GET", "/headers", None),
            ("POST", "/see-other", Some("payload")),
            ("HEAD", "/see-other", None),
            ("POST", "/found", Some("payload")),
            ("PUT", "/found", Some("payload")),
            ("PUT", "/temporary", Some("payload")),
            ("GET", "/loop", None),
            ("GET", "/away", None),
        ] {
            let r = direct
                .execute(&mut request(method, &url, path, body), &url)
                .await;
            let ours = outcome(r.map_err(|e| e.to_string()), &log).await;
            let r = reqwest.execute(request(method, &url, path, body)).await;
            let theirs = outcome(
                r.map(http::Response::from).map_err(|e| {
                    let cause = super::super::call::describe(&e.without_url());
                    format!(
                        "the upstream request to {} failed: {cause}",
                        url.origin().ascii_serialization()
                    )
                }),
                &log,
            )
            .await;
            assert_eq!(ours, theirs, "{method} {path}");
        }
    }

    #[tokio::test]
    async fn redirects_end_as_configured() {
        let (url, log, _) = serve().await;
        let direct = client();
        let r = direct
            .execute(&mut request("POST", &url, "/see-other", Some("x")), &url)
            .await;
        let (answer, seen) = outcome(r.map_err(|e| e.to_string()), &log).await;
        assert_eq!(answer.unwrap().0, 200);
        assert_eq!(seen, ["POST /see-other text/plain x", "GET /echo - "]);
        let r = direct
            .execute(&mut request("PUT", &url, "/temporary", Some("x")), &url)
            .await;
        let (answer, _) = outcome(r.map_err(|e| e.to_string()), &log).await;
        assert_eq!(answer.unwrap().1, "PUT /echo text/plain x");
        let r = direct
            .execute(&mut request("GET", &url, "/loop", None), &url)
            .await;
        let e = r.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.ends_with("too many redirects"), "{e}");
        assert_eq!(log.lock().unwrap().len(), 1 + MAX_REDIRECTS);
        let r = direct
            .execute(&mut request("GET", &url, "/headers", None), &url)
            .await;
        let r = r.unwrap();
        assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(text(r).await.unwrap(), "ua/1 */* zstd,gzip,deflate,br");
    }

    /// A URL of the base URL's origin is read as `Uri::try_from` reads the
    /// whole of it; any other, or one it refuses, is left to that parse.
    #[test]
    fn a_base_url_is_read_as_the_whole_uri_is() {
        let tls = super::super::tls::TlsSettings::resolve(None, &Default::default());
        let tls = tls.unwrap().client_config().unwrap();
        for base in [
            "http://127.0.0.1:8080/api/",
            "https://h.example/",
            "http://[::1]:80/x",
        ] {
            let base = Url::parse(base).unwrap();
            let ua = HeaderValue::from_static("ua/1");
            let direct = Direct::new(Duration::from_secs(5), ua, tls.clone(), Some(&base));
            let long = format!("{}{}", base.as_str(), "a".repeat(u16::MAX as usize));
            let paths = [
                "",
                "/",
                "a/b?x=1&y=%20z",
                "/p?q#frag",
                "/%7Bid%7D/{raw}|^`",
                "/a b\"c<d>",
                "/?",
                "//x",
            ];
            let mut urls: Vec<String> = paths
                .iter()
                .map(|p| base.join(p).unwrap().to_string())
                .collect();
            urls.extend([
                long.clone(),
                long[..u16::MAX as usize - 2].to_owned(),
                "http://127.0.0.1:80/api/".into(),
                "http://127.0.0.1:8081/api/".into(),
                "https://127.0.0.1:8080/api/".into(),
                "http://h.example:443/".into(),
                "https://h.example:8443/".into(),
            ]);
            let mut known = 0;
            for text in urls {
                let url = Url::parse(&text).unwrap();
                let whole = Uri::try_from(url.as_str());
                match direct.at_base(&url) {
                    Some((b, path)) => {
                        known += 1;
                        let whole = whole.unwrap();
                        assert_eq!(whole.path_and_query(), Some(&path), "{url}");
                        let key = Key::of(&whole).unwrap();
                        assert!(key == b.key, "{url}");
                        assert_eq!(key.host(), b.host, "{url}");
                    }
                    None => {
                        let origin = |u: &Url| u.origin().ascii_serialization();
                        assert!(origin(&url) != origin(&base) || whole.is_err(), "{url}");
                    }
                }
            }
            // The paths but `//x` (another host), and the shorter long one.
            assert_eq!(known, paths.len(), "{base}");
        }
    }

    /// With the base URL known, requests there (and redirects) go out and
    /// come back as without it.
    #[tokio::test]
    async fn calls_at_the_base_url_answer_as_others_do() {
        let (url, log, accepted) = serve().await;
        let tls = super::super::tls::TlsSettings::resolve(None, &Default::default());
        let tls = tls.unwrap().client_config().unwrap();
        let ua = HeaderValue::from_static("ua/1");
        let known = Direct::new(Duration::from_secs(5), ua, tls, Some(&url));
        assert!(known.base.is_some());
        let unknown = client();
        for (method, path, body) in [
            ("GET", "/echo?x=1", None),
            ("GET", "/headers", None),
            ("POST", "/see-other", Some("payload")),
            ("PUT", "/temporary", Some("payload")),
            ("GET", "/loop", None),
            ("GET", "/away", None),
        ] {
            let r = known
                .execute(&mut request(method, &url, path, body), &url)
                .await;
            let ours = outcome(r.map_err(|e| e.to_string()), &log).await;
            let r = unknown
                .execute(&mut request(method, &url, path, body), &url)
                .await;
            let theirs = outcome(r.map_err(|e| e.to_string()), &log).await;
            assert_eq!(ours, theirs, "{method} {path}");
        }
        // One connection each: the known base's key is the parsed one's.
        assert_eq!(accepted.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_connection_is_reused_once_its_body_is_read() {
        let (url, log, accepted) = serve().await;
        let direct = client();
        for _ in 0..3 {
            let r = direct
                .execute(&mut request("GET", &url, "/echo", None), &url)
                .await;
            assert_eq!(text(r.unwrap()).await.unwrap(), "GET /echo - ");
        }
        // Redirects (bodiless answers) keep the connection too.
        let r = direct
            .execute(&mut request("POST", &url, "/see-other", Some("x")), &url)
            .await;
        assert_eq!(r.unwrap().status(), 200);
        assert_eq!(log.lock().unwrap().len(), 5);
        assert_eq!(accepted.load(Ordering::Relaxed), 1);
    }

    /// Connections beyond the idle bound are closed when put back.
    #[tokio::test]
    async fn idle_connections_are_bounded_per_origin() {
        use super::super::pool::MAX_IDLE_PER_ORIGIN;
        let (url, _, accepted) = serve().await;
        let direct = client();
        let many = MAX_IDLE_PER_ORIGIN + 5;
        // All answers held at once: each needs a connection of its own.
        let mut requests: Vec<_> = (0..many)
            .map(|_| request("GET", &url, "/echo", None))
            .collect();
        let calls = requests.iter_mut().map(|r| direct.execute(r, &url));
        let answers = futures::future::join_all(calls).await;
        assert_eq!(accepted.load(Ordering::Relaxed), many);
        for a in answers {
            assert_eq!(text(a.unwrap()).await.unwrap(), "GET /echo - ");
        }
        assert_eq!(direct.pool.idle(), MAX_IDLE_PER_ORIGIN);
    }

    /// One rustls config, two clients: reqwest (proxies, URLs with
    /// credentials) and this one trust the same server and present the same
    /// client certificate to it, which refuses connections without one.
    /// Both certificates are self-signed, each trusted by the other side.
    #[tokio::test]
    async fn reqwest_and_direct_share_one_tls_config() {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
        let made = |name: &str| rcgen::generate_simple_self_signed(vec![name.into()]).unwrap();
        let (server, client) = (made("127.0.0.1"), made("mcp-client"));
        let dir = std::env::temp_dir().join(format!("mcpgen-direct-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, text: String| {
            std::fs::write(dir.join(name), text).unwrap();
            Some(dir.join(name))
        };
        let overrides = crate::upstream::TlsOverrides {
            ca_cert: write("ca.pem", server.cert.pem()),
            client_cert: write("client.pem", client.cert.pem()),
            client_key: write("client.key", client.signing_key.serialize_pem()),
            ..Default::default()
        };
        let tls = super::super::tls::TlsSettings::resolve(None, &overrides).unwrap();
        let config = tls.client_config().unwrap();
        let _ = std::fs::remove_dir_all(&dir);

        let mut roots = rustls::RootCertStore::empty();
        roots.add(client.cert.der().clone()).unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
            .build()
            .unwrap();
        let key = PrivatePkcs8KeyDer::from(server.signing_key.serialize_der());
        let cert: CertificateDer<'static> = server.cert.der().clone();
        let server_config = rustls::ServerConfig::builder()
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![cert], PrivateKeyDer::Pkcs8(key))
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("https://{}", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    continue;
                };
                let svc = hyper::service::service_fn(|_| async {
                    Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(
                        Bytes::from_static(b"hello"),
                    )))
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), svc),
                );
            }
        });

        let direct = Direct::new(
            Duration::from_secs(5),
            HeaderValue::from_static("ua/1"),
            config.clone(),
            None,
        );
        let r = direct
            .execute(&mut request("GET", &url, "/", None), &url)
            .await;
        assert_eq!(text(r.unwrap()).await.unwrap(), "hello");
        let reqwest = reqwest::Client::builder()
            .no_proxy()
            .tls_backend_preconfigured(rustls::ClientConfig::clone(&config))
            .build()
            .unwrap();
        let r = reqwest.execute(request("GET", &url, "/", None)).await;
        assert_eq!(r.unwrap().text().await.unwrap(), "hello");
    }

    /// A server that closes each connection after one answer, without
    /// saying so: the next request finds its pooled connection gone and
    /// goes out on a new one.
    #[tokio::test]
    async fn a_connection_closed_while_idle_is_replaced() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = [0; 4096];
                let _ = stream.read(&mut buf).await;
                let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                let _ = stream.write_all(answer).await;
            }
        });
        let direct = client();
        for _ in 0..3 {
            let r = direct
                .execute(&mut request("GET", &url, "/", None), &url)
                .await;
            assert_eq!(text(r.unwrap()).await.unwrap(), "ok");
        }
    }

    /// A raw upstream: each connection is handed to `answer` (counted).
    async fn raw<F, Fut>(answer: F) -> (Url, Arc<AtomicUsize>)
    where
        F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(answer(stream));
            }
        });
        (url, accepted)
    }

    /// Reads one request head (the tests send no bodies).
    async fn read_head(stream: &mut tokio::net::TcpStream) -> bool {
        use tokio::io::AsyncReadExt;
        let mut seen = Vec::new();
        let mut buf = [0; 1024];
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        true
    }

    /// The connection is driven by the call: a body that arrives in parts,
    /// late, and one larger than any buffer are read whole, and the
    /// connection is reused after each.
    #[tokio::test]
    async fn bodies_arriving_late_or_large_are_read_whole() {
        use tokio::io::AsyncWriteExt;
        const LARGE: usize = 4 << 20;
        let (url, accepted) = raw(|mut stream| async move {
            while read_head(&mut stream).await {
                let head = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello";
                let _ = stream.write_all(head).await;
                tokio::time::sleep(Duration::from_millis(30)).await;
                let _ = stream.write_all(b"world").await;
                let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {LARGE}\r\n\r\n");
                if !read_head(&mut stream).await || stream.write_all(head.as_bytes()).await.is_err()
                {
                    return;
                }
                for _ in 0..LARGE / 4096 {
                    let _ = stream.write_all(&[b'x'; 4096]).await;
                }
            }
        })
        .await;
        let direct = client();
        let calls = async {
            for _ in 0..2 {
                let r = direct
                    .execute(&mut request("GET", &url, "/", None), &url)
                    .await;
                assert_eq!(text(r.unwrap()).await.unwrap(), "helloworld");
                let r = direct
                    .execute(&mut request("GET", &url, "/", None), &url)
                    .await;
                assert_eq!(text(r.unwrap()).await.unwrap().len(), LARGE);
            }
        };
        tokio::time::timeout(Duration::from_secs(20), calls)
            .await
            .expect("the calls finish");
        assert_eq!(accepted.load(Ordering::Relaxed), 1);
    }

    /// A call dropped mid-way (waiting for the head, or with body unread)
    /// leaves no half-used connection in the pool: the next call opens a
    /// new one and gets its answer.
    #[tokio::test]
    async fn a_dropped_call_does_not_pool_its_connection() {
        use tokio::io::AsyncWriteExt;
        let served = Arc::new(AtomicUsize::new(0));
        let seen = served.clone();
        let (url, accepted) = raw(move |mut stream| {
            let seen = seen.clone();
            async move {
                while read_head(&mut stream).await {
                    let answer: &[u8] = match seen.fetch_add(1, Ordering::Relaxed) {
                        // No answer at all, then half a body.
                        0 => b"",
                        1 => b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf",
                        _ => b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
                    };
                    let _ = stream.write_all(answer).await;
                }
            }
        })
        .await;
        let direct = client();
        let mut first = request("GET", &url, "/", None);
        let call = direct.execute(&mut first, &url);
        let waited = tokio::time::timeout(Duration::from_millis(100), call).await;
        assert!(waited.is_err(), "no answer came");
        let r = direct
            .execute(&mut request("GET", &url, "/", None), &url)
            .await;
        let mut body = r.unwrap().into_body();
        let first = tokio::time::timeout(Duration::from_secs(5), body.frame()).await;
        assert!(first.unwrap().is_some());
        let rest = tokio::time::timeout(Duration::from_millis(100), body.frame()).await;
        assert!(rest.is_err(), "the rest of the body never came");
        drop(body);
        assert_eq!(direct.pool.idle(), 0);
        let r = direct
            .execute(&mut request("GET", &url, "/", None), &url)
            .await;
        assert_eq!(text(r.unwrap()).await.unwrap(), "ok");
        assert_eq!(accepted.load(Ordering::Relaxed), 3);
        assert_eq!(direct.pool.idle(), 1);
    }

    /// A connection the upstream closes a while after answering (nobody
    /// polls it meanwhile) is found closed at checkout and replaced.
    #[tokio::test]
    async fn a_connection_closed_later_is_found_at_checkout() {
        use tokio::io::AsyncWriteExt;
        let (url, accepted) = raw(|mut stream| async move {
            if read_head(&mut stream).await {
                let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                let _ = stream.write_all(answer).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        let direct = client();
        for _ in 0..3 {
            let r = direct
                .execute(&mut request("GET", &url, "/", None), &url)
                .await;
            assert_eq!(text(r.unwrap()).await.unwrap(), "ok");
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        assert_eq!(accepted.load(Ordering::Relaxed), 3);
    }

    /// Every request names its origin in a Host header, the first on a
    /// connection and the ones reusing it alike.
    #[tokio::test]
    async fn each_request_carries_its_host() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        let (url, accepted) = raw(move |mut stream| {
            let seen = seen.clone();
            async move {
                let mut buf = [0; 4096];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    let head = String::from_utf8_lossy(&buf[..n]).to_lowercase();
                    seen.lock().unwrap().push(head);
                    let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                    let _ = stream.write_all(answer).await;
                }
            }
        })
        .await;
        let direct = client();
        for _ in 0..3 {
            let r = direct
                .execute(&mut request("GET", &url, "/", None), &url)
                .await;
            assert_eq!(text(r.unwrap()).await.unwrap(), "ok");
        }
        let host = format!("\r\nhost: {}\r\n", url.authority());
        let heads = heads.lock().unwrap();
        assert_eq!(heads.len(), 3);
        assert!(heads.iter().all(|h| h.contains(&host)), "{heads:?}");
        assert_eq!(accepted.load(Ordering::Relaxed), 1);
    }
}
