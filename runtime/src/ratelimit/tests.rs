use super::*;
use std::time::Instant;

fn rate(s: &str) -> Rate {
    s.parse().unwrap()
}

#[test]
fn rates_parse_and_print() {
    assert_eq!(
        rate("100/1m"),
        Rate {
            limit: 100,
            interval: Duration::from_secs(60)
        }
    );
    assert_eq!(rate("10/s").interval, Duration::from_secs(1));
    assert_eq!(rate("5/500ms").interval, Duration::from_millis(500));
    assert_eq!(rate(" 3 / 2h ").interval, Duration::from_secs(7200));
    assert_eq!(rate("1/90s").to_string(), "1/90s");
    assert_eq!(rate("100/60s").to_string(), "100/1m");
    assert_eq!(rate("7/1500ms").to_string(), "7/1500ms");
    for bad in [
        "", "100", "0/1m", "-1/1m", "x/1m", "10/", "10/0s", "10/1w", "10/999d",
    ] {
        assert!(bad.parse::<Rate>().is_err(), "{bad}");
    }
}

#[test]
fn fail_modes_parse() {
    assert_eq!("open".parse(), Ok(FailMode::Open));
    assert_eq!("Closed".parse(), Ok(FailMode::Closed));
    assert!("maybe".parse::<FailMode>().is_err());
}

