//! A server's life, scripted with the real binaries and real cargo builds:
//!
//! 1. `mcpgen init`, plus two more tools → spec v1; `generate`; the user
//!    writes handlers, a helper module and a test of their own; `cargo build`.
//! 2. The spec evolves to v2: a tool added (`farewell`), a required argument
//!    added (`greet.language`), a tool removed (`legacy_ping`), a tool
//!    renamed (`shout` → `yell`).
//! 3. `generate --check` catches the drift; `mcpgen diff v1 v2` classifies
//!    every change; regenerating leaves every user file byte-identical.
//! 4. `cargo build` fails, naming the missing and the extra handler methods.
//! 5. The user updates the handlers; `cargo test` builds and runs the
//!    generated test (the listed tools are v2's) and the user's own test.
//!
//! Cargo shares the workspace's target directory and a copy of its
//! Cargo.lock, so only the small generated crate is compiled.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Output};

/// `cargo <args>` in the generated crate, sharing the workspace's target
/// directory (the dependencies are already built there).
fn cargo(args: &[&str], krate: &Path) -> Output {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| String::from("cargo")))
        .args(args)
        .args(["--offline", "--quiet"])
        .current_dir(krate)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .unwrap()
}

const EXTRA_TOOLS_V1: &str = r#"  - name: shout
    description: Repeat a text in capital letters.
    params:
      text: string
  - name: legacy_ping
    description: Old health check; answers pong.
"#;

const HANDLERS_V1: &str = r#"//! Written by the user for spec v1.

use mcpgen_runtime::prelude::*;

use crate::generated::*;

#[path = "text.rs"]
mod text;

#[derive(Debug, Default)]
pub struct ServerHandlers {}

impl Handlers for ServerHandlers {
    async fn greet(&self, _ctx: RequestContext, args: GreetArgs) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::structured(json!({ "greeting": text::greeting(&args.name, args.excited) })))
    }

    async fn shout(&self, _ctx: RequestContext, args: ShoutArgs) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::text(args.text.to_uppercase()))
    }

    async fn legacy_ping(&self, _ctx: RequestContext, _args: LegacyPingArgs) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::text("pong"))
    }

    async fn read_person(&self, _ctx: RequestContext, uri: String, params: PersonParams) -> Result<ReadResourceResult, McpError> {
        Ok(ReadResourceResult::text(uri, Some("application/json"), json!({ "name": params.person }).to_string()))
    }
}
"#;

const HANDLERS_V2: &str = r#"//! Written by the user, updated for spec v2.

use mcpgen_runtime::prelude::*;

use crate::generated::*;

#[path = "text.rs"]
mod text;

#[derive(Debug, Default)]
pub struct ServerHandlers {}

impl Handlers for ServerHandlers {
    async fn greet(&self, _ctx: RequestContext, args: GreetArgs) -> Result<CallToolResult, ToolError> {
        let language = match args.language {
            GreetLanguage::En => "en",
            GreetLanguage::Fr => "fr",
        };
        let greeting = format!("[{language}] {}", text::greeting(&args.name, args.excited));
        Ok(CallToolResult::structured(json!({ "greeting": greeting })))
    }

    async fn yell(&self, _ctx: RequestContext, args: YellArgs) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::text(args.text.to_uppercase()))
    }

    async fn farewell(&self, _ctx: RequestContext, args: FarewellArgs) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::text(format!("Goodbye, {}.", args.name)))
    }

    async fn read_person(&self, _ctx: RequestContext, uri: String, params: PersonParams) -> Result<ReadResourceResult, McpError> {
        Ok(ReadResourceResult::text(uri, Some("application/json"), json!({ "name": params.person }).to_string()))
    }
}
"#;

const USER_MODULE: &str = "pub fn greeting(name: &str, excited: bool) -> String {\n    format!(\"Hello, {name}{}\", if excited { \"!\" } else { \".\" })\n}\n";

const USER_TEST: &str = r#"use mcpgen_runtime::prelude::json;
use mcpgen_runtime::testing::{TestClient, block_on};

#[test]
fn greets_in_a_language() {
    block_on(async {
        let server = evo::server(evo::handlers::ServerHandlers::default()).unwrap();
        let client = TestClient::connect(server).await.unwrap();
        let r = client.call_tool("greet", json!({"name": "Ada", "language": "en"})).await.unwrap();
        assert_eq!(r["structuredContent"]["greeting"], "[en] Hello, Ada.");
    });
}
"#;

/// The v2 spec, from v1 by editing text as a person would.
fn evolve(v1: &str) -> String {
    let v2 = v1
        .replacen(
            "      name: string                                     # required\n",
            "      name: string                                     # required\n      language: {type: string, enum: [en, fr], description: Language of the greeting.}\n",
            1,
        )
        .replacen("  - name: shout\n", "  - name: yell\n", 1)
        .replacen(
            "  - name: legacy_ping\n    description: Old health check; answers pong.\n",
            "  - name: farewell\n    description: Say goodbye to someone.\n    params:\n      name: string\n",
            1,
        );
    assert_ne!(v1, v2);
    assert!(v2.contains("language:") && v2.contains("name: yell") && !v2.contains("legacy_ping"));
    v2
}

