//! `mcpgen diff`: what changed between two versions of a server, at the
//! level an MCP client sees — tools, resources, resource templates and
//! prompts added, removed or renamed; input and output schemas tightened or
//! loosened; behaviour hints changed.
//!
//! The comparison works on the IR ([`crate::ir::Server`]): the very MCP
//! descriptors the generated server lists. Every input format that lowers to
//! the IR (our YAML spec, OpenAPI documents) is therefore covered the same
//! way.
//!
//! Each [`Change`] has a [`Severity`]:
//!
//! * **breaking** — a client that worked with the old server can fail with
//!   the new one: a tool removed or renamed, a new required argument, a
//!   removed or retyped property, a narrowed enum, a tighter constraint,
//!   `additionalProperties` closed; for output schemas the reverse
//!   (a client receives values it did not expect);
//! * **behavioural** — calls still succeed but mean something else: a tool
//!   that becomes destructive, non-idempotent, no longer read-only or
//!   open-world; a changed default; a resource's MIME type;
//! * **compatible** — new tools, new optional properties, widened enums,
//!   documentation.
//!
//! The JSON form ([`Report::to_json`]) is documented in `generator/README.md`
//! and versioned by its `format` field.

mod schema;

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::ir;
use schema::Direction;

/// The `format` field of the JSON output.
pub const JSON_FORMAT: &str = "mcpgen-diff/1";

/// How much a change matters to clients of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Existing clients break: a call that worked fails or means something else.
    Breaking,
    /// Calls still work but the server behaves differently.
    Behavioural,
    /// Nothing an existing client relies on changes.
    Compatible,
}

impl Severity {
    /// The name used in output (`breaking`…).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Breaking => "breaking",
            Severity::Behavioural => "behavioural",
            Severity::Compatible => "compatible",
        }
    }
}

/// What kind of thing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// The server itself (`initialize` result).
    Server,
    /// A tool.
    Tool,
    /// A resource.
    Resource,
    /// A resource template.
    ResourceTemplate,
    /// A prompt.
    Prompt,
}

impl ItemKind {
    /// The name used in messages (`resource template`…).
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Server => "server",
            ItemKind::Tool => "tool",
            ItemKind::Resource => "resource",
            ItemKind::ResourceTemplate => "resource template",
            ItemKind::Prompt => "prompt",
        }
    }
}

/// A stable, machine-readable name for each kind of change (the `change`
/// field of the JSON output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    // --- items ---
    /// The item is new.
    Added,
    /// The item is gone.
    Removed,
    /// The item has a new name (same identity or descriptor).
    Renamed,
    /// A resource's URI or a template's URI template changed.
    UriChanged,
    /// The title changed.
    TitleChanged,
    /// The description changed.
    DescriptionChanged,
    /// The server's `instructions` changed.
    DocumentationChanged,
    /// A tool annotation (hint) or resource annotation changed.
    AnnotationChanged,
    /// The MIME type changed.
    MimeTypeChanged,
    /// A resource's fixed contents, or what serves it, changed.
    ContentsChanged,
    /// A prompt's fixed messages, or what serves them, changed.
    MessagesChanged,
    /// A tool gained an output schema.
    OutputSchemaAdded,
    /// A tool lost its output schema.
    OutputSchemaRemoved,
    /// A new optional argument.
    ArgumentAdded,
    /// A new required argument.
    RequiredArgumentAdded,
    /// An argument is gone.
    ArgumentRemoved,
    /// An optional argument or property became required.
    BecameRequired,
    /// A required argument or property became optional.
    BecameOptional,
    /// Anything else in the server info or a descriptor (version, icons,
    /// new MCP fields).
    MetadataChanged,
    // --- schemas ---
    /// A new optional property in a schema.
    PropertyAdded,
    /// A new required property in a schema.
    RequiredPropertyAdded,
    /// A property is gone from a schema.
    PropertyRemoved,
    /// A schema accepts fewer types.
    TypeNarrowed,
    /// A schema accepts more types.
    TypeWidened,
    /// A schema's type changed otherwise.
    TypeChanged,
    /// An `enum` lost values.
    EnumNarrowed,
    /// An `enum` gained values.
    EnumWidened,
    /// A bound (length, range, pattern…) became stricter.
    ConstraintTightened,
    /// A bound became looser.
    ConstraintLoosened,
    /// A bound changed in a way that is neither (a new `pattern`…).
    ConstraintChanged,
    /// Extra properties are no longer accepted.
    AdditionalPropertiesClosed,
    /// Extra properties are now accepted.
    AdditionalPropertiesOpened,
    /// A `oneOf`/`anyOf` alternative was added.
    AlternativeAdded,
    /// A `oneOf`/`anyOf` alternative was removed.
    AlternativeRemoved,
    /// A default value changed.
    DefaultChanged,
    /// Any other schema keyword changed.
    KeywordChanged,
}

