//! Every validation rule, with the line and column it reports.

use std::path::{Path, PathBuf};

use mcpgen::Error;
use mcpgen::spec::load_str;

/// A directory for bundled files, unique per test.
fn dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("validate")
        .join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `line:col: message` for every problem in `yaml` (which must be invalid).
fn problems_in(yaml: &str, base: &Path) -> Vec<String> {
    match load_str(yaml, Path::new("t.yaml"), base) {
        Ok(_) => panic!("expected problems in:\n{yaml}"),
        Err(Error::Invalid(d)) => {
            d.0.iter()
                .map(|d| format!("{}:{}: {}", d.pos.line, d.pos.column, d.problem))
                .collect()
        }
        Err(other) => panic!("unexpected error {other}"),
    }
}

fn problems(yaml: &str) -> Vec<String> {
    problems_in(yaml, &dir("default"))
}

/// Assert the problems are exactly these (`line:col` prefix + message fragment).
#[track_caller]
fn expect(yaml: &str, expected: &[(&str, &str)]) {
    let got = problems(yaml);
    let ok = got.len() == expected.len()
        && got
            .iter()
            .zip(expected)
            .all(|(g, (at, frag))| g.starts_with(&format!("{at}: ")) && g.contains(frag));
    assert!(ok, "expected {expected:#?}\ngot {got:#?}");
}

const SERVER: &str = "server:\n  name: demo\n  version: 1.0.0\n";

fn spec(rest: &str) -> String {
    format!("{SERVER}{rest}")
}

#[test]
fn valid_minimal_spec() {
    let loaded = load_str(SERVER, Path::new("t.yaml"), Path::new(".")).unwrap();
    assert_eq!(loaded.spec.server.name, "demo");
    assert!(loaded.spec.tools.is_empty());
}

#[test]
fn not_a_mapping_empty_and_syntax() {
    expect("", &[("1:1", "the spec is empty")]);
    expect("# nothing\n", &[("1:1", "the spec is empty")]);
    expect("- a\n- b\n", &[("1:1", "must be a YAML mapping")]);
    expect("just text\n", &[("1:1", "found a string")]);
    expect("server: [1, 2\n", &[("2:1", "invalid YAML")]);
    expect(
        "server:\n  name: a\n  version: '1'\n  name: b\n",
        &[("4:3", "duplicate key `name` (first given at 2:3)")],
    );
    expect("a: 1\n---\nb: 2\n", &[("2:1", "single YAML document")]);
}

#[test]
fn unknown_keys_are_all_reported_with_suggestions() {
    let yaml = spec(
        "tools:\n  - name: a\n    inputschema: {type: object}\n  - name: b\n    descripton: x\nresources:\n  - uri: x://1\n    name: r\n    text: t\n    mimetype: text/plain\ncolour: red\n",
    );
    expect(
        &yaml,
        &[
            (
                "6:5",
                "unknown key `inputschema` in a tool; did you mean `inputSchema`?",
            ),
            (
                "8:5",
                "unknown key `descripton` in a tool; did you mean `description`?",
            ),
            ("13:5", "did you mean `mimeType`?"),
            ("14:1", "unknown key `colour` in the spec"),
        ],
    );
}

#[test]
fn schema_key_is_accepted() {
    let yaml = format!("$schema: ./mcpgen.schema.json\n{SERVER}");
    assert!(load_str(&yaml, Path::new("t.yaml"), Path::new(".")).is_ok());
}

#[test]
fn type_errors_carry_positions() {
    expect("server: [1]\n", &[("1:9", "expected a mapping (`server`)")]);
    expect("tools: []\n", &[("1:1", "missing required key `server`")]);
    expect(
        &spec("tools:\n  - name: a\n    annotations:\n      readOnlyHint: maybe\n"),
        &[("7:21", "invalid type: string \"maybe\", expected a boolean")],
    );
    expect(
        &spec("prompts:\n  - name: p\n    messages:\n      - role: robot\n        text: x\n"),
        &[("7:15", "unknown variant `robot`")],
    );
    expect(
        &spec("tools:\n  - name: a\n    params:\n      x: strnig\n"),
        &[("7:10", "unknown variant `strnig`")],
    );
}

