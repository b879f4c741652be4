//! Multi round-trip requests (SEP-2322) on the stateless path.
//!
//! A handler asks the client for input with the same calls as on a session
//! (`ctx.elicit()`, `ctx.create_message()`, `ctx.list_roots()`). On a
//! stateless request an unanswered ask is recorded and fails; the request
//! then ends with an `InputRequiredResult` listing every ask of the run
//! (`inputRequests`) and a sealed `requestState` holding the answers used
//! so far. The client sends the request again with `inputResponses` and
//! the state; the handler runs again from the start, and its asks now
//! return the answers.

use super::seal::StateKey;
use crate::error::McpError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The requests whose handlers may ask the client for input.
pub(crate) const METHODS: &[&str] = &["tools/call", "prompts/get", "resources/read"];

/// How long a `requestState` stays valid after it is issued.
pub const STATE_TTL: Duration = Duration::from_secs(600);

/// The layout of the sealed plaintext; a state of another layout is refused.
const STATE_VERSION: u8 = 1;

/// What a `requestState` is bound to: the request it was issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Binding {
    method: String,
    name: String,
    /// SHA-256 of the arguments in canonical form (keys sorted).
    args_hash: String,
    /// Who made the request: the authenticated subject (`sub`, else the
    /// client id) when OAuth is on, else None. A state issued to one
    /// principal is refused for another.
    principal: Option<String>,
}

#[cfg(test)]
impl Binding {
    /// The binding of a request: its method, the tool or prompt name (or
    /// resource URI) and its arguments (absent counts as `{}`).
    pub(crate) fn of(method: &str, params: Option<&Value>, principal: Option<String>) -> Binding {
        Unbound::of(method, params, principal).bind()
    }
}

/// What a request's [`Binding`] is made from, kept until one is needed:
/// most requests neither bring a `requestState` nor ask for input, and
/// hashing their arguments for nothing cost them more than this copy.
pub(crate) struct Unbound {
    /// One of [`METHODS`] (no copy per request), or an owned name.
    method: Cow<'static, str>,
    name: String,
    arguments: Option<Value>,
    principal: Option<String>,
}

impl Unbound {
    #[cfg(test)]
    pub(crate) fn of(method: &str, params: Option<&Value>, principal: Option<String>) -> Unbound {
        Unbound::from_fields(method, &Fields::of(params), principal)
    }

    pub(crate) fn from_fields(method: &str, f: &Fields, principal: Option<String>) -> Unbound {
        let name = f.name.or(f.uri).and_then(Value::as_str).unwrap_or_default();
        let method = match METHODS.iter().find(|m| **m == method) {
            Some(m) => Cow::Borrowed(*m),
            None => Cow::Owned(method.to_owned()),
        };
        Unbound {
            method,
            name: name.to_owned(),
            arguments: f.arguments.cloned(),
            principal,
        }
    }

    pub(crate) fn bind(&self) -> Binding {
        let mut text = String::new();
        match &self.arguments {
            None | Some(Value::Null) => text.push_str("{}"),
            Some(args) => canonical(args, &mut text),
        }
        let hash = Sha256::digest(text.as_bytes());
        Binding {
            method: self.method.clone().into_owned(),
            name: self.name.clone(),
            args_hash: crate::session::hex(&hash),
            principal: self.principal.clone(),
        }
    }
}

/// The principal a request's state is bound to: the subject of the
/// `AuthInfo` the transport put in its extensions; None without one.
#[cfg(feature = "auth")]
pub(crate) fn principal(ext: &http::Extensions) -> Option<String> {
    ext.get::<crate::auth::AuthInfo>()
        .map(|i| i.subject.clone())
}

#[cfg(not(feature = "auth"))]
pub(crate) fn principal(_: &http::Extensions) -> Option<String> {
    None
}