#[test]
fn a_spec_evolves_and_the_user_code_survives() {
    // Under target/ rather than /tmp: the repository's .cargo/config.toml
    // (the dev profile the shared dependencies were built with) must apply,
    // or every dependency is compiled a second time.
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("mcpgen-evolution-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let krate = root.join("evo");
    let runtime = repo().join("runtime").display().to_string();
    let spec = krate.join("mcpgen.yaml");
    let generate = [
        "generate",
        "evo/mcpgen.yaml",
        "-o",
        "evo",
        "--runtime-path",
        runtime.as_str(),
    ];

    // 1. init + two tools → v1; generate; user code; build.
    let v1 = write_v1(&root, &spec, &generate);
    write_user_code(&krate);
    let build = cargo(&["build"], &krate);
    status(&build, 0);

    // 2. The spec evolves.
    let v2 = evolve(&v1);
    std::fs::write(&spec, &v2).unwrap();

    // 3. CI catches the drift; diff classifies every change.
    let mut check = generate.to_vec();
    check.push("--check");
    drift_is_caught(&root, &check);
    diff_classifies_every_change(&root);
    regenerating_keeps_the_user_code(&root, &krate, &generate, &check);

    // 4. The compiler names what to add and what to remove.
    compiler_names_the_changed_handlers(&krate);

    // 5. The user catches up; everything builds and the tests pass.
    std::fs::write(krate.join("src/handlers.rs"), HANDLERS_V2).unwrap();
    let test = cargo(&["test"], &krate);
    status(&test, 0);
    let _ = std::fs::remove_dir_all(&root);
}

/// The files the user writes for v1, each with what it holds.
const USER_FILES: [(&str, &str); 3] = [
    ("src/handlers.rs", HANDLERS_V1),
    ("src/text.rs", USER_MODULE),
    ("tests/user.rs", USER_TEST),
];

/// `mcpgen init`, two more tools, `validate` and `generate`: spec v1 (also
/// kept as `v1.yaml` for `diff`), the crate its own workspace.
fn write_v1(root: &Path, spec: &Path, generate: &[&str]) -> String {
    let krate = root.join("evo");
    status(&mcpgen(&["init", "evo"], root), 0);
    let v1 = std::fs::read_to_string(spec).unwrap().replacen(
        "tools:\n",
        &format!("tools:\n{EXTRA_TOOLS_V1}"),
        1,
    );
    std::fs::write(spec, &v1).unwrap();
    std::fs::write(root.join("v1.yaml"), &v1).unwrap();
    status(&mcpgen(&["validate", "evo/mcpgen.yaml"], root), 0);
    status(&mcpgen(generate, root), 0);
    std::fs::copy(repo().join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    // The crate is its own workspace wherever the target dir is (below the
    // marker, where regeneration keeps what the user wrote).
    let manifest = krate.join("Cargo.toml");
    let mut toml = std::fs::read_to_string(&manifest).unwrap();
    toml.push_str("\n[workspace]\n");
    std::fs::write(&manifest, &toml).unwrap();
    v1
}

fn write_user_code(krate: &Path) {
    for (path, contents) in USER_FILES {
        std::fs::write(krate.join(path), contents).unwrap();
    }
}

/// `generate --check` fails with a patch of the generated code only.
fn drift_is_caught(root: &Path, check: &[&str]) {
    let drift = mcpgen(check, root);
    status(&drift, 1);
    let patch = text(&drift.stdout);
    assert!(patch.contains("+++ b/evo/src/generated.rs"), "{patch}");
    assert!(patch.contains("+pub struct FarewellArgs {"), "{patch}");
    assert!(patch.contains("-pub struct LegacyPingArgs {}"), "{patch}");
    assert!(!patch.contains("src/handlers.rs"), "{patch}");
}

/// `mcpgen diff` names each tool change and its severity.
fn diff_classifies_every_change(root: &Path) {
    let diff = mcpgen(
        &["diff", "v1.yaml", "evo/mcpgen.yaml", "--format", "json"],
        root,
    );
    status(&diff, 1);
    let report: serde_json::Value = serde_json::from_slice(&diff.stdout).unwrap();
    let changes: Vec<(String, String, String)> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "tool")
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
            (s("name"), s("change"), s("severity"))
        })
        .collect();
    let t = |n: &str, c: &str, s: &str| (n.to_string(), c.to_string(), s.to_string());
    assert_eq!(
        changes,
        [
            t("yell", "renamed", "breaking"),
            t("legacy_ping", "removed", "breaking"),
            t("farewell", "added", "compatible"),
            t("greet", "required_property_added", "breaking"),
        ],
        "{}",
        text(&diff.stdout)
    );
    let yell = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "yell")
        .unwrap();
    assert_eq!(yell["old_name"], "shout");
}

/// Regenerating leaves the user files and the manifest's tail alone.
fn regenerating_keeps_the_user_code(root: &Path, krate: &Path, generate: &[&str], check: &[&str]) {
    status(&mcpgen(generate, root), 0);
    for (path, contents) in USER_FILES {
        assert_eq!(
            std::fs::read_to_string(krate.join(path)).unwrap(),
            contents,
            "{path} changed"
        );
    }
    assert!(
        std::fs::read_to_string(krate.join("Cargo.toml"))
            .unwrap()
            .ends_with("\n[workspace]\n"),
        "what the user wrote below the marker in Cargo.toml survives"
    );
    status(&mcpgen(check, root), 0);
}

/// The v1 handlers no longer compile, and the errors say why.
fn compiler_names_the_changed_handlers(krate: &Path) {
    let broken = cargo(&["build"], krate);
    assert!(
        !broken.status.success(),
        "the v1 handlers still compile against v2"
    );
    let errors = text(&broken.stderr);
    assert!(
        errors.contains("not all trait items implemented, missing: `yell`, `farewell`")
            || errors.contains("not all trait items implemented, missing: `farewell`, `yell`"),
        "{errors}"
    );
    assert!(
        errors.contains("method `shout` is not a member of trait `Handlers`"),
        "{errors}"
    );
    assert!(
        errors.contains("method `legacy_ping` is not a member of trait `Handlers`"),
        "{errors}"
    );
}
