//! Reading OpenAPI documents: JSON or YAML (told apart by content), one file
//! or several joined by relative `$ref`s, each kept with its positioned
//! tree so that every problem is reported as `file:line:col` plus a JSON
//! pointer. JSON text is read without positions first (serde_json, refusing
//! duplicate keys, as many nodes as YAML allows); its tree is built only
//! when a problem needs a position. Text that this fast reading refuses
//! goes through the positioned parser, which reports why.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Number, Value};

use crate::error::{Diagnostic, Diagnostics, Error, Problem, Warning};
use crate::yaml::{self, Node, NodeKind, Plain, Pos, escape_pointer, resolve_plain};

/// Index of a loaded file in [`Docs::files`].
pub type FileId = usize;

/// Most nodes one OpenAPI file may have (Kubernetes' has about 600,000).
const MAX_NODES: usize = 20_000_000;
/// Longest chain of `$ref`s to `$ref`s followed.
const MAX_REF_CHAIN: usize = 64;

/// A place in a document: a file and a JSON pointer into it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Loc {
    pub file: FileId,
    pub ptr: String,
}

impl Loc {
    /// The child `key` of this place.
    pub fn at(&self, key: &str) -> Loc {
        let mut ptr = String::with_capacity(self.ptr.len() + key.len() + 1);
        ptr.push_str(&self.ptr);
        ptr.push('/');
        ptr.push_str(&escape_pointer(key));
        Loc {
            file: self.file,
            ptr,
        }
    }

    /// The element `i` of this place.
    pub fn idx(&self, i: usize) -> Loc {
        Loc {
            file: self.file,
            ptr: format!("{}/{i}", self.ptr),
        }
    }
}

/// One loaded file.
#[derive(Debug)]
pub struct DocFile {
    /// Normalised path (identity of the file); the URL for a fetched one.
    pub path: PathBuf,
    /// Set when the document was fetched (relative refs resolve against it).
    pub url: Option<String>,
    pub value: Value,
    /// The positioned tree: parsed with the value (YAML), or from `json` the
    /// first time a position is asked for (None if that fails).
    tree: std::cell::OnceCell<Option<Node>>,
    /// The text of a JSON document read without positions.
    json: Option<String>,
}

impl DocFile {
    /// The position of `ptr` in this file.
    fn locate(&self, ptr: &str) -> Pos {
        let first = Pos { line: 1, column: 1 };
        if ptr.is_empty()
            && let Some(text) = &self.json
        {
            // The root: where the text starts, no tree needed.
            let start = text.len() - text.trim_start().len();
            let line = text[..start].matches('\n').count() + 1;
            let column = start - text[..start].rfind('\n').map_or(0, |i| i + 1) + 1;
            return Pos { line, column };
        }
        let tree = self.tree.get_or_init(|| {
            let text = self.json.as_deref()?;
            yaml::parse_yaml_limited(text, MAX_NODES).ok().flatten()
        });
        tree.as_ref().map_or(first, |t| t.locate(ptr))
    }
}

/// JSON text as a value, without positions: None when it is not plain
/// JSON, holds a duplicate key or more than [`MAX_NODES`] nodes (keys
/// counted, as the positioned parser counts them), so that the positioned
/// parser reads it and says what is wrong.
fn fast_json(text: &str) -> Option<Value> {
    use serde::de::DeserializeSeed;
    let nodes = std::cell::Cell::new(0);
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Strict { nodes: &nodes }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(value)
}

/// Deserializes a JSON value refusing duplicate keys and counting nodes.
struct Strict<'a> {
    nodes: &'a std::cell::Cell<usize>,
}

