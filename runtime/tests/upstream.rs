//! Upstream tools, request side: what the upstream API receives for each
//! parameter style (the OpenAPI 3.1.1 style examples table), injection
//! attempts through path and header values, and every kind of body.

mod upstream_support;

use mcpgen_runtime::prelude::*;
use mcpgen_runtime::upstream::UpstreamOverrides;
use upstream_support::*;

/// The table's `color` values: empty string, string, array, object.
fn values() -> [Value; 4] {
    [
        json!(""),
        json!("blue"),
        json!(["blue", "black", "brown"]),
        json!({"R": 100, "G": 200, "B": 150}),
    ]
}

/// A server with one tool per (style, explode) of `location`, named
/// `{style}_{explode}`, each sending `color` to `path`.
fn styles_server(location: &str, path: &str, rows: &[(&str, bool)]) -> Server {
    let mut b = Server::builder(INFO).upstream(&upstream_json(json!({})));
    for (style, explode) in rows {
        let kind = if *style == "deepObject" {
            "object"
        } else {
            "primitive"
        };
        let op = json!({"method": "GET", "path": path, "parameters": [
            {"name": "color", "in": location, "arg": "color", "style": style, "explode": explode, "kind": kind}
        ]});
        b = b.upstream_tool(&tool(&format!("{style}_{explode}")), &op.to_string());
    }
    b.build().expect("server builds")
}

/// Call every (style, explode, value) and compare what `seen` extracts
/// from the upstream request with the table; None = not sent as a cell.
async fn check_table(
    location: &str,
    path: &str,
    table: &[(&str, bool, [Option<&str>; 4])],
    seen: impl Fn(&Captured) -> String,
) {
    let rows: Vec<(&str, bool)> = table.iter().map(|(s, e, _)| (*s, *e)).collect();
    let server = styles_server(location, path, &rows);
    let upstream = Upstream::ok().await;
    configure(&server, &upstream.url, &[]);
    let mcp = Mcp::start(server).await;
    for (style, explode, cells) in table {
        for (value, want) in values().iter().zip(cells) {
            let Some(want) = want else { continue };
            upstream.clear();
            let r = mcp
                .call(&format!("{style}_{explode}"), json!({"color": value}))
                .await;
            assert!(!is_error(&r), "{style} {explode} {value}: {r}");
            assert_eq!(
                seen(&upstream.one()),
                *want,
                "{location} {style} explode={explode} {value}"
            );
        }
    }
}

#[tokio::test]
async fn path_styles_match_the_openapi_table() {
    // The table's empty column for `simple` is the empty string; an empty
    // path value is refused instead (see path_values_must_not_be_empty).
    check_table(
        "path",
        "/p/{color}",
        &[
            (
                "matrix",
                false,
                [
                    Some(";color"),
                    Some(";color=blue"),
                    Some(";color=blue,black,brown"),
                    Some(";color=R,100,G,200,B,150"),
                ],
            ),
            (
                "matrix",
                true,
                [
                    Some(";color"),
                    Some(";color=blue"),
                    Some(";color=blue;color=black;color=brown"),
                    Some(";R=100;G=200;B=150"),
                ],
            ),
            (
                "label",
                true,
                [
                    None,
                    Some(".blue"),
                    Some(".blue.black.brown"),
                    Some(".R=100.G=200.B=150"),
                ],
            ),
            (
                "label",
                false,
                [
                    None,
                    Some(".blue"),
                    Some(".blue,black,brown"),
                    Some(".R,100,G,200,B,150"),
                ],
            ),
            (
                "simple",
                false,
                [
                    None,
                    Some("blue"),
                    Some("blue,black,brown"),
                    Some("R,100,G,200,B,150"),
                ],
            ),
            (
                "simple",
                true,
                [
                    None,
                    Some("blue"),
                    Some("blue,black,brown"),
                    Some("R=100,G=200,B=150"),
                ],
            ),
        ],
        |c| c.path().strip_prefix("/p/").unwrap().to_owned(),
    )
    .await;
}

#[tokio::test]
async fn label_style_empty_value_is_a_lone_dot() {
    // `.` alone would be a dot segment; inside a segment it is fine.
    check_table(
        "path",
        "/p/x{color}",
        &[
            ("label", false, [Some("."), None, None, None]),
            ("label", true, [Some("."), None, None, None]),
        ],
        |c| c.path().strip_prefix("/p/x").unwrap().to_owned(),
    )
    .await;
}

