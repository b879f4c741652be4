//! `mcpgen diff`: classification of every kind of change, snapshots of the
//! text and JSON output for the fixture pairs in `tests/fixtures/diff/`, and
//! the command's exit codes.

mod common;

use std::path::{Path, PathBuf};

use mcpgen::diff::{Code, ItemKind, Report, Severity};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diff")
}

fn ir(yaml: &str) -> mcpgen::ir::Server {
    let loaded = mcpgen::spec::load_str(yaml, Path::new("spec.yaml"), Path::new("."))
        .unwrap_or_else(|e| panic!("{e}"));
    mcpgen::spec::lower(&loaded, mcpgen::RuntimeDep::Path { path: ".".into() })
}

fn diff(old: &str, new: &str) -> Report {
    mcpgen::diff::compare(&ir(old), &ir(new))
}

/// A spec with one tool whose `inputSchema` (or other keys) is given as YAML.
fn tool(body: &str) -> String {
    format!("server: {{name: s, version: 1.0.0}}\ntools:\n  - name: t\n{body}")
}

/// The only change of `report`, checked for severity and code.
#[track_caller]
fn only(report: &Report, severity: Severity, code: Code) -> mcpgen::diff::Change {
    assert_eq!(
        report.changes.len(),
        1,
        "expected one change, got {:#?}",
        report.changes
    );
    let c = report.changes[0].clone();
    assert_eq!((c.severity, c.change), (severity, code), "{c:#?}");
    c
}

fn input(props: &str, extra: &str) -> String {
    tool(&format!(
        "    inputSchema:\n      type: object\n      properties: {props}\n{extra}"
    ))
}

#[test]
fn identical_specs_have_no_changes() {
    let spec = std::fs::read_to_string(fixtures().join("tools/old.yaml")).unwrap();
    let report = diff(&spec, &spec);
    assert!(report.changes.is_empty(), "{:#?}", report.changes);
    assert!(!report.is_breaking());
}

#[test]
fn new_required_argument_is_breaking_and_new_optional_one_is_not() {
    let old = input("{a: {type: string}}", "      required: [a]\n");
    let c = only(
        &diff(
            &old,
            &input(
                "{a: {type: string}, b: {type: integer}}",
                "      required: [a, b]\n",
            ),
        ),
        Severity::Breaking,
        Code::RequiredPropertyAdded,
    );
    assert_eq!(c.field.as_deref(), Some("b"));
    assert_eq!(c.pointer.as_deref(), Some("/inputSchema/properties/b"));
    assert_eq!(c.kind, ItemKind::Tool);
    assert_eq!(c.name, "t");
    only(
        &diff(
            &old,
            &input(
                "{a: {type: string}, b: {type: integer}}",
                "      required: [a]\n",
            ),
        ),
        Severity::Compatible,
        Code::PropertyAdded,
    );
    // An existing optional argument that becomes required.
    only(
        &diff(
            &input("{a: {type: string}}", ""),
            &input("{a: {type: string}}", "      required: [a]\n"),
        ),
        Severity::Breaking,
        Code::BecameRequired,
    );
    only(
        &diff(
            &input("{a: {type: string}}", "      required: [a]\n"),
            &input("{a: {type: string}}", ""),
        ),
        Severity::Compatible,
        Code::BecameOptional,
    );
}

#[test]
fn removed_and_retyped_properties_are_breaking() {
    let old = input("{a: {type: string}, b: {type: number}}", "");
    only(
        &diff(&old, &input("{a: {type: string}}", "")),
        Severity::Breaking,
        Code::PropertyRemoved,
    );
    only(
        &diff(&old, &input("{a: {type: boolean}, b: {type: number}}", "")),
        Severity::Breaking,
        Code::TypeChanged,
    );
    // number → integer accepts less; integer → number more.
    only(
        &diff(&old, &input("{a: {type: string}, b: {type: integer}}", "")),
        Severity::Breaking,
        Code::TypeNarrowed,
    );
    only(
        &diff(
            &input("{b: {type: integer}}", ""),
            &input("{b: {type: number}}", ""),
        ),
        Severity::Compatible,
        Code::TypeWidened,
    );
}

