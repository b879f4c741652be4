// Created by mcpgen from "example.yaml" as a starting point. This file is yours:
// mcpgen never overwrites it.

//! The notes server's behaviour: an in-memory store of notes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use mcpgen_runtime::prelude::*;

use crate::generated::*;
// How search results are ordered (pinned notes always come first): the
// spec's `sort` enum, parsed by serde before a handler runs.
use crate::generated::SearchNotesSort as Sort;

/// One note.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub id: u64,
    pub title: String,
    pub body: String,
    pub tags: BTreeSet<String>,
    pub pinned: bool,
}

impl Note {
    fn to_markdown(&self) -> String {
        let mut out = format!("# {}\n\n", self.title);
        if !self.tags.is_empty() {
            let tags: Vec<&str> = self.tags.iter().map(String::as_str).collect();
            out.push_str(&format!("Tags: {}\n\n", tags.join(", ")));
        }
        out.push_str(&self.body);
        if !self.body.ends_with('\n') {
            out.push('\n');
        }
        out
    }

    fn summary_line(&self) -> String {
        let pin = if self.pinned { " (pinned)" } else { "" };
        format!("- #{} {}{pin}", self.id, self.title)
    }
}

/// The notes, by id. Ids grow, so "newest" is "highest id".
#[derive(Debug, Default)]
pub struct Store {
    next_id: u64,
    notes: BTreeMap<u64, Note>,
}

/// Tags are lower-case words of letters, digits and `-`.
fn normalize_tag(tag: &str) -> Result<String, String> {
    let tag = tag.trim().to_lowercase();
    if tag.is_empty() || !tag.chars().all(|c| c.is_alphanumeric() || c == '-') {
        return Err(format!(
            "invalid tag {tag:?}: use letters, digits and `-` only"
        ));
    }
    Ok(tag)
}

impl Store {
    pub fn create(
        &mut self,
        title: &str,
        body: &str,
        tags: &[String],
        pinned: bool,
    ) -> Result<u64, String> {
        let title = title.trim();
        if title.is_empty() {
            return Err("a note needs a non-empty title".into());
        }
        let tags = tags
            .iter()
            .map(|t| normalize_tag(t))
            .collect::<Result<BTreeSet<_>, _>>()?;
        self.next_id += 1;
        let id = self.next_id;
        let note = Note {
            id,
            title: title.to_string(),
            body: body.to_string(),
            tags,
            pinned,
        };
        self.notes.insert(id, note);
        Ok(id)
    }

    pub fn get(&self, id: u64) -> Option<&Note> {
        self.notes.get(&id)
    }

    pub fn delete(&mut self, id: u64) -> Option<Note> {
        self.notes.remove(&id)
    }

    pub fn len(&self) -> usize {
        self.notes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.notes.is_empty()
    }

    /// Notes containing `query` (case-insensitive) in title or body, with
    /// `tag` if given, pinned first, then in `sort` order, at most `limit`.
    pub fn search(&self, query: &str, tag: Option<&str>, sort: Sort, limit: usize) -> Vec<&Note> {
        let query = query.to_lowercase();
        let tag = tag.map(str::to_lowercase);
        let mut hits: Vec<&Note> = self
            .notes
            .values()
            .filter(|n| {
                n.title.to_lowercase().contains(&query) || n.body.to_lowercase().contains(&query)
            })
            .filter(|n| tag.as_ref().is_none_or(|t| n.tags.contains(t)))
            .collect();
        hits.sort_by(|a, b| {
            b.pinned.cmp(&a.pinned).then_with(|| match sort {
                Sort::Newest => b.id.cmp(&a.id),
                Sort::Oldest => a.id.cmp(&b.id),
                Sort::Title => a
                    .title
                    .to_lowercase()
                    .cmp(&b.title.to_lowercase())
                    .then(a.id.cmp(&b.id)),
            })
        });
        hits.truncate(limit);
        hits
    }

    /// Add and remove tags on notes; returns one line per changed note.
    /// Fails without changing anything when a note or tag is invalid.
    pub fn retag(
        &mut self,
        ids: &[i64],
        add: &[String],
        remove: &[String],
        dry_run: bool,
    ) -> Result<Vec<String>, String> {
        let add = add
            .iter()
            .map(|t| normalize_tag(t))
            .collect::<Result<Vec<_>, _>>()?;
        let remove = remove
            .iter()
            .map(|t| normalize_tag(t))
            .collect::<Result<Vec<_>, _>>()?;
        let mut ids_u = Vec::new();
        for id in ids {
            let id = u64::try_from(*id).map_err(|_| format!("no note #{id}"))?;
            if !self.notes.contains_key(&id) {
                return Err(format!("no note #{id}"));
            }
            ids_u.push(id);
        }
        let mut report = Vec::new();
        for id in ids_u {
            let Some(note) = self.notes.get_mut(&id) else {
                continue;
            };
            let mut tags = note.tags.clone();
            tags.extend(add.iter().cloned());
            for t in &remove {
                tags.remove(t);
            }
            if tags != note.tags {
                let list: Vec<&str> = tags.iter().map(String::as_str).collect();
                report.push(format!("#{id}: tags now [{}]", list.join(", ")));
                if !dry_run {
                    note.tags = tags;
                }
            }
        }
        Ok(report)
    }

