//! The generator's descriptors against the runtime that reads them: every
//! operation of a document either becomes a tool whose descriptors a
//! runtime `Server` accepts, or is left out with a warning naming the
//! reason and the place. (The generated crates' own tests are opt-in, see
//! `generate.rs`.)

mod common;

use std::path::PathBuf;

use common::{openapi_documents, repo, start_upstream};
use mcpgen::{LoadedIr, Options};
use mcpgen_contract::{Location, Operation};

fn load(name: &str) -> LoadedIr {
    let path: PathBuf = repo().join("generator/tests/fixtures/openapi").join(name);
    mcpgen::load_ir(&Options::new(&path)).unwrap_or_else(|e| panic!("{e}"))
}

fn operation<'a>(l: &'a LoadedIr, name: &str) -> Option<&'a Operation> {
    let up = l.server.upstream.as_ref()?;
    up.tools
        .iter()
        .find(|t| t.name == name)
        .map(|t| &t.operation)
}

fn warnings(l: &LoadedIr) -> Vec<String> {
    l.warnings.iter().map(|w| w.to_string()).collect()
}

fn warned(l: &LoadedIr, pointer: &str, fragment: &str) -> bool {
    l.warnings
        .iter()
        .any(|w| w.pointer == pointer && w.message.contains(fragment))
}

#[test]
fn the_drift_fixture_gives_a_server_that_starts() {
    let l = load("drift.yaml");
    start_upstream(&l.server).unwrap_or_else(|e| panic!("{e}\n{:#?}", warnings(&l)));
}

#[test]
fn a_body_of_read_only_properties_is_sent_whole() {
    let l = load("drift.yaml");
    let body = operation(&l, "create_key")
        .and_then(|o| o.body.as_ref())
        .expect("create_key has a body");
    assert_eq!(body.arg.as_deref(), Some("body"));
    assert!(body.flattened.is_empty());
    assert!(body.required);
}

#[test]
fn a_parameter_without_a_name_is_left_out_with_a_warning() {
    let l = load("drift.yaml");
    let op = operation(&l, "replace_key").expect("replace_key is a tool");
    let names: Vec<&str> = op.parameters.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["id"]);
    assert_eq!(op.parameters[0].location, Location::Path);
    assert!(
        warned(
            &l,
            "/paths/~1keys~1{id}/put/parameters/1/name",
            "non-empty `name`"
        ),
        "{:#?}",
        warnings(&l)
    );
}

#[test]
fn empty_media_types_are_ignored_and_a_required_body_without_one_drops_the_operation() {
    let l = load("drift.yaml");
    let replace = operation(&l, "replace_key").and_then(|o| o.body.as_ref());
    assert_eq!(replace.map(|b| b.media_type.as_str()), Some("text/plain"));
    assert!(warned(
        &l,
        "/paths/~1keys~1{id}/put/requestBody/content/",
        "not a media type"
    ));
    // Optional: the tool stays, without a body.
    let touch = operation(&l, "touch_blob").expect("touch_blob is a tool");
    assert!(touch.body.is_none());
    // Required: nothing could be sent, so there is no tool.
    assert!(operation(&l, "upload_blob").is_none());
    assert!(
        warned(
            &l,
            "/paths/~1blobs/post/requestBody/content",
            "the operation is left out"
        ),
        "{:#?}",
        warnings(&l)
    );
}

#[test]
fn an_empty_token_url_falls_back_to_a_token_from_the_environment() {
    let l = load("drift.yaml");
    let up = l.server.upstream.as_ref().expect("upstream");
    let oauth = up.config.security_schemes.get("oauth");
    assert!(
        matches!(
            oauth,
            Some(mcpgen_contract::Scheme::Http { scheme, env: Some(e), .. })
                if scheme == "bearer" && e == "DRIFT_OAUTH_ACCESS_TOKEN"
        ),
        "{oauth:?}"
    );
    assert!(warned(
        &l,
        "/components/securitySchemes/oauth",
        "empty `tokenUrl`"
    ));
}

#[test]
fn a_path_the_runtime_cannot_call_drops_its_operations() {
    let l = load("drift.yaml");
    assert!(operation(&l, "empty_variable").is_none());
    assert!(
        warned(&l, "/paths/~1empty~1{}/get", "empty `{}`"),
        "{:#?}",
        warnings(&l)
    );
}

#[test]
fn every_openapi_description_in_the_repository_starts() {
    let dirs = [
        repo().join("specs/openapi"),
        repo().join("generator/tests/fixtures/openapi"),
    ];
    let mut started = 0;
    for dir in dirs {
        for path in openapi_documents(&dir) {
            // Fixtures of load errors (broken, dangling…) stop earlier.
            let Ok(l) = mcpgen::load_ir(&Options::new(&path)) else {
                continue;
            };
            if l.server.upstream.is_none() {
                continue;
            }
            start_upstream(&l.server).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            started += 1;
        }
    }
    assert!(started >= 10, "only {started} descriptions were checked");
}
