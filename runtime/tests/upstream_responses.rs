//! Upstream tools, response side: each kind of response, HTTP errors,
//! unreachable upstreams, timeouts, retries, redirects, cancellation, and
//! upstream-backed resources.

mod upstream_support;

use base64::Engine;
use mcpgen_runtime::prelude::*;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use upstream_support::*;

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// One GET tool per path of the script's upstream.
async fn get_tools(
    paths: &[&str],
    extra: Value,
    script: impl Fn(&Captured, usize) -> Reply + Send + Sync + 'static,
) -> (Mcp, Upstream) {
    let mut b = Server::builder(INFO).upstream(&upstream_json(extra));
    for p in paths {
        b = b.upstream_tool(
            &tool(p),
            &json!({"method": "GET", "path": format!("/{p}")}).to_string(),
        );
    }
    let server = b.build().unwrap();
    let upstream = Upstream::start(script).await;
    configure(&server, &upstream.url, &[]);
    (Mcp::start(server).await, upstream)
}

#[tokio::test]
async fn each_kind_of_successful_response() {
    let png = [0x89, b'P', b'N', b'G', 0, 0xff];
    let (mcp, _u) = get_tools(
        &[
            "obj", "arr", "text", "png", "wav", "pdf", "empty", "untyped",
        ],
        json!({}),
        move |c, _| match c.path() {
            "/obj" => Reply::json(200, json!({"id": 1, "name": "Rex"})),
            "/arr" => Reply::json(200, json!([1, 2])),
            "/text" => Reply::text(200, "plain words"),
            "/png" => Reply::status(200).typed("image/png", png.to_vec()),
            "/wav" => Reply::status(200).typed("audio/wav", vec![1, 2, 3]),
            "/pdf" => Reply::status(200).typed("application/pdf", b"%PDF-1.7".to_vec()),
            "/untyped" => Reply::status(200).typed(" ", br#"{"a":1}"#.to_vec()),
            _ => Reply::status(204),
        },
    )
    .await;
    let r = mcp.call("obj", json!({})).await;
    assert_eq!(r["structuredContent"], json!({"id": 1, "name": "Rex"}));
    assert_eq!(text(&r), r#"{"id":1,"name":"Rex"}"#);
    assert!(!is_error(&r));

    let r = mcp.call("arr", json!({})).await;
    assert_eq!(
        r.get("structuredContent"),
        None,
        "structured content must be an object"
    );
    assert_eq!(text(&r), "[1,2]");

    let r = mcp.call("text", json!({})).await;
    assert_eq!(
        r,
        json!({"content": [{"type": "text", "text": "plain words"}]})
    );

    let r = mcp.call("png", json!({})).await;
    assert_eq!(
        r["content"][1],
        json!({"type": "image", "data": b64(&png), "mimeType": "image/png"})
    );
    assert_eq!(text(&r), "HTTP 200 OK: 6 bytes of image/png");

    let r = mcp.call("wav", json!({})).await;
    assert_eq!(
        r["content"][1],
        json!({"type": "audio", "data": b64(&[1, 2, 3]), "mimeType": "audio/wav"})
    );

    let r = mcp.call("pdf", json!({})).await;
    let uri = format!("{}/pdf", _u.url);
    assert_eq!(
        r["content"][1],
        json!({"type": "resource", "resource": {"uri": uri, "mimeType": "application/pdf", "blob": b64(b"%PDF-1.7")}})
    );

    let r = mcp.call("empty", json!({})).await;
    assert_eq!(text(&r), "HTTP 204 No Content");
    assert!(!is_error(&r));

    let r = mcp.call("untyped", json!({})).await;
    assert_eq!(
        r["structuredContent"],
        json!({"a": 1}),
        "JSON is sniffed without a Content-Type"
    );
}

#[tokio::test]
async fn wrapped_output_and_output_schema_mismatches() {
    let out = json!({"type": "object", "properties": {"result": {"type": "array", "items": {"type": "integer"}}}, "required": ["result"]});
    let server = Server::builder(INFO)
        .upstream(&upstream_json(json!({})))
        .upstream_tool(
            &json!({"name": "list", "inputSchema": {"type": "object"}, "outputSchema": out})
                .to_string(),
            r#"{"method":"GET","path":"/list","successSchemaWrapped":true}"#,
        )
        .build()
        .unwrap();
    let upstream = Upstream::start(|_, n| match n {
        0 => Reply::json(200, json!([1, 2])),
        1 => Reply::json(200, json!(["x"])),
        _ => Reply::text(200, "not json"),
    })
    .await;
    configure(&server, &upstream.url, &[]);
    let mcp = Mcp::start(server).await;
    let r = mcp.call("list", json!({})).await;
    assert_eq!(r["structuredContent"], json!({"result": [1, 2]}));
    assert!(!is_error(&r));
    // The API broke its own document: still a success carrying all the
    // data, with a one-line note saying where it departs.
    let r = mcp.call("list", json!({})).await;
    assert!(!is_error(&r), "{r}");
    assert_eq!(r["structuredContent"], json!({"result": ["x"]}));
    assert_eq!(r["content"][0]["text"], r#"["x"]"#);
    assert_eq!(
        r["content"][1]["text"],
        "Note: the response departs from the API's own description (`type` fails at /result/0 (the value is not of type \"integer\")); it is passed on as received."
    );
    let r = mcp.call("list", json!({})).await;
    assert!(!is_error(&r) && text(&r).contains("not json"), "{r}");
    assert_eq!(r["structuredContent"], json!({}));
}

#[tokio::test]
async fn the_declared_output_schema_accepts_what_real_apis_send() {
    let out = json!({"type": "object", "required": ["id"], "additionalProperties": false,
        "properties": {"id": {"type": "integer"}, "name": {"type": "string", "format": "email"}}});
    let server = Server::builder(INFO)
        .upstream(&upstream_json(json!({})))
        .upstream_tool(
            &json!({"name": "get", "inputSchema": {"type": "object"}, "outputSchema": out})
                .to_string(),
            r#"{"method":"GET","path":"/get"}"#,
        )
        .build()
        .unwrap();
    let mcp = Mcp::start(server).await;
    let list = mcp.request("tools/list", json!({})).await;
    let declared = &list["result"]["tools"][0]["outputSchema"];
    assert_eq!(
        declared,
        &json!({"type": "object", "properties": {"id": {}, "name": {}}}),
        "the shape stays, the assertions go"
    );
}

#[tokio::test]
async fn http_errors_are_tool_errors_with_status_and_body() {
    let big = "e".repeat(100 * 1024);
    let (mcp, _u) = get_tools(
        &["missing", "big", "binary"],
        json!({}),
        move |c, _| match c.path() {
            "/missing" => Reply::json(404, json!({"error": "no such pet"})),
            "/big" => Reply::text(500, &big),
            _ => Reply::status(502).typed("image/png", vec![0xff, 0xfe, 0]),
        },
    )
    .await;
    let r = mcp.call("missing", json!({})).await;
    assert!(is_error(&r));
    assert_eq!(
        text(&r),
        "HTTP 404 Not Found\n\n{\"error\":\"no such pet\"}"
    );

    let r = mcp.call("big", json!({})).await;
    let t = text(&r);
    assert!(t.starts_with("HTTP 500 Internal Server Error\n\neeee"));
    assert!(
        t.ends_with("\n[truncated: the first 65536 bytes of 102400 bytes]"),
        "{}",
        &t[t.len() - 80..]
    );
    assert!(t.len() < 66 * 1024);

    let r = mcp.call("binary", json!({})).await;
    assert_eq!(
        text(&r),
        "HTTP 502 Bad Gateway\n\n(3 bytes of image/png not shown)"
    );
}

#[tokio::test]
async fn refused_connections_and_unknown_hosts_are_tool_errors() {
    let server = single(
        json!({"method": "GET", "path": "/x"}),
        json!({"timeoutMs": 3000}),
    );
    let port = closed_port().await;
    configure(&server, &format!("http://127.0.0.1:{port}"), &[]);
    let mcp = Mcp::start(server.clone()).await;
    let r = mcp.call("op", json!({})).await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(
        t.starts_with(&format!("cannot connect to http://127.0.0.1:{port}: ")),
        "{t}"
    );
    assert!(t.contains(": tcp connect error: Connection refused"), "{t}");

    // TLS spoken to a plain HTTP server fails in the handshake.
    let plain = Upstream::ok().await;
    let tls = format!("https://{}", plain.addr);
    configure(&server, &tls, &[]);
    let r = mcp.call("op", json!({})).await;
    assert!(
        is_error(&r) && text(&r).starts_with(&format!("cannot connect to {tls}: ")),
        "{r}"
    );

    configure(&server, "http://nonexistent.invalid", &[]);
    let r = mcp.call("op", json!({})).await;
    assert!(is_error(&r));
    // Resolvers differ: NXDOMAIN at once, or no answer until the timeout.
    let t = text(&r);
    assert!(
        t.starts_with("cannot connect to http://nonexistent.invalid: dns error")
            || t.ends_with("http://nonexistent.invalid timed out after 3 s"),
        "{t}"
    );
}

#[tokio::test]
async fn slow_upstreams_time_out() {
    let (mcp, upstream) = get_tools(&["slow"], json!({"timeoutMs": 200}), |_, _| {
        Reply::text(200, "late").after(Duration::from_secs(5))
    })
    .await;
    let started = Instant::now();
    let r = mcp.call("slow", json!({})).await;
    assert!(is_error(&r));
    assert_eq!(
        text(&r),
        format!(
            "the upstream request to {} timed out after 0.2 s",
            upstream.url
        )
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn the_cli_timeout_overrides_the_descriptor() {
    let server = single(
        json!({"method": "GET", "path": "/slow"}),
        json!({"timeoutMs": 60000}),
    );
    let upstream =
        Upstream::start(|_, _| Reply::text(200, "late").after(Duration::from_secs(5))).await;
    let mut o = overrides(&upstream.url, &[]);
    o.timeout = Some(Duration::from_millis(150));
    server.configure_upstream(&o).unwrap();
    let r = Mcp::start(server).await.call("op", json!({})).await;
    assert!(text(&r).ends_with("timed out after 0.15 s"), "{r}");
}

/// Tools `get`, `post` and `post_idem` against one scripted upstream.
async fn retrying(
    max: u32,
    script: impl Fn(&Captured, usize) -> Reply + Send + Sync + 'static,
) -> (Mcp, Upstream) {
    let server = Server::builder(INFO)
        .upstream(&upstream_json(json!({"timeoutMs": 300, "retries": {"max": max, "initialBackoffMs": 1, "maxBackoffMs": 2000}})))
        .upstream_tool(&tool("get"), r#"{"method":"GET","path":"/r"}"#)
        .upstream_tool(&tool("post"), r#"{"method":"POST","path":"/r"}"#)
        .upstream_tool(&tool("post_idem"), r#"{"method":"POST","path":"/r","idempotent":true}"#)
        .build()
        .unwrap();
    let upstream = Upstream::start(script).await;
    configure(&server, &upstream.url, &[]);
    (Mcp::start(server).await, upstream)
}

#[tokio::test]
async fn idempotent_operations_are_retried_on_transient_statuses() {
    let (mcp, upstream) = retrying(2, |_, n| {
        if n % 3 < 2 {
            Reply::status(503)
        } else {
            Reply::json(200, json!({"n": n}))
        }
    })
    .await;
    let r = mcp.call("get", json!({})).await;
    assert_eq!(r["structuredContent"], json!({"n": 2}));
    assert_eq!(upstream.count(), 3, "two retries");

    upstream.clear();
    let r = mcp.call("post", json!({})).await;
    assert_eq!(upstream.count(), 1, "POST is never retried");
    assert!(
        is_error(&r) && text(&r) == "HTTP 503 Service Unavailable",
        "{r}"
    );

    upstream.clear();
    let r = mcp.call("post_idem", json!({})).await;
    assert_eq!(
        upstream.count(),
        3,
        "…unless the descriptor says it is idempotent"
    );
    assert!(!is_error(&r));
}

#[tokio::test]
async fn retries_stop_at_the_maximum_and_skip_other_errors() {
    let (mcp, upstream) = retrying(2, |c, _| match c.target.as_str() {
        _ if c.method == "GET" => Reply::status(502),
        _ => Reply::status(500),
    })
    .await;
    let r = mcp.call("get", json!({})).await;
    assert_eq!(upstream.count(), 3);
    assert_eq!(text(&r), "HTTP 502 Bad Gateway");
    upstream.clear();
    mcp.call("post_idem", json!({})).await;
    assert_eq!(upstream.count(), 1, "500 is not transient");
}

#[tokio::test]
async fn retry_after_is_honoured_within_bounds() {
    let (mcp, upstream) = retrying(3, |_, n| match n {
        0 => Reply::status(429).header("retry-after", "0"),
        1 => Reply::status(503).header("retry-after", "3600"),
        _ => Reply::json(200, json!({})),
    })
    .await;
    let started = Instant::now();
    let r = mcp.call("get", json!({})).await;
    // 429 with Retry-After: 0 is retried at once; then a server asking
    // for an hour gets its 503 passed on rather than a stuck call.
    assert_eq!(upstream.count(), 2);
    assert_eq!(text(&r), "HTTP 503 Service Unavailable");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn timeouts_are_retried_for_idempotent_operations() {
    let (mcp, upstream) = retrying(1, |_, n| {
        Reply::json(200, json!({"n": n})).after(if n == 0 {
            Duration::from_secs(5)
        } else {
            Duration::ZERO
        })
    })
    .await;
    let r = mcp.call("get", json!({})).await;
    assert_eq!(r["structuredContent"], json!({"n": 1}));
    assert_eq!(upstream.count(), 2);
}

#[tokio::test]
async fn the_cli_retry_count_overrides_the_descriptor() {
    let server = single(
        json!({"method": "GET", "path": "/r"}),
        json!({"retries": {"max": 5, "initialBackoffMs": 1}}),
    );
    let upstream = Upstream::start(|_, _| Reply::status(503)).await;
    let mut o = overrides(&upstream.url, &[]);
    o.max_retries = Some(1);
    server.configure_upstream(&o).unwrap();
    Mcp::start(server).await.call("op", json!({})).await;
    assert_eq!(upstream.count(), 2);
}

#[tokio::test]
async fn redirects_are_followed_only_within_the_origin() {
    let elsewhere = Upstream::ok().await;
    let target = format!("{}/stolen", elsewhere.url);
    let (mcp, upstream) = get_tools(&["here", "away", "final"], json!({}), move |c, _| {
        match c.path() {
            "/here" => Reply::status(302).header("location", "/final"),
            "/away" => Reply::status(302).header("location", &target),
            _ => Reply::json(200, json!({"at": "final"})),
        }
    })
    .await;
    let r = mcp.call("here", json!({})).await;
    assert_eq!(r["structuredContent"], json!({"at": "final"}));
    let r = mcp.call("away", json!({})).await;
    assert!(is_error(&r));
    assert!(
        text(&r).starts_with("HTTP 302 Found\nredirect to http://127.0.0.1:"),
        "{r}"
    );
    assert_eq!(
        elsewhere.count(),
        0,
        "credentials never travel to another origin"
    );
    assert_eq!(upstream.count(), 3);
}

fn gzip(b: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn compress(encoding: &str, b: &[u8]) -> Vec<u8> {
    use std::io::Write;
    match encoding {
        "gzip" => gzip(b),
        // HTTP's "deflate" is the zlib format (RFC 9110 §8.4.1.2).
        "deflate" => {
            let mut e = flate2::write::ZlibEncoder::new(vec![], flate2::Compression::default());
            e.write_all(b).unwrap();
            e.finish().unwrap()
        }
        "br" => {
            let mut out = vec![];
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            w.write_all(b).unwrap();
            drop(w);
            out
        }
        "zstd" => zstd::encode_all(b, 3).unwrap(),
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn compressed_responses_are_decoded() {
    let data = json!({"compressed": true, "text": "é ".repeat(2000)});
    let body = data.to_string();
    let (mcp, u) = get_tools(
        &["gzip", "deflate", "br", "zstd", "error"],
        json!({}),
        move |c, _| match c.path() {
            "/error" => Reply::status(500)
                .typed("text/plain", gzip(b"the upstream broke"))
                .header("content-encoding", "gzip"),
            p => Reply::status(200)
                .typed("application/json", compress(&p[1..], body.as_bytes()))
                .header("content-encoding", &p[1..]),
        },
    )
    .await;
    for encoding in ["gzip", "deflate", "br", "zstd"] {
        let r = mcp.call(encoding, json!({})).await;
        assert!(!is_error(&r), "{encoding}: {r}");
        assert_eq!(r["structuredContent"], data, "{encoding}");
        assert_eq!(
            u.last().header("accept-encoding"),
            Some("zstd,gzip,deflate,br")
        );
    }
    let r = mcp.call("error", json!({})).await;
    assert!(is_error(&r));
    assert_eq!(
        text(&r),
        "HTTP 500 Internal Server Error\n\nthe upstream broke"
    );
}

#[tokio::test]
async fn unknown_or_corrupt_content_encodings_are_tool_errors() {
    let (mcp, u) = get_tools(
        &[
            "compress",
            "twice",
            "corrupt",
            "identity",
            "bomb",
            "forbidden",
        ],
        json!({"maxResponseBytes": 100_000}),
        |c, _| match c.path() {
            "/compress" => {
                Reply::text(200, "\u{1f}\u{9d}LZW bytes").header("content-encoding", "compress")
            }
            // Stacked encodings are not undone (the client handles one).
            "/twice" => Reply::status(200)
                .typed("application/json", gzip(&gzip(b"{}")))
                .header("content-encoding", "gzip, gzip"),
            "/corrupt" => Reply::text(200, "not gzip at all").header("content-encoding", "gzip"),
            "/identity" => Reply::text(200, "plain").header("content-encoding", "identity"),
            // 1 MB of zeros in about 1 KB: reading stops at the limit.
            "/bomb" => Reply::status(200)
                .typed("text/plain", gzip(&vec![b'0'; 1_000_000]))
                .header("content-encoding", "gzip"),
            _ => Reply::text(403, "\u{1f}\u{9d}LZW bytes").header("content-encoding", "compress"),
        },
    )
    .await;
    let r = mcp.call("compress", json!({})).await;
    assert!(is_error(&r));
    assert_eq!(
        text(&r),
        "The upstream answered HTTP 200 OK with Content-Encoding compress, which cannot be decoded (supported: gzip, deflate, br, zstd); 12 bytes not shown"
    );
    let r = mcp.call("twice", json!({})).await;
    assert!(is_error(&r));
    assert!(
        text(&r).contains("Content-Encoding gzip, gzip, which cannot be decoded"),
        "{r}"
    );
    let r = mcp.call("corrupt", json!({})).await;
    assert!(is_error(&r));
    assert!(
        text(&r).starts_with(&format!(
            "cannot decode the upstream response from {}: ",
            u.url
        )),
        "{r}"
    );
    let r = mcp.call("identity", json!({})).await;
    assert_eq!(
        (is_error(&r), text(&r)),
        (false, "plain"),
        "identity is no encoding"
    );
    let r = mcp.call("bomb", json!({})).await;
    assert_eq!(
        text(&r),
        "the upstream response is larger than 100000 bytes; refusing to read it"
    );
    let r = mcp.call("forbidden", json!({})).await;
    assert!(is_error(&r));
    assert_eq!(
        text(&r),
        "HTTP 403 Forbidden\n\n(12 bytes with Content-Encoding compress not shown: it cannot be decoded)"
    );
}

#[tokio::test]
async fn oversized_responses_are_refused() {
    let (mcp, _u) = get_tools(&["huge"], json!({"maxResponseBytes": 1000}), |_, _| {
        Reply::text(200, &"x".repeat(5000))
    })
    .await;
    let r = mcp.call("huge", json!({})).await;
    assert!(is_error(&r));
    assert_eq!(
        text(&r),
        "the upstream response is larger than 1000 bytes; refusing to read it"
    );
}

#[tokio::test]
async fn cancelling_a_call_aborts_the_upstream_request() {
    // A raw socket that never answers and notes when the client hangs up.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (arrived_tx, arrived) = tokio::sync::oneshot::channel();
    let (closed_tx, closed) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut seen = vec![];
        let mut buf = [0u8; 4096];
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut buf).await.unwrap();
            seen.extend_from_slice(&buf[..n]);
        }
        let _ = arrived_tx.send(());
        let eof = sock.read(&mut buf).await;
        let _ = closed_tx.send((Instant::now(), matches!(eof, Ok(0) | Err(_))));
    });
    let server = single(
        json!({"method": "GET", "path": "/slow"}),
        json!({"timeoutMs": 30000}),
    );
    configure(&server, &format!("http://{addr}"), &[]);
    let mcp = Mcp::start(server).await;
    let id = mcp.next_id();
    let call = {
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "op", "arguments": {}}});
        let (server, session) = (mcp.server.clone(), mcp.session.clone());
        tokio::spawn(async move {
            let (out, _rx) = mcpgen_runtime::session::Outbound::channel();
            let msg = mcpgen_runtime::jsonrpc::Message::from_value(msg).unwrap();
            server.handle(&session, msg, out).await
        })
    };
    tokio::time::timeout(Duration::from_secs(10), arrived)
        .await
        .unwrap()
        .unwrap();
    let cancelled_at = Instant::now();
    mcp.send(
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": id}}),
    )
    .await;
    let (closed_at, hung_up) = tokio::time::timeout(Duration::from_secs(5), closed)
        .await
        .unwrap()
        .unwrap();
    assert!(hung_up);
    // Well inside the runtime's 500 ms grace period: the upstream request
    // was dropped by the call itself, not by the fallback abort.
    assert!(
        closed_at - cancelled_at < Duration::from_millis(400),
        "{:?}",
        closed_at - cancelled_at
    );
    assert!(
        call.await.unwrap().is_none(),
        "a cancelled request gets no response"
    );
}

#[tokio::test]
async fn upstream_resources_and_templates() {
    let server = Server::builder(INFO)
        .upstream(&upstream_json(json!({})))
        .upstream_resource(
            r#"{"uri":"api://status","name":"status","mimeType":"application/json"}"#,
            r#"{"method":"GET","path":"/status"}"#,
        )
        .upstream_resource_template(
            r#"{"uriTemplate":"api://pets/{petId}","name":"pet"}"#,
            r#"{"method":"GET","path":"/pets/{petId}","parameters":[{"name":"petId","in":"path","arg":"petId","required":true}]}"#,
        )
        .upstream_resource_template(
            r#"{"uriTemplate":"api://photos/{id}","name":"photo"}"#,
            r#"{"method":"GET","path":"/photos/{id}","parameters":[{"name":"id","in":"path","arg":"id"}]}"#,
        )
        .build()
        .unwrap();
    let upstream = Upstream::start(|c, _| match c.path() {
        "/status" => Reply::json(200, json!({"up": true})),
        "/pets/7" => Reply::text(200, "Rex"),
        "/photos/1" => Reply::status(200).typed("image/png", vec![1, 2]),
        "/pets/9" => Reply::status(500),
        _ => Reply::status(404),
    })
    .await;
    configure(&server, &upstream.url, &[]);
    let mcp = Mcp::start(server).await;
    let read = |uri: &str| mcp.request("resources/read", json!({"uri": uri}));
    assert_eq!(
        read("api://status").await["result"]["contents"][0],
        json!({"uri": "api://status", "mimeType": "application/json", "text": "{\"up\":true}"})
    );
    assert_eq!(
        read("api://pets/7").await["result"]["contents"][0],
        json!({"uri": "api://pets/7", "mimeType": "text/plain", "text": "Rex"})
    );
    assert_eq!(
        read("api://photos/1").await["result"]["contents"][0]["blob"],
        b64(&[1, 2])
    );
    assert_eq!(read("api://pets/8").await["error"]["code"], -32002);
    let e = read("api://pets/9").await;
    assert_eq!(e["error"]["code"], -32603);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("HTTP 500"),
        "{e}"
    );
    assert_eq!(
        upstream
            .all()
            .iter()
            .map(|c| c.target.as_str())
            .collect::<Vec<_>>(),
        ["/status", "/pets/7", "/photos/1", "/pets/8", "/pets/9"]
    );
}

#[test]
fn resources_must_be_reads_whose_inputs_the_uri_provides() {
    let build = |descriptor: &str, op: &str, template: bool| {
        let b = Server::builder(INFO).upstream(&upstream_json(json!({})));
        let b = if template {
            b.upstream_resource_template(descriptor, op)
        } else {
            b.upstream_resource(descriptor, op)
        };
        b.build().err().map(|e| e.to_string()).unwrap_or_default()
    };
    let e = build(
        r#"{"uri":"api://x","name":"x"}"#,
        r#"{"method":"POST","path":"/x"}"#,
        false,
    );
    assert!(e.contains("only GET"), "{e}");
    let e = build(
        r#"{"uri":"api://x","name":"x"}"#,
        r#"{"method":"GET","path":"/x","parameters":[{"name":"q","in":"query","arg":"q","required":true}]}"#,
        false,
    );
    assert!(e.contains("`q` is not a variable"), "{e}");
    let e = build(
        r#"{"uriTemplate":"api://p/{id}","name":"p"}"#,
        r#"{"method":"GET","path":"/p/{pid}","parameters":[{"name":"pid","in":"path","arg":"pid"}]}"#,
        true,
    );
    assert!(e.contains("`pid` is not a variable"), "{e}");
}
