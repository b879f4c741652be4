//! Generation: escaping, determinism, the user-owned file, Cargo.toml,
//! the committed JSON Schema and the checked-in examples.

mod common;

use common::*;
use std::path::{Path, PathBuf};

use mcpgen::{GeneratedCrate, Options, WriteAction};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn generate(spec: &Path, runtime_path: Option<&str>) -> GeneratedCrate {
    let mut options = Options::new(spec);
    if let Some(p) = runtime_path {
        options = options.runtime_path(p);
    }
    match mcpgen::generate(&options) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

fn contents<'a>(c: &'a GeneratedCrate, path: &str) -> &'a str {
    &c.file(path).unwrap_or_else(|| panic!("no {path}")).contents
}

/// Every string literal in a Rust file, decoded.
fn string_literals(code: &str) -> Vec<String> {
    fn walk(tokens: proc_macro2::TokenStream, out: &mut Vec<String>, idents: &mut Vec<String>) {
        for t in tokens {
            match t {
                proc_macro2::TokenTree::Group(g) => walk(g.stream(), out, idents),
                proc_macro2::TokenTree::Literal(l) => {
                    if let Ok(s) = syn::parse_str::<syn::LitStr>(&l.to_string()) {
                        out.push(s.value());
                    }
                }
                proc_macro2::TokenTree::Ident(i) => idents.push(i.to_string()),
                proc_macro2::TokenTree::Punct(_) => {}
            }
        }
    }
    let tokens: proc_macro2::TokenStream = code.parse().expect("generated code tokenizes");
    let mut out = Vec::new();
    let mut idents = Vec::new();
    walk(tokens, &mut out, &mut idents);
    assert!(
        !idents.iter().any(|i| i == "panic"),
        "spec text escaped into code: a `panic` identifier appears outside string literals"
    );
    out
}