#[tokio::test]
async fn query_styles_match_the_openapi_table() {
    check_table(
        "query",
        "/q",
        &[
            (
                "form",
                false,
                [
                    Some("color="),
                    Some("color=blue"),
                    Some("color=blue,black,brown"),
                    Some("color=R,100,G,200,B,150"),
                ],
            ),
            (
                "form",
                true,
                [
                    Some("color="),
                    Some("color=blue"),
                    Some("color=blue&color=black&color=brown"),
                    Some("R=100&G=200&B=150"),
                ],
            ),
            (
                "spaceDelimited",
                false,
                [
                    None,
                    None,
                    Some("color=blue%20black%20brown"),
                    Some("color=R%20100%20G%20200%20B%20150"),
                ],
            ),
            (
                "pipeDelimited",
                false,
                [
                    None,
                    None,
                    Some("color=blue%7Cblack%7Cbrown"),
                    Some("color=R%7C100%7CG%7C200%7CB%7C150"),
                ],
            ),
            (
                "deepObject",
                true,
                [
                    None,
                    None,
                    None,
                    Some("color%5BR%5D=100&color%5BG%5D=200&color%5BB%5D=150"),
                ],
            ),
        ],
        |c| c.query().unwrap_or("").to_owned(),
    )
    .await;
}

#[tokio::test]
async fn header_style_matches_the_openapi_table() {
    check_table(
        "header",
        "/h",
        &[
            (
                "simple",
                false,
                [
                    Some(""),
                    Some("blue"),
                    Some("blue,black,brown"),
                    Some("R,100,G,200,B,150"),
                ],
            ),
            (
                "simple",
                true,
                [
                    Some(""),
                    Some("blue"),
                    Some("blue,black,brown"),
                    Some("R=100,G=200,B=150"),
                ],
            ),
        ],
        |c| c.header("color").unwrap().to_owned(),
    )
    .await;
}

#[tokio::test]
async fn cookie_form_style_separates_pairs_with_semicolons() {
    check_table(
        "cookie",
        "/c",
        &[
            (
                "form",
                false,
                [
                    Some("color="),
                    Some("color=blue"),
                    Some("color=blue,black,brown"),
                    Some("color=R,100,G,200,B,150"),
                ],
            ),
            (
                "form",
                true,
                [
                    Some("color="),
                    Some("color=blue"),
                    Some("color=blue; color=black; color=brown"),
                    Some("R=100; G=200; B=150"),
                ],
            ),
        ],
        |c| c.header("cookie").unwrap().to_owned(),
    )
    .await;
}

#[tokio::test]
async fn query_values_are_encoded_unless_reserved_characters_are_allowed() {
    let server = Server::builder(INFO)
        .upstream(&upstream_json(json!({})))
        .upstream_tool(
            &tool("op"),
            &json!({"method": "GET", "path": "/s", "parameters": [
                {"name": "q", "in": "query", "arg": "q"},
                {"name": "r", "in": "query", "arg": "r", "allowReserved": true},
                {"name": "filter[name]", "in": "query", "arg": "f"},
                {"name": "j", "in": "query", "arg": "j", "contentType": "application/json"},
                {"name": "n", "in": "query", "arg": "n"}
            ]})
            .to_string(),
        )
        .build()
        .unwrap();
    let upstream = Upstream::ok().await;
    configure(&server, &upstream.url, &[]);
    let mcp = Mcp::start(server).await;
    let v = "a/b?c=d&e+f g#h%2F";
    let r = mcp
        .call(
            "op",
            json!({"q": v, "r": v, "f": "x", "j": {"lat": 1.5}, "n": null}),
        )
        .await;
    assert!(!is_error(&r), "{r}");
    assert_eq!(
        upstream.one().query().unwrap(),
        "q=a%2Fb%3Fc%3Dd%26e%2Bf%20g%23h%252F&r=a/b?c=d%26e%2Bf%20g%23h%2F&filter%5Bname%5D=x&j=%7B%22lat%22%3A1.5%7D"
    );
}

