//! `mcpgen init`: the starter spec validates and generates as it is, next
//! to the crate or with an OpenAPI import. (The evolution test builds a
//! crate generated from it with cargo.)

mod common;

use common::*;
use std::process::Output;

/// Expect success; the standard output.
#[track_caller]
fn ok(out: &Output) -> String {
    status(out, 0);
    text(&out.stdout)
}

#[test]
fn init_validate_generate_in_place() {
    let dir = tmp("in-place");
    let stdout = ok(&mcpgen(&["init", "weather_station"], &dir));
    assert!(
        stdout.starts_with("wrote weather_station/mcpgen.yaml\nnext:\n  mcpgen generate weather_station/mcpgen.yaml -o weather_station\n"),
        "{stdout}"
    );
    let spec = std::fs::read_to_string(dir.join("weather_station/mcpgen.yaml")).unwrap();
    assert!(spec.contains("  name: \"weather-station\"\n"), "{spec}");
    let validated = ok(&mcpgen(&["validate", "weather_station/mcpgen.yaml"], &dir));
    assert!(
        validated.contains("ok (1 tools, 1 resources, 1 resource templates, 1 prompts)"),
        "{validated}"
    );
    // The spec sits in the crate directory: that is not someone else's crate.
    ok(&mcpgen(
        &[
            "generate",
            "weather_station/mcpgen.yaml",
            "-o",
            "weather_station",
        ],
        &dir,
    ));
    let cargo = std::fs::read_to_string(dir.join("weather_station/Cargo.toml")).unwrap();
    assert!(cargo.contains("name = \"weather-station\""), "{cargo}");
    assert!(dir.join("weather_station/src/handlers.rs").is_file());
    ok(&mcpgen(
        &[
            "generate",
            "weather_station/mcpgen.yaml",
            "-o",
            "weather_station",
            "--check",
        ],
        &dir,
    ));
}

#[test]
fn init_refuses_to_overwrite_and_rejects_unusable_names() {
    let dir = tmp("refuse");
    ok(&mcpgen(&["init", ".", "--name", "first"], &dir));
    let again = mcpgen(&["init", ".", "--name", "second"], &dir);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&again.stderr)
            .contains("mcpgen.yaml already exists; pass --force to overwrite it")
    );
    let spec = std::fs::read_to_string(dir.join("mcpgen.yaml")).unwrap();
    assert!(spec.contains("name: \"first\""));
    ok(&mcpgen(&["init", ".", "--name", "second", "--force"], &dir));
    let spec = std::fs::read_to_string(dir.join("mcpgen.yaml")).unwrap();
    assert!(spec.contains("name: \"second\""));

    let bad = mcpgen(&["init", "other", "--name", "!!!"], &dir);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("cannot use \"!!!\" as the server name"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    assert!(!dir.join("other/mcpgen.yaml").exists());
}

const OPENAPI: &str = r#"{
  "openapi": "3.0.3",
  "info": {"title": "Todo API", "version": "1.0.0"},
  "servers": [{"url": "https://todo.example.com/v1"}],
  "paths": {
    "/todos/{id}": {
      "get": {
        "operationId": "getTodo",
        "summary": "One todo",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object", "properties": {"title": {"type": "string"}}}}}}}
      }
    }
  }
}"#;

#[test]
fn init_from_openapi_imports_the_description() {
    let dir = tmp("openapi");
    std::fs::create_dir_all(dir.join("api")).unwrap();
    std::fs::write(dir.join("api/todo.json"), OPENAPI).unwrap();
    ok(&mcpgen(
        &["init", "server", "--from-openapi", "api/todo.json"],
        &dir,
    ));
    let spec = std::fs::read_to_string(dir.join("server/mcpgen.yaml")).unwrap();
    assert!(
        spec.contains("openapi:\n  path: \"../api/todo.json\"\n"),
        "{spec}"
    );
    ok(&mcpgen(
        &["generate", "server/mcpgen.yaml", "-o", "server"],
        &dir,
    ));
    let generated = std::fs::read_to_string(dir.join("server/src/generated.rs")).unwrap();
    assert!(
        generated.contains("getTodo") || generated.contains("get_todo"),
        "{generated}"
    );
    // A missing description is an error, and no spec is left behind.
    let missing = mcpgen(&["init", "x", "--from-openapi", "nope.json"], &dir);
    assert_eq!(missing.status.code(), Some(2));
    assert!(!dir.join("x/mcpgen.yaml").exists());
}

#[test]
fn init_force_with_a_broken_import_keeps_the_existing_spec() {
    let dir = tmp("force-broken");
    let spec = dir.join("mcpgen.yaml");
    let original = b"# mine\nserver: {name: mine, version: 0.1.0}\ntools:\n  - name: ping\n";
    std::fs::write(&spec, original).unwrap();
    std::fs::write(dir.join("broken.json"), "{ this is not json").unwrap();
    let out = mcpgen(
        &["init", ".", "--from-openapi", "broken.json", "--force"],
        &dir,
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(std::fs::read(&spec).unwrap(), original);
    // Nothing else is left behind.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["broken.json", "mcpgen.yaml"]);
}
