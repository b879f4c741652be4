//! `x-mcp: {cache: …}` at the document's root: the server's caching hints
//! of MCP 2026-07-28 results, by default and per list — the YAML spec's
//! `server.cache`, in the same shape, so both front ends lower it alike
//! (`spec::lower::cache_defaults`, `list_cache`).

use serde_json::{Map, Value};

use super::ApiLowering;
use crate::openapi::doc::Loc;
use crate::spec::{CacheHints, CacheScope, ListCacheHints};

const LISTS: &[&str] = &["tools", "resources", "templates", "prompts"];

impl ApiLowering<'_> {
    /// The root `x-mcp.cache`, checked; None without one, or with an error
    /// (reported at its place).
    pub(super) fn cache_hints(&mut self) -> Option<CacheHints> {
        let at = self.root.at("x-mcp").at("cache");
        let value = self.docs.get(&at)?.clone();
        let Value::Object(o) = value else {
            self.f.error(&at, "x-mcp cache must be an object");
            return None;
        };
        let (ttl_ms, scope) = self.hints(&at, &o, LISTS)?;
        let mut c = CacheHints {
            ttl_ms,
            scope,
            ..CacheHints::default()
        };
        for list in LISTS {
            let Some(v) = o.get(*list) else { continue };
            let here = at.at(list);
            let Value::Object(l) = v else {
                self.f
                    .error(&here, format!("x-mcp cache {list} must be an object"));
                return None;
            };
            let (ttl_ms, scope) = self.hints(&here, l, &[])?;
            let hints = Some(ListCacheHints { ttl_ms, scope });
            match *list {
                "tools" => c.tools = hints,
                "resources" => c.resources = hints,
                "templates" => c.templates = hints,
                _ => c.prompts = hints,
            }
        }
        Some(c)
    }

    /// `ttlMs` and `scope` of one object, whose other keys must be `lists`.
    fn hints(
        &mut self,
        at: &Loc,
        o: &Map<String, Value>,
        lists: &[&str],
    ) -> Option<(Option<u64>, Option<CacheScope>)> {
        if let Some(k) = o
            .keys()
            .find(|k| !matches!(k.as_str(), "ttlMs" | "scope") && !lists.contains(&k.as_str()))
        {
            let mut known = vec!["ttlMs", "scope"];
            known.extend(lists);
            self.f.error(
                &at.at(k),
                format!("x-mcp cache has no key `{k}` (known: {})", known.join(", ")),
            );
            return None;
        }
        let ttl_ms = match o.get("ttlMs") {
            None => None,
            Some(v) => match v.as_u64() {
                Some(n) => Some(n),
                None => {
                    self.f.error(
                        &at.at("ttlMs"),
                        "x-mcp cache ttlMs must be a whole number of milliseconds, 0 or more",
                    );
                    return None;
                }
            },
        };
        let scope = match o.get("scope").map(Value::as_str) {
            None => None,
            Some(Some("public")) => Some(CacheScope::Public),
            Some(Some("private")) => Some(CacheScope::Private),
            Some(_) => {
                self.f.error(
                    &at.at("scope"),
                    "x-mcp cache scope must be \"public\" or \"private\"",
                );
                return None;
            }
        };
        Some((ttl_ms, scope))
    }
}
