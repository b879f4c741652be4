//! Snapshot every file mcpgen generates for every `specs/*.yaml`.
//!
//! Review changes with `cargo insta review` (or accept them all with
//! `INSTA_UPDATE=always cargo test -p snapshot-tests`).

use std::path::{Path, PathBuf};

/// The spec files, in sorted order.
fn specs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    specs.sort();
    specs
}

/// A representative subset of `specs/openapi/`: (description, snapshot
/// name). Every corpus document is covered by `generator/tests/corpus.rs`.
const OPENAPI: &[(&str, &str)] = &[
    ("openapi/petstore-oas30.json", "openapi-petstore-oas30"),
    (
        "openapi/petstore-multifile/spec/openapi.yaml",
        "openapi-petstore-multifile",
    ),
    ("openapi/circular-oas30.json", "openapi-circular-oas30"),
    (
        "openapi/file-uploads-oas303.yaml",
        "openapi-file-uploads-oas303",
    ),
    (
        "openapi/parameter-styles-oas31.json",
        "openapi-parameter-styles-oas31",
    ),
];

#[test]
fn generated_files_for_openapi() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for (doc, stem) in OPENAPI {
            let options = mcpgen::Options::new(dir.join(doc)).runtime_path("../../runtime");
            let generated = mcpgen::generate(&options)
                .unwrap_or_else(|e| panic!("{}", mcpgen::cli::render_error(&e)));
            for file in &generated.files {
                let name = format!("{stem}@{}", file.path.display()).replace(['/', '\\'], "__");
                insta::assert_snapshot!(name, file.contents);
            }
        }
    });
}

#[test]
fn generated_files() {
    let specs = specs();
    assert!(!specs.is_empty(), "no specs found");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for spec in &specs {
            let stem = spec
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("spec")
                .to_string();
            let options = mcpgen::Options::new(spec).runtime_path("../../runtime");
            let generated = mcpgen::generate(&options)
                .unwrap_or_else(|e| panic!("{}", mcpgen::cli::render_error(&e)));
            for file in &generated.files {
                let name = format!("{stem}@{}", file.path.display()).replace(['/', '\\'], "__");
                insta::assert_snapshot!(name, file.contents);
            }
        }
    });
}
