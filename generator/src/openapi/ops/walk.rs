//! The operation walk: paths and methods, filters and overrides; each
//! selected operation goes to [`super::draft`].

use mcpgen_contract::{NamedMap, Scheme};
use serde_json::Value;

use super::filter::Facts;
use super::{ApiLowering, Draft, is_token, s, strings};
use crate::openapi::Override;
use crate::openapi::doc::Loc;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace", "query",
];

/// What every operation of the document shares.
pub(super) struct Globals<'a> {
    pub(super) security: Option<Value>,
    pub(super) consumes: Option<Value>,
    pub(super) produces: Option<Value>,
    pub(super) schemes: &'a NamedMap<Scheme>,
}

/// One operation of a path item.
pub(super) struct OpRef<'a> {
    /// Upper case.
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    pub(super) loc: &'a Loc,
    pub(super) op: &'a Value,
    /// The path item and its place.
    pub(super) item: &'a Value,
    pub(super) item_loc: &'a Loc,
}

/// An operation the filters keep: its override and `x-mcp` extension.
pub(super) struct Selected {
    pub(super) ov: Option<Override>,
    pub(super) x_mcp: Value,
    /// The toolset the operation belongs to (`super::super::surface`).
    pub(super) toolset: String,
}

impl ApiLowering<'_> {
    pub(super) fn operations(&mut self, schemes: &NamedMap<Scheme>) -> Vec<Draft> {
        let mut drafts = Vec::new();
        let paths_loc = self.root.at("paths");
        // The path names only: the whole `paths` object is most of a large
        // document, and each operation is read where it is.
        let Some(paths) = self
            .docs
            .get(&paths_loc)
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect::<Vec<String>>())
        else {
            if self.docs.get(&paths_loc).is_none() {
                self.f
                    .warn(&self.root, "the document has no `paths`: no tools");
            }
            return drafts;
        };
        let globals = Globals {
            security: self.root().get("security").cloned(),
            consumes: self.root().get("consumes").cloned(),
            produces: self.root().get("produces").cloned(),
            schemes,
        };
        for path in &paths {
            let Some((item_loc, item)) = self.path_item(&paths_loc, path) else {
                continue;
            };
            for (method, op_loc) in methods(&item, &item_loc) {
                let Some(op) = self.docs.get(&op_loc).cloned() else {
                    continue;
                };
                if !op.is_object() {
                    self.f
                        .warn(&op_loc, "an operation must be an object; ignored");
                    continue;
                }
                let Some(selected) = self.select(&method, path, &op) else {
                    continue;
                };
                let r = OpRef {
                    method: &method,
                    path,
                    loc: &op_loc,
                    op: &op,
                    item: &item,
                    item_loc: &item_loc,
                };
                if !self.callable(&r) {
                    continue;
                }
                drafts.extend(self.draft(&r, &globals, selected));
            }
        }
        drafts
    }

    /// The path item at `paths/<path>`, when it is one (`x-` keys skipped).
    fn path_item(&mut self, paths_loc: &Loc, path: &str) -> Option<(Loc, Value)> {
        if path.starts_with("x-") {
            return None;
        }
        let (item_loc, item) = self.deref(&paths_loc.at(path))?;
        if !item.is_object() {
            if !item.is_null() {
                self.f
                    .warn(&item_loc, "a path item must be an object; ignored");
            }
            return None;
        }
        Some((item_loc, item))
    }

    /// Filters, overrides and `hidden`: None when the operation is left out.
    fn select(&mut self, method: &str, path: &str, op: &Value) -> Option<Selected> {
        let operation_id = s(op, "operationId").map(str::to_string);
        let tags = strings(op, "tags");
        let facts = Facts {
            method,
            path,
            operation_id: operation_id.as_deref(),
            tags: &tags,
        };
        if !self.opts.include.includes(&facts) || self.opts.exclude.excludes(&facts) {
            return None;
        }
        let key = format!("{method} {path}");
        let found = self
            .opts
            .overrides
            .iter()
            .find(|(k, _)| Some(k.as_str()) == operation_id.as_deref() || *k == key)
            .cloned();
        let ov: Option<Override> = found.map(|(k, o)| {
            self.matched.insert(k, (method.to_owned(), path.to_owned()));
            o
        });
        let x_mcp = op.get("x-mcp").cloned().unwrap_or(Value::Null);
        let hidden = match ov.as_ref().and_then(|o| o.hidden) {
            Some(h) => h,
            None => x_mcp.get("hidden") == Some(&Value::Bool(true)),
        };
        let toolset = self.toolset_of(&facts);
        (!hidden).then_some(Selected { ov, x_mcp, toolset })
    }

    /// The first toolset of the spec's `toolsets` that matches (`other` when
    /// none does); without them, the operation's first tag in snake case
    /// (`other` for an untagged one).
    fn toolset_of(&self, facts: &Facts<'_>) -> String {
        const OTHER: &str = "other";
        if !self.opts.toolsets.is_empty() {
            return self
                .opts
                .toolsets
                .iter()
                .find(|t| t.filter.selects(facts))
                .map_or_else(|| OTHER.to_owned(), |t| t.name.clone());
        }
        facts
            .tags
            .first()
            .map(|t| crate::names::snake_splitting_at_symbols(t))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| OTHER.to_owned())
    }

    /// Whether the runtime can call this method and path at all; a warning
    /// that names the reason leaves the operation out otherwise.
    fn callable(&mut self, r: &OpRef<'_>) -> bool {
        let reason = if !is_token(r.method) {
            format!("method {:?} is not an HTTP token", r.method)
        } else if !r.path.starts_with('/') {
            format!("path {:?} does not start with `/`", r.path)
        } else if let Err(e) = template_variables(r.path) {
            format!("path {:?}: {e}", r.path)
        } else if split_fixed_query(r.path)
            .1
            .iter()
            .any(|q| q.contains("%7B"))
        {
            format!(
                "path {:?} has a variable in the query it writes after `?` or `#`",
                r.path
            )
        } else {
            return true;
        };
        self.f
            .warn(r.loc, format!("{reason}; the operation is left out"));
        false
    }
}