/// One change between two versions of a server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// How much it matters.
    pub severity: Severity,
    /// What kind of item changed.
    pub kind: ItemKind,
    /// The item's name (in the new version; in the old one when removed).
    pub name: String,
    /// The previous name, for renames.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_name: Option<String>,
    /// What changed.
    pub change: Code,
    /// For schema changes: the field path (`address.zip`, `tags[]`), empty
    /// for the schema's root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// JSON pointer into the item's MCP descriptor (in the new version; in
    /// the old one for things that are gone), e.g.
    /// `/inputSchema/properties/limit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// One sentence for people.
    pub message: String,
}

/// Every change, in spec order (server, tools, resources, templates, prompts).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// The changes.
    pub changes: Vec<Change>,
}

impl Report {
    /// How many changes have this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.changes
            .iter()
            .filter(|c| c.severity == severity)
            .count()
    }

    /// Whether any change is breaking.
    pub fn is_breaking(&self) -> bool {
        self.count(Severity::Breaking) > 0
    }

    /// Is any change at least as severe as `threshold`?
    pub fn has_at_least(&self, threshold: Severity) -> bool {
        self.changes.iter().any(|c| c.severity <= threshold)
    }

    /// The report as JSON (see the crate README for the shape).
    pub fn to_json(&self, old: &str, new: &str) -> Value {
        json!({
            "format": JSON_FORMAT,
            "old": old,
            "new": new,
            "breaking": self.is_breaking(),
            "counts": {
                "breaking": self.count(Severity::Breaking),
                "behavioural": self.count(Severity::Behavioural),
                "compatible": self.count(Severity::Compatible),
            },
            "changes": self.changes,
        })
    }

    /// The report for people: a summary line, then the changes grouped by
    /// severity, most severe first.
    pub fn to_text(&self, old: &str, new: &str) -> String {
        let mut out = String::new();
        if self.changes.is_empty() {
            let _ = writeln!(out, "{old} → {new}: no changes visible to MCP clients");
            return out;
        }
        let _ = writeln!(
            out,
            "{old} → {new}: {} breaking, {} behavioural, {} compatible",
            self.count(Severity::Breaking),
            self.count(Severity::Behavioural),
            self.count(Severity::Compatible)
        );
        for severity in [
            Severity::Breaking,
            Severity::Behavioural,
            Severity::Compatible,
        ] {
            let changes: Vec<&Change> = self
                .changes
                .iter()
                .filter(|c| c.severity == severity)
                .collect();
            if changes.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{}:", severity.as_str().to_uppercase());
            for c in changes {
                let what = match c.kind {
                    ItemKind::Server => String::from("server"),
                    k => format!("{} `{}`", k.as_str(), c.name),
                };
                let _ = writeln!(out, "  {what}: {}", c.message);
            }
        }
        out
    }
}

/// One tool, resource, template or prompt as clients see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// What kind of item it is.
    pub kind: ItemKind,
    /// The name clients show (and call, for tools and prompts).
    pub name: String,
    /// What clients address it by: the name for tools and prompts, the URI
    /// for resources, the URI template for templates.
    pub address: String,
    /// A stable identity across renames when the source format has one
    /// (an OpenAPI operation's `METHOD /path`).
    pub identity: Option<String>,
    /// The MCP descriptor (`tools/list` entry and so on).
    pub descriptor: Value,
    /// What the server returns that the descriptor does not show: resource
    /// contents, static prompt messages, or which handler serves it.
    pub contents: Value,
}

