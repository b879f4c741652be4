//! OpenAPI input: messy documents, multi-file references, diagnostics,
//! the YAML import, and the checked-in OpenAPI examples.

mod common;

use common::*;
use std::path::{Path, PathBuf};

use mcpgen::{Error, LoadedIr, OpenApiOptions, Options};
use serde_json::{Value, json};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/openapi")
        .join(name)
}

fn load_with(path: &Path, opts: OpenApiOptions) -> LoadedIr {
    match mcpgen::load_ir(&Options::new(path).openapi(opts)) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    }
}

fn load(path: &Path) -> LoadedIr {
    load_with(path, OpenApiOptions::default())
}

fn error_text(path: &Path) -> String {
    match mcpgen::load_ir(&Options::new(path)) {
        Ok(_) => panic!("{} should not load", path.display()),
        Err(e @ Error::Invalid(_)) => e.to_string(),
        Err(e) => panic!("unexpected error kind: {e}"),
    }
}

/// (tool descriptor as clients receive it, operation descriptor) of every
/// upstream tool.
fn tools(l: &LoadedIr) -> Vec<(Value, Value)> {
    let up = l.server.upstream.as_ref().expect("upstream");
    up.tools
        .iter()
        .map(|t| {
            (
                Value::Object(up.whole_descriptor(t)),
                serde_json::to_value(&t.operation).unwrap(),
            )
        })
        .collect()
}

fn tool<'a>(all: &'a [(Value, Value)], name: &str) -> &'a (Value, Value) {
    all.iter()
        .find(|(d, _)| d["name"] == name)
        .unwrap_or_else(|| {
            let names: Vec<&Value> = all.iter().map(|(d, _)| &d["name"]).collect();
            panic!("no tool {name}; have {names:?}")
        })
}

#[test]
fn messy_document_is_handled_as_it_is() {
    let l = load(&fixture("messy.yaml"));
    let up = l.server.upstream.as_ref().unwrap();
    let upstream: Value = serde_json::to_value(&up.config).unwrap();
    // Server variables substituted with their defaults.
    assert_eq!(upstream["baseUrl"], "https://eu.example.com/v1");
    assert_eq!(upstream["envPrefix"], "MESSY");
    assert_eq!(l.server.package, "messy");

    let all = tools(&l);
    assert_eq!(all.len(), 4);
    messy_names_are_tool_names(&all);
    messy_get_merges_parameters(&all);
    messy_duplicates_bodies_and_long_names(&all);
    messy_warnings_are_located(&l);
}

/// Every tool name is short, lowercase and snake_case; every input schema
/// compiles as JSON Schema 2020-12.
fn messy_names_are_tool_names(all: &[(Value, Value)]) {
    for (d, _) in all {
        let name = d["name"].as_str().unwrap();
        assert!(name.len() <= 64, "{name}");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{name}"
        );
        // Every schema compiles as JSON Schema 2020-12.
        jsonschema::validator_for(&d["inputSchema"]).unwrap();
    }
}

fn messy_get_merges_parameters(all: &[(Value, Value)]) {
    // `/` and `.` in operationIds; path-level parameters merged, the
    // operation's wins; Accept header ignored; integer response code.
    let (d, op) = tool(all, "items_get_one");
    assert_eq!(op["method"], "GET");
    let params = op["parameters"].as_array().unwrap();
    assert_eq!(params.len(), 2, "{op}");
    assert_eq!(d["inputSchema"]["properties"]["verbose"]["type"], "string");
    assert_eq!(d["inputSchema"]["required"], json!(["id"]));
    assert_eq!(d["annotations"]["readOnlyHint"], true);
    assert_eq!(d["outputSchema"]["$ref"], "#/$defs/Item");
    // Recursive schema stays recursive; nullable allOf → anyOf with null.
    let item = &d["outputSchema"]["$defs"]["Item"];
    assert_eq!(item["properties"]["parent"]["$ref"], "#/$defs/Item");
    assert_eq!(
        item["properties"]["kind"]["anyOf"][1],
        json!({"type": "null"})
    );
    assert!(d["outputSchema"]["$defs"].get("Kind").is_some());
}

fn messy_duplicates_bodies_and_long_names(all: &[(Value, Value)]) {
    // Duplicate operationIds: both disambiguated by a hash of method + path.
    let dups: Vec<&str> = all
        .iter()
        .filter_map(|(d, _)| d["name"].as_str())
        .filter(|n| n.starts_with("dup_"))
        .collect();
    assert_eq!(dups.len(), 2, "{dups:?}");
    let (del, del_op) = all.iter().find(|(_, o)| o["method"] == "DELETE").unwrap();
    assert!(
        del["description"]
            .as_str()
            .unwrap()
            .starts_with("Deprecated.")
    );
    assert_eq!(del["annotations"]["destructiveHint"], true);
    assert_eq!(del["annotations"]["idempotentHint"], true);
    // A non-object success schema is wrapped.
    assert_eq!(del_op["successSchemaWrapped"], true);
    assert_eq!(del["outputSchema"]["properties"]["result"]["type"], "array");
    // The PUT body is kept flattened: `name`, `parent`, `kind` lifted, the
    // read-only `id` left out… except that `id` collides with the path
    // parameter, so the body stays whole.
    let (put, put_op) = all.iter().find(|(_, o)| o["method"] == "PUT").unwrap();
    assert_eq!(put_op["body"]["arg"], "body");
    assert_eq!(put["inputSchema"]["required"], json!(["id", "body"]));

    // Long operationId: abbreviated/cut to 64 with a stable hash.
    let (post, post_op) = all.iter().find(|(_, o)| o["method"] == "POST").unwrap();
    assert_eq!(post["name"].as_str().unwrap().len(), 64);
    // Body property `id` collides with the query parameter `id`: whole body.
    assert_eq!(post_op["body"]["arg"], "body");
    let body = &post["inputSchema"]["properties"]["body"]["properties"];
    assert_eq!(body["note"]["type"], json!(["string", "null"]));
    assert_eq!(body["size"]["exclusiveMinimum"], 0);
    assert!(body["size"].get("minimum").is_none());
    assert_eq!(body["size"]["examples"], json!([3]));
    assert_eq!(body["nothing"], json!({}));
}

