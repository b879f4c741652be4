//! The comparison servers of the benchmark suite (see `docs/benchmarks.md`).
//!
//! Both binaries take `--bind ADDR` and print nothing on success; the suite
//! waits for the port and then for a correct answer. Both exit cleanly on
//! SIGTERM or Ctrl-C (see [`terminated`]).

/// The text every benchmarked `test_simple_text` tool returns; the load
/// generator checks each answer against it.
pub const SIMPLE_TEXT: &str = "This is a simple text response for testing.";

/// `--bind ADDR` from the command line, `127.0.0.1:0`-style, or a usage error.
pub fn bind_arg() -> Result<std::net::SocketAddr, String> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next(), args.next()) {
        (Some("--bind"), Some(addr), None) => {
            addr.parse().map_err(|e| format!("--bind {addr}: {e}"))
        }
        _ => Err("usage: --bind 127.0.0.1:PORT".to_string()),
    }
}

/// Resolves on SIGTERM or Ctrl-C. The servers return from `main` then
/// rather than die by the signal, so an instrumented build writes its
/// profile at exit (scripts/pgo.sh trains the servers that way).
pub async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Serve `handle` over HTTP/1.1 on `addr`, one task per connection, until
/// SIGTERM or Ctrl-C (see [`terminated`]): the bare hyper servers' loop.
pub async fn serve_http1<F, Fut>(
    addr: std::net::SocketAddr,
    handle: F,
) -> Result<(), Box<dyn std::error::Error>>
where
    F: Fn(hyper::Request<hyper::body::Incoming>) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<
            Output = Result<
                hyper::Response<http_body_util::Full<bytes::Bytes>>,
                std::convert::Infallible,
            >,
        > + Send
        + 'static,
{
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let serve = async {
        loop {
            let (stream, _) = listener.accept().await?;
            // Small request/response pairs: Nagle would add 40 ms stalls.
            stream.set_nodelay(true)?;
            let handle = handle.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(handle);
                // A client that hangs up mid-request is not the server's error.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    };
    tokio::select! {
        r = serve => r,
        () = terminated() => Ok(()),
    }
}

/// A JSON answer of the bare hyper servers.
pub fn json_response(
    status: hyper::StatusCode,
    body: bytes::Bytes,
) -> hyper::Response<http_body_util::Full<bytes::Bytes>> {
    let mut resp = hyper::Response::new(http_body_util::Full::new(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}