#[test]
fn spec_text_stays_data() {
    let c = generate(&fixture("tricky.yaml"), Some("../runtime"));
    for file in c
        .files
        .iter()
        .filter(|f| f.path.extension().is_some_and(|e| e == "rs"))
    {
        syn::parse_file(&file.contents)
            .unwrap_or_else(|e| panic!("{} is not valid Rust: {e}", file.path.display()));
    }
    let generated = contents(&c, "src/generated.rs");
    let literals = string_literals(generated);
    let has = |s: &str| literals.iter().any(|l| l == s);
    let has_part = |s: &str| literals.iter().any(|l| l.contains(s));
    // Values used directly.
    assert!(
        has("\"); panic!(\"instructions\"); (\""),
        "instructions literal"
    );
    assert!(
        has("\"; panic!(); \""),
        "default value / completion literal"
    );
    assert!(
        has("#![doc = \"x\"] panic!() \"\"\" r#\"raw\"#"),
        "resource text"
    );
    assert!(
        has("}}") && has("{{") && has("\\") && has("\"#"),
        "completion values"
    );
    // Inside descriptor JSON (JSON-escaped, then Rust-escaped).
    assert!(
        has_part(r##"\"#; panic!() // and */ and {{"##),
        "tool description in JSON"
    );
    assert!(
        has_part(r##"{{ty pe}} \"); panic!(\"x\"); //"##),
        "prompt text in JSON"
    );
    // Doc comments are data as well (they become `///` lines).
    assert!(generated.contains("/// \"#; panic!() // and */ and {{"));
    // lib.rs carries the server description as docs, with the CR dropped.
    let lib = contents(&c, "src/lib.rs");
    string_literals(lib);
    assert!(
        lib.contains("//! *\\/ /* {{ x }}") || lib.contains("//! */ /* {{ x }}"),
        "{lib}"
    );
    // Cargo.toml: TOML-escaped.
    let cargo = contents(&c, "Cargo.toml");
    assert!(
        cargo.contains("description = \"*/ /* {{ x }} {% if %} \\\\ \\r\\n */ fn main() {} //\""),
        "{cargo}"
    );
    assert!(cargo.contains("name = \"tricky-server\""));
}

#[test]
fn keywords_and_odd_names_become_valid_identifiers() {
    let c = generate(&fixture("tricky.yaml"), None);
    let g = contents(&c, "src/generated.rs");
    for needle in [
        "pub r#type: i64",
        "#[serde(rename = \"self\")]",
        "pub self_: String",
        "pub _2fa: Option<bool>",
        "#[serde(rename = \"weird key!\")]",
        "#[serde(default = \"TypeArgs::default_weird_key\")]",
        "pub weird_key: String",
        "pub crate_: Vec<f64>",
        "vec![1.0_f64, 2.5_f64]",
        "pub r#loop: Option<Vec<String>>",
        "pub nested: mcpgen_runtime::prelude::Value",
        "pub maybe: Option<i64>",
        "fn r#type(",
        "fn fn_async_await(",
        "fn read_self(",
        "fn read_super(",
        "fn prompt_enum(",
        "pub r#match: String",
        "pub r#in: Option<String>",
        "pub struct CloneArgs {}",
        "H::clone(&h, ctx, args)",
        // Hostile enum values: valid, unique variants renamed to the text.
        "pub enum MatchModeX {",
        "#[serde(rename = \"\")]\n    Empty,",
        "#[serde(rename = \"self\")]\n    Self_,",
        "#[serde(rename = \"Self\")]\n    Self_2,",
        "#[serde(rename = \"type\")]\n    #[default]\n    Type,",
        "#[serde(rename = \"1st\")]\n    N1st,",
        "#[serde(rename = \"a-b\")]\n    AB,",
        "#[serde(rename = \"a_b\")]\n    AB2,",
        "#[serde(rename = \"\\\"; panic!(); \\\"\")]\n    Panic,",
        "#[serde(rename = \"é\")]\n    Unnamed,",
        "#[serde(default)]\n    pub mode_x: MatchModeX,",
        "pub kinds: Option<Vec<MatchKinds>>,",
        "#[serde(rename = \"X\")]\n    X2,",
        // A later enum of the same name, and one named like an import.
        "pub x: Option<MatchModeX2>,",
        "pub schema: JsonSchema2,",
        // Only a lone `{var}` / `{+var}` is always present in a matching URI.
        "pub r#type: String",
        "pub self_: String",
        "pub crate_: Option<String>",
        "#[serde(rename = \"a.b\")]",
        "pub a_b: Option<String>",
    ] {
        assert!(g.contains(needle), "missing {needle:?} in\n{g}");
    }
}

#[test]
fn generated_crate_layout_and_cargo_toml() {
    let spec = repo().join("specs/example.yaml");
    let c = generate(&spec, Some("../../runtime"));
    let paths: Vec<(String, bool)> = c
        .files
        .iter()
        .map(|f| (f.path.display().to_string(), f.user_owned))
        .collect();
    assert_eq!(
        paths,
        [
            ("Cargo.toml", false),
            ("README.md", false),
            ("src/main.rs", false),
            ("src/lib.rs", false),
            ("src/generated.rs", false),
            ("src/handlers.rs", true),
            ("tests/generated_server.rs", false),
        ]
        .map(|(p, o)| (p.to_string(), o))
    );
    for f in &c.files {
        let first = f.contents.lines().next().unwrap_or_default();
        if f.user_owned {
            assert!(!f.contents.contains("@generated"), "{}", f.path.display());
        } else {
            assert!(
                first.contains("@generated by mcpgen"),
                "{}: {first}",
                f.path.display()
            );
        }
    }
    let cargo = contents(&c, "Cargo.toml");
    assert!(!cargo.contains("[workspace"), "{cargo}");
    assert!(cargo.contains("[[bin]]\nname = \"notes\""), "{cargo}");
    // example.yaml has `auth:`, so the runtime's `auth` feature is on.
    assert!(
        cargo.contains("mcpgen-runtime = { path = \"../../runtime\", features = [\"auth\"] }"),
        "{cargo}"
    );
    let main = contents(&c, "src/main.rs");
    assert!(main.contains(
        "mcpgen_runtime::cli::run(|| notes::server(\n        notes::handlers::ServerHandlers::default(),\n    ))"
    ) || main.contains("notes::server(notes::handlers::ServerHandlers::default())"), "{main}");

    // A YAML-only server does not compile the runtime's HTTP client; its
    // tests get the in-process client.
    assert!(!cargo.contains("upstream"), "{cargo}");
    assert!(
        cargo.contains("[dev-dependencies]\n# The in-process test client")
            && cargo.contains(
                "mcpgen-runtime = { path = \"../../runtime\", features = [\"auth\", \"testing\"] }"
            ),
        "{cargo}"
    );

    let by_version = generate(&spec, None);
    let cargo = contents(&by_version, "Cargo.toml");
    assert!(
        cargo.contains("mcpgen-runtime = { version = \"0.1\", features = [\"auth\"] }\n"),
        "{cargo}"
    );
    assert!(
        cargo
            .contains("mcpgen-runtime = { version = \"0.1\", features = [\"auth\", \"testing\"] }"),
        "{cargo}"
    );
    let handlers = contents(&by_version, "src/handlers.rs");
    assert!(!handlers.contains("todo!") && !handlers.contains("unimplemented!"));
    assert!(handlers.contains("is not implemented yet"));
}

#[test]
fn output_is_deterministic_and_location_independent() {
    let spec = repo().join("specs/example.yaml");
    let a = generate(&spec, Some("../../runtime"));
    let b = generate(&spec, Some("../../runtime"));
    assert_eq!(a.files, b.files);
    // The same spec (and bundled files) elsewhere gives byte-identical output.
    let elsewhere = tmp("elsewhere");
    std::fs::copy(&spec, elsewhere.join("example.yaml")).unwrap();
    std::fs::create_dir_all(elsewhere.join("example")).unwrap();
    for f in std::fs::read_dir(repo().join("specs/example")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, elsewhere.join("example").join(f.file_name().unwrap())).unwrap();
    }
    let c = generate(&elsewhere.join("example.yaml"), Some("../../runtime"));
    assert_eq!(a.files, c.files);
    let abs = repo().canonicalize().unwrap();
    for f in &a.files {
        assert!(
            !f.contents.contains(abs.to_str().unwrap()),
            "absolute path in {}",
            f.path.display()
        );
    }
}

#[test]
fn write_keeps_the_users_handlers_and_unchanged_files() {
    let out = tmp("write");
    let spec = repo().join("specs/example.yaml");
    let c = generate(&spec, Some("../../runtime"));
    let first = c.write(&out).unwrap();
    assert!(first.iter().all(|(_, a)| *a == WriteAction::Written));
    std::fs::write(out.join("src/handlers.rs"), "// mine\n").unwrap();
    std::fs::write(
        out.join("src/generated.rs"),
        "// @generated by mcpgen from \"example.yaml\". Stale.\n",
    )
    .unwrap();
    assert_eq!(
        c.stale_files(&out).unwrap(),
        vec![PathBuf::from("src/generated.rs")]
    );
    let second = c.write(&out).unwrap();
    let action = |p: &str| {
        second
            .iter()
            .find(|(path, _)| path == Path::new(p))
            .unwrap()
            .1
    };
    assert_eq!(action("src/handlers.rs"), WriteAction::KeptUserFile);
    assert_eq!(action("src/generated.rs"), WriteAction::Written);
    assert_eq!(action("Cargo.toml"), WriteAction::Unchanged);
    assert_eq!(
        std::fs::read_to_string(out.join("src/handlers.rs")).unwrap(),
        "// mine\n"
    );
    assert!(c.stale_files(&out).unwrap().is_empty());
}

#[test]
fn committed_json_schema_is_up_to_date() {
    let path = repo().join("specs/mcpgen.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == mcpgen::spec::json_schema(),
        "specs/mcpgen.schema.json is stale: run `cargo run -p mcpgen -- schema -o specs/mcpgen.schema.json`"
    );
}

#[test]
fn json_schema_accepts_the_example_and_rejects_unknown_keys() {
    let schema: serde_json::Value = serde_json::from_str(&mcpgen::spec::json_schema()).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let example: serde_json::Value =
        serde_yaml::from_str(&std::fs::read_to_string(repo().join("specs/example.yaml")).unwrap())
            .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&example)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let bad = serde_json::json!({"server": {"name": "a", "version": "1", "colour": "red"}});
    assert!(!validator.is_valid(&bad));
}