fn messy_warnings_are_located(l: &LoadedIr) {
    // Warnings, located: the unknown top-level key and the null schema.
    let text: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        text.iter()
            .any(|w| w.contains("messy.yaml:12:1: warning: unknown top-level key `weird`")),
        "{text:#?}"
    );
    assert!(
        text.iter().any(|w| w.contains("null schema")
            && w.contains("#/paths/~1items/post/requestBody/content/application~1json/schema/properties/nothing")),
        "{text:#?}"
    );
}

#[test]
fn names_are_stable_whatever_else_changes() {
    let base = load(&fixture("messy.yaml"));
    let filtered = load_with(
        &fixture("messy.yaml"),
        OpenApiOptions {
            exclude: mcpgen::Filter {
                methods: vec!["POST".into()],
                ..Default::default()
            },
            ..Default::default()
        },
    );
    let names = |l: &LoadedIr| -> Vec<String> {
        tools(l)
            .iter()
            .map(|(d, _)| d["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (a, b) = (names(&base), names(&filtered));
    assert_eq!(b.len(), 3);
    for n in &b {
        assert!(a.contains(n), "{n} changed");
    }
}

#[test]
fn multi_file_swagger_with_parent_refs() {
    let l = load(&fixture("multi/root.json"));
    assert_eq!(l.inputs.len(), 3, "{:?}", l.inputs);
    let up: Value = serde_json::to_value(&l.server.upstream.as_ref().unwrap().config).unwrap();
    assert_eq!(up["baseUrl"], "https://api.example.com/base");
    let all = tools(&l);
    let (d, _) = tool(&all, "get_things");
    let out = &d["outputSchema"];
    assert_eq!(out["$ref"], "#/$defs/Thing");
    // The same file reached by two spellings is one definition.
    assert_eq!(
        out["$defs"]["Thing"]["properties"]["child"]["$ref"],
        "#/$defs/Thing"
    );
    assert_eq!(out["$defs"]["other"]["type"], json!(["string", "null"]));
}

#[test]
fn inline_refs_keeps_only_recursive_references() {
    let l = load_with(
        &fixture("messy.yaml"),
        OpenApiOptions {
            inline_refs: true,
            ..Default::default()
        },
    );
    let all = tools(&l);
    let (d, _) = tool(&all, "items_get_one");
    let out = &d["outputSchema"];
    // Item is recursive: still a reference. Kind is inlined.
    assert_eq!(out["$ref"], "#/$defs/Item");
    let defs = out["$defs"].as_object().unwrap();
    assert_eq!(defs.keys().collect::<Vec<_>>(), vec!["Item"]);
    assert_eq!(
        defs["Item"]["properties"]["kind"]["anyOf"][0]["allOf"][0]["enum"],
        json!(["a", "b"])
    );
}

#[test]
fn remote_refs_are_not_fetched() {
    let text = error_text(&fixture("remote.yaml"));
    assert!(
        text.contains("remote.yaml:12:17: error: $ref \"https://example.com/schemas/a.json\"")
            && text.contains("--allow-remote-refs")
            && text.contains("(at #/paths/~1a/get/responses/200/content/application~1json/schema)"),
        "{text}"
    );
}

#[test]
fn json_syntax_errors_have_positions() {
    let text = error_text(&fixture("broken.json"));
    assert!(text.contains("broken.json:6:"), "{text}");
    assert!(text.contains("invalid JSON"), "{text}");
}

#[test]
fn dangling_refs_are_errors() {
    let text = error_text(&fixture("dangling.yaml"));
    assert!(
        text.contains(
            "dangling.yaml:11:30: error: $ref \"#/components/schemas/Missing\" points to nothing"
        ),
        "{text}"
    );
}

#[test]
fn yaml_spec_imports_an_openapi_description() {
    let l = load(&fixture("import.yaml"));
    assert_eq!(l.server.tools.len(), 1, "the spec's own tool stays");
    let up = l.server.upstream.as_ref().unwrap();
    let json: Value = serde_json::to_value(&up.config).unwrap();
    assert_eq!(json["baseUrl"], "https://petstore.example.com/v3");
    assert_eq!(json["envPrefix"], "PETS");
    let all = tools(&l);
    let names: Vec<&str> = all.iter().filter_map(|(d, _)| d["name"].as_str()).collect();
    assert!(names.contains(&"pet"), "{names:?}");
    assert!(!names.contains(&"delete_pet"), "excluded: {names:?}");
    assert!(!names.contains(&"place_order"), "hidden: {names:?}");
    assert!(!names.contains(&"create_user"), "not included: {names:?}");
    let (pet, _) = tool(&all, "pet");
    assert_eq!(pet["description"], "Look a pet up.");
    assert_eq!(pet["annotations"]["openWorldHint"], false);
    assert_eq!(pet["annotations"]["readOnlyHint"], true);
    // Generated code registers the table.
    let c = mcpgen::generate_ir(l).unwrap();
    let code = &c.file("src/generated.rs").unwrap().contents;
    assert!(code.contains("builder = builder.upstream_tool_static(name, tool, operation);"));
}

#[test]
fn unmatched_overrides_are_errors_in_the_spec() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi-import");
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("spec.yaml");
    let doc = repo().join("specs/openapi/petstore-oas30.json");
    std::fs::write(
        &spec,
        format!(
            "server: {{name: pets, version: 1.0.0}}\nopenapi:\n  path: {}\n  overrides:\n    noSuchOperation: {{hidden: true}}\n",
            doc.display()
        ),
    )
    .unwrap();
    let text = error_text(&spec);
    assert!(
        text.contains("spec.yaml:5:5: error: override \"noSuchOperation\" matches no operation"),
        "{text}"
    );
}

#[test]
fn security_schemes_become_env_vars() {
    let l = load(&repo().join("specs/openapi/security-schemes-oas31.json"));
    let up = l.server.upstream.as_ref().unwrap();
    let json: Value = serde_json::to_value(&up.config).unwrap();
    let schemes = json["securitySchemes"].as_object().unwrap();
    assert!(!schemes.contains_key("mutualTLS"));
    assert!(!schemes.contains_key("openIdConnect"));
    assert_eq!(
        schemes["basic"]["envUser"],
        "SUPPORT_FOR_DIFFERENT_SECURITY_TYPES_BASIC_USERNAME"
    );
    assert_eq!(schemes["oauth2"]["type"], "oauth2ClientCredentials");
    assert!(
        l.warnings
            .iter()
            .any(|w| w.message.contains("\"mutualTLS\" is not supported"))
    );
    let c = mcpgen::generate_ir(l).unwrap();
    let readme = &c.file("README.md").unwrap().contents;
    assert!(
        readme.contains("`SUPPORT_FOR_DIFFERENT_SECURITY_TYPES_BEARER_TOKEN`"),
        "{readme}"
    );
    assert!(readme.contains("--base-url"));
    assert!(readme.contains("mutualTLS"));
    // The crate calls an API, so it turns on the runtime's HTTP client.
    let cargo = &c.file("Cargo.toml").unwrap().contents;
    assert!(cargo.contains("features = [\"upstream\"] }"), "{cargo}");
    assert!(
        cargo.contains("features = [\"upstream\", \"testing\"] }"),
        "{cargo}"
    );
}

#[test]
fn get_as_resources() {
    let l = load_with(
        &repo().join("specs/openapi/petstore-oas30.json"),
        OpenApiOptions {
            get_as_resources: true,
            ..Default::default()
        },
    );
    let up = l.server.upstream.as_ref().unwrap();
    let templates: Vec<&str> = up
        .templates
        .iter()
        .filter_map(|t| t.uri.as_deref())
        .collect();
    assert!(
        templates.contains(&"http://petstore.swagger.io/v2/pet/{pet_id}"),
        "{templates:?}"
    );
    let resources: Vec<&str> = up
        .resources
        .iter()
        .filter_map(|t| t.uri.as_deref())
        .collect();
    assert!(
        resources.contains(&"http://petstore.swagger.io/v2/store/inventory"),
        "{resources:?}"
    );
    // GETs with required query parameters stay tools.
    assert!(up.tools.iter().any(|t| t.name == "find_pets_by_status"));
}

#[test]
fn file_uploads_are_binary_fields() {
    let l = load(&repo().join("specs/openapi/file-uploads-oas303.yaml"));
    let all = tools(&l);
    let multipart: Vec<&(Value, Value)> = all
        .iter()
        .filter(|(_, o)| o["body"]["mediaType"] == "multipart/form-data")
        .collect();
    assert!(!multipart.is_empty());
    for (d, o) in multipart {
        let fields = o["body"]["binaryFields"].as_array().expect("binaryFields");
        for f in fields {
            let f = f.as_str().unwrap();
            let schema = &d["inputSchema"]["properties"][f];
            let file = if schema["type"] == "array" {
                &schema["items"]
            } else {
                schema
            };
            assert_eq!(file["oneOf"][0]["contentEncoding"], "base64", "{d}");
            // Exactly the three shapes the runtime takes (docs/upstream.md).
            let v = jsonschema::validator_for(file).unwrap();
            for ok in [
                json!("aGk="),
                json!({"data": "aGk=", "filename": "a.txt"}),
                json!({"uri": "test://a", "name": "a.txt", "mimeType": "text/plain"}),
                json!({"type": "resource_link", "uri": "test://a"}),
            ] {
                assert!(v.is_valid(&ok), "{ok} rejected by {file}");
            }
            for bad in [
                json!({}),
                json!({"uri": 5}),
                json!({"type": "text", "uri": "test://a"}),
                json!(42),
            ] {
                assert!(!v.is_valid(&bad), "{bad} accepted by {file}");
            }
        }
    }
}

/// The operation descriptor's `accept` of the tool `name`, if any.
fn accept<'a>(all: &'a [(Value, Value)], name: &str) -> Option<&'a str> {
    tool(all, name).1.get("accept").map(|a| a.as_str().unwrap())
}