#[test]
fn cache_hints_are_checked() {
    let ok =
        "server:\n  name: demo\n  version: 1.0.0\n  cache:\n    ttlMs: 60000\n    scope: public\n";
    assert!(load_str(ok, Path::new("t.yaml"), Path::new(".")).is_ok());
    expect(
        "server:\n  name: demo\n  version: 1.0.0\n  cache:\n    ttlMs: 5\n    scope: shared\n",
        &[("6:12", "unknown variant `shared`")],
    );
    expect(
        "server:\n  name: demo\n  version: 1.0.0\n  cache:\n    ttlMs: -1\n    scope: public\n",
        &[("5:12", "invalid value")],
    );
}

#[test]
fn tool_names() {
    expect(
        &spec("tools:\n  - name: a b\n"),
        &[("5:11", "tool name \"a b\" is invalid: only A-Z, a-z, 0-9")],
    );
    let long = "x".repeat(129);
    expect(
        &spec(&format!("tools:\n  - name: {long}\n")),
        &[("5:11", "at most 128")],
    );
    expect(
        &spec("tools:\n  - name: ''\n"),
        &[("5:11", "must not be empty")],
    );
    // The `Handlers` trait's tool-call hook owns this method name.
    expect(
        &spec("tools:\n  - name: wrap-tool-call\n"),
        &[("5:11", "would be `wrap_tool_call`, the tool-call hook")],
    );
}

#[test]
fn duplicate_names_and_uris() {
    expect(
        &spec("tools:\n  - name: a\n  - name: b\n  - name: a\n"),
        &[("7:11", "duplicate tool \"a\" (first defined at 5:11)")],
    );
    expect(
        &spec(
            "resources:\n  - {uri: 'x://1', name: a, text: t}\n  - {uri: 'x://1', name: a, text: t}\n",
        ),
        &[
            (
                "6:11",
                "duplicate resource URI \"x://1\" (first defined at 5:11)",
            ),
            ("6:26", "duplicate resource name \"a\""),
        ],
    );
    expect(
        &spec(
            "resourceTemplates:\n  - {uriTemplate: 'x://{a}', name: t}\n  - {uriTemplate: 'x://{a}', name: u}\n",
        ),
        &[("6:19", "duplicate URI template \"x://{a}\"")],
    );
    expect(
        &spec(
            "prompts:\n  - {name: p, messages: [{role: user, text: hi}]}\n  - {name: p, handler: true}\n",
        ),
        &[("6:12", "duplicate prompt \"p\" (first defined at 5:12)")],
    );
}

#[test]
fn identifier_collisions() {
    expect(
        &spec("tools:\n  - name: foo-bar\n  - name: foo_bar\n"),
        &[(
            "6:11",
            "tool \"foo_bar\" and tool \"foo-bar\" (at 5:11) would both become the handler method `foo_bar`",
        )],
    );
    expect(
        &spec(
            "tools:\n  - name: read_config\nresources:\n  - uri: x://c\n    name: config\n    handler: true\n",
        ),
        &[("8:11", "would both become the handler method `read_config`")],
    );
    expect(
        &spec("tools:\n  - name: t\n    params:\n      fooBar: string\n      foo_bar: string\n"),
        &[(
            "8:7",
            "parameter \"foo_bar\" and parameter \"fooBar\" (at 7:7) would both become the struct field `foo_bar`",
        )],
    );
    expect(
        &spec(
            "tools:\n  - name: t\n    inputSchema:\n      type: object\n      properties:\n        a-b: {type: string}\n        a_b: {type: string}\n",
        ),
        &[("10:9", "would both become the struct field `a_b`")],
    );
}