#[tokio::test]
async fn path_values_cannot_escape_their_segment() {
    let server = single(
        json!({"method": "GET", "path": "/files/{name}/meta", "parameters": [
            {"name": "name", "in": "path", "arg": "name", "required": true}
        ]}),
        json!({}),
    );
    let upstream = Upstream::ok().await;
    configure(&server, &format!("{}/api/v1", upstream.url), &[]);
    let mcp = Mcp::start(server).await;
    for (value, path) in [
        ("../", "/api/v1/files/..%2F/meta"),
        ("../../admin", "/api/v1/files/..%2F..%2Fadmin/meta"),
        ("?x=1", "/api/v1/files/%3Fx%3D1/meta"),
        ("#frag", "/api/v1/files/%23frag/meta"),
        ("%2F", "/api/v1/files/%252F/meta"),
        ("/", "/api/v1/files/%2F/meta"),
        ("a\\b", "/api/v1/files/a%5Cb/meta"),
        ("...", "/api/v1/files/.../meta"),
        ("ü ö", "/api/v1/files/%C3%BC%20%C3%B6/meta"),
        ("%2e%2E", "/api/v1/files/%252e%252E/meta"),
    ] {
        upstream.clear();
        let r = mcp.call("op", json!({"name": value})).await;
        assert!(!is_error(&r), "{value}: {r}");
        let c = upstream.one();
        assert_eq!(c.target, path, "{value}");
    }
    // A whole `.` or `..` segment cannot be encoded away (URL parsers
    // resolve %2E%2E too), so it is refused before anything is sent.
    upstream.clear();
    for value in ["..", "."] {
        let r = mcp.call("op", json!({"name": value})).await;
        assert!(is_error(&r), "{value}: {r}");
        assert!(text(&r).contains("`name`"), "{}", text(&r));
    }
    assert_eq!(upstream.count(), 0);
}

#[tokio::test]
async fn path_values_must_not_be_empty() {
    let server = single(
        json!({"method": "DELETE", "path": "/users/{id}", "parameters": [
            {"name": "id", "in": "path", "arg": "id", "required": true, "kind": "array"}
        ]}),
        json!({}),
    );
    let upstream = Upstream::ok().await;
    configure(&server, &upstream.url, &[]);
    let mcp = Mcp::start(server).await;
    // `DELETE /users/` is not what anyone asked for.
    for v in [json!(""), json!([]), json!({})] {
        let r = mcp.call("op", json!({"id": v})).await;
        assert!(is_error(&r), "{v}: {r}");
        assert!(text(&r).contains("`id` is empty"), "{}", text(&r));
    }
    assert_eq!(upstream.count(), 0);
}

#[tokio::test]
async fn header_values_with_control_characters_are_refused() {
    let server = single(
        json!({"method": "GET", "path": "/h", "parameters": [
            {"name": "X-Trace", "in": "header", "arg": "trace"}
        ]}),
        json!({}),
    );
    let upstream = Upstream::ok().await;
    configure(&server, &upstream.url, &[]);
    let mcp = Mcp::start(server).await;
    for evil in [
        "a\r\nX-Evil: 1",
        "a\nb",
        "a\rb",
        "nul\0",
        "bell\x07",
        "del\x7f",
        ["a", "b\r\nX: y"].join(",").as_str(),
    ] {
        let r = mcp.call("op", json!({"trace": evil})).await;
        assert!(is_error(&r), "{evil:?}: {r}");
        assert!(
            text(&r).contains("`trace`") && text(&r).contains("control characters"),
            "{}",
            text(&r)
        );
    }
    let r = mcp.call("op", json!({"trace": ["a\r\nX-Evil: 1"]})).await;
    assert!(is_error(&r));
    assert_eq!(upstream.count(), 0, "nothing was sent");
    let r = mcp.call("op", json!({"trace": "t-1\tok é"})).await;
    assert!(!is_error(&r), "{r}");
    assert_eq!(
        upstream.one().headers["x-trace"].as_bytes(),
        "t-1\tok é".as_bytes()
    );
}

#[tokio::test]
async fn missing_required_parameters_are_named() {
    let server = single(
        json!({"method": "GET", "path": "/pets/{petId}", "parameters": [
            {"name": "petId", "in": "path", "arg": "pet_id", "required": true},
            {"name": "limit", "in": "query", "arg": "limit", "required": true}
        ]}),
        json!({}),
    );
    let upstream = Upstream::ok().await;
    configure(&server, &upstream.url, &[]);
    let mcp = Mcp::start(server).await;
    let r = mcp.call("op", json!({"limit": 1})).await;
    assert!(is_error(&r));
    assert_eq!(text(&r), "missing required parameter `pet_id`");
    let r = mcp.call("op", json!({"pet_id": 7, "limit": null})).await;
    assert_eq!(text(&r), "missing required parameter `limit`");
    assert_eq!(upstream.count(), 0);
    let r = mcp.call("op", json!({"pet_id": 7, "limit": 10})).await;
    assert!(!is_error(&r));
    assert_eq!(upstream.one().target, "/pets/7?limit=10");
}

