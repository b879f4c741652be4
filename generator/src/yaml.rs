//! Positioned YAML: the document as a tree of nodes that remember where they
//! start, built from `saphyr-parser` events, plus JSON-pointer lookups into it.
//!
//! A leaf module shared by both front ends and by `error`: it imports nothing
//! from the crate. The same tree feeds the spec deserializer (`spec::de`), so
//! serde errors carry a position, semantic checks (`spec::validate`) name the
//! offending node by a JSON pointer that [`Node::locate`] turns into a line
//! and column, and the OpenAPI reader (`openapi::doc`) reads JSON and YAML
//! documents with it. Flow collections indented less than YAML asks, which
//! libyaml and js-yaml read, are read too (`flow`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle};

mod flow;

/// A 1-based line and column in the spec file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// What a YAML node holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    /// A scalar; `plain` is false for quoted and block scalars and for scalars
    /// tagged `!!str`, which are always strings.
    Scalar {
        value: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Entries in document order; keys are nodes too (they have positions).
    Map(Vec<(Node, Node)>),
}

/// A YAML node with the position where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub pos: Pos,
}

/// What can be wrong with the YAML text itself. `error::Problem` converts
/// from it, so that this module needs nothing from the rest of the crate.
#[derive(Debug, Clone, PartialEq)]
pub enum YamlProblem {
    /// A syntax error, or a document too large or nested too deeply.
    Syntax(String),
    /// A mapping key given twice; `first` is where it was first given.
    DuplicateKey { key: String, first: Pos },
}

impl fmt::Display for YamlProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            YamlProblem::Syntax(m) => write!(f, "invalid YAML: {m}"),
            YamlProblem::DuplicateKey { key, first } => {
                write!(f, "duplicate key `{key}` (first given at {first})")
            }
        }
    }
}

/// A located problem found while reading the YAML (syntax, duplicate keys…).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Located {
    pub pos: Pos,
    pub problem: YamlProblem,
}

impl Node {
    /// A short human name of the node's type, for messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { value, plain } => match resolve_plain(value, *plain) {
                Plain::Null => "null",
                Plain::Bool(_) => "a boolean",
                Plain::Int(_) | Plain::UInt(_) | Plain::Float(_) => "a number",
                Plain::Str => "a string",
            },
            NodeKind::Seq(_) => "a sequence",
            NodeKind::Map(_) => "a mapping",
        }
    }

    /// Number of nodes in this subtree (map keys included).
    pub(crate) fn size(&self) -> usize {
        1 + match &self.kind {
            NodeKind::Scalar { .. } => 0,
            NodeKind::Seq(items) => items.iter().map(Node::size).sum(),
            NodeKind::Map(entries) => entries.iter().map(|(k, v)| k.size() + v.size()).sum(),
        }
    }

    /// The map entry for `key`, if this node is a mapping that has it.
    pub(crate) fn get(&self, key: &str) -> Option<&(Node, Node)> {
        match &self.kind {
            NodeKind::Map(entries) => entries.iter().find(|(k, _)| k.as_str() == Some(key)),
            _ => None,
        }
    }

    /// The scalar text, if this is a scalar.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// Position of the node a JSON pointer designates (`/tools/0/name`). A
    /// pointer ending in `/~key` (not valid JSON-pointer syntax on purpose)
    /// designates the *key* of the last mapping entry rather than its value.
    /// When the pointer leads nowhere (an absent optional field), the position
    /// of the deepest existing ancestor is returned.
    pub(crate) fn locate(&self, pointer: &str) -> Pos {
        let mut node = self;
        let mut segments = pointer.split('/').skip(1).peekable();
        while let Some(raw) = segments.next() {
            let want_key = segments.peek() == Some(&"~key");
            let segment = unescape_pointer(raw);
            let next = match &node.kind {
                NodeKind::Map(entries) => entries
                    .iter()
                    .find(|(k, _)| k.as_str() == Some(segment.as_ref()))
                    .map(|(k, v)| if want_key { k } else { v }),
                NodeKind::Seq(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
                NodeKind::Scalar { .. } => None,
            };
            match next {
                Some(n) => node = n,
                None => return node.pos,
            }
            if want_key {
                return node.pos;
            }
        }
        node.pos
    }
}

fn unescape_pointer(segment: &str) -> Cow<'_, str> {
    if segment.contains('~') {
        Cow::Owned(segment.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(segment)
    }
}

/// Escape one JSON-pointer segment.
pub(crate) fn escape_pointer(segment: &str) -> Cow<'_, str> {
    if segment.contains(['~', '/']) {
        Cow::Owned(segment.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(segment)
    }
}

/// How a plain scalar resolves under the YAML 1.2 core schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Plain {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str,
}