#[test]
fn uri_templates_and_completions() {
    expect(
        &spec("resourceTemplates:\n  - uriTemplate: 'x://{id'\n    name: t\n"),
        &[("5:18", "invalid URI template \"x://{id\"")],
    );
    expect(
        &spec(
            "resourceTemplates:\n  - uriTemplate: 'x://{id}{?q}'\n    name: t\n    complete:\n      q: [a]\n      nope: [x]\n",
        ),
        &[(
            "9:7",
            "`complete` names \"nope\", which is not a variable of the URI template (variables: `id`, `q`)",
        )],
    );
}

#[test]
fn upstream_settings_templates_and_headers_are_checked_with_positions() {
    expect(
        &spec(concat!(
            "openapi:\n",
            "  path: api.yaml\n",
            "  baseUrl: 'https://{{ env.HOST }}/v1'\n",
            "  headers:\n",
            "    X-Tenant: '{{env.TENANT}}'\n",
            "    Bad Name: x\n",
            "    X-Literal: '\\{{ not a template'\n",
            "  tls:\n",
            "    caCert: '{{ env.DIR }/ca.pem'\n",
            "    clientCert: '{{ HOME }}/c.pem'\n",
            "    verify: false\n",
        )),
        &[
            ("9:5", "header name \"Bad Name\" is not an HTTP token"),
            (
                "12:13",
                "invalid template in `tls.caCert`: `{{` is not closed by `}}`",
            ),
            (
                "13:17",
                "invalid template in `tls.clientCert`: malformed template `{{ HOME }}`: expected `{{ env.NAME }}`",
            ),
        ],
    );
}

#[test]
fn prompt_placeholders_and_shape() {
    expect(
        &spec(
            "prompts:\n  - name: p\n    arguments:\n      - name: topic\n    messages:\n      - role: user\n        text: 'About {{topic}} and {{ other }}'\n",
        ),
        &[(
            "10:15",
            "placeholder `{{other}}` is not a declared argument of prompt \"p\" (arguments: `topic`)",
        )],
    );
    expect(
        &spec("prompts:\n  - name: p\n"),
        &[(
            "5:5",
            "a prompt must have exactly one of messages, handler: true, found none",
        )],
    );
    expect(
        &spec("prompts:\n  - name: p\n    handler: true\n    messages: [{role: user, text: x}]\n"),
        &[("5:5", "found messages, handler: true")],
    );
    expect(
        &spec(
            "prompts:\n  - name: p\n    messages:\n      - role: user\n        text: a\n        image: {data: aGk=, mimeType: image/png}\n",
        ),
        &[(
            "7:9",
            "a prompt message must have exactly one of text, image, audio, resource, found text, image",
        )],
    );
    expect(
        &spec("prompts:\n  - name: p\n    messages: []\n"),
        &[("6:15", "`messages` must not be empty")],
    );
    expect(
        &spec(
            "prompts:\n  - name: p\n    messages:\n      - role: user\n        image: {mimeType: image/png}\n",
        ),
        &[(
            "8:16",
            "image or audio content must have exactly one of data, file, found none",
        )],
    );
    expect(
        &spec(
            "prompts:\n  - name: p\n    messages:\n      - role: user\n        resource: {uri: 'x://a', text: '{{nope}}'}\n",
        ),
        &[("8:40", "placeholder `{{nope}}`")],
    );
}

#[test]
fn bundled_files_and_base64() {
    let base = dir("files");
    std::fs::write(base.join("present.txt"), "hello").unwrap();
    let yaml = spec(
        "resources:\n  - {uri: 'x://1', name: a, file: present.txt}\n  - {uri: 'x://2', name: b, file: missing.txt}\n  - {uri: 'x://3', name: c, blob: '!!!'}\nprompts:\n  - name: p\n    messages:\n      - role: user\n        audio: {data: 'not base64', mimeType: audio/wav}\n",
    );
    let got = problems_in(&yaml, &base);
    assert_eq!(got.len(), 3, "{got:#?}");
    assert!(
        got[0].starts_with("6:35: bundled file \"missing.txt\" cannot be read: no such file"),
        "{got:#?}"
    );
    assert!(
        got[1].starts_with("7:35: invalid base64 in `blob`"),
        "{got:#?}"
    );
    assert!(
        got[2].starts_with("12:23: invalid base64 in `data`"),
        "{got:#?}"
    );
}