#[tokio::test]
async fn operator_headers_and_credentials_outrank_parameters() {
    let server = single(
        json!({"method": "GET", "path": "/h", "parameters": [
            {"name": "X-Tenant", "in": "header", "arg": "tenant"},
            {"name": "sid", "in": "cookie", "arg": "sid"}
        ]}),
        json!({}),
    );
    let upstream = Upstream::ok().await;
    let mut o = overrides(&upstream.url, &[]);
    o.headers = vec![
        "X-Tenant: acme".into(),
        "Cookie: pref=1".into(),
        "X-Extra: yes".into(),
    ];
    server.configure_upstream(&o).unwrap();
    let mcp = Mcp::start(server).await;
    let r = mcp
        .call("op", json!({"tenant": "evil", "sid": "s 1"}))
        .await;
    assert!(!is_error(&r), "{r}");
    let c = upstream.one();
    assert_eq!(c.header("x-tenant"), Some("acme"));
    assert_eq!(c.header("x-extra"), Some("yes"));
    assert_eq!(c.header("cookie"), Some("pref=1; sid=s%201"));
    assert_eq!(c.header("accept"), Some("application/json, */*;q=0.8"));
    assert!(
        c.header("user-agent")
            .unwrap()
            .starts_with("upstream-test/1.0.0 mcpgen-runtime/")
    );
}

#[tokio::test]
async fn invalid_extra_headers_are_refused_at_start_up() {
    let server = single(json!({"method": "GET", "path": "/"}), json!({}));
    for bad in [
        "X-A: a\r\nX-B: b",
        "Bad Name: v",
        "novalue",
        "X-K: sec\nret",
    ] {
        let mut o = overrides("http://127.0.0.1:1", &[]);
        o.headers = vec![bad.into()];
        let e = server.configure_upstream(&o).unwrap_err().to_string();
        assert!(!e.contains("ret"), "values are never echoed: {e}");
    }
    let mut o = overrides("ftp://example.com", &[]);
    assert!(server.configure_upstream(&o).is_err());
    o.base_url = Some("http://127.0.0.1:1/v1".into());
    assert!(server.configure_upstream(&o).is_ok());
}

/// A server with one tool per body kind.
fn bodies_server() -> Server {
    let ops = [
        (
            "json",
            json!({"arg": "body", "required": true, "mediaType": "application/json"}),
        ),
        (
            "flat",
            json!({"flattened": ["name", "tag"], "mediaType": "application/merge-patch+json"}),
        ),
        (
            "form",
            json!({"arg": "body", "mediaType": "application/x-www-form-urlencoded",
            "encoding": {"filter": {"style": "deepObject", "explode": true}}}),
        ),
        (
            "multipart",
            json!({"arg": "body", "mediaType": "multipart/form-data", "binaryFields": ["file", "more"],
            "encoding": {"file": {"contentType": "image/png, image/jpeg"}}}),
        ),
        (
            "octets",
            json!({"arg": "body", "mediaType": "application/octet-stream"}),
        ),
        ("text", json!({"arg": "body", "mediaType": "text/plain"})),
        (
            "xml",
            json!({"arg": "body", "mediaType": "application/xml"}),
        ),
    ];
    let mut b = Server::builder(INFO).upstream(&upstream_json(json!({})));
    for (name, body) in ops {
        b = b.upstream_tool(
            &tool(name),
            &json!({"method": "POST", "path": format!("/{name}"), "body": body}).to_string(),
        );
    }
    // Files that resource links in file arguments point at.
    b.resource_blob(
        r#"{"uri": "test://files/logo.png", "name": "logo", "mimeType": "image/png"}"#,
        LINKED_PNG_B64,
    )
    .resource_text(
        r#"{"uri": "test://notes/readme.txt", "name": "readme", "mimeType": "text/plain"}"#,
        "hello from a resource",
    )
    .resource(
        r#"{"uri": "test://files/pair", "name": "pair"}"#,
        |_ctx, uri| async move {
            Ok(ReadResourceResult {
                contents: vec![
                    ResourceContents::text(&uri, None, "a"),
                    ResourceContents::text(&uri, None, "b"),
                ],
            })
        },
    )
    .build()
    .unwrap()
}

/// Base64 of the bytes 0x89 'P' 'N' 'G' 0x00 0xff.
const LINKED_PNG_B64: &str = "iVBORwD/";

async fn bodies() -> (Mcp, Upstream) {
    let server = bodies_server();
    let upstream = Upstream::ok().await;
    configure(&server, &upstream.url, &[]);
    (Mcp::start(server).await, upstream)
}