#[test]
fn enums_narrowed_break_and_widened_do_not() {
    let old = input("{e: {type: string, enum: [a, b]}}", "");
    let c = only(
        &diff(&old, &input("{e: {type: string, enum: [a]}}", "")),
        Severity::Breaking,
        Code::EnumNarrowed,
    );
    assert!(
        c.message.contains("no longer allows \"b\""),
        "{}",
        c.message
    );
    only(
        &diff(&old, &input("{e: {type: string, enum: [a, b, c]}}", "")),
        Severity::Compatible,
        Code::EnumWidened,
    );
}

#[test]
fn tighter_constraints_break_and_looser_ones_do_not() {
    let old = input("{s: {type: string, maxLength: 10, minimum: 1}}", "");
    only(
        &diff(
            &old,
            &input("{s: {type: string, maxLength: 5, minimum: 1}}", ""),
        ),
        Severity::Breaking,
        Code::ConstraintTightened,
    );
    only(
        &diff(
            &old,
            &input("{s: {type: string, maxLength: 20, minimum: 1}}", ""),
        ),
        Severity::Compatible,
        Code::ConstraintLoosened,
    );
    only(
        &diff(
            &old,
            &input("{s: {type: string, maxLength: 10, minimum: 2}}", ""),
        ),
        Severity::Breaking,
        Code::ConstraintTightened,
    );
    let c = only(
        &diff(
            &old,
            &input(
                "{s: {type: string, maxLength: 10, minimum: 1, pattern: '^x'}}",
                "",
            ),
        ),
        Severity::Breaking,
        Code::ConstraintTightened,
    );
    assert_eq!(
        c.pointer.as_deref(),
        Some("/inputSchema/properties/s/pattern")
    );
    only(
        &diff(
            &old,
            &input(
                "{s: {type: string, maxLength: 10, minimum: 1}}",
                "      additionalProperties: false\n",
            ),
        ),
        Severity::Breaking,
        Code::AdditionalPropertiesClosed,
    );
    only(
        &diff(
            &input("{s: {type: string}}", "      additionalProperties: false\n"),
            &input("{s: {type: string}}", "      additionalProperties: true\n"),
        ),
        Severity::Compatible,
        Code::AdditionalPropertiesOpened,
    );
}

#[test]
fn documentation_is_compatible_and_defaults_are_behavioural() {
    only(
        &diff(
            &tool("    description: old\n"),
            &tool("    description: new\n"),
        ),
        Severity::Compatible,
        Code::DescriptionChanged,
    );
    only(
        &diff(
            &input("{a: {type: string, description: x}}", ""),
            &input("{a: {type: string, description: y}}", ""),
        ),
        Severity::Compatible,
        Code::DescriptionChanged,
    );
    only(
        &diff(
            &input("{a: {type: integer, default: 1}}", ""),
            &input("{a: {type: integer, default: 2}}", ""),
        ),
        Severity::Behavioural,
        Code::DefaultChanged,
    );
}

#[test]
fn refs_into_defs_are_followed() {
    let schema = |max: u32| {
        input(
            "{addr: {$ref: '#/$defs/Address'}}",
            &format!(
                "      $defs:\n        Address:\n          type: object\n          properties:\n            zip: {{type: string, maxLength: {max}}}\n"
            ),
        )
    };
    let c = only(
        &diff(&schema(10), &schema(5)),
        Severity::Breaking,
        Code::ConstraintTightened,
    );
    assert_eq!(c.field.as_deref(), Some("addr.zip"));
    assert_eq!(
        c.pointer.as_deref(),
        Some("/inputSchema/$defs/Address/properties/zip/maxLength")
    );
    // A recursive definition terminates.
    let tree = |ty: &str| {
        input(
            "{root: {$ref: '#/$defs/Node'}}",
            &format!(
                "      $defs:\n        Node:\n          type: object\n          properties:\n            label: {{type: {ty}}}\n            children: {{type: array, items: {{$ref: '#/$defs/Node'}}}}\n"
            ),
        )
    };
    only(
        &diff(&tree("string"), &tree("integer")),
        Severity::Breaking,
        Code::TypeChanged,
    );
}