#[test]
fn resource_contents_exactly_one() {
    expect(
        &spec("resources:\n  - uri: x://1\n    name: a\n    text: t\n    blob: aGk=\n"),
        &[(
            "5:5",
            "a resource must have exactly one of text, blob, file, handler: true, found text, blob",
        )],
    );
    expect(
        &spec("resources:\n  - uri: x://1\n    name: a\n"),
        &[("5:5", "found none")],
    );
    expect(
        &spec("resources:\n  - {uri: x://1, name: a, text: t, annotations: {priority: 2}}\n"),
        &[("5:60", "priority must be between 0 and 1, found 2")],
    );
}

#[test]
fn json_schemas() {
    expect(
        &spec(
            "tools:\n  - name: t\n    inputSchema:\n      type: object\n      properties:\n        x: {type: strin}\n",
        ),
        &[("9:19", "`inputSchema` is not a valid JSON Schema (2020-12)")],
    );
    expect(
        &spec("tools:\n  - name: t\n    inputSchema:\n      type: array\n"),
        &[(
            "7:13",
            "the root of `inputSchema` must be `type: object`, found \"array\"",
        )],
    );
    expect(
        &spec("tools:\n  - name: t\n    outputSchema:\n      properties: {}\n"),
        &[(
            "7:7",
            "the root of `outputSchema` must be `type: object`, but it has no `type`",
        )],
    );
    expect(
        &spec(
            "tools:\n  - name: t\n    inputSchema:\n      type: object\n      properties:\n        x: {$ref: '#/$defs/missing'}\n",
        ),
        &[("7:7", "`inputSchema` is not a valid JSON Schema")],
    );
    expect(
        &spec(
            "tools:\n  - name: t\n    inputSchema:\n      $schema: http://json-schema.org/draft-07/schema#\n      type: object\n",
        ),
        &[("7:16", "only the 2020-12 dialect is supported")],
    );
    // $defs/$ref that resolve are fine.
    let ok = spec(
        "tools:\n  - name: t\n    inputSchema:\n      type: object\n      $defs: {id: {type: integer}}\n      properties:\n        x: {$ref: '#/$defs/id'}\n",
    );
    assert!(load_str(&ok, Path::new("t.yaml"), Path::new(".")).is_ok());
}

#[test]
fn params_rules() {
    expect(
        &spec("tools:\n  - name: t\n    params: {a: string}\n    inputSchema: {type: object}\n"),
        &[("7:5", "give either `params` or `inputSchema`, not both")],
    );
    expect(
        &spec(
            "tools:\n  - name: t\n    params:\n      n: {type: integer, default: x}\n      s: {type: string, enum: [a, 1]}\n      r: {type: boolean, default: true, required: true}\n",
        ),
        &[
            (
                "7:35",
                "default \"x\" does not match the parameter type `integer`",
            ),
            (
                "8:35",
                "enum value 1 does not match the parameter type `string`",
            ),
            ("9:51", "`required: true` contradicts `default`"),
        ],
    );
}

#[test]
fn server_name_must_make_a_crate_name() {
    expect(
        "server:\n  name: test\n  version: '1'\n",
        &[("2:9", "server name \"test\" cannot be used as a crate name")],
    );
    expect(
        "server:\n  name: '42'\n  version: '1'\n",
        &[("2:9", "start with a digit")],
    );
}

#[test]
fn many_problems_in_one_run_sorted_by_position() {
    let yaml = spec(
        "tools:\n  - name: a b\n  - name: ok\n    bogus: 1\n  - name: c\n    inputSchema: {type: array}\nprompts:\n  - name: p\n    messages:\n      - role: user\n        text: '{{x}}'\n  - name: q\n",
    );
    let got = problems(&yaml);
    let positions: Vec<&str> = got.iter().map(|g| g.split(": ").next().unwrap()).collect();
    assert_eq!(
        positions,
        vec!["5:11", "7:5", "9:25", "14:15", "15:5"],
        "{got:#?}"
    );
}