#[test]
fn swagger2_parameters_in_openapi3_style_use_their_schema() {
    let l = load(&fixture("mixed-swagger20.yaml"));
    let all = tools(&l);
    let (d, op) = tool(&all, "search");
    let props = &d["inputSchema"]["properties"];
    // The parameter's `schema` is the schema; style/explode as OpenAPI 3.
    assert_eq!(
        props["freeform"],
        json!({"type": "object", "additionalProperties": {"type": "string"}})
    );
    let params = op["parameters"].as_array().unwrap();
    let param = |name: &str| params.iter().find(|p| p["name"] == name).unwrap();
    assert_eq!(
        param("freeform"),
        &json!({"name": "freeform", "in": "query", "arg": "freeform", "style": "form",
                "explode": true, "required": false, "kind": "object"})
    );
    // A 2.0 array with an OpenAPI 3 style and no collectionFormat: the style.
    assert_eq!(
        (&param("ids")["style"], &param("ids")["explode"]),
        (&json!("pipeDelimited"), &json!(false))
    );
    assert_eq!(
        props["ids"],
        json!({"type": "array", "items": {"type": "integer"}})
    );
    // collectionFormat as before; no parameter-level key in any schema.
    assert_eq!(
        (&param("tags")["style"], &param("tags")["explode"]),
        (&json!("form"), &json!(true))
    );
    assert_eq!(
        props["x_mode"],
        json!({"type": "string", "enum": ["a", "b"], "description": "the mode"})
    );
    for (arg, schema) in props.as_object().unwrap() {
        for key in [
            "name",
            "in",
            "required",
            "style",
            "explode",
            "schema",
            "allowEmptyValue",
            "collectionFormat",
        ] {
            assert!(schema.get(key).is_none(), "{arg}: {schema}");
        }
        jsonschema::validator_for(schema).unwrap();
    }
    // The mix is reported where it is, once per parameter.
    let text: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
    let mixed: Vec<&String> = text
        .iter()
        .filter(|w| w.contains("mixes versions"))
        .collect();
    assert_eq!(mixed.len(), 2, "{text:#?}");
    assert!(
        mixed[0].contains("mixed-swagger20.yaml:11:11: warning: this Swagger 2.0 parameter uses OpenAPI 3 keys (`schema`, `style`, `explode`)")
            && mixed[0].ends_with("(at #/paths/~1search/get/parameters/0)"),
        "{text:#?}"
    );
    assert!(
        mixed[1].contains("(`style`)")
            && mixed[1].ends_with("(at #/paths/~1search/get/parameters/1)"),
        "{text:#?}"
    );
}