#[test]
fn limits_read_the_generated_json() {
    let l = Limits::from_json(
        r#"{"tools":{"search":"5/1m"},"perClient":"10/1s","server":"100/1m","global":"1000/1h"}"#,
    )
    .unwrap();
    assert_eq!(l.tools["search"], rate("5/1m"));
    assert_eq!(l.per_client, Some(rate("10/1s")));
    assert_eq!(l.server, Some(rate("100/1m")));
    assert_eq!(l.global, Some(rate("1000/1h")));
    assert!(Limits::from_json(r#"{"perIp":"1/1s"}"#).is_err());
    assert!(Limits::from_json(r#"{"server":"lots"}"#).is_err());
    assert!(Limits::from_json(r#"{"server":5}"#).is_err());
}

#[test]
fn memory_store_allows_a_burst_of_limit_then_says_when() {
    let store = MemoryStore::default();
    let r = rate("3/3s");
    let t0 = Instant::now();
    for _ in 0..3 {
        assert_eq!(store.acquire_at("k", r, t0), Decision::Allow);
    }
    assert_eq!(
        store.acquire_at("k", r, t0),
        Decision::Deny {
            retry_after: Duration::from_secs(1)
        }
    );
    // A refused call is not counted: the wait shrinks with time only.
    assert_eq!(
        store.acquire_at("k", r, t0 + Duration::from_millis(400)),
        Decision::Deny {
            retry_after: Duration::from_millis(600)
        }
    );
    assert_eq!(
        store.acquire_at("k", r, t0 + Duration::from_secs(1)),
        Decision::Allow
    );
    // Other keys have their own counters.
    assert_eq!(store.acquire_at("other", r, t0), Decision::Allow);
    // After a full interval the whole burst is back.
    let later = t0 + Duration::from_secs(10);
    for _ in 0..3 {
        assert_eq!(store.acquire_at("k", r, later), Decision::Allow);
    }
    assert!(matches!(
        store.acquire_at("k", r, later),
        Decision::Deny { .. }
    ));
}

#[test]
fn memory_store_forgets_expired_keys() {
    let store = MemoryStore::default();
    let r = rate("1/1s");
    let t0 = Instant::now();
    for i in 0..2000 {
        store.acquire_at(&format!("ip:{i}"), r, t0);
    }
    assert_eq!(store.len(), 2000, "live keys are all kept");
    let later = t0 + Duration::from_secs(5);
    for i in 0..100 {
        store.acquire_at(&format!("late:{i}"), r, later);
    }
    // Without a sweep there would be 2100; the expired 2000 went.
    assert!(store.len() <= 100, "{}", store.len());
}

#[test]
fn exceeded_names_the_limit_and_rounds_the_wait_up() {
    let e = Exceeded {
        level: Level::Tool,
        rate: rate("5/1m"),
        retry_after: Duration::from_millis(11_200),
        unchecked: false,
    };
    assert_eq!(e.retry_after_secs(), 12);
    assert_eq!(
        e.to_string(),
        "rate limit exceeded: the tool limit of 5/1m; retry after 12 s"
    );
    let tiny = Exceeded {
        retry_after: Duration::from_micros(3),
        ..e
    };
    assert_eq!(tiny.retry_after_secs(), 1);
}

/// A store that never answers in time, as a Redis that went away.
struct DownStore;

impl RateLimitStore for DownStore {
    fn acquire<'a>(
        &'a self,
        _key: &'a str,
        _rate: Rate,
    ) -> BoxFuture<'a, Result<Decision, StoreError>> {
        Box::pin(async {
            Err(StoreError {
                store: "down".into(),
                message: "connection refused".into(),
            })
        })
    }
    fn describe(&self) -> String {
        "down".into()
    }
}

fn limiter(limits: &str) -> RateLimiter {
    RateLimiter::new("srv".into(), Limits::from_json(limits).unwrap())
}

#[tokio::test]
async fn http_levels_are_checked_most_specific_first() {
    let l = limiter(r#"{"perClient":"2/1h","server":"3/1h","global":"4/1h"}"#);
    let a = Principal::Ip("10.0.0.1".parse().unwrap());
    let b = Principal::Ip("10.0.0.2".parse().unwrap());
    let c = Principal::Authenticated("carol".into());
    assert!(l.check_request(&a).await.is_ok());
    assert!(l.check_request(&a).await.is_ok());
    let e = l.check_request(&a).await.unwrap_err();
    assert_eq!(e.level, Level::PerClient);
    // a's third request stopped at its own limit: the server counted two.
    assert!(l.check_request(&b).await.is_ok());
    let e = l.check_request(&b).await.unwrap_err();
    assert_eq!((e.level, e.rate), (Level::Server, rate("3/1h")));
    assert_eq!(l.check_request(&c).await.unwrap_err().level, Level::Server);
}

#[tokio::test]
async fn the_global_limit_spans_servers_sharing_a_store() {
    let store: Arc<dyn RateLimitStore> = Arc::new(MemoryStore::default());
    let settings = RateLimitSettings {
        store: Some(store),
        global: Some(rate("3/1h")),
        server: Some(rate("2/1h")),
        ..Default::default()
    };
    let one = RateLimiter::new("one".into(), Limits::default());
    let two = RateLimiter::new("two".into(), Limits::default());
    one.configure(settings.clone());
    two.configure(settings);
    let p = Principal::Unknown;
    assert!(one.check_request(&p).await.is_ok());
    assert!(one.check_request(&p).await.is_ok());
    assert_eq!(
        one.check_request(&p).await.unwrap_err().level,
        Level::Server
    );
    assert!(two.check_request(&p).await.is_ok());
    assert_eq!(
        two.check_request(&p).await.unwrap_err().level,
        Level::Global
    );
}

#[tokio::test]
async fn tool_limits_count_one_tool_only() {
    let l = limiter(r#"{"tools":{"search":"1/1h"}}"#);
    assert!(l.check_tool("search").await.is_ok());
    let e = l.check_tool("search").await.unwrap_err();
    assert_eq!(e.level, Level::Tool);
    assert!(l.check_tool("other").await.is_ok());
    assert!(l.check_tool("other").await.is_ok());
    // Tool limits do not limit HTTP requests.
    assert!(l.check_request(&Principal::Unknown).await.is_ok());
}

/// The transport and the tool path skip the checks these say have
/// nothing to apply: each is true exactly where its check counts (the
/// second call within a 1/1h limit is refused) and false where the check
/// lets every call through.
#[tokio::test]
async fn the_skip_tests_match_what_the_checks_would_apply() {
    let client = Principal::Ip("10.0.0.1".parse().unwrap());
    let l = limiter(r#"{"tools":{"search":"1/1h"}}"#);
    assert!(l.limits_tool("search"));
    assert!(l.check_tool("search").await.is_ok());
    assert!(l.check_tool("search").await.is_err(), "search is limited");
    assert!(!l.limits_tool("other"));
    assert!(!l.limits_requests());
    for _ in 0..3 {
        assert!(l.check_tool("other").await.is_ok());
        assert!(l.check_request(&client).await.is_ok());
    }
    for json in [
        r#"{"perClient":"1/1h"}"#,
        r#"{"server":"1/1h"}"#,
        r#"{"global":"1/1h"}"#,
    ] {
        let l = limiter(json);
        assert!(l.limits_requests(), "{json}");
        assert!(l.check_request(&client).await.is_ok(), "{json}");
        assert!(l.check_request(&client).await.is_err(), "{json}");
        assert!(!l.limits_tool("search"), "{json}");
        for _ in 0..3 {
            assert!(l.check_tool("search").await.is_ok(), "{json}");
        }
    }
    let none = RateLimiter::new("srv".into(), Limits::default());
    assert!(!none.limits_requests());
    assert!(!none.limits_tool("search"));
}

#[tokio::test]
async fn no_limits_means_no_store_calls() {
    let l = RateLimiter::new("srv".into(), Limits::default());
    l.configure(RateLimitSettings {
        store: Some(Arc::new(DownStore)),
        fail: FailMode::Closed,
        ..Default::default()
    });
    assert!(l.check_request(&Principal::Unknown).await.is_ok());
    assert!(l.check_tool("any").await.is_ok());
}

#[tokio::test]
async fn a_failed_store_follows_the_fail_mode() {
    for (fail, passes) in [(FailMode::Open, true), (FailMode::Closed, false)] {
        let l = limiter(r#"{"server":"100/1s","tools":{"t":"100/1s"}}"#);
        l.configure(RateLimitSettings {
            store: Some(Arc::new(DownStore)),
            fail,
            ..Default::default()
        });
        let request = l.check_request(&Principal::Unknown).await;
        let tool = l.check_tool("t").await;
        assert_eq!((request.is_ok(), tool.is_ok()), (passes, passes));
        if let Err(e) = tool {
            assert_eq!(
                e.to_string(),
                "rate limit not checked: the tool limit of 100/1s could not be read from \
                 the rate-limit store (unavailable; fail closed); retry after 1 s"
            );
        }
    }
}

#[tokio::test]
async fn flags_replace_declared_limits_level_by_level() {
    let l = limiter(r#"{"server":"1/1h","perClient":"1/1h"}"#);
    l.configure(RateLimitSettings {
        server: Some(rate("5/1h")),
        ..Default::default()
    });
    let a = l.active().unwrap();
    assert_eq!(a.limits.server, Some(rate("5/1h")));
    assert_eq!(a.limits.per_client, Some(rate("1/1h")));
}

#[test]
fn stores_are_named_by_url() {
    assert_eq!(store_from_str("memory").unwrap().describe(), "memory");
    assert!(store_from_str("postgres://x").is_err());
    #[cfg(feature = "redis")]
    assert_eq!(
        store_from_str("redis://127.0.0.1:1").unwrap().describe(),
        "redis://127.0.0.1:1"
    );
}