/// Resolve a scalar under the YAML 1.2 core schema (quoted scalars are strings).
pub(crate) fn resolve_plain(value: &str, plain: bool) -> Plain {
    if !plain {
        return Plain::Str;
    }
    match value {
        "" | "~" | "null" | "Null" | "NULL" => return Plain::Null,
        "true" | "True" | "TRUE" => return Plain::Bool(true),
        "false" | "False" | "FALSE" => return Plain::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Plain::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Plain::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Plain::Float(f64::NAN),
        _ => {}
    }
    let unsigned = value.strip_prefix(['-', '+']).unwrap_or(value);
    let negative = value.starts_with('-');
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = value.parse::<i64>() {
            return Plain::Int(i);
        }
        if !negative && let Ok(u) = unsigned.parse::<u64>() {
            return Plain::UInt(u);
        }
        return value.parse::<f64>().map_or(Plain::Str, Plain::Float);
    }
    if let Some(hex) = value.strip_prefix("0x")
        && let Ok(u) = u64::from_str_radix(hex, 16)
    {
        return i64::try_from(u).map_or(Plain::UInt(u), Plain::Int);
    }
    if let Some(oct) = value.strip_prefix("0o")
        && let Ok(u) = u64::from_str_radix(oct, 8)
    {
        return i64::try_from(u).map_or(Plain::UInt(u), Plain::Int);
    }
    if is_core_float(unsigned)
        && let Ok(f) = value.parse::<f64>()
    {
        return Plain::Float(f);
    }
    Plain::Str
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_core_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = match exponent {
        None => true,
        Some(e) => digits(e.strip_prefix(['-', '+']).unwrap_or(e)),
    };
    mantissa_ok && exponent_ok
}

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

/// Deepest nesting accepted (deserializers and `Drop` recurse over the tree).
const MAX_DEPTH: usize = 128;
/// Most nodes a document may expand to, aliases included.
const MAX_NODES: usize = 1_000_000;

/// Parse a YAML text holding exactly one document into a [`Node`] tree.
///
/// Returns every problem it can find: a syntax error stops the parse, but
/// duplicate keys are all reported. An empty document yields `Ok(None)`.
pub(crate) fn parse_yaml(text: &str) -> Result<Option<Node>, Vec<Located>> {
    parse_yaml_limited(text, MAX_NODES)
}

/// [`parse_yaml`] with a different bound on the number of nodes (OpenAPI
/// documents such as Kubernetes' are far larger than any mcpgen spec).
pub(crate) fn parse_yaml_limited(
    text: &str,
    max_nodes: usize,
) -> Result<Option<Node>, Vec<Located>> {
    let strict = parse_events(text, max_nodes, &[]);
    let on_indentation = |problems: &[Located]| {
        problems
            .iter()
            .any(|p| matches!(&p.problem, YamlProblem::Syntax(m) if m.contains("indentation")))
    };
    match strict {
        // libyaml and js-yaml accept flow collections indented less than
        // YAML asks; read them the same way (see `flow`).
        Err(problems) if on_indentation(&problems) => match flow::reindent(text) {
            Some(padded) => {
                parse_events(&padded.text, max_nodes, &padded.added).map_err(|_| problems)
            }
            None => Err(problems),
        },
        other => other,
    }
}

/// Build the tree of `text`; `added[line]` spaces were put in front of that
/// (0-based) line and are taken off the columns reported.
fn parse_events(
    text: &str,
    max_nodes: usize,
    added: &[usize],
) -> Result<Option<Node>, Vec<Located>> {
    // Lines are 1-based, columns 0-based here.
    let original = |line: usize, col: usize| {
        let padding = line
            .checked_sub(1)
            .and_then(|l| added.get(l))
            .map_or(0, |&n| n.min(col));
        Pos {
            line,
            column: col - padding + 1,
        }
    };
    let mut tree = TreeBuilder::new(max_nodes);
    for event in Parser::new_from_str(text) {
        let (event, span) = match event {
            Ok(ok) => ok,
            Err(e) => {
                let m = e.marker();
                let pos = original(m.line(), m.col());
                return Err(tree.fail(pos, YamlProblem::Syntax(e.info().to_string())));
            }
        };
        let pos = original(span.start.line(), span.start.col());
        if let Some(finished) = tree.event(event, pos)? {
            tree.attach(finished)?;
        }
    }
    if tree.problems.is_empty() {
        Ok(tree.root)
    } else {
        Err(tree.problems)
    }
}

/// A node an event completed, with its anchor id (0 when it has none).
struct Finished {
    node: Node,
    anchor: usize,
}