    /// Number of notes per tag.
    pub fn tag_counts(&self) -> BTreeMap<&str, usize> {
        let mut counts = BTreeMap::new();
        for note in self.notes.values() {
            for tag in &note.tags {
                *counts.entry(tag.as_str()).or_insert(0) += 1;
            }
        }
        counts
    }
}

/// Holds the server's state; `main.rs` builds it with `Default`.
#[derive(Debug, Default)]
pub struct ServerHandlers {
    store: Mutex<Store>,
    /// Refuse every call that would change the notes (see `wrap_tool_call`).
    read_only: bool,
}

/// The tools that change notes (`notes.tag` only without `dryRun`).
const WRITES: [&str; 3] = ["create_note", "notes.tag", "delete-note"];

impl ServerHandlers {
    /// A server whose notes cannot be changed: the tool-call hook refuses
    /// the calls that would.
    pub fn read_only() -> Self {
        ServerHandlers {
            read_only: true,
            ..Default::default()
        }
    }

    /// Run `f` on the store. A poisoned lock (a panic elsewhere while holding
    /// it) still holds consistent data: every update is a single step.
    fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let mut guard = self.store.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }
}

fn parse_id(raw: &str, uri: &str) -> Result<u64, McpError> {
    raw.parse::<u64>()
        .map_err(|_| McpError::resource_not_found(uri))
}

impl Handlers for ServerHandlers {
    /// Around every tool call: a read-only server refuses the calls that
    /// would change a note (a dry run of `notes.tag` is fine).
    async fn wrap_tool_call(
        &self,
        call: ToolCall,
        next: Next,
    ) -> Result<CallToolResult, ToolError> {
        let dry_run = call.arguments()["dryRun"] == true;
        if self.read_only && WRITES.contains(&call.name()) && !dry_run {
            return Err(ToolError::new(format!(
                "`{}` is refused: this notes server is read-only",
                call.name()
            )));
        }
        next.run(call).await
    }

    async fn create_note(
        &self,
        ctx: RequestContext,
        args: CreateNoteArgs,
    ) -> Result<CallToolResult, ToolError> {
        let tags = args.tags.unwrap_or_default();
        let id = self.with_store(|s| s.create(&args.title, &args.body, &tags, args.pinned))?;
        ctx.info(format!("created note #{id}"));
        ctx.notify_resource_updated("notes://stats");
        Ok(CallToolResult::structured(json!({ "id": id })))
    }