#[test]
fn accept_follows_produces_in_swagger2() {
    let l = load(&fixture("mixed-swagger20.yaml"));
    let all = tools(&l);
    // The document's `produces`, JSON first.
    assert_eq!(
        accept(&all, "search"),
        Some("application/json, application/xml")
    );
    // The operation's, as listed.
    assert_eq!(accept(&all, "logo"), Some("image/webp, image/png, image/*"));
    // Only `*/*`: the runtime's default (JSON preferred, anything accepted).
    assert_eq!(accept(&all, "anything"), None);
    // What is not a media type is left out, with a located warning.
    assert_eq!(accept(&all, "broken"), Some("text/plain"));
    let text: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
    for (i, media) in [
        (1, "not a type"),
        (2, "text/csv, text/tab-separated-values"),
    ] {
        assert!(
            text.iter()
                .any(|w| w.contains(&format!("{media:?} is not a media type"))
                    && w.ends_with(&format!("(at #/paths/~1broken/get/produces/{i})"))),
            "{text:#?}"
        );
    }
}

#[test]
fn accept_follows_the_success_responses_in_openapi3() {
    let l = load(&fixture("accept-oas30.yaml"));
    let all = tools(&l);
    // Every 2xx response (referenced ones too, and 2XX), JSON first, each
    // type once; error responses do not count.
    assert_eq!(
        accept(&all, "report"),
        Some("application/vnd.report+json, application/json, text/csv, application/pdf")
    );
    // No success content, or only `*/*`: the runtime's default.
    assert_eq!(accept(&all, "delete_report"), None);
    assert_eq!(accept(&all, "any"), None);
}

/// Runs `load_ir` on `path` on another thread; fails if it takes too long
/// (a hang would otherwise stall the test run).
fn load_bounded(path: PathBuf) -> Result<LoadedIr, Error> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(mcpgen::load_ir(&Options::new(&path)));
    });
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .expect("load_ir did not finish (or panicked)")
}

#[test]
fn long_explicit_names_on_one_path_do_not_hang() {
    let e = match load_bounded(fixture("long-explicit-names.yaml")) {
        Ok(_) => panic!("duplicate explicit names should not load"),
        Err(e) => e.to_string(),
    };
    for method in ["get", "post", "put"] {
        assert!(
            e.contains(&format!(
                "is used twice; choose another name (at #/paths/~1things/{method})"
            )),
            "{e}"
        );
    }
    assert!(!e.contains("cannot find a unique tool name"), "{e}");
}

#[test]
fn non_ascii_explicit_names_are_reported_not_a_panic() {
    let e = match load_bounded(fixture("non-ascii-names.yaml")) {
        Ok(_) => panic!("invalid explicit names should not load"),
        Err(e) => e.to_string(),
    };
    for (line, path) in [(7, "one"), (11, "two")] {
        assert!(
            e.contains(&format!(
                "non-ascii-names.yaml:{line}:7: error: tool name \"{}\" is invalid",
                "é".repeat(40)
            )) && e.contains(&format!("(at #/paths/~1{path}/get)")),
            "{e}"
        );
    }
}

#[test]
fn percent_encoded_absolute_refs_are_refused() {
    let e = error_text(&fixture("encoded-absolute-ref.yaml"));
    assert!(
        e.contains("$ref \"%2Fetc%2Fhostname#/a\" is an absolute path or URI"),
        "{e}"
    );
    assert!(!e.contains("points to nothing"), "{e}");
}

