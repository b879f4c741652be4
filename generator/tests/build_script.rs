//! `mcpgen::build` (build.rs mode): what it writes and the `cargo:` lines it
//! prints. `examples/buildrs` builds and tests a real crate that uses it.

mod common;

use common::*;

use mcpgen::build::Builder;

#[test]
fn writes_include_ready_code_and_reruns_on_every_input() {
    let out = tmp("example");
    let spec = repo().join("specs/example.yaml");
    let mut cargo = Vec::new();
    let generated = Builder::new(&spec)
        .out_dir(&out)
        .generate_with(&mut cargo)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(generated.path, out.join("mcpgen.rs"));
    let cargo = String::from_utf8(cargo).unwrap();
    let lines: Vec<&str> = cargo.lines().collect();
    let dir = spec.parent().unwrap().display().to_string();
    assert_eq!(
        lines,
        [
            format!("cargo:rerun-if-changed={}", spec.display()),
            format!("cargo:rerun-if-changed={dir}/example/chime.wav"),
            format!("cargo:rerun-if-changed={dir}/example/guide.md"),
            format!("cargo:rerun-if-changed={dir}/example/logo.png"),
        ]
    );
    let code = std::fs::read_to_string(&generated.path).unwrap();
    let file = syn::parse_file(&code).expect("valid Rust");
    // `include!` rejects inner attributes and inner doc comments.
    assert!(file.attrs.is_empty(), "inner attributes in {code}");
    assert!(!code.contains("#!["), "{code}");
    assert!(!code.contains("//!"), "{code}");
    assert!(code.contains("pub trait Handlers"));
    assert!(code.contains("pub fn server<H: Handlers>"));
    assert!(code.contains(
        "#[allow(clippy::all, unused_imports, dead_code)]\nuse mcpgen_runtime::prelude::*;"
    ));
}

#[test]
fn leaves_an_unchanged_file_alone() {
    let out = tmp("mtime");
    let spec = repo().join("specs/example.yaml");
    let b = Builder::new(&spec)
        .out_dir(&out)
        .emit_rerun_if_changed(false);
    let mut cargo = Vec::new();
    let first = b.generate_with(&mut cargo).unwrap();
    assert!(cargo.is_empty());
    let stamp = std::fs::metadata(&first.path).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    b.generate_with(&mut Vec::new()).unwrap();
    assert_eq!(
        std::fs::metadata(&first.path).unwrap().modified().unwrap(),
        stamp
    );
}

#[test]
fn a_broken_spec_still_asks_cargo_to_rerun_and_reports_positions() {
    let dir = tmp("broken");
    let spec = dir.join("s.yaml");
    std::fs::write(
        &spec,
        "server: {name: s, version: '1'}\ntools:\n  - name: a b\n",
    )
    .unwrap();
    let mut cargo = Vec::new();
    let err = Builder::new(&spec)
        .out_dir(dir.join("out"))
        .generate_with(&mut cargo)
        .unwrap_err();
    assert_eq!(
        String::from_utf8(cargo).unwrap(),
        format!("cargo:rerun-if-changed={}\n", spec.display())
    );
    let shown = err.to_string();
    assert!(
        shown.contains("s.yaml:3:11: error: tool name \"a b\" is invalid"),
        "{shown}"
    );
    assert!(!dir.join("out/mcpgen.rs").exists());
}

#[test]
fn outside_a_build_script_out_dir_is_required() {
    // Cargo sets OUT_DIR for build scripts only; tests do not have it.
    assert!(std::env::var_os("OUT_DIR").is_none());
    let err = Builder::new(repo().join("specs/example.yaml"))
        .emit_rerun_if_changed(false)
        .generate()
        .unwrap_err();
    assert!(err.to_string().contains("OUT_DIR is not set"), "{err}");
}