/// Everything a client can see of a server.
#[derive(Debug, Clone, PartialEq)]
pub struct Surface {
    /// The MCP `Implementation` object.
    pub info: Value,
    /// The `instructions` of the `initialize` result.
    pub instructions: Option<String>,
    /// Tools, the server's own and upstream ones.
    pub tools: Vec<Item>,
    /// Resources.
    pub resources: Vec<Item>,
    /// Resource templates.
    pub templates: Vec<Item>,
    /// Prompts.
    pub prompts: Vec<Item>,
}

/// An upstream operation descriptor as JSON, for comparison. Its types
/// have string keys and plain values only, so serializing cannot fail.
fn operation_value(op: &mcpgen_contract::Operation) -> Value {
    serde_json::to_value(op).unwrap_or_default()
}

impl Item {
    /// An item the server serves itself (no identity beyond its name).
    fn own(kind: ItemKind, name: &str, address: &str, descriptor: &Value, contents: Value) -> Item {
        Item {
            kind,
            name: name.to_string(),
            address: address.to_string(),
            identity: None,
            descriptor: descriptor.clone(),
            contents,
        }
    }

    fn tool(t: &ir::Tool) -> Item {
        Item::own(ItemKind::Tool, &t.name, &t.name, &t.descriptor, Value::Null)
    }

    fn resource(r: &ir::Resource) -> Item {
        let contents = match &r.contents {
            ir::Contents::Text { text } => json!({"text": text}),
            ir::Contents::Blob { base64 } => json!({"blob": base64}),
            ir::Contents::Handler { .. } => json!({"handler": true}),
        };
        Item::own(ItemKind::Resource, &r.name, &r.uri, &r.descriptor, contents)
    }

    fn template(t: &ir::Template) -> Item {
        let (name, uri) = (&t.name, &t.uri_template);
        Item::own(
            ItemKind::ResourceTemplate,
            name,
            uri,
            &t.descriptor,
            Value::Null,
        )
    }

    fn prompt(p: &ir::Prompt) -> Item {
        let contents = match &p.messages {
            Some(m) => json!({"messages": m}),
            None => json!({"handler": true}),
        };
        Item::own(ItemKind::Prompt, &p.name, &p.name, &p.descriptor, contents)
    }
}

impl Surface {
    /// The surface of a server in IR form.
    pub fn from_ir(server: &ir::Server) -> Surface {
        let mut surface = Surface {
            info: server.info_json.clone(),
            instructions: server.instructions.clone(),
            tools: server.tools.iter().map(Item::tool).collect(),
            resources: server.resources.iter().map(Item::resource).collect(),
            templates: server.templates.iter().map(Item::template).collect(),
            prompts: server.prompts.iter().map(Item::prompt).collect(),
        };
        if let Some(up) = &server.upstream {
            surface.append_upstream(up);
        }
        surface
    }
}

impl Surface {
    /// Operations of an upstream (OpenAPI) API: their identity is the
    /// HTTP method and path, which survives a change of operationId.
    fn append_upstream(&mut self, up: &ir::Upstream) {
        let upstream = |kind, u: &ir::UpstreamItem| {
            let address = match kind {
                ItemKind::Resource => u.descriptor.get("uri"),
                ItemKind::ResourceTemplate => u.descriptor.get("uriTemplate"),
                _ => None,
            }
            .and_then(Value::as_str)
            .unwrap_or(&u.name)
            .to_string();
            Item {
                kind,
                name: u.name.clone(),
                address,
                identity: Some(format!("{} {}", u.method.to_uppercase(), u.path)),
                descriptor: Value::Object(up.whole_descriptor(u)),
                contents: json!({"upstream": operation_value(&u.operation)}),
            }
        };
        for (kind, list, out) in [
            (ItemKind::Tool, &up.tools, &mut self.tools),
            (ItemKind::Resource, &up.resources, &mut self.resources),
            (
                ItemKind::ResourceTemplate,
                &up.templates,
                &mut self.templates,
            ),
        ] {
            out.extend(list.iter().map(|u| upstream(kind, u)));
        }
    }
}

/// Compare two servers.
pub fn compare(old: &ir::Server, new: &ir::Server) -> Report {
    compare_surfaces(&Surface::from_ir(old), &Surface::from_ir(new))
}