#[tokio::test]
async fn json_bodies_whole_or_flattened() {
    let (mcp, upstream) = bodies().await;
    let r = mcp
        .call("json", json!({"body": {"name": "Rex", "tags": ["a"]}}))
        .await;
    assert!(!is_error(&r));
    let c = upstream.last();
    assert_eq!(
        (c.method.as_str(), c.header("content-type")),
        ("POST", Some("application/json"))
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&c.body).unwrap(),
        json!({"name": "Rex", "tags": ["a"]})
    );

    let r = mcp.call("json", json!({})).await;
    assert_eq!(text(&r), "missing required request body `body`");

    mcp.call("flat", json!({"name": "Rex", "tag": null, "other": 1}))
        .await;
    let c = upstream.last();
    assert_eq!(
        c.header("content-type"),
        Some("application/merge-patch+json")
    );
    assert_eq!(c.text(), r#"{"name":"Rex"}"#);
    upstream.clear();
    mcp.call("flat", json!({})).await;
    assert!(
        upstream.one().body.is_empty(),
        "an optional flattened body with nothing in it is not sent"
    );
}

#[tokio::test]
async fn form_bodies_use_encoding_defaults() {
    let (mcp, upstream) = bodies().await;
    let r = mcp
        .call("form", json!({"body": {"id": "a b&c", "tags": ["x", "y"], "address": {"zip": "9+1"}, "filter": {"k": "v"}}}))
        .await;
    assert!(!is_error(&r));
    let c = upstream.last();
    assert_eq!(
        c.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        c.text(),
        "id=a+b%26c&tags=x&tags=y&address=%7B%22zip%22%3A%229%2B1%22%7D&filter%5Bk%5D=v"
    );
    let r = mcp.call("form", json!({"body": "not an object"})).await;
    assert!(
        is_error(&r) && text(&r).contains("must be an object"),
        "{r}"
    );
}

