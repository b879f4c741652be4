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