/// The operations of a path item: the fixed methods, then
/// `additionalOperations` (OpenAPI 3.2), with their places.
fn methods(item: &Value, item_loc: &Loc) -> Vec<(String, Loc)> {
    let mut ops: Vec<(String, Loc)> = METHODS
        .iter()
        .filter(|m| item.get(**m).is_some())
        .map(|m| (m.to_ascii_uppercase(), item_loc.at(m)))
        .collect();
    if let Some(Value::Object(extra)) = item.get("additionalOperations") {
        for m in extra.keys() {
            ops.push((
                m.to_ascii_uppercase(),
                item_loc.at("additionalOperations").at(m),
            ));
        }
    }
    ops
}

/// A path template split where a fixed query written into it starts (`?`
/// or `#`: AWS documents converted from their own format use
/// `/#Action=DescribeInstances`, Okta `…/expire_password?tempPassword=true`),
/// and that query as percent-encoded `name=value` pieces. After `#` only
/// `name=value` pieces count: a bare `#label` only tells two path keys
/// apart (`/cookies#formExploded`), and a fragment is never sent.
pub(super) fn split_fixed_query(path: &str) -> (&str, Vec<String>) {
    let Some(at) = path.find(['?', '#']) else {
        return (path, Vec::new());
    };
    let mut pieces = Vec::new();
    let mut in_fragment = false;
    let mut rest = &path[at..];
    while let Some(mark) = rest.chars().next() {
        in_fragment |= mark == '#';
        let end = rest[1..].find(['?', '#']).map_or(rest.len(), |e| e + 1);
        for piece in rest[1..end].split('&').filter(|p| !p.is_empty()) {
            if !in_fragment || piece.contains('=') {
                pieces.push(encode_query_piece(piece));
            }
        }
        rest = &rest[end..];
    }
    (&path[..at], pieces)
}

/// Keep what a query may hold as it is (valid `%XX` escapes included),
/// percent-encode the rest.
fn encode_query_piece(piece: &str) -> String {
    let bytes = piece.as_bytes();
    let mut out = String::with_capacity(piece.len());
    for (i, &b) in bytes.iter().enumerate() {
        let escape = b == b'%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if escape || b.is_ascii_alphanumeric() || b"-._~!$'()*+,;=:@/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `{name}`s of a path template; an error for `{}`, nested or
/// unbalanced braces (the runtime refuses such a path).
pub(super) fn template_variables(path: &str) -> Result<Vec<String>, &'static str> {
    let mut vars = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("unmatched `}`");
        }
        let after = &rest[open + 1..];
        let close = after.find(['{', '}']).ok_or("unclosed `{`")?;
        if after[close..].starts_with('{') {
            return Err("nested `{`");
        }
        if close == 0 {
            return Err("an empty `{}` names no parameter");
        }
        vars.push(after[..close].to_string());
        rest = &after[close + 1..];
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_templates() {
        assert_eq!(
            template_variables("/a/{id}/b/{x}.json"),
            Ok(vec!["id".to_string(), "x".to_string()])
        );
        for bad in ["/a/{}", "/a/{id", "/a/id}", "/a/{{id}}"] {
            assert!(template_variables(bad).is_err(), "{bad}");
        }
    }
}