impl Strict<'_> {
    fn count<E: serde::de::Error>(&self) -> Result<(), E> {
        self.nodes.set(self.nodes.get() + 1);
        match self.nodes.get() > MAX_NODES {
            true => Err(E::custom("too many nodes")),
            false => Ok(()),
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Strict<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        self.count()?;
        Ok(Value::Null)
    }
    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Value, E> {
        self.count()?;
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Value, E> {
        self.count()?;
        Ok(Value::Number(n.into()))
    }
    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Value, E> {
        self.count()?;
        Ok(Value::Number(n.into()))
    }
    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Value, E> {
        self.count()?;
        Number::from_f64(n)
            .map(Value::Number)
            .ok_or_else(|| E::custom("not a finite number"))
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Value, E> {
        self.count()?;
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Value, E> {
        self.count()?;
        Ok(Value::String(s))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.count()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict { nodes: self.nodes })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        use serde::de::Error as _;
        self.count()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            self.count()?;
            if out.contains_key(&key) {
                return Err(A::Error::custom("duplicate key"));
            }
            let v = map.next_value_seed(Strict { nodes: self.nodes })?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// Problems found so far; errors stop generation at the end of the run,
/// warnings do not.
#[derive(Debug, Default)]
pub struct Findings {
    errors: Vec<(Loc, String)>,
    warnings: Vec<(Loc, String)>,
}

impl Findings {
    pub fn error(&mut self, loc: &Loc, message: impl Into<String>) {
        self.errors.push((loc.clone(), message.into()));
    }
    pub fn warn(&mut self, loc: &Loc, message: impl Into<String>) {
        self.warnings.push((loc.clone(), message.into()));
    }
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// Every file of an OpenAPI description, the entry point first.
#[derive(Debug)]
pub struct Docs {
    pub files: Vec<DocFile>,
    by_path: HashMap<PathBuf, FileId>,
    allow_remote: bool,
}

/// Lexically normalise a path (`a/./b/../c` → `a/c`), keeping leading `..`.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_normal =
                    matches!(out.components().next_back(), Some(Component::Normal(_)));
                if last_is_normal {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Decode `%XX` escapes (refs are URI references).
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Turn a positioned YAML tree into JSON, warning about what JSON cannot hold.
fn to_value(node: &Node, ptr: &mut String, file: FileId, findings: &mut Findings) -> Value {
    match &node.kind {
        NodeKind::Scalar { value, plain } => match resolve_plain(value, *plain) {
            Plain::Null => Value::Null,
            Plain::Bool(b) => Value::Bool(b),
            Plain::Int(i) => Value::Number(i.into()),
            Plain::UInt(u) => Value::Number(u.into()),
            Plain::Float(f) => match Number::from_f64(f) {
                Some(n) => Value::Number(n),
                None => {
                    findings.warn(
                        &Loc {
                            file,
                            ptr: ptr.clone(),
                        },
                        format!("`{value}` has no JSON equivalent; read as the string {value:?}"),
                    );
                    Value::String(value.clone())
                }
            },
            Plain::Str => Value::String(value.clone()),
        },
        NodeKind::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let len = ptr.len();
                ptr.push('/');
                ptr.push_str(&i.to_string());
                out.push(to_value(item, ptr, file, findings));
                ptr.truncate(len);
            }
            Value::Array(out)
        }
        NodeKind::Map(entries) => {
            let mut out = Map::new();
            for (k, v) in entries {
                let Some(key) = k.as_str() else {
                    findings.warn(
                        &Loc {
                            file,
                            ptr: ptr.clone(),
                        },
                        "a mapping key that is not a scalar is ignored",
                    );
                    continue;
                };
                let len = ptr.len();
                ptr.push('/');
                ptr.push_str(&escape_pointer(key));
                let value = to_value(v, ptr, file, findings);
                ptr.truncate(len);
                out.insert(key.to_string(), value);
            }
            Value::Object(out)
        }
    }
}

/// A `$ref` split into where it points.
enum RefTarget {
    Local(String),
    File(PathBuf, String),
    Remote(String, String),
    Absolute,
}

fn split_ref(r: &str) -> RefTarget {
    let (uri, fragment) = match r.split_once('#') {
        Some((u, f)) => (u, f),
        None => (r, ""),
    };
    let fragment = percent_decode(fragment);
    let lower = uri.to_ascii_lowercase();
    if uri.is_empty() {
        return RefTarget::Local(fragment);
    }
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return RefTarget::Remote(uri.to_string(), fragment);
    }
    // Classify the decoded path: `%2Fetc%2Fpasswd` is as absolute as
    // `/etc/passwd`.
    let decoded = percent_decode(uri);
    let decoded_lower = decoded.to_ascii_lowercase();
    let absolute = |u: &str, l: &str| {
        l.starts_with("file:") || Path::new(u).is_absolute() || u.contains("://")
    };
    if absolute(uri, &lower)
        || absolute(&decoded, &decoded_lower)
        || decoded.starts_with('/')
        || decoded.starts_with('\\')
    {
        RefTarget::Absolute
    } else {
        RefTarget::File(PathBuf::from(decoded), fragment)
    }
}

/// Where a non-local `$ref` leads: the identity of the file to load.
enum Source {
    File(PathBuf),
    Url(String),
}

impl Source {
    /// The key of the file in `Docs::by_path` (URLs are kept verbatim).
    fn key(&self) -> PathBuf {
        match self {
            Source::File(p) => p.clone(),
            Source::Url(u) => PathBuf::from(u),
        }
    }
}

/// Largest remote document fetched.
#[cfg(feature = "remote-refs")]
const MAX_REMOTE_BYTES: usize = 32 * 1024 * 1024;

/// Fetch a remote document (only with --allow-remote-refs).
#[cfg(feature = "remote-refs")]
fn fetch(url: &str) -> Result<String, String> {
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let resp = client.get(url).send().map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_REMOTE_BYTES as u64)
    {
        return Err(format!("larger than {MAX_REMOTE_BYTES} bytes"));
    }
    let bytes = resp.bytes().map_err(|e| e.to_string())?;
    if bytes.len() > MAX_REMOTE_BYTES {
        return Err(format!("larger than {MAX_REMOTE_BYTES} bytes"));
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| "not UTF-8 text".to_string())
}

/// Without the `remote-refs` feature (a build-script dependency) nothing is
/// fetched: the reference is reported instead.
#[cfg(not(feature = "remote-refs"))]
fn fetch(_url: &str) -> Result<String, String> {
    Err("this mcpgen was built without its `remote-refs` feature, so it cannot fetch remote references".into())
}

impl Docs {
    /// Where `r`, found in file `from`, leads: Ok(None) for a local ref,
    /// Err(message) for one that is not followed. A relative ref inside a
    /// fetched document is relative to its URL.
    fn locate_ref(&self, from: FileId, r: &str) -> Result<Option<(Source, String)>, String> {
        let base_url = self.files.get(from).and_then(|f| f.url.clone());
        match split_ref(r) {
            RefTarget::Local(_) => Ok(None),
            RefTarget::File(rel, fragment) => match base_url {
                Some(base) => {
                    let joined = url::Url::parse(&base)
                        .and_then(|b| b.join(&rel.to_string_lossy()))
                        .map_err(|e| format!("$ref {r:?}: {e}"))?;
                    let mut joined = joined;
                    joined.set_fragment(None);
                    Ok(Some((Source::Url(joined.to_string()), fragment)))
                }
                None => {
                    let base = self
                        .files
                        .get(from)
                        .and_then(|f| f.path.parent())
                        .map(Path::to_path_buf)
                        .unwrap_or_default();
                    Ok(Some((Source::File(normalize(&base.join(rel))), fragment)))
                }
            },
            RefTarget::Remote(url, fragment) if self.allow_remote => {
                Ok(Some((Source::Url(url), fragment)))
            }
            RefTarget::Remote(..) => Err(format!(
                "$ref {r:?} points to another host; mcpgen does not fetch remote references unless given --allow-remote-refs"
            )),
            RefTarget::Absolute => Err(format!(
                "$ref {r:?} is an absolute path or URI; only paths relative to the referring file are followed"
            )),
        }
    }

    /// Read the entry document at `path` and every file its relative
    /// `$ref`s reach. Syntax problems are returned as diagnostics.
    pub fn load(path: &Path, allow_remote: bool, findings: &mut Findings) -> Result<Docs, Error> {
        let mut docs = Docs {
            files: Vec::new(),
            by_path: HashMap::new(),
            allow_remote,
        };
        docs.read_file(path, findings)?;
        // Load every file reachable through refs, breadth first.
        let mut next = 0;
        while next < docs.files.len() {
            let mut refs = Vec::new();
            collect_refs(&docs.files[next].value, &mut String::new(), &mut refs);
            for (ptr, r) in refs {
                let at = Loc { file: next, ptr };
                match docs.locate_ref(next, &r) {
                    Ok(None) => {}
                    Ok(Some((source, _))) if docs.by_path.contains_key(&source.key()) => {}
                    Ok(Some((Source::File(target), _))) => {
                        if !target.is_file() {
                            findings.error(
                                &at,
                                format!("$ref {r:?}: file {} does not exist", target.display()),
                            );
                            continue;
                        }
                        docs.read_file(&target, findings)?;
                    }
                    Ok(Some((Source::Url(url), _))) => match fetch(&url) {
                        Ok(text) => {
                            docs.read_text(Path::new(&url), Some(url.clone()), &text, findings)?;
                        }
                        Err(e) => {
                            findings.error(&at, format!("$ref {r:?}: fetching {url} failed: {e}"))
                        }
                    },
                    Err(message) => findings.error(&at, message),
                }
            }
            next += 1;
        }
        Ok(docs)
    }

    fn read_file(&mut self, path: &Path, findings: &mut Findings) -> Result<FileId, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let diag = |pos: Pos, problem: Problem| {
            Error::Invalid(Diagnostics(vec![Diagnostic {
                file: path.to_path_buf(),
                pos,
                problem,
            }]))
        };
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
                return Err(diag(Pos { line, column: 1 }, Problem::NotUtf8));
            }
        };
        self.read_text(path, None, &text, findings)
    }

    /// Parse one document's text; `url` is set for a fetched document.
    fn read_text(
        &mut self,
        path: &Path,
        url: Option<String>,
        text: &str,
        findings: &mut Findings,
    ) -> Result<FileId, Error> {
        let diag = |pos: Pos, problem: Problem| {
            Error::Invalid(Diagnostics(vec![Diagnostic {
                file: path.to_path_buf(),
                pos,
                problem,
            }]))
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // JSON is read by the same positioned parser: YAML 1.2 is a superset
        // of JSON. Tabs between tokens are fine in JSON but not everywhere
        // in YAML, so JSON text has them replaced by spaces (same columns).
        let is_json = text.trim_start().starts_with(['{', '[']);
        let owned;
        let text = if is_json && text.contains('\t') {
            owned = text.replace('\t', " ");
            owned.as_str()
        } else {
            text
        };
        if is_json && let Some(value) = fast_json(text) {
            let file = DocFile {
                path: path.to_path_buf(),
                url,
                value,
                tree: std::cell::OnceCell::new(),
                json: Some(text.to_owned()),
            };
            return Ok(self.push_file(file));
        }
        let tree = match yaml::parse_yaml_limited(text, MAX_NODES) {
            Ok(Some(tree)) => tree,
            Ok(None) => return Err(diag(Pos { line: 1, column: 1 }, Problem::Empty)),
            Err(problems) => {
                let mut list: Vec<Diagnostic> = problems
                    .into_iter()
                    .map(|p| Diagnostic {
                        file: path.to_path_buf(),
                        pos: p.pos,
                        problem: match Problem::from(p.problem) {
                            Problem::Yaml(m) if is_json => {
                                Problem::Yaml(format!("invalid JSON: {m}"))
                            }
                            other => other,
                        },
                    })
                    .collect();
                list.sort_by_key(|d| d.pos);
                return Err(Error::Invalid(Diagnostics(list)));
            }
        };
        let id = self.files.len();
        let value = to_value(&tree, &mut String::new(), id, findings);
        let file = DocFile {
            path: path.to_path_buf(),
            url,
            value,
            tree: std::cell::OnceCell::from(Some(tree)),
            json: None,
        };
        Ok(self.push_file(file))
    }

    /// Add a read file (its path normalised unless fetched); its id.
    fn push_file(&mut self, mut file: DocFile) -> FileId {
        let id = self.files.len();
        if file.url.is_none() {
            file.path = normalize(&file.path);
        }
        self.by_path.insert(file.path.clone(), id);
        self.files.push(file);
        id
    }

    /// The value at `loc`.
    pub fn get(&self, loc: &Loc) -> Option<&Value> {
        self.files.get(loc.file)?.value.pointer(&loc.ptr)
    }

    /// Where the `$ref` string `r`, found in file `from`, points.
    pub fn target(&self, from: FileId, r: &str) -> Result<Loc, String> {
        match self.locate_ref(from, r)? {
            None => match split_ref(r) {
                RefTarget::Local(fragment) => Ok(Loc {
                    file: from,
                    ptr: fragment,
                }),
                _ => Err(format!("$ref {r:?} is not followed")),
            },
            Some((source, fragment)) => match self.by_path.get(&source.key()) {
                Some(&file) => Ok(Loc {
                    file,
                    ptr: fragment,
                }),
                None => Err(format!(
                    "$ref {r:?}: {} was not loaded",
                    source.key().display()
                )),
            },
        }
    }

    /// Follow `$ref`s from the value at `loc` to a value that is not a
    /// reference. Errors name the broken reference.
    pub fn deref(&self, loc: &Loc) -> Result<(Loc, &Value), (Loc, String)> {
        let mut loc = loc.clone();
        for _ in 0..MAX_REF_CHAIN {
            let Some(value) = self.get(&loc) else {
                return Err((
                    loc.clone(),
                    format!("nothing at {}", pointer_or_root(&loc.ptr)),
                ));
            };
            match value.get("$ref") {
                Some(Value::String(r)) => {
                    let target = self.target(loc.file, r).map_err(|m| (loc.at("$ref"), m))?;
                    if self.get(&target).is_none() {
                        return Err((loc.at("$ref"), format!("$ref {r:?} points to nothing")));
                    }
                    loc = target;
                }
                _ => return Ok((loc, value)),
            }
        }
        Err((loc, "$ref chain too long (or circular)".into()))
    }

    /// The position of `loc` in its file.
    pub fn pos(&self, loc: &Loc) -> Pos {
        self.files
            .get(loc.file)
            .map(|f| f.locate(&loc.ptr))
            .unwrap_or(Pos { line: 1, column: 1 })
    }

    pub fn path(&self, file: FileId) -> PathBuf {
        self.files
            .get(file)
            .map(|f| f.path.clone())
            .unwrap_or_default()
    }

    /// Findings as located diagnostics and warnings (deduplicated, sorted).
    pub fn resolve(&self, findings: Findings) -> (Vec<Diagnostic>, Vec<Warning>) {
        let mut errors: Vec<Diagnostic> = findings
            .errors
            .into_iter()
            .map(|(loc, message)| Diagnostic {
                file: self.path(loc.file),
                pos: self.pos(&loc),
                problem: Problem::OpenApi {
                    pointer: loc.ptr,
                    message,
                },
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        errors.retain(|d| {
            seen.insert((
                d.file.clone(),
                d.pos.line,
                d.pos.column,
                d.problem.to_string(),
            ))
        });
        errors.sort_by(|a, b| (&a.file, a.pos).cmp(&(&b.file, b.pos)));
        let mut warnings: Vec<Warning> = findings
            .warnings
            .into_iter()
            .map(|(loc, message)| Warning {
                file: self.path(loc.file),
                pos: self.pos(&loc),
                pointer: loc.ptr.trim_end_matches("/~key").to_string(),
                message,
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        warnings.retain(|w| seen.insert((w.file.clone(), w.pointer.clone(), w.message.clone())));
        warnings.sort_by(|a, b| (&a.file, a.pos).cmp(&(&b.file, b.pos)));
        (errors, warnings)
    }
}

fn pointer_or_root(ptr: &str) -> String {
    format!("#{ptr}")
}

/// Maps whose keys are names chosen by the document's author (a property
/// may well be called `example`), not fields of an object.
const NAME_MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "definitions",
    "$defs",
    "dependentSchemas",
    "schemas",
    "parameters",
    "responses",
    "requestBodies",
    "headers",
    "securitySchemes",
    "securityDefinitions",
    "links",
    "callbacks",
    "pathItems",
];

/// Every `$ref` string in `value`, with its holder's pointer. Examples are
/// data, not references (GitHub's descriptions hold `{"$ref": …}` in
/// them): an `example`, `default`, `enum` or `const` value, a list of
/// `examples`, and the `value` of an Example Object are not searched; a named Example Object may itself be a
/// `$ref` to `components/examples`.
fn collect_refs(value: &Value, ptr: &mut String, out: &mut Vec<(String, String)>) {
    collect_refs_in(value, false, ptr, out);
}

fn collect_refs_in(value: &Value, names: bool, ptr: &mut String, out: &mut Vec<(String, String)>) {
    let descend = |v: &Value, key: &str, names: bool, ptr: &mut String, out: &mut Vec<_>| {
        let len = ptr.len();
        ptr.push('/');
        ptr.push_str(&escape_pointer(key));
        collect_refs_in(v, names, ptr, out);
        ptr.truncate(len);
    };
    match value {
        Value::Object(map) => {
            if !names && let Some(Value::String(r)) = map.get("$ref") {
                out.push((ptr.clone(), r.clone()));
            }
            for (k, v) in map {
                if !matches!(v, Value::Object(_) | Value::Array(_)) {
                    continue;
                }
                match (names, k.as_str(), v) {
                    (false, "example" | "default" | "enum" | "const", _)
                    | (false, "examples", Value::Array(_)) => {}
                    (false, "examples", Value::Object(named)) => {
                        for (name, example) in named {
                            if let Some(Value::String(r)) = example.get("$ref") {
                                let len = ptr.len();
                                ptr.push_str("/examples/");
                                ptr.push_str(&escape_pointer(name));
                                out.push((ptr.clone(), r.clone()));
                                ptr.truncate(len);
                            }
                        }
                    }
                    _ => descend(v, k, !names && NAME_MAPS.contains(&k.as_str()), ptr, out),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                descend(v, &i.to_string(), false, ptr, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_escapes() {
        assert_eq!(normalize(Path::new("a/./b/../c")), PathBuf::from("a/c"));
        assert_eq!(normalize(Path::new("../x/y")), PathBuf::from("../x/y"));
        assert_eq!(normalize(Path::new("a/../../x")), PathBuf::from("../x"));
        assert_eq!(percent_decode("a%20b%2"), "a b%2");
        assert!(matches!(split_ref("#/a"), RefTarget::Local(f) if f == "/a"));
        assert!(matches!(
            split_ref("https://x/y.json#/a"),
            RefTarget::Remote(u, f) if u == "https://x/y.json" && f == "/a"
        ));
        assert!(matches!(split_ref("/etc/passwd"), RefTarget::Absolute));
        assert!(matches!(
            split_ref("file:///etc/passwd"),
            RefTarget::Absolute
        ));
        assert!(
            matches!(split_ref("../s/Pet.yaml#/Pet"), RefTarget::File(p, f) if p == Path::new("../s/Pet.yaml") && f == "/Pet")
        );
    }

    /// The JSON documents of the repository and, where it is, the shared
    /// corpus (with Microsoft Graph beta when unpacked next to it).
    fn json_documents() -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut dirs = vec![
            root.join("specs/openapi"),
            root.join("generator/tests/fixtures"),
            root.join("generator/tests/fixtures/openapi"),
            root.join("../shared/corpus/openapi"),
        ];
        dirs.retain(|d| d.is_dir());
        let mut docs: Vec<PathBuf> = dirs
            .iter()
            .flat_map(|d| std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        docs.sort();
        docs
    }

    #[test]
    fn json_read_fast_is_json_read_positioned() {
        let docs = json_documents();
        let mut checked = 0;
        for path in &docs {
            let text = std::fs::read_to_string(path).unwrap().replace('\t', " ");
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            let Some(fast) = fast_json(text) else {
                eprintln!("{}: not read fast", path.display());
                continue;
            };
            let tree = yaml::parse_yaml_limited(text, MAX_NODES).unwrap().unwrap();
            let mut f = Findings::default();
            let slow = to_value(&tree, &mut String::new(), 0, &mut f);
            assert!(
                f.warnings.is_empty() && f.errors.is_empty(),
                "{}",
                path.display()
            );
            // As text: `Value`'s `==` ignores key order.
            let (fast_text, slow_text) = (fast.to_string(), slow.to_string());
            assert!(fast_text == slow_text, "{}: another value", path.display());
            let file = DocFile {
                path: path.clone(),
                url: None,
                value: fast,
                tree: std::cell::OnceCell::new(),
                json: Some(text.to_owned()),
            };
            assert_eq!(file.locate(""), tree.locate(""), "{}", path.display());
            assert!(file.tree.get().is_none(), "the root needs no tree");
            assert_eq!(file.locate("/info"), tree.locate("/info"));
            checked += 1;
        }
        assert!(checked >= 5, "only {checked} of {docs:?}");
    }

    #[test]
    fn fast_json_leaves_what_it_cannot_read_to_the_positioned_parser() {
        assert!(fast_json(r#"{"a": 1, "b": [true, null, 2.5, -3, "x"]}"#).is_some());
        assert!(fast_json(r#"{"a": 1, "a": 2}"#).is_none(), "duplicate key");
        assert!(fast_json(r#"{"a": 1} x"#).is_none(), "trailing text");
        assert!(fast_json(r#"{"a": "\ud800"}"#).is_none(), "lone surrogate");
        assert!(fast_json("{a: 1}").is_none(), "YAML flow style");
        let root = "  \n {\"a\": 1}";
        let file = DocFile {
            path: PathBuf::new(),
            url: None,
            value: fast_json(root).unwrap(),
            tree: std::cell::OnceCell::new(),
            json: Some(root.to_owned()),
        };
        assert_eq!(file.locate(""), Pos { line: 2, column: 2 });
        assert_eq!(file.locate("/a"), Pos { line: 2, column: 8 });
    }
}