#[test]
fn operations_and_path_items_keep_their_own_servers() {
    let path = fixture("servers-oas31.yaml");
    let l = load(&path);
    let all = tools(&l);
    let base = |name: &str| tool(&all, name).1.get("baseUrl").cloned();
    assert_eq!(base("list_pets"), None);
    // The path item's server, its variable at its default.
    assert_eq!(
        base("upload"),
        Some(json!("https://eu.uploads.example.com/v2"))
    );
    // The operation's own wins; relative to the document's server.
    assert_eq!(
        base("list_uploads"),
        Some(json!("https://api.example.com/archive"))
    );
    // The document's server again: nothing to say.
    assert_eq!(base("same"), None);
    // Protocol-relative: the document's scheme.
    assert_eq!(base("cdn"), Some(json!("https://cdn.example.com/v1")));
    assert_eq!(base("odd"), None);
    assert_eq!(base("odd_put"), None);
    assert_eq!(base("creds"), None, "the runtime would refuse it");
    let text: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
    let odd: Vec<&String> = text
        .iter()
        .filter(|w| w.contains("ftp://files.example.com"))
        .collect();
    assert_eq!(
        odd.len(),
        1,
        "one warning for the path item, not one per operation: {text:?}"
    );
    assert!(odd[0].contains("/paths/~1odd/servers/0/url"), "{odd:?}");
    let creds: Vec<&String> = text
        .iter()
        .filter(|w| w.contains("/paths/~1creds/get"))
        .collect();
    assert_eq!(creds.len(), 1, "{text:?}");
    assert!(
        creds[0].contains("https://files.example.com") && !creds[0].contains("secret"),
        "credentials stay out of diagnostics: {creds:?}"
    );

    // A base URL given at generation replaces every server.
    let l = load_with(
        &path,
        OpenApiOptions {
            base_url: Some("http://127.0.0.1:9/api".into()),
            ..Default::default()
        },
    );
    assert!(tools(&l).iter().all(|(_, o)| o.get("baseUrl").is_none()));

    // As resources, they are named by their own server.
    let l = load_with(
        &path,
        OpenApiOptions {
            get_as_resources: true,
            ..Default::default()
        },
    );
    let up = l.server.upstream.as_ref().unwrap();
    let uris: Vec<&str> = up
        .resources
        .iter()
        .filter_map(|r| r.uri.as_deref())
        .collect();
    assert!(
        uris.contains(&"https://api.example.com/archive/uploads"),
        "{uris:?}"
    );
    assert!(
        uris.contains(&"https://api.example.com/v1/pets"),
        "{uris:?}"
    );
}

#[test]
fn refs_inside_examples_are_data() {
    let l = load(&fixture("example-refs.yaml"));
    let all = tools(&l);
    let (d, _) = tool(&all, "create_item");
    // The property named `example` is a real schema, followed.
    assert_eq!(
        d["outputSchema"]["properties"]["example"]["$ref"],
        json!("#/$defs/Item"),
        "{d}"
    );
}

#[test]
fn a_real_ref_next_to_examples_is_still_checked() {
    let path = tmp("example-refs").join("doc.yaml");
    let text = std::fs::read_to_string(fixture("example-refs.yaml"))
        .unwrap()
        .replace(
            "$ref: \"#/components/examples/Shared\"",
            "$ref: \"gone.yaml#/Shared\"",
        );
    std::fs::write(&path, text).unwrap();
    let text = error_text(&path);
    assert!(
        text.contains("$ref \"gone.yaml#/Shared\": file") && text.contains("does not exist"),
        "{text}"
    );
    assert!(
        !text.contains("missing-file.json") && !text.contains("nowhere.json"),
        "{text}"
    );
}

#[test]
fn flow_mappings_closed_at_the_parents_indentation_are_read() {
    let l = load(&fixture("docker-flow.yaml"));
    let all = tools(&l);
    let (d, op) = tool(&all, "container_inspect");
    assert_eq!(op["path"], "/containers/{id}/json");
    assert_eq!(
        d["outputSchema"]["properties"]["Id"]["type"], "string",
        "{d}"
    );
}

#[test]
fn a_query_written_into_the_path_becomes_a_fixed_query_with_a_warning() {
    let l = load(&fixture("requests-as-asked.yaml"));
    let all = tools(&l);
    let (_, op) = tool(&all, "describe_instances");
    assert_eq!(op["path"], "/");
    assert_eq!(op["fixedQuery"], json!(["Action=DescribeInstances"]));
    let (_, op) = tool(&all, "stop_instances");
    assert_eq!(
        op["fixedQuery"],
        json!(["Action=StopInstances", "Force=true"])
    );
    let (_, op) = tool(&all, "expire_password");
    assert_eq!(op["path"], "/users/{userId}/lifecycle/expire_password");
    assert_eq!(op["fixedQuery"], json!(["tempPassword=true"]));
    // A bare label after `#` only tells path keys apart: not sent.
    let (_, op) = tool(&all, "cookies_form_exploded");
    assert_eq!(op["path"], "/cookies");
    assert!(op.get("fixedQuery").is_none(), "{op}");
    let warned: Vec<String> = l.warnings.iter().map(|w| w.message.clone()).collect();
    assert!(
        warned
            .iter()
            .any(|w| w.contains("ends in a fragment; called as `/cookies`")),
        "{warned:?}"
    );
    assert!(
        warned.iter().any(|w| w.contains(
            "writes a query into the path; sent as the query `tempPassword=true` of `/users/{userId}/lifecycle/expire_password`"
        )),
        "{warned:?}"
    );
}