#[test]
fn load_reports_unreadable_and_non_utf8_files() {
    let base = dir("io");
    let missing = base.join("nope.yaml");
    assert!(matches!(
        mcpgen::validate(&missing),
        Err(Error::Read { .. })
    ));
    let latin1 = base.join("latin1.yaml");
    std::fs::write(&latin1, b"server:\n  name: caf\xe9\n").unwrap();
    let err = mcpgen::validate(&latin1).unwrap_err();
    let d = err.diagnostics().unwrap();
    assert_eq!((d.0[0].pos.line, d.0[0].pos.column), (2, 12));
    assert!(d.to_string().contains("not valid UTF-8"));
}

#[test]
fn cli_format_of_diagnostics() {
    let err = load_str("tools: []\n", Path::new("specs/x.yaml"), Path::new(".")).unwrap_err();
    assert_eq!(
        mcpgen::cli::render_error(&err),
        "specs/x.yaml:1:1: error: missing required key `server`\n1 error found"
    );
}

#[test]
fn rate_limits_are_checked_where_written() {
    expect(
        &spec("tools:\n  - name: a\n    rateLimit: 10/1w\n"),
        &[("6:16", "`1w` is not an interval")],
    );
    expect(
        &spec("rateLimits:\n  server: lots\n"),
        &[("5:11", "`lots` is not a rate limit")],
    );
    expect(
        &spec("rateLimits:\n  perClient: {limit: 0, interval: 1m}\n"),
        &[("5:14", "the limit must be a whole number from 1")],
    );
    expect(
        &spec("rateLimits:\n  global: {limit: 5, interval: 1m, burst: 3}\n"),
        &[("5:36", "unknown key `burst`")],
    );
    expect(
        &spec("rateLimits:\n  perIp: 5/1m\n"),
        &[("5:3", "unknown key `perIp`")],
    );
}

#[test]
fn rate_limits_lower_to_the_runtime_form() {
    let yaml = spec(
        "tools:\n  - name: a\n    rateLimit: {limit: 3, interval: 90s}\n  - name: b\n\
         rateLimits:\n  perClient: 10/s\n  server: 100/60s\n  global: 7/1500ms\n  \
         tools: {a: 1/1m, b: 2/1h}\n",
    );
    let loaded = load_str(&yaml, Path::new("t.yaml"), Path::new(".")).unwrap();
    let ir = mcpgen::spec::lower(
        &loaded,
        mcpgen::ir::RuntimeDep::Version {
            version: "0.1".into(),
        },
    );
    assert_eq!(
        ir.rate_limits.as_deref(),
        Some(
            r#"{"perClient":"10/1s","server":"100/1m","global":"7/1500ms","tools":{"a":"3/90s","b":"2/1h"}}"#
        )
    );
    let plain = load_str(SERVER, Path::new("t.yaml"), Path::new(".")).unwrap();
    let ir = mcpgen::spec::lower(
        &plain,
        mcpgen::ir::RuntimeDep::Version {
            version: "0.1".into(),
        },
    );
    assert_eq!(ir.rate_limits, None);
    assert!(ir.rate_limit_rows.is_empty());
}

#[test]
fn scopes_are_checked_where_written() {
    expect(
        &spec("tools:\n  - name: a\n    scopes: [\"two words\"]\n"),
        &[("6:13", "\"two words\" is not an OAuth scope")],
    );
    expect(
        &spec("auth:\n  scopes: [ok, 'q\"uote']\n"),
        &[("5:11", "is not an OAuth scope")],
    );
    expect(
        &spec("auth:\n  issuers: [x]\n"),
        &[("5:3", "unknown key `issuers`")],
    );
}

