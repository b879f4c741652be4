//! Ranking operations for `search_tools`: BM25 (the `bm25` crate) over one
//! document per tool made of its name, title, description, toolset and
//! parameter names. Fields are weighted by repetition (the name and title
//! count three times, the toolset and parameter names twice), a cheap
//! stand-in for BM25F. Ties are broken by the order of the tools, so a
//! search answers the same every time.

use bm25::{Embedder, EmbedderBuilder, Scorer, Tokenizer};
use serde_json::Value;

/// Words that say nothing about which operation is meant.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it", "of",
    "on", "or", "the", "this", "that", "to", "with", "which", "what", "i", "me", "my", "want",
];

/// Splits on anything but letters and digits, and at camelCase humps;
/// lower-cases, drops stop words, and folds plurals and `-ed` (`pets` →
/// `pet`, `policies` → `policy`, `namespaced` → `namespace`) so that query
/// and document words meet. An identifier also gives each two neighbouring
/// words joined (`stateful_set` → `statefulset`).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Words;

impl Tokenizer for Words {
    fn tokenize(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        // An identifier (`stateful_set`, `listPets`) is its parts, and also
        // each two neighbours joined, so `statefulset` finds `stateful_set`.
        for chunk in text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')) {
            let parts = parts(chunk);
            for p in &parts {
                let w = fold(p);
                if !STOP_WORDS.contains(&w.as_str()) {
                    out.push(w);
                }
            }
            for pair in parts.windows(2) {
                out.push(fold(&format!("{}{}", pair[0], pair[1])));
            }
        }
        out
    }
}

/// The lower-cased words of an identifier: split at `_`, `-` and
/// camelCase humps.
fn parts(chunk: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in chunk.chars() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && prev_lower && !word.is_empty() {
                parts.push(std::mem::take(&mut word).to_lowercase());
            }
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
            word.push(c);
        } else {
            prev_lower = false;
            if !word.is_empty() {
                parts.push(std::mem::take(&mut word).to_lowercase());
            }
        }
    }
    if !word.is_empty() {
        parts.push(word.to_lowercase());
    }
    parts
}

/// Verbs APIs name one action by: a query word of a group also finds
/// operations named with the others (`get node status` finds
/// `read_core_v1_node_status`).
const SYNONYMS: &[&[&str]] = &[
    &[
        "get", "read", "fetch", "retrieve", "show", "find", "describe",
    ],
    &["create", "add", "new", "insert", "make"],
    &["delete", "remove", "destroy", "erase"],
    &["update", "patch", "modify", "change", "edit", "replace"],
];

/// `query` with the synonyms of its verbs added.
fn expand(query: &str) -> String {
    let mut words = Words.tokenize(query);
    let extra: Vec<String> = words
        .iter()
        .filter_map(|w| SYNONYMS.iter().find(|g| g.contains(&w.as_str())))
        .flat_map(|g| g.iter().map(|s| (*s).to_owned()))
        .collect();
    for e in extra {
        if !words.contains(&e) {
            words.push(e);
        }
    }
    words.join(" ")
}

/// A light English fold of plurals and `-ed`: enough for `pets`/`pet`,
/// `addresses`, `policies`, `namespaced`/`namespace`; not a stemmer.
fn fold(w: &str) -> String {
    if w.len() > 4
        && let Some(stem) = w.strip_suffix("ies")
    {
        return format!("{stem}y");
    }
    if w.len() > 4
        && let Some(stem) = w.strip_suffix("sses")
    {
        return format!("{stem}ss");
    }
    // `namespaced`, `created`, `required`: the verb or noun they come from.
    if w.len() > 5
        && let Some(stem) = w.strip_suffix('d')
        && stem.ends_with('e')
    {
        return stem.to_owned();
    }
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") {
        return w[..w.len() - 1].to_owned();
    }
    w.to_owned()
}