#[test]
fn output_schemas_are_judged_from_the_receiving_side() {
    let out = |props: &str, required: &str| {
        tool(&format!(
            "    outputSchema:\n      type: object\n      properties: {props}\n      required: {required}\n"
        ))
    };
    let old = out("{id: {type: integer}, state: {enum: [a, b]}}", "[id]");
    // A value the client has never seen: breaking.
    only(
        &diff(
            &old,
            &out("{id: {type: integer}, state: {enum: [a, b, c]}}", "[id]"),
        ),
        Severity::Breaking,
        Code::EnumWidened,
    );
    // Fewer possible values: fine for the receiver.
    only(
        &diff(
            &old,
            &out("{id: {type: integer}, state: {enum: [a]}}", "[id]"),
        ),
        Severity::Compatible,
        Code::EnumNarrowed,
    );
    // A field that may now be missing: breaking.
    only(
        &diff(
            &old,
            &out("{id: {type: integer}, state: {enum: [a, b]}}", "[]"),
        ),
        Severity::Breaking,
        Code::BecameOptional,
    );
    only(
        &diff(&old, &tool("")),
        Severity::Breaking,
        Code::OutputSchemaRemoved,
    );
    only(
        &diff(&tool(""), &old),
        Severity::Compatible,
        Code::OutputSchemaAdded,
    );
}

#[test]
fn tools_added_removed_and_renamed() {
    let two = "server: {name: s, version: 1.0.0}\ntools:\n  - {name: a, description: Does A., params: {x: string}}\n  - {name: b, description: Does B.}\n";
    let renamed = "server: {name: s, version: 1.0.0}\ntools:\n  - {name: a2, description: Does A., params: {x: string}}\n  - {name: b, description: Does B.}\n";
    let c = only(&diff(two, renamed), Severity::Breaking, Code::Renamed);
    assert_eq!(c.name, "a2");
    assert_eq!(c.old_name.as_deref(), Some("a"));
    // A renamed tool whose schema changed too is a removal and an addition.
    let changed = "server: {name: s, version: 1.0.0}\ntools:\n  - {name: a2, description: Does A., params: {y: string}}\n  - {name: b, description: Does B.}\n";
    let r = diff(two, changed);
    let codes: Vec<(Code, &str)> = r
        .changes
        .iter()
        .map(|c| (c.change, c.name.as_str()))
        .collect();
    assert_eq!(codes, [(Code::Removed, "a"), (Code::Added, "a2")]);
    assert!(r.is_breaking());
    let one = "server: {name: s, version: 1.0.0}\ntools:\n  - {name: b, description: Does B.}\n";
    only(&diff(two, one), Severity::Breaking, Code::Removed);
    only(&diff(one, two), Severity::Compatible, Code::Added);
}

#[test]
fn annotations_that_make_a_tool_riskier_are_behavioural() {
    let hints = |h: &str| tool(&format!("    annotations: {{{h}}}\n"));
    let c = only(
        &diff(
            &hints("readOnlyHint: false, destructiveHint: false"),
            &hints("readOnlyHint: false, destructiveHint: true"),
        ),
        Severity::Behavioural,
        Code::AnnotationChanged,
    );
    assert_eq!(c.pointer.as_deref(), Some("/annotations/destructiveHint"));
    // destructiveHint defaults to true: dropping an explicit `false` is riskier.
    only(
        &diff(
            &hints("destructiveHint: false"),
            &hints("openWorldHint: true"),
        ),
        Severity::Behavioural,
        Code::AnnotationChanged,
    );
    only(
        &diff(&hints("readOnlyHint: true"), &hints("readOnlyHint: false")),
        Severity::Behavioural,
        Code::AnnotationChanged,
    );
    only(
        &diff(&hints("readOnlyHint: false"), &hints("readOnlyHint: true")),
        Severity::Compatible,
        Code::AnnotationChanged,
    );
}

