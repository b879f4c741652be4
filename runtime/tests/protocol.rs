//! The protocol core through the stdio transport: lifecycle, every method,
//! error codes, pagination, validation — one newline-delimited JSON message
//! per line.

mod common;

use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines};

struct Stdio {
    input: DuplexStream,
    output: Lines<BufReader<DuplexStream>>,
}

impl Stdio {
    async fn start() -> Stdio {
        let server = common::server(Arc::new(common::Probes::default()));
        let (client_in, server_in) = tokio::io::duplex(1 << 20);
        let (server_out, client_out) = tokio::io::duplex(1 << 20);
        tokio::spawn(mcpgen_runtime::transport::stdio::serve_io(
            server, server_in, server_out,
        ));
        Stdio {
            input: client_in,
            output: BufReader::new(client_out).lines(),
        }
    }

    async fn send_raw(&mut self, line: &str) {
        self.input.write_all(line.as_bytes()).await.unwrap();
        self.input.write_all(b"\n").await.unwrap();
    }

    async fn recv(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(10), self.output.next_line())
            .await
            .expect("an answer in time")
            .unwrap()
            .expect("a line");
        serde_json::from_str(&line).expect("stdout carries only JSON-RPC")
    }

    /// The response to request `id`, skipping notifications.
    async fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send_raw(
            &json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}).to_string(),
        )
        .await;
        loop {
            let m = self.recv().await;
            if m["id"] == json!(id) && m.get("method").is_none() {
                return m;
            }
        }
    }

    async fn initialized() -> Stdio {
        let mut s = Stdio::start().await;
        let r = s
            .request(0, "initialize", common::init_body(0)["params"].clone())
            .await;
        assert_eq!(r["result"]["protocolVersion"], "2025-11-25");
        s.send_raw(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            .await;
        s
    }
}

#[tokio::test]
async fn requests_before_initialize_are_refused_but_ping_works() {
    let mut s = Stdio::start().await;
    assert_eq!(s.request(1, "ping", json!({})).await["result"], json!({}));
    let r = s.request(2, "tools/list", json!({})).await;
    assert_eq!(r["error"]["code"], -32600);
}

#[tokio::test]
async fn malformed_lines_get_errors_and_the_stream_goes_on() {
    let mut s = Stdio::initialized().await;
    s.send_raw("{not json").await;
    let r = s.recv().await;
    assert_eq!(r["error"]["code"], -32700);
    assert_eq!(r["id"], Value::Null);
    s.send_raw(r#"{"jsonrpc":"2.0","id":3,"method":7}"#).await;
    let r = s.recv().await;
    assert_eq!(
        (r["id"].clone(), r["error"]["code"].clone()),
        (json!(3), json!(-32600))
    );
    s.send_raw("").await; // blank lines are skipped
    assert_eq!(s.request(4, "ping", json!({})).await["result"], json!({}));
    let r = s.request(5, "no/such/method", json!({})).await;
    assert_eq!(r["error"]["code"], -32601);
}

#[tokio::test]
async fn tools_list_paginates_with_cursors() {
    let mut s = Stdio::initialized().await;
    let mut names = vec![];
    let mut params = json!({});
    for id in 1.. {
        let r = s.request(id, "tools/list", params.clone()).await;
        let tools = r["result"]["tools"].as_array().unwrap();
        assert!(tools.len() <= 4, "page size is 4");
        names.extend(tools.iter().map(|t| t["name"].as_str().unwrap().to_owned()));
        match r["result"].get("nextCursor") {
            Some(c) => params = json!({"cursor": c}),
            None => break,
        }
    }
    assert_eq!(names.len(), 11);
    assert_eq!(names[0], "echo");
    let r = s.request(99, "tools/list", json!({"cursor":"bogus"})).await;
    assert_eq!(r["error"]["code"], -32602);
}

#[tokio::test]
async fn tool_arguments_are_validated_before_the_handler_runs() {
    let mut s = Stdio::initialized().await;
    let r = s
        .request(
            1,
            "tools/call",
            json!({"name":"echo","arguments":{"text":5}}),
        )
        .await;
    assert_eq!(
        r["result"]["isError"], true,
        "invalid arguments are a tool execution error"
    );
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("/text")
    );
    let r = s
        .request(
            2,
            "tools/call",
            json!({"name":"echo","arguments":{"text":"a","extra":1}}),
        )
        .await;
    assert_eq!(r["result"]["isError"], true);
    let r = s.request(3, "tools/call", json!({"name":"echo"})).await;
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("required")
    );
    let r = s
        .request(4, "tools/call", json!({"name":"nope","arguments":{}}))
        .await;
    assert_eq!(
        r["error"]["code"], -32602,
        "an unknown tool is a protocol error"
    );
    let r = s.request(5, "tools/call", json!({"arguments":{}})).await;
    assert_eq!(r["error"]["code"], -32602);
}