/// The tree under construction, fed one parser event at a time.
struct TreeBuilder {
    /// Problems that do not stop the parse (duplicate keys…).
    problems: Vec<Located>,
    /// Open sequences and mappings, innermost last.
    stack: Vec<Frame>,
    /// Anchored nodes with their sizes (in nodes), for aliases.
    anchors: BTreeMap<usize, (Node, usize)>,
    /// Nodes still allowed, aliases counted in full: bounds "billion laughs".
    budget: usize,
    root: Option<Node>,
    documents: usize,
}

impl TreeBuilder {
    fn new(max_nodes: usize) -> TreeBuilder {
        TreeBuilder {
            problems: Vec::new(),
            stack: Vec::new(),
            anchors: BTreeMap::new(),
            budget: max_nodes,
            root: None,
            documents: 0,
        }
    }

    /// Every problem so far plus the one that stops the parse.
    fn fail(&mut self, pos: Pos, problem: YamlProblem) -> Vec<Located> {
        let mut problems = std::mem::take(&mut self.problems);
        problems.push(Located { pos, problem });
        problems
    }

    /// A document too large stops the parse with that one problem only.
    fn too_big(pos: Pos, what: &str) -> Vec<Located> {
        vec![Located {
            pos,
            problem: YamlProblem::Syntax(format!("the document is too large ({what})")),
        }]
    }

    /// Apply one event; returns the node it completes, if any.
    fn event(&mut self, event: Event<'_>, pos: Pos) -> Result<Option<Finished>, Vec<Located>> {
        let finished = |node: Node, anchor: usize| Ok(Some(Finished { node, anchor }));
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => Ok(None),
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    let second = "the spec must be a single YAML document, found a second one";
                    return Err(self.fail(pos, YamlProblem::Syntax(second.into())));
                }
                Ok(None)
            }
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id) else {
                    return Err(self.fail(pos, YamlProblem::Syntax("unknown anchor".into())));
                };
                self.budget = self
                    .budget
                    .checked_sub(*size)
                    .ok_or_else(|| Self::too_big(pos, "aliases expand to too many nodes"))?;
                let mut node = node.clone();
                node.pos = pos;
                finished(node, 0)
            }
            Event::Scalar(value, style, anchor, tag) => {
                let is_str_tag = tag.as_ref().is_some_and(|t| {
                    (t.handle == "tag:yaml.org,2002:" || t.handle == "!!") && t.suffix == "str"
                });
                let plain = matches!(style, ScalarStyle::Plain) && !is_str_tag;
                let value = value.into_owned();
                let kind = NodeKind::Scalar { value, plain };
                finished(Node { kind, pos }, anchor)
            }
            Event::SequenceStart(anchor, _) => {
                let items = Vec::new();
                self.open(Frame::Seq { pos, anchor, items })
            }
            Event::MappingStart(anchor, _) => {
                let (entries, key) = (Vec::new(), None);
                self.open(Frame::Map {
                    pos,
                    anchor,
                    entries,
                    key,
                })
            }
            Event::SequenceEnd | Event::MappingEnd => Ok(self.close()),
        }
    }

    fn open(&mut self, frame: Frame) -> Result<Option<Finished>, Vec<Located>> {
        if self.stack.len() >= MAX_DEPTH {
            let pos = match &frame {
                Frame::Seq { pos, .. } | Frame::Map { pos, .. } => *pos,
            };
            return Err(Self::too_big(pos, "nested too deeply"));
        }
        self.stack.push(frame);
        Ok(None)
    }

    /// The innermost sequence or mapping, finished.
    fn close(&mut self) -> Option<Finished> {
        let (kind, pos, anchor) = match self.stack.pop()? {
            Frame::Seq { pos, anchor, items } => (NodeKind::Seq(items), pos, anchor),
            Frame::Map {
                pos,
                anchor,
                entries,
                ..
            } => (NodeKind::Map(entries), pos, anchor),
        };
        Some(Finished {
            node: Node { kind, pos },
            anchor,
        })
    }

    /// Count a finished node, remember its anchor and put it in its parent
    /// (as the root, a sequence item, a mapping key or a mapping value).
    fn attach(&mut self, Finished { node, anchor }: Finished) -> Result<(), Vec<Located>> {
        self.budget = self
            .budget
            .checked_sub(1)
            .ok_or_else(|| Self::too_big(node.pos, "too many nodes"))?;
        if anchor != 0 {
            let size = node.size();
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => {
                    if !matches!(node.kind, NodeKind::Scalar { .. }) {
                        self.problems.push(Located {
                            pos: node.pos,
                            problem: YamlProblem::Syntax("mapping keys must be scalars".into()),
                        });
                    }
                    *key = Some(node);
                }
                Some(k) => {
                    if let Some(problem) = duplicate_key(entries, &k) {
                        self.problems.push(problem);
                    }
                    entries.push((k, node));
                }
            },
        }
        Ok(())
    }
}