/// Text and JSON output for every fixture pair.
#[test]
fn snapshots_of_fixture_pairs() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 4, "{cases:?}");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for case in cases {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            let load = |f: &str| {
                mcpgen::load_ir(&mcpgen::Options::new(case.join(f)))
                    .unwrap_or_else(|e| panic!("{e}"))
                    .server
            };
            // A YAML spec or an OpenAPI description, told apart by content.
            let report = mcpgen::diff::compare(&load("old.yaml"), &load("new.yaml"));
            let (old, new) = (format!("{name}/old.yaml"), format!("{name}/new.yaml"));
            insta::assert_snapshot!(format!("diff_{name}_text"), report.to_text(&old, &new));
            insta::assert_snapshot!(
                format!("diff_{name}_json"),
                serde_json::to_string_pretty(&report.to_json(&old, &new)).unwrap()
            );
        }
    });
}

fn mcpgen(args: &[&str]) -> std::process::Output {
    common::mcpgen(args, &fixtures())
}

#[test]
fn exit_status_is_1_for_breaking_0_otherwise_2_on_errors() {
    let out = mcpgen(&["diff", "tools/old.yaml", "tools/new.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(
            "tools/old.yaml → tools/new.yaml: 11 breaking, 2 behavioural, 5 compatible\n"
        ),
        "{stdout}"
    );
    let out = mcpgen(&["diff", "compatible/old.yaml", "compatible/new.yaml"]);
    assert_eq!(out.status.code(), Some(0));
    // Behavioural changes fail only when asked to.
    let out = mcpgen(&[
        "diff",
        "tools/old.yaml",
        "tools/new.yaml",
        "--fail-on",
        "never",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let out = mcpgen(&[
        "diff",
        "compatible/old.yaml",
        "compatible/new.yaml",
        "--fail-on",
        "any",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let out = mcpgen(&[
        "diff",
        "compatible/old.yaml",
        "compatible/new.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["format"], "mcpgen-diff/1");
    assert_eq!(json["breaking"], false);
    assert_eq!(json["counts"]["compatible"], 12);
    // Errors: a missing file, an invalid spec, bad usage.
    let out = mcpgen(&["diff", "tools/old.yaml", "missing.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read missing.yaml"));
    let out = mcpgen(&["diff", "tools/old.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let out = mcpgen(&["diff", "a", "b", "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn openapi_operations_keep_their_identity_across_operation_id_changes() {
    let load = |f: &str| {
        mcpgen::load_ir(&mcpgen::Options::new(fixtures().join("openapi").join(f)))
            .unwrap_or_else(|e| panic!("{e}"))
            .server
    };
    let report = mcpgen::diff::compare(&load("old.yaml"), &load("new.yaml"));
    let renamed: Vec<&mcpgen::diff::Change> = report
        .changes
        .iter()
        .filter(|c| c.change == Code::Renamed)
        .collect();
    assert_eq!(renamed.len(), 1, "{:#?}", report.changes);
    assert_eq!(renamed[0].severity, Severity::Breaking);
    assert!(
        renamed[0].message.contains("(same operation GET /pets)"),
        "{}",
        renamed[0].message
    );
    let has = |code: Code, severity: Severity| {
        report
            .changes
            .iter()
            .any(|c| c.change == code && c.severity == severity)
    };
    assert!(
        has(Code::Removed, Severity::Breaking),
        "{:#?}",
        report.changes
    );
    assert!(has(Code::Added, Severity::Compatible));
    assert!(has(Code::RequiredPropertyAdded, Severity::Breaking));
    assert!(has(Code::EnumNarrowed, Severity::Breaking));
    assert!(has(Code::ConstraintTightened, Severity::Breaking));
}

/// A new, changed or dropped `x-mcp-header` changes the headers a client
/// must send (MCP 2026-07-28): a server checking them refuses old clients.
#[test]
fn x_mcp_header_changes_are_breaking() {
    let plain = input("{a: {type: string}}", "");
    let region = input("{a: {type: string, x-mcp-header: Region}}", "");
    let zone = input("{a: {type: string, x-mcp-header: Zone}}", "");
    for (old, new) in [(&plain, &region), (&region, &zone), (&region, &plain)] {
        let c = only(&diff(old, new), Severity::Breaking, Code::KeywordChanged);
        assert!(c.message.contains("x-mcp-header"), "{c:#?}");
    }
}