/// Compare two surfaces.
pub fn compare_surfaces(old: &Surface, new: &Surface) -> Report {
    let mut d = Differ::default();
    d.server(old, new);
    for (kind, o, n) in [
        (ItemKind::Tool, &old.tools, &new.tools),
        (ItemKind::Resource, &old.resources, &new.resources),
        (ItemKind::ResourceTemplate, &old.templates, &new.templates),
        (ItemKind::Prompt, &old.prompts, &new.prompts),
    ] {
        d.items(kind, o, n);
    }
    Report { changes: d.changes }
}

#[derive(Default)]
struct Differ {
    changes: Vec<Change>,
}

/// How an old item was paired with a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pairing {
    /// Same identity (OpenAPI operation).
    Identity,
    /// Same address.
    Address,
    /// Same name, new address (resources and templates).
    Name,
    /// Same descriptor apart from the name.
    Fingerprint,
}

impl Differ {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        severity: Severity,
        kind: ItemKind,
        name: &str,
        change: Code,
        pointer: Option<String>,
        message: String,
    ) {
        self.changes.push(Change {
            severity,
            kind,
            name: name.to_string(),
            old_name: None,
            change,
            field: None,
            pointer,
            message,
        });
    }

    /// `name` was `old_name` before (the change at `/name`).
    fn renamed(
        &mut self,
        severity: Severity,
        kind: ItemKind,
        name: &str,
        old_name: &str,
        message: String,
    ) {
        self.changes.push(Change {
            severity,
            kind,
            name: name.to_string(),
            old_name: Some(old_name.to_string()),
            change: Code::Renamed,
            field: None,
            pointer: Some(String::from("/name")),
            message,
        });
    }

    fn server(&mut self, old: &Surface, new: &Surface) {
        let s = ItemKind::Server;
        let name = new.info.get("name").and_then(Value::as_str).unwrap_or("");
        for key in [
            "name",
            "title",
            "version",
            "description",
            "websiteUrl",
            "icons",
        ] {
            let (a, b) = (old.info.get(key), new.info.get(key));
            if a != b {
                let message = match (a, b) {
                    (Some(a), Some(b)) if key != "description" && key != "icons" => {
                        format!("{key} changed from {a} to {b}")
                    }
                    _ => format!("{key} changed"),
                };
                self.push(
                    Severity::Compatible,
                    s,
                    name,
                    Code::MetadataChanged,
                    Some(format!("/{key}")),
                    message,
                );
            }
        }
        if old.instructions != new.instructions {
            self.push(
                Severity::Compatible,
                s,
                name,
                Code::DocumentationChanged,
                Some(String::from("/instructions")),
                String::from("instructions changed"),
            );
        }
    }

    fn items(&mut self, kind: ItemKind, old: &[Item], new: &[Item]) {
        let (pairs, removed, added) = pair(kind, old, new);
        // Report in the new spec's order. Unpaired items sit in the gap
        // before the next paired item: removals first, then additions.
        let next_paired_new = |after: &dyn Fn(usize, usize) -> bool| {
            pairs
                .iter()
                .filter(|(po, pn, _)| after(*po, *pn))
                .map(|(_, pn, _)| *pn)
                .min()
                .unwrap_or(new.len())
        };
        type Entry = (usize, u8, usize, Option<(usize, Pairing)>, Option<usize>);
        let mut ordered: Vec<Entry> = Vec::new();
        for (o, n, how) in &pairs {
            ordered.push((*n, 2, *n, Some((*o, *how)), Some(*n)));
        }
        for n in &added {
            let gap = next_paired_new(&|_, pn| pn > *n);
            ordered.push((gap, 1, *n, None, Some(*n)));
        }
        for o in &removed {
            let gap = next_paired_new(&|po, _| po > *o);
            ordered.push((gap, 0, *o, Some((*o, Pairing::Address)), None));
        }
        ordered.sort_by_key(|(gap, rank, idx, _, _)| (*gap, *rank, *idx));
        for (_, _, _, o, n) in ordered {
            match (o, n) {
                (Some((o, how)), Some(n)) => self.pair_changes(kind, &old[o], &new[n], how),
                (None, Some(n)) => self.added(kind, &new[n]),
                (Some((o, _)), None) => self.removed(kind, &old[o]),
                (None, None) => {}
            }
        }
    }

    fn added(&mut self, kind: ItemKind, item: &Item) {
        let message = match kind {
            ItemKind::Resource | ItemKind::ResourceTemplate => format!("added ({})", item.address),
            _ => String::from("added"),
        };
        self.push(
            Severity::Compatible,
            kind,
            &item.name,
            Code::Added,
            None,
            message,
        );
    }

    fn removed(&mut self, kind: ItemKind, item: &Item) {
        let message = match kind {
            ItemKind::Tool => String::from("removed: clients calling it will get an error"),
            ItemKind::Prompt => String::from("removed: clients getting it will get an error"),
            _ => format!(
                "removed: reading {} will fail",
                if kind == ItemKind::Resource {
                    item.address.clone()
                } else {
                    format!("URIs of {}", item.address)
                }
            ),
        };
        self.push(
            Severity::Breaking,
            kind,
            &item.name,
            Code::Removed,
            None,
            message,
        );
    }

    fn pair_changes(&mut self, kind: ItemKind, old: &Item, new: &Item, how: Pairing) {
        let name = new.name.as_str();
        self.address_change(kind, old, new, how);
        if old.name != new.name && matches!(kind, ItemKind::Resource | ItemKind::ResourceTemplate) {
            let message = format!("renamed from `{}` ({} is unchanged)", old.name, new.address);
            self.renamed(Severity::Compatible, kind, name, &old.name, message);
        }
        let empty = Map::new();
        let o = old.descriptor.as_object().unwrap_or(&empty);
        let n = new.descriptor.as_object().unwrap_or(&empty);
        self.text_changes(kind, name, o, n);
        match kind {
            ItemKind::Tool => self.tool(new, o, n),
            ItemKind::Resource | ItemKind::ResourceTemplate => self.resource(kind, name, o, n),
            ItemKind::Prompt => self.prompt(name, o, n),
            ItemKind::Server => {}
        }
        self.contents_change(kind, name, old, new);
        self.metadata_changes(kind, name, o, n);
    }

    /// A tool or prompt renamed (breaking), a resource's URI changed.
    fn address_change(&mut self, kind: ItemKind, old: &Item, new: &Item, how: Pairing) {
        let name = new.name.as_str();
        if old.address != new.address {
            match kind {
                ItemKind::Tool | ItemKind::Prompt => {
                    let why = match how {
                        Pairing::Identity => new
                            .identity
                            .as_deref()
                            .map(|i| format!(" (same operation {i})"))
                            .unwrap_or_default(),
                        _ if kind == ItemKind::Tool => {
                            String::from(" (same description and schemas)")
                        }
                        _ => String::from(" (same description and arguments)"),
                    };
                    let verb = if kind == ItemKind::Tool {
                        "calling"
                    } else {
                        "getting"
                    };
                    let message = format!(
                        "renamed from `{}`{why}: clients {verb} `{}` will get an error",
                        old.name, old.name
                    );
                    self.renamed(Severity::Breaking, kind, name, &old.name, message);
                }
                ItemKind::Resource | ItemKind::ResourceTemplate => {
                    let key = if kind == ItemKind::Resource {
                        "uri"
                    } else {
                        "uriTemplate"
                    };
                    self.push(
                        Severity::Breaking,
                        kind,
                        name,
                        Code::UriChanged,
                        Some(format!("/{key}")),
                        format!(
                            "{key} changed from {} to {}: clients using the old one will fail",
                            old.address, new.address
                        ),
                    );
                }
                ItemKind::Server => {}
            }
        }
    }

    /// Title and description.
    fn text_changes(
        &mut self,
        kind: ItemKind,
        name: &str,
        o: &Map<String, Value>,
        n: &Map<String, Value>,
    ) {
        for key in ["title", "description"] {
            if o.get(key) != n.get(key) {
                let code = if key == "title" {
                    Code::TitleChanged
                } else {
                    Code::DescriptionChanged
                };
                self.push(
                    Severity::Compatible,
                    kind,
                    name,
                    code,
                    Some(format!("/{key}")),
                    format!("{key} changed"),
                );
            }
        }
    }

    /// Resource contents or prompt messages (fixed, handler, upstream).
    fn contents_change(&mut self, kind: ItemKind, name: &str, old: &Item, new: &Item) {
        if old.contents != new.contents {
            let (code, what) = match kind {
                ItemKind::Prompt => (Code::MessagesChanged, "messages"),
                _ => (Code::ContentsChanged, "contents"),
            };
            let message = match (
                old.contents.get("handler").is_some(),
                new.contents.get("handler").is_some(),
            ) {
                _ if old.contents.get("upstream").is_some()
                    && new.contents.get("upstream").is_some() =>
                {
                    String::from("the upstream API request it makes changed")
                }
                (false, true) => format!("{what} are now served by a handler"),
                (true, false) => format!("{what} are now fixed in the spec"),
                _ => format!("{what} changed"),
            };
            self.push(Severity::Compatible, kind, name, code, None, message);
        }
    }

    /// Anything else in the descriptor (icons, new MCP fields).
    fn metadata_changes(
        &mut self,
        kind: ItemKind,
        name: &str,
        o: &Map<String, Value>,
        n: &Map<String, Value>,
    ) {
        let known = [
            "name",
            "title",
            "description",
            "uri",
            "uriTemplate",
            "inputSchema",
            "outputSchema",
            "annotations",
            "arguments",
            "mimeType",
            "size",
        ];
        let keys: std::collections::BTreeSet<&String> = o.keys().chain(n.keys()).collect();
        for key in keys {
            if !known.contains(&key.as_str()) && o.get(key) != n.get(key) {
                self.push(
                    Severity::Compatible,
                    kind,
                    name,
                    Code::MetadataChanged,
                    Some(format!("/{key}")),
                    format!("{key} changed"),
                );
            }
        }
    }

    fn tool(&mut self, new: &Item, o: &Map<String, Value>, n: &Map<String, Value>) {
        let name = new.name.as_str();
        let empty_schema = json!({"type": "object"});
        let input_old = o.get("inputSchema").unwrap_or(&empty_schema);
        let input_new = n.get("inputSchema").unwrap_or(&empty_schema);
        self.schema(
            name,
            "/inputSchema",
            "input",
            input_old,
            input_new,
            Direction::Input,
        );
        match (o.get("outputSchema"), n.get("outputSchema")) {
            (None, None) => {}
            (None, Some(_)) => self.push(
                Severity::Compatible,
                ItemKind::Tool,
                name,
                Code::OutputSchemaAdded,
                Some(String::from("/outputSchema")),
                String::from("now declares an output schema (structured results)"),
            ),
            (Some(_), None) => self.push(
                Severity::Breaking,
                ItemKind::Tool,
                name,
                Code::OutputSchemaRemoved,
                Some(String::from("/outputSchema")),
                String::from(
                    "no longer declares an output schema: structured results are no longer guaranteed",
                ),
            ),
            (Some(a), Some(b)) => {
                self.schema(name, "/outputSchema", "output", a, b, Direction::Output)
            }
        }
        self.annotations(name, o.get("annotations"), n.get("annotations"));
    }

    fn schema(
        &mut self,
        name: &str,
        base: &str,
        what: &str,
        old: &Value,
        new: &Value,
        direction: Direction,
    ) {
        for c in schema::compare(old, new) {
            self.changes.push(Change {
                severity: c.effect.severity(direction),
                kind: ItemKind::Tool,
                name: name.to_string(),
                old_name: None,
                change: c.code,
                field: Some(c.field),
                pointer: Some(format!("{base}{}", c.pointer)),
                message: format!("{what}: {}", c.message),
            });
        }
    }

    /// MCP tool hints, with the protocol's defaults for absent ones.
    fn annotations(&mut self, name: &str, old: Option<&Value>, new: Option<&Value>) {
        let get =
            |v: Option<&Value>, key: &str| v.and_then(|a| a.get(key)).and_then(Value::as_bool);
        let read_only = |v: Option<&Value>| get(v, "readOnlyHint").unwrap_or(false);
        for (key, default, risky, worse, better) in HINTS {
            // destructive/idempotent only mean something when not read-only.
            if (*key == "destructiveHint" || *key == "idempotentHint")
                && (read_only(old) || read_only(new))
            {
                continue;
            }
            let a = get(old, key).unwrap_or(*default);
            let b = get(new, key).unwrap_or(*default);
            if a == b {
                continue;
            }
            let (severity, meaning) = if b == *risky {
                (Severity::Behavioural, worse)
            } else {
                (Severity::Compatible, better)
            };
            let shown = |x: Option<bool>, v: bool| match x {
                Some(_) => v.to_string(),
                None => format!("{v} (default)"),
            };
            self.push(
                severity,
                ItemKind::Tool,
                name,
                Code::AnnotationChanged,
                Some(format!("/annotations/{key}")),
                format!(
                    "{key} {} → {}: the tool {meaning}",
                    shown(get(old, key), a),
                    shown(get(new, key), b)
                ),
            );
        }
        if old.and_then(|a| a.get("title")) != new.and_then(|a| a.get("title")) {
            self.push(
                Severity::Compatible,
                ItemKind::Tool,
                name,
                Code::TitleChanged,
                Some(String::from("/annotations/title")),
                String::from("annotations title changed"),
            );
        }
    }

    fn resource(
        &mut self,
        kind: ItemKind,
        name: &str,
        o: &Map<String, Value>,
        n: &Map<String, Value>,
    ) {
        if o.get("mimeType") != n.get("mimeType") {
            let show = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("none").to_string();
            self.push(
                Severity::Behavioural,
                kind,
                name,
                Code::MimeTypeChanged,
                Some(String::from("/mimeType")),
                format!(
                    "MIME type changed from {} to {}",
                    show(o.get("mimeType")),
                    show(n.get("mimeType"))
                ),
            );
        }
        if o.get("annotations") != n.get("annotations") {
            self.push(
                Severity::Compatible,
                kind,
                name,
                Code::AnnotationChanged,
                Some(String::from("/annotations")),
                String::from("annotations (audience, priority, lastModified) changed"),
            );
        }
    }

    fn prompt(&mut self, name: &str, o: &Map<String, Value>, n: &Map<String, Value>) {
        let (old, new) = (PromptArg::all(o), PromptArg::all(n));
        for arg in &new {
            let before = old.iter().find(|a| a.name == arg.name);
            self.prompt_argument(name, arg, before);
        }
        for arg in &old {
            if !new.iter().any(|a| a.name == arg.name) {
                self.push(
                    Severity::Breaking,
                    ItemKind::Prompt,
                    name,
                    Code::ArgumentRemoved,
                    Some(format!("/arguments/{}", escape(&arg.name))),
                    format!("argument `{}` was removed", arg.name),
                );
            }
        }
    }

    /// One argument of the new version against the old one of that name.
    fn prompt_argument(&mut self, name: &str, new: &PromptArg, old: Option<&PromptArg>) {
        let arg = &new.name;
        let ptr = Some(format!("/arguments/{}", escape(arg)));
        let Some(old) = old else {
            let (severity, code, what) = if new.required {
                (Severity::Breaking, Code::RequiredArgumentAdded, "required")
            } else {
                (Severity::Compatible, Code::ArgumentAdded, "optional")
            };
            let message = format!("new {what} argument `{arg}`");
            self.push(severity, ItemKind::Prompt, name, code, ptr, message);
            return;
        };
        if new.required != old.required {
            let (severity, code, message) = if new.required {
                let m = format!("argument `{arg}` is now required");
                (Severity::Breaking, Code::BecameRequired, m)
            } else {
                let m = format!("argument `{arg}` is no longer required");
                (Severity::Compatible, Code::BecameOptional, m)
            };
            self.push(severity, ItemKind::Prompt, name, code, ptr.clone(), message);
        }
        let doc = |v: &Value| (v.get("title").cloned(), v.get("description").cloned());
        if doc(&old.value) != doc(&new.value) {
            let message = format!("argument `{arg}` description changed");
            let code = Code::DescriptionChanged;
            self.push(
                Severity::Compatible,
                ItemKind::Prompt,
                name,
                code,
                ptr,
                message,
            );
        }
    }
}