/// JSON with object keys sorted, so equal arguments hash equally whatever
/// order the client wrote them in.
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The sealed plaintext.
#[derive(Serialize, Deserialize)]
struct StateBody {
    v: u8,
    m: String,
    n: String,
    h: String,
    #[serde(default)]
    p: Option<String>,
    /// Expiry, in seconds since the Unix epoch.
    exp: u64,
    /// The answers the handler used so far, by input key.
    a: Map<String, Value>,
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A `requestState` carrying `answers`, bound to `binding`, valid for
/// [`STATE_TTL`] from `now`.
pub(crate) fn seal_state(
    key: &StateKey,
    binding: &Binding,
    answers: Map<String, Value>,
    now: u64,
) -> String {
    let body = StateBody {
        v: STATE_VERSION,
        m: binding.method.clone(),
        n: binding.name.clone(),
        h: binding.args_hash.clone(),
        p: binding.principal.clone(),
        exp: now.saturating_add(STATE_TTL.as_secs()),
        a: answers,
    };
    // Serializing a struct of strings and JSON values cannot fail.
    key.seal(&serde_json::to_vec(&body).unwrap_or_default())
}

/// The answers a `requestState` holds, if it is intact, this request's,
/// and not expired; otherwise -32602 saying which.
pub(crate) fn open_state(
    key: &StateKey,
    text: &str,
    binding: &Binding,
    now: u64,
) -> Result<Map<String, Value>, McpError> {
    let body = key
        .open(text)
        .and_then(|plain| serde_json::from_slice::<StateBody>(&plain).ok())
        .filter(|b| b.v == STATE_VERSION)
        .ok_or_else(|| {
            McpError::invalid_params(
                "requestState failed its integrity check (altered, or issued by a server with another key); send the request again without it",
            )
        })?;
    if body.m != binding.method || body.n != binding.name || body.h != binding.args_hash {
        return Err(McpError::invalid_params(
            "requestState belongs to another request (its method, name or arguments differ)",
        ));
    }
    if body.p != binding.principal {
        return Err(McpError::invalid_params(
            "requestState was issued to another caller (the access token's subject differs); send the request again without it",
        ));
    }
    if now > body.exp {
        return Err(McpError::invalid_params(
            "requestState has expired; send the request again without it",
        ));
    }
    Ok(body.a)
}

/// The MRTR fields of a request: `requestState` and `inputResponses`.
pub(crate) struct Incoming {
    pub(crate) state: Option<String>,
    pub(crate) responses: Map<String, Value>,
}

/// The members of a request's params that a round reads, found in one
/// pass over them (not a search per member).
#[derive(Default)]
pub(crate) struct Fields<'a> {
    name: Option<&'a Value>,
    uri: Option<&'a Value>,
    arguments: Option<&'a Value>,
    state: Option<&'a Value>,
    responses: Option<&'a Value>,
}

impl<'a> Fields<'a> {
    pub(crate) fn of(params: Option<&'a Value>) -> Fields<'a> {
        let mut f = Fields::default();
        for (k, v) in params.and_then(Value::as_object).into_iter().flatten() {
            let slot = match k.as_str() {
                "name" => &mut f.name,
                "uri" => &mut f.uri,
                "arguments" => &mut f.arguments,
                "requestState" => &mut f.state,
                "inputResponses" => &mut f.responses,
                _ => continue,
            };
            *slot = Some(v);
        }
        f
    }
}

#[cfg(test)]
impl Fields<'_> {
    /// Whether the request has a `requestState` or `inputResponses` (of any
    /// shape: a malformed one is refused by [`incoming_of`]).
    pub(crate) fn brings_answers(&self) -> bool {
        self.state.is_some() || self.responses.is_some()
    }
}

/// [`Fields::brings_answers`] of `params`, without finding the other
/// fields: a request whose client cannot be asked reads no more of its
/// params than this (`Server::open_round`).
pub(crate) fn brings_answers(params: Option<&Value>) -> bool {
    params.and_then(Value::as_object).is_some_and(|p| {
        p.keys()
            .any(|k| k == "requestState" || k == "inputResponses")
    })
}

/// The client capabilities an ask needs (`RequestContext::ask`).
const ASK_CAPABILITIES: [&str; 3] = ["sampling", "elicitation", "roots"];