    async fn search_notes(
        &self,
        _ctx: RequestContext,
        args: SearchNotesArgs,
    ) -> Result<CallToolResult, ToolError> {
        let sort = args.sort;
        let limit = usize::try_from(args.limit.max(0)).unwrap_or(usize::MAX);
        let text = self.with_store(|s| {
            let hits = s.search(&args.query, args.tag.as_deref(), sort, limit);
            if hits.is_empty() {
                String::from("No notes found.")
            } else {
                hits.iter()
                    .map(|n| n.summary_line())
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        });
        Ok(CallToolResult::text(text))
    }

    async fn notes_tag(
        &self,
        _ctx: RequestContext,
        args: NotesTagArgs,
    ) -> Result<CallToolResult, ToolError> {
        let add = args.add.unwrap_or_default();
        let remove = args.remove.unwrap_or_default();
        let dry_run = args.dry_run.unwrap_or(false);
        let report = self.with_store(|s| s.retag(&args.ids, &add, &remove, dry_run))?;
        let mut text = if report.is_empty() {
            String::from("Nothing to change.")
        } else {
            report.join("\n")
        };
        if dry_run {
            text.insert_str(0, "Dry run, nothing changed:\n");
        }
        Ok(CallToolResult::text(text))
    }

    async fn delete_note(
        &self,
        ctx: RequestContext,
        args: DeleteNoteArgs,
    ) -> Result<CallToolResult, ToolError> {
        let deleted = u64::try_from(args.id)
            .ok()
            .and_then(|id| self.with_store(|s| s.delete(id)));
        match deleted {
            Some(note) => {
                ctx.notify_resource_updated("notes://stats");
                ctx.notify_resource_updated(&format!("notes://notes/{}", note.id));
                Ok(CallToolResult::text(format!(
                    "Deleted note #{} ({}).",
                    note.id, note.title
                )))
            }
            // Deleting twice is fine (the tool is idempotent).
            None => Ok(CallToolResult::text(format!(
                "There is no note #{}.",
                args.id
            ))),
        }
    }

    async fn count_notes(
        &self,
        _ctx: RequestContext,
        _args: CountNotesArgs,
    ) -> Result<CallToolResult, ToolError> {
        let count = self.with_store(|s| s.len());
        Ok(CallToolResult::structured(json!({ "count": count })))
    }

    async fn read_stats(
        &self,
        _ctx: RequestContext,
        uri: String,
    ) -> Result<ReadResourceResult, McpError> {
        let stats = self.with_store(|s| json!({ "notes": s.len(), "tags": s.tag_counts() }));
        Ok(ReadResourceResult::text(
            uri,
            Some("application/json"),
            stats.to_string(),
        ))
    }

    async fn read_note(
        &self,
        _ctx: RequestContext,
        uri: String,
        params: NoteParams,
    ) -> Result<ReadResourceResult, McpError> {
        let id = parse_id(&params.id, &uri)?;
        let text = self
            .with_store(|s| s.get(id).map(Note::to_markdown))
            .ok_or_else(|| McpError::resource_not_found(&uri))?;
        Ok(ReadResourceResult::text(uri, Some("text/markdown"), text))
    }

    async fn read_tagged(
        &self,
        _ctx: RequestContext,
        uri: String,
        params: TaggedParams,
    ) -> Result<ReadResourceResult, McpError> {
        let limit = match params.limit.as_deref() {
            None | Some("") => usize::MAX,
            Some(raw) => raw.parse::<usize>().map_err(|_| {
                McpError::invalid_params(format!("limit must be a number, got {raw:?}"))
            })?,
        };
        let text = self.with_store(|s| {
            let hits = s.search("", Some(&params.tag), Sort::Newest, limit);
            let mut out = format!("# Notes tagged {}\n\n", params.tag);
            if hits.is_empty() {
                out.push_str("None.\n");
            }
            for note in hits {
                out.push_str(&note.summary_line());
                out.push('\n');
            }
            out
        });
        Ok(ReadResourceResult::text(uri, Some("text/markdown"), text))
    }

    async fn prompt_review_note(
        &self,
        _ctx: RequestContext,
        args: ReviewNotePromptArgs,
    ) -> Result<GetPromptResult, McpError> {
        let id: u64 = args.id.trim().parse().map_err(|_| {
            McpError::invalid_params(format!("id must be a note number, got {:?}", args.id))
        })?;
        let note = self
            .with_store(|s| s.get(id).cloned())
            .ok_or_else(|| McpError::invalid_params(format!("there is no note #{id}")))?;
        let focus = args.focus.as_deref().unwrap_or("clarity");
        let uri = format!("notes://notes/{id}");
        Ok(GetPromptResult {
            description: Some(format!("Review of note #{id} for {focus}")),
            messages: vec![
                PromptMessage::user(Content::resource(ResourceContents::text(
                    uri,
                    Some("text/markdown"),
                    note.to_markdown(),
                ))),
                PromptMessage::user(Content::text(format!(
                    "Review the note above for {focus}. Suggest concrete edits and keep its meaning."
                ))),
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        let mut s = Store::default();
        s.create("Groceries", "milk, eggs", &["todo".into()], false)
            .unwrap();
        s.create(
            "Project plan",
            "Ship the MILK feature",
            &["work".into()],
            true,
        )
        .unwrap();
        s.create(
            "Ideas",
            "a notes server",
            &["ideas".into(), "work".into()],
            false,
        )
        .unwrap();
        s
    }

    #[test]
    fn create_validates() {
        let mut s = Store::default();
        assert!(s.create("  ", "x", &[], false).is_err());
        assert!(s.create("t", "x", &["no spaces".into()], false).is_err());
        assert_eq!(s.create("t", "x", &["Work".into()], false), Ok(1));
        assert!(s.get(1).unwrap().tags.contains("work"));
    }

    #[test]
    fn search_orders_pinned_first() {
        let s = store();
        let ids = |v: Vec<&Note>| v.iter().map(|n| n.id).collect::<Vec<_>>();
        assert_eq!(ids(s.search("milk", None, Sort::Oldest, 10)), vec![2, 1]);
        assert_eq!(
            ids(s.search("", Some("work"), Sort::Newest, 10)),
            vec![2, 3]
        );
        assert_eq!(ids(s.search("", None, Sort::Title, 10)), vec![2, 1, 3]);
        assert_eq!(ids(s.search("", None, Sort::Newest, 1)), vec![2]);
    }

    #[test]
    fn retag_is_all_or_nothing() {
        let mut s = store();
        assert!(s.retag(&[1, 99], &["x".into()], &[], false).is_err());
        assert!(!s.get(1).unwrap().tags.contains("x"));
        let dry = s
            .retag(&[1], &["x".into()], &["todo".into()], true)
            .unwrap();
        assert_eq!(dry, vec!["#1: tags now [x]"]);
        assert!(s.get(1).unwrap().tags.contains("todo"));
        s.retag(&[1], &["x".into()], &["todo".into()], false)
            .unwrap();
        assert_eq!(s.get(1).unwrap().tags, BTreeSet::from(["x".to_string()]));
        assert_eq!(s.tag_counts().get("work"), Some(&2));
    }

    #[test]
    fn server_builds() {
        crate::server(ServerHandlers::default()).expect("the generated descriptors are valid");
    }

    #[test]
    fn markdown() {
        let s = store();
        assert_eq!(
            s.get(3).unwrap().to_markdown(),
            "# Ideas\n\nTags: ideas, work\n\na notes server\n"
        );
    }
}
