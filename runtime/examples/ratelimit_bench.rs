//! Cost of the rate-limit check, printed (never asserted):
//!
//! ```sh
//! cargo run --release -p mcpgen-runtime --features redis,testing --example ratelimit_bench
//! ```
//!
//! Per store: one check against one key, and against 10,000 keys (client
//! IPs) in turn; for Redis also 16 checks in flight at once. Then a whole
//! in-process `tools/call` with and without a tool limit. Redis is a
//! `redis-server` started here on a free port (skipped when there is none;
//! `scripts/setup.sh` installs it). Figures are medians of 5 rounds.

use mcpgen_runtime::prelude::*;
use mcpgen_runtime::ratelimit::{MemoryStore, Rate, RateLimitSettings, RateLimitStore, RedisStore};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROUNDS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Nanoseconds per call of `f`, `n` calls, median of ROUNDS.
async fn per_call<F, Fut>(n: usize, mut f: F) -> f64
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut rounds = vec![];
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for i in 0..n {
            f(i).await;
        }
        rounds.push(t.elapsed().as_nanos() as f64 / n as f64);
    }
    median(rounds)
}

async fn store_figures(name: &str, store: Arc<dyn RateLimitStore>, n: usize) {
    // High enough never to refuse: the cost of a counted, allowed call.
    let rate: Rate = "1000000000/1h".parse().expect("a rate");
    let one = per_call(n, |_| {
        let s = store.clone();
        async move {
            let _ = s.acquire("bench:one", rate).await;
        }
    })
    .await;
    let keys: Vec<String> = (0..10_000).map(|i| format!("bench:ip:{i}")).collect();
    let many = per_call(n, |i| {
        let (s, k) = (store.clone(), keys[i % keys.len()].clone());
        async move {
            let _ = s.acquire(&k, rate).await;
        }
    })
    .await;
    println!("| {name} | one key | {one:.0} ns |");
    println!("| {name} | 10,000 keys in turn | {many:.0} ns |");
}

async fn concurrent_figure(name: &str, store: Arc<dyn RateLimitStore>, n: usize) {
    let rate: Rate = "1000000000/1h".parse().expect("a rate");
    let mut rounds = vec![];
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let tasks: Vec<_> = (0..16)
            .map(|w| {
                let s = store.clone();
                tokio::spawn(async move {
                    for i in 0..n / 16 {
                        let _ = s
                            .acquire(&format!("bench:c:{}", (w * 7 + i) % 64), rate)
                            .await;
                    }
                })
            })
            .collect();
        for t in tasks {
            let _ = t.await;
        }
        rounds.push(t.elapsed().as_nanos() as f64 / n as f64);
    }
    println!(
        "| {name} | 16 in flight, per check (wall) | {:.0} ns |",
        median(rounds)
    );
}

fn server() -> Server {
    Server::builder(r#"{"name":"bench","version":"0"}"#)
        .tool(
            r#"{"name":"echo","inputSchema":{"type":"object"}}"#,
            |_ctx, _a: Value| async move { Ok(CallToolResult::text("hi")) },
        )
        .build()
        .expect("the bench server builds")
}

async fn tool_call_figure(label: &str, store: Option<Arc<dyn RateLimitStore>>, n: usize) {
    let s = server();
    if let Some(store) = store {
        s.configure_rate_limits(RateLimitSettings {
            store: Some(store),
            tools: vec![("echo".into(), "1000000000/1h".parse().expect("a rate"))],
            ..Default::default()
        });
    }
    let c = mcpgen_runtime::testing::TestClient::connect(s)
        .await
        .expect("connects");
    let ns = per_call(n, |_| {
        let c = &c;
        async move {
            let _ = c.call_tool("echo", json!({})).await;
        }
    })
    .await;
    println!("| tools/call in process | {label} | {ns:.0} ns |");
}

struct Redis(std::process::Child);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_redis() -> Option<(Redis, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let dir = std::env::temp_dir().join(format!("mcpgen-bench-redis-{port}"));
    std::fs::create_dir_all(&dir).ok()?;
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--dir"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let redis = Redis(child);
    for _ in 0..250 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some((redis, format!("redis://127.0.0.1:{port}")));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

#[tokio::main]
async fn main() {
    println!("| store | what | per check |");
    println!("| --- | --- | --- |");
    let memory: Arc<dyn RateLimitStore> = Arc::new(MemoryStore::default());
    store_figures("memory", memory.clone(), 200_000).await;
    concurrent_figure("memory", memory.clone(), 200_000).await;
    let redis = start_redis().await;
    let redis_store = match &redis {
        Some((_, url)) => {
            let store: Arc<dyn RateLimitStore> =
                Arc::new(RedisStore::new(url).expect("a Redis URL"));
            store_figures("redis (loopback)", store.clone(), 5_000).await;
            concurrent_figure("redis (loopback)", store.clone(), 20_000).await;
            Some(store)
        }
        None => {
            println!("| redis | skipped: no redis-server (scripts/setup.sh installs it) | |");
            None
        }
    };
    tool_call_figure("no limits", None, 50_000).await;
    tool_call_figure("tool limit, memory", Some(memory), 50_000).await;
    if let Some(store) = redis_store {
        tool_call_figure("tool limit, redis", Some(store), 5_000).await;
    }
}