/// Whether a handler may ask a client that declared `capabilities` for
/// input: an ask of a capability it did not declare is refused (-32021)
/// before the round is read.
pub(crate) fn may_ask(capabilities: &Value) -> bool {
    capabilities
        .as_object()
        .is_some_and(|c| !c.is_empty() && ASK_CAPABILITIES.iter().any(|k| c.contains_key(*k)))
}

/// The MRTR fields of `params`, checked for shape (-32602 otherwise).
#[cfg(test)]
pub(crate) fn incoming(params: Option<&Value>) -> Result<Incoming, McpError> {
    incoming_of(&Fields::of(params))
}

/// [`incoming`] of the fields already found.
pub(crate) fn incoming_of(f: &Fields) -> Result<Incoming, McpError> {
    let state = match f.state {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(McpError::invalid_params("requestState must be a string")),
    };
    let responses = match f.responses {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(McpError::invalid_params(
                "inputResponses must be an object of answers by input key",
            ));
        }
    };
    if let Some((k, _)) = responses.iter().find(|(_, v)| !v.is_object()) {
        return Err(McpError::invalid_params(format!(
            "inputResponses.{k} must be an object (an ElicitResult, CreateMessageResult or ListRootsResult)"
        )));
    }
    Ok(Incoming { state, responses })
}

/// -32602 unless `answer` has the shape of a result of `method`.
fn check_answer(key: &str, method: &str, answer: &Value) -> Result<(), McpError> {
    let ok = match method {
        "elicitation/create" => matches!(
            answer.get("action").and_then(Value::as_str),
            Some("accept" | "decline" | "cancel")
        ),
        "sampling/createMessage" => {
            answer.get("role").is_some_and(Value::is_string) && answer.get("content").is_some()
        }
        "roots/list" => answer.get("roots").is_some_and(Value::is_array),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(McpError::invalid_params(format!(
            "inputResponses.{key} is not a result of {method}"
        )))
    }
}

/// One run of a handler on a stateless request: the answers it may use,
/// and what it used and asked.
#[derive(Debug, Default)]
pub(crate) struct Round {
    answers: Map<String, Value>,
    used: Map<String, Value>,
    asked: Map<String, Value>,
    next: u32,
    invalid: Option<McpError>,
    escalation: Escalation,
}

/// Whether a handler may turn its call into a task
/// ([`crate::RequestContext::continue_as_task`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escalation {
    /// Not here (a task round, a client without the tasks extension, a
    /// tool that does not gather input first): the handler just goes on.
    #[default]
    Off,
    /// The inline phase of a tool that gathers input before it becomes a
    /// task, for a client that declared the extension.
    Allowed,
    /// The handler asked for it: the call becomes a task.
    Requested,
}

/// How a round ended.
pub(crate) enum Ending {
    /// No unanswered ask: the handler's own result stands.
    Complete,
    /// An answer had the wrong shape.
    Invalid(McpError),
    /// Unanswered asks: the request ends with an `InputRequiredResult`.
    InputRequired {
        asked: Map<String, Value>,
        used: Map<String, Value>,
    },
    /// Every ask answered and the handler asked to continue as a task: the
    /// request ends with a `CreateTaskResult`, the task's rounds get `used`.
    Escalate { used: Map<String, Value> },
}

impl Round {
    pub(crate) fn new(answers: Map<String, Value>) -> Round {
        Round {
            answers,
            ..Round::default()
        }
    }