/// A prompt argument as a descriptor lists it.
struct PromptArg {
    name: String,
    required: bool,
    /// The whole argument object (title and description included).
    value: Value,
}

impl PromptArg {
    fn all(descriptor: &Map<String, Value>) -> Vec<PromptArg> {
        let arguments = descriptor.get("arguments").and_then(Value::as_array);
        arguments
            .into_iter()
            .flatten()
            .map(|a| PromptArg {
                name: a
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                required: a.get("required").and_then(Value::as_bool).unwrap_or(false),
                value: a.clone(),
            })
            .collect()
    }
}

/// MCP tool hints: (hint, default, the value that is the riskier one, what
/// the risky value means, what the other one means).
const HINTS: &[(&str, bool, bool, &str, &str)] = &[
    (
        "readOnlyHint",
        false,
        false,
        "may now modify its environment",
        "no longer modifies its environment",
    ),
    (
        "destructiveHint",
        true,
        true,
        "may now perform destructive updates",
        "no longer performs destructive updates",
    ),
    (
        "idempotentHint",
        false,
        false,
        "is no longer idempotent: repeating a call may have further effects",
        "is now idempotent",
    ),
    (
        "openWorldHint",
        true,
        true,
        "now interacts with an open world of external entities",
        "no longer interacts with external entities",
    ),
];

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The descriptor without what a rename changes, for rename detection.
fn fingerprint(kind: ItemKind, item: &Item) -> Option<Value> {
    let mut d = item.descriptor.as_object()?.clone();
    d.remove("name");
    d.remove("title");
    if let Some(Value::Object(a)) = d.get_mut("annotations") {
        a.remove("title");
    }
    // Only a distinctive descriptor is evidence of a rename: a description,
    // or arguments.
    let has_description = d
        .get("description")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty());
    let has_arguments = match kind {
        ItemKind::Tool => d
            .get("inputSchema")
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty()),
        ItemKind::Prompt => d
            .get("arguments")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty()),
        _ => false,
    };
    if !has_description && !has_arguments {
        return None;
    }
    Some(json!({"descriptor": d, "contents": item.contents}))
}