/// The text a tool is found by.
pub(crate) fn document(descriptor: &Value, toolset: Option<&str>) -> String {
    let text = |k: &str| descriptor.get(k).and_then(Value::as_str).unwrap_or("");
    let name = text("name");
    let title = text("title");
    let params: Vec<&str> = descriptor
        .pointer("/inputSchema/properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let params = params.join(" ");
    let set = toolset.unwrap_or("");
    format!(
        "{name} {name} {name} {title} {title} {title} {set} {set} {params} {params} {}",
        text("description")
    )
}

/// A BM25 index over tools `0..n`.
pub(crate) struct Index {
    embedder: Embedder<u32, Words>,
    scorer: Scorer<usize, u32>,
}

impl Index {
    /// Index `documents`; a hit names its position in them.
    pub(crate) fn new(documents: &[String]) -> Self {
        let corpus: Vec<&str> = documents.iter().map(String::as_str).collect();
        let embedder: Embedder<u32, Words> =
            EmbedderBuilder::with_tokenizer_and_fit_to_corpus(Words, &corpus).build();
        let mut scorer = Scorer::<usize, u32>::new();
        for (i, d) in documents.iter().enumerate() {
            scorer.upsert(&i, embedder.embed(d));
        }
        Index { embedder, scorer }
    }

    /// Positions of the documents that match `query`, best first, with
    /// their scores; `keep` filters before `limit` applies.
    pub(crate) fn search(
        &self,
        query: &str,
        limit: usize,
        keep: impl Fn(usize) -> bool,
    ) -> Vec<(usize, f32)> {
        let q = self.embedder.embed(&expand(query));
        let mut hits: Vec<(usize, f32)> = self
            .scorer
            .matches(&q)
            .into_iter()
            .filter(|m| keep(m.id))
            .map(|m| (m.id, m.score))
            .collect();
        hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        hits.truncate(limit);
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn words_split_case_and_punctuation_and_fold_plurals() {
        assert_eq!(
            Words.tokenize("the Addresses, GET /v1/policies namespaced"),
            ["address", "get", "v1", "policy", "namespace"]
        );
        // Identifiers: their words, and each two neighbours joined.
        assert_eq!(
            Words.tokenize("listPetsByOwner stateful_set"),
            [
                "list",
                "pet",
                "owner",
                "listpet",
                "petsby",
                "byowner",
                "stateful",
                "set",
                "statefulset"
            ]
        );
    }

    fn tool(name: &str, title: &str, description: &str, params: &[&str]) -> Value {
        let props: serde_json::Map<String, Value> = params
            .iter()
            .map(|p| ((*p).to_owned(), json!({})))
            .collect();
        json!({
            "name": name, "title": title, "description": description,
            "inputSchema": {"type": "object", "properties": props}
        })
    }

    #[test]
    fn verbs_find_their_synonyms() {
        assert_eq!(
            expand("get node status"),
            "get node status read fetch retrieve show find describe"
        );
        assert_eq!(expand("node"), "node");
    }

    #[test]
    fn a_verbs_synonym_finds_the_operation() {
        let tools = vec![
            tool("delete_widget", "Delete widget", "Drops it.", &[]),
            tool(
                "read_widget",
                "Read widget",
                "Shows one widget with its size, colour, owner, history and labels.",
                &["widget_id", "fields"],
            ),
        ];
        let docs: Vec<String> = tools.iter().map(|t| document(t, None)).collect();
        let index = Index::new(&docs);
        // The noun alone: the shorter document wins.
        assert_eq!(names(&index, &tools, "widget")[0], "delete_widget");
        // Nothing is named "get": its synonym "read" decides.
        assert_eq!(names(&index, &tools, "get widget")[0], "read_widget");
    }

    fn names(index: &Index, tools: &[Value], q: &str) -> Vec<String> {
        index
            .search(q, 3, |_| true)
            .into_iter()
            .map(|(i, _)| tools[i]["name"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn ranks_by_name_title_description_toolset_and_parameters() {
        let tools = vec![
            tool(
                "list_pets",
                "List all pets",
                "Returns every pet in the store.",
                &["limit"],
            ),
            tool(
                "create_pet",
                "Create a pet",
                "Adds a pet to the store.",
                &["name", "tag"],
            ),
            tool(
                "get_order",
                "Find an order",
                "An order by its id.",
                &["order_id"],
            ),
            tool(
                "delete_user",
                "Delete user",
                "Removes a user account.",
                &["username"],
            ),
            tool(
                "upload_file",
                "Upload an image",
                "Stores a picture of a pet.",
                &["file"],
            ),
        ];
        let sets = ["pet", "pet", "store", "user", "pet"];
        let docs: Vec<String> = tools
            .iter()
            .zip(sets)
            .map(|(t, s)| document(t, Some(s)))
            .collect();
        let index = Index::new(&docs);
        assert_eq!(names(&index, &tools, "create a new pet")[0], "create_pet");
        assert_eq!(names(&index, &tools, "remove account")[0], "delete_user");
        assert_eq!(names(&index, &tools, "orders")[0], "get_order");
        // A parameter name finds its operation.
        assert_eq!(names(&index, &tools, "username")[0], "delete_user");
        assert_eq!(names(&index, &tools, "picture")[0], "upload_file");
        // Nothing in common: nothing found.
        assert!(names(&index, &tools, "kubernetes").is_empty());
        // The same answer every time, ties by tool order.
        let first = index.search("pet", 5, |_| true);
        for _ in 0..5 {
            assert_eq!(Index::new(&docs).search("pet", 5, |_| true), first);
        }
        // The filter applies before the limit.
        let kept = index.search("pet", 1, |i| i != 0 && i != 1);
        assert_eq!(kept.len(), 1);
        assert_eq!(tools[kept[0].0]["name"], "upload_file");
    }
}