#[test]
fn positioned_loader_agrees_with_serde_yaml() {
    // Our YAML → serde path (positions, error collection) must read specs
    // exactly as yaml_serde does.
    for path in [repo().join("specs/example.yaml"), fixture("tricky.yaml")] {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let ours = mcpgen::validate(&path).unwrap_or_else(|e| panic!("{e}"));
        let theirs: mcpgen::Spec = serde_yaml::from_str(&text).unwrap();
        assert_eq!(ours.spec, theirs, "{name}");
    }
}

/// The tricky fixture's generated crate must also *compile* (keywords,
/// `clone`/`default` methods, defaults, renames). Slow (a separate cargo
/// build), so opt-in: `cargo test -p mcpgen -- --ignored`.
#[test]
#[ignore = "runs cargo on a generated crate; opt in with --ignored"]
fn tricky_crate_compiles() {
    let out = tmp("tricky-crate");
    assert!(
        cargo_on_generated(&fixture("tricky.yaml"), &out, &["check", "--all-targets"]),
        "the generated crate in {} does not compile",
        out.display()
    );
}

/// The OpenAPI operations whose descriptors the runtime used to refuse
/// (see `contract.rs`): the generated crate's own test starts the server
/// and lists its tools. Opt-in like the test above.
#[test]
#[ignore = "runs cargo on a generated crate; opt in with --ignored"]
fn drift_crate_tests_pass() {
    let out = tmp("drift-crate");
    assert!(
        cargo_on_generated(&fixture("openapi/drift.yaml"), &out, &["test"]),
        "the tests of the generated crate in {} fail",
        out.display()
    );
}