#[tokio::test]
async fn multipart_bodies_carry_files_as_bytes() {
    use base64::Engine;
    let (mcp, upstream) = bodies().await;
    let png: Vec<u8> = vec![0x89, b'P', b'N', b'G', 0, 1, 2, 0xff, b'\r', b'\n'];
    let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
    let r = mcp
        .call(
            "multipart",
            json!({"body": {
                "title": "pic",
                "meta": {"w": 2},
                "file": b64,
                "more": [{"data": b64, "filename": "b.bin", "contentType": "application/x-raw"}],
                "count": 3
            }}),
        )
        .await;
    assert!(!is_error(&r), "{r}");
    let c = upstream.last();
    let parts = multipart_parts(&c);
    assert_eq!(parts.len(), 5, "{}", String::from_utf8_lossy(&c.body));
    let part = |i: usize| parts[i - 1].clone();
    let (h, b) = part(1);
    assert!(
        h.contains(r#"name="title""#) && !h.contains("filename"),
        "{h}"
    );
    assert_eq!(b, b"pic");
    let (h, b) = part(2);
    assert!(
        h.contains(r#"name="meta""#) && h.contains("content-type: application/json"),
        "{h}"
    );
    assert_eq!(b, br#"{"w":2}"#);
    let (h, b) = part(3);
    assert!(
        h.contains(r#"name="file"; filename="file""#) && h.contains("content-type: image/png"),
        "{h}"
    );
    assert_eq!(b, png, "the file arrives as raw bytes");
    let (h, b) = part(4);
    assert!(
        h.contains(r#"name="more"; filename="b.bin""#)
            && h.contains("content-type: application/x-raw"),
        "{h}"
    );
    assert_eq!(b, png);
    let (h, b) = part(5);
    assert!(h.contains(r#"name="count""#));
    assert_eq!(b, b"3");

    let r = mcp
        .call("multipart", json!({"body": {"file": "%%% not base64"}}))
        .await;
    assert!(
        is_error(&r) && text(&r).contains("`file`") && text(&r).contains("base64"),
        "{r}"
    );
}

#[tokio::test]
async fn file_arguments_may_be_resource_links_to_this_servers_resources() {
    let (mcp, upstream) = bodies().await;
    let r = mcp
        .call(
            "multipart",
            json!({"body": {
                "file": {"type": "resource_link", "uri": "test://files/logo.png"},
                "more": [
                    {"uri": "test://notes/readme.txt", "name": "notes.txt"},
                    {"uri": "test://notes/readme.txt", "mimeType": "text/markdown"}
                ]
            }}),
        )
        .await;
    assert!(!is_error(&r), "{r}");
    let c = upstream.last();
    let parts = multipart_parts(&c);
    assert_eq!(parts.len(), 3, "{}", String::from_utf8_lossy(&c.body));
    let part = |i: usize| parts[i - 1].clone();
    // The blob's bytes, its MIME type, and the URI's last segment as name.
    let (h, b) = part(1);
    assert!(
        h.contains(r#"name="file"; filename="logo.png""#) && h.contains("content-type: image/png"),
        "{h}"
    );
    assert_eq!(b, [0x89, b'P', b'N', b'G', 0, 0xff]);
    // Text resources are sent as their UTF-8 bytes; the link's own name and
    // mimeType win over the resource's.
    let (h, b) = part(2);
    assert!(
        h.contains(r#"name="more"; filename="notes.txt""#)
            && h.contains("content-type: text/plain"),
        "{h}"
    );
    assert_eq!(b, b"hello from a resource");
    let (h, b) = part(3);
    assert!(
        h.contains(r#"filename="readme.txt""#) && h.contains("content-type: text/markdown"),
        "{h}"
    );
    assert_eq!(b, b"hello from a resource");

    upstream.clear();
    links_outside_this_server_are_refused(&mcp, &upstream).await;

    // A whole binary body may be a link too.
    let r = mcp
        .call("octets", json!({"body": {"uri": "test://files/logo.png"}}))
        .await;
    assert!(!is_error(&r), "{r}");
    let c = upstream.last();
    assert_eq!(c.header("content-type"), Some("application/octet-stream"));
    assert_eq!(c.body, [0x89, b'P', b'N', b'G', 0, 0xff]);
}

/// Only this server's resources may stand for a file: no files, no hosts,
/// and one piece of content; nothing is sent upstream.
async fn links_outside_this_server_are_refused(mcp: &Mcp, upstream: &Upstream) {
    for uri in [
        "file:///etc/passwd",
        "http://127.0.0.1:1/secret",
        "test://files/none.png",
    ] {
        let r = mcp
            .call("multipart", json!({"body": {"file": {"uri": uri}}}))
            .await;
        assert!(
            is_error(&r) && text(&r).contains("`file`") && text(&r).contains(uri),
            "{uri}: {r}"
        );
    }
    let r = mcp
        .call(
            "multipart",
            json!({"body": {"file": {"uri": "test://files/none.png"}}}),
        )
        .await;
    assert!(text(&r).contains("no such resource"), "{r}");
    // A file is one piece of content, never the first of several.
    let r = mcp
        .call(
            "multipart",
            json!({"body": {"file": {"uri": "test://files/pair"}}}),
        )
        .await;
    assert!(is_error(&r) && text(&r).contains("2 parts"), "{r}");
    assert_eq!(upstream.count(), 0, "nothing was sent upstream");
}

/// The parts of a captured multipart body, as (lower-cased head, bytes).
fn multipart_parts(c: &Captured) -> Vec<(String, Vec<u8>)> {
    let ct = c.header("content-type").unwrap();
    let boundary = ct.strip_prefix("multipart/form-data; boundary=").expect(ct);
    let pieces = split(&c.body, format!("--{boundary}").as_bytes());
    // Between the preamble and the epilogue.
    pieces[1..pieces.len().saturating_sub(1).max(1)]
        .iter()
        .map(|p| {
            let at = find(p, b"\r\n\r\n").unwrap();
            let head = String::from_utf8_lossy(&p[..at]).to_lowercase();
            (head, p[at + 4..p.len() - 2].to_vec())
        })
        .collect()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(mut hay: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = vec![];
    while let Some(at) = find(hay, sep) {
        out.push(&hay[..at]);
        hay = &hay[at + sep.len()..];
    }
    out.push(hay);
    out
}

#[tokio::test]
async fn binary_text_and_other_bodies() {
    let (mcp, upstream) = bodies().await;
    mcp.call("octets", json!({"body": "AAEC/w=="})).await;
    let c = upstream.last();
    assert_eq!(c.header("content-type"), Some("application/octet-stream"));
    assert_eq!(c.body, [0, 1, 2, 255]);
    mcp.call("octets", json!({"body": {"data": "AAE", "filename": "x"}}))
        .await;
    assert_eq!(upstream.last().body, [0, 1]);

    mcp.call("text", json!({"body": "héllo\nworld"})).await;
    let c = upstream.last();
    assert_eq!(c.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(c.text(), "héllo\nworld");

    mcp.call("xml", json!({"body": "<a>1</a>"})).await;
    let c = upstream.last();
    assert_eq!(
        (c.header("content-type"), c.text().as_str()),
        (Some("application/xml"), "<a>1</a>")
    );
    let r = mcp.call("xml", json!({"body": {"a": 1}})).await;
    assert!(
        is_error(&r) && text(&r).contains("must be given as a string"),
        "{r}"
    );
}

#[tokio::test]
async fn bad_descriptors_fail_the_build_with_their_names() {
    let e = Server::builder(INFO)
        .check_schemas(true)
        .upstream_tool(&tool("a"), r#"{"method":"GET","path":"/x/{id}"}"#)
        .upstream_tool(
            &tool("b"),
            r#"{"method":"GET","path":"/","security":[["nope"]]}"#,
        )
        .build()
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("upstream tool a operation") && e.contains("{id}"),
        "{e}"
    );
    assert!(e.contains("need `.upstream("), "{e}");
    let e = Server::builder(INFO)
        .check_schemas(true)
        .upstream(&upstream_json(json!({})))
        .upstream_tool(
            &tool("b"),
            r#"{"method":"GET","path":"/","security":[["nope"]]}"#,
        )
        .build()
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("unknown scheme `nope`"), "{e}");
    let e = Server::builder(INFO)
        .check_schemas(true)
        .upstream(r#"{"securitySchemes":{"d":{"type":"http","scheme":"digest"}}}"#)
        .build()
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("digest"), "{e}");
}

#[tokio::test]
async fn without_check_schemas_a_bad_operation_fails_its_first_call_by_name() {
    // Operations are parsed on first call (start-up stays fast); the build
    // checks them only with `check_schemas(true)` (see above).
    let server = Server::builder(INFO)
        .upstream(&upstream_json(json!({})))
        .upstream_tool(
            &tool("b"),
            r#"{"method":"GET","path":"/","security":[["nope"]]}"#,
        )
        .upstream_tool(&tool("a"), r#"{"method":"GET","path":"/x/{id}"}"#)
        .build()
        .unwrap_or_else(|e| panic!("builds without check_schemas: {e}"));
    let mcp = Mcp::start(server).await;
    let r = mcp.call("b", json!({})).await;
    assert!(
        is_error(&r)
            && text(&r).contains("upstream tool b operation: security names unknown scheme `nope`"),
        "{r}"
    );
    let r = mcp.call("a", json!({})).await;
    assert!(
        is_error(&r) && text(&r).contains("upstream tool a operation") && text(&r).contains("{id}"),
        "{r}"
    );
}

#[test]
fn shared_definitions_that_are_no_object_fail_the_build_with_check_schemas() {
    let e = Server::builder(INFO)
        .check_schemas(true)
        .upstream(&upstream_json(json!({})))
        .upstream_defs("[1]")
        .upstream_tool(&tool("a"), r#"{"method":"GET","path":"/"}"#)
        .build()
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("upstream defs") && e.contains("must be a JSON object"),
        "{e}"
    );
}

#[tokio::test]
async fn a_relative_server_url_needs_a_base_url() {
    let server = single(
        json!({"method": "GET", "path": "/x"}),
        json!({"baseUrl": "/api/v3"}),
    );
    server.configure_upstream(&Default::default()).unwrap();
    let mcp = Mcp::start(server.clone()).await;
    let r = mcp.call("op", json!({})).await;
    assert!(
        is_error(&r) && text(&r).contains("--base-url") && text(&r).contains("/api/v3"),
        "{r}"
    );
    let upstream = Upstream::ok().await;
    configure(&server, &format!("{}/api/v3/", upstream.url), &[]);
    assert!(!is_error(&mcp.call("op", json!({})).await));
    assert_eq!(upstream.one().target, "/api/v3/x");
}

#[tokio::test]
async fn operations_with_a_server_of_their_own_call_it_unless_the_operator_overrides() {
    let main = Upstream::ok().await;
    let other = Upstream::ok().await;
    let server = Server::builder(INFO)
        .upstream(&upstream_json(json!({"baseUrl": main.url})))
        .upstream_tool(
            &tool("own"),
            &json!({"method": "GET", "path": "/files", "baseUrl": format!("{}/v9", other.url)})
                .to_string(),
        )
        .upstream_tool(
            &tool("doc"),
            &json!({"method": "GET", "path": "/pets"}).to_string(),
        )
        .build()
        .unwrap();
    server
        .configure_upstream(&{
            let mut o = UpstreamOverrides::default();
            o.headers = vec!["X-Operator: for-the-api".into()];
            o
        })
        .unwrap();
    let mcp = Mcp::start(server.clone()).await;
    assert!(!is_error(&mcp.call("own", json!({})).await));
    let got = other.one();
    assert_eq!(got.path(), "/v9/files");
    assert_eq!(
        got.header("x-operator"),
        None,
        "--header values stay with the document's origin"
    );
    assert_eq!(main.count(), 0);
    assert!(!is_error(&mcp.call("doc", json!({})).await));
    let got = main.one();
    assert_eq!(got.path(), "/pets");
    assert_eq!(got.header("x-operator"), Some("for-the-api"));

    // --base-url replaces every server of the spec, so a run against a mock
    // never reaches the operation's own host.
    main.clear();
    other.clear();
    configure(&server, &main.url, &[]);
    assert!(!is_error(&mcp.call("own", json!({})).await));
    assert_eq!(main.one().path(), "/files");
    assert_eq!(other.count(), 0);
}

#[test]
fn an_operation_server_must_be_a_plain_http_url() {
    for bad in [
        "ftp://files.example.com",
        "https://u:p@x.example.com",
        "/relative",
    ] {
        let built = Server::builder(INFO)
            .check_schemas(true)
            .upstream(&upstream_json(json!({})))
            .upstream_tool(
                &tool("own"),
                &json!({"method": "GET", "path": "/f", "baseUrl": bad}).to_string(),
            )
            .build();
        assert!(built.is_err(), "{bad} accepted");
    }
}

#[tokio::test]
async fn a_fixed_query_goes_first_and_is_sent_as_written() {
    let server = single(
        json!({"method": "GET", "path": "/", "fixedQuery": ["Action=DescribeInstances", "Version=2016-11-15"],
               "parameters": [{"name": "MaxResults", "in": "query", "arg": "max"}]}),
        json!({}),
    );
    let upstream = Upstream::ok().await;
    configure(&server, &upstream.url, &[]);
    let mcp = Mcp::start(server).await;
    let r = mcp.call("op", json!({"max": 5})).await;
    assert!(!is_error(&r), "{r}");
    assert_eq!(
        upstream.one().target,
        "/?Action=DescribeInstances&Version=2016-11-15&MaxResults=5"
    );
    for bad in ["a&b=1", "x#y", "=1", "", "a b", "%zz"] {
        let refused = Server::builder(INFO)
            .check_schemas(true)
            .upstream(&upstream_json(json!({})))
            .upstream_tool(
                &tool("op"),
                &json!({"method": "GET", "path": "/", "fixedQuery": [bad]}).to_string(),
            )
            .build();
        assert!(refused.is_err(), "{bad:?} must be refused");
    }
}

/// Generated crates register tools from static text with the name beside:
/// the same tool as `upstream_tool`'s, and a descriptor that does not bear
/// its name is refused when assembled (by `build()` with `check_schemas`).
#[tokio::test]
async fn a_tool_registered_from_static_text_lists_and_calls_like_any_other() {
    const DESCRIPTOR: &str = r#"{"name":"op","description":"static","inputSchema":{"type":"object","properties":{"q":{"type":"string"}}}}"#;
    const OPERATION: &str =
        r#"{"method":"GET","path":"/s","parameters":[{"name":"q","in":"query","arg":"q"}]}"#;
    let server = Server::builder(INFO)
        .check_schemas(true)
        .upstream(&upstream_json(json!({})))
        .upstream_tool_static("op", DESCRIPTOR, OPERATION)
        .build()
        .unwrap_or_else(|e| panic!("builds: {e}"));
    let upstream = Upstream::ok().await;
    configure(&server, &upstream.url, &[]);
    let mcp = Mcp::start(server).await;
    let list = mcp.request("tools/list", json!({})).await;
    assert_eq!(
        list["result"]["tools"][0]["description"], "static",
        "{list}"
    );
    let r = mcp.call("op", json!({"q": "x"})).await;
    assert!(!is_error(&r), "{r}");
    assert_eq!(upstream.one().query().unwrap(), "q=x");
    let r = mcp.call("op", json!({"q": 1})).await;
    assert!(
        is_error(&r) && text(&r).contains("Invalid arguments"),
        "{r}"
    );

    let e = Server::builder(INFO)
        .check_schemas(true)
        .upstream(&upstream_json(json!({})))
        .upstream_tool_static("other", DESCRIPTOR, OPERATION)
        .build()
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("tool other") && e.contains("registered with"),
        "{e}"
    );
}