/// The problem of a key that `entries` already has.
fn duplicate_key(entries: &[(Node, Node)], key: &Node) -> Option<Located> {
    let (first, _) = entries
        .iter()
        .find(|(e, _)| e.as_str().is_some() && e.as_str() == key.as_str())?;
    Some(Located {
        pos: key.pos,
        problem: YamlProblem::DuplicateKey {
            key: key.as_str().unwrap_or_default().to_string(),
            first: first.pos,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_nested_nodes() {
        let text = "server:\n  name: demo\ntools:\n  - name: a\n    title: \"x\"\n";
        let root = parse_yaml(text).unwrap().unwrap();
        assert_eq!(root.locate("/server/name"), Pos { line: 2, column: 9 });
        assert_eq!(root.locate("/server/name/~key"), Pos { line: 2, column: 3 });
        assert_eq!(
            root.locate("/tools/0/title"),
            Pos {
                line: 5,
                column: 12
            }
        );
        assert_eq!(root.locate("/tools/0"), Pos { line: 4, column: 5 });
        // missing leaf: nearest ancestor
        assert_eq!(
            root.locate("/tools/0/description"),
            Pos { line: 4, column: 5 }
        );
    }

    #[test]
    fn core_schema_resolution() {
        assert_eq!(resolve_plain("12", true), Plain::Int(12));
        assert_eq!(resolve_plain("12", false), Plain::Str);
        assert_eq!(resolve_plain("1.5", true), Plain::Float(1.5));
        assert_eq!(resolve_plain("1.2.3", true), Plain::Str);
        assert_eq!(resolve_plain("~", true), Plain::Null);
        assert_eq!(resolve_plain("yes", true), Plain::Str);
        assert_eq!(resolve_plain("-3e2", true), Plain::Float(-300.0));
    }

    #[test]
    fn duplicate_keys_and_syntax_errors() {
        let err = parse_yaml("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err[0].pos, Pos { line: 3, column: 1 });
        let err = parse_yaml("a: [1, 2\n").unwrap_err();
        assert!(matches!(err[0].problem, YamlProblem::Syntax(_)));
        assert_eq!(parse_yaml("").unwrap(), None);
        assert_eq!(parse_yaml("# only a comment\n").unwrap(), None);
    }

    #[test]
    fn limits() {
        let deep = format!("a: {}{}", "[".repeat(200), "]".repeat(200));
        assert!(parse_yaml(&deep).is_err());
        let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            laughs.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = parse_yaml(&laughs).unwrap_err();
        assert!(err[0].problem.to_string().contains("too large"));
    }

    #[test]
    fn anchors_and_aliases() {
        let root = parse_yaml("a: &x [1, 2]\nb: *x\n").unwrap().unwrap();
        let (_, b) = root.get("b").unwrap();
        assert!(matches!(&b.kind, NodeKind::Seq(items) if items.len() == 2));
    }

    /// What libyaml and js-yaml read and real documents write (Docker
    /// Engine's swagger.yaml): flow collections whose closing bracket sits
    /// at, or left of, the indentation of the key that holds them.
    #[test]
    fn flow_collections_as_real_documents_write_them() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/flow-style.yaml"
        ))
        .unwrap();
        let root = match parse_yaml(&text) {
            Ok(Some(root)) => root,
            other => panic!("{other:?}"),
        };
        let expected: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/flow-style.json"
            ))
            .unwrap(),
        )
        .unwrap();
        assert_eq!(to_json(&root), expected);
        // Positions point into the text as written, padded lines included.
        let port = root.locate("/definitions/Port/example/PublicPort");
        assert_eq!(
            port,
            Pos {
                line: 8,
                column: 19
            }
        );
        let under_indented = root.locate("/definitions/Mount/x-closing-left/a");
        assert_eq!(
            under_indented,
            Pos {
                line: 13,
                column: 6
            }
        );
        let flush_left = root.locate("/definitions/Mount/x-closing-left/b/0");
        assert_eq!(
            flush_left,
            Pos {
                line: 15,
                column: 1
            }
        );
    }

    fn to_json(node: &Node) -> serde_json::Value {
        use serde_json::Value;
        match &node.kind {
            NodeKind::Scalar { value, plain } => match resolve_plain(value, *plain) {
                Plain::Null => Value::Null,
                Plain::Bool(b) => Value::Bool(b),
                Plain::Int(i) => Value::from(i),
                Plain::UInt(u) => Value::from(u),
                Plain::Float(f) => Value::from(f),
                Plain::Str => Value::String(value.clone()),
            },
            NodeKind::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), to_json(v)))
                    .collect(),
            ),
        }
    }
}
