//! Helpers shared by the generator's integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// The shared OpenAPI corpus (`../shared/corpus/openapi` next to the
/// workspace), where one exists.
pub(crate) fn corpus() -> Option<PathBuf> {
    Some(repo().join("../shared/corpus/openapi")).filter(|d| d.is_dir())
}

/// The OpenAPI descriptions (`.yaml`, `.json`) directly in `dir`, sorted.
pub(crate) fn openapi_documents(dir: &Path) -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "json")
            )
        })
        .collect();
    docs.sort();
    docs
}

/// A fresh, empty directory for this test file (named after it) and `name`.
pub(crate) fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(env!("CARGO_CRATE_NAME"))
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run the `mcpgen` binary in `cwd`.
pub(crate) fn mcpgen(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mcpgen"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Assert the exit status, showing both streams when it is wrong.
#[track_caller]
pub(crate) fn status(out: &Output, expected: i32) {
    assert_eq!(
        out.status.code(),
        Some(expected),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Build a runtime `Server` from the upstream descriptors of `server`, as
/// the generated crate does at start-up, without compiling that crate.
/// With `check_schemas`: every tool assembled (shared `$defs` attached,
/// references checked, schemas compiled) and every operation parsed, which
/// the generated server leaves to first use; a descriptor the runtime
/// refuses fails here.
pub(crate) fn start_upstream(server: &mcpgen::ir::Server) -> Result<(), String> {
    let up = server.upstream.as_ref().ok_or("no upstream")?;
    let shared = up.shared();
    let mut b = mcpgen_runtime::Server::builder(&json(&server.info_json))
        .check_schemas(true)
        .upstream(&json(&up.config))
        .upstream_defs(&json(&shared.table));
    for (t, d) in up.tools.iter().zip(&shared.tools) {
        b = b.upstream_tool(&json(d), &json(&t.operation));
    }
    for r in &up.resources {
        b = b.upstream_resource(&json(&r.descriptor), &json(&r.operation));
    }
    for t in &up.templates {
        b = b.upstream_resource_template(&json(&t.descriptor), &json(&t.operation));
    }
    b.build().map(drop).map_err(|e| e.to_string())
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}
