//! Snapshot every file mcpgen generates for the OpenAPI documents that have
//! no checked-in example. What has an example (`specs/example.yaml`,
//! `specs/conformance.yaml`, the petstore and httpbin descriptions) is
//! checked against that crate by `generator/tests/examples.rs` instead.
//!
//! Review changes with `cargo insta review` (or accept them all with
//! `INSTA_UPDATE=always cargo test -p snapshot-tests`).

use std::path::Path;

/// (description under `specs/`, snapshot name). Every corpus document is
/// covered by `generator/tests/corpus.rs`.
const OPENAPI: &[(&str, &str)] = &[
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
            let generated = mcpgen::generate(&options).unwrap_or_else(|e| panic!("{e}"));
            for file in &generated.files {
                let name = format!("{stem}@{}", file.path.display()).replace(['/', '\\'], "__");
                insta::assert_snapshot!(name, file.contents);
            }
        }
    });
}
