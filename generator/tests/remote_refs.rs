//! Remote `$ref`s are fetched only when the user opts in; relative refs
//! inside a fetched document resolve against its URL.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mcpgen::{OpenApiOptions, Options};
use serde_json::Value;

const PETS: &str = "Pet:\n  type: object\n  properties:\n    id: {$ref: './common.yaml#/Id'}\n    name: {type: string}\n  required: [name]\n";
const COMMON: &str = "Id:\n  type: integer\n  minimum: 1\n";

/// A tiny HTTP server on 127.0.0.1 serving two YAML files; counts requests.
fn serve() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                    break;
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("/");
            let (status, body) = match path {
                "/schemas/pets.yaml" => ("200 OK", PETS),
                "/schemas/common.yaml" => ("200 OK", COMMON),
                _ => ("404 Not Found", ""),
            };
            let mut s = stream;
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Type: application/yaml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, hits)
}

fn document(dir: &std::path::Path, base: &str) -> std::path::PathBuf {
    let doc = format!(
        r#"openapi: 3.0.3
info: {{title: Remote, version: "1"}}
servers: [{{url: "http://127.0.0.1:9"}}]
paths:
  /pets:
    post:
      operationId: addPet
      requestBody:
        required: true
        content:
          application/json:
            schema: {{$ref: "{base}/schemas/pets.yaml#/Pet"}}
      responses:
        "204": {{description: ok}}
"#
    );
    let path = dir.join("openapi.yaml");
    std::fs::write(&path, doc).unwrap();
    path
}

#[test]
fn remote_refs_are_refused_without_opt_in_and_nothing_is_fetched() {
    let (base, hits) = serve();
    let dir = tempdir();
    let path = document(&dir, &base);
    let err = match mcpgen::load_ir(&Options::new(&path)) {
        Ok(_) => panic!("a remote $ref must not load without opt-in"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("--allow-remote-refs"), "{err}");
    assert!(
        err.contains("openapi.yaml:"),
        "the diagnostic is located: {err}"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "no request reached the host"
    );
}

#[test]
fn remote_refs_are_fetched_with_opt_in_including_their_relative_refs() {
    let (base, hits) = serve();
    let dir = tempdir();
    let path = document(&dir, &base);
    let opts = OpenApiOptions {
        allow_remote_refs: true,
        inline_refs: true,
        ..Default::default()
    };
    let loaded = match mcpgen::load_ir(&Options::new(&path).openapi(opts)) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    let up = loaded.server.upstream.as_ref().expect("upstream tools");
    let tool = Value::Object(up.tools[0].descriptor.clone());
    let schema = tool["inputSchema"].to_string();
    assert!(
        schema.contains("\"name\""),
        "Pet came from the remote file: {schema}"
    );
    assert!(
        schema.contains("\"minimum\":1"),
        "Id came from the file pets.yaml refers to: {schema}"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "each remote file fetched once"
    );
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mcpgen-remote-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
