//! The tool-call hook of an OpenAPI server: the `Handlers` trait of a
//! crate generated from an OpenAPI document has one method,
//! `wrap_tool_call`, and it wraps the calls of the API's operations. Here it
//! refuses deletes (the API never sees them), audits, and turns the API's
//! 404 into a message for the model. The API is a tiny HTTP server on
//! 127.0.0.1.

use mcpgen_runtime::prelude::*;
use mcpgen_runtime::testing::{TestClient, block_on};
use mcpgen_runtime::upstream::UpstreamOverrides;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

type Log = Arc<Mutex<Vec<String>>>;

/// Answers GET /pet/1 with a pet, anything else with 404; logs the
/// request lines it gets.
fn api(log: Log) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let request = line.trim_end().to_owned();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap() == 0 || header == "\r\n" {
                    break;
                }
            }
            let (status, body) = if request.starts_with("GET /pet/1 ") {
                ("200 OK", r#"{"id":1,"name":"rex","photoUrls":[]}"#)
            } else {
                ("404 Not Found", r#"{"message":"no such pet"}"#)
            };
            log.lock().unwrap().push(request);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

struct Guarded {
    audit: Log,
}

impl petstore::Handlers for Guarded {
    async fn wrap_tool_call(
        &self,
        call: ToolCall,
        next: Next,
    ) -> Result<CallToolResult, ToolError> {
        let name = call.name().to_owned();
        if name.starts_with("delete_") {
            return Err(ToolError::new(format!("{name} is not allowed here")));
        }
        let result = next.run(call).await?;
        let outcome = if result.is_error { "error" } else { "ok" };
        self.audit.lock().unwrap().push(format!("{name} {outcome}"));
        if result.is_error && json!(result.content).to_string().contains("404") {
            return Err(ToolError::new("There is no such pet."));
        }
        Ok(result)
    }
}

#[test]
fn the_hook_wraps_the_apis_operations() {
    block_on(async {
        let requests = Log::default();
        let audit = Log::default();
        let server = petstore::server(Guarded {
            audit: audit.clone(),
        })
        .unwrap();
        let mut overrides = UpstreamOverrides::default();
        overrides.base_url = Some(api(requests.clone()));
        overrides.env.insert("PETSTORE_API_KEY".into(), "k".into());
        overrides.max_retries = Some(0);
        server.configure_upstream(&overrides).unwrap();
        let c = TestClient::connect(server).await.unwrap();

        let r = c
            .call_tool("get_pet_by_id", json!({"pet_id": 1}))
            .await
            .unwrap();
        assert_eq!(r["structuredContent"]["name"], "rex", "{r}");

        let r = c
            .call_tool("get_pet_by_id", json!({"pet_id": 2}))
            .await
            .unwrap();
        assert_eq!(r["isError"], true, "{r}");
        assert_eq!(r["content"][0]["text"], "There is no such pet.", "{r}");

        let r = c
            .call_tool("delete_pet", json!({"pet_id": 1}))
            .await
            .unwrap();
        assert_eq!(r["isError"], true, "{r}");
        assert_eq!(r["content"][0]["text"], "delete_pet is not allowed here");

        assert_eq!(
            *requests.lock().unwrap(),
            ["GET /pet/1 HTTP/1.1", "GET /pet/2 HTTP/1.1"]
        );
        assert_eq!(
            *audit.lock().unwrap(),
            ["get_pet_by_id ok", "get_pet_by_id error"]
        );
    });
}