/// An OpenAPI server with root `x-mcp.cache` hints and a 202 operation:
/// its generated test asks the MCP 2026-07-28 lists for their `ttlMs` and
/// `cacheScope` (`lists_carry_the_spec_cache_hints_in_mcp_2026`). Opt-in
/// like the tests above.
#[test]
#[ignore = "runs cargo on a generated crate; opt in with --ignored"]
fn openapi_cache_hints_crate_tests_pass() {
    let out = tmp("cached-crate");
    assert!(
        cargo_on_generated(&fixture("openapi/cached.yaml"), &out, &["test"]),
        "the tests of the generated crate in {} fail",
        out.display()
    );
    let test = std::fs::read_to_string(out.join("tests/generated_server.rs")).unwrap();
    assert!(
        test.contains("(\"tools/list\", 60000, \"public\")"),
        "{test}"
    );
}

/// Generate `spec` into `out` as a workspace of its own (our lock file,
/// our target directory: dependencies are built once) and run `cargo ARGS`.
fn cargo_on_generated(spec: &Path, out: &Path, args: &[&str]) -> bool {
    let runtime = repo().join("runtime").canonicalize().unwrap();
    let c = generate(spec, Some(runtime.to_str().unwrap()));
    c.write(out).unwrap();
    let manifest = out.join("Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str("\n[workspace]\n");
    std::fs::write(&manifest, text).unwrap();
    std::fs::copy(repo().join("Cargo.lock"), out.join("Cargo.lock")).unwrap();
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    std::process::Command::new(cargo)
        .args(args)
        .arg("--quiet")
        .current_dir(out)
        .env("CARGO_TARGET_DIR", target)
        .status()
        .unwrap()
        .success()
}