#[test]
fn a_required_body_property_missing_from_properties_is_a_free_form_required_argument() {
    let l = load(&fixture("requests-as-asked.yaml"));
    let all = tools(&l);
    let (d, op) = tool(&all, "put_webhook");
    let input = &d["inputSchema"];
    assert!(input["properties"]["team_id"].is_object(), "{input}");
    assert!(
        input["properties"]["team_id"].get("type").is_none(),
        "free-form"
    );
    let required = input["required"].as_array().unwrap();
    assert!(required.contains(&json!("team_id")) && required.contains(&json!("endpoint")));
    assert_eq!(
        op["body"]["flattened"],
        json!(["event_type", "endpoint", "description", "team_id"])
    );
    assert!(
        l.warnings.iter().any(|w| w
            .message
            .contains("required body property `team_id` is missing")),
        "{:?}",
        l.warnings
    );
}

#[test]
fn a_swagger2_operation_s_own_consumes_sets_the_body_media_type() {
    let l = load(&fixture("consumes-octet.yaml"));
    let all = tools(&l);
    let (d, op) = tool(&all, "upload_deploy_file");
    assert_eq!(op["body"]["mediaType"], "application/octet-stream");
    assert!(
        d["inputSchema"]["properties"]["body"]["oneOf"].is_array(),
        "a file: {d}"
    );
    let (_, op) = tool(&all, "create_site");
    assert_eq!(
        op["body"]["mediaType"], "application/json",
        "the document's consumes"
    );
    let (_, op) = tool(&all, "create_note");
    assert_eq!(op["body"]["mediaType"], "text/plain", "wildcards skipped");
}

#[test]
fn descriptions_are_cleaned_unless_raw_is_asked_for() {
    let cleaned = tools(&load(&fixture("descriptions.yaml")));
    let (d, _) = tool(&cleaned, "get_webhook");
    assert_eq!(
        d["description"],
        "Get a webhook by ID.\nSee [the webhook guide](https://example.com/docs/webhooks) for \"events\"."
    );
    assert_eq!(d["title"], "Get a webhook");
    assert_eq!(
        d["inputSchema"]["properties"]["id"]["description"],
        "The webhook's `id` (not its URL)."
    );
    let raw_text = "Get a webhook by ID.<br/>See <a href=\"https://example.com/docs/webhooks\">the webhook guide</a>   for &quot;events&quot;.";
    let param_text = "The webhook's <code>id</code>&nbsp;(not its URL).  ";
    let opts = OpenApiOptions {
        raw_descriptions: true,
        ..Default::default()
    };
    for raw in [
        tools(&load_with(&fixture("descriptions.yaml"), opts)),
        // The spec's `openapi.rawDescriptions`.
        tools(&load(&fixture("descriptions-raw.yaml"))),
    ] {
        let (d, _) = tool(&raw, "get_webhook");
        assert_eq!(d["description"], format!("Get a webhook\n\n{raw_text}"));
        assert_eq!(
            d["inputSchema"]["properties"]["id"]["description"],
            param_text
        );
    }
}

#[test]
fn import_headers_tls_and_env_templates_reach_the_runtime_as_written() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi-import-tls");
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("spec.yaml");
    let doc = repo().join("specs/openapi/petstore-oas30.json");
    std::fs::write(
        &spec,
        format!(
            "server: {{name: pets, version: 1.0.0}}\nopenapi:\n  path: {}\n  baseUrl: 'https://{{{{ env.PETS_HOST }}}}/v3'\n  headers:\n    X-Tenant: '{{{{env.PETS_TENANT}}}}'\n    X-Literal: '\\{{{{ kept'\n  tls:\n    caCert: '{{{{ env.PETS_CERTS }}}}/ca.pem'\n    clientCert: certs/client.pem\n    clientKey: '{{{{ env.PETS_CERTS }}}}/client.key'\n    verify: false\n",
            doc.display()
        ),
    )
    .unwrap();
    let l = load(&spec);
    let up = l.server.upstream.as_ref().unwrap();
    let json: Value = serde_json::to_value(&up.config).unwrap();
    assert_eq!(json["baseUrl"], "https://{{ env.PETS_HOST }}/v3");
    assert_eq!(
        json["headers"],
        json!(["X-Tenant: {{env.PETS_TENANT}}", "X-Literal: \\{{ kept"])
    );
    assert_eq!(
        json["tls"],
        json!({"caCert": "{{ env.PETS_CERTS }}/ca.pem", "clientCert": "certs/client.pem",
               "clientKey": "{{ env.PETS_CERTS }}/client.key", "verify": false})
    );
    let vars: Vec<(&str, &str)> = up
        .settings_env
        .iter()
        .map(|e| (e.name.as_str(), e.what.as_str()))
        .collect();
    assert_eq!(
        vars,
        [
            (
                "PETS_HOST",
                "substituted into the base URL at start-up (required)"
            ),
            (
                "PETS_TENANT",
                "substituted into header `X-Tenant` at start-up (required)"
            ),
            (
                "PETS_CERTS",
                "substituted into `tls.caCert`, `tls.clientKey` at start-up (required)"
            ),
        ]
    );
    let c = mcpgen::generate_ir(l).unwrap();
    let code = &c.file("src/generated.rs").unwrap().contents;
    assert!(
        code.contains(r#""baseUrl": "https://{{ env.PETS_HOST }}/v3""#),
        "kept as a template"
    );
    let readme = &c.file("README.md").unwrap().contents;
    for needle in [
        "| `PETS_CERTS` | substituted into `tls.caCert`, `tls.clientKey` at start-up (required) |",
        "Base URL: `https://{{ env.PETS_HOST }}/v3`, its `{{ env.NAME }}` parts read",
        "does NOT verify the API's certificate",
        "`--upstream-ca-cert PATH`",
        "`--upstream-insecure`",
    ] {
        assert!(readme.contains(needle), "{needle:?} in\n{readme}");
    }
}

