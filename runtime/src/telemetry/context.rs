//! W3C trace context (`traceparent`, `tracestate`) in and out: read from a
//! request's `params._meta` or its HTTP headers, written into upstream
//! requests.

use opentelemetry::Context;
#[cfg(feature = "upstream")]
use opentelemetry::propagation::Injector;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use serde_json::Value;

/// The trace a request continues: its `_meta.traceparent` if it has one
/// (the MCP semantic conventions' place, which also crosses stdio), else
/// its HTTP `traceparent` header. None when neither holds a valid one.
pub(crate) fn extract(meta: Option<&Value>, headers: Option<&http::HeaderMap>) -> Option<Context> {
    let p = TraceContextPropagator::new();
    let valid = |cx: Context| cx.span().span_context().is_valid().then_some(cx);
    meta.and_then(Value::as_object)
        .and_then(|m| valid(p.extract(&Meta(m))))
        .or_else(|| headers.and_then(|h| valid(p.extract(&Headers(h)))))
}

#[cfg(feature = "upstream")]
/// Write `cx` into outgoing HTTP headers (`traceparent`, `tracestate`),
/// replacing any the request already had.
pub(crate) fn inject(cx: &Context, headers: &mut http::HeaderMap) {
    TraceContextPropagator::new().inject_context(cx, &mut HeadersMut(headers));
}

struct Meta<'a>(&'a serde_json::Map<String, Value>);

impl Extractor for Meta<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

#[cfg(feature = "upstream")]
struct HeadersMut<'a>(&'a mut http::HeaderMap);

#[cfg(feature = "upstream")]
impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(n, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    fn trace_id(cx: &Context) -> String {
        cx.span().span_context().trace_id().to_string()
    }

    #[test]
    fn meta_wins_over_headers_and_garbage_is_ignored() {
        let mut h = http::HeaderMap::new();
        h.insert(
            "traceparent",
            "00-11111111111111111111111111111111-2222222222222222-01"
                .parse()
                .unwrap(),
        );
        let meta = json!({ "traceparent": PARENT });
        let cx = extract(Some(&meta), Some(&h)).unwrap();
        assert_eq!(trace_id(&cx), "0af7651916cd43dd8448eb211c80319c");
        let cx = extract(Some(&json!({ "traceparent": "junk" })), Some(&h)).unwrap();
        assert_eq!(trace_id(&cx), "11111111111111111111111111111111");
        assert!(extract(Some(&json!({ "traceparent": 7 })), None).is_none());
        assert!(extract(None, None).is_none());
    }

    #[cfg(feature = "upstream")]
    #[test]
    fn injection_writes_traceparent() {
        let meta = json!({ "traceparent": PARENT, "tracestate": "k=v" });
        let cx = extract(Some(&meta), None).unwrap();
        let mut h = http::HeaderMap::new();
        h.insert("traceparent", "old".parse().unwrap());
        inject(&cx, &mut h);
        assert_eq!(h.get("traceparent").unwrap(), PARENT);
        assert_eq!(h.get("tracestate").unwrap(), "k=v");
    }
}
