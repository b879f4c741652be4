//! The `mcpgen` binary: output format and exit codes.

mod common;

use common::*;

#[test]
fn validate_reports_every_problem_as_file_line_col() {
    let dir = tmp("validate");
    std::fs::create_dir_all(dir.join("specs")).unwrap();
    std::fs::write(
        dir.join("specs/x.yaml"),
        "server:\n  name: x\n  version: '1'\ntools:\n  - name: a b\n  - name: ok\n    titel: x\n",
    )
    .unwrap();
    let out = mcpgen(&["validate", "specs/x.yaml"], &dir);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "specs/x.yaml:5:11: error: tool name \"a b\" is invalid: only A-Z, a-z, 0-9, `_`, `-` and `.` are allowed",
            "specs/x.yaml:7:5: error: unknown key `titel` in a tool; did you mean `title`? (expected one of `name`, `title`, `description`, `params`, `inputSchema`, `outputSchema`, `annotations`, `icons`, `rateLimit`, `scopes`, `task`, `longRunning`, `inputBeforeTask`)",
            "2 errors found",
        ]
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn validate_ok_and_unreadable() {
    let dir = tmp("ok");
    std::fs::write(dir.join("ok.yaml"), "server: {name: x, version: '1'}\n").unwrap();
    let out = mcpgen(&["validate", "ok.yaml"], &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("ok.yaml: ok"));
    let out = mcpgen(&["validate", "missing.yaml"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("error: cannot read missing.yaml"));
}

/// Without runtime options the crate builds against the runtime sources this
/// mcpgen was built from (here: this checkout), and says so; a registry
/// version can be pinned instead.
#[test]
fn generate_defaults_to_the_runtime_it_was_built_from() {
    let dir = tmp("runtime-default");
    std::fs::write(dir.join("s.yaml"), "server: {name: demo, version: 0.1.0}\n").unwrap();
    let out = mcpgen(&["generate", "s.yaml", "-o", "out"], &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let runtime = repo().join("runtime").canonicalize().unwrap();
    let runtime = runtime.to_str().unwrap();
    let cargo = std::fs::read_to_string(dir.join("out/Cargo.toml")).unwrap();
    assert!(
        cargo.contains(&format!("mcpgen-runtime = {{ path = \"{runtime}\" }}")),
        "{cargo}"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "note: the crate depends on mcpgen-runtime at {runtime}"
        )),
        "{stderr}"
    );

    let out = mcpgen(
        &[
            "generate",
            "s.yaml",
            "-o",
            "pinned",
            "--runtime-version",
            "0.3",
        ],
        &dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cargo = std::fs::read_to_string(dir.join("pinned/Cargo.toml")).unwrap();
    assert!(cargo.contains("mcpgen-runtime = \"0.3\""), "{cargo}");
    assert!(!text(&out.stderr).contains("note:"));

    let both = [
        "generate",
        "s.yaml",
        "-o",
        "x",
        "--runtime-path",
        "a",
        "--runtime-version",
        "1",
    ];
    assert_eq!(mcpgen(&both, &dir).status.code(), Some(2));
}

/// An OpenAPI description's title gives a short default name, and the CLI
/// says which and how to change it.
#[test]
fn openapi_title_gives_a_short_name_and_a_note() {
    let dir = tmp("short-name");
    std::fs::write(
        dir.join("api.json"),
        r#"{"openapi": "3.0.3", "info": {"title": "GitHub's official OpenAPI spec + Octokit extension", "version": "1.1.4"}, "paths": {}}"#,
    )
    .unwrap();
    let out = mcpgen(
        &[
            "generate",
            "api.json",
            "-o",
            "out",
            "--runtime-version",
            "0.1",
        ],
        &dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cargo = std::fs::read_to_string(dir.join("out/Cargo.toml")).unwrap();
    assert!(cargo.contains("name = \"github\""), "{cargo}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("note: named the server and package `github` (from the title \"GitHub's official OpenAPI spec + Octokit extension\"); pass --name NAME to choose another"),
        "{stderr}"
    );
    let out = mcpgen(
        &[
            "generate",
            "api.json",
            "-o",
            "named",
            "--runtime-version",
            "0.1",
            "--name",
            "octo",
        ],
        &dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("note: named"));
}

#[test]
fn generate_then_check() {
    let dir = tmp("generate");
    std::fs::write(
        dir.join("s.yaml"),
        "server: {name: demo-server, version: 0.2.0}\ntools:\n  - name: ping\n",
    )
    .unwrap();
    let out = mcpgen(
        &["generate", "s.yaml", "-o", "out", "--runtime-path", "../rt"],
        &dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cargo = std::fs::read_to_string(dir.join("out/Cargo.toml")).unwrap();
    assert!(cargo.contains("name = \"demo-server\"") && cargo.contains("version = \"0.2.0\""));
    assert!(cargo.contains("mcpgen-runtime = { path = \"../rt\" }"));
    let main = std::fs::read_to_string(dir.join("out/src/main.rs")).unwrap();
    assert!(main.contains("demo_server::server("), "{main}");

    let check = mcpgen(
        &[
            "generate",
            "s.yaml",
            "-o",
            "out",
            "--runtime-path",
            "../rt",
            "--check",
        ],
        &dir,
    );
    assert!(check.status.success(), "{}", text(&check.stderr));
    std::fs::write(dir.join("out/README.md"), "edited").unwrap();
    let check = mcpgen(
        &[
            "generate",
            "s.yaml",
            "-o",
            "out",
            "--runtime-path",
            "../rt",
            "--check",
        ],
        &dir,
    );
    assert_eq!(check.status.code(), Some(1));
    let stderr = text(&check.stderr);
    assert!(
        stderr.contains("error: out is out of date with s.yaml:"),
        "{stderr}"
    );
    assert!(stderr.contains("  update out/README.md"), "{stderr}");
    assert!(
        stderr.contains("run `mcpgen generate s.yaml -o out --runtime-path ../rt` to update it"),
        "{stderr}"
    );
    // The diff restores the generated README from the edited one.
    let stdout = text(&check.stdout);
    assert!(
        stdout.contains("--- a/out/README.md\n+++ b/out/README.md\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\n-edited\n"), "{stdout}");
    assert!(stdout.contains("\n+# demo-server\n"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(dir.join("out/README.md")).unwrap(),
        "edited"
    );
}

#[test]
fn schema_to_stdout_file_and_check() {
    let dir = tmp("schema");
    let out = mcpgen(&["schema"], &dir);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), mcpgen::spec::json_schema());
    assert!(mcpgen(&["schema", "-o", "s.json"], &dir).status.success());
    assert!(
        mcpgen(&["schema", "-o", "s.json", "--check"], &dir)
            .status
            .success()
    );
    std::fs::write(dir.join("s.json"), "{}").unwrap();
    assert_eq!(
        mcpgen(&["schema", "-o", "s.json", "--check"], &dir)
            .status
            .code(),
        Some(1)
    );
}

/// `--raw-descriptions` keeps an operation's description as written; by
/// default its HTML becomes text.
#[test]
fn raw_descriptions_flag_keeps_descriptions_as_written() {
    let dir = tmp("raw-descriptions");
    let fixture = repo().join("generator/tests/fixtures/openapi/descriptions.yaml");
    let fixture = fixture.to_str().unwrap();
    for (out_dir, raw) in [("cleaned", false), ("raw", true)] {
        let mut args = vec!["generate", fixture, "-o", out_dir];
        if raw {
            args.push("--raw-descriptions");
        }
        let out = mcpgen(&args, &dir);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let code = std::fs::read_to_string(dir.join(out_dir).join("src/generated.rs")).unwrap();
        assert_eq!(code.contains("&quot;events&quot;"), raw, "{out_dir}");
        assert_eq!(
            code.contains("[the webhook guide](https://example.com/docs/webhooks)"),
            !raw,
            "{out_dir}"
        );
    }
}
