use super::*;
use serde_json::json;

fn authorizer(declared: &str) -> Authorizer {
    let a = Authorizer::new(serde_json::from_str(declared).unwrap());
    a.configure(AuthSettings {
        issuer: Some("http://as".into()),
        ..AuthSettings::default()
    });
    a
}

#[test]
fn only_a_bearer_token_is_taken() {
    assert_eq!(bearer(None), Err(Denial::Missing));
    assert_eq!(bearer(Some("bearer abc")), Ok("abc"));
    assert_eq!(bearer(Some("Bearer  abc ")), Ok("abc"));
    for bad in ["Basic abc", "Bearer", "Bearer a b", "abc"] {
        assert!(
            matches!(bearer(Some(bad)), Err(Denial::Invalid(_))),
            "{bad}"
        );
    }
}

#[test]
fn scopes_come_from_scope_or_scp() {
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(scopes_of(&json!({"scope": "a  b"})), set(&["a", "b"]));
    assert_eq!(scopes_of(&json!({"scp": ["a", 1, "c"]})), set(&["a", "c"]));
    assert_eq!(scopes_of(&json!({"scp": "x"})), set(&["x"]));
    assert_eq!(scopes_of(&json!({})), set(&[]));
}

#[test]
fn a_call_needs_the_server_scopes_and_the_tools() {
    let a = authorizer(r#"{"scopes": ["mcp"], "toolScopes": {"write": ["w", "mcp"]}}"#);
    let v = a.verifier().expect("on with an issuer");
    let caller = |scope: &str| info_from_claims(json!({"sub": "u", "scope": scope}), "t");
    assert_eq!(
        a.missing_for(&v.settings, &caller("mcp"), Some("read")),
        None
    );
    assert_eq!(
        a.missing_for(&v.settings, &caller("mcp"), Some("write")),
        Some(vec!["mcp".to_owned(), "w".to_owned()])
    );
    assert_eq!(
        a.missing_for(&v.settings, &caller("mcp w"), Some("write")),
        None
    );
    assert!(a.missing_for(&v.settings, &caller("w"), None).is_some());
    let all: Vec<_> = a.all_scopes(&v.settings).into_iter().collect();
    assert_eq!(all, ["mcp", "w"]);
}

#[test]
fn auth_is_off_without_an_issuer_and_the_token_is_not_shown() {
    let a = Authorizer::new(Declared::default());
    assert!(a.verifier().is_none());
    let info = info_from_claims(json!({"client_id": "c", "exp": 5}), "secret-token");
    assert_eq!(info.subject, "c");
    assert_eq!(info.expires_at, Some(5));
    assert!(!format!("{info:?}").contains("secret-token"));
}

#[test]
fn bad_auth_json_is_a_build_error() {
    let r = crate::Server::builder(r#"{"name":"s","version":"1"}"#)
        .auth(r#"{"issuer": 1}"#)
        .build();
    assert!(r.is_err());
}
