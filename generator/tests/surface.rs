//! Tool surfaces chosen at generation (docs/surfaces.md): `auto` by the
//! estimated size of `tools/list`, an explicit `--tool-surface` or
//! `toolSurface`, toolsets by tag or the spec's own, the note `generate`
//! prints, and byte-identical output on every run.

mod common;

use common::{corpus, mcpgen, repo, text, tmp};
use serde_json::Value;

fn surface_of(options: &mcpgen::Options) -> mcpgen::ir::Surface {
    let ir = mcpgen::load_ir(options).unwrap_or_else(|e| panic!("{e}"));
    ir.server.upstream.expect("an OpenAPI server").surface
}

fn openapi(surface: mcpgen::ToolSurface) -> mcpgen::OpenApiOptions {
    mcpgen::OpenApiOptions {
        tool_surface: surface,
        ..Default::default()
    }
}

#[test]
fn auto_keeps_a_small_api_whole_and_records_each_tools_toolset() {
    let doc = repo().join("specs/openapi/httpbin-swagger20.json");
    let s = surface_of(&mcpgen::Options::new(&doc));
    assert_eq!(s.surface, "all", "{}", s.reason);
    assert!(
        s.estimated_tokens > 1_000 && s.estimated_tokens <= 25_000,
        "{}",
        s.estimated_tokens
    );
    assert!(s.reason.contains("<= 25,000"), "{}", s.reason);
    // Every tool is in exactly one toolset, named from its first tag.
    let sets = s.config["toolsets"].as_array().unwrap();
    let names: Vec<&str> = sets.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"http_methods"), "{names:?}");
    let in_sets: usize = sets
        .iter()
        .map(|t| t["tools"].as_array().unwrap().len())
        .sum();
    assert_eq!(in_sets, s.listed.len());
}

#[test]
fn an_explicit_surface_is_kept_and_lists_its_meta_tools() {
    let doc = repo().join("specs/openapi/httpbin-swagger20.json");
    let compact =
        surface_of(&mcpgen::Options::new(&doc).openapi(openapi(mcpgen::ToolSurface::Compact)));
    assert_eq!(compact.surface, "compact");
    assert_eq!(
        compact.listed,
        ["search_tools", "describe_tool", "call_tool"]
    );
    assert_eq!(compact.config["surface"], "compact");
    let toolsets =
        surface_of(&mcpgen::Options::new(&doc).openapi(openapi(mcpgen::ToolSurface::Toolsets)));
    assert_eq!(toolsets.listed, ["list_toolsets", "enable_toolset"]);
}

/// Kubernetes (1,067 operations) is far over the budget and one of its
/// tags alone is too: `auto` makes it compact.
#[test]
fn auto_makes_kubernetes_compact() {
    let Some(dir) = corpus() else {
        eprintln!("skipped: no shared corpus");
        return;
    };
    let s = surface_of(&mcpgen::Options::new(
        dir.join("A13_kubernetes_swagger20.yaml"),
    ));
    assert_eq!(s.surface, "compact", "{}", s.reason);
    assert!(s.estimated_tokens > 25_000, "{}", s.estimated_tokens);
    assert!(s.reason.contains("alone is"), "{}", s.reason);
}

#[test]
fn a_spec_groups_operations_into_its_own_toolsets() {
    let dir = tmp("own-toolsets");
    let petstore = repo().join("specs/openapi/petstore-oas31.yaml");
    std::fs::copy(&petstore, dir.join("petstore.yaml")).unwrap();
    std::fs::write(
        dir.join("spec.yaml"),
        "server: {name: pets, version: 1.0.0}\n\
         openapi:\n  path: petstore.yaml\n  toolSurface: toolsets\n  toolsets:\n    \
         reading: {description: Look things up, methods: [GET]}\n    \
         orders: {paths: [\"/store/**\"]}\n",
    )
    .unwrap();
    let s = surface_of(&mcpgen::Options::new(dir.join("spec.yaml")));
    assert_eq!(s.surface, "toolsets");
    let sets = s.config["toolsets"].as_array().unwrap();
    let names: Vec<&str> = sets.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["reading", "orders", "other"]);
    assert_eq!(sets[0]["description"], "Look things up");
    // GET /store/inventory is read first: the first toolset that matches wins.
    let reading: Vec<&str> = tools_of(&sets[0]);
    assert!(
        reading.iter().any(|t| t.contains("inventory")),
        "{reading:?}"
    );
    assert!(
        tools_of(&sets[1]).iter().all(|t| t.contains("order")),
        "{sets:?}"
    );
}

#[test]
fn a_toolset_name_the_server_flags_cannot_take_is_an_error() {
    let dir = tmp("bad-toolset");
    let petstore = repo().join("specs/openapi/petstore-oas31.yaml");
    std::fs::copy(&petstore, dir.join("petstore.yaml")).unwrap();
    std::fs::write(
        dir.join("spec.yaml"),
        "server: {name: pets, version: 1.0.0}\n\
         openapi:\n  path: petstore.yaml\n  toolsets:\n    \
         \"a,b\": {methods: [GET]}\n    all: {methods: [POST]}\n    ok: {methods: [PUT]}\n",
    )
    .unwrap();
    let e = mcpgen::load_ir(&mcpgen::Options::new(dir.join("spec.yaml"))).expect_err("an error");
    let text = e.to_string();
    assert!(text.contains("spec.yaml:5:"), "{text}");
    assert!(text.contains("toolset name \"a,b\" must be"), "{text}");
    assert!(text.contains("toolset name \"all\" must be"), "{text}");
    assert!(!text.contains("\"ok\""), "{text}");
}

fn tools_of(set: &Value) -> Vec<&str> {
    set["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect()
}

#[test]
fn generate_says_which_surface_and_why_and_writes_the_same_bytes_twice() {
    let dir = tmp("note");
    let doc = repo().join("specs/openapi/httpbin-swagger20.json");
    let doc = doc.to_str().unwrap();
    let run = |out: &str| {
        let o = mcpgen(
            &[
                "generate",
                doc,
                "-o",
                out,
                "--runtime-version",
                "0.1",
                "--tool-surface",
                "compact",
            ],
            &dir,
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stderr)
    };
    let stderr = run("a");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("note: tool surface `compact`: as asked;"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.contains("tokens"), "{line}");
    run("b");
    let a = std::fs::read(dir.join("a/src/generated.rs")).unwrap();
    let b = std::fs::read(dir.join("b/src/generated.rs")).unwrap();
    assert!(a == b, "generated.rs differs between two runs");
    let generated = String::from_utf8(a).unwrap();
    assert!(generated.contains(".tool_surface(TOOL_SURFACE)"));
    assert!(generated.contains("\"surface\": \"compact\""));
    // An unknown surface is a usage error.
    let o = mcpgen(
        &["generate", doc, "-o", "c", "--tool-surface", "tiny"],
        &dir,
    );
    assert!(!o.status.success());
}