/// Pair old items with new ones: by identity, by address, then (resources,
/// templates) by name, then by an identical descriptor under a new name.
/// Returns the pairs (old, new, how), the unpaired old and the unpaired new.
#[allow(clippy::type_complexity)]
fn pair(
    kind: ItemKind,
    old: &[Item],
    new: &[Item],
) -> (Vec<(usize, usize, Pairing)>, Vec<usize>, Vec<usize>) {
    let mut old_free: Vec<bool> = vec![true; old.len()];
    let mut new_free: Vec<bool> = vec![true; new.len()];
    let mut pairs = Vec::new();
    let link = |pairs: &mut Vec<(usize, usize, Pairing)>,
                old_free: &mut Vec<bool>,
                new_free: &mut Vec<bool>,
                how: Pairing,
                key: &dyn Fn(&Item) -> Option<Value>| {
        for (o, item) in old.iter().enumerate() {
            if !old_free[o] {
                continue;
            }
            let Some(k) = key(item) else { continue };
            let candidates: Vec<usize> = (0..new.len())
                .filter(|n| new_free[*n] && key(&new[*n]).as_ref() == Some(&k))
                .collect();
            let same_old = old
                .iter()
                .enumerate()
                .filter(|(i, it)| old_free[*i] && key(it).as_ref() == Some(&k))
                .count();
            // Ambiguous matches pair nothing.
            if candidates.len() == 1 && same_old == 1 {
                old_free[o] = false;
                new_free[candidates[0]] = false;
                pairs.push((o, candidates[0], how));
            }
        }
    };
    link(
        &mut pairs,
        &mut old_free,
        &mut new_free,
        Pairing::Identity,
        &|i| i.identity.clone().map(Value::String),
    );
    link(
        &mut pairs,
        &mut old_free,
        &mut new_free,
        Pairing::Address,
        &|i| Some(Value::String(i.address.clone())),
    );
    if matches!(kind, ItemKind::Resource | ItemKind::ResourceTemplate) {
        link(
            &mut pairs,
            &mut old_free,
            &mut new_free,
            Pairing::Name,
            &|i| Some(Value::String(i.name.clone())),
        );
    }
    link(
        &mut pairs,
        &mut old_free,
        &mut new_free,
        Pairing::Fingerprint,
        &|i| fingerprint(kind, i),
    );
    let removed = (0..old.len()).filter(|o| old_free[*o]).collect();
    let added = (0..new.len()).filter(|n| new_free[*n]).collect();
    (pairs, removed, added)
}