#[test]
fn auth_lowers_to_the_runtime_form_only_when_declared() {
    let lower = |yaml: &str| {
        let loaded = load_str(yaml, Path::new("t.yaml"), Path::new(".")).unwrap();
        let version = mcpgen::ir::RuntimeDep::Version {
            version: "0.1".into(),
        };
        mcpgen::spec::lower(&loaded, version)
    };
    let ir = lower(&spec(
        "tools:\n  - name: a\n    scopes: [w, x]\n  - name: b\n\
         auth:\n  issuer: http://as\n  scopes: [mcp]\n  hideTools: true\n",
    ));
    assert_eq!(
        ir.auth.as_deref(),
        Some(
            r#"{"issuer":"http://as","scopes":["mcp"],"hideTools":true,"toolScopes":{"a":["w","x"]}}"#
        )
    );
    assert_eq!(ir.auth_rows, [("a".to_owned(), "`w`, `x`".to_owned())]);
    let scopes_only = lower(&spec("tools:\n  - name: a\n    scopes: [w]\n"));
    assert_eq!(
        scopes_only.auth.as_deref(),
        Some(r#"{"scopes":[],"hideTools":false,"toolScopes":{"a":["w"]}}"#)
    );
    assert_eq!(
        lower(SERVER).auth,
        None,
        "no auth feature without auth: or scopes:"
    );
}

#[test]
fn operation_scopes_come_from_oauth2_security_requirements_when_asked() {
    let d = dir("operation_scopes");
    let petstore =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/openapi/petstore-oas30.json");
    let load = |auth: &str| {
        let yaml = format!(
            "{SERVER}tools:\n  - name: hello\n    scopes: [hi]\nopenapi:\n  path: {}\nauth: {auth}\n",
            petstore.display()
        );
        let path = d.join("t.yaml");
        std::fs::write(&path, yaml).unwrap();
        let ir = mcpgen::load_ir(&mcpgen::Options::new(&path)).unwrap_or_else(|e| panic!("{e}"));
        let auth: serde_json::Value =
            serde_json::from_str(ir.server.auth.as_deref().unwrap()).unwrap();
        auth["toolScopes"].clone()
    };
    let scopes = load("{operationScopes: true}");
    // addPet: petstore_auth [write:pets, read:pets], sorted.
    assert_eq!(
        scopes["add_pet"],
        serde_json::json!(["read:pets", "write:pets"])
    );
    assert_eq!(
        scopes["hello"],
        serde_json::json!(["hi"]),
        "YAML tools keep theirs"
    );
    // getInventory needs api_key only: no OAuth scopes.
    assert!(scopes.get("get_inventory").is_none(), "{scopes}");
    let off = load("{}");
    assert_eq!(
        off,
        serde_json::json!({"hello": ["hi"]}),
        "off unless asked"
    );
}

#[test]
fn rate_limits_name_tools_of_the_spec_or_its_openapi_import() {
    let d = dir("rate_limit_tools");
    let petstore =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/openapi/petstore-oas30.json");
    let write = |tools: &str| {
        let yaml = format!(
            "{SERVER}tools:\n  - name: hello\nopenapi:\n  path: {}\nrateLimits:\n  tools: {tools}\n",
            petstore.display()
        );
        let path = d.join("t.yaml");
        std::fs::write(&path, yaml).unwrap();
        mcpgen::load_ir(&mcpgen::Options::new(&path))
    };
    let ir = write("{hello: 1/1s, add_pet: 2/1m}").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ir.server.rate_limits.as_deref(),
        Some(r#"{"tools":{"hello":"1/1s","add_pet":"2/1m"}}"#)
    );
    let e = write("{hello: 1/1s, ad_pet: 2/1m}")
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("rate limit for \"ad_pet\", which is no tool of this server"),
        "{e}"
    );
}