#[tokio::test]
async fn structured_content_is_checked_against_the_output_schema() {
    let mut s = Stdio::initialized().await;
    let r = s
        .request(1, "tools/call", json!({"name":"typed_out","arguments":{}}))
        .await;
    assert_eq!(r["result"]["structuredContent"], json!({"n": 7}));
    assert_eq!(r["result"]["content"][0]["text"], r#"{"n":7}"#);
    let r = s
        .request(
            2,
            "tools/call",
            json!({"name":"typed_out","arguments":{"bad":true}}),
        )
        .await;
    assert_eq!(r["error"]["code"], -32603);
}

#[tokio::test]
async fn resources_templates_and_subscriptions() {
    let mut s = Stdio::initialized().await;
    let r = s.request(1, "resources/list", json!({})).await;
    let uris: Vec<&str> = r["result"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    assert_eq!(uris, ["test://text", "test://blob"]);
    let r = s
        .request(2, "resources/read", json!({"uri":"test://text"}))
        .await;
    assert_eq!(
        r["result"]["contents"][0],
        json!({"uri":"test://text","mimeType":"text/plain","text":"hello"})
    );
    let r = s
        .request(3, "resources/read", json!({"uri":"test://blob"}))
        .await;
    assert_eq!(r["result"]["contents"][0]["blob"], "AAEC");
    let r = s
        .request(4, "resources/read", json!({"uri":"test://users/42"}))
        .await;
    assert_eq!(r["result"]["contents"][0]["text"], r#"{"id":"42"}"#);
    assert_eq!(r["result"]["contents"][0]["uri"], "test://users/42");
    let r = s
        .request(5, "resources/read", json!({"uri":"test://missing"}))
        .await;
    assert_eq!(r["error"]["code"], -32002);
    let r = s.request(6, "resources/templates/list", json!({})).await;
    assert_eq!(
        r["result"]["resourceTemplates"][0]["uriTemplate"],
        "test://users/{id}"
    );

    assert_eq!(
        s.request(7, "resources/subscribe", json!({"uri":"test://text"}))
            .await["result"],
        json!({})
    );
    s.send_raw(&json!({"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"touch","arguments":{"uri":"test://text"}}}).to_string()).await;
    let mut saw_update = false;
    for _ in 0..2 {
        let m = s.recv().await;
        saw_update |=
            m["method"] == "notifications/resources/updated" && m["params"]["uri"] == "test://text";
    }
    assert!(saw_update, "stdio carries the update notification");
}

#[tokio::test]
async fn prompts_render_arguments_and_check_required_ones() {
    let mut s = Stdio::initialized().await;
    let r = s.request(1, "prompts/list", json!({})).await;
    assert_eq!(r["result"]["prompts"][0]["name"], "greet");
    let r = s
        .request(
            2,
            "prompts/get",
            json!({"name":"greet","arguments":{"name":"Ada {{name}}"}}),
        )
        .await;
    assert_eq!(
        r["result"]["messages"][0]["content"]["text"],
        "Hello Ada {{name}}!"
    );
    assert_eq!(r["result"]["description"], "greeting");
    let r = s.request(3, "prompts/get", json!({"name":"greet"})).await;
    assert_eq!(r["error"]["code"], -32602, "missing required argument");
    let r = s
        .request(
            4,
            "prompts/get",
            json!({"name":"greet","arguments":{"name":3}}),
        )
        .await;
    assert_eq!(r["error"]["code"], -32602, "arguments are strings");
    let r = s.request(5, "prompts/get", json!({"name":"nope"})).await;
    assert_eq!(r["error"]["code"], -32602);
}

#[tokio::test]
async fn completion_filters_by_prefix() {
    let mut s = Stdio::initialized().await;
    let r = s
        .request(1, "completion/complete", json!({"ref":{"type":"ref/prompt","name":"greet"},"argument":{"name":"name","value":"Al"}}))
        .await;
    assert_eq!(
        r["result"]["completion"]["values"],
        json!(["alice", "albert"])
    );
    assert_eq!(r["result"]["completion"]["total"], 2);
    assert_eq!(r["result"]["completion"]["hasMore"], false);
    let r = s
        .request(2, "completion/complete", json!({"ref":{"type":"ref/resource","uri":"test://users/{id}"},"argument":{"name":"id","value":"1"}}))
        .await;
    assert_eq!(r["result"]["completion"]["values"], json!(["1", "10"]));
    let r = s
        .request(
            3,
            "completion/complete",
            json!({"ref":{"type":"ref/prompt","name":"nope"},"argument":{"name":"x","value":""}}),
        )
        .await;
    assert_eq!(r["error"]["code"], -32602);
}

#[tokio::test]
async fn sampling_round_trips_over_stdio() {
    let mut s = Stdio::initialized().await;
    s.send_raw(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sample","arguments":{}}}"#).await;
    let req = s.recv().await;
    assert_eq!(req["method"], "sampling/createMessage");
    let answer = json!({"jsonrpc":"2.0","id":req["id"],"result":{"role":"assistant","content":{"type":"text","text":"yes"},"model":"m"}});
    s.send_raw(&answer.to_string()).await;
    let r = s.recv().await;
    assert_eq!(r["result"]["content"][0]["text"], "model said: yes");
}

#[tokio::test]
async fn client_errors_to_server_requests_reach_the_handler() {
    let mut s = Stdio::initialized().await;
    s.send_raw(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sample","arguments":{}}}"#).await;
    let req = s.recv().await;
    let refusal =
        json!({"jsonrpc":"2.0","id":req["id"],"error":{"code":-1,"message":"user declined"}});
    s.send_raw(&refusal.to_string()).await;
    let r = s.recv().await;
    assert_eq!(r["result"]["isError"], true);
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("user declined")
    );
}

#[tokio::test]
async fn requests_read_before_end_of_input_are_still_answered() {
    let mut s = Stdio::initialized().await;
    s.send_raw(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nap","arguments":{}}}"#,
    )
    .await;
    s.send_raw(r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
        .await;
    s.send_raw(r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"sample","arguments":{}}}"#).await;
    s.input.shutdown().await.unwrap(); // end of input
    let mut answered = std::collections::BTreeMap::new();
    while let Ok(Some(line)) = s.output.next_line().await {
        let m: Value = serde_json::from_str(&line).unwrap();
        if let Some(id) = m["id"].as_i64()
            && m.get("method").is_none()
        {
            answered.insert(id, m);
        }
    }
    assert_eq!(answered[&1]["result"]["content"][0]["text"], "rested");
    assert!(answered[&2]["result"]["tools"].is_array());
    // The client can no longer answer a sampling request: the call fails cleanly.
    assert_eq!(answered[&3]["result"]["isError"], true);
}

#[tokio::test]
async fn a_second_initialize_is_refused() {
    let mut s = Stdio::initialized().await;
    let r = s
        .request(9, "initialize", common::init_body(9)["params"].clone())
        .await;
    assert_eq!(r["error"]["code"], -32600);
}

#[tokio::test]
async fn a_request_id_already_in_flight_is_refused() {
    let mut s = Stdio::initialized().await;
    let nap =
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"nap","arguments":{}}}"#;
    s.send_raw(nap).await;
    s.send_raw(nap).await;
    let first = s.recv().await;
    assert_eq!(
        first["error"]["code"], -32600,
        "the duplicate is refused at once: {first}"
    );
    let second = s.recv().await;
    assert_eq!(
        second["result"]["content"][0]["text"], "rested",
        "the original runs on"
    );
}

#[tokio::test]
async fn uris_and_subscriptions_are_bounded() {
    let mut s = Stdio::initialized().await;
    let long = format!(
        "test://users/{}",
        // The runtime's URI limit: 8 KiB.
        "9".repeat(8 * 1024)
    );
    let r = s.request(1, "resources/read", json!({"uri": long})).await;
    assert_eq!(r["error"]["code"], -32602);
    let max = mcpgen_runtime::session::MAX_SUBSCRIPTIONS;
    for i in 0..max {
        let r = s
            .request(
                10 + i as i64,
                "resources/subscribe",
                json!({"uri": format!("test://users/{i}")}),
            )
            .await;
        assert_eq!(r["result"], json!({}), "subscription {i}");
    }
    let r = s
        .request(
            9999,
            "resources/subscribe",
            json!({"uri": "test://users/one-too-many"}),
        )
        .await;
    assert_eq!(r["error"]["code"], -32602);
    let again = s
        .request(
            10000,
            "resources/subscribe",
            json!({"uri": "test://users/0"}),
        )
        .await;
    assert_eq!(
        again["result"],
        json!({}),
        "re-subscribing to a held URI is fine"
    );
}
