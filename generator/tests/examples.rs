//! The checked-in crates under `examples/` are the generator's golden files
//! (as tonic's codegen check does it with `git diff`): every example is
//! regenerated from its spec here, and any difference fails with the unified
//! diff. `MCPGEN_UPDATE_EXAMPLES=1 cargo test -p mcpgen --test examples`
//! rewrites them instead; review the change with `git diff examples/`.
//!
//! `snapshot-tests` covers only what has no example.

mod common;

use common::*;
use mcpgen::{OpenApiOptions, Options, WriteOptions};

/// (spec, checked-in crate, `--name` for an OpenAPI description). Every
/// example depends on the runtime by `../../runtime`.
const EXAMPLES: &[(&str, &str, Option<&str>)] = &[
    ("specs/example.yaml", "examples/notes", None),
    ("specs/conformance.yaml", "examples/conformance", None),
    (
        "specs/openapi/petstore-oas30.json",
        "examples/petstore",
        Some("petstore"),
    ),
    (
        "specs/openapi/httpbin-swagger20.json",
        "examples/httpbin",
        Some("httpbin"),
    ),
];

/// The command that regenerates one example, for the failure message.
fn command(spec: &str, dir: &str, name: Option<&str>) -> String {
    let name = name.map(|n| format!(" --name {n}")).unwrap_or_default();
    format!("cargo run -p mcpgen -- generate {spec} -o {dir} --runtime-path ../../runtime{name}")
}

#[test]
fn every_example_is_what_the_generator_makes_of_its_spec() {
    let update = std::env::var_os("MCPGEN_UPDATE_EXAMPLES").is_some_and(|v| v == "1");
    let root = repo();
    let mut stale = Vec::new();
    for (spec, dir, name) in EXAMPLES {
        let options = Options::new(root.join(spec))
            .runtime_path("../../runtime")
            .openapi(OpenApiOptions {
                name: name.map(String::from),
                ..Default::default()
            });
        let generated = mcpgen::generate(&options).unwrap_or_else(|e| panic!("{spec}: {e}"));
        let out = root.join(dir);
        // The user's file, never rewritten: there exactly when generation
        // would create it (the spec has something a handler implements).
        // (Updating creates it when it is new.)
        let has_handlers = generated.files.iter().any(|f| f.user_owned);
        if update {
            generated
                .write_with(&out, &WriteOptions::default())
                .unwrap_or_else(|e| panic!("{dir}: {e}"));
        }
        assert_eq!(
            out.join("src/handlers.rs").is_file(),
            has_handlers,
            "{dir}/src/handlers.rs"
        );
        if update {
            continue;
        }
        let plan = generated
            .plan_with(&out, &WriteOptions::default())
            .unwrap_or_else(|e| panic!("{dir}: {e}"));
        if !plan.is_empty() {
            stale.push(format!(
                "{}{dir} is out of date: run `{}` (or set MCPGEN_UPDATE_EXAMPLES=1)",
                plan.unified_diff(std::path::Path::new(dir)),
                command(spec, dir, *name)
            ));
        }
    }
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}