    /// The answer to an ask, or Err after recording the ask. `key` names
    /// the input (`inputRequests` key); unnamed asks are numbered in the
    /// order the handler makes them, which is why a re-run handler must
    /// ask in the same order.
    pub(crate) fn ask(
        &mut self,
        key: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, McpError> {
        let key = match key {
            Some(k) => k.to_owned(),
            None => {
                self.next += 1;
                format!("input-{}", self.next)
            }
        };
        if let Some(answer) = self.answers.get(&key).cloned() {
            if let Err(e) = check_answer(&key, method, &answer) {
                self.invalid.get_or_insert(e.clone());
                return Err(e);
            }
            self.used.insert(key, answer.clone());
            return Ok(answer);
        }
        self.asked
            .insert(key.clone(), json!({ "method": method, "params": params }));
        Err(McpError::new(
            crate::jsonrpc::INVALID_REQUEST,
            format!(
                "input `{key}` ({method}) is required from the client: this request ends with an InputRequiredResult and runs again with the answer"
            ),
        ))
    }

    /// Let the handler turn this call into a task.
    pub(crate) fn allow_escalation(&mut self) {
        self.escalation = Escalation::Allowed;
    }

    /// The handler asks to continue as a task: Err (ending this run) when
    /// that is allowed here, Ok (go on inline) otherwise.
    pub(crate) fn escalate(&mut self) -> Result<(), McpError> {
        match self.escalation {
            Escalation::Off => Ok(()),
            Escalation::Allowed | Escalation::Requested => {
                self.escalation = Escalation::Requested;
                Err(McpError::new(
                    crate::jsonrpc::INVALID_REQUEST,
                    "this call continues as a task: the request ends with a CreateTaskResult and the handler runs again in the task",
                ))
            }
        }
    }

    /// Whether [`Round::ending`] would be [`Ending::Complete`] (most
    /// rounds): known without moving the round out of its lock.
    pub(crate) fn is_complete(&self) -> bool {
        self.invalid.is_none() && self.asked.is_empty() && self.escalation != Escalation::Requested
    }

    pub(crate) fn ending(self) -> Ending {
        if self.is_complete() {
            return Ending::Complete;
        }
        if let Some(e) = self.invalid {
            return Ending::Invalid(e);
        }
        // Not complete, nothing invalid and nothing asked: escalated.
        if self.asked.is_empty() {
            return Ending::Escalate { used: self.used };
        }
        Ending::InputRequired {
            asked: self.asked,
            used: self.used,
        }
    }
}

/// The `InputRequiredResult` body (before the envelope).
pub(crate) fn input_required(asked: Map<String, Value>, state: String) -> Value {
    json!({
        "resultType": "input_required",
        "inputRequests": asked,
        "requestState": state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding() -> Binding {
        Binding::of(
            "tools/call",
            Some(&json!({"name": "t", "arguments": {"a": 1, "b": [1, {"y": 2, "x": 1}]}})),
            None,
        )
    }

    #[test]
    fn the_binding_ignores_key_order_and_sees_every_difference() {
        let same = Binding::of(
            "tools/call",
            Some(&json!({"arguments": {"b": [1, {"x": 1, "y": 2}], "a": 1}, "name": "t"})),
            None,
        );
        assert_eq!(binding(), same);
        let empty = Binding::of("prompts/get", Some(&json!({"name": "p"})), None);
        let braces = Binding::of(
            "prompts/get",
            Some(&json!({"name": "p", "arguments": {}})),
            None,
        );
        assert_eq!(empty, braces);
        for other in [
            Binding::of(
                "prompts/get",
                Some(&json!({"name": "t", "arguments": {"a": 1, "b": [1, {"y": 2, "x": 1}]}})),
                None,
            ),
            Binding::of(
                "tools/call",
                Some(&json!({"name": "u", "arguments": {"a": 1, "b": [1, {"y": 2, "x": 1}]}})),
                None,
            ),
            Binding::of(
                "tools/call",
                Some(&json!({"name": "t", "arguments": {"a": 2, "b": [1, {"y": 2, "x": 1}]}})),
                None,
            ),
            Binding::of(
                "tools/call",
                Some(&json!({"name": "t", "arguments": {"a": 1, "b": [1, {"y": 2, "x": 1}]}})),
                Some("alice".into()),
            ),
        ] {
            assert_ne!(binding(), other);
        }
    }

    #[test]
    fn a_state_opens_only_for_the_caller_it_was_issued_to() {
        let key = StateKey::random();
        let params = json!({"name": "t", "arguments": {}});
        let of = |who: Option<&str>| Binding::of("tools/call", Some(&params), who.map(Into::into));
        let state = seal_state(&key, &of(Some("alice")), Map::new(), 1000);
        assert!(open_state(&key, &state, &of(Some("alice")), 1000).is_ok());
        for other in [Some("bob"), None] {
            let e = open_state(&key, &state, &of(other), 1000).unwrap_err();
            assert_eq!(e.code(), crate::jsonrpc::INVALID_PARAMS);
            assert!(e.0.message.contains("another caller"), "{}", e.0.message);
        }
    }

    #[test]
    fn a_state_opens_for_its_request_until_it_expires() {
        let key = StateKey::random();
        let mut answers = Map::new();
        answers.insert(
            "step1".into(),
            json!({"action": "accept", "content": {"name": "A"}}),
        );
        let state = seal_state(&key, &binding(), answers.clone(), 1000);
        assert_eq!(open_state(&key, &state, &binding(), 1000).unwrap(), answers);
        let ttl = STATE_TTL.as_secs();
        assert!(open_state(&key, &state, &binding(), 1000 + ttl).is_ok());
        let expired = open_state(&key, &state, &binding(), 1001 + ttl).unwrap_err();
        assert_eq!(expired.code(), crate::jsonrpc::INVALID_PARAMS);
        assert!(
            expired.0.message.contains("expired"),
            "{}",
            expired.0.message
        );
        let other = Binding::of(
            "tools/call",
            Some(&json!({"name": "t", "arguments": {}})),
            None,
        );
        let e = open_state(&key, &state, &other, 1000).unwrap_err();
        assert!(e.0.message.contains("another request"), "{}", e.0.message);
        let e = open_state(&key, &format!("{state}-TAMPERED"), &binding(), 1000).unwrap_err();
        assert!(e.0.message.contains("integrity"), "{}", e.0.message);
        let e = open_state(&StateKey::random(), &state, &binding(), 1000).unwrap_err();
        assert!(e.0.message.contains("integrity"), "{}", e.0.message);
    }

    /// The one pass over the params reads what a look-up per member read:
    /// `name` before `uri` (a `name` that is no string hides the `uri`),
    /// absent arguments as `{}`.
    #[test]
    fn fields_read_as_lookups_did() {
        let name = |p: Value| Binding::of("resources/read", Some(&p), None).name;
        assert_eq!(name(json!({"uri": "u", "name": "n"})), "n");
        assert_eq!(name(json!({"uri": "u"})), "u");
        assert_eq!(name(json!({"name": 5, "uri": "u"})), "");
        assert_eq!(name(json!([1])), "");
        let args = |p: Value| Binding::of("tools/call", Some(&p), None).args_hash;
        let many: Map<String, Value> = (0..12).map(|i| (format!("k{i}"), json!(i))).collect();
        let mut wide = json!({"name": "t", "arguments": {"b": 1, "a": 2}});
        wide.as_object_mut().unwrap().extend(many);
        assert_eq!(args(wide), args(json!({"arguments": {"a": 2, "b": 1}})));
        assert_eq!(args(json!({})), args(json!({"arguments": {}})));
        assert_ne!(args(json!({})), args(json!({"arguments": {"a": 1}})));
    }

    #[test]
    fn incoming_fields_must_have_their_shapes() {
        let i = incoming(Some(
            &json!({"requestState": "s", "inputResponses": {"k": {"action": "cancel"}}}),
        ))
        .unwrap();
        assert_eq!(i.state.as_deref(), Some("s"));
        assert_eq!(i.responses.len(), 1);
        assert!(incoming(None).unwrap().state.is_none());
        for bad in [
            json!({"inputResponses": null}),
            json!({"inputResponses": []}),
            json!({"inputResponses": {"k": 12345}}),
            json!({"requestState": 1}),
        ] {
            let e = incoming(Some(&bad)).err().unwrap();
            assert_eq!(e.code(), crate::jsonrpc::INVALID_PARAMS, "{bad}");
            // A malformed field still counts as brought: it gets checked.
            assert!(Fields::of(Some(&bad)).brings_answers(), "{bad}");
        }
        assert!(!Fields::of(Some(&json!({"name": "t", "arguments": {}}))).brings_answers());
        assert!(!Fields::of(None).brings_answers());
    }

    /// The quick look of a call whose client cannot be asked agrees with
    /// the full one on every shape of params.
    #[test]
    fn brings_answers_sees_what_the_fields_see() {
        for p in [
            json!({"name": "t", "arguments": {}}),
            json!({"name": "t", "arguments": {"requestState": "s"}}),
            json!({"name": "t", "requestState": "s"}),
            json!({"requestState": null}),
            json!({"inputResponses": {}}),
            json!({"uri": "u", "inputResponses": []}),
            json!({"_meta": {"inputResponses": {}}, "name": "t"}),
            json!({"requeststate": "s", "InputResponses": {}}),
            json!({}),
            json!([]),
            json!("requestState"),
            json!(null),
        ] {
            assert_eq!(
                brings_answers(Some(&p)),
                Fields::of(Some(&p)).brings_answers(),
                "{p}"
            );
        }
        assert_eq!(brings_answers(None), Fields::of(None).brings_answers());
        assert!(brings_answers(Some(&json!({"requestState": 1}))));
    }

    /// `may_ask` is true exactly where `RequestContext::require_capability`
    /// would let one of the asks through (a key declared, whatever its value).
    #[test]
    fn a_client_may_be_asked_only_what_it_declared() {
        for (caps, want) in [
            (json!({}), false),
            (json!({"experimental": {}, "tasks": {}}), false),
            (json!({"elicitation": {}}), true),
            (json!({"sampling": null}), true),
            (json!({"x": 1, "roots": {"listChanged": true}}), true),
            (json!(null), false),
        ] {
            assert_eq!(may_ask(&caps), want, "{caps}");
            let declared = ASK_CAPABILITIES.iter().any(|k| caps.get(*k).is_some());
            assert_eq!(declared, want, "{caps}");
        }
    }

    #[test]
    fn a_round_answers_what_it_has_and_records_the_rest() {
        let mut answers = Map::new();
        answers.insert("input-1".into(), json!({"roots": []}));
        answers.insert("extra".into(), json!({"ignored": true}));
        let mut round = Round::new(answers);
        assert_eq!(
            round.ask(None, "roots/list", json!({})).unwrap(),
            json!({"roots": []})
        );
        assert!(
            round
                .ask(Some("name"), "elicitation/create", json!({"message": "?"}))
                .is_err()
        );
        assert!(
            round
                .ask(None, "sampling/createMessage", json!({}))
                .is_err()
        );
        let Ending::InputRequired { asked, used } = round.ending() else {
            panic!("asks were left unanswered");
        };
        assert_eq!(asked.keys().collect::<Vec<_>>(), ["name", "input-2"]);
        assert_eq!(asked["name"]["method"], "elicitation/create");
        assert_eq!(
            used.keys().collect::<Vec<_>>(),
            ["input-1"],
            "extra keys are dropped"
        );
        let mut bad = Map::new();
        bad.insert("k".into(), json!({"action": "maybe"}));
        let mut round = Round::new(bad);
        assert!(
            round
                .ask(Some("k"), "elicitation/create", json!({}))
                .is_err()
        );
        assert!(matches!(round.ending(), Ending::Invalid(_)));
        assert!(matches!(Round::new(Map::new()).ending(), Ending::Complete));
    }

    #[test]
    fn a_round_escalates_only_where_allowed_and_once_every_ask_is_answered() {
        let mut off = Round::new(Map::new());
        assert!(
            off.escalate().is_ok(),
            "a task round or an inline call goes on"
        );
        assert!(matches!(off.ending(), Ending::Complete));

        let mut answers = Map::new();
        answers.insert(
            "user_name".into(),
            json!({"action": "accept", "content": {}}),
        );
        let mut round = Round::new(answers);
        round.allow_escalation();
        round
            .ask(Some("user_name"), "elicitation/create", json!({}))
            .unwrap();
        assert!(round.escalate().is_err(), "the inline run ends there");
        let Ending::Escalate { used } = round.ending() else {
            panic!("the call should become a task");
        };
        assert_eq!(used.keys().collect::<Vec<_>>(), ["user_name"]);

        // An unanswered ask wins: the client answers it first.
        let mut round = Round::new(Map::new());
        round.allow_escalation();
        assert!(
            round
                .ask(Some("k"), "elicitation/create", json!({}))
                .is_err()
        );
        assert!(round.escalate().is_err());
        assert!(matches!(round.ending(), Ending::InputRequired { .. }));
    }
}