/// A document of its own in a fresh directory, for one test.
fn write_doc(test: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpgen-openapi-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("api.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

const TASK_DOC: &str = r#"
openapi: 3.1.0
info: {title: jobs, version: "1"}
servers: [{url: "https://jobs.example.com"}]
paths:
  /reports:
    post:
      operationId: render_report
      x-mcp: {task: required}
      responses: {"200": {description: ok}}
  /exports:
    post:
      operationId: export_all
      x-mcp: {longRunning: true}
      responses: {"200": {description: ok}}
  /ping:
    get:
      operationId: ping
      responses: {"200": {description: ok}}
"#;

#[test]
fn x_mcp_marks_operations_as_tasks() {
    let l = load(&write_doc("tasks", TASK_DOC));
    let all = tools(&l);
    let support = |n: &str| tool(&all, n).0["execution"]["taskSupport"].clone();
    assert_eq!(support("render_report"), "required");
    assert_eq!(support("export_all"), "optional");
    assert!(tool(&all, "ping").0.get("execution").is_none());
    let bad = TASK_DOC.replace("{task: required}", "{task: sometimes}");
    let e = error_text(&write_doc("tasks-bad", &bad));
    assert!(e.contains("x-mcp task must be one of"), "{e}");
    assert!(e.contains("x-mcp"), "the location is named: {e}");
}

const LRO_DOC: &str = r##"
openapi: 3.0.3
info: {title: lro, version: "1"}
servers: [{url: "https://jobs.example.com"}]
components:
  responses:
    Accepted:
      description: accepted
      headers:
        Operation-Location: {schema: {type: string}}
        Retry-After: {schema: {type: integer}}
paths:
  /by-header:
    post:
      operationId: by_header
      responses: {"202": {$ref: "#/components/responses/Accepted"}}
  /by-body:
    post:
      operationId: by_body
      responses:
        "202":
          description: accepted
          content:
            application/json:
              schema:
                type: object
                properties: {id: {type: string}, status_url: {type: string}}
  /ack-only:
    post:
      operationId: ack_only
      responses: {"202": {description: queued, headers: {X-Request-Id: {schema: {type: string}}}}}
  /no-task:
    post:
      operationId: no_task
      x-mcp: {task: forbidden}
      responses: {"202": {description: a, headers: {Location: {schema: {type: string}}}}}
  /required:
    post:
      operationId: required_task
      x-mcp: {task: required}
      responses: {"202": {description: a, headers: {Location: {schema: {type: string}}}}}
  /explicit:
    post:
      operationId: explicit
      x-mcp:
        task: {statusUrlField: /links/monitor, statusField: /state/name, maxDurationMs: 60000}
      responses: {"202": {description: a}}
"##;

#[test]
fn a_202_naming_a_status_url_makes_an_optional_task_that_polls() {
    let l = load(&write_doc("lro", LRO_DOC));
    let all = tools(&l);
    let support = |n: &str| tool(&all, n).0["execution"]["taskSupport"].clone();
    let poll = |n: &str| tool(&all, n).1["poll"].clone();
    assert_eq!(support("by_header"), "optional");
    assert_eq!(
        poll("by_header"),
        json!({"headers": ["Operation-Location"]})
    );
    assert_eq!(support("by_body"), "optional");
    assert_eq!(poll("by_body"), json!({"urlField": "/status_url"}));
    // A 202 that names no status URL only acknowledges: no task.
    assert!(tool(&all, "ack_only").0.get("execution").is_none());
    assert!(tool(&all, "ack_only").1.get("poll").is_none());
    // x-mcp decides over the derivation.
    assert!(tool(&all, "no_task").0.get("execution").is_none());
    assert!(tool(&all, "no_task").1.get("poll").is_none());
    assert_eq!(support("required_task"), "required");
    assert_eq!(poll("required_task"), json!({"headers": ["Location"]}));
    assert_eq!(support("explicit"), "optional");
    assert_eq!(
        poll("explicit"),
        json!({"urlField": "/links/monitor", "statusField": "/state/name", "maxDurationMs": 60000})
    );
    // What the generator emits, the runtime builds.
    let tools = l.server.upstream.as_ref().unwrap();
    assert_eq!(tools.tools.len(), 6);
}

#[test]
fn bad_x_mcp_task_objects_are_diagnosed_where_they_are() {
    for (bad, expected) in [
        (
            "task: {maxDurationMs: -5}",
            "maxDurationMs must be a positive integer",
        ),
        ("task: {support: always}", "x-mcp task must be one of"),
        (
            "task: {statusHeader: \"a b\"}",
            "statusHeader must be a header name",
        ),
        ("task: {pollEvery: 5}", "x-mcp task has no key `pollEvery`"),
        ("task: 3", "x-mcp task must be a string or an object"),
    ] {
        let doc = LRO_DOC.replace(
            "task: {statusUrlField: /links/monitor, statusField: /state/name, maxDurationMs: 60000}",
            bad,
        );
        let e = error_text(&write_doc("lro-bad", &doc));
        assert!(e.contains(expected), "{bad}: {e}");
        // Located: the file, and the line of the explicit operation's x-mcp.
        let line = doc.lines().position(|l| l.contains(bad)).unwrap() + 1;
        assert!(
            e.contains(&format!("api.yaml:{line}:")),
            "{bad} at line {line}: {e}"
        );
    }
}

#[test]
fn root_x_mcp_cache_gives_the_server_and_each_list_its_hints() {
    let l = load(&fixture("cached.yaml"));
    let s = &l.server;
    let cache = s.cache.as_ref().expect("server hints");
    assert_eq!((cache.ttl_ms, cache.scope.as_str()), (10000, "private"));
    let lists: Vec<(&str, u64, &str)> = s
        .list_cache
        .iter()
        .map(|c| (c.method.as_str(), c.ttl_ms, c.scope.as_str()))
        .collect();
    // A list's own values, else the server's, else the runtime's defaults.
    assert_eq!(
        lists,
        [
            ("tools/list", 60000, "public"),
            ("resources/templates/list", 10000, "public")
        ]
    );
    let code = mcpgen::generate_ir(l).unwrap();
    let generated = code
        .files
        .iter()
        .find(|f| f.path.ends_with("src/generated.rs"))
        .unwrap();
    assert!(
        generated
            .contents
            .contains(r#".list_cache_hints("tools/list", 60000, "public")"#),
        "{}",
        generated.contents
    );
    assert!(
        generated
            .contents
            .contains(".cache_hints(10000, \"private\")")
    );
}

#[test]
fn bad_x_mcp_cache_values_are_diagnosed_where_they_are() {
    let doc = std::fs::read_to_string(fixture("cached.yaml")).unwrap();
    for (from, to, expected) in [
        ("ttlMs: 10000", "ttlMs: -1", "ttlMs must be a whole number"),
        (
            "scope: public}",
            "scope: shared}",
            "scope must be \"public\" or \"private\"",
        ),
        ("templates: {", "lists: {", "x-mcp cache has no key `lists`"),
        (
            "tools: {ttlMs: 60000,",
            "tools: {ttl: 1, ttlMs: 60000,",
            "no key `ttl`",
        ),
        (
            "templates: {scope: public}",
            "templates: 5",
            "cache templates must be an object",
        ),
    ] {
        let bad = doc.replacen(from, to, 1);
        let e = error_text(&write_doc("cache-bad", &bad));
        assert!(e.contains(expected), "{to}: {e}");
        let line = bad.lines().position(|l| l.contains(to)).unwrap() + 1;
        assert!(
            e.contains(&format!("api.yaml:{line}:")),
            "{to} at line {line}: {e}"
        );
    }
}

#[test]
fn an_importing_spec_keeps_its_own_cache_hints_else_takes_the_documents() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi-import-cache");
    std::fs::create_dir_all(&dir).unwrap();
    let doc = fixture("cached.yaml");
    let spec = |name: &str, cache: &str| {
        let path = dir.join(name);
        let text = format!(
            "server: {{name: jobs, version: 1.0.0{cache}}}\nopenapi:\n  path: {}\n",
            doc.display()
        );
        std::fs::write(&path, text).unwrap();
        load(&path).server
    };
    let taken = spec("doc.yaml", "");
    assert_eq!(taken.cache.as_ref().map(|c| c.ttl_ms), Some(10000));
    assert_eq!(taken.list_cache.len(), 2);
    let own = spec("own.yaml", ", cache: {ttlMs: 5, scope: public}");
    let c = own.cache.as_ref().unwrap();
    assert_eq!((c.ttl_ms, c.scope.as_str()), (5, "public"));
    assert!(own.list_cache.is_empty(), "{:?}", own.list_cache);
}

const HEADER_DOC: &str = r##"
openapi: 3.1.0
info: {title: sql, version: "1"}
servers: [{url: "https://sql.example.com"}]
components:
  schemas:
    Region: {type: string, enum: [eu, us]}
paths:
  /query:
    post:
      operationId: run_query
      parameters:
        - {name: region, in: query, required: true, schema: {$ref: "#/components/schemas/Region"}, x-mcp: {header: Region}}
        - {name: limit, in: query, schema: {type: integer}, x-mcp: {header: Limit}}
        - {name: q, in: query, schema: {type: string}}
      responses: {"200": {description: ok}}
"##;

/// `x-mcp: {header: Name}` on a parameter becomes `x-mcp-header` on its
/// argument (with the type a `$ref` resolves to); a misplaced or invalid
/// one is an error at the parameter's `x-mcp`.
#[test]
fn x_mcp_header_on_parameters() {
    let l = load(&write_doc("headers", HEADER_DOC));
    let all = tools(&l);
    let props = &tool(&all, "run_query").0["inputSchema"]["properties"];
    assert_eq!(props["region"]["x-mcp-header"], "Region");
    assert_eq!(props["region"]["type"], "string", "{props}");
    assert_eq!(props["limit"]["x-mcp-header"], "Limit");
    assert!(props["q"].get("x-mcp-header").is_none());
    for (from, to, expected) in [
        (
            "{header: Limit}",
            "{header: region}",
            "also declared by property `region`",
        ),
        (
            "{type: integer}, x-mcp",
            "{type: number}, x-mcp",
            "number is not allowed",
        ),
        (
            "{header: Limit}",
            "{header: 'Li mit'}",
            "not an HTTP header name token",
        ),
        (
            "{header: Limit}",
            "{header: 7}",
            "x-mcp header must be a string",
        ),
    ] {
        let bad = HEADER_DOC.replace(from, to);
        let e = error_text(&write_doc("headers-bad", &bad));
        assert!(e.contains(expected), "{to}: {e}");
        assert!(e.contains("parameters/1/x-mcp/header"), "located: {e}");
    }
}