#[test]
fn an_openapi_override_can_limit_its_tool() {
    let d = dir("rate_limit_override");
    let petstore =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/openapi/petstore-oas30.json");
    let write = |overrides: &str| {
        let yaml = format!(
            "{SERVER}openapi:\n  path: {}\n  overrides:\n{overrides}rateLimits:\n  tools: {{add_pet: 9/1m}}\n",
            petstore.display()
        );
        let path = d.join("t.yaml");
        std::fs::write(&path, yaml).unwrap();
        mcpgen::load_ir(&mcpgen::Options::new(&path))
    };
    // By operationId and by `METHOD /path`; the override wins over rateLimits.tools.
    let ir = write(
        "    addPet: {rateLimit: 2/1m}\n    GET /pet/findByStatus: {name: by_status, rateLimit: {limit: 5, interval: 1s}}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ir.server.rate_limits.as_deref(),
        Some(r#"{"tools":{"add_pet":"2/1m","by_status":"5/1s"}}"#)
    );
    let rows: Vec<_> = ir
        .server
        .rate_limit_rows
        .iter()
        .map(|(w, r)| format!("{w}: {r}"))
        .collect();
    assert_eq!(
        rows,
        [
            "calls of tool `add_pet`: 2/1m",
            "calls of tool `by_status`: 5/1s"
        ]
    );
    let e = write("    addPet: {rateLimit: 2/1w}\n")
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("`1w` is not an interval"), "{e}");
}

/// `x-mcp-header` (MCP 2026-07-28, SEP-2243): each rule the revision sets,
/// located at the annotation, in `inputSchema` and in `params`.
#[test]
fn x_mcp_header_rules() {
    let ok = spec(concat!(
        "tools:\n",
        "  - name: t\n",
        "    params:\n",
        "      region: {type: string, x-mcp-header: Region}\n",
        "      n: {type: integer, required: false, x-mcp-header: N}\n",
        "  - name: u\n",
        "    inputSchema:\n",
        "      type: object\n",
        "      properties:\n",
        "        target:\n",
        "          type: object\n",
        "          properties:\n",
        "            on: {type: boolean, x-mcp-header: Dry-Run}\n",
    ));
    let loaded = load_str(&ok, Path::new("t.yaml"), Path::new(".")).unwrap();
    let params = loaded.spec.tools[0].params.as_ref().unwrap();
    assert_eq!(params.iter().count(), 2);
    expect(
        &spec(concat!(
            "tools:\n",
            "  - name: t\n",
            "    inputSchema:\n",
            "      type: object\n",
            "      properties:\n",
            "        price: {type: number, x-mcp-header: Price}\n",
            "        tags: {type: array, items: {type: string, x-mcp-header: Tag}}\n",
            "        either: {anyOf: [{type: string, x-mcp-header: Either}]}\n",
            "        spaced: {type: string, x-mcp-header: 'Has Space'}\n",
            "        a: {type: string, x-mcp-header: Tenant}\n",
            "        b: {type: string, x-mcp-header: tenant}\n",
            "        c: {type: object, x-mcp-header: Obj}\n",
        )),
        &[
            ("9:45", "number is not allowed"),
            (
                "10:65",
                "not reached from the root through `properties` alone",
            ),
            ("11:55", "not reached from the root"),
            ("12:46", "\"Has Space\" is not an HTTP header name token"),
            (
                "14:41",
                "also declared by property `a` (header names are case-insensitive)",
            ),
            ("15:41", "found \"object\""),
        ],
    );
    expect(
        &spec(concat!(
            "tools:\n",
            "  - name: t\n",
            "    params:\n",
            "      ids: {type: 'string[]', x-mcp-header: Ids}\n",
            "      x: {type: number, x-mcp-header: X}\n",
            "      y: {type: string, x-mcp-header: 'a:b'}\n",
            "      w: {type: string, x-mcp-header: Region}\n",
            "      z: {type: boolean, x-mcp-header: REGION}\n",
        )),
        &[
            (
                "7:45",
                "needs a property of type string, integer or boolean",
            ),
            ("8:39", "number is not allowed"),
            ("9:39", "\"a:b\" is not an HTTP header name token"),
            ("11:40", "Mcp-Param-REGION is also declared by property `w`"),
        ],
    );
}

#[test]
fn input_before_task_needs_a_task_tool() {
    expect(
        &spec("tools:\n  - name: t\n    inputBeforeTask: true\n"),
        &[("6:22", "`inputBeforeTask` needs `task: optional`")],
    );
    let ok = spec("tools:\n  - name: t\n    task: required\n    inputBeforeTask: true\n");
    assert!(load_str(&ok, Path::new("t.yaml"), Path::new(".")).is_ok());
}
